/*
 * helo_check - does the HELO/EHLO name resolve, and does it name the client?
 *
 * An address literal ([192.0.2.1], [IPv6:2001:db8::1], or a bare address some clients send) is
 * compared with the client directly.  A name is asked for A, AAAA and MX at once; it matches when
 * one of its addresses is the client's.  RFC 5321 4.1.4: a mismatch alone must not refuse mail,
 * so what this reports is for tagging; the policy decides.
 */
#ifndef DNSGUARD_HELO_CHECK_H
#define DNSGUARD_HELO_CHECK_H

#include <stddef.h>

#include "fcrdns.h"
#include "netaddr.h"
#include "resolver.h"

enum helo_verdict {
	HELO_OK,		/* resolves, and an address is the client's */
	HELO_MISMATCH,		/* resolves (or is a literal), but not to the client */
	HELO_UNRESOLVABLE,	/* no such name, no records, or not a name at all */
	HELO_TEMPFAIL,		/* DNS trouble, and no match found */
};

/* Lives as long as the check, as do the name and evidence it points at (the check's store). */
struct helo_result {
	enum helo_verdict verdict;
	const char *name;		/* as the client sent it (at most DNS_NAME_TEXT_MAX - 1 bytes of it),
					 * made safe for logs by the caller */
	struct dns_evidence *evidence;	/* A, AAAA, MX: evidence_count of them (none for literals) */
	size_t evidence_count;
	size_t decisive;
	unsigned ms;
};

/*
 * A check is driven by its owner (a session), one call at a time.  helo_check_wait settles the
 * result once (later calls return it at once) and lets the check's DNS job go: a settled check
 * holds only its result.  Out of memory while running, the verdict is HELO_TEMPFAIL.
 */
struct helo_check;

/*
 * Starts the check of `helo` for `client`.  NULL only when out of memory.  `client_check`, if
 * not NULL, is the client's FCrDNS result when already known: a HELO that names the confirmed
 * host is then OK on that evidence, without asking again (most clients announce their PTR name);
 * the HELO check keeps its own copy of that evidence, so the client check may be freed first.
 */
struct helo_check *helo_check_start(struct resolver *resolver, const char *helo, const struct netaddr *client,
				    unsigned deadline_ms, const struct fcrdns_result *client_check);
const struct helo_result *helo_check_wait(struct helo_check *check);
void helo_check_free(struct helo_check *check);

const char *helo_verdict_name(enum helo_verdict verdict);	/* "ok", "mismatch", ... */

#endif
