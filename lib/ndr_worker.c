/*
 * ndr_worker - a thread that flushes the badmail store's NDRs; see ndr_worker.h.
 */
#include "ndr_worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badmail_ndr.h"
#include "log.h"
#include "strbuf.h"

struct ndr_worker {
	struct badmail_store *store;
	const char *sendmail;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool kicked;
	atomic_bool stopping;		/* also read by the flush, between entries */
};

static bool alphanumeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
			return false;
	return true;
}

static void log_report(void *arg, const struct badmail_ndr_report *r)
{
	char storage[2048], to[1100];
	struct strbuf line;

	(void)arg;
	strbuf_init(&line, storage, sizeof(storage));
	/* as a session's lines begin: the queue id when it is one, else the session id */
	if (alphanumeric(r->record->queue_id)) {
		strbuf_appendf(&line, "%s: ndr", r->record->queue_id);
		strbuf_append_kv(&line, "session", r->record->session);
	} else {
		strbuf_appendf(&line, "%s: ndr", alphanumeric(r->record->session) ? r->record->session : "-");
	}
	strbuf_append_kv(&line, "badmail", r->id);
	strbuf_append_kv(&line, "status", badmail_ndr_status_name(r->status));
	snprintf(to, sizeof(to), "<%s>", r->record->sender);
	strbuf_append_kv(&line, "to", to);
	if (r->detail && *r->detail)
		strbuf_append_kv(&line, "reason", r->detail);
	if (r->status == BADMAIL_NDR_SUBMITTED && !(r->detail && *r->detail))
		log_info("%s", strbuf_text(&line));
	else
		log_warning("%s", strbuf_text(&line));
}

static void *run(void *arg)
{
	struct ndr_worker *w = arg;
	char err[256];

	pthread_mutex_lock(&w->lock);
	for (;;) {
		w->kicked = false;
		pthread_mutex_unlock(&w->lock);
		if (badmail_ndr_flush(w->store, w->sendmail, NDR_WORKER_TIMEOUT_MS, &w->stopping, log_report, NULL, err,
				      sizeof(err)) < 0)
			log_error("badmail: cannot read the store for NDRs to send: %s", err);
		pthread_mutex_lock(&w->lock);
		while (!w->kicked && !atomic_load(&w->stopping))
			pthread_cond_wait(&w->wake, &w->lock);
		if (atomic_load(&w->stopping))
			break;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct ndr_worker *ndr_worker_start(struct badmail_store *store, const char *sendmail, char *err, size_t errlen)
{
	struct ndr_worker *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->store = store;
	w->sendmail = sendmail;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		snprintf(err, errlen, "cannot start the NDR thread");
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

void ndr_worker_kick(struct ndr_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->kicked = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void ndr_worker_request_stop(struct ndr_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stopping, true);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void ndr_worker_stop(struct ndr_worker *w)
{
	if (!w)
		return;
	ndr_worker_request_stop(w);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
