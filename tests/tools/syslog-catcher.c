/*
 * syslog-catcher: a minimal stand-in for a syslog daemon, for the
 * dnsguard integration tests.
 *
 *   usage: syslog-catcher SOCKETPATH OUTFILE
 *
 * The test machines run no syslog daemon, yet libmilter reports its own
 * errors (bind failures, refused option negotiation, ...) only through
 * syslog(3), i.e. as datagrams sent to /dev/log.  This program binds an
 * AF_UNIX SOCK_DGRAM socket at SOCKETPATH (removing a stale one first),
 * makes it writable by everyone (0666) so that unprivileged daemons can log
 * too, and appends every datagram it receives to OUTFILE as exactly one line:
 * the leading "<PRI>" is stripped, the rest of the text is kept, trailing
 * newlines and NULs are dropped and embedded newlines become spaces.  Each
 * line is written with a single write(2) on an O_APPEND descriptor, so it is
 * on disk (in the page cache) as soon as it was received; nothing is
 * buffered.
 *
 * The test harness (tests/lib/harness.sh, h_start_syslog) bind-mounts
 * SOCKETPATH onto /dev/log inside a private mount namespace.
 *
 * SIGTERM, SIGINT and SIGHUP make it remove SOCKETPATH and exit with
 * status 0.  It never sends anything anywhere.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Larger than any datagram syslog(3) or logger(1) send by default. */
#define MAX_DGRAM 65536

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Write all of buf, retrying on short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Turn one datagram (buf[0..len-1], buf has room for len + 1 bytes) into a
 * single output line and return the line's length including the '\n'.
 * *start is set to the first byte of the line.
 */
static size_t format_line(char *buf, size_t len, char **start)
{
    char *p = buf;
    char *end = buf + len;

    /* Strip a leading "<PRI>" (1 to 3 digits) if there is one. */
    if (len >= 3 && p[0] == '<') {
        char *q = p + 1;
        while (q < end && q - p <= 4 && *q >= '0' && *q <= '9')
            q++;
        if (q < end && *q == '>' && q > p + 1)
            p = q + 1;
    }

    /* Drop trailing newlines and NULs (syslog(3) may send either). */
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\0'))
        end--;

    /* Keep the message on one line. */
    for (char *c = p; c < end; c++)
        if (*c == '\n' || *c == '\r' || *c == '\0')
            *c = ' ';

    *end = '\n';
    *start = p;
    return (size_t)(end - p) + 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKETPATH OUTFILE\n", argv[0]);
        return 2;
    }
    const char *sockpath = argv[1];
    const char *outpath = argv[2];

    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(sockpath) >= sizeof sun.sun_path) {
        fprintf(stderr, "syslog-catcher: socket path too long: %s\n", sockpath);
        return 2;
    }
    strcpy(sun.sun_path, sockpath);

    int out = open(outpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) {
        fprintf(stderr, "syslog-catcher: open %s: %s\n", outpath, strerror(errno));
        return 1;
    }

    /*
     * Block the stop signals; they are only delivered inside ppoll(), so a
     * signal can never slip in between the flag check and a blocking wait.
     */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &block, &waitmask) != 0) {
        perror("syslog-catcher: sigprocmask");
        return 1;
    }
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGHUP);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        perror("syslog-catcher: socket");
        return 1;
    }

    /* Remove a stale socket from an earlier run (but nothing else). */
    struct stat st;
    if (lstat(sockpath, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(sockpath);

    if (bind(s, (struct sockaddr *)&sun, sizeof sun) != 0) {
        fprintf(stderr, "syslog-catcher: bind %s: %s\n", sockpath, strerror(errno));
        return 1;
    }
    if (chmod(sockpath, 0666) != 0) {
        fprintf(stderr, "syslog-catcher: chmod %s: %s\n", sockpath, strerror(errno));
        unlink(sockpath);
        return 1;
    }

    static char buf[MAX_DGRAM + 1];
    int status = 0;

    while (!stop_requested) {
        struct pollfd pfd = { .fd = s, .events = POLLIN, .revents = 0 };
        int r = ppoll(&pfd, 1, NULL, &waitmask);
        if (r < 0) {
            if (errno == EINTR)
                continue; /* stop_requested is checked by the loop */
            perror("syslog-catcher: ppoll");
            status = 1;
            break;
        }
        /* Drain everything queued before waiting again. */
        for (;;) {
            ssize_t n = recv(s, buf, MAX_DGRAM, MSG_DONTWAIT);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    perror("syslog-catcher: recv");
                    status = 1;
                    stop_requested = 1;
                }
                break;
            }
            char *line;
            size_t len = format_line(buf, (size_t)n, &line);
            if (write_all(out, line, len) != 0) {
                fprintf(stderr, "syslog-catcher: write %s: %s\n", outpath, strerror(errno));
                status = 1;
                stop_requested = 1;
                break;
            }
        }
    }

    close(s);
    unlink(sockpath);
    close(out);
    return status;
}
