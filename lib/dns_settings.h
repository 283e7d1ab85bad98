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

/*
 * libunbound answers some zones itself (test., 127.in-addr.arpa., the private reverse zones of
 * RFC 6303, ...) without asking any server.  Right for a recursive resolver; wrong for a site
 * whose forwarders serve internal zones of those names.
 */
enum dns_builtin_zones {
	DNS_BUILTIN_ZONES_AUTO,		/* ask the servers when forwarding, answer locally when recursing */
	DNS_BUILTIN_ZONES_SERVERS,	/* always ask the servers */
	DNS_BUILTIN_ZONES_LOCAL,	/* always libunbound's built-in answers */
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
	enum dns_builtin_zones builtin_zones;
};

const char *dns_mode_name(enum dns_mode mode);
const char *dns_transport_name(enum dns_transport transport);
bool dns_transport_from_name(const char *name, enum dns_transport *out);
const char *dns_builtin_zones_name(enum dns_builtin_zones zones);
bool dns_builtin_zones_from_name(const char *name, enum dns_builtin_zones *out);
/* Whether libunbound's built-in zones are to be made transparent (forwarded) under settings s. */
bool dns_builtin_zones_forwarded(const struct dns_settings *s);
/*
 * The nameservers of a resolv.conf as libunbound reads them (ub_ctx_resolvconf), read with ldns:
 * at most `max` into out, others (and names ldns cannot use) left out.  The count (0 when the
 * file names none), or -1 with ldns's reason in err when it cannot be read.
 */
int dns_resolv_conf_servers(const char *path, struct dns_server *out, size_t max, char *err, size_t errlen);

/* "addr" or "addr@port" into buf, as written in dnsguard.conf. */
const char *dns_server_format(const struct dns_server *server, char *buf, size_t size);

#endif
