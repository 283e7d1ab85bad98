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
#include "mta.h"
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

void verdicts_mail(struct session *s, const char *argument)
{
	struct mailaddr sender;
	char why[128] = "";

	/* the MTA's argument as it came ("<alice@example.org>", "<>"); an empty one is the null
	 * sender.  One the MTA took but we cannot read: the policy decides at RCPT (outcome syntax) */
	if (mailaddr_parse(argument && *argument ? argument : "<>", &sender, why, sizeof(why)) != 0) {
		if (!session_set_text(&s->msg.sender_error, why[0] ? why : "cannot parse the address", sizeof(why)))
			s->msg.sender_undecided = true;
		return;
	}
	if (sender.kind == MAILADDR_DOMAIN && !session_set_text(&s->msg.sender_domain, sender.domain, NAME_MAX_LEN)) {
		s->msg.sender_undecided = true;	/* out of memory: 451 at RCPT, never unchecked */
		return;
	}
	if (s->trusted || !resolver_of(s) || sender.kind != MAILADDR_DOMAIN)
		return;
	/* null sender, address literals and bare local parts have no domain to ask about */
	s->msg.sender_check = mail_domain_start(resolver_of(s), s->msg.sender_domain, deadline_of(s));
	/* could not even start (out of memory): undecided at RCPT, never silently unchecked */
	s->msg.sender_undecided = s->msg.sender_check == NULL;
}

/* ---- one decision -------------------------------------------------------------------------- */

/* The probe's finding for a failed lookup, when the servers can tell more than libunbound.
 * Never waits: the probe started when the lookup failed, on the resolver's side; a finding not
 * known yet follows in a "probe" line of this session's. */
static void probe_finding(const struct session *s, struct check_result *r, char *buf, size_t size)
{
	const struct dns_evidence *ev = r->evidence;
	char lead_text[PROBE_CACHE_LEAD_MAX];
	struct strbuf lead;

	if (!ev || ev->outcome != DNS_TEMPFAIL || ev->cause == DNS_CAUSE_LOCAL || ev->cause == DNS_CAUSE_NONE ||
	    !s->rt->probes)
		return;
	session_line_start(&lead, lead_text, sizeof(lead_text), s, "probe");
	switch (probe_cache_finding(s->rt->probes, ev, strbuf_text(&lead), buf, size)) {
	case PROBE_KNOWN:
		r->probe = DECISION_PROBE_KNOWN;
		r->finding = buf;
		break;
	case PROBE_RUNNING:
		r->probe = DECISION_PROBE_RUNNING;
		break;
	case PROBE_NONE:
		break;
	}
}

static bool authenticated(const struct session *s)
{
	return *s->msg.auth != '\0';
}

/* The client's confirmed host name without its final dot, or "unknown" (then false). */
static bool client_hostname(const struct session *s, char *buf, size_t size)
{
	size_t n;

	snprintf(buf, size, "unknown");
	if (!s->client_result || s->client_result->confirmed < 0)
		return false;
	snprintf(buf, size, "%s", fcrdns_hostname(s->client_result));
	n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return true;
}

static void session_facts(const struct session *s, const char *recipient, const char *recipient_domain,
			  char *hostname, size_t size, struct decision_facts *f)
{
	client_hostname(s, hostname, size);
	*f = (struct decision_facts){
		.client = &s->client_addr,
		.client_ip = s->client_ip,
		.client_name = s->client_name,
		.client_hostname = hostname,
		.helo = s->helo,
		.sender = s->msg.from,
		.sender_domain = s->msg.sender_domain,
		.recipient = recipient,
		.recipient_domain = recipient_domain,
		.authenticated = authenticated(s),
		.outbound = authenticated(s) || s->outbound_network,
		.daemon = s->daemon,
	};
}

/* Decides one check's result for this session (and recipient, NULL before or after RCPT). */
static void make_decision(const struct session *s, struct check_result *r, const char *recipient,
			  const char *recipient_domain, char *finding, size_t size, struct decision *d)
{
	struct decision_dns dns = {.transport = s->rt->config->dns.transport,
				   .deadline_ms = s->rt->config->dns_deadline_ms};
	struct decision_facts facts;
	char hostname[DNS_NAME_TEXT_MAX];

	session_facts(s, recipient, recipient_domain, hostname, sizeof(hostname), &facts);
	probe_finding(s, r, finding, size);
	decision_make(s->rt->policy, &dns, &facts, r, d);
}

static void log_decision(const struct session *s, const struct decision *d, const char *recipient,
			 const char *recipient_domain)
{
	struct decision_facts facts;
	char hostname[DNS_NAME_TEXT_MAX], storage[LOG_LINE_LEN];
	struct strbuf line;

	session_facts(s, recipient, recipient_domain, hostname, sizeof(hostname), &facts);
	session_line_start(&line, storage, sizeof(storage), s, "decision");
	decision_format(d, &facts, &line);
	if (decision_is_warning(d))
		log_warning("%s", strbuf_text(&line));
	else
		log_info("%s", strbuf_text(&line));
}

/* Gives the MTA the decision's reply (a reject or tempfail); the status that goes with it. */
static sfsistat refuse(SMFICTX *ctx, const struct session *s, const struct decision *d)
{
	struct decision_reply reply;

	if (decision_reply(d, &reply) && !mta_set_reply(ctx, reply.code, reply.xcode[0] ? reply.xcode : NULL, reply.text))
		log_warning("%s: the MTA did not take the reply text; it sends its own", s->id);
	return d->action == POLICY_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/*
 * Decides one check's result and acts on it.  Returns the milter status for RCPT.  Decisions that
 * change nothing (outcome fine, accepted) are not logged: the message line carries every outcome.
 */
static sfsistat decide(SMFICTX *ctx, struct session *s, struct check_result *r, const char *recipient,
		       const char *recipient_domain)
{
	struct decision d;
	char finding[512] = "";

	make_decision(s, r, recipient, recipient_domain, finding, sizeof(finding), &d);
	if (decision_is_quiet(&d))
		return SMFIS_CONTINUE;
	/* a decision that lets the message go on is logged (and tagged) once per message; the
	 * recipient check is about each recipient, and a reply is given at every RCPT */
	if (d.action != POLICY_REJECT && d.action != POLICY_TEMPFAIL && r->check != POLICY_CHECK_RECIPIENT) {
		if (s->msg.noted & (1u << r->check))
			return SMFIS_CONTINUE;
		s->msg.noted |= 1u << r->check;
	}
	log_decision(s, &d, recipient, recipient_domain);

	if (d.dry_run)
		return SMFIS_CONTINUE;
	switch (d.action) {
	case POLICY_ACCEPT:
	case POLICY_LOG_ONLY:
		return SMFIS_CONTINUE;
	case POLICY_TAG:
		s->msg.tagged |= 1u << r->check;
		return SMFIS_CONTINUE;
	case POLICY_QUARANTINE:
	case POLICY_DIVERT:
		/* divert goes to the badmail store once it exists; until then the MTA's hold queue */
		if (!s->msg.quarantine) {
			s->msg.quarantine = true;
			s->msg.quarantine_check = r->check;
			s->msg.quarantine_outcome = r->outcome;
			snprintf(s->msg.quarantine_rule, sizeof(s->msg.quarantine_rule), "%s", d.rule);
		}
		return SMFIS_CONTINUE;
	case POLICY_REJECT:
	case POLICY_TEMPFAIL:
		return refuse(ctx, s, &d);
	}
	return SMFIS_CONTINUE;
}

/* ---- RCPT: where verdicts are delivered -------------------------------------------------- */

static const struct mail_domain_result *recipient_result(struct session *s, const char *domain)
{
	struct rcpt_check *rc;

	for (size_t i = 0; i < s->msg.rcpt_checks; i++)
		if (strcmp(s->msg.rcpts[i].domain, domain) == 0)
			return s->msg.rcpts[i].result;
	if (s->msg.rcpt_checks == RCPT_CHECKS_MAX)
		return NULL;
	/* only outbound sessions check recipients: the others do not pay for the table */
	if (!s->msg.rcpts && !(s->msg.rcpts = calloc(RCPT_CHECKS_MAX, sizeof(*s->msg.rcpts))))
		return NULL;
	rc = &s->msg.rcpts[s->msg.rcpt_checks];
	snprintf(rc->domain, sizeof(rc->domain), "%s", domain);
	rc->check = mail_domain_start(resolver_of(s), domain, deadline_of(s));
	if (!rc->check)
		return NULL;
	s->msg.rcpt_checks++;
	rc->result = mail_domain_wait(rc->check);
	return rc->result;
}

sfsistat verdicts_rcpt(SMFICTX *ctx, struct session *s, const char *recipient)
{
	struct mailaddr rcpt;
	const char *rdomain = NULL;
	char err[128];
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

	if (s->msg.sender_check && !s->msg.sender_result)
		s->msg.sender_result = mail_domain_wait(s->msg.sender_check);
	if (*s->msg.sender_error) {
		r = (struct check_result){.check = POLICY_CHECK_SENDER, .outcome = POLICY_OUTCOME_SYNTAX,
					  .cause = s->msg.sender_error};
		if ((st = decide(ctx, s, &r, recipient, rdomain)) != SMFIS_CONTINUE)
			return st;
	}
	if (s->msg.sender_undecided || s->msg.sender_result) {
		/* undecided: the check could not be started (out of memory), never silently unchecked */
		check_result_domain(POLICY_CHECK_SENDER, s->msg.sender_result, s->msg.sender_domain, &r);
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
		s->msg.ar_seen++;
		if (auth_results_is_ours(value, s->authserv_id))
			session_note_forged_result(s, s->msg.ar_seen);
	} else if (strcasecmp(name, DNSGUARD_HEADER) == 0) {
		s->msg.dg_seen++;
	}
}

/* Tempfails the message: it cannot be delivered as the checks would have it. */
static sfsistat eom_tempfail(SMFICTX *ctx, struct session *s, struct strbuf *line, const char *why)
{
	strbuf_append_kv(line, "action", "tempfail");
	strbuf_append_kv(line, "reason", why);
	if (!mta_set_reply(ctx, "451", "4.7.0", "Message not accepted now, try again later"))
		log_warning("%s: the MTA did not take the reply text; it sends its own", s->id);
	return SMFIS_TEMPFAIL;
}

/*
 * The MTA refused a change the checks asked for (a header field, the quarantine): the message
 * cannot go out as decided.  That is the check's outcome undecided, and the policy says what then:
 * by default tempfail; a rule that accepts, logs or tags lets it go (logged, never silently);
 * anything else (a quarantine the MTA will not do) tempfails.
 */
static sfsistat eom_change_refused(SMFICTX *ctx, struct session *s, struct strbuf *line, enum policy_check check,
				   const char *why)
{
	struct check_result r = {.check = check, .outcome = POLICY_OUTCOME_UNDECIDED, .cause = why};
	struct decision d;
	char finding[8];

	make_decision(s, &r, NULL, NULL, finding, sizeof(finding), &d);
	log_decision(s, &d, NULL, NULL);
	if (d.dry_run || d.action == POLICY_ACCEPT || d.action == POLICY_LOG_ONLY || d.action == POLICY_TAG) {
		strbuf_append_kv(line, "refused", why);
		return SMFIS_CONTINUE;
	}
	if (d.action == POLICY_REJECT || d.action == POLICY_TEMPFAIL) {
		strbuf_append_kv(line, "action", policy_action_name(d.action));
		strbuf_append_kv(line, "reason", why);
		return refuse(ctx, s, &d);
	}
	return eom_tempfail(ctx, s, line, why);
}

/* The check an X-DNSGuard field is for: the first tagged one, else the first it reports. */
static enum policy_check summary_check(const struct session *s)
{
	for (unsigned c = 0; c < POLICY_CHECK_COUNT; c++)
		if (s->msg.tagged & (1u << c))
			return (enum policy_check)c;
	return s->client_result && !authenticated(s) ? POLICY_CHECK_CLIENT
	       : s->helo_result && !authenticated(s) ? POLICY_CHECK_HELO
						      : POLICY_CHECK_SENDER;
}

sfsistat verdicts_eom(SMFICTX *ctx, struct session *s, struct strbuf *line)
{
	char value[1024], summary[256] = "";
	struct check_result r;
	struct strbuf sb;
	sfsistat st;

	if (s->trusted) {
		strbuf_append_kv(line, "checks", "trusted");
		strbuf_append_kv(line, "action", "accept");
		return SMFIS_CONTINUE;
	}
	/* forged or looped copies of our fields go first, every one of them, or the message waits:
	 * highest index first, so the lower indexes still hold */
	if (s->msg.ar_delete_lost)
		return eom_tempfail(ctx, s, line, "out of memory noting forged Authentication-Results fields");
	for (size_t i = s->msg.ar_delete_count; i-- > 0;)
		if (!mta_delete_header(ctx, AUTH_RESULTS_HEADER, (int)s->msg.ar_delete[i]))
			return eom_tempfail(ctx, s, line, "the MTA refused to remove a forged Authentication-Results field");
	for (unsigned i = s->msg.dg_seen; i > 0; i--)
		if (!mta_delete_header(ctx, DNSGUARD_HEADER, (int)i))
			return eom_tempfail(ctx, s, line, "the MTA refused to remove a forged X-DNSGuard field");
	if (s->msg.ar_delete_count)
		strbuf_appendf(line, " forged_removed=%zu", s->msg.ar_delete_count);

	strbuf_init(&sb, summary, sizeof(summary));
	if (s->client_result && !authenticated(s)) {
		char name[DNS_NAME_TEXT_MAX];
		bool confirmed = client_hostname(s, name, sizeof(name));
		auth_results_iprev(s->authserv_id, fcrdns_iprev_result(s->client_result->verdict), s->client_ip,
				   confirmed ? name : "", value, sizeof(value));
		if (!mta_prepend_header(ctx, AUTH_RESULTS_HEADER, value) &&
		    (st = eom_change_refused(ctx, s, line, POLICY_CHECK_CLIENT,
					     "the MTA refused to add Authentication-Results")) != SMFIS_CONTINUE)
			return st;
		check_result_client(s->client_result, &r);
		strbuf_appendf(&sb, "client=%s", policy_outcome_name(r.outcome));
	}
	if (s->helo_result && !authenticated(s)) {
		check_result_helo(s->helo_result, s->helo, &r);
		strbuf_appendf(&sb, "%shelo=%s", strbuf_len(&sb) ? " " : "", policy_outcome_name(r.outcome));
	}
	if (s->msg.sender_result) {
		check_result_domain(POLICY_CHECK_SENDER, s->msg.sender_result, s->msg.sender_domain, &r);
		strbuf_appendf(&sb, "%ssender=%s", strbuf_len(&sb) ? " " : "", policy_outcome_name(r.outcome));
	}
	if (strbuf_len(&sb)) {
		auth_results_dnsguard(summary, s->authserv_id, value, sizeof(value));
		if (!mta_prepend_header(ctx, DNSGUARD_HEADER, value) &&
		    (st = eom_change_refused(ctx, s, line, summary_check(s), "the MTA refused to add X-DNSGuard")) !=
			    SMFIS_CONTINUE)
			return st;
		strbuf_append_kv(line, "checks", summary);
	}
	if (s->msg.tagged) {
		char tags[128];
		struct strbuf tb;
		strbuf_init(&tb, tags, sizeof(tags));
		for (unsigned c = 0; c < POLICY_CHECK_COUNT; c++)
			if (s->msg.tagged & (1u << c))
				strbuf_appendf(&tb, "%s%s", strbuf_len(&tb) ? "," : "",
					       policy_check_name((enum policy_check)c));
		strbuf_append_kv(line, "tagged", tags);
	}
	if (s->msg.quarantine) {
		char reason[256];
		snprintf(reason, sizeof(reason), "dnsguard: %s %s (rule %s)", policy_check_name(s->msg.quarantine_check),
			 policy_outcome_name(s->msg.quarantine_outcome), s->msg.quarantine_rule);
		if (!mta_quarantine(ctx, reason)) {
			if ((st = eom_change_refused(ctx, s, line, s->msg.quarantine_check,
						     "the MTA refused to quarantine the message")) != SMFIS_CONTINUE)
				return st;
			strbuf_append_kv(line, "action", "accept");
			return SMFIS_CONTINUE;
		}
		strbuf_append_kv(line, "action", "quarantine");
	} else {
		strbuf_append_kv(line, "action", "accept");
	}
	return SMFIS_CONTINUE;
}

/* ---- cleanup ------------------------------------------------------------------------------------- */

void verdicts_end_session(struct session *s)
{
	session_end_message(s);
	fcrdns_free(s->client_check);
	s->client_check = NULL;
	s->client_result = NULL;
	helo_check_free(s->helo_check);
	s->helo_check = NULL;
	s->helo_result = NULL;
}
