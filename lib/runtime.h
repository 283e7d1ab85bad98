/*
 * runtime - the configuration generation a program runs on: config, policy and resolver, loaded
 * together and replaced together.  Part of the core (lib/), so that the daemon, the route service
 * and the command-line tools load, pin and reload the same way; nothing here knows libmilter.
 *
 * Reload is all or nothing and reference-counted: a complete new generation is built; if any
 * part fails, the error is logged and the old one stays.  Each SMTP session pins the generation
 * it started with, and an old generation is freed when its last session lets go.
 */
#ifndef DNSGUARD_RUNTIME_H
#define DNSGUARD_RUNTIME_H

#include <stdbool.h>

#include "config.h"
#include "policy.h"
#include "badmail_store.h"
#include "ndr_worker.h"
#include "probe_cache.h"
#include "resolver.h"
#include "strbuf.h"

struct runtime {
	struct config *config;
	struct policy *policy;
	struct resolver *resolver;	/* NULL until runtime_start_dns */
	struct probe_cache *probes;	/* why lookups fail (probe_cache.h); NULL until runtime_start_dns */
	struct badmail_store *badmail;	/* when a rule diverts; NULL until runtime_start_badmail */
	struct ndr_worker *ndr_worker;	/* submits the store's NDRs; with badmail */
	unsigned generation;
	/* private */
	unsigned refs;
};

/*
 * Loads the config file and the policy it names.  Returns NULL and one line per problem in
 * `errors`.  A missing policy file is not an error: the built-in defaults apply and `notes` says
 * so (it may be NULL).
 */
struct runtime *runtime_load(const char *config_path, struct strbuf *errors, struct strbuf *notes);

/*
 * Builds the generation's resolver (a libunbound context and its delivery thread) and its probe
 * cache (worker threads that probe the servers when a question fails; the resolver tells it of
 * each failure).  Separate from loading because threads do not survive the daemon's fork: call it
 * after detaching.
 */
bool runtime_start_dns(struct runtime *rt, struct strbuf *errors);

/*
 * When a policy rule diverts: opens the badmail store (badmail_dir, created mode 0700) and starts
 * the thread that submits its NDRs, which first sends what a restart left pending.  Call it as
 * the user dnsguard runs as, after dropping privileges (the store must be that user's), and not
 * for `dnsguard -n`.  at_start: also removes what a crash left in the store's tmp/.
 */
bool runtime_start_badmail(struct runtime *rt, bool at_start, struct strbuf *errors);

/* Makes `rt` the current generation (takes the caller's reference). */
void runtime_install(struct runtime *rt);
/* The current generation, pinned until runtime_release. */
struct runtime *runtime_acquire(void);
void runtime_release(struct runtime *rt);
/* Frees a generation that was never installed. */
void runtime_discard(struct runtime *rt);

/* Re-reads everything; logs the outcome; keeps the old generation on any error. */
bool runtime_reload(const char *config_path);

#endif
