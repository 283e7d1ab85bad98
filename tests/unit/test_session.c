/*
 * Unit tests for the session's text fields: never NULL, as long as the text, cut with "..."
 * at their bound, freed and reset as the session moves on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"

/* Linked with -Wl,--wrap=malloc: the next allocation can be made to fail. */
void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
static int fail_next_malloc;

void *__wrap_malloc(size_t size)
{
	if (fail_next_malloc) {
		fail_next_malloc = 0;
		return NULL;
	}
	return __real_malloc(size);
}

static void test_unset_fields_are_empty(void **state)
{
	(void)state;
	struct session s = {0};
	session_init_texts(&s);
	assert_string_equal(s.helo, "");
	assert_string_equal(s.from, "");
	assert_string_equal(s.sender_domain, "");
	assert_string_equal(s.client_name, "");
	session_free_texts(&s);
	assert_string_equal(s.auth, "");
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
	session_set_text(&s.from, "", ADDRESS_MAX_LEN);
	assert_string_equal(s.from, "");
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
	assert_true(session_set_text(&s.from, "alice@example.net", ADDRESS_MAX_LEN));
	/* the caller must learn it, or a lost sender would be checked as <> */
	fail_next_malloc = 1;
	assert_false(session_set_text(&s.from, "bob@example.org", ADDRESS_MAX_LEN));
	assert_string_equal(s.from, "");
	/* nothing to copy, nothing to fail */
	fail_next_malloc = 1;
	assert_true(session_set_text(&s.auth, "", NAME_MAX_LEN));
	fail_next_malloc = 0;
	session_free_texts(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_fields_are_empty),
		cmocka_unit_test(test_set_replace_clear),
		cmocka_unit_test(test_overlong_text_is_cut_and_says_so),
		cmocka_unit_test(test_out_of_memory_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
