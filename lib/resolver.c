/*
 * resolver - libunbound context, its loop thread and jobs; see resolver.h.
 *
 * The context lives on a libevent base (ub_ctx_create_event) run by one loop thread here
 * (ub_resolve_event: chosen by measurement over ub_resolve_async and ub_resolve; bench/RESULTS.md).
 * libunbound is not to be called from other threads then, so an asking thread only appends the
 * question to a locked queue and, if the loop has not been woken yet, writes an eventfd; the loop
 * takes the whole queue and calls ub_resolve_event for each.  A cached answer comes back inside
 * ub_resolve_event, so no lock is held around it.  Questions asked by a handler (on the loop
 * thread) go through the same queue, the wake-up being event_active(): never a call back into
 * libunbound from inside its own callback.  The answer is a wire packet, read with ldns.
 *
 * Deadlines are ours, not libunbound's: a waiter stops waiting at the deadline whatever the
 * servers do, and a late answer only warms the cache.
 */
#include "resolver.h"

#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <unbound.h>
#include <unbound-event.h>

#include "log.h"
#include "metrics.h"
#include "monotonic.h"
#include "strbuf.h"

/*
 * The zones libunbound 1.17 answers by itself (its default local-zone list, RFC 6761 and 6303).
 * Made transparent when the servers are to be asked.  Declaring a zone replaces libunbound's
 * default for it, local data included: then even 127.0.0.1 and localhost. go to the servers.
 */
static const char *const builtin_zones[] = {
	"localhost.", "127.in-addr.arpa.", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
	"home.arpa.", "onion.", "test.", "invalid.", "10.in-addr.arpa.", "16.172.in-addr.arpa.",
	"17.172.in-addr.arpa.", "18.172.in-addr.arpa.", "19.172.in-addr.arpa.", "20.172.in-addr.arpa.",
	"21.172.in-addr.arpa.", "22.172.in-addr.arpa.", "23.172.in-addr.arpa.", "24.172.in-addr.arpa.",
	"25.172.in-addr.arpa.", "26.172.in-addr.arpa.", "27.172.in-addr.arpa.", "28.172.in-addr.arpa.",
	"29.172.in-addr.arpa.", "30.172.in-addr.arpa.", "31.172.in-addr.arpa.", "168.192.in-addr.arpa.",
	"0.in-addr.arpa.", "254.169.in-addr.arpa.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
	"113.0.203.in-addr.arpa.", "255.255.255.255.in-addr.arpa.",
	"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", "d.f.ip6.arpa.",
	"8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
	"64.100.in-addr.arpa.", "65.100.in-addr.arpa.", "66.100.in-addr.arpa.", "67.100.in-addr.arpa.",
	"68.100.in-addr.arpa.", "69.100.in-addr.arpa.", "70.100.in-addr.arpa.", "71.100.in-addr.arpa.",
	"72.100.in-addr.arpa.", "73.100.in-addr.arpa.", "74.100.in-addr.arpa.", "75.100.in-addr.arpa.",
	"76.100.in-addr.arpa.", "77.100.in-addr.arpa.", "78.100.in-addr.arpa.", "79.100.in-addr.arpa.",
	"80.100.in-addr.arpa.", "81.100.in-addr.arpa.", "82.100.in-addr.arpa.", "83.100.in-addr.arpa.",
	"84.100.in-addr.arpa.", "85.100.in-addr.arpa.", "86.100.in-addr.arpa.", "87.100.in-addr.arpa.",
	"88.100.in-addr.arpa.", "89.100.in-addr.arpa.", "90.100.in-addr.arpa.", "91.100.in-addr.arpa.",
	"92.100.in-addr.arpa.", "93.100.in-addr.arpa.", "94.100.in-addr.arpa.", "95.100.in-addr.arpa.",
	"96.100.in-addr.arpa.", "97.100.in-addr.arpa.", "98.100.in-addr.arpa.", "99.100.in-addr.arpa.",
	"100.100.in-addr.arpa.", "101.100.in-addr.arpa.", "102.100.in-addr.arpa.", "103.100.in-addr.arpa.",
	"104.100.in-addr.arpa.", "105.100.in-addr.arpa.", "106.100.in-addr.arpa.", "107.100.in-addr.arpa.",
	"108.100.in-addr.arpa.", "109.100.in-addr.arpa.", "110.100.in-addr.arpa.", "111.100.in-addr.arpa.",
	"112.100.in-addr.arpa.", "113.100.in-addr.arpa.", "114.100.in-addr.arpa.", "115.100.in-addr.arpa.",
	"116.100.in-addr.arpa.", "117.100.in-addr.arpa.", "118.100.in-addr.arpa.", "119.100.in-addr.arpa.",
	"120.100.in-addr.arpa.", "121.100.in-addr.arpa.", "122.100.in-addr.arpa.", "123.100.in-addr.arpa.",
	"124.100.in-addr.arpa.", "125.100.in-addr.arpa.", "126.100.in-addr.arpa.", "127.100.in-addr.arpa.",
};

struct lookup;

struct resolver {
	struct ub_ctx *ctx;
	struct resolver_options options;
	char trust_anchor[1024];
	pthread_t thread;		/* the loop thread */
	pthread_mutex_t lock;		/* guards in_flight, the queue and the flags below */
	struct lookup *in_flight;	/* asked, not yet called back */
	struct event_base *base;
	struct event *wake_event;	/* reads wake_fd; also made active directly from the loop */
	int wake_fd;			/* eventfd: questions are queued, or the loop must stop */
	struct lookup *queue_head, *queue_tail;	/* asked, not yet handed to libunbound */
	bool wake_pending;		/* the loop will look at the queue before sleeping again */
	bool stopping;			/* resolver_free: the loop is to return */
	bool closing;			/* resolver_free: callbacks from ub_ctx_delete are ignored */
};

struct dns_job {
	pthread_mutex_t lock;
	pthread_cond_t answered;
	struct resolver *resolver;
	unsigned refs;			/* the owner's, plus one per lookup in flight */
	unsigned open;			/* questions asked and not answered */
	bool over;			/* a waiter has returned: no more handlers */
	bool finished;			/* the check has its verdict (dns_job_finish) */
	struct timespec started, deadline;
};

/* One question in flight: freed as soon as its answer has been handed over. */
struct lookup {
	struct lookup *prev, *next;
	struct dns_job *job;
	dns_answer_handler *handler;
	void *arg;
	struct lookup *queued;		/* next in the hand-off queue */
	struct timespec asked;
	bool counted;			/* under resolver->lock: counted as cut short by its deadline */
	uint16_t qtype;
	char qname[];			/* ldns's canonical text, sized to fit (< DNS_NAME_TEXT_MAX) */
};

/* ---- names ------------------------------------------------------------------------------- */

const char *dns_outcome_name(enum dns_outcome outcome)
{
	switch (outcome) {
	case DNS_FOUND:
		return "found";
	case DNS_NODATA:
		return "nodata";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_TEMPFAIL:
		return "tempfail";
	case DNS_BOGUS:
		return "bogus";
	}
	return "?";
}

const char *dns_cause_name(enum dns_cause cause)
{
	switch (cause) {
	case DNS_CAUSE_NONE:
		return "";
	case DNS_CAUSE_SERVFAIL:
		return "servfail";
	case DNS_CAUSE_REFUSED:
		return "refused";
	case DNS_CAUSE_RCODE:
		return "rcode";
	case DNS_CAUSE_DEADLINE:
		return "deadline";
	case DNS_CAUSE_MALFORMED:
		return "malformed";
	case DNS_CAUSE_LOCAL:
		return "local";
	}
	return "?";
}

const char *dns_type_name(uint16_t qtype, char *buf, size_t size)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(qtype);

	if (d && d->_name)
		snprintf(buf, size, "%s", d->_name);
	else
		snprintf(buf, size, "TYPE%u", (unsigned)qtype);
	return buf;
}

const char *dns_rcode_name(int rcode, char *buf, size_t size)
{
	ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rcode);

	if (rcode < 0)
		snprintf(buf, size, "none");
	else if (lt && lt->name)
		snprintf(buf, size, "%s", lt->name);
	else
		snprintf(buf, size, "RCODE%d", rcode);
	return buf;
}

void dns_evidence_format(const struct dns_evidence *ev, const char *prefix, struct strbuf *out)
{
	char type[24], rcode[24], q[DNS_NAME_TEXT_MAX + 24];

	char key[64];

	snprintf(q, sizeof(q), "%s/%s", ev->qname ? ev->qname : "", dns_type_name(ev->qtype, type, sizeof(type)));
	snprintf(key, sizeof(key), "%sq", prefix);
	strbuf_append_kv(out, key, q);
	strbuf_appendf(out, " %soutcome=%s", prefix, dns_outcome_name(ev->outcome));
	if (ev->cause != DNS_CAUSE_NONE)
		strbuf_appendf(out, " %scause=%s", prefix, dns_cause_name(ev->cause));
	strbuf_appendf(out, " %srcode=%s %sms=%u", prefix, dns_rcode_name(ev->rcode, rcode, sizeof(rcode)), prefix, ev->ms);
	if (ev->outcome != DNS_TEMPFAIL)
		strbuf_appendf(out, " %sttl=%u", prefix, (unsigned)ev->ttl);
	if (ev->secure)
		strbuf_appendf(out, " %sdnssec=secure", prefix);
	if (ev->outcome == DNS_BOGUS) {
		snprintf(key, sizeof(key), "%swhy_bogus", prefix);
		strbuf_append_kv(out, key, ev->why_bogus ? ev->why_bogus : "");
	}
}

void dns_evidence_unanswered(struct dns_evidence *ev, const char *qname, uint16_t qtype, enum dns_cause cause,
			     unsigned ms)
{
	memset(ev, 0, sizeof(*ev));
	ev->qname = qname ? qname : "";
	ev->qtype = qtype;
	ev->outcome = DNS_TEMPFAIL;
	ev->cause = cause;
	ev->rcode = -1;
	ev->ms = ms;
}

/* ---- the context ------------------------------------------------------------------------- */

static int set_option(struct ub_ctx *ctx, const char *name, const char *value, char *err, size_t errlen)
{
	int rc = ub_ctx_set_option(ctx, name, value);

	if (rc != 0)
		snprintf(err, errlen, "libunbound refused %s %s: %s", name, value, ub_strerror(rc));
	return rc == 0 ? 0 : -1;
}

static int configure(struct resolver *r, const char *resolv_conf, const char *root_hints, char *err, size_t errlen)
{
	const struct dns_settings *dns = &r->options.dns;
	struct ub_ctx *ctx = r->ctx;
	size_t cache = r->options.cache_bytes ? r->options.cache_bytes : 4u * 1024 * 1024;
	char number[32];
	int rc;

	/*
	 * Library defaults are sized for a stub: 16 outgoing sockets (hundreds of concurrent lookups
	 * to a silent server then queue for minutes), 2 TCP streams, 1 MB caches.  Retries: with 1,
	 * any server slower than the retransmit timeout fails at once; 3 (with the 1 s timeout floor
	 * below) waits for a 1.5 s server and gives up on silence at ~14 s instead of the default's
	 * longer.  Our deadline bounds every wait whatever libunbound does.
	 */
	static const char *const fixed[][2] = {
		{"outgoing-range:", "512"},
		{"outgoing-num-tcp:", "64"},
		{"num-queries-per-thread:", "4096"},
		{"outbound-msg-retry:", "3"},
		/* keep probing a server marked down, so recovery is seen within seconds */
		{"infra-keep-probing:", "yes"},
		{"infra-host-ttl:", "60"},
		/*
		 * A forwarder answers from its cache in a millisecond and recursing in hundreds:
		 * with the default 50 ms floor the retransmit timeout learnt from fast answers
		 * gives up on slow ones (a 350 ms answer failed at 704 ms).  unbound's manual
		 * recommends raising it for forwarders.
		 */
		{"infra-cache-min-rtt:", "1000"},
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (set_option(ctx, fixed[i][0], fixed[i][1], err, errlen))
			return -1;
	snprintf(number, sizeof(number), "%zu", cache);
	if (set_option(ctx, "msg-cache-size:", number, err, errlen))
		return -1;
	snprintf(number, sizeof(number), "%zu", cache * 2);
	if (set_option(ctx, "rrset-cache-size:", number, err, errlen))
		return -1;

	switch (dns->transport) {
	case DNS_TRANSPORT_UDP_TCP:
		break;
	case DNS_TRANSPORT_TCP:
		if (set_option(ctx, "tcp-upstream:", "yes", err, errlen))
			return -1;
		break;
	case DNS_TRANSPORT_UDP:
		/* A truncated answer is then retried over UDP until it fails: never used as complete. */
		if (set_option(ctx, "do-tcp:", "no", err, errlen))
			return -1;
		break;
	}

	if (dns_builtin_zones_forwarded(dns))
		for (size_t i = 0; i < sizeof(builtin_zones) / sizeof(builtin_zones[0]); i++) {
			char zone[128];
			snprintf(zone, sizeof(zone), "%s transparent", builtin_zones[i]);
			if (set_option(ctx, "local-zone:", zone, err, errlen))
				return -1;
		}

	switch (dns->mode) {
	case DNS_MODE_RESOLV_CONF: {
		const char *path = resolv_conf ? resolv_conf : "/etc/resolv.conf";
		if ((rc = ub_ctx_resolvconf(ctx, path)) != 0) {
			snprintf(err, errlen, "cannot use the servers in %s: %s", path,
				 rc == UB_READFILE ? strerror(errno) : ub_strerror(rc));
			return -1;
		}
		break;
	}
	case DNS_MODE_FORWARD:
		for (size_t i = 0; i < dns->server_count; i++) {
			char server[80];
			dns_server_format(&dns->servers[i], server, sizeof(server));
			if ((rc = ub_ctx_set_fwd(ctx, server)) != 0) {
				snprintf(err, errlen, "libunbound refused server %s: %s", server, ub_strerror(rc));
				return -1;
			}
		}
		break;
	case DNS_MODE_RECURSIVE:
		/* a private root (air-gapped sites, the tests) may well be on this host */
		if (root_hints && *root_hints &&
		    (set_option(ctx, "root-hints:", root_hints, err, errlen) ||
		     set_option(ctx, "do-not-query-localhost:", "no", err, errlen)))
			return -1;
		break;
	}

	if (r->trust_anchor[0] && (rc = ub_ctx_add_ta_file(ctx, r->trust_anchor)) != 0) {
		snprintf(err, errlen, "cannot use trust anchor %s: %s", r->trust_anchor,
			 rc == UB_READFILE ? strerror(errno) : ub_strerror(rc));
		return -1;
	}
	return 0;
}

/* The resolver whose loop runs on this thread, so that asking from a handler needs no
 * eventfd write. */
static __thread const struct resolver *loop_of_this_thread;

static void submit(struct resolver *r, struct lookup *l);

/* On the loop thread: the queue has questions, or the loop is to stop. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;
	struct lookup *batch, *l;
	eventfd_t count;
	bool stop;

	(void)what;
	(void)eventfd_read(fd, &count);	/* non-blocking; nothing to read after event_active() */
	pthread_mutex_lock(&r->lock);
	batch = r->queue_head;
	r->queue_head = r->queue_tail = NULL;
	r->wake_pending = false;
	stop = r->stopping;
	pthread_mutex_unlock(&r->lock);
	if (stop) {
		/* what is still queued stays on in_flight for resolver_free */
		event_base_loopbreak(r->base);
		return;
	}
	while ((l = batch) != NULL) {
		batch = l->queued;	/* before submit(): l may be answered and freed inside it */
		l->queued = NULL;
		submit(r, l);
	}
}

static void *event_loop(void *arg)
{
	struct resolver *r = arg;

	loop_of_this_thread = r;
	event_base_dispatch(r->base);
	return NULL;
}

static int start_event_loop(struct resolver *r, char *err, size_t errlen)
{
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	r->wake_event = event_new(r->base, r->wake_fd, EV_READ | EV_PERSIST, on_wake, r);
	if (!r->wake_event || event_add(r->wake_event, NULL) != 0) {
		snprintf(err, errlen, "libevent: cannot watch the DNS hand-off eventfd");
		return -1;
	}
	if (pthread_create(&r->thread, NULL, event_loop, r) != 0) {
		snprintf(err, errlen, "cannot start the DNS event loop thread");
		return -1;
	}
	return 0;
}

static void free_event_parts(struct resolver *r)
{
	if (r->wake_event)
		event_free(r->wake_event);
	if (r->base)
		event_base_free(r->base);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
}

struct resolver *resolver_new(const struct resolver_options *options, char *err, size_t errlen)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->options = *options;
	r->wake_fd = -1;
	if (options->trust_anchor_file)
		snprintf(r->trust_anchor, sizeof(r->trust_anchor), "%s", options->trust_anchor_file);
	r->options.trust_anchor_file = r->trust_anchor;
	r->options.resolv_conf = NULL;	/* not kept: only configure() reads it */
	pthread_mutex_init(&r->lock, NULL);
	r->base = event_base_new();
	if (!r->base) {
		snprintf(err, errlen, "libevent: cannot create an event base");
		goto fail;
	}
	r->ctx = ub_ctx_create_event(r->base);
	if (!r->ctx) {
		snprintf(err, errlen, "libunbound: cannot create a context");
		goto fail;
	}
	if (configure(r, options->resolv_conf, options->root_hints, err, errlen) ||
	    start_event_loop(r, err, errlen))
		goto fail;
	return r;
fail:
	if (r->ctx)
		ub_ctx_delete(r->ctx);
	free_event_parts(r);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return NULL;
}

static void job_unref_locked_and_unlock(struct dns_job *job);

void resolver_free(struct resolver *r)
{
	struct lookup *l, *next;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_mutex_unlock(&r->lock);
	/* cannot fail short of the counter reaching 2^64 - 1; the join below would then hang */
	if (eventfd_write(r->wake_fd, 1) != 0)
		log_error("resolver: cannot stop the DNS event loop: %s", strerror(errno));
	pthread_join(r->thread, NULL);
	/* ub_ctx_delete calls back what is in flight with SERVFAIL: ignored, see on_result */
	r->closing = true;
	ub_ctx_delete(r->ctx);
	free_event_parts(r);
	for (l = r->in_flight; l; l = next) {
		next = l->next;
		pthread_mutex_lock(&l->job->lock);
		l->job->open--;
		pthread_cond_broadcast(&l->job->answered);
		job_unref_locked_and_unlock(l->job);
		free(l);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

const char *resolver_describe(const struct resolver *r, char *buf, size_t size)
{
	const struct dns_settings *dns = &r->options.dns;
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	strbuf_appendf(&sb, "dns=%s", dns_mode_name(dns->mode));
	for (size_t i = 0; dns->mode == DNS_MODE_FORWARD && i < dns->server_count; i++) {
		char server[80];
		strbuf_appendf(&sb, "%s%s", i ? "," : " servers=", dns_server_format(&dns->servers[i], server, sizeof(server)));
	}
	strbuf_appendf(&sb, " transport=%s builtin_zones=%s", dns_transport_name(dns->transport),
		       dns_builtin_zones_forwarded(dns) ? "servers" : "local");
	if (r->trust_anchor[0])
		strbuf_appendf(&sb, " trust_anchor=%s", r->trust_anchor);
	return strbuf_text(&sb);
}

/* ---- answers ----------------------------------------------------------------------------- */

static void classify_rcode(struct dns_evidence *ev, int rcode)
{
	switch (rcode) {
	case LDNS_RCODE_NXDOMAIN:
		ev->outcome = DNS_NXDOMAIN;
		return;
	case LDNS_RCODE_SERVFAIL:
		ev->outcome = DNS_TEMPFAIL;
		ev->cause = DNS_CAUSE_SERVFAIL;
		return;
	case LDNS_RCODE_REFUSED:
		ev->outcome = DNS_TEMPFAIL;
		ev->cause = DNS_CAUSE_REFUSED;
		return;
	default:
		ev->outcome = DNS_TEMPFAIL;
		ev->cause = DNS_CAUSE_RCODE;
		return;
	}
}

/* Whether the answer section holds records of qtype for the question's name, at the end
 * of its CNAME chain (what ub_result's havedata says). */
static bool packet_has_data(const ldns_pkt *packet, uint16_t qtype)
{
	const ldns_rr_list *answer = ldns_pkt_answer(packet);
	const ldns_rr_list *question = ldns_pkt_question(packet);
	const ldns_rdf *name;

	if (!answer || !question || ldns_rr_list_rr_count(question) == 0)
		return false;
	name = ldns_rr_owner(ldns_rr_list_rr(question, 0));
	for (int hops = 0; hops < 16; hops++) {
		const ldns_rdf *next = NULL;
		for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(answer, i);
			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
				continue;
			if (ldns_rr_get_type(rr) == qtype)
				return true;
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && !next && ldns_rr_rd_count(rr) > 0)
				next = ldns_rr_rdf(rr, 0);
		}
		if (!next)
			return false;
		name = next;
	}
	return false;
}

/* The lowest TTL in the answer section; for a negative answer, that of the SOA in the
 * authority section (RFC 2308: the lower of its TTL and its MINIMUM); 0 if there is none. */
static uint32_t packet_ttl(const ldns_pkt *packet)
{
	const ldns_rr_list *answer = ldns_pkt_answer(packet);
	const ldns_rr_list *authority = ldns_pkt_authority(packet);
	uint32_t ttl = UINT32_MAX;

	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); i++) {
		uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(answer, i));
		if (t < ttl)
			ttl = t;
	}
	if (ttl != UINT32_MAX)
		return ttl;
	for (size_t i = 0; authority && i < ldns_rr_list_rr_count(authority); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(authority, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
			continue;
		ttl = ldns_rr_ttl(rr);
		if (ldns_rr_rd_count(rr) >= 7 && ldns_rr_rdf(rr, 6)) {
			uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
			if (minimum < ttl)
				ttl = minimum;
		}
		return ttl;
	}
	return 0;
}

/*
 * The outcome from what ub_resolve_event hands back.  `rcode` is libunbound's own verdict
 * (non-zero, mostly SERVFAIL, when it has no answer; the packet must not be read then); `sec` is
 * 0 insecure, 1 bogus, 2 secure.  *packet is set, for the handler, when the outcome is FOUND,
 * NODATA or NXDOMAIN.
 */
static void classify_wire(struct dns_evidence *ev, int rcode, const void *wire, int len, int sec,
			  const char *why_bogus, ldns_pkt **packet)
{
	ldns_pkt *p = NULL;

	*packet = NULL;
	if (rcode != LDNS_RCODE_NOERROR) {
		ev->rcode = rcode;
		classify_rcode(ev, rcode);
		return;
	}
	if (!wire || len <= 0 || ldns_wire2pkt(&p, wire, (size_t)len) != LDNS_STATUS_OK) {
		ev->outcome = DNS_TEMPFAIL;
		ev->cause = DNS_CAUSE_MALFORMED;
		ev->rcode = -1;
		return;
	}
	ev->rcode = (int)ldns_pkt_get_rcode(p);
	ev->ttl = packet_ttl(p);
	ev->secure = sec == 2;
	if (sec == 1) {
		ev->outcome = DNS_BOGUS;
		ev->why_bogus = why_bogus ? why_bogus : "";	/* libunbound's, for the callback's duration */
		ldns_pkt_free(p);
		return;
	}
	if (ev->rcode == LDNS_RCODE_NOERROR)
		ev->outcome = packet_has_data(p, ev->qtype) ? DNS_FOUND : DNS_NODATA;
	else
		classify_rcode(ev, ev->rcode);
	if (ev->outcome == DNS_FOUND || ev->outcome == DNS_NODATA || ev->outcome == DNS_NXDOMAIN)
		*packet = p;
	else
		ldns_pkt_free(p);
}

static void job_unref_locked_and_unlock(struct dns_job *job)
{
	bool last = --job->refs == 0;

	pthread_mutex_unlock(&job->lock);
	if (last) {
		pthread_cond_destroy(&job->answered);
		pthread_mutex_destroy(&job->lock);
		free(job);
	}
}

/* Hands one answer to the lookup's job (its handler, under the job's lock, unless the job is
 * over), wakes the waiter and frees the lookup.  On the loop thread. */
static void lookup_answered(struct lookup *l, const struct dns_answer *answer)
{
	struct dns_job *job = l->job;
	struct resolver *r = job->resolver;
	bool counted;

	pthread_mutex_lock(&r->lock);
	counted = l->counted;
	if (l->prev)
		l->prev->next = l->next;
	else
		r->in_flight = l->next;
	if (l->next)
		l->next->prev = l->prev;
	pthread_mutex_unlock(&r->lock);

	/* once per question: one the deadline cut short was counted then, as the check saw it */
	if (!counted)
		metrics_count_dns(&answer->ev);
	if (r->options.on_trouble && answer->ev.outcome == DNS_TEMPFAIL && answer->ev.cause != DNS_CAUSE_LOCAL)
		r->options.on_trouble(r->options.on_trouble_arg, &answer->ev);
	pthread_mutex_lock(&job->lock);
	if (!job->over && !job->finished)
		l->handler(job, l->arg, answer);
	job->open--;
	pthread_cond_broadcast(&job->answered);
	job_unref_locked_and_unlock(job);
	free(l);
}

static void answer_begin(struct dns_answer *answer, const struct lookup *l)
{
	memset(answer, 0, sizeof(*answer));
	answer->ev.qname = l->qname;	/* the lookup is freed only after the handler has run */
	answer->ev.qtype = l->qtype;
	answer->ev.ms = monotonic_ms_between(l->asked, monotonic_now());
}

/* libunbound's callback, on the loop thread (for a cached answer, inside ub_resolve_event; in
 * resolver_free, inside ub_ctx_delete). */
static void on_result(void *mydata, int rcode, void *wire, int len, int sec, char *why_bogus,
			    int was_ratelimited)
{
	struct lookup *l = mydata;
	struct dns_answer answer;
	ldns_pkt *packet = NULL;

	(void)was_ratelimited;
	if (l->job->resolver->closing)
		return;		/* resolver_free releases it with the rest of in_flight */
	answer_begin(&answer, l);
	classify_wire(&answer.ev, rcode, wire, len, sec, why_bogus, &packet);
	answer.packet = packet;
	lookup_answered(l, &answer);
	if (packet)
		ldns_pkt_free(packet);
}

/* On the loop thread, no lock held: a cached answer is delivered before this returns. */
static void submit(struct resolver *r, struct lookup *l)
{
	int async_id;

	if (ub_resolve_event(r->ctx, l->qname, l->qtype, LDNS_RR_CLASS_IN, l, on_result, &async_id) != 0) {
		struct dns_answer answer;
		answer_begin(&answer, l);
		answer.ev.outcome = DNS_TEMPFAIL;
		answer.ev.cause = DNS_CAUSE_LOCAL;
		answer.ev.rcode = -1;
		lookup_answered(l, &answer);
	}
}

/* ---- jobs -------------------------------------------------------------------------------- */

struct dns_job *dns_job_new(struct resolver *resolver, unsigned deadline_ms)
{
	struct dns_job *job = calloc(1, sizeof(*job));
	pthread_condattr_t attr;

	if (!job)
		return NULL;
	pthread_mutex_init(&job->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&job->answered, &attr);
	pthread_condattr_destroy(&attr);
	job->resolver = resolver;
	job->refs = 1;
	job->started = monotonic_now();
	job->deadline = monotonic_after(job->started, deadline_ms);
	return job;
}

void dns_job_release(struct dns_job *job)
{
	if (!job)
		return;
	pthread_mutex_lock(&job->lock);
	job->over = true;	/* the owner is gone: no handler may touch its state any more */
	job_unref_locked_and_unlock(job);
}

void dns_job_lock(struct dns_job *job)
{
	pthread_mutex_lock(&job->lock);
}

void dns_job_unlock(struct dns_job *job)
{
	pthread_mutex_unlock(&job->lock);
}

/*
 * Hands a question (already on in_flight, r->lock held, which this releases) to the loop
 * thread.  One wake-up per batch: only the first question queued since the loop last looked
 * writes the eventfd; a handler on the loop thread itself activates the event instead.
 */
static void enqueue(struct resolver *r, struct lookup *l)
{
	bool wake = !r->wake_pending, on_loop = loop_of_this_thread == r;

	if (r->queue_tail)
		r->queue_tail->queued = l;
	else
		r->queue_head = l;
	r->queue_tail = l;
	r->wake_pending = true;
	if (wake && on_loop)
		event_active(r->wake_event, EV_READ, 1);
	pthread_mutex_unlock(&r->lock);
	if (wake && !on_loop && eventfd_write(r->wake_fd, 1) != 0) {
		/* cannot happen (the counter would have to reach 2^64 - 1); the question then waits
		 * for the next wake-up or the job's deadline */
		log_error("resolver: cannot wake the DNS event loop: %s", strerror(errno));
	}
}

/*
 * The length of `name` if it is a plain host name whose presentation form ldns would give back
 * unchanged (letters, digits, '-' and '_', labels of 1 to 63 octets, at most 253 octets without
 * the final dot, which it may have), else 0.  Saves ldns's parse and print, two allocations and a
 * few microseconds, on nearly every question; anything else (escapes, odd octets, the root) goes
 * through ldns as before.
 */
size_t dns_plain_name_length(const char *name)
{
	size_t label = 0, len = 0;

	for (const char *p = name; *p; p++, len++) {
		char c = *p;
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	if (len == 0 || len - (name[len - 1] == '.') > 253)
		return 0;
	return len;
}

int dns_job_ask(struct dns_job *job, const char *qname, uint16_t qtype, dns_answer_handler *handler, void *arg)
{
	struct resolver *r = job->resolver;
	struct lookup *l;
	ldns_rdf *dname = NULL;
	char *text;
	size_t len;

	if (job->over || job->finished)
		return -1;
	if (!qname || !*qname)
		return -1;
	if ((len = dns_plain_name_length(qname)) > 0) {
		/* the common case, already canonical but for the final dot */
		bool dot = qname[len - 1] == '.';
		if (!(l = calloc(1, sizeof(*l) + len + 2)))
			return -1;
		memcpy(l->qname, qname, len);
		memcpy(l->qname + len, dot ? "" : ".", dot ? 1 : 2);
	} else {
		/* ldns checks the name (label and name lengths, escapes) and gives its canonical text */
		if (ldns_str2rdf_dname(&dname, qname) != LDNS_STATUS_OK)
			return -1;
		text = ldns_rdf2str(dname);
		ldns_rdf_deep_free(dname);
		if (!text)
			return -1;
		len = strlen(text);
		l = len < DNS_NAME_TEXT_MAX ? calloc(1, sizeof(*l) + len + 1) : NULL;
		if (!l) {
			free(text);
			return -1;
		}
		memcpy(l->qname, text, len + 1);
		free(text);
	}
	l->job = job;
	l->handler = handler;
	l->arg = arg;
	l->qtype = qtype;
	l->asked = monotonic_now();

	/* Listed before asking: the answer may come back before the loop thread has let go. */
	job->refs++;
	job->open++;
	pthread_mutex_lock(&r->lock);
	l->next = r->in_flight;
	if (l->next)
		l->next->prev = l;
	r->in_flight = l;
	enqueue(r, l);
	return 0;
}

void dns_job_finish(struct dns_job *job)
{
	job->finished = true;
	pthread_cond_broadcast(&job->answered);
}

/* Counts the questions of `job` the deadline cut short, and tells on_trouble of them (the owner
 * holds the job). */
static void report_cut_short(struct dns_job *job)
{
	struct resolver *r = job->resolver;
	unsigned ms = dns_job_elapsed_ms(job);	/* at most; a follow-up question was asked later */
	struct dns_evidence ev;

	pthread_mutex_lock(&r->lock);	/* a lookup leaves in_flight under it before it is freed */
	for (struct lookup *l = r->in_flight; l; l = l->next)
		if (l->job == job) {
			dns_evidence_unanswered(&ev, l->qname, l->qtype, DNS_CAUSE_DEADLINE, ms);
			metrics_count_dns(&ev);
			l->counted = true;
			if (r->options.on_trouble)
				r->options.on_trouble(r->options.on_trouble_arg, &ev);
		}
	pthread_mutex_unlock(&r->lock);
}

bool dns_job_wait(struct dns_job *job)
{
	bool complete, cut_short;

	pthread_mutex_lock(&job->lock);
	while (job->open > 0 && !job->over && !job->finished && monotonic_before(monotonic_now(), job->deadline))
		pthread_cond_timedwait(&job->answered, &job->lock, &job->deadline);
	complete = job->open == 0 || job->finished;
	cut_short = !complete && !job->over;
	job->over = true;
	pthread_mutex_unlock(&job->lock);
	if (cut_short)
		report_cut_short(job);
	return complete;
}

bool dns_job_done(struct dns_job *job)
{
	bool done;

	pthread_mutex_lock(&job->lock);
	done = job->over || job->finished || job->open == 0 || !monotonic_before(monotonic_now(), job->deadline);
	pthread_mutex_unlock(&job->lock);
	return done;
}

unsigned dns_job_elapsed_ms(const struct dns_job *job)
{
	return monotonic_ms_between(job->started, monotonic_now());
}
