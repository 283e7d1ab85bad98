/*
 * Unit tests for netstring: complete, partial and pipelined input split at every byte, and every
 * way a length can be wrong, refused as early as the bytes show it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netstring.h"

#define MAX 100

static enum netstring_status decode(const char *text, struct netstring_frame *frame, enum netstring_error *error)
{
	return netstring_decode(text, strlen(text), MAX, frame, error);
}

static void assert_error(const char *text, enum netstring_error expected)
{
	struct netstring_frame frame;
	enum netstring_error error;

	assert_int_equal(decode(text, &frame, &error), NETSTRING_ERROR);
	assert_int_equal(error, expected);
}

static void assert_need_more(const char *text)
{
	struct netstring_frame frame;
	enum netstring_error error;

	assert_int_equal(decode(text, &frame, &error), NETSTRING_NEED_MORE);
	assert_int_equal(error, NETSTRING_OK);
}

static void test_complete(void **state)
{
	(void)state;
	struct netstring_frame frame;
	enum netstring_error error;
	const char *text = "21:transport example.com,";

	assert_int_equal(decode(text, &frame, &error), NETSTRING_COMPLETE);
	assert_int_equal(frame.offset, 3);
	assert_int_equal(frame.length, 21);
	assert_int_equal(frame.consumed, strlen(text));
	assert_memory_equal(text + frame.offset, "transport example.com", 21);

	assert_int_equal(decode("0:,", &frame, &error), NETSTRING_COMPLETE);
	assert_int_equal(frame.length, 0);
	assert_int_equal(frame.consumed, 3);
}

static void test_data_is_opaque(void **state)
{
	(void)state;
	struct netstring_frame frame;
	enum netstring_error error;
	const char text[] = "5:a\0:,\xff,";

	assert_int_equal(netstring_decode(text, sizeof(text) - 1, MAX, &frame, &error), NETSTRING_COMPLETE);
	assert_int_equal(frame.length, 5);
	assert_memory_equal(text + frame.offset, "a\0:,\xff", 5);
}

static void test_truncated(void **state)
{
	(void)state;
	assert_need_more("");
	assert_need_more("1");
	assert_need_more("12");
	assert_need_more("0");
	assert_need_more("3:");
	assert_need_more("3:ab");
	assert_need_more("3:abc");
}

static void test_bad_lengths(void **state)
{
	(void)state;
	assert_error(":,", NETSTRING_EMPTY_LENGTH);
	assert_error(":abc,", NETSTRING_EMPTY_LENGTH);
	assert_error("-1:a,", NETSTRING_BAD_LENGTH);
	assert_error("-", NETSTRING_BAD_LENGTH);
	assert_error("+1:a,", NETSTRING_BAD_LENGTH);
	assert_error(" 1:a,", NETSTRING_BAD_LENGTH);
	assert_error("1 :a,", NETSTRING_BAD_LENGTH);
	assert_error("0x10:aaaaaaaaaaaaaaaa,", NETSTRING_BAD_LENGTH);
	assert_error("abc", NETSTRING_BAD_LENGTH);
	assert_error("GET / HTTP/1.0\r\n", NETSTRING_BAD_LENGTH);
	assert_error("01:a,", NETSTRING_LEADING_ZERO);
	assert_error("00:,", NETSTRING_LEADING_ZERO);
	assert_error("007", NETSTRING_LEADING_ZERO);
}

static void test_oversized(void **state)
{
	(void)state;
	struct netstring_frame frame;
	enum netstring_error error;
	char text[MAX + 8];

	/* exactly the maximum is fine */
	memset(text, 'x', sizeof(text));
	memcpy(text, "100:", 4);
	text[4 + MAX] = ',';
	assert_int_equal(netstring_decode(text, 4 + MAX + 1, MAX, &frame, &error), NETSTRING_COMPLETE);
	assert_int_equal(frame.length, MAX);

	/* refused from the digits alone, before any data or even the colon */
	assert_error("101", NETSTRING_TOO_LONG);
	assert_error("1000", NETSTRING_TOO_LONG);
	assert_error("99999999999999999999999999999999999999:", NETSTRING_TOO_LONG);
	assert_error("18446744073709551617:", NETSTRING_TOO_LONG);
	assert_need_more("10");

	/* a maximum below one digit's value */
	assert_int_equal(netstring_decode("9:", 2, 5, &frame, &error), NETSTRING_ERROR);
	assert_int_equal(error, NETSTRING_TOO_LONG);
	assert_int_equal(netstring_decode("5:", 2, 5, &frame, &error), NETSTRING_NEED_MORE);
}

static void test_missing_comma(void **state)
{
	(void)state;
	assert_error("3:abcd", NETSTRING_MISSING_COMMA);
	assert_error("3:abc;", NETSTRING_MISSING_COMMA);
	assert_error("0:x", NETSTRING_MISSING_COMMA);
	assert_error("2:abc,", NETSTRING_MISSING_COMMA);
}

/*
 * Feeds `stream` to the decoder as a reader would: `cut` bytes first, then `step` bytes at a time;
 * collects what it decoded.
 */
static size_t decode_split(const char *stream, size_t len, size_t cut, size_t step, char out[][32],
			   enum netstring_error *error)
{
	char buf[256];
	size_t have = 0, fed = 0, n = 0;

	*error = NETSTRING_OK;
	while (fed < len || have > 0) {
		size_t chunk = fed < cut ? cut - fed : len - fed < step ? len - fed : step;
		memcpy(buf + have, stream + fed, chunk);
		have += chunk;
		fed += chunk;
		for (;;) {
			struct netstring_frame frame;
			enum netstring_status status = netstring_decode(buf, have, MAX, &frame, error);
			if (status == NETSTRING_ERROR)
				return n;
			if (status == NETSTRING_NEED_MORE)
				break;
			assert_true(frame.length < 32);
			memcpy(out[n], buf + frame.offset, frame.length);
			out[n][frame.length] = '\0';
			n++;
			memmove(buf, buf + frame.consumed, have - frame.consumed);
			have -= frame.consumed;
		}
		if (fed == len)
			break;
	}
	assert_int_equal(have, 0);
	return n;
}

static void test_pipelined_split_everywhere(void **state)
{
	(void)state;
	const char *stream = "21:transport example.com,0:,11:mailertable,5:a b c,";
	size_t len = strlen(stream);

	for (size_t cut = 0; cut <= len + 1; cut++) {
		char out[8][32];
		enum netstring_error error;
		/* two pieces cut at every byte boundary; last, one byte at a time */
		size_t n = cut <= len ? decode_split(stream, len, cut, len, out, &error)
				      : decode_split(stream, len, 0, 1, out, &error);
		assert_int_equal(error, NETSTRING_OK);
		assert_int_equal(n, 4);
		assert_string_equal(out[0], "transport example.com");
		assert_string_equal(out[1], "");
		assert_string_equal(out[2], "mailertable");
		assert_string_equal(out[3], "a b c");
	}
}

static void test_pipelined_error_after_good(void **state)
{
	(void)state;
	const char *stream = "3:one,3:two,3:xyz;3:four,";
	size_t len = strlen(stream);

	for (size_t cut = 0; cut <= len + 1; cut++) {
		char out[8][32];
		enum netstring_error error;
		size_t n = cut <= len ? decode_split(stream, len, cut, len, out, &error)
				      : decode_split(stream, len, 0, 1, out, &error);
		assert_int_equal(n, 2);
		assert_int_equal(error, NETSTRING_MISSING_COMMA);
		assert_string_equal(out[1], "two");
	}
}

static void test_encode(void **state)
{
	(void)state;
	char storage[64];
	struct strbuf sb;

	strbuf_init(&sb, storage, sizeof(storage));
	assert_true(netstring_append(&sb, "OK smtp:[127.0.0.1]:2525", 24));
	assert_true(netstring_append(&sb, "", 0));
	assert_string_equal(strbuf_text(&sb), "24:OK smtp:[127.0.0.1]:2525,0:,");

	/* what the encoder writes, the decoder reads back */
	struct netstring_frame frame;
	enum netstring_error error;
	assert_int_equal(netstring_decode(strbuf_text(&sb), strbuf_len(&sb), MAX, &frame, &error),
			 NETSTRING_COMPLETE);
	assert_int_equal(frame.length, 24);

	/* a netstring that does not fit is reported, never half-written silently */
	strbuf_init(&sb, storage, 8);
	assert_false(netstring_append(&sb, "0123456789", 10));
	assert_true(strbuf_truncated(&sb));
}

static void test_size(void **state)
{
	(void)state;
	assert_int_equal(netstring_size(0), 3);
	assert_int_equal(netstring_size(9), 12);
	assert_int_equal(netstring_size(10), 14);
	assert_int_equal(netstring_size(10000), 10007);
}

static void test_error_text(void **state)
{
	(void)state;
	assert_string_equal(netstring_error_text(NETSTRING_TOO_LONG), "declared length over the limit");
	assert_string_equal(netstring_error_text(NETSTRING_MISSING_COMMA), "no comma after the data");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_data_is_opaque),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_missing_comma),
		cmocka_unit_test(test_pipelined_split_everywhere),
		cmocka_unit_test(test_pipelined_error_after_good),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_error_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
