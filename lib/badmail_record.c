/*
 * badmail_record - the JSON record of a badmail entry; see badmail_record.h.
 */
#include "badmail_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "printable.h"

/* A JSON string of any bytes: valid UTF-8 as is, each other byte as the four characters \xHH. */
static json_t *text(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *end;
	size_t len = strlen((const char *)p), n = 0;
	char *out = malloc(len * 4 + 1);
	json_t *j;

	if (!out)
		return NULL;
	end = p + len;
	while (*p) {
		size_t seq = printable_utf8_length(p, (size_t)(end - p));
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

/* The record with member `key` set to `value` (whose reference it takes), everything else kept. */
static char *replace_member(const char *json, size_t len, const char *key, json_t *value, size_t *outlen, char *err,
			    size_t errlen)
{
	json_t *root = load(json, len, err, errlen);
	char *out = NULL;
	bool ok;

	if (!root) {
		json_decref(value);
		return NULL;
	}
	ok = put(root, key, value);
	if (ok)
		out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return with_newline(out, outlen);
}

char *badmail_record_set_ndr(const char *json, size_t len, enum badmail_ndr_status status, const char *detail,
			     time_t when, size_t *outlen, char *err, size_t errlen)
{
	json_t *ndr = json_object();
	bool ok;

	ok = put(ndr, "status", json_string(badmail_ndr_status_name(status)));
	if (ok && detail && *detail)
		ok = put(ndr, "detail", text(detail));
	if (ok && when)
		ok = put(ndr, "time", timestamp(when));
	if (!ok) {
		json_decref(ndr);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return replace_member(json, len, "ndr", ndr, outlen, err, errlen);
}

char *badmail_record_set_released(const char *json, size_t len, time_t when, size_t recipients, size_t *outlen,
				  char *err, size_t errlen)
{
	json_t *released = json_object();

	if (!put(released, "time", timestamp(when)) ||
	    !put(released, "recipients", json_integer((json_int_t)recipients))) {
		json_decref(released);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return replace_member(json, len, "released", released, outlen, err, errlen);
}

bool badmail_record_address_sendable(const char *a)
{
	if (!*a)
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || (*p == '\\' && p[1] == 'x'))
			return false;
	return true;
}

/* ---- read back whole ---------------------------------------------------------------------------- */

/* A copy of string member `key` of `o`, "" when it is missing or not a string; NULL (and *ok
 * false) when out of memory. */
static char *dup_member(json_t *o, const char *key, bool *ok)
{
	const char *v = json_string_value(json_object_get(o, key));
	char *copy = strdup(v ? v : "");

	if (!copy)
		*ok = false;
	return copy;
}

static long long number_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static bool parse_recipient(json_t *o, struct badmail_parsed_recipient *r)
{
	json_t *dns = json_object_get(o, "dns");
	bool ok = true;

	r->address = dup_member(o, "address", &ok);
	r->check = dup_member(o, "check", &ok);
	r->outcome = dup_member(o, "outcome", &ok);
	r->action = dup_member(o, "action", &ok);
	r->rule = dup_member(o, "rule", &ok);
	r->reply = dup_member(o, "reply", &ok);
	r->name = dup_member(o, "name", &ok);
	r->cause = dup_member(o, "cause", &ok);
	r->has_dns = json_is_object(dns);
	/* an absent "dns" reads as an empty one, so that every string can be printed */
	r->dns.q = dup_member(dns, "q", &ok);
	r->dns.outcome = dup_member(dns, "outcome", &ok);
	r->dns.rcode = dup_member(dns, "rcode", &ok);
	r->dns.transport = dup_member(dns, "transport", &ok);
	r->dns.cause = dup_member(dns, "cause", &ok);
	r->dns.dnssec = dup_member(dns, "dnssec", &ok);
	r->dns.why_bogus = dup_member(dns, "why_bogus", &ok);
	r->dns.ms = number_member(dns, "ms");
	r->dns.ttl = number_member(dns, "ttl");
	return ok;
}

static void free_recipient(struct badmail_parsed_recipient *r)
{
	char *strings[] = {r->address, r->check, r->outcome, r->action, r->rule, r->reply, r->name, r->cause,
			   r->dns.q, r->dns.outcome, r->dns.rcode, r->dns.transport, r->dns.cause, r->dns.dnssec,
			   r->dns.why_bogus};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(strings[i]);
}

void badmail_record_parsed_free(struct badmail_record_parsed *r)
{
	if (!r)
		return;
	char *strings[] = {r->id, r->time, r->queue_id, r->session, r->client_name, r->client_address, r->helo,
			   r->sender, r->ndr_detail, r->ndr_time, r->released_time};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(strings[i]);
	for (size_t i = 0; i < r->recipient_count; i++)
		free_recipient(&r->recipients[i]);
	free(r->recipients);
	memset(r, 0, sizeof(*r));
}

int badmail_record_parse(const char *json, size_t len, struct badmail_record_parsed *out, char *err, size_t errlen)
{
	json_t *root = load(json, len, err, errlen), *list, *ndr, *client, *released;
	const char *missing = NULL;
	bool ok = true;

	memset(out, 0, sizeof(*out));
	if (!root)
		return -1;
	list = json_object_get(root, "recipients");
	ndr = json_object_get(root, "ndr");
	client = json_object_get(root, "client");
	released = json_object_get(root, "released");
	if (!json_is_string(json_object_get(root, "id")))
		missing = "id";
	else if (!json_is_string(json_object_get(root, "time")))
		missing = "time";
	else if (!json_is_string(json_object_get(root, "sender")))
		missing = "sender";
	else if (!json_is_array(list))
		missing = "recipients";
	else if (!badmail_ndr_status_from_name(json_string_value(json_object_get(ndr, "status")), &out->ndr))
		missing = "ndr";
	if (missing) {
		snprintf(err, errlen, "record: no valid \"%s\" member", missing);
		json_decref(root);
		return -1;
	}
	out->id = dup_member(root, "id", &ok);
	out->time = dup_member(root, "time", &ok);
	out->queue_id = dup_member(root, "queue_id", &ok);
	out->session = dup_member(root, "session", &ok);
	out->client_name = dup_member(client, "name", &ok);
	out->client_address = dup_member(client, "address", &ok);
	out->helo = dup_member(root, "helo", &ok);
	out->sender = dup_member(root, "sender", &ok);
	out->ndr_detail = dup_member(ndr, "detail", &ok);
	out->ndr_time = dup_member(ndr, "time", &ok);
	out->released = json_is_object(released);
	out->released_time = dup_member(released, "time", &ok);
	out->released_recipients = number_member(released, "recipients");
	if (ok && json_array_size(list) && !(out->recipients = calloc(json_array_size(list), sizeof(*out->recipients))))
		ok = false;
	for (size_t i = 0; ok && i < json_array_size(list); i++) {
		json_t *one = json_array_get(list, i);
		out->recipient_count++;
		if (!json_is_object(one)) {
			snprintf(err, errlen, "record: recipient %zu is not an object", i + 1);
			json_decref(root);
			badmail_record_parsed_free(out);
			return -1;
		}
		ok = parse_recipient(one, &out->recipients[i]);
	}
	json_decref(root);
	if (!ok) {
		snprintf(err, errlen, "out of memory");
		badmail_record_parsed_free(out);
		return -1;
	}
	return 0;
}
