/*
 * route_service - socketmap lookups answered from the current generation; see route_service.h.
 */
#include "route_service.h"

#include <stdatomic.h>
#include <stdio.h>

#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "runtime.h"
#include "socketmap.h"

static struct socketmap_server *server;
/* set once the routes are kept (after the socket is open): connection threads read it */
static _Atomic(struct route_hosts *) hosts;
static unsigned first_wait_ms;

/* On the route thread: the name's addresses through the current generation's resolver. */
static void resolve(void *arg, const char *name, struct host_addresses *out)
{
	struct runtime *rt = runtime_acquire();

	(void)arg;
	host_lookup(rt ? rt->resolver : NULL, name, rt ? rt->config->dns_deadline_ms : 0, out);
	runtime_release(rt);
}

/* On a connection's thread: one request. */
static void answer(void *arg, const char *map, const char *key, struct strbuf *reply)
{
	struct runtime *rt = runtime_acquire();
	struct route_hosts *h = atomic_load(&hosts);
	struct route_answer_info info;

	(void)arg;
	if (!h) {
		strbuf_append(reply, "TEMP dnsguard is starting");
		metrics_count_route(METRICS_ROUTE_TEMP, false);
	} else {
		route_answer(h, rt ? rt->policy : NULL, map, key, first_wait_ms, reply, &info);
		metrics_count_route(metrics_route_answer_of(strbuf_text(reply)), info.stale);
		if (log_enabled(LOG_LEVEL_DEBUG)) {
			char storage[1024];
			struct strbuf line;
			strbuf_init(&line, storage, sizeof(storage));
			strbuf_append(&line, "route lookup");
			strbuf_append_kv(&line, "map", map);
			strbuf_append_kv(&line, "key", key);
			if (info.route)
				strbuf_append_kv(&line, "route", info.route);
			if (info.stale)
				strbuf_append(&line, " stale=yes");
			strbuf_append_kv(&line, "answer", strbuf_text(reply));
			log_debug("%s", strbuf_text(&line));
		}
	}
	runtime_release(rt);
}

bool route_service_open(const struct config *config, uid_t uid, gid_t gid, struct strbuf *errors)
{
	struct socketmap_limits limits = SOCKETMAP_LIMITS_DEFAULT;
	char err[512];

	if (!config->route_socket || !*config->route_socket)
		return true;
	first_wait_ms = config->route_wait_ms;
	server = socketmap_start(config->route_socket, config->route_socket_mode, &limits, answer, NULL, err,
				 sizeof(err));
	if (!server) {
		strbuf_appendf(errors, "route_socket %s: %s\n", config->route_socket, err);
		return false;
	}
	if (socketmap_chown(server, uid, gid, err, sizeof(err)) != 0) {
		strbuf_appendf(errors, "route_socket %s: %s\n", config->route_socket, err);
		return false;
	}
	return true;
}

bool route_service_start(const struct config *config, struct strbuf *errors)
{
	char err[512];
	struct route_hosts *h;

	if (!server)
		return true;
	h = route_hosts_start(config->route_state_file, resolve, NULL, err, sizeof(err));
	if (!h) {
		strbuf_appendf(errors, "route_state_file: %s\n", err);
		return false;
	}
	atomic_store(&hosts, h);
	route_service_reloaded();
	return true;
}

void route_service_reloaded(void)
{
	struct route_hosts *h = atomic_load(&hosts);
	struct runtime *rt;

	if (!h)
		return;
	rt = runtime_acquire();
	if (rt)
		route_hosts_want(h, rt->policy);
	runtime_release(rt);
}

void route_service_stop(void)
{
	/* the connections first: they read `hosts` */
	socketmap_stop(server);
	server = NULL;
	route_hosts_stop(atomic_exchange(&hosts, NULL));
}
