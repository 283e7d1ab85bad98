/*
 * auth_results - the header fields dnsguard adds, and recognising forged ones.
 *
 * Authentication-Results (RFC 8601) carries the client check as the iprev method:
 *   Authentication-Results: mx.example.org; iprev=pass policy.iprev=192.0.2.7 (mail.example.net)
 * and X-DNSGuard carries every check's outcome for filters and humans:
 *   X-DNSGuard: client=pass helo=ok sender=ok (mx.example.org)
 * A message arriving with either field already claiming to come from this authserv-id is forged
 * or looped: such fields are removed before ours are added.
 */
#ifndef DNSGUARD_AUTH_RESULTS_H
#define DNSGUARD_AUTH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_RESULTS_HEADER "Authentication-Results"
#define DNSGUARD_HEADER "X-DNSGuard"

/*
 * The value of an Authentication-Results field with the iprev result.  `result` is pass, fail,
 * permerror or temperror; `hostname` is the name that confirmed (pass) or NULL/"" otherwise.
 */
const char *auth_results_iprev(const char *authserv_id, const char *result, const char *client_ip,
			       const char *hostname, char *buf, size_t size);

/* True if an Authentication-Results value names `authserv_id` (case-insensitive, RFC 8601 2.2:
 * the first token, before any version and ';'). */
bool auth_results_is_ours(const char *value, const char *authserv_id);

#endif
