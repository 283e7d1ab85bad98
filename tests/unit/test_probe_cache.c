/*
 * Unit tests for lib/probe_cache: the predicate that keeps a probe's finding from contradicting
 * the lookup it is to explain (a table, no network), and the cache itself against a small real
 * responder on loopback (UDP and TCP on one port): names under servfail.test get SERVFAIL, names
 * under silent.test nothing at all (TCP connections are held open), others NXDOMAIN.  Findings
 * are per question, a server-wide finding is borrowed only by the rules, follow-up lines are
 * logged once per lead, bounds drop rather than grow, and freeing with probes in flight is clean.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "log.h"
#include "probe_cache.h"

/* ---- the predicate ----------------------------------------------------------------------- */

static struct dns_probe_leg answered(int rcode)
{
	return (struct dns_probe_leg){.status = DNS_PROBE_ANSWERED, .rcode = rcode, .ms = 1};
}

static struct dns_probe_leg truncated(void)
{
	return (struct dns_probe_leg){.status = DNS_PROBE_ANSWERED, .truncated = true, .ms = 1};
}

static struct dns_probe_leg leg(enum dns_probe_status status)
{
	return (struct dns_probe_leg){.status = status, .ms = status == DNS_PROBE_TIMEOUT ? 250 : 1};
}

static struct dns_probe_result result(struct dns_probe_leg udp, struct dns_probe_leg tcp)
{
	struct dns_probe_result r;

	memset(&r, 0, sizeof(r));
	assert_true(netaddr_parse_server("127.0.0.1", &r.server.addr, &r.server.port));
	r.server.port = 53;
	strcpy(r.qname, "q.test");
	r.qtype = LDNS_RR_TYPE_MX;
	r.udp = udp;
	r.tcp = tcp;
	return r;
}

static struct dns_evidence evidence(enum dns_cause cause, int rcode, unsigned ms)
{
	return (struct dns_evidence){.qname = "q.test.", .qtype = LDNS_RR_TYPE_MX, .outcome = DNS_TEMPFAIL,
				     .cause = cause, .rcode = rcode, .ms = ms};
}

#define SERVFAIL_FAST evidence(DNS_CAUSE_SERVFAIL, LDNS_RCODE_SERVFAIL, 1)
#define SERVFAIL_SLOW evidence(DNS_CAUSE_SERVFAIL, LDNS_RCODE_SERVFAIL, 800)
#define REFUSED_FAST evidence(DNS_CAUSE_REFUSED, LDNS_RCODE_REFUSED, 1)
#define NOTIMP_FAST evidence(DNS_CAUSE_RCODE, LDNS_RCODE_NOTIMPL, 1)
#define DEADLINE evidence(DNS_CAUSE_DEADLINE, -1, 2000)
#define MALFORMED evidence(DNS_CAUSE_MALFORMED, -1, 1)

struct fit_case {
	const char *what;
	struct dns_evidence ev;
	struct dns_probe_result r;
	enum dns_transport transport;
	bool fits;
};

static void test_fits_table(void **state)
{
	(void)state;
	const enum dns_transport UT = DNS_TRANSPORT_UDP_TCP, U = DNS_TRANSPORT_UDP, T = DNS_TRANSPORT_TCP;
	struct dns_probe_result servfail = result(answered(LDNS_RCODE_SERVFAIL), answered(LDNS_RCODE_SERVFAIL));
	struct dns_probe_result refused = result(answered(LDNS_RCODE_REFUSED), answered(LDNS_RCODE_REFUSED));
	struct dns_probe_result notimp = result(answered(LDNS_RCODE_NOTIMPL), answered(LDNS_RCODE_NOTIMPL));
	struct dns_probe_result silent = result(leg(DNS_PROBE_TIMEOUT), leg(DNS_PROBE_TIMEOUT));
	struct dns_probe_result closed_port = result(leg(DNS_PROBE_REFUSED), leg(DNS_PROBE_REFUSED));
	struct dns_probe_result silent_udp_tcp_closes = result(leg(DNS_PROBE_TIMEOUT), leg(DNS_PROBE_CLOSED));
	struct dns_probe_result garbage = result(leg(DNS_PROBE_MALFORMED), leg(DNS_PROBE_MALFORMED));
	struct dns_probe_result healthy = result(answered(LDNS_RCODE_NOERROR), answered(LDNS_RCODE_NOERROR));
	struct dns_probe_result nxdomain = result(answered(LDNS_RCODE_NXDOMAIN), answered(LDNS_RCODE_NXDOMAIN));
	struct dns_probe_result tc_no_tcp = result(truncated(), leg(DNS_PROBE_REFUSED));
	struct dns_probe_result tc_tcp_ok = result(truncated(), answered(LDNS_RCODE_NOERROR));
	struct dns_probe_result tc_tcp_silent = result(truncated(), leg(DNS_PROBE_TIMEOUT));
	struct dns_probe_result udp_ok_no_tcp = result(answered(LDNS_RCODE_NOERROR), leg(DNS_PROBE_REFUSED));
	struct dns_probe_result local_error = result(leg(DNS_PROBE_ERROR), leg(DNS_PROBE_ERROR));
	struct dns_evidence not_tempfail = SERVFAIL_FAST, local = SERVFAIL_FAST;
	not_tempfail.outcome = DNS_NXDOMAIN;
	not_tempfail.cause = DNS_CAUSE_NONE;
	local.cause = DNS_CAUSE_LOCAL;

	const struct fit_case cases[] = {
		/* the contradiction: silence never explains an rcode answered in 1 ms */
		{"silent server vs fast SERVFAIL", SERVFAIL_FAST, silent, UT, false},
		{"silent UDP, TCP closes vs fast SERVFAIL", SERVFAIL_FAST, silent_udp_tcp_closes, UT, false},
		{"closed port vs fast SERVFAIL", SERVFAIL_FAST, closed_port, UT, false},
		{"silent server vs deadline", DEADLINE, silent, UT, true},
		{"silent UDP, TCP closes vs deadline", DEADLINE, silent_udp_tcp_closes, UT, true},
		{"closed port vs deadline", DEADLINE, closed_port, UT, true},
		{"silent server vs SERVFAIL after 800 ms (resolver gave up)", SERVFAIL_SLOW, silent, UT, true},
		/* an rcode explains an rcode, never a deadline */
		{"SERVFAIL vs fast SERVFAIL", SERVFAIL_FAST, servfail, UT, true},
		{"SERVFAIL vs deadline", DEADLINE, servfail, UT, false},
		{"SERVFAIL vs REFUSED", REFUSED_FAST, servfail, UT, false},
		{"REFUSED vs SERVFAIL (libunbound passes it on so)", SERVFAIL_FAST, refused, UT, true},
		{"REFUSED vs REFUSED", REFUSED_FAST, refused, UT, true},
		{"NOTIMP vs rcode NOTIMP", NOTIMP_FAST, notimp, UT, true},
		{"SERVFAIL vs rcode NOTIMP", NOTIMP_FAST, servfail, UT, false},
		/* garbage explains SERVFAIL or malformed, never a clean REFUSED */
		{"garbage vs SERVFAIL", SERVFAIL_FAST, garbage, UT, true},
		{"garbage vs malformed", MALFORMED, garbage, UT, true},
		{"garbage vs REFUSED", REFUSED_FAST, garbage, UT, false},
		{"garbage vs deadline", DEADLINE, garbage, UT, false},
		/* a server that answers explains nothing */
		{"healthy vs SERVFAIL", SERVFAIL_FAST, healthy, UT, false},
		{"healthy vs deadline", DEADLINE, healthy, UT, false},
		{"NXDOMAIN vs SERVFAIL", SERVFAIL_FAST, nxdomain, UT, false},
		{"our own probe error vs deadline", DEADLINE, local_error, UT, false},
		/* transports: what the resolver would have used */
		{"udp-tcp: TC, TCP refused vs fast SERVFAIL", SERVFAIL_FAST, tc_no_tcp, UT, true},
		{"udp-tcp: TC, TCP refused vs deadline", DEADLINE, tc_no_tcp, UT, false},
		{"udp-tcp: TC, TCP answers vs SERVFAIL", SERVFAIL_FAST, tc_tcp_ok, UT, false},
		{"udp-tcp: TC, TCP silent vs deadline", DEADLINE, tc_tcp_silent, UT, true},
		{"udp-tcp: TC, TCP silent vs fast SERVFAIL", SERVFAIL_FAST, tc_tcp_silent, UT, false},
		{"udp-tcp: UDP answers, TCP refused vs SERVFAIL", SERVFAIL_FAST, udp_ok_no_tcp, UT, false},
		{"tcp: UDP answers, TCP refused vs deadline", DEADLINE, udp_ok_no_tcp, T, true},
		{"tcp: UDP answers, TCP refused vs fast SERVFAIL", SERVFAIL_FAST, udp_ok_no_tcp, T, false},
		{"tcp: TC over UDP, TCP answers vs SERVFAIL", SERVFAIL_FAST, tc_tcp_ok, T, false},
		{"udp: TC (never whole) vs SERVFAIL", SERVFAIL_FAST, tc_tcp_ok, U, true},
		{"udp: TC (never whole) vs deadline", DEADLINE, tc_tcp_ok, U, true},
		{"udp: UDP answers, TCP refused vs SERVFAIL", SERVFAIL_FAST, udp_ok_no_tcp, U, false},
		/* evidence a probe cannot explain */
		{"not a temporary failure", not_tempfail, servfail, UT, false},
		{"dnsguard's own trouble", local, servfail, UT, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fit_case *c = &cases[i];
		if (probe_finding_fits(&c->ev, &c->r, c->transport) != c->fits)
			fail_msg("%s: expected %s", c->what, c->fits ? "fits" : "does not fit");
	}
	assert_false(probe_finding_fits(NULL, &servfail, UT));
	assert_false(probe_finding_fits(&cases[0].ev, NULL, UT));
}

static void test_server_wide(void **state)
{
	(void)state;
	struct dns_probe_result r;

	r = result(leg(DNS_PROBE_TIMEOUT), leg(DNS_PROBE_TIMEOUT));
	assert_true(probe_finding_server_wide(&r));
	r = result(leg(DNS_PROBE_REFUSED), leg(DNS_PROBE_CLOSED));
	assert_true(probe_finding_server_wide(&r));
	r = result(leg(DNS_PROBE_TIMEOUT), answered(LDNS_RCODE_SERVFAIL));
	assert_false(probe_finding_server_wide(&r));
	r = result(leg(DNS_PROBE_MALFORMED), leg(DNS_PROBE_TIMEOUT));
	assert_false(probe_finding_server_wide(&r));
	r = result(leg(DNS_PROBE_ERROR), leg(DNS_PROBE_ERROR));
	assert_false(probe_finding_server_wide(&r));
}

/* ---- a responder on loopback ------------------------------------------------------------- */

#define HELD_MAX 256

static struct {
	int udp, listener, stop[2];
	unsigned port;
	pthread_t thread;
	int held[HELD_MAX];	/* TCP connections: read, never answered when silent */
	size_t held_count;
} srv;

static bool under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	if (n && name[n - 1] == '.')
		n--;
	return n >= z && strncasecmp(name + n - z, zone, z) == 0 && (n == z || name[n - z - 1] == '.');
}

/* The reply to `query`, or 0 bytes for silence. */
static size_t respond(const uint8_t *query, size_t len, uint8_t *out, size_t size)
{
	ldns_pkt *q = NULL, *r;
	uint8_t *wire = NULL;
	size_t wire_len = 0, n = 0;
	char *name;

	if (ldns_wire2pkt(&q, query, len) != LDNS_STATUS_OK || ldns_pkt_qdcount(q) != 1) {
		ldns_pkt_free(q);
		return 0;
	}
	ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	name = ldns_rdf2str(ldns_rr_owner(question));
	if (!under(name, "silent.test")) {
		r = ldns_pkt_new();
		ldns_pkt_set_id(r, ldns_pkt_id(q));
		ldns_pkt_set_qr(r, true);
		ldns_pkt_set_rd(r, true);
		ldns_pkt_set_ra(r, true);
		ldns_pkt_set_rcode(r, under(name, "servfail.test") ? LDNS_RCODE_SERVFAIL : LDNS_RCODE_NXDOMAIN);
		ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
		if (ldns_pkt2wire(&wire, r, &wire_len) == LDNS_STATUS_OK && wire_len <= size) {
			memcpy(out, wire, wire_len);
			n = wire_len;
		}
		free(wire);
		ldns_pkt_free(r);
	}
	free(name);
	ldns_pkt_free(q);
	return n;
}

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd fds[3 + HELD_MAX];
		nfds_t n = 0;
		fds[n++] = (struct pollfd){.fd = srv.stop[0], .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = srv.udp, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = srv.listener, .events = POLLIN};
		for (size_t i = 0; i < srv.held_count; i++)
			fds[n++] = (struct pollfd){.fd = srv.held[i], .events = POLLIN};
		if (poll(fds, n, -1) < 0)
			continue;
		if (fds[0].revents)
			return NULL;
		uint8_t in[4096], out[4096 + 2];
		if (fds[1].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fromlen = sizeof(from);
			ssize_t got = recvfrom(srv.udp, in, sizeof(in), 0, (struct sockaddr *)&from, &fromlen);
			size_t len = got > 0 ? respond(in, (size_t)got, out, sizeof(out)) : 0;
			if (len)
				(void)sendto(srv.udp, out, len, 0, (struct sockaddr *)&from, fromlen);
		}
		if ((fds[2].revents & POLLIN) && srv.held_count < HELD_MAX) {
			int fd = accept(srv.listener, NULL, NULL);
			if (fd >= 0)
				srv.held[srv.held_count++] = fd;
		}
		for (nfds_t i = 3; i < n; i++) {
			if (!fds[i].revents)
				continue;
			/* the probe writes its 2-byte length and query at once; one read takes both */
			ssize_t got = recv(fds[i].fd, in, sizeof(in), 0);
			if (got <= 2) {
				if (got == 0)
					shutdown(fds[i].fd, SHUT_RDWR);
				continue;
			}
			size_t len = respond(in + 2, (size_t)got - 2, out + 2, sizeof(out) - 2);
			if (len) {
				out[0] = (uint8_t)(len >> 8);
				out[1] = (uint8_t)len;
				(void)send(fds[i].fd, out, len + 2, MSG_NOSIGNAL);
			}
		}
	}
}

static int start_server(void **state)
{
	(void)state;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int one = 1;

	/* a UDP port whose TCP twin is free too */
	for (int tries = 0; tries < 50; tries++) {
		sin.sin_port = 0;
		srv.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (srv.udp < 0 || bind(srv.udp, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
		    getsockname(srv.udp, (struct sockaddr *)&sin, &len) != 0)
			return -1;
		srv.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(srv.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(srv.listener, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(srv.listener, 64) == 0)
			break;
		close(srv.listener);
		close(srv.udp);
		srv.listener = srv.udp = -1;
	}
	if (srv.udp < 0 || pipe(srv.stop) != 0)
		return -1;
	srv.port = ntohs(sin.sin_port);
	return pthread_create(&srv.thread, NULL, serve, NULL) == 0 ? 0 : -1;
}

static int stop_server(void **state)
{
	(void)state;
	(void)write(srv.stop[1], "x", 1);
	pthread_join(srv.thread, NULL);
	for (size_t i = 0; i < srv.held_count; i++)
		close(srv.held[i]);
	close(srv.udp);
	close(srv.listener);
	close(srv.stop[0]);
	close(srv.stop[1]);
	return 0;
}

/* ---- the cache --------------------------------------------------------------------------- */

static struct probe_cache *cache_for(unsigned port)
{
	struct dns_settings dns = {.mode = DNS_MODE_FORWARD, .server_count = 1, .transport = DNS_TRANSPORT_UDP_TCP};
	char err[256], text[64];

	snprintf(text, sizeof(text), "127.0.0.1@%u", port);
	assert_true(netaddr_parse_server(text, &dns.servers[0].addr, &dns.servers[0].port));
	struct probe_cache *pc = probe_cache_new(&dns, NULL, err, sizeof(err));
	assert_non_null(pc);
	assert_string_equal(err, "");
	return pc;
}

static struct dns_evidence ask(const char *qname, uint16_t qtype, enum dns_cause cause, unsigned ms)
{
	return (struct dns_evidence){.qname = qname, .qtype = qtype, .outcome = DNS_TEMPFAIL, .cause = cause,
				     .rcode = cause == DNS_CAUSE_SERVFAIL ? LDNS_RCODE_SERVFAIL : -1, .ms = ms};
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Asks until the probe is no longer running (2 s at most); returns the final state. */
static enum probe_state settled(struct probe_cache *pc, const struct dns_evidence *ev, char *buf, size_t size)
{
	enum probe_state state = PROBE_RUNNING;

	for (int i = 0; i < 200 && state == PROBE_RUNNING; i++) {
		state = probe_cache_finding(pc, ev, NULL, buf, size);
		if (state == PROBE_RUNNING)
			sleep_ms(10);
	}
	return state;
}

/* The case: a silent question and a SERVFAIL question to one server, each its own finding. */
static void test_keyed_by_question(void **state)
{
	(void)state;
	struct probe_cache *pc = cache_for(srv.port);
	struct dns_evidence failed = ask("a.servfail.test.", LDNS_RR_TYPE_MX, DNS_CAUSE_SERVFAIL, 1);
	struct dns_evidence silent = ask("a.silent.test", LDNS_RR_TYPE_MX, DNS_CAUSE_DEADLINE, 2000);
	char buf[512], want[256];

	/* nothing known yet: running, never a wait */
	assert_int_equal(probe_cache_finding(pc, &failed, NULL, buf, sizeof(buf)), PROBE_RUNNING);
	assert_string_equal(buf, "");
	probe_cache_start(pc, &silent);	/* as the resolver's hook does */

	assert_int_equal(settled(pc, &failed, buf, sizeof(buf)), PROBE_KNOWN);
	snprintf(want, sizeof(want), "the resolver 127.0.0.1@%u answers SERVFAIL over UDP and TCP", srv.port);
	assert_string_equal(buf, want);
	assert_int_equal(settled(pc, &silent, buf, sizeof(buf)), PROBE_KNOWN);
	snprintf(want, sizeof(want), "the resolver 127.0.0.1@%u does not answer over UDP or TCP", srv.port);
	assert_string_equal(buf, want);

	/* the same name, any case, with or without its final dot */
	struct dns_evidence upper = ask("A.SERVFAIL.TEST", LDNS_RR_TYPE_MX, DNS_CAUSE_SERVFAIL, 1);
	assert_int_equal(probe_cache_finding(pc, &upper, NULL, buf, sizeof(buf)), PROBE_KNOWN);
	assert_non_null(strstr(buf, "answers SERVFAIL"));

	/* a finding that does not fit this failure is not said: nothing is */
	struct dns_evidence silent_fast = ask("a.silent.test.", LDNS_RR_TYPE_MX, DNS_CAUSE_SERVFAIL, 1);
	assert_int_equal(probe_cache_finding(pc, &silent_fast, NULL, buf, sizeof(buf)), PROBE_NONE);
	assert_string_equal(buf, "");
	struct dns_evidence failed_deadline = ask("a.servfail.test", LDNS_RR_TYPE_MX, DNS_CAUSE_DEADLINE, 2000);
	assert_int_equal(probe_cache_finding(pc, &failed_deadline, NULL, buf, sizeof(buf)), PROBE_NONE);

	/* the server answered a question in the window: its silence on one name is not server-wide */
	struct dns_evidence other = ask("b.silent.test.", LDNS_RR_TYPE_A, DNS_CAUSE_DEADLINE, 2000);
	assert_int_equal(probe_cache_finding(pc, &other, NULL, buf, sizeof(buf)), PROBE_RUNNING);
	/* another type of the same name is another question */
	struct dns_evidence other_type = ask("a.servfail.test.", LDNS_RR_TYPE_A, DNS_CAUSE_SERVFAIL, 1);
	assert_int_equal(probe_cache_finding(pc, &other_type, NULL, buf, sizeof(buf)), PROBE_RUNNING);

	struct probe_cache_stats stats;
	probe_cache_stats(pc, &stats);
	assert_int_equal(stats.dropped, 0);
	probe_cache_free(pc);
}

/* Per server, what its newest probe in the window found (the metrics endpoint's state). */
static void test_server_states(void **state)
{
	(void)state;
	struct probe_cache *pc = cache_for(srv.port);
	struct dns_evidence failed = ask("c.servfail.test.", LDNS_RR_TYPE_MX, DNS_CAUSE_SERVFAIL, 1);
	struct dns_evidence silent = ask("c.silent.test.", LDNS_RR_TYPE_MX, DNS_CAUSE_DEADLINE, 2000);
	struct probe_cache_server servers[4];
	char buf[512], want[64];

	snprintf(want, sizeof(want), "127.0.0.1@%u", srv.port);
	assert_int_equal(probe_cache_servers(pc, servers, 4), 1);
	assert_string_equal(servers[0].name, want);
	assert_int_equal(servers[0].state, PROBE_SERVER_UNPROBED);
	assert_string_equal(probe_server_state_name(servers[0].state), "unprobed");

	probe_cache_start(pc, &failed);
	assert_int_equal(settled(pc, &failed, buf, sizeof(buf)), PROBE_KNOWN);
	assert_int_equal(probe_cache_servers(pc, servers, 4), 1);
	assert_int_equal(servers[0].state, PROBE_SERVER_FAILING);

	sleep_ms(5);	/* the newest probe wins: a later one in another millisecond */
	probe_cache_start(pc, &silent);
	assert_int_equal(settled(pc, &silent, buf, sizeof(buf)), PROBE_KNOWN);
	assert_int_equal(probe_cache_servers(pc, servers, 4), 1);
	assert_int_equal(servers[0].state, PROBE_SERVER_SILENT);
	assert_int_equal(probe_cache_servers(pc, servers, 0), 0);
	probe_cache_free(pc);
}

/* A closed port answers no question: its finding is server-wide and spares a probe per name. */
static void test_server_wide_borrowed(void **state)
{
	(void)state;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[512];

	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);	/* nothing listens there now, over UDP or TCP */
	struct probe_cache *pc = cache_for(ntohs(sin.sin_port));

	struct dns_evidence first = ask("one.test", LDNS_RR_TYPE_A, DNS_CAUSE_DEADLINE, 1000);
	assert_int_equal(settled(pc, &first, buf, sizeof(buf)), PROBE_KNOWN);
	assert_non_null(strstr(buf, "refuses UDP and TCP"));

	struct probe_cache_stats stats;
	struct dns_evidence second = ask("two.test", LDNS_RR_TYPE_MX, DNS_CAUSE_DEADLINE, 1000);
	probe_cache_start(pc, &second);
	assert_int_equal(probe_cache_finding(pc, &second, NULL, buf, sizeof(buf)), PROBE_KNOWN);
	assert_non_null(strstr(buf, "refuses UDP and TCP"));
	probe_cache_stats(pc, &stats);
	assert_int_equal(stats.probes, 1);

	/* but never for evidence it cannot explain: that question gets its own probe */
	struct dns_evidence fast = ask("three.test", LDNS_RR_TYPE_MX, DNS_CAUSE_SERVFAIL, 1);
	assert_int_equal(probe_cache_finding(pc, &fast, NULL, buf, sizeof(buf)), PROBE_RUNNING);
	assert_int_equal(settled(pc, &fast, buf, sizeof(buf)), PROBE_NONE);
	probe_cache_free(pc);
}

/* Runs fn with stderr (where the log goes) in a file; returns what was logged. */
static char *logged_during(void (*fn)(void))
{
	char path[] = "/tmp/test_probe_cache.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	static char text[16384];

	assert_true(fd >= 0);
	fflush(stderr);
	dup2(fd, 2);
	log_open(LOG_USER, true);
	log_set_level(LOG_LEVEL_INFO);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return text;
}

static int count(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void follow_ups(void)
{
	struct probe_cache *pc = cache_for(srv.port);
	struct dns_evidence failed = ask("c.servfail.test.", LDNS_RR_TYPE_MX, DNS_CAUSE_SERVFAIL, 1);
	struct dns_evidence silent_fast = ask("c.silent.test.", LDNS_RR_TYPE_A, DNS_CAUSE_SERVFAIL, 1);
	char buf[512];

	assert_int_equal(probe_cache_finding(pc, &failed, "s1: probe", buf, sizeof(buf)), PROBE_RUNNING);
	assert_int_equal(probe_cache_finding(pc, &failed, "s1: probe", buf, sizeof(buf)), PROBE_RUNNING);
	assert_int_equal(probe_cache_finding(pc, &failed, "Q1: probe session=s2", buf, sizeof(buf)), PROBE_RUNNING);
	assert_int_equal(probe_cache_finding(pc, &silent_fast, "s3: probe", buf, sizeof(buf)), PROBE_RUNNING);
	assert_int_equal(settled(pc, &failed, buf, sizeof(buf)), PROBE_KNOWN);
	assert_int_equal(settled(pc, &silent_fast, buf, sizeof(buf)), PROBE_NONE);
	/* a lead given once the finding is known is not needed: the decision line has it */
	assert_int_equal(probe_cache_finding(pc, &failed, "s4: probe", buf, sizeof(buf)), PROBE_KNOWN);
	probe_cache_free(pc);
}

static void test_follow_up_lines(void **state)
{
	(void)state;
	char want[512];
	const char *log = logged_during(follow_ups);

	snprintf(want, sizeof(want),
		 "warning: s1: probe name=c.servfail.test type=MX finding=\"the resolver 127.0.0.1@%u answers SERVFAIL "
		 "over UDP and TCP\"\n", srv.port);
	if (count(log, want) != 1)
		fail_msg("expected one line \"%s\" in:\n%s", want, log);
	snprintf(want, sizeof(want),
		 "warning: Q1: probe session=s2 name=c.servfail.test type=MX finding=\"the resolver 127.0.0.1@%u "
		 "answers SERVFAIL over UDP and TCP\"\n", srv.port);
	if (count(log, want) != 1)
		fail_msg("expected one line \"%s\" in:\n%s", want, log);
	/* silence cannot explain a SERVFAIL in 1 ms: the story ends without a wrong cause */
	if (count(log, "s3: probe name=c.silent.test type=A finding=none\n") != 1)
		fail_msg("expected s3's line with finding=none in:\n%s", log);
	assert_int_equal(count(log, "s4: probe"), 0);
}

/* Bounds: the queue drops (counted) rather than grows; freeing with probes in flight, their
 * follow-ups pending, is clean (ASan, valgrind) and quick. */
static void test_bounds_and_free_in_flight(void **state)
{
	(void)state;
	struct probe_cache *pc = cache_for(srv.port);
	struct probe_cache_stats stats;
	char name[64], buf[256], lead[64];

	for (unsigned i = 0; i < 3 * PROBE_CACHE_QUEUE_MAX; i++) {
		snprintf(name, sizeof(name), "n%u.silent.test", i);
		snprintf(lead, sizeof(lead), "s%u: probe", i);
		struct dns_evidence ev = ask(name, LDNS_RR_TYPE_A, DNS_CAUSE_DEADLINE, 1000);
		probe_cache_finding(pc, &ev, lead, buf, sizeof(buf));
	}
	probe_cache_stats(pc, &stats);
	assert_true(stats.dropped >= 3 * PROBE_CACHE_QUEUE_MAX - PROBE_CACHE_QUEUE_MAX - PROBE_CACHE_WORKERS);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	probe_cache_free(pc);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms < 2 * PROBE_CACHE_DEADLINE_MS);

	/* follow-ups are bounded too */
	pc = cache_for(srv.port);
	struct dns_evidence ev = ask("bound.silent.test", LDNS_RR_TYPE_A, DNS_CAUSE_DEADLINE, 1000);
	for (unsigned i = 0; i < PROBE_CACHE_FOLLOW_UPS_MAX + 10; i++) {
		snprintf(lead, sizeof(lead), "s%u: probe", i);
		probe_cache_finding(pc, &ev, lead, buf, sizeof(buf));
	}
	probe_cache_stats(pc, &stats);
	assert_int_equal(stats.follow_ups_dropped, 10);
	probe_cache_free(pc);	/* the probe is in flight: its follow-ups are logged or dropped, never leaked */
}

static void test_nothing_to_probe(void **state)
{
	(void)state;
	struct dns_settings recursive = {.mode = DNS_MODE_RECURSIVE};
	char err[256], buf[64];
	struct probe_cache *pc = probe_cache_new(&recursive, NULL, err, sizeof(err));
	struct dns_evidence ev = ask("x.test", LDNS_RR_TYPE_A, DNS_CAUSE_SERVFAIL, 1);

	assert_non_null(pc);
	assert_int_equal(probe_cache_finding(pc, &ev, "s: probe", buf, sizeof(buf)), PROBE_NONE);
	probe_cache_start(pc, &ev);
	assert_string_equal(probe_cache_describe(pc, buf, sizeof(buf)), "");
	probe_cache_free(pc);
	assert_int_equal(probe_cache_finding(NULL, &ev, NULL, buf, sizeof(buf)), PROBE_NONE);
	probe_cache_free(NULL);
}

/* resolv.conf mode: the nameservers of the file, as libunbound reads them. */
static void test_resolv_conf(void **state)
{
	(void)state;
	char path[] = "/tmp/test_probe_cache.resolv.XXXXXX", err[256], buf[128];
	int fd = mkstemp(path);
	const char text[] = "# a comment\nsearch example.test\nnameserver 127.0.0.1\nnameserver ::1\n"
			    "nameserver 127.0.0.3\noptions timeout:1 attempts:1\n";
	struct dns_settings dns = {.mode = DNS_MODE_RESOLV_CONF};

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	struct probe_cache *pc = probe_cache_new(&dns, path, err, sizeof(err));
	assert_non_null(pc);
	assert_string_equal(err, "");
	/* at most PROBE_CACHE_SERVERS */
	assert_string_equal(probe_cache_describe(pc, buf, sizeof(buf)), "127.0.0.1,::1");
	probe_cache_free(pc);
	unlink(path);

	pc = probe_cache_new(&dns, "/nonexistent/resolv.conf", err, sizeof(err));
	assert_non_null(pc);
	assert_non_null(strstr(err, "/nonexistent/resolv.conf"));
	assert_string_equal(probe_cache_describe(pc, buf, sizeof(buf)), "");
	probe_cache_free(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits_table),
		cmocka_unit_test(test_server_wide),
		cmocka_unit_test(test_keyed_by_question),
		cmocka_unit_test(test_server_states),
		cmocka_unit_test(test_server_wide_borrowed),
		cmocka_unit_test(test_follow_up_lines),
		cmocka_unit_test(test_bounds_and_free_in_flight),
		cmocka_unit_test(test_nothing_to_probe),
		cmocka_unit_test(test_resolv_conf),
	};
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
