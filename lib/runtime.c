/*
 * runtime - loading, pinning and replacing the configuration generation; see runtime.h.
 */
#include "runtime.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "textfile.h"

#define POLICY_FILE_MAX (4 * 1024 * 1024)
#define BUILTIN_POLICY "{\"version\": 1}"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct runtime *current;
static unsigned generations;

struct runtime *runtime_load(const char *config_path, struct strbuf *errors, struct strbuf *notes)
{
	struct runtime *rt;
	char *text = NULL, why[512];
	size_t len;
	bool missing;

	rt = calloc(1, sizeof(*rt));
	if (!rt) {
		strbuf_append(errors, "out of memory\n");
		return NULL;
	}
	rt->refs = 1;
	rt->config = config_load(config_path, false, errors);
	if (!rt->config)
		goto fail;
	if (textfile_read(rt->config->policy_file, POLICY_FILE_MAX, &text, &len, &missing, why, sizeof(why))) {
		rt->policy = policy_compile(text, len, rt->config->policy_file, why, sizeof(why));
		free(text);
	} else if (missing) {
		if (notes)
			strbuf_appendf(notes, "policy_file %s does not exist: using the built-in policy\n",
				       rt->config->policy_file);
		rt->policy = policy_compile(BUILTIN_POLICY, strlen(BUILTIN_POLICY), "(built-in policy)", why,
					    sizeof(why));
	} else {
		strbuf_appendf(errors, "%s: %s\n", rt->config->policy_file, why);
		goto fail;
	}
	if (!rt->policy) {
		strbuf_appendf(errors, "%s\n", why);
		goto fail;
	}
	return rt;
fail:
	runtime_discard(rt);
	return NULL;
}

void runtime_discard(struct runtime *rt)
{
	if (!rt)
		return;
	/* the NDR in flight ends by its timeout; then the store may close */
	ndr_worker_stop(rt->ndr_worker);
	badmail_store_close(rt->badmail);
	/* the last session of this generation is gone: no job waits on its resolver any more */
	resolver_free(rt->resolver);
	/* after the resolver: no more failures are reported to it */
	if (rt->probes) {
		struct probe_cache_stats stats;
		probe_cache_stats(rt->probes, &stats);
		if (stats.dropped || stats.follow_ups_dropped)
			log_notice("DNS probe: generation=%u probes=%lu dropped=%lu follow_ups_dropped=%lu",
				   rt->generation, stats.probes, stats.dropped, stats.follow_ups_dropped);
		probe_cache_free(rt->probes);
	}
	config_free(rt->config);
	policy_free(rt->policy);
	free(rt);
}

bool runtime_start_dns(struct runtime *rt, struct strbuf *errors)
{
	struct resolver_options options = {
		.dns = rt->config->dns,
		.trust_anchor_file = rt->config->dns_trust_anchor,
		.root_hints = rt->config->dns_root_hints,
	};
	char why[512];

	/* the probe asks the servers libunbound forwards to: the same resolv.conf, read now */
	rt->probes = probe_cache_new(&rt->config->dns, options.resolv_conf, why, sizeof(why));
	if (!rt->probes) {
		strbuf_appendf(errors, "%s: DNS probe: %s\n", rt->config->source, why);
		return false;
	}
	if (why[0])
		log_warning("%s", why);
	else
		log_debug("DNS probe: servers=%s", probe_cache_describe(rt->probes, why, sizeof(why)));
	options.on_trouble = probe_cache_start;
	options.on_trouble_arg = rt->probes;
	rt->resolver = resolver_new(&options, why, sizeof(why));
	if (!rt->resolver) {
		strbuf_appendf(errors, "%s: DNS: %s\n", rt->config->source, why);
		return false;
	}
	return true;
}

bool runtime_start_badmail(struct runtime *rt, bool at_start, struct strbuf *errors)
{
	struct badmail_limits limits = {.max_bytes = rt->config->badmail_max_size,
					.max_entries = rt->config->badmail_max_entries};
	char why[512];

	if (!policy_uses_action(rt->policy, POLICY_DIVERT))
		return true;
	rt->badmail = badmail_store_open(rt->config->badmail_dir, &limits, at_start, why, sizeof(why));
	if (!rt->badmail) {
		strbuf_appendf(errors, "badmail_dir: %s\n", why);
		return false;
	}
	rt->ndr_worker = ndr_worker_start(rt->badmail, rt->config->sendmail_path, why, sizeof(why));
	if (!rt->ndr_worker) {
		strbuf_appendf(errors, "badmail: %s\n", why);
		return false;
	}
	return true;
}

void runtime_install(struct runtime *rt)
{
	struct runtime *old;

	pthread_mutex_lock(&lock);
	rt->generation = ++generations;
	old = current;
	current = rt;
	pthread_mutex_unlock(&lock);
	if (old) {
		/* the new generation's worker sends from now on; the old one stops after the NDR in
		 * hand, so that freeing its generation (on a session's close) never waits on a flush */
		ndr_worker_request_stop(old->ndr_worker);
		runtime_release(old);
	}
}

struct runtime *runtime_acquire(void)
{
	struct runtime *rt;

	pthread_mutex_lock(&lock);
	rt = current;
	if (rt)
		rt->refs++;
	pthread_mutex_unlock(&lock);
	return rt;
}

void runtime_release(struct runtime *rt)
{
	bool last;

	if (!rt)
		return;
	pthread_mutex_lock(&lock);
	last = --rt->refs == 0;
	pthread_mutex_unlock(&lock);
	if (last)
		runtime_discard(rt);
}

/* Keys the config table marks restart-only keep their running value; the admin learns which. */
static void warn_restart_only(const struct config *old, const struct config *new)
{
	char a[1100], b[1100];

	for (unsigned i = 0; config_key_name(i); i++) {
		if (!config_key_restart_only(i))
			continue;
		config_key_value(old, i, a, sizeof(a));
		config_key_value(new, i, b, sizeof(b));
		if (strcmp(a, b) != 0)
			log_warning("reload: %s changed from %s to %s: takes effect at restart", config_key_name(i),
				    *a ? a : "(empty)", *b ? b : "(empty)");
	}
}

bool runtime_reload(const char *config_path)
{
	struct strbuf errors, notes;
	struct runtime *rt, *old;

	strbuf_init_heap(&errors, 16384);
	strbuf_init_heap(&notes, 4096);
	rt = runtime_load(config_path, &errors, &notes);
	if (rt && (!runtime_start_dns(rt, &errors) || !runtime_start_badmail(rt, false, &errors))) {
		runtime_discard(rt);
		rt = NULL;
	}
	if (!rt) {
		/* one line per problem, so each is found by grep */
		char *text = strdup(strbuf_text(&errors));
		char *save = NULL;
		for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
			log_error("reload failed, keeping the running configuration: %s", line);
		free(text);
		strbuf_free(&errors);
		strbuf_free(&notes);
		return false;
	}
	if (strbuf_len(&notes))
		log_notice("reload: %.*s", (int)strbuf_len(&notes) - 1, strbuf_text(&notes));
	old = runtime_acquire();
	if (old) {
		warn_restart_only(old->config, rt->config);
		runtime_release(old);
	}
	log_set_level(rt->config->log_level);
	runtime_install(rt);
	char dns[512];
	log_info("reload: config=%s policy=%s rules=%zu routes=%zu dry_run=%s generation=%u %s", rt->config->source,
		 rt->config->policy_file, policy_rule_count(rt->policy), policy_route_count(rt->policy),
		 policy_dry_run(rt->policy) ? "yes" : "no", rt->generation, resolver_describe(rt->resolver, dns, sizeof(dns)));
	strbuf_free(&errors);
	strbuf_free(&notes);
	return true;
}
