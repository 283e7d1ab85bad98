/*
 * socketmap - the socketmap protocol server; see socketmap.h for what it promises.
 *
 * The socket, its threads, the cap and the stop are the listener's (listener.h).  Each
 * connection's thread reads into one buffer of netstring_size(max_request) bytes (a whole request
 * always fits, and the decoder refuses a longer one from its digits), answers every complete
 * request in order, and polls for more with the idle or I/O deadline.
 *
 * It does not: answer anything itself, reload, or log a byte a client sent.
 */
#include "socketmap.h"

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
#include "netstring.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

struct socketmap_server {
	struct listener *listener;
	struct socketmap_limits limits;
	socketmap_answer_fn *answer;
	void *arg;
};

/* ---- one connection -------------------------------------------------------------------------- */

/* Ends a connection whose client broke the protocol: the PERM reply, then a gentle close. */
static void refuse_request(struct listener_conn *conn, const struct socketmap_server *server, const char *why,
			   const char *reply)
{
	char out[128];
	struct strbuf sb;

	log_debug("%s: %s: protocol error: %s: replied PERM and closed", listener_describe(conn), listener_peer(conn),
		  why);
	strbuf_init(&sb, out, sizeof(out));
	netstring_append(&sb, reply, strlen(reply));
	if (listener_send(conn, strbuf_text(&sb), strbuf_len(&sb), server->limits.io_timeout_ms))
		listener_linger(conn);
}

/*
 * Answers one request, data[0, len), followed in the buffer by its comma (overwritten here).
 * False when the connection must close.
 */
static bool answer_request(struct listener_conn *conn, struct socketmap_server *server, char *data, size_t len, struct strbuf *reply, struct strbuf *out)
{
	char *space = memchr(data, ' ', len);

	if (memchr(data, '\0', len)) {
		refuse_request(conn, server, "NUL byte in the request", "PERM malformed request: NUL byte");
		return false;
	}
	if (!space || space == data) {
		refuse_request(conn, server, "no map name", "PERM malformed request: expected <mapname> <key>");
		return false;
	}
	*space = '\0';
	data[len] = '\0';
	strbuf_reset(reply);
	server->answer(server->arg, data, space + 1, reply);
	const char *text = strbuf_text(reply);
	if (strbuf_truncated(reply)) {
		char line[256];
		struct strbuf sb;
		strbuf_init(&sb, line, sizeof(line));
		strbuf_append_kv(&sb, "map", data);
		log_warning("%s: reply over %d bytes replaced by PERM:%s", listener_describe(conn), SOCKETMAP_REPLY_MAX,
			    strbuf_text(&sb));
		text = "PERM reply too long";
	} else if (strbuf_len(reply) == 0) {
		text = "TEMP no answer";
	}
	strbuf_reset(out);
	netstring_append(out, text, strlen(text));
	return listener_send(conn, strbuf_text(out), strbuf_len(out), server->limits.io_timeout_ms);
}

static void serve(void *arg, struct listener_conn *conn)
{
	struct socketmap_server *server = arg;
	const struct socketmap_limits *limits = &server->limits;
	size_t cap = netstring_size(limits->max_request), have = 0;
	char *buf = malloc(cap + 1);
	struct strbuf reply, out;
	struct timespec request_deadline = {0};

	strbuf_init_heap(&reply, SOCKETMAP_REPLY_MAX);
	strbuf_init_heap(&out, netstring_size(SOCKETMAP_REPLY_MAX));
	if (!buf) {
		log_warning("%s: %s: closed: out of memory", listener_describe(conn), listener_peer(conn));
		goto done;
	}
	for (;;) {
		size_t start = 0;

		/* every complete request already here, in order */
		while (start < have) {
			struct netstring_frame frame;
			enum netstring_error error;
			enum netstring_status status =
				netstring_decode(buf + start, have - start, limits->max_request, &frame, &error);
			if (status == NETSTRING_NEED_MORE)
				break;
			if (status == NETSTRING_ERROR) {
				refuse_request(conn, server, netstring_error_text(error),
					       error == NETSTRING_TOO_LONG ? "PERM request too long"
									   : "PERM malformed request: not a netstring");
				goto done;
			}
			if (listener_stopping(conn))
				goto done;
			if (!answer_request(conn, server, buf + start + frame.offset, frame.length, &reply, &out))
				goto done;
			start += frame.consumed;
			/* a pipelined request that has begun has its own I/O deadline from now */
			request_deadline = monotonic_after(monotonic_now(), limits->io_timeout_ms);
		}
		memmove(buf, buf + start, have - start);
		have -= start;

		bool idle = have == 0;
		struct timespec deadline =
			idle ? monotonic_after(monotonic_now(), limits->idle_timeout_ms) : request_deadline;
		switch (listener_wait(conn, POLLIN, deadline, true)) {
		case LISTENER_READY:
			break;
		case LISTENER_TIMEOUT:
			if (idle)
				log_debug("%s: %s: closed after %u ms idle", listener_describe(conn), listener_peer(conn),
					  limits->idle_timeout_ms);
			else
				log_debug("%s: %s: closed: request not complete within %u ms",
					  listener_describe(conn), listener_peer(conn), limits->io_timeout_ms);
			goto done;
		case LISTENER_STOP:
			goto done;
		}
		ssize_t n = recv(listener_fd(conn), buf + have, cap - have, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			goto done;
		}
		if (n == 0) {
			if (have > 0)
				refuse_request(conn, server, "end of input inside a request", "PERM truncated request");
			goto done;
		}
		if (idle)
			request_deadline = monotonic_after(monotonic_now(), limits->io_timeout_ms);
		have += (size_t)n;
		/* cannot happen: the decoder refuses any request that would not fit */
		if (have == cap && netstring_decode(buf, have, limits->max_request, &(struct netstring_frame){0},
						    &(enum netstring_error){0}) == NETSTRING_NEED_MORE) {
			refuse_request(conn, server, "request does not fit the buffer", "PERM request too long");
			goto done;
		}
	}
done:
	strbuf_free(&reply);
	strbuf_free(&out);
	free(buf);
}

/* ---- start and stop -------------------------------------------------------------------------- */

struct socketmap_server *socketmap_start(const char *spec, unsigned mode, const struct socketmap_limits *limits,
					 socketmap_answer_fn *answer, void *arg, char *err, size_t errlen)
{
	static const struct socketmap_limits defaults = SOCKETMAP_LIMITS_DEFAULT;
	struct socketmap_server *server;

	if (!limits)
		limits = &defaults;
	if (limits->max_request == 0 || limits->max_request > 1000000 || limits->max_connections == 0 ||
	    limits->idle_timeout_ms == 0 || limits->io_timeout_ms == 0) {
		snprintf(err, errlen, "%s: limits out of range (request 1..1000000 bytes, connections and timeouts above 0)",
			 spec);
		return NULL;
	}
	if (!answer) {
		snprintf(err, errlen, "%s: no answer callback", spec);
		return NULL;
	}
	server = calloc(1, sizeof(*server));
	if (!server) {
		snprintf(err, errlen, "%s: out of memory", spec);
		return NULL;
	}
	server->limits = *limits;
	server->answer = answer;
	server->arg = arg;
	server->listener = listener_start("socketmap", spec, mode, limits->max_connections, serve, server, err, errlen);
	if (!server->listener) {
		free(server);
		return NULL;
	}
	return server;
}

int socketmap_chown(struct socketmap_server *server, uid_t owner, gid_t group, char *err, size_t errlen)
{
	return listener_chown(server->listener, owner, group, err, errlen);
}

unsigned socketmap_port(const struct socketmap_server *server)
{
	return listener_port(server->listener);
}

void socketmap_stop(struct socketmap_server *server)
{
	if (!server)
		return;
	listener_stop(server->listener);
	free(server);
}
