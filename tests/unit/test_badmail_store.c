/*
 * Unit tests for the badmail store (lib/badmail_store): the layout and its modes, entries that
 * appear whole or not at all, crash leftovers removed at open, ids, the limits, record
 * replacement, deletion beside a running writer, and links planted in the store refused rather
 * than followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "badmail_store.h"

static char base[] = "/tmp/test_badmail.XXXXXX";
static char store_dir[300];
static int serial;

static void run(const char *fmt, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), fmt, arg);
	assert_int_equal(system(cmd), 0);
}

/* A fresh store directory path (not created) for each test. */
static int setup_each(void **state)
{
	(void)state;
	snprintf(store_dir, sizeof(store_dir), "%s/store%d", base, ++serial);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	run("rm -rf '%s'", base);
	return 0;
}

static unsigned count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static unsigned mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return (unsigned)(st.st_mode & 07777);
}

static struct badmail_store *open_ok(const struct badmail_limits *limits)
{
	char err[256];
	struct badmail_store *s = badmail_store_open(store_dir, limits, true, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	return s;
}

/* ---- tests ---------------------------------------------------------------------------------------- */

static void test_layout_and_a_whole_entry(void **state)
{
	(void)state;
	struct badmail_store *s = open_ok(NULL);
	char err[256], path[512], id[BADMAIL_ID_SIZE];
	struct badmail_entry *e;
	struct badmail_usage usage;
	char *text;

	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	assert_int_equal(mode_of(store_dir), 0700);
	assert_int_equal(mode_of(path), 0700);
	e = badmail_entry_begin(s, err, sizeof(err));
	assert_non_null(e);
	snprintf(id, sizeof(id), "%s", badmail_entry_id(e));
	assert_true(badmail_id_valid(id));
	assert_int_equal(badmail_entry_write(e, "X-DNSGuard-Diverted: test\n", 26, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_write(e, "Subject: hi\n\nbody\n", 18, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_add_file(e, "record.json", "{}\n", 3, err, sizeof(err)), 0);
	/* not visible before the commit */
	snprintf(path, sizeof(path), "%s/entries", store_dir);
	assert_int_equal(count_dir(path), 0);
	assert_int_equal(badmail_entry_commit(e, err, sizeof(err)), 0);
	assert_int_equal(count_dir(path), 1);
	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	assert_int_equal(count_dir(path), 0);

	snprintf(path, sizeof(path), "%s/entries/%s/message", store_dir, id);
	text = unit_read_file(path, NULL);
	assert_string_equal(text, "X-DNSGuard-Diverted: test\nSubject: hi\n\nbody\n");
	free(text);
	assert_int_equal(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s/entries/%s", store_dir, id);
	assert_int_equal(mode_of(path), 0700);

	assert_int_equal(badmail_store_usage(s, &usage, err, sizeof(err)), 0);
	assert_int_equal(usage.entries, 1);
	assert_int_equal(usage.bytes, 26 + 18 + 3);

	/* the record is replaced whole */
	assert_int_equal(badmail_store_replace(s, id, "record.json", "{\"ndr\": \"submitted\"}\n", 21, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/entries/%s/record.json", store_dir, id);
	text = unit_read_file(path, NULL);
	assert_string_equal(text, "{\"ndr\": \"submitted\"}\n");
	free(text);
	assert_int_equal(mode_of(path), 0600);
	/* names and ids from outside are checked, never used as paths */
	assert_int_equal(badmail_store_replace(s, "../../etc", "record.json", "x", 1, err, sizeof(err)), -1);
	assert_int_equal(badmail_store_replace(s, id, "../message", "x", 1, err, sizeof(err)), -1);
	badmail_store_close(s);
}

static void test_abort_leaves_nothing(void **state)
{
	(void)state;
	struct badmail_store *s = open_ok(NULL);
	char err[256], path[512];
	struct badmail_entry *e = badmail_entry_begin(s, err, sizeof(err));

	assert_non_null(e);
	assert_int_equal(badmail_entry_write(e, "partial", 7, err, sizeof(err)), 0);
	badmail_entry_abort(e);
	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	assert_int_equal(count_dir(path), 0);
	snprintf(path, sizeof(path), "%s/entries", store_dir);
	assert_int_equal(count_dir(path), 0);
	badmail_store_close(s);
}

/* What a crash (kill -9) leaves in tmp/ is gone at the next open; committed entries stay. */
static void test_leftovers_removed_at_open(void **state)
{
	(void)state;
	struct badmail_store *s = open_ok(NULL);
	char err[256], path[512];
	struct badmail_entry *kept = badmail_entry_begin(s, err, sizeof(err));
	struct badmail_entry *crashed = badmail_entry_begin(s, err, sizeof(err));

	assert_non_null(kept);
	assert_non_null(crashed);
	assert_int_equal(badmail_entry_write(kept, "whole", 5, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_commit(kept, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_write(crashed, "half", 4, err, sizeof(err)), 0);
	/* the process dies here: the entry's directory stays in tmp/ (the test frees its memory by
	 * hand, as the kernel would) */
	snprintf(path, sizeof(path), "%s/tmp/stray-file", store_dir);
	run("touch '%s'", path);
	snprintf(path, sizeof(path), "%s/tmp/stray-link", store_dir);
	run("ln -s /etc/passwd '%s'", path);
	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	assert_int_equal(count_dir(path), 3);
	badmail_entry_abort(crashed);	/* (frees; removes its directory too) */
	{
		char cmd[1200];
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s/leftover' && touch '%s/leftover/message'", path, path);
		assert_int_equal(system(cmd), 0);
	}
	badmail_store_close(s);

	s = open_ok(NULL);
	assert_int_equal(count_dir(path), 0);
	assert_int_equal(access("/etc/passwd", F_OK), 0);	/* a link is removed, never followed */
	snprintf(path, sizeof(path), "%s/entries", store_dir);
	assert_int_equal(count_dir(path), 1);
	badmail_store_close(s);
}

static void test_ids(void **state)
{
	(void)state;
	struct badmail_store *s = open_ok(NULL);
	char err[256], ids[200][BADMAIL_ID_SIZE];

	for (int i = 0; i < 200; i++) {
		struct badmail_entry *e = badmail_entry_begin(s, err, sizeof(err));
		assert_non_null(e);
		snprintf(ids[i], sizeof(ids[i]), "%s", badmail_entry_id(e));
		assert_true(badmail_id_valid(ids[i]));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
		badmail_entry_abort(e);
	}
	assert_true(badmail_id_valid("20261204T144500-0123456789abcdef"));
	assert_false(badmail_id_valid("20261204T144500-0123456789abcdeF"));
	assert_false(badmail_id_valid("20261204T144500-0123456789abcde"));
	assert_false(badmail_id_valid("20261204X144500-0123456789abcdef"));
	assert_false(badmail_id_valid("../../../../etc/passwd-aaaaaaaaaaa"));
	assert_false(badmail_id_valid(""));
	assert_false(badmail_id_valid(NULL));
	badmail_store_close(s);
}

static void test_limits(void **state)
{
	(void)state;
	struct badmail_limits limits = {.max_bytes = 100, .max_entries = 2};
	struct badmail_store *s = open_ok(&limits);
	char err[256], big[200];
	struct badmail_entry *a, *b, *c;

	memset(big, 'x', sizeof(big));
	a = badmail_entry_begin(s, err, sizeof(err));
	b = badmail_entry_begin(s, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	/* two begun count against the limit before either is committed */
	c = badmail_entry_begin(s, err, sizeof(err));
	assert_null(c);
	assert_string_equal(err, "badmail_max_entries (2) reached");
	badmail_entry_abort(b);

	assert_int_equal(badmail_entry_write(a, big, 60, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_write(a, big, 60, err, sizeof(err)), -1);
	assert_string_equal(err, "badmail_max_size (100 bytes) reached");
	badmail_entry_abort(a);

	a = badmail_entry_begin(s, err, sizeof(err));
	assert_non_null(a);
	assert_int_equal(badmail_entry_write(a, big, 90, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_commit(a, err, sizeof(err)), 0);
	b = badmail_entry_begin(s, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(badmail_entry_write(b, big, 20, err, sizeof(err)), -1);
	assert_int_equal(badmail_entry_add_file(b, "record.json", big, 10, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_commit(b, err, sizeof(err)), 0);
	/* both commits count at once, without waiting for the next walk of the store */
	assert_null(badmail_entry_begin(s, err, sizeof(err)));
	assert_string_equal(err, "badmail_max_entries (2) reached");
	badmail_store_close(s);
}

/* An entry's time is read off its id, and only a real time counts. */
static void test_id_time(void **state)
{
	(void)state;
	time_t t = 42;

	assert_true(badmail_id_time("20261204T144500-0123456789abcdef", &t));
	assert_int_equal(t, 1796395500);
	assert_true(badmail_id_time("19700101T000000-0000000000000000", &t));
	assert_int_equal(t, 0);
	assert_true(badmail_id_time("20240229T235959-0000000000000000", &t));
	assert_int_equal(t, 1709251199);
	t = 42;
	assert_false(badmail_id_time("20250229T000000-0000000000000000", &t));	/* no 29 February */
	assert_false(badmail_id_time("20261301T000000-0000000000000000", &t));
	assert_false(badmail_id_time("20261204T246000-0000000000000000", &t));
	assert_false(badmail_id_time("20261204T144560-0123456789abcdef", &t));
	assert_false(badmail_id_time("20261204T144500-0123456789abcdeF", &t));
	assert_false(badmail_id_time(NULL, &t));
	assert_int_equal(t, 42);
}

static void commit_entry(struct badmail_store *s, char id[BADMAIL_ID_SIZE])
{
	char err[256];
	struct badmail_entry *e = badmail_entry_begin(s, err, sizeof(err));

	assert_non_null(e);
	snprintf(id, BADMAIL_ID_SIZE, "%s", badmail_entry_id(e));
	assert_int_equal(badmail_entry_write(e, "Subject: x\n\nx\n", 15, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_add_file(e, "record.json", "{}\n", 3, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_add_file(e, "ndr", "ndr\n", 4, err, sizeof(err)), 0);
	assert_int_equal(badmail_entry_commit(e, err, sizeof(err)), 0);
}

/* An entry goes whole, through tmp/, and leaves nothing behind; what is not an entry stays. */
static void test_delete(void **state)
{
	(void)state;
	struct badmail_store *s = open_ok(NULL);
	char err[256], path[512], cmd[2400], target[400], kept[BADMAIL_ID_SIZE], gone[BADMAIL_ID_SIZE];
	struct badmail_entry *writing;
	struct badmail_usage usage;

	commit_entry(s, kept);
	commit_entry(s, gone);
	/* a session writing an entry meanwhile */
	writing = badmail_entry_begin(s, err, sizeof(err));
	assert_non_null(writing);

	assert_int_equal(badmail_store_delete(s, gone, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/entries", store_dir);
	assert_int_equal(count_dir(path), 1);
	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	assert_int_equal(count_dir(path), 1);	/* the one being written, untouched */
	assert_int_equal(badmail_store_usage(s, &usage, err, sizeof(err)), 0);
	assert_int_equal(usage.entries, 1);
	assert_int_equal(badmail_entry_commit(writing, err, sizeof(err)), 0);

	/* gone is gone; a bad id changes nothing */
	errno = 0;
	assert_int_equal(badmail_store_delete(s, gone, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(path, sizeof(path), "%s: no such entry", gone);
	assert_string_equal(err, path);
	assert_int_equal(badmail_store_delete(s, "../entries", err, sizeof(err)), -1);
	assert_string_equal(err, "not an entry id");
	assert_int_equal(badmail_store_delete(s, NULL, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/entries", store_dir);
	assert_int_equal(count_dir(path), 2);

	/* what an interrupted delete left in tmp/ is cleared on the way */
	snprintf(cmd, sizeof(cmd), "mkdir -m 0700 '%s/tmp/%s.delete' && echo x > '%s/tmp/%s.delete/message'",
		 store_dir, kept, store_dir, kept);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(badmail_store_delete(s, kept, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/tmp", store_dir);
	assert_int_equal(count_dir(path), 0);

	/* a link planted in entries/ under an id's name: the link goes, never what it points to */
	snprintf(target, sizeof(target), "%s/outside%d", base, serial);
	snprintf(cmd, sizeof(cmd), "mkdir -m 0700 '%s' && echo keep > '%s/message' && ln -s '%s' '%s/entries/%s'",
		 target, target, target, store_dir, gone);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(badmail_store_delete(s, gone, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/message", target);
	char *text = unit_read_file(path, NULL);
	assert_non_null(text);
	assert_string_equal(text, "keep\n");
	free(text);
	snprintf(path, sizeof(path), "%s/entries/%s", store_dir, gone);
	assert_int_equal(access(path, F_OK), -1);
	badmail_store_close(s);
}

/* The store refuses a directory reached through a link, one open to others, or not its user's. */
static void test_refuses_unsafe_directories(void **state)
{
	(void)state;
	char err[256], target[400], cmd[900];

	snprintf(target, sizeof(target), "%s/real%d", base, serial);
	run("mkdir -m 0700 '%s'", target);
	snprintf(cmd, sizeof(cmd), "ln -s '%s' '%s'", target, store_dir);
	assert_int_equal(system(cmd), 0);
	assert_null(badmail_store_open(store_dir, NULL, true, err, sizeof(err)));
	assert_non_null(strstr(err, "symlink"));
	unlink(store_dir);

	run("mkdir -m 0755 '%s'", store_dir);
	assert_null(badmail_store_open(store_dir, NULL, true, err, sizeof(err)));
	assert_non_null(strstr(err, "mode 0700"));
	run("chmod 0700 '%s'", store_dir);

	/* entries/ planted as a link to somewhere else */
	snprintf(cmd, sizeof(cmd), "ln -s '%s' '%s/entries'", target, store_dir);
	assert_int_equal(system(cmd), 0);
	assert_null(badmail_store_open(store_dir, NULL, true, err, sizeof(err)));
	assert_non_null(strstr(err, "entries"));

	assert_null(badmail_store_open("relative/path", NULL, true, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_layout_and_a_whole_entry, setup_each),
		cmocka_unit_test_setup(test_abort_leaves_nothing, setup_each),
		cmocka_unit_test_setup(test_leftovers_removed_at_open, setup_each),
		cmocka_unit_test_setup(test_ids, setup_each),
		cmocka_unit_test_setup(test_limits, setup_each),
		cmocka_unit_test(test_id_time),
		cmocka_unit_test_setup(test_delete, setup_each),
		cmocka_unit_test_setup(test_refuses_unsafe_directories, setup_each),
	};
	umask(022);
	if (!mkdtemp(base))
		return 1;
	return cmocka_run_group_tests(tests, NULL, teardown);
}
