/*
 * Unit tests for lib/printable: what a client sent, shown on a terminal, can neither act on it
 * (ESC sequences, C1 controls, bidi overrides) nor forge a line, and stays readable otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "printable.h"

static char shown[1024];

static const char *show(const char *text, size_t len, unsigned flags)
{
	struct strbuf sb;

	strbuf_init(&sb, shown, sizeof(shown));
	assert_int_equal(printable_append(&sb, text, len, flags), len);
	return shown;
}

#define FIELD(s) show(s, sizeof(s) - 1, 0)
#define LINES(s) show(s, sizeof(s) - 1, PRINTABLE_LINES)

static void test_fields(void **state)
{
	(void)state;
	assert_string_equal(FIELD("app@example.net"), "app@example.net");
	assert_string_equal(FIELD("j\xc3\xb6rg@b\xc3\xbc\x63her.example"), "j\xc3\xb6rg@b\xc3\xbc\x63her.example");
	assert_string_equal(FIELD("a\\xff@example"), "a\\xff@example");
	/* a forged address that would clear the screen and write a line of its own */
	assert_string_equal(FIELD("eve\x1b[2J\r\nid: fake@x"), "eve\\x1b[2J\\x0d\\x0aid: fake@x");
	assert_string_equal(FIELD("tab\there\x7f"), "tab\\x09here\\x7f");
	assert_string_equal(FIELD("nul\0after"), "nul\\x00after");
	/* C1 CSI as UTF-8 and as a raw byte; a bidi override; a lone continuation byte; a surrogate */
	assert_string_equal(FIELD("a\xc2\x9b" "31mb"), "a\\xc2\\x9b31mb");
	assert_string_equal(FIELD("a\x9b" "31mb"), "a\\x9b31mb");
	assert_string_equal(FIELD("evil\xe2\x80\xaegpj.exe"), "evil\\xe2\\x80\\xaegpj.exe");
	assert_string_equal(FIELD("iso\xe2\x81\xa6x"), "iso\\xe2\\x81\\xa6x");
	assert_string_equal(FIELD("ok\xe2\x80\x94" "dash"), "ok\xe2\x80\x94" "dash");
	assert_string_equal(FIELD("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_string_equal(FIELD("cut\xc3"), "cut\\xc3");
	assert_string_equal(FIELD(""), "");
}

static void test_lines(void **state)
{
	(void)state;
	assert_string_equal(LINES("Subject: hi\r\n\tfolded\n\nbody\n"), "Subject: hi\r\n\tfolded\n\nbody\n");
	/* a lone CR would let the rest overwrite the line */
	assert_string_equal(LINES("From: a\rFrom: b\n"), "From: a\\x0dFrom: b\n");
	assert_string_equal(LINES("x\x1b]0;title\x07\n"), "x\\x1b]0;title\\x07\n");
	assert_string_equal(LINES("end\r"), "end\\x0d");
}

/* A message shown in pieces: a sequence cut between two reads waits for the rest. */
static void test_pieces(void **state)
{
	(void)state;
	const char *text = "gr\xc3\xbc\xc3\x9f\xe2\x80\xaeok\r\n\xf0\x9f\x98\x80!";
	size_t len = strlen(text);
	char whole[sizeof(shown)];
	struct strbuf sb;

	snprintf(whole, sizeof(whole), "%s", show(text, len, PRINTABLE_LINES));
	assert_string_equal(whole, "gr\xc3\xbc\xc3\x9f\\xe2\\x80\\xaeok\r\n\xf0\x9f\x98\x80!");
	for (size_t cut = 1; cut < len; cut++) {
		size_t used;

		strbuf_init(&sb, shown, sizeof(shown));
		used = printable_append(&sb, text, cut, PRINTABLE_LINES | PRINTABLE_MORE);
		assert_true(used <= cut && cut - used < 4);
		printable_append(&sb, text + used, len - used, PRINTABLE_LINES);
		assert_string_equal(shown, whole);
	}
	/* what can never become a sequence is not held back */
	strbuf_init(&sb, shown, sizeof(shown));
	assert_int_equal(printable_append(&sb, "a\xff", 2, PRINTABLE_MORE), 2);
	assert_int_equal(printable_append(&sb, "a\xe0\x80", 3, PRINTABLE_MORE), 3);
	assert_int_equal(printable_append(&sb, "a\xe0\xa0", 3, PRINTABLE_MORE), 1);
}

static void test_utf8_length(void **state)
{
	(void)state;
	assert_int_equal(printable_utf8_length((const unsigned char *)"a", 1), 1);
	assert_int_equal(printable_utf8_length((const unsigned char *)"\xc3\xb6", 2), 2);
	assert_int_equal(printable_utf8_length((const unsigned char *)"\xc3\xb6", 1), 0);
	assert_int_equal(printable_utf8_length((const unsigned char *)"\xc0\xaf", 2), 0);
	assert_int_equal(printable_utf8_length((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(printable_utf8_length((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(printable_utf8_length((const unsigned char *)"", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_utf8_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
