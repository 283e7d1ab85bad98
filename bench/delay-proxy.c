/*
 * delay-proxy - a lean UDP proxy that answers every DNS query a fixed time late, for the benchmark.
 *
 *   delay-proxy -l ADDR@PORT -u ADDR@PORT -d MS
 *
 * Every query received on -l is sent on to the server -u (NSD) over one UDP socket under an id of
 * our own; its answer goes back to the client, with the client's id, MS milliseconds after the
 * query arrived (rounded up to the next millisecond).  One thread, poll() and a heap of answers
 * waiting for their time: tens of thousands of queries per second on one core, where
 * tests/tools/dns-responder (a thread, a socket and a 64 KB buffer per query) is built for
 * faults, not load.  No TCP listener: a client that falls back to TCP is refused at once.
 *
 * Prints "ready" on stdout once bound, and one line per query on stderr, "udp NAME TYPE<n>" (the
 * benchmark counts them).  Only loopback addresses are accepted.  SIGTERM ends it.  Exit 2 on usage, 1 on setup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE_MAX 65535
#define SLOTS 65536			/* one per upstream id */

struct slot {
	bool used;
	uint16_t client_id;
	struct sockaddr_storage client;
	socklen_t client_len;
	uint64_t arrival_ns;
};

struct waiting {
	uint64_t due_ns;
	struct sockaddr_storage client;
	socklen_t client_len;
	size_t len;
	uint8_t *message;
};

static struct slot slots[SLOTS];
static struct waiting *heap;
static size_t heap_count, heap_cap;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: delay-proxy -l ADDR@PORT -u ADDR@PORT -d MS\n");
	exit(2);
}

/* "127.0.0.1@5353" or "::1@5353", loopback only. */
static bool parse_address(const char *text, struct sockaddr_storage *out, socklen_t *len)
{
	char host[64];
	const char *at = strrchr(text, '@');
	char *end;
	long port;

	if (!at || (size_t)(at - text) >= sizeof(host))
		return false;
	memcpy(host, text, (size_t)(at - text));
	host[at - text] = '\0';
	port = strtol(at + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return false;
	memset(out, 0, sizeof(*out));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1 || !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return false;
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 || (ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			return false;
		*len = sizeof(*s4);
	}
	return true;
}

static int udp_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int size = 4 << 20;

	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	return fd;
}

/* ---- the heap of answers waiting for their time ------------------------------------------ */

static void heap_swap(size_t a, size_t b)
{
	struct waiting t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
}

static bool heap_push(struct waiting w)
{
	size_t i;

	if (heap_count == heap_cap) {
		size_t cap = heap_cap ? heap_cap * 2 : 1024;
		struct waiting *h = realloc(heap, cap * sizeof(*h));
		if (!h)
			return false;
		heap = h;
		heap_cap = cap;
	}
	i = heap_count++;
	heap[i] = w;
	while (i > 0 && heap[(i - 1) / 2].due_ns > heap[i].due_ns) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return true;
}

static struct waiting heap_pop(void)
{
	struct waiting top = heap[0];
	size_t i = 0;

	heap[0] = heap[--heap_count];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < heap_count && heap[l].due_ns < heap[m].due_ns)
			m = l;
		if (r < heap_count && heap[r].due_ns < heap[m].due_ns)
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
	return top;
}

/* "udp NAME TYPE" on stderr, as tests/tools/dns-responder logs a query. */
static void log_query(const uint8_t *m, size_t len)
{
	char line[300];
	size_t at = 12, out = 4;

	memcpy(line, "udp ", 4);
	while (at < len && m[at] && out < 260) {
		size_t label = m[at++];
		if (label > 63 || at + label > len)
			break;
		for (size_t i = 0; i < label && out < 260; i++) {
			char c = (char)m[at + i];
			line[out++] = c > ' ' && c < 127 ? c : '?';
		}
		line[out++] = '.';
		at += label;
	}
	if (out == 4)
		line[out++] = '.';
	if (at + 3 <= len)
		out += (size_t)snprintf(line + out, sizeof(line) - out, " TYPE%u\n", (unsigned)(m[at + 1] << 8 | m[at + 2]));
	else
		line[out++] = '\n';
	(void)!write(2, line, out);
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct sockaddr_storage listen_addr, upstream_addr;
	socklen_t listen_len = 0, upstream_len = 0;
	uint64_t delay_ns = 0;
	bool have_listen = false, have_upstream = false, have_delay = false;
	static uint8_t buf[MESSAGE_MAX];
	uint16_t next_id = 0;
	int opt, front, back;

	while ((opt = getopt(argc, argv, "l:u:d:")) != -1) {
		switch (opt) {
		case 'l':
			have_listen = parse_address(optarg, &listen_addr, &listen_len);
			if (!have_listen)
				usage();
			break;
		case 'u':
			have_upstream = parse_address(optarg, &upstream_addr, &upstream_len);
			if (!have_upstream)
				usage();
			break;
		case 'd':
			delay_ns = (uint64_t)strtoul(optarg, NULL, 10) * 1000000u;
			have_delay = true;
			break;
		default:
			usage();
		}
	}
	if (!have_listen || !have_upstream || !have_delay || optind != argc)
		usage();
	front = udp_socket(listen_addr.ss_family);
	back = udp_socket(upstream_addr.ss_family);
	if (front < 0 || back < 0 || bind(front, (struct sockaddr *)&listen_addr, listen_len) != 0 ||
	    connect(back, (struct sockaddr *)&upstream_addr, upstream_len) != 0) {
		fprintf(stderr, "delay-proxy: cannot set up: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		struct pollfd fds[2] = {{.fd = front, .events = POLLIN}, {.fd = back, .events = POLLIN}};
		int timeout = -1;
		uint64_t now = now_ns();

		while (heap_count && heap[0].due_ns <= now) {
			struct waiting w = heap_pop();
			(void)sendto(front, w.message, w.len, 0, (struct sockaddr *)&w.client, w.client_len);
			free(w.message);
		}
		if (heap_count)
			timeout = (int)((heap[0].due_ns - now + 999999) / 1000000);
		if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "delay-proxy: poll: %s\n", strerror(errno));
			return 1;
		}
		/* queries: on to the server under our id */
		for (int i = 0; i < 256 && (fds[0].revents & POLLIN); i++) {
			struct slot *s;
			struct sockaddr_storage from;
			socklen_t from_len = sizeof(from);
			ssize_t n = recvfrom(front, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
			uint16_t id;
			if (n < 0)
				break;
			if (n < 12)
				continue;
			id = next_id++;
			s = &slots[id];
			s->used = true;
			s->client_id = (uint16_t)(buf[0] << 8 | buf[1]);
			s->client = from;
			s->client_len = from_len;
			s->arrival_ns = now_ns();
			buf[0] = (uint8_t)(id >> 8);
			buf[1] = (uint8_t)id;
			log_query(buf, (size_t)n);
			(void)send(back, buf, (size_t)n, 0);
		}
		/* answers: back to the client when their time has come */
		for (int i = 0; i < 256 && (fds[1].revents & POLLIN); i++) {
			ssize_t n = recv(back, buf, sizeof(buf), 0);
			struct waiting w;
			struct slot *s;
			if (n < 0)
				break;
			if (n < 12)
				continue;
			s = &slots[(uint16_t)(buf[0] << 8 | buf[1])];
			if (!s->used)
				continue;
			s->used = false;
			buf[0] = (uint8_t)(s->client_id >> 8);
			buf[1] = (uint8_t)s->client_id;
			w.due_ns = s->arrival_ns + delay_ns;
			w.client = s->client;
			w.client_len = s->client_len;
			w.len = (size_t)n;
			w.message = malloc((size_t)n);
			if (!w.message)
				continue;
			memcpy(w.message, buf, (size_t)n);
			if (!heap_push(w))
				free(w.message);
		}
	}
}
