/*
 * check_client - dnsguard-check client: the reverse DNS of an address as receivers judge it; see
 * check.h and dnsguard-check(8).
 *
 * PTR and forward confirmation (lib/fcrdns, iprev of RFC 8601 as DECISIONS 11 reads it), the HELO
 * name (lib/helo_check), then what each receiver makes of them: dnsguard's own client and HELO
 * checks under the loaded policy (decision_make), Postfix's reject_unknown_client_hostname,
 * reject_unknown_reverse_client_hostname and reject_unknown_helo_hostname with their default
 * reply codes, and Sendmail's FEATURE(require_rdns) as its proto.m4 words it.  Run on one's own
 * outbound address it says whether one's mail will be refused for its reverse DNS (seed 003).
 */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "check_dns.h"
#include "decision.h"
#include "fcrdns.h"
#include "helo_check.h"
#include "host_lookup.h"
#include "strbuf.h"

struct client_check {
	struct check_context *ctx;
	struct check_report *report;
	struct resolver *resolver;
	enum dns_transport transport;
	struct netaddr client;
	char ip[64];
	const char *helo;		/* NULL: not given */
	const struct fcrdns_result *fcrdns;
	const struct helo_result *helo_result;
	struct host_addresses forward[FCRDNS_NAMES_MAX];
	char finding[2048];		/* the probe's finding for a failed PTR lookup, or "" */
};

static const struct dns_evidence *decisive_of(const struct dns_evidence *ev, size_t count, size_t decisive)
{
	return count ? &ev[decisive < count ? decisive : 0] : NULL;
}

static const char *cause_of(struct client_check *cc, const struct dns_evidence *ev, char *buf, size_t size)
{
	struct decision_dns dns = {.transport = cc->transport, .deadline_ms = cc->ctx->deadline_ms};
	struct dns_probe_result results[DNS_SERVERS_MAX];
	size_t n;

	cc->finding[0] = '\0';
	if (ev && ev->outcome == DNS_TEMPFAIL) {
		n = check_dns_probe(cc->ctx, ev->qname, ev->qtype, results, DNS_SERVERS_MAX);
		check_dns_finding(results, n, ev, cc->transport, cc->finding, sizeof(cc->finding));
	}
	return decision_cause(ev, &dns, cc->finding[0] ? DECISION_PROBE_KNOWN : DECISION_PROBE_NONE, cc->finding, buf,
			      size);
}

static void addresses_text(const struct host_addresses *a, char *buf, size_t size)
{
	struct strbuf sb;
	char text[64];

	strbuf_init(&sb, buf, size);
	for (size_t i = 0; i < a->count; i++)
		strbuf_appendf(&sb, "%s%s", i ? ", " : "", netaddr_format(&a->addresses[i], text, sizeof(text)));
}

/* ---- reverse DNS ------------------------------------------------------------------------------ */

/* Each PTR name: does it map back, and if not, what does it point at. */
static void report_names(struct client_check *cc, enum check_severity bad)
{
	const struct fcrdns_result *r = cc->fcrdns;
	struct check_dns_evidence e;
	char cause[DECISION_CAUSE_SIZE], list[1024];

	for (size_t i = 0; i < r->name_count; i++) {
		const struct host_addresses *a = &cc->forward[i];
		const struct dns_evidence *fev = &a->evidence;
		check_dns_evidence(&e, fev, cc->transport);
		if ((int)i == r->confirmed) {
			addresses_text(a, list, sizeof(list));
			check_report_finding(cc->report, CHECK_OK, "ptr-confirmed", &e.ev,
					     "PTR %s maps back to %s (%s has %s)", r->names[i], cc->ip, r->names[i],
					     list[0] ? list : cc->ip);
		} else if (a->outcome == DNS_FOUND) {
			addresses_text(a, list, sizeof(list));
			check_report_finding(cc->report, bad, "ptr-not-confirmed", &e.ev,
					     "PTR %s does not map back: %s has %s, not %s; give %s an address record "
					     "for %s, or have the PTR name a host that has it",
					     r->names[i], r->names[i], list, cc->ip, r->names[i], cc->ip);
		} else if (a->outcome == DNS_TEMPFAIL || a->outcome == DNS_BOGUS) {
			check_report_finding(cc->report, CHECK_PROBLEM, "ptr-name-tempfail", &e.ev,
					     "PTR %s: its addresses cannot be looked up now: %s", r->names[i],
					     cause_of(cc, fev, cause, sizeof(cause)));
		} else {
			check_report_finding(cc->report, bad, "ptr-not-confirmed", &e.ev,
					     "PTR %s does not map back: %s %s; give it an address record for %s",
					     r->names[i], r->names[i],
					     a->outcome == DNS_NXDOMAIN ? "does not exist (NXDOMAIN)"
									: "has no address record",
					     cc->ip);
		}
	}
}

static void report_reverse(struct client_check *cc)
{
	const struct fcrdns_result *r = cc->fcrdns;
	const struct dns_evidence *ev = decisive_of(r->evidence, r->evidence_count, r->decisive);
	enum check_severity bad = r->verdict == FCRDNS_PASS ? CHECK_INFO : CHECK_PROBLEM;
	struct check_dns_evidence e;
	char reverse[DNS_NAME_TEXT_MAX], cause[DECISION_CAUSE_SIZE];

	check_report_section(cc->report, "client %s: reverse DNS", cc->ip);
	dns_reverse_name(&cc->client, reverse, sizeof(reverse));
	switch (r->verdict) {
	case FCRDNS_NO_PTR:
		check_report_finding(cc->report, CHECK_PROBLEM, "no-ptr",
				     ev ? check_dns_evidence(&e, ev, cc->transport) : NULL,
				     "%s has no PTR record: %s answers %s", cc->ip, reverse,
				     ev && ev->outcome == DNS_NXDOMAIN ? "NXDOMAIN (no such name)" : "no PTR record (NODATA)");
		break;
	case FCRDNS_TEMPFAIL:
	case FCRDNS_BOGUS:
		if (r->name_count == 0) {
			check_report_finding(cc->report, CHECK_PROBLEM, "ptr-tempfail",
					     ev ? check_dns_evidence(&e, ev, cc->transport) : NULL,
					     "the PTR of %s cannot be looked up now: %s", cc->ip,
					     cause_of(cc, ev, cause, sizeof(cause)));
			break;
		}
		report_names(cc, bad);
		break;
	case FCRDNS_PASS:
	case FCRDNS_FAIL:
		report_names(cc, bad);
		break;
	}
	switch (r->verdict) {
	case FCRDNS_PASS:
		check_report_verdict(cc->report, "pass", "%s has a PTR that maps back (%s): iprev pass", cc->ip,
				     r->names[r->confirmed]);
		break;
	case FCRDNS_FAIL:
	case FCRDNS_NO_PTR:
		check_report_verdict(cc->report, fcrdns_iprev_result(r->verdict),
				     "mail from %s will be refused by receivers that require reverse DNS; ask whoever "
				     "runs the reverse zone (usually the ISP) for a PTR that maps back (%s)",
				     cc->ip,
				     r->verdict == FCRDNS_NO_PTR ? "now there is no PTR at all"
								 : "now the PTR names a host whose address is not this one");
		break;
	case FCRDNS_TEMPFAIL:
	case FCRDNS_BOGUS:
		check_report_verdict(cc->report, "temperror",
				     "the reverse DNS of %s cannot be looked up now: receivers that require it defer "
				     "mail from %s (4xx) until it can; %s",
				     cc->ip, cc->ip, cause_of(cc, ev, cause, sizeof(cause)));
		break;
	}
}

static void report_helo(struct client_check *cc)
{
	const struct helo_result *h = cc->helo_result;
	const struct dns_evidence *ev = decisive_of(h->evidence, h->evidence_count, h->decisive);
	struct check_dns_evidence e;
	const struct check_evidence *evidence = ev ? check_dns_evidence(&e, ev, cc->transport) : NULL;
	char cause[DECISION_CAUSE_SIZE];

	check_report_section(cc->report, "HELO %s from %s", cc->helo, cc->ip);
	switch (h->verdict) {
	case HELO_OK:
		check_report_finding(cc->report, CHECK_OK, "helo-ok", evidence, "%s resolves to %s", cc->helo, cc->ip);
		break;
	case HELO_MISMATCH:
		check_report_finding(cc->report, CHECK_WARNING, "helo-mismatch", evidence,
				     "%s resolves, but not to %s: many receivers score this; announce the name the "
				     "PTR of %s gives",
				     cc->helo, cc->ip, cc->ip);
		break;
	case HELO_UNRESOLVABLE:
		check_report_finding(cc->report, CHECK_PROBLEM, "helo-unresolvable", evidence,
				     "%s has no A, AAAA or MX record (or is no host name): receivers that check HELO "
				     "refuse it; announce a name that resolves to %s",
				     cc->helo, cc->ip);
		break;
	case HELO_TEMPFAIL:
		check_report_finding(cc->report, CHECK_PROBLEM, "helo-tempfail", evidence,
				     "%s cannot be looked up now: %s", cc->helo, cause_of(cc, ev, cause, sizeof(cause)));
		break;
	}
	check_report_verdict(cc->report, helo_verdict_name(h->verdict), "HELO %s: %s", cc->helo,
			     h->verdict == HELO_OK		 ? "names this client"
			     : h->verdict == HELO_MISMATCH	 ? "resolves, to another address"
			     : h->verdict == HELO_UNRESOLVABLE ? "does not resolve"
								 : "cannot be looked up now");
}

/* ---- what receivers decide --------------------------------------------------------------------- */

/* One receiver's answer: severity ok when it passes, problem when it refuses. */
static void receiver(struct client_check *cc, const char *code, bool pass, const char *rule, const char *reply)
{
	if (pass)
		check_report_finding(cc->report, CHECK_OK, code, NULL, "%s: passes", rule);
	else
		check_report_finding(cc->report, CHECK_PROBLEM, code, NULL, "%s: %s", rule, reply);
}

static void report_receivers(struct client_check *cc)
{
	const struct fcrdns_result *r = cc->fcrdns;
	bool temp = r->verdict == FCRDNS_TEMPFAIL || r->verdict == FCRDNS_BOGUS;
	bool has_ptr = r->name_count > 0, refused = false, deferred = false;
	char reply[1024], hostname[DNS_NAME_TEXT_MAX], name[DNS_NAME_TEXT_MAX + 8];
	struct check_result result;
	struct decision d;
	size_t len;
	struct decision_facts facts = {
		.client = &cc->client,
		.client_ip = cc->ip,
		.helo = cc->helo ? cc->helo : "",
		.sender = "",
		.sender_domain = "",
		.daemon = "",
	};

	snprintf(hostname, sizeof(hostname), "%s", r->confirmed >= 0 ? fcrdns_hostname(r) : "unknown");
	len = strlen(hostname);
	if (len > 1 && hostname[len - 1] == '.')
		hostname[len - 1] = '\0';
	facts.client_name = hostname;
	facts.client_hostname = hostname;

	check_report_section(cc->report, "what receivers decide for %s", cc->ip);
	if (policy_client_trusted(cc->ctx->rt->policy, &cc->client)) {
		check_report_finding(cc->report, CHECK_INFO, "dnsguard-trusted", NULL,
				     "%s is in the policy's trusted networks: dnsguard checks nothing for it", cc->ip);
	} else {
		check_result_client(r, &result);
		cause_of(cc, result.evidence, reply, sizeof(reply));
		check_dns_decide(cc->ctx, cc->transport, &facts, &result, cc->finding, &d);
		snprintf(name, sizeof(name), "mail from %s", cc->ip);
		check_dns_report_decision(cc->report, &d, name, CHECK_PROBLEM);
		refused |= !d.dry_run && d.action == POLICY_REJECT;
		deferred |= !d.dry_run && d.action == POLICY_TEMPFAIL;
		if (cc->helo_result) {
			check_result_helo(cc->helo_result, cc->helo, &result);
			cause_of(cc, result.evidence, reply, sizeof(reply));
			check_dns_decide(cc->ctx, cc->transport, &facts, &result, cc->finding, &d);
			snprintf(name, sizeof(name), "HELO %s", cc->helo);
			check_dns_report_decision(cc->report, &d, name, CHECK_PROBLEM);
			refused |= !d.dry_run && d.action == POLICY_REJECT;
			deferred |= !d.dry_run && d.action == POLICY_TEMPFAIL;
		}
	}

	/* Postfix: unknown_client_reject_code and unknown_hostname_reject_code default to 450, and
	 * a temporary DNS failure always gets 450 */
	snprintf(reply, sizeof(reply), "450 4.7.25 Client host rejected: cannot find your reverse hostname, [%s]%s", cc->ip,
		 temp && !has_ptr ? " (the PTR lookup failed temporarily)" : "");
	receiver(cc, "postfix-reject-unknown-reverse-client-hostname", has_ptr,
		 "Postfix reject_unknown_reverse_client_hostname (a PTR record)", reply);
	deferred |= !has_ptr;
	snprintf(reply, sizeof(reply), "450 4.7.25 Client host rejected: cannot find your hostname, [%s]%s", cc->ip,
		 temp ? " (a lookup failed temporarily)" : "");
	receiver(cc, "postfix-reject-unknown-client-hostname", r->verdict == FCRDNS_PASS,
		 "Postfix reject_unknown_client_hostname (a PTR that maps back)", reply);
	deferred |= r->verdict != FCRDNS_PASS;
	if (cc->helo_result) {
		/* Postfix looks up host names only: an address literal passes */
		bool pass = cc->helo_result->verdict == HELO_OK || cc->helo_result->verdict == HELO_MISMATCH ||
			    cc->helo_result->evidence_count == 0;
		snprintf(reply, sizeof(reply), "450 4.7.1 <%s>: Helo command rejected: Host not found", cc->helo);
		receiver(cc, "postfix-reject-unknown-helo-hostname", pass,
			 "Postfix reject_unknown_helo_hostname (HELO has A, AAAA or MX)", reply);
		deferred |= !pass;
	}
	/* Sendmail: proto.m4's require_rdns rules on {client_resolve} */
	switch (r->verdict) {
	case FCRDNS_PASS:
		receiver(cc, "sendmail-require-rdns", true, "Sendmail FEATURE(require_rdns)", "");
		break;
	case FCRDNS_NO_PTR:
		snprintf(reply, sizeof(reply), "550 5.7.1 Fix reverse DNS for %s", cc->ip);
		receiver(cc, "sendmail-require-rdns", false, "Sendmail FEATURE(require_rdns) ({client_resolve} FAIL)", reply);
		refused = true;
		break;
	case FCRDNS_FAIL:
		snprintf(reply, sizeof(reply), "451 4.1.8 Possibly forged hostname for %s", cc->ip);
		receiver(cc, "sendmail-require-rdns", false, "Sendmail FEATURE(require_rdns) ({client_resolve} FORGED)",
			 reply);
		break;
	case FCRDNS_TEMPFAIL:
	case FCRDNS_BOGUS:
		snprintf(reply, sizeof(reply), "451 4.1.8 Client IP address %s does not resolve", cc->ip);
		receiver(cc, "sendmail-require-rdns", false, "Sendmail FEATURE(require_rdns) ({client_resolve} TEMP)", reply);
		break;
	}

	if (r->verdict == FCRDNS_FAIL || r->verdict == FCRDNS_NO_PTR)
		check_report_verdict(cc->report, "refused",
				     "mail from %s will be refused by receivers that require reverse DNS; ask whoever "
				     "runs the reverse zone (usually the ISP) for a PTR that maps back",
				     cc->ip);
	else if (temp)
		check_report_verdict(cc->report, "deferred",
				     "mail from %s will be deferred by receivers that require reverse DNS until its "
				     "reverse DNS answers again",
				     cc->ip);
	else if (refused || deferred)
		check_report_verdict(cc->report, refused ? "refused" : "deferred",
				     "the reverse DNS of %s is fine, but its HELO or dnsguard's policy gets its mail %s",
				     cc->ip, refused ? "refused" : "deferred");
	else
		check_report_verdict(cc->report, "accepted",
				     "receivers that require reverse DNS accept mail from %s", cc->ip);
}

int check_client(struct check_context *ctx, int argc, char **argv)
{
	static struct client_check cc;	/* large; one per process */
	struct fcrdns_check *fcrdns = NULL;
	struct helo_check *helo = NULL;
	int status = 2;

	memset(&cc, 0, sizeof(cc));
	cc.ctx = ctx;
	if (argc == 4 && strcmp(argv[2], "--helo") == 0)
		cc.helo = argv[3];
	else if (argc == 4 && strcmp(argv[1], "--helo") == 0)
		cc.helo = argv[2], argv[1] = argv[3];
	else if (argc != 2)
		return check_fail("usage: client IP [--helo NAME]");
	if (!netaddr_parse(argv[1], &cc.client))
		return check_fail("client: %s is not an IPv4 or IPv6 address", argv[1]);
	if (cc.helo && (!*cc.helo || strlen(cc.helo) >= DNS_NAME_TEXT_MAX))
		return check_fail("client: --helo needs a name (at most %d characters)", DNS_NAME_TEXT_MAX - 1);
	netaddr_format(&cc.client, cc.ip, sizeof(cc.ip));
	cc.transport = ctx->rt->config->dns.transport;
	if (!(cc.resolver = check_resolver(ctx, cc.transport)))
		return 2;
	if (!(fcrdns = fcrdns_start(cc.resolver, &cc.client, ctx->deadline_ms))) {
		check_fail("client: out of memory");
		goto out;
	}
	cc.fcrdns = fcrdns_wait(fcrdns);
	/* each name's addresses, to say what a name that does not map back points at */
	for (size_t i = 0; i < cc.fcrdns->name_count; i++)
		host_lookup(cc.resolver, cc.fcrdns->names[i], ctx->deadline_ms, &cc.forward[i]);
	if (cc.helo) {
		if (!(helo = helo_check_start(cc.resolver, cc.helo, &cc.client, ctx->deadline_ms, cc.fcrdns))) {
			check_fail("client: out of memory");
			goto out;
		}
		cc.helo_result = helo_check_wait(helo);
	}
	if (!(cc.report = check_begin(ctx, "client", cc.ip))) {
		check_fail("client: out of memory");
		goto out;
	}
	report_reverse(&cc);
	if (cc.helo_result)
		report_helo(&cc);
	report_receivers(&cc);
	status = check_report_finish(cc.report);
out:
	helo_check_free(helo);
	fcrdns_free(fcrdns);
	resolver_free(cc.resolver);
	return status;
}
