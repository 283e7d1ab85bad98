/*
 * milter-load - a load driver that talks to a milter the way an MTA does (milter protocol 6).
 *
 * N sessions run concurrently, one thread each.  A session runs transactions one after the other;
 * a transaction is one milter connection, as Postfix opens one per SMTP session: OPTNEG (offering
 * every action and step Postfix 3.7 offers), then CONNECT, HELO, MAIL, RCPT, and either the full
 * message (DATA, a few headers, EOH, one body chunk, end of message) or, lean, straight to the end
 * of message, each preceded by the macros Postfix sends for it; then QUIT.  What the milter asked
 * for at negotiation is honoured: skipped steps are not sent (their macros still are, as Postfix
 * does), no-reply steps are not waited for.  Macros and their command go out in one write, as
 * Postfix's buffered stream sends them (-S: one write per packet, as Sendmail and miltertest do).
 *
 * A transaction's latency is from connect(2) to the final reply: the reject or tempfail of any
 * stage, or the reply to end of message, after any modification requests (header edits,
 * quarantine) that come before it.  Its outcome is accept, reject, tempfail, discard or error
 * (I/O, timeout, protocol), with the SMTP reply code when the milter sent one.
 *
 * Names: client i is 127.2.(i/256).(i%256), HELO c<i>.clients.bench.test, sender
 * u<n>@d<i>.bench.test (the zone bench/run-milter-bench generates).  Warm cache: i cycles through
 * a small set; cold: every transaction takes the next fresh i from -O on.
 *
 * -H N (hold) instead opens N sessions that stop after HELO, keeps them open, and reports the
 * milter's RSS (-P) idle and with all N open.
 *
 * Output: one JSON object per run on stdout (or appended to -j FILE), a one-line summary on stderr.
 * Exit status: 0 when the run completed (even with error outcomes), 1 when it could not run at
 * all, 2 for usage errors.
 *
 * Only loopback: an inet socket must name a 127.0.0.0/8 or ::1 address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- the milter protocol (libmilter/mfdef.h, mfapi.h), spelled out so this needs no headers -- */

#define MILTER_VERSION 6

enum milter_command {
	CMD_ABORT = 'A',
	CMD_BODY = 'B',
	CMD_CONNECT = 'C',
	CMD_MACRO = 'D',
	CMD_BODYEOB = 'E',
	CMD_HELO = 'H',
	CMD_HEADER = 'L',
	CMD_MAIL = 'M',
	CMD_EOH = 'N',
	CMD_OPTNEG = 'O',
	CMD_QUIT = 'Q',
	CMD_RCPT = 'R',
	CMD_DATA = 'T',
};

enum milter_response {
	RESP_ADDRCPT = '+',
	RESP_DELRCPT = '-',
	RESP_ADDRCPT_PAR = '2',
	RESP_SHUTDOWN = '4',
	RESP_ACCEPT = 'a',
	RESP_REPLBODY = 'b',
	RESP_CONTINUE = 'c',
	RESP_DISCARD = 'd',
	RESP_CHGFROM = 'e',
	RESP_CONN_FAIL = 'f',
	RESP_ADDHEADER = 'h',
	RESP_INSHEADER = 'i',
	RESP_SETSYMLIST = 'l',
	RESP_CHGHEADER = 'm',
	RESP_PROGRESS = 'p',
	RESP_QUARANTINE = 'q',
	RESP_REJECT = 'r',
	RESP_SKIP = 's',
	RESP_TEMPFAIL = 't',
	RESP_REPLYCODE = 'y',
	RESP_OPTNEG = 'O',
};

/* protocol bits: steps the milter does not want, replies it will not send */
#define P_NOCONNECT 0x00000001UL
#define P_NOHELO 0x00000002UL
#define P_NOMAIL 0x00000004UL
#define P_NORCPT 0x00000008UL
#define P_NOBODY 0x00000010UL
#define P_NOHDRS 0x00000020UL
#define P_NOEOH 0x00000040UL
#define P_NR_HDR 0x00000080UL
#define P_NOUNKNOWN 0x00000100UL
#define P_NODATA 0x00000200UL
#define P_SKIP 0x00000400UL
#define P_RCPT_REJ 0x00000800UL
#define P_NR_CONN 0x00001000UL
#define P_NR_HELO 0x00002000UL
#define P_NR_MAIL 0x00004000UL
#define P_NR_RCPT 0x00008000UL
#define P_NR_DATA 0x00010000UL
#define P_NR_UNKN 0x00020000UL
#define P_NR_EOH 0x00040000UL
#define P_NR_BODY 0x00080000UL
#define P_HDR_LEADSPC 0x00100000UL

/* What Postfix 3.7 offers with milter_protocol = 6: every action (ADDHDRS .. SETSYMLIST) and every
 * step bit above.  It does not offer the MDS (message data size) bits. */
#define OFFER_ACTIONS 0x000001FFUL
#define OFFER_PROTOCOL 0x001FFFFFUL

#define PACKET_MAX (1024 * 1024)

/* ---- settings ---------------------------------------------------------------------------------- */

enum cache_mode { CACHE_WARM, CACHE_COLD };

struct settings {
	const char *socket_spec;
	const char *label;
	const char *json_path;
	int concurrency;
	long per_session;	/* transactions per session (0: not this mode) */
	long total;		/* transactions in all (0: not this mode) */
	long duration_ms;	/* run for this long (0: not this mode) */
	long warmup_per_session;
	bool lean;
	bool split_writes;
	bool quickack;
	bool nodelay;
	enum cache_mode cache;
	long warm_set;
	long names;
	long name_offset;
	long timeout_ms;
	long limit_ms;		/* count transactions slower than this (T4) */
	pid_t milter_pid;
	long hold;
	const char *extra_json;	/* "key":value,... copied into the output object */
};

static struct settings cfg = {
	.label = "run",
	.concurrency = 1,
	.cache = CACHE_WARM,
	.warm_set = 64,
	.names = 65536,
	.timeout_ms = 10000,
};

/* the milter's address, resolved once */
static struct sockaddr_storage peer;
static socklen_t peer_len;
static bool peer_is_tcp;

/* ---- small helpers ----------------------------------------------------------------------------- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("milter-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static long parse_long(const char *text, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		fprintf(stderr, "milter-load: %s must be a number from %ld to %ld, not '%s'\n", what, min, max, text);
		exit(2);
	}
	return v;
}

/* ---- the milter's process: CPU and memory from /proc ------------------------------------------ */

struct proc_sample {
	bool ok;
	uint64_t cpu_ticks;	/* utime + stime of the whole process */
	long rss_kb;
	long hwm_kb;
	long threads;
};

static struct proc_sample proc_sample(pid_t pid)
{
	struct proc_sample s = {0};
	char path[64], buf[4096], *p;
	FILE *f;
	unsigned long utime, stime;

	if (pid <= 0)
		return s;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "r")))
		return s;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return s;
	}
	fclose(f);
	/* the command name may hold spaces and parentheses: fields count from the last ')' */
	if (!(p = strrchr(buf, ')')))
		return s;
	/* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return s;
	s.cpu_ticks = (uint64_t)utime + stime;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r"))) {
		while (fgets(buf, sizeof(buf), f)) {
			sscanf(buf, "VmRSS: %ld", &s.rss_kb);
			sscanf(buf, "VmHWM: %ld", &s.hwm_kb);
			sscanf(buf, "Threads: %ld", &s.threads);
		}
		fclose(f);
	}
	s.ok = true;
	return s;
}

/* ---- one connection to the milter -------------------------------------------------------------- */

struct conn {
	int fd;
	unsigned long actions;	/* what the milter asked for at negotiation */
	unsigned long protocol;
	char out[8192];
	size_t out_len;
	char in[16384];
	size_t in_start, in_end;
	char *packet;		/* the last packet read (its data, without the command byte) */
	size_t packet_cap;
	uint32_t packet_len;
	char error[160];
};

static int conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->error[0]) {
		va_start(ap, fmt);
		vsnprintf(c->error, sizeof(c->error), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int conn_open(struct conn *c)
{
	struct timeval tv = {.tv_sec = cfg.timeout_ms / 1000, .tv_usec = (cfg.timeout_ms % 1000) * 1000};
	int one = 1;

	c->error[0] = '\0';
	c->out_len = 0;
	c->in_start = c->in_end = 0;
	c->fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return conn_fail(c, "socket: %s", strerror(errno));
	/* SO_SNDTIMEO bounds connect(2) too; SO_RCVTIMEO bounds every read */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (peer_is_tcp && cfg.nodelay)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&peer, peer_len) < 0) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		return conn_fail(c, "connect %s: %s", cfg.socket_spec,
				 e == EINPROGRESS || e == EAGAIN ? "timed out" : strerror(e));
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int conn_flush(struct conn *c)
{
	size_t done = 0;

	while (done < c->out_len) {
		ssize_t n = send(c->fd, c->out + done, c->out_len - done, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return conn_fail(c, "write: %s", errno == EAGAIN ? "timed out" : strerror(errno));
		}
		done += (size_t)n;
	}
	c->out_len = 0;
	return 0;
}

/* Queues one packet: command and the data pieces (each with its length; a string's NUL counted
 * by the caller).  Written at the next flush, or at once with -S. */
static int conn_put(struct conn *c, char command, const struct iovec *parts, size_t nparts)
{
	size_t len = 1;
	uint32_t net;

	for (size_t i = 0; i < nparts; i++)
		len += parts[i].iov_len;
	if (len + 4 > sizeof(c->out))
		return conn_fail(c, "internal: packet of %zu bytes too big for the output buffer", len);
	if (c->out_len + len + 4 > sizeof(c->out) && conn_flush(c) < 0)
		return -1;
	net = htonl((uint32_t)len);
	memcpy(c->out + c->out_len, &net, 4);
	c->out[c->out_len + 4] = command;
	c->out_len += 5;
	for (size_t i = 0; i < nparts; i++) {
		memcpy(c->out + c->out_len, parts[i].iov_base, parts[i].iov_len);
		c->out_len += parts[i].iov_len;
	}
	if (cfg.split_writes)
		return conn_flush(c);
	return 0;
}

static int conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->in_start == c->in_end)
		c->in_start = c->in_end = 0;
	else if (c->in_start > 0 && c->in_end == sizeof(c->in)) {
		memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
		c->in_end -= c->in_start;
		c->in_start = 0;
	}
	for (;;) {
		n = recv(c->fd, c->in + c->in_end, sizeof(c->in) - c->in_end, 0);
		if (n > 0)
			break;
		if (n == 0)
			return conn_fail(c, "the milter closed the connection");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return conn_fail(c, "no reply within %ld ms", cfg.timeout_ms);
		return conn_fail(c, "read: %s", strerror(errno));
	}
	c->in_end += (size_t)n;
	if (cfg.quickack && peer_is_tcp) {
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
	return 0;
}

static int conn_read_bytes(struct conn *c, void *dst, size_t len)
{
	char *d = dst;

	while (len > 0) {
		size_t have;
		if (c->in_start == c->in_end && conn_fill(c) < 0)
			return -1;
		have = c->in_end - c->in_start;
		if (have > len)
			have = len;
		memcpy(d, c->in + c->in_start, have);
		c->in_start += have;
		d += have;
		len -= have;
	}
	return 0;
}

/* Reads one packet: returns its command byte (>= 0) with the data in c->packet, or -1. */
static int conn_get(struct conn *c)
{
	uint32_t net, len;
	char cmd;

	if (conn_flush(c) < 0 || conn_read_bytes(c, &net, 4) < 0)
		return -1;
	len = ntohl(net);
	if (len < 1 || len > PACKET_MAX)
		return conn_fail(c, "protocol: packet length %" PRIu32, len);
	if (conn_read_bytes(c, &cmd, 1) < 0)
		return -1;
	len--;
	if (len + 1 > c->packet_cap) {
		char *p = realloc(c->packet, len + 1);
		if (!p)
			return conn_fail(c, "out of memory");
		c->packet = p;
		c->packet_cap = len + 1;
	}
	if (len && conn_read_bytes(c, c->packet, len) < 0)
		return -1;
	c->packet[len] = '\0';
	c->packet_len = len;
	return (unsigned char)cmd;
}

#define STR(s) ((struct iovec){.iov_base = (void *)(s), .iov_len = strlen(s) + 1})

/* Queues the macros of a stage: pairs name, value, ending with NULL. */
static int conn_macros(struct conn *c, char stage, const char *const *pairs)
{
	struct iovec parts[32];
	size_t n = 0;

	parts[n++] = (struct iovec){.iov_base = &stage, .iov_len = 1};
	for (; pairs && pairs[0] && n + 2 <= 32; pairs += 2) {
		parts[n++] = STR(pairs[0]);
		parts[n++] = STR(pairs[1]);
	}
	return conn_put(c, CMD_MACRO, parts, n);
}

/* ---- a transaction's result -------------------------------------------------------------------- */

enum outcome { OUT_ACCEPT, OUT_REJECT, OUT_TEMPFAIL, OUT_DISCARD, OUT_ERROR, OUT_COUNT };
static const char *const outcome_names[OUT_COUNT] = {"accept", "reject", "tempfail", "discard", "error"};

enum stage { ST_OPTNEG, ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_HEADER, ST_EOH, ST_BODY, ST_EOM, ST_COUNT };
static const char *const stage_names[ST_COUNT] = {"optneg", "connect", "helo", "mail", "rcpt",
						  "data",   "header",  "eoh",  "body", "eom"};

enum modification { MOD_ADDHEADER, MOD_INSHEADER, MOD_CHGHEADER, MOD_QUARANTINE, MOD_OTHER, MOD_COUNT };
static const char *const modification_names[MOD_COUNT] = {"addheader", "insheader", "chgheader", "quarantine",
							   "other"};

struct result {
	enum outcome outcome;
	enum stage stage;
	char code[16];		/* "451 4.4.3", or "" */
	unsigned mods[MOD_COUNT];
};

/* Reads replies to one stage until a decision: CONTINUE, or a final one.  Modification requests
 * and progress reports come before it.  Returns 1 to go on, 0 when the transaction is decided
 * (r filled in), -1 on error. */
static int await_reply(struct conn *c, enum stage stage, struct result *r)
{
	for (;;) {
		int cmd = conn_get(c);
		if (cmd < 0)
			return -1;
		switch (cmd) {
		case RESP_CONTINUE:
			return 1;
		case RESP_PROGRESS:
			continue;
		case RESP_ACCEPT:
			r->outcome = OUT_ACCEPT;
			r->stage = stage;
			return 0;
		case RESP_DISCARD:
			r->outcome = OUT_DISCARD;
			r->stage = stage;
			return 0;
		case RESP_REJECT:
			r->outcome = OUT_REJECT;
			r->stage = stage;
			snprintf(r->code, sizeof(r->code), "550");
			return 0;
		case RESP_TEMPFAIL:
			r->outcome = OUT_TEMPFAIL;
			r->stage = stage;
			snprintf(r->code, sizeof(r->code), "451");
			return 0;
		case RESP_SHUTDOWN:
		case RESP_CONN_FAIL:
			r->outcome = OUT_TEMPFAIL;
			r->stage = stage;
			snprintf(r->code, sizeof(r->code), "421");
			return 0;
		case RESP_REPLYCODE: {
			/* "ddd d.d.d text": keep the code and the enhanced code */
			const char *p = c->packet;
			size_t n = 0;
			if (c->packet_len < 3 || (p[0] != '4' && p[0] != '5'))
				return conn_fail(c, "protocol: malformed reply code '%.40s'", p);
			while (n < sizeof(r->code) - 1 && p[n] && (n < 4 || p[n] != ' '))
				n++;
			memcpy(r->code, p, n);
			r->code[n] = '\0';
			if (n > 3 && (r->code[3] == '-' || r->code[3] == ' '))
				r->code[3] = ' ';
			r->outcome = p[0] == '4' ? OUT_TEMPFAIL : OUT_REJECT;
			r->stage = stage;
			return 0;
		}
		case RESP_ADDHEADER:
		case RESP_INSHEADER:
		case RESP_CHGHEADER:
		case RESP_QUARANTINE:
		case RESP_ADDRCPT:
		case RESP_DELRCPT:
		case RESP_ADDRCPT_PAR:
		case RESP_CHGFROM:
		case RESP_REPLBODY:
			if (stage != ST_EOM)
				return conn_fail(c, "protocol: modification '%c' at %s (allowed only at end of message)",
						 cmd, stage_names[stage]);
			r->mods[cmd == RESP_ADDHEADER	 ? MOD_ADDHEADER
				: cmd == RESP_INSHEADER	 ? MOD_INSHEADER
				: cmd == RESP_CHGHEADER	 ? MOD_CHGHEADER
				: cmd == RESP_QUARANTINE ? MOD_QUARANTINE
							 : MOD_OTHER]++;
			continue;
		case RESP_SKIP:
			if (stage == ST_BODY)
				return 1;
			return conn_fail(c, "protocol: SKIP at %s", stage_names[stage]);
		default:
			return conn_fail(c, "protocol: unexpected reply '%c' (0x%02x) at %s", cmd > 31 && cmd < 127 ? cmd : '?',
					 cmd, stage_names[stage]);
		}
	}
}

/* ---- the names of transaction i ---------------------------------------------------------------- */

struct names {
	char client_ip[32];
	char helo[64];
	char sender[96];
	char rcpt[64];
	char queue_id[16];
};

static void names_of(long i, long serial, struct names *n)
{
	snprintf(n->client_ip, sizeof(n->client_ip), "127.2.%ld.%ld", (i / 256) % 256, i % 256);
	snprintf(n->helo, sizeof(n->helo), "c%ld.clients.bench.test", i);
	snprintf(n->sender, sizeof(n->sender), "<u%ld@d%ld.bench.test>", serial % 1000, i);
	snprintf(n->rcpt, sizeof(n->rcpt), "<rcpt%ld@dest.bench.test>", serial % 100);
	snprintf(n->queue_id, sizeof(n->queue_id), "4B%09lX", serial & 0xfffffffffL);
}

static atomic_long name_counter;
static atomic_long names_reused;

static long next_name(void)
{
	long k = atomic_fetch_add(&name_counter, 1);

	if (cfg.cache == CACHE_WARM)
		return k % cfg.warm_set;
	/* cold: fresh names beyond the warm set, from the offset on */
	k += cfg.name_offset;
	if (cfg.warm_set + k >= cfg.names) {
		atomic_fetch_add(&names_reused, 1);
		k %= cfg.names - cfg.warm_set;
	}
	return cfg.warm_set + k;
}

/* ---- one transaction --------------------------------------------------------------------------- */

static const char *const daemon_name = "mx.bench.test";

/* Negotiation, CONNECT and HELO: the start of every session.  1 to go on, 0 decided, -1 error. */
static int session_start(struct conn *c, const struct names *n, struct result *r)
{
	uint32_t offer[3] = {htonl(MILTER_VERSION), htonl(OFFER_ACTIONS), htonl(OFFER_PROTOCOL)};
	struct iovec opt = {.iov_base = offer, .iov_len = sizeof(offer)};
	uint32_t got[3];
	int cmd, st;

	r->stage = ST_OPTNEG;
	if (conn_put(c, CMD_OPTNEG, &opt, 1) < 0 || (cmd = conn_get(c)) < 0)
		return -1;
	if (cmd != RESP_OPTNEG || c->packet_len < 12)
		return conn_fail(c, "protocol: negotiation answered with '%c' and %" PRIu32 " bytes", cmd > 31 ? cmd : '?',
				 c->packet_len);
	memcpy(got, c->packet, sizeof(got));
	if (ntohl(got[0]) < 2 || ntohl(got[0]) > MILTER_VERSION)
		return conn_fail(c, "protocol: the milter speaks version %" PRIu32, ntohl(got[0]));
	c->actions = ntohl(got[1]);
	c->protocol = ntohl(got[2]);
	if ((c->actions & ~OFFER_ACTIONS) || (c->protocol & ~OFFER_PROTOCOL))
		return conn_fail(c, "protocol: the milter asked for actions 0x%lx / steps 0x%lx beyond the offer",
				 c->actions, c->protocol);

	/* CONNECT: Postfix's milter_connect_macros, those it has values for */
	{
		const char *macros[] = {"j", daemon_name, "{daemon_name}", daemon_name, "{daemon_addr}", "127.0.0.1",
					"v", "Postfix 3.7.11", "_", "unknown [", "{client_addr}", n->client_ip,
					"{client_name}", "unknown", "{client_ptr}", "unknown", NULL};
		char underscore[64];
		uint16_t port = htons(41000);
		char family = '4';
		struct iovec parts[4] = {STR("unknown"), {.iov_base = &family, .iov_len = 1},
					 {.iov_base = &port, .iov_len = 2}, STR(n->client_ip)};
		snprintf(underscore, sizeof(underscore), "unknown [%s]", n->client_ip);
		macros[9] = underscore;
		r->stage = ST_CONNECT;
		if (conn_macros(c, CMD_CONNECT, macros) < 0)
			return -1;
		if (!(c->protocol & P_NOCONNECT)) {
			if (conn_put(c, CMD_CONNECT, parts, 4) < 0)
				return -1;
			if (!(c->protocol & P_NR_CONN) && (st = await_reply(c, ST_CONNECT, r)) <= 0)
				return st;
		}
	}
	/* HELO: Postfix's helo macros are all TLS ones; a plain session sends an empty list */
	{
		struct iovec part = STR(n->helo);
		r->stage = ST_HELO;
		if (conn_macros(c, CMD_HELO, NULL) < 0)
			return -1;
		if (!(c->protocol & P_NOHELO)) {
			if (conn_put(c, CMD_HELO, &part, 1) < 0)
				return -1;
			if (!(c->protocol & P_NR_HELO) && (st = await_reply(c, ST_HELO, r)) <= 0)
				return st;
		}
	}
	return 1;
}

static const char *const message_headers[][2] = {
	{"Received", "from c.clients.bench.test (unknown [127.2.0.1]) by mx.bench.test (Postfix) with ESMTP id 4B000"},
	{"From", "<u@d.bench.test>"},
	{"To", "<rcpt@dest.bench.test>"},
	{"Subject", "milter-load test message"},
	{"Date", "Mon, 1 Jan 2024 00:00:00 +0000"},
	{"Message-ID", "<load.1@d.bench.test>"},
};

static const char message_body[] = "This is a test message from milter-load.\r\n"
				   "It has a few lines of text, as a short real message would.\r\n"
				   "--\r\nbench\r\n";

/* MAIL, RCPT, the message, end of message.  1 accepted at EOM, 0 decided earlier, -1 error. */
static int message_run(struct conn *c, const struct names *n, struct result *r)
{
	int st;

	{
		const char *macros[] = {"{mail_addr}", n->sender + 1, "{mail_host}", "d.bench.test", "{mail_mailer}",
					"smtp", NULL};
		struct iovec part = STR(n->sender);
		r->stage = ST_MAIL;
		if (conn_macros(c, CMD_MAIL, macros) < 0)
			return -1;
		if (!(c->protocol & P_NOMAIL)) {
			if (conn_put(c, CMD_MAIL, &part, 1) < 0)
				return -1;
			if (!(c->protocol & P_NR_MAIL) && (st = await_reply(c, ST_MAIL, r)) <= 0)
				return st;
		}
	}
	{
		const char *macros[] = {"i", n->queue_id, "{rcpt_addr}", n->rcpt + 1, "{rcpt_host}", "dest.bench.test",
					"{rcpt_mailer}", "smtp", NULL};
		struct iovec part = STR(n->rcpt);
		r->stage = ST_RCPT;
		if (conn_macros(c, CMD_RCPT, macros) < 0)
			return -1;
		if (!(c->protocol & P_NORCPT)) {
			if (conn_put(c, CMD_RCPT, &part, 1) < 0)
				return -1;
			if (!(c->protocol & P_NR_RCPT) && (st = await_reply(c, ST_RCPT, r)) <= 0)
				return st;
		}
	}
	const char *queue_macro[] = {"i", n->queue_id, NULL};
	if (!cfg.lean) {
		r->stage = ST_DATA;
		if (conn_macros(c, CMD_DATA, queue_macro) < 0)
			return -1;
		if (!(c->protocol & P_NODATA)) {
			if (conn_put(c, CMD_DATA, NULL, 0) < 0)
				return -1;
			if (!(c->protocol & P_NR_DATA) && (st = await_reply(c, ST_DATA, r)) <= 0)
				return st;
		}
		r->stage = ST_HEADER;
		if (!(c->protocol & P_NOHDRS)) {
			for (size_t h = 0; h < sizeof(message_headers) / sizeof(message_headers[0]); h++) {
				struct iovec parts[2] = {STR(message_headers[h][0]), STR(message_headers[h][1])};
				if (conn_macros(c, CMD_HEADER, queue_macro) < 0 || conn_put(c, CMD_HEADER, parts, 2) < 0)
					return -1;
				if (!(c->protocol & P_NR_HDR) && (st = await_reply(c, ST_HEADER, r)) <= 0)
					return st;
			}
		}
		r->stage = ST_EOH;
		if (conn_macros(c, CMD_EOH, queue_macro) < 0)
			return -1;
		if (!(c->protocol & P_NOEOH)) {
			if (conn_put(c, CMD_EOH, NULL, 0) < 0)
				return -1;
			if (!(c->protocol & P_NR_EOH) && (st = await_reply(c, ST_EOH, r)) <= 0)
				return st;
		}
		r->stage = ST_BODY;
		if (!(c->protocol & P_NOBODY)) {
			struct iovec part = {.iov_base = (void *)message_body, .iov_len = sizeof(message_body) - 1};
			if (conn_put(c, CMD_BODY, &part, 1) < 0)
				return -1;
			if (!(c->protocol & P_NR_BODY) && (st = await_reply(c, ST_BODY, r)) <= 0)
				return st;
		}
	}
	r->stage = ST_EOM;
	if (conn_macros(c, CMD_BODYEOB, queue_macro) < 0 || conn_put(c, CMD_BODYEOB, NULL, 0) < 0)
		return -1;
	if ((st = await_reply(c, ST_EOM, r)) <= 0)
		return st;
	r->outcome = OUT_ACCEPT;
	return 1;
}

/* One whole transaction on a new connection; returns the latency in µs, r filled in. */
static uint64_t transaction_run(struct conn *c, long name, long serial, struct result *r)
{
	struct names n;
	uint64_t t0, t1;
	int st;

	memset(r, 0, sizeof(*r));
	names_of(name, serial, &n);
	t0 = now_us();
	if (conn_open(c) < 0) {
		r->outcome = OUT_ERROR;
		return now_us() - t0;
	}
	st = session_start(c, &n, r);
	if (st > 0)
		st = message_run(c, &n, r);
	t1 = now_us();
	if (st < 0) {
		r->outcome = OUT_ERROR;
	} else {
		/* an MTA aborts a message that did not reach the end, then quits */
		if (st == 0 && r->stage >= ST_MAIL && r->stage < ST_EOM)
			conn_put(c, CMD_ABORT, NULL, 0);
		conn_put(c, CMD_QUIT, NULL, 0);
		conn_flush(c);
	}
	conn_close(c);
	return t1 - t0;
}

/* ---- sessions (threads) and their statistics ------------------------------------------------- */

#define CODES_MAX 16

struct code_count {
	char code[16];
	long count;
};

struct stats {
	uint32_t *latency_us;
	size_t count, cap;
	long outcomes[OUT_COUNT];
	long decided_at[ST_COUNT];
	long mods[MOD_COUNT];
	struct code_count codes[CODES_MAX];
	long codes_other;
	long over_limit;
	char first_error[200];
	long errors_in_a_row;
};

static void stats_add(struct stats *s, uint64_t latency, const struct result *r, const char *error)
{
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint32_t *p = realloc(s->latency_us, cap * sizeof(*p));
		if (!p)
			fail("out of memory");
		s->latency_us = p;
		s->cap = cap;
	}
	s->latency_us[s->count++] = latency > UINT32_MAX ? UINT32_MAX : (uint32_t)latency;
	s->outcomes[r->outcome]++;
	if (cfg.limit_ms && latency > (uint64_t)cfg.limit_ms * 1000u)
		s->over_limit++;
	if (r->outcome == OUT_ERROR) {
		if (!s->first_error[0])
			snprintf(s->first_error, sizeof(s->first_error), "%s: %s", stage_names[r->stage], error);
		s->errors_in_a_row++;
		return;
	}
	s->errors_in_a_row = 0;
	s->decided_at[r->stage]++;
	for (int m = 0; m < MOD_COUNT; m++)
		s->mods[m] += r->mods[m];
	if (r->code[0]) {
		int i;
		for (i = 0; i < CODES_MAX && s->codes[i].code[0]; i++)
			if (strcmp(s->codes[i].code, r->code) == 0)
				break;
		if (i == CODES_MAX) {
			s->codes_other++;
		} else {
			if (!s->codes[i].code[0])
				snprintf(s->codes[i].code, sizeof(s->codes[i].code), "%s", r->code);
			s->codes[i].count++;
		}
	}
}

static void stats_merge(struct stats *into, const struct stats *from)
{
	if (into->count + from->count > into->cap) {
		size_t cap = into->count + from->count;
		uint32_t *p = realloc(into->latency_us, (cap ? cap : 1) * sizeof(*p));
		if (!p)
			fail("out of memory");
		into->latency_us = p;
		into->cap = cap;
	}
	if (from->count)
		memcpy(into->latency_us + into->count, from->latency_us, from->count * sizeof(uint32_t));
	into->count += from->count;
	for (int i = 0; i < OUT_COUNT; i++)
		into->outcomes[i] += from->outcomes[i];
	for (int i = 0; i < ST_COUNT; i++)
		into->decided_at[i] += from->decided_at[i];
	for (int i = 0; i < MOD_COUNT; i++)
		into->mods[i] += from->mods[i];
	for (int i = 0; i < CODES_MAX && from->codes[i].code[0]; i++) {
		int j;
		for (j = 0; j < CODES_MAX && into->codes[j].code[0]; j++)
			if (strcmp(into->codes[j].code, from->codes[i].code) == 0)
				break;
		if (j == CODES_MAX) {
			into->codes_other += from->codes[i].count;
			continue;
		}
		into->codes[j] = (struct code_count){.count = into->codes[j].count + from->codes[i].count};
		snprintf(into->codes[j].code, sizeof(into->codes[j].code), "%s", from->codes[i].code);
	}
	into->codes_other += from->codes_other;
	into->over_limit += from->over_limit;
	if (!into->first_error[0] && from->first_error[0])
		snprintf(into->first_error, sizeof(into->first_error), "%s", from->first_error);
}

struct session_thread {
	pthread_t thread;
	int index;
	struct stats stats;
	uint64_t last_done_us;
};

static pthread_barrier_t start_barrier;
static atomic_bool stop_now;
static atomic_long total_claimed;
static atomic_long serial_counter;

/* May this session start another measured transaction? */
static bool another(long done_here)
{
	if (atomic_load(&stop_now))
		return false;
	if (cfg.per_session)
		return done_here < cfg.per_session;
	if (cfg.total)
		return atomic_fetch_add(&total_claimed, 1) < cfg.total;
	return true;		/* duration: until stop_now */
}

static void *session_main(void *arg)
{
	struct session_thread *t = arg;
	struct conn c = {.fd = -1};
	struct result r;
	long done = 0;

	for (long w = 0; w < cfg.warmup_per_session; w++)
		transaction_run(&c, next_name(), atomic_fetch_add(&serial_counter, 1), &r);
	pthread_barrier_wait(&start_barrier);
	while (another(done)) {
		uint64_t lat = transaction_run(&c, next_name(), atomic_fetch_add(&serial_counter, 1), &r);
		stats_add(&t->stats, lat, &r, c.error);
		done++;
		if (r.outcome == OUT_ERROR) {
			if (t->stats.errors_in_a_row >= 50) {
				fprintf(stderr, "milter-load: session %d: 50 errors in a row, last: %s\n", t->index,
					c.error);
				break;
			}
			usleep(1000);
		}
	}
	t->last_done_us = now_us();
	free(c.packet);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static uint32_t percentile(const uint32_t *sorted, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static FILE *output_open(void)
{
	FILE *f = stdout;

	if (cfg.json_path && !(f = fopen(cfg.json_path, "a")))
		fail("cannot append to %s: %s", cfg.json_path, strerror(errno));
	return f;
}

static void output_close(FILE *f)
{
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

static const char *socket_kind(void)
{
	return peer_is_tcp ? "inet" : "unix";
}

static void run_load(void)
{
	struct session_thread *threads = calloc((size_t)cfg.concurrency, sizeof(*threads));
	struct stats all = {0};
	struct proc_sample before, after;
	struct rusage ru0, ru1;
	uint64_t t0, t_end = 0;
	double elapsed, driver_cpu_us;
	long completed;
	FILE *out;

	if (!threads)
		fail("out of memory");
	if (pthread_barrier_init(&start_barrier, NULL, (unsigned)cfg.concurrency + 1) != 0)
		fail("pthread_barrier_init failed");
	for (int i = 0; i < cfg.concurrency; i++) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		threads[i].index = i;
		if (pthread_create(&threads[i].thread, &attr, session_main, &threads[i]) != 0)
			fail("cannot start session thread %d: %s", i, strerror(errno));
		pthread_attr_destroy(&attr);
	}
	pthread_barrier_wait(&start_barrier);
	before = proc_sample(cfg.milter_pid);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_us();
	if (cfg.duration_ms) {
		struct timespec ts = {.tv_sec = cfg.duration_ms / 1000, .tv_nsec = (cfg.duration_ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		atomic_store(&stop_now, true);
	}
	for (int i = 0; i < cfg.concurrency; i++) {
		pthread_join(threads[i].thread, NULL);
		if (threads[i].last_done_us > t_end)
			t_end = threads[i].last_done_us;
	}
	after = proc_sample(cfg.milter_pid);
	getrusage(RUSAGE_SELF, &ru1);
	for (int i = 0; i < cfg.concurrency; i++) {
		stats_merge(&all, &threads[i].stats);
		free(threads[i].stats.latency_us);
	}
	free(threads);
	elapsed = (double)(t_end > t0 ? t_end - t0 : 1) / 1e6;
	completed = (long)all.count - all.outcomes[OUT_ERROR];
	driver_cpu_us = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e6 +
			(double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
	if (all.count)
		qsort(all.latency_us, all.count, sizeof(uint32_t), cmp_u32);

	double mean = 0;
	for (size_t i = 0; i < all.count; i++)
		mean += all.latency_us[i];
	mean = all.count ? mean / (double)all.count : 0;

	out = output_open();
	fprintf(out, "{\"label\":");
	json_string(out, cfg.label);
	fprintf(out, ",\"socket\":\"%s\",\"protocol\":\"%s\",\"cache\":\"%s\",\"concurrency\":%d,\"split_writes\":%s,"
		     "\"client_quickack\":%s,",
		socket_kind(), cfg.lean ? "lean" : "full", cfg.cache == CACHE_WARM ? "warm" : "cold", cfg.concurrency,
		cfg.split_writes ? "true" : "false", cfg.quickack ? "true" : "false");
	if (cfg.extra_json && *cfg.extra_json)
		fprintf(out, "%s,", cfg.extra_json);
	fprintf(out,
		"\"transactions\":%zu,\"completed\":%ld,\"elapsed_s\":%.3f,\"throughput\":%.1f,"
		"\"latency_us\":{\"mean\":%.0f,\"p50\":%" PRIu32 ",\"p90\":%" PRIu32 ",\"p99\":%" PRIu32
		",\"p999\":%" PRIu32 ",\"max\":%" PRIu32 "},",
		all.count, completed, elapsed, (double)completed / elapsed, mean, percentile(all.latency_us, all.count, 0.50),
		percentile(all.latency_us, all.count, 0.90), percentile(all.latency_us, all.count, 0.99),
		percentile(all.latency_us, all.count, 0.999), all.count ? all.latency_us[all.count - 1] : 0);
	fprintf(out, "\"outcomes\":{");
	for (int i = 0; i < OUT_COUNT; i++)
		fprintf(out, "%s\"%s\":%ld", i ? "," : "", outcome_names[i], all.outcomes[i]);
	fprintf(out, "},\"decided_at\":{");
	for (int i = 0, first = 1; i < ST_COUNT; i++)
		if (all.decided_at[i]) {
			fprintf(out, "%s\"%s\":%ld", first ? "" : ",", stage_names[i], all.decided_at[i]);
			first = 0;
		}
	fprintf(out, "},\"reply_codes\":{");
	for (int i = 0; i < CODES_MAX && all.codes[i].code[0]; i++) {
		fprintf(out, "%s", i ? "," : "");
		json_string(out, all.codes[i].code);
		fprintf(out, ":%ld", all.codes[i].count);
	}
	if (all.codes_other)
		fprintf(out, "%s\"other\":%ld", all.codes[0].code[0] ? "," : "", all.codes_other);
	fprintf(out, "},\"modifications\":{");
	for (int i = 0; i < MOD_COUNT; i++)
		fprintf(out, "%s\"%s\":%ld", i ? "," : "", modification_names[i], all.mods[i]);
	fprintf(out, "}");
	if (cfg.limit_ms)
		fprintf(out, ",\"limit_ms\":%ld,\"over_limit\":%ld", cfg.limit_ms, all.over_limit);
	fprintf(out, ",\"names_reused\":%ld", atomic_load(&names_reused));
	fprintf(out, ",\"driver_cpu_us_per_txn\":%.1f", all.count ? driver_cpu_us / (double)all.count : 0);
	if (before.ok && after.ok) {
		double tick_us = 1e6 / (double)sysconf(_SC_CLK_TCK);
		fprintf(out, ",\"milter_cpu_us_per_txn\":%.1f,\"milter_cpu_s\":%.2f,\"milter_rss_kb\":%ld,\"milter_hwm_kb\":%ld,"
			     "\"milter_threads\":%ld",
			all.count ? (double)(after.cpu_ticks - before.cpu_ticks) * tick_us / (double)all.count : 0,
			(double)(after.cpu_ticks - before.cpu_ticks) * tick_us / 1e6, after.rss_kb, after.hwm_kb,
			after.threads);
	}
	if (all.first_error[0]) {
		fprintf(out, ",\"first_error\":");
		json_string(out, all.first_error);
	}
	fprintf(out, "}\n");
	output_close(out);

	fprintf(stderr,
		"milter-load: %s %s %s %s c=%d: %zu transactions in %.2f s, %.0f/s, p50 %" PRIu32 " us, p99 %" PRIu32
		" us; accept %ld reject %ld tempfail %ld error %ld%s%s\n",
		cfg.label, socket_kind(), cfg.lean ? "lean" : "full", cfg.cache == CACHE_WARM ? "warm" : "cold",
		cfg.concurrency, all.count, elapsed, (double)completed / elapsed, percentile(all.latency_us, all.count, 0.5),
		percentile(all.latency_us, all.count, 0.99), all.outcomes[OUT_ACCEPT], all.outcomes[OUT_REJECT],
		all.outcomes[OUT_TEMPFAIL], all.outcomes[OUT_ERROR], all.first_error[0] ? "; first error: " : "",
		all.first_error);
	free(all.latency_us);
}

/* ---- hold mode: many open sessions, the milter's memory -------------------------------------- */

static void run_hold(void)
{
	struct conn *conns = calloc((size_t)cfg.hold, sizeof(*conns));
	struct proc_sample idle, held, settled;
	long opened = 0, failed = 0;
	char first_error[200] = "";
	struct rlimit rl;
	uint64_t t0;
	double open_s;
	FILE *out;

	if (!conns)
		fail("out of memory");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)cfg.hold + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)cfg.hold + 64 ? rl.rlim_max : (rlim_t)cfg.hold + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	idle = proc_sample(cfg.milter_pid);
	t0 = now_us();
	for (long i = 0; i < cfg.hold; i++) {
		struct names n;
		struct result r = {0};
		int st;

		conns[i].fd = -1;
		names_of(next_name(), atomic_fetch_add(&serial_counter, 1), &n);
		if (conn_open(&conns[i]) < 0 || (st = session_start(&conns[i], &n, &r)) < 0) {
			if (!first_error[0])
				snprintf(first_error, sizeof(first_error), "session %ld: %s", i, conns[i].error);
			conn_close(&conns[i]);
			failed++;
			continue;
		}
		if (conn_flush(&conns[i]) < 0) {
			conn_close(&conns[i]);
			failed++;
			continue;
		}
		opened++;
	}
	open_s = (double)(now_us() - t0) / 1e6;
	held = proc_sample(cfg.milter_pid);
	{
		/* let the milter finish what the last HELOs started (the checks run in the background) */
		long ms = cfg.duration_ms ? cfg.duration_ms : 1000;
		struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	settled = proc_sample(cfg.milter_pid);
	for (long i = 0; i < cfg.hold; i++) {
		if (conns[i].fd < 0)
			continue;
		conn_put(&conns[i], CMD_QUIT, NULL, 0);
		conn_flush(&conns[i]);
		conn_close(&conns[i]);
		free(conns[i].packet);
	}
	free(conns);

	out = output_open();
	fprintf(out, "{\"label\":");
	json_string(out, cfg.label);
	fprintf(out, ",\"mode\":\"hold\",\"socket\":\"%s\",\"cache\":\"%s\",", socket_kind(),
		cfg.cache == CACHE_WARM ? "warm" : "cold");
	if (cfg.extra_json && *cfg.extra_json)
		fprintf(out, "%s,", cfg.extra_json);
	fprintf(out, "\"sessions\":%ld,\"opened\":%ld,\"failed\":%ld,\"open_s\":%.3f", cfg.hold, opened, failed, open_s);
	if (idle.ok && settled.ok) {
		long peak = held.rss_kb > settled.rss_kb ? held.rss_kb : settled.rss_kb;
		fprintf(out,
			",\"rss_idle_kb\":%ld,\"rss_held_kb\":%ld,\"rss_settled_kb\":%ld,\"hwm_kb\":%ld,"
			"\"threads_idle\":%ld,\"threads_held\":%ld,\"mb_per_1000_sessions\":%.2f",
			idle.rss_kb, held.rss_kb, settled.rss_kb, settled.hwm_kb, idle.threads, settled.threads,
			opened ? (double)(peak - idle.rss_kb) / 1024.0 * 1000.0 / (double)opened : 0);
	}
	if (first_error[0]) {
		fprintf(out, ",\"first_error\":");
		json_string(out, first_error);
	}
	fprintf(out, "}\n");
	output_close(out);
	fprintf(stderr, "milter-load: %s hold: %ld of %ld sessions open; RSS %ld kB idle, %ld kB held, %ld kB settled%s%s\n",
		cfg.label, opened, cfg.hold, idle.rss_kb, held.rss_kb, settled.rss_kb, first_error[0] ? "; " : "",
		first_error);
}

/* ---- command line ------------------------------------------------------------------------------ */

/* "unix:/path", "local:/path", "inet:port@host", "inet6:port@host"; host must be loopback. */
static void parse_socket(const char *spec)
{
	memset(&peer, 0, sizeof(peer));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		const char *path = strchr(spec, ':') + 1;
		struct sockaddr_un *sun = (struct sockaddr_un *)&peer;
		if (!*path || strlen(path) >= sizeof(sun->sun_path))
			fail("bad unix socket path in %s", spec);
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, path, strlen(path) + 1);
		peer_len = sizeof(*sun);
		peer_is_tcp = false;
		return;
	}
	if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) {
		const char *p = strchr(spec, ':') + 1, *at = strchr(p, '@');
		char host[64];
		long port;
		if (!at || (size_t)(strlen(at + 1)) >= sizeof(host))
			fail("bad inet socket %s (inet:PORT@127.0.0.1)", spec);
		snprintf(host, sizeof(host), "%s", at + 1);
		{
			char portbuf[16];
			size_t plen = (size_t)(at - p);
			if (plen == 0 || plen >= sizeof(portbuf))
				fail("bad port in %s", spec);
			memcpy(portbuf, p, plen);
			portbuf[plen] = '\0';
			port = parse_long(portbuf, "the port", 1, 65535);
		}
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		struct sockaddr_in *sin = (struct sockaddr_in *)&peer;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&peer;
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
				fail("%s is not a loopback address: milter-load talks to 127.0.0.0/8 and ::1 only", host);
			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
			peer_len = sizeof(*sin);
		} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
			if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
				fail("%s is not a loopback address: milter-load talks to 127.0.0.0/8 and ::1 only", host);
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)port);
			peer_len = sizeof(*sin6);
		} else {
			fail("%s: give a numeric loopback address (127.0.0.1 or ::1)", host);
		}
		peer_is_tcp = true;
		return;
	}
	fail("unknown socket kind %s (unix:/path or inet:port@127.0.0.1)", spec);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: milter-load -s SOCKET [options]\n"
		"  -s SOCKET   unix:/path or inet:PORT@127.0.0.1 (loopback only)\n"
		"  -c N        concurrent sessions (default 1)\n"
		"  -n N        transactions per session\n"
		"  -N N        transactions in all\n"
		"  -d MS       run for MS milliseconds (default 2000 if neither -n nor -N; with -H: hold time)\n"
		"  -w N        warm-up transactions per session before measuring (default 0)\n"
		"  -p full|lean  full: DATA, headers, EOH, body; lean: straight from RCPT to end of message\n"
		"  -C warm|cold  warm: cycle through -W names; cold: a fresh name per transaction\n"
		"  -W N        size of the warm set (default 64)\n"
		"  -K N        names in the zone (default 65536); -O N: first cold name (default 0)\n"
		"  -t MS       timeout of every read and write (default 10000)\n"
		"  -L MS       count transactions slower than MS (over_limit)\n"
		"  -P PID      the milter's pid: CPU per transaction and RSS from /proc\n"
		"  -H N        hold: open N sessions up to HELO, keep them, report the milter's RSS\n"
		"  -S          one write per packet (Sendmail, miltertest) instead of macros+command together\n"
		"  -q          TCP_QUICKACK on the driver's socket after every read (inet)\n"
		"  -D          TCP_NODELAY on the driver's socket (inet)\n"
		"  -l LABEL    name of the run in the output; -j FILE: append the JSON line there\n"
		"  -x JSON     extra \"key\":value members for the output object\n");
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "s:c:n:N:d:w:p:C:W:K:O:t:L:P:H:Sql:j:x:Dh")) != -1) {
		switch (opt) {
		case 's':
			cfg.socket_spec = optarg;
			break;
		case 'c':
			cfg.concurrency = (int)parse_long(optarg, "-c", 1, 100000);
			break;
		case 'n':
			cfg.per_session = parse_long(optarg, "-n", 1, LONG_MAX / 2);
			break;
		case 'N':
			cfg.total = parse_long(optarg, "-N", 1, LONG_MAX / 2);
			break;
		case 'd':
			cfg.duration_ms = parse_long(optarg, "-d", 1, 86400000);
			break;
		case 'w':
			cfg.warmup_per_session = parse_long(optarg, "-w", 0, 1000000);
			break;
		case 'p':
			if (strcmp(optarg, "full") && strcmp(optarg, "lean")) {
				usage(stderr);
				return 2;
			}
			cfg.lean = strcmp(optarg, "lean") == 0;
			break;
		case 'C':
			if (strcmp(optarg, "warm") && strcmp(optarg, "cold")) {
				usage(stderr);
				return 2;
			}
			cfg.cache = strcmp(optarg, "cold") == 0 ? CACHE_COLD : CACHE_WARM;
			break;
		case 'W':
			cfg.warm_set = parse_long(optarg, "-W", 1, 1000000);
			break;
		case 'K':
			cfg.names = parse_long(optarg, "-K", 2, 65536);
			break;
		case 'O':
			cfg.name_offset = parse_long(optarg, "-O", 0, 1L << 40);
			break;
		case 't':
			cfg.timeout_ms = parse_long(optarg, "-t", 1, 3600000);
			break;
		case 'L':
			cfg.limit_ms = parse_long(optarg, "-L", 1, 3600000);
			break;
		case 'P':
			cfg.milter_pid = (pid_t)parse_long(optarg, "-P", 1, INT_MAX);
			break;
		case 'H':
			cfg.hold = parse_long(optarg, "-H", 1, 1000000);
			break;
		case 'S':
			cfg.split_writes = true;
			break;
		case 'q':
			cfg.quickack = true;
			break;
		case 'D':
			cfg.nodelay = true;
			break;
		case 'l':
			cfg.label = optarg;
			break;
		case 'j':
			cfg.json_path = optarg;
			break;
		case 'x':
			cfg.extra_json = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!cfg.socket_spec || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfg.warm_set >= cfg.names)
		fail("the warm set (-W %ld) must be smaller than the zone (-K %ld)", cfg.warm_set, cfg.names);
	if (!cfg.per_session && !cfg.total && !cfg.duration_ms && !cfg.hold)
		cfg.duration_ms = 2000;
	parse_socket(cfg.socket_spec);
	signal(SIGPIPE, SIG_IGN);
	if (cfg.hold)
		run_hold();
	else
		run_load();
	return 0;
}
