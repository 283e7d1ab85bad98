/*
 * dns_rdata - the records dnsguard reads out of an answer: MX, A/AAAA, PTR.
 *
 * ldns has parsed the message; these functions take only records of the wanted type from the
 * answer section (after a CNAME chain, the records belong to its end) and check every rdata field
 * for the type and size it must have, so that malformed or hostile data is skipped, never read
 * out of bounds.  Each returns how many records it stored; `*skipped` (if not NULL) counts records
 * of the right type that were unusable.
 */
#ifndef DNSGUARD_DNS_RDATA_H
#define DNSGUARD_DNS_RDATA_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "netaddr.h"
#include "resolver.h"

struct dns_mx {
	uint16_t preference;
	char host[DNS_NAME_TEXT_MAX];	/* presentation format, lower case, with the final dot; "." for null MX */
};

/* MX records, sorted by preference (stable: equal preferences keep the server's order). */
size_t dns_rdata_mx(const ldns_pkt *packet, struct dns_mx *out, size_t max, size_t *skipped);
/* A (qtype LDNS_RR_TYPE_A) or AAAA records as addresses. */
size_t dns_rdata_addresses(const ldns_pkt *packet, uint16_t qtype, struct netaddr *out, size_t max, size_t *skipped);
/* PTR targets, presentation format, lower case, with the final dot. */
size_t dns_rdata_ptr(const ldns_pkt *packet, char (*out)[DNS_NAME_TEXT_MAX], size_t max, size_t *skipped);

/* The reverse-lookup name of an address: "10.0.0.127.in-addr.arpa." or the ip6.arpa nibbles. */
const char *dns_reverse_name(const struct netaddr *addr, char *buf, size_t size);

#endif
