/*
 * metrics_server - the HTTP responder of the metrics endpoint; see metrics_server.h.
 *
 * Each connection reads at most one request head into a buffer of METRICS_SERVER_HEAD_MAX bytes
 * under one deadline, answers it, and closes gently (listener_linger), so the client reads the
 * whole answer before the connection ends.  The head is checked byte by byte and never copied
 * anywhere else: only the status it earned reaches the log.
 *
 * It does not: keep connections alive, read bodies, follow any other path, or render anything
 * itself (metrics.h does).
 */
#include "metrics_server.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "listener.h"
#include "log.h"
#include "monotonic.h"
#include "strbuf.h"

struct metrics_server {
	struct listener *listener;
	metrics_gather_fn *gather;
	void *arg;
};

/* ---- the request ----------------------------------------------------------------------------- */

/* The length of the line at p (without its LF and a CR before it); *next: after the LF. */
static size_t line_at(const char *p, const char *end, const char **next)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	size_t len;

	if (!lf) {
		*next = end;
		return (size_t)(end - p);
	}
	*next = lf + 1;
	len = (size_t)(lf - p);
	return len > 0 && p[len - 1] == '\r' ? len - 1 : len;
}

static bool visible(char c)
{
	return c > 0x20 && c < 0x7f;
}

/* A header field line: a name of visible characters, ':', then visible characters, spaces or tabs. */
static bool field_line(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && visible(p[i]) && p[i] != ':')
		i++;
	if (i == 0 || i == len || p[i] != ':')
		return false;
	for (i++; i < len; i++)
		if (!visible(p[i]) && p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

enum metrics_request metrics_request_parse(const char *head, size_t len)
{
	const char *end = head + len, *next, *p;
	size_t line = line_at(head, end, &next), method = 0, target;

	if (len == 0 || memchr(head, '\0', len) || next == end)
		return METRICS_REQUEST_BAD;
	/* METHOD SP request-target SP HTTP/1.x */
	while (method < line && head[method] >= 'A' && head[method] <= 'Z')
		method++;
	if (method == 0 || method > 16 || method >= line || head[method] != ' ')
		return METRICS_REQUEST_BAD;
	p = head + method + 1;
	for (target = 0; p + target < head + line && visible(p[target]); target++)
		;
	if (target == 0 || p + target >= head + line || p[target] != ' ')
		return METRICS_REQUEST_BAD;
	const char *version = p + target + 1;
	size_t version_len = (size_t)(head + line - version);
	if (version_len != 8 || (memcmp(version, "HTTP/1.0", 8) != 0 && memcmp(version, "HTTP/1.1", 8) != 0))
		return METRICS_REQUEST_BAD;
	/* header fields, then the empty line that ends the head, and nothing after it */
	for (;;) {
		const char *field = next;
		size_t n = line_at(field, end, &next);
		if (n == 0 && next == end && field < end)
			break;
		if (n == 0 || next == end || !field_line(field, n))
			return METRICS_REQUEST_BAD;
	}
	if (method != 3 || memcmp(head, "GET", 3) != 0)
		return METRICS_REQUEST_BAD_METHOD;
	size_t path = strcspn(p, "? ");
	if (path > target)
		path = target;
	if (path == 8 && memcmp(p, "/metrics", 8) == 0)
		return METRICS_REQUEST_METRICS;
	if (path == 7 && memcmp(p, "/health", 7) == 0)
		return METRICS_REQUEST_HEALTH;
	return METRICS_REQUEST_NOT_FOUND;
}

/* ---- the answer ------------------------------------------------------------------------------ */

static void respond(struct listener_conn *conn, unsigned status, const char *reason, const char *type,
		    const char *body, size_t body_len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
			 "%sConnection: close\r\n\r\n",
			 status, reason, type, body_len, status == 405 ? "Allow: GET\r\n" : "");

	if (n > 0 && (size_t)n < sizeof(head) && listener_send(conn, head, (size_t)n, METRICS_SERVER_TIMEOUT_MS) &&
	    (body_len == 0 || listener_send(conn, body, body_len, METRICS_SERVER_TIMEOUT_MS)))
		listener_linger(conn);
	if (status >= 400 && status != 404)
		log_debug("%s: %s: answered %u %s", listener_describe(conn), listener_peer(conn), status, reason);
}

static void respond_text(struct listener_conn *conn, unsigned status, const char *reason, const char *text)
{
	respond(conn, status, reason, "text/plain; charset=utf-8", text, strlen(text));
}

static void answer(struct metrics_server *server, struct listener_conn *conn, enum metrics_request request)
{
	struct metrics_facts facts;
	char reason[256], body[300];
	struct strbuf text;

	switch (request) {
	case METRICS_REQUEST_METRICS:
		memset(&facts, 0, sizeof(facts));
		server->gather(server->arg, &facts);
		strbuf_init_heap(&text, METRICS_TEXT_MAX);
		metrics_render(&facts, &text);
		if (strbuf_truncated(&text))
			log_warning("%s: the exposition was cut at %d bytes", listener_describe(conn), METRICS_TEXT_MAX);
		respond(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", strbuf_text(&text),
			strbuf_len(&text));
		strbuf_free(&text);
		return;
	case METRICS_REQUEST_HEALTH: {
		memset(&facts, 0, sizeof(facts));
		server->gather(server->arg, &facts);
		bool ok = metrics_health(&facts, reason, sizeof(reason));
		snprintf(body, sizeof(body), "%s\n", reason);
		respond_text(conn, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", body);
		return;
	}
	case METRICS_REQUEST_NOT_FOUND:
		respond_text(conn, 404, "Not Found", "not found: ask for /metrics or /health\n");
		return;
	case METRICS_REQUEST_BAD_METHOD:
		respond_text(conn, 405, "Method Not Allowed", "only GET\n");
		return;
	case METRICS_REQUEST_BAD:
		respond_text(conn, 400, "Bad Request", "bad request\n");
		return;
	}
}

/* Where the head ends (after its empty line) in buf[0, len), or 0 if it has not ended yet. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 1; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

static void serve(void *arg, struct listener_conn *conn)
{
	struct metrics_server *server = arg;
	struct timespec deadline = monotonic_after(monotonic_now(), METRICS_SERVER_TIMEOUT_MS);
	char buf[METRICS_SERVER_HEAD_MAX];
	size_t have = 0, end = 0;

	while (!end) {
		if (have == sizeof(buf)) {
			respond_text(conn, 431, "Request Header Fields Too Large", "request head too large\n");
			return;
		}
		switch (listener_wait(conn, POLLIN, deadline, true)) {
		case LISTENER_READY:
			break;
		case LISTENER_TIMEOUT:
			respond_text(conn, 408, "Request Timeout", "request not complete in time\n");
			return;
		case LISTENER_STOP:
			return;
		}
		ssize_t n = recv(listener_fd(conn), buf + have, sizeof(buf) - have, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			if (have > 0)
				log_debug("%s: %s: closed inside a request head", listener_describe(conn), listener_peer(conn));
			return;
		}
		/* the end may straddle reads: search again from a little before the new bytes */
		size_t from = have > 3 ? have - 3 : 0;
		have += (size_t)n;
		end = head_end(buf + from, have - from);
		if (end)
			end += from;
	}
	answer(server, conn, metrics_request_parse(buf, end));
}

/* ---- start and stop -------------------------------------------------------------------------- */

struct metrics_server *metrics_server_start(const char *spec, unsigned mode, metrics_gather_fn *gather, void *arg,
					    char *err, size_t errlen)
{
	struct metrics_server *server = calloc(1, sizeof(*server));

	if (!server) {
		snprintf(err, errlen, "%s: out of memory", spec);
		return NULL;
	}
	server->gather = gather;
	server->arg = arg;
	server->listener = listener_start("metrics", spec, mode, METRICS_SERVER_CONNECTIONS, serve, server, err, errlen);
	if (!server->listener) {
		free(server);
		return NULL;
	}
	return server;
}

int metrics_server_chown(struct metrics_server *server, uid_t owner, gid_t group, char *err, size_t errlen)
{
	return listener_chown(server->listener, owner, group, err, errlen);
}

unsigned metrics_server_port(const struct metrics_server *server)
{
	return listener_port(server->listener);
}

void metrics_server_stop(struct metrics_server *server)
{
	if (!server)
		return;
	listener_stop(server->listener);
	free(server);
}
