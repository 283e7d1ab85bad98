/*
 * dns_settings - how dnsguard asks DNS: which servers, over which transport.
 *
 * A plain value shared by the config file parser, the resolver and the command-line tools, so
 * that none of them depends on another's format.
 */
#ifndef DNSGUARD_DNS_SETTINGS_H
#define DNSGUARD_DNS_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"

#define DNS_SERVERS_MAX 8

enum dns_mode {
	DNS_MODE_RESOLV_CONF,	/* forward to the servers in /etc/resolv.conf */
	DNS_MODE_FORWARD,	/* forward to the configured servers */
	DNS_MODE_RECURSIVE,	/* full recursion from the root hints */
};

/* The three choices admins know from the field reports (shared/seeds 001). */
enum dns_transport {
	DNS_TRANSPORT_UDP_TCP,	/* UDP, then TCP when the answer is truncated */
	DNS_TRANSPORT_TCP,	/* TCP only */
	DNS_TRANSPORT_UDP,	/* UDP only */
};

struct dns_server {
	struct netaddr addr;
	unsigned port;
};

struct dns_settings {
	enum dns_mode mode;
	struct dns_server servers[DNS_SERVERS_MAX];
	size_t server_count;
	enum dns_transport transport;
};

const char *dns_mode_name(enum dns_mode mode);
const char *dns_transport_name(enum dns_transport transport);
bool dns_transport_from_name(const char *name, enum dns_transport *out);
/* "addr" or "addr@port" into buf, as written in dnsguard.conf. */
const char *dns_server_format(const struct dns_server *server, char *buf, size_t size);

#endif
