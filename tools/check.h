/*
 * check - what the commands of dnsguard-check share: the daemon's configuration, resolvers built
 * as the daemon builds them (or with another transport, to compare), and the report.
 *
 * Each command is a file of its own (check_server.c, check_domain.c, ...) with one entry point;
 * dnsguard-check.c parses the common options and calls it.  A command returns the report's exit
 * status (0 healthy, 1 problems found) or 2 when it could not run (with one line on stderr).
 */
#ifndef DNSGUARD_CHECK_H
#define DNSGUARD_CHECK_H

#include <stdbool.h>

#include "check_report.h"
#include "dns_settings.h"
#include "resolver.h"
#include "runtime.h"

#define CHECK_PROGRAM "dnsguard-check"

struct check_context {
	const char *config_path;
	struct runtime *rt;		/* the daemon's config and policy, loaded; no resolver yet */
	struct check_report *report;	/* made by the command (it knows its subject) with check_begin */
	bool json, color;
	unsigned deadline_ms;		/* every probe's and lookup's bound: the daemon's dns_deadline */
};

/* Starts the command's report. */
struct check_report *check_begin(struct check_context *ctx, const char *command, const char *subject);
/* A resolver as the daemon would build it from its config, but with `transport` (to see which
 * one works); freed by the caller with resolver_free.  NULL with one line on stderr. */
struct resolver *check_resolver(struct check_context *ctx, enum dns_transport transport);
/* One line "dnsguard-check: ..." on stderr; returns 2. */
int check_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The commands: argv[0] is the command's name. */
int check_server(struct check_context *ctx, int argc, char **argv);
int check_domain(struct check_context *ctx, int argc, char **argv);
int check_client(struct check_context *ctx, int argc, char **argv);
int check_route(struct check_context *ctx, int argc, char **argv);
int check_config(struct check_context *ctx, int argc, char **argv);
int check_stats(struct check_context *ctx, int argc, char **argv);

#endif
