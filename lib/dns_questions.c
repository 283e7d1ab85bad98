/*
 * dns_questions - evidence bookkeeping and the store shared by the checks; see dns_questions.h.
 */
#include "dns_questions.h"

#include <stdlib.h>
#include <string.h>

/*
 * The first chunk of the store: 160 bytes with its header, room for what the common checks keep
 * (one PTR name and its reverse name, one HELO name, one MX host: a few names and question
 * records).  Evidence slots are allocated a few at a time.
 */
#define STORE_FIRST_CHUNK 144
#define STORE_CHUNK_MAX (64u * 1024)	/* far above what a check can keep; bounds the doubling */
#define EVIDENCE_FIRST_SLOTS 4

struct dns_store_chunk {
	struct dns_store_chunk *next;
	unsigned used, size;		/* bytes of data */
	max_align_t data[];		/* max_align_t: what dns_questions_alloc hands out is aligned */
};

/* `size` bytes of the store, at an offset that is a multiple of `align` (a power of two). */
static void *store_take(struct dns_questions *set, size_t size, size_t align)
{
	struct dns_store_chunk *chunk = set->chunks;
	size_t at = chunk ? (chunk->used + align - 1) & ~(align - 1) : 0;

	if (size > STORE_CHUNK_MAX)
		return NULL;
	if (!chunk || at > chunk->size || chunk->size - at < size) {
		size_t want = chunk ? 2 * (size_t)chunk->size : STORE_FIRST_CHUNK;
		if (want > STORE_CHUNK_MAX)
			want = STORE_CHUNK_MAX;
		if (want < size)
			want = size;
		chunk = malloc(sizeof(*chunk) + want);
		if (!chunk)
			return NULL;
		chunk->next = set->chunks;
		chunk->used = 0;
		chunk->size = (unsigned)want;
		set->chunks = chunk;
		at = 0;
	}
	chunk->used = (unsigned)(at + size);
	return (char *)chunk->data + at;
}

/* Whether `p` points into the store.  (Compared as integers: the pointers may belong to unrelated
 * objects.) */
static bool store_holds(const struct dns_questions *set, const void *p)
{
	uintptr_t u = (uintptr_t)p;

	for (const struct dns_store_chunk *c = set->chunks; c; c = c->next) {
		uintptr_t base = (uintptr_t)c->data;
		if (u >= base && u < base + c->used)
			return true;
	}
	return false;
}

const char *dns_questions_keep(struct dns_questions *set, const char *text, size_t size)
{
	size_t len;
	char *copy;

	if (!text)
		text = "";
	if (store_holds(set, text))
		return text;
	len = size ? strnlen(text, size - 1) : 0;
	copy = store_take(set, len + 1, 1);
	if (!copy)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return copy;
}

void *dns_questions_alloc(struct dns_questions *set, size_t size)
{
	void *p = store_take(set, size, _Alignof(max_align_t));

	if (p)
		memset(p, 0, size);
	return p;
}

/* A name for an evidence slot: one the store holds, or that a slot has already, or a copy. */
static const char *keep_name(struct dns_questions *set, const char *name)
{
	for (size_t i = 0; i < *set->count; i++)
		if (strcmp((*set->evidence)[i].qname, name) == 0)
			return (*set->evidence)[i].qname;
	return dns_questions_keep(set, name, DNS_NAME_TEXT_MAX);
}

/* Room for one more evidence slot; false when `max` are used or out of memory. */
static bool grow(struct dns_questions *set)
{
	size_t capacity;
	struct dns_evidence *evidence;

	if (*set->count >= set->max || *set->count >= DNS_QUESTIONS_MAX)
		return false;
	if (*set->count < set->capacity)
		return true;
	capacity = set->capacity ? 2 * set->capacity : EVIDENCE_FIRST_SLOTS;
	if (capacity > set->max)
		capacity = set->max;
	evidence = realloc(*set->evidence, capacity * sizeof(*evidence));
	if (!evidence)
		return false;
	*set->evidence = evidence;
	set->capacity = capacity;
	return true;
}

struct dns_question *dns_questions_ask(struct dns_questions *set, const char *qname, uint16_t qtype, int tag)
{
	struct dns_question *q;
	const char *name;
	size_t slot;

	if (!grow(set) || !(q = dns_questions_alloc(set, sizeof(*q))) || !(name = keep_name(set, qname)))
		return NULL;
	slot = (*set->count)++;
	q->set = set;
	q->slot = (uint16_t)slot;
	q->tag = (int16_t)tag;
	dns_evidence_unanswered(&(*set->evidence)[slot], name, qtype, DNS_CAUSE_DEADLINE, 0);
	if (dns_job_ask(set->job, name, qtype, set->handler, q) != 0) {
		struct dns_answer local = {0};
		dns_evidence_unanswered(&local.ev, name, qtype, DNS_CAUSE_LOCAL, 0);
		set->handler(set->job, q, &local);
	}
	return q;
}

bool dns_questions_record(struct dns_question *q, const struct dns_answer *answer)
{
	struct dns_questions *set = q->set;
	struct dns_evidence *ev = &(*set->evidence)[q->slot];
	const char *asked = ev->qname;
	uint64_t bit = (uint64_t)1 << q->slot;

	if (set->answered & bit)
		return false;
	set->answered |= bit;
	/* the answer's strings live only during the handler call: the slot keeps its own */
	*ev = answer->ev;
	ev->qname = asked;
	if (answer->ev.qname && strcmp(answer->ev.qname, asked) != 0) {
		/* the resolver's canonical text (with the final dot), as the log always showed it;
		 * out of memory, the name as asked */
		const char *canonical = keep_name(set, answer->ev.qname);
		if (canonical)
			ev->qname = canonical;
	}
	if (ev->why_bogus && !(ev->why_bogus = dns_questions_keep(set, ev->why_bogus, DNS_WHY_BOGUS_MAX)))
		ev->why_bogus = "";	/* out of memory: the outcome stands without libunbound's reason */
	return true;
}

bool dns_questions_adopt(struct dns_questions *set, const struct dns_evidence *ev)
{
	const char *qname, *why_bogus = NULL;
	size_t slot;

	if (!grow(set) || !(qname = keep_name(set, ev->qname ? ev->qname : "")))
		return false;
	if (ev->why_bogus && !(why_bogus = dns_questions_keep(set, ev->why_bogus, DNS_WHY_BOGUS_MAX)))
		return false;
	slot = (*set->count)++;
	(*set->evidence)[slot] = *ev;
	(*set->evidence)[slot].qname = qname;
	(*set->evidence)[slot].why_bogus = why_bogus;
	set->answered |= (uint64_t)1 << slot;
	return true;
}

size_t dns_questions_settle(struct dns_questions *set, bool decided, size_t *decisive)
{
	struct dns_evidence *evidence = *set->evidence;
	size_t kept = 0, first_open = 0;
	bool open_seen = false;

	if (!decided) {
		for (size_t i = 0; i < *set->count; i++)
			if (!(set->answered & ((uint64_t)1 << i))) {
				evidence[i].ms = dns_job_elapsed_ms(set->job);
				if (!open_seen) {
					first_open = i;
					open_seen = true;
				}
			}
		return first_open;
	}
	for (size_t i = 0; i < *set->count; i++) {
		if (!(set->answered & ((uint64_t)1 << i)))
			continue;
		if (i == *decisive)
			*decisive = kept;
		evidence[kept++] = evidence[i];
	}
	*set->count = kept;
	set->answered = kept == DNS_QUESTIONS_MAX ? UINT64_MAX : ((uint64_t)1 << kept) - 1;
	/* the result is final: give back the slots it does not use */
	if (kept == 0) {
		free(evidence);
		*set->evidence = NULL;
		set->capacity = 0;
	} else if (kept < set->capacity && (evidence = realloc(evidence, kept * sizeof(*evidence))) != NULL) {
		*set->evidence = evidence;
		set->capacity = kept;
	}
	return *decisive;
}

void dns_questions_finish(struct dns_questions *set, const bool *decided, size_t *decisive, unsigned *ms,
			  void (*undecided)(void *owner, size_t first_open))
{
	struct dns_job *job = set->job;

	if (!job)
		return;
	dns_job_wait(job);
	dns_job_lock(job);
	if (*decided)
		dns_questions_settle(set, true, decisive);
	else
		undecided(set->owner, dns_questions_settle(set, false, NULL));
	*ms = dns_job_elapsed_ms(job);
	dns_job_unlock(job);
	/* the job is over (dns_job_wait): no handler touches the check any more.  Let it go now, not
	 * when the session ends; lookups still in flight hold it until they come back. */
	dns_job_release(job);
	set->job = NULL;
}

bool dns_questions_start(struct dns_questions *set, struct resolver *resolver, unsigned deadline_ms)
{
	set->job = dns_job_new(resolver, deadline_ms);
	return set->job != NULL;
}

void dns_questions_release(struct dns_questions *set)
{
	dns_job_release(set->job);	/* first: no handler runs after it, the store may go */
	set->job = NULL;
	dns_questions_free(set);
}

void dns_questions_free(struct dns_questions *set)
{
	struct dns_store_chunk *chunk, *next;

	if (!set)
		return;
	if (set->evidence) {
		free(*set->evidence);
		*set->evidence = NULL;
	}
	set->capacity = 0;
	for (chunk = set->chunks; chunk; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	set->chunks = NULL;
}
