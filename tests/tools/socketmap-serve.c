/*
 * socketmap-serve: the socketmap server over a fixed answer table, for the integration tests.
 *
 *   usage: socketmap-serve [-d] [-m MODE] [-o UID:GID] [-r MAX_REQUEST] [-c MAX_CONNECTIONS]
 *                          [-i IDLE_MS] [-t IO_MS] SPEC
 *
 * SPEC is as socketmap_start takes it (unix:/path, inet:PORT@127.0.0.1, inet6:PORT@[::1]; port 0
 * picks one).  Options left out keep SOCKETMAP_LIMITS_DEFAULT; MODE is octal (default 0666);
 * -o gives a unix socket that numeric owner and group (socketmap_chown); -d logs at debug.  Prints "listening SPEC port=N" on stdout once it accepts, runs until SIGTERM
 * or SIGINT, then stops the server and prints "stopped in N ms".  Log lines go to stderr.
 * Exits 0 after a clean stop, 1 if the server did not start, 2 on bad arguments.
 *
 * Answers, whatever the map name:
 *   example.com   OK smtp:[127.0.0.1]:2525
 *   temp.test     TEMP test failure
 *   perm.test     PERM test refusal
 *   slow.test     after 2 s: OK smtp:[127.0.0.1]:2526
 *   big.test      a reply of 100,001 bytes (the server sends PERM reply too long)
 *   empty.test    nothing (the server sends TEMP no answer)
 *   echo.*        OK map=MAP key=KEY
 *   anything else NOTFOUND
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "monotonic.h"
#include "socketmap.h"

static void answer(void *arg, const char *map, const char *key, struct strbuf *reply)
{
	(void)arg;
	if (strcmp(key, "example.com") == 0) {
		strbuf_append(reply, "OK smtp:[127.0.0.1]:2525");
	} else if (strcmp(key, "temp.test") == 0) {
		strbuf_append(reply, "TEMP test failure");
	} else if (strcmp(key, "perm.test") == 0) {
		strbuf_append(reply, "PERM test refusal");
	} else if (strcmp(key, "slow.test") == 0) {
		struct timespec two = {.tv_sec = 2};
		while (nanosleep(&two, &two) < 0 && errno == EINTR)
			;
		strbuf_append(reply, "OK smtp:[127.0.0.1]:2526");
	} else if (strcmp(key, "big.test") == 0) {
		strbuf_append(reply, "OK ");
		for (int i = 0; i < SOCKETMAP_REPLY_MAX - 2; i++)
			strbuf_append_len(reply, "x", 1);
	} else if (strcmp(key, "empty.test") == 0) {
		/* nothing */
	} else if (strncmp(key, "echo.", 5) == 0) {
		strbuf_appendf(reply, "OK map=%s key=%s", map, key);
	} else {
		strbuf_append(reply, "NOTFOUND ");
	}
}

static bool parse_number(const char *text, unsigned long max, int base, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(text, &end, base);
	return *text >= '0' && *text <= '9' && *end == '\0' && errno == 0 && *out <= max;
}

static void usage(void)
{
	fprintf(stderr, "usage: socketmap-serve [-d] [-m MODE] [-o UID:GID] [-r MAX_REQUEST] [-c MAX_CONNECTIONS] "
			"[-i IDLE_MS] [-t IO_MS] SPEC\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct socketmap_limits limits = SOCKETMAP_LIMITS_DEFAULT;
	struct socketmap_server *server;
	unsigned long mode = 0666, n;
	bool debug = false, chown_socket = false;
	unsigned long owner = 0, group = 0;
	char err[512];
	sigset_t stop;
	int opt, sig;

	while ((opt = getopt(argc, argv, "dm:o:r:c:i:t:")) != -1) {
		switch (opt) {
		case 'd':
			debug = true;
			break;
		case 'm':
			if (!parse_number(optarg, 0777, 8, &mode))
				usage();
			break;
		case 'o': {
			char *colon = strchr(optarg, ':');
			if (!colon)
				usage();
			*colon = '\0';
			if (!parse_number(optarg, 65535, 10, &owner) || !parse_number(colon + 1, 65535, 10, &group))
				usage();
			chown_socket = true;
			break;
		}
		case 'r':
			if (!parse_number(optarg, 1000000, 10, &n))
				usage();
			limits.max_request = n;
			break;
		case 'c':
			if (!parse_number(optarg, 100000, 10, &n))
				usage();
			limits.max_connections = (unsigned)n;
			break;
		case 'i':
			if (!parse_number(optarg, 3600000, 10, &n))
				usage();
			limits.idle_timeout_ms = (unsigned)n;
			break;
		case 't':
			if (!parse_number(optarg, 3600000, 10, &n))
				usage();
			limits.io_timeout_ms = (unsigned)n;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();

	log_open(LOG_MAIL, true);
	log_set_level(debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	/* blocked before any thread exists, so that only sigwait below takes them */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	server = socketmap_start(argv[optind], (unsigned)mode, &limits, answer, NULL, err, sizeof(err));
	if (!server) {
		fprintf(stderr, "socketmap-serve: %s\n", err);
		return 1;
	}
	if (chown_socket && socketmap_chown(server, (uid_t)owner, (gid_t)group, err, sizeof(err)) < 0) {
		fprintf(stderr, "socketmap-serve: %s\n", err);
		socketmap_stop(server);
		return 1;
	}
	printf("listening %s port=%u\n", argv[optind], socketmap_port(server));
	fflush(stdout);
	sigwait(&stop, &sig);
	long long started = monotonic_ms();
	socketmap_stop(server);
	printf("stopped in %lld ms\n", monotonic_ms() - started);
	log_close();
	return 0;
}
