/*
 * Unit tests for strbuf: bounds, truncation that is detected, and log-safe key=value values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "strbuf.h"

static void test_stack_bound(void **state)
{
	(void)state;
	char storage[8];
	struct strbuf sb;
	strbuf_init(&sb, storage, sizeof(storage));
	strbuf_append(&sb, "abc");
	assert_false(strbuf_truncated(&sb));
	strbuf_append(&sb, "defgh");
	assert_true(strbuf_truncated(&sb));
	assert_string_equal(strbuf_text(&sb), "abcdefg");
	assert_int_equal(strbuf_len(&sb), 7);
	strbuf_reset(&sb);
	assert_false(strbuf_truncated(&sb));
	assert_string_equal(strbuf_text(&sb), "");
}

static void test_heap_growth_and_bound(void **state)
{
	(void)state;
	struct strbuf sb;
	strbuf_init_heap(&sb, 1000);
	for (int i = 0; i < 99; i++)
		strbuf_append(&sb, "0123456789");
	assert_int_equal(strbuf_len(&sb), 990);
	assert_false(strbuf_truncated(&sb));
	strbuf_appendf(&sb, "%s-%d", "0123456789", 42);
	assert_true(strbuf_truncated(&sb));
	assert_int_equal(strbuf_len(&sb), 1000);
	assert_int_equal(strlen(strbuf_text(&sb)), 1000);
	strbuf_free(&sb);
}

static void test_appendf_long(void **state)
{
	(void)state;
	struct strbuf sb;
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_init_heap(&sb, 4096);
	strbuf_appendf(&sb, "<%s>", big);
	assert_int_equal(strbuf_len(&sb), 601);
	assert_false(strbuf_truncated(&sb));
	strbuf_free(&sb);
}

static void test_kv_quoting(void **state)
{
	(void)state;
	char storage[256];
	struct strbuf sb;
	strbuf_init(&sb, storage, sizeof(storage));
	strbuf_append(&sb, "x:");
	strbuf_append_kv(&sb, "from", "<a@b.example>");
	strbuf_append_kv(&sb, "reply", "550 5.1.8 no");
	strbuf_append_kv(&sb, "empty", "");
	strbuf_append_kv(&sb, "evil", "a\r\nb\"c\\d=e\x01\xff");
	assert_string_equal(strbuf_text(&sb), "x: from=<a@b.example> reply=\"550 5.1.8 no\" empty=\"\" "
					      "evil=\"a\\x0d\\x0ab\\\"c\\\\d=e\\x01\\xff\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_bound),
		cmocka_unit_test(test_heap_growth_and_bound),
		cmocka_unit_test(test_appendf_long),
		cmocka_unit_test(test_kv_quoting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
