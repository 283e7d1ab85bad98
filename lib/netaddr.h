/*
 * netaddr - IPv4/IPv6 addresses and networks, parsed and compared without DNS.
 *
 * Used for configured DNS servers (addr[@port]), trusted/outbound networks in the policy, and
 * client addresses from the MTA.  IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) are folded to
 * IPv4 so a network written either way matches.
 */
#ifndef DNSGUARD_NETADDR_H
#define DNSGUARD_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct netaddr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t bytes[16];	/* network order; 4 used for AF_INET */
};

struct netaddr_net {
	struct netaddr addr;	/* host bits cleared */
	unsigned prefix;
};

/* Parses a literal address (no brackets, no scope). */
bool netaddr_parse(const char *text, struct netaddr *out);
/* From a sockaddr as libmilter passes it; false for other families. */
bool netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);
/* "addr" or "addr/prefix"; a plain address is a host network. */
bool netaddr_net_parse(const char *text, struct netaddr_net *out);
bool netaddr_net_contains(const struct netaddr_net *net, const struct netaddr *addr);
bool netaddr_equal(const struct netaddr *a, const struct netaddr *b);
/* Text form into buf (INET6_ADDRSTRLEN is enough). */
const char *netaddr_format(const struct netaddr *addr, char *buf, size_t size);
/* 127.0.0.0/8, ::1, 0.0.0.0 or :: */
bool netaddr_is_loopback_or_unspecified(const struct netaddr *addr);

/* "addr" or "addr@port" (port 1-65535, default 53) as written in dns_servers. */
bool netaddr_parse_server(const char *text, struct netaddr *addr, unsigned *port);

#endif
