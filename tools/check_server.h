/*
 * check_server - what `dnsguard-check server` finds about one DNS server, and which servers the
 * daemon uses; shared with `dnsguard-check config`, which runs the short form of the same check.
 *
 * A server check asks the server one small question over UDP and TCP at once (dns_probe.h),
 * reads its EDNS0 buffer from the reply, then asks a large question to see whether UDP truncates
 * and whether TCP then brings the whole answer.  Every probe ends by the config's dns_deadline.
 * The findings and one verdict go into the context's report, as a section of their own.
 */
#ifndef DNSGUARD_CHECK_SERVER_H
#define DNSGUARD_CHECK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "dns_probe.h"
#include "dns_settings.h"

/* One question: a name in presentation form and a type. */
struct check_question {
	char name[DNS_PROBE_QNAME_SIZE];
	uint16_t type;
};

/* "NAME" or "NAME/TYPE" (TYPE as ldns names it: TXT, SOA, ...; default `type`).  false with a
 * sentence in why. */
bool check_question_parse(const char *text, uint16_t type, struct check_question *out, char *why, size_t whylen);

/* The servers the daemon forwards to, and where that list comes from. */
struct check_servers {
	struct dns_server list[DNS_SERVERS_MAX];
	size_t count;
	const char *source;	/* "dns_servers", "/etc/resolv.conf" or "dns_mode recursive" */
};

/* The daemon's servers: dns_servers, or the nameservers of /etc/resolv.conf (read with ldns, as
 * libunbound reads them), or none in recursive mode.  false with a sentence in why when
 * resolv.conf cannot be read. */
bool check_servers_of_config(const struct config *config, struct check_servers *out, char *why, size_t whylen);

/*
 * Checks one server and adds its section, findings and verdict to ctx->report.  `large` NULL:
 * the short form (the small question only), as `config` runs it.  Returns true if the server
 * works for mail as dnsguard is configured (no finding is a problem).
 */
bool check_server_one(struct check_context *ctx, const struct dns_server *server, const struct check_question *small,
		      const struct check_question *large);

#endif
