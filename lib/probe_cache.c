/*
 * probe_cache - server probes per question, on worker threads of their own; see probe_cache.h.
 *
 * One table of PROBE_CACHE_ENTRIES questions, under one lock.  An entry is FREE, QUEUED (waiting
 * for a worker), RUNNING (a worker probes it, unlocked) or DONE (its results are kept until
 * PROBE_CACHE_TTL_MS after done_ms, then it is stale: probed again when asked, reused first when
 * a slot is needed).  A worker owns a RUNNING entry: nobody else writes it, nobody evicts it.
 * Follow-ups hang on their QUEUED or RUNNING entry; the worker that completes the probe takes
 * them off and logs them after unlocking.
 */
#include "probe_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <ldns/ldns.h>

#include "log.h"
#include "monotonic.h"
#include "strbuf.h"

/* ---- does a finding fit the evidence? -------------------------------------------------- */

/* What one leg's outcome would have done to a resolver's lookup. */
enum leg_kind {
	LEG_USABLE,	/* NOERROR or NXDOMAIN, whole */
	LEG_RCODE,	/* an error rcode */
	LEG_MALFORMED,
	LEG_TRUNCATED,
	LEG_NOTHING,	/* no DNS message at all: silence, a refused port, closed, unreachable */
	LEG_UNKNOWN,	/* our own trouble while probing: says nothing about the server */
};

static enum leg_kind leg_kind(const struct dns_probe_leg *leg)
{
	switch (leg->status) {
	case DNS_PROBE_ANSWERED:
		if (leg->truncated)
			return LEG_TRUNCATED;
		return leg->rcode == LDNS_RCODE_NOERROR || leg->rcode == LDNS_RCODE_NXDOMAIN ? LEG_USABLE : LEG_RCODE;
	case DNS_PROBE_MALFORMED:
		return LEG_MALFORMED;
	case DNS_PROBE_TIMEOUT:
	case DNS_PROBE_REFUSED:
	case DNS_PROBE_CLOSED:
	case DNS_PROBE_UNREACHABLE:
		return LEG_NOTHING;
	case DNS_PROBE_ERROR:
		return LEG_UNKNOWN;
	}
	return LEG_UNKNOWN;
}

static bool slow_servfail(const struct dns_evidence *ev)
{
	return ev->cause == DNS_CAUSE_SERVFAIL && ev->ms >= PROBE_CACHE_DEADLINE_MS;
}

/* How one leg's fault would have ended the lookup, and whether that is what ev says. */
static bool leg_fits(const struct dns_evidence *ev, const struct dns_probe_leg *leg)
{
	switch (leg_kind(leg)) {
	case LEG_USABLE:
	case LEG_UNKNOWN:
		return false;
	case LEG_RCODE:
		/* libunbound passes an upstream error on as SERVFAIL */
		return ev->cause == DNS_CAUSE_SERVFAIL ||
		       (ev->cause == DNS_CAUSE_REFUSED && leg->rcode == LDNS_RCODE_REFUSED) ||
		       (ev->cause == DNS_CAUSE_RCODE && leg->rcode == ev->rcode);
	case LEG_MALFORMED:
		return ev->cause == DNS_CAUSE_SERVFAIL || ev->cause == DNS_CAUSE_MALFORMED;
	case LEG_TRUNCATED:
		/* a transport that cannot carry the whole answer: retried until given up, or cut off */
		return ev->cause == DNS_CAUSE_SERVFAIL || ev->cause == DNS_CAUSE_DEADLINE;
	case LEG_NOTHING:
		/* silence takes time: it cannot explain an rcode answered at once */
		return ev->cause == DNS_CAUSE_DEADLINE || slow_servfail(ev);
	}
	return false;
}

bool probe_finding_fits(const struct dns_evidence *ev, const struct dns_probe_result *r, enum dns_transport transport)
{
	if (!ev || !r || ev->outcome != DNS_TEMPFAIL)
		return false;
	switch (ev->cause) {
	case DNS_CAUSE_SERVFAIL:
	case DNS_CAUSE_REFUSED:
	case DNS_CAUSE_RCODE:
	case DNS_CAUSE_DEADLINE:
	case DNS_CAUSE_MALFORMED:
		break;
	case DNS_CAUSE_NONE:
	case DNS_CAUSE_LOCAL:
		return false;
	}
	switch (transport) {
	case DNS_TRANSPORT_UDP:
		return leg_fits(ev, &r->udp);
	case DNS_TRANSPORT_TCP:
		return leg_fits(ev, &r->tcp);
	case DNS_TRANSPORT_UDP_TCP:
		break;
	}
	if (leg_kind(&r->udp) != LEG_TRUNCATED)
		return leg_fits(ev, &r->udp);
	/* truncated over UDP: the lookup went on over TCP */
	switch (r->tcp.status) {
	case DNS_PROBE_REFUSED:
	case DNS_PROBE_CLOSED:
		/* libunbound gives up at once, in a millisecond or two */
		return ev->cause == DNS_CAUSE_SERVFAIL;
	case DNS_PROBE_ANSWERED:
	case DNS_PROBE_TIMEOUT:
	case DNS_PROBE_MALFORMED:
	case DNS_PROBE_UNREACHABLE:
	case DNS_PROBE_ERROR:
		break;
	}
	return leg_fits(ev, &r->tcp);
}

bool probe_finding_server_wide(const struct dns_probe_result *r)
{
	return leg_kind(&r->udp) == LEG_NOTHING && leg_kind(&r->tcp) == LEG_NOTHING;
}

/* ---- the cache --------------------------------------------------------------------------- */

enum entry_state { ENTRY_FREE, ENTRY_QUEUED, ENTRY_RUNNING, ENTRY_DONE };

/* The part of a failed lookup's evidence a follow-up needs (the name is its entry's). */
struct follow_up {
	struct follow_up *next;
	enum dns_outcome outcome;
	enum dns_cause cause;
	int rcode;
	unsigned ms;
	char lead[];
};

struct entry {
	enum entry_state state;
	uint16_t qtype;
	char qname[DNS_PROBE_QNAME_SIZE];	/* as asked, without a final dot */
	unsigned long seq;			/* queue order */
	long long done_ms;
	bool probed[PROBE_CACHE_SERVERS];	/* results[i] is what server i did */
	struct dns_probe_result results[PROBE_CACHE_SERVERS];
	struct follow_up *follow_ups;
};

struct probe_cache {
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_t workers[PROBE_CACHE_WORKERS];
	size_t worker_count;
	bool stopping;
	struct dns_server servers[PROBE_CACHE_SERVERS];
	size_t server_count;
	enum dns_transport transport;
	unsigned queued;			/* entries QUEUED */
	unsigned follow_ups;			/* follow-ups pending */
	unsigned long seq;
	struct probe_cache_stats stats;
	struct entry entries[PROBE_CACHE_ENTRIES];
};

/* The name without its final dot, if it fits an entry; false if it does not. */
static bool key_name(const char *qname, char *out, size_t size)
{
	size_t len = strlen(qname);

	if (len > 1 && qname[len - 1] == '.' && qname[len - 2] != '\\')
		len--;
	if (len == 0 || len >= size)
		return false;
	memcpy(out, qname, len);
	out[len] = '\0';
	return true;
}

static bool fresh(const struct entry *e, long long now)
{
	return e->state == ENTRY_DONE && now - e->done_ms < PROBE_CACHE_TTL_MS;
}

static struct entry *find(struct probe_cache *pc, const char *name, uint16_t qtype)
{
	for (size_t i = 0; i < PROBE_CACHE_ENTRIES; i++) {
		struct entry *e = &pc->entries[i];
		if (e->state != ENTRY_FREE && e->qtype == qtype && strcasecmp(e->qname, name) == 0)
			return e;
	}
	return NULL;
}

/* Evidence the probe could explain at all. */
static bool troubled(const struct dns_evidence *ev)
{
	return ev && ev->qname && ev->outcome == DNS_TEMPFAIL && ev->cause != DNS_CAUSE_LOCAL &&
	       ev->cause != DNS_CAUSE_NONE;
}

/*
 * The finding server `i` gives every question in the window, if it failed all of them by
 * answering nothing: the newest such result.  NULL if it answered any question, or none was probed.
 */
static const struct dns_probe_result *server_down(const struct probe_cache *pc, size_t i, long long now)
{
	const struct entry *newest = NULL;

	for (size_t k = 0; k < PROBE_CACHE_ENTRIES; k++) {
		const struct entry *e = &pc->entries[k];
		if (!fresh(e, now) || !e->probed[i])
			continue;
		if (!probe_finding_server_wide(&e->results[i]))
			return NULL;
		if (!newest || e->done_ms > newest->done_ms)
			newest = e;
	}
	return newest ? &newest->results[i] : NULL;
}

/* Appends the server-wide findings that fit ev; true if every server had one. */
static bool borrow_server_wide(const struct probe_cache *pc, const struct dns_evidence *ev, long long now,
			       struct strbuf *sb)
{
	size_t fitting = 0;

	for (size_t i = 0; i < pc->server_count; i++) {
		const struct dns_probe_result *r = server_down(pc, i, now);
		char sentence[DNS_PROBE_TEXT_SIZE];
		if (!r || !probe_finding_fits(ev, r, pc->transport))
			continue;
		if (sb)
			strbuf_appendf(sb, "%s%s", strbuf_len(sb) ? "; " : "",
				       dns_probe_describe_resolver(r, sentence, sizeof(sentence)));
		fitting++;
	}
	return fitting > 0 && fitting == pc->server_count;
}

/* Appends the findings of `results` that fit ev; true if any did. */
static bool describe_fitting(const struct probe_cache *pc, const bool *probed, const struct dns_probe_result *results,
			     const struct dns_evidence *ev, struct strbuf *sb)
{
	bool any = false;

	for (size_t i = 0; i < pc->server_count; i++) {
		char sentence[DNS_PROBE_TEXT_SIZE];
		if (!probed[i] || !probe_finding_fits(ev, &results[i], pc->transport))
			continue;
		strbuf_appendf(sb, "%s%s", strbuf_len(sb) ? "; " : "",
			       dns_probe_describe_resolver(&results[i], sentence, sizeof(sentence)));
		any = true;
	}
	return any;
}

/* A slot for a new question (locked): a free one, else the stalest finished one. */
static struct entry *slot_for(struct probe_cache *pc)
{
	struct entry *oldest = NULL;

	for (size_t i = 0; i < PROBE_CACHE_ENTRIES; i++) {
		struct entry *e = &pc->entries[i];
		if (e->state == ENTRY_FREE)
			return e;
		if (e->state == ENTRY_DONE && (!oldest || e->done_ms < oldest->done_ms))
			oldest = e;
	}
	return oldest;
}

/*
 * Queues a probe of name/qtype (locked) unless one is queued, running or fresh; `e` is its entry
 * if it has one.  Returns the entry, QUEUED or RUNNING or fresh; NULL if dropped.
 */
static struct entry *queue_probe(struct probe_cache *pc, struct entry *e, const char *name, uint16_t qtype,
				 long long now)
{
	if (e && (e->state == ENTRY_QUEUED || e->state == ENTRY_RUNNING || fresh(e, now)))
		return e;
	if (pc->queued >= PROBE_CACHE_QUEUE_MAX || pc->stopping || !(e = e ? e : slot_for(pc))) {
		pc->stats.dropped++;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->qname, sizeof(e->qname), "%s", name);
	e->qtype = qtype;
	e->state = ENTRY_QUEUED;
	e->seq = ++pc->seq;
	pc->queued++;
	pthread_cond_signal(&pc->work);
	return e;
}

void probe_cache_start(void *arg, const struct dns_evidence *ev)
{
	struct probe_cache *pc = arg;
	char name[DNS_PROBE_QNAME_SIZE];
	long long now;

	if (!pc || pc->server_count == 0 || !troubled(ev) || !key_name(ev->qname, name, sizeof(name)))
		return;
	now = monotonic_ms();
	pthread_mutex_lock(&pc->lock);
	struct entry *e = find(pc, name, ev->qtype);
	/* a server that answers nothing is known already: one probe per server, not one per name */
	if (e || !borrow_server_wide(pc, ev, now, NULL))
		queue_probe(pc, e, name, ev->qtype, now);
	pthread_mutex_unlock(&pc->lock);
}

/* Hangs a follow-up on a QUEUED or RUNNING entry (locked), once per lead. */
static void add_follow_up(struct probe_cache *pc, struct entry *e, const struct dns_evidence *ev, const char *lead)
{
	size_t len = strnlen(lead, PROBE_CACHE_LEAD_MAX);
	struct follow_up *fu;

	for (fu = e->follow_ups; fu; fu = fu->next)
		if (strncmp(fu->lead, lead, len) == 0 && fu->lead[len] == '\0')
			return;
	if (pc->follow_ups >= PROBE_CACHE_FOLLOW_UPS_MAX || !(fu = malloc(sizeof(*fu) + len + 1))) {
		pc->stats.follow_ups_dropped++;
		return;
	}
	fu->outcome = ev->outcome;
	fu->cause = ev->cause;
	fu->rcode = ev->rcode;
	fu->ms = ev->ms;
	memcpy(fu->lead, lead, len);
	fu->lead[len] = '\0';
	fu->next = e->follow_ups;
	e->follow_ups = fu;
	pc->follow_ups++;
}

enum probe_state probe_cache_finding(struct probe_cache *pc, const struct dns_evidence *ev, const char *follow_up_lead,
				     char *buf, size_t size)
{
	char name[DNS_PROBE_QNAME_SIZE];
	enum probe_state state = PROBE_NONE;
	struct strbuf sb;
	struct entry *e;
	long long now;

	if (size == 0)
		return PROBE_NONE;
	strbuf_init(&sb, buf, size);
	if (!pc || pc->server_count == 0 || !troubled(ev) || !key_name(ev->qname, name, sizeof(name)))
		return PROBE_NONE;
	now = monotonic_ms();
	pthread_mutex_lock(&pc->lock);
	e = find(pc, name, ev->qtype);
	if (e && fresh(e, now)) {
		/* this very question was probed: its own finding or nothing, never another's */
		state = describe_fitting(pc, e->probed, e->results, ev, &sb) ? PROBE_KNOWN : PROBE_NONE;
	} else if (!e && borrow_server_wide(pc, ev, now, &sb)) {
		state = PROBE_KNOWN;
	} else {
		strbuf_reset(&sb);
		e = queue_probe(pc, e, name, ev->qtype, now);
		if (e) {
			state = PROBE_RUNNING;
			if (follow_up_lead)
				add_follow_up(pc, e, ev, follow_up_lead);
		}
	}
	pthread_mutex_unlock(&pc->lock);
	if (state != PROBE_KNOWN)
		strbuf_reset(&sb);
	return state;
}

/* Logs each follow-up of a completed probe (unlocked) and frees it. */
static void log_follow_ups(struct probe_cache *pc, struct follow_up *list, const char *qname, uint16_t qtype,
			   const bool *probed, const struct dns_probe_result *results)
{
	struct follow_up *next;

	for (struct follow_up *fu = list; fu; fu = next) {
		char storage[PROBE_CACHE_LEAD_MAX + 2 * DNS_PROBE_TEXT_SIZE], finding[DNS_PROBE_TEXT_SIZE], type[16];
		struct dns_evidence ev = {
			.qname = qname, .qtype = qtype, .outcome = fu->outcome, .cause = fu->cause, .rcode = fu->rcode,
			.ms = fu->ms,
		};
		struct strbuf line, found;
		bool fits;

		next = fu->next;
		strbuf_init(&found, finding, sizeof(finding));
		fits = describe_fitting(pc, probed, results, &ev, &found);
		strbuf_init(&line, storage, sizeof(storage));
		strbuf_append(&line, fu->lead);
		strbuf_append_kv(&line, "name", qname);
		strbuf_append_kv(&line, "type", dns_type_name(qtype, type, sizeof(type)));
		strbuf_append_kv(&line, "finding", fits ? finding : "none");
		if (fits)
			log_warning("%s", strbuf_text(&line));
		else
			log_info("%s", strbuf_text(&line));
		free(fu);
	}
}

static void *work(void *arg)
{
	struct probe_cache *pc = arg;

	pthread_mutex_lock(&pc->lock);
	for (;;) {
		struct entry *e = NULL;
		for (size_t i = 0; i < PROBE_CACHE_ENTRIES; i++)
			if (pc->entries[i].state == ENTRY_QUEUED && (!e || pc->entries[i].seq < e->seq))
				e = &pc->entries[i];
		if (pc->stopping)
			break;
		if (!e) {
			pthread_cond_wait(&pc->work, &pc->lock);
			continue;
		}
		e->state = ENTRY_RUNNING;
		pc->queued--;
		/* the entry is this worker's while RUNNING: read and written without the lock */
		pthread_mutex_unlock(&pc->lock);

		bool probed[PROBE_CACHE_SERVERS] = {false};
		struct dns_probe_result results[PROBE_CACHE_SERVERS];
		for (size_t i = 0; i < pc->server_count; i++) {
			char err[256];
			probed[i] = dns_probe_server(&pc->servers[i], e->qname, e->qtype, PROBE_CACHE_DEADLINE_MS,
						     &results[i], err, sizeof(err)) == 0;
			if (!probed[i])
				log_debug("probe name=%s: %s", e->qname, err);
			pthread_mutex_lock(&pc->lock);
			bool stop = pc->stopping;
			pthread_mutex_unlock(&pc->lock);
			if (stop)
				break;
		}

		pthread_mutex_lock(&pc->lock);
		memcpy(e->probed, probed, sizeof(probed));
		memcpy(e->results, results, sizeof(results));
		e->state = ENTRY_DONE;
		e->done_ms = monotonic_ms();
		pc->stats.probes++;
		struct follow_up *list = e->follow_ups;
		e->follow_ups = NULL;
		for (struct follow_up *fu = list; fu; fu = fu->next)
			pc->follow_ups--;
		char qname[DNS_PROBE_QNAME_SIZE];
		uint16_t qtype = e->qtype;
		memcpy(qname, e->qname, sizeof(qname));
		pthread_mutex_unlock(&pc->lock);
		log_follow_ups(pc, list, qname, qtype, probed, results);
		pthread_mutex_lock(&pc->lock);
	}
	pthread_mutex_unlock(&pc->lock);
	return NULL;
}

/* The nameservers of a resolv.conf, as libunbound reads them. */
static void read_resolv_conf(struct probe_cache *pc, const char *path, char *err, size_t errlen)
{
	char why[256];
	int n = dns_resolv_conf_servers(path, pc->servers, PROBE_CACHE_SERVERS, why, sizeof(why));

	if (n < 0) {
		snprintf(err, errlen, "the DNS probe cannot read the nameservers of %s: %s", path, why);
		return;
	}
	pc->server_count = (size_t)n;
	if (pc->server_count == 0)
		snprintf(err, errlen, "the DNS probe finds no nameserver in %s", path);
}

struct probe_cache *probe_cache_new(const struct dns_settings *dns, const char *resolv_conf, char *err, size_t errlen)
{
	struct probe_cache *pc = calloc(1, sizeof(*pc));

	if (errlen)
		err[0] = '\0';
	if (!pc) {
		snprintf(err, errlen, "out of memory for the DNS probe cache");
		return NULL;
	}
	pthread_mutex_init(&pc->lock, NULL);
	pthread_cond_init(&pc->work, NULL);
	pc->transport = dns->transport;
	switch (dns->mode) {
	case DNS_MODE_FORWARD:
		for (size_t i = 0; i < dns->server_count && i < PROBE_CACHE_SERVERS; i++)
			pc->servers[pc->server_count++] = dns->servers[i];
		break;
	case DNS_MODE_RESOLV_CONF:
		read_resolv_conf(pc, resolv_conf ? resolv_conf : "/etc/resolv.conf", err, errlen);
		break;
	case DNS_MODE_RECURSIVE:
		/* the servers asked are the Internet's authorities: nothing of ours to probe */
		break;
	}
	for (size_t i = 0; pc->server_count > 0 && i < PROBE_CACHE_WORKERS; i++) {
		if (pthread_create(&pc->workers[i], NULL, work, pc) != 0) {
			snprintf(err, errlen, "cannot start a DNS probe thread");
			probe_cache_free(pc);
			return NULL;
		}
		pc->worker_count++;
	}
	return pc;
}

void probe_cache_free(struct probe_cache *pc)
{
	if (!pc)
		return;
	pthread_mutex_lock(&pc->lock);
	pc->stopping = true;
	pthread_cond_broadcast(&pc->work);
	pthread_mutex_unlock(&pc->lock);
	for (size_t i = 0; i < pc->worker_count; i++)
		pthread_join(pc->workers[i], NULL);
	/* the workers are gone: what is left waits on probes that will never run */
	for (size_t i = 0; i < PROBE_CACHE_ENTRIES; i++) {
		struct follow_up *fu = pc->entries[i].follow_ups, *next;
		for (; fu; fu = next) {
			next = fu->next;
			free(fu);
		}
	}
	pthread_cond_destroy(&pc->work);
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}

const char *probe_cache_describe(const struct probe_cache *pc, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	for (size_t i = 0; pc && i < pc->server_count; i++) {
		char server[80];
		strbuf_appendf(&sb, "%s%s", i ? "," : "", dns_server_format(&pc->servers[i], server, sizeof(server)));
	}
	return strbuf_text(&sb);
}

const char *probe_server_state_name(enum probe_server_state state)
{
	switch (state) {
	case PROBE_SERVER_UNPROBED:
		return "unprobed";
	case PROBE_SERVER_ANSWERING:
		return "answering";
	case PROBE_SERVER_FAILING:
		return "failing";
	case PROBE_SERVER_SILENT:
		return "silent";
	}
	return "unknown";
}

/* What one probe says of its server, on the leg the resolver would have used. */
static enum probe_server_state server_state(const struct dns_probe_result *r, enum dns_transport transport)
{
	const struct dns_probe_leg *leg = transport == DNS_TRANSPORT_TCP ? &r->tcp : &r->udp;

	if (probe_finding_server_wide(r))
		return PROBE_SERVER_SILENT;
	if (transport == DNS_TRANSPORT_UDP_TCP && leg_kind(leg) == LEG_TRUNCATED)
		leg = &r->tcp;
	return leg_kind(leg) == LEG_USABLE ? PROBE_SERVER_ANSWERING : PROBE_SERVER_FAILING;
}

size_t probe_cache_servers(struct probe_cache *pc, struct probe_cache_server *out, size_t max)
{
	long long now = monotonic_ms();
	size_t n;

	pthread_mutex_lock(&pc->lock);
	for (n = 0; n < pc->server_count && n < max; n++) {
		const struct entry *newest = NULL;
		for (size_t k = 0; k < PROBE_CACHE_ENTRIES; k++) {
			const struct entry *e = &pc->entries[k];
			if (fresh(e, now) && e->probed[n] && (!newest || e->done_ms > newest->done_ms))
				newest = e;
		}
		dns_server_format(&pc->servers[n], out[n].name, sizeof(out[n].name));
		out[n].state = newest ? server_state(&newest->results[n], pc->transport) : PROBE_SERVER_UNPROBED;
	}
	pthread_mutex_unlock(&pc->lock);
	return n;
}

void probe_cache_stats(struct probe_cache *pc, struct probe_cache_stats *out)
{
	pthread_mutex_lock(&pc->lock);
	*out = pc->stats;
	pthread_mutex_unlock(&pc->lock);
}
