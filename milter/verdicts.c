/*
 * verdicts - checks, policy decisions and their log lines for one session; see verdicts.h.
 */
#include "verdicts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_results.h"
#include "decision.h"
#include "log.h"
#include "policy.h"
#include "probe_cache.h"

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

/* The probe's finding for a failed lookup, when the servers can tell more than libunbound. */
static void probe_finding(const struct session *s, struct check_result *r, char *buf, size_t size)
{
	const struct dns_evidence *ev = r->evidence;

	if (!ev || ev->outcome != DNS_TEMPFAIL || ev->cause == DNS_CAUSE_LOCAL || ev->cause == DNS_CAUSE_NONE)
		return;
	/* libunbound says only SERVFAIL; ask the servers ourselves why (cached, bounded) */
	if (probe_cache_explain(&s->rt->config->dns, ev->qname, ev->qtype, buf, size)) {
		r->probe = DECISION_PROBE_KNOWN;
		r->finding = buf;
	}
}

static bool authenticated(const struct session *s)
{
	return *s->auth != '\0';
}

static void session_facts(const struct session *s, const char *recipient, const char *recipient_domain,
			  char *hostname, size_t size, struct decision_facts *f)
{
	snprintf(hostname, size, "unknown");
	if (s->client_result && s->client_result->confirmed >= 0) {
		snprintf(hostname, size, "%s", fcrdns_hostname(s->client_result));
		size_t n = strlen(hostname);
		if (n > 1 && hostname[n - 1] == '.')
			hostname[n - 1] = '\0';
	}
	*f = (struct decision_facts){
		.client = &s->client_addr,
		.client_ip = s->client_ip,
		.client_name = s->client_name,
		.client_hostname = hostname,
		.helo = s->helo,
		.sender = s->from,
		.sender_domain = s->sender_domain,
		.recipient = recipient,
		.recipient_domain = recipient_domain,
		.authenticated = authenticated(s),
		.outbound = authenticated(s) || s->outbound_network,
		.daemon = s->daemon,
	};
}

/*
 * Decides one check's result and acts on it.  Returns the milter status for RCPT.  Decisions that
 * change nothing (outcome fine, accepted) are not logged: the message line carries every outcome.
 */
static sfsistat decide(SMFICTX *ctx, struct session *s, struct check_result *r, const char *recipient,
		       const char *recipient_domain)
{
	struct decision_dns dns = {.transport = s->rt->config->dns.transport,
				   .deadline_ms = s->rt->config->dns_deadline_ms};
	struct decision_facts facts;
	struct decision d;
	struct decision_reply reply;
	char hostname[DNS_NAME_TEXT_MAX], finding[512] = "", storage[LOG_LINE_LEN];
	struct strbuf line;

	session_facts(s, recipient, recipient_domain, hostname, sizeof(hostname), &facts);
	probe_finding(s, r, finding, sizeof(finding));
	decision_make(s->rt->policy, &dns, &facts, r, &d);
	if (decision_is_quiet(&d))
		return SMFIS_CONTINUE;
	/* a decision that lets the message go on is logged (and tagged) once per message; the
	 * recipient check is about each recipient, and a reply is given at every RCPT */
	if (d.action != POLICY_REJECT && d.action != POLICY_TEMPFAIL && r->check != POLICY_CHECK_RECIPIENT) {
		if (s->noted & (1u << r->check))
			return SMFIS_CONTINUE;
		s->noted |= 1u << r->check;
	}

	session_line_start(&line, storage, sizeof(storage), s, "decision");
	decision_format(&d, &facts, &line);
	if (decision_is_warning(&d))
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
		s->tagged |= 1u << r->check;
		return SMFIS_CONTINUE;
	case POLICY_QUARANTINE:
	case POLICY_DIVERT:
		/* divert goes to the badmail store once it exists; until then the MTA's hold queue */
		if (!s->quarantine) {
			s->quarantine = true;
			s->quarantine_check = r->check;
			s->quarantine_outcome = r->outcome;
			snprintf(s->quarantine_rule, sizeof(s->quarantine_rule), "%s", d.rule);
		}
		return SMFIS_CONTINUE;
	case POLICY_REJECT:
	case POLICY_TEMPFAIL:
		if (decision_reply(&d, &reply) &&
		    smfi_setreply(ctx, reply.code, reply.xcode[0] ? reply.xcode : NULL, reply.text) != MI_SUCCESS)
			log_warning("%s: the MTA did not take the reply text; it sends its own", s->id);
		return d.action == POLICY_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
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

sfsistat verdicts_rcpt(SMFICTX *ctx, struct session *s, const char *recipient)
{
	struct mailaddr rcpt;
	const char *rdomain = NULL;
	char err[128], why[128] = "";
	struct check_result r;
	sfsistat st;

	if (s->trusted)
		return SMFIS_CONTINUE;
	if (mailaddr_parse(recipient, &rcpt, err, sizeof(err)) == 0 && rcpt.kind == MAILADDR_DOMAIN)
		rdomain = rcpt.domain;

	/* the client and its HELO: not for SASL-authenticated users (like permit_sasl_authenticated) */
	if (!authenticated(s)) {
		if (s->client_check && !s->client_result)
			s->client_result = fcrdns_wait(s->client_check);
		check_result_client(s->client_result, &r);
		if ((st = decide(ctx, s, &r, recipient, rdomain)) != SMFIS_CONTINUE)
			return st;

		if (s->helo_check && !s->helo_result)
			s->helo_result = helo_check_wait(s->helo_check);
		if (s->helo_result) {
			check_result_helo(s->helo_result, s->helo, &r);
			if ((st = decide(ctx, s, &r, recipient, rdomain)) != SMFIS_CONTINUE)
				return st;
		}
	}

	if (s->sender_check && !s->sender_result)
		s->sender_result = mail_domain_wait(s->sender_check);
	if (!s->sender_parsed) {
		struct mailaddr unused;
		char bracketed[ADDRESS_MAX_LEN + 3];
		/* parsed again only to say why: rare, and the session keeps no buffer for it */
		snprintf(bracketed, sizeof(bracketed), "<%s>", s->from);
		if (mailaddr_parse(bracketed, &unused, why, sizeof(why)) == 0 || !why[0])
			snprintf(why, sizeof(why), "cannot parse the address");
		r = (struct check_result){.check = POLICY_CHECK_SENDER, .outcome = POLICY_OUTCOME_SYNTAX, .cause = why};
		if ((st = decide(ctx, s, &r, recipient, rdomain)) != SMFIS_CONTINUE)
			return st;
	}
	if (s->sender_undecided || s->sender_result) {
		/* undecided: the check could not be started (out of memory), never silently unchecked */
		check_result_domain(POLICY_CHECK_SENDER, s->sender_result, s->sender_domain, &r);
		if ((st = decide(ctx, s, &r, recipient, rdomain)) != SMFIS_CONTINUE)
			return st;
	}

	/* outbound mail: a local user learns at once that the recipient's domain cannot get mail */
	if ((authenticated(s) || s->outbound_network) && rdomain && resolver_of(s)) {
		check_result_domain(POLICY_CHECK_RECIPIENT, recipient_result(s, rdomain), rdomain, &r);
		if ((st = decide(ctx, s, &r, recipient, rdomain)) != SMFIS_CONTINUE)
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
	struct check_result r;
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
		check_result_client(s->client_result, &r);
		strbuf_appendf(&sb, "client=%s", policy_outcome_name(r.outcome));
	}
	if (s->helo_result && !authenticated(s)) {
		check_result_helo(s->helo_result, s->helo, &r);
		strbuf_appendf(&sb, "%shelo=%s", strbuf_len(&sb) ? " " : "", policy_outcome_name(r.outcome));
	}
	if (s->sender_result) {
		check_result_domain(POLICY_CHECK_SENDER, s->sender_result, s->sender_domain, &r);
		strbuf_appendf(&sb, "%ssender=%s", strbuf_len(&sb) ? " " : "", policy_outcome_name(r.outcome));
	}
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
