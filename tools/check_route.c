/*
 * check_route - dnsguard-check route: what the route service answers for a domain or address, and
 * why; see check.h and dnsguard-check(8).
 *
 * The answers are the daemon's own: route_answer over a private table of smart hosts (routes.h,
 * no state file) built from the loaded policy and resolved with a resolver as the daemon's, for
 * both maps (Postfix transport, Sendmail mailertable).  Then which route matched and why, and each
 * smart host's addresses or the reason it has none.
 */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "check_dns.h"
#include "host_lookup.h"
#include "policy.h"
#include "routes.h"
#include "strbuf.h"

struct route_check {
	struct check_context *ctx;
	struct resolver *resolver;
	enum dns_transport transport;
};

/* The table's lookups, on its thread: as the daemon's route service asks them. */
static void resolve(void *arg, const char *name, struct host_addresses *out)
{
	struct route_check *rc = arg;

	host_lookup(rc->resolver, name, rc->ctx->deadline_ms, out);
}

/* Why `route` is the one for `domain` (the key's domain, lower case, without a final dot). */
static void match_reason(const struct policy_route *route, const char *domain, char *buf, size_t size)
{
	if (strcmp(route->destination, "*") == 0)
		snprintf(buf, size, "the default route (*): no other route covers %.300s", domain);
	else if (strchr(route->destination, '@'))
		snprintf(buf, size, "the route for the address %.300s", route->destination);
	else if (strcmp(route->destination, domain) == 0)
		snprintf(buf, size, "the route for %.300s itself", domain);
	else
		snprintf(buf, size, "the route for %.300s, which covers its subdomains", route->destination);
}

static void report_host(struct route_check *rc, const struct policy_route_host *host, bool others_resolve)
{
	struct check_report *report = rc->ctx->report;
	char text[64], port[16] = "", list[1024];
	struct check_dns_evidence ev;
	struct host_addresses a;
	struct strbuf sb;

	if (host->port)
		snprintf(port, sizeof(port), ":%u", host->port);
	if (host->kind == POLICY_ROUTE_ADDRESS) {
		check_report_finding(report, CHECK_OK, "smart-host-address", NULL,
				     "smart host [%s]%s is an address: it needs no DNS",
				     netaddr_format(&host->address, text, sizeof(text)), port);
		return;
	}
	host_lookup(rc->resolver, host->name, rc->ctx->deadline_ms, &a);
	check_dns_evidence(&ev, &a.evidence, rc->transport);
	if (a.outcome == DNS_FOUND) {
		strbuf_init(&sb, list, sizeof(list));
		for (size_t i = 0; i < a.count; i++)
			strbuf_appendf(&sb, "%s%s", i ? ", " : "", netaddr_format(&a.addresses[i], text, sizeof(text)));
		check_report_finding(report, CHECK_OK, "smart-host", &ev.ev, "smart host %s%s has %s", host->name, port,
				     list);
		return;
	}
	check_report_finding(report, others_resolve ? CHECK_WARNING : CHECK_PROBLEM, "smart-host-fails", &ev.ev,
			     "smart host %s%s %s: %s; fix the name, or write the route with an address ([192.0.2.25]) "
			     "so that it needs no DNS",
			     host->name, port,
			     a.outcome == DNS_NXDOMAIN  ? "does not exist (NXDOMAIN)"
			     : a.outcome == DNS_NODATA ? "has no address (no A or AAAA record)"
			     : a.outcome == DNS_BOGUS  ? "fails DNSSEC validation"
						       : "cannot be resolved now (DNS trouble)",
			     others_resolve ? "the route's other hosts carry the mail"
					    : "no host of the route has an address, so the route answers TEMP and the MTA "
					      "defers the mail (never bounces it)");
}

/* One map's answer as a finding; the answer's first word. */
static const char *report_answer(struct check_report *report, const char *map, const char *mta, const char *key,
				 const char *answer, char *word, size_t size)
{
	const char *space = strchr(answer, ' ');

	snprintf(word, size, "%.*s", space ? (int)(space - answer) : (int)strlen(answer), answer);
	if (strcmp(word, "OK") == 0)
		check_report_finding(report, CHECK_OK, "route-answer", NULL, "%s (%s) asks %s: %s", map, mta, key, answer);
	else if (strcmp(word, "NOTFOUND") == 0)
		check_report_finding(report, CHECK_INFO, "route-answer", NULL,
				     "%s (%s) asks %s: NOTFOUND: no route, the MTA delivers as usual (its own MX "
				     "lookup)",
				     map, mta, key);
	else
		check_report_finding(report, CHECK_PROBLEM, "route-answer", NULL, "%s (%s) asks %s: %s", map, mta, key,
				     answer);
	return word;
}

int check_route(struct check_context *ctx, int argc, char **argv)
{
	const struct policy *policy = ctx->rt->policy;
	const struct config *config = ctx->rt->config;
	struct route_check rc = {.ctx = ctx, .transport = config->dns.transport};
	char domain[POLICY_ROUTE_KEY_MAX + 1], reason[600], err[512], word[2][16];
	struct strbuf answers[2];
	const struct policy_route *route;
	struct route_hosts *hosts;
	const char *key;
	size_t len;
	int status;

	if (argc != 2)
		return check_fail("usage: route DOMAIN (or an address user@DOMAIN)");
	key = argv[1];
	len = strlen(key);
	if (len == 0 || len > POLICY_ROUTE_KEY_MAX || strpbrk(key, " \t\r\n"))
		return check_fail("route: %s is not a domain or an address", key);
	if (!check_dns_key_domain(key, domain, sizeof(domain)) || !*domain)
		return check_fail("route: %s has no domain", key);

	if (!check_begin(ctx, "route", key))
		return check_fail("route: out of memory");
	check_report_section(ctx->report, "route %s", key);
	if (!config->route_socket || !*config->route_socket)
		check_report_finding(ctx->report, CHECK_INFO, "route-service-off", NULL,
				     "route_socket is empty: the route service is off and no MTA asks dnsguard; "
				     "what follows is what it would answer");
	if (policy_route_count(policy) == 0) {
		check_report_finding(ctx->report, CHECK_INFO, "no-routes", NULL,
				     "no routes are configured (the policy %s has no \"routes\"): every MTA delivers as "
				     "usual",
				     config->policy_file);
		check_report_verdict(ctx->report, "NOTFOUND", "no routes are configured");
		return check_report_finish(ctx->report);
	}

	route = policy_route_find(policy, key);
	if (route) {
		match_reason(route, domain, reason, sizeof(reason));
		check_report_finding(ctx->report, CHECK_INFO, "route-match", NULL, "route %s matches %s: %s", route->name,
				     key, reason);
	} else {
		check_report_finding(ctx->report, CHECK_INFO, "route-none", NULL,
				     "no route matches %s (and there is no default route \"*\")", key);
	}

	if (!(rc.resolver = check_resolver(ctx, rc.transport))) {
		check_report_finish(ctx->report);
		return 2;
	}
	if (route) {
		/* first whether any name resolves, so a failing host says whether others carry the mail */
		bool any = false;
		for (size_t i = 0; i < route->host_count && !any; i++) {
			struct host_addresses a;
			if (route->hosts[i].kind == POLICY_ROUTE_ADDRESS) {
				any = true;
				continue;
			}
			host_lookup(rc.resolver, route->hosts[i].name, ctx->deadline_ms, &a);
			any = a.outcome == DNS_FOUND;
		}
		for (size_t i = 0; i < route->host_count; i++)
			report_host(&rc, &route->hosts[i], any);
	}

	/* the daemon's own answers: a private table, no state file */
	if (!(hosts = route_hosts_start(NULL, resolve, &rc, err, sizeof(err)))) {
		check_report_finish(ctx->report);
		resolver_free(rc.resolver);
		return check_fail("route: %s", err);
	}
	route_hosts_want(hosts, policy);
	for (size_t m = 0; m < 2; m++) {
		strbuf_init_heap(&answers[m], ROUTES_REPLY_MAX + 64);
		/* Postfix asks with the key as given; Sendmail's mailertable asks domains */
		route_answer(hosts, policy, m ? "mailertable" : "transport", m ? domain : key, ctx->deadline_ms + 1000,
			     &answers[m], NULL);
		report_answer(ctx->report, m ? "mailertable" : "transport", m ? "Sendmail" : "Postfix", m ? domain : key,
			      strbuf_text(&answers[m]), word[m], sizeof(word[m]));
	}
	route_hosts_stop(hosts);
	check_report_verdict(ctx->report, word[0], "Postfix's transport map gets \"%s\"; Sendmail's mailertable gets \"%s\"",
			     strbuf_text(&answers[0]), strbuf_text(&answers[1]));
	for (size_t m = 0; m < 2; m++)
		strbuf_free(&answers[m]);
	status = check_report_finish(ctx->report);
	resolver_free(rc.resolver);
	return status;
}
