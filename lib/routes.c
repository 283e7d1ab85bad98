/*
 * routes - route answers and the smart hosts' addresses kept fresh; see routes.h.
 */
#include "routes.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "monotonic.h"

#define REFRESH_MIN_S 10		/* however short the TTL */
#define REFRESH_MAX_S 3600		/* however long the TTL: a moved host is noticed within an hour */
#define RETRY_FIRST_S 5			/* after a failure, doubling ... */
#define RETRY_MAX_S 300			/* ... up to this */
#define STATE_MAX (4 * 1024 * 1024)
#define KEEP_UNWANTED_S (7 * 24 * 3600)	/* a host no route names any more: kept this long, unrefreshed,
					 * so that a route switched away and back (the * test switch) has
					 * its addresses at once, even during a DNS outage */

enum host_state {
	HOST_NEW,		/* never asked */
	HOST_GOOD,		/* its addresses are confirmed (or loaded, and being confirmed) */
	HOST_STALE,		/* had addresses; the last refresh failed: they are still served */
	HOST_FAILED,		/* never had addresses; the last lookup failed */
};

struct host_entry {
	struct host_entry *next;
	char name[DNS_NAME_TEXT_MAX];
	enum host_state state;
	bool wanted;
	time_t unwanted_since;		/* when the last route naming it went (wall clock) */
	struct netaddr addresses[HOST_LOOKUP_ADDRESSES_MAX];
	size_t count;
	uint32_t ttl;
	time_t confirmed;		/* wall clock of the last good answer: in the state file */
	long long next_ms;		/* monotonic: when to ask again */
	unsigned failures;		/* in a row */
	char failure[400];		/* why the last lookup failed: TEMP replies and the log */
};

struct route_hosts {
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* the thread: something is due, or stop */
	pthread_cond_t changed;		/* answers waiting for a first lookup */
	struct host_entry *entries;
	bool dirty;			/* the state file is behind */
	bool stop;
	char *state_file;
	route_resolve_fn *resolve;
	void *arg;
	pthread_t thread;
};

/* ---- the table ---------------------------------------------------------------------------- */

static struct host_entry *find(struct route_hosts *h, const char *name)
{
	for (struct host_entry *e = h->entries; e; e = e->next)
		if (strcasecmp(e->name, name) == 0)
			return e;
	return NULL;
}

static struct host_entry *add(struct route_hosts *h, const char *name)
{
	struct host_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->next = h->entries;
	h->entries = e;
	return e;
}

static void format_addresses(const struct host_entry *e, struct strbuf *sb)
{
	char text[64];

	for (size_t i = 0; i < e->count; i++)
		strbuf_appendf(sb, "%s%s", i ? "," : "", netaddr_format(&e->addresses[i], text, sizeof(text)));
}

static bool same_addresses(const struct host_entry *e, const struct host_addresses *a)
{
	if (e->count != a->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (!netaddr_equal(&e->addresses[i], &a->addresses[i]))
			return false;
	return true;
}

/* Why a lookup gave no address, in words for a TEMP reply and the log. */
static void failure_text(const struct host_addresses *a, char *buf, size_t size)
{
	char rcode[16];

	switch (a->outcome) {
	case DNS_NXDOMAIN:
		snprintf(buf, size, "smart host %s does not exist (NXDOMAIN)", a->qname);
		break;
	case DNS_NODATA:
		snprintf(buf, size, "smart host %s has no address (no A or AAAA record)", a->qname);
		break;
	case DNS_BOGUS:
		snprintf(buf, size, "smart host %s: DNSSEC validation failed (%s)", a->qname,
			 a->evidence.why_bogus ? a->evidence.why_bogus : "");
		break;
	default:
		snprintf(buf, size, "smart host %s: DNS trouble (%s, rcode %s, %u ms)", a->qname,
			 dns_cause_name(a->evidence.cause), dns_rcode_name(a->evidence.rcode, rcode, sizeof(rcode)),
			 a->evidence.ms);
		break;
	}
}

static unsigned refresh_after_s(uint32_t ttl)
{
	unsigned s = ttl / 4 * 3;

	return s < REFRESH_MIN_S ? REFRESH_MIN_S : s > REFRESH_MAX_S ? REFRESH_MAX_S : s;
}

/* Takes in one lookup's outcome (locked); logs what changed, once. */
static void update(struct route_hosts *h, struct host_entry *e, const struct host_addresses *a)
{
	char storage[1024];
	struct strbuf line;
	enum host_state was = e->state;

	strbuf_init(&line, storage, sizeof(storage));
	strbuf_appendf(&line, "route host=%s", e->name);
	if (a->outcome == DNS_FOUND) {
		bool changed = !same_addresses(e, a);
		e->count = a->count;
		memcpy(e->addresses, a->addresses, a->count * sizeof(a->addresses[0]));
		e->ttl = a->ttl;
		e->confirmed = time(NULL);
		e->failures = 0;
		e->failure[0] = '\0';
		e->state = HOST_GOOD;
		e->next_ms = monotonic_ms() + 1000LL * refresh_after_s(a->ttl);
		h->dirty = true;
		if (was == HOST_GOOD && !changed)
			return;	/* confirmed as it was: nothing to tell */
		strbuf_append(&line, was == HOST_STALE || was == HOST_FAILED ? " status=recovered"
				     : was == HOST_GOOD			       ? " status=changed"
									       : " status=resolved");
		strbuf_append(&line, " addresses=");
		format_addresses(e, &line);
		strbuf_appendf(&line, " ttl=%u", (unsigned)a->ttl);
		log_info("%s", strbuf_text(&line));
		return;
	}
	e->failures++;
	failure_text(a, e->failure, sizeof(e->failure));
	{
		unsigned retry = RETRY_FIRST_S << (e->failures > 6 ? 6 : e->failures - 1);
		e->next_ms = monotonic_ms() + 1000LL * (retry > RETRY_MAX_S ? RETRY_MAX_S : retry);
	}
	e->state = e->count ? HOST_STALE : HOST_FAILED;
	if (e->failures > 1)
		return;	/* logged at the first failure of the run; the recovery is logged too */
	if (e->state == HOST_STALE) {
		strbuf_append(&line, " status=stale addresses=");
		format_addresses(e, &line);
		strbuf_append_kv(&line, "reason", e->failure);
	} else {
		strbuf_append(&line, " status=unresolved");
		strbuf_append_kv(&line, "reason", e->failure);
	}
	dns_evidence_format(&a->evidence, "dns_", &line);
	log_warning("%s", strbuf_text(&line));
}

/* ---- the state file -------------------------------------------------------------------------- */

static char *state_json(struct route_hosts *h)
{
	json_t *root = json_object(), *list = json_array();
	char text[64], *out;

	for (struct host_entry *e = h->entries; e; e = e->next) {
		json_t *one, *addrs;
		if (e->count == 0)
			continue;
		one = json_object();
		addrs = json_array();
		for (size_t i = 0; i < e->count; i++)
			json_array_append_new(addrs, json_string(netaddr_format(&e->addresses[i], text, sizeof(text))));
		json_object_set_new(one, "name", json_string(e->name));
		json_object_set_new(one, "addresses", addrs);
		json_object_set_new(one, "ttl", json_integer(e->ttl));
		json_object_set_new(one, "confirmed", json_integer((json_int_t)e->confirmed));
		json_array_append_new(list, one);
	}
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "hosts", list);
	out = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	return out;
}

/* Replaces the state file whole: temporary file, fsync, rename, fsync of its directory. */
static int write_state(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4096], dir[4096];
	size_t len = strlen(text);
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		goto fail;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			goto fail;
		}
		done += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		close(fd);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) != 0)
		goto fail;
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	snprintf(err, errlen, "%.300s: %s", tmp, strerror(errno));
	unlink(tmp);
	return -1;
}

/* Loads what a previous run knew; anything unreadable is logged and left out. */
static void load_state(struct route_hosts *h)
{
	json_error_t jerr;
	json_t *root, *list, *one;
	size_t i;
	struct stat st;

	if (stat(h->state_file, &st) != 0)
		return;	/* a first start */
	if (!S_ISREG(st.st_mode) || st.st_size > STATE_MAX) {
		log_warning("route_state_file %s: not a regular file of at most %d bytes: ignored", h->state_file,
			    STATE_MAX);
		return;
	}
	if (!(root = json_load_file(h->state_file, 0, &jerr))) {
		log_warning("route_state_file %s: line %d: %s: ignored", h->state_file, jerr.line, jerr.text);
		return;
	}
	list = json_object_get(root, "hosts");
	json_array_foreach(list, i, one) {
		const char *name = json_string_value(json_object_get(one, "name"));
		json_t *addrs = json_object_get(one, "addresses"), *a;
		struct host_entry *e;
		size_t j;
		if (!name || !dns_plain_name_length(name) || find(h, name) || !(e = add(h, name)))
			continue;
		json_array_foreach(addrs, j, a) {
			if (e->count < HOST_LOOKUP_ADDRESSES_MAX && json_string_value(a) &&
			    netaddr_parse(json_string_value(a), &e->addresses[e->count]))
				e->count++;
		}
		e->ttl = (uint32_t)json_integer_value(json_object_get(one, "ttl"));
		e->confirmed = (time_t)json_integer_value(json_object_get(one, "confirmed"));
		e->state = e->count ? HOST_GOOD : HOST_NEW;
		e->next_ms = 0;	/* confirm at once */
	}
	json_decref(root);
}

/* ---- the thread ---------------------------------------------------------------------------------- */

static void drop_unwanted(struct route_hosts *h)
{
	time_t now = time(NULL);

	for (struct host_entry **p = &h->entries; *p;) {
		struct host_entry *e = *p;
		if (e->wanted || (e->count && now - e->unwanted_since < KEEP_UNWANTED_S)) {
			p = &e->next;
			continue;
		}
		*p = e->next;
		free(e);
		h->dirty = true;
	}
}

static void *refresher(void *arg)
{
	struct route_hosts *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct host_entry *due = NULL;
		long long now = monotonic_ms(), next = -1;

		drop_unwanted(h);
		for (struct host_entry *e = h->entries; e; e = e->next) {
			if (!e->wanted)
				continue;	/* kept, not refreshed */
			if (e->next_ms <= now) {
				due = e;
				break;
			}
			if (next < 0 || e->next_ms < next)
				next = e->next_ms;
		}
		if (due) {
			char name[DNS_NAME_TEXT_MAX];
			struct host_addresses a;
			snprintf(name, sizeof(name), "%s", due->name);
			pthread_mutex_unlock(&h->lock);
			h->resolve(h->arg, name, &a);
			pthread_mutex_lock(&h->lock);
			update(h, due, &a);	/* only this thread frees entries: `due` is still there */
			pthread_cond_broadcast(&h->changed);
			continue;
		}
		if (h->dirty && h->state_file) {
			char *text = state_json(h), err[512];
			h->dirty = false;
			pthread_mutex_unlock(&h->lock);
			if (text && write_state(h->state_file, text, err, sizeof(err)) != 0)
				log_warning("route_state_file: %s: the routes' last good addresses are not kept", err);
			free(text);
			pthread_mutex_lock(&h->lock);
			continue;
		}
		if (next < 0) {
			pthread_cond_wait(&h->wake, &h->lock);
		} else {
			struct timespec until = monotonic_after(monotonic_now(), (unsigned)(next - now));
			pthread_cond_timedwait(&h->wake, &h->lock, &until);
		}
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct route_hosts *route_hosts_start(const char *state_file, route_resolve_fn *resolve, void *arg, char *err,
				      size_t errlen)
{
	struct route_hosts *h = calloc(1, sizeof(*h));
	pthread_condattr_t attr;

	if (!h || (state_file && *state_file && !(h->state_file = strdup(state_file)))) {
		free(h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->resolve = resolve;
	h->arg = arg;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &attr);
	pthread_cond_init(&h->changed, &attr);
	pthread_condattr_destroy(&attr);
	if (h->state_file)
		load_state(h);
	for (struct host_entry *e = h->entries; e; e = e->next)
		e->wanted = true;	/* until the policy says which it needs */
	if (pthread_create(&h->thread, NULL, refresher, h) != 0) {
		snprintf(err, errlen, "cannot start the route thread: %s", strerror(errno));
		h->stop = true;
		route_hosts_stop(h);
		return NULL;
	}
	return h;
}

void route_hosts_stop(struct route_hosts *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	bool running = !h->stop;
	h->stop = true;
	pthread_cond_broadcast(&h->wake);
	pthread_mutex_unlock(&h->lock);
	if (running)
		pthread_join(h->thread, NULL);
	if (h->dirty && h->state_file) {
		/* what the thread had not written yet */
		char *text = state_json(h), err[512];
		if (text && write_state(h->state_file, text, err, sizeof(err)) != 0)
			log_warning("route_state_file: %s: the routes' last good addresses are not kept", err);
		free(text);
	}
	while (h->entries) {
		struct host_entry *e = h->entries;
		h->entries = e->next;
		free(e);
	}
	pthread_cond_destroy(&h->wake);
	pthread_cond_destroy(&h->changed);
	pthread_mutex_destroy(&h->lock);
	free(h->state_file);
	free(h);
}

void route_hosts_want(struct route_hosts *h, const struct policy *policy)
{
	time_t now = time(NULL);

	pthread_mutex_lock(&h->lock);
	for (struct host_entry *e = h->entries; e; e = e->next) {
		if (e->wanted)
			e->unwanted_since = now;	/* unless a route still names it, below */
		e->wanted = false;
	}
	for (size_t i = 0; i < policy_route_count(policy); i++) {
		const struct policy_route *r = policy_route_at(policy, i);
		for (size_t j = 0; j < r->host_count; j++) {
			const struct policy_route_host *host = &r->hosts[j];
			struct host_entry *e;
			if (host->kind != POLICY_ROUTE_NAME)
				continue;
			if (!(e = find(h, host->name)) && !(e = add(h, host->name)))
				continue;	/* out of memory: that host answers TEMP */
			e->wanted = true;
			e->unwanted_since = 0;
			e->next_ms = 0;	/* a reload asks every name again, at once */
		}
	}
	pthread_cond_broadcast(&h->wake);
	pthread_mutex_unlock(&h->lock);
}

/* ---- answers ----------------------------------------------------------------------------------- */

enum map_kind { MAP_POSTFIX, MAP_SENDMAIL };

static void append_address(struct strbuf *sb, enum map_kind map, bool *first, const struct netaddr *a, unsigned port)
{
	char text[64];

	netaddr_format(a, text, sizeof(text));
	if (map == MAP_POSTFIX) {
		strbuf_appendf(sb, "%s[%s]", *first ? "" : ", ", text);
		if (port)
			strbuf_appendf(sb, ":%u", port);
	} else {
		strbuf_appendf(sb, "%s[%s%s]", *first ? "" : ":", a->family == AF_INET6 ? "IPv6:" : "", text);
	}
	*first = false;
}

/* A name's entry with addresses, waiting (locked) up to wait_ms for a first lookup. */
static struct host_entry *usable(struct route_hosts *h, const char *name, unsigned wait_ms)
{
	struct timespec until = monotonic_after(monotonic_now(), wait_ms);
	struct host_entry *e = find(h, name);

	if (e && e->wanted && e->state == HOST_NEW) {
		e->next_ms = 0;
		pthread_cond_broadcast(&h->wake);
		/* the wait lets go of the lock: look the entry up again after each wake */
		while (!h->stop && pthread_cond_timedwait(&h->changed, &h->lock, &until) == 0) {
			e = find(h, name);
			if (!e || e->state != HOST_NEW)
				break;
		}
		e = find(h, name);
	}
	return e && e->wanted && e->count ? e : NULL;
}

void route_answer(struct route_hosts *h, const struct policy *policy, const char *map, const char *key,
		  unsigned wait_ms, struct strbuf *reply, struct route_answer_info *info)
{
	const struct policy_route *r;
	enum map_kind kind;
	bool first = true, stale = false;
	const char *missing = NULL;
	char why[400] = "";

	if (info)
		*info = (struct route_answer_info){.route = NULL};
	if (strcmp(map, "transport") == 0) {
		kind = MAP_POSTFIX;
	} else if (strcmp(map, "mailertable") == 0) {
		kind = MAP_SENDMAIL;
	} else {
		strbuf_append(reply, "PERM unknown map (dnsguard serves transport and mailertable)");
		return;
	}
	if (!policy || !(r = policy_route_find(policy, key))) {
		strbuf_append(reply, "NOTFOUND ");
		return;
	}
	if (info)
		info->route = r->name;
	strbuf_append(reply, kind == MAP_POSTFIX ? "OK smtp:" : "OK esmtp:");
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < r->host_count; i++) {
		const struct policy_route_host *host = &r->hosts[i];
		struct host_entry *e;
		if (host->kind == POLICY_ROUTE_ADDRESS) {
			append_address(reply, kind, &first, &host->address, host->port);
			continue;
		}
		if (!(e = usable(h, host->name, wait_ms))) {
			struct host_entry *seen = find(h, host->name);
			if (!missing) {
				missing = host->name;
				snprintf(why, sizeof(why), "%s", seen && *seen->failure ? seen->failure : "");
			}
			continue;
		}
		stale |= e->state == HOST_STALE;
		for (size_t j = 0; j < e->count; j++)
			append_address(reply, kind, &first, &e->addresses[j], host->port);
	}
	pthread_mutex_unlock(&h->lock);
	if (info)
		info->stale = stale;
	if (first) {
		/* no host has an address: defer, never bounce */
		strbuf_reset(reply);
		if (*why)
			strbuf_appendf(reply, "TEMP %s", why);
		else
			strbuf_appendf(reply, "TEMP smart host %s has not resolved yet", missing ? missing : "?");
		return;
	}
	if (strbuf_truncated(reply) || strbuf_len(reply) > ROUTES_REPLY_MAX) {
		strbuf_reset(reply);
		strbuf_append(reply, "PERM route answer too long");
	}
}
