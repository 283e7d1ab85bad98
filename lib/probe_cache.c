/*
 * probe_cache - server probes behind a small time-limited cache; see probe_cache.h.
 */
#include "probe_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns_probe.h"
#include "strbuf.h"

#define CACHE_SLOTS 64

struct slot {
	struct dns_server server;
	char qname[256];
	uint16_t qtype;
	long long at_ms;
	bool server_down;	/* neither UDP nor TCP answered: true of every question */
	char sentence[DNS_PROBE_TEXT_SIZE];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[CACHE_SLOTS];
static size_t next_slot;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static bool same_server(const struct dns_server *a, const struct dns_server *b)
{
	return a->port == b->port && netaddr_equal(&a->addr, &b->addr);
}

static bool lookup(const struct dns_server *server, const char *qname, uint16_t qtype, char *out, size_t size)
{
	long long now = now_ms();
	bool found = false;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < CACHE_SLOTS && !found; i++) {
		const struct slot *sl = &slots[i];
		/* a server that answers nothing is down for every name: one probe per server, not per
		 * name, or every fresh name would wait out another probe after the deadline */
		if (sl->at_ms && now - sl->at_ms < PROBE_CACHE_TTL_MS && same_server(&sl->server, server) &&
		    (sl->server_down || (sl->qtype == qtype && strcasecmp(sl->qname, qname) == 0))) {
			snprintf(out, size, "%s", sl->sentence);
			found = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

static void store(const struct dns_server *server, const char *qname, uint16_t qtype, bool server_down,
		  const char *sentence)
{
	struct slot *sl;

	pthread_mutex_lock(&lock);
	sl = &slots[next_slot];
	next_slot = (next_slot + 1) % CACHE_SLOTS;
	sl->server = *server;
	snprintf(sl->qname, sizeof(sl->qname), "%s", qname);
	sl->qtype = qtype;
	sl->at_ms = now_ms();
	sl->server_down = server_down;
	snprintf(sl->sentence, sizeof(sl->sentence), "%s", sentence);
	pthread_mutex_unlock(&lock);
}

bool probe_cache_explain(const struct dns_settings *dns, const char *qname, uint16_t qtype, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	if (dns->mode != DNS_MODE_FORWARD)
		return false;
	for (size_t i = 0; i < dns->server_count && i < PROBE_CACHE_SERVERS; i++) {
		char sentence[DNS_PROBE_TEXT_SIZE], err[256];
		struct dns_probe_result r;

		if (!lookup(&dns->servers[i], qname, qtype, sentence, sizeof(sentence))) {
			if (dns_probe_server(&dns->servers[i], qname, qtype, PROBE_CACHE_DEADLINE_MS, &r, err, sizeof(err)) != 0)
				continue;
			dns_probe_describe(&r, sentence, sizeof(sentence));
			store(&dns->servers[i], qname, qtype,
			      r.udp.status != DNS_PROBE_ANSWERED && r.tcp.status != DNS_PROBE_ANSWERED, sentence);
		}
		strbuf_appendf(&sb, "%s%s", strbuf_len(&sb) ? "; " : "", sentence);
	}
	return strbuf_len(&sb) > 0;
}
