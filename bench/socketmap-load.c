/*
 * socketmap-load - a load driver for a socketmap server (dnsguard's route_socket, issue 18).
 *
 * It speaks the protocol as Postfix's socketmap client (src/util/dict_sockmap.c) and Sendmail's
 * socket maps do: a request is the netstring "<map> <key>", the reply a netstring "OK value",
 * "NOTFOUND ", "TEMP reason", "TIMEOUT reason" or "PERM reason".
 *
 * N connections (-c), one thread each, all persistent.  Each keeps -p requests in flight: 1 (the
 * default) is request/response, what Postfix does (one request at a time on its one connection
 * per endpoint and process); more is pipelining, which the server must also take.  The keys come
 * from a file (-k), one per line, optionally followed by a tab and the reply's expected status
 * word (OK, NOTFOUND, TEMP, ...): a reply of another status is counted as unexpected.  Every
 * connection walks the whole list in its own pseudo-random order (a fresh permutation at each
 * pass), so that all connections do not ask the same key at the same moment.
 *
 * A lookup's latency is from the write of its request to the end of its reply (with -p > 1 the
 * time it waited behind the earlier requests of its connection included).  Phases: -w MS
 * unmeasured lead-in, then -d MS measured: a lookup counts if it was sent and answered within the
 * window; or -n COUNT lookups in all, every one counted.  CPU: the server's (-P PID, utime +
 * stime of every thread from /proc/PID/stat), the whole machine's (/proc/stat) and the driver's
 * own (getrusage), over the measured window, per lookup.
 *
 * A broken connection (EOF, reset, a reply that is not a netstring, no reply within -t MS) is an
 * error: counted, the lookups in flight on it lost, and the connection opened again.
 *
 * Output: one JSON object per run on stdout (or appended to -j FILE), a one-line summary on
 * stderr.  Exit status: 0 when the run completed without errors, 1 when a connection failed or
 * the run could not start, 2 for usage errors.
 *
 * Only loopback: an inet socket must name a 127.0.0.0/8 or ::1 address.  Not part of dnsguard:
 * it links only libc and pthreads, and nothing in it is installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 100000	/* what Postfix's client accepts */
#define KEY_MAX 1000

enum status { ST_OK, ST_NOTFOUND, ST_TEMP, ST_TIMEOUT, ST_PERM, ST_OTHER, ST_COUNT };
static const char *const status_names[ST_COUNT] = {"ok", "notfound", "temp", "timeout", "perm", "other"};
static const char *const status_words[ST_COUNT] = {"OK", "NOTFOUND", "TEMP", "TIMEOUT", "PERM", "?"};

/* ---- settings ---------------------------------------------------------------------------------- */

struct key {
	char *request;		/* the whole netstring, ready to write */
	size_t len;
	int expect;		/* enum status, or -1: anything */
};

static struct {
	const char *socket_spec, *key_file, *map, *label, *json_path, *extra_json;
	int connections, depth;
	long count;		/* -n: lookups in all; 0: timed */
	long warm_ms, measure_ms, timeout_ms, slow_ms;
	pid_t server_pid;
} cfg = {
	.map = "transport",
	.label = "run",
	.connections = 1,
	.depth = 1,
	.warm_ms = 1000,
	.timeout_ms = 10000,
	.slow_ms = 100,
};

static struct key *keys;
static size_t nkeys;
static struct sockaddr_storage peer;
static socklen_t peer_len;
static bool peer_is_tcp;

/* the measured window, CLOCK_MONOTONIC µs; timed mode */
static uint64_t t_measure_start, t_measure_end;
static atomic_long lookups_left;	/* -n mode */
static atomic_bool stop_now;

/* ---- small helpers ----------------------------------------------------------------------------- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("socketmap-load: ", stderr);
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

static void sleep_until_us(uint64_t t)
{
	uint64_t now;

	while ((now = now_us()) < t) {
		struct timespec ts = {.tv_sec = (time_t)((t - now) / 1000000u),
				      .tv_nsec = (long)((t - now) % 1000000u) * 1000};
		nanosleep(&ts, NULL);
	}
}

static long parse_long(const char *text, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		fail("%s: %s is not a number from %ld to %ld", what, text, min, max);
	return v;
}

/* xorshift64*: each thread's own generator */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* A reply's text made printable for an error message. */
static void printable(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '.';
	dst[n] = '\0';
}

/* ---- /proc --------------------------------------------------------------------------------------- */

struct proc_sample {
	bool ok;
	uint64_t cpu_ticks;	/* utime + stime of the whole process */
	long rss_kb, threads;
};

static struct proc_sample proc_sample(pid_t pid)
{
	struct proc_sample s = {0};
	char path[64], buf[4096], *p;
	unsigned long utime, stime;
	FILE *f;

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
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return s;
	s.cpu_ticks = (uint64_t)utime + stime;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r"))) {
		while (fgets(buf, sizeof(buf), f)) {
			sscanf(buf, "VmRSS: %ld", &s.rss_kb);
			sscanf(buf, "Threads: %ld", &s.threads);
		}
		fclose(f);
	}
	s.ok = true;
	return s;
}

/* Busy ticks of the whole machine (everything but idle and iowait), from /proc/stat. */
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

/* ---- the keys ---------------------------------------------------------------------------------- */

static int status_of_word(const char *w)
{
	for (int i = 0; i < ST_OTHER; i++)
		if (strcmp(w, status_words[i]) == 0)
			return i;
	return -2;
}

static void load_keys(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[KEY_MAX + 64];
	size_t cap = 0, lineno = 0;

	if (!f)
		fail("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *tab, *nl = strchr(line, '\n');
		int expect = -1;

		lineno++;
		if (!nl && !feof(f))
			fail("%s:%zu: line too long", path, lineno);
		if (nl)
			*nl = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if ((tab = strchr(line, '\t'))) {
			*tab = '\0';
			if ((expect = status_of_word(tab + 1)) < 0)
				fail("%s:%zu: unknown expected status %s (OK, NOTFOUND, TEMP, TIMEOUT, PERM)", path,
				     lineno, tab + 1);
		}
		if (!line[0] || strchr(line, ' '))
			fail("%s:%zu: a key is one word", path, lineno);
		if (nkeys == cap) {
			cap = cap ? cap * 2 : 256;
			if (!(keys = realloc(keys, cap * sizeof(*keys))))
				fail("out of memory");
		}
		size_t body = strlen(cfg.map) + 1 + strlen(line);
		size_t size = body + 24;
		char *req = malloc(size);
		if (!req)
			fail("out of memory");
		int n = snprintf(req, size, "%zu:%s %s,", body, cfg.map, line);
		keys[nkeys++] = (struct key){.request = req, .len = (size_t)n, .expect = expect};
	}
	fclose(f);
	if (!nkeys)
		fail("%s holds no key", path);
}

/* ---- one connection -------------------------------------------------------------------------- */

struct stats {
	uint32_t *latency_us;
	size_t count, cap;
	long status[ST_COUNT];
	long unexpected, errors, reconnects, slow;
	char first_error[200], first_unexpected[200];
};

struct worker {
	pthread_t thread;
	int index;
	struct stats stats;
};

static void stats_add(struct stats *s, uint32_t us)
{
	if (s->count == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		if (!(s->latency_us = realloc(s->latency_us, s->cap * sizeof(uint32_t))))
			fail("out of memory");
	}
	s->latency_us[s->count++] = us;
}

static void note(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (dst[0])
		return;
	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static int open_connection(char *why, size_t size)
{
	int fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0) {
		snprintf(why, size, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&peer, peer_len) < 0) {
		snprintf(why, size, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (peer_is_tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* Whether a lookup may be started now; claims one in -n mode. */
static bool may_start(void)
{
	if (atomic_load_explicit(&stop_now, memory_order_relaxed))
		return false;
	if (cfg.count)
		return atomic_fetch_sub(&lookups_left, 1) > 0;
	return now_us() < t_measure_end;
}

/* The connection's per-request state: in flight, oldest first (replies come in order). */
struct in_flight {
	uint64_t sent_us;
	size_t key;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct stats *st = &w->stats;
	struct in_flight *ring = calloc((size_t)cfg.depth, sizeof(*ring));
	size_t *order = malloc(nkeys * sizeof(size_t)), pos = nkeys;
	size_t bufsize = REPLY_MAX + 32, have = 0;
	char *buf = malloc(bufsize), why[160];
	uint64_t rnd = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(w->index + 1) * 0xD1B54A32D192ED03ULL);
	int fd = -1;

	if (!ring || !order || !buf)
		fail("out of memory");
	for (size_t i = 0; i < nkeys; i++)
		order[i] = i;
	for (;;) {
		size_t head = 0, inflight = 0;	/* ring[head] is the oldest in flight */
		bool broken = false, done = false;

		if (fd < 0 && (fd = open_connection(why, sizeof(why))) < 0) {
			st->errors++;
			note(st->first_error, sizeof(st->first_error), "connection %d: %s", w->index, why);
			if (!may_start())
				break;
			usleep(10000);
			continue;
		}
		have = 0;
		while (!broken) {
			/* fill the pipeline */
			while (inflight < (size_t)cfg.depth && !done) {
				if (!may_start()) {
					done = true;
					break;
				}
				if (pos == nkeys) {	/* a new pass, in a new order */
					for (size_t i = nkeys - 1; i > 0; i--) {
						size_t j = (size_t)(next_random(&rnd) % (i + 1)), t = order[i];
						order[i] = order[j];
						order[j] = t;
					}
					pos = 0;
				}
				size_t k = order[pos++];
				struct in_flight *slot = &ring[(head + inflight) % (size_t)cfg.depth];
				slot->sent_us = now_us();
				slot->key = k;
				if (!write_all(fd, keys[k].request, keys[k].len)) {
					snprintf(why, sizeof(why), "write: %s", strerror(errno));
					if (cfg.count)
						atomic_fetch_add(&lookups_left, 1);
					broken = true;
					break;
				}
				inflight++;
			}
			if (broken || inflight == 0)
				break;
			/* the oldest request's reply */
			struct pollfd p = {.fd = fd, .events = POLLIN};
			int r = poll(&p, 1, (int)cfg.timeout_ms);
			if (r == 0) {
				snprintf(why, sizeof(why), "no reply within %ld ms", cfg.timeout_ms);
				broken = true;
				break;
			}
			if (r < 0) {
				if (errno == EINTR)
					continue;
				snprintf(why, sizeof(why), "poll: %s", strerror(errno));
				broken = true;
				break;
			}
			ssize_t n = recv(fd, buf + have, bufsize - have, 0);
			if (n <= 0) {
				snprintf(why, sizeof(why), "%s with %zu lookups in flight",
					 n == 0 ? "closed by the server" : strerror(errno), inflight);
				broken = true;
				break;
			}
			have += (size_t)n;
			/* every complete reply in the buffer */
			size_t start = 0;
			while (start < have && inflight > 0) {
				char *colon = memchr(buf + start, ':', have - start);
				size_t len = 0, digits;
				if (!colon) {
					if (have - start > 7)
						goto malformed;
					break;
				}
				digits = (size_t)(colon - (buf + start));
				if (digits == 0 || digits > 6)
					goto malformed;
				for (size_t i = 0; i < digits; i++) {
					char c = buf[start + i];
					if (c < '0' || c > '9')
						goto malformed;
					len = len * 10 + (size_t)(c - '0');
				}
				if (len > REPLY_MAX)
					goto malformed;
				if (have - start < digits + 1 + len + 1)
					break;
				if (buf[start + digits + 1 + len] != ',')
					goto malformed;

				const char *text = buf + start + digits + 1;
				uint64_t t = now_us();
				struct in_flight *slot = &ring[head];
				int s = ST_OTHER;
				for (int i = 0; i < ST_OTHER; i++) {
					size_t wl = strlen(status_words[i]);
					if (len >= wl && memcmp(text, status_words[i], wl) == 0 &&
					    (len == wl || text[wl] == ' ')) {
						s = i;
						break;
					}
				}
				bool counted = cfg.count || (slot->sent_us >= t_measure_start && t <= t_measure_end);
				if (counted) {
					uint64_t us = t - slot->sent_us;
					stats_add(st, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
					if (us >= (uint64_t)cfg.slow_ms * 1000u)
						st->slow++;
					st->status[s]++;
					if (keys[slot->key].expect >= 0 && keys[slot->key].expect != s) {
						char shown[120];
						st->unexpected++;
						printable(shown, sizeof(shown), text, len);
						note(st->first_unexpected, sizeof(st->first_unexpected),
						     "%.*s: expected %s, got \"%s\"", (int)keys[slot->key].len,
						     keys[slot->key].request, status_words[keys[slot->key].expect], shown);
					}
				}
				head = (head + 1) % (size_t)cfg.depth;
				inflight--;
				start += digits + 1 + len + 1;
			}
			if (start < have && inflight == 0) {
				snprintf(why, sizeof(why), "%zu bytes after the last reply", have - start);
				broken = true;
				break;
			}
			memmove(buf, buf + start, have - start);
			have -= start;
			continue;
malformed:
			{
				char shown[40];
				printable(shown, sizeof(shown), buf + start, have - start < 30 ? have - start : 30);
				snprintf(why, sizeof(why), "not a netstring: \"%s\"", shown);
				broken = true;
			}
		}
		if (!broken)
			break;
		/* the lookups in flight are lost; open again */
		st->errors++;
		st->reconnects++;
		note(st->first_error, sizeof(st->first_error), "connection %d: %s", w->index, why);
		close(fd);
		fd = -1;
		if (cfg.count)
			atomic_fetch_add(&lookups_left, (long)inflight);
	}
	if (fd >= 0)
		close(fd);
	free(ring);
	free(order);
	free(buf);
	return NULL;
}

/* ---- the run ----------------------------------------------------------------------------------- */

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

static double rusage_us(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e6 +
	       (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec);
}

static int run(void)
{
	struct worker *workers = calloc((size_t)cfg.connections, sizeof(*workers));
	struct stats all = {0};
	struct proc_sample before, after;
	struct rusage ru0, ru1;
	unsigned long long busy0, busy1;
	uint64_t t0, t1;
	FILE *out = stdout;

	if (!workers)
		fail("out of memory");
	t0 = now_us();
	t_measure_start = cfg.count ? t0 : t0 + (uint64_t)cfg.warm_ms * 1000u;
	t_measure_end = cfg.count ? UINT64_MAX : t_measure_start + (uint64_t)cfg.measure_ms * 1000u;
	atomic_store(&lookups_left, cfg.count);
	for (int i = 0; i < cfg.connections; i++) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		workers[i].index = i;
		if (pthread_create(&workers[i].thread, &attr, worker_main, &workers[i]) != 0)
			fail("cannot start connection thread %d", i);
		pthread_attr_destroy(&attr);
	}
	if (!cfg.count)
		sleep_until_us(t_measure_start);
	before = proc_sample(cfg.server_pid);
	busy0 = machine_busy_ticks();
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_us();
	if (!cfg.count) {
		sleep_until_us(t_measure_end);
	} else {
		for (int i = 0; i < cfg.connections; i++)
			pthread_join(workers[i].thread, NULL);
	}
	t1 = now_us();
	after = proc_sample(cfg.server_pid);
	busy1 = machine_busy_ticks();
	getrusage(RUSAGE_SELF, &ru1);
	if (!cfg.count) {
		atomic_store(&stop_now, true);
		for (int i = 0; i < cfg.connections; i++)
			pthread_join(workers[i].thread, NULL);
	}

	for (int i = 0; i < cfg.connections; i++) {
		struct stats *s = &workers[i].stats;
		for (size_t j = 0; j < s->count; j++)
			stats_add(&all, s->latency_us[j]);
		for (int k = 0; k < ST_COUNT; k++)
			all.status[k] += s->status[k];
		all.unexpected += s->unexpected;
		all.errors += s->errors;
		all.reconnects += s->reconnects;
		all.slow += s->slow;
		if (s->first_error[0])
			note(all.first_error, sizeof(all.first_error), "%s", s->first_error);
		if (s->first_unexpected[0])
			note(all.first_unexpected, sizeof(all.first_unexpected), "%s", s->first_unexpected);
		free(s->latency_us);
	}
	free(workers);
	if (all.count)
		qsort(all.latency_us, all.count, sizeof(uint32_t), cmp_u32);

	double seconds = (double)(t1 - t0) / 1e6, mean = 0, per = all.count ? 1.0 / (double)all.count : 0;
	double tick_us = 1e6 / (double)sysconf(_SC_CLK_TCK);
	for (size_t i = 0; i < all.count; i++)
		mean += all.latency_us[i];
	mean = all.count ? mean / (double)all.count : 0;

	if (cfg.json_path && !(out = fopen(cfg.json_path, "a")))
		fail("cannot append to %s: %s", cfg.json_path, strerror(errno));
	fprintf(out, "{\"label\":");
	json_string(out, cfg.label);
	fprintf(out, ",\"socket\":\"%s\",\"map\":", peer_is_tcp ? "inet" : "unix");
	json_string(out, cfg.map);
	fprintf(out, ",\"connections\":%d,\"depth\":%d,\"keys\":%zu,", cfg.connections, cfg.depth, nkeys);
	if (cfg.extra_json && *cfg.extra_json)
		fprintf(out, "%s,", cfg.extra_json);
	fprintf(out,
		"\"seconds\":%.3f,\"lookups\":%zu,\"lookups_per_s\":%.1f,"
		"\"latency_us\":{\"mean\":%.1f,\"p50\":%" PRIu32 ",\"p90\":%" PRIu32 ",\"p99\":%" PRIu32
		",\"p999\":%" PRIu32 ",\"max\":%" PRIu32 "},\"slow_ms\":%ld,\"slow\":%ld,\"replies\":{",
		seconds, all.count, seconds > 0 ? (double)all.count / seconds : 0, mean,
		percentile(all.latency_us, all.count, 0.50), percentile(all.latency_us, all.count, 0.90),
		percentile(all.latency_us, all.count, 0.99), percentile(all.latency_us, all.count, 0.999),
		all.count ? all.latency_us[all.count - 1] : 0, cfg.slow_ms, all.slow);
	for (int k = 0; k < ST_COUNT; k++)
		fprintf(out, "%s\"%s\":%ld", k ? "," : "", status_names[k], all.status[k]);
	fprintf(out, "},\"unexpected\":%ld,\"errors\":%ld,\"reconnects\":%ld", all.unexpected, all.errors,
		all.reconnects);
	fprintf(out, ",\"driver_cpu_us_per_lookup\":%.2f,\"machine_cpu_us_per_lookup\":%.2f",
		(rusage_us(&ru1) - rusage_us(&ru0)) * per, (double)(busy1 - busy0) * tick_us * per);
	if (before.ok && after.ok)
		fprintf(out, ",\"server_cpu_us_per_lookup\":%.2f,\"server_cpu_s\":%.2f,\"server_rss_kb\":%ld,"
			     "\"server_threads\":%ld",
			(double)(after.cpu_ticks - before.cpu_ticks) * tick_us * per,
			(double)(after.cpu_ticks - before.cpu_ticks) * tick_us / 1e6, after.rss_kb, after.threads);
	if (all.first_error[0]) {
		fprintf(out, ",\"first_error\":");
		json_string(out, all.first_error);
	}
	if (all.first_unexpected[0]) {
		fprintf(out, ",\"first_unexpected\":");
		json_string(out, all.first_unexpected);
	}
	fprintf(out, "}\n");
	if (out != stdout)
		fclose(out);
	else
		fflush(out);

	fprintf(stderr,
		"socketmap-load: %s %s c=%d depth=%d: %zu lookups in %.2f s, %.0f/s, p50 %" PRIu32 " us, p99 %" PRIu32
		" us, max %" PRIu32 " us; ok %ld notfound %ld temp %ld other %ld; unexpected %ld errors %ld%s%s\n",
		cfg.label, peer_is_tcp ? "inet" : "unix", cfg.connections, cfg.depth, all.count, seconds,
		seconds > 0 ? (double)all.count / seconds : 0, percentile(all.latency_us, all.count, 0.5),
		percentile(all.latency_us, all.count, 0.99), all.count ? all.latency_us[all.count - 1] : 0,
		all.status[ST_OK], all.status[ST_NOTFOUND], all.status[ST_TEMP],
		all.status[ST_TIMEOUT] + all.status[ST_PERM] + all.status[ST_OTHER], all.unexpected, all.errors,
		all.first_error[0] ? "; first error: " : "", all.first_error);
	free(all.latency_us);
	return all.errors ? 1 : 0;
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
		char host[64], portbuf[16];
		size_t plen;
		if (!at || strlen(at + 1) >= sizeof(host))
			fail("bad inet socket %s (inet:PORT@127.0.0.1)", spec);
		plen = (size_t)(at - p);
		if (plen == 0 || plen >= sizeof(portbuf))
			fail("bad port in %s", spec);
		memcpy(portbuf, p, plen);
		portbuf[plen] = '\0';
		long port = parse_long(portbuf, "the port", 1, 65535);
		snprintf(host, sizeof(host), "%s", at + 1);
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		struct sockaddr_in *sin = (struct sockaddr_in *)&peer;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&peer;
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
				fail("%s is not a loopback address: socketmap-load talks to 127.0.0.0/8 and ::1 only", host);
			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
			peer_len = sizeof(*sin);
		} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
			if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
				fail("%s is not a loopback address: socketmap-load talks to 127.0.0.0/8 and ::1 only", host);
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)port);
			peer_len = sizeof(*sin6);
		} else {
			fail("%s: give a numeric loopback address (127.0.0.1 or ::1)", host);
		}
		peer_is_tcp = true;
		return;
	}
	fail("unknown socket kind %s (unix:/path or inet:PORT@127.0.0.1)", spec);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: socketmap-load -s SOCKET -k KEYFILE [options]\n"
		"  -s SOCKET   unix:/path or inet:PORT@127.0.0.1 (loopback only)\n"
		"  -k FILE     keys, one a line, optionally TAB and the expected status (OK, NOTFOUND, ...)\n"
		"  -m MAP      the map name of every request (default transport)\n"
		"  -c N        connections, one thread each (default 1)\n"
		"  -p N        requests in flight per connection (default 1: request/response, as Postfix)\n"
		"  -d MS       measured window (default 3000); -w MS: unmeasured lead-in (default 1000)\n"
		"  -n COUNT    instead: exactly COUNT lookups, all measured\n"
		"  -t MS       a reply not here within MS breaks the connection (default 10000)\n"
		"  -L MS       count lookups slower than MS (default 100)\n"
		"  -P PID      the server's pid: its CPU per lookup, RSS and threads from /proc\n"
		"  -l LABEL    name of the run in the output; -j FILE: append the JSON line there\n"
		"  -x JSON     extra \"key\":value members for the output object\n");
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "s:k:m:c:p:d:w:n:t:L:P:l:j:x:h")) != -1) {
		switch (opt) {
		case 's':
			cfg.socket_spec = optarg;
			break;
		case 'k':
			cfg.key_file = optarg;
			break;
		case 'm':
			cfg.map = optarg;
			break;
		case 'c':
			cfg.connections = (int)parse_long(optarg, "-c", 1, 10000);
			break;
		case 'p':
			cfg.depth = (int)parse_long(optarg, "-p", 1, 10000);
			break;
		case 'd':
			cfg.measure_ms = parse_long(optarg, "-d", 1, 86400000);
			break;
		case 'w':
			cfg.warm_ms = parse_long(optarg, "-w", 0, 86400000);
			break;
		case 'n':
			cfg.count = parse_long(optarg, "-n", 1, LONG_MAX / 2);
			break;
		case 't':
			cfg.timeout_ms = parse_long(optarg, "-t", 1, 3600000);
			break;
		case 'L':
			cfg.slow_ms = parse_long(optarg, "-L", 1, 3600000);
			break;
		case 'P':
			cfg.server_pid = (pid_t)parse_long(optarg, "-P", 1, INT_MAX);
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
	if (!cfg.socket_spec || !cfg.key_file || optind != argc || !*cfg.map || strchr(cfg.map, ' ') ||
	    (cfg.count && cfg.measure_ms)) {
		usage(stderr);
		return 2;
	}
	if (!cfg.count && !cfg.measure_ms)
		cfg.measure_ms = 3000;
	parse_socket(cfg.socket_spec);
	load_keys(cfg.key_file);
	signal(SIGPIPE, SIG_IGN);
	return run();
}
