/*
 * fuzz_dns_rdata - the records dnsguard reads out of a DNS answer that ldns parsed from any wire
 * bytes (a hostile or broken server): MX, A, AAAA and PTR never read out of bounds, every name
 * stored is terminated and ends in a dot, and the counts stay within the caller's maximum.
 */
#include "dns_rdata.h"
#include "fuzz.h"

#define MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_mx mx[MAX];
	struct netaddr addresses[MAX];
	char names[MAX][DNS_NAME_TEXT_MAX];
	ldns_pkt *packet = NULL;
	size_t n, skipped;

	if (ldns_wire2pkt(&packet, data, size) != LDNS_STATUS_OK)
		return 0;
	n = dns_rdata_mx(packet, mx, MAX, &skipped);
	if (n > MAX)
		fuzz_fail("%zu MX records in %d places", n, MAX);
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(mx[i].host, sizeof(mx[i].host));
		if (len == sizeof(mx[i].host) || len == 0 || mx[i].host[len - 1] != '.')
			fuzz_fail("an MX host that is not a terminated name with its dot");
		if (i && mx[i].preference < mx[i - 1].preference)
			fuzz_fail("MX records out of order");
	}
	if (dns_rdata_addresses(packet, LDNS_RR_TYPE_A, addresses, MAX, &skipped) > MAX ||
	    dns_rdata_addresses(packet, LDNS_RR_TYPE_AAAA, addresses, MAX, NULL) > MAX)
		fuzz_fail("more addresses than places");
	n = dns_rdata_ptr(packet, names, MAX, &skipped);
	if (n > MAX)
		fuzz_fail("%zu PTR records in %d places", n, MAX);
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(names[i], sizeof(names[i]));
		if (len == sizeof(names[i]) || len == 0 || names[i][len - 1] != '.')
			fuzz_fail("a PTR name that is not a terminated name with its dot");
	}
	ldns_pkt_free(packet);
	return 0;
}
