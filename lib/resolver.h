/*
 * resolver - every DNS question dnsguard asks, through one libunbound context.
 *
 * A resolver is one libunbound context (its cache serves every session) run on a libevent loop
 * by one thread of its own, which hands answers back (ub_resolve_event; the choice and its
 * numbers are in bench/RESULTS.md).  Questions are asked in jobs: a job groups the lookups of one
 * check under one deadline, lets each answer ask the next question (MX, then the addresses of
 * the MX hosts) and is waited for by the thread that needs the verdict.  Lookups run in
 * parallel; a job never takes longer than its deadline, whatever the servers do.
 *
 * Every answer is one of a closed set of outcomes and carries its evidence (what was asked, the
 * rcode, how long it took, the TTL, DNSSEC state) for logs, SMTP replies and NDRs.
 *
 * Lifetime: a resolver belongs to one configuration generation; reload builds a new one and the
 * old one is freed when its last session lets go, so lookups in flight are never dropped.
 */
#ifndef DNSGUARD_RESOLVER_H
#define DNSGUARD_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "dns_settings.h"

#define DNS_NAME_TEXT_MAX 256	/* a presentation-format name with its final dot, and NUL */

/* The closed set of what one DNS question can come to.  Never folded into one another. */
enum dns_outcome {
	DNS_FOUND,		/* records of the type asked (after following CNAMEs) */
	DNS_NODATA,		/* the name exists, no records of that type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_TEMPFAIL,		/* no usable answer now: see enum dns_cause */
	DNS_BOGUS,		/* DNSSEC validation failed (only with a trust anchor) */
};

/* Why an answer was DNS_TEMPFAIL. */
enum dns_cause {
	DNS_CAUSE_NONE,
	DNS_CAUSE_SERVFAIL,	/* the server (or libunbound on its behalf) said SERVFAIL */
	DNS_CAUSE_REFUSED,
	DNS_CAUSE_RCODE,	/* another error rcode (FORMERR, NOTIMP, ...) */
	DNS_CAUSE_DEADLINE,	/* no answer before the job's deadline */
	DNS_CAUSE_MALFORMED,	/* an answer that could not be read */
	DNS_CAUSE_LOCAL,	/* dnsguard itself could not ask (out of memory, libunbound error) */
};

#define DNS_WHY_BOGUS_MAX 160	/* a check keeps libunbound's reason cut to this, NUL included */

/*
 * What is known about one question: a plain value that checks copy and keep for logs and NDRs.
 * The strings are not the evidence's own.  In an answer handed to a handler they point into the
 * resolver's lookup and libunbound's result, valid during the handler call only; a check keeps
 * copies in its own store (dns_questions.h), valid as long as the check.  Whoever copies an
 * evidence out of a check into another that may outlive it copies the strings too
 * (dns_questions_adopt).
 */
struct dns_evidence {
	const char *qname;		/* presentation format: as asked, or once answered as the resolver
					 * wrote it (with the final dot); never NULL */
	const char *why_bogus;		/* libunbound's reason ("" if it gave none) when DNS_BOGUS; else NULL */
	enum dns_outcome outcome;
	enum dns_cause cause;		/* DNS_CAUSE_NONE unless outcome is DNS_TEMPFAIL */
	int rcode;			/* LDNS_RCODE_*, or -1 if there was no answer */
	unsigned ms;			/* from asking to the answer */
	uint32_t ttl;			/* of the answer, or of the negative answer */
	uint16_t qtype;
	bool secure;			/* DNSSEC validated */
};

/* One answer, as a handler sees it: valid only during the handler call, its evidence's strings
 * included (ev.qname is the lookup's copy of the name, ev.why_bogus libunbound's text). */
struct dns_answer {
	struct dns_evidence ev;
	const ldns_pkt *packet;		/* the whole answer, or NULL; read its records with dns_rdata.h */
};

/* Evidence as key=value pairs for a log line, prefixed by `prefix` (e.g. "mx_"):
 * `q=ok.test./MX outcome=nxdomain rcode=NXDOMAIN ms=2 ttl=300`. */
struct strbuf;
void dns_evidence_format(const struct dns_evidence *ev, const char *prefix, struct strbuf *out);
/* Fills ev for a question that was never answered (deadline, or could not be asked).  ev->qname
 * is `qname` itself, not a copy: the caller keeps it valid as long as ev. */
void dns_evidence_unanswered(struct dns_evidence *ev, const char *qname, uint16_t qtype, enum dns_cause cause,
			     unsigned ms);

const char *dns_outcome_name(enum dns_outcome outcome);	/* "found", "nodata", "nxdomain", ... */
const char *dns_cause_name(enum dns_cause cause);	/* "servfail", "deadline", ... ("" for none) */
/* "MX", "A", "TYPE65280": for logs. */
const char *dns_type_name(uint16_t qtype, char *buf, size_t size);
/* "NOERROR", "SERVFAIL", "RCODE23"; "none" for -1 (no answer). */
const char *dns_rcode_name(int rcode, char *buf, size_t size);
/*
 * The length of `name` if it is a plain host name (letters, digits, '-' and '_', labels of 1 to 63
 * octets, at most 253 octets without the final dot, which it may have), else 0: the only names
 * worth a question from a peer's text, and the ones ldns would print back unchanged.
 */
size_t dns_plain_name_length(const char *name);

/* ---- the resolver ------------------------------------------------------------------------ */

struct resolver_options {
	struct dns_settings dns;	/* servers, transport, built-in zones */
	const char *trust_anchor_file;	/* NULL or "": no DNSSEC validation */
	/*
	 * If set, told of every question that ends in trouble a server probe may explain: an answer
	 * that is DNS_TEMPFAIL for SERVFAIL, REFUSED, another rcode or a malformed message (on the
	 * resolver's own thread), and each question still open when a job's deadline cuts it short (in
	 * dns_job_wait, on the waiter's thread, as DNS_CAUSE_DEADLINE).  It must not block or call
	 * the resolver; ev and its strings are valid during the call only.
	 */
	void (*on_trouble)(void *arg, const struct dns_evidence *ev);
	void *on_trouble_arg;
	const char *resolv_conf;	/* DNS_MODE_RESOLV_CONF reads this; NULL: /etc/resolv.conf */
	const char *root_hints;		/* DNS_MODE_RECURSIVE: a private root; NULL: the Internet's */
	size_t cache_bytes;		/* message cache; the rrset cache gets twice as much; 0: 4 MB */
};

struct resolver;

/* A new resolver, ready to answer; NULL with a reason in err on failure. */
struct resolver *resolver_new(const struct resolver_options *options, char *err, size_t errlen);
/* Stops the loop thread, cancels what is in flight (its jobs see DNS_CAUSE_LOCAL or are already
 * done) and frees.  No job of this resolver may be waited on concurrently. */
void resolver_free(struct resolver *resolver);
/* One line for the startup log: "dns=forward servers=127.0.0.1@5353 transport=udp" etc. */
const char *resolver_describe(const struct resolver *resolver, char *buf, size_t size);

/* ---- jobs -------------------------------------------------------------------------------- */

struct dns_job;

/*
 * Called once per answer, on the resolver's loop thread, with the job locked: it may ask
 * further questions (dns_job_ask) and update the state its check keeps.  Not called once the job
 * is over (every lookup answered, or the deadline passed and a waiter saw it).
 */
typedef void dns_answer_handler(struct dns_job *job, void *arg, const struct dns_answer *answer);

/* A job with its deadline starting now.  NULL only when out of memory. */
struct dns_job *dns_job_new(struct resolver *resolver, unsigned deadline_ms);
/* The owner's reference; the job is freed when its last lookup has come back too. */
void dns_job_release(struct dns_job *job);

/* Lock around the first questions of a check and around reading its state after dns_job_wait;
 * handlers already run locked. */
void dns_job_lock(struct dns_job *job);
void dns_job_unlock(struct dns_job *job);

/*
 * Asks one question (job locked).  qname in presentation format, with or without the final dot.
 * Returns 0, or -1 if it could not be asked (bad name, job over, out of memory): the check
 * must then treat that question as DNS_CAUSE_LOCAL itself.
 */
int dns_job_ask(struct dns_job *job, const char *qname, uint16_t qtype, dns_answer_handler *handler, void *arg);

/*
 * Waits (job unlocked) until every question asked has been answered or the deadline has passed,
 * whichever comes first.  Returns true if all were answered; false if the deadline cut it short:
 * the questions still open count as DNS_CAUSE_DEADLINE, and no handler runs any more.
 */
bool dns_job_wait(struct dns_job *job);
/* From a handler: the check has its verdict, the questions still open no longer matter.  Wakes
 * the waiter; later answers only warm the cache. */
void dns_job_finish(struct dns_job *job);
/* Without waiting: true once dns_job_wait would return at once. */
bool dns_job_done(struct dns_job *job);
/* Milliseconds since the job started. */
unsigned dns_job_elapsed_ms(const struct dns_job *job);

#endif
