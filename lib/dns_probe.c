/*
 * dns_probe - one question to one server over UDP and TCP in parallel; see dns_probe.h.
 *
 * Both sockets are non-blocking and share one ppoll loop bounded by the deadline, so the probe
 * needs no thread and can run on a milter callback.  ldns builds the query and parses every
 * reply; a reply ldns rejects, or one that is not an answer to our id and question, is MALFORMED.
 * The first reply on each transport decides: on a fresh connected socket nothing else can arrive,
 * so a wrong reply is the server's doing, not a stray.  The UDP socket is connected so that an
 * ICMP port unreachable comes back as ECONNREFUSED.
 */
#include "dns_probe.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "monotonic.h"
#include "resolver.h"
#include "strbuf.h"

#define EDNS_BUFFER_SIZE 1232
/* Largest DNS message: UDP payloads and TCP's 16-bit length both end here. */
#define MESSAGE_MAX 65535

enum io_state { IO_CONNECTING, IO_SENDING, IO_READING, IO_DONE };

/* One transport's query in flight. */
struct probe_io {
	struct dns_probe_leg *leg;
	bool tcp;
	int fd;
	enum io_state state;
	uint16_t id;
	uint8_t *query;		/* wire form; for TCP with its 2-byte length in front */
	size_t query_len;
	size_t sent;
	uint8_t *reply;		/* MESSAGE_MAX bytes (+2 for TCP's length) */
	size_t have;
	size_t want;		/* TCP: 2 until the length is known, then 2 + length */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The id is all that keeps an off-path spoofer from writing the probe's verdict. */
static uint16_t random_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == (ssize_t)sizeof(id))
		return id;
	return (uint16_t)(monotonic_us() ^ getpid());
}

static socklen_t server_sockaddr(const struct dns_server *server, struct sockaddr_storage *ss)
{
	uint16_t port = htons((uint16_t)server->port);

	memset(ss, 0, sizeof(*ss));
	if (server->addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		memcpy(&sin->sin_addr, server->addr.bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = port;
	memcpy(&sin6->sin6_addr, server->addr.bytes, 16);
	return sizeof(*sin6);
}

static unsigned elapsed_ms(int64_t start)
{
	return (unsigned)((monotonic_us() - start) / 1000);
}

static void io_finish(struct probe_io *io, enum dns_probe_status status, int64_t start)
{
	io->leg->status = status;
	io->leg->ms = elapsed_ms(start);
	io->state = IO_DONE;
}

/* Maps a socket error to what it says about the server. */
static void io_fail(struct probe_io *io, int error, int64_t start)
{
	enum dns_probe_status status;

	switch (error) {
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
		/* once connected, a reset means the server dropped us, not that nobody listens */
		status = io->leg->connected ? DNS_PROBE_CLOSED : DNS_PROBE_REFUSED;
		break;
	case ETIMEDOUT:
		status = DNS_PROBE_TIMEOUT;
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		status = DNS_PROBE_UNREACHABLE;
		io->leg->os_error = error;
		break;
	default:
		status = DNS_PROBE_ERROR;
		io->leg->os_error = error;
		break;
	}
	io_finish(io, status, start);
}

static bool reply_matches(const ldns_pkt *query, uint16_t id, const ldns_pkt *reply)
{
	const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	const ldns_rr *r;

	if (ldns_pkt_id(reply) != id || !ldns_pkt_qr(reply) || ldns_pkt_get_opcode(reply) != LDNS_PACKET_QUERY)
		return false;
	/* some servers leave the question out of an error reply */
	if (ldns_pkt_qdcount(reply) == 0)
		return ldns_pkt_get_rcode(reply) != LDNS_RCODE_NOERROR;
	if (ldns_pkt_qdcount(reply) != 1)
		return false;
	r = ldns_rr_list_rr(ldns_pkt_question(reply), 0);
	return r && ldns_rr_get_type(r) == ldns_rr_get_type(q) && ldns_rr_get_class(r) == ldns_rr_get_class(q) &&
	       ldns_dname_compare(ldns_rr_owner(r), ldns_rr_owner(q)) == 0;
}

static void io_take_reply(struct probe_io *io, const ldns_pkt *query, const uint8_t *wire, size_t len, int64_t start)
{
	struct dns_probe_leg *leg = io->leg;
	ldns_pkt *reply = NULL;

	if (ldns_wire2pkt(&reply, wire, len) != LDNS_STATUS_OK || !reply || !reply_matches(query, io->id, reply)) {
		io_finish(io, DNS_PROBE_MALFORMED, start);
	} else {
		leg->rcode = (int)ldns_pkt_edns_extended_rcode(reply) << 4 | (int)ldns_pkt_get_rcode(reply);
		leg->truncated = ldns_pkt_tc(reply);
		leg->answers = (unsigned)ldns_rr_list_rr_count(ldns_pkt_answer(reply));
		leg->size = (unsigned)len;
		/* ldns keeps the OPT record's fields, not the record: a reply with OPT sets them */
		leg->edns = ldns_pkt_edns(reply);
		leg->edns_udp_size = leg->edns ? ldns_pkt_edns_udp_size(reply) : 0;
		io_finish(io, DNS_PROBE_ANSWERED, start);
	}
	if (reply)
		ldns_pkt_free(reply);
}

static bool would_block(int error)
{
	return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

static void io_send(struct probe_io *io, int64_t start)
{
	while (io->sent < io->query_len) {
		ssize_t n = send(io->fd, io->query + io->sent, io->query_len - io->sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (!would_block(errno))
				io_fail(io, errno, start);
			return;
		}
		io->sent += (size_t)n;
	}
	io->state = IO_READING;
}

static void udp_read(struct probe_io *io, const ldns_pkt *query, int64_t start)
{
	ssize_t n = recv(io->fd, io->reply, MESSAGE_MAX, 0);

	if (n < 0) {
		if (!would_block(errno))
			io_fail(io, errno, start);
		return;
	}
	io_take_reply(io, query, io->reply, (size_t)n, start);
}

static void tcp_read(struct probe_io *io, const ldns_pkt *query, int64_t start)
{
	for (;;) {
		ssize_t n = recv(io->fd, io->reply + io->have, io->want - io->have, 0);
		if (n < 0) {
			if (!would_block(errno))
				io_fail(io, errno, start);
			return;
		}
		if (n == 0) {
			io_finish(io, DNS_PROBE_CLOSED, start);
			return;
		}
		io->have += (size_t)n;
		if (io->have < io->want)
			continue;
		if (io->want == 2) {
			size_t len = (size_t)io->reply[0] << 8 | io->reply[1];
			if (len == 0) {
				io_finish(io, DNS_PROBE_MALFORMED, start);
				return;
			}
			io->want = 2 + len;
			continue;
		}
		io_take_reply(io, query, io->reply + 2, io->want - 2, start);
		return;
	}
}

static void io_step(struct probe_io *io, short revents, const ldns_pkt *query, int64_t start)
{
	if (io->state == IO_CONNECTING) {
		int error = 0;
		socklen_t len = sizeof(error);
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
			error = errno;
		if (error == 0 && !(revents & POLLOUT))
			return;
		if (error != 0) {
			io_fail(io, error, start);
			return;
		}
		io->leg->connected = true;
		io->state = IO_SENDING;
	}
	if (io->state == IO_SENDING) {
		io_send(io, start);
		return;
	}
	if (io->state == IO_READING && (revents & (POLLIN | POLLERR | POLLHUP))) {
		if (io->tcp)
			tcp_read(io, query, start);
		else
			udp_read(io, query, start);
	}
}

/* Creates the socket, the wire query and the reply buffer: failures here are local (-1). */
static int io_open(struct probe_io *io, ldns_pkt *query, int family, char *err, size_t errlen)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	size_t prefix = io->tcp ? 2 : 0;

	io->fd = socket(family, (io->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (io->fd < 0) {
		set_err(err, errlen, "cannot create a %s socket for the DNS probe: %s", io->tcp ? "TCP" : "UDP",
			strerror(errno));
		return -1;
	}
	io->id = random_id();
	ldns_pkt_set_id(query, io->id);
	if (ldns_pkt2wire(&wire, query, &len) != LDNS_STATUS_OK || len > MESSAGE_MAX) {
		free(wire);
		set_err(err, errlen, "cannot build the DNS probe query");
		return -1;
	}
	io->query = malloc(prefix + len);
	io->reply = malloc(prefix + MESSAGE_MAX);
	if (!io->query || !io->reply) {
		free(wire);
		set_err(err, errlen, "out of memory for the DNS probe");
		return -1;
	}
	if (io->tcp) {
		io->query[0] = (uint8_t)(len >> 8);
		io->query[1] = (uint8_t)len;
	}
	memcpy(io->query + prefix, wire, len);
	io->query_len = prefix + len;
	io->want = 2;
	free(wire);
	return 0;
}

static void io_connect(struct probe_io *io, const struct sockaddr_storage *ss, socklen_t sslen, int64_t start)
{
	if (connect(io->fd, (const struct sockaddr *)ss, sslen) == 0) {
		io->leg->connected = io->tcp;
		io->state = IO_SENDING;
		io_send(io, start);
	} else if (io->tcp && errno == EINPROGRESS) {
		io->state = IO_CONNECTING;
	} else {
		io_fail(io, errno, start);
	}
}

static void io_close(struct probe_io *io)
{
	if (io->fd >= 0)
		close(io->fd);
	free(io->query);
	free(io->reply);
}

static bool qname_text_ok(const char *qname)
{
	if (!*qname || strlen(qname) >= DNS_PROBE_QNAME_SIZE)
		return false;
	for (const unsigned char *p = (const unsigned char *)qname; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

static int check_args(const struct dns_server *server, const char *qname, unsigned deadline_ms,
		      const struct dns_probe_result *out, char *err, size_t errlen)
{
	if (!server || !qname || !out) {
		set_err(err, errlen, "DNS probe called without a %s", !server ? "server" : !qname ? "query name" : "result");
		return -1;
	}
	if (server->addr.family != AF_INET && server->addr.family != AF_INET6) {
		set_err(err, errlen, "DNS server address is neither IPv4 nor IPv6");
		return -1;
	}
	if (server->port > 65535) {
		set_err(err, errlen, "DNS server port %u is out of range", server->port);
		return -1;
	}
	if (!qname_text_ok(qname)) {
		set_err(err, errlen, "DNS probe query name is empty, too long or not printable");
		return -1;
	}
	if (deadline_ms == 0) {
		set_err(err, errlen, "DNS probe deadline must be at least 1 ms");
		return -1;
	}
	return 0;
}

static void leg_init(struct dns_probe_leg *leg, unsigned deadline_ms)
{
	memset(leg, 0, sizeof(*leg));
	leg->status = DNS_PROBE_TIMEOUT;
	leg->ms = deadline_ms;
}

int dns_probe_server(const struct dns_server *server, const char *qname, uint16_t qtype, unsigned deadline_ms,
		     struct dns_probe_result *out, char *err, size_t errlen)
{
	int64_t start = monotonic_us();
	int64_t deadline = start + (int64_t)deadline_ms * 1000;
	struct probe_io io[2] = {{.fd = -1}, {.fd = -1}};
	struct sockaddr_storage ss;
	socklen_t sslen;
	ldns_rdf *name;
	ldns_pkt *query;
	int rc = -1;

	if (check_args(server, qname, deadline_ms, out, err, errlen) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->server = *server;
	if (out->server.port == 0)
		out->server.port = 53;
	memcpy(out->qname, qname, strlen(qname) + 1);
	out->qtype = qtype;
	leg_init(&out->udp, deadline_ms);
	leg_init(&out->tcp, deadline_ms);

	name = ldns_dname_new_frm_str(qname);
	if (!name) {
		set_err(err, errlen, "DNS probe query name \"%s\" is not a domain name", qname);
		return -1;
	}
	query = ldns_pkt_query_new(name, (ldns_rr_type)qtype, LDNS_RR_CLASS_IN, LDNS_RD);
	if (!query) {
		ldns_rdf_deep_free(name);
		set_err(err, errlen, "out of memory for the DNS probe");
		return -1;
	}
	ldns_pkt_set_edns_udp_size(query, EDNS_BUFFER_SIZE);

	io[0].leg = &out->udp;
	io[1].leg = &out->tcp;
	io[1].tcp = true;
	if (io_open(&io[0], query, server->addr.family, err, errlen) < 0 ||
	    io_open(&io[1], query, server->addr.family, err, errlen) < 0)
		goto done;

	sslen = server_sockaddr(&out->server, &ss);
	for (int i = 0; i < 2; i++)
		io_connect(&io[i], &ss, sslen, start);

	for (;;) {
		struct pollfd fds[2];
		struct probe_io *polled[2];
		nfds_t n = 0;
		int64_t left = deadline - monotonic_us();

		for (int i = 0; i < 2; i++) {
			if (io[i].state == IO_DONE)
				continue;
			fds[n].fd = io[i].fd;
			fds[n].events = io[i].state == IO_READING ? POLLIN : POLLOUT;
			fds[n].revents = 0;
			polled[n++] = &io[i];
		}
		if (n == 0 || left <= 0)
			break;
		struct timespec timeout = {.tv_sec = left / 1000000, .tv_nsec = (left % 1000000) * 1000};
		int ready = ppoll(fds, n, &timeout, NULL);
		if (ready < 0 && errno != EINTR) {
			set_err(err, errlen, "DNS probe cannot wait for its sockets: %s", strerror(errno));
			goto done;
		}
		for (nfds_t i = 0; ready > 0 && i < n; i++)
			if (fds[i].revents)
				io_step(polled[i], fds[i].revents, query, start);
	}
	/* a leg still in flight keeps the TIMEOUT that leg_init gave it */
	rc = 0;
done:
	io_close(&io[0]);
	io_close(&io[1]);
	ldns_pkt_free(query);
	return rc;
}

/* ---- text for people and for logs ------------------------------------------------------- */

const char *dns_probe_status_name(enum dns_probe_status status)
{
	switch (status) {
	case DNS_PROBE_ANSWERED:
		return "answered";
	case DNS_PROBE_TIMEOUT:
		return "timeout";
	case DNS_PROBE_REFUSED:
		return "refused";
	case DNS_PROBE_CLOSED:
		return "closed";
	case DNS_PROBE_MALFORMED:
		return "malformed";
	case DNS_PROBE_UNREACHABLE:
		return "unreachable";
	case DNS_PROBE_ERROR:
		return "error";
	}
	return "?";
}

static const char *errno_name(int error, char *buf, size_t size)
{
	const char *name = strerrorname_np(error);

	if (name)
		return name;
	snprintf(buf, size, "errno%d", error);
	return buf;
}

static const char *qtype_name(uint16_t qtype, char *buf, size_t size)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(qtype);

	if (d && d->_name && d->_type == qtype)
		return d->_name;
	snprintf(buf, size, "TYPE%u", qtype);
	return buf;
}

/*
 * A leg's finding as a verb phrase naming `transport`.  Phrases of what did not happen are
 * negative: two of them join as "over UDP or TCP", not "and".
 */
static bool leg_phrase(const struct dns_probe_leg *leg, const char *transport, struct strbuf *sb)
{
	char tmp[32];

	switch (leg->status) {
	case DNS_PROBE_ANSWERED:
		if (leg->truncated)
			strbuf_appendf(sb, "truncates over %s", transport);
		else if (leg->rcode == LDNS_RCODE_NOERROR)
			strbuf_appendf(sb, "answers over %s", transport);
		else
			strbuf_appendf(sb, "answers %s over %s", dns_rcode_name(leg->rcode, tmp, sizeof(tmp)), transport);
		return false;
	case DNS_PROBE_TIMEOUT:
		/* whether TCP connected is for the evidence; to people both are silence */
		strbuf_appendf(sb, "does not answer over %s", transport);
		return true;
	case DNS_PROBE_REFUSED:
		strbuf_appendf(sb, "refuses %s", transport);
		return false;
	case DNS_PROBE_CLOSED:
		strbuf_appendf(sb, "closes %s without answering", transport);
		return false;
	case DNS_PROBE_MALFORMED:
		strbuf_appendf(sb, "answers garbage over %s", transport);
		return false;
	case DNS_PROBE_UNREACHABLE:
		strbuf_appendf(sb, "cannot be reached over %s", transport);
		return true;
	case DNS_PROBE_ERROR:
		strbuf_appendf(sb, "could not be probed over %s (%s)", transport,
			       errno_name(leg->os_error, tmp, sizeof(tmp)));
		return true;
	}
	strbuf_appendf(sb, "did something unknown over %s", transport);
	return false;
}

static const char *describe(const struct dns_probe_result *r, const char *role, char *buf, size_t size)
{
	char server[80], udp_text[128], tcp_text[128];
	struct strbuf sb, udp, tcp;
	bool negative;

	if (size == 0)
		return buf;
	strbuf_init(&sb, buf, size);
	strbuf_append(&sb, role);
	strbuf_append(&sb, dns_server_format(&r->server, server, sizeof(server)));
	strbuf_append(&sb, " ");
	/* the same finding on both transports is said once: "answers SERVFAIL over UDP and TCP" */
	strbuf_init(&udp, udp_text, sizeof(udp_text));
	strbuf_init(&tcp, tcp_text, sizeof(tcp_text));
	negative = leg_phrase(&r->udp, "*", &udp);
	leg_phrase(&r->tcp, "*", &tcp);
	if (strcmp(udp_text, tcp_text) == 0) {
		leg_phrase(&r->udp, negative ? "UDP or TCP" : "UDP and TCP", &sb);
		return buf;
	}
	leg_phrase(&r->udp, "UDP", &sb);
	strbuf_append(&sb, " and ");
	leg_phrase(&r->tcp, "TCP", &sb);
	return buf;
}

const char *dns_probe_describe(const struct dns_probe_result *r, char *buf, size_t size)
{
	return describe(r, "", buf, size);
}

const char *dns_probe_describe_resolver(const struct dns_probe_result *r, char *buf, size_t size)
{
	return describe(r, "the resolver ", buf, size);
}

static void leg_evidence(const struct dns_probe_leg *leg, const char *key, struct strbuf *sb)
{
	char tmp[32];

	strbuf_appendf(sb, " %s=%s", key, dns_probe_status_name(leg->status));
	switch (leg->status) {
	case DNS_PROBE_ANSWERED:
		strbuf_appendf(sb, "/%s%s/answers:%u", dns_rcode_name(leg->rcode, tmp, sizeof(tmp)),
			       leg->truncated ? "/tc" : "", leg->answers);
		break;
	case DNS_PROBE_TIMEOUT:
		if (leg->connected)
			strbuf_append(sb, "/connected");
		break;
	case DNS_PROBE_UNREACHABLE:
	case DNS_PROBE_ERROR:
		strbuf_appendf(sb, "/%s", errno_name(leg->os_error, tmp, sizeof(tmp)));
		break;
	case DNS_PROBE_REFUSED:
	case DNS_PROBE_CLOSED:
	case DNS_PROBE_MALFORMED:
		break;
	}
	strbuf_appendf(sb, "/%ums", leg->ms);
}

const char *dns_probe_evidence(const struct dns_probe_result *r, char *buf, size_t size)
{
	char server[80], qtype[16];
	struct strbuf sb;

	if (size == 0)
		return buf;
	strbuf_init(&sb, buf, size);
	strbuf_appendf(&sb, "server=%s", dns_server_format(&r->server, server, sizeof(server)));
	strbuf_append_kv(&sb, "qname", r->qname);
	strbuf_append_kv(&sb, "qtype", qtype_name(r->qtype, qtype, sizeof(qtype)));
	leg_evidence(&r->udp, "udp", &sb);
	leg_evidence(&r->tcp, "tcp", &sb);
	return buf;
}

static bool rcode_usable(int rcode)
{
	return rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN;
}

bool dns_probe_healthy(const struct dns_probe_result *r)
{
	return r->udp.status == DNS_PROBE_ANSWERED && rcode_usable(r->udp.rcode) &&
	       r->tcp.status == DNS_PROBE_ANSWERED && rcode_usable(r->tcp.rcode) && !r->tcp.truncated;
}
