/*
 * fcrdns - forward-confirmed reverse DNS of a client address (IPv4 or IPv6).
 *
 * PTR of the address; then, for every name, the address records of the client's family, all at
 * once; the client passes as soon as one name maps back to its address.  The verdict follows the
 * iprev method of RFC 8601 2.7.3 (DECISIONS 11): pass, fail (names, none maps back), permerror
 * (no PTR at all), temperror (DNS trouble), plus bogus when DNSSEC validation failed.
 */
#ifndef DNSGUARD_FCRDNS_H
#define DNSGUARD_FCRDNS_H

#include <stddef.h>

#include "netaddr.h"
#include "resolver.h"

#define FCRDNS_NAMES_MAX 10
#define FCRDNS_EVIDENCE_MAX (1 + FCRDNS_NAMES_MAX)

enum fcrdns_verdict {
	FCRDNS_PASS,		/* a PTR name maps back to the client */
	FCRDNS_FAIL,		/* PTR names, none maps back */
	FCRDNS_NO_PTR,		/* no PTR (NXDOMAIN or NODATA): iprev permerror */
	FCRDNS_TEMPFAIL,	/* iprev temperror */
	FCRDNS_BOGUS,		/* DNSSEC validation failed */
};

/* Lives as long as the check, as do the names and evidence it points at (the check's store). */
struct fcrdns_result {
	enum fcrdns_verdict verdict;
	struct netaddr client;
	const char **names;		/* PTR names, as found: name_count of them (FCRDNS_NAMES_MAX at most) */
	size_t name_count;
	int confirmed;			/* index in names of the name that maps back, or -1 */
	struct dns_evidence *evidence;	/* [0] the PTR question, then one per name: evidence_count */
	size_t evidence_count;
	size_t decisive;
	unsigned ms;
};

/*
 * A check is driven by its owner (a session), one call at a time.  fcrdns_wait settles the result
 * once (later calls return it at once) and lets the check's DNS job go: a settled check holds only
 * its result.  Out of memory while running, the verdict is FCRDNS_TEMPFAIL.
 */
struct fcrdns_check;

/* NULL only when out of memory. */
struct fcrdns_check *fcrdns_start(struct resolver *resolver, const struct netaddr *client, unsigned deadline_ms);
const struct fcrdns_result *fcrdns_wait(struct fcrdns_check *check);
/* Without waiting: the result if the check has decided already (as fcrdns_wait gives it), else NULL. */
const struct fcrdns_result *fcrdns_peek(struct fcrdns_check *check);
void fcrdns_free(struct fcrdns_check *check);

const char *fcrdns_verdict_name(enum fcrdns_verdict verdict);	/* "pass", "fail", "no-ptr", ... */
/* The RFC 8601 iprev result: "pass", "fail", "permerror", "temperror". */
const char *fcrdns_iprev_result(enum fcrdns_verdict verdict);
/* The hostname to show for the client, as Postfix does: the confirmed name, else "unknown". */
const char *fcrdns_hostname(const struct fcrdns_result *result);

#endif
