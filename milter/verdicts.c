/*
 * verdicts - checks, policy decisions and their log lines for one session; see verdicts.h.
 */
#include "verdicts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth_results.h"
#include "decision.h"
#include "log.h"
#include "metrics.h"
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

/* Decides one check's result for this session (and recipient, NULL before or after RCPT), and
 * counts it: every decision is made here. */
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
	metrics_count_decision(d->check, d->outcome, d->action);
}

/* The decision line; `badmail`: the entry a diverted recipient went to, or NULL. */
static void log_decision(const struct session *s, const struct decision *d, const char *recipient,
			 const char *recipient_domain, const char *badmail)
{
	struct decision_facts facts;
	char hostname[DNS_NAME_TEXT_MAX], storage[LOG_LINE_LEN];
	struct strbuf line;

	session_facts(s, recipient, recipient_domain, hostname, sizeof(hostname), &facts);
	session_line_start(&line, storage, sizeof(storage), s, "decision");
	decision_format(d, &facts, &line);
	if (badmail)
		strbuf_append_kv(&line, "badmail", badmail);
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

/* The first decision that diverts this recipient: carried out once every check has let the
 * recipient through, and logged then, with the badmail entry it went to. */
struct divert_pending {
	bool set;
	bool log;			/* its decision line is still to be written */
	struct decision decision;
};

/*
 * Decides one check's result and acts on it.  Returns the milter status for RCPT.  Decisions that
 * change nothing (outcome fine, accepted) are not logged: the message line carries every outcome.
 * A divert is noted in `divert` (at RCPT; NULL elsewhere) and carried out by the caller.
 */
static sfsistat decide(SMFICTX *ctx, struct session *s, struct check_result *r, const char *recipient,
		       const char *recipient_domain, struct divert_pending *divert)
{
	struct decision d;
	char finding[512] = "";
	bool log = true;

	make_decision(s, r, recipient, recipient_domain, finding, sizeof(finding), &d);
	if (decision_is_quiet(&d))
		return SMFIS_CONTINUE;
	/* a decision that lets the message go on is logged once per message; the recipient check
	 * is about each recipient, and a reply is given at every RCPT */
	if (d.action != POLICY_REJECT && d.action != POLICY_TEMPFAIL && r->check != POLICY_CHECK_RECIPIENT) {
		log = !(s->msg.noted & (1u << r->check));
		s->msg.noted |= 1u << r->check;
	}
	if (d.action == POLICY_DIVERT && !d.dry_run && divert && !divert->set) {
		*divert = (struct divert_pending){.set = true, .log = log, .decision = d};
		return SMFIS_CONTINUE;
	}
	if (log)
		log_decision(s, &d, recipient, recipient_domain, NULL);

	if (d.dry_run)
		return SMFIS_CONTINUE;
	switch (d.action) {
	case POLICY_ACCEPT:
	case POLICY_LOG_ONLY:
	case POLICY_DIVERT:	/* a second reason to divert: the first one is carried out */
		return SMFIS_CONTINUE;
	case POLICY_TAG:
		s->msg.tagged |= 1u << r->check;
		return SMFIS_CONTINUE;
	case POLICY_QUARANTINE:
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

/* The store cannot take a diverted recipient now: it is tempfailed, never lost, and the admin
 * learns why. */
static sfsistat divert_refused(SMFICTX *ctx, const struct session *s, const char *recipient, const char *why)
{
	char storage[LOG_LINE_LEN];
	struct strbuf line;

	session_line_start(&line, storage, sizeof(storage), s, "divert");
	session_line_bracketed(&line, "to", recipient);
	strbuf_append_kv(&line, "action", "tempfail");
	strbuf_append_kv(&line, "reason", why);
	log_warning("%s", strbuf_text(&line));
	if (!mta_set_reply(ctx, "451", "4.3.0", "Cannot set this message aside now, try again later"))
		log_warning("%s: the MTA did not take the reply text; it sends its own", s->id);
	return SMFIS_TEMPFAIL;
}

/* Diverts this recipient: into the message's badmail entry, begun at the first one. */
static sfsistat divert_recipient(SMFICTX *ctx, struct session *s, const struct divert_pending *p,
				 const char *recipient, const char *recipient_domain, const char *argument)
{
	char err[256];
	const char *why = NULL;

	if (!s->body_wanted)
		why = "this connection began before a rule diverted: the MTA sends it no body";
	else if (!s->rt->badmail)
		why = "badmail_dir is not open (see the errors of the last start or reload)";
	else if (!s->msg.diversion && !(s->msg.diversion = diversion_begin(s->rt->badmail, time(NULL), err, sizeof(err))))
		why = err;
	if (p->log)
		log_decision(s, &p->decision, recipient, recipient_domain, why ? NULL : diversion_id(s->msg.diversion));
	if (why)
		return divert_refused(ctx, s, recipient, why);
	if (diversion_add_recipient(s->msg.diversion, recipient, argument && *argument ? argument : recipient,
				    &p->decision) != 0)
		return divert_refused(ctx, s, recipient, "out of memory");
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

/* The checks of one RCPT, in order: the first refusal ends them; a divert waits for the rest. */
static sfsistat rcpt_checks(SMFICTX *ctx, struct session *s, const char *recipient, const char *rdomain,
			    struct divert_pending *divert)
{
	struct check_result r;
	sfsistat st;

	/* the client and its HELO: not for SASL-authenticated users (like permit_sasl_authenticated) */
	if (!authenticated(s)) {
		if (s->client_check && !s->client_result)
			s->client_result = fcrdns_wait(s->client_check);
		check_result_client(s->client_result, &r);
		if ((st = decide(ctx, s, &r, recipient, rdomain, divert)) != SMFIS_CONTINUE)
			return st;

		if (s->helo_check && !s->helo_result)
			s->helo_result = helo_check_wait(s->helo_check);
		if (s->helo_result) {
			check_result_helo(s->helo_result, s->helo, &r);
			if ((st = decide(ctx, s, &r, recipient, rdomain, divert)) != SMFIS_CONTINUE)
				return st;
		}
	}

	if (s->msg.sender_check && !s->msg.sender_result)
		s->msg.sender_result = mail_domain_wait(s->msg.sender_check);
	if (*s->msg.sender_error) {
		r = (struct check_result){.check = POLICY_CHECK_SENDER, .outcome = POLICY_OUTCOME_SYNTAX,
					  .cause = s->msg.sender_error};
		if ((st = decide(ctx, s, &r, recipient, rdomain, divert)) != SMFIS_CONTINUE)
			return st;
	}
	if (s->msg.sender_undecided || s->msg.sender_result) {
		/* undecided: the check could not be started (out of memory), never silently unchecked */
		check_result_domain(POLICY_CHECK_SENDER, s->msg.sender_result, s->msg.sender_domain, &r);
		if ((st = decide(ctx, s, &r, recipient, rdomain, divert)) != SMFIS_CONTINUE)
			return st;
	}

	/* outbound mail: a local user learns at once that the recipient's domain cannot get mail */
	if ((authenticated(s) || s->outbound_network) && rdomain && resolver_of(s)) {
		check_result_domain(POLICY_CHECK_RECIPIENT, recipient_result(s, rdomain), rdomain, &r);
		if ((st = decide(ctx, s, &r, recipient, rdomain, divert)) != SMFIS_CONTINUE)
			return st;
	}
	return SMFIS_CONTINUE;
}

sfsistat verdicts_rcpt(SMFICTX *ctx, struct session *s, const char *recipient, const char *argument)
{
	struct mailaddr rcpt;
	const char *rdomain = NULL;
	char err[128];
	struct divert_pending divert = {.set = false};
	sfsistat st;

	if (s->trusted)
		return SMFIS_CONTINUE;
	if (mailaddr_parse(recipient, &rcpt, err, sizeof(err)) == 0 && rcpt.kind == MAILADDR_DOMAIN)
		rdomain = rcpt.domain;
	st = rcpt_checks(ctx, s, recipient, rdomain, &divert);
	if (!divert.set)
		return st;
	if (st != SMFIS_CONTINUE) {
		/* refused by a later check: the divert is not carried out, but it was decided */
		if (divert.log)
			log_decision(s, &divert.decision, recipient, rdomain, NULL);
		return st;
	}
	return divert_recipient(ctx, s, &divert, recipient, rdomain, argument);
}

/* ---- headers ----------------------------------------------------------------------------------- */

void verdicts_header(struct session *s, const char *name, const char *value)
{
	if (s->msg.diversion)
		diversion_header(s->msg.diversion, name, value);
	if (strcasecmp(name, AUTH_RESULTS_HEADER) == 0) {
		s->msg.ar_seen++;
		if (auth_results_is_ours(value, s->authserv_id))
			session_note_forged_result(s, s->msg.ar_seen);
	} else if (strcasecmp(name, DNSGUARD_HEADER) == 0) {
		s->msg.dg_seen++;
	}
}

bool verdicts_body(struct session *s, const void *chunk, size_t len)
{
	if (!s->msg.diversion)
		return false;
	diversion_body(s->msg.diversion, chunk, len);
	return true;
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
	log_decision(s, &d, NULL, NULL, NULL);
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

/* Why an NDR to the sender would not be delivered: its domain failed the sender check for good.
 * NULL when it may be sent. */
static const char *sender_unreachable(const struct session *s, char *buf, size_t size)
{
	struct check_result r;

	if (!s->msg.sender_result)
		return NULL;
	check_result_domain(POLICY_CHECK_SENDER, s->msg.sender_result, s->msg.sender_domain, &r);
	switch (r.outcome) {
	case POLICY_OUTCOME_NXDOMAIN:
	case POLICY_OUTCOME_NO_ADDRESS:
	case POLICY_OUTCOME_NULL_MX:
	case POLICY_OUTCOME_MX_UNRESOLVABLE:
	case POLICY_OUTCOME_LOOPBACK:
		snprintf(buf, size, "the sender's domain %s cannot receive mail (%s)", s->msg.sender_domain,
			 policy_outcome_name(r.outcome));
		return buf;
	default:
		return NULL;
	}
}

/* Something was stored for the NDR worker: the current generation's (an older one's stops). */
static void kick_ndr_worker(void)
{
	struct runtime *rt = runtime_acquire();

	if (rt)
		ndr_worker_kick(rt->ndr_worker);
	runtime_release(rt);
}

/*
 * Stores the diverted message with its record and NDR, and takes its diverted recipients out of
 * the message: SMFIS_DISCARD when that was all of them, SMFIS_CONTINUE when others are still to
 * be delivered (the caller goes on with them), SMFIS_TEMPFAIL when the store could not take it.
 * The recipients are removed before the entry is committed: the MTA applies the removals only
 * with a continue, so nothing is lost whichever step fails.
 */
static sfsistat eom_divert(SMFICTX *ctx, struct session *s, struct strbuf *line)
{
	struct diversion *dv = s->msg.diversion;
	size_t n = diversion_recipient_count(dv);
	bool all = n >= s->msg.rcpt_accepted;
	char id[BADMAIL_ID_SIZE], err[256], detail[256], unreachable[320];
	enum badmail_ndr_status ndr;
	struct diversion_facts facts = {
		.reporting_host = s->mta_host,
		.now = time(NULL),
		.queue_id = s->msg.queue_id,
		.session = s->id,
		.client_name = s->client_name,
		.client_address = s->client_ip,
		.helo = s->helo,
		.envelope_sender = s->msg.from,
		.sender_unreachable = sender_unreachable(s, unreachable, sizeof(unreachable)),
	};

	s->msg.diversion = NULL;	/* committed or aborted below: freed either way */
	snprintf(id, sizeof(id), "%s", diversion_id(dv));
	for (size_t i = 0; !all && i < n; i++) {
		if (!mta_delete_recipient(ctx, diversion_recipient_mta_form(dv, i))) {
			diversion_abort(dv);
			return eom_tempfail(ctx, s, line, "the MTA refused to remove a diverted recipient");
		}
	}
	if (diversion_commit(dv, &facts, &ndr, detail, sizeof(detail), err, sizeof(err)) != 0) {
		char why[320];
		snprintf(why, sizeof(why), "badmail_dir cannot take the message: %s", err);
		strbuf_appendf(line, " diverted=%zu", n);
		return eom_tempfail(ctx, s, line, why);
	}
	if (ndr == BADMAIL_NDR_PENDING)
		kick_ndr_worker();
	strbuf_appendf(line, " diverted=%zu", n);
	strbuf_append_kv(line, "badmail", id);
	strbuf_append_kv(line, "ndr", badmail_ndr_status_name(ndr));
	if (*detail)
		strbuf_append_kv(line, "ndr_reason", detail);
	if (!all)
		return SMFIS_CONTINUE;
	strbuf_append_kv(line, "action", "divert");
	return SMFIS_DISCARD;
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
	const char *action = "accept";
	char value[1024], summary[256] = "";
	struct check_result r;
	struct strbuf sb;
	sfsistat st;

	if (s->trusted) {
		strbuf_append_kv(line, "checks", "trusted");
		strbuf_append_kv(line, "action", "accept");
		return SMFIS_CONTINUE;
	}
	/* every recipient diverted: nothing else is done to a message that is discarded */
	if (s->msg.diversion && diversion_recipient_count(s->msg.diversion) >= s->msg.rcpt_accepted)
		return eom_divert(ctx, s, line);
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
		if (mta_quarantine(ctx, reason))
			action = "quarantine";
		else if ((st = eom_change_refused(ctx, s, line, s->msg.quarantine_check,
						  "the MTA refused to quarantine the message")) != SMFIS_CONTINUE)
			return st;
	}
	/* some recipients diverted: stored last, once nothing else can tempfail the message (a retry
	 * would store it twice) */
	if (s->msg.diversion && (st = eom_divert(ctx, s, line)) != SMFIS_CONTINUE)
		return st;
	strbuf_append_kv(line, "action", action);
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
