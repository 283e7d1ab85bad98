/*
 * Unit tests for the session's text fields: never NULL, as long as the text, cut with "..."
 * at their bound, freed and reset as the session moves on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"

/* Linked with -Wl,--wrap=malloc,--wrap=realloc: the next allocation can be made to fail. */
void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
void *__real_realloc(void *ptr, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
static int fail_next_malloc;

void *__wrap_malloc(size_t size)
{
	if (fail_next_malloc) {
		fail_next_malloc = 0;
		return NULL;
	}
	return __real_malloc(size);
}

void *__wrap_realloc(void *ptr, size_t size)
{
	if (fail_next_malloc) {
		fail_next_malloc = 0;
		return NULL;
	}
	return __real_realloc(ptr, size);
}

static void test_unset_fields_are_empty(void **state)
{
	(void)state;
	struct session s = {0};
	session_init_texts(&s);
	assert_string_equal(s.helo, "");
	assert_string_equal(s.msg.from, "");
	assert_string_equal(s.msg.sender_domain, "");
	assert_string_equal(s.client_name, "");
	session_free_texts(&s);
	assert_string_equal(s.msg.auth, "");
}

static void test_set_replace_clear(void **state)
{
	(void)state;
	struct session s = {0};
	session_init_texts(&s);
	assert_true(session_set_text(&s.helo, "mail.example.net", NAME_MAX_LEN));
	assert_string_equal(s.helo, "mail.example.net");
	/* a second EHLO replaces the first (the old copy is freed: valgrind/ASan would say) */
	session_set_text(&s.helo, "other.example", NAME_MAX_LEN);
	assert_string_equal(s.helo, "other.example");
	assert_true(session_set_text(&s.helo, NULL, NAME_MAX_LEN));
	assert_string_equal(s.helo, "");
	session_set_text(&s.msg.from, "", ADDRESS_MAX_LEN);
	assert_string_equal(s.msg.from, "");
	session_free_texts(&s);
}

static void test_overlong_text_is_cut_and_says_so(void **state)
{
	(void)state;
	struct session s = {0};
	char long_name[1000];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	session_init_texts(&s);
	session_set_text(&s.helo, long_name, NAME_MAX_LEN);
	assert_int_equal(strlen(s.helo), NAME_MAX_LEN - 1);
	assert_string_equal(s.helo + NAME_MAX_LEN - 4, "...");
	/* exactly at the bound: kept whole */
	long_name[NAME_MAX_LEN - 1] = '\0';
	session_set_text(&s.daemon, long_name, NAME_MAX_LEN + 1);
	assert_int_equal(strlen(s.daemon), NAME_MAX_LEN - 1);
	assert_int_not_equal(s.daemon[NAME_MAX_LEN - 2], '.');
	session_free_texts(&s);
}

static void test_out_of_memory_is_reported(void **state)
{
	(void)state;
	struct session s = {0};
	session_init_texts(&s);
	assert_true(session_set_text(&s.msg.from, "alice@example.net", ADDRESS_MAX_LEN));
	/* the caller must learn it, or a lost sender would be checked as <> */
	fail_next_malloc = 1;
	assert_false(session_set_text(&s.msg.from, "bob@example.org", ADDRESS_MAX_LEN));
	assert_string_equal(s.msg.from, "");
	/* nothing to copy, nothing to fail */
	fail_next_malloc = 1;
	assert_true(session_set_text(&s.msg.auth, "", NAME_MAX_LEN));
	fail_next_malloc = 0;
	session_free_texts(&s);
}

static void test_every_forged_result_is_noted(void **state)
{
	(void)state;
	struct session s = {0};
	session_init_texts(&s);
	/* no fixed bound: a thousand forged fields are a thousand removals */
	for (unsigned i = 1; i <= 1000; i++)
		assert_true(session_note_forged_result(&s, i * 2));
	assert_int_equal(s.msg.ar_delete_count, 1000);
	assert_int_equal(s.msg.ar_delete[0], 2);
	assert_int_equal(s.msg.ar_delete[999], 2000);
	assert_false(s.msg.ar_delete_lost);
	session_end_message(&s);
	assert_int_equal(s.msg.ar_delete_count, 0);
	assert_null(s.msg.ar_delete);
}

static void test_forged_result_lost_is_reported(void **state)
{
	(void)state;
	struct session s = {0};
	session_init_texts(&s);
	for (unsigned i = 1; i <= 8; i++)
		assert_true(session_note_forged_result(&s, i));
	/* the list must grow now: when it cannot, the message must not go out with the forgery */
	fail_next_malloc = 1;
	assert_false(session_note_forged_result(&s, 9));
	assert_true(s.msg.ar_delete_lost);
	assert_int_equal(s.msg.ar_delete_count, 8);
	session_end_message(&s);
	assert_false(s.msg.ar_delete_lost);
}

/* The message ends in one place: everything of it goes, the connection's stays. */
static void test_end_message_leaves_the_connection(void **state)
{
	(void)state;
	struct session s = {0};
	session_init_texts(&s);
	assert_true(session_set_text(&s.helo, "mail.example.net", NAME_MAX_LEN));
	assert_true(session_set_text(&s.msg.from, "alice@example.net", ADDRESS_MAX_LEN));
	assert_true(session_set_text(&s.msg.sender_error, "unbalanced quotes", NAME_MAX_LEN));
	assert_true(session_set_text(&s.msg.auth, "alice", NAME_MAX_LEN));
	snprintf(s.msg.queue_id, sizeof(s.msg.queue_id), "4ABC123");
	s.msg.rcpt_count = 3;
	s.msg.quarantine = true;
	assert_true(session_note_forged_result(&s, 1));
	session_end_message(&s);
	assert_string_equal(s.msg.from, "");
	assert_string_equal(s.msg.sender_error, "");
	assert_string_equal(s.msg.auth, "");
	assert_string_equal(s.msg.queue_id, "");
	assert_int_equal(s.msg.rcpt_count, 0);
	assert_false(s.msg.quarantine);
	assert_null(s.msg.ar_delete);
	assert_string_equal(s.helo, "mail.example.net");
	/* twice is harmless (abort, then close) */
	session_end_message(&s);
	session_free_texts(&s);
	assert_string_equal(s.helo, "");
}

/* Starts a line for a session with this queue id and returns it. */
static const char *line_for_queue_id(const char *qid, char *storage, size_t size)
{
	struct session s = {0};
	struct strbuf line;
	session_init_texts(&s);
	memcpy(s.id, "0123456789ab", 13);
	snprintf(s.msg.queue_id, sizeof(s.msg.queue_id), "%s", qid);
	session_line_start(&line, storage, size, &s, "rcpt");
	return strbuf_text(&line);
}

static void test_queue_id_cannot_split_a_line(void **state)
{
	(void)state;
	char storage[256];
	assert_string_equal(line_for_queue_id("4QUEUEID7", storage, sizeof(storage)),
			    "4QUEUEID7: rcpt session=0123456789ab");
	assert_string_equal(line_for_queue_id("4Xk9ZpQw1bz2", storage, sizeof(storage)),
			    "4Xk9ZpQw1bz2: rcpt session=0123456789ab");
	/* CR/LF, ESC, a fake lead, spaces, '=' and 8-bit bytes: one line, every odd byte as \xHH */
	assert_string_equal(line_for_queue_id("A\r\n\x1b[31mB: x=y \xc3", storage, sizeof(storage)),
			    "A\\x0d\\x0a\\x1b\\x5b31mB\\x3a\\x20x\\x3dy\\x20\\xc3: rcpt session=0123456789ab");
	/* no queue id yet: the session id leads */
	assert_string_equal(line_for_queue_id("", storage, sizeof(storage)), "0123456789ab: rcpt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_fields_are_empty),
		cmocka_unit_test(test_set_replace_clear),
		cmocka_unit_test(test_overlong_text_is_cut_and_says_so),
		cmocka_unit_test(test_out_of_memory_is_reported),
		cmocka_unit_test(test_every_forged_result_is_noted),
		cmocka_unit_test(test_end_message_leaves_the_connection),
		cmocka_unit_test(test_forged_result_lost_is_reported),
		cmocka_unit_test(test_queue_id_cannot_split_a_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
