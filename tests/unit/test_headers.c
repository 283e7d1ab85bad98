/*
 * Unit tests for what dnsguard writes into SMTP replies and header fields: reply text made safe
 * for libmilter, Authentication-Results (iprev), and recognising forged fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
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

/* Whatever the MTA's {j} holds, the field dnsguard writes for it is found ours (a fuzz find: an id
 * with a control byte is written with '_' in its place, and was then not recognised). */
static void test_own_field_is_ours_for_any_id(void **state)
{
	(void)state;
	static const char *ids[] = {"mx.example.org", "we ird\x01(id)", "mx\x7f.example", "b\303\274cher.example", "\"q\""};
	char buf[1024];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_true(auth_results_is_ours(auth_results_iprev(ids[i], "pass", "192.0.2.1", "h.example", buf, sizeof(buf)),
						 ids[i]));
}

/*
 * The authserv-id as RFC 8601 2.2 and RFC 5322 3.2 define it: what an RFC-conforming reader takes
 * as ours, dnsguard must take as ours, or a forgery survives.  Values as the milter receives them:
 * often with a leading space, folded with "\r\n\t" or "\n\t".
 */
static const struct {
	const char *value;
	bool ours;
} authserv_ids[] = {
	/* the two forgeries of issue 15: a quoted-pair does not close a comment, and a quoted-string
	 * is an authserv-id */
	{" (x \\) y) mx.example.org; iprev=pass", true},
	{" \"mx.example.org\"; iprev=pass", true},
	/* white space and folding */
	{" mx.example.org; iprev=pass", true},
	{"\tmx.example.org\t;\tiprev=pass", true},
	{"\r\n\tmx.example.org;\r\n\tiprev=pass", true},
	{"\n\tmx.example.org\n\t; iprev=pass", true},
	{" (a comment)\r\n\t(folded\r\n\tcomment) mx.example.org; iprev=pass", true},
	/* comments before and after, nested, with quoted-pairs and parentheses inside */
	{"(c)mx.example.org(c); iprev=pass", true},
	{" ((a (b) c) d) mx.example.org (after); iprev=pass", true},
	{" (\\(not nested) mx.example.org; iprev=pass", true},
	{" (a \\\\) mx.example.org; iprev=pass", true},
	{" (\"not a quote) mx.example.org; iprev=pass", true},
	/* versions (RFC 8601 2.2: authres-version after CFWS) */
	{"mx.example.org 1; iprev=pass", true},
	{"mx.example.org 1 ; iprev=pass", true},
	{"(c) mx.example.org (c) 1 (c); iprev=pass", true},
	{"mx.example.org 1; none", true},
	{"mx.example.org; none", true},
	/* case */
	{" MX.EXAMPLE.ORG; iprev=pass", true},
	{" \"Mx.Example.Org\"; iprev=pass", true},
	/* quoted-string: quoted-pairs decode, white space at its ends is not part of a name */
	{" \"mx.ex\\ample.org\"; iprev=pass", true},
	{" \"\\m\\x\\.\\e\\x\\a\\m\\p\\l\\e\\.\\o\\r\\g\"; iprev=pass", true},
	{" (c) \"mx.example.org\" (c) 1; iprev=pass", true},
	{" \" mx.example.org\t\"; iprev=pass", true},
	{" \"mx.example.org\r\n\t\"; iprev=pass", true},
	/* the absolute form of our name names the same host */
	{" mx.example.org.; iprev=pass", true},
	{" \"mx.example.org.\"; iprev=pass", true},
	/* our id followed by what no reader can parse: still claims our name, removing it is safe */
	{" mx.example.org", true},
	{" mx.example.org iprev=pass", true},
	{" mx.example.org@evil; iprev=pass", true},
	{" mx.example.org\x01; iprev=pass", true},
	{" mx.example.org\xc2\xa0; iprev=pass", true},
	{" \"mx.example.org\"garbage; iprev=pass", true},
	/* nothing a reader can lex: some reader may find our name in it, none can use it */
	{" (x \\) mx.example.org; iprev=pass", true},
	{" (unterminated mx.example.org; iprev=pass", true},
	{" (a (b) mx.example.org; iprev=pass", true},
	{" (a \\", true},
	{" \"mx.example.org; iprev=pass", true},
	{" \"mx.example.org\\", true},
	{" \vmx.example.org; iprev=pass", true},
	{" \xc2\xa0mx.example.org; iprev=pass", true},
	{" ;mx.example.org; iprev=pass", true},
	/* not ours: other ids, prefixes and suffixes, our name only where it is not the id */
	{" other.example; iprev=pass", false},
	{" mx.example.org.evil; iprev=pass", false},
	{" mx.example.org..; iprev=pass", false},
	{" xmx.example.org; iprev=pass", false},
	{" mx.example.or; iprev=pass", false},
	{" mx.example.org1; iprev=pass", false},
	{" mx-example.org; iprev=pass", false},
	{" \"mx.example.org.evil\"; iprev=pass", false},
	{" \"mx.example. org\"; iprev=pass", false},
	{" \"mx.example.\r\n\torg\"; iprev=pass", false},
	{" \"\"; iprev=pass", false},
	{" (mx.example.org) other.example; iprev=pass", false},
	{" other.example (mx.example.org); iprev=pass", false},
	{" other.example; iprev=pass (mx.example.org)", false},
	{" other.example; iprev=pass policy.iprev=192.0.2.7 (mx.example.org; x)", false},
	{" other.example (x \\) mx.example.org; iprev=pass", false},
	{" other.example mx.example.org; iprev=pass", false},
	{"", false},
	{" ", false},
	{"\r\n\t", false},
	{" (only a comment)", false},
	{" (mx.example.org)", false},
	{" (mx.example.org) (\\) mx.example.org)", false},
};

static void test_authserv_id_syntax(void **state)
{
	unsigned wrong = 0;

	(void)state;
	/* every wrong row is named, not only the first */
	for (size_t i = 0; i < sizeof(authserv_ids) / sizeof(authserv_ids[0]); i++)
		if (auth_results_is_ours(authserv_ids[i].value, "mx.example.org") != authserv_ids[i].ours) {
			print_error("row %zu: '%s' should%s be taken as ours\n", i, authserv_ids[i].value,
				    authserv_ids[i].ours ? "" : " not");
			wrong++;
		}
	assert_int_equal(wrong, 0);
}

/* A configured id with a trailing dot names the same host as one without. */
static void test_authserv_id_absolute(void **state)
{
	(void)state;
	assert_true(auth_results_is_ours(" mx.example.org; iprev=pass", "mx.example.org."));
	assert_true(auth_results_is_ours(" mx.example.org.; iprev=pass", "mx.example.org."));
	assert_false(auth_results_is_ours(" mx.example.org..; iprev=pass", "mx.example.org."));
	assert_false(auth_results_is_ours(" mx.example.or; iprev=pass", "mx.example.org."));
	assert_false(auth_results_is_ours(" .; iprev=pass", "mx"));
	assert_false(auth_results_is_ours(NULL, "mx.example.org"));
	assert_false(auth_results_is_ours(" mx; iprev=pass", NULL));
}

/* Depth is a counter: a peer's deep nesting costs no stack, and still ends where it should. */
static void test_authserv_id_deep_comments(void **state)
{
	enum { DEPTH = 100000 };
	char *value = malloc(2 * DEPTH + 64);

	(void)state;
	assert_non_null(value);
	memset(value, '(', DEPTH);
	memset(value + DEPTH, ')', DEPTH);
	strcpy(value + 2 * DEPTH, " mx.example.org; iprev=pass");
	assert_true(auth_results_is_ours(value, "mx.example.org"));
	strcpy(value + 2 * DEPTH, " other.example; iprev=pass");
	assert_false(auth_results_is_ours(value, "mx.example.org"));
	/* one parenthesis short: the comment never ends */
	strcpy(value + 2 * DEPTH - 1, " other.example; iprev=pass");
	assert_true(auth_results_is_ours(value, "mx.example.org"));
	free(value);
}

/* What dnsguard writes, dnsguard recognises as its own: a loop or a second pass removes it. */
static void test_iprev_round_trip(void **state)
{
	static const char *const ids[] = {"mx.example.org", "MX.example.org.", "mx", "a@b", "a b", "a(b)c",
					  "a;b", "a\\b", "a\"b", "mx.example.org;iprev=pass", "[192.0.2.1]"};
	char buf[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		auth_results_iprev(ids[i], "pass", "192.0.2.7", "mail.example.net", buf, sizeof(buf));
		if (!auth_results_is_ours(buf, ids[i]))
			fail_msg("'%s' written for '%s' is not taken as ours", buf, ids[i]);
		if (auth_results_is_ours(buf, "other.example"))
			fail_msg("'%s' written for '%s' is taken as other.example's", buf, ids[i]);
	}
	/* an id that is not a token is written as a quoted-string, never breaking the field */
	assert_string_equal(auth_results_iprev("a b;c", "fail", "192.0.2.7", NULL, buf, sizeof(buf)),
			    "\"a b;c\"; iprev=fail policy.iprev=192.0.2.7");
	assert_string_equal(auth_results_iprev("a\"b\\c", "fail", "192.0.2.7", NULL, buf, sizeof(buf)),
			    "\"a\\\"b\\\\c\"; iprev=fail policy.iprev=192.0.2.7");
	assert_string_equal(auth_results_iprev("a\r\nb", "fail", "192.0.2.7", NULL, buf, sizeof(buf)),
			    "\"a__b\"; iprev=fail policy.iprev=192.0.2.7");
}

static void test_dnsguard_value(void **state)
{
	(void)state;
	char buf[512];
	assert_string_equal(auth_results_dnsguard("client=pass helo=ok", "mx.example.org", buf, sizeof(buf)),
			    "client=pass helo=ok (mx.example.org)");
	/* an odd host name from the MTA ({j}) can neither end the comment early nor fold the field */
	assert_string_equal(auth_results_dnsguard("sender=ok", "mx) x=(y\\\r\n\tz\xc3", buf, sizeof(buf)),
			    "sender=ok (mx__x=_y____z_)");
}

static void test_id_is_token(void **state)
{
	(void)state;
	assert_true(auth_results_id_is_token("mx.example.org"));
	assert_true(auth_results_id_is_token("mx-1.example.org."));
	assert_true(auth_results_id_is_token("MX_2"));
	assert_false(auth_results_id_is_token(""));
	assert_false(auth_results_id_is_token("mx example"));
	assert_false(auth_results_id_is_token("mx;"));
	assert_false(auth_results_id_is_token("postmaster@example.org"));
	assert_false(auth_results_id_is_token("\"mx\""));
	assert_false(auth_results_id_is_token("mx\texample"));
	assert_false(auth_results_id_is_token("mx\x7f"));
	assert_false(auth_results_id_is_token("b\303\274cher.example"));
	for (const char *t = "()<>@,;:\\\"/[]?="; *t; t++) {
		char id[4] = {'a', *t, 'b', '\0'};
		assert_false(auth_results_id_is_token(id));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_percent_and_controls),
		cmocka_unit_test(test_reply_bounds),
		cmocka_unit_test(test_iprev_values),
		cmocka_unit_test(test_is_ours),
		cmocka_unit_test(test_own_field_is_ours_for_any_id),
		cmocka_unit_test(test_authserv_id_syntax),
		cmocka_unit_test(test_authserv_id_absolute),
		cmocka_unit_test(test_authserv_id_deep_comments),
		cmocka_unit_test(test_iprev_round_trip),
		cmocka_unit_test(test_id_is_token),
		cmocka_unit_test(test_dnsguard_value),
	};
	return cmocka_run_group_tests_name("headers", tests, NULL, NULL);
}
