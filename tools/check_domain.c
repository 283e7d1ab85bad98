/*
 * check_domain - dnsguard-check domain: can mail be delivered to a domain, over which transport,
 * and what dnsguard's sender and recipient checks decide for it; see check.h and dnsguard-check(8).
 *
 * The MTA's path is lib/mail_domain (RFC 5321 5.1, RFC 7505), run once per transport mode on a
 * resolver of its own (check_resolver), all three at once under the daemon's deadline.  What
 * libunbound cannot show (which server truncates or refuses TCP, how large the answer is, whether
 * a name is an alias) comes from the server probe and one question asked straight to the first
 * server.  The verdict is for the configured transport, and says which other transport would work.
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_dns.h"
#include "decision.h"
#include "host_lookup.h"
#include "mail_domain.h"
#include "strbuf.h"

#define UDP_BUFFER 1232		/* libunbound's EDNS buffer: a larger answer is truncated over UDP */
#define PROBES_MAX 4		/* distinct questions probed */

struct run {
	enum dns_transport transport;
	struct resolver *resolver;
	struct mail_domain_check *check;
	const struct mail_domain_result *result;
};

/* The servers' answers to one question, probed once. */
struct probed {
	char qname[DNS_NAME_TEXT_MAX];
	uint16_t qtype;
	struct dns_probe_result results[DNS_SERVERS_MAX];
	size_t count;
};

struct domain_check {
	struct check_context *ctx;
	struct check_report *report;
	const char *domain;		/* as given, without a final dot */
	char address[600];		/* the address decisions are made for */
	struct run runs[3];
	struct run *configured;
	struct probed probes[PROBES_MAX];
	size_t probe_count;
	struct host_addresses hosts[MAIL_DOMAIN_HOSTS_MAX];
	bool host_looked_up[MAIL_DOMAIN_HOSTS_MAX];
};

static bool fails_temporarily(enum mail_domain_verdict v)
{
	return v == MAIL_DOMAIN_TEMPFAIL || v == MAIL_DOMAIN_BOGUS;
}

static const char *verdict_word(enum mail_domain_verdict v)
{
	return v == MAIL_DOMAIN_OK ? "deliverable" : fails_temporarily(v) ? "fails temporarily" : "fails permanently";
}

/* The servers' answers to qname/qtype (probed at the first call). */
static const struct probed *probe(struct domain_check *dc, const char *qname, uint16_t qtype)
{
	struct probed *p;

	for (size_t i = 0; i < dc->probe_count; i++)
		if (dc->probes[i].qtype == qtype && strcasecmp(dc->probes[i].qname, qname) == 0)
			return &dc->probes[i];
	if (dc->probe_count == PROBES_MAX)
		return NULL;
	p = &dc->probes[dc->probe_count++];
	snprintf(p->qname, sizeof(p->qname), "%s", qname);
	p->qtype = qtype;
	p->count = check_dns_probe(dc->ctx, qname, qtype, p->results, DNS_SERVERS_MAX);
	return p;
}

static const struct dns_evidence *decisive(const struct mail_domain_result *r)
{
	return r->evidence_count ? &r->evidence[r->decisive < r->evidence_count ? r->decisive : 0] : NULL;
}

/* The daemon's cause of a run's failure, with the probe's finding: "SERVFAIL over udp-tcp: the
 * resolver 127.0.0.1 truncates over UDP and refuses TCP". */
static const char *run_cause(struct domain_check *dc, const struct run *run, char *finding, size_t finding_size,
			     char *buf, size_t size)
{
	const struct dns_evidence *ev = decisive(run->result);
	struct decision_dns dns = {.transport = run->transport, .deadline_ms = dc->ctx->deadline_ms};
	const struct probed *p;

	finding[0] = '\0';
	buf[0] = '\0';
	if (!ev)
		return buf;
	if (ev->outcome == DNS_TEMPFAIL && (p = probe(dc, ev->qname, ev->qtype)))
		check_dns_finding(p->results, p->count, ev, run->transport, finding, finding_size);
	return decision_cause(ev, &dns, finding[0] ? DECISION_PROBE_KNOWN : DECISION_PROBE_NONE, finding, buf, size);
}

/* ---- what the servers do with a question ------------------------------------------------------ */

enum server_fault {
	SERVER_FINE,
	SERVER_TRUNCATES,		/* over UDP, and TCP works: normal */
	SERVER_TRUNCATES_NO_TCP,	/* the classic: seeds 000 and 001 */
	SERVER_NO_TCP,
	SERVER_NO_UDP,
	SERVER_SILENT,
	SERVER_ERROR,			/* answers, with an error rcode */
};

static bool leg_answered(const struct dns_probe_leg *leg)
{
	return leg->status == DNS_PROBE_ANSWERED;
}

static bool leg_usable(const struct dns_probe_leg *leg)
{
	return leg_answered(leg) && (leg->rcode == LDNS_RCODE_NOERROR || leg->rcode == LDNS_RCODE_NXDOMAIN);
}

static enum server_fault server_fault(const struct dns_probe_result *r)
{
	bool udp = leg_answered(&r->udp), tcp = leg_answered(&r->tcp);

	if (!udp && !tcp)
		return SERVER_SILENT;
	if ((udp && !leg_usable(&r->udp)) || (tcp && !leg_usable(&r->tcp)))
		return SERVER_ERROR;
	if (udp && r->udp.truncated)
		return tcp ? SERVER_TRUNCATES : SERVER_TRUNCATES_NO_TCP;
	if (!tcp)
		return SERVER_NO_TCP;
	if (!udp)
		return SERVER_NO_UDP;
	return SERVER_FINE;
}

static void report_probe(struct domain_check *dc, const struct dns_probe_result *r)
{
	char sentence[DNS_PROBE_TEXT_SIZE], server[80], type[16];
	struct check_dns_evidence ev;
	const struct check_evidence *e = check_dns_probe_evidence(&ev, r);

	dns_probe_describe_resolver(r, sentence, sizeof(sentence));
	dns_server_format(&r->server, server, sizeof(server));
	dns_type_name(r->qtype, type, sizeof(type));
	switch (server_fault(r)) {
	case SERVER_FINE:
		check_report_finding(dc->report, CHECK_OK, "server-ok", e, "%s", sentence);
		break;
	case SERVER_TRUNCATES:
		check_report_finding(dc->report, CHECK_INFO, "udp-truncated", e,
				     "%s: the %s answer of %s is too large for UDP and comes whole over TCP; "
				     "this works as long as TCP stays open",
				     sentence, type, r->qname);
		break;
	case SERVER_TRUNCATES_NO_TCP:
		check_report_finding(dc->report, CHECK_PROBLEM, "truncated-tcp-refused", e,
				     "%s: the %s answer of %s is too large for UDP and TCP is refused, so every "
				     "lookup of it fails (SERVFAIL); let %s answer over TCP (RFC 7766)",
				     sentence, type, r->qname, server);
		break;
	case SERVER_NO_TCP:
		check_report_finding(dc->report, CHECK_WARNING, "tcp-refused", e,
				     "%s: answers larger than %d bytes will fail, and dns_transport = tcp cannot work; "
				     "let %s answer over TCP",
				     sentence, UDP_BUFFER, server);
		break;
	case SERVER_NO_UDP:
		check_report_finding(dc->report, CHECK_WARNING, "udp-fails", e,
				     "%s: only dns_transport = tcp can work with it; let %s answer over UDP",
				     sentence, server);
		break;
	case SERVER_SILENT:
		check_report_finding(dc->report, CHECK_PROBLEM, "server-silent", e,
				     "%s: check that it runs and that no firewall blocks DNS (UDP and TCP port 53) "
				     "between this host and it",
				     sentence);
		break;
	case SERVER_ERROR:
		check_report_finding(dc->report, CHECK_PROBLEM, "server-error", e,
				     "%s: it cannot resolve %s either; its log says why (often the domain's own "
				     "name servers are broken or unreachable from it)",
				     sentence, r->qname);
		break;
	}
}

/* The fix for a failure, from what the servers did with the failed question. */
static const char *server_fix(struct domain_check *dc, const struct dns_evidence *ev, char *buf, size_t size)
{
	const struct probed *p = ev ? probe(dc, ev->qname, ev->qtype) : NULL;
	char server[80];

	snprintf(buf, size, "check the name servers of %s", dc->domain);
	for (size_t i = 0; p && i < p->count; i++) {
		dns_server_format(&p->results[i].server, server, sizeof(server));
		switch (server_fault(&p->results[i])) {
		case SERVER_TRUNCATES_NO_TCP:
		case SERVER_NO_TCP:
			snprintf(buf, size, "the fix is to let %s answer over TCP", server);
			return buf;
		case SERVER_NO_UDP:
			snprintf(buf, size, "the fix is to let %s answer over UDP", server);
			return buf;
		case SERVER_SILENT:
			snprintf(buf, size,
				 "the fix is to make sure %s runs and that no firewall blocks DNS to it (UDP and TCP "
				 "port 53)",
				 server);
			return buf;
		case SERVER_ERROR:
			snprintf(buf, size,
				 "the resolver %s cannot resolve it either: its log says why, and the name servers of "
				 "%s may be broken (ask its owner)",
				 server, dc->domain);
			return buf;
		case SERVER_FINE:
		case SERVER_TRUNCATES:
			break;
		}
	}
	return buf;
}

/* ---- the MTA's path ------------------------------------------------------------------------- */

/* The whole answer to qname/qtype from the first server: its size and CNAMEs. */
static void report_answer(struct domain_check *dc, const char *qname, uint16_t qtype, bool mx_target)
{
	struct dns_server servers[1];
	struct check_evidence e = CHECK_EVIDENCE_NONE;
	char server[80], type[16], target[DNS_NAME_TEXT_MAX];
	ldns_pkt *answer;
	ldns_rr_list *answers;
	bool tcp;

	if (check_dns_servers(dc->ctx, servers, 1) == 0)
		return;
	if (!(answer = check_dns_query(&servers[0], qname, qtype, dc->ctx->deadline_ms, &tcp)))
		return;
	e.server = dns_server_format(&servers[0], server, sizeof(server));
	e.name = qname;
	e.type = dns_type_name(qtype, type, sizeof(type));
	e.transport = tcp ? "tcp" : "udp";
	e.ms = (int)ldns_pkt_querytime(answer);
	answers = ldns_pkt_answer(answer);
	for (size_t i = 0; answers && i < ldns_rr_list_rr_count(answers); i++) {
		ldns_rr *rr = ldns_rr_list_rr(answers, i);
		char *owner, *to;
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) < 1)
			continue;
		owner = ldns_rdf2str(ldns_rr_owner(rr));
		to = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		snprintf(target, sizeof(target), "%s", to ? to : "?");
		if (mx_target)
			check_report_finding(dc->report, CHECK_WARNING, "mx-cname", &e,
					     "the MX host %s is an alias (CNAME) of %s: an MX must name a host, not an "
					     "alias (RFC 2181 10.3); most MTAs follow it, some refuse; point the MX at %s",
					     owner ? owner : qname, target, target);
		else
			check_report_finding(dc->report, CHECK_INFO, "cname", &e,
					     "%s is an alias (CNAME) of %s: the %s question follows it",
					     owner ? owner : qname, target, type);
		free(owner);
		free(to);
	}
	if (!mx_target && !ldns_pkt_tc(answer)) {
		size_t size = ldns_pkt_size(answer);
		if (size > UDP_BUFFER)
			check_report_finding(dc->report, CHECK_INFO, "answer-size", &e,
					     "the %s answer of %s is %zu bytes: larger than %d bytes (the UDP buffer "
					     "dnsguard and most resolvers offer), so it is truncated over UDP and must be "
					     "asked again over TCP",
					     type, qname, size, UDP_BUFFER);
		else
			check_report_finding(dc->report, CHECK_OK, "answer-size", &e,
					     "the %s answer of %s is %zu bytes: it fits in UDP", type, qname, size);
	}
	ldns_pkt_free(answer);
}

static const char *host_failure(const struct host_addresses *a)
{
	switch (a->outcome) {
	case DNS_NXDOMAIN:
		return "does not exist (NXDOMAIN)";
	case DNS_NODATA:
		return "has no address (no A or AAAA record)";
	case DNS_BOGUS:
		return "fails DNSSEC validation";
	case DNS_TEMPFAIL:
		return "cannot be resolved now (DNS trouble)";
	case DNS_FOUND:
		break;
	}
	return "resolves";
}

static bool only_loopback(const struct host_addresses *a)
{
	for (size_t i = 0; i < a->count; i++)
		if (!netaddr_is_loopback_or_unspecified(&a->addresses[i]))
			return false;
	return a->count > 0;
}

/* Every mail host's addresses, over the configured transport (the cache is warm). */
static void report_hosts(struct domain_check *dc, bool deliverable)
{
	const struct mail_domain_result *r = dc->configured->result;
	enum check_severity bad = deliverable ? CHECK_WARNING : CHECK_PROBLEM;
	struct check_dns_evidence ev;
	bool gave_up = false;

	for (size_t i = 0; i < r->mx_count && i < MAIL_DOMAIN_HOSTS_MAX; i++) {
		const char *host = r->mx[i].host;
		struct host_addresses *a = &dc->hosts[i];
		struct strbuf list;
		char storage[1024], text[64], bare[DNS_NAME_TEXT_MAX];
		struct netaddr literal;
		size_t len;

		snprintf(bare, sizeof(bare), "%s", host);
		len = strlen(bare);
		if (len > 1 && bare[len - 1] == '.')
			bare[len - 1] = '\0';
		if (strcmp(host, ".") == 0)
			continue;
		if (strcmp(bare, "localhost") == 0 || (len > 10 && strcmp(bare + len - 11, ".localhost") == 0)) {
			check_report_finding(dc->report, bad, "mx-localhost", NULL,
					     "MX %u %s names this very host: MTAs refuse it (mail loops back to myself); "
					     "point the MX at a real mail host",
					     r->mx[i].preference, host);
			continue;
		}
		if (netaddr_parse(bare, &literal)) {
			check_report_finding(dc->report, bad, "mx-literal", NULL,
					     "MX %u %s is an address written as a name: an MX must name a host (RFC 5321 "
					     "5.1); give the host a name with an A record and point the MX at it",
					     r->mx[i].preference, host);
			continue;
		}
		if (gave_up) {
			check_report_finding(dc->report, CHECK_INFO, "mx-host-skipped", NULL,
					     "MX %u %s not looked up: the servers did not answer in time", r->mx[i].preference,
					     host);
			continue;
		}
		host_lookup(dc->configured->resolver, bare, dc->ctx->deadline_ms, a);
		dc->host_looked_up[i] = true;
		check_dns_evidence(&ev, &a->evidence, dc->configured->transport);
		if (a->outcome == DNS_FOUND && only_loopback(a)) {
			check_report_finding(dc->report, bad, "mx-host-loopback", &ev.ev,
					     "MX %u %s resolves only to loopback: no mail can reach it from elsewhere; give "
					     "it its public address",
					     r->mx[i].preference, host);
			continue;
		}
		if (a->outcome == DNS_FOUND) {
			strbuf_init(&list, storage, sizeof(storage));
			for (size_t j = 0; j < a->count; j++)
				strbuf_appendf(&list, "%s%s", j ? ", " : "", netaddr_format(&a->addresses[j], text, sizeof(text)));
			check_report_finding(dc->report, CHECK_OK, "mx-host", &ev.ev, "MX %u %s has %s", r->mx[i].preference,
					     host, strbuf_text(&list));
			report_answer(dc, host, LDNS_RR_TYPE_A, true);
			continue;
		}
		check_report_finding(dc->report, bad,
				     a->outcome == DNS_NXDOMAIN	 ? "mx-host-nxdomain"
				     : a->outcome == DNS_NODATA ? "mx-host-no-address"
				     : a->outcome == DNS_BOGUS	 ? "mx-host-bogus"
								 : "mx-host-tempfail",
				     &ev.ev, "MX %u %s %s%s", r->mx[i].preference, host, host_failure(a),
				     a->outcome == DNS_NXDOMAIN || a->outcome == DNS_NODATA
					     ? ": no mail can go to it; the domain's owner must give it an address or "
					       "remove the MX record"
					     : "");
		if (a->outcome == DNS_TEMPFAIL && a->evidence.cause == DNS_CAUSE_DEADLINE)
			gave_up = true;
	}
}

/* "its MX host nowhere.deadmx.test. does not resolve: it does not exist (NXDOMAIN)". */
static void dead_hosts(const struct domain_check *dc, struct strbuf *sb)
{
	const struct mail_domain_result *r = dc->configured->result;
	size_t n = 0, dead[MAIL_DOMAIN_HOSTS_MAX];

	for (size_t i = 0; i < r->mx_count && i < MAIL_DOMAIN_HOSTS_MAX; i++)
		if (dc->host_looked_up[i] && dc->hosts[i].outcome != DNS_FOUND)
			dead[n++] = i;
	if (n == 0) {
		const struct dns_evidence *ev = decisive(r);
		strbuf_appendf(sb, "its MX host %s does not resolve", ev ? ev->qname : "?");
	} else if (n == 1) {
		strbuf_appendf(sb, "its MX host %s does not resolve: it %s", r->mx[dead[0]].host,
			       host_failure(&dc->hosts[dead[0]]));
	} else {
		strbuf_append(sb, "none of its MX hosts resolves:");
		for (size_t i = 0; i < n; i++)
			strbuf_appendf(sb, "%s %s %s", i ? "," : "", r->mx[dead[i]].host, host_failure(&dc->hosts[dead[i]]));
	}
}

static void report_path(struct domain_check *dc)
{
	const struct mail_domain_result *r = dc->configured->result;
	struct check_dns_evidence ev;
	const struct dns_evidence *mx = r->evidence_count ? &r->evidence[0] : NULL;
	const struct probed *p;

	check_report_section(dc->report, "domain %s: the MTA's path (dns_transport = %s, as configured)", dc->domain,
			     dns_transport_name(dc->configured->transport));
	if (mx && (mx->outcome == DNS_FOUND || mx->outcome == DNS_NODATA)) {
		if (r->verdict == MAIL_DOMAIN_NULL_MX)
			check_report_finding(dc->report, CHECK_PROBLEM, "null-mx",
					     check_dns_evidence(&ev, mx, dc->configured->transport),
					     "%s publishes a null MX (MX 0 \".\", RFC 7505): it accepts no mail", r->domain);
		else if (r->flags & MAIL_DOMAIN_FLAG_IMPLICIT_MX)
			check_report_finding(dc->report, CHECK_INFO, "implicit-mx",
					     check_dns_evidence(&ev, mx, dc->configured->transport),
					     "%s has no MX record: MTAs deliver to the domain's own address (the implicit "
					     "MX, RFC 5321 5.1); an MX record is better",
					     r->domain);
		else
			for (size_t i = 0; i < r->mx_count; i++)
				check_report_finding(dc->report, CHECK_OK, "mx",
						     check_dns_evidence(&ev, mx, dc->configured->transport), "MX %u %s",
						     r->mx[i].preference, r->mx[i].host);
	} else if (mx) {
		check_report_finding(dc->report, CHECK_PROBLEM, "mx-lookup",
				     check_dns_evidence(&ev, mx, dc->configured->transport),
				     "the MX question for %s gets no usable answer: %s", r->domain,
				     mx->outcome == DNS_NXDOMAIN ? "the domain does not exist"
				     : mx->outcome == DNS_BOGUS ? "DNSSEC validation fails"
								: "DNS trouble (see the verdict)");
	}
	if (r->verdict != MAIL_DOMAIN_NULL_MX && !(r->flags & MAIL_DOMAIN_FLAG_IMPLICIT_MX))
		report_hosts(dc, r->verdict == MAIL_DOMAIN_OK);
	if ((r->flags & MAIL_DOMAIN_FLAG_IMPLICIT_MX) && r->verdict == MAIL_DOMAIN_OK) {
		char text[64];
		check_report_finding(dc->report, CHECK_OK, "implicit-mx-host",
				     check_dns_evidence(&ev, decisive(r), dc->configured->transport), "%s has %s",
				     r->domain, netaddr_format(&r->usable_address, text, sizeof(text)));
	}
	/* the MX question as the servers answer it: size, truncation, TCP */
	if ((p = probe(dc, r->domain, LDNS_RR_TYPE_MX))) {
		for (size_t i = 0; i < p->count; i++)
			report_probe(dc, &p->results[i]);
		if (p->count == 0 && dc->ctx->rt->config->dns.mode != DNS_MODE_RECURSIVE)
			check_report_finding(dc->report, CHECK_WARNING, "no-servers", NULL,
					     "no DNS server to probe: dns_servers is empty and /etc/resolv.conf names none");
	}
	if (dc->ctx->rt->config->dns.mode == DNS_MODE_RECURSIVE)
		check_report_finding(dc->report, CHECK_INFO, "recursive", NULL,
				     "dnsguard recurses itself (dns_mode = recursive): answer sizes and truncation are "
				     "seen only when it forwards to servers");
	report_answer(dc, r->domain, LDNS_RR_TYPE_MX, false);
}

/* The section's verdict: the configured transport's, with the cause and the fix. */
static void report_path_verdict(struct domain_check *dc)
{
	const struct mail_domain_result *r = dc->configured->result;
	const struct dns_evidence *ev = decisive(r);
	char text[64], cause[DECISION_CAUSE_SIZE], finding[2048], fix[512];
	char storage[2048];
	struct strbuf sb;

	strbuf_init(&sb, storage, sizeof(storage));
	switch (r->verdict) {
	case MAIL_DOMAIN_OK:
		check_report_verdict(dc->report, "deliverable", "mail to %s can be delivered: %s has address %s "
				     "(dns_transport = %s)",
				     dc->domain, r->usable_host, netaddr_format(&r->usable_address, text, sizeof(text)),
				     dns_transport_name(dc->configured->transport));
		return;
	case MAIL_DOMAIN_NULL_MX:
		check_report_verdict(dc->report, "fails permanently",
				     "mail to %s fails permanently: it publishes a null MX (RFC 7505) and accepts no "
				     "mail; if it should receive mail, its owner must replace the null MX with real MX "
				     "records",
				     dc->domain);
		return;
	case MAIL_DOMAIN_NXDOMAIN:
		check_report_verdict(dc->report, "fails permanently",
				     "mail to %s fails permanently: the domain does not exist (NXDOMAIN); check the "
				     "spelling, or publish the domain in DNS if it is yours",
				     dc->domain);
		return;
	case MAIL_DOMAIN_NO_ADDRESS:
		check_report_verdict(dc->report, "fails permanently",
				     "mail to %s fails permanently: the domain exists but has no MX and no A or AAAA "
				     "record; its owner must publish an MX record",
				     dc->domain);
		return;
	case MAIL_DOMAIN_MX_UNRESOLVABLE:
		dead_hosts(dc, &sb);
		check_report_verdict(dc->report, "fails permanently",
				     "mail to %s fails permanently: %s; the owner of %s must point the MX at a host "
				     "that exists, or give that host an address",
				     dc->domain, strbuf_text(&sb), dc->domain);
		return;
	case MAIL_DOMAIN_LOOPBACK:
		check_report_verdict(dc->report, "fails permanently",
				     "mail to %s fails permanently: every mail host is localhost, an address written as "
				     "a name, or resolves only to loopback (MTAs say \"mail loops back to myself\"); "
				     "its owner must point the MX at a real mail host",
				     dc->domain);
		return;
	case MAIL_DOMAIN_TEMPFAIL:
	case MAIL_DOMAIN_BOGUS:
		break;
	}
	run_cause(dc, dc->configured, finding, sizeof(finding), cause, sizeof(cause));
	strbuf_appendf(&sb, "mail to %s defers because %s", dc->domain, cause[0] ? cause : "of DNS trouble");
	if (ev)
		strbuf_appendf(&sb, " (the %s question for %s)", dns_type_name(ev->qtype, text, sizeof(text)), ev->qname);
	if (r->verdict == MAIL_DOMAIN_BOGUS) {
		strbuf_appendf(&sb, "; its DNSSEC signatures are broken (ask its owner), or dns_trust_anchor is wrong");
	} else {
		size_t works = 0;
		for (size_t i = 0; i < 3; i++) {
			const struct run *run = &dc->runs[i];
			if (run == dc->configured || fails_temporarily(run->result->verdict))
				continue;
			strbuf_appendf(&sb, "%sdns_transport = %s", works++ ? " or " : "; ", dns_transport_name(run->transport));
		}
		strbuf_append(&sb, works ? " would work as a stopgap" : "; no dns_transport works");
		strbuf_appendf(&sb, "; %s", server_fix(dc, ev, fix, sizeof(fix)));
	}
	check_report_verdict(dc->report, "fails temporarily", "%s", strbuf_text(&sb));
}

static void report_transports(struct domain_check *dc)
{
	char verdict[64] = "", cause[DECISION_CAUSE_SIZE], finding[2048];
	struct check_dns_evidence ev;
	struct strbuf sb;
	size_t works = 0;

	check_report_section(dc->report, "domain %s over each dns_transport", dc->domain);
	strbuf_init(&sb, verdict, sizeof(verdict));
	for (size_t i = 0; i < 3; i++) {
		const struct run *run = &dc->runs[i];
		const struct mail_domain_result *r = run->result;
		const struct dns_evidence *e = decisive(r);
		bool configured = run == dc->configured;

		if (!fails_temporarily(r->verdict)) {
			strbuf_appendf(&sb, "%s%s", works++ ? " " : "", dns_transport_name(run->transport));
			check_report_finding(dc->report, CHECK_OK, "transport-works",
					     e ? check_dns_evidence(&ev, e, run->transport) : NULL,
					     "dns_transport = %s%s: %s (%s)", dns_transport_name(run->transport),
					     configured ? " (configured)" : "", verdict_word(r->verdict),
					     mail_domain_verdict_name(r->verdict));
			continue;
		}
		run_cause(dc, run, finding, sizeof(finding), cause, sizeof(cause));
		check_report_finding(dc->report, configured ? CHECK_PROBLEM : CHECK_WARNING, "transport-fails",
				     e ? check_dns_evidence(&ev, e, run->transport) : NULL,
				     "dns_transport = %s%s: fails temporarily: %s", dns_transport_name(run->transport),
				     configured ? " (configured)" : "", cause[0] ? cause : "DNS trouble");
	}
	check_report_verdict(dc->report, works ? strbuf_text(&sb) : "none",
			     works ? "these dns_transport settings get an answer for %s" : "no dns_transport gets an answer for %s",
			     dc->domain);
}

static void report_decisions(struct domain_check *dc)
{
	const struct mail_domain_result *r = dc->configured->result;
	struct netaddr nowhere = {.family = AF_INET};
	char finding[2048], cause[DECISION_CAUSE_SIZE], about[700];
	struct check_result result;
	struct decision d;
	struct decision_facts facts = {
		.client = &nowhere,
		.client_ip = "unknown",
		.client_name = "unknown",
		.client_hostname = "unknown",
		.helo = "",
		.sender = dc->address,
		.sender_domain = dc->domain,
		.daemon = "",
	};

	check_report_section(dc->report, "dnsguard's checks of %s (policy %s)", dc->domain,
			     dc->ctx->rt->config->policy_file);
	if (fails_temporarily(r->verdict))
		run_cause(dc, dc->configured, finding, sizeof(finding), cause, sizeof(cause));
	else
		finding[0] = '\0';

	check_result_domain(POLICY_CHECK_SENDER, r, dc->domain, &result);
	check_dns_decide(dc->ctx, dc->configured->transport, &facts, &result, finding, &d);
	snprintf(about, sizeof(about), "mail from <%s>", dc->address);
	check_dns_report_decision(dc->report, &d, about, CHECK_INFO);

	facts.sender = "";
	facts.sender_domain = "";
	facts.recipient = dc->address;
	facts.recipient_domain = dc->domain;
	facts.outbound = true;
	check_result_domain(POLICY_CHECK_RECIPIENT, r, dc->domain, &result);
	check_dns_decide(dc->ctx, dc->configured->transport, &facts, &result, finding, &d);
	snprintf(about, sizeof(about), "mail to <%s> from an outbound client", dc->address);
	check_dns_report_decision(dc->report, &d, about, CHECK_INFO);
}

int check_domain(struct check_context *ctx, int argc, char **argv)
{
	static struct domain_check dc;	/* large; one per process */
	char domain[DNS_NAME_TEXT_MAX];
	const char *at, *arg;
	int status;

	if (argc != 2)
		return check_fail("usage: domain DOMAIN (or an address user@DOMAIN)");
	arg = argv[1];
	at = strrchr(arg, '@');
	if (!check_dns_key_domain(arg, domain, sizeof(domain)) || dns_plain_name_length(domain) == 0 ||
	    strchr(domain, '.') == NULL)
		return check_fail("domain: %s is not a domain name (letters, digits, hyphens, dots; an IDN in its "
				  "xn-- form)",
				  arg);
	memset(&dc, 0, sizeof(dc));
	dc.ctx = ctx;
	dc.domain = domain;
	if (at)
		snprintf(dc.address, sizeof(dc.address), "%.*s@%s", (int)(at - arg), arg, domain);
	else
		snprintf(dc.address, sizeof(dc.address), "postmaster@%s", domain);

	/* the three transports at once: the slowest (a silent server) costs one deadline */
	for (size_t i = 0; i < 3; i++) {
		struct run *run = &dc.runs[i];
		run->transport = check_dns_transports[i];
		if (run->transport == ctx->rt->config->dns.transport)
			dc.configured = run;
		if (!(run->resolver = check_resolver(ctx, run->transport)))
			goto fail;
		if (!(run->check = mail_domain_start(run->resolver, domain, ctx->deadline_ms))) {
			check_fail("domain: out of memory");
			goto fail;
		}
	}
	for (size_t i = 0; i < 3; i++)
		dc.runs[i].result = mail_domain_wait(dc.runs[i].check);

	if (!(dc.report = check_begin(ctx, "domain", domain))) {
		check_fail("domain: out of memory");
		goto fail;
	}
	report_path(&dc);
	report_path_verdict(&dc);
	report_transports(&dc);
	report_decisions(&dc);
	status = check_report_finish(dc.report);
	for (size_t i = 0; i < 3; i++) {
		mail_domain_free(dc.runs[i].check);
		resolver_free(dc.runs[i].resolver);
	}
	return status;
fail:
	for (size_t i = 0; i < 3; i++) {
		mail_domain_free(dc.runs[i].check);
		resolver_free(dc.runs[i].resolver);
	}
	return 2;
}
