/*
 * probe_cache - why did a lookup fail?  The server probe (dns_probe.h), run off the mail path,
 * one finding per question asked, never one that contradicts the lookup's own evidence.
 *
 * libunbound reports only SERVFAIL or silence.  When a question ends in trouble, the resolver
 * tells the cache (resolver_options.on_trouble -> probe_cache_start), which only queues a probe:
 * its own worker threads send the same question straight to the servers dnsguard forwards to
 * (dns_servers, or the nameservers of resolv.conf; at most PROBE_CACHE_SERVERS of them, each for
 * at most PROBE_CACHE_DEADLINE_MS) and keep what each said for PROBE_CACHE_TTL_MS.  A decision
 * asks probe_cache_finding, which never waits: the finding if it is known, else "running", and
 * the finding is logged later as a follow-up line of the session's story.
 *
 * Findings are keyed by what was asked: (server, query name case-insensitively, query type).  A
 * finding is said of a failed lookup only when it fits that lookup's evidence
 * (probe_finding_fits): a resolver that answers SERVFAIL explains a SERVFAIL, not a deadline; a
 * resolver that answers nothing explains a deadline, not an rcode answered in 1 ms.  A server-wide
 * finding (the server answered nothing at all over UDP or TCP) may explain another question too,
 * but only while that server has failed every question probed in the window, and only when that
 * question's evidence fits it.  Nothing fits: nothing is said.
 *
 * A cache belongs to one configuration generation (lib/runtime.c), since its threads do not
 * survive fork and its servers are that generation's.  No globals; thread-safe.  Memory is
 * bounded: PROBE_CACHE_ENTRIES questions, PROBE_CACHE_QUEUE_MAX of them waiting for a worker,
 * PROBE_CACHE_FOLLOW_UPS_MAX follow-up lines pending; beyond that new work is dropped and counted
 * (probe_cache_stats), never grown.
 */
#ifndef DNSGUARD_PROBE_CACHE_H
#define DNSGUARD_PROBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_probe.h"
#include "dns_settings.h"
#include "resolver.h"

#define PROBE_CACHE_DEADLINE_MS 250	/* one probe of one server */
#define PROBE_CACHE_SERVERS 2		/* servers probed per question */
#define PROBE_CACHE_TTL_MS 5000		/* how long a finding is kept, and the server-wide window */
#define PROBE_CACHE_ENTRIES 128		/* questions known or being probed */
#define PROBE_CACHE_QUEUE_MAX 32	/* questions waiting for a worker */
#define PROBE_CACHE_FOLLOW_UPS_MAX 256	/* follow-up lines waiting for their probe */
#define PROBE_CACHE_WORKERS 2
#define PROBE_CACHE_LEAD_MAX 256	/* a follow-up lead longer than this is cut */

/*
 * The pure heart: may probe result `r` be said as the cause of the failed lookup `ev`?  True
 * only if the probe found something wrong on the transports a resolver would have used for it
 * (`transport`: UDP first and TCP after a truncated answer, or one of them only) and that fault
 * yields what the lookup saw:
 *   an error rcode (SERVFAIL, REFUSED, ...)   fits a SERVFAIL, or the same rcode;
 *   an unreadable answer                      fits a SERVFAIL or a malformed answer;
 *   a truncated answer where TCP is refused,
 *   closed or not allowed                     fits a SERVFAIL (libunbound fails at once);
 *   no answer at all (timeout, refused port,  fits a deadline, or a SERVFAIL that came no sooner
 *   unreachable)                              than PROBE_CACHE_DEADLINE_MS (a resolver giving up);
 *   a usable answer (NOERROR, NXDOMAIN)       fits nothing.
 * Evidence that is not DNS_TEMPFAIL, or DNS_CAUSE_LOCAL (dnsguard's own trouble), fits nothing.
 */
bool probe_finding_fits(const struct dns_evidence *ev, const struct dns_probe_result *r,
			enum dns_transport transport);

/* True if r says the server answered nothing, over UDP or TCP: a fact about the server, not
 * about the question (but see the window rule above). */
bool probe_finding_server_wide(const struct dns_probe_result *r);

struct probe_cache;

/*
 * A cache for the servers `dns` forwards to over dns->transport: dns->servers in DNS_MODE_FORWARD; in
 * DNS_MODE_RESOLV_CONF the nameservers of `resolv_conf` (NULL: /etc/resolv.conf), read now with
 * ldns as libunbound reads them; none when recursing (every finding is then PROBE_NONE).  Starts
 * the worker threads.  NULL with a reason in err on failure; a resolv.conf that cannot be read
 * is not a failure: the cache then probes nothing and `err` says why (err[0] is '\0' otherwise).
 */
struct probe_cache *probe_cache_new(const struct dns_settings *dns, const char *resolv_conf, char *err,
				    size_t errlen);
/* Stops the workers (waiting for a probe in flight: at most PROBE_CACHE_DEADLINE_MS, as each
 * worker stops between servers) and frees everything.  Follow-ups of a probe that completes are
 * logged; those of probes still queued are dropped unlogged.  NULL is fine. */
void probe_cache_free(struct probe_cache *pc);

/* The servers the cache probes, "127.0.0.1@5353,::1", for the startup line ("" if none). */
const char *probe_cache_describe(const struct probe_cache *pc, char *buf, size_t size);

/*
 * Never waits: queues a probe of ev's question unless one is queued, running or fresh, or every
 * server has failed every question in the window and ev fits that server-wide finding already.
 * Made for resolver_options.on_trouble (arg is the cache).  Evidence that no probe could explain
 * (not DNS_TEMPFAIL, or DNS_CAUSE_LOCAL) is ignored.
 */
void probe_cache_start(void *pc, const struct dns_evidence *ev);

enum probe_state {
	PROBE_NONE,	/* nothing to probe, or nothing found that fits this failure */
	PROBE_RUNNING,	/* the probe is queued or in flight (started now if it was not) */
	PROBE_KNOWN,	/* buf holds the finding for exactly this failure */
};

/*
 * Never waits.  KNOWN: buf holds the findings of the servers that fit `ev`, joined with "; "
 * ("the resolver 127.0.0.1 answers SERVFAIL over UDP and TCP").  RUNNING: buf is empty; if
 * follow_up_lead is not NULL, the cache copies it and, when the probe completes, logs one line
 * "<follow_up_lead> name=<qname> type=<qtype> finding=<sentence or none>" (log_warning when a
 * finding fits, log_info "finding=none" when none does), so that the finding joins the session's
 * story.  The lead is the start of a log line up to its event word ("4Xyz: probe session=s1").
 * One lead is logged once per question, however often it is passed.  NONE: buf is empty.
 */
enum probe_state probe_cache_finding(struct probe_cache *pc, const struct dns_evidence *ev,
				     const char *follow_up_lead, char *buf, size_t size);

struct probe_cache_stats {
	unsigned long probes;		/* questions probed */
	unsigned long dropped;		/* probes not queued: the queue or the table was full */
	unsigned long follow_ups_dropped;	/* follow-up lines not kept: too many pending */
};
void probe_cache_stats(struct probe_cache *pc, struct probe_cache_stats *out);

/* What the newest probe of a server in the last PROBE_CACHE_TTL_MS found, on the transports the
 * resolver uses (for the metrics endpoint). */
enum probe_server_state {
	PROBE_SERVER_UNPROBED,		/* no probe in the window: nothing failed lately */
	PROBE_SERVER_ANSWERING,		/* it answered usably */
	PROBE_SERVER_FAILING,		/* an error rcode, a truncated or unreadable answer */
	PROBE_SERVER_SILENT,		/* nothing at all over UDP or TCP */
};
#define PROBE_SERVER_STATES 4
const char *probe_server_state_name(enum probe_server_state state);	/* "unprobed", "answering", ... */

struct probe_cache_server {
	char name[80];			/* "127.0.0.1@5353" */
	enum probe_server_state state;
};
/* Fills out[] with each server the cache probes (at most max); returns how many. */
size_t probe_cache_servers(struct probe_cache *pc, struct probe_cache_server *out, size_t max);

#endif
