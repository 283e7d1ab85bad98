/*
 * badmail_record - the JSON record of a badmail entry; see badmail_record.h.
 */
#include "badmail_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		unsigned char lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		unsigned char lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* A JSON string of any bytes: valid UTF-8 as is, each other byte as the four characters \xHH. */
static json_t *text(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), n = 0;
	char *out = malloc(len * 4 + 1);
	json_t *j;

	if (!out)
		return NULL;
	while (*p) {
		size_t seq = utf8_sequence(p);
		if (seq) {
			memcpy(out + n, p, seq);
			n += seq;
			p += seq;
		} else {
			n += (size_t)snprintf(out + n, 5, "\\x%02x", *p);
			p++;
		}
	}
	out[n] = '\0';
	j = json_stringn(out, n);
	free(out);
	return j;
}

static json_t *timestamp(time_t t)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

const char *badmail_ndr_status_name(enum badmail_ndr_status status)
{
	switch (status) {
	case BADMAIL_NDR_PENDING:
		return "pending";
	case BADMAIL_NDR_SUBMITTED:
		return "submitted";
	case BADMAIL_NDR_STORED:
		return "stored";
	case BADMAIL_NDR_NONE:
		return "none";
	}
	return "none";
}

bool badmail_ndr_status_from_name(const char *name, enum badmail_ndr_status *out)
{
	for (int i = BADMAIL_NDR_PENDING; i <= BADMAIL_NDR_NONE; i++)
		if (name && strcmp(name, badmail_ndr_status_name((enum badmail_ndr_status)i)) == 0) {
			*out = (enum badmail_ndr_status)i;
			return true;
		}
	return false;
}

/* Sets key to value, taking the reference; false if either is missing (out of memory). */
static bool put(json_t *object, const char *key, json_t *value)
{
	return object && value && json_object_set_new(object, key, value) == 0;
}

static json_t *evidence(const struct decision *d)
{
	const struct dns_evidence *ev = d->evidence;
	char type[24], rcode[24], q[DNS_NAME_TEXT_MAX + 32];
	json_t *o = json_object();
	bool ok;

	snprintf(q, sizeof(q), "%s/%s", ev->qname ? ev->qname : "", dns_type_name(ev->qtype, type, sizeof(type)));
	ok = put(o, "q", text(q)) && put(o, "outcome", json_string(dns_outcome_name(ev->outcome))) &&
	     put(o, "rcode", json_string(dns_rcode_name(ev->rcode, rcode, sizeof(rcode)))) &&
	     put(o, "ms", json_integer(ev->ms)) && put(o, "transport", json_string(dns_transport_name(d->transport)));
	if (ok && ev->cause != DNS_CAUSE_NONE)
		ok = put(o, "cause", json_string(dns_cause_name(ev->cause)));
	if (ok && ev->outcome != DNS_TEMPFAIL)
		ok = put(o, "ttl", json_integer(ev->ttl));
	if (ok && ev->secure)
		ok = put(o, "dnssec", json_string("secure"));
	if (ok && ev->outcome == DNS_BOGUS)
		ok = put(o, "why_bogus", text(ev->why_bogus));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *recipient(const struct badmail_recipient *r)
{
	const struct decision *d = r->decision;
	json_t *o = json_object();
	char reply[POLICY_REPLY_TEXT_SIZE + 32];
	bool ok;

	ok = put(o, "address", text(r->address)) && put(o, "check", json_string(policy_check_name(d->check))) &&
	     put(o, "outcome", json_string(policy_outcome_name(d->outcome))) &&
	     put(o, "action", json_string(policy_action_name(d->action))) && put(o, "rule", text(d->rule));
	if (ok && d->code) {
		snprintf(reply, sizeof(reply), "%u%s%s %s", d->code, d->xcode[0] ? " " : "", d->xcode, d->text);
		ok = put(o, "reply", text(reply));
	}
	if (ok && d->subject && d->subject[0])
		ok = put(o, "name", text(d->subject));
	if (ok && d->cause[0])
		ok = put(o, "cause", text(d->cause));
	if (ok && d->evidence)
		ok = put(o, "dns", evidence(d));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* jansson's text with the newline a text file ends in; frees `out` on failure. */
static char *with_newline(char *out, size_t *len)
{
	size_t n = strlen(out);
	char *grown = realloc(out, n + 2);

	if (!grown) {
		free(out);
		return NULL;
	}
	memcpy(grown + n, "\n", 2);
	if (len)
		*len = n + 1;
	return grown;
}

char *badmail_record_json(const struct badmail_record *r, size_t *len)
{
	json_t *root = json_object(), *client = json_object(), *list = json_array(), *ndr = json_object();
	char *out = NULL;
	bool ok;

	ok = put(root, "version", json_integer(1)) && put(root, "id", text(r->id)) &&
	     put(root, "time", timestamp(r->time)) && put(root, "queue_id", text(r->queue_id)) &&
	     put(root, "session", text(r->session)) && put(client, "name", text(r->client_name)) &&
	     put(client, "address", text(r->client_address)) && put(root, "client", json_incref(client)) &&
	     put(root, "helo", text(r->helo)) && put(root, "sender", text(r->sender));
	for (size_t i = 0; ok && i < r->recipient_count; i++) {
		json_t *one = recipient(&r->recipients[i]);
		ok = one && json_array_append_new(list, one) == 0;
	}
	ok = ok && put(root, "recipients", json_incref(list)) &&
	     put(ndr, "status", json_string(badmail_ndr_status_name(r->ndr)));
	if (ok && r->ndr_detail && *r->ndr_detail)
		ok = put(ndr, "detail", text(r->ndr_detail));
	if (ok && r->ndr_time)
		ok = put(ndr, "time", timestamp(r->ndr_time));
	ok = ok && put(root, "ndr", json_incref(ndr));
	if (ok)
		out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(client);
	json_decref(list);
	json_decref(ndr);
	json_decref(root);
	return out ? with_newline(out, len) : NULL;
}

/* ---- reading back ------------------------------------------------------------------------------- */

static json_t *load(const char *json, size_t len, char *err, size_t errlen)
{
	json_error_t error;
	json_t *root = json_loadb(json, len, 0, &error);

	if (!root) {
		snprintf(err, errlen, "record: line %d: %s", error.line, error.text);
		return NULL;
	}
	if (!json_is_object(root) || json_integer_value(json_object_get(root, "version")) != 1) {
		snprintf(err, errlen, "record: not a version 1 badmail record");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Copies string member `key` of `o` ("" when missing); false when it does not fit. */
static bool copy_member(json_t *o, const char *key, char *buf, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));
	size_t n = v ? strlen(v) : 0;

	if (n >= size)
		return false;
	memcpy(buf, v ? v : "", n + 1);
	return true;
}

int badmail_record_read(const char *json, size_t len, struct badmail_record_summary *out, char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen);
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!root)
		return -1;
	ok = copy_member(root, "sender", out->sender, sizeof(out->sender)) &&
	     copy_member(root, "queue_id", out->queue_id, sizeof(out->queue_id)) &&
	     copy_member(root, "session", out->session, sizeof(out->session)) &&
	     badmail_ndr_status_from_name(json_string_value(json_object_get(json_object_get(root, "ndr"), "status")),
					  &out->ndr);
	json_decref(root);
	if (!ok)
		snprintf(err, errlen, "record: a member is missing or too long");
	return ok ? 0 : -1;
}

char *badmail_record_set_ndr(const char *json, size_t len, enum badmail_ndr_status status, const char *detail,
			     time_t when, size_t *outlen, char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *ndr = json_object();
	char *out = NULL;
	bool ok;

	ok = root && put(ndr, "status", json_string(badmail_ndr_status_name(status)));
	if (ok && detail && *detail)
		ok = put(ndr, "detail", text(detail));
	if (ok && when)
		ok = put(ndr, "time", timestamp(when));
	ok = ok && put(root, "ndr", json_incref(ndr));
	if (ok)
		out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(ndr);
	json_decref(root);
	if (!out) {
		if (ok)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return with_newline(out, outlen);
}
