/*
 * dnsguard-check - which DNS or reverse-DNS problem is breaking the mail, and what to do about it.
 *
 * The same resolver, settings, transport and probe as the daemon (lib/): it reads the daemon's
 * config (-c), asks as the daemon would, and says what each answer means for mail, one line per
 * finding with its evidence.  Commands (one file each, check.h):
 *   server [ADDR[@PORT] ...]   each DNS server: UDP, TCP, EDNS0, a large answer, response times
 *   domain DOMAIN              the MTA's path to a domain: MX, targets, sizes, each transport
 *   client IP [--helo NAME]    reverse DNS as receivers judge it (dnsguard, Postfix, Sendmail)
 *   route DOMAIN               what the route service answers, and why
 *   config                     what dnsguard -n checks, and whether the servers answer
 *   stats [--all] [--raw]      the running daemon's counters and health (metrics_socket)
 * Exit status: 0 healthy, 1 problems found, 2 could not run.  Every probe has a deadline.
 */
#include <stdarg.h>
#include <syslog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "strbuf.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " CHECK_PROGRAM " [-c CONFIG] [--json] [--color=auto|always|never] COMMAND [ARGUMENTS]\n"
		"\n"
		"Which DNS problem breaks the mail, with dnsguard's own resolver and settings (dnsguard-check(8)):\n"
		"  server [ADDR[@PORT] ...]   each DNS server (default: the ones dnsguard uses)\n"
		"  domain DOMAIN              can mail be delivered to DOMAIN, and over which transport\n"
		"  client IP [--helo NAME]    reverse DNS of IP as receivers judge it\n"
		"  route DOMAIN               what the route service answers for DOMAIN\n"
		"  config                     the config and policy, and whether the DNS servers answer\n"
		"  stats [--all] [--raw]      the running daemon's counters and health, from metrics_socket\n"
		"\n"
		"  -c CONFIG   dnsguard's config (default " CONFIG_DEFAULT_PATH ")\n"
		"  --json      one JSON document instead of text\n"
		"  -h, --help  this text;  -V, --version  the version\n"
		"Exit status: 0 healthy, 1 problems found, 2 could not run.\n");
}

int check_fail(const char *fmt, ...)
{
	va_list ap;

	fputs(CHECK_PROGRAM ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

struct check_report *check_begin(struct check_context *ctx, const char *command, const char *subject)
{
	ctx->report = check_report_new(stdout, ctx->json, ctx->color, command, subject);
	return ctx->report;
}

struct resolver *check_resolver(struct check_context *ctx, enum dns_transport transport)
{
	struct resolver_options options = {
		.dns = ctx->rt->config->dns,
		.trust_anchor_file = ctx->rt->config->dns_trust_anchor,
		.root_hints = ctx->rt->config->dns_root_hints,
	};
	char why[512];
	struct resolver *r;

	options.dns.transport = transport;
	if (!(r = resolver_new(&options, why, sizeof(why))))
		check_fail("DNS: %s", why);
	return r;
}

static const struct {
	const char *name;
	int (*run)(struct check_context *ctx, int argc, char **argv);
} commands[] = {
	{"server", check_server}, {"domain", check_domain}, {"client", check_client},
	{"route", check_route},	  {"config", check_config}, {"stats", check_stats},
};

int main(int argc, char **argv)
{
	struct check_context ctx = {.config_path = CONFIG_DEFAULT_PATH};
	const char *color = "auto";
	struct strbuf errors, notes;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			ctx.config_path = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			ctx.json = true;
		} else if (strncmp(argv[i], "--color=", 8) == 0) {
			color = argv[i] + 8;
			if (strcmp(color, "auto") != 0 && strcmp(color, "always") != 0 && strcmp(color, "never") != 0)
				return check_fail("--color: expected auto, always or never");
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf(CHECK_PROGRAM " %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			usage(stderr);
			return check_fail("unknown option %s", argv[i]);
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	ctx.color = strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO));
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		/* the report is the output: the library writes to stderr only its errors */
		log_open(LOG_MAIL, true);
		log_set_level(LOG_LEVEL_ERROR);
		strbuf_init_heap(&errors, 65536);
		strbuf_init_heap(&notes, 4096);
		ctx.rt = runtime_load(ctx.config_path, &errors, &notes);
		if (!ctx.rt) {
			fputs(strbuf_text(&errors), stderr);
			rc = check_fail("%s: the config or policy cannot be loaded", ctx.config_path);
		} else {
			ctx.deadline_ms = ctx.rt->config->dns_deadline_ms;
			rc = commands[c].run(&ctx, argc - i, argv + i);
		}
		runtime_discard(ctx.rt);
		strbuf_free(&errors);
		strbuf_free(&notes);
		return rc;
	}
	usage(stderr);
	return check_fail("unknown command %s", argv[i]);
}
