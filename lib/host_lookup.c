/*
 * host_lookup - A and AAAA of one name; see host_lookup.h.
 */
#include "host_lookup.h"

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dns_rdata.h"

/* What one of the two questions brought back. */
struct half {
	bool answered;
	struct dns_evidence ev;
	char why_bogus[256];
	struct netaddr addresses[HOST_LOOKUP_ADDRESSES_MAX];
	size_t count;
};

struct lookup {
	struct half a, aaaa;
};

static void on_answer(struct dns_job *job, void *arg, const struct dns_answer *answer)
{
	struct lookup *l = arg;
	struct half *h = answer->ev.qtype == LDNS_RR_TYPE_A ? &l->a : &l->aaaa;

	(void)job;
	h->answered = true;
	h->ev = answer->ev;
	h->ev.qname = NULL;	/* the lookup's copy goes with the call; the result names its own */
	if (answer->ev.why_bogus) {
		snprintf(h->why_bogus, sizeof(h->why_bogus), "%s", answer->ev.why_bogus);
		h->ev.why_bogus = h->why_bogus;
	}
	if (answer->ev.outcome == DNS_FOUND && answer->packet)
		h->count = dns_rdata_addresses(answer->packet, answer->ev.qtype, h->addresses,
					       HOST_LOOKUP_ADDRESSES_MAX, NULL);
}

/* The evidence a half gives the result: its own, or "deadline" / "local" when it had none. */
static void half_evidence(struct half *h, uint16_t qtype, enum dns_cause cause, unsigned ms)
{
	if (h->answered)
		return;
	dns_evidence_unanswered(&h->ev, NULL, qtype, cause, ms);
}

static int rank(const struct dns_evidence *ev)
{
	switch (ev->outcome) {
	case DNS_TEMPFAIL:
		return 4;
	case DNS_BOGUS:
		return 3;
	case DNS_NXDOMAIN:
		return 2;
	case DNS_NODATA:
		return 1;
	case DNS_FOUND:
		break;
	}
	return 0;
}

void host_lookup(struct resolver *resolver, const char *name, unsigned deadline_ms, struct host_addresses *out)
{
	struct lookup l;
	struct dns_job *job = NULL;
	const struct half *decisive;
	int asked = 0;
	unsigned ms = 0;
	enum dns_cause cause = DNS_CAUSE_LOCAL;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	snprintf(out->qname, sizeof(out->qname), "%s", name ? name : "");
	if (name && dns_plain_name_length(name) && resolver && (job = dns_job_new(resolver, deadline_ms))) {
		dns_job_lock(job);
		asked += dns_job_ask(job, name, LDNS_RR_TYPE_A, on_answer, &l) == 0;
		asked += dns_job_ask(job, name, LDNS_RR_TYPE_AAAA, on_answer, &l) == 0;
		dns_job_unlock(job);
		if (asked)
			cause = dns_job_wait(job) ? DNS_CAUSE_LOCAL : DNS_CAUSE_DEADLINE;
		ms = dns_job_elapsed_ms(job);
		dns_job_lock(job);	/* no handler runs once the wait is over: the halves are ours */
	}
	half_evidence(&l.a, LDNS_RR_TYPE_A, cause, ms);
	half_evidence(&l.aaaa, LDNS_RR_TYPE_AAAA, cause, ms);
	if (job) {
		dns_job_unlock(job);
		dns_job_release(job);
	}

	for (size_t i = 0; i < l.a.count && out->count < HOST_LOOKUP_ADDRESSES_MAX; i++)
		out->addresses[out->count++] = l.a.addresses[i];
	for (size_t i = 0; i < l.aaaa.count && out->count < HOST_LOOKUP_ADDRESSES_MAX; i++)
		out->addresses[out->count++] = l.aaaa.addresses[i];
	if (out->count) {
		decisive = l.a.count ? &l.a : &l.aaaa;
		out->ttl = UINT32_MAX;
		if (l.a.count)
			out->ttl = l.a.ev.ttl;
		if (l.aaaa.count && l.aaaa.ev.ttl < out->ttl)
			out->ttl = l.aaaa.ev.ttl;
		out->outcome = DNS_FOUND;
	} else {
		decisive = rank(&l.aaaa.ev) > rank(&l.a.ev) ? &l.aaaa : &l.a;
		out->outcome = decisive->ev.outcome == DNS_FOUND ? DNS_NODATA : decisive->ev.outcome;
		out->ttl = decisive->ev.ttl;
	}
	out->evidence = decisive->ev;
	if (decisive->ev.why_bogus) {
		snprintf(out->why_bogus, sizeof(out->why_bogus), "%s", decisive->ev.why_bogus);
		out->evidence.why_bogus = out->why_bogus;
	}
	out->evidence.qname = out->qname;
}
