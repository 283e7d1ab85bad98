/*
 * dns_questions - evidence bookkeeping shared by the checks; see dns_questions.h.
 */
#include "dns_questions.h"

struct dns_question *dns_questions_ask(struct dns_questions *set, const char *qname, uint16_t qtype, int tag)
{
	size_t slot = *set->count;
	struct dns_question *q;

	if (slot == set->max)
		return NULL;
	(*set->count)++;
	q = &set->questions[slot];
	q->set = set;
	q->owner = set->owner;
	q->slot = slot;
	q->tag = tag;
	q->answered = false;
	dns_evidence_unanswered(&set->evidence[slot], qname, qtype, DNS_CAUSE_DEADLINE, 0);
	if (dns_job_ask(set->job, qname, qtype, set->handler, q) != 0) {
		struct dns_answer local = {0};
		dns_evidence_unanswered(&local.ev, qname, qtype, DNS_CAUSE_LOCAL, 0);
		set->handler(set->job, q, &local);
	}
	return q;
}

bool dns_questions_record(struct dns_question *q, const struct dns_answer *answer)
{
	if (q->answered)
		return false;
	q->answered = true;
	q->set->evidence[q->slot] = answer->ev;
	return true;
}

size_t dns_questions_settle(struct dns_questions *set, bool decided, size_t *decisive)
{
	size_t kept = 0, first_open = 0;
	bool open_seen = false;

	if (!decided) {
		for (size_t i = 0; i < *set->count; i++)
			if (!set->questions[i].answered) {
				set->evidence[i].ms = dns_job_elapsed_ms(set->job);
				if (!open_seen) {
					first_open = i;
					open_seen = true;
				}
			}
		return first_open;
	}
	for (size_t i = 0; i < *set->count; i++) {
		if (!set->questions[i].answered)
			continue;
		if (i == *decisive)
			*decisive = kept;
		set->evidence[kept++] = set->evidence[i];
	}
	*set->count = kept;
	return *decisive;
}
