/*
 * socketmap - a server for the socketmap protocol, generic over what it answers.
 *
 * Speaks the protocol of Sendmail's socket maps and Postfix's socketmap_table(5): requests
 * `<mapname> <key>` and replies `OK <value>`, `NOTFOUND `, `TEMP <reason>`, `TIMEOUT <reason>`
 * or `PERM <reason>`, each a netstring, on persistent connections that may pipeline requests;
 * replies go out in the order of the requests.  What to answer is the caller's: a callback gets
 * the map name and the key and writes the whole reply text.
 *
 * Threads.  One thread per connection, with blocking reads and writes under poll() deadlines,
 * and a cap on connections; one more thread accepts (listener.h).  The callback may block for a bounded time
 * (a first DNS lookup), and a thread per connection makes that cost only its own client: no
 * event loop stalls, and no hand-off to a worker pool (a second queue, a second bound) is needed.
 * The MTAs keep few connections (Postfix shares one per endpoint per process), so the cap stays
 * small and threads are cheap at that count (each has a 1 MB stack).  The callback runs on the
 * connection threads, concurrently: it must be thread-safe (the daemon pins its configuration
 * generation inside it, so a reload needs nothing from this module).
 *
 * Bounds (struct socketmap_limits): a request's declared length over max_request gets
 * `PERM request too long` and the connection is closed, before its data is read; a malformed
 * netstring, a request with no space or an empty map name, or a NUL byte in it gets `PERM` and a
 * close; so does a request cut short by the client's EOF.  A connection idle (between requests)
 * past idle_timeout_ms, or a request or reply that does not move within io_timeout_ms, is closed.
 * Postfix closes idle connections after 10 s and gives up on I/O after 100 s, so the defaults
 * sit above both.  Beyond max_connections a new connection is accepted and closed at once (the
 * MTA retries, and sees a closed connection rather than a hang).  A reply over
 * SOCKETMAP_REPLY_MAX bytes (Postfix's limit) becomes `PERM reply too long`.
 *
 * Sockets: `unix:/path` (or `local:/path`), `inet:PORT@ADDR`, `inet6:PORT@ADDR` (ADDR numeric;
 * brackets allowed for IPv6; no ADDR: every address), as milter_socket is written.  A unix socket
 * appears at its path already with `mode` (it is made in a private directory and renamed into
 * place); a stale socket there is replaced, a socket that still answers or anything else that is
 * not a socket is left alone and start fails.  TCP connections have TCP_NODELAY (DECISIONS 18).
 *
 * Logging (log.h), quiet: the connection cap reached and left (warning, then notice, once per
 * burst), accept failing (out of descriptors: warning, once per burst), a callback's reply over
 * the limit (warning, with the map name escaped), a client's protocol error or timeout at debug.
 * No byte a client sent is logged raw.  Errors are returned.
 */
#ifndef DNSGUARD_SOCKETMAP_H
#define DNSGUARD_SOCKETMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

/* Postfix's client (dict_sockmap.c) refuses longer replies. */
#define SOCKETMAP_REPLY_MAX 100000

struct socketmap_limits {
	size_t max_request;	      /* bytes of one request, netstring framing not counted */
	unsigned max_connections;     /* open at once; more are accepted and closed at once */
	unsigned idle_timeout_ms;     /* between requests */
	unsigned io_timeout_ms;	      /* a request once begun, and each reply */
};

#define SOCKETMAP_LIMITS_DEFAULT                                                                           \
	{                                                                                                  \
		.max_request = 10000, .max_connections = 256, .idle_timeout_ms = 30000,                   \
		.io_timeout_ms = 110000,                                                                   \
	}

/*
 * Writes the whole reply for `key` in `map` into `reply` (at most SOCKETMAP_REPLY_MAX bytes, or
 * it is replaced by `PERM reply too long`; nothing at all is sent as `TEMP no answer`).  Called
 * on the connection's thread, for one request at a time per connection, concurrently across
 * connections; it may block, for a bounded time.  map is non-empty; neither holds a NUL.
 */
typedef void socketmap_answer_fn(void *arg, const char *map, const char *key, struct strbuf *reply);

struct socketmap_server;

/*
 * Listens on `spec` and serves until socketmap_stop.  `mode` is the unix socket's mode (ignored
 * for inet); `limits` NULL means SOCKETMAP_LIMITS_DEFAULT.  Returns NULL with a sentence in err
 * on failure (a bad spec, a path in use, bind refused, ...).
 */
struct socketmap_server *socketmap_start(const char *spec, unsigned mode, const struct socketmap_limits *limits,
					 socketmap_answer_fn *answer, void *arg, char *err, size_t errlen);

/*
 * Gives a unix socket this owner and group (as lchown: -1 leaves one as it is).  The socket
 * appeared with its mode and the starting user as owner, so until this call it is only
 * narrower.  0, or -1 with a sentence in err.
 */
int socketmap_chown(struct socketmap_server *server, uid_t owner, gid_t group, char *err, size_t errlen);

/* The port an inet socket listens on (useful with port 0), 0 for a unix socket. */
unsigned socketmap_port(const struct socketmap_server *server);

/*
 * Stops accepting, closes the listener, ends every connection and joins its thread, and removes
 * the unix socket it made (only if that path is still the very socket it made).  An answer in
 * progress finishes and its reply is sent with a grace of one second; idle and reading
 * connections end at once.  NULL is ignored.
 */
void socketmap_stop(struct socketmap_server *server);

#endif
