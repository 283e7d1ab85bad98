/*
 * host_lookup - the addresses of one host name (A and AAAA, asked at once), with the evidence
 * they rest on.
 *
 * For whoever must turn a name into addresses itself so that the MTA never has to: the route
 * service's smart hosts (routes.h), and the diagnostic command.  Blocking, bounded by its
 * deadline: call it from a worker thread, never a milter callback.
 */
#ifndef DNSGUARD_HOST_LOOKUP_H
#define DNSGUARD_HOST_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "resolver.h"

#define HOST_LOOKUP_ADDRESSES_MAX 16

struct host_addresses {
	/* DNS_FOUND when either question gave an address (the other may have failed: what one
	 * gave is enough to deliver); else what the answers say: DNS_TEMPFAIL if either failed,
	 * then DNS_BOGUS, DNS_NXDOMAIN, DNS_NODATA */
	enum dns_outcome outcome;
	struct netaddr addresses[HOST_LOOKUP_ADDRESSES_MAX];	/* IPv4 first, in the answers' order */
	size_t count;
	uint32_t ttl;			/* the shortest TTL of the answers that gave addresses */
	/* the answer the outcome rests on (FOUND: the A answer if it had addresses), its qname
	 * pointing at `qname` below */
	struct dns_evidence evidence;
	char qname[DNS_NAME_TEXT_MAX];
	char why_bogus[256];
};

/* Asks `name` (a plain host name) for A and AAAA within deadline_ms.  Always fills out; the
 * outcome says what came of it (DNS_TEMPFAIL with DNS_CAUSE_LOCAL for a bad name or no memory). */
void host_lookup(struct resolver *resolver, const char *name, unsigned deadline_ms, struct host_addresses *out);

#endif
