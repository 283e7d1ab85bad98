/*
 * metrics_service - the daemon's metrics and health endpoint (metrics_socket): what
 * lib/metrics_server answers, gathered from the running daemon at each request.
 *
 * The counters live in lib/metrics.h for the process's life; what this adds at scrape time is
 * what belongs to others: whether sessions are taken (callbacks.h), and from the current
 * generation (pinned for the request, as a session pins it) the server probe's state per server
 * and the badmail store's usage.  It runs on its own threads and never touches a mail callback.
 */
#ifndef DNSGUARD_METRICS_SERVICE_H
#define DNSGUARD_METRICS_SERVICE_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "strbuf.h"

/* Opens metrics_socket and serves (as root, before privileges are dropped: a unix socket is then
 * given to uid/gid).  Nothing to do when metrics_socket is empty.  False with a line in errors. */
bool metrics_service_open(const struct config *config, uid_t uid, gid_t gid, struct strbuf *errors);
/* Stops answering and frees. */
void metrics_service_stop(void);

#endif
