/*
 * probe_cache - why did a lookup fail?  The server probe (dns_probe.h), asked at most once per
 * server and question every few seconds.
 *
 * libunbound reports only SERVFAIL or silence; when a check fails that way, the decision's log
 * line and reply say what the configured servers themselves do with the question ("127.0.0.1
 * truncates over UDP and refuses TCP").  Probes are bounded (PROBE_CACHE_DEADLINE_MS per server,
 * at most PROBE_CACHE_SERVERS servers) and their findings are kept for PROBE_CACHE_TTL_MS, so a
 * failing server costs one probe per question every few seconds, not one per session, and a
 * server that answers nothing at all one probe in all.
 * Thread-safe.
 */
#ifndef DNSGUARD_PROBE_CACHE_H
#define DNSGUARD_PROBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_settings.h"

#define PROBE_CACHE_DEADLINE_MS 250
#define PROBE_CACHE_SERVERS 2
#define PROBE_CACHE_TTL_MS 5000

/* One sentence per probed server, joined with "; ".  False (and buf empty) when there is nothing
 * to probe (recursion, no servers) or nothing was learnt. */
bool probe_cache_explain(const struct dns_settings *dns, const char *qname, uint16_t qtype, char *buf, size_t size);

#endif
