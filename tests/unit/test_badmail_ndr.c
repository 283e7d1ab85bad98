/*
 * Unit tests for the NDR worker (lib/badmail_ndr) on a real store, with a stand-in sendmail that
 * records its argv and input and can be made to fail: a pending NDR submitted (record says so,
 * the ndr file goes), a failed one stored with the reason (the file stays), what cannot be sent
 * (no NDR file, a sender that is not ASCII) stored with why, entries not pending left alone, and
 * a second flush that finds nothing left (what a restart resumes, and only that).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_files.h"

#include "badmail_ndr.h"

static char dir[] = "/tmp/test_badmail_ndr.XXXXXX";
static char store_dir[300], program[300];
static struct badmail_store *store;

struct seen {
	unsigned count;
	char ids[8][BADMAIL_ID_SIZE];
	enum badmail_ndr_status status[8];
	char detail[8][300];
};

static void on_report(void *arg, const struct badmail_ndr_report *r)
{
	struct seen *seen = arg;
	if (seen->count == 8)
		return;
	snprintf(seen->ids[seen->count], BADMAIL_ID_SIZE, "%s", r->id);
	seen->status[seen->count] = r->status;
	snprintf(seen->detail[seen->count], sizeof(seen->detail[0]), "%s", r->detail);
	seen->count++;
}

static void set_mode(const char *mode)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/mode", dir);
	unit_write_file(path, mode);
}

/* A committed entry with this sender, NDR status and (if ndr is not NULL) an NDR. */
static void make_entry(const char *sender, enum badmail_ndr_status status, const char *ndr, char id[BADMAIL_ID_SIZE])
{
	char err[256];
	struct badmail_entry *e = badmail_entry_begin(store, err, sizeof(err));
	struct badmail_record r = {.time = 1796395500, .queue_id = "4Tk3Zq1x2Fz", .session = "655e1a2b0004",
				   .client_name = "unknown", .client_address = "192.0.2.7", .helo = "app.example.net",
				   .sender = sender, .ndr = status};
	size_t len;
	char *json;

	assert_non_null(e);
	snprintf(id, BADMAIL_ID_SIZE, "%s", badmail_entry_id(e));
	r.id = id;
	json = badmail_record_json(&r, &len);
	assert_non_null(json);
	assert_int_equal(badmail_entry_write(e, "Subject: x\n\nbody\n", 17, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_add_file(e, "record.json", json, len, err, sizeof(err)), 0);
	if (ndr)
		assert_int_equal(badmail_entry_add_file(e, "ndr", ndr, strlen(ndr), err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_commit(e, err, sizeof(err)), 0);
	free(json);
}

static struct badmail_record_summary summary_of(const char *id)
{
	char err[256];
	size_t len;
	char *json = badmail_store_read_file(store, id, "record.json", 1 << 20, &len, err, sizeof(err));
	struct badmail_record_summary s;

	assert_non_null(json);
	assert_int_equal(badmail_record_read(json, len, &s, err, sizeof(err)), 0);
	free(json);
	return s;
}

static bool has_ndr_file(const char *id)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/entries/%s/ndr", store_dir, id);
	return access(path, F_OK) == 0;
}

static void test_flush(void **state)
{
	(void)state;
	char ok_id[BADMAIL_ID_SIZE], none_id[BADMAIL_ID_SIZE], missing_id[BADMAIL_ID_SIZE], utf8_id[BADMAIL_ID_SIZE];
	char err[256], path[400], *text;
	struct seen seen = {0};

	make_entry("app@example.net", BADMAIL_NDR_PENDING, "Subject: Undelivered Mail\n\nsorry\n", ok_id);
	make_entry("", BADMAIL_NDR_NONE, NULL, none_id);
	make_entry("app@example.net", BADMAIL_NDR_PENDING, NULL, missing_id);
	make_entry("j\xc3\xb6rg@example.net", BADMAIL_NDR_PENDING, "Subject: x\n\nx\n", utf8_id);

	set_mode("ok");
	assert_int_equal(badmail_ndr_flush(store, program, 5000, NULL, on_report, &seen, err, sizeof(err)), 3);
	assert_int_equal(seen.count, 3);

	/* submitted: from <>, to the sender, the NDR as stored; the record says so, the file goes */
	snprintf(path, sizeof(path), "%s/argv", dir);
	text = unit_read_file(path, NULL);
	assert_string_equal(text, "-i\n-f\n<>\n--\napp@example.net\n");
	free(text);
	snprintf(path, sizeof(path), "%s/stdin", dir);
	text = unit_read_file(path, NULL);
	assert_string_equal(text, "Subject: Undelivered Mail\n\nsorry\n");
	free(text);
	assert_int_equal(summary_of(ok_id).ndr, BADMAIL_NDR_SUBMITTED);
	assert_false(has_ndr_file(ok_id));

	/* the others: stored, with why; the one with no NDR to send was never pending for nothing */
	assert_int_equal(summary_of(missing_id).ndr, BADMAIL_NDR_STORED);
	assert_int_equal(summary_of(utf8_id).ndr, BADMAIL_NDR_STORED);
	assert_true(has_ndr_file(utf8_id));
	assert_int_equal(summary_of(none_id).ndr, BADMAIL_NDR_NONE);
	for (unsigned i = 0; i < seen.count; i++) {
		if (strcmp(seen.ids[i], ok_id) == 0) {
			assert_int_equal(seen.status[i], BADMAIL_NDR_SUBMITTED);
			assert_string_equal(seen.detail[i], "");
		} else if (strcmp(seen.ids[i], missing_id) == 0) {
			assert_string_equal(seen.detail[i], "the entry holds no NDR to send");
		} else {
			assert_string_equal(seen.ids[i], utf8_id);
			assert_string_equal(seen.detail[i], "the sender's address cannot be given to sendmail as ASCII");
		}
	}

	/* nothing pending is left: a restart resumes only what is */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(badmail_ndr_flush(store, program, 5000, NULL, on_report, &seen, err, sizeof(err)), 0);
	assert_int_equal(seen.count, 0);
}

static void test_failed_submission_is_stored(void **state)
{
	(void)state;
	char id[BADMAIL_ID_SIZE], err[256];
	struct seen seen = {0};

	make_entry("app@example.net", BADMAIL_NDR_PENDING, "Subject: x\n\nx\n", id);
	set_mode("fail");
	assert_int_equal(badmail_ndr_flush(store, program, 5000, NULL, on_report, &seen, err, sizeof(err)), 1);
	assert_int_equal(seen.status[0], BADMAIL_NDR_STORED);
	assert_non_null(strstr(seen.detail[0], "exited with status 75: sendmail: fatal: queue file write error"));
	assert_int_equal(summary_of(id).ndr, BADMAIL_NDR_STORED);
	assert_true(has_ndr_file(id));
	/* the record keeps its ids for the log line and the command */
	assert_string_equal(summary_of(id).queue_id, "4Tk3Zq1x2Fz");
	assert_string_equal(summary_of(id).session, "655e1a2b0004");
}

/* A worker told to stop sends nothing more: what is left stays pending for the next one. */
static void test_stop_leaves_the_rest_pending(void **state)
{
	(void)state;
	char id[BADMAIL_ID_SIZE], err[256];
	atomic_bool stop = true;
	struct seen seen = {0};

	make_entry("app@example.net", BADMAIL_NDR_PENDING, "Subject: x\n\nx\n", id);
	set_mode("ok");
	assert_int_equal(badmail_ndr_flush(store, program, 5000, &stop, on_report, &seen, err, sizeof(err)), 0);
	assert_int_equal(seen.count, 0);
	assert_int_equal(summary_of(id).ndr, BADMAIL_NDR_PENDING);
	assert_true(has_ndr_file(id));
	atomic_store(&stop, false);
	assert_int_equal(badmail_ndr_flush(store, program, 5000, &stop, on_report, &seen, err, sizeof(err)), 1);
	assert_int_equal(summary_of(id).ndr, BADMAIL_NDR_SUBMITTED);
}

static void test_record_read_refuses_other_json(void **state)
{
	(void)state;
	struct badmail_record_summary s;
	char err[256];

	assert_int_equal(badmail_record_read("{\"version\": 2}", 14, &s, err, sizeof(err)), -1);
	assert_int_equal(badmail_record_read("[1]", 3, &s, err, sizeof(err)), -1);
	assert_int_equal(badmail_record_read("{\"version\": 1, \"ndr\": {\"status\": \"lost\"}}", 41, &s, err, sizeof(err)), -1);
	assert_int_equal(badmail_record_read("{", 1, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "record: line 1"));
}

static int setup(void **state)
{
	(void)state;
	char text[2048], err[256];

	if (!mkdtemp(dir))
		return -1;
	snprintf(store_dir, sizeof(store_dir), "%s/store", dir);
	snprintf(program, sizeof(program), "%s/sendmail", dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "d='%s'\n"
		 ": > \"$d/argv\"\n"
		 "for a in \"$@\"; do printf '%%s\\n' \"$a\" >> \"$d/argv\"; done\n"
		 "cat > \"$d/stdin\"\n"
		 "case $(cat \"$d/mode\") in\n"
		 "fail) echo 'sendmail: fatal: queue file write error' >&2; exit 75;;\n"
		 "esac\n"
		 "exit 0\n",
		 dir);
	unit_write_file(program, text);
	if (chmod(program, 0755) != 0)
		return -1;
	store = badmail_store_open(store_dir, NULL, true, err, sizeof(err));
	return store ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	badmail_store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_failed_submission_is_stored),
		cmocka_unit_test(test_stop_leaves_the_rest_pending),
		cmocka_unit_test(test_record_read_refuses_other_json),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
