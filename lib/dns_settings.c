/*
 * dns_settings - names of the DNS modes and transports; see dns_settings.h.
 */
#include "dns_settings.h"

#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>

const char *dns_mode_name(enum dns_mode mode)
{
	switch (mode) {
	case DNS_MODE_RESOLV_CONF:
		return "resolv.conf";
	case DNS_MODE_FORWARD:
		return "forward";
	case DNS_MODE_RECURSIVE:
		return "recursive";
	}
	return "?";
}

const char *dns_transport_name(enum dns_transport transport)
{
	switch (transport) {
	case DNS_TRANSPORT_UDP_TCP:
		return "udp-tcp";
	case DNS_TRANSPORT_TCP:
		return "tcp";
	case DNS_TRANSPORT_UDP:
		return "udp";
	}
	return "?";
}

bool dns_transport_from_name(const char *name, enum dns_transport *out)
{
	static const enum dns_transport all[] = {DNS_TRANSPORT_UDP_TCP, DNS_TRANSPORT_TCP, DNS_TRANSPORT_UDP};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(name, dns_transport_name(all[i])) == 0) {
			*out = all[i];
			return true;
		}
	return false;
}

const char *dns_builtin_zones_name(enum dns_builtin_zones zones)
{
	switch (zones) {
	case DNS_BUILTIN_ZONES_AUTO:
		return "auto";
	case DNS_BUILTIN_ZONES_SERVERS:
		return "servers";
	case DNS_BUILTIN_ZONES_LOCAL:
		return "local";
	}
	return "?";
}

bool dns_builtin_zones_from_name(const char *name, enum dns_builtin_zones *out)
{
	static const enum dns_builtin_zones all[] = {DNS_BUILTIN_ZONES_AUTO, DNS_BUILTIN_ZONES_SERVERS,
						     DNS_BUILTIN_ZONES_LOCAL};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(name, dns_builtin_zones_name(all[i])) == 0) {
			*out = all[i];
			return true;
		}
	return false;
}

bool dns_builtin_zones_forwarded(const struct dns_settings *s)
{
	if (s->builtin_zones == DNS_BUILTIN_ZONES_AUTO)
		return s->mode != DNS_MODE_RECURSIVE;
	return s->builtin_zones == DNS_BUILTIN_ZONES_SERVERS;
}

const char *dns_server_format(const struct dns_server *server, char *buf, size_t size)
{
	char addr[64];

	netaddr_format(&server->addr, addr, sizeof(addr));
	if (server->port == 53)
		snprintf(buf, size, "%s", addr);
	else
		snprintf(buf, size, "%s@%u", addr, server->port);
	return buf;
}

int dns_resolv_conf_servers(const char *path, struct dns_server *out, size_t max, char *err, size_t errlen)
{
	ldns_resolver *res = NULL;
	ldns_status status = ldns_resolver_new_frm_file(&res, path);
	ldns_rdf **ns;
	size_t n = 0;

	if (status != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s", ldns_get_errorstr_by_id(status));
		return -1;
	}
	ns = ldns_resolver_nameservers(res);
	for (size_t i = 0; i < ldns_resolver_nameserver_count(res) && n < max; i++) {
		struct dns_server *s = &out[n];
		size_t size = ldns_rdf_size(ns[i]);
		memset(s, 0, sizeof(*s));
		if (ldns_rdf_get_type(ns[i]) == LDNS_RDF_TYPE_A && size == 4)
			s->addr.family = AF_INET;
		else if (ldns_rdf_get_type(ns[i]) == LDNS_RDF_TYPE_AAAA && size == 16)
			s->addr.family = AF_INET6;
		else
			continue;
		memcpy(s->addr.bytes, ldns_rdf_data(ns[i]), size);
		s->port = ldns_resolver_port(res);
		n++;
	}
	ldns_resolver_deep_free(res);
	return (int)n;
}
