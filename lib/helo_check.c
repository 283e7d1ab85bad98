/*
 * helo_check - HELO/EHLO name against DNS and the client address; see helo_check.h.
 */
#include "helo_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_rdata.h"

struct ask {
	struct helo_check *check;
	size_t slot;
	bool answered;
};

struct helo_check {
	struct dns_job *job;	/* NULL for literals: decided at start */
	struct helo_result result;
	struct netaddr client;
	bool decided;
	struct ask asks[3];
	unsigned open;
};

const char *helo_verdict_name(enum helo_verdict verdict)
{
	switch (verdict) {
	case HELO_OK:
		return "ok";
	case HELO_MISMATCH:
		return "mismatch";
	case HELO_UNRESOLVABLE:
		return "unresolvable";
	case HELO_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

static void decide(struct helo_check *c, enum helo_verdict verdict, size_t decisive)
{
	if (c->decided)
		return;
	c->decided = true;
	c->result.verdict = verdict;
	c->result.decisive = decisive;
	if (c->job)
		dns_job_finish(c->job);
}

/* "[192.0.2.1]", "[IPv6:2001:db8::1]" or a bare address: true and the address if so. */
static bool literal(const char *helo, struct netaddr *out)
{
	char inner[DNS_NAME_TEXT_MAX];
	size_t len = strlen(helo);

	if (len >= 2 && helo[0] == '[' && helo[len - 1] == ']') {
		if (len - 2 >= sizeof(inner))
			return false;
		memcpy(inner, helo + 1, len - 2);
		inner[len - 2] = '\0';
		if (strncasecmp(inner, "IPv6:", 5) == 0)
			return netaddr_parse(inner + 5, out) && out->family == AF_INET6;
		return netaddr_parse(inner, out);
	}
	return netaddr_parse(helo, out);
}

/* Only host-name characters are worth a question; anything else resolves nowhere. */
static bool hostname_syntax(const char *name)
{
	size_t label = 0;

	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_') || ++label > 63)
			return false;
	}
	return strlen(name) <= 253;
}

/* Every answer is in: no address matched. */
static void evaluate(struct helo_check *c)
{
	const struct helo_result *r = &c->result;
	bool exists = false;

	for (size_t i = 0; i < r->evidence_count; i++) {
		if (r->evidence[i].outcome == DNS_TEMPFAIL || r->evidence[i].outcome == DNS_BOGUS) {
			decide(c, HELO_TEMPFAIL, i);
			return;
		}
		if (r->evidence[i].outcome == DNS_FOUND)
			exists = true;
	}
	decide(c, exists ? HELO_MISMATCH : HELO_UNRESOLVABLE, 0);
}

static void on_answer(struct dns_job *job, void *arg, const struct dns_answer *answer)
{
	struct ask *a = arg;
	struct helo_check *c = a->check;

	(void)job;
	if (a->answered || c->decided)
		return;
	a->answered = true;
	c->open--;
	c->result.evidence[a->slot] = answer->ev;
	if (answer->ev.outcome == DNS_FOUND && answer->ev.qtype != LDNS_RR_TYPE_MX) {
		struct netaddr addrs[16];
		size_t n = dns_rdata_addresses(answer->packet, answer->ev.qtype, addrs, 16, NULL);
		for (size_t i = 0; i < n; i++)
			if (netaddr_equal(&addrs[i], &c->client)) {
				decide(c, HELO_OK, a->slot);
				return;
			}
	}
	if (c->open == 0)
		evaluate(c);
}

struct helo_check *helo_check_start(struct resolver *resolver, const char *helo, const struct netaddr *client,
				    unsigned deadline_ms)
{
	static const uint16_t types[3] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX};
	struct helo_check *c = calloc(1, sizeof(*c));
	struct netaddr addr;

	if (!c)
		return NULL;
	snprintf(c->result.name, sizeof(c->result.name), "%s", helo ? helo : "");
	c->client = *client;
	if (!helo || !*helo) {
		decide(c, HELO_UNRESOLVABLE, 0);
		return c;
	}
	if (literal(helo, &addr)) {
		decide(c, netaddr_equal(&addr, client) ? HELO_OK : HELO_MISMATCH, 0);
		return c;
	}
	if (!hostname_syntax(helo)) {
		decide(c, HELO_UNRESOLVABLE, 0);
		return c;
	}
	c->job = dns_job_new(resolver, deadline_ms);
	if (!c->job) {
		free(c);
		return NULL;
	}
	dns_job_lock(c->job);
	for (size_t i = 0; i < 3 && !c->decided; i++) {
		struct ask *a = &c->asks[i];
		a->check = c;
		a->slot = i;
		c->result.evidence_count = i + 1;
		dns_evidence_unanswered(&c->result.evidence[i], helo, types[i], DNS_CAUSE_DEADLINE, 0);
		c->open++;
		if (dns_job_ask(c->job, helo, types[i], on_answer, a) != 0) {
			/* not a name DNS can ask for (spaces, empty labels, too long): it resolves nowhere */
			c->open--;
			a->answered = true;
			if (i == 0) {
				c->result.evidence_count = 0;
				decide(c, HELO_UNRESOLVABLE, 0);
			}
		}
	}
	dns_job_unlock(c->job);
	return c;
}

const struct helo_result *helo_check_wait(struct helo_check *c)
{
	if (!c->job)
		return &c->result;
	dns_job_wait(c->job);
	dns_job_lock(c->job);
	if (!c->decided) {
		for (size_t i = 0; i < c->result.evidence_count; i++)
			if (!c->asks[i].answered)
				c->result.evidence[i].ms = dns_job_elapsed_ms(c->job);
		evaluate(c);
	} else {
		/* questions cut short by an early verdict did not matter */
		size_t kept = 0;
		for (size_t i = 0; i < c->result.evidence_count; i++) {
			if (!c->asks[i].answered)
				continue;
			if (i == c->result.decisive)
				c->result.decisive = kept;
			c->result.evidence[kept++] = c->result.evidence[i];
		}
		c->result.evidence_count = kept;
	}
	c->result.ms = dns_job_elapsed_ms(c->job);
	dns_job_unlock(c->job);
	return &c->result;
}

void helo_check_free(struct helo_check *c)
{
	if (!c)
		return;
	dns_job_release(c->job);
	free(c);
}
