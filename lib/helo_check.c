/*
 * helo_check - HELO/EHLO name against DNS and the client address; see helo_check.h.
 */
#include "helo_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_questions.h"
#include "dns_rdata.h"

struct helo_check {
	struct helo_result result;
	struct netaddr client;
	bool decided;
	unsigned open;
	struct dns_questions set;	/* also the store the result's strings live in */
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
	if (c->set.job)
		dns_job_finish(c->set.job);
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
	struct dns_question *q = arg;
	struct helo_check *c = q->set->owner;

	(void)job;
	if (c->decided || !dns_questions_record(q, answer))
		return;
	c->open--;
	if (answer->ev.outcome == DNS_FOUND && answer->ev.qtype != LDNS_RR_TYPE_MX) {
		struct netaddr addrs[16];
		size_t n = dns_rdata_addresses(answer->packet, answer->ev.qtype, addrs, 16, NULL);
		for (size_t i = 0; i < n; i++)
			if (netaddr_equal(&addrs[i], &c->client)) {
				decide(c, HELO_OK, q->slot);
				return;
			}
	}
	if (c->open == 0)
		evaluate(c);
}

/* The HELO names the host whose address record confirmed the client: same name, same answer. */
static bool names_confirmed_host(const char *helo, const struct fcrdns_result *client)
{
	const char *host;
	size_t n;

	if (!client || client->verdict != FCRDNS_PASS || client->decisive >= client->evidence_count)
		return false;
	host = fcrdns_hostname(client);
	n = strlen(helo);
	if (n > 0 && helo[n - 1] == '.')
		n--;
	return strncasecmp(helo, host, n) == 0 && (host[n] == '\0' || (host[n] == '.' && host[n + 1] == '\0'));
}

struct helo_check *helo_check_start(struct resolver *resolver, const char *helo, const struct netaddr *client,
				    unsigned deadline_ms, const struct fcrdns_result *client_check)
{
	static const uint16_t types[3] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX};
	struct helo_check *c = calloc(1, sizeof(*c));
	struct netaddr addr;

	if (!c)
		return NULL;
	c->set = (struct dns_questions){.handler = on_answer, .owner = c, .evidence = &c->result.evidence,
					.count = &c->result.evidence_count, .max = 3};
	c->result.name = helo && *helo ? dns_questions_keep(&c->set, helo, DNS_NAME_TEXT_MAX) : "";
	if (!c->result.name) {
		free(c);
		return NULL;
	}
	c->client = *client;
	if (!helo || !*helo) {
		decide(c, HELO_UNRESOLVABLE, 0);
		return c;
	}
	if (literal(helo, &addr)) {
		decide(c, netaddr_equal(&addr, client) ? HELO_OK : HELO_MISMATCH, 0);
		return c;
	}
	/* only host-name characters are worth a question; anything else resolves nowhere */
	if (dns_plain_name_length(helo) == 0) {
		decide(c, HELO_UNRESOLVABLE, 0);
		return c;
	}
	/* the client check may be freed before this one: the evidence is copied, strings and all
	 * (out of memory, the name is asked about as any other) */
	if (names_confirmed_host(helo, client_check) &&
	    dns_questions_adopt(&c->set, &client_check->evidence[client_check->decisive])) {
		decide(c, HELO_OK, 0);
		dns_questions_settle(&c->set, true, &c->result.decisive);	/* final: keep no spare slot */
		return c;
	}
	if (!dns_questions_start(&c->set, resolver, deadline_ms)) {
		helo_check_free(c);
		return NULL;
	}
	dns_job_lock(c->set.job);
	/* all three at once; open is counted first, so an answer given at once cannot finish early */
	c->open = 3;
	for (size_t i = 0; i < 3 && !c->decided; i++)
		if (!dns_questions_ask(&c->set, c->result.name, types[i], (int)i))
			decide(c, HELO_TEMPFAIL, 0);	/* out of memory */
	dns_job_unlock(c->set.job);
	return c;
}

/* The deadline passed before a match: the verdict from the answers that did come. */
static void on_deadline(void *owner, size_t first_open)
{
	(void)first_open;
	evaluate(owner);
}

const struct helo_result *helo_check_wait(struct helo_check *c)
{
	dns_questions_finish(&c->set, &c->decided, &c->result.decisive, &c->result.ms, on_deadline);
	return &c->result;
}

void helo_check_free(struct helo_check *c)
{
	if (!c)
		return;
	dns_questions_release(&c->set);
	free(c);
}
