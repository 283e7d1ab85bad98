/*
 * null-milter - the benchmark's baseline: a libmilter filter that does nothing.
 *
 * It negotiates what dnsguard negotiates (milter/callbacks.c on_negotiate): the same actions
 * (ADDHDRS|CHGHDRS|QUARANTINE, masked with what the MTA offers), the same steps skipped (EOH,
 * BODY, UNKNOWN, DATA, where offered), headers kept but read without a reply each (NR_HDR, where
 * offered); and it registers the same callbacks
 * (connect, helo, envfrom, envrcpt, header, eom, abort, close), each answering CONTINUE.  So
 * what dnsguard costs beyond it is dnsguard's own work, not a different protocol dialogue.
 *
 * -l (lean) also skips headers altogether and asks for no-reply on connect, HELO, MAIL and RCPT
 * where the MTA offers it.  Which no-reply bits were granted is kept per connection (libmilter refuses a
 * callback's SMFIS_NOREPLY when the bit was not negotiated), so lean works against any MTA.
 *
 * Usage: null-milter -s unix:/path|inet:port@127.0.0.1 [-l] [-T threads]   (-T is ignored:
 * libmilter sizes its own pool).  Runs in the foreground; SIGTERM/SIGHUP stop it with exit 0
 * (libmilter's signal thread turns them into smfi_stop).
 *
 * Three knobs for experiments (bench/run-milter-bench uses none of them for the baseline):
 *   -a     at end of message, insert two header fields as dnsguard does (Authentication-Results
 *          and X-DNSGuard), so the dialogue has the same replies as dnsguard's
 *   -r MS  sleep MS milliseconds in the RCPT callback, as a filter waiting for DNS does
 *   -N     set TCP_NODELAY on the listening inet socket; Linux copies it to every accepted
 *          connection, which libmilter itself never touches
 *
 * Not part of dnsguard: it links only libmilter, and nothing in it is installed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <getopt.h>
#include <libmilter/mfapi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int lean;
static int add_headers;
static long rcpt_sleep_ms;

/* The no-reply bits this connection was granted, kept as the context's private pointer; bit 31
 * marks "negotiated" so that a connection granted none still has a non-NULL value. */
#define NEGOTIATED 0x80000000UL

static unsigned long granted_noreply(SMFICTX *ctx)
{
	return (unsigned long)(uintptr_t)smfi_getpriv(ctx);
}

static sfsistat reply(SMFICTX *ctx, unsigned long noreply_bit)
{
	return (granted_noreply(ctx) & noreply_bit) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps, unsigned long unused2,
			     unsigned long unused3, unsigned long *want_actions, unsigned long *want_steps,
			     unsigned long *want2, unsigned long *want3)
{
	unsigned long skip = SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HDR;
	const unsigned long may = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR;

	(void)unused2;
	(void)unused3;
	if (lean)
		skip |= SMFIP_NOHDRS | noreply;
	*want_actions = actions & may;
	*want_steps = steps & skip;
	*want2 = 0;
	*want3 = 0;
	smfi_setpriv(ctx, (void *)(uintptr_t)((*want_steps & noreply) | NEGOTIATED));
	return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	(void)hostname;
	(void)hostaddr;
	return reply(ctx, SMFIP_NR_CONN);
}

static sfsistat on_helo(SMFICTX *ctx, char *name)
{
	(void)name;
	return reply(ctx, SMFIP_NR_HELO);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return reply(ctx, SMFIP_NR_MAIL);
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	if (rcpt_sleep_ms > 0) {
		struct timespec ts = {.tv_sec = rcpt_sleep_ms / 1000, .tv_nsec = (rcpt_sleep_ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return reply(ctx, SMFIP_NR_RCPT);
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return reply(ctx, SMFIP_NR_HDR);
}

static sfsistat on_eom(SMFICTX *ctx)
{
	if (add_headers) {
		smfi_insheader(ctx, 0, "Authentication-Results",
			       "mx.bench.test; iprev=pass policy.iprev=127.2.0.1 (c1.clients.bench.test)");
		smfi_insheader(ctx, 0, "X-DNSGuard", "client=pass helo=ok sender=ok (mx.bench.test)");
	}
	return SMFIS_CONTINUE;
}

static sfsistat on_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_filter = {
	.xxfi_name = "null-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = on_connect,
	.xxfi_helo = on_helo,
	.xxfi_envfrom = on_envfrom,
	.xxfi_envrcpt = on_envrcpt,
	.xxfi_header = on_header,
	.xxfi_eom = on_eom,
	.xxfi_abort = on_abort,
	.xxfi_close = on_close,
	.xxfi_negotiate = on_negotiate,
};

/* libmilter keeps its listening socket to itself; find it (a TCP socket in listening state) and
 * set TCP_NODELAY on it.  Returns how many sockets were changed. */
static int set_listener_nodelay(void)
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

static void usage(FILE *out)
{
	fprintf(out, "usage: null-milter -s unix:/path|inet:port@127.0.0.1 [-l] [-T threads]\n"
		     "  -s SOCKET  where to listen (a stale unix socket is removed)\n"
		     "  -l         lean: skip headers too, ask for no-reply where the MTA offers it\n"
		     "  -T N       accepted for compatibility and ignored\n"
		     "  -a         insert two header fields at end of message, as dnsguard does\n"
		     "  -r MS      sleep MS milliseconds at RCPT, as a filter waiting for DNS does\n"
		     "  -N         TCP_NODELAY on the listening inet socket (inherited by accepted ones)\n");
}

int main(int argc, char **argv)
{
	const char *socket_spec = NULL;
	int opt, nodelay = 0;

	while ((opt = getopt(argc, argv, "s:lT:ar:Nh")) != -1) {
		switch (opt) {
		case 's':
			socket_spec = optarg;
			break;
		case 'l':
			lean = 1;
			break;
		case 'T':
			break;
		case 'a':
			add_headers = 1;
			break;
		case 'r':
			rcpt_sleep_ms = strtol(optarg, NULL, 10);
			break;
		case 'N':
			nodelay = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!socket_spec || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (smfi_register(null_filter) != MI_SUCCESS) {
		fprintf(stderr, "null-milter: smfi_register failed\n");
		return 1;
	}
	if (smfi_setconn((char *)socket_spec) != MI_SUCCESS) {
		fprintf(stderr, "null-milter: bad socket %s\n", socket_spec);
		return 1;
	}
	/* true: remove a stale unix socket left by an earlier run */
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "null-milter: cannot open %s: %s\n", socket_spec, strerror(errno));
		return 1;
	}
	if (nodelay && set_listener_nodelay() == 0)
		fprintf(stderr, "null-milter: -N: no listening inet socket found\n");
	fprintf(stderr, "null-milter: listening on %s%s\n", socket_spec, lean ? " (lean)" : "");
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
