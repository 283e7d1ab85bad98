/*
 * decision - a check's result under the policy, and its renderings; see decision.h.
 */
#include "decision.h"

#include <stdio.h>
#include <string.h>

#include "reply_text.h"

/* ---- check results ------------------------------------------------------------------------- */

static const struct dns_evidence *decisive_of(const struct dns_evidence *ev, size_t count, size_t decisive)
{
	return count ? &ev[decisive < count ? decisive : 0] : NULL;
}

static enum policy_outcome client_outcome(enum fcrdns_verdict v)
{
	switch (v) {
	case FCRDNS_PASS:
		return POLICY_OUTCOME_PASS;
	case FCRDNS_FAIL:
		return POLICY_OUTCOME_FAIL;
	case FCRDNS_NO_PTR:
		return POLICY_OUTCOME_PERMERROR;
	case FCRDNS_TEMPFAIL:
	case FCRDNS_BOGUS:
		return POLICY_OUTCOME_TEMPERROR;
	}
	return POLICY_OUTCOME_UNDECIDED;
}

static enum policy_outcome helo_outcome(enum helo_verdict v)
{
	switch (v) {
	case HELO_OK:
		return POLICY_OUTCOME_OK;
	case HELO_MISMATCH:
		return POLICY_OUTCOME_MISMATCH;
	case HELO_UNRESOLVABLE:
		return POLICY_OUTCOME_UNRESOLVABLE;
	case HELO_TEMPFAIL:
		return POLICY_OUTCOME_TEMPERROR;
	}
	return POLICY_OUTCOME_UNDECIDED;
}

static enum policy_outcome domain_outcome(enum mail_domain_verdict v)
{
	switch (v) {
	case MAIL_DOMAIN_OK:
		return POLICY_OUTCOME_OK;
	case MAIL_DOMAIN_NULL_MX:
		return POLICY_OUTCOME_NULL_MX;
	case MAIL_DOMAIN_NXDOMAIN:
		return POLICY_OUTCOME_NXDOMAIN;
	case MAIL_DOMAIN_NO_ADDRESS:
		return POLICY_OUTCOME_NO_ADDRESS;
	case MAIL_DOMAIN_MX_UNRESOLVABLE:
		return POLICY_OUTCOME_MX_UNRESOLVABLE;
	case MAIL_DOMAIN_LOOPBACK:
		return POLICY_OUTCOME_LOOPBACK;
	case MAIL_DOMAIN_TEMPFAIL:
		return POLICY_OUTCOME_TEMPERROR;
	case MAIL_DOMAIN_BOGUS:
		return POLICY_OUTCOME_BOGUS;
	}
	return POLICY_OUTCOME_UNDECIDED;
}

void check_result_client(const struct fcrdns_result *r, struct check_result *out)
{
	*out = (struct check_result){.check = POLICY_CHECK_CLIENT, .outcome = POLICY_OUTCOME_UNDECIDED};
	if (!r)
		return;
	out->outcome = client_outcome(r->verdict);
	out->evidence = decisive_of(r->evidence, r->evidence_count, r->decisive);
}

void check_result_helo(const struct helo_result *r, const char *helo, struct check_result *out)
{
	*out = (struct check_result){.check = POLICY_CHECK_HELO, .outcome = POLICY_OUTCOME_UNDECIDED,
				     .subject = helo};
	if (!r)
		return;
	out->outcome = helo_outcome(r->verdict);
	out->evidence = decisive_of(r->evidence, r->evidence_count, r->decisive);
}

void check_result_domain(enum policy_check check, const struct mail_domain_result *r, const char *domain,
			 struct check_result *out)
{
	*out = (struct check_result){.check = check, .outcome = POLICY_OUTCOME_UNDECIDED, .subject = domain};
	if (!r)
		return;
	out->outcome = domain_outcome(r->verdict);
	out->evidence = decisive_of(r->evidence, r->evidence_count, r->decisive);
}

/* ---- the decision ---------------------------------------------------------------------------- */

static bool outcome_fine(enum policy_outcome o)
{
	return o == POLICY_OUTCOME_OK || o == POLICY_OUTCOME_PASS;
}

const char *decision_cause(const struct dns_evidence *ev, const struct decision_dns *dns, enum decision_probe probe,
			   const char *finding, char *buf, size_t size)
{
	const char *transport = dns_transport_name(dns->transport);
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	if (!ev)
		return buf;
	if (ev->outcome == DNS_BOGUS) {
		strbuf_appendf(&sb, "DNSSEC validation failed: %s", ev->why_bogus ? ev->why_bogus : "");
		return buf;
	}
	if (ev->outcome != DNS_TEMPFAIL)
		return buf;
	switch (ev->cause) {
	case DNS_CAUSE_DEADLINE:
		strbuf_appendf(&sb, "no answer within %u ms", dns->deadline_ms);
		break;
	case DNS_CAUSE_SERVFAIL:
		strbuf_appendf(&sb, "SERVFAIL over %s", transport);
		break;
	case DNS_CAUSE_REFUSED:
		strbuf_appendf(&sb, "REFUSED over %s", transport);
		break;
	case DNS_CAUSE_MALFORMED:
		strbuf_append(&sb, "malformed answer");
		break;
	case DNS_CAUSE_RCODE:
		strbuf_appendf(&sb, "rcode %d over %s", ev->rcode, transport);
		break;
	case DNS_CAUSE_LOCAL:
	case DNS_CAUSE_NONE:
		strbuf_append(&sb, "internal error");
		return buf;
	}
	if (probe == DECISION_PROBE_KNOWN && finding && *finding)
		strbuf_appendf(&sb, ": %s", finding);
	else if (probe == DECISION_PROBE_RUNNING)
		strbuf_append(&sb, " (the servers are being probed)");
	return buf;
}

void decision_make(const struct policy *policy, const struct decision_dns *dns, const struct decision_facts *f,
		   const struct check_result *r, struct decision *out)
{
	struct policy_facts facts = {0};
	struct policy_decision pd;

	memset(out, 0, sizeof(*out));
	out->check = r->check;
	out->outcome = r->outcome;
	out->subject = r->subject;
	out->evidence = r->evidence;
	out->transport = dns->transport;
	if (r->cause)
		snprintf(out->cause, sizeof(out->cause), "%s", r->cause);
	else if (!outcome_fine(r->outcome))
		decision_cause(r->evidence, dns, r->probe, r->finding, out->cause, sizeof(out->cause));

	facts.check = r->check;
	facts.outcome = r->outcome;
	facts.client = f->client;
	facts.client_hostname = f->client_hostname;
	facts.client_ip_text = f->client_ip;
	facts.helo = f->helo;
	facts.sender_address = f->sender;
	facts.sender_domain = f->sender_domain;
	facts.recipient = f->recipient;
	facts.recipient_domain = f->recipient_domain;
	facts.authenticated = f->authenticated;
	facts.outbound = f->outbound;
	facts.daemon = f->daemon;
	facts.cause = out->cause;
	policy_decide(policy, &facts, &pd);

	out->action = pd.action;
	out->dry_run = pd.dry_run;
	out->code = pd.code;
	snprintf(out->xcode, sizeof(out->xcode), "%s", pd.xcode);
	snprintf(out->text, sizeof(out->text), "%s", pd.text);
	snprintf(out->rule, sizeof(out->rule), "%s", pd.rule);
}

bool decision_is_quiet(const struct decision *d)
{
	return outcome_fine(d->outcome) && d->action == POLICY_ACCEPT;
}

bool decision_lets_through(const struct decision *d)
{
	return d->dry_run || (d->action != POLICY_REJECT && d->action != POLICY_TEMPFAIL);
}

bool decision_is_warning(const struct decision *d)
{
	return d->outcome == POLICY_OUTCOME_TEMPERROR || d->outcome == POLICY_OUTCOME_UNDECIDED;
}

/* ---- renderings ------------------------------------------------------------------------------ */

static void append_bracketed(struct strbuf *line, const char *key, const char *address)
{
	char value[1024];

	snprintf(value, sizeof(value), "<%s>", address ? address : "");
	strbuf_append_kv(line, key, value);
}

/* DNS trouble (not an answer, not dnsguard's own failure): the dnsguard-check command that
 * explains it, for the admin who reads the line. */
static void append_hint(const struct decision *d, const struct decision_facts *f, struct strbuf *line)
{
	const struct dns_evidence *ev = d->evidence;
	char hint[DNS_NAME_TEXT_MAX + 64];

	if (!ev || !(ev->outcome == DNS_BOGUS ||
		     (ev->outcome == DNS_TEMPFAIL && ev->cause != DNS_CAUSE_LOCAL && ev->cause != DNS_CAUSE_NONE)))
		return;
	if (d->outcome != POLICY_OUTCOME_TEMPERROR && d->outcome != POLICY_OUTCOME_BOGUS)
		return;
	switch (d->check) {
	case POLICY_CHECK_SENDER:
	case POLICY_CHECK_RECIPIENT:
		if (!d->subject || !dns_plain_name_length(d->subject))
			return;
		snprintf(hint, sizeof(hint), "dnsguard-check domain %s", d->subject);
		break;
	case POLICY_CHECK_CLIENT:
		if (f->client->family != AF_INET && f->client->family != AF_INET6)
			return;
		snprintf(hint, sizeof(hint), "dnsguard-check client %s", f->client_ip);
		break;
	case POLICY_CHECK_HELO:
		return;
	}
	strbuf_append_kv(line, "hint", hint);
}

void decision_format(const struct decision *d, const struct decision_facts *f, struct strbuf *line)
{
	char client[1024], reply[POLICY_REPLY_TEXT_SIZE + 32];

	strbuf_append_kv(line, "check", policy_check_name(d->check));
	strbuf_append_kv(line, "outcome", policy_outcome_name(d->outcome));
	strbuf_append_kv(line, "action", policy_action_name(d->action));
	if (d->dry_run)
		strbuf_append_kv(line, "dry_run", "yes");
	strbuf_append_kv(line, "rule", d->rule);
	if (d->code) {
		snprintf(reply, sizeof(reply), "%u%s%s %s", d->code, d->xcode[0] ? " " : "", d->xcode, d->text);
		strbuf_append_kv(line, "reply", reply);
	}
	snprintf(client, sizeof(client), "%s[%s]", f->client_name, f->client_ip);
	strbuf_append_kv(line, "client", client);
	strbuf_append_kv(line, "helo", f->helo);
	append_bracketed(line, "from", f->sender);
	if (f->recipient)
		append_bracketed(line, "to", f->recipient);
	if (d->subject && d->subject[0])
		strbuf_append_kv(line, "name", d->subject);
	if (d->cause[0])
		strbuf_append_kv(line, "cause", d->cause);
	if (d->evidence) {
		strbuf_append_kv(line, "transport", dns_transport_name(d->transport));
		dns_evidence_format(d->evidence, "dns_", line);
	}
	append_hint(d, f, line);
}

bool decision_reply(const struct decision *d, struct decision_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (!d->code || (d->action != POLICY_REJECT && d->action != POLICY_TEMPFAIL))
		return false;
	snprintf(out->code, sizeof(out->code), "%u", d->code % 1000);
	snprintf(out->xcode, sizeof(out->xcode), "%s", d->xcode);
	reply_text_sanitize(d->text, out->text, sizeof(out->text));
	return true;
}
