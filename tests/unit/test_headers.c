/*
 * Unit tests for what dnsguard writes into SMTP replies and header fields: reply text made safe
 * for libmilter, Authentication-Results (iprev), and recognising forged fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth_results.h"
#include "reply_text.h"

static void test_reply_percent_and_controls(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(reply_text_sanitize("100% sure", out, sizeof(out)), "100%% sure");
	assert_string_equal(reply_text_sanitize("a\r\nb\tc", out, sizeof(out)), "a  b c");
	assert_string_equal(reply_text_sanitize("b\xc3\xbc" "cher", out, sizeof(out)), "b??cher");
	assert_string_equal(reply_text_sanitize("del\x7f", out, sizeof(out)), "del ");
	assert_string_equal(reply_text_sanitize(NULL, out, sizeof(out)), "");
}

static void test_reply_bounds(void **state)
{
	char out[6];

	(void)state;
	assert_string_equal(reply_text_sanitize("abcdefgh", out, sizeof(out)), "abcde");
	/* a '%' is never cut in half: "%%" fits whole or not at all */
	assert_string_equal(reply_text_sanitize("abcd%", out, sizeof(out)), "abcd");
	assert_string_equal(reply_text_sanitize("abc%", out, sizeof(out)), "abc%%");
}

static void test_iprev_values(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(auth_results_iprev("mx.example.org", "pass", "192.0.2.7", "mail.example.net.", buf, sizeof(buf)),
			    "mx.example.org; iprev=pass policy.iprev=192.0.2.7 (mail.example.net.)");
	assert_string_equal(auth_results_iprev("mx.example.org", "permerror", "2001:db8::1", NULL, buf, sizeof(buf)),
			    "mx.example.org; iprev=permerror policy.iprev=2001:db8::1");
	/* nothing from DNS can break the field's syntax */
	assert_string_equal(auth_results_iprev("mx", "fail", "192.0.2.7", "a(b);c\r\n", buf, sizeof(buf)),
			    "mx; iprev=fail policy.iprev=192.0.2.7 (a_b__c__)");
}

static void test_is_ours(void **state)
{
	(void)state;
	assert_true(auth_results_is_ours("mx.example.org; iprev=pass", "mx.example.org"));
	assert_true(auth_results_is_ours("  MX.Example.ORG ; spf=pass", "mx.example.org"));
	assert_true(auth_results_is_ours("mx.example.org 1; none", "mx.example.org"));
	assert_true(auth_results_is_ours("(comment (nested)) mx.example.org; none", "mx.example.org"));
	assert_false(auth_results_is_ours("mx.example.org.evil; iprev=pass", "mx.example.org"));
	assert_false(auth_results_is_ours("other.example; iprev=pass", "mx.example.org"));
	assert_false(auth_results_is_ours("", "mx.example.org"));
	assert_false(auth_results_is_ours("mx.example.org; none", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_percent_and_controls),
		cmocka_unit_test(test_reply_bounds),
		cmocka_unit_test(test_iprev_values),
		cmocka_unit_test(test_is_ours),
	};
	return cmocka_run_group_tests_name("headers", tests, NULL, NULL);
}
