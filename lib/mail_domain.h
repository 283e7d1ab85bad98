/*
 * mail_domain - can mail be delivered to this domain?  RFC 5321 section 5.1, with RFC 7505.
 *
 * MX first; then every MX host at once, each asked for A, and for AAAA only when its A answer
 * gives no usable address (nearly every mail host has one: a question saved per check, at the
 * price of one more round trip for an IPv6-only host); no MX records means the domain itself is
 * the implicit MX.  A single MX of preference 0 and target "." is a
 * null MX: the domain accepts no mail.  The check runs on the resolver's thread while the caller
 * goes on, and is waited for under the deadline it was started with; it stops as soon as one mail
 * host has a usable address.
 */
#ifndef DNSGUARD_MAIL_DOMAIN_H
#define DNSGUARD_MAIL_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_rdata.h"
#include "netaddr.h"
#include "resolver.h"

#define MAIL_DOMAIN_HOSTS_MAX 10	/* MX hosts looked at, in preference order */
#define MAIL_DOMAIN_EVIDENCE_MAX (1 + 2 * MAIL_DOMAIN_HOSTS_MAX)

enum mail_domain_verdict {
	MAIL_DOMAIN_OK,			/* a mail host with a usable address */
	MAIL_DOMAIN_NULL_MX,		/* RFC 7505: the domain accepts no mail */
	MAIL_DOMAIN_NXDOMAIN,		/* the domain does not exist */
	MAIL_DOMAIN_NO_ADDRESS,		/* exists, but no MX and no A or AAAA */
	MAIL_DOMAIN_MX_UNRESOLVABLE,	/* MX hosts, none of which has an address */
	MAIL_DOMAIN_LOOPBACK,		/* every mail host is localhost, a literal, or only loopback/unspecified */
	MAIL_DOMAIN_TEMPFAIL,		/* DNS trouble: not known now */
	MAIL_DOMAIN_BOGUS,		/* DNSSEC validation failed */
};

/* Flags on mail hosts (set whatever the verdict). */
#define MAIL_DOMAIN_FLAG_IMPLICIT_MX 0x01	/* no MX: the domain's own addresses */
#define MAIL_DOMAIN_FLAG_MX_LITERAL 0x02	/* an MX target written as an IP address */
#define MAIL_DOMAIN_FLAG_MX_LOCALHOST 0x04	/* an MX target "localhost" */
#define MAIL_DOMAIN_FLAG_MX_LOOPBACK 0x08	/* an MX host resolving only to loopback/unspecified */

/* One MX record, as the result keeps it. */
struct mail_domain_mx {
	uint16_t preference;
	const char *host;	/* presentation format, lower case, with the final dot; "." for null MX */
};

/* Lives as long as the check, as do the names and evidence it points at (the check's store). */
struct mail_domain_result {
	enum mail_domain_verdict verdict;
	unsigned flags;
	const char *domain;		/* lower case, with the final dot */
	struct mail_domain_mx *mx;	/* as found, by preference: mx_count (MAIL_DOMAIN_HOSTS_MAX at most) */
	size_t mx_count;
	/* the host and address that made it OK; usable_host is "" until then */
	const char *usable_host;
	struct netaddr usable_address;
	/* every question asked and its answer (evidence_count); `decisive` is the one the verdict
	 * rests on */
	struct dns_evidence *evidence;
	size_t evidence_count;
	size_t decisive;
	unsigned ms;
};

/*
 * A check is driven by its owner (a session), one call at a time.  mail_domain_wait settles the
 * result once (later calls return it at once) and lets the check's DNS job go: a settled check
 * holds only its result.  Out of memory while running, the verdict is MAIL_DOMAIN_TEMPFAIL.
 */
struct mail_domain_check;

/* Starts the check of `domain` (an A-label name) under a deadline of deadline_ms.  NULL when out
 * of memory. */
struct mail_domain_check *mail_domain_start(struct resolver *resolver, const char *domain, unsigned deadline_ms);
/* Waits for the verdict (at most until the deadline).  The result lives as long as the check. */
const struct mail_domain_result *mail_domain_wait(struct mail_domain_check *check);
void mail_domain_free(struct mail_domain_check *check);

const char *mail_domain_verdict_name(enum mail_domain_verdict verdict);	/* "ok", "null-mx", ... */

#endif
