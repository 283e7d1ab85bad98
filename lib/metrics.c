/*
 * metrics - process-wide counters and their exposition; see metrics.h.
 *
 * Every counter is an _Atomic unsigned long updated with memory_order_relaxed: a scrape may see
 * one counter a moment ahead of another, never a torn or lost count, and counting never waits.
 * The DNS times are milliseconds of CLOCK_MONOTONIC_COARSE (a few ms of resolution is plenty for
 * a window of seconds, and it costs a few ns where the precise clock costs tens) of the newest
 * usable answer and the newest failure, stored (not added) by whichever thread answers last; a
 * scrape reads them once.
 *
 * It does not: gather what other modules hold (the caller hands it in), or write anywhere but the
 * strbuf it is given.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ACTIONS (POLICY_LOG_ONLY + 1)
#define OUTCOMES (DNS_BOGUS + 1)
#define CAUSES (DNS_CAUSE_LOCAL + 1)
#define RCODE_NONE 16		/* no answer at all */
#define RCODE_OTHER 17		/* an extended rcode */
#define RCODES 18

static const unsigned bucket_ms[] = METRICS_DNS_BUCKETS_MS;
#define BUCKETS (sizeof(bucket_ms) / sizeof(bucket_ms[0]))

typedef _Atomic unsigned long counter;

static struct {
	counter decisions[POLICY_CHECK_COUNT][POLICY_OUTCOME_COUNT][ACTIONS];
	counter dns_outcomes[OUTCOMES];
	counter dns_causes[CAUSES];
	counter dns_rcodes[RCODES];
	counter dns_buckets[BUCKETS + 1];	/* not cumulative here: the render adds them up */
	counter dns_ms_sum;
	_Atomic long long dns_last_usable_ms;	/* 0: never */
	_Atomic long long dns_last_failure_ms;
	counter sessions_total;
	_Atomic long sessions_open;
	counter route_answers[METRICS_ROUTE_ANSWERS];
	counter route_stale;
} m;

static long long coarse_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Stores now, unless it is there already: most answers come within one tick, and a line read
 * is cheaper for other cores than a line written. */
static void stamp(_Atomic long long *when)
{
	long long now = coarse_ms();

	if (atomic_load_explicit(when, memory_order_relaxed) != now)
		atomic_store_explicit(when, now, memory_order_relaxed);
}

static void add(counter *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static unsigned long get(const counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- counting -------------------------------------------------------------------------------- */

void metrics_count_decision(enum policy_check check, enum policy_outcome outcome, enum policy_action action)
{
	if ((unsigned)check < POLICY_CHECK_COUNT && (unsigned)outcome < POLICY_OUTCOME_COUNT && (unsigned)action < ACTIONS)
		add(&m.decisions[check][outcome][action]);
}

void metrics_count_dns(const struct dns_evidence *ev)
{
	size_t b = 0;
	int rcode = ev->rcode;

	if ((unsigned)ev->outcome < OUTCOMES)
		add(&m.dns_outcomes[ev->outcome]);
	if (ev->outcome == DNS_TEMPFAIL && (unsigned)ev->cause < CAUSES)
		add(&m.dns_causes[ev->cause]);
	add(&m.dns_rcodes[rcode < 0 ? RCODE_NONE : rcode < 16 ? rcode : RCODE_OTHER]);
	while (b < BUCKETS && ev->ms > bucket_ms[b])
		b++;
	add(&m.dns_buckets[b]);
	atomic_fetch_add_explicit(&m.dns_ms_sum, ev->ms, memory_order_relaxed);
	/* dnsguard's own trouble (out of memory) says nothing about the servers */
	if (ev->outcome != DNS_TEMPFAIL)
		stamp(&m.dns_last_usable_ms);
	else if (ev->cause != DNS_CAUSE_LOCAL)
		stamp(&m.dns_last_failure_ms);
}

void metrics_session_opened(void)
{
	add(&m.sessions_total);
	atomic_fetch_add_explicit(&m.sessions_open, 1, memory_order_relaxed);
}

void metrics_session_closed(void)
{
	atomic_fetch_sub_explicit(&m.sessions_open, 1, memory_order_relaxed);
}

enum metrics_route_answer metrics_route_answer_of(const char *reply)
{
	if (strncmp(reply, "OK", 2) == 0)
		return METRICS_ROUTE_OK;
	if (strncmp(reply, "NOTFOUND", 8) == 0)
		return METRICS_ROUTE_NOTFOUND;
	if (strncmp(reply, "PERM", 4) == 0)
		return METRICS_ROUTE_PERM;
	return METRICS_ROUTE_TEMP;	/* TEMP, TIMEOUT, or nothing (sent as TEMP) */
}

void metrics_count_route(enum metrics_route_answer answer, bool stale)
{
	if ((unsigned)answer < METRICS_ROUTE_ANSWERS)
		add(&m.route_answers[answer]);
	if (stale)
		add(&m.route_stale);
}

void metrics_reset(void)
{
	memset(&m, 0, sizeof(m));
}

/* ---- health ---------------------------------------------------------------------------------- */

/* Whether DNS fails: questions failed in the window and none was answered usably in it. */
static bool dns_failing(const struct metrics_facts *facts, long long now, long long *usable_age_ms)
{
	long long window = facts->dns_window_ms ? facts->dns_window_ms : METRICS_DNS_WINDOW_MS;
	long long usable = atomic_load_explicit(&m.dns_last_usable_ms, memory_order_relaxed);
	long long failure = atomic_load_explicit(&m.dns_last_failure_ms, memory_order_relaxed);

	*usable_age_ms = usable ? now - usable : -1;
	if (!failure || now - failure > window)
		return false;
	return !usable || now - usable > window;
}

bool metrics_health(const struct metrics_facts *facts, char *reason, size_t size)
{
	long long usable_age;

	if (!facts->accepting) {
		snprintf(reason, size, "not accepting sessions: dnsguard is stopping");
		return false;
	}
	if (dns_failing(facts, coarse_ms(), &usable_age)) {
		if (usable_age < 0)
			snprintf(reason, size, "DNS is failing: no usable answer since dnsguard started, and "
					       "questions failed in the last %u s",
				 (facts->dns_window_ms ? facts->dns_window_ms : METRICS_DNS_WINDOW_MS) / 1000);
		else
			snprintf(reason, size, "DNS is failing: the last usable answer came %lld s ago, and "
					       "questions failed since", usable_age / 1000);
		return false;
	}
	snprintf(reason, size, "ok");
	return true;
}

/* ---- the exposition -------------------------------------------------------------------------- */

void metrics_append_label_value(struct strbuf *out, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\\')
			strbuf_append(out, "\\\\");
		else if (*p == '"')
			strbuf_append(out, "\\\"");
		else if (*p == '\n')
			strbuf_append(out, "\\n");
		else if (*p < 0x20 || *p == 0x7f)
			strbuf_append(out, "?");
		else
			strbuf_append_len(out, (const char *)p, 1);
	}
}

static void family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `name{key="value"} n`: one label, or none when key is NULL. */
static void sample(struct strbuf *out, const char *name, const char *key, const char *value, unsigned long long n)
{
	strbuf_append(out, name);
	if (key) {
		strbuf_appendf(out, "{%s=\"", key);
		metrics_append_label_value(out, value);
		strbuf_append(out, "\"}");
	}
	strbuf_appendf(out, " %llu\n", n);
}

static void render_decisions(struct strbuf *out)
{
	family(out, "dnsguard_decisions_total", "counter",
	       "Decisions made, by check, outcome and the policy's action (one per check and recipient).");
	for (unsigned c = 0; c < POLICY_CHECK_COUNT; c++)
		for (unsigned o = 0; o < POLICY_OUTCOME_COUNT; o++) {
			if (!policy_outcome_possible((enum policy_check)c, (enum policy_outcome)o))
				continue;
			for (unsigned a = 0; a < ACTIONS; a++)
				strbuf_appendf(out, "dnsguard_decisions_total{check=\"%s\",outcome=\"%s\",action=\"%s\"} %lu\n",
					       policy_check_name((enum policy_check)c),
					       policy_outcome_name((enum policy_outcome)o),
					       policy_action_name((enum policy_action)a), get(&m.decisions[c][o][a]));
		}
}

static void render_dns(struct strbuf *out)
{
	unsigned long cumulative = 0;
	char name[32];

	family(out, "dnsguard_dns_answers_total", "counter", "DNS questions ended, by outcome.");
	for (unsigned o = 0; o < OUTCOMES; o++)
		sample(out, "dnsguard_dns_answers_total", "outcome", dns_outcome_name((enum dns_outcome)o),
		       get(&m.dns_outcomes[o]));
	family(out, "dnsguard_dns_failures_total", "counter", "DNS questions that ended in a temporary failure, by cause.");
	for (unsigned c = DNS_CAUSE_NONE + 1; c < CAUSES; c++)
		sample(out, "dnsguard_dns_failures_total", "cause", dns_cause_name((enum dns_cause)c), get(&m.dns_causes[c]));
	family(out, "dnsguard_dns_rcodes_total", "counter", "DNS answers by rcode (none: no answer came).");
	for (unsigned r = 0; r < RCODES; r++) {
		if (r == RCODE_OTHER)
			snprintf(name, sizeof(name), "other");
		else
			dns_rcode_name(r == RCODE_NONE ? -1 : (int)r, name, sizeof(name));
		sample(out, "dnsguard_dns_rcodes_total", "rcode", name, get(&m.dns_rcodes[r]));
	}
	family(out, "dnsguard_dns_duration_seconds", "histogram", "Time from asking a DNS question to its end.");
	for (size_t b = 0; b <= BUCKETS; b++) {
		cumulative += get(&m.dns_buckets[b]);
		if (b < BUCKETS)
			strbuf_appendf(out, "dnsguard_dns_duration_seconds_bucket{le=\"%u.%03u\"} %lu\n", bucket_ms[b] / 1000,
				       bucket_ms[b] % 1000, cumulative);
		else
			strbuf_appendf(out, "dnsguard_dns_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cumulative);
	}
	unsigned long sum = get(&m.dns_ms_sum);
	strbuf_appendf(out, "dnsguard_dns_duration_seconds_sum %lu.%03lu\n", sum / 1000, sum % 1000);
	strbuf_appendf(out, "dnsguard_dns_duration_seconds_count %lu\n", cumulative);
}

static void render_age(struct strbuf *out, const char *name, const char *help, _Atomic long long *when, long long now)
{
	long long t = atomic_load_explicit(when, memory_order_relaxed);

	if (!t)
		return;		/* never: no sample, rather than a made-up age */
	family(out, name, "gauge", help);
	strbuf_appendf(out, "%s %lld.%03lld\n", name, (now - t) / 1000, (now - t) % 1000);
}

static void render_servers(struct strbuf *out, const struct metrics_facts *f)
{
	family(out, "dnsguard_dns_server_state", "gauge",
	       "What the newest server probe found of each DNS server dnsguard forwards to (1 for its state).");
	for (size_t i = 0; i < f->server_count && i < METRICS_SERVERS_MAX; i++)
		for (unsigned s = 0; s < PROBE_SERVER_STATES; s++) {
			strbuf_append(out, "dnsguard_dns_server_state{server=\"");
			metrics_append_label_value(out, f->servers[i].name);
			strbuf_appendf(out, "\",state=\"%s\"} %d\n", probe_server_state_name((enum probe_server_state)s),
				       f->servers[i].state == s);
		}
	if (f->probes_known) {
		family(out, "dnsguard_dns_probes_total", "counter", "Server probes made (since the last reload).");
		sample(out, "dnsguard_dns_probes_total", NULL, NULL, f->probes);
		family(out, "dnsguard_dns_probes_dropped_total", "counter",
		       "Server probes not made: the probe queue was full (since the last reload).");
		sample(out, "dnsguard_dns_probes_dropped_total", NULL, NULL, f->probes_dropped);
	}
}

void metrics_render(const struct metrics_facts *f, struct strbuf *out)
{
	static const char *const route_answers[METRICS_ROUTE_ANSWERS] = {"ok", "notfound", "temp", "perm"};
	long long now = coarse_ms(), usable_age;
	long open = atomic_load_explicit(&m.sessions_open, memory_order_relaxed);

	family(out, "dnsguard_up", "gauge", "1: dnsguard answers.");
	sample(out, "dnsguard_up", NULL, NULL, 1);
	family(out, "dnsguard_accepting_sessions", "gauge", "1: new SMTP sessions are taken; 0: dnsguard is stopping.");
	sample(out, "dnsguard_accepting_sessions", NULL, NULL, f->accepting);
	family(out, "dnsguard_dns_healthy", "gauge",
	       "0: DNS questions failed in health_dns_window and none was answered usably in it.");
	sample(out, "dnsguard_dns_healthy", NULL, NULL, !dns_failing(f, now, &usable_age));
	family(out, "dnsguard_config_generation", "gauge", "The configuration generation (1 at start, one more per reload).");
	sample(out, "dnsguard_config_generation", NULL, NULL, f->generation);

	family(out, "dnsguard_sessions_open", "gauge", "SMTP sessions open now.");
	sample(out, "dnsguard_sessions_open", NULL, NULL, open < 0 ? 0 : (unsigned long long)open);
	family(out, "dnsguard_sessions_total", "counter", "SMTP sessions begun.");
	sample(out, "dnsguard_sessions_total", NULL, NULL, get(&m.sessions_total));

	render_decisions(out);
	render_dns(out);
	render_age(out, "dnsguard_dns_last_usable_answer_age_seconds", "Seconds since a DNS question was last answered usably.",
		   &m.dns_last_usable_ms, now);
	render_age(out, "dnsguard_dns_last_failure_age_seconds", "Seconds since a DNS question last failed.",
		   &m.dns_last_failure_ms, now);
	render_servers(out, f);

	family(out, "dnsguard_route_lookups_total", "counter", "Route service lookups, by answer.");
	for (unsigned a = 0; a < METRICS_ROUTE_ANSWERS; a++)
		sample(out, "dnsguard_route_lookups_total", "answer", route_answers[a], get(&m.route_answers[a]));
	family(out, "dnsguard_route_stale_answers_total", "counter",
	       "Route lookups answered with a smart host's last good addresses while its refresh fails.");
	sample(out, "dnsguard_route_stale_answers_total", NULL, NULL, get(&m.route_stale));

	if (f->badmail_known) {
		family(out, "dnsguard_badmail_entries", "gauge", "Entries in the badmail store.");
		sample(out, "dnsguard_badmail_entries", NULL, NULL, f->badmail_entries);
		family(out, "dnsguard_badmail_bytes", "gauge", "Bytes in the badmail store.");
		sample(out, "dnsguard_badmail_bytes", NULL, NULL, f->badmail_bytes);
	}
}
