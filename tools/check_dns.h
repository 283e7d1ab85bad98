/*
 * check_dns - what the domain, client and route commands share: a lookup's evidence as a finding's
 * evidence, the servers dnsguard forwards to, the server probe of a failed lookup (as the daemon's
 * probe cache says it), one question asked straight to a server (for sizes and CNAMEs, which
 * libunbound does not show), and a dnsguard decision as a finding.
 *
 * Everything here is bounded by the command's deadline; nothing retries.
 */
#ifndef DNSGUARD_CHECK_DNS_H
#define DNSGUARD_CHECK_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "decision.h"
#include "dns_probe.h"

/* A struct check_evidence with room for the strings it points at. */
struct check_dns_evidence {
	struct check_evidence ev;
	char server[80];
	char type[16];
	char rcode[24];
};

/* What libunbound said of one question, asked over `transport`: server "resolver", rcode the
 * answer's ("NXDOMAIN"), "NODATA" for a name without records of the type, "timeout" for a
 * deadline.  Returns &out->ev. */
const struct check_evidence *check_dns_evidence(struct check_dns_evidence *out, const struct dns_evidence *ev,
						enum dns_transport transport);
/* What one server did for a probe: rcode is the UDP leg's ("NOERROR", "timeout", "refused"),
 * transport "udp+tcp", ms the slower leg's.  Returns &out->ev. */
const struct check_evidence *check_dns_probe_evidence(struct check_dns_evidence *out,
						      const struct dns_probe_result *r);

/* The servers dnsguard forwards to: dns_servers, or the nameservers of /etc/resolv.conf (as
 * libunbound reads them); none when it recurses.  At most max. */
size_t check_dns_servers(const struct check_context *ctx, struct dns_server *out, size_t max);
/* The domain of what an admin typed (a domain or user@domain): after the last '@', without a
 * final dot, in lower case, into out.  False when it does not fit. */
bool check_dns_key_domain(const char *arg, char *out, size_t size);

/* Probes every server of check_dns_servers for qname/qtype (dns_probe.h) under the command's
 * deadline, all at once; returns how many results were filled (a server that could not be probed
 * is left out). */
size_t check_dns_probe(const struct check_context *ctx, const char *qname, uint16_t qtype,
		       struct dns_probe_result *out, size_t max);

/* The probe findings that explain the failed lookup `ev` (probe_cache.h's rule), joined with
 * "; " as the daemon's decision line has them: "" when none fits.  Returns buf. */
const char *check_dns_finding(const struct dns_probe_result *results, size_t count, const struct dns_evidence *ev,
			      enum dns_transport transport, char *buf, size_t size);

/* One question to `server` as a stub asks it (RD, EDNS0 with a 4096-byte buffer), over TCP, then
 * over UDP if TCP gets nothing: for the whole answer's size and its CNAMEs.  NULL when neither
 * answers by deadline_ms; *tcp says which one answered.  The caller frees with ldns_pkt_free. */
ldns_pkt *check_dns_query(const struct dns_server *server, const char *qname, uint16_t qtype, unsigned deadline_ms,
			  bool *tcp);

/* decision_make with the loaded policy for `result` under `transport`, the probe's finding (""
 * or NULL: none) as the daemon would have it once the probe is known. */
void check_dns_decide(const struct check_context *ctx, enum dns_transport transport, const struct decision_facts *facts,
		      struct check_result *result, const char *finding, struct decision *out);

/*
 * A decision as a finding: code "dnsguard-<check>-<action>", the text "dnsguard's sender check
 * would reject ...: 550 5.1.8 <text> (rule default)".  Severity: accept ok, tag / log-only /
 * quarantine / divert info, reject and tempfail `refused` (a dry run: info).
 */
void check_dns_report_decision(struct check_report *report, const struct decision *d, const char *about,
			       enum check_severity refused);

/* "udp-tcp", "tcp", "udp" in the order the commands try them. */
extern const enum dns_transport check_dns_transports[3];

#endif
