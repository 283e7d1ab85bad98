/*
 * verdicts - checks, policy decisions and their log lines for one session; see verdicts.h.
 */
#include "verdicts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_results.h"
#include "log.h"
#include "policy.h"
#include "probe_cache.h"
#include "reply_text.h"

/* ---- outcomes ------------------------------------------------------------------------------ */

static enum policy_outcome client_outcome(const struct fcrdns_result *r)
{
	switch (r->verdict) {
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

static enum policy_outcome helo_outcome(const struct helo_result *r)
{
	switch (r->verdict) {
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

static enum policy_outcome domain_outcome(const struct mail_domain_result *r)
{
	switch (r->verdict) {
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

static bool outcome_fine(enum policy_outcome o)
{
	return o == POLICY_OUTCOME_OK || o == POLICY_OUTCOME_PASS;
}

/* ---- starting the checks ------------------------------------------------------------------- */

static struct resolver *resolver_of(const struct session *s)
{
	return s->rt ? s->rt->resolver : NULL;
}

static unsigned deadline_of(const struct session *s)
{
	return s->rt->config->dns_deadline_ms;
}

void verdicts_connect(struct session *s)
{
	if (!s->client_addr_known) {
		/* a local (unix-socket) client: nothing to look up, nothing to check */
		s->trusted = true;
		return;
	}
	s->trusted = policy_client_trusted(s->rt->policy, &s->client_addr);
	s->outbound_network = policy_client_outbound(s->rt->policy, &s->client_addr);
	if (s->trusted || !resolver_of(s))
		return;
	s->client_check = fcrdns_start(resolver_of(s), &s->client_addr, deadline_of(s));
}

void verdicts_helo(struct session *s)
{
	if (s->trusted || !resolver_of(s))
		return;
	/* a second HELO/EHLO (after STARTTLS, or RSET games) replaces the first */
	helo_check_free(s->helo_check);
	s->helo_check = NULL;
	s->helo_result = NULL;
	/* the client check has usually decided by now (cached answers take microseconds): a HELO
	 * naming the confirmed host needs no questions of its own */
	s->helo_check = helo_check_start(resolver_of(s), s->helo, &s->client_addr, deadline_of(s),
					 fcrdns_peek(s->client_check));
}

void verdicts_mail(struct session *s)
{
	struct mailaddr sender;
	char bracketed[ADDRESS_MAX_LEN + 3];

	/* the brackets the MTA sent back around it, so that <> reads as the null sender; one the MTA
	 * took but we cannot read: the policy decides at RCPT (outcome syntax) */
	snprintf(bracketed, sizeof(bracketed), "<%s>", s->from);
	s->sender_parsed = mailaddr_parse(bracketed, &sender, NULL, 0) == 0;
	if (!s->sender_parsed)
		return;
	s->sender_kind = sender.kind;
	if (sender.kind == MAILADDR_DOMAIN && !session_set_text(&s->sender_domain, sender.domain, NAME_MAX_LEN)) {
		s->sender_undecided = true;	/* out of memory: 451 at RCPT, never unchecked */
		return;
	}
	if (s->trusted || !resolver_of(s) || sender.kind != MAILADDR_DOMAIN)
		return;
	/* null sender, address literals and bare local parts have no domain to ask about */
	s->sender_check = mail_domain_start(resolver_of(s), s->sender_domain, deadline_of(s));
	/* could not even start (out of memory): undecided at RCPT, never silently unchecked */
	s->sender_undecided = s->sender_check == NULL;
}

/* ---- one decision -------------------------------------------------------------------------- */

struct decision_input {
	enum policy_check check;
	enum policy_outcome outcome;
	const struct dns_evidence *evidence;	/* the decisive one, or NULL */
	const char *recipient;			/* NULL before RCPT */
	const char *recipient_domain;
	const char *subject;			/* what the check was about, for the log: a domain, a name */
	const char *cause;			/* why, when it is not DNS (a syntax error); else NULL */
};

/* "SERVFAIL over udp-tcp", "no answer within 4000 ms", with the server probe's finding. */
static void cause_text(const struct session *s, const struct dns_evidence *ev, char *buf, size_t size)
{
	const struct dns_settings *dns = &s->rt->config->dns;
	char probe[512] = "", lead_text[PROBE_CACHE_LEAD_MAX];
	struct strbuf sb, lead;

	strbuf_init(&sb, buf, size);
	if (!ev || ev->outcome != DNS_TEMPFAIL) {
		if (ev && ev->outcome == DNS_BOGUS)
			strbuf_appendf(&sb, "DNSSEC validation failed: %s", ev->why_bogus);
		return;
	}
	switch (ev->cause) {
	case DNS_CAUSE_DEADLINE:
		strbuf_appendf(&sb, "no answer within %u ms", s->rt->config->dns_deadline_ms);
		break;
	case DNS_CAUSE_SERVFAIL:
		strbuf_appendf(&sb, "SERVFAIL over %s", dns_transport_name(dns->transport));
		break;
	case DNS_CAUSE_REFUSED:
		strbuf_appendf(&sb, "REFUSED over %s", dns_transport_name(dns->transport));
		break;
	case DNS_CAUSE_MALFORMED:
		strbuf_append(&sb, "malformed answer");
		break;
	case DNS_CAUSE_RCODE:
		strbuf_appendf(&sb, "rcode %d over %s", ev->rcode, dns_transport_name(dns->transport));
		break;
	case DNS_CAUSE_LOCAL:
	case DNS_CAUSE_NONE:
		strbuf_append(&sb, "internal error");
		return;
	}
	/* libunbound says only SERVFAIL; the servers' own answers say why.  Probed off the callback
	 * path: a finding not known yet follows in a "probe" line of this session's */
	session_line_start(&lead, lead_text, sizeof(lead_text), s, "probe");
	switch (probe_cache_finding(s->rt->probes, ev, strbuf_text(&lead), probe, sizeof(probe))) {
	case PROBE_KNOWN:
		strbuf_appendf(&sb, ": %s", probe);
		break;
	case PROBE_RUNNING:
		strbuf_append(&sb, " (the servers are being probed)");
		break;
	case PROBE_NONE:
		break;
	}
}

static bool authenticated(const struct session *s)
{
	return *s->auth != '\0';
}

/*
 * Runs the policy on one check's outcome and acts on it.  Returns the milter status for RCPT.
 * Lines for decisions that change nothing (outcome fine, accepted) are not logged: the message
 * line carries every outcome.
 */
static sfsistat decide(SMFICTX *ctx, struct session *s, const struct decision_input *in)
{
	struct policy_facts facts = {0};
	struct policy_decision d;
	char cause[768] = "", hostname[DNS_NAME_TEXT_MAX] = "unknown", reply[1024] = "";
	char storage[LOG_LINE_LEN];
	struct strbuf line;
	bool warn = in->outcome == POLICY_OUTCOME_TEMPERROR || in->outcome == POLICY_OUTCOME_UNDECIDED;

	if (s->client_result && s->client_result->confirmed >= 0) {
		snprintf(hostname, sizeof(hostname), "%s", fcrdns_hostname(s->client_result));
		size_t n = strlen(hostname);
		if (n > 1 && hostname[n - 1] == '.')
			hostname[n - 1] = '\0';
	}
	if (in->cause)
		snprintf(cause, sizeof(cause), "%s", in->cause);
	else if (!outcome_fine(in->outcome))
		cause_text(s, in->evidence, cause, sizeof(cause));
	facts.check = in->check;
	facts.outcome = in->outcome;
	facts.client = &s->client_addr;
	facts.client_hostname = hostname;
	facts.client_ip_text = s->client_ip;
	facts.helo = s->helo;
	facts.sender_address = s->from;
	facts.sender_domain = s->sender_domain;
	facts.recipient = in->recipient;
	facts.recipient_domain = in->recipient_domain;
	facts.authenticated = authenticated(s);
	facts.outbound = authenticated(s) || s->outbound_network;
	facts.daemon = s->daemon;
	facts.cause = cause;
	policy_decide(s->rt->policy, &facts, &d);

	if (outcome_fine(in->outcome) && d.action == POLICY_ACCEPT)
		return SMFIS_CONTINUE;
	/* a decision that lets the message go on is logged (and tagged) once per message; the
	 * recipient check is about each recipient, and a reply is given at every RCPT */
	if (d.action != POLICY_REJECT && d.action != POLICY_TEMPFAIL && in->check != POLICY_CHECK_RECIPIENT) {
		if (s->noted & (1u << in->check))
			return SMFIS_CONTINUE;
		s->noted |= 1u << in->check;
	}

	if (d.code)
		snprintf(reply, sizeof(reply), "%u%s%s %s", d.code, d.xcode[0] ? " " : "", d.xcode, d.text);
	session_line_start(&line, storage, sizeof(storage), s, "decision");
	strbuf_append_kv(&line, "check", policy_check_name(in->check));
	strbuf_append_kv(&line, "outcome", policy_outcome_name(in->outcome));
	strbuf_append_kv(&line, "action", policy_action_name(d.action));
	if (d.dry_run)
		strbuf_append_kv(&line, "dry_run", "yes");
	strbuf_append_kv(&line, "rule", d.rule);
	if (reply[0])
		strbuf_append_kv(&line, "reply", reply);
	session_line_client(&line, s);
	strbuf_append_kv(&line, "helo", s->helo);
	session_line_bracketed(&line, "from", s->from);
	if (in->recipient)
		session_line_bracketed(&line, "to", in->recipient);
	if (in->subject && in->subject[0])
		strbuf_append_kv(&line, "name", in->subject);
	if (cause[0])
		strbuf_append_kv(&line, "cause", cause);
	if (in->evidence) {
		strbuf_append_kv(&line, "transport", dns_transport_name(s->rt->config->dns.transport));
		dns_evidence_format(in->evidence, "dns_", &line);
	}
	if (warn)
		log_warning("%s", strbuf_text(&line));
	else
		log_info("%s", strbuf_text(&line));

	if (d.dry_run)
		return SMFIS_CONTINUE;
	switch (d.action) {
	case POLICY_ACCEPT:
	case POLICY_LOG_ONLY:
		return SMFIS_CONTINUE;
	case POLICY_TAG:
		s->tagged |= 1u << in->check;
		return SMFIS_CONTINUE;
	case POLICY_QUARANTINE:
	case POLICY_DIVERT:
		/* divert goes to the badmail store once it exists; until then the MTA's hold queue */
		if (!s->quarantine) {
			s->quarantine = true;
			s->quarantine_check = in->check;
			s->quarantine_outcome = in->outcome;
			snprintf(s->quarantine_rule, sizeof(s->quarantine_rule), "%s", d.rule);
		}
		return SMFIS_CONTINUE;
	case POLICY_REJECT:
	case POLICY_TEMPFAIL: {
		char code[8], text[900];	/* libmilter refuses reply text over 980 bytes */
		snprintf(code, sizeof(code), "%u", d.code);
		reply_text_sanitize(d.text, text, sizeof(text));
		if (smfi_setreply(ctx, code, d.xcode[0] ? d.xcode : NULL, text) != MI_SUCCESS)
			log_warning("%s: the MTA did not take the reply text; it sends its own", s->id);
		return d.action == POLICY_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	}
	}
	return SMFIS_CONTINUE;
}

/* ---- RCPT: where verdicts are delivered -------------------------------------------------- */

static const struct mail_domain_result *recipient_result(struct session *s, const char *domain)
{
	struct rcpt_check *rc;

	for (size_t i = 0; i < s->rcpt_checks; i++)
		if (strcmp(s->rcpts[i].domain, domain) == 0)
			return s->rcpts[i].result;
	if (s->rcpt_checks == RCPT_CHECKS_MAX)
		return NULL;
	/* only outbound sessions check recipients: the others do not pay for the table */
	if (!s->rcpts && !(s->rcpts = calloc(RCPT_CHECKS_MAX, sizeof(*s->rcpts))))
		return NULL;
	rc = &s->rcpts[s->rcpt_checks];
	snprintf(rc->domain, sizeof(rc->domain), "%s", domain);
	rc->check = mail_domain_start(resolver_of(s), domain, deadline_of(s));
	if (!rc->check)
		return NULL;
	s->rcpt_checks++;
	rc->result = mail_domain_wait(rc->check);
	return rc->result;
}

static const struct dns_evidence *decisive_of(const struct dns_evidence *ev, size_t count, size_t decisive)
{
	return count ? &ev[decisive < count ? decisive : 0] : NULL;
}

sfsistat verdicts_rcpt(SMFICTX *ctx, struct session *s, const char *recipient)
{
	struct mailaddr rcpt;
	bool rcpt_parsed;
	const char *rdomain = NULL;
	char err[128], why[128] = "";
	sfsistat st;

	if (s->trusted)
		return SMFIS_CONTINUE;
	rcpt_parsed = mailaddr_parse(recipient, &rcpt, err, sizeof(err)) == 0;
	if (rcpt_parsed && rcpt.kind == MAILADDR_DOMAIN)
		rdomain = rcpt.domain;

	/* the client and its HELO: not for SASL-authenticated users (like permit_sasl_authenticated) */
	if (!authenticated(s)) {
		struct decision_input in = {.check = POLICY_CHECK_CLIENT, .recipient = recipient,
					    .recipient_domain = rdomain};
		if (s->client_check && !s->client_result)
			s->client_result = fcrdns_wait(s->client_check);
		if (s->client_result) {
			in.outcome = client_outcome(s->client_result);
			in.evidence = decisive_of(s->client_result->evidence, s->client_result->evidence_count,
						  s->client_result->decisive);
		} else {
			in.outcome = POLICY_OUTCOME_UNDECIDED;
		}
		if ((st = decide(ctx, s, &in)) != SMFIS_CONTINUE)
			return st;

		if (s->helo_check && !s->helo_result)
			s->helo_result = helo_check_wait(s->helo_check);
		if (s->helo_result) {
			struct decision_input h = {.check = POLICY_CHECK_HELO, .recipient = recipient,
						   .recipient_domain = rdomain, .subject = s->helo};
			h.outcome = helo_outcome(s->helo_result);
			h.evidence = decisive_of(s->helo_result->evidence, s->helo_result->evidence_count,
						 s->helo_result->decisive);
			if ((st = decide(ctx, s, &h)) != SMFIS_CONTINUE)
				return st;
		}
	}

	if (s->sender_check && !s->sender_result)
		s->sender_result = mail_domain_wait(s->sender_check);
	if (!s->sender_parsed) {
		struct decision_input in = {.check = POLICY_CHECK_SENDER, .recipient = recipient,
					    .recipient_domain = rdomain, .outcome = POLICY_OUTCOME_SYNTAX,
					    .cause = why};
		struct mailaddr unused;
		char bracketed[ADDRESS_MAX_LEN + 3];
		/* parsed again only to say why: rare, and the session keeps no buffer for it */
		snprintf(bracketed, sizeof(bracketed), "<%s>", s->from);
		if (mailaddr_parse(bracketed, &unused, why, sizeof(why)) == 0 || !why[0])
			snprintf(why, sizeof(why), "cannot parse the address");
		if ((st = decide(ctx, s, &in)) != SMFIS_CONTINUE)
			return st;
	}
	if (s->sender_undecided) {
		struct decision_input in = {.check = POLICY_CHECK_SENDER, .recipient = recipient,
					    .recipient_domain = rdomain, .subject = s->sender_domain,
					    .outcome = POLICY_OUTCOME_UNDECIDED};
		if ((st = decide(ctx, s, &in)) != SMFIS_CONTINUE)
			return st;
	}
	if (s->sender_result) {
		struct decision_input in = {.check = POLICY_CHECK_SENDER, .recipient = recipient,
					    .recipient_domain = rdomain, .subject = s->sender_domain};
		in.outcome = domain_outcome(s->sender_result);
		in.evidence = decisive_of(s->sender_result->evidence, s->sender_result->evidence_count,
					  s->sender_result->decisive);
		if ((st = decide(ctx, s, &in)) != SMFIS_CONTINUE)
			return st;
	}

	/* outbound mail: a local user learns at once that the recipient's domain cannot get mail */
	if ((authenticated(s) || s->outbound_network) && rdomain && resolver_of(s)) {
		const struct mail_domain_result *r = recipient_result(s, rdomain);
		struct decision_input in = {.check = POLICY_CHECK_RECIPIENT, .recipient = recipient,
					    .recipient_domain = rdomain, .subject = rdomain};
		if (r) {
			in.outcome = domain_outcome(r);
			in.evidence = decisive_of(r->evidence, r->evidence_count, r->decisive);
		} else {
			in.outcome = POLICY_OUTCOME_UNDECIDED;
		}
		if ((st = decide(ctx, s, &in)) != SMFIS_CONTINUE)
			return st;
	}
	return SMFIS_CONTINUE;
}

/* ---- headers ----------------------------------------------------------------------------------- */

void verdicts_header(struct session *s, const char *name, const char *value)
{
	if (strcasecmp(name, AUTH_RESULTS_HEADER) == 0) {
		s->ar_seen++;
		if (auth_results_is_ours(value, s->authserv_id))
			session_note_forged_result(s, s->ar_seen);
	} else if (strcasecmp(name, DNSGUARD_HEADER) == 0) {
		s->dg_seen++;
	}
}

/* Tempfails the message: it cannot be delivered as the checks would have it. */
static sfsistat eom_tempfail(SMFICTX *ctx, struct session *s, struct strbuf *line, const char *why)
{
	strbuf_append_kv(line, "action", "tempfail");
	strbuf_append_kv(line, "reason", why);
	if (smfi_setreply(ctx, "451", "4.7.0", "Message not accepted now, try again later") != MI_SUCCESS)
		log_warning("%s: the MTA did not take the reply text; it sends its own", s->id);
	return SMFIS_TEMPFAIL;
}

sfsistat verdicts_eom(SMFICTX *ctx, struct session *s, struct strbuf *line)
{
	char value[1024], summary[256] = "";
	struct strbuf sb;

	if (s->trusted) {
		strbuf_append_kv(line, "checks", "trusted");
		strbuf_append_kv(line, "action", "accept");
		return SMFIS_CONTINUE;
	}
	/* forged or looped copies of our fields go first, every one of them, or the message waits:
	 * highest index first, so the lower indexes still hold */
	if (s->ar_delete_lost)
		return eom_tempfail(ctx, s, line, "out of memory noting forged Authentication-Results fields");
	for (size_t i = s->ar_delete_count; i-- > 0;)
		if (smfi_chgheader(ctx, AUTH_RESULTS_HEADER, (int)s->ar_delete[i], NULL) != MI_SUCCESS)
			return eom_tempfail(ctx, s, line, "the MTA refused to remove a forged Authentication-Results field");
	for (unsigned i = s->dg_seen; i > 0; i--)
		if (smfi_chgheader(ctx, DNSGUARD_HEADER, (int)i, NULL) != MI_SUCCESS)
			return eom_tempfail(ctx, s, line, "the MTA refused to remove a forged X-DNSGuard field");
	if (s->ar_delete_count)
		strbuf_appendf(line, " forged_removed=%zu", s->ar_delete_count);

	strbuf_init(&sb, summary, sizeof(summary));
	if (s->client_result && !authenticated(s)) {
		char name[DNS_NAME_TEXT_MAX] = "";
		size_t n;
		if (s->client_result->confirmed >= 0)
			snprintf(name, sizeof(name), "%s", fcrdns_hostname(s->client_result));
		n = strlen(name);
		if (n > 1 && name[n - 1] == '.')
			name[n - 1] = '\0';
		auth_results_iprev(s->authserv_id, fcrdns_iprev_result(s->client_result->verdict), s->client_ip, name,
				   value, sizeof(value));
		smfi_insheader(ctx, 0, AUTH_RESULTS_HEADER, value);
		strbuf_appendf(&sb, "client=%s", policy_outcome_name(client_outcome(s->client_result)));
	}
	if (s->helo_result && !authenticated(s))
		strbuf_appendf(&sb, "%shelo=%s", strbuf_len(&sb) ? " " : "",
			       policy_outcome_name(helo_outcome(s->helo_result)));
	if (s->sender_result)
		strbuf_appendf(&sb, "%ssender=%s", strbuf_len(&sb) ? " " : "",
			       policy_outcome_name(domain_outcome(s->sender_result)));
	if (strbuf_len(&sb)) {
		auth_results_dnsguard(summary, s->authserv_id, value, sizeof(value));
		smfi_insheader(ctx, 0, DNSGUARD_HEADER, value);
		strbuf_append_kv(line, "checks", summary);
	}
	if (s->tagged) {
		char tags[128];
		struct strbuf tb;
		strbuf_init(&tb, tags, sizeof(tags));
		for (unsigned c = 0; c < POLICY_CHECK_COUNT; c++)
			if (s->tagged & (1u << c))
				strbuf_appendf(&tb, "%s%s", strbuf_len(&tb) ? "," : "",
					       policy_check_name((enum policy_check)c));
		strbuf_append_kv(line, "tagged", tags);
	}
	if (s->quarantine) {
		char reason[256];
		snprintf(reason, sizeof(reason), "dnsguard: %s %s (rule %s)", policy_check_name(s->quarantine_check),
			 policy_outcome_name(s->quarantine_outcome), s->quarantine_rule);
		smfi_quarantine(ctx, reason);
		strbuf_append_kv(line, "action", "quarantine");
	} else {
		strbuf_append_kv(line, "action", "accept");
	}
	return SMFIS_CONTINUE;
}

/* ---- cleanup ------------------------------------------------------------------------------------- */

void verdicts_end_message(struct session *s)
{
	mail_domain_free(s->sender_check);
	s->sender_check = NULL;
	s->sender_result = NULL;
	for (size_t i = 0; i < s->rcpt_checks; i++)
		mail_domain_free(s->rcpts[i].check);
	s->rcpt_checks = 0;
	s->sender_parsed = false;
	s->sender_kind = MAILADDR_NULL;
	session_set_text(&s->sender_domain, NULL, 0);
	s->sender_undecided = false;
	s->tagged = 0;
	s->noted = 0;
	s->quarantine = false;
	s->quarantine_rule[0] = '\0';
	s->ar_seen = s->dg_seen = 0;
	session_forget_forged_results(s);
}

void verdicts_end_session(struct session *s)
{
	verdicts_end_message(s);
	free(s->rcpts);
	s->rcpts = NULL;
	fcrdns_free(s->client_check);
	s->client_check = NULL;
	s->client_result = NULL;
	helo_check_free(s->helo_check);
	s->helo_check = NULL;
	s->helo_result = NULL;
}
