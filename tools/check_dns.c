/*
 * check_dns - DNS evidence, server probes, direct questions and decisions for the commands; see
 * check_dns.h.
 */
#include "check_dns.h"

#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "probe_cache.h"
#include "strbuf.h"

const enum dns_transport check_dns_transports[3] = {DNS_TRANSPORT_UDP_TCP, DNS_TRANSPORT_TCP, DNS_TRANSPORT_UDP};

const struct check_evidence *check_dns_evidence(struct check_dns_evidence *out, const struct dns_evidence *ev,
						enum dns_transport transport)
{
	memset(out, 0, sizeof(*out));
	out->ev = (struct check_evidence)CHECK_EVIDENCE_NONE;
	snprintf(out->server, sizeof(out->server), "resolver");
	out->ev.server = out->server;
	out->ev.name = ev->qname;
	out->ev.type = dns_type_name(ev->qtype, out->type, sizeof(out->type));
	if (ev->outcome == DNS_NODATA)
		snprintf(out->rcode, sizeof(out->rcode), "NODATA");
	else if (ev->outcome == DNS_BOGUS)
		snprintf(out->rcode, sizeof(out->rcode), "BOGUS");
	else if (ev->outcome == DNS_TEMPFAIL && ev->cause == DNS_CAUSE_DEADLINE)
		snprintf(out->rcode, sizeof(out->rcode), "timeout");
	else if (ev->outcome == DNS_TEMPFAIL && ev->rcode < 0)
		snprintf(out->rcode, sizeof(out->rcode), "%s", dns_cause_name(ev->cause));
	else
		dns_rcode_name(ev->rcode, out->rcode, sizeof(out->rcode));
	out->ev.rcode = out->rcode;
	out->ev.transport = dns_transport_name(transport);
	out->ev.ms = (int)ev->ms;
	return &out->ev;
}

const struct check_evidence *check_dns_probe_evidence(struct check_dns_evidence *out, const struct dns_probe_result *r)
{
	memset(out, 0, sizeof(*out));
	out->ev = (struct check_evidence)CHECK_EVIDENCE_NONE;
	out->ev.server = dns_server_format(&r->server, out->server, sizeof(out->server));
	out->ev.name = r->qname;
	out->ev.type = dns_type_name(r->qtype, out->type, sizeof(out->type));
	if (r->udp.status == DNS_PROBE_ANSWERED)
		dns_rcode_name(r->udp.rcode, out->rcode, sizeof(out->rcode));
	else
		snprintf(out->rcode, sizeof(out->rcode), "%s", dns_probe_status_name(r->udp.status));
	out->ev.rcode = out->rcode;
	out->ev.transport = "udp+tcp";
	out->ev.ms = (int)(r->udp.ms > r->tcp.ms ? r->udp.ms : r->tcp.ms);
	return &out->ev;
}

size_t check_dns_servers(const struct check_context *ctx, struct dns_server *out, size_t max)
{
	const struct dns_settings *dns = &ctx->rt->config->dns;
	char err[256];
	size_t n = 0;
	int count;

	switch (dns->mode) {
	case DNS_MODE_RECURSIVE:
		return 0;
	case DNS_MODE_FORWARD:
		for (size_t i = 0; i < dns->server_count && n < max; i++)
			out[n++] = dns->servers[i];
		return n;
	case DNS_MODE_RESOLV_CONF:
		break;
	}
	count = dns_resolv_conf_servers("/etc/resolv.conf", out, max, err, sizeof(err));
	return count < 0 ? 0 : (size_t)count;
}

/* One probe on a thread of its own, so that silent servers cost one deadline, not one each. */
struct probe_job {
	pthread_t thread;
	struct dns_server server;
	const char *qname;
	uint16_t qtype;
	unsigned deadline_ms;
	struct dns_probe_result result;
	int rc;
	bool started;
};

static void *probe_thread(void *arg)
{
	struct probe_job *j = arg;
	char err[256];

	j->rc = dns_probe_server(&j->server, j->qname, j->qtype, j->deadline_ms, &j->result, err, sizeof(err));
	return NULL;
}

size_t check_dns_probe(const struct check_context *ctx, const char *qname, uint16_t qtype,
		       struct dns_probe_result *out, size_t max)
{
	struct dns_server servers[DNS_SERVERS_MAX];
	struct probe_job jobs[DNS_SERVERS_MAX];
	size_t count = check_dns_servers(ctx, servers, max < DNS_SERVERS_MAX ? max : DNS_SERVERS_MAX), n = 0;

	memset(jobs, 0, sizeof(jobs));
	for (size_t i = 0; i < count; i++) {
		jobs[i] = (struct probe_job){.server = servers[i], .qname = qname, .qtype = qtype,
					     .deadline_ms = ctx->deadline_ms, .rc = -1};
		jobs[i].started = pthread_create(&jobs[i].thread, NULL, probe_thread, &jobs[i]) == 0;
		if (!jobs[i].started)
			probe_thread(&jobs[i]);
	}
	for (size_t i = 0; i < count; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].rc == 0)
			out[n++] = jobs[i].result;
	}
	return n;
}

const char *check_dns_finding(const struct dns_probe_result *results, size_t count, const struct dns_evidence *ev,
			      enum dns_transport transport, char *buf, size_t size)
{
	char sentence[DNS_PROBE_TEXT_SIZE];
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	for (size_t i = 0; i < count; i++) {
		if (!probe_finding_fits(ev, &results[i], transport))
			continue;
		strbuf_appendf(&sb, "%s%s", strbuf_len(&sb) ? "; " : "",
			       dns_probe_describe_resolver(&results[i], sentence, sizeof(sentence)));
	}
	return buf;
}

static ldns_pkt *ask_once(const struct dns_server *server, ldns_rdf *name, uint16_t qtype, unsigned deadline_ms,
			  bool tcp)
{
	ldns_resolver *res = ldns_resolver_new();
	struct timeval timeout = {.tv_sec = deadline_ms / 1000, .tv_usec = (deadline_ms % 1000) * 1000};
	char text[64];
	ldns_rdf *address;
	ldns_pkt *answer = NULL;

	if (!res)
		return NULL;
	netaddr_format(&server->addr, text, sizeof(text));
	address = ldns_rdf_new_frm_str(server->addr.family == AF_INET6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, text);
	if (!address || ldns_resolver_push_nameserver(res, address) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(address);
		ldns_resolver_deep_free(res);
		return NULL;
	}
	ldns_rdf_deep_free(address);
	ldns_resolver_set_port(res, (uint16_t)(server->port ? server->port : 53));
	ldns_resolver_set_usevc(res, tcp);
	ldns_resolver_set_fallback(res, false);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_retrans(res, 1);
	ldns_resolver_set_timeout(res, timeout);
	ldns_resolver_set_recursive(res, true);
	ldns_resolver_set_edns_udp_size(res, 4096);
	ldns_resolver_set_random(res, false);
	if (ldns_resolver_send(&answer, res, name, qtype, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK) {
		ldns_pkt_free(answer);
		answer = NULL;
	}
	ldns_resolver_deep_free(res);
	return answer;
}

ldns_pkt *check_dns_query(const struct dns_server *server, const char *qname, uint16_t qtype, unsigned deadline_ms,
			  bool *tcp)
{
	ldns_rdf *name = ldns_dname_new_frm_str(qname);
	ldns_pkt *answer;

	if (!name)
		return NULL;
	*tcp = true;
	if (!(answer = ask_once(server, name, qtype, deadline_ms, true))) {
		*tcp = false;
		answer = ask_once(server, name, qtype, deadline_ms, false);
	}
	ldns_rdf_deep_free(name);
	return answer;
}

void check_dns_decide(const struct check_context *ctx, enum dns_transport transport, const struct decision_facts *facts,
		      struct check_result *result, const char *finding, struct decision *out)
{
	struct decision_dns dns = {.transport = transport, .deadline_ms = ctx->deadline_ms};

	if (finding && *finding) {
		result->probe = DECISION_PROBE_KNOWN;
		result->finding = finding;
	}
	decision_make(ctx->rt->policy, &dns, facts, result, out);
}

static const char *action_verb(enum policy_action action)
{
	switch (action) {
	case POLICY_ACCEPT:
		return "accept";
	case POLICY_REJECT:
		return "reject";
	case POLICY_TEMPFAIL:
		return "defer (tempfail)";
	case POLICY_TAG:
		return "accept and tag";
	case POLICY_QUARANTINE:
		return "quarantine";
	case POLICY_DIVERT:
		return "divert to the badmail store";
	case POLICY_LOG_ONLY:
		return "accept and log";
	}
	return "?";
}

void check_dns_report_decision(struct check_report *report, const struct decision *d, const char *about,
			       enum check_severity refused)
{
	enum check_severity severity = CHECK_INFO;
	char code[64], reply[POLICY_REPLY_TEXT_SIZE + 32] = "";
	struct check_dns_evidence ev;

	switch (d->action) {
	case POLICY_ACCEPT:
		severity = CHECK_OK;
		break;
	case POLICY_REJECT:
	case POLICY_TEMPFAIL:
		severity = d->dry_run ? CHECK_INFO : refused;
		break;
	case POLICY_TAG:
	case POLICY_QUARANTINE:
	case POLICY_DIVERT:
	case POLICY_LOG_ONLY:
		break;
	}
	snprintf(code, sizeof(code), "dnsguard-%s-%s", policy_check_name(d->check), policy_action_name(d->action));
	if (d->code)
		snprintf(reply, sizeof(reply), ": %u%s%s %s", d->code, d->xcode[0] ? " " : "", d->xcode, d->text);
	check_report_finding(report, severity, code,
			     d->evidence ? check_dns_evidence(&ev, d->evidence, d->transport) : NULL,
			     "dnsguard's %s check would %s %s%s (outcome %s, rule %s%s)", policy_check_name(d->check),
			     action_verb(d->action), about, reply, policy_outcome_name(d->outcome), d->rule,
			     d->dry_run ? "; dry run: logged, then accepted" : "");
}

bool check_dns_key_domain(const char *arg, char *out, size_t size)
{
	const char *at = strrchr(arg, '@');
	const char *domain = at ? at + 1 : arg;
	size_t len = strlen(domain);

	if (len >= size)
		return false;
	memcpy(out, domain, len + 1);
	if (len > 1 && out[len - 1] == '.')
		out[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	return true;
}
