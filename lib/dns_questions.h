/*
 * dns_questions - the questions one check asks, each with a slot for its evidence.
 *
 * Every check (mail domain, FCrDNS, HELO) keeps the same books: each question it asks gets an
 * evidence slot, filled in when the answer comes or stamped "deadline" when it does not; a
 * question that cannot even be asked is answered at once as a local failure; once the verdict is
 * in, the questions it did not need are dropped from the evidence.  This is that bookkeeping, so
 * that a new check only writes its own logic.  All calls are made with the job locked.
 */
#ifndef DNSGUARD_DNS_QUESTIONS_H
#define DNSGUARD_DNS_QUESTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "resolver.h"

struct dns_questions;

/* One question; a handler gets it as `arg` and finds its check through `owner`. */
struct dns_question {
	struct dns_questions *set;
	void *owner;		/* the check */
	size_t slot;		/* index in the evidence */
	int tag;		/* the check's own index (which MX host, which PTR name); -1 for none */
	bool answered;
};

struct dns_questions {
	struct dns_job *job;
	dns_answer_handler *handler;	/* the check's; sees struct dns_question * as arg */
	void *owner;
	struct dns_question *questions;	/* the check's arrays, `max` long */
	struct dns_evidence *evidence;
	size_t max;
	size_t *count;			/* the check's evidence count */
};

/* Asks (job locked).  Returns the question, or NULL when `max` are asked already.  A question
 * that cannot be asked is answered at once, as DNS_CAUSE_LOCAL, through the handler. */
struct dns_question *dns_questions_ask(struct dns_questions *set, const char *qname, uint16_t qtype, int tag);
/* Records an answer in its slot; false if the question was answered already. */
bool dns_questions_record(struct dns_question *q, const struct dns_answer *answer);
/*
 * After dns_job_wait (job locked): if the check `decided`, drops the questions it did not need
 * and keeps *decisive pointing at the same evidence; else stamps the open ones with the time
 * waited and returns the first open slot (the one the deadline cut short).
 */
size_t dns_questions_settle(struct dns_questions *set, bool decided, size_t *decisive);

#endif
