/*
 * listener - a socket served by a thread per connection; see listener.h for what it promises.
 *
 * An acceptor thread polls the listening socket and a stop pipe; each accepted connection gets a
 * thread that runs the serve function.  The stop pipe is written once and never drained, so every
 * poll in every thread sees it from then on.  A finished connection thread is joined by the
 * acceptor at its next accept, or by listener_stop, so at most max_connections finished threads
 * wait to be joined.
 *
 * It does not: speak any protocol, read a byte on the serve function's behalf, or log one.
 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "monotonic.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

enum {
	LISTEN_BACKLOG = 128,
	THREAD_STACK = 1024 * 1024,
	STOP_GRACE_MS = 1000,	     /* to send a reply that was in progress when stop began */
	CLOSE_DRAIN_MS = 1000,	     /* listener_linger */
	CLOSE_DRAIN_BYTES = 65536,
	ACCEPT_BACKOFF_MS = 100,     /* out of descriptors: do not spin on a readable listener */
};

struct listener_conn {
	struct listener *server;
	struct listener_conn *next;
	pthread_t thread;
	int fd;
	bool finished;	       /* under server->lock */
	unsigned long serial;
	char peer[INET6_ADDRSTRLEN + 40];
};

struct listener {
	char spec[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	char describe[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
	unsigned max_connections;
	listener_serve_fn *serve;
	void *arg;
	int listen_fd;
	int stop_pipe[2];
	atomic_bool stopping;
	pthread_t acceptor;
	bool tcp;
	unsigned port;
	/* the unix socket we made, to remove it and nothing else */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t path_dev;
	ino_t path_ino;

	pthread_mutex_t lock;
	struct listener_conn *connections;
	unsigned open;
	unsigned long serial;
	bool refusing;		/* at the cap: the warning is logged once per burst */
	unsigned long refused;
};

/* ---- the listening socket ------------------------------------------------------------------- */

const char *listener_unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/* inet:PORT[@ADDR] and inet6:PORT[@ADDR] with a numeric ADDR, into sa. */
static bool inet_address(const char *spec, struct sockaddr_storage *sa, socklen_t *salen, char *err, size_t errlen)
{
	bool six = strncmp(spec, "inet6:", 6) == 0;
	const char *port_text = spec + (six ? 6 : 5), *at = strchr(port_text, '@');
	char host[INET6_ADDRSTRLEN + 2] = "";
	char *end;
	unsigned long port;

	errno = 0;
	port = strtoul(port_text, &end, 10);
	if (port_text[0] < '0' || port_text[0] > '9' || errno || port > 65535 || end != (at ? at : port_text + strlen(port_text))) {
		snprintf(err, errlen, "%s: the port must be a number from 0 to 65535", spec);
		return false;
	}
	if (at) {
		const char *h = at + 1;
		size_t n = strlen(h);
		if (six && n >= 2 && h[0] == '[' && h[n - 1] == ']') {
			h++;
			n -= 2;
		}
		if (n == 0 || n >= sizeof(host)) {
			snprintf(err, errlen, "%s: the address after '@' must be a numeric %s address", spec,
				 six ? "IPv6" : "IPv4");
			return false;
		}
		memcpy(host, h, n);
		host[n] = '\0';
	}
	memset(sa, 0, sizeof(*sa));
	if (six) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_any;
		if (host[0] && inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			goto bad_host;
		*salen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		if (host[0] && inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad_host;
		*salen = sizeof(*s4);
	}
	return true;
bad_host:
	snprintf(err, errlen, "%s: the address after '@' must be a numeric %s address (no DNS at startup)", spec,
		 six ? "IPv6" : "IPv4");
	return false;
}

bool listener_address(const char *spec, struct sockaddr_storage *sa, socklen_t *salen, char *err, size_t errlen)
{
	const char *path = listener_unix_path(spec);

	if (path) {
		struct sockaddr_un *sun = (struct sockaddr_un *)sa;
		memset(sa, 0, sizeof(*sa));
		sun->sun_family = AF_UNIX;
		if (path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path)) {
			snprintf(err, errlen, "%s: the path must have 1 to %zu bytes", spec, sizeof(sun->sun_path) - 1);
			return false;
		}
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
		*salen = sizeof(*sun);
		return true;
	}
	if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0) {
		snprintf(err, errlen, "%s: not unix:/path, inet:PORT@ADDR or inet6:PORT@ADDR", spec);
		return false;
	}
	if (!inet_address(spec, sa, salen, err, errlen))
		return false;
	if (!strchr(spec, '@')) {
		/* listening on every address: a client reaches it on loopback */
		if (sa->ss_family == AF_INET6)
			((struct sockaddr_in6 *)sa)->sin6_addr = in6addr_loopback;
		else
			((struct sockaddr_in *)sa)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	return true;
}

static int listen_inet(struct listener *server, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd, one = 1;

	if (!inet_address(spec, &sa, &salen, err, errlen))
		return -1;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a socket: %s", spec, strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Linux gives accepted connections the listener's TCP_NODELAY; each connection sets it too */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: cannot listen: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	salen = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0)
		server->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
							      : ((struct sockaddr_in *)&sa)->sin_port);
	server->tcp = true;
	return fd;
}

/* Whether a unix socket at path is answered by a live process. */
static bool unix_socket_in_use(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool in_use;

	if (fd < 0)
		return false;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	in_use = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EAGAIN;
	close(fd);
	return in_use;
}

/*
 * The socket is bound in a fresh 0700 directory beside its path, given its mode there, and
 * renamed into place: it is never reachable with a wider mode (no process-wide umask change,
 * which other threads would feel), and a stale socket is replaced in one step.
 */
static int listen_unix(struct listener *server, const char *spec, const char *path, unsigned mode,
		       char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char dir[sizeof(sun.sun_path) + 16], tmp[sizeof(dir) + 4];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int fd;

	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: the path must have 1 to %zu bytes", spec, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket: not replacing it", spec);
			return -1;
		}
		if (unix_socket_in_use(path)) {
			snprintf(err, errlen, "%s: in use by another process", spec);
			return -1;
		}
	}
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s/.smXXXXXX", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".smXXXXXX");
	snprintf(tmp, sizeof(tmp), "%s/s", dir);
	if (strlen(tmp) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: the path is too long to create the socket safely (at most %zu bytes)", spec,
			 sizeof(sun.sun_path) - 1 - (strlen(tmp) - strlen(path)));
		return -1;
	}
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "%s: cannot create a directory beside it: %s", spec, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/s", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", tmp);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a socket: %s", spec, strerror(errno));
		rmdir(dir);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(tmp, mode & 0777) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0 || lstat(tmp, &st) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: cannot listen: %s", spec, strerror(errno));
		close(fd);
		unlink(tmp);
		rmdir(dir);
		return -1;
	}
	rmdir(dir);
	snprintf(server->path, sizeof(server->path), "%s", path);
	server->path_dev = st.st_dev;
	server->path_ino = st.st_ino;
	return fd;
}

/* Removes the socket we made, if the path still is that socket. */
static void remove_unix_socket(struct listener *server)
{
	struct stat st;

	if (!server->path[0])
		return;
	if (lstat(server->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == server->path_dev &&
	    st.st_ino == server->path_ino)
		unlink(server->path);
	server->path[0] = '\0';
}

/* ---- one connection -------------------------------------------------------------------------- */

static int ms_until(struct timespec deadline)
{
	unsigned ms = monotonic_ms_between(monotonic_now(), deadline);
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Polls fd for `events` until the deadline; with `stoppable`, a stop ends the wait. */
enum listener_wait listener_wait(struct listener_conn *conn, short events, struct timespec deadline, bool stoppable)
{
	struct pollfd fds[2] = {{.fd = conn->fd, .events = events},
				{.fd = conn->server->stop_pipe[0], .events = POLLIN}};

	for (;;) {
		int timeout = ms_until(deadline);
		int n = poll(fds, stoppable ? 2 : 1, timeout);
		if (n < 0 && errno != EINTR)
			return LISTENER_STOP;
		if (n > 0 && stoppable && fds[1].revents)
			return LISTENER_STOP;
		if (n > 0 && fds[0].revents)
			return LISTENER_READY;
		if (timeout == 0)
			return LISTENER_TIMEOUT;
	}
}

bool listener_send(struct listener_conn *conn, const void *bytes, size_t len, unsigned timeout_ms)
{
	struct listener *server = conn->server;
	struct timespec deadline = monotonic_after(monotonic_now(), timeout_ms);
	const char *data = bytes;
	bool graced = false;

	while (len > 0) {
		ssize_t n = send(conn->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return false;
		switch (listener_wait(conn, POLLOUT, deadline, !graced)) {
		case LISTENER_READY:
			break;
		case LISTENER_TIMEOUT:
			log_debug("%s: %s: closed: reply not taken within %u ms", server->describe, conn->peer,
				  timeout_ms);
			return false;
		case LISTENER_STOP: {
			struct timespec grace = monotonic_after(monotonic_now(), STOP_GRACE_MS);
			if (monotonic_before(grace, deadline))
				deadline = grace;
			graced = true;
			break;
		}
		}
	}
	return true;
}

/*
 * See listener.h.  Our side is shut first, so the client sees the end of the reply; what it
 * still sends is read and dropped, bounded in time and bytes.
 */
void listener_linger(struct listener_conn *conn)
{
	char sink[4096];
	size_t drained = 0;

	shutdown(conn->fd, SHUT_WR);
	struct timespec deadline = monotonic_after(monotonic_now(), CLOSE_DRAIN_MS);
	while (drained < CLOSE_DRAIN_BYTES && listener_wait(conn, POLLIN, deadline, true) == LISTENER_READY) {
		ssize_t n = recv(conn->fd, sink, sizeof(sink), 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
		if (n > 0)
			drained += (size_t)n;
	}
}

int listener_fd(const struct listener_conn *conn)
{
	return conn->fd;
}

const char *listener_peer(const struct listener_conn *conn)
{
	return conn->peer;
}

const char *listener_describe(const struct listener_conn *conn)
{
	return conn->server->describe;
}

bool listener_stopping(const struct listener_conn *conn)
{
	return atomic_load(&conn->server->stopping);
}

static void *connection_main(void *p)
{
	struct listener_conn *conn = p;
	struct listener *server = conn->server;
	unsigned long refused = 0;
	bool leaving_cap = false;

	server->serve(server->arg, conn);
	close(conn->fd);
	conn->fd = -1;
	pthread_mutex_lock(&server->lock);
	conn->finished = true;
	server->open--;
	if (server->refusing && server->open < server->max_connections) {
		leaving_cap = true;
		refused = server->refused;
		server->refusing = false;
		server->refused = 0;
	}
	pthread_mutex_unlock(&server->lock);
	if (leaving_cap)
		log_notice("%s: below max_connections (%u) again; refused %lu connections while at it",
			   server->describe, server->max_connections, refused);
	return NULL;
}

/* ---- accepting ------------------------------------------------------------------------------- */

/* Joins the connection threads that have finished. */
static void reap_finished(struct listener *server)
{
	struct listener_conn *done = NULL, **link;

	pthread_mutex_lock(&server->lock);
	for (link = &server->connections; *link;) {
		struct listener_conn *conn = *link;
		if (conn->finished) {
			*link = conn->next;
			conn->next = done;
			done = conn;
		} else {
			link = &conn->next;
		}
	}
	pthread_mutex_unlock(&server->lock);
	while (done) {
		struct listener_conn *next = done->next;
		pthread_join(done->thread, NULL);
		free(done);
		done = next;
	}
}

static void describe_peer(struct listener_conn *conn, const struct sockaddr_storage *ss)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		snprintf(conn->peer, sizeof(conn->peer), "conn=%lu client=%s:%u", conn->serial, addr, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		snprintf(conn->peer, sizeof(conn->peer), "conn=%lu client=[%s]:%u", conn->serial, addr,
			 ntohs(s6->sin6_port));
	} else {
		snprintf(conn->peer, sizeof(conn->peer), "conn=%lu", conn->serial);
	}
}

static void start_connection(struct listener *server, int fd, const struct sockaddr_storage *ss)
{
	struct listener_conn *conn;
	pthread_attr_t attr;
	bool at_cap, first_refusal = false;
	int one = 1, rc;

	pthread_mutex_lock(&server->lock);
	at_cap = server->open >= server->max_connections;
	if (at_cap) {
		first_refusal = !server->refusing;
		server->refusing = true;
		server->refused++;
	}
	pthread_mutex_unlock(&server->lock);
	if (at_cap) {
		close(fd);
		if (first_refusal)
			log_warning("%s: %u connections open (max_connections): closing new ones at once",
				    server->describe, server->max_connections);
		return;
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		close(fd);
		log_warning("%s: out of memory: closed a new connection", server->describe);
		return;
	}
	conn->server = server;
	conn->fd = fd;
	if (server->tcp)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
#ifdef SO_NOSIGPIPE
	(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
	pthread_mutex_lock(&server->lock);
	conn->serial = ++server->serial;
	server->open++;
	conn->next = server->connections;
	server->connections = conn;
	pthread_mutex_unlock(&server->lock);
	describe_peer(conn, ss);

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	rc = pthread_create(&conn->thread, &attr, connection_main, conn);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		pthread_mutex_lock(&server->lock);
		for (struct listener_conn **link = &server->connections; *link; link = &(*link)->next)
			if (*link == conn) {
				*link = conn->next;
				break;
			}
		server->open--;
		pthread_mutex_unlock(&server->lock);
		close(fd);
		free(conn);
		log_warning("%s: cannot start a thread for a connection: %s", server->describe, strerror(rc));
	}
}

static void *acceptor_main(void *p)
{
	struct listener *server = p;
	bool backing_off = false, logged_accept_failure = false;

	for (;;) {
		struct pollfd fds[2] = {{.fd = server->stop_pipe[0], .events = POLLIN},
					{.fd = server->listen_fd, .events = POLLIN}};
		int n = poll(fds, backing_off ? 1 : 2, backing_off ? ACCEPT_BACKOFF_MS : -1);
		if (n < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		backing_off = false;
		for (;;) {
			struct sockaddr_storage ss;
			socklen_t sslen = sizeof(ss);
			int fd = accept4(server->listen_fd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK) {
					if (!logged_accept_failure)
						log_warning("%s: cannot accept: %s; retrying", server->describe,
							    strerror(errno));
					logged_accept_failure = true;
					backing_off = true;
				}
				break;
			}
			logged_accept_failure = false;
			reap_finished(server);
			start_connection(server, fd, &ss);
		}
	}
	return NULL;
}

/* ---- start and stop -------------------------------------------------------------------------- */

struct listener *listener_start(const char *name, const char *spec, unsigned mode, unsigned max_connections,
				listener_serve_fn *serve, void *arg, char *err, size_t errlen)
{
	struct listener *server;
	const char *path = listener_unix_path(spec);
	sigset_t all, old;
	int rc;

	if (max_connections == 0 || !serve) {
		snprintf(err, errlen, "%s: no connections allowed, or nothing to serve them", spec);
		return NULL;
	}
	if (!path && strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0) {
		snprintf(err, errlen, "%s: not unix:/path, inet:PORT@ADDR or inet6:PORT@ADDR", spec);
		return NULL;
	}
	server = calloc(1, sizeof(*server));
	if (!server) {
		snprintf(err, errlen, "%s: out of memory", spec);
		return NULL;
	}
	snprintf(server->spec, sizeof(server->spec), "%s", spec);
	snprintf(server->describe, sizeof(server->describe), "%s %s", name, spec);
	server->max_connections = max_connections;
	server->serve = serve;
	server->arg = arg;
	server->stop_pipe[0] = server->stop_pipe[1] = -1;
	atomic_init(&server->stopping, false);
	pthread_mutex_init(&server->lock, NULL);
	server->listen_fd = path ? listen_unix(server, spec, path, mode, err, errlen) : listen_inet(server, spec, err, errlen);
	if (server->listen_fd < 0)
		goto fail;
	if (pipe2(server->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "%s: cannot create a pipe: %s", spec, strerror(errno));
		goto fail;
	}
	/* our threads take no signals: the daemon handles them on its own threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&server->acceptor, NULL, acceptor_main, server);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot start a thread: %s", spec, strerror(rc));
		goto fail;
	}
	return server;
fail:
	if (server->listen_fd >= 0)
		close(server->listen_fd);
	remove_unix_socket(server);
	if (server->stop_pipe[0] >= 0) {
		close(server->stop_pipe[0]);
		close(server->stop_pipe[1]);
	}
	pthread_mutex_destroy(&server->lock);
	free(server);
	return NULL;
}

int listener_chown(struct listener *server, uid_t owner, gid_t group, char *err, size_t errlen)
{
	if (!server->path[0])
		return 0;
	/* lchown: a link swapped in by whoever owns the directory is changed, not its target */
	if (lchown(server->path, owner, group) < 0) {
		snprintf(err, errlen, "%s: cannot change the owner: %s", server->spec, strerror(errno));
		return -1;
	}
	return 0;
}

unsigned listener_port(const struct listener *server)
{
	return server->tcp ? server->port : 0;
}

void listener_stop(struct listener *server)
{
	if (!server)
		return;
	atomic_store(&server->stopping, true);
	while (write(server->stop_pipe[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(server->acceptor, NULL);
	close(server->listen_fd);
	remove_unix_socket(server);
	/* the acceptor is gone: the list changes no more, only `finished` flags do */
	for (struct listener_conn *conn = server->connections, *next; conn; conn = next) {
		next = conn->next;
		pthread_join(conn->thread, NULL);
		free(conn);
	}
	close(server->stop_pipe[0]);
	close(server->stop_pipe[1]);
	pthread_mutex_destroy(&server->lock);
	free(server);
}
