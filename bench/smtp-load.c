/*
 * smtp-load - the end-to-end benchmark's SMTP client: many concurrent sessions, each from its own
 * loopback client address, one message per session.
 *
 * Postfix's smtp-source is the usual load generator, but it connects from whatever address the
 * kernel picks (127.0.0.1 on loopback, which dnsguard's default policy trusts and never checks)
 * and sends every message with one HELO name and one sender.  A DNS check benchmark needs the
 * client address, the HELO name and the sender domain to vary together, so this client binds
 * each session to its own source address and fills in the names from the session's index i:
 *
 *   client address   BASE + i           (-b 127.2.0.0: 127.2.0.0, 127.2.0.1, ... 127.2.x.y)
 *   HELO             -H format, %u = i  (default c%u.clients.bench.test)
 *   MAIL FROM        -f format, %u = i  (default u%u@d%u.bench.test; every %u is i)
 *   RCPT TO          -t format, %u = i  (default sink@sink.bench.test: one recipient)
 *
 * with i running over 0 .. N-1 (-N) round robin across all sessions.  Each session is: connect,
 * banner, EHLO, MAIL, RCPT, DATA, a message of about -m bytes, QUIT; commands are not pipelined,
 * as a plain SMTP client does.  A 4xx or 5xx reply ends the session (RSET is not needed: QUIT).
 *
 * Phases: with -n COUNT it runs exactly COUNT sessions (a warm-up pass: -n N touches every
 * index once) and reports them all.  With -d MS it first runs -w MS unmeasured (processes
 * forking, caches settling), then MS measured: a session counts if it started and ended within
 * the measured window, and no session starts after it.  The report is one JSON object on stdout
 * (and appended to -j FILE), with the session counts by outcome, messages/s, latency
 * percentiles (connect to QUIT reply), the whole machine's CPU time per session (from
 * /proc/stat, over the measured window) and, for each -P PID, that process's CPU per session.
 *
 * Only 127.0.0.0/8 is accepted for the server and the client addresses: this is a benchmark tool
 * and must never talk to anything else.  Exit status: 0 when every session was answered (an SMTP
 * rejection is an answer), 1 when a session failed at the transport level (connection refused,
 * timeout, closed), 2 for usage errors.
 *
 * Not part of dnsguard: it links only libc and pthreads, and nothing in it is installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_PIDS 8
#define REPLY_TIMEOUT_MS 120000
#define LINE_MAX_BYTES 1024

enum session_outcome {
	SESSION_ACCEPTED,	/* 250 after the message */
	SESSION_REJECTED,	/* a 5xx reply ended it */
	SESSION_TEMPFAILED,	/* a 4xx reply ended it */
	SESSION_FAILED,		/* transport: refused, closed, timed out, unreadable reply */
	SESSION_OUTCOMES
};

static const char *session_outcome_name(enum session_outcome o)
{
	switch (o) {
	case SESSION_ACCEPTED:
		return "accepted";
	case SESSION_REJECTED:
		return "rejected";
	case SESSION_TEMPFAILED:
		return "tempfailed";
	case SESSION_FAILED:
		return "failed";
	case SESSION_OUTCOMES:
		break;
	}
	return "?";
}

struct options {
	struct sockaddr_in server;
	uint32_t client_base;	/* host order */
	unsigned names;
	unsigned concurrency;
	unsigned long count;	/* -n: fixed number of sessions, 0 = timed */
	unsigned warm_ms, measure_ms;
	const char *helo_format, *from_format, *rcpt;
	size_t message_bytes;
	const char *label, *json_file;
	pid_t pids[MAX_PIDS];
	unsigned npids;
};

/* What one thread measured; summed by main after the join. */
struct thread_result {
	unsigned long outcomes[SESSION_OUTCOMES];
	double *latency_ms;
	size_t nlatency, latency_cap;
	char first_failure[160];
};

struct shared {
	const struct options *opt;
	char *body;		/* the message text, dot-stuffed, CRLF, ending ".\r\n" */
	atomic_ulong next_index;
	int64_t t_measure_start, t_measure_end;	/* CLOCK_MONOTONIC ns; timed mode */
};

struct thread_arg {
	struct shared *shared;
	struct thread_result result;
	pthread_t thread;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("smtp-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* ---- one SMTP connection ------------------------------------------------------------------ */

struct smtp_conn {
	int fd;
	char buf[4096];
	size_t start, end;	/* unread bytes are buf[start..end) */
};

/* Read one line (without CRLF) into line; false on timeout, EOF or an overlong line. */
static bool conn_read_line(struct smtp_conn *c, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		while (c->start < c->end) {
			char ch = c->buf[c->start++];

			if (ch == '\n') {
				if (n > 0 && line[n - 1] == '\r')
					n--;
				line[n] = '\0';
				return true;
			}
			if (n + 1 >= size)
				return false;
			line[n++] = ch;
		}
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, REPLY_TIMEOUT_MS);

		if (r <= 0)
			return false;
		ssize_t got = read(c->fd, c->buf, sizeof c->buf);

		if (got <= 0)
			return false;
		c->start = 0;
		c->end = (size_t)got;
	}
}

/* Read a whole (possibly multi-line) reply; return its code (e.g. 250), or -1.  The last line's
 * text is left in last. */
static int conn_read_reply(struct smtp_conn *c, char *last, size_t size)
{
	for (;;) {
		if (!conn_read_line(c, last, size))
			return -1;
		if (strlen(last) < 3 || last[0] < '2' || last[0] > '5')
			return -1;
		if (last[3] == '-')
			continue;
		return (last[0] - '0') * 100 + (last[1] - '0') * 10 + (last[2] - '0');
	}
}

static bool conn_write(struct smtp_conn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		data += w;
		len -= (size_t)w;
	}
	return true;
}

static enum session_outcome outcome_of_code(int code)
{
	if (code >= 500)
		return SESSION_REJECTED;
	if (code >= 400)
		return SESSION_TEMPFAILED;
	return SESSION_FAILED;
}

/* Run one session for index i.  why gets a sentence when the outcome is SESSION_FAILED. */
static enum session_outcome session_run(const struct shared *sh, unsigned i, char *why, size_t why_size)
{
	const struct options *opt = sh->opt;
	struct smtp_conn c = {.fd = -1};
	struct sockaddr_in src = {.sin_family = AF_INET};
	char cmd[LINE_MAX_BYTES], name[256], from[256], rcpt[256], reply[LINE_MAX_BYTES], client[INET_ADDRSTRLEN];
	enum session_outcome outcome = SESSION_FAILED;
	const char *stage = "connect";
	int one = 1, code;

	src.sin_addr.s_addr = htonl(opt->client_base + i);
	inet_ntop(AF_INET, &src.sin_addr, client, sizeof client);
	/* every %u in the formats is i: pass it often enough for any of them */
	snprintf(name, sizeof name, opt->helo_format, i, i, i, i);
	snprintf(from, sizeof from, opt->from_format, i, i, i, i);
	snprintf(rcpt, sizeof rcpt, opt->rcpt, i, i, i, i);

	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c.fd < 0) {
		snprintf(why, why_size, "socket: %s", strerror(errno));
		return SESSION_FAILED;
	}
	setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	if (bind(c.fd, (struct sockaddr *)&src, sizeof src) < 0) {
		snprintf(why, why_size, "bind %s: %s", client, strerror(errno));
		goto out;
	}
	if (connect(c.fd, (const struct sockaddr *)&opt->server, sizeof opt->server) < 0) {
		snprintf(why, why_size, "connect from %s: %s", client, strerror(errno));
		goto out;
	}
	setsockopt(c.fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);

	struct {
		const char *stage;
		int want;
	} steps[] = {{"banner", 220}, {"EHLO", 250}, {"MAIL", 250}, {"RCPT", 250}, {"DATA", 354}, {"message", 250}};
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		stage = steps[s].stage;
		bool sent = true;

		switch (s) {
		case 0:
			break;
		case 1:
			snprintf(cmd, sizeof cmd, "EHLO %s\r\n", name);
			sent = conn_write(&c, cmd, strlen(cmd));
			break;
		case 2:
			snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>\r\n", from);
			sent = conn_write(&c, cmd, strlen(cmd));
			break;
		case 3:
			snprintf(cmd, sizeof cmd, "RCPT TO:<%s>\r\n", rcpt);
			sent = conn_write(&c, cmd, strlen(cmd));
			break;
		case 4:
			sent = conn_write(&c, "DATA\r\n", 6);
			break;
		case 5:
			snprintf(cmd, sizeof cmd, "From: <%s>\r\nTo: <%s>\r\nSubject: bench %u\r\n", from, rcpt, i);
			sent = conn_write(&c, cmd, strlen(cmd)) && conn_write(&c, sh->body, strlen(sh->body));
			break;
		}
		if (!sent) {
			snprintf(why, why_size, "%s from %s: write failed", stage, client);
			goto out;
		}
		code = conn_read_reply(&c, reply, sizeof reply);
		if (code < 0) {
			snprintf(why, why_size, "%s from %s: no reply (closed or timed out)", stage,
				 client);
			goto out;
		}
		if (code != steps[s].want) {
			outcome = outcome_of_code(code);
			if (outcome == SESSION_FAILED)
				snprintf(why, why_size, "%s from %s: unexpected reply %.80s", stage,
					 client, reply);
			else
				snprintf(why, why_size, "%s from %s: %.100s", stage, client, reply);
			break;
		}
		if (s == 5)
			outcome = SESSION_ACCEPTED;
	}
	/* QUIT and its 221: part of the session's cost on the server */
	if (conn_write(&c, "QUIT\r\n", 6))
		(void)conn_read_reply(&c, reply, sizeof reply);
out:
	close(c.fd);
	return outcome;
}

/* ---- threads and phases -------------------------------------------------------------------- */

static void result_add_latency(struct thread_result *r, double ms)
{
	if (r->nlatency == r->latency_cap) {
		r->latency_cap = r->latency_cap ? r->latency_cap * 2 : 1024;
		r->latency_ms = realloc(r->latency_ms, r->latency_cap * sizeof *r->latency_ms);
		if (!r->latency_ms)
			die("out of memory");
	}
	r->latency_ms[r->nlatency++] = ms;
}

static void *thread_main(void *p)
{
	struct thread_arg *arg = p;
	struct shared *sh = arg->shared;
	const struct options *opt = sh->opt;
	char why[160];

	for (;;) {
		unsigned long n = atomic_fetch_add(&sh->next_index, 1);
		int64_t t0 = now_ns();

		if (opt->count ? n >= opt->count : t0 >= sh->t_measure_end)
			break;
		why[0] = '\0';
		enum session_outcome o = session_run(sh, (unsigned)(n % opt->names), why, sizeof why);
		int64_t t1 = now_ns();
		bool counted = opt->count || (t0 >= sh->t_measure_start && t1 <= sh->t_measure_end);

		if (!counted)
			continue;
		arg->result.outcomes[o]++;
		result_add_latency(&arg->result, (double)(t1 - t0) / 1e6);
		if (o != SESSION_ACCEPTED && !arg->result.first_failure[0])
			snprintf(arg->result.first_failure, sizeof arg->result.first_failure, "%s", why);
	}
	return NULL;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(const double *sorted, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)(q * (double)(n - 1) + 0.5);

	return sorted[k < n ? k : n - 1];
}

/* Busy jiffies of the whole machine (everything but idle and iowait), from /proc/stat. */
static unsigned long long machine_busy_ticks(void)
{
	unsigned long long v[10] = {0}, busy = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8)
		busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	fclose(f);
	return busy;
}

/* utime + stime of one process and all its threads, in ticks; 0 if it is gone. */
static unsigned long long process_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);

	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');	/* the command name may hold spaces */

	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return ut + st;
}

static void sleep_until(int64_t t)
{
	int64_t d;

	while ((d = t - now_ns()) > 0) {
		struct timespec ts = {.tv_sec = d / 1000000000, .tv_nsec = d % 1000000000};

		nanosleep(&ts, NULL);
	}
}

static char *message_body(size_t bytes)
{
	/* 70-character lines of text; about bytes long, then the end-of-data dot */
	static const char line[] = "The quick brown fox jumps over the lazy dog; benchmark filler text!!\r\n";
	size_t lines = bytes / (sizeof line - 1) + 1;
	char *body = malloc(2 + lines * (sizeof line - 1) + 4);

	if (!body)
		die("out of memory");
	char *p = body;

	p += sprintf(p, "\r\n");
	for (size_t k = 0; k < lines; k++)
		p += sprintf(p, "%s", line);
	sprintf(p, ".\r\n");
	return body;
}

static bool is_loopback_v4(uint32_t host_order)
{
	return (host_order >> 24) == 127;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: smtp-load -s 127.0.0.1:PORT -c SESSIONS (-n COUNT | -d MS [-w MS]) [options]\n"
		"  -s ADDR:PORT  the SMTP server (127.0.0.0/8 only)\n"
		"  -c N          concurrent sessions (threads), default 1\n"
		"  -n COUNT      run exactly COUNT sessions and report them all\n"
		"  -d MS         measured window; -w MS unmeasured lead-in (default 1000)\n"
		"  -N NAMES      distinct clients/HELO names/senders, index 0..NAMES-1 (default 1024)\n"
		"  -b ADDR       client address of index 0 (default 127.2.0.0); index i binds ADDR+i\n"
		"  -H FORMAT     HELO name, %%u = index (default c%%u.clients.bench.test)\n"
		"  -f FORMAT     sender, %%u = index (default u%%u@d%%u.bench.test)\n"
		"  -t FORMAT     recipient, %%u = index (default sink@sink.bench.test)\n"
		"  -m BYTES      message body size (default 2000)\n"
		"  -P PID        report this process's CPU per session too (up to %d times)\n"
		"  -l LABEL      label in the JSON report; -j FILE appends the report there\n",
		MAX_PIDS);
}

static unsigned long parse_number(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0')
		die("%s: not a number: %s", what, s);
	return v;
}

static void parse_server(struct options *opt, const char *spec)
{
	char host[64];
	const char *colon = strrchr(spec, ':');

	if (!colon || (size_t)(colon - spec) >= sizeof host)
		die("-s wants ADDR:PORT, not %s", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	opt->server.sin_family = AF_INET;
	opt->server.sin_port = htons((uint16_t)parse_number(colon + 1, "-s port"));
	if (inet_pton(AF_INET, host, &opt->server.sin_addr) != 1 || !is_loopback_v4(ntohl(opt->server.sin_addr.s_addr)))
		die("-s: %s is not an address in 127.0.0.0/8", host);
}

int main(int argc, char **argv)
{
	struct options opt = {
		.names = 1024,
		.concurrency = 1,
		.warm_ms = 1000,
		.helo_format = "c%u.clients.bench.test",
		.from_format = "u%u@d%u.bench.test",
		.rcpt = "sink@sink.bench.test",
		.message_bytes = 2000,
		.label = "",
	};
	struct in_addr base;
	int ch;

	inet_pton(AF_INET, "127.2.0.0", &base);
	opt.client_base = ntohl(base.s_addr);
	while ((ch = getopt(argc, argv, "s:c:n:d:w:N:b:H:f:t:m:P:l:j:h")) != -1) {
		switch (ch) {
		case 's':
			parse_server(&opt, optarg);
			break;
		case 'c':
			opt.concurrency = (unsigned)parse_number(optarg, "-c");
			break;
		case 'n':
			opt.count = parse_number(optarg, "-n");
			break;
		case 'd':
			opt.measure_ms = (unsigned)parse_number(optarg, "-d");
			break;
		case 'w':
			opt.warm_ms = (unsigned)parse_number(optarg, "-w");
			break;
		case 'N':
			opt.names = (unsigned)parse_number(optarg, "-N");
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &base) != 1)
				die("-b: not an IPv4 address: %s", optarg);
			opt.client_base = ntohl(base.s_addr);
			break;
		case 'H':
			opt.helo_format = optarg;
			break;
		case 'f':
			opt.from_format = optarg;
			break;
		case 't':
			opt.rcpt = optarg;
			break;
		case 'm':
			opt.message_bytes = parse_number(optarg, "-m");
			break;
		case 'P':
			if (opt.npids == MAX_PIDS)
				die("-P given more than %d times", MAX_PIDS);
			opt.pids[opt.npids++] = (pid_t)parse_number(optarg, "-P");
			break;
		case 'l':
			opt.label = optarg;
			break;
		case 'j':
			opt.json_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || opt.server.sin_family != AF_INET || opt.concurrency == 0 || opt.names == 0 ||
	    (opt.count == 0) == (opt.measure_ms == 0)) {
		usage(stderr);
		return 2;
	}
	if (!is_loopback_v4(opt.client_base) || !is_loopback_v4(opt.client_base + opt.names - 1))
		die("-b/-N: client addresses must stay in 127.0.0.0/8");

	struct shared sh = {.opt = &opt, .body = message_body(opt.message_bytes)};
	struct thread_arg *args = calloc(opt.concurrency, sizeof *args);

	if (!args)
		die("out of memory");
	int64_t t_start = now_ns();

	sh.t_measure_start = t_start + (int64_t)opt.warm_ms * 1000000;
	sh.t_measure_end = sh.t_measure_start + (int64_t)opt.measure_ms * 1000000;
	if (opt.count)
		sh.t_measure_start = t_start;
	atomic_init(&sh.next_index, 0);
	for (unsigned k = 0; k < opt.concurrency; k++) {
		args[k].shared = &sh;
		if (pthread_create(&args[k].thread, NULL, thread_main, &args[k]) != 0)
			die("pthread_create failed");
	}

	/* CPU counters at the measured window's edges (timed mode); around the whole run (-n) */
	unsigned long long busy0, busy1, ticks0[MAX_PIDS], ticks1[MAX_PIDS];

	if (!opt.count)
		sleep_until(sh.t_measure_start);
	busy0 = machine_busy_ticks();
	for (unsigned k = 0; k < opt.npids; k++)
		ticks0[k] = process_ticks(opt.pids[k]);
	int64_t t_window_start = now_ns();

	if (!opt.count)
		sleep_until(sh.t_measure_end);
	else
		for (unsigned k = 0; k < opt.concurrency; k++)
			pthread_join(args[k].thread, NULL);
	int64_t t_window_end = now_ns();

	busy1 = machine_busy_ticks();
	for (unsigned k = 0; k < opt.npids; k++)
		ticks1[k] = process_ticks(opt.pids[k]);
	if (!opt.count)
		for (unsigned k = 0; k < opt.concurrency; k++)
			pthread_join(args[k].thread, NULL);

	/* sum up */
	unsigned long outcomes[SESSION_OUTCOMES] = {0}, sessions = 0;
	size_t nlat = 0;
	const char *first_failure = "";

	for (unsigned k = 0; k < opt.concurrency; k++) {
		for (int o = 0; o < SESSION_OUTCOMES; o++)
			outcomes[o] += args[k].result.outcomes[o];
		nlat += args[k].result.nlatency;
		if (!first_failure[0] && args[k].result.first_failure[0])
			first_failure = args[k].result.first_failure;
	}
	double *lat = malloc((nlat ? nlat : 1) * sizeof *lat);

	if (!lat)
		die("out of memory");
	nlat = 0;
	for (unsigned k = 0; k < opt.concurrency; k++) {
		memcpy(lat + nlat, args[k].result.latency_ms, args[k].result.nlatency * sizeof *lat);
		nlat += args[k].result.nlatency;
	}
	qsort(lat, nlat, sizeof *lat, compare_double);
	for (int o = 0; o < SESSION_OUTCOMES; o++)
		sessions += outcomes[o];

	double seconds = (double)(t_window_end - t_window_start) / 1e9;
	double ms_per_tick = 1000.0 / (double)sysconf(_SC_CLK_TCK);
	double per_session = sessions ? 1.0 / (double)sessions : 0;
	char report[2048];
	int len = snprintf(report, sizeof report,
			   "{\"label\":\"%s\",\"concurrency\":%u,\"names\":%u,\"message_bytes\":%zu,"
			   "\"seconds\":%.3f,\"sessions\":%lu",
			   opt.label, opt.concurrency, opt.names, opt.message_bytes, seconds, sessions);

	for (int o = 0; o < SESSION_OUTCOMES; o++)
		len += snprintf(report + len, sizeof report - (size_t)len, ",\"%s\":%lu",
				session_outcome_name((enum session_outcome)o), outcomes[o]);
	len += snprintf(report + len, sizeof report - (size_t)len,
			",\"msgs_per_s\":%.1f,\"sessions_per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
			"\"max_ms\":%.2f,\"cpu_ms_per_session\":%.3f",
			seconds > 0 ? (double)outcomes[SESSION_ACCEPTED] / seconds : 0,
			seconds > 0 ? (double)sessions / seconds : 0, percentile(lat, nlat, 0.5),
			percentile(lat, nlat, 0.99), nlat ? lat[nlat - 1] : 0,
			(double)(busy1 - busy0) * ms_per_tick * per_session);
	for (unsigned k = 0; k < opt.npids; k++)
		len += snprintf(report + len, sizeof report - (size_t)len, ",\"pid_%d_cpu_ms_per_session\":%.3f",
				(int)opt.pids[k], (double)(ticks1[k] - ticks0[k]) * ms_per_tick * per_session);
	/* the problem text is an SMTP reply: keep it JSON-safe */
	char problem[sizeof args[0].result.first_failure];

	snprintf(problem, sizeof problem, "%s", first_failure);
	for (char *p = problem; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '\'';
	snprintf(report + len, sizeof report - (size_t)len, ",\"first_problem\":\"%s\"}", problem);
	puts(report);
	if (opt.json_file) {
		FILE *f = fopen(opt.json_file, "a");

		if (!f || fprintf(f, "%s\n", report) < 0 || fclose(f) != 0)
			die("cannot append to %s", opt.json_file);
	}
	return outcomes[SESSION_FAILED] ? 1 : 0;
}
