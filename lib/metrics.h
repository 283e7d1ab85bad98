/*
 * metrics - dnsguard's counters and gauges, and their rendering in the Prometheus text format.
 *
 * Counting happens where things happen, as relaxed atomic adds on process-wide counters (they
 * outlive configuration generations: a reload resets nothing): each decision by check, outcome
 * and action (metrics_count_decision), each DNS answer by outcome, cause and rcode with its
 * latency in a histogram (metrics_count_dns), SMTP sessions open (metrics_session_opened and
 * _closed), route service lookups by answer and stale answers (metrics_count_route).  Label sets
 * are the closed enums of policy.h and resolver.h: nothing a client sent becomes a label.
 *
 * What lives elsewhere is gathered at scrape time by the caller and handed in as struct
 * metrics_facts: whether sessions are accepted, the badmail store's usage, the server probe's
 * state per server and its counts.  metrics_render writes the whole exposition (text format
 * 0.0.4, `# HELP` and `# TYPE` for every family, label values escaped); metrics_health says
 * whether dnsguard is fit for mail, with a reason an admin can act on.
 *
 * Thread-safe and lock-free; no I/O, no logging.
 */
#ifndef DNSGUARD_METRICS_H
#define DNSGUARD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "probe_cache.h"
#include "resolver.h"
#include "strbuf.h"

/* The DNS answers of this window say whether DNS works, unless facts say otherwise. */
#define METRICS_DNS_WINDOW_MS 60000
/* The latency histogram's upper bounds, in milliseconds (and +Inf). */
#define METRICS_DNS_BUCKETS_MS {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}
#define METRICS_SERVERS_MAX 8
/* The exposition's size stays under this (metrics_render's strbuf maximum). */
#define METRICS_TEXT_MAX (256 * 1024)

/* ---- counting (hot paths: a few relaxed atomic adds each) -------------------------------- */

void metrics_count_decision(enum policy_check check, enum policy_outcome outcome, enum policy_action action);
/* One DNS question's end: answered, or cut short by its deadline. */
void metrics_count_dns(const struct dns_evidence *ev);
void metrics_session_opened(void);
void metrics_session_closed(void);

enum metrics_route_answer { METRICS_ROUTE_OK, METRICS_ROUTE_NOTFOUND, METRICS_ROUTE_TEMP, METRICS_ROUTE_PERM };
#define METRICS_ROUTE_ANSWERS 4
/* The answer of one route lookup as sent ("OK ...", "NOTFOUND ", "TEMP ...", "PERM ..."). */
enum metrics_route_answer metrics_route_answer_of(const char *reply);
void metrics_count_route(enum metrics_route_answer answer, bool stale);

/* ---- gathered at scrape time --------------------------------------------------------------- */

struct metrics_facts {
	bool accepting;			/* sessions are taken (not stopping) */
	unsigned dns_window_ms;		/* health_dns_window; 0: METRICS_DNS_WINDOW_MS */
	unsigned generation;		/* the configuration generation (reloads) */
	bool badmail_known;		/* its usage could be read */
	unsigned badmail_entries;
	unsigned long long badmail_bytes;
	bool probes_known;		/* the generation has a probe cache */
	unsigned long probes, probes_dropped;	/* its counts (reset by a reload) */
	size_t server_count;		/* what the server probe found of each (probe_cache_servers) */
	struct probe_cache_server servers[METRICS_SERVERS_MAX];
};

/* Whether dnsguard is fit for mail: accepting sessions, and DNS not failing (no usable answer in
 * the DNS window while questions failed in it; an idle daemon is healthy).  False with a sentence
 * in reason. */
bool metrics_health(const struct metrics_facts *facts, char *reason, size_t size);

/* The whole exposition, Prometheus text format 0.0.4. */
void metrics_render(const struct metrics_facts *facts, struct strbuf *out);

/* Appends `text` as a label value: \, " and newline escaped, any other control byte as \xHH would
 * not parse, so it becomes '?'. */
void metrics_append_label_value(struct strbuf *out, const char *text);

/* Forgets every count (tests only: the daemon's counters live as long as it). */
void metrics_reset(void);

#endif
