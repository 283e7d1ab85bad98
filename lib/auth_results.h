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
 * The authserv-id is written as a token when it is one, else as a quoted-string (control and
 * non-ASCII bytes become '_'), so the field is well-formed for any id and auth_results_is_ours
 * recognises it.
 */
const char *auth_results_iprev(const char *authserv_id, const char *result, const char *client_ip,
			       const char *hostname, char *buf, size_t size);

/*
 * The value of the X-DNSGuard field: the checks' `summary` ("client=pass helo=ok") and, in a
 * comment, the authserv-id.  Whatever the MTA calls itself ({j}), the comment cannot be ended
 * early or the field folded: parentheses, backslashes, control and non-ASCII bytes become '_'.
 */
const char *auth_results_dnsguard(const char *summary, const char *authserv_id, char *buf, size_t size);

/*
 * True if an Authentication-Results value (as the MTA hands it over: leading space and folds
 * included) must be taken as ours and removed.  The authserv-id is read as RFC 8601 2.2 and
 * RFC 5322 3.2 define it: after CFWS (white space, folds, comments that nest and hold
 * quoted-pairs), a token or a quoted-string (quoted-pairs decoded, white space at its ends
 * ignored); it is ours when it equals `authserv_id` ignoring ASCII case and one trailing dot on
 * either side.  What follows the id does not matter.  A value that cannot be read up to its id
 * (an unterminated comment or quoted-string, or a byte that cannot start one) is taken as ours too:
 * some reader may still find our id in it, none can use it, and RFC 8601 5 lets us remove any.
 * Empty values and values of comments only are not ours.  Linear in the length of `value`.
 */
bool auth_results_is_ours(const char *value, const char *authserv_id);

/* True if `id` is a non-empty RFC 2045 token (printable ASCII but for ()<>@,;:\"/[]?=): what can
 * stand as an authserv-id unquoted.  Host names are tokens. */
bool auth_results_id_is_token(const char *id);

#endif
