/*
 * listener - a stream socket served by one thread per connection, under a cap, with deadlines:
 * what the socketmap route service and the metrics endpoint share, whatever they speak.
 *
 * Threads.  One thread accepts; each accepted connection gets a thread of its own that runs the
 * caller's serve function with blocking I/O under poll() deadlines (listener_wait,
 * listener_send).  A slow client or a callback that blocks for a bounded time costs only its own
 * connection: no event loop stalls.  Beyond max_connections a new connection is accepted and
 * closed at once (the client sees a closed connection rather than a hang).  Threads take no
 * signals.
 *
 * Sockets: `unix:/path` (or `local:/path`), `inet:PORT@ADDR`, `inet6:PORT@ADDR` (ADDR numeric;
 * brackets allowed for IPv6; no ADDR: every address), as milter_socket is written.  A unix socket
 * appears at its path already with `mode` (it is made in a private directory and renamed into
 * place); a stale socket there is replaced, a socket that still answers or anything else that is
 * not a socket is left alone and start fails.  TCP connections have TCP_NODELAY (DECISIONS 18).
 *
 * Logging (log.h), quiet, each line led by the listener's name and spec: the cap reached and
 * left (warning, then notice, once per burst), accept failing (warning, once per burst), a reply
 * not taken in time at debug.  Nothing a client sent is logged.  Errors are returned.
 */
#ifndef DNSGUARD_LISTENER_H
#define DNSGUARD_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

struct listener;
struct listener_conn;

/* Serves one connection, on its own thread, until it returns; the listener closes the socket. */
typedef void listener_serve_fn(void *arg, struct listener_conn *conn);

/*
 * Listens on `spec` and serves until listener_stop.  `name` leads its log lines ("socketmap",
 * "metrics"; kept, not copied); `mode` is a unix socket's mode (ignored for inet).  NULL with a
 * sentence in err on failure (a bad spec, a path in use, bind refused, ...).
 */
struct listener *listener_start(const char *name, const char *spec, unsigned mode, unsigned max_connections,
				listener_serve_fn *serve, void *arg, char *err, size_t errlen);

/*
 * Gives a unix socket this owner and group (as lchown: -1 leaves one as it is).  The socket
 * appeared with its mode and the starting user as owner, so until this call it is only
 * narrower.  0, or -1 with a sentence in err.
 */
int listener_chown(struct listener *l, uid_t owner, gid_t group, char *err, size_t errlen);

/* The path of a unix:/path or local:/path spec; NULL for any other. */
const char *listener_unix_path(const char *spec);

/* The address `spec` names, for a client that connects to it (a unix socket's path, or a numeric
 * address; inet: and inet6: without ADDR name the loopback address).  False with a sentence in err. */
bool listener_address(const char *spec, struct sockaddr_storage *sa, socklen_t *salen, char *err, size_t errlen);

/* The port an inet socket listens on (useful with port 0), 0 for a unix socket. */
unsigned listener_port(const struct listener *l);

/*
 * Stops accepting, closes the listener, ends every connection (each sees LISTENER_STOP in its
 * next wait) and joins its thread, and removes the unix socket it made (only if that path is
 * still the very socket it made).  A reply being sent gets a grace of one second.  NULL is ignored.
 */
void listener_stop(struct listener *l);

/* ---- for serve functions --------------------------------------------------------------------- */

int listener_fd(const struct listener_conn *conn);
/* "conn=7 client=127.0.0.1:40022" (no client for a unix socket), for log lines. */
const char *listener_peer(const struct listener_conn *conn);
/* "name spec", for log lines: "socketmap unix:/run/dnsguard/route.sock". */
const char *listener_describe(const struct listener_conn *conn);
/* Whether stop has begun. */
bool listener_stopping(const struct listener_conn *conn);

enum listener_wait { LISTENER_READY, LISTENER_TIMEOUT, LISTENER_STOP };
/* Polls the connection for `events` until the deadline (monotonic.h); with `stoppable`, a stop
 * ends the wait. */
enum listener_wait listener_wait(struct listener_conn *conn, short events, struct timespec deadline, bool stoppable);

/* Sends all of data within timeout_ms, or within a grace of a second once stop has begun.  False
 * when the client did not take it (the connection must end). */
bool listener_send(struct listener_conn *conn, const void *data, size_t len, unsigned timeout_ms);

/*
 * Ends a connection whose last reply has been sent: shuts our side and reads and drops what the
 * client still sends, for a moment.  Closing with unread bytes would make the kernel send RST, and
 * a client that gets RST may lose the reply before it reads it.
 */
void listener_linger(struct listener_conn *conn);

#endif
