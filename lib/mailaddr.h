/*
 * mailaddr - the envelope address of MAIL FROM / RCPT TO, parsed as libmilter hands it over.
 *
 * Takes argv[0] of the envelope callbacks ("<user@example.org>", with or without the angle
 * brackets, blanks around it tolerated; the ESMTP parameters are argv[1..] and never looked at)
 * and splits it per RFC 5321 section 4.1.2: the null sender "<>", a source route (dropped), the
 * local part (a dot-string or one quoted string, split from the domain at the last unquoted '@'),
 * and a domain name or an address literal ([192.0.2.1], [IPv6:2001:db8::1]).  A domain is checked
 * and converted to its A-label form (internationalized names through libidn2, UTS #46), which is
 * what DNS is asked about.  The input is the peer's: every length is bounded, and what does not
 * parse is refused with a reason, never guessed at.
 *
 * Deliberately permissive where real mail is: local parts may be up to 255 octets (not RFC 5321's
 * 64), may hold UTF-8 (RFC 6531) and stray dots ("a..b", "a."); domain labels may hold '_'.
 * Deliberately strict where DNS is: labels 1-63 octets, names up to 253, no misplaced hyphens, no
 * all-numeric top-level label (an IP address needs brackets).
 */
#ifndef DNSGUARD_MAILADDR_H
#define DNSGUARD_MAILADDR_H

#include <stddef.h>

#include "netaddr.h"

#define MAILADDR_TEXT_MAX 1024		/* input octets, blanks included */
#define MAILADDR_LOCAL_MAX 255		/* local part octets, as written */
#define MAILADDR_DOMAIN_MAX 253		/* domain octets in A-label form, no final dot */
#define MAILADDR_LABEL_MAX 63		/* octets of one A-label */

enum mailaddr_kind {
	MAILADDR_NULL,		/* <>: the null sender */
	MAILADDR_DOMAIN,	/* local@domain */
	MAILADDR_LITERAL,	/* local@[192.0.2.1] or local@[IPv6:2001:db8::1] */
	MAILADDR_LOCAL_ONLY,	/* no domain: RCPT TO:<postmaster>; the caller decides if it is allowed */
};

struct mailaddr {
	enum mailaddr_kind kind;
	/* local@domain as given (UTF-8 kept, final dot removed, no route, no brackets); "" for <> */
	char address[512];
	char local[256];		/* as written; a quoted form keeps its quotes and escapes */
	/* DOMAIN: A-label form, lower case, no final dot ("xn--bcher-kva.example").
	 * LITERAL: the canonical literal ("[192.0.2.1]", "[IPv6:2001:db8::1]"); an IPv4-mapped
	 * IPv6 literal is written as the IPv4 one, as netaddr folds it. */
	char domain[256];
	char domain_utf8[256];		/* as given, final dot removed ("Bücher.example", "[IPv6:::1]") */
	struct netaddr literal;		/* LITERAL only */
};

/*
 * Parses `text` into `out`.  0 on success; -1 with `out` cleared and a short reason in `err`
 * ("unbalanced quotes", "domain label longer than 63 octets", "invalid IDN: ...").  The reason
 * is printable ASCII and quotes at most one printable character of the input, so it is safe to
 * log as is.  err may be NULL when errlen is 0.
 */
int mailaddr_parse(const char *text, struct mailaddr *out, char *err, size_t errlen);

const char *mailaddr_kind_name(enum mailaddr_kind kind);	/* "null", "domain", "literal", "local-only" */

#endif
