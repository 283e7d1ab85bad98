/*
 * netaddr - address and network parsing; see netaddr.h.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void fold_v4mapped(struct netaddr *a)
{
	if (a->family == AF_INET6 && memcmp(a->bytes, v4mapped_prefix, 12) == 0) {
		memmove(a->bytes, a->bytes + 12, 4);
		memset(a->bytes + 4, 0, 12);
		a->family = AF_INET;
	}
}

bool netaddr_parse(const char *text, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = AF_INET6;
		fold_v4mapped(out);
		return true;
	}
	return false;
}

bool netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
		out->family = AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		out->family = AF_INET6;
		memcpy(out->bytes, &sin6->sin6_addr, 16);
		fold_v4mapped(out);
		return true;
	}
	return false;
}

static unsigned addr_bits(const struct netaddr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

static void clear_host_bits(struct netaddr *a, unsigned prefix)
{
	unsigned bytes = addr_bits(a) / 8;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned first_bit = i * 8;
		if (first_bit >= prefix)
			a->bytes[i] = 0;
		else if (first_bit + 8 > prefix)
			a->bytes[i] &= (uint8_t)(0xff << (8 - (prefix - first_bit)));
	}
}

bool netaddr_net_parse(const char *text, struct netaddr_net *out)
{
	char host[64];
	const char *slash = strchr(text, '/');
	size_t hostlen = slash ? (size_t)(slash - text) : strlen(text);

	if (hostlen == 0 || hostlen >= sizeof(host))
		return false;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (!netaddr_parse(host, &out->addr))
		return false;
	/* an IPv4-mapped network was folded: its prefix counts from the IPv4 part */
	bool folded = out->addr.family == AF_INET && strchr(host, ':') != NULL;
	out->prefix = addr_bits(&out->addr);
	if (slash) {
		char *end;
		const char *digits = slash + 1;
		if (*digits < '0' || *digits > '9')
			return false;
		unsigned long prefix = strtoul(digits, &end, 10);
		if (*end != '\0')
			return false;
		if (folded) {
			if (prefix < 96)
				return false;
			prefix -= 96;
		}
		if (prefix > addr_bits(&out->addr))
			return false;
		out->prefix = (unsigned)prefix;
	}
	clear_host_bits(&out->addr, out->prefix);
	return true;
}

bool netaddr_net_contains(const struct netaddr_net *net, const struct netaddr *addr)
{
	struct netaddr masked = *addr;

	if (addr->family != net->addr.family)
		return false;
	clear_host_bits(&masked, net->prefix);
	return memcmp(masked.bytes, net->addr.bytes, addr_bits(addr) / 8) == 0;
}

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, addr_bits(a) / 8) == 0;
}

const char *netaddr_format(const struct netaddr *addr, char *buf, size_t size)
{
	if (!inet_ntop(addr->family, addr->bytes, buf, (socklen_t)size) && size)
		buf[0] = '\0';
	return buf;
}

bool netaddr_is_loopback_or_unspecified(const struct netaddr *addr)
{
	static const uint8_t zero[16];

	if (addr->family == AF_INET)
		return addr->bytes[0] == 127 || memcmp(addr->bytes, zero, 4) == 0;
	if (memcmp(addr->bytes, zero, 16) == 0)
		return true;
	return memcmp(addr->bytes, zero, 15) == 0 && addr->bytes[15] == 1;
}

bool netaddr_parse_server(const char *text, struct netaddr *addr, unsigned *port)
{
	char host[64];
	const char *at = strchr(text, '@');
	size_t hostlen = at ? (size_t)(at - text) : strlen(text);

	*port = 53;
	if (hostlen == 0 || hostlen >= sizeof(host))
		return false;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (!netaddr_parse(host, addr))
		return false;
	if (at) {
		char *end;
		const char *digits = at + 1;
		if (*digits < '0' || *digits > '9')
			return false;
		unsigned long p = strtoul(digits, &end, 10);
		if (*end != '\0' || p == 0 || p > 65535)
			return false;
		*port = (unsigned)p;
	}
	return true;
}
