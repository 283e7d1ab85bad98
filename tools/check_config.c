/*
 * check_config - dnsguard-check config [--name NAME[/TYPE]]; see check.h and dnsguard-check(8).
 *
 * What `dnsguard -n` checks, as findings an admin reads: the config and the policy (loaded by
 * dnsguard-check.c before any command runs: a file that does not load is exit 2 there), the user
 * and group, the badmail store when a rule diverts, the route state file, and the resolver the
 * DNS settings describe (built and freed, asking nothing).  Then the short form of `server` for
 * each server the daemon uses: whether it answers NAME over UDP and TCP.  It does not fork to
 * read the files as the configured user, as `dnsguard -n` does: run that for the last word on
 * permissions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "check.h"
#include "check_server.h"
#include "config.h"
#include "policy.h"
#include "privileges.h"
#include "strbuf.h"

#define DEFAULT_NAME "./SOA"

static const struct check_evidence no_evidence = CHECK_EVIDENCE_NONE;

static void files_findings(struct check_context *ctx, bool *bad)
{
	const struct config *config = ctx->rt->config;
	const struct policy *policy = ctx->rt->policy;
	struct check_report *r = ctx->report;
	struct stat st;

	check_report_finding(r, CHECK_OK, "config", &no_evidence, "%s loads: every key is known and every value valid",
			     config->source);
	if (access(config->policy_file, F_OK) == 0)
		check_report_finding(r, CHECK_OK, "policy", &no_evidence, "policy_file %s loads: %zu rules, %zu routes%s",
				     config->policy_file, policy_rule_count(policy), policy_route_count(policy),
				     policy_dry_run(policy) ? " (dry run: decisions are logged, not enforced)" : "");
	else
		check_report_finding(r, CHECK_INFO, "policy-missing", &no_evidence,
				     "policy_file %s does not exist: the built-in rules apply", config->policy_file);

	if (policy_uses_action(policy, POLICY_DIVERT)) {
		if (lstat(config->badmail_dir, &st) < 0 && errno == ENOENT) {
			check_report_finding(r, CHECK_INFO, "badmail-dir", &no_evidence,
					     "badmail_dir %s does not exist yet: dnsguard creates it (mode 0700) at start",
					     config->badmail_dir);
		} else if (lstat(config->badmail_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			*bad = true;
			check_report_finding(r, CHECK_PROBLEM, "badmail-dir", &no_evidence,
					     "badmail_dir %s is not a directory: a rule diverts mail there, and dnsguard "
					     "will not start",
					     config->badmail_dir);
		} else {
			check_report_finding(r, CHECK_OK, "badmail-dir", &no_evidence,
					     "badmail_dir %s exists (a rule diverts mail there)", config->badmail_dir);
		}
	}
	if (*config->route_socket) {
		if (*config->route_state_file && access(config->route_state_file, F_OK) == 0)
			check_report_finding(r, CHECK_OK, "route-state", &no_evidence,
					     "route_state_file %s holds the smart hosts' last known addresses",
					     config->route_state_file);
		else if (*config->route_state_file)
			check_report_finding(r, CHECK_INFO, "route-state", &no_evidence,
					     "route_state_file %s does not exist yet: after a restart, routes wait for DNS "
					     "until dnsguard has written it",
					     config->route_state_file);
	}
}

static void user_finding(struct check_context *ctx, bool *bad)
{
	const struct config *config = ctx->rt->config;
	struct strbuf errors;
	char text[1024];
	uid_t uid;
	gid_t gid;

	strbuf_init(&errors, text, sizeof(text));
	if (!privileges_lookup(config->user, config->group, config->source, &uid, &gid, &errors)) {
		*bad = true;
		/* one line per problem: the report takes one sentence */
		if (strbuf_len(&errors) && text[strbuf_len(&errors) - 1] == '\n')
			text[strbuf_len(&errors) - 1] = '\0';
		check_report_finding(ctx->report, CHECK_PROBLEM, "user", &no_evidence, "%s", text);
	} else if (*config->user) {
		check_report_finding(ctx->report, CHECK_OK, "user", &no_evidence, "runs as user %s (uid %u, gid %u)",
				     config->user, (unsigned)uid, (unsigned)gid);
	} else {
		check_report_finding(ctx->report, CHECK_INFO, "user", &no_evidence,
				     "user is empty: dnsguard stays the user it is started as");
	}
}

static void dns_findings(struct check_context *ctx, const struct check_servers *servers, bool listed,
			 const char *why, bool *bad)
{
	const struct config *config = ctx->rt->config;
	struct check_report *r = ctx->report;
	char list[DNS_SERVERS_MAX * 64], dns[512];
	struct strbuf sb;
	struct resolver *resolver;

	strbuf_init(&sb, list, sizeof(list));
	for (size_t i = 0; i < servers->count; i++) {
		char label[80];
		strbuf_appendf(&sb, "%s%s", i ? ", " : "", dns_server_format(&servers->list[i], label, sizeof(label)));
	}
	if (config->dns.mode == DNS_MODE_RECURSIVE)
		check_report_finding(r, CHECK_INFO, "dns", &no_evidence,
				     "dns_servers = recursive: dnsguard resolves from the root servers itself (there is no "
				     "forwarder to check); dns_transport %s, dns_deadline %u ms",
				     dns_transport_name(config->dns.transport), config->dns_deadline_ms);
	else
		check_report_finding(r, CHECK_INFO, "dns", &no_evidence,
				     "asks %s (from %s) over dns_transport %s, dns_deadline %u ms, dns_builtin_zones %s",
				     servers->count ? list : "no server", servers->source,
				     dns_transport_name(config->dns.transport), config->dns_deadline_ms,
				     dns_builtin_zones_name(config->dns.builtin_zones));
	if (!listed) {
		*bad = true;
		check_report_finding(r, CHECK_PROBLEM, "resolv-conf", &no_evidence,
				     "%s: dns_servers is empty, so dnsguard needs it; name servers in dns_servers", why);
	} else if (config->dns.mode == DNS_MODE_RESOLV_CONF && servers->count == 0) {
		*bad = true;
		check_report_finding(r, CHECK_PROBLEM, "no-servers", &no_evidence,
				     "/etc/resolv.conf names no nameserver dnsguard can use: name servers in dns_servers");
	}
	/* libunbound takes the settings as the daemon gives them; it asks nothing until asked */
	if (!(resolver = check_resolver(ctx, config->dns.transport))) {
		*bad = true;
		check_report_finding(r, CHECK_PROBLEM, "resolver", &no_evidence,
				     "libunbound refuses these DNS settings (the line above says why): dnsguard will not start");
		return;
	}
	check_report_finding(r, CHECK_OK, "resolver", &no_evidence, "libunbound takes these settings: %s",
			     resolver_describe(resolver, dns, sizeof(dns)));
	resolver_free(resolver);
}

int check_config(struct check_context *ctx, int argc, char **argv)
{
	const char *name_text = DEFAULT_NAME;
	struct check_question name;
	struct check_servers servers;
	char why[300];
	bool bad = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name_text = argv[++i];
		else
			return check_fail("config: unexpected argument %s (usage: config [--name NAME[/TYPE]])", argv[i]);
	}
	if (!check_question_parse(name_text, LDNS_RR_TYPE_SOA, &name, why, sizeof(why)))
		return check_fail("config: --name: %s", why);

	bool listed = check_servers_of_config(ctx->rt->config, &servers, why, sizeof(why));
	if (!check_begin(ctx, "config", ctx->rt->config->source))
		return check_fail("out of memory");
	check_report_section(ctx->report, "config %s", ctx->rt->config->source);
	files_findings(ctx, &bad);
	user_finding(ctx, &bad);
	dns_findings(ctx, &servers, listed, why, &bad);
	if (bad)
		check_report_verdict(ctx->report, "will not start",
				     "dnsguard would refuse to start, or fail every lookup, with this config: fix the "
				     "problems above (dnsguard -n -c %s says the same)",
				     ctx->rt->config->source);
	else
		check_report_verdict(ctx->report, "valid", "dnsguard can start with %s", ctx->rt->config->source);

	for (size_t i = 0; i < servers.count; i++)
		check_server_one(ctx, &servers.list[i], &name, NULL);
	return check_report_finish(ctx->report);
}
