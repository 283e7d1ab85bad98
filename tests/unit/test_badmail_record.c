/*
 * Unit tests for the badmail record (lib/badmail_record): the JSON rendering of the decisions that
 * diverted a message, read back with jansson: every field, the DNS evidence as the decision line
 * has it, and any byte a client sent kept readable in valid JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "unit_decision.h"

#include "badmail_record.h"


static json_t *parse(const char *json)
{
	json_error_t error;
	json_t *root = json_loads(json, 0, &error);
	if (!root)
		fail_msg("not JSON: %s at %d: %s", error.text, error.position, json);
	return root;
}

static const char *str(json_t *o, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');
	json_t *v;

	if (!dot) {
		v = json_object_get(o, path);
		if (!json_is_string(v))
			fail_msg("%s: not a string", path);
		return json_string_value(v);
	}
	snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
	return str(json_object_get(o, key), dot + 1);
}

static void test_record_fields(void **state)
{
	(void)state;
	struct dns_evidence ev = {.qname = "nx.example.", .qtype = 15, .outcome = DNS_NXDOMAIN, .rcode = 3, .ms = 31,
				  .ttl = 900};
	struct decision d = unit_divert_decision(&ev, "nx.example");
	struct badmail_recipient rcpt = {.address = "bob@nx.example", .decision = &d};
	struct badmail_record r = {.id = "20261204T144500-0123456789abcdef", .time = 1796395500, .queue_id = "4Tk3Zq1x2Fz",
				   .session = "655e1a2b0004", .client_name = "unknown", .client_address = "192.0.2.7",
				   .helo = "app.example.net", .sender = "app@example.net", .recipients = &rcpt,
				   .recipient_count = 1, .ndr = BADMAIL_NDR_PENDING};
	size_t len;
	char *json = badmail_record_json(&r, &len);
	json_t *root, *one, *dns;

	assert_non_null(json);
	assert_int_equal(strlen(json), len);
	assert_int_equal(json[len - 1], '\n');
	root = parse(json);
	assert_int_equal(json_integer_value(json_object_get(root, "version")), 1);
	assert_string_equal(str(root, "id"), "20261204T144500-0123456789abcdef");
	assert_string_equal(str(root, "time"), "2026-12-04T14:45:00Z");
	assert_string_equal(str(root, "queue_id"), "4Tk3Zq1x2Fz");
	assert_string_equal(str(root, "session"), "655e1a2b0004");
	assert_string_equal(str(root, "client.name"), "unknown");
	assert_string_equal(str(root, "client.address"), "192.0.2.7");
	assert_string_equal(str(root, "sender"), "app@example.net");
	assert_string_equal(str(root, "ndr.status"), "pending");
	assert_null(json_object_get(json_object_get(root, "ndr"), "time"));
	assert_int_equal(json_array_size(json_object_get(root, "recipients")), 1);
	one = json_array_get(json_object_get(root, "recipients"), 0);
	assert_string_equal(str(one, "address"), "bob@nx.example");
	assert_string_equal(str(one, "check"), "recipient");
	assert_string_equal(str(one, "outcome"), "nxdomain");
	assert_string_equal(str(one, "action"), "divert");
	assert_string_equal(str(one, "rule"), "apps-divert");
	assert_string_equal(str(one, "name"), "nx.example");
	assert_null(json_object_get(one, "reply"));	/* a diversion replies nothing at RCPT */
	dns = json_object_get(one, "dns");
	assert_string_equal(str(dns, "q"), "nx.example./MX");
	assert_string_equal(str(dns, "outcome"), "nxdomain");
	assert_string_equal(str(dns, "rcode"), "NXDOMAIN");
	assert_string_equal(str(dns, "transport"), "udp-tcp");
	assert_int_equal(json_integer_value(json_object_get(dns, "ms")), 31);
	assert_int_equal(json_integer_value(json_object_get(dns, "ttl")), 900);
	json_decref(root);
	free(json);

	/* the NDR's status once known */
	r.ndr = BADMAIL_NDR_STORED;
	r.ndr_detail = "the sender's domain example.net does not exist";
	r.ndr_time = 1796395560;
	json = badmail_record_json(&r, &len);
	root = parse(json);
	assert_string_equal(str(root, "ndr.status"), "stored");
	assert_string_equal(str(root, "ndr.detail"), "the sender's domain example.net does not exist");
	assert_string_equal(str(root, "ndr.time"), "2026-12-04T14:46:00Z");
	json_decref(root);
	free(json);
}

/* What a client sent: valid UTF-8 kept, any other byte written as \xHH, the JSON always valid. */
static void test_hostile_bytes(void **state)
{
	(void)state;
	struct dns_evidence ev = {.qname = "nx.example.", .qtype = 15, .outcome = DNS_TEMPFAIL,
				  .cause = DNS_CAUSE_SERVFAIL, .rcode = 2, .ms = 4};
	struct decision d = unit_divert_decision(&ev, "nx.example");
	struct badmail_recipient rcpts[2] = {{.address = "j\xc3\xb6rg@nx.example", .decision = &d},
					     {.address = "bad\xff\xfe\xc3@nx.example", .decision = &d}};
	struct badmail_record r = {.id = "20261204T144500-0123456789abcdef", .time = 0, .queue_id = "",
				   .session = "655e1a2b0004", .client_name = "unknown", .client_address = "192.0.2.7",
				   .helo = "evil\r\n\"quoted\" \\ \x01 \xed\xa0\x80 \xc0\xaf",
				   .sender = "", .recipients = rcpts, .recipient_count = 2, .ndr = BADMAIL_NDR_NONE,
				   .ndr_detail = "null sender"};
	char *json = badmail_record_json(&r, NULL);
	json_t *root = parse(json), *list = json_object_get(root, "recipients");

	assert_string_equal(str(root, "helo"), "evil\r\n\"quoted\" \\ \x01 \\xed\\xa0\\x80 \\xc0\\xaf");
	assert_string_equal(str(json_array_get(list, 0), "address"), "j\xc3\xb6rg@nx.example");
	assert_string_equal(str(json_array_get(list, 1), "address"), "bad\\xff\\xfe\\xc3@nx.example");
	assert_string_equal(str(root, "sender"), "");
	assert_string_equal(str(json_array_get(list, 0), "dns.cause"), "servfail");
	assert_null(json_object_get(json_object_get(json_array_get(list, 0), "dns"), "ttl"));
	assert_string_equal(str(root, "ndr.status"), "none");
	/* one field per line: no raw control byte in the text itself */
	for (const char *p = json; *p; p++)
		assert_true(*p == '\n' || (unsigned char)*p >= ' ');
	json_decref(root);
	free(json);
}

/* What the command reads back is what was written, every recipient with its evidence. */
static void test_parse_round_trip(void **state)
{
	(void)state;
	struct dns_evidence ev = {.qname = "nx.example.", .qtype = 15, .outcome = DNS_TEMPFAIL,
				  .cause = DNS_CAUSE_SERVFAIL, .rcode = 2, .ms = 4};
	struct dns_evidence ev2 = {.qname = "null.example.", .qtype = 15, .outcome = DNS_NXDOMAIN, .rcode = 3,
				   .ms = 12, .ttl = 300};
	struct decision d = unit_divert_decision(&ev, "nx.example"), d2 = unit_divert_decision(&ev2, "null.example");
	struct badmail_recipient rcpts[2] = {{.address = "bob@nx.example", .decision = &d},
					     {.address = "eve\x1b[2J@null.example", .decision = &d2}};
	struct badmail_record r = {.id = "20261204T144500-0123456789abcdef", .time = 1796395500, .queue_id = "4Tk3Zq1x2Fz",
				   .session = "655e1a2b0004", .client_name = "unknown", .client_address = "192.0.2.7",
				   .helo = "app.example.net", .sender = "app@example.net", .recipients = rcpts,
				   .recipient_count = 2, .ndr = BADMAIL_NDR_STORED, .ndr_detail = "exited with status 75",
				   .ndr_time = 1796395560};
	struct badmail_record_parsed p;
	char err[256];
	size_t len;
	char *json = badmail_record_json(&r, &len);

	assert_int_equal(badmail_record_parse(json, len, &p, err, sizeof(err)), 0);
	assert_string_equal(p.id, "20261204T144500-0123456789abcdef");
	assert_string_equal(p.time, "2026-12-04T14:45:00Z");
	assert_string_equal(p.queue_id, "4Tk3Zq1x2Fz");
	assert_string_equal(p.session, "655e1a2b0004");
	assert_string_equal(p.client_name, "unknown");
	assert_string_equal(p.client_address, "192.0.2.7");
	assert_string_equal(p.helo, "app.example.net");
	assert_string_equal(p.sender, "app@example.net");
	assert_int_equal(p.ndr, BADMAIL_NDR_STORED);
	assert_string_equal(p.ndr_detail, "exited with status 75");
	assert_string_equal(p.ndr_time, "2026-12-04T14:46:00Z");
	assert_false(p.released);
	assert_string_equal(p.released_time, "");
	assert_int_equal(p.recipient_count, 2);
	assert_string_equal(p.recipients[0].address, "bob@nx.example");
	assert_string_equal(p.recipients[0].check, "recipient");
	assert_string_equal(p.recipients[0].outcome, "nxdomain");
	assert_string_equal(p.recipients[0].action, "divert");
	assert_string_equal(p.recipients[0].rule, "apps-divert");
	assert_string_equal(p.recipients[0].name, "nx.example");
	assert_string_equal(p.recipients[0].reply, "");
	assert_true(p.recipients[0].has_dns);
	assert_string_equal(p.recipients[0].dns.q, "nx.example./MX");
	assert_string_equal(p.recipients[0].dns.outcome, "tempfail");
	assert_string_equal(p.recipients[0].dns.rcode, "SERVFAIL");
	assert_string_equal(p.recipients[0].dns.cause, "servfail");
	assert_string_equal(p.recipients[0].dns.transport, "udp-tcp");
	assert_int_equal(p.recipients[0].dns.ms, 4);
	assert_int_equal(p.recipients[0].dns.ttl, -1);	/* a temporary failure has none */
	/* control bytes come back raw: escaping them is for whoever prints */
	assert_string_equal(p.recipients[1].address, "eve\x1b[2J@null.example");
	assert_string_equal(p.recipients[1].name, "null.example");
	assert_int_equal(p.recipients[1].dns.ttl, 300);
	badmail_record_parsed_free(&p);
	free(json);
}

/* A record written by hand (or by an older dnsguard) with only what must be there. */
static void test_parse_minimal_and_broken(void **state)
{
	(void)state;
	const char *minimal = "{\"version\": 1, \"id\": \"20261204T144500-0123456789abcdef\", \"time\": "
			      "\"2026-12-04T14:45:00Z\", \"sender\": \"\", \"recipients\": [{\"address\": \"a@b.example\"}],"
			      " \"ndr\": {\"status\": \"none\"}}";
	const char *broken[][2] = {
		{"not json", "record: line 1: "},
		{"{\"version\": 2}", "record: not a version 1 badmail record"},
		{"{\"version\": 1, \"time\": \"x\", \"sender\": \"\", \"recipients\": [], \"ndr\": {\"status\": \"none\"}}",
		 "record: no valid \"id\" member"},
		{"{\"version\": 1, \"id\": \"x\", \"time\": \"x\", \"sender\": \"\", \"recipients\": {}, \"ndr\": "
		 "{\"status\": \"none\"}}",
		 "record: no valid \"recipients\" member"},
		{"{\"version\": 1, \"id\": \"x\", \"time\": \"x\", \"sender\": \"\", \"recipients\": [], \"ndr\": "
		 "{\"status\": \"lost\"}}",
		 "record: no valid \"ndr\" member"},
		{"{\"version\": 1, \"id\": \"x\", \"time\": \"x\", \"sender\": \"\", \"recipients\": [{}, 3], \"ndr\": "
		 "{\"status\": \"none\"}}",
		 "record: recipient 2 is not an object"},
	};
	struct badmail_record_parsed p;
	char err[256];

	assert_int_equal(badmail_record_parse(minimal, strlen(minimal), &p, err, sizeof(err)), 0);
	assert_string_equal(p.sender, "");
	assert_string_equal(p.queue_id, "");
	assert_string_equal(p.client_address, "");
	assert_string_equal(p.ndr_detail, "");
	assert_int_equal(p.recipient_count, 1);
	assert_string_equal(p.recipients[0].address, "a@b.example");
	assert_string_equal(p.recipients[0].check, "");
	assert_false(p.recipients[0].has_dns);
	assert_string_equal(p.recipients[0].dns.q, "");
	assert_int_equal(p.recipients[0].dns.ms, -1);
	badmail_record_parsed_free(&p);
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		assert_int_equal(badmail_record_parse(broken[i][0], strlen(broken[i][0]), &p, err, sizeof(err)), -1);
		if (strncmp(err, broken[i][1], strlen(broken[i][1])) != 0)
			fail_msg("%s: said \"%s\", not \"%s\"", broken[i][0], err, broken[i][1]);
		badmail_record_parsed_free(&p);	/* nothing to free, and safe */
	}
}

/* "released" is added (and replaced by a second release), everything else kept as it was. */
static void test_set_released(void **state)
{
	(void)state;
	const char *before = "{\"version\": 1, \"id\": \"20261204T144500-0123456789abcdef\", \"time\": "
			     "\"2026-12-04T14:45:00Z\", \"sender\": \"app@example.net\", \"recipients\": "
			     "[{\"address\": \"a@b.example\"}], \"ndr\": {\"status\": \"submitted\"}, \"extra\": [1, 2]}";
	struct badmail_record_parsed p;
	char err[256];
	size_t len, len2;
	char *once = badmail_record_set_released(before, strlen(before), 1796395560, 1, &len, err, sizeof(err));
	char *twice;
	json_t *root;

	assert_non_null(once);
	assert_int_equal(once[len - 1], '\n');
	root = parse(once);
	assert_string_equal(str(root, "released.time"), "2026-12-04T14:46:00Z");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "released"), "recipients")), 1);
	assert_string_equal(str(root, "ndr.status"), "submitted");
	assert_int_equal(json_array_size(json_object_get(root, "extra")), 2);
	json_decref(root);
	assert_int_equal(badmail_record_parse(once, len, &p, err, sizeof(err)), 0);
	assert_true(p.released);
	assert_string_equal(p.released_time, "2026-12-04T14:46:00Z");
	assert_int_equal(p.released_recipients, 1);
	badmail_record_parsed_free(&p);

	twice = badmail_record_set_released(once, len, 1796395620, 1, &len2, err, sizeof(err));
	root = parse(twice);
	assert_string_equal(str(root, "released.time"), "2026-12-04T14:47:00Z");
	json_decref(root);
	free(twice);
	free(once);
	assert_null(badmail_record_set_released("{}", 2, 1, 1, &len, err, sizeof(err)));
	assert_string_equal(err, "record: not a version 1 badmail record");
}

static void test_address_sendable(void **state)
{
	(void)state;
	assert_true(badmail_record_address_sendable("app@example.net"));
	assert_true(badmail_record_address_sendable("a+b=c@[192.0.2.1]"));
	assert_false(badmail_record_address_sendable(""));
	assert_false(badmail_record_address_sendable("a b@example.net"));
	assert_false(badmail_record_address_sendable("a\x1b@example.net"));
	assert_false(badmail_record_address_sendable("j\xc3\xb6rg@example.net"));
	assert_false(badmail_record_address_sendable("bad\\xff@example.net"));	/* as the record writes a raw byte */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_fields),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_minimal_and_broken),
		cmocka_unit_test(test_set_released),
		cmocka_unit_test(test_address_sendable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
