/*
 * dns-responder: a scriptable DNS test responder for the dnsguard
 * integration tests.
 *
 *   usage: dns-responder -l ADDR@PORT -u ADDR@PORT [-T] [-r SUFFIX=ACTION]...
 *                        [-P PIDFILE]
 *
 * It sits in front of a real authoritative server (NSD, "upstream") and by
 * default proxies every query to it unchanged, over the transport the query
 * came in on (UDP to UDP, TCP to TCP), relaying the answer verbatim.  Rules
 * keyed by query-name suffix produce the faults a real server will not:
 *
 *   -l ADDR@PORT   listen on UDP and TCP (both on PORT)
 *   -u ADDR@PORT   the upstream server
 *   -T             do not listen on TCP at all: the kernel refuses connections
 *   -r SUFFIX=ACTION
 *                  the first rule whose SUFFIX matches the query name applies;
 *                  matching is case-insensitive and on label boundaries
 *                  ("ok.test" matches ok.test and a.ok.test, not took.test;
 *                  "." matches every name).  ACTION is one of:
 *       proxy        the default behaviour (useful before a broader rule)
 *       silent       read the query, never answer; over TCP keep the
 *                    connection open until the client closes it
 *       servfail, refused, nxdomain
 *                    answer with that rcode, the question copied, no records
 *       truncate     UDP: TC=1 and no records (as NSD truncates); TCP: proxy
 *       tcp-close    UDP: proxy; TCP: close the connection without answering
 *       delay:MS     proxy, but send the answer MS milliseconds after the query
 *                    arrived; every query is delayed independently
 *       garbage      not a DNS message: the client's id, a header that claims
 *                    one answer, the question, then a record cut off after 3
 *                    bytes
 *       badrdata     NOERROR with one record of the asked type whose RDLENGTH
 *                    runs 252 bytes past the end of the message
 *       mx-loop      MX question: MX 10 <qname> plus A 127.0.0.1 for qname in
 *                    the additional section; A question: A 127.0.0.1; any
 *                    other type: NOERROR without records
 *   -P PIDFILE     write the process id there (removed again at exit)
 *
 * Once its sockets listen it prints "ready" on stdout.  Every query gets one
 * line on stderr: "TRANSPORT QNAME QTYPE ACTION", e.g. "udp ok.test MX proxy",
 * where ACTION is what was done for this transport (a truncate rule logs
 * "proxy" over TCP); a query without a readable question logs "- -" and is
 * proxied.  Problems (an upstream that does not answer, ...) are logged as
 * "dns-responder: warning: ..." lines.
 *
 * Only loopback addresses (127.0.0.0/8, ::1) are accepted: this is a test
 * tool and must never talk to anything else.  Argument errors exit 2,
 * failures to set up (bind) exit 1, SIGTERM and SIGINT exit 0 within a few
 * milliseconds.
 *
 * Structure: the main thread polls the UDP socket, the TCP listener and a
 * stop pipe (written by the signal handler and never read, so every thread
 * that polls it sees it).  Synthetic answers are sent at once from the thread
 * that read the query.  A query to be proxied gets a thread of its own
 * (upstream exchange, optional delay, reply), so slow queries never hold up
 * others; each TCP connection has a reader thread, and its replies are
 * written under a per-connection lock, in whatever order they are ready.
 * Every wait in every thread also watches the stop pipe.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#define PROGRAM "dns-responder"
#define DNS_HEADER_SIZE 12
#define DNS_MAX_MESSAGE 65535
#define DNS_MAX_NAME 255
#define UPSTREAM_TIMEOUT_MS 5000
#define TCP_IO_TIMEOUT_MS 10000
#define MAX_DELAY_MS 600000
#define MAX_THREADS 2000
#define THREAD_STACK_SIZE (256 * 1024)
#define SHUTDOWN_GRACE_MS 150
#define UDP_RECV_BUFFER (1 << 20)

enum responder_action {
    ACTION_PROXY,
    ACTION_SILENT,
    ACTION_SERVFAIL,
    ACTION_REFUSED,
    ACTION_NXDOMAIN,
    ACTION_TRUNCATE,
    ACTION_TCP_CLOSE,
    ACTION_DELAY,
    ACTION_GARBAGE,
    ACTION_BADRDATA,
    ACTION_MX_LOOP,
};

enum transport {
    TRANSPORT_UDP,
    TRANSPORT_TCP,
};

enum io_result {
    IO_OK,
    IO_EOF,
    IO_TIMEOUT,
    IO_STOP,
    IO_ERROR,
};

struct rule {
    uint8_t suffix[DNS_MAX_NAME];   /* wire format, lower case */
    size_t suffix_len;
    enum responder_action action;
    unsigned delay_ms;
};

struct endpoint {
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

struct settings {
    struct endpoint listen;
    struct endpoint upstream;
    bool listen_given;
    bool upstream_given;
    bool no_tcp;
    struct rule *rules;
    size_t nrules;
    const char *pidfile;
};

/* The question of a query, as far as the rules and the log need it. */
struct query {
    bool parsed;
    uint8_t qname_lower[DNS_MAX_NAME];
    size_t qname_len;               /* wire length, starting at offset 12 */
    size_t question_end;            /* offset just after the first question */
    uint16_t qtype;
    uint16_t qclass;
    char *qname_text;               /* for the log: "ok.test", "-" */
    char *qtype_text;               /* "MX", "TYPE65280", "-" */
};

/* A TCP client connection: one reader thread plus any number of workers. */
struct tcp_conn {
    int fd;
    pthread_mutex_t lock;
    unsigned refs;
    bool closed;
};

/* Where an answer goes. */
struct reply_target {
    enum transport transport;
    int udp_fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    struct tcp_conn *conn;
};

/* A query to be proxied, owned by its worker thread. */
struct job {
    struct reply_target target;
    enum responder_action action;
    unsigned delay_ms;
    struct timespec arrival;
    uint8_t *query;
    size_t query_len;
    char *label;                    /* "udp ok.test MX", for warnings */
};

static struct settings settings;
static int stop_pipe[2] = {-1, -1};

static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t threads_idle = PTHREAD_COND_INITIALIZER;
static unsigned threads_live;

/* ---- small helpers ---------------------------------------------------------------------- */

static const char *action_name(enum responder_action action)
{
    switch (action) {
    case ACTION_PROXY: return "proxy";
    case ACTION_SILENT: return "silent";
    case ACTION_SERVFAIL: return "servfail";
    case ACTION_REFUSED: return "refused";
    case ACTION_NXDOMAIN: return "nxdomain";
    case ACTION_TRUNCATE: return "truncate";
    case ACTION_TCP_CLOSE: return "tcp-close";
    case ACTION_DELAY: return "delay";
    case ACTION_GARBAGE: return "garbage";
    case ACTION_BADRDATA: return "badrdata";
    case ACTION_MX_LOOP: return "mx-loop";
    }
    return "?";
}

static const char *transport_name(enum transport transport)
{
    switch (transport) {
    case TRANSPORT_UDP: return "udp";
    case TRANSPORT_TCP: return "tcp";
    }
    return "?";
}

static const char *io_result_name(enum io_result result)
{
    switch (result) {
    case IO_OK: return "ok";
    case IO_EOF: return "connection closed";
    case IO_TIMEOUT: return "timeout";
    case IO_STOP: return "stopping";
    case IO_ERROR: return "error";
    }
    return "?";
}

/* One line to stderr with a single write(2), so that threads never mix lines. */
static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)(sizeof line - 2);
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nowhere left to report it */
    }
}

static struct timespec time_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}

static struct timespec time_add_ms(struct timespec t, long ms)
{
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Milliseconds from now until deadline, rounded up, 0 if it has passed. */
static int time_ms_until(const struct timespec *deadline)
{
    struct timespec now = time_now();
    long long ns = (long long)(deadline->tv_sec - now.tv_sec) * 1000000000LL +
                   (deadline->tv_nsec - now.tv_nsec);
    long long ms;

    if (ns <= 0)
        return 0;
    ms = (ns + 999999LL) / 1000000LL;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static uint16_t wire_u16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint8_t *wire_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *wire_put_u32(uint8_t *p, uint32_t v)
{
    p = wire_put_u16(p, (uint16_t)(v >> 16));
    return wire_put_u16(p, (uint16_t)v);
}

/* ---- waiting: every wait also watches the stop pipe ------------------------------------- */

/*
 * Wait until fd (or nothing, if fd < 0) is ready for events, the deadline
 * (none if NULL) passes, or a stop was requested.  Returns IO_OK, IO_TIMEOUT,
 * IO_STOP or IO_ERROR.
 */
static enum io_result wait_ready(int fd, short events, const struct timespec *deadline)
{
    for (;;) {
        struct pollfd pfd[2] = {
            {.fd = stop_pipe[0], .events = POLLIN},
            {.fd = fd, .events = events},
        };
        int timeout = deadline ? time_ms_until(deadline) : -1;
        int n = poll(pfd, fd >= 0 ? 2 : 1, timeout);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return IO_ERROR;
        }
        if (pfd[0].revents)
            return IO_STOP;
        if (n > 0 && fd >= 0 && pfd[1].revents)
            return IO_OK;
        if (deadline && time_ms_until(deadline) == 0)
            return IO_TIMEOUT;
    }
}

/* Read exactly len bytes from a non-blocking stream socket. */
static enum io_result stream_read_full(int fd, uint8_t *buf, size_t len,
                                       const struct timespec *deadline)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == 0)
            return IO_EOF;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            enum io_result r = wait_ready(fd, POLLIN, deadline);
            if (r != IO_OK)
                return r;
            continue;
        }
        return errno == ECONNRESET ? IO_EOF : IO_ERROR;
    }
    return IO_OK;
}

/* Write all of buf to a non-blocking stream socket. */
static enum io_result stream_write_all(int fd, const uint8_t *buf, size_t len,
                                       const struct timespec *deadline)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            enum io_result r = wait_ready(fd, POLLOUT, deadline);
            if (r != IO_OK)
                return r;
            continue;
        }
        return errno == EPIPE || errno == ECONNRESET ? IO_EOF : IO_ERROR;
    }
    return IO_OK;
}

/* Write one DNS message with its 2-byte length prefix. */
static enum io_result stream_write_message(int fd, const uint8_t *msg, size_t len,
                                           const struct timespec *deadline)
{
    uint8_t *buf;
    enum io_result r;

    if (len > DNS_MAX_MESSAGE)
        return IO_ERROR;
    buf = malloc(len + 2);
    if (!buf)
        return IO_ERROR;
    wire_put_u16(buf, (uint16_t)len);
    memcpy(buf + 2, msg, len);
    r = stream_write_all(fd, buf, len + 2, deadline);
    free(buf);
    return r;
}

/* ---- threads ---------------------------------------------------------------------------- */

/*
 * Start a detached thread, counted in threads_live, with every signal
 * blocked (the signal handler then runs in the main thread only).  Fails
 * when MAX_THREADS are running.
 */
static int thread_start(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_t tid;
    int rc;

    pthread_mutex_lock(&threads_lock);
    if (threads_live >= MAX_THREADS) {
        pthread_mutex_unlock(&threads_lock);
        return -1;
    }
    threads_live++;
    pthread_mutex_unlock(&threads_lock);

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&tid, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_lock(&threads_lock);
        threads_live--;
        pthread_cond_broadcast(&threads_idle);
        pthread_mutex_unlock(&threads_lock);
        return -1;
    }
    return 0;
}

/* The last thing a thread from thread_start does. */
static void thread_finish(void)
{
    pthread_mutex_lock(&threads_lock);
    if (--threads_live == 0)
        pthread_cond_broadcast(&threads_idle);
    pthread_mutex_unlock(&threads_lock);
}

/* Wait (bounded) until every thread has finished; true if they all did. */
static bool threads_wait_idle(int timeout_ms)
{
    struct timespec deadline;
    bool idle;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline = time_add_ms(deadline, timeout_ms);
    pthread_mutex_lock(&threads_lock);
    while (threads_live > 0)
        if (pthread_cond_timedwait(&threads_idle, &threads_lock, &deadline) == ETIMEDOUT)
            break;
    idle = threads_live == 0;
    pthread_mutex_unlock(&threads_lock);
    return idle;
}

/* ---- TCP connections -------------------------------------------------------------------- */

static struct tcp_conn *tcp_conn_new(int fd)
{
    struct tcp_conn *conn = calloc(1, sizeof *conn);

    if (!conn)
        return NULL;
    conn->fd = fd;
    conn->refs = 1;
    pthread_mutex_init(&conn->lock, NULL);
    return conn;
}

static void tcp_conn_hold(struct tcp_conn *conn)
{
    pthread_mutex_lock(&conn->lock);
    conn->refs++;
    pthread_mutex_unlock(&conn->lock);
}

static void tcp_conn_release(struct tcp_conn *conn)
{
    bool last;

    pthread_mutex_lock(&conn->lock);
    last = --conn->refs == 0;
    pthread_mutex_unlock(&conn->lock);
    if (!last)
        return;
    close(conn->fd);
    pthread_mutex_destroy(&conn->lock);
    free(conn);
}

/* Close the connection without answering; the reader sees end of file. */
static void tcp_conn_shut(struct tcp_conn *conn)
{
    pthread_mutex_lock(&conn->lock);
    if (!conn->closed) {
        conn->closed = true;
        shutdown(conn->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&conn->lock);
}

static enum io_result tcp_conn_send(struct tcp_conn *conn, const uint8_t *msg, size_t len)
{
    struct timespec deadline = time_add_ms(time_now(), TCP_IO_TIMEOUT_MS);
    enum io_result r = IO_EOF;

    pthread_mutex_lock(&conn->lock);
    if (!conn->closed)
        r = stream_write_message(conn->fd, msg, len, &deadline);
    pthread_mutex_unlock(&conn->lock);
    return r;
}

/* ---- replies ---------------------------------------------------------------------------- */

static void reply_target_copy(struct reply_target *dst, const struct reply_target *src)
{
    *dst = *src;
    if (dst->conn)
        tcp_conn_hold(dst->conn);
}

static void reply_target_clear(struct reply_target *target)
{
    if (target->conn)
        tcp_conn_release(target->conn);
    target->conn = NULL;
}

static void reply_send(const struct reply_target *target, const uint8_t *msg, size_t len,
                       const char *label)
{
    enum io_result r;

    switch (target->transport) {
    case TRANSPORT_UDP:
        if (sendto(target->udp_fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&target->peer,
                   target->peer_len) < 0)
            log_line(PROGRAM ": warning: %s: cannot send the answer: %s", label, strerror(errno));
        return;
    case TRANSPORT_TCP:
        r = tcp_conn_send(target->conn, msg, len);
        if (r != IO_OK && r != IO_STOP)
            log_line(PROGRAM ": warning: %s: cannot send the answer: %s", label,
                     io_result_name(r));
        return;
    }
}

/* ---- queries and rules ------------------------------------------------------------------ */

static void query_clear(struct query *q)
{
    free(q->qname_text);
    free(q->qtype_text);
    memset(q, 0, sizeof *q);
}

/*
 * Find the first question of a DNS message.  Names in a query are not
 * compressed; a query whose question cannot be read has parsed = false.
 * The texts are always set (to "-" when unknown) unless memory ran out.
 */
static void query_parse(struct query *q, const uint8_t *wire, size_t len)
{
    size_t off = DNS_HEADER_SIZE;
    ldns_rdf *name;
    char *text;

    memset(q, 0, sizeof *q);
    if (len >= DNS_HEADER_SIZE && wire_u16(wire + 4) > 0) {
        for (;;) {
            uint8_t label;
            if (off >= len || off - DNS_HEADER_SIZE >= DNS_MAX_NAME)
                break;
            label = wire[off];
            if (label == 0) {
                off++;
                q->parsed = off + 4 <= len;
                break;
            }
            if (label > 63 || off + 1 + label > len)
                break;
            off += 1 + (size_t)label;
        }
    }
    if (q->parsed) {
        size_t i;
        q->qname_len = off - DNS_HEADER_SIZE;
        /* ASCII lower case; length bytes (0..63) are never letters. */
        for (i = 0; i < q->qname_len; i++) {
            uint8_t c = wire[DNS_HEADER_SIZE + i];
            q->qname_lower[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
        }
        q->qtype = wire_u16(wire + off);
        q->qclass = wire_u16(wire + off + 2);
        q->question_end = off + 4;

        name = ldns_dname_new_frm_data((uint16_t)q->qname_len, wire + DNS_HEADER_SIZE);
        text = name ? ldns_rdf2str(name) : NULL;
        ldns_rdf_deep_free(name);
        if (text) {
            size_t n = strlen(text);
            if (n > 1 && text[n - 1] == '.')
                text[n - 1] = '\0';
            q->qname_text = text;
        }
        q->qtype_text = ldns_rr_type2str((ldns_rr_type)q->qtype);
    }
    if (!q->qname_text)
        q->qname_text = strdup("-");
    if (!q->qtype_text)
        q->qtype_text = strdup("-");
}

/* Does the rule's suffix match the query name on a label boundary? */
static bool rule_matches(const struct rule *rule, const struct query *q)
{
    size_t start, off = 0;

    if (rule->suffix_len > q->qname_len)
        return false;
    start = q->qname_len - rule->suffix_len;
    while (off < start)
        off += 1 + (size_t)q->qname_lower[off];
    return off == start && memcmp(q->qname_lower + off, rule->suffix, rule->suffix_len) == 0;
}

static const struct rule *rule_find(const struct query *q)
{
    size_t i;

    if (!q->parsed)
        return NULL;
    for (i = 0; i < settings.nrules; i++)
        if (rule_matches(&settings.rules[i], q))
            return &settings.rules[i];
    return NULL;
}

/* What a rule means on a given transport. */
static enum responder_action action_for_transport(enum responder_action action,
                                                  enum transport transport)
{
    if (action == ACTION_TRUNCATE && transport == TRANSPORT_TCP)
        return ACTION_PROXY;
    if (action == ACTION_TCP_CLOSE && transport == TRANSPORT_UDP)
        return ACTION_PROXY;
    return action;
}

/* ---- synthetic answers ------------------------------------------------------------------ */

#define FLAG_QR 0x80
#define FLAG_AA 0x04
#define FLAG_TC 0x02
#define FLAG_RD 0x01
#define RCODE_NOERROR 0
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3
#define RCODE_REFUSED 5
#define NAME_POINTER_QNAME 0xC00C   /* the question's name at offset 12 */
#define ANSWER_TTL 300

/*
 * Start an answer to query q: header (id, opcode and RD of the query; the
 * given flags and rcode; qdcount 1; the given counts) and the question
 * copied, with room for extra more bytes.  *end points after the question.
 */
static uint8_t *answer_start(const uint8_t *query, const struct query *q, uint8_t flags,
                             uint8_t rcode, uint16_t ancount, uint16_t arcount, size_t extra,
                             uint8_t **end)
{
    uint8_t *msg = malloc(q->question_end + extra);
    uint8_t *p;

    if (!msg)
        return NULL;
    memcpy(msg, query, 2);
    msg[2] = (uint8_t)(FLAG_QR | (query[2] & 0x78) | (query[2] & FLAG_RD) | flags);
    msg[3] = rcode;
    p = wire_put_u16(msg + 4, 1);
    p = wire_put_u16(p, ancount);
    p = wire_put_u16(p, 0);
    p = wire_put_u16(p, arcount);
    memcpy(p, query + DNS_HEADER_SIZE, q->question_end - DNS_HEADER_SIZE);
    *end = msg + q->question_end;
    return msg;
}

/* A record header for the question's name: pointer, type, class, TTL, RDLENGTH. */
static uint8_t *answer_put_rr(uint8_t *p, uint16_t type, uint16_t class, uint16_t rdlength)
{
    p = wire_put_u16(p, NAME_POINTER_QNAME);
    p = wire_put_u16(p, type);
    p = wire_put_u16(p, class);
    p = wire_put_u32(p, ANSWER_TTL);
    return wire_put_u16(p, rdlength);
}

static uint8_t *answer_put_localhost_a(uint8_t *p, uint16_t class)
{
    static const uint8_t loopback[4] = {127, 0, 0, 1};

    p = answer_put_rr(p, LDNS_RR_TYPE_A, class, sizeof loopback);
    memcpy(p, loopback, sizeof loopback);
    return p + sizeof loopback;
}

/* Build the synthetic answer for action; NULL if out of memory. */
static uint8_t *answer_build(enum responder_action action, const uint8_t *query,
                             const struct query *q, size_t *len)
{
    uint8_t *msg = NULL, *p = NULL;

    switch (action) {
    case ACTION_SERVFAIL:
        msg = answer_start(query, q, 0, RCODE_SERVFAIL, 0, 0, 0, &p);
        break;
    case ACTION_REFUSED:
        msg = answer_start(query, q, 0, RCODE_REFUSED, 0, 0, 0, &p);
        break;
    case ACTION_NXDOMAIN:
        msg = answer_start(query, q, FLAG_AA, RCODE_NXDOMAIN, 0, 0, 0, &p);
        break;
    case ACTION_TRUNCATE:
        msg = answer_start(query, q, FLAG_AA | FLAG_TC, RCODE_NOERROR, 0, 0, 0, &p);
        break;
    case ACTION_GARBAGE:
        /* one answer announced, but the record stops in the middle of its type */
        msg = answer_start(query, q, FLAG_AA, RCODE_NOERROR, 1, 0, 3, &p);
        if (msg) {
            p = wire_put_u16(p, NAME_POINTER_QNAME);
            *p++ = 0;
        }
        break;
    case ACTION_BADRDATA:
        /* RDLENGTH 256, but only 4 bytes of rdata follow */
        msg = answer_start(query, q, FLAG_AA, RCODE_NOERROR, 1, 0, 12 + 4, &p);
        if (msg) {
            p = answer_put_rr(p, q->qtype, q->qclass, 256);
            memset(p, 0x7f, 4);
            p += 4;
        }
        break;
    case ACTION_MX_LOOP:
        if (q->qtype == LDNS_RR_TYPE_MX) {
            msg = answer_start(query, q, FLAG_AA, RCODE_NOERROR, 1, 1, 12 + 4 + 12 + 4, &p);
            if (msg) {
                p = answer_put_rr(p, LDNS_RR_TYPE_MX, q->qclass, 4);
                p = wire_put_u16(p, 10);
                p = wire_put_u16(p, NAME_POINTER_QNAME);
                p = answer_put_localhost_a(p, q->qclass);
            }
        } else if (q->qtype == LDNS_RR_TYPE_A) {
            msg = answer_start(query, q, FLAG_AA, RCODE_NOERROR, 1, 0, 12 + 4, &p);
            if (msg)
                p = answer_put_localhost_a(p, q->qclass);
        } else {
            msg = answer_start(query, q, FLAG_AA, RCODE_NOERROR, 0, 0, 0, &p);
        }
        break;
    case ACTION_PROXY:
    case ACTION_SILENT:
    case ACTION_TCP_CLOSE:
    case ACTION_DELAY:
        break;
    }
    if (!msg)
        return NULL;
    *len = (size_t)(p - msg);
    return msg;
}

/* ---- upstream --------------------------------------------------------------------------- */

static int upstream_socket(int type)
{
    const struct endpoint *up = &settings.upstream;
    int fd = socket(up->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&up->addr, up->addr_len) < 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Ask upstream over UDP; the answer (malloc'd) must carry the query's id. */
static enum io_result upstream_ask_udp(const uint8_t *query, size_t len, uint8_t **answer,
                                       size_t *answer_len)
{
    struct timespec deadline = time_add_ms(time_now(), UPSTREAM_TIMEOUT_MS);
    uint8_t *buf;
    enum io_result r = IO_ERROR;
    int fd = upstream_socket(SOCK_DGRAM);

    if (fd < 0)
        return IO_ERROR;
    buf = malloc(DNS_MAX_MESSAGE);
    if (!buf || send(fd, query, len, MSG_NOSIGNAL) < 0) {
        free(buf);
        close(fd);
        return IO_ERROR;
    }
    for (;;) {
        ssize_t n = recv(fd, buf, DNS_MAX_MESSAGE, 0);
        if (n >= 2 && memcmp(buf, query, 2) == 0) {
            *answer = buf;
            *answer_len = (size_t)n;
            close(fd);
            return IO_OK;
        }
        if (n >= 0 || errno == EINTR)
            continue;               /* a stray datagram */
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            r = errno == ECONNREFUSED ? IO_EOF : IO_ERROR;
            break;
        }
        r = wait_ready(fd, POLLIN, &deadline);
        if (r != IO_OK)
            break;
    }
    free(buf);
    close(fd);
    return r;
}

/* Ask upstream over TCP, one connection per query. */
static enum io_result upstream_ask_tcp(const uint8_t *query, size_t len, uint8_t **answer,
                                       size_t *answer_len)
{
    struct timespec deadline = time_add_ms(time_now(), UPSTREAM_TIMEOUT_MS);
    uint8_t prefix[2];
    uint8_t *buf = NULL;
    enum io_result r;
    int err = 0;
    socklen_t err_len = sizeof err;
    int fd = upstream_socket(SOCK_STREAM);

    if (fd < 0)
        return IO_ERROR;
    r = wait_ready(fd, POLLOUT, &deadline);
    if (r == IO_OK && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 || err != 0))
        r = err == ECONNREFUSED ? IO_EOF : IO_ERROR;
    if (r == IO_OK)
        r = stream_write_message(fd, query, len, &deadline);
    if (r == IO_OK)
        r = stream_read_full(fd, prefix, 2, &deadline);
    if (r == IO_OK) {
        size_t n = wire_u16(prefix);
        buf = malloc(n ? n : 1);
        if (!buf)
            r = IO_ERROR;
        else
            r = stream_read_full(fd, buf, n, &deadline);
        *answer_len = n;
    }
    close(fd);
    if (r != IO_OK) {
        free(buf);
        return r;
    }
    *answer = buf;
    return IO_OK;
}

/* ---- proxied queries -------------------------------------------------------------------- */

static void job_free(struct job *job)
{
    reply_target_clear(&job->target);
    free(job->query);
    free(job->label);
    free(job);
}

static void *job_main(void *arg)
{
    struct job *job = arg;
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    enum io_result r;

    if (job->target.transport == TRANSPORT_UDP)
        r = upstream_ask_udp(job->query, job->query_len, &answer, &answer_len);
    else
        r = upstream_ask_tcp(job->query, job->query_len, &answer, &answer_len);
    if (r == IO_OK && job->action == ACTION_DELAY) {
        struct timespec when = time_add_ms(job->arrival, (long)job->delay_ms);
        if (wait_ready(-1, 0, &when) == IO_STOP)
            r = IO_STOP;
    }
    if (r == IO_OK) {
        if (answer_len >= 2)
            memcpy(answer, job->query, 2);  /* the client's id */
        reply_send(&job->target, answer, answer_len, job->label);
    } else if (r != IO_STOP) {
        log_line(PROGRAM ": warning: %s: no answer from upstream: %s", job->label,
                 io_result_name(r));
    }
    free(answer);
    job_free(job);
    thread_finish();
    return NULL;
}

/*
 * Handle one query that has just been read (query is malloc'd and taken
 * over): pick the rule, log, and answer, drop, close or hand it to a
 * worker thread.
 */
static void query_dispatch(uint8_t *query, size_t len, struct timespec arrival,
                           const struct reply_target *target)
{
    struct query q;
    const struct rule *rule;
    enum responder_action action;
    unsigned delay_ms = 0;
    char label[1200];
    uint8_t *answer;
    size_t answer_len = 0;
    struct job *job;

    query_parse(&q, query, len);
    rule = rule_find(&q);
    action = rule ? action_for_transport(rule->action, target->transport) : ACTION_PROXY;
    if (action == ACTION_DELAY)
        delay_ms = rule->delay_ms;
    snprintf(label, sizeof label, "%s %s %s", transport_name(target->transport),
             q.qname_text ? q.qname_text : "-", q.qtype_text ? q.qtype_text : "-");
    if (action == ACTION_DELAY)
        log_line("%s delay:%u", label, delay_ms);
    else
        log_line("%s %s", label, action_name(action));

    switch (action) {
    case ACTION_SILENT:
        break;
    case ACTION_TCP_CLOSE:
        tcp_conn_shut(target->conn);
        break;
    case ACTION_SERVFAIL:
    case ACTION_REFUSED:
    case ACTION_NXDOMAIN:
    case ACTION_TRUNCATE:
    case ACTION_GARBAGE:
    case ACTION_BADRDATA:
    case ACTION_MX_LOOP:
        answer = answer_build(action, query, &q, &answer_len);
        if (answer)
            reply_send(target, answer, answer_len, label);
        else
            log_line(PROGRAM ": warning: %s: out of memory", label);
        free(answer);
        break;
    case ACTION_PROXY:
    case ACTION_DELAY:
        job = calloc(1, sizeof *job);
        if (!job || !(job->label = strdup(label))) {
            free(job);
            log_line(PROGRAM ": warning: %s: out of memory", label);
            break;
        }
        reply_target_copy(&job->target, target);
        job->action = action;
        job->delay_ms = delay_ms;
        job->arrival = arrival;
        job->query = query;
        job->query_len = len;
        query = NULL;
        if (thread_start(job_main, job) != 0) {
            log_line(PROGRAM ": warning: %s: too many queries in flight, dropped", label);
            job_free(job);
        }
        break;
    }
    free(query);
    query_clear(&q);
}

/* ---- listeners -------------------------------------------------------------------------- */

static void *tcp_conn_main(void *arg)
{
    struct tcp_conn *conn = arg;
    struct reply_target target = {.transport = TRANSPORT_TCP, .udp_fd = -1, .conn = conn};

    for (;;) {
        uint8_t prefix[2];
        struct timespec deadline;
        uint8_t *query;
        size_t len;

        if (stream_read_full(conn->fd, prefix, 2, NULL) != IO_OK)
            break;
        len = wire_u16(prefix);
        if (len == 0)
            break;
        query = malloc(len);
        if (!query)
            break;
        deadline = time_add_ms(time_now(), TCP_IO_TIMEOUT_MS);
        if (stream_read_full(conn->fd, query, len, &deadline) != IO_OK) {
            free(query);
            break;
        }
        query_dispatch(query, len, time_now(), &target);
    }
    tcp_conn_release(conn);
    thread_finish();
    return NULL;
}

static void tcp_accept_one(int listen_fd)
{
    struct tcp_conn *conn;
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            struct timespec pause = time_add_ms(time_now(), 50);
            log_line(PROGRAM ": warning: accept: %s", strerror(errno));
            wait_ready(-1, 0, &pause);
        }
        return;
    }
    conn = tcp_conn_new(fd);
    if (!conn) {
        close(fd);
        return;
    }
    if (thread_start(tcp_conn_main, conn) != 0) {
        log_line(PROGRAM ": warning: too many connections in flight, one closed");
        tcp_conn_release(conn);
    }
}

static void udp_receive_some(int fd, uint8_t *buf)
{
    int i;

    for (i = 0; i < 64; i++) {
        struct reply_target target = {.transport = TRANSPORT_UDP, .udp_fd = fd};
        ssize_t n;
        uint8_t *query;

        target.peer_len = sizeof target.peer;
        n = recvfrom(fd, buf, DNS_MAX_MESSAGE, 0, (struct sockaddr *)&target.peer,
                     &target.peer_len);
        if (n < 0)
            return;                 /* EAGAIN: drained */
        if (n == 0)
            continue;
        query = malloc((size_t)n);
        if (!query)
            continue;
        memcpy(query, buf, (size_t)n);
        query_dispatch(query, (size_t)n, time_now(), &target);
    }
}

static int listen_socket(int type, char *err, size_t errlen)
{
    const struct endpoint *ep = &settings.listen;
    const char *what = type == SOCK_DGRAM ? "UDP" : "TCP";
    int one = 1;
    int fd = socket(ep->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        snprintf(err, errlen, "cannot create a %s socket: %s", what, strerror(errno));
        return -1;
    }
    if (type == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    else {
        int size = UDP_RECV_BUFFER;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    if (ep->addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&ep->addr, ep->addr_len) < 0) {
        snprintf(err, errlen, "cannot bind %s to the -l address: %s", what, strerror(errno));
        close(fd);
        return -1;
    }
    if (type == SOCK_STREAM && listen(fd, 512) < 0) {
        snprintf(err, errlen, "cannot listen on TCP: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- command line ----------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROGRAM " -l ADDR@PORT -u ADDR@PORT [-T] [-r SUFFIX=ACTION]... [-P PIDFILE]\n"
            "  -l  listen on UDP and TCP (loopback only)\n"
            "  -u  upstream server to proxy to (loopback only)\n"
            "  -T  do not listen on TCP\n"
            "  -r  rule; ACTION: proxy silent servfail refused nxdomain truncate tcp-close\n"
            "      delay:MS garbage badrdata mx-loop\n"
            "  -P  write the process id to PIDFILE\n");
}

/* Parse "ADDR@PORT" (loopback only) into ep. */
static bool endpoint_parse(struct endpoint *ep, const char *opt, const char *text, char *err,
                           size_t errlen)
{
    const char *at = strrchr(text, '@');
    char host[INET6_ADDRSTRLEN];
    char *end;
    unsigned long port;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ep->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->addr;

    memset(ep, 0, sizeof *ep);
    if (!at || at == text || (size_t)(at - text) >= sizeof host) {
        snprintf(err, errlen, "%s: expected ADDR@PORT, e.g. 127.0.0.1@5353, got '%s'", opt, text);
        return false;
    }
    memcpy(host, text, (size_t)(at - text));
    host[at - text] = '\0';
    errno = 0;
    port = strtoul(at + 1, &end, 10);
    if (at[1] < '0' || at[1] > '9' || *end != '\0' || errno != 0 || port < 1 || port > 65535) {
        snprintf(err, errlen, "%s: '%s' is not a port number (1-65535)", opt, at + 1);
        return false;
    }
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
            snprintf(err, errlen, "%s: %s is not a loopback address (127.0.0.0/8 or ::1 only)",
                     opt, host);
            return false;
        }
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        ep->addr_len = sizeof *sin;
        return true;
    }
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            snprintf(err, errlen, "%s: %s is not a loopback address (127.0.0.0/8 or ::1 only)",
                     opt, host);
            return false;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        ep->addr_len = sizeof *sin6;
        return true;
    }
    snprintf(err, errlen, "%s: '%s' is not an IPv4 or IPv6 address", opt, host);
    return false;
}

static bool action_parse(struct rule *rule, const char *text, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        enum responder_action action;
    } names[] = {
        {"proxy", ACTION_PROXY},       {"silent", ACTION_SILENT},
        {"servfail", ACTION_SERVFAIL}, {"refused", ACTION_REFUSED},
        {"nxdomain", ACTION_NXDOMAIN}, {"truncate", ACTION_TRUNCATE},
        {"tcp-close", ACTION_TCP_CLOSE}, {"garbage", ACTION_GARBAGE},
        {"badrdata", ACTION_BADRDATA}, {"mx-loop", ACTION_MX_LOOP},
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(text, names[i].name) == 0) {
            rule->action = names[i].action;
            return true;
        }
    }
    if (strncmp(text, "delay:", 6) == 0) {
        const char *ms = text + 6;
        char *end;
        unsigned long v;
        errno = 0;
        v = strtoul(ms, &end, 10);
        if (*ms < '0' || *ms > '9' || *end != '\0' || errno != 0 || v > MAX_DELAY_MS) {
            snprintf(err, errlen, "-r: delay needs milliseconds 0-%d, e.g. delay:500, got '%s'",
                     MAX_DELAY_MS, text);
            return false;
        }
        rule->action = ACTION_DELAY;
        rule->delay_ms = (unsigned)v;
        return true;
    }
    snprintf(err, errlen,
             "-r: unknown action '%s' (proxy, silent, servfail, refused, nxdomain, truncate, "
             "tcp-close, delay:MS, garbage, badrdata, mx-loop)", text);
    return false;
}

/* Parse "SUFFIX=ACTION" and append it to settings.rules. */
static bool rule_add(const char *text, char *err, size_t errlen)
{
    const char *eq = strrchr(text, '=');
    struct rule rule;
    struct rule *grown;
    char *suffix;
    ldns_rdf *name;
    size_t i;

    memset(&rule, 0, sizeof rule);
    if (!eq || eq == text) {
        snprintf(err, errlen, "-r: expected SUFFIX=ACTION, e.g. ok.test=servfail, got '%s'",
                 text);
        return false;
    }
    if (!action_parse(&rule, eq + 1, err, errlen))
        return false;
    suffix = strndup(text, (size_t)(eq - text));
    if (!suffix) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    name = ldns_dname_new_frm_str(suffix);
    if (!name || ldns_rdf_size(name) > DNS_MAX_NAME || ldns_rdf_size(name) == 0) {
        snprintf(err, errlen, "-r: '%s' is not a domain name", suffix);
        ldns_rdf_deep_free(name);
        free(suffix);
        return false;
    }
    free(suffix);
    rule.suffix_len = ldns_rdf_size(name);
    memcpy(rule.suffix, ldns_rdf_data(name), rule.suffix_len);
    ldns_rdf_deep_free(name);
    for (i = 0; i < rule.suffix_len; i++)
        if (rule.suffix[i] >= 'A' && rule.suffix[i] <= 'Z')
            rule.suffix[i] = (uint8_t)(rule.suffix[i] + 32);

    grown = realloc(settings.rules, (settings.nrules + 1) * sizeof *grown);
    if (!grown) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    settings.rules = grown;
    settings.rules[settings.nrules++] = rule;
    return true;
}

static bool settings_parse(int argc, char **argv, char *err, size_t errlen)
{
    int c;

    opterr = 0;
    while ((c = getopt(argc, argv, ":l:u:Tr:P:h")) != -1) {
        switch (c) {
        case 'l':
            if (settings.listen_given) {
                snprintf(err, errlen, "-l given twice");
                return false;
            }
            if (!endpoint_parse(&settings.listen, "-l", optarg, err, errlen))
                return false;
            settings.listen_given = true;
            break;
        case 'u':
            if (settings.upstream_given) {
                snprintf(err, errlen, "-u given twice");
                return false;
            }
            if (!endpoint_parse(&settings.upstream, "-u", optarg, err, errlen))
                return false;
            settings.upstream_given = true;
            break;
        case 'T':
            settings.no_tcp = true;
            break;
        case 'r':
            if (!rule_add(optarg, err, errlen))
                return false;
            break;
        case 'P':
            if (!*optarg) {
                snprintf(err, errlen, "-P: empty file name");
                return false;
            }
            settings.pidfile = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            snprintf(err, errlen, "-%c needs an argument", optopt);
            return false;
        default:
            snprintf(err, errlen, "unknown option -%c", optopt);
            return false;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return false;
    }
    if (!settings.listen_given || !settings.upstream_given) {
        snprintf(err, errlen, "-l and -u are required");
        return false;
    }
    return true;
}

/* ---- main ------------------------------------------------------------------------------- */

static void on_stop_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;

    if (write(stop_pipe[1], &c, 1) < 0) {
        /* the pipe is full: a stop is pending anyway */
    }
    errno = saved;
}

static bool signals_setup(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return false;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL) == 0;
}

static bool pidfile_write(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");

    if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        snprintf(err, errlen, "cannot write the pid file %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return false;
    }
    return true;
}

/* Poll the listeners until a stop is requested. */
static void serve(int udp_fd, int tcp_fd, uint8_t *buf)
{
    for (;;) {
        struct pollfd pfd[3] = {
            {.fd = stop_pipe[0], .events = POLLIN},
            {.fd = udp_fd, .events = POLLIN},
            {.fd = tcp_fd, .events = POLLIN},   /* -1 with -T: ignored */
        };
        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_line(PROGRAM ": poll: %s", strerror(errno));
            return;
        }
        if (pfd[0].revents)
            return;
        if (pfd[1].revents)
            udp_receive_some(udp_fd, buf);
        if (pfd[2].revents)
            tcp_accept_one(tcp_fd);
    }
}

int main(int argc, char **argv)
{
    char err[512];
    int udp_fd = -1, tcp_fd = -1, status = 1;
    uint8_t *buf = NULL;
    bool pidfile_written = false;

    if (!settings_parse(argc, argv, err, sizeof err)) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        usage(stderr);
        free(settings.rules);
        return 2;
    }
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || !signals_setup()) {
        fprintf(stderr, PROGRAM ": cannot set up signal handling: %s\n", strerror(errno));
        goto out;
    }
    buf = malloc(DNS_MAX_MESSAGE);
    if (!buf) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        goto out;
    }
    udp_fd = listen_socket(SOCK_DGRAM, err, sizeof err);
    if (udp_fd >= 0 && !settings.no_tcp)
        tcp_fd = listen_socket(SOCK_STREAM, err, sizeof err);
    if (udp_fd < 0 || (!settings.no_tcp && tcp_fd < 0)) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        goto out;
    }
    if (settings.pidfile) {
        if (!pidfile_write(settings.pidfile, err, sizeof err)) {
            fprintf(stderr, PROGRAM ": %s\n", err);
            goto out;
        }
        pidfile_written = true;
    }
    printf("ready\n");
    fflush(stdout);

    serve(udp_fd, tcp_fd, buf);
    status = 0;
    /*
     * Every thread watches the stop pipe and ends within milliseconds; do
     * not outwait a stuck one, and leave what it may still use alone.
     */
    if (!threads_wait_idle(SHUTDOWN_GRACE_MS)) {
        log_line(PROGRAM ": warning: threads still busy at exit");
        if (pidfile_written)
            unlink(settings.pidfile);
        return status;
    }
out:
    if (tcp_fd >= 0)
        close(tcp_fd);
    if (udp_fd >= 0)
        close(udp_fd);
    if (pidfile_written)
        unlink(settings.pidfile);
    free(buf);
    free(settings.rules);
    return status;
}
