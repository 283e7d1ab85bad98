/*
 * dns_rdata - reading MX, A/AAAA and PTR rdata, bounds-checked; see dns_rdata.h.
 */
#include "dns_rdata.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A domain-name rdf as lower-case presentation text with the final dot; false if unusable. */
static bool dname_text(const ldns_rdf *rdf, char *buf, size_t size)
{
	char *text;
	size_t len;

	if (!rdf || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME || ldns_rdf_size(rdf) == 0 ||
	    ldns_rdf_size(rdf) > LDNS_MAX_DOMAINLEN)
		return false;
	text = ldns_rdf2str(rdf);
	if (!text)
		return false;
	len = strlen(text);
	if (len == 0 || len >= size) {
		free(text);
		return false;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)text[i]);
	buf[len] = '\0';
	free(text);
	return true;
}

size_t dns_rdata_mx(const ldns_pkt *packet, struct dns_mx *out, size_t max, size_t *skipped)
{
	const ldns_rr_list *answer = packet ? ldns_pkt_answer(packet) : NULL;
	size_t n = 0, bad = 0;

	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer) && max; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);
		const ldns_rdf *pref, *host;
		struct dns_mx mx;
		size_t at;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX)
			continue;
		pref = ldns_rr_rdf(rr, 0);
		host = ldns_rr_rdf(rr, 1);
		if (ldns_rr_rd_count(rr) != 2 || !pref || ldns_rdf_get_type(pref) != LDNS_RDF_TYPE_INT16 ||
		    ldns_rdf_size(pref) != 2 || !dname_text(host, mx.host, sizeof(mx.host))) {
			bad++;
			continue;
		}
		mx.preference = ldns_rdf2native_int16(pref);
		/*
		 * Keep the `max` most preferred, sorted; equal preferences keep the server's order.
		 * Servers rotate records, so the first `max` of a long list are not the best ones.
		 */
		if (n == max && mx.preference >= out[max - 1].preference)
			continue;
		at = n < max ? n++ : max - 1;
		while (at > 0 && out[at - 1].preference > mx.preference) {
			out[at] = out[at - 1];
			at--;
		}
		out[at] = mx;
	}
	if (skipped)
		*skipped = bad;
	return n;
}

size_t dns_rdata_addresses(const ldns_pkt *packet, uint16_t qtype, struct netaddr *out, size_t max, size_t *skipped)
{
	const ldns_rr_list *answer = packet ? ldns_pkt_answer(packet) : NULL;
	size_t want = qtype == LDNS_RR_TYPE_A ? 4 : 16;
	ldns_rdf_type rdf_type = qtype == LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA;
	size_t n = 0, bad = 0;

	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer) && n < max; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);
		const ldns_rdf *rdf;

		if (ldns_rr_get_type(rr) != qtype)
			continue;
		rdf = ldns_rr_rdf(rr, 0);
		if (ldns_rr_rd_count(rr) != 1 || !rdf || ldns_rdf_get_type(rdf) != rdf_type || ldns_rdf_size(rdf) != want) {
			bad++;
			continue;
		}
		memset(&out[n], 0, sizeof(out[n]));
		out[n].family = qtype == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
		memcpy(out[n].bytes, ldns_rdf_data(rdf), want);
		n++;
	}
	if (skipped)
		*skipped = bad;
	return n;
}

size_t dns_rdata_ptr(const ldns_pkt *packet, char (*out)[DNS_NAME_TEXT_MAX], size_t max, size_t *skipped)
{
	const ldns_rr_list *answer = packet ? ldns_pkt_answer(packet) : NULL;
	size_t n = 0, bad = 0;

	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer) && n < max; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR)
			continue;
		if (ldns_rr_rd_count(rr) != 1 || !dname_text(ldns_rr_rdf(rr, 0), out[n], DNS_NAME_TEXT_MAX)) {
			bad++;
			continue;
		}
		n++;
	}
	if (skipped)
		*skipped = bad;
	return n;
}

const char *dns_reverse_name(const struct netaddr *addr, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (addr->family == AF_INET) {
		snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa.", addr->bytes[3], addr->bytes[2], addr->bytes[1],
			 addr->bytes[0]);
		return buf;
	}
	for (int i = 15; i >= 0 && used + 4 < size; i--) {
		buf[used++] = hex[addr->bytes[i] & 0xf];
		buf[used++] = '.';
		buf[used++] = hex[addr->bytes[i] >> 4];
		buf[used++] = '.';
	}
	buf[used] = '\0';
	snprintf(buf + used, size - used, "ip6.arpa.");
	return buf;
}
