/*
 * metrics_service - the metrics endpoint fed from the running daemon; see metrics_service.h.
 */
#include "metrics_service.h"

#include <stdio.h>

#include "badmail_store.h"
#include "callbacks.h"
#include "metrics_server.h"
#include "probe_cache.h"
#include "runtime.h"

static struct metrics_server *server;

/* On a connection's thread: what lives outside lib/metrics, now. */
static void gather(void *arg, struct metrics_facts *out)
{
	struct runtime *rt = runtime_acquire();
	char err[256];

	(void)arg;
	out->accepting = callbacks_accepting();
	if (!rt)
		return;
	out->generation = rt->generation;
	out->dns_window_ms = rt->config->health_dns_window_ms;
	if (rt->probes) {
		struct probe_cache_stats stats;
		probe_cache_stats(rt->probes, &stats);
		out->probes_known = true;
		out->probes = stats.probes;
		out->probes_dropped = stats.dropped;
		out->server_count = probe_cache_servers(rt->probes, out->servers, METRICS_SERVERS_MAX);
	}
	if (rt->badmail) {
		struct badmail_usage usage;
		if (badmail_store_usage(rt->badmail, &usage, err, sizeof(err)) == 0) {
			out->badmail_known = true;
			out->badmail_entries = usage.entries;
			out->badmail_bytes = usage.bytes;
		}
	}
	runtime_release(rt);
}

bool metrics_service_open(const struct config *config, uid_t uid, gid_t gid, struct strbuf *errors)
{
	char err[512];

	if (!config->metrics_socket || !*config->metrics_socket)
		return true;
	server = metrics_server_start(config->metrics_socket, config->metrics_socket_mode, gather, NULL, err, sizeof(err));
	if (!server) {
		strbuf_appendf(errors, "metrics_socket %s: %s\n", config->metrics_socket, err);
		return false;
	}
	if (metrics_server_chown(server, uid, gid, err, sizeof(err)) != 0) {
		strbuf_appendf(errors, "metrics_socket %s: %s\n", config->metrics_socket, err);
		return false;
	}
	return true;
}

void metrics_service_stop(void)
{
	metrics_server_stop(server);
	server = NULL;
}
