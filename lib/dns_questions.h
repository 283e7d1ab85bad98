/*
 * dns_questions - the questions one check asks, each with a slot for its evidence, and the
 * memory the check's result lives in.
 *
 * Every check (mail domain, FCrDNS, HELO) keeps the same books: each question it asks gets an
 * evidence slot, filled in when the answer comes or stamped "deadline" when it does not; a
 * question that cannot even be asked is answered at once as a local failure; once the verdict is
 * in, the questions it did not need are dropped from the evidence.  This is that bookkeeping, so
 * that a new check only writes its own logic.  All calls are made with the job locked (or, once
 * the job is over, by the check's owner alone).
 *
 * Memory: a session holds its checks for as long as it is open, so a check keeps only what it
 * used.  The evidence array grows with the questions asked (a few slots at a time, not the most a
 * check could ever ask) and is cut to what the verdict keeps when settled.  Everything else --
 * question records, the names and why_bogus texts the evidence points at, the check's own arrays
 * and names -- goes into the set's store: chunks that never move (pointers into them stay valid),
 * the first allocated on first use, each further one twice the size of the last; all freed
 * together by dns_questions_free.  A text already in the store, or already the name of an
 * evidence slot, is not copied again.
 */
#ifndef DNSGUARD_DNS_QUESTIONS_H
#define DNSGUARD_DNS_QUESTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver.h"

struct dns_questions;
struct dns_store_chunk;

/* One question; a handler gets it as `arg` and finds its check through set->owner.  Lives in the
 * set's store; a lookup in flight holds it as `arg`, but hands it to no handler once the job is
 * over, so the store may be freed then. */
struct dns_question {
	struct dns_questions *set;
	uint16_t slot;		/* index in the evidence */
	int16_t tag;		/* the check's own index (which MX host, which PTR name); -1 for none */
};

#define DNS_QUESTIONS_MAX 64	/* slots in one set: one bit each in `answered` */

/* Set up by the check with the first six fields; the rest start at zero. */
struct dns_questions {
	struct dns_job *job;
	dns_answer_handler *handler;	/* the check's; sees struct dns_question * as arg */
	void *owner;			/* the check */
	struct dns_evidence **evidence;	/* the check's result field: an array grown here */
	size_t *count;			/* the check's evidence count */
	size_t max;			/* slots the check may use, at most DNS_QUESTIONS_MAX */
	size_t capacity;		/* evidence slots allocated */
	uint64_t answered;		/* bit i: slot i has its answer (or was adopted) */
	struct dns_store_chunk *chunks;	/* the store, newest chunk first; NULL until first used */
};

/* Gives the set its job, the deadline starting now (after the first six fields are set).  False
 * when out of memory. */
bool dns_questions_start(struct dns_questions *set, struct resolver *resolver, unsigned deadline_ms);

/*
 * Asks (job locked).  Returns the question, or NULL when it could not be recorded: `max` are
 * asked already, or out of memory (the check then cannot reach a verdict: it is a temporary
 * failure).  A question that cannot be asked is answered at once, as DNS_CAUSE_LOCAL, through the
 * handler.  The slot's qname is a copy in the store (or `qname` itself if it is in the store).
 */
struct dns_question *dns_questions_ask(struct dns_questions *set, const char *qname, uint16_t qtype, int tag);
/* Records an answer in its slot, its strings copied into the store; false if the question was
 * answered already. */
bool dns_questions_record(struct dns_question *q, const struct dns_answer *answer);
/*
 * After dns_job_wait (job locked): if the check `decided`, drops the questions it did not need
 * and keeps *decisive pointing at the same evidence; else stamps the open ones with the time
 * waited and returns the first open slot (the one the deadline cut short).
 */
size_t dns_questions_settle(struct dns_questions *set, bool decided, size_t *decisive);
/*
 * The end of a check, by its owner (not locked): waits for the job — the check's verdict or its
 * deadline — then, with the job locked, settles the evidence (dns_questions_settle) and, if the
 * check had not decided (*decided false), lets `undecided` give it a verdict from what is in
 * (`first_open`: the slot the deadline cut short); stamps *ms with the time waited and releases
 * the job.  No handler runs after it returns; set->job is then NULL, and a second call (or one for
 * a check decided without asking) does nothing: a check's wait is this call and its result.
 */
void dns_questions_finish(struct dns_questions *set, const bool *decided, size_t *decisive, unsigned *ms,
			  void (*undecided)(void *owner, size_t first_open));
/* Appends a copy of `ev` (from another check, or made up) as an answered slot, its strings copied
 * into the store, so that it stays valid as long as this set.  false when out of memory. */
bool dns_questions_adopt(struct dns_questions *set, const struct dns_evidence *ev);

/* A copy of `text` cut to size - 1 bytes, valid until dns_questions_free; `text` itself if it is in
 * the store already.  NULL when out of memory. */
const char *dns_questions_keep(struct dns_questions *set, const char *text, size_t size);
/* `size` zeroed bytes, aligned for any type, valid until dns_questions_free; NULL when out of
 * memory. */
void *dns_questions_alloc(struct dns_questions *set, size_t size);
/* Frees the evidence array and the store (the job must be over: no handler may run any more). */
void dns_questions_free(struct dns_questions *set);
/* The end of a check, finished or not: lets its job go first (no handler runs after that; lookups
 * in flight hold the job, not the check), then frees as dns_questions_free. */
void dns_questions_release(struct dns_questions *set);

#endif
