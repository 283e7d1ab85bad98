/*
 * Unit tests for one diverted message (lib/diversion) against a real store in /tmp: the message
 * file (trace header first, CRLF made LF across chunk boundaries, bare CR kept), the record and
 * the NDR with its status (pending, stored when the sender cannot receive mail, none for the null
 * sender), decisions copied (the caller's subject may go), and nothing left when a limit is hit
 * or the message is aborted.
 */
#include <dirent.h>
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
#include "unit_files.h"

#include "diversion.h"

static char base[] = "/tmp/test_diversion.XXXXXX";
static char store_dir[300];
static int serial;
static struct dns_evidence evidence = {.qname = "nx.example.", .outcome = DNS_NXDOMAIN, .rcode = 3, .ms = 4,
				       .ttl = 900, .qtype = 15};


static struct badmail_store *open_store(unsigned long long max_bytes)
{
	struct badmail_limits limits = {.max_bytes = max_bytes, .max_entries = 0};
	char err[256];
	struct badmail_store *s;

	snprintf(store_dir, sizeof(store_dir), "%s/store%d", base, ++serial);
	s = badmail_store_open(store_dir, &limits, true, err, sizeof(err));
	if (!s)
		fail_msg("store: %s", err);
	return s;
}

static unsigned count_dir(const char *sub)
{
	char path[400];
	DIR *d;
	struct dirent *e;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/%s", store_dir, sub);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char *entry_file(const char *id, const char *name, size_t *len)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/entries/%s/%s", store_dir, id, name);
	return unit_read_file(path, len);
}

static const struct diversion_facts facts = {
	.reporting_host = "mx.example.net",
	.now = 1796385900,
	.queue_id = "4Tk3Zq1x2Fz",
	.session = "655e1a2b0004",
	.client_name = "unknown",
	.client_address = "192.0.2.7",
	.helo = "app.example.net",
	.envelope_sender = "app@example.net",
};

/* A diversion of one message to bob@nx.example, its subject domain on the caller's stack. */
static struct diversion *begin_one(struct badmail_store *s)
{
	char err[256], domain[64];
	struct diversion *dv = diversion_begin(s, 1796385890, err, sizeof(err));
	struct decision d;

	if (!dv)
		fail_msg("begin: %s", err);
	snprintf(domain, sizeof(domain), "nx.example");
	d = unit_divert_decision(&evidence, domain);
	assert_int_equal(diversion_add_recipient(dv, "bob@nx.example", "<bob@nx.example>", &d), 0);
	memset(domain, 'X', sizeof(domain) - 1);	/* the caller's copy goes: the diversion kept its own */
	assert_int_equal(diversion_recipient_count(dv), 1);
	assert_string_equal(diversion_recipient_mta_form(dv, 0), "<bob@nx.example>");
	return dv;
}

static void test_message_written_as_received(void **state)
{
	struct badmail_store *s = open_store(0);
	struct diversion *dv = begin_one(s);
	char id[BADMAIL_ID_SIZE], detail[256], err[256];
	enum badmail_ndr_status ndr;
	char *message, *record;
	json_t *root;
	json_error_t jerr;

	(void)state;
	snprintf(id, sizeof(id), "%s", diversion_id(dv));
	diversion_header(dv, "Subject", "invoice");
	diversion_header(dv, "X-Folded", "one\r\n\ttwo");
	/* CRLF split over chunks, a bare CR kept, a CR ending the body */
	diversion_body(dv, "line 1\r", 7);
	diversion_body(dv, "\nline 2\rstill 2\r\n", 17);
	diversion_body(dv, "", 0);
	diversion_body(dv, "end\r", 4);
	assert_false(diversion_failed(dv));
	assert_int_equal(diversion_commit(dv, &facts, &ndr, detail, sizeof(detail), err, sizeof(err)), 0);
	assert_int_equal(ndr, BADMAIL_NDR_PENDING);
	assert_string_equal(detail, "");

	message = entry_file(id, "message", NULL);
	assert_non_null(message);
	char want[512];
	snprintf(want, sizeof(want),
		 "X-DNSGuard-Diverted: %s;\n\trecipient nxdomain, rule apps-divert\n"
		 "Subject: invoice\nX-Folded: one\n\ttwo\n\nline 1\nline 2\rstill 2\nend\r",
		 id);
	assert_string_equal(message, want);
	free(message);

	record = entry_file(id, "record.json", NULL);
	assert_non_null(record);
	assert_non_null(root = json_loads(record, 0, &jerr));
	assert_string_equal(json_string_value(json_object_get(root, "id")), id);
	json_t *r0 = json_array_get(json_object_get(root, "recipients"), 0);
	assert_string_equal(json_string_value(json_object_get(r0, "address")), "bob@nx.example");
	assert_string_equal(json_string_value(json_object_get(r0, "name")), "nx.example");
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "ndr"), "status")), "pending");
	json_decref(root);
	free(record);

	char *report = entry_file(id, "ndr", NULL);
	assert_non_null(report);
	assert_non_null(strstr(report, "Final-Recipient: rfc822; bob@nx.example"));
	assert_non_null(strstr(report, "Subject: invoice"));	/* the original headers are quoted */
	assert_null(strstr(report, "X-DNSGuard-Diverted"));	/* ours are not */
	free(report);
	assert_int_equal(count_dir("tmp"), 0);
	badmail_store_close(s);
}

static void test_null_sender_gets_no_ndr(void **state)
{
	struct badmail_store *s = open_store(0);
	struct diversion *dv = begin_one(s);
	struct diversion_facts f = facts;
	char id[BADMAIL_ID_SIZE], detail[256], err[256];
	enum badmail_ndr_status ndr;

	(void)state;
	f.envelope_sender = "";
	snprintf(id, sizeof(id), "%s", diversion_id(dv));
	assert_int_equal(diversion_commit(dv, &f, &ndr, detail, sizeof(detail), err, sizeof(err)), 0);
	assert_int_equal(ndr, BADMAIL_NDR_NONE);
	assert_string_equal(detail, "null sender");
	assert_null(entry_file(id, "ndr", NULL));
	char *message = entry_file(id, "message", NULL);
	assert_non_null(strstr(message, "\n\n"));	/* no header, no body: still a message */
	free(message);
	badmail_store_close(s);
}

static void test_unreachable_sender_keeps_the_ndr(void **state)
{
	struct badmail_store *s = open_store(0);
	struct diversion *dv = begin_one(s);
	struct diversion_facts f = facts;
	char id[BADMAIL_ID_SIZE], detail[256], err[256];
	enum badmail_ndr_status ndr;

	(void)state;
	f.sender_unreachable = "the sender's domain example.net cannot receive mail (nxdomain)";
	snprintf(id, sizeof(id), "%s", diversion_id(dv));
	diversion_header(dv, "Auto-Submitted", "no");
	assert_int_equal(diversion_commit(dv, &f, &ndr, detail, sizeof(detail), err, sizeof(err)), 0);
	assert_int_equal(ndr, BADMAIL_NDR_STORED);
	assert_string_equal(detail, "not sent: the sender's domain example.net cannot receive mail (nxdomain)");
	char *report = entry_file(id, "ndr", NULL);
	assert_non_null(report);
	free(report);
	badmail_store_close(s);
}

static void test_auto_submitted_gets_no_ndr(void **state)
{
	struct badmail_store *s = open_store(0);
	struct diversion *dv = begin_one(s);
	char detail[256], err[256];
	enum badmail_ndr_status ndr;

	(void)state;
	diversion_header(dv, "Auto-Submitted", "auto-generated");
	assert_int_equal(diversion_commit(dv, &facts, &ndr, detail, sizeof(detail), err, sizeof(err)), 0);
	assert_int_equal(ndr, BADMAIL_NDR_NONE);
	assert_string_equal(detail, "Auto-Submitted: auto-generated");
	badmail_store_close(s);
}

static void test_limit_leaves_nothing(void **state)
{
	struct badmail_store *s = open_store(4096);
	struct diversion *dv = begin_one(s);
	char detail[256], err[256], chunk[1000];
	enum badmail_ndr_status ndr;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 40; i++)
		diversion_body(dv, chunk, sizeof(chunk));
	assert_true(diversion_failed(dv));
	assert_int_equal(diversion_commit(dv, &facts, &ndr, detail, sizeof(detail), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "badmail_max_size"));
	assert_int_equal(count_dir("tmp"), 0);
	assert_int_equal(count_dir("entries"), 0);
	badmail_store_close(s);
}

static void test_abort_leaves_nothing(void **state)
{
	struct badmail_store *s = open_store(0);
	struct diversion *dv = begin_one(s);

	(void)state;
	diversion_header(dv, "Subject", "gone");
	diversion_abort(dv);
	diversion_abort(NULL);
	assert_int_equal(count_dir("tmp"), 0);
	assert_int_equal(count_dir("entries"), 0);
	badmail_store_close(s);
}

static void test_large_message_streams(void **state)
{
	struct badmail_store *s = open_store(0);
	struct diversion *dv = begin_one(s);
	char id[BADMAIL_ID_SIZE], detail[256], err[256], chunk[65536];
	enum badmail_ndr_status ndr;
	size_t len;

	(void)state;
	snprintf(id, sizeof(id), "%s", diversion_id(dv));
	for (size_t i = 0; i < sizeof(chunk); i += 64)
		memcpy(chunk + i, "0123456789012345678901234567890123456789012345678901234567890\r\n", 64);
	diversion_header(dv, "Subject", "big");
	for (int i = 0; i < 64; i++)	/* 4 MiB */
		diversion_body(dv, chunk, sizeof(chunk));
	assert_int_equal(diversion_commit(dv, &facts, &ndr, detail, sizeof(detail), err, sizeof(err)), 0);
	char *message = entry_file(id, "message", &len);
	assert_non_null(message);
	size_t header_len = strstr(message, "\n\n") - message + 2;
	assert_int_equal(len - header_len, 64 * sizeof(chunk) / 64 * 63);	/* every CRLF is LF */
	free(message);
	badmail_store_close(s);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_written_as_received),
		cmocka_unit_test(test_null_sender_gets_no_ndr),
		cmocka_unit_test(test_unreachable_sender_keeps_the_ndr),
		cmocka_unit_test(test_auto_submitted_gets_no_ndr),
		cmocka_unit_test(test_limit_leaves_nothing),
		cmocka_unit_test(test_abort_leaves_nothing),
		cmocka_unit_test(test_large_message_streams),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
