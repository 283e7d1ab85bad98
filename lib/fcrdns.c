/*
 * fcrdns - forward-confirmed reverse DNS on the resolver's jobs; see fcrdns.h.
 */
#include "fcrdns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_questions.h"
#include "dns_rdata.h"

struct fcrdns_check {
	struct fcrdns_result result;
	bool decided;
	unsigned open;		/* forward questions not answered yet */
	struct dns_questions set;	/* tag: index in names, or -1 for the PTR question; the store */
};

const char *fcrdns_verdict_name(enum fcrdns_verdict verdict)
{
	switch (verdict) {
	case FCRDNS_PASS:
		return "pass";
	case FCRDNS_FAIL:
		return "fail";
	case FCRDNS_NO_PTR:
		return "no-ptr";
	case FCRDNS_TEMPFAIL:
		return "tempfail";
	case FCRDNS_BOGUS:
		return "bogus";
	}
	return "?";
}

const char *fcrdns_iprev_result(enum fcrdns_verdict verdict)
{
	switch (verdict) {
	case FCRDNS_PASS:
		return "pass";
	case FCRDNS_FAIL:
		return "fail";
	case FCRDNS_NO_PTR:
		return "permerror";
	case FCRDNS_TEMPFAIL:
	case FCRDNS_BOGUS:
		return "temperror";
	}
	return "temperror";
}

const char *fcrdns_hostname(const struct fcrdns_result *r)
{
	return r->confirmed >= 0 ? r->names[r->confirmed] : "unknown";
}

static void decide(struct fcrdns_check *c, enum fcrdns_verdict verdict, size_t decisive)
{
	if (c->decided)
		return;
	c->decided = true;
	c->result.verdict = verdict;
	c->result.decisive = decisive;
	dns_job_finish(c->set.job);
}

static void on_answer(struct dns_job *job, void *arg, const struct dns_answer *answer);

static void ask(struct fcrdns_check *c, const char *qname, uint16_t qtype, int name)
{
	if (name >= 0)
		c->open++;
	if (!dns_questions_ask(&c->set, qname, qtype, name)) {
		/* out of memory (there is a slot for every question): no verdict to be had */
		if (name >= 0)
			c->open--;
		decide(c, FCRDNS_TEMPFAIL, 0);
	}
}

static uint16_t forward_type(const struct fcrdns_check *c)
{
	return c->result.client.family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
}

/* The PTR names into the result, copied into the check's store: how many, or -1 when out of
 * memory.  (Its own function: the names are read into a buffer of some kilobytes on the stack.) */
static int keep_names(struct fcrdns_check *c, const ldns_pkt *packet)
{
	char found[FCRDNS_NAMES_MAX][DNS_NAME_TEXT_MAX];
	struct fcrdns_result *r = &c->result;
	size_t n = dns_rdata_ptr(packet, found, FCRDNS_NAMES_MAX, NULL);

	if (n == 0)
		return 0;
	if (!(r->names = dns_questions_alloc(&c->set, n * sizeof(*r->names))))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!(r->names[i] = dns_questions_keep(&c->set, found[i], sizeof(found[i]))))
			return -1;
		r->name_count++;
	}
	return (int)n;
}

static void on_ptr(struct fcrdns_check *c, const struct dns_answer *answer)
{
	struct fcrdns_result *r = &c->result;

	switch (answer->ev.outcome) {
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		decide(c, FCRDNS_NO_PTR, 0);
		return;
	case DNS_TEMPFAIL:
		decide(c, FCRDNS_TEMPFAIL, 0);
		return;
	case DNS_BOGUS:
		decide(c, FCRDNS_BOGUS, 0);
		return;
	case DNS_FOUND:
		break;
	}
	switch (keep_names(c, answer->packet)) {
	case -1:
		decide(c, FCRDNS_TEMPFAIL, 0);	/* out of memory */
		return;
	case 0:
		/* PTR records, none readable: as good as none */
		decide(c, FCRDNS_NO_PTR, 0);
		return;
	default:
		break;
	}
	for (size_t i = 0; i < r->name_count && !c->decided; i++)
		ask(c, r->names[i], forward_type(c), (int)i);
}

static void on_forward(struct fcrdns_check *c, const struct dns_answer *answer, int name, size_t slot)
{
	struct netaddr addrs[16];
	size_t n;

	if (answer->ev.outcome != DNS_FOUND)
		return;
	n = dns_rdata_addresses(answer->packet, answer->ev.qtype, addrs, 16, NULL);
	for (size_t i = 0; i < n; i++)
		if (netaddr_equal(&addrs[i], &c->result.client)) {
			c->result.confirmed = name;
			decide(c, FCRDNS_PASS, slot);
			return;
		}
}

/* Every forward question answered, none confirmed. */
static void evaluate(struct fcrdns_check *c)
{
	const struct fcrdns_result *r = &c->result;

	for (size_t i = 1; i < r->evidence_count; i++)
		if (r->evidence[i].outcome == DNS_TEMPFAIL) {
			decide(c, FCRDNS_TEMPFAIL, i);
			return;
		}
	for (size_t i = 1; i < r->evidence_count; i++)
		if (r->evidence[i].outcome == DNS_BOGUS) {
			decide(c, FCRDNS_BOGUS, i);
			return;
		}
	decide(c, FCRDNS_FAIL, r->evidence_count > 1 ? 1 : 0);
}

static void on_answer(struct dns_job *job, void *arg, const struct dns_answer *answer)
{
	struct dns_question *q = arg;
	struct fcrdns_check *c = q->set->owner;

	(void)job;
	if (c->decided || !dns_questions_record(q, answer))
		return;
	if (q->tag < 0) {
		on_ptr(c, answer);
		return;
	}
	c->open--;
	on_forward(c, answer, q->tag, q->slot);
	if (!c->decided && c->open == 0)
		evaluate(c);
}

struct fcrdns_check *fcrdns_start(struct resolver *resolver, const struct netaddr *client, unsigned deadline_ms)
{
	struct fcrdns_check *c = calloc(1, sizeof(*c));
	char reverse[DNS_NAME_TEXT_MAX];

	if (!c)
		return NULL;
	c->set = (struct dns_questions){.handler = on_answer, .owner = c, .evidence = &c->result.evidence,
					.count = &c->result.evidence_count, .max = FCRDNS_EVIDENCE_MAX};
	if (!dns_questions_start(&c->set, resolver, deadline_ms)) {
		free(c);
		return NULL;
	}
	c->result.client = *client;
	c->result.confirmed = -1;
	dns_reverse_name(client, reverse, sizeof(reverse));
	dns_job_lock(c->set.job);
	ask(c, reverse, LDNS_RR_TYPE_PTR, -1);
	dns_job_unlock(c->set.job);
	return c;
}

/* The deadline passed before a verdict: what is still open is a temporary failure. */
static void on_deadline(void *owner, size_t first_open)
{
	struct fcrdns_check *c = owner;

	c->result.decisive = first_open;
	c->result.verdict = FCRDNS_TEMPFAIL;
	c->decided = true;
}

const struct fcrdns_result *fcrdns_wait(struct fcrdns_check *c)
{
	dns_questions_finish(&c->set, &c->decided, &c->result.decisive, &c->result.ms, on_deadline);
	return &c->result;
}

const struct fcrdns_result *fcrdns_peek(struct fcrdns_check *c)
{
	bool decided;

	if (!c)
		return NULL;
	if (!c->set.job)
		return &c->result;
	dns_job_lock(c->set.job);
	decided = c->decided;
	dns_job_unlock(c->set.job);
	return decided ? fcrdns_wait(c) : NULL;
}

void fcrdns_free(struct fcrdns_check *c)
{
	if (!c)
		return;
	dns_questions_release(&c->set);
	free(c);
}
