/*
 * metrics_server - the metrics and health endpoint: a tiny HTTP/1.x responder on a listener.
 *
 * It answers exactly two requests: `GET /metrics` (200, the exposition of metrics.h, content
 * type text/plain; version=0.0.4) and `GET /health` (200 "ok", or 503 and the reason, from
 * metrics_health).  Any other path is 404, any other method 405, anything that is not an HTTP/1.0
 * or 1.1 request head 400; a head over METRICS_SERVER_HEAD_MAX bytes is 431 and one not complete
 * within METRICS_SERVER_TIMEOUT_MS is 408.  One request per connection, answered with
 * `Connection: close`; a query string is ignored.  Request bodies are never read.
 *
 * What to report is gathered by the caller's function at each request, on the connection's
 * thread (listener.h: one per connection, at most METRICS_SERVER_CONNECTIONS), so a scrape never
 * runs on a mail callback's time and a slow client holds only its own thread.  Bad requests are
 * logged at debug, never with a byte the client sent.
 */
#ifndef DNSGUARD_METRICS_SERVER_H
#define DNSGUARD_METRICS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "metrics.h"

#define METRICS_SERVER_HEAD_MAX 4096
#define METRICS_SERVER_TIMEOUT_MS 5000
#define METRICS_SERVER_CONNECTIONS 16

/* What a request head asks for, and the status it gets. */
enum metrics_request {
	METRICS_REQUEST_METRICS,	/* 200 */
	METRICS_REQUEST_HEALTH,		/* 200 or 503 */
	METRICS_REQUEST_NOT_FOUND,	/* 404 */
	METRICS_REQUEST_BAD_METHOD,	/* 405 */
	METRICS_REQUEST_BAD,		/* 400 */
};

/* Reads a whole request head (the request line up to the blank line, CRLF or LF line ends).
 * Pure: for tests. */
enum metrics_request metrics_request_parse(const char *head, size_t len);

/* Fills out with what lives outside metrics.h, at each request (must be thread-safe). */
typedef void metrics_gather_fn(void *arg, struct metrics_facts *out);

struct metrics_server;

/* Listens on spec (listener.h; mode for a unix socket) and serves.  NULL with a sentence in err. */
struct metrics_server *metrics_server_start(const char *spec, unsigned mode, metrics_gather_fn *gather, void *arg,
					    char *err, size_t errlen);
int metrics_server_chown(struct metrics_server *server, uid_t owner, gid_t group, char *err, size_t errlen);
unsigned metrics_server_port(const struct metrics_server *server);
/* Stops serving, removes a unix socket it made, frees.  NULL is ignored. */
void metrics_server_stop(struct metrics_server *server);

#endif
