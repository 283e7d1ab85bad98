/*
 * dnsguard - the milter daemon: command line, startup, signals, shutdown.
 *
 * Startup order matters: the config, the policy, the user and group and what that user must read
 * (preflight.h) are checked before anything else, while the terminal is still there to hear of a
 * problem; the process detaches, and the parent waits for the child's word through a pipe: the
 * status, and the reason of a refusal, which the parent prints, so `dnsguard` exits non-zero with
 * one line "dnsguard: what: why" on stderr whatever the step that failed (in the foreground the
 * line is printed at once); every refusal is logged too.
 *
 * Exit statuses are sysexits(3), so that systemd and an admin see the kind of failure at once:
 * EX_CONFIG (78) for everything `dnsguard -n` reports (config, policy, user, group, files the user
 * must read, the resolver: fix the files), EX_UNAVAILABLE when the socket is in use (another
 * dnsguard runs), EX_CANTCREAT for a socket, pid file, store or state that cannot be made,
 * EX_NOPERM when the switch of user fails, EX_OSERR when the system refuses a pipe, a fork or a
 * thread, EX_SOFTWARE when libmilter fails or the daemon process ends without a word.  The reload signal is blocked before any
 * thread exists; the socket is opened and the pid file written while still root; then privileges
 * are dropped and libmilter runs.  Root never follows a link that the unprivileged user could have
 * planted beside the socket or the pid file, and a startup that fails removes the socket and pid
 * file it made.  At stop, dnsguard removes them as the unprivileged user, which only works where
 * that user may write the directory; what is left behind, the next start removes (socket) or
 * overwrites (pid file).
 *
 * Signals (DECISIONS 6): SIGUSR1 reloads config and policy; SIGTERM and SIGHUP stop; SIGINT stops
 * at once.  Once libmilter is told to stop, its worker pool serves no open session any more, so
 * the drain must come first: libmilter runs in a thread of its own, and the main thread waits for
 * signals.  All of them are blocked in every thread; Linux gives a process-directed signal to the
 * thread-group leader when it is waiting for it, so dnsguard, not libmilter's own signal thread,
 * sees SIGTERM: it tempfails new sessions, lets open ones finish (up to shutdown_timeout) and only
 * then stops libmilter.  Should libmilter's thread take the signal instead, libmilter stops at
 * once, as any libmilter filter does, and the log says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "callbacks.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "metrics_service.h"
#include "preflight.h"
#include "route_service.h"
#include "privileges.h"
#include "runtime.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const char *config_path = CONFIG_DEFAULT_PATH;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dnsguard [-c FILE] [-f] [-n] [-p] [-V]\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -f       stay in the foreground and log to stderr as well as syslog\n"
		"  -n       check the configuration and the policy, report every problem, exit\n"
		"  -p       print the effective configuration, exit\n"
		"  -V       print the version, exit\n",
		CONFIG_DEFAULT_PATH);
}

/* Prints each line of `text` (a problem, "what: why" or "file:line: ...") as "dnsguard: line". */
static void print_text_lines(const char *text)
{
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, "\n");
		fprintf(stderr, "dnsguard: %.*s\n", (int)len, p);
		p += len + (p[len] ? 1 : 0);
	}
}

static void print_lines(const struct strbuf *text)
{
	print_text_lines(strbuf_text(text));
}

/* ---- detaching, with the parent waiting for the child's word ----------------------------- */

/*
 * The child's word is one status byte (0: ready, else the exit status of its refusal) and, after
 * a refusal, its reason.
 * One write of at most PIPE_BUF bytes, so the parent never sees half of it.
 */
#define STARTUP_WORD_MAX 4096

static int ready_fd = -1;

/* In the parent: waits for the child's word, prints a refusal, exits with the child's status. */
static void __attribute__((noreturn)) wait_for_child(int fd)
{
	char word[STARTUP_WORD_MAX + 1];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, word + len, sizeof(word) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof(word) - 1)
			break;
	}
	word[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "dnsguard: startup: the daemon process ended before it was ready, without "
				"saying why (see syslog)\n");
		_exit(EX_SOFTWARE);
	}
	if (word[0] == 0)
		_exit(0);
	print_text_lines(word + 1);
	_exit((unsigned char)word[0]);
}

static void detach(void)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) < 0) {
		fprintf(stderr, "dnsguard: pipe: %s\n", strerror(errno));
		exit(EX_OSERR);
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "dnsguard: fork: %s\n", strerror(errno));
		exit(EX_OSERR);
	}
	if (pid > 0) {
		close(fds[1]);
		wait_for_child(fds[0]);
	}
	close(fds[0]);
	ready_fd = fds[1];
	setsid();
	if (chdir("/") < 0)
		log_warning("chdir /: %m");
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

/* Tells the waiting parent (if any) the outcome: ready (status 0), or refused with `reason`. */
static void report_startup(int status, const char *reason)
{
	char word[STARTUP_WORD_MAX];
	size_t len = 1;
	bool ready = status == 0;

	if (ready_fd < 0)
		return;
	word[0] = (char)status;
	if (!ready) {
		len += strnlen(reason, sizeof(word) - 1);
		memcpy(word + 1, reason, len - 1);
	}
	if (write(ready_fd, word, len) != (ssize_t)len)
		log_warning("cannot report the startup status to the parent process");
	close(ready_fd);
	ready_fd = -1;
}

/* What this startup has made so far, for startup_failed to remove: a refused start leaves nothing. */
static char made_socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char made_pid_file[4096];

/*
 * Refuses to start with exit status `status` (sysexits.h, never 0): `reason` (one or more lines,
 * "what: why") goes to syslog, and to the terminal as "dnsguard: " lines, through the parent once
 * detached.  Only once: the log's own copy on stderr (-f) is switched off, its time stamp would
 * say the same thing again.
 */
static void __attribute__((noreturn)) refuse_to_start(int status, const char *reason)
{
	const char *p = reason;

	log_set_stderr(false);
	while (*p) {
		size_t len = strcspn(p, "\n");
		log_error("%.*s", (int)len, p);
		p += len + (p[len] ? 1 : 0);
	}
	if (*made_socket)
		unlink(made_socket);
	if (*made_pid_file)
		unlink(made_pid_file);
	if (ready_fd >= 0)
		report_startup(status, reason);
	else
		print_text_lines(reason);
	exit(status);
}

static void startup_failed(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void startup_failed(int status, const char *fmt, ...)
{
	char reason[STARTUP_WORD_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	refuse_to_start(status, reason);
}

/* ---- the socket ------------------------------------------------------------------------------ */

/*
 * A unix socket left by a crash is removed; a file that is not a socket, or a socket that another
 * process still answers on, is left alone and startup fails.
 */
static void remove_stale_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode))
		startup_failed(EX_CANTCREAT, "milter_socket %s: exists and is not a socket: not removing it", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		startup_failed(EX_UNAVAILABLE, "milter_socket %s: in use by another process (is dnsguard already running?)", path);
	}
	if (fd >= 0)
		close(fd);
	if (unlink(path) < 0)
		startup_failed(EX_CANTCREAT, "milter_socket %s: cannot remove the stale socket: %m", path);
	log_notice("removed stale milter_socket %s", path);
}

/*
 * DECISIONS 18: over inet, dnsguard's replies at end of message are several small writes
 * (header changes, then the verdict), and Nagle holds the last one until the MTA's delayed ACK
 * comes, ~40 ms later.  libmilter never touches its sockets' options and keeps the listening
 * socket to itself, so find it (our only listening TCP socket) and set TCP_NODELAY there:
 * Linux copies it to every connection accepted from it.  Returns how many sockets it set.
 */
static int disable_nagle_on_listener(void)
{
	int changed = 0, one = 1;

	for (int fd = 0; fd < 1024; fd++) {
		int listening = 0, type = 0;
		socklen_t len = sizeof(listening);
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
			continue;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
			continue;
		if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
			changed++;
	}
	return changed;
}

/*
 * Fills `sa` with the address of a milter socket spec as libmilter reads it: unix:/path,
 * local:/path, inet:PORT[@HOST], inet6:PORT[@HOST] (no host: every address).
 */
static bool milter_address(const char *spec, struct sockaddr_storage *sa, socklen_t *len, char *why,
			   size_t size)
{
	const char *path = listener_unix_path(spec), *rest = strchr(spec, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *found;
	char port[16], host[256] = "";
	int rc;

	if (path) {
		struct sockaddr_un *sun = (struct sockaddr_un *)sa;
		memset(sa, 0, sizeof(*sa));
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
		*len = sizeof(*sun);
		return true;
	}
	hints.ai_family = strncmp(spec, "inet6:", 6) == 0 ? AF_INET6 : AF_INET;
	snprintf(port, sizeof(port), "%.*s", (int)strcspn(rest + 1, "@"), rest + 1);
	if (strchr(rest, '@'))
		snprintf(host, sizeof(host), "%s", strchr(rest, '@') + 1);
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &found);
	if (rc != 0) {
		snprintf(why, size, "cannot find the address %s: %s", host, gai_strerror(rc));
		return false;
	}
	memcpy(sa, found->ai_addr, found->ai_addrlen);
	*len = found->ai_addrlen;
	freeaddrinfo(found);
	return true;
}

/*
 * libmilter tells only syslog why it could not listen: bind the same address here, as libmilter
 * does (SO_REUSEADDR), for a reason to print ("Address already in use").  Returns the exit
 * status: EX_UNAVAILABLE when another process holds the address, else EX_CANTCREAT.
 */
static int explain_listen_failure(const char *spec, char *why, size_t size)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd, one = 1, status = EX_CANTCREAT;

	if (!milter_address(spec, &sa, &len, why, size))
		return EX_CONFIG;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, size, "cannot create a socket: %s", strerror(errno));
		return EX_OSERR;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		if (errno == EADDRINUSE)
			status = EX_UNAVAILABLE;
		snprintf(why, size, "cannot listen: %s", strerror(errno));
	} else {
		snprintf(why, size, "libmilter could not listen (its reason is in syslog)");
		if (sa.ss_family == AF_UNIX)
			unlink(((struct sockaddr_un *)&sa)->sun_path);
	}
	close(fd);
	return status;
}

static void open_milter_socket(const struct config *config, uid_t uid, gid_t gid)
{
	const char *path = listener_unix_path(config->milter_socket);

	if (path) {
		char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
		struct stat st;
		snprintf(dir, sizeof(dir), "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = '\0';
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			startup_failed(EX_CANTCREAT, "milter_socket %s: directory %s does not exist", path, dir);
		remove_stale_socket(path);
	}
	if (smfi_setconn(config->milter_socket) != MI_SUCCESS)
		startup_failed(EX_CONFIG, "milter_socket %s: libmilter rejected the address", config->milter_socket);
	/* the socket is created with the configured mode from the start, never wider */
	mode_t old_umask = umask(~config->milter_socket_mode & 0777);
	int rc = smfi_opensocket(false);
	umask(old_umask);
	if (rc != MI_SUCCESS) {
		char why[512];
		int listen_status = explain_listen_failure(config->milter_socket, why, sizeof(why));
		startup_failed(listen_status, "milter_socket %s: %s", config->milter_socket, why);
	}
	if (path) {
		snprintf(made_socket, sizeof(made_socket), "%s", path);
		/*
		 * Never through a symbolic link: the directory may be the unprivileged user's, who could
		 * swap the new socket for a link to /etc/shadow between bind and these calls.
		 */
		if (fchmodat(AT_FDCWD, path, config->milter_socket_mode, AT_SYMLINK_NOFOLLOW) < 0)
			startup_failed(EX_CANTCREAT, "milter_socket %s: cannot chmod: %m (replaced by a symbolic link during startup?)",
				       path);
		if (geteuid() == 0 && lchown(path, uid, gid) < 0)
			startup_failed(EX_CANTCREAT, "milter_socket %s: cannot chown: %m", path);
	} else if (disable_nagle_on_listener() != 1) {
		log_warning("milter_socket %s: could not set TCP_NODELAY; replies may stall ~40 ms on TCP",
			    config->milter_socket);
	}
}

/* ---- privileges and pid file ------------------------------------------------------------------ */

static void drop_privileges(const struct config *config, uid_t uid, gid_t gid)
{
	if (geteuid() != 0) {
		if (config->user[0] && uid != geteuid())
			log_notice("not started as root: running as uid %u, not as user %s", (unsigned)geteuid(),
				   config->user);
		return;
	}
	if (!config->user[0])
		return;
	char why[512];
	if (privileges_switch(config->user, uid, gid, why, sizeof(why)) != 0)
		startup_failed(EX_NOPERM, "%s", why);
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFLNK:
		return "a symbolic link";
	case S_IFIFO:
		return "a fifo";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	}
	return "of an unknown type";
}

/*
 * Root writes the pid file before dropping privileges, usually in a directory that the
 * unprivileged user may write (so that it can remove the file at stop).  So nothing found there is
 * trusted: a symbolic link is never followed (O_NOFOLLOW), a fifo cannot hold startup up
 * (O_NONBLOCK), and only a regular file with a single link is written to, since a hard link to
 * /etc/shadow is the same attack as a symbolic link; nothing is truncated before those checks.
 * A stale file of an earlier run passes them and is overwritten: the milter socket, opened first,
 * has already shown that no other dnsguard serves it.  The pid file is never read.
 */
static void write_pid_file(const char *path)
{
	char dir[4096], line[32];
	const char *name;
	struct stat st;
	int dir_fd, fd, len, saved;

	if (!*path)
		return;
	if (strlen(path) >= sizeof(dir))
		startup_failed(EX_CANTCREAT, "pid_file %s: name too long", path);
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || !slash[1])
		startup_failed(EX_CANTCREAT, "pid_file %s: not the name of a file", path);
	name = path + (slash - dir) + 1;
	slash[slash == dir ? 1 : 0] = '\0';

	dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		startup_failed(EX_CANTCREAT, "pid_file %s: cannot open its directory %s: %m", path, dir);
	if (fstat(dir_fd, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)))
		log_warning("pid_file %s: its directory %s is writable by %s: whoever can write there can "
			    "replace the pid file; use a directory only root and dnsguard's user can write",
			    path, dir, (st.st_mode & S_IWOTH) ? "others" : "its group");

	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0) {
		saved = errno;
		if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISLNK(st.st_mode))
				startup_failed(EX_CANTCREAT, "pid_file %s: is a symbolic link: not following it", path);
			if (!S_ISREG(st.st_mode))
				startup_failed(EX_CANTCREAT, "pid_file %s: is %s, not a regular file: not writing to it", path,
					       file_kind(st.st_mode));
		}
		startup_failed(EX_CANTCREAT, "pid_file %s: cannot open: %s", path, strerror(saved));
	}
	if (fstat(fd, &st) < 0)
		startup_failed(EX_CANTCREAT, "pid_file %s: cannot stat: %m", path);
	if (!S_ISREG(st.st_mode))
		startup_failed(EX_CANTCREAT, "pid_file %s: is %s, not a regular file: not writing to it", path, file_kind(st.st_mode));
	if (st.st_nlink > 1)
		startup_failed(EX_CANTCREAT, "pid_file %s: has %lu hard links: not writing to it (another name of the same file "
			       "could be any file)",
			       path, (unsigned long)st.st_nlink);
	snprintf(made_pid_file, sizeof(made_pid_file), "%s", path);
	/* the new content first, then cut what is left of a longer old one: never an empty file */
	len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (pwrite(fd, line, (size_t)len, 0) != len || ftruncate(fd, len) < 0)
		startup_failed(EX_CANTCREAT, "pid_file %s: cannot write: %m", path);
	if (close(fd) < 0)
		startup_failed(EX_CANTCREAT, "pid_file %s: cannot write: %m", path);
	close(dir_fd);
}

/* ---- the libmilter thread and the signal loop ------------------------------------------------ */

static pthread_t main_thread;
static int milter_status;

static void *milter_thread(void *unused)
{
	(void)unused;
	milter_status = smfi_main();
	/* wake the main thread's sigwait: libmilter has stopped, by our doing or its own */
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	/* before any thread exists, so that every thread inherits the mask */
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Lets open sessions finish, new ones being tempfailed meanwhile. */
static void drain_sessions(void)
{
	struct runtime *rt = runtime_acquire();
	unsigned timeout_ms = rt ? rt->config->shutdown_timeout_ms : 0;
	unsigned open_sessions;

	runtime_release(rt);
	callbacks_set_draining(true);
	open_sessions = callbacks_open_sessions();
	if (open_sessions == 0)
		return;
	log_info("stopping: new sessions are tempfailed; waiting up to %ums for %u open sessions", timeout_ms,
		 open_sessions);
	if (!callbacks_wait_idle(timeout_ms))
		log_warning("stopping with %u sessions still open after %ums: the MTA applies its "
			    "milter_default_action to them",
			    callbacks_open_sessions(), timeout_ms);
}

/* Waits for signals until dnsguard is to stop; returns the exit status. */
static int signal_loop(const sigset_t *set, pthread_t milter)
{
	bool stopping = false;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		switch (sig) {
		case SIGUSR1:
			log_info("reload requested (SIGUSR1)");
			if (runtime_reload(config_path))
				route_service_reloaded();
			break;
		case SIGTERM:
		case SIGHUP:
			if (stopping)
				break;
			stopping = true;
			log_info("stop requested (%s)", sig == SIGTERM ? "SIGTERM" : "SIGHUP");
			drain_sessions();
			smfi_stop();
			break;
		case SIGINT:
			log_info("abort requested (SIGINT): stopping without waiting for open sessions");
			stopping = true;
			smfi_stop();
			break;
		case SIGUSR2:
			pthread_join(milter, NULL);
			if (!stopping)
				log_warning("libmilter stopped by itself (%s); %u sessions were open",
					    milter_status == MI_SUCCESS ? "a signal it took" : "an error",
					    callbacks_open_sessions());
			return milter_status == MI_SUCCESS ? 0 : EX_SOFTWARE;
		}
	}
}

/* ---- main ------------------------------------------------------------------------------------- */

static int print_effective_config(const struct config *config, const struct strbuf *notes)
{
	print_lines(notes);
	config_write(config, stdout);
	return 0;
}

/*
 * dnsguard -n: what start would refuse, every problem one line on stderr, so that "valid" means
 * start will not refuse these files: the config and the policy (loaded already), the user and
 * group and the files that user must read, and the resolver the config describes (built, then
 * freed).  A running daemon is left alone: the socket and the pid file are not checked.  A unix
 * socket that a chrooted Postfix cannot see is a warning: the config is valid, the mail is not.
 */
static int check_what_start_refuses(struct runtime *rt, struct strbuf *errors, const struct strbuf *notes)
{
	uid_t uid;
	gid_t gid;
	bool ok = preflight_check(rt->config, policy_uses_action(rt->policy, POLICY_DIVERT), &uid, &gid, errors);

	/* after the preflight, which forks: the resolver has threads */
	ok = runtime_start_dns(rt, errors) && ok;
	print_lines(notes);
	/* what a chrooted Postfix will not see: said, but not a reason to refuse */
	struct strbuf warnings;
	strbuf_init_heap(&warnings, 4096);
	preflight_postfix_warnings(rt->config, &warnings);
	for (const char *p = strbuf_text(&warnings); *p;) {
		size_t len = strcspn(p, "\n");
		fprintf(stderr, "dnsguard: warning: %.*s\n", (int)len, p);
		p += len + (p[len] ? 1 : 0);
	}
	strbuf_free(&warnings);
	if (!ok) {
		print_lines(errors);
		return EX_CONFIG;
	}
	printf("dnsguard: %s and %s are valid (%zu policy rules, %zu routes)\n", rt->config->source,
	       rt->config->policy_file, policy_rule_count(rt->policy), policy_route_count(rt->policy));
	return 0;
}

int main(int argc, char **argv)
{
	bool foreground = false, check_only = false, print_config = false;
	struct strbuf errors, notes;
	struct runtime *rt;
	uid_t uid;
	gid_t gid;
	int opt;

	while ((opt = getopt(argc, argv, "c:fnpVh")) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check_only = true;
			break;
		case 'p':
			print_config = true;
			break;
		case 'V':
			printf("dnsguard %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	/* reload runs after detach() has changed to "/": keep the file's absolute name */
	char *absolute_config = realpath(config_path, NULL);
	if (absolute_config)
		config_path = absolute_config;

	strbuf_init_heap(&errors, 65536);
	strbuf_init_heap(&notes, 4096);
	rt = runtime_load(config_path, &errors, &notes);
	if (!rt && !check_only && !print_config) {
		/* a start refused: logged too, under the default facility (the config could not say) */
		log_open(LOG_MAIL, false);
		refuse_to_start(EX_CONFIG, strbuf_text(&errors));
	}
	if (!rt || check_only || print_config) {
		int rc = EX_CONFIG;
		if (!rt)
			print_lines(&errors);
		else if (print_config)
			rc = print_effective_config(rt->config, &notes);
		else
			rc = check_what_start_refuses(rt, &errors, &notes);
		runtime_discard(rt);
		strbuf_free(&errors);
		strbuf_free(&notes);
		free(absolute_config);
		return rc;
	}

	signal(SIGPIPE, SIG_IGN);
	log_open(rt->config->log_facility, foreground);
	log_set_level(rt->config->log_level);
	/* while the terminal can still hear of it, and before any thread exists: the check forks */
	if (!preflight_check(rt->config, policy_uses_action(rt->policy, POLICY_DIVERT), &uid, &gid, &errors))
		refuse_to_start(EX_CONFIG, strbuf_text(&errors));
	if (!foreground)
		detach();
	if (strbuf_len(&notes))
		log_notice("%.*s", (int)strbuf_len(&notes) - 1, strbuf_text(&notes));
	/* every thread from here on inherits the blocked signals: only the main thread takes them */
	sigset_t signals;
	block_signals(&signals);
	if (!runtime_start_dns(rt, &errors))
		refuse_to_start(EX_CONFIG, strbuf_text(&errors));
	runtime_install(rt);

	if (smfi_register(callbacks_filter) != MI_SUCCESS)
		startup_failed(EX_SOFTWARE, "libmilter: smfi_register failed");
	open_milter_socket(rt->config, uid, gid);
	if (!route_service_open(rt->config, uid, gid, &errors) || !metrics_service_open(rt->config, uid, gid, &errors))
		refuse_to_start(EX_CANTCREAT, strbuf_text(&errors));
	write_pid_file(rt->config->pid_file);
	drop_privileges(rt->config, uid, gid);
	/* as the user the store and the route state must belong to */
	if (!runtime_start_badmail(rt, true, &errors) || !route_service_start(rt->config, &errors))
		refuse_to_start(EX_CANTCREAT, strbuf_text(&errors));

	char dns[512];
	log_info("starting dnsguard %s: milter_socket=%s%s%s%s%s %s dns_deadline=%ums policy=%s rules=%zu routes=%zu",
		 PACKAGE_VERSION, rt->config->milter_socket, *rt->config->route_socket ? " route_socket=" : "",
		 rt->config->route_socket, *rt->config->metrics_socket ? " metrics_socket=" : "",
		 rt->config->metrics_socket, resolver_describe(rt->resolver, dns, sizeof(dns)), rt->config->dns_deadline_ms,
		 rt->config->policy_file, policy_rule_count(rt->policy), policy_route_count(rt->policy));
	/* what stop must clean up is what startup made; the generation may be replaced by then */
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "", pid_file[4096];
	if (listener_unix_path(rt->config->milter_socket))
		snprintf(socket_path, sizeof(socket_path), "%s", listener_unix_path(rt->config->milter_socket));
	snprintf(pid_file, sizeof(pid_file), "%s", rt->config->pid_file);
	rt = NULL;

	main_thread = pthread_self();
	pthread_t milter;
	if (pthread_create(&milter, NULL, milter_thread, NULL) != 0)
		startup_failed(EX_OSERR, "libmilter: cannot start its thread");
	report_startup(0, NULL);

	int rc = signal_loop(&signals, milter);
	metrics_service_stop();
	route_service_stop();

	/*
	 * libmilter leaves its unix socket behind.  No longer root, dnsguard can remove the socket and
	 * the pid file only where its user may write the directory; leftovers are harmless.
	 */
	if (*socket_path && unlink(socket_path) < 0 && errno != ENOENT)
		log_notice("cannot remove milter_socket %s: %m (the next start removes it)", socket_path);
	if (*pid_file && unlink(pid_file) < 0 && errno != ENOENT)
		log_notice("cannot remove pid_file %s: %m (the next start overwrites it)", pid_file);
	log_info("stopped");
	strbuf_free(&errors);
	strbuf_free(&notes);
	free(absolute_config);
	return rc;
}
