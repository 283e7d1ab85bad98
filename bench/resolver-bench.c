/*
 * resolver-bench - dnsguard's DNS core under milter-like load (issue 10, part 1).
 *
 *   resolver-bench checks -s ADDR@PORT -S event|sync -t THREADS -c warm|cold
 *                  [-D duration_ms] [-d deadline_ms] [-n names] [-w warm_set]
 *                  [-l server_label] [-L responder_log] [-j json_out] [-m markdown_out]
 *   resolver-bench handoff [-t THREADS] [-D duration_ms] [-j json_out] [-m markdown_out]
 *
 * checks: THREADS threads, as libmilter's workers, each repeatedly starting a client check
 * (fcrdns_start: PTR, then A of each name) and a mail-domain check (mail_domain_start: MX, then
 * A and AAAA of the hosts) one right after the other, as connect and MAIL will, and then waiting
 * for both verdicts.  -S event runs the checks on dnsguard's own resolver (lib/resolver.h:
 * ub_resolve_event on a loop thread; the ASYNC style it was measured against is gone, its numbers
 * stay in bench/RESULTS.md); -S sync is a reference only: the same questions asked one after the
 * other with the synchronous ub_resolve from the worker thread, as a callback must never do.
 *
 * Names come from the zone bench/run-resolver-bench generates: client i is 127.2.(i/256).(i%256),
 * whose PTR c<i>.clients.bench.test. has an A record confirming it; sender domain i is
 * d<i>.bench.test with MX 10 mx.d<i>.bench.test., which has an A record in 192.0.2.0/24 (looked
 * up, never connected to).  -c cold takes a fresh index for every iteration (each run is a new
 * process with an empty cache); -c warm first asks for the first -w pairs once, untimed, and then
 * picks among them at random.
 *
 * Per run: one JSON object (a line appended to -j) and one Markdown table row (appended to -m):
 * checks/s, lookups/s (questions asked of the resolver, cached or not), the latency of client
 * and sender checks (p50/p99/max; each iteration waits for one of the two first, alternately, and
 * only that one's latency is exact, so each check's percentiles come from the iterations in which
 * it was waited for first), of the pair (both verdicts in), CPU per check (getrusage user+sys of
 * the whole process over the timed phase / checks), the verdicts, and with -L the queries the
 * responder saw per iteration.
 *
 * handoff: what the EVENT style's hand-off from asking threads to the loop thread costs, alone:
 * THREADS producers each hand an item to a libevent loop thread and wait (mutex + condition
 * variable, as a job waiter does) until the loop has seen it; three mechanisms: a locked queue
 * plus an eventfd written once per batch (what lib/resolver.c does), the same queue woken by
 * event_active() (libevent's own thread notification), and one event_base_once() per item.
 *
 * Only loopback servers are accepted.  Exit status 0, 1 if the run could not be done, 2 on usage.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <ldns/ldns.h>
#include <unbound.h>

#include "dns_rdata.h"
#include "fcrdns.h"
#include "mail_domain.h"
#include "netaddr.h"
#include "resolver.h"

#define ZONE_CLIENT_PREFIX "127.2"
#define ZONE_SUFFIX "bench.test"

/* ---- clock and samples ------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* Latencies in microseconds. */
struct samples {
	uint32_t *v;
	size_t n, cap;
};

static void samples_add(struct samples *s, uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			fprintf(stderr, "resolver-bench: out of memory\n");
			exit(1);
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void samples_merge(struct samples *into, const struct samples *from)
{
	for (size_t i = 0; i < from->n; i++)
		samples_add(into, (uint64_t)from->v[i] * 1000);
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct percentiles {
	size_t n;
	double p50_ms, p99_ms, max_ms;
};

static struct percentiles samples_percentiles(struct samples *s)
{
	struct percentiles p = {.n = s->n};

	if (!s->n)
		return p;
	qsort(s->v, s->n, sizeof(*s->v), compare_u32);
	p.p50_ms = s->v[(s->n - 1) / 2] / 1000.0;
	p.p99_ms = s->v[(size_t)((double)(s->n - 1) * 0.99)] / 1000.0;
	p.max_ms = s->v[s->n - 1] / 1000.0;
	return p;
}

/* ---- options ----------------------------------------------------------------------------- */

enum bench_style { BENCH_EVENT, BENCH_SYNC };

struct bench {
	enum bench_style style;
	const char *style_name;
	struct dns_server server;
	unsigned threads;
	bool cold;
	unsigned duration_ms, deadline_ms;
	unsigned names, warm_set;
	const char *label, *responder_log, *json_path, *md_path;
	/* shared while running */
	struct resolver *resolver;	/* event */
	struct ub_ctx *ub;		/* sync */
	atomic_bool stop;
	atomic_uint next_index;
	pthread_barrier_t start;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: resolver-bench checks -s ADDR@PORT -S event|sync -t THREADS -c warm|cold\n"
		"                      [-D duration_ms] [-d deadline_ms] [-n names] [-w warm_set]\n"
		"                      [-l label] [-L responder_log] [-j json_out] [-m markdown_out]\n"
		"       resolver-bench handoff [-t THREADS] [-D duration_ms] [-j json_out] [-m markdown_out]\n");
	exit(2);
}

static unsigned number(const char *text, unsigned min, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		fprintf(stderr, "resolver-bench: %s: not a number in %u-%u\n", text, min, max);
		usage();
	}
	return (unsigned)v;
}

/* ---- names ------------------------------------------------------------------------------- */

static void client_address(unsigned i, struct netaddr *out)
{
	char text[32];

	snprintf(text, sizeof(text), ZONE_CLIENT_PREFIX ".%u.%u", (i >> 8) & 255, i & 255);
	netaddr_parse(text, out);
}

static void sender_domain(unsigned i, char *buf, size_t size)
{
	snprintf(buf, size, "d%u." ZONE_SUFFIX, i);
}

/* xorshift, per thread: warm picks */
static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* ---- per-thread results ------------------------------------------------------------------ */

struct tally {
	struct samples client, sender, pair;
	unsigned long iterations, lookups;
	unsigned long client_verdicts[FCRDNS_BOGUS + 1];
	unsigned long sender_verdicts[MAIL_DOMAIN_BOGUS + 1];
	unsigned long client_deadline, sender_deadline;	/* tempfail because the deadline passed */
};

static void tally_merge(struct tally *into, const struct tally *from)
{
	samples_merge(&into->client, &from->client);
	samples_merge(&into->sender, &from->sender);
	samples_merge(&into->pair, &from->pair);
	into->iterations += from->iterations;
	into->lookups += from->lookups;
	for (size_t i = 0; i <= FCRDNS_BOGUS; i++)
		into->client_verdicts[i] += from->client_verdicts[i];
	for (size_t i = 0; i <= MAIL_DOMAIN_BOGUS; i++)
		into->sender_verdicts[i] += from->sender_verdicts[i];
	into->client_deadline += from->client_deadline;
	into->sender_deadline += from->sender_deadline;
}

struct worker {
	struct bench *b;
	unsigned id;
	pthread_t thread;
	struct tally t;
};

/* The index of this iteration's names, or false when a cold run has used them all. */
static bool pick(struct worker *w, uint32_t *random_state, unsigned *index)
{
	if (atomic_load_explicit(&w->b->stop, memory_order_relaxed))
		return false;
	if (!w->b->cold) {
		*index = next_random(random_state) % w->b->warm_set;
		return true;
	}
	*index = atomic_fetch_add(&w->b->next_index, 1);
	return *index < w->b->names;
}

/* Questions a check asked, from its result: the first one, plus what it led to. */
static unsigned client_lookups(const struct fcrdns_result *r)
{
	return 1 + (unsigned)r->name_count;
}

static unsigned sender_lookups(const struct mail_domain_result *r)
{
	unsigned hosts = 0;

	if (r->flags & MAIL_DOMAIN_FLAG_IMPLICIT_MX)
		hosts = 1;
	for (size_t i = 0; i < r->mx_count; i++)
		if (strcmp(r->mx[i].host, ".") != 0)
			hosts++;
	if (hosts > MAIL_DOMAIN_HOSTS_MAX)
		hosts = MAIL_DOMAIN_HOSTS_MAX;
	return 1 + 2 * hosts;
}

static bool any_deadline(const struct dns_evidence *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ev[i].outcome == DNS_TEMPFAIL && ev[i].cause == DNS_CAUSE_DEADLINE)
			return true;
	return false;
}

static void record_client(struct tally *t, const struct fcrdns_result *r)
{
	t->client_verdicts[r->verdict]++;
	t->lookups += client_lookups(r);
	if (r->verdict == FCRDNS_TEMPFAIL && any_deadline(r->evidence, r->evidence_count))
		t->client_deadline++;
}

static void record_sender(struct tally *t, const struct mail_domain_result *r)
{
	t->sender_verdicts[r->verdict]++;
	t->lookups += sender_lookups(r);
	if (r->verdict == MAIL_DOMAIN_TEMPFAIL && any_deadline(r->evidence, r->evidence_count))
		t->sender_deadline++;
}

/* ---- event: dnsguard's resolver ------------------------------------------------ */

/* One milter transaction's DNS: client check at connect, sender check at MAIL, both awaited. */
static void iteration(struct bench *b, struct tally *t, unsigned index, bool client_first)
{
	struct netaddr client;
	char domain[DNS_NAME_TEXT_MAX];
	struct fcrdns_check *fc;
	struct mail_domain_check *md;
	uint64_t t0, t1, done_client, done_sender;

	client_address(index, &client);
	sender_domain(index, domain, sizeof(domain));
	t0 = now_ns();
	fc = fcrdns_start(b->resolver, &client, b->deadline_ms);
	t1 = now_ns();
	md = mail_domain_start(b->resolver, domain, b->deadline_ms);
	if (!fc || !md) {
		fprintf(stderr, "resolver-bench: out of memory\n");
		exit(1);
	}
	if (client_first) {
		record_client(t, fcrdns_wait(fc));
		done_client = now_ns();
		record_sender(t, mail_domain_wait(md));
		done_sender = now_ns();
		samples_add(&t->client, done_client - t0);
	} else {
		record_sender(t, mail_domain_wait(md));
		done_sender = now_ns();
		record_client(t, fcrdns_wait(fc));
		done_client = now_ns();
		samples_add(&t->sender, done_sender - t1);
	}
	samples_add(&t->pair, (done_client > done_sender ? done_client : done_sender) - t0);
	t->iterations++;
	fcrdns_free(fc);
	mail_domain_free(md);
}

/* ---- sync: the reference ----------------------------------------------------------------- */

/* One ub_resolve, its answer parsed; NULL unless it has records of the type. */
static ldns_pkt *sync_ask(struct bench *b, const char *name, uint16_t qtype, struct tally *t)
{
	struct ub_result *res = NULL;
	ldns_pkt *packet = NULL;

	t->lookups++;
	if (ub_resolve(b->ub, name, qtype, LDNS_RR_CLASS_IN, &res) == 0 && res && res->havedata && res->answer_packet)
		if (ldns_wire2pkt(&packet, res->answer_packet, (size_t)res->answer_len) != LDNS_STATUS_OK)
			packet = NULL;
	ub_resolve_free(res);
	return packet;
}

static void sync_iteration(struct bench *b, struct tally *t, unsigned index)
{
	struct netaddr client, addrs[16];
	char domain[DNS_NAME_TEXT_MAX], reverse[DNS_NAME_TEXT_MAX], names[FCRDNS_NAMES_MAX][DNS_NAME_TEXT_MAX];
	struct dns_mx mx[MAIL_DOMAIN_HOSTS_MAX];
	enum fcrdns_verdict cv = FCRDNS_NO_PTR;
	enum mail_domain_verdict sv = MAIL_DOMAIN_MX_UNRESOLVABLE;
	uint64_t t0, t1, t2;
	ldns_pkt *p;
	size_t n = 0;

	client_address(index, &client);
	sender_domain(index, domain, sizeof(domain));
	t0 = now_ns();
	dns_reverse_name(&client, reverse, sizeof(reverse));
	if ((p = sync_ask(b, reverse, LDNS_RR_TYPE_PTR, t))) {
		n = dns_rdata_ptr(p, names, FCRDNS_NAMES_MAX, NULL);
		ldns_pkt_free(p);
		cv = FCRDNS_FAIL;
	}
	for (size_t i = 0; i < n && cv != FCRDNS_PASS; i++)
		if ((p = sync_ask(b, names[i], LDNS_RR_TYPE_A, t))) {
			size_t k = dns_rdata_addresses(p, LDNS_RR_TYPE_A, addrs, 16, NULL);
			for (size_t j = 0; j < k; j++)
				if (netaddr_equal(&addrs[j], &client))
					cv = FCRDNS_PASS;
			ldns_pkt_free(p);
		}
	t1 = now_ns();
	n = 0;
	if ((p = sync_ask(b, domain, LDNS_RR_TYPE_MX, t))) {
		n = dns_rdata_mx(p, mx, MAIL_DOMAIN_HOSTS_MAX, NULL);
		ldns_pkt_free(p);
	}
	for (size_t i = 0; i < n && sv != MAIL_DOMAIN_OK; i++) {
		if ((p = sync_ask(b, mx[i].host, LDNS_RR_TYPE_A, t)) || (p = sync_ask(b, mx[i].host, LDNS_RR_TYPE_AAAA, t))) {
			sv = MAIL_DOMAIN_OK;
			ldns_pkt_free(p);
		}
	}
	t2 = now_ns();
	t->client_verdicts[cv]++;
	t->sender_verdicts[sv]++;
	samples_add(&t->client, t1 - t0);
	samples_add(&t->sender, t2 - t1);
	samples_add(&t->pair, t2 - t0);
	t->iterations++;
}

static int sync_context(struct bench *b)
{
	static const char *const options[][2] = {
		/* the resolver's own settings (lib/resolver.c configure()) */
		{"outgoing-range:", "512"},
		{"outgoing-num-tcp:", "64"},
		{"num-queries-per-thread:", "4096"},
		{"outbound-msg-retry:", "3"},
		{"infra-keep-probing:", "yes"},
		{"infra-host-ttl:", "60"},
		{"infra-cache-min-rtt:", "1000"},
		{"msg-cache-size:", "4194304"},
		{"rrset-cache-size:", "8388608"},
		{"local-zone:", "test. transparent"},
		{"local-zone:", "127.in-addr.arpa. transparent"},
	};
	char server[80];
	int rc;

	b->ub = ub_ctx_create();
	if (!b->ub)
		return -1;
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if ((rc = ub_ctx_set_option(b->ub, options[i][0], options[i][1])) != 0) {
			fprintf(stderr, "resolver-bench: %s %s: %s\n", options[i][0], options[i][1], ub_strerror(rc));
			return -1;
		}
	if ((rc = ub_ctx_set_fwd(b->ub, dns_server_format(&b->server, server, sizeof(server)))) != 0) {
		fprintf(stderr, "resolver-bench: server %s: %s\n", server, ub_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- the run ----------------------------------------------------------------------------- */

static void *work(void *arg)
{
	struct worker *w = arg;
	uint32_t random_state = 2463534242u + w->id * 7919u;
	unsigned index;

	pthread_barrier_wait(&w->b->start);
	while (pick(w, &random_state, &index)) {
		if (w->b->style == BENCH_SYNC)
			sync_iteration(w->b, &w->t, index);
		else
			iteration(w->b, &w->t, index, (w->t.iterations & 1) == 0);
	}
	return NULL;
}

/* Warm: every pair of the warm set asked once, all at once, untimed. */
static void warm_up(struct bench *b)
{
	struct tally scratch = {0};

	if (b->style == BENCH_SYNC) {
		for (unsigned i = 0; i < b->warm_set; i++)
			sync_iteration(b, &scratch, i);
	} else {
		struct fcrdns_check **fc = calloc(b->warm_set, sizeof(*fc));
		struct mail_domain_check **md = calloc(b->warm_set, sizeof(*md));
		if (!fc || !md) {
			fprintf(stderr, "resolver-bench: out of memory\n");
			exit(1);
		}
		for (unsigned i = 0; i < b->warm_set; i++) {
			struct netaddr client;
			char domain[DNS_NAME_TEXT_MAX];
			client_address(i, &client);
			sender_domain(i, domain, sizeof(domain));
			fc[i] = fcrdns_start(b->resolver, &client, b->deadline_ms);
			md[i] = mail_domain_start(b->resolver, domain, b->deadline_ms);
		}
		for (unsigned i = 0; i < b->warm_set; i++) {
			if (fc[i])
				fcrdns_wait(fc[i]);
			if (md[i])
				mail_domain_wait(md[i]);
			fcrdns_free(fc[i]);
			mail_domain_free(md[i]);
		}
		free(fc);
		free(md);
	}
	free(scratch.client.v);
	free(scratch.sender.v);
	free(scratch.pair.v);
}

/* Lines in the responder's log: one per query it received. */
static long count_lines(const char *path)
{
	FILE *f;
	char buf[65536];
	size_t n;
	long lines = 0;

	if (!path || !(f = fopen(path, "r")))
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	fclose(f);
	return lines;
}

static FILE *open_out(const char *path)
{
	FILE *f;

	if (!path || strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "a");
	if (!f) {
		fprintf(stderr, "resolver-bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

static void close_out(FILE *f)
{
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

static void report_checks(struct bench *b, struct tally *t, double seconds, uint64_t cpu, long queries)
{
	struct percentiles c = samples_percentiles(&t->client), s = samples_percentiles(&t->sender),
			   p = samples_percentiles(&t->pair);
	unsigned long checks = 2 * t->iterations;
	double checks_per_s = seconds > 0 ? (double)checks / seconds : 0;
	double lookups_per_s = seconds > 0 ? (double)t->lookups / seconds : 0;
	double cpu_us = checks ? (double)cpu / 1000.0 / (double)checks : 0;
	double limit_ms = b->deadline_ms + 500.0;
	bool within = p.max_ms <= limit_ms;
	unsigned long c_ok = t->client_verdicts[FCRDNS_PASS], s_ok = t->sender_verdicts[MAIL_DOMAIN_OK];
	unsigned long c_temp = t->client_verdicts[FCRDNS_TEMPFAIL], s_temp = t->sender_verdicts[MAIL_DOMAIN_TEMPFAIL];
	char qpi[32] = "-";
	FILE *f;

	if (queries >= 0 && t->iterations)
		snprintf(qpi, sizeof(qpi), "%.2f", (double)queries / (double)t->iterations);

	f = open_out(b->json_path);
	fprintf(f,
		"{\"kind\":\"checks\",\"server\":\"%s\",\"cache\":\"%s\",\"style\":\"%s\",\"threads\":%u,"
		"\"deadline_ms\":%u,\"seconds\":%.3f,\"iterations\":%lu,\"checks\":%lu,\"lookups\":%lu,"
		"\"checks_per_s\":%.1f,\"lookups_per_s\":%.1f,\"cpu_us_per_check\":%.2f,"
		"\"client_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
		"\"sender_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
		"\"pair_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
		"\"client_verdicts\":{\"pass\":%lu,\"fail\":%lu,\"no_ptr\":%lu,\"tempfail\":%lu,\"tempfail_deadline\":%lu,\"bogus\":%lu},"
		"\"sender_verdicts\":{\"ok\":%lu,\"tempfail\":%lu,\"tempfail_deadline\":%lu,\"other\":%lu},"
		"\"within_deadline_plus_500ms\":%s,\"server_queries\":%ld}\n",
		b->label, b->cold ? "cold" : "warm", b->style_name, b->threads, b->deadline_ms, seconds, t->iterations,
		checks, t->lookups, checks_per_s, lookups_per_s, cpu_us, c.n, c.p50_ms, c.p99_ms, c.max_ms, s.n, s.p50_ms,
		s.p99_ms, s.max_ms, p.n, p.p50_ms, p.p99_ms, p.max_ms, c_ok, t->client_verdicts[FCRDNS_FAIL],
		t->client_verdicts[FCRDNS_NO_PTR], c_temp, t->client_deadline, t->client_verdicts[FCRDNS_BOGUS], s_ok, s_temp,
		t->sender_deadline, t->iterations - s_ok - s_temp, within ? "true" : "false", queries);
	close_out(f);

	f = open_out(b->md_path);
	fprintf(f,
		"| %s | %s | %s | %u | %.0f | %.0f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.0f | %.1f | "
		"%lu/%lu (%lu) | %lu/%lu (%lu) | %s | %s |\n",
		b->label, b->cold ? "cold" : "warm", b->style_name, b->threads, checks_per_s, lookups_per_s, c.p50_ms,
		c.p99_ms, s.p50_ms, s.p99_ms, p.p50_ms, p.p99_ms, p.max_ms, cpu_us, c_ok, c_temp, t->client_deadline, s_ok,
		s_temp, t->sender_deadline, qpi, within ? "yes" : "**NO**");
	close_out(f);
}

static int run_checks(struct bench *b)
{
	struct worker *workers = calloc(b->threads, sizeof(*workers));
	struct tally total = {0};
	uint64_t start, cpu_start, end, cpu_end;
	long queries_start, queries_end;
	char err[512];

	if (!workers)
		return 1;
	if (b->style == BENCH_SYNC) {
		if (sync_context(b))
			return 1;
	} else {
		struct resolver_options o = {0};
		o.dns.mode = DNS_MODE_FORWARD;
		o.dns.servers[0] = b->server;
		o.dns.server_count = 1;
		b->resolver = resolver_new(&o, err, sizeof(err));
		if (!b->resolver) {
			fprintf(stderr, "resolver-bench: %s\n", err);
			return 1;
		}
	}
	if (!b->cold)
		warm_up(b);

	pthread_barrier_init(&b->start, NULL, b->threads + 1);
	for (unsigned i = 0; i < b->threads; i++) {
		workers[i].b = b;
		workers[i].id = i;
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
			fprintf(stderr, "resolver-bench: cannot start thread %u\n", i);
			exit(1);
		}
	}
	queries_start = count_lines(b->responder_log);
	cpu_start = cpu_ns();
	start = now_ns();
	pthread_barrier_wait(&b->start);
	usleep(b->duration_ms * 1000u);
	atomic_store(&b->stop, true);
	for (unsigned i = 0; i < b->threads; i++)
		pthread_join(workers[i].thread, NULL);
	end = now_ns();
	cpu_end = cpu_ns();
	queries_end = count_lines(b->responder_log);
	pthread_barrier_destroy(&b->start);

	for (unsigned i = 0; i < b->threads; i++) {
		tally_merge(&total, &workers[i].t);
		free(workers[i].t.client.v);
		free(workers[i].t.sender.v);
		free(workers[i].t.pair.v);
	}
	free(workers);
	if (b->cold && total.iterations && atomic_load(&b->next_index) >= b->names)
		fprintf(stderr, "resolver-bench: note: %s cold %s t=%u used all %u names before %u ms\n", b->label,
			b->style_name, b->threads, b->names, b->duration_ms);
	report_checks(b, &total, (double)(end - start) / 1e9, cpu_end - cpu_start,
		      queries_start >= 0 && queries_end >= 0 ? queries_end - queries_start : -1);
	free(total.client.v);
	free(total.sender.v);
	free(total.pair.v);
	if (b->resolver)
		resolver_free(b->resolver);
	if (b->ub)
		ub_ctx_delete(b->ub);
	return 0;
}

/* ---- hand-off ---------------------------------------------------------------------------- */

enum handoff_kind { HANDOFF_EVENTFD, HANDOFF_ACTIVE, HANDOFF_ONCE };
static const char *const handoff_names[] = {"queue+eventfd", "queue+event_active", "event_base_once"};

struct handoff_item {
	struct handoff_item *next;
	pthread_mutex_t lock;
	pthread_cond_t seen_cond;
	bool seen;
};

struct handoff {
	enum handoff_kind kind;
	struct event_base *base;
	struct event *wake;
	int fd;
	pthread_mutex_t lock;
	struct handoff_item *head, *tail;
	bool pending;
	atomic_bool stop;
	unsigned long wakeups;	/* loop thread only */
};

static void handoff_deliver(struct handoff_item *item)
{
	pthread_mutex_lock(&item->lock);
	item->seen = true;
	pthread_cond_signal(&item->seen_cond);
	pthread_mutex_unlock(&item->lock);
}

static void handoff_drain(evutil_socket_t fd, short what, void *arg)
{
	struct handoff *h = arg;
	struct handoff_item *batch, *item;
	eventfd_t count;

	(void)what;
	if (h->kind == HANDOFF_EVENTFD)
		(void)eventfd_read(fd, &count);
	h->wakeups++;
	pthread_mutex_lock(&h->lock);
	batch = h->head;
	h->head = h->tail = NULL;
	h->pending = false;
	pthread_mutex_unlock(&h->lock);
	while ((item = batch)) {
		batch = item->next;
		handoff_deliver(item);
	}
	if (atomic_load(&h->stop))
		event_base_loopbreak(h->base);
}

static void handoff_once(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	handoff_deliver(arg);
}

static void handoff_send(struct handoff *h, struct handoff_item *item)
{
	bool wake;

	if (h->kind == HANDOFF_ONCE) {
		struct timeval zero = {0, 0};
		event_base_once(h->base, -1, EV_TIMEOUT, handoff_once, item, &zero);
		return;
	}
	item->next = NULL;
	pthread_mutex_lock(&h->lock);
	if (h->tail)
		h->tail->next = item;
	else
		h->head = item;
	h->tail = item;
	wake = !h->pending;
	h->pending = true;
	pthread_mutex_unlock(&h->lock);
	if (!wake)
		return;
	if (h->kind == HANDOFF_EVENTFD)
		(void)eventfd_write(h->fd, 1);
	else
		event_active(h->wake, EV_READ, 1);
}

struct producer {
	struct handoff *h;
	pthread_t thread;
	pthread_barrier_t *start;
	atomic_bool *stop;
	struct samples rt;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct handoff_item item = {0};

	pthread_mutex_init(&item.lock, NULL);
	pthread_cond_init(&item.seen_cond, NULL);
	pthread_barrier_wait(p->start);
	while (!atomic_load_explicit(p->stop, memory_order_relaxed)) {
		uint64_t t0 = now_ns();
		item.seen = false;
		handoff_send(p->h, &item);
		pthread_mutex_lock(&item.lock);
		while (!item.seen)
			pthread_cond_wait(&item.seen_cond, &item.lock);
		pthread_mutex_unlock(&item.lock);
		samples_add(&p->rt, now_ns() - t0);
	}
	pthread_cond_destroy(&item.seen_cond);
	pthread_mutex_destroy(&item.lock);
	return NULL;
}

static void *handoff_loop(void *arg)
{
	struct handoff *h = arg;

	event_base_loop(h->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static int run_handoff_kind(enum handoff_kind kind, unsigned threads, unsigned duration_ms, FILE *json, FILE *md)
{
	struct handoff h = {.kind = kind, .fd = -1};
	struct producer *producers = calloc(threads, sizeof(*producers));
	struct samples all = {0};
	pthread_barrier_t start;
	atomic_bool stop = false;
	pthread_t loop;
	uint64_t t0, t1, c0, c1;
	struct percentiles pc;
	struct event_config *cfg = event_config_new();

	if (!producers || !cfg)
		return 1;
	/* the eventfd variant, as in lib/resolver.c, needs no locking inside libevent */
	if (kind == HANDOFF_EVENTFD)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	h.base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!h.base)
		return 1;
	pthread_mutex_init(&h.lock, NULL);
	if (kind == HANDOFF_EVENTFD) {
		h.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		h.wake = event_new(h.base, h.fd, EV_READ | EV_PERSIST, handoff_drain, &h);
	} else {
		h.wake = event_new(h.base, -1, EV_PERSIST, handoff_drain, &h);
	}
	if (!h.wake || (kind == HANDOFF_EVENTFD && event_add(h.wake, NULL) != 0))
		return 1;
	pthread_create(&loop, NULL, handoff_loop, &h);
	pthread_barrier_init(&start, NULL, threads + 1);
	for (unsigned i = 0; i < threads; i++) {
		producers[i] = (struct producer){.h = &h, .start = &start, .stop = &stop};
		pthread_create(&producers[i].thread, NULL, produce, &producers[i]);
	}
	c0 = cpu_ns();
	t0 = now_ns();
	pthread_barrier_wait(&start);
	usleep(duration_ms * 1000u);
	atomic_store(&stop, true);
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(producers[i].thread, NULL);
		samples_merge(&all, &producers[i].rt);
		free(producers[i].rt.v);
	}
	t1 = now_ns();
	c1 = cpu_ns();
	/* stop the loop: one more wake-up through the same path */
	atomic_store(&h.stop, true);
	if (kind == HANDOFF_EVENTFD)
		(void)eventfd_write(h.fd, 1);
	else
		event_active(h.wake, EV_READ, 1);
	pthread_join(loop, NULL);

	pc = samples_percentiles(&all);
	{
		double seconds = (double)(t1 - t0) / 1e9, per_s = seconds > 0 ? (double)all.n / seconds : 0;
		double cpu_us = all.n ? (double)(c1 - c0) / 1000.0 / (double)all.n : 0;
		double per_wakeup = h.wakeups ? (double)all.n / (double)h.wakeups : 0;
		if (kind == HANDOFF_ONCE)
			per_wakeup = 1;
		fprintf(json,
			"{\"kind\":\"handoff\",\"method\":\"%s\",\"threads\":%u,\"handoffs\":%zu,\"per_s\":%.0f,"
			"\"round_trip_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"cpu_us_per_handoff\":%.2f,"
			"\"handoffs_per_wakeup\":%.2f}\n",
			handoff_names[kind], threads, all.n, per_s, pc.p50_ms * 1000, pc.p99_ms * 1000, pc.max_ms * 1000,
			cpu_us, per_wakeup);
		fprintf(md, "| %s | %u | %.0f | %.1f / %.1f | %.2f | %.2f |\n", handoff_names[kind], threads, per_s,
			pc.p50_ms * 1000, pc.p99_ms * 1000, cpu_us, per_wakeup);
	}
	free(all.v);
	free(producers);
	pthread_barrier_destroy(&start);
	event_free(h.wake);
	event_base_free(h.base);
	if (h.fd >= 0)
		close(h.fd);
	pthread_mutex_destroy(&h.lock);
	return 0;
}

static int run_handoff(unsigned threads, unsigned duration_ms, const char *json_path, const char *md_path)
{
	FILE *json, *md;
	int rc = 0;

	/* event_active() and event_base_once() from other threads need libevent's locking */
	if (evthread_use_pthreads() != 0) {
		fprintf(stderr, "resolver-bench: libevent has no pthreads support\n");
		return 1;
	}
	json = open_out(json_path);
	md = open_out(md_path);
	for (int kind = HANDOFF_EVENTFD; kind <= HANDOFF_ONCE && !rc; kind++)
		rc = run_handoff_kind((enum handoff_kind)kind, threads, duration_ms, json, md);
	close_out(json);
	close_out(md);
	return rc;
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct bench b = {.threads = 1, .duration_ms = 2000, .deadline_ms = 1000, .names = 65536, .warm_set = 512,
			  .label = "server", .style_name = "event"};
	bool have_server = false, handoff;
	int opt;

	if (argc < 2)
		usage();
	handoff = strcmp(argv[1], "handoff") == 0;
	if (!handoff && strcmp(argv[1], "checks") != 0)
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "s:S:t:c:D:d:n:w:l:L:j:m:")) != -1) {
		switch (opt) {
		case 's':
			if (!netaddr_parse_server(optarg, &b.server.addr, &b.server.port) ||
			    !netaddr_is_loopback_or_unspecified(&b.server.addr)) {
				fprintf(stderr, "resolver-bench: %s: a loopback server (127.0.0.0/8, ::1) is required\n",
					optarg);
				return 2;
			}
			have_server = true;
			break;
		case 'S':
			b.style_name = optarg;
			if (strcmp(optarg, "event") == 0)
				b.style = BENCH_EVENT;
			else if (strcmp(optarg, "sync") == 0)
				b.style = BENCH_SYNC;
			else
				usage();
			break;
		case 't':
			b.threads = number(optarg, 1, 4096);
			break;
		case 'c':
			if (strcmp(optarg, "warm") != 0 && strcmp(optarg, "cold") != 0)
				usage();
			b.cold = strcmp(optarg, "cold") == 0;
			break;
		case 'D':
			b.duration_ms = number(optarg, 1, 600000);
			break;
		case 'd':
			b.deadline_ms = number(optarg, 1, 600000);
			break;
		case 'n':
			b.names = number(optarg, 1, 65536);
			break;
		case 'w':
			b.warm_set = number(optarg, 1, 65536);
			break;
		case 'l':
			b.label = optarg;
			break;
		case 'L':
			b.responder_log = optarg;
			break;
		case 'j':
			b.json_path = optarg;
			break;
		case 'm':
			b.md_path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (handoff)
		return run_handoff(b.threads, b.duration_ms, b.json_path, b.md_path);
	if (!have_server)
		usage();
	if (b.warm_set > b.names)
		b.warm_set = b.names;
	/* netaddr_is_loopback_or_unspecified also lets 0.0.0.0 and :: through: not a server */
	{
		static const uint8_t zero[16];
		if (memcmp(b.server.addr.bytes, zero, b.server.addr.family == AF_INET ? 4 : 16) == 0) {
			fprintf(stderr, "resolver-bench: the server must be a loopback address\n");
			return 2;
		}
	}
	return run_checks(&b);
}
