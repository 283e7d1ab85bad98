/*
 * check_server - dnsguard-check server [--name NAME[/TYPE]] [--large NAME[/TYPE]] [ADDR[@PORT] ...];
 * see check_server.h and dnsguard-check(8).
 *
 * Each server gets two probes (dns_probe.h), one after the other, each bounded by dns_deadline:
 * a small question over UDP and TCP at once (does each transport answer, and how fast; the OPT
 * record of the reply says the server's EDNS0 buffer), then a large one (does UDP truncate it,
 * and does TCP then bring it whole).  A server that answered nothing to the first is not asked
 * the second.  What a finding means depends on dns_transport: the verdict says what breaks for
 * dnsguard as configured, and what to change.  Nothing here parses DNS: the probe does, with ldns.
 */
#include "check_server.h"

#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

#include "config.h"
#include "netaddr.h"
#include "resolver.h"
#include "strbuf.h"

/* What the probe and libunbound ask for (dns_probe.c, libunbound's edns-buffer-size default):
 * an answer larger than this comes truncated over UDP. */
#define EDNS_BUFFER_ASKED 1232
#define RESOLV_CONF "/etc/resolv.conf"

/* Real use: a question every recursive resolver answers itself from the root zone it knows, and
 * one whose answer is well over 1232 bytes (a mail domain's many TXT records).  Tests name their
 * own (--name, --large): nothing they ask may leave loopback. */
#define DEFAULT_SMALL "./SOA"
#define DEFAULT_LARGE "microsoft.com/TXT"

bool check_question_parse(const char *text, uint16_t type, struct check_question *out, char *why, size_t whylen)
{
	const char *slash = strrchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	ldns_rdf *name;

	if (len == 0 || len >= sizeof(out->name)) {
		snprintf(why, whylen, "'%s' is not a domain name", text);
		return false;
	}
	memcpy(out->name, text, len);
	out->name[len] = '\0';
	for (const unsigned char *p = (const unsigned char *)out->name; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f) {
			snprintf(why, whylen, "'%s' is not a domain name (printable ASCII without spaces)", out->name);
			return false;
		}
	}
	if (!(name = ldns_dname_new_frm_str(out->name))) {
		snprintf(why, whylen, "'%s' is not a domain name", out->name);
		return false;
	}
	ldns_rdf_deep_free(name);
	out->type = type;
	if (slash) {
		out->type = (uint16_t)ldns_get_rr_type_by_name(slash + 1);
		if (out->type == 0) {
			snprintf(why, whylen, "'%s' is not a DNS record type (e.g. TXT, SOA, MX)", slash + 1);
			return false;
		}
	}
	return true;
}

/* ---- which servers ------------------------------------------------------------------------ */

/* The nameservers of resolv.conf as libunbound reads them (ub_ctx_resolvconf). */
static bool read_resolv_conf(struct check_servers *out, char *why, size_t whylen)
{
	char err[256];
	int n = dns_resolv_conf_servers(RESOLV_CONF, out->list, DNS_SERVERS_MAX, err, sizeof(err));

	if (n < 0) {
		snprintf(why, whylen, RESOLV_CONF " cannot be read: %s", err);
		return false;
	}
	out->count = (size_t)n;
	return true;
}

bool check_servers_of_config(const struct config *config, struct check_servers *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	switch (config->dns.mode) {
	case DNS_MODE_FORWARD:
		out->source = "dns_servers";
		out->count = config->dns.server_count;
		memcpy(out->list, config->dns.servers, out->count * sizeof(out->list[0]));
		return true;
	case DNS_MODE_RESOLV_CONF:
		out->source = RESOLV_CONF;
		return read_resolv_conf(out, why, whylen);
	case DNS_MODE_RECURSIVE:
		out->source = "dns_mode recursive";
		return true;
	}
	snprintf(why, whylen, "unknown dns_mode");
	return false;
}

/* ---- one server --------------------------------------------------------------------------- */

/* One server's check: what the findings established, for the verdict. */
struct server_run {
	struct check_context *ctx;
	char label[80];			/* "127.0.0.1@5353" */
	char port[12];			/* "53", for the words of a fix */
	enum dns_transport transport;	/* the daemon's */
	bool udp_works, tcp_works;	/* the small question: a usable answer */
	bool large_lost_udp;		/* small answers come over UDP, the large one does not */
	bool large_fails_tcp;		/* the large answer is truncated over UDP and TCP does not bring it */
	char large_tcp_phrase[128];	/* what TCP did then */
	bool warned;
};

static bool rcode_usable(int rcode)
{
	return rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN;
}

static bool leg_usable(const struct dns_probe_leg *leg)
{
	return leg->status == DNS_PROBE_ANSWERED && rcode_usable(leg->rcode);
}

/* Nothing came back: the server is not there for us on this transport. */
static bool leg_silent(const struct dns_probe_leg *leg)
{
	switch (leg->status) {
	case DNS_PROBE_TIMEOUT:
	case DNS_PROBE_REFUSED:
	case DNS_PROBE_UNREACHABLE:
	case DNS_PROBE_ERROR:
		return true;
	case DNS_PROBE_ANSWERED:
	case DNS_PROBE_CLOSED:
	case DNS_PROBE_MALFORMED:
		return false;
	}
	return false;
}

static const char *leg_outcome(const struct dns_probe_leg *leg, char *buf, size_t size)
{
	return leg->status == DNS_PROBE_ANSWERED ? dns_rcode_name(leg->rcode, buf, size) : dns_probe_status_name(leg->status);
}

static struct check_evidence leg_evidence(const struct server_run *run, const struct check_question *q,
					  const struct dns_probe_leg *leg, bool tcp, char *type, size_t typelen,
					  char *rcode, size_t rcodelen)
{
	struct check_evidence ev = CHECK_EVIDENCE_NONE;

	ev.server = run->label;
	ev.name = q->name;
	ev.type = dns_type_name(q->type, type, typelen);
	ev.rcode = leg_outcome(leg, rcode, rcodelen);
	ev.transport = tcp ? "tcp" : "udp";
	ev.ms = (int)leg->ms;
	return ev;
}

/* Why a server answers this rcode, in words an admin can check. */
static const char *rcode_hint(int rcode)
{
	switch (rcode) {
	case LDNS_RCODE_SERVFAIL:
		return "it could not resolve the name itself: its own upstream or the name's servers fail";
	case LDNS_RCODE_REFUSED:
		return "it does not answer this host (an access list?), or it does not serve the name (ask one it "
		       "serves with --name)";
	case LDNS_RCODE_FORMERR:
		return "it does not understand the question (an old server without EDNS0 answers so)";
	case LDNS_RCODE_NOTIMPL:
		return "it does not implement this kind of question";
	default:
		return "it gave no usable answer";
	}
}

/* What a transport that fails costs dnsguard, given its dns_transport. */
static enum check_severity leg_failure_severity(const struct server_run *run, bool tcp)
{
	/* with TCP only, UDP is never used; TCP is needed in every mode, for answers over 1232 bytes */
	return !tcp && run->transport == DNS_TRANSPORT_TCP ? CHECK_WARNING : CHECK_PROBLEM;
}

/* The finding about one transport's answer to the small question: code "udp-ok", "tcp-refused"... */
static void leg_finding(struct server_run *run, const struct check_question *q, const struct dns_probe_leg *leg,
			bool tcp)
{
	struct check_report *r = run->ctx->report;
	const char *t = tcp ? "tcp" : "udp", *T = tcp ? "TCP" : "UDP";
	char type[16], rcode[32], code[32];
	struct check_evidence ev = leg_evidence(run, q, leg, tcp, type, sizeof(type), rcode, sizeof(rcode));
	enum check_severity bad = leg_failure_severity(run, tcp);

	switch (leg->status) {
	case DNS_PROBE_ANSWERED:
		if (tcp && leg->truncated) {
			snprintf(code, sizeof(code), "%s-truncated", t);
			check_report_finding(r, CHECK_PROBLEM, code, &ev,
					     "sets TC over TCP for %s/%s: a TCP answer is never truncated; the server is broken",
					     q->name, ev.type);
		} else if (rcode_usable(leg->rcode)) {
			snprintf(code, sizeof(code), "%s-ok", t);
			check_report_finding(r, CHECK_OK, code, &ev, "answers %s/%s over %s in %u ms%s", q->name, ev.type, T,
					     leg->ms, leg->truncated ? " (truncated: the whole answer needs TCP)" : "");
		} else {
			snprintf(code, sizeof(code), "%s-rcode", t);
			check_report_finding(r, bad, code, &ev, "answers %s to %s/%s over %s: %s", rcode, q->name, ev.type, T,
					     rcode_hint(leg->rcode));
		}
		return;
	case DNS_PROBE_TIMEOUT:
		snprintf(code, sizeof(code), "%s-timeout", t);
		if (tcp && leg->connected)
			check_report_finding(r, bad, code, &ev,
					     "accepts a TCP connection but sends no answer within %u ms (dns_deadline)",
					     leg->ms);
		else
			check_report_finding(r, bad, code, &ev,
					     "no answer over %s within %u ms (dns_deadline): a firewall that drops port %s/%s, "
					     "or a server that is down",
					     T, leg->ms, run->port, t);
		return;
	case DNS_PROBE_REFUSED:
		snprintf(code, sizeof(code), "%s-refused", t);
		check_report_finding(r, bad, code, &ev, "refuses %s: nothing listens on port %s/%s there (%s)", T, run->port,
				     t, tcp ? "connection refused" : "ICMP port unreachable");
		return;
	case DNS_PROBE_CLOSED:
		snprintf(code, sizeof(code), "%s-closed", t);
		check_report_finding(r, bad, code, &ev, "accepts %s, then closes the connection without an answer", T);
		return;
	case DNS_PROBE_MALFORMED:
		snprintf(code, sizeof(code), "%s-malformed", t);
		check_report_finding(r, bad, code, &ev,
				     "answers over %s with a message that cannot be read, or that answers another question",
				     T);
		return;
	case DNS_PROBE_UNREACHABLE:
		snprintf(code, sizeof(code), "%s-unreachable", t);
		check_report_finding(r, bad, code, &ev, "cannot be reached over %s (%s): no route to it", T,
				     strerror(leg->os_error));
		return;
	case DNS_PROBE_ERROR:
		snprintf(code, sizeof(code), "%s-error", t);
		check_report_finding(r, bad, code, &ev, "could not be asked over %s: %s", T, strerror(leg->os_error));
		return;
	}
}

/* The server's EDNS0 buffer, from the OPT record of a reply to the small question. */
static void edns_finding(struct server_run *run, const struct check_question *q, const struct dns_probe_result *res)
{
	const struct dns_probe_leg *leg = res->udp.status == DNS_PROBE_ANSWERED ? &res->udp : &res->tcp;
	bool tcp = leg == &res->tcp;
	char type[16], rcode[32];
	struct check_evidence ev = leg_evidence(run, q, leg, tcp, type, sizeof(type), rcode, sizeof(rcode));

	if (leg->status != DNS_PROBE_ANSWERED)
		return;
	if (!leg->edns) {
		run->warned = true;
		check_report_finding(run->ctx->report, CHECK_WARNING, "edns-missing", &ev,
				     "answers without EDNS0 (no OPT record): its UDP answers stop at 512 bytes, so many more "
				     "come truncated and need TCP");
	} else if (leg->edns_udp_size < EDNS_BUFFER_ASKED) {
		run->warned = true;
		check_report_finding(run->ctx->report, CHECK_WARNING, "edns-buffer", &ev,
				     "advertises EDNS0 with a %u-byte buffer, less than the %u dnsguard asks for: answers "
				     "over %u bytes come truncated and need TCP",
				     leg->edns_udp_size, EDNS_BUFFER_ASKED, leg->edns_udp_size < 512 ? 512 : leg->edns_udp_size);
	} else {
		check_report_finding(run->ctx->report, CHECK_OK, "edns-buffer", &ev,
				     "advertises EDNS0 with a %u-byte buffer (dnsguard asks for %u)", leg->edns_udp_size,
				     EDNS_BUFFER_ASKED);
	}
}

static void slow_finding(struct server_run *run, const struct check_question *q, const struct dns_probe_result *res)
{
	const struct dns_probe_leg *leg = leg_usable(&res->udp) ? &res->udp : &res->tcp;
	char type[16], rcode[32];
	struct check_evidence ev =
		leg_evidence(run, q, leg, leg == &res->tcp, type, sizeof(type), rcode, sizeof(rcode));

	if (!leg_usable(leg) || leg->ms * 2 <= run->ctx->deadline_ms)
		return;
	run->warned = true;
	check_report_finding(run->ctx->report, CHECK_WARNING, "slow", &ev,
			     "takes %u ms to answer, more than half of dns_deadline (%u ms): a check that needs several "
			     "questions in a row (MX, then its hosts) will run out of time",
			     leg->ms, run->ctx->deadline_ms);
}

/* A verb phrase for what a failed leg did: "refuses TCP", "does not answer over TCP". */
static void leg_phrase(const struct dns_probe_leg *leg, const char *T, char *buf, size_t size)
{
	char rcode[32];

	switch (leg->status) {
	case DNS_PROBE_ANSWERED:
		if (leg->truncated)
			snprintf(buf, size, "truncates it over %s too", T);
		else
			snprintf(buf, size, "answers %s over %s", dns_rcode_name(leg->rcode, rcode, sizeof(rcode)), T);
		return;
	case DNS_PROBE_TIMEOUT:
		snprintf(buf, size, "does not answer over %s within %u ms", T, leg->ms);
		return;
	case DNS_PROBE_REFUSED:
		snprintf(buf, size, "refuses %s", T);
		return;
	case DNS_PROBE_CLOSED:
		snprintf(buf, size, "closes %s without an answer", T);
		return;
	case DNS_PROBE_MALFORMED:
		snprintf(buf, size, "answers garbage over %s", T);
		return;
	case DNS_PROBE_UNREACHABLE:
		snprintf(buf, size, "cannot be reached over %s", T);
		return;
	case DNS_PROBE_ERROR:
		snprintf(buf, size, "could not be asked over %s", T);
		return;
	}
}

/* The large question: does UDP truncate it, and does TCP then bring it whole? */
static void large_findings(struct server_run *run, const struct check_question *q, const struct dns_probe_result *small,
			   const struct dns_probe_result *res)
{
	struct check_report *r = run->ctx->report;
	const struct dns_probe_leg *udp = &res->udp, *tcp = &res->tcp;
	char type[16], urcode[32], trcode[32];
	struct check_evidence uev = leg_evidence(run, q, udp, false, type, sizeof(type), urcode, sizeof(urcode));
	struct check_evidence tev = leg_evidence(run, q, tcp, true, type, sizeof(type), trcode, sizeof(trcode));
	bool tcp_whole = leg_usable(tcp) && !tcp->truncated;

	if (udp->status == DNS_PROBE_ANSWERED && udp->truncated) {
		if (tcp_whole) {
			check_report_finding(r, CHECK_OK, "truncates", &uev,
					     "truncates the %u-byte answer to %s/%s over UDP (TC), as it should beyond the "
					     "%u-byte buffer asked for",
					     tcp->size, q->name, uev.type, EDNS_BUFFER_ASKED);
			check_report_finding(r, CHECK_OK, "large-over-tcp", &tev,
					     "brings the whole answer to %s/%s (%u bytes, %u records) over TCP in %u ms",
					     q->name, tev.type, tcp->size, tcp->answers, tcp->ms);
			return;
		}
		check_report_finding(r, CHECK_INFO, "truncates", &uev,
				     "truncates the answer to %s/%s over UDP (TC): it is larger than the %u-byte buffer asked for",
				     q->name, uev.type, EDNS_BUFFER_ASKED);
		run->large_fails_tcp = true;
		leg_phrase(tcp, "TCP", run->large_tcp_phrase, sizeof(run->large_tcp_phrase));
		check_report_finding(r, CHECK_PROBLEM, "large-over-tcp-fails", &tev,
				     "then %s: an answer over %u bytes cannot be had from it, and a lookup that needs one fails",
				     run->large_tcp_phrase, EDNS_BUFFER_ASKED);
		return;
	}
	if (leg_usable(udp)) {
		if (udp->size > EDNS_BUFFER_ASKED) {
			run->warned = true;
			check_report_finding(r, CHECK_WARNING, "udp-oversize", &uev,
					     "sends a %u-byte answer to %s/%s over UDP, more than the %u bytes asked for: "
					     "such large datagrams are fragmented, and fragments are often dropped on the way",
					     udp->size, q->name, uev.type, EDNS_BUFFER_ASKED);
		} else {
			check_report_finding(r, CHECK_INFO, "large-untested", &uev,
					     "the answer to %s/%s is only %u bytes and fits in UDP: truncation not tested "
					     "(name one over %u bytes with --large)",
					     q->name, uev.type, udp->size, EDNS_BUFFER_ASKED);
		}
		if (tcp_whole)
			check_report_finding(r, CHECK_OK, "large-over-tcp", &tev,
					     "brings the whole answer to %s/%s (%u bytes) over TCP in %u ms", q->name, tev.type,
					     tcp->size, tcp->ms);
		return;
	}
	if (udp->status == DNS_PROBE_ANSWERED) {
		check_report_finding(r, CHECK_INFO, "large-untested", &uev,
				     "answers %s to %s/%s: truncation not tested (name a large answer it serves with --large)",
				     urcode, q->name, uev.type);
		return;
	}
	if (leg_usable(&small->udp)) {
		char phrase[128];
		leg_phrase(udp, "UDP", phrase, sizeof(phrase));
		run->large_lost_udp = true;
		check_report_finding(r, CHECK_PROBLEM, "large-udp-fails", &uev,
				     "answers small questions over UDP, but %s for %s/%s: large UDP answers get lost "
				     "(a firewall that drops fragments, or a size limit?)",
				     phrase, q->name, uev.type);
	}
}

/* "every lookup fails and mail defers (451)": what a broken server costs, said once. */
#define ALL_FAIL "every lookup through it fails, so dnsguard's checks answer 451 and mail defers"
#define LARGE_FAIL "answers larger than 1232 bytes will fail, and mail to such domains will defer"

static void verdict(struct server_run *run, const struct dns_probe_result *small, const struct check_question *q)
{
	struct check_report *r = run->ctx->report;
	const char *s = run->label;
	char type[16], rcode[32];

	dns_type_name(q->type, type, sizeof(type));
	if (!run->udp_works && !run->tcp_works) {
		if (leg_silent(&small->udp) && leg_silent(&small->tcp)) {
			if (small->udp.status == DNS_PROBE_REFUSED && small->tcp.status == DNS_PROBE_REFUSED)
				check_report_verdict(r, "no answer",
						     "nothing listens on %s (UDP and TCP refused): " ALL_FAIL
						     "; start the server, or name one that answers in dns_servers",
						     s);
			else
				check_report_verdict(r, "no answer",
						     "%s: no answer over UDP or TCP within %u ms: " ALL_FAIL
						     "; check that the server runs and that no firewall drops DNS from "
						     "this host (port %s, UDP and TCP), or name a server that answers in "
						     "dns_servers",
						     s, run->ctx->deadline_ms, run->port);
		} else {
			const struct dns_probe_leg *leg = small->udp.status == DNS_PROBE_ANSWERED ? &small->udp : &small->tcp;
			check_report_verdict(r, "lookups fail",
					     "%s gives no usable answer to %s/%s (%s): " ALL_FAIL
					     "; fix the server, or name another in dns_servers",
					     s, q->name, type, leg_outcome(leg, rcode, sizeof(rcode)));
		}
		return;
	}
	if (!run->udp_works) {
		if (run->transport == DNS_TRANSPORT_TCP)
			check_report_verdict(r, "fragile",
					     "%s answers over TCP only: dnsguard copes (dns_transport = tcp), but other "
					     "programs on this host ask over UDP first; fix the server",
					     s);
		else
			check_report_verdict(r, "lookups fail",
					     "%s does not answer UDP: " ALL_FAIL
					     "; fix the server, or set dns_transport = tcp as a stopgap",
					     s);
		return;
	}
	if (!run->tcp_works || run->large_fails_tcp) {
		if (run->transport == DNS_TRANSPORT_TCP)
			check_report_verdict(r, "lookups fail",
					     "%s does not answer TCP, and dnsguard asks over TCP only (dns_transport = tcp): "
					     ALL_FAIL "; fix the server (TCP port %s), or set dns_transport = udp-tcp as a "
					     "stopgap (then only " "answers over 1232 bytes fail)",
					     s, run->port);
		else
			check_report_verdict(r, "large answers fail",
					     "%s does not answer TCP: " LARGE_FAIL
					     "; fix the server (let it answer TCP on port %s), or point dns_servers at a "
					     "resolver that does (dns_transport = udp does not help: dnsguard never uses a "
					     "truncated answer)",
					     s, run->port);
		return;
	}
	if (run->large_lost_udp) {
		check_report_verdict(r, "large answers fail",
				     "%s loses large answers over UDP: " LARGE_FAIL
				     "; let fragmented DNS through on the way to it, or set dns_transport = tcp",
				     s);
		return;
	}
	if (run->warned) {
		check_report_verdict(r, "fragile", "%s works for mail now, but see the warnings", s);
		return;
	}
	check_report_verdict(r, "healthy", "%s answers over UDP and TCP: fine for mail", s);
}

bool check_server_one(struct check_context *ctx, const struct dns_server *server, const struct check_question *small,
		      const struct check_question *large)
{
	struct server_run run = {.ctx = ctx, .transport = ctx->rt->config->dns.transport};
	struct dns_probe_result first, second;
	char err[256];

	dns_server_format(server, run.label, sizeof(run.label));
	snprintf(run.port, sizeof(run.port), "%u", server->port ? server->port : 53);
	check_report_section(ctx->report, "server %s", run.label);
	if (dns_probe_server(server, small->name, small->type, ctx->deadline_ms, &first, err, sizeof(err)) < 0) {
		struct check_evidence ev = CHECK_EVIDENCE_NONE;
		ev.server = run.label;
		check_report_finding(ctx->report, CHECK_PROBLEM, "probe-failed", &ev, "%s", err);
		check_report_verdict(ctx->report, "not checked", "%s could not be asked: %s", run.label, err);
		return false;
	}
	leg_finding(&run, small, &first.udp, false);
	leg_finding(&run, small, &first.tcp, true);
	run.udp_works = leg_usable(&first.udp);
	run.tcp_works = leg_usable(&first.tcp) && !first.tcp.truncated;
	edns_finding(&run, small, &first);
	slow_finding(&run, small, &first);
	/* a server that answered nothing is not kept waiting for again */
	if (large && (first.udp.status == DNS_PROBE_ANSWERED || first.tcp.status == DNS_PROBE_ANSWERED)) {
		if (dns_probe_server(server, large->name, large->type, ctx->deadline_ms, &second, err, sizeof(err)) < 0) {
			struct check_evidence ev = CHECK_EVIDENCE_NONE;
			ev.server = run.label;
			check_report_finding(ctx->report, CHECK_PROBLEM, "probe-failed", &ev, "%s", err);
		} else {
			large_findings(&run, large, &first, &second);
		}
	}
	verdict(&run, &first, small);
	return (run.udp_works || run.transport == DNS_TRANSPORT_TCP) && run.tcp_works && !run.large_fails_tcp &&
	       !run.large_lost_udp;
}

/* ---- the command -------------------------------------------------------------------------- */

static int usage_fail(const char *why)
{
	return check_fail("server: %s (usage: server [--name NAME[/TYPE]] [--large NAME[/TYPE]] [ADDR[@PORT] ...])",
			  why);
}

int check_server(struct check_context *ctx, int argc, char **argv)
{
	struct check_question small, large;
	struct check_servers servers = {.source = "the command line"};
	const char *small_text = DEFAULT_SMALL, *large_text = DEFAULT_LARGE;
	char why[300], subject[DNS_SERVERS_MAX * 64];
	struct strbuf sb;
	int i;

	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--name") == 0 || strcmp(argv[i], "--large") == 0) && i + 1 < argc) {
			if (strcmp(argv[i], "--name") == 0)
				small_text = argv[++i];
			else
				large_text = argv[++i];
		} else if (argv[i][0] == '-') {
			snprintf(why, sizeof(why), "unknown option or missing argument: %s", argv[i]);
			return usage_fail(why);
		} else {
			if (servers.count == DNS_SERVERS_MAX)
				return usage_fail("at most 8 servers at once");
			struct dns_server *s = &servers.list[servers.count];
			if (!netaddr_parse_server(argv[i], &s->addr, &s->port)) {
				snprintf(why, sizeof(why), "'%s' is not an IP address with an optional @port (e.g. 192.0.2.53 "
							   "or ::1@5353)",
					 argv[i]);
				return usage_fail(why);
			}
			servers.count++;
		}
	}
	if (!check_question_parse(small_text, LDNS_RR_TYPE_SOA, &small, why, sizeof(why)) ||
	    !check_question_parse(large_text, LDNS_RR_TYPE_TXT, &large, why, sizeof(why)))
		return usage_fail(why);

	bool from_config = servers.count == 0;
	bool listed = !from_config || check_servers_of_config(ctx->rt->config, &servers, why, sizeof(why));
	strbuf_init(&sb, subject, sizeof(subject));
	for (size_t n = 0; n < servers.count; n++) {
		char label[80];
		strbuf_appendf(&sb, "%s%s", n ? " " : "", dns_server_format(&servers.list[n], label, sizeof(label)));
	}
	if (!check_begin(ctx, "server", subject))
		return check_fail("out of memory");

	if (!listed || servers.count == 0) {
		struct check_evidence ev = CHECK_EVIDENCE_NONE;
		check_report_section(ctx->report, "servers (%s)", servers.source);
		if (!listed) {
			check_report_finding(ctx->report, CHECK_PROBLEM, "resolv-conf", &ev, "%s", why);
			check_report_verdict(ctx->report, "lookups fail",
					     "dnsguard takes its servers from " RESOLV_CONF " (dns_servers is empty) and cannot "
					     "read it: fix the file, or name servers in dns_servers");
		} else if (ctx->rt->config->dns.mode == DNS_MODE_RECURSIVE) {
			check_report_finding(ctx->report, CHECK_INFO, "recursive", &ev,
					     "dnsguard resolves from the root servers itself (dns_servers = recursive): there "
					     "is no forwarder to check");
			check_report_verdict(ctx->report, "nothing to check",
					     "name a server to check one (dnsguard-check server ADDR), or ask about a domain "
					     "(dnsguard-check domain DOMAIN)");
		} else {
			check_report_finding(ctx->report, CHECK_PROBLEM, "no-servers", &ev,
					     RESOLV_CONF " names no nameserver dnsguard can use");
			check_report_verdict(ctx->report, "lookups fail",
					     "dnsguard has no server to ask: name one in dns_servers, or add a nameserver "
					     "line to " RESOLV_CONF);
		}
		return check_report_finish(ctx->report);
	}
	for (size_t n = 0; n < servers.count; n++)
		check_server_one(ctx, &servers.list[n], &small, &large);
	return check_report_finish(ctx->report);
}
