/*
 * mail_domain - RFC 5321 5.1 mail-domain resolution on the resolver's jobs; see mail_domain.h.
 */
#include "mail_domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_questions.h"

struct host {
	const char *name;	/* the result's domain or MX host: in the store */
	unsigned open;		/* A/AAAA questions not answered yet */
	bool loopback_only;	/* resolved, but only to loopback/unspecified addresses */
};

struct mail_domain_check {
	struct mail_domain_result result;
	bool decided;
	struct dns_questions set;	/* tag: index in hosts, or -1 for the MX question; the store */
	struct host *hosts;	/* in the store, room for host_max (one per MX record, or the domain) */
	size_t host_max, host_count;
	size_t bad_hosts;	/* localhost or literal MX targets, never asked */
};

const char *mail_domain_verdict_name(enum mail_domain_verdict verdict)
{
	switch (verdict) {
	case MAIL_DOMAIN_OK:
		return "ok";
	case MAIL_DOMAIN_NULL_MX:
		return "null-mx";
	case MAIL_DOMAIN_NXDOMAIN:
		return "nxdomain";
	case MAIL_DOMAIN_NO_ADDRESS:
		return "no-address";
	case MAIL_DOMAIN_MX_UNRESOLVABLE:
		return "mx-unresolvable";
	case MAIL_DOMAIN_LOOPBACK:
		return "loopback";
	case MAIL_DOMAIN_TEMPFAIL:
		return "tempfail";
	case MAIL_DOMAIN_BOGUS:
		return "bogus";
	}
	return "?";
}

static void decide(struct mail_domain_check *c, enum mail_domain_verdict verdict, size_t decisive)
{
	if (c->decided)
		return;
	c->decided = true;
	c->result.verdict = verdict;
	c->result.decisive = decisive;
	dns_job_finish(c->set.job);
}

static void on_answer(struct dns_job *job, void *arg, const struct dns_answer *answer);

/* Asks one question for mail host `host` (-1: the MX question). */
static void ask(struct mail_domain_check *c, const char *qname, uint16_t qtype, int host)
{
	if (host >= 0)
		c->hosts[host].open++;
	if (!dns_questions_ask(&c->set, qname, qtype, host)) {
		/* out of memory (there is a slot for every question): no verdict to be had */
		if (host >= 0)
			c->hosts[host].open--;
		decide(c, MAIL_DOMAIN_TEMPFAIL, 0);
	}
}

/* An MX target that names no real host: "localhost" or an address written as a name. */
static bool bad_target(struct mail_domain_check *c, const char *host)
{
	char bare[DNS_NAME_TEXT_MAX];
	struct netaddr addr;
	size_t len;

	snprintf(bare, sizeof(bare), "%s", host);
	len = strlen(bare);
	if (len > 1 && bare[len - 1] == '.')
		bare[--len] = '\0';
	if (strcmp(bare, "localhost") == 0 || (len > 10 && strcmp(bare + len - 10, ".localhost") == 0)) {
		c->result.flags |= MAIL_DOMAIN_FLAG_MX_LOCALHOST;
		return true;
	}
	if (len > 2 && bare[0] == '[' && bare[len - 1] == ']') {
		bare[len - 1] = '\0';
		memmove(bare, bare + 1, len - 1);
	}
	if (netaddr_parse(bare, &addr)) {
		c->result.flags |= MAIL_DOMAIN_FLAG_MX_LITERAL;
		return true;
	}
	return false;
}

/* Room for `n` mail hosts; false when out of memory. */
static bool make_hosts(struct mail_domain_check *c, size_t n)
{
	if (!(c->hosts = dns_questions_alloc(&c->set, n * sizeof(*c->hosts))))
		return false;
	c->host_max = n;
	return true;
}

/* `name` is in the store (the domain, or an MX host of the result). */
static void ask_host(struct mail_domain_check *c, const char *name)
{
	int h;

	if (c->host_count == c->host_max)
		return;
	if (bad_target(c, name)) {
		c->bad_hosts++;
		return;
	}
	h = (int)c->host_count++;
	c->hosts[h].name = name;
	ask(c, name, LDNS_RR_TYPE_A, h);	/* AAAA when A gives nothing usable (on_answer) */
}

/* The MX records into the result, their hosts copied into the check's store, with room for as
 * many mail hosts: how many, or -1 when out of memory.  (Its own function: the records are read
 * into a buffer of some kilobytes on the stack.) */
static int keep_mx(struct mail_domain_check *c, const ldns_pkt *packet)
{
	struct dns_mx found[MAIL_DOMAIN_HOSTS_MAX];
	struct mail_domain_result *r = &c->result;
	size_t n = dns_rdata_mx(packet, found, MAIL_DOMAIN_HOSTS_MAX, NULL);

	if (n == 0)
		return 0;
	if (!(r->mx = dns_questions_alloc(&c->set, n * sizeof(*r->mx))) || !make_hosts(c, n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		r->mx[i].preference = found[i].preference;
		if (!(r->mx[i].host = dns_questions_keep(&c->set, found[i].host, sizeof(found[i].host))))
			return -1;
		r->mx_count++;
	}
	return (int)n;
}

static void on_mx(struct mail_domain_check *c, const struct dns_answer *answer, size_t slot)
{
	struct mail_domain_result *r = &c->result;

	switch (answer->ev.outcome) {
	case DNS_NXDOMAIN:
		decide(c, MAIL_DOMAIN_NXDOMAIN, slot);
		return;
	case DNS_TEMPFAIL:
		decide(c, MAIL_DOMAIN_TEMPFAIL, slot);
		return;
	case DNS_BOGUS:
		decide(c, MAIL_DOMAIN_BOGUS, slot);
		return;
	case DNS_NODATA:
		/* RFC 5321 5.1: no MX, the domain is its own implicit MX */
		r->flags |= MAIL_DOMAIN_FLAG_IMPLICIT_MX;
		if (!make_hosts(c, 1)) {
			decide(c, MAIL_DOMAIN_TEMPFAIL, slot);	/* out of memory */
			return;
		}
		ask_host(c, r->domain);
		return;
	case DNS_FOUND:
		break;
	}
	if (keep_mx(c, answer->packet) < 0) {
		decide(c, MAIL_DOMAIN_TEMPFAIL, slot);	/* out of memory */
		return;
	}
	if (r->mx_count == 1 && r->mx[0].preference == 0 && strcmp(r->mx[0].host, ".") == 0) {
		decide(c, MAIL_DOMAIN_NULL_MX, slot);
		return;
	}
	for (size_t i = 0; i < r->mx_count && !c->decided; i++)
		if (strcmp(r->mx[i].host, ".") != 0)
			ask_host(c, r->mx[i].host);
	if (c->host_count == 0)
		decide(c, c->bad_hosts ? MAIL_DOMAIN_LOOPBACK : MAIL_DOMAIN_MX_UNRESOLVABLE, slot);
}

static void on_address(struct mail_domain_check *c, const struct dns_answer *answer, int h, size_t slot)
{
	struct netaddr addrs[16];
	size_t n;

	if (answer->ev.outcome != DNS_FOUND)
		return;
	n = dns_rdata_addresses(answer->packet, answer->ev.qtype, addrs, 16, NULL);
	for (size_t i = 0; i < n; i++) {
		if (netaddr_is_loopback_or_unspecified(&addrs[i])) {
			c->hosts[h].loopback_only = true;
			continue;
		}
		c->result.usable_host = c->hosts[h].name;
		c->result.usable_address = addrs[i];
		c->hosts[h].loopback_only = false;
		decide(c, MAIL_DOMAIN_OK, slot);
		return;
	}
}

/* With every address question answered (or given up): the verdict when no host was usable. */
static void evaluate_hosts(struct mail_domain_check *c)
{
	struct mail_domain_result *r = &c->result;
	size_t tempfail = 0, bogus = 0;
	bool any_tempfail = false, any_bogus = false, any_loopback = c->bad_hosts > 0;

	for (size_t i = 1; i < r->evidence_count; i++) {
		if (r->evidence[i].outcome == DNS_TEMPFAIL && !any_tempfail) {
			any_tempfail = true;
			tempfail = i;
		}
		if (r->evidence[i].outcome == DNS_BOGUS && !any_bogus) {
			any_bogus = true;
			bogus = i;
		}
	}
	for (size_t h = 0; h < c->host_count; h++)
		if (c->hosts[h].loopback_only) {
			any_loopback = true;
			r->flags |= MAIL_DOMAIN_FLAG_MX_LOOPBACK;
		}
	if (any_tempfail)
		decide(c, MAIL_DOMAIN_TEMPFAIL, tempfail);
	else if (any_bogus)
		decide(c, MAIL_DOMAIN_BOGUS, bogus);
	else if (any_loopback)
		decide(c, MAIL_DOMAIN_LOOPBACK, 0);
	else if (r->flags & MAIL_DOMAIN_FLAG_IMPLICIT_MX)
		decide(c, MAIL_DOMAIN_NO_ADDRESS, r->evidence_count > 1 ? 1 : 0);
	else
		decide(c, MAIL_DOMAIN_MX_UNRESOLVABLE, r->evidence_count > 1 ? 1 : 0);
}

static bool hosts_open(const struct mail_domain_check *c)
{
	for (size_t h = 0; h < c->host_count; h++)
		if (c->hosts[h].open)
			return true;
	return false;
}

static void on_answer(struct dns_job *job, void *arg, const struct dns_answer *answer)
{
	struct dns_question *q = arg;
	struct mail_domain_check *c = q->set->owner;

	(void)job;
	if (c->decided || !dns_questions_record(q, answer))
		return;
	if (q->tag < 0) {
		on_mx(c, answer, q->slot);
		return;
	}
	on_address(c, answer, q->tag, q->slot);
	/* no usable IPv4 address: now IPv6 (asked before this one is counted answered, so that the
	 * host stays open and an AAAA answered at once cannot make the check evaluate twice) */
	if (!c->decided && answer->ev.qtype == LDNS_RR_TYPE_A)
		ask(c, c->hosts[q->tag].name, LDNS_RR_TYPE_AAAA, q->tag);
	c->hosts[q->tag].open--;
	if (!c->decided && !hosts_open(c))
		evaluate_hosts(c);
}

struct mail_domain_check *mail_domain_start(struct resolver *resolver, const char *domain, unsigned deadline_ms)
{
	struct mail_domain_check *c = calloc(1, sizeof(*c));
	char name[DNS_NAME_TEXT_MAX];
	size_t len;

	if (!c)
		return NULL;
	c->set = (struct dns_questions){.handler = on_answer, .owner = c, .evidence = &c->result.evidence,
					.count = &c->result.evidence_count, .max = MAIL_DOMAIN_EVIDENCE_MAX};
	if (!dns_questions_start(&c->set, resolver, deadline_ms)) {
		free(c);
		return NULL;
	}
	c->result.usable_host = "";
	/* names are kept with their final dot, lower case, as the evidence shows them */
	snprintf(name, sizeof(name), "%s", domain);
	len = strlen(name);
	for (size_t i = 0; i < len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	if (len && name[len - 1] != '.' && len + 1 < sizeof(name))
		memcpy(name + len, ".", 2);
	if (!(c->result.domain = dns_questions_keep(&c->set, name, sizeof(name)))) {
		mail_domain_free(c);
		return NULL;
	}
	dns_job_lock(c->set.job);
	ask(c, c->result.domain, LDNS_RR_TYPE_MX, -1);
	dns_job_unlock(c->set.job);
	return c;
}

/* The deadline passed before a verdict: what is still open is a temporary failure of its own. */
static void on_deadline(void *owner, size_t first_open)
{
	struct mail_domain_check *c = owner;

	c->result.decisive = first_open;
	c->result.verdict = MAIL_DOMAIN_TEMPFAIL;
	c->decided = true;
}

const struct mail_domain_result *mail_domain_wait(struct mail_domain_check *c)
{
	dns_questions_finish(&c->set, &c->decided, &c->result.decisive, &c->result.ms, on_deadline);
	return &c->result;
}

void mail_domain_free(struct mail_domain_check *c)
{
	if (!c)
		return;
	dns_questions_release(&c->set);
	free(c);
}
