/*
 * callbacks - libmilter callbacks and the per-session context; see callbacks.h.
 *
 * One struct session per SMTP connection, created at connect and freed at close (the one place
 * that frees it, shared by every way a session can end).  It pins the configuration generation it
 * started with.  The message within it is ended by session_end_message, at the next MAIL, at end
 * of message, at abort and at close alike.  Each stage copies what the MTA sent into the session;
 * the checks and how their decisions are carried out are in verdicts.c, the decisions themselves
 * in lib/decision.h.  libmilter is reached only through mta.h.
 *
 * Every log line starts with the MTA queue id once the MTA has sent one ({i}), else with the
 * session id, and carries both once both are known (session=...).
 */
#include "callbacks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "resolver.h"
#include "mta.h"
#include "netaddr.h"
#include "runtime.h"
#include "session.h"
#include "session_id.h"
#include "strbuf.h"
#include "verdicts.h"

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sessions_idle = PTHREAD_COND_INITIALIZER;
static unsigned sessions_open;
static atomic_bool draining;

void callbacks_set_draining(bool value)
{
	atomic_store(&draining, value);
}

bool callbacks_accepting(void)
{
	return !atomic_load(&draining);
}

unsigned callbacks_open_sessions(void)
{
	unsigned n;

	pthread_mutex_lock(&sessions_lock);
	n = sessions_open;
	pthread_mutex_unlock(&sessions_lock);
	return n;
}

bool callbacks_wait_idle(unsigned timeout_ms)
{
	struct timespec until;
	bool idle;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sessions_lock);
	while (sessions_open > 0 && pthread_cond_timedwait(&sessions_idle, &sessions_lock, &until) == 0)
		;
	idle = sessions_open == 0;
	pthread_mutex_unlock(&sessions_lock);
	return idle;
}

/* Copies text a peer sent into a bounded field; overlong text is cut, and says so. */
static void copy_field(char *dst, size_t size, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	if (len < size) {
		memcpy(dst, src ? src : "", len + 1);
		return;
	}
	memcpy(dst, src, size - 4);
	memcpy(dst + size - 4, "...", 4);
}

/* Picks up the queue id as soon as the MTA sends it. */
static void update_queue_id(SMFICTX *ctx, struct session *s)
{
	const char *qid = mta_macro(ctx, "i");

	if (qid && *qid && strcmp(qid, s->msg.queue_id) != 0)
		copy_field(s->msg.queue_id, sizeof(s->msg.queue_id), qid);
}

/* Strips the angle brackets an MTA passes around an envelope address. */
static void copy_address(char *dst, size_t size, const char *arg)
{
	size_t len;

	if (!arg)
		arg = "";
	len = strlen(arg);
	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		char inner[ADDRESS_MAX_LEN];
		size_t n = len - 2 < sizeof(inner) - 1 ? len - 2 : sizeof(inner) - 1;
		memcpy(inner, arg + 1, n);
		inner[n] = '\0';
		copy_field(dst, size, inner);
	} else {
		copy_field(dst, size, arg);
	}
}

/* The MTA's host name ({j}) when it is a plain host name, else ours, else "localhost": the
 * reporting host of NDRs.  False when out of memory. */
static bool set_mta_host(SMFICTX *ctx, struct session *s)
{
	const char *j = mta_macro(ctx, "j");
	char host[NAME_MAX_LEN];

	if (j && dns_plain_name_length(j))
		return session_set_text(&s->mta_host, j, NAME_MAX_LEN);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (dns_plain_name_length(host))
			return session_set_text(&s->mta_host, host, NAME_MAX_LEN);
	}
	return session_set_text(&s->mta_host, "localhost", NAME_MAX_LEN);
}

/* The authserv-id of our Authentication-Results: configured, else the MTA's host name ({j}).
 * False when out of memory. */
static bool set_authserv_id(SMFICTX *ctx, struct session *s)
{
	const char *id = s->rt->config->authserv_id;

	if (!id || !*id)
		id = mta_macro(ctx, "j");
	if (!id || !*id) {
		char host[NAME_MAX_LEN];
		if (gethostname(host, sizeof(host)) == 0) {
			host[sizeof(host) - 1] = '\0';
			return session_set_text(&s->authserv_id, host, NAME_MAX_LEN);
		}
		id = "localhost";
	}
	return session_set_text(&s->authserv_id, id, NAME_MAX_LEN);
}

static struct session *session_of(SMFICTX *ctx)
{
	return mta_session(ctx);
}

/* ---- callbacks ------------------------------------------------------------------------------ */

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps, unsigned long unused2,
			     unsigned long unused3, unsigned long *want_actions, unsigned long *want_steps,
			     unsigned long *want2, unsigned long *want3)
{
	/* Steps dnsguard does not use; ask only for what the MTA offers, or libmilter refuses.
	 * Headers are read (forged copies of ours are removed) without a reply each when the MTA
	 * allows it: the session, made here, remembers that its header callback must then say
	 * SMFIS_NOREPLY.  The body only when a policy rule diverts (a diverted message is stored
	 * whole), and then skipped for every message without a diverted recipient. */
	const unsigned long may = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_DELRCPT;
	unsigned long skip = SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	struct session *s = calloc(1, sizeof(*s));
	struct runtime *rt = runtime_acquire();
	bool body = rt && policy_uses_action(rt->policy, POLICY_DIVERT);

	runtime_release(rt);
	if (s)
		session_init_texts(s);
	(void)unused2;
	(void)unused3;
	if (!body)
		skip |= SMFIP_NOBODY;
	*want_actions = actions & may;
	*want_steps = steps & skip;
	if (s) {
		if (steps & SMFIP_NR_HDR) {
			*want_steps |= SMFIP_NR_HDR;
			s->no_reply_headers = true;
		}
		/* an MTA that cannot skip sends the body anyway: it is not needed then */
		s->body_wanted = body && !(*want_steps & SMFIP_NOBODY) && (actions & SMFIF_DELRCPT);
		if (body && (steps & SMFIP_SKIP)) {
			*want_steps |= SMFIP_SKIP;
			s->may_skip = true;
		}
		mta_set_session(ctx, s);
	}
	*want2 = 0;
	*want3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	/* made at negotiation (protocol 6); an older MTA skips that step */
	struct session *s = session_of(ctx);
	const char *daemon;
	bool texts;
	struct strbuf line;
	char storage[LOG_LINE_LEN];

	if (!s && (s = calloc(1, sizeof(*s))))
		session_init_texts(s);
	if (atomic_load(&draining)) {
		if (s)
			session_free_texts(s);
		free(s);
		mta_set_session(ctx, NULL);
		log_info("connect: dnsguard is stopping: tempfail");
		return SMFIS_TEMPFAIL;
	}
	if (!s) {
		log_warning("connect: out of memory: tempfail");
		return SMFIS_TEMPFAIL;
	}
	s->connected = true;
	session_id_new(s->id);
	s->rt = runtime_acquire();
	/* the address from the connect call, not {client_addr}: Sendmail does not send that macro */
	s->client_addr_known = netaddr_from_sockaddr(hostaddr, &s->client_addr);
	if (s->client_addr_known)
		netaddr_format(&s->client_addr, s->client_ip, sizeof(s->client_ip));
	else
		snprintf(s->client_ip, sizeof(s->client_ip), "unknown");
	/* Postfix says "unknown", Sendmail "[ip]", when the client has no verified name */
	if (!hostname || !*hostname || hostname[0] == '[')
		hostname = "unknown";
	texts = session_set_text(&s->client_name, hostname, NAME_MAX_LEN);
	daemon = mta_macro(ctx, "{daemon_name}");
	/* the daemon name decides policy rules: never go on without it */
	texts = session_set_text(&s->daemon, daemon, NAME_MAX_LEN) && texts;
	texts = set_authserv_id(ctx, s) && texts;
	texts = set_mta_host(ctx, s) && texts;
	mta_set_session(ctx, s);
	pthread_mutex_lock(&sessions_lock);
	sessions_open++;
	pthread_mutex_unlock(&sessions_lock);
	metrics_session_opened();
	if (!texts) {
		log_warning("%s: connect: out of memory: tempfail", s->id);
		return SMFIS_TEMPFAIL;
	}

	if (log_enabled(LOG_LEVEL_DEBUG)) {
		session_line_start(&line, storage, sizeof(storage), s, "connect");
		session_line_client(&line, s);
		if (*s->daemon)
			strbuf_append_kv(&line, "daemon", s->daemon);
		log_debug("%s", strbuf_text(&line));
	}
	verdicts_connect(s);
	return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX *ctx, char *name)
{
	struct session *s = session_of(ctx);
	struct strbuf line;
	char storage[LOG_LINE_LEN];

	if (!s)
		return SMFIS_TEMPFAIL;
	if (!session_set_text(&s->helo, name, NAME_MAX_LEN)) {
		log_warning("%s: helo: out of memory: tempfail", s->id);
		return SMFIS_TEMPFAIL;
	}
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		session_line_start(&line, storage, sizeof(storage), s, "helo");
		strbuf_append_kv(&line, "helo", s->helo);
		log_debug("%s", strbuf_text(&line));
	}
	verdicts_helo(s);
	return SMFIS_CONTINUE;
}

static sfsistat on_mail(SMFICTX *ctx, char **argv)
{
	struct session *s = session_of(ctx);
	char from[ADDRESS_MAX_LEN];
	struct strbuf line;
	char storage[LOG_LINE_LEN];

	if (!s)
		return SMFIS_TEMPFAIL;
	session_end_message(s);
	update_queue_id(ctx, s);
	copy_address(from, sizeof(from), argv ? argv[0] : NULL);
	/* a lost sender would be checked as <>, a lost SASL login as no login: tempfail instead */
	if (!session_set_text(&s->msg.from, from, ADDRESS_MAX_LEN) ||
	    !session_set_text(&s->msg.auth, mta_macro(ctx, "{auth_authen}"), NAME_MAX_LEN)) {
		log_warning("%s: mail: out of memory: tempfail", s->id);
		return SMFIS_TEMPFAIL;
	}
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		session_line_start(&line, storage, sizeof(storage), s, "mail");
		session_line_bracketed(&line, "from", s->msg.from);
		if (*s->msg.auth)
			strbuf_append_kv(&line, "sasl_username", s->msg.auth);
		log_debug("%s", strbuf_text(&line));
	}
	verdicts_mail(s, argv ? argv[0] : NULL);
	return SMFIS_CONTINUE;
}

static sfsistat on_rcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = session_of(ctx);
	char to[ADDRESS_MAX_LEN];
	sfsistat st;
	struct strbuf line;
	char storage[LOG_LINE_LEN];

	if (!s)
		return SMFIS_TEMPFAIL;
	update_queue_id(ctx, s);
	copy_address(to, sizeof(to), argv ? argv[0] : NULL);
	s->msg.rcpt_count++;
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		session_line_start(&line, storage, sizeof(storage), s, "rcpt");
		session_line_bracketed(&line, "from", s->msg.from);
		session_line_bracketed(&line, "to", to);
		log_debug("%s", strbuf_text(&line));
	}
	st = verdicts_rcpt(ctx, s, to, argv ? argv[0] : NULL);
	if (st == SMFIS_CONTINUE)
		s->msg.rcpt_accepted++;
	return st;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = session_of(ctx);

	if (s && name && value)
		verdicts_header(s, name, value);
	return s && s->no_reply_headers ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = session_of(ctx);

	if (!s)
		return SMFIS_TEMPFAIL;
	if (verdicts_body(s, chunk, len))
		return SMFIS_CONTINUE;
	/* no diverted recipient: the rest of the body is not ours to read */
	return s->may_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	struct session *s = session_of(ctx);
	struct strbuf line;
	char storage[LOG_LINE_LEN];
	sfsistat st;

	if (!s)
		return SMFIS_TEMPFAIL;
	update_queue_id(ctx, s);
	s->messages++;
	session_line_start(&line, storage, sizeof(storage), s, "message");
	session_line_client(&line, s);
	strbuf_append_kv(&line, "helo", s->helo);
	session_line_bracketed(&line, "from", s->msg.from);
	strbuf_appendf(&line, " nrcpt=%u", s->msg.rcpt_count);
	st = verdicts_eom(ctx, s, &line);
	if (st == SMFIS_CONTINUE || st == SMFIS_DISCARD)
		log_info("%s", strbuf_text(&line));
	else
		log_warning("%s", strbuf_text(&line));
	session_end_message(s);
	return st;
}

static sfsistat on_abort(SMFICTX *ctx)
{
	struct session *s = session_of(ctx);

	if (s)
		session_end_message(s);
	return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	struct session *s = session_of(ctx);
	struct strbuf line;
	char storage[LOG_LINE_LEN];

	if (!s)
		return SMFIS_CONTINUE;
	if (!s->connected) {
		/* negotiated, then gone before connect: nothing was counted or pinned */
		mta_set_session(ctx, NULL);
		session_free_texts(s);
		free(s);
		return SMFIS_CONTINUE;
	}
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		session_line_start(&line, storage, sizeof(storage), s, "disconnect");
		session_line_client(&line, s);
		strbuf_appendf(&line, " messages=%u", s->messages);
		log_debug("%s", strbuf_text(&line));
	}
	mta_set_session(ctx, NULL);
	/* the checks hold jobs on this generation's resolver: they go before the generation may */
	verdicts_end_session(s);
	runtime_release(s->rt);
	session_free_texts(s);
	free(s);
	pthread_mutex_lock(&sessions_lock);
	if (--sessions_open == 0)
		pthread_cond_broadcast(&sessions_idle);
	pthread_mutex_unlock(&sessions_lock);
	metrics_session_closed();
	return SMFIS_CONTINUE;
}

struct smfiDesc callbacks_filter = {
	.xxfi_name = "dnsguard",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_DELRCPT,
	.xxfi_connect = on_connect,
	.xxfi_helo = on_helo,
	.xxfi_envfrom = on_mail,
	.xxfi_envrcpt = on_rcpt,
	.xxfi_header = on_header,
	.xxfi_body = on_body,
	.xxfi_eom = on_eom,
	.xxfi_abort = on_abort,
	.xxfi_close = on_close,
	.xxfi_negotiate = on_negotiate,
};
