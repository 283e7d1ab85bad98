/*
 * diversion - one message diverted into the badmail store; see diversion.h.
 */
#include "diversion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ndr.h"
#include "strbuf.h"

#define WRITE_BUFFER 16384
#define TRACE_MAX 2048

struct diverted {
	char *address;
	char *mta_form;
	struct decision decision;
	char subject[256];		/* the decision's subject, owned here: the caller's is on its stack */
};

struct diversion {
	struct badmail_entry *entry;
	time_t arrival;
	struct diverted *rcpts;
	size_t count, cap;
	bool trace_written, body_started, pending_cr;
	/* the original header block, for the NDR: one byte over NDR_HEADERS_MAX tells it to cut */
	char *headers;
	size_t headers_len;
	unsigned char buf[WRITE_BUFFER];
	size_t buf_len;
	bool failed;
	char error[256];
};

struct diversion *diversion_begin(struct badmail_store *store, time_t now, char *err, size_t errlen)
{
	struct diversion *dv = calloc(1, sizeof(*dv));

	if (!dv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!(dv->entry = badmail_entry_begin(store, err, errlen))) {
		free(dv);
		return NULL;
	}
	dv->arrival = now;
	return dv;
}

const char *diversion_id(const struct diversion *dv)
{
	return badmail_entry_id(dv->entry);
}

int diversion_add_recipient(struct diversion *dv, const char *address, const char *mta_form,
			    const struct decision *decision)
{
	struct diverted *r;

	if (dv->count == dv->cap) {
		size_t cap = dv->cap ? dv->cap * 2 : 4;
		struct diverted *grown = realloc(dv->rcpts, cap * sizeof(*grown));
		if (!grown)
			return -1;
		dv->rcpts = grown;
		dv->cap = cap;
	}
	r = &dv->rcpts[dv->count];
	if (!(r->address = strdup(address ? address : "")))
		return -1;
	if (!(r->mta_form = strdup(mta_form ? mta_form : ""))) {
		free(r->address);
		return -1;
	}
	r->decision = *decision;
	if (decision->subject) {
		snprintf(r->subject, sizeof(r->subject), "%s", decision->subject);
		r->decision.subject = r->subject;
	}
	dv->count++;
	return 0;
}

size_t diversion_recipient_count(const struct diversion *dv)
{
	return dv->count;
}

const char *diversion_recipient_mta_form(const struct diversion *dv, size_t i)
{
	return i < dv->count ? dv->rcpts[i].mta_form : NULL;
}

bool diversion_failed(const struct diversion *dv)
{
	return dv->failed;
}

/* ---- writing the message ------------------------------------------------------------------- */

static void flush(struct diversion *dv)
{
	if (dv->failed || dv->buf_len == 0)
		return;
	if (badmail_entry_write(dv->entry, dv->buf, dv->buf_len, dv->error, sizeof(dv->error)) != 0)
		dv->failed = true;
	dv->buf_len = 0;
}

static void put(struct diversion *dv, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0 && !dv->failed) {
		size_t n = sizeof(dv->buf) - dv->buf_len;
		if (n > len)
			n = len;
		memcpy(dv->buf + dv->buf_len, p, n);
		dv->buf_len += n;
		p += n;
		len -= n;
		if (dv->buf_len == sizeof(dv->buf))
			flush(dv);
	}
}

/* Admin text (rule names) in our own header field: printable ASCII only. */
static void put_token(struct strbuf *sb, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		strbuf_appendf(sb, "%c", *p > ' ' && *p < 0x7f && *p != ';' ? *p : '?');
}

/* "X-DNSGuard-Diverted: ID; recipient nxdomain, rule apps-divert": each distinct reason once,
 * folded one per line.  Nothing a client sent is in it. */
static void put_trace(struct diversion *dv)
{
	char storage[TRACE_MAX];
	struct strbuf sb;

	strbuf_init(&sb, storage, sizeof(storage));
	strbuf_appendf(&sb, "%s: %s", DIVERSION_TRACE_HEADER, diversion_id(dv));
	for (size_t i = 0; i < dv->count; i++) {
		const struct decision *d = &dv->rcpts[i].decision;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = dv->rcpts[j].decision.check == d->check && dv->rcpts[j].decision.outcome == d->outcome &&
			       strcmp(dv->rcpts[j].decision.rule, d->rule) == 0;
		if (seen)
			continue;
		strbuf_appendf(&sb, ";\n\t%s %s, rule ", policy_check_name(d->check), policy_outcome_name(d->outcome));
		put_token(&sb, d->rule);
	}
	strbuf_append(&sb, "\n");
	if (strbuf_truncated(&sb))
		snprintf(storage, sizeof(storage), "%s: %s; many reasons\n", DIVERSION_TRACE_HEADER, diversion_id(dv));
	put(dv, storage, strlen(storage));
	dv->trace_written = true;
}

/* Keeps the header block for the NDR, up to one byte past what it quotes. */
static void keep_headers(struct diversion *dv, const char *text, size_t len)
{
	size_t room;

	if (!dv->headers && !(dv->headers = malloc(NDR_HEADERS_MAX + 1)))
		return;	/* the NDR then quotes no headers; the stored message has them all */
	room = NDR_HEADERS_MAX + 1 - dv->headers_len;
	if (len > room)
		len = room;
	memcpy(dv->headers + dv->headers_len, text, len);
	dv->headers_len += len;
}

/* Writes text with CRLF made LF, to the message and, for headers, to the NDR's copy. */
static void put_lines(struct diversion *dv, const char *text, size_t len, bool header)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') {
			put(dv, text + start, i - start);
			if (header)
				keep_headers(dv, text + start, i - start);
			start = i + 1;
		}
	}
	put(dv, text + start, len - start);
	if (header)
		keep_headers(dv, text + start, len - start);
}

void diversion_header(struct diversion *dv, const char *name, const char *value)
{
	if (!dv->trace_written)
		put_trace(dv);
	put_lines(dv, name, strlen(name), true);
	put_lines(dv, ": ", 2, true);
	put_lines(dv, value, strlen(value), true);
	put_lines(dv, "\n", 1, true);
}

static void start_body(struct diversion *dv)
{
	if (!dv->trace_written)
		put_trace(dv);
	put(dv, "\n", 1);
	dv->body_started = true;
}

void diversion_body(struct diversion *dv, const void *chunk, size_t len)
{
	const unsigned char *p = chunk;
	size_t start = 0;

	if (!dv->body_started)
		start_body(dv);
	if (len == 0)
		return;
	/* a CR that ended the last chunk: part of a CRLF, or a bare CR kept as it came */
	if (dv->pending_cr) {
		dv->pending_cr = false;
		if (p[0] != '\n')
			put(dv, "\r", 1);
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\r')
			continue;
		if (i + 1 == len) {
			put(dv, p + start, i - start);
			dv->pending_cr = true;
			return;
		}
		if (p[i + 1] == '\n') {
			put(dv, p + start, i - start);
			start = i + 1;
		}
	}
	put(dv, p + start, len - start);
}

/* ---- commit -------------------------------------------------------------------------------- */

static void free_diversion(struct diversion *dv)
{
	for (size_t i = 0; i < dv->count; i++) {
		free(dv->rcpts[i].address);
		free(dv->rcpts[i].mta_form);
	}
	free(dv->rcpts);
	free(dv->headers);
	free(dv);
}

void diversion_abort(struct diversion *dv)
{
	if (!dv)
		return;
	badmail_entry_abort(dv->entry);
	free_diversion(dv);
}

/* Letters and digits for the NDR's MIME boundary: random, else the entry id's own. */
static void boundary_token(const struct diversion *dv, char *out, size_t size)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char random[24];
	size_t n = size - 1 < sizeof(random) ? size - 1 : sizeof(random);

	if (getrandom(random, n, GRND_NONBLOCK) != (ssize_t)n) {
		size_t k = 0;
		for (const char *p = diversion_id(dv); *p && k + 1 < size; p++)
			if (*p != '-')
				out[k++] = *p;
		out[k] = '\0';
		return;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = digits[random[i] % (sizeof(digits) - 1)];
	out[n] = '\0';
}

/* Builds the NDR and says what becomes of it; the text in *ndr_text (malloc'd) when there is one. */
static enum badmail_ndr_status make_ndr(struct diversion *dv, const struct diversion_facts *f,
					struct ndr_recipient *rcpts, char **ndr_text, size_t *ndr_len, char *detail,
					size_t detail_len)
{
	char why[NDR_WHY_SIZE], err[256], boundary[32], message_id[64];
	struct ndr_input in;
	FILE *out;
	int rc;

	*ndr_text = NULL;
	if (!ndr_wanted(f->envelope_sender, dv->headers, dv->headers_len, why, sizeof(why))) {
		snprintf(detail, detail_len, "%s", why);
		return BADMAIL_NDR_NONE;
	}
	boundary_token(dv, boundary, sizeof(boundary));
	snprintf(message_id, sizeof(message_id), "ndr.%s", diversion_id(dv));
	in = (struct ndr_input){
		.reporting_host = f->reporting_host,
		.arrival = dv->arrival,
		.now = f->now,
		.sender = f->envelope_sender,
		.headers = dv->headers,
		.headers_len = dv->headers_len,
		.entry_id = diversion_id(dv),
		.message_id = message_id,
		.boundary_token = boundary,
		.recipients = rcpts,
		.recipient_count = dv->count,
	};
	if (!(out = open_memstream(ndr_text, ndr_len))) {
		snprintf(detail, detail_len, "not generated: out of memory");
		return BADMAIL_NDR_NONE;
	}
	rc = ndr_build(&in, out, err, sizeof(err));
	if (fclose(out) != 0 || rc != 0) {
		free(*ndr_text);
		*ndr_text = NULL;
		snprintf(detail, detail_len, "not generated: %s", rc != 0 ? err : "out of memory");
		return BADMAIL_NDR_NONE;
	}
	if (f->sender_unreachable) {
		snprintf(detail, detail_len, "not sent: %s", f->sender_unreachable);
		return BADMAIL_NDR_STORED;
	}
	detail[0] = '\0';
	return BADMAIL_NDR_PENDING;
}

int diversion_commit(struct diversion *dv, const struct diversion_facts *f, enum badmail_ndr_status *ndr,
		     char *ndr_detail, size_t detail_len, char *err, size_t errlen)
{
	struct ndr_recipient *ndr_rcpts = calloc(dv->count ? dv->count : 1, sizeof(*ndr_rcpts));
	struct badmail_recipient *rec_rcpts = calloc(dv->count ? dv->count : 1, sizeof(*rec_rcpts));
	char *ndr_text = NULL, *json = NULL;
	size_t ndr_len = 0, json_len = 0;
	struct badmail_record record;
	int rc = -1;

	if (!dv->body_started)
		start_body(dv);
	if (dv->pending_cr)
		put(dv, "\r", 1);
	flush(dv);
	if (dv->failed) {
		snprintf(err, errlen, "%s", dv->error);
		goto done;
	}
	if (!ndr_rcpts || !rec_rcpts || dv->count == 0) {
		snprintf(err, errlen, dv->count == 0 ? "internal error: no diverted recipient" : "out of memory");
		goto done;
	}
	for (size_t i = 0; i < dv->count; i++) {
		ndr_rcpts[i] = (struct ndr_recipient){.address = dv->rcpts[i].address, .decision = &dv->rcpts[i].decision};
		rec_rcpts[i] = (struct badmail_recipient){.address = dv->rcpts[i].address,
							  .decision = &dv->rcpts[i].decision};
	}
	*ndr = make_ndr(dv, f, ndr_rcpts, &ndr_text, &ndr_len, ndr_detail, detail_len);
	if (ndr_text && badmail_entry_add_file(dv->entry, "ndr", ndr_text, ndr_len, err, errlen) != 0)
		goto done;
	record = (struct badmail_record){
		.id = diversion_id(dv),
		.time = dv->arrival,
		.queue_id = f->queue_id,
		.session = f->session,
		.client_name = f->client_name,
		.client_address = f->client_address,
		.helo = f->helo,
		.sender = f->envelope_sender,
		.recipients = rec_rcpts,
		.recipient_count = dv->count,
		.ndr = *ndr,
		.ndr_detail = ndr_detail,
		.ndr_time = *ndr == BADMAIL_NDR_PENDING ? 0 : f->now,
	};
	if (!(json = badmail_record_json(&record, &json_len))) {
		snprintf(err, errlen, "out of memory writing the record");
		goto done;
	}
	if (badmail_entry_add_file(dv->entry, "record.json", json, json_len, err, errlen) != 0)
		goto done;
	rc = badmail_entry_commit(dv->entry, err, errlen);
	dv->entry = NULL;	/* commit frees it, whole or removed */
done:
	if (dv->entry)
		badmail_entry_abort(dv->entry);
	free(ndr_text);
	free(json);
	free(ndr_rcpts);
	free(rec_rcpts);
	free_diversion(dv);
	return rc;
}
