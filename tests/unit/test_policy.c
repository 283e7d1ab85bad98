/*
 * Unit tests for the policy compiler: the schema, every error with its line:column, the built-in
 * trusted networks, and that conf/policy.json compiles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_locate.h"
#include "policy.h"
#include "textfile.h"

static char err[1024];

static struct policy *compile(const char *text)
{
	err[0] = '\0';
	return policy_compile(text, strlen(text), "p.json", err, sizeof(err));
}

/* Compiling must fail with exactly this message. */
static void expect_error(const char *text, const char *message)
{
	struct policy *p = compile(text);
	if (p) {
		policy_free(p);
		fail_msg("compiled, expected error: %s", message);
	}
	if (strcmp(err, message) != 0)
		fail_msg("\n got: %s\nwant: %s", err, message);
}

static void test_minimal(void **state)
{
	(void)state;
	struct policy *p = compile("{\"version\": 1}");
	struct netaddr a;
	assert_non_null(p);
	assert_int_equal(policy_rule_count(p), 0);
	assert_false(policy_dry_run(p));
	/* the local MTA is trusted by default */
	assert_true(netaddr_parse("127.0.0.1", &a));
	assert_true(policy_client_trusted(p, &a));
	assert_true(netaddr_parse("::1", &a));
	assert_true(policy_client_trusted(p, &a));
	assert_true(netaddr_parse("127.0.0.7", &a));
	assert_false(policy_client_trusted(p, &a));
	assert_false(policy_client_outbound(p, &a));
	policy_free(p);
}

static void test_full(void **state)
{
	(void)state;
	struct policy *p = compile("{\"version\": 1, \"comment\": \"x\", \"dry_run\": true,\n"
				   " \"trusted_networks\": [\"192.0.2.0/24\"],\n"
				   " \"outbound_networks\": \"2001:db8::/32\",\n"
				   " \"rules\": [\n"
				   "  {\"name\": \"submission\", \"if\": {\"daemon\": \"submission\", \"authenticated\": true},"
				   "   \"then\": \"accept\"},\n"
				   "  {\"if\": {\"check\": [\"sender\", \"recipient\"], \"outcome\": \"nxdomain\","
				   "     \"client_network\": [\"198.51.100.0/24\"], \"client_hostname\": \".example\","
				   "     \"sender_domain\": [\"example.org\"], \"recipient\": \"postmaster@example.net\","
				   "     \"outbound\": false},"
				   "   \"then\": \"reject\", \"reply\": {\"code\": \"554\", \"xcode\": \"5.7.1\","
				   "   \"text\": \"<{address}>: {domain} from [{ip}] {hostname}: {cause}\"}},\n"
				   "  {\"comment\": \"tag the rest\", \"then\": \"tag\"}\n"
				   " ]}");
	struct netaddr a;
	assert_non_null(p);
	assert_int_equal(policy_rule_count(p), 3);
	assert_string_equal(policy_rule_name(p, 0), "submission");
	assert_string_equal(policy_rule_name(p, 1), "rule-2");
	assert_true(policy_dry_run(p));
	/* trusted_networks replaces the default */
	assert_true(netaddr_parse("127.0.0.1", &a));
	assert_false(policy_client_trusted(p, &a));
	assert_true(netaddr_parse("192.0.2.4", &a));
	assert_true(policy_client_trusted(p, &a));
	assert_true(netaddr_parse("2001:db8::4", &a));
	assert_true(policy_client_outbound(p, &a));
	policy_free(p);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("{\"version\": 1,\n \"rules\": [}\n", "p.json:2:12: unexpected token near '}'");
	expect_error("", "p.json:1:0: '[' or '{' expected near end of file");
	expect_error("{\"version\": 1, \"version\": 1}", "p.json:1:24: duplicate object key near '\"version\"'");
}

static void test_schema_errors(void **state)
{
	(void)state;
	expect_error("[]", "p.json:1:1: top level: expected an object {\"version\": 1, \"rules\": [...]}");
	expect_error("{}", "p.json:1:1: top level: missing member \"version\" (expected \"version\": 1)");
	expect_error("{\"version\": 2}",
		     "p.json:1:2: version: expected 1 (the only policy format version this dnsguard knows)");
	expect_error("{\"version\": 1,\n  \"rulez\": []}",
		     "p.json:2:3: rulez: unknown member 'rulez' (expected one of: version, comment, dry_run, "
		     "trusted_networks, outbound_networks, rules)");
	expect_error("{\"version\": 1, \"dry_run\": \"yes\"}", "p.json:1:16: dry_run: expected true or false");
	expect_error("{\"version\": 1, \"trusted_networks\": [\"10.0.0.0/8\", \"10.0.0.0/40\"]}",
		     "p.json:1:51: trusted_networks[1]: '10.0.0.0/40' is not an address or network (expected e.g. "
		     "192.0.2.0/24 or 2001:db8::/32)");
	expect_error("{\"version\": 1, \"rules\": {}}", "p.json:1:16: rules: expected an array of rules");
	expect_error("{\"version\": 1, \"rules\": [\n {\"name\": \"a\"}]}",
		     "p.json:2:2: rules[0]: missing member \"then\" (the action: accept, reject, tempfail, tag, "
		     "quarantine, divert or log-only)");
	expect_error("{\"version\": 1, \"rules\": [\n {\"then\": \"bounce\"}]}",
		     "p.json:2:3: rules[0].then: unknown action 'bounce' (expected accept, reject, tempfail, tag, "
		     "quarantine, divert or log-only)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\"},\n"
		     "  {\"then\": \"accept\", \"if\": {\"check\": \"sender\",\n     \"sender_domian\": \"x\"}}]}",
		     "p.json:3:6: rules[1].if.sender_domian: unknown member 'sender_domian' (expected one of: "
		     "check, outcome, client_network, client_hostname, sender_domain, recipient, authenticated, "
		     "outbound, daemon)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"check\": [\"sender\", \"body\"]}}]}",
		     "p.json:1:72: rules[0].if.check[1]: unknown check 'body' (expected one of: client, helo, "
		     "sender, recipient)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"outcome\": \"servfail\"}}]}",
		     "p.json:1:52: rules[0].if.outcome: unknown outcome 'servfail' (expected one of: ok, nxdomain, "
		     "no-address, null-mx, mx-unresolvable, temperror, bogus, pass, fail, permerror, "
		     "unresolvable, mismatch, undecided)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"check\": []}}]}",
		     "p.json:1:52: rules[0].if.check: expected at least one entry");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"authenticated\": 1}}]}",
		     "p.json:1:52: rules[0].if.authenticated: expected true or false");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"sender_domain\": \"a b\"}}]}",
		     "p.json:1:52: rules[0].if.sender_domain: 'a b' is not a domain name");
	expect_error("{\"version\": 1, \"rules\": [{\"name\": \"has space\", \"then\": \"accept\"}]}",
		     "p.json:1:27: rules[0].name: a rule name is 1-64 characters without spaces, quotes or '='");
}

static void test_reply_errors(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"code\": \"450\"}}]}",
		     "p.json:1:55: rules[0].reply.code: a reject needs a 5xx code");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"tempfail\", \"reply\": {\"code\": \"550\"}}]}",
		     "p.json:1:57: rules[0].reply.code: a tempfail needs a 4xx code");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"code\": \"250\"}}]}",
		     "p.json:1:55: rules[0].reply.code: expected a 4xx or 5xx reply code such as \"550\"");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"code\": \"550\", \"xcode\": \"4.1.1\"}}]}",
		     "p.json:1:70: rules[0].reply.xcode: enhanced code 4.1.1 does not match reply code 550");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"xcode\": \"5.1\"}}]}",
		     "p.json:1:55: rules[0].reply.xcode: expected an enhanced status code such as \"5.1.8\"");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"text\": \"a\\r\\nb\"}}]}",
		     "p.json:1:55: rules[0].reply.text: reply text must be printable ASCII on one line");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"text\": \"{adress}\"}}]}",
		     "p.json:1:55: rules[0].reply.text: unknown placeholder at '{adress}' (expected {address}, "
		     "{domain}, {ip}, {hostname} or {cause})");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"tag\", \"reply\": {\"text\": \"x\"}}]}",
		     "p.json:1:42: rules[0].reply: a reply goes only with \"then\": \"reject\" or \"tempfail\"");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"txt\": \"x\"}}]}",
		     "p.json:1:55: rules[0].reply.txt: unknown member 'txt' (expected one of: code, xcode, text)");
}

static void test_locate(void **state)
{
	(void)state;
	const char *text = "{\n  \"a\": [1, {\"b\": \"x\\\"}\"},\n   {\"c\": [true, null]}],\n  \"d\": 2}";
	unsigned line, column;
	struct json_step path_d[] = {{"d", 0}};
	struct json_step path_c1[] = {{"a", 0}, {NULL, 2}, {"c", 0}, {NULL, 1}};
	struct json_step path_missing[] = {{"a", 0}, {NULL, 5}};
	assert_true(json_locate(text, strlen(text), path_d, 1, &line, &column));
	assert_int_equal(line, 4);
	assert_int_equal(column, 3);
	assert_true(json_locate(text, strlen(text), path_c1, 4, &line, &column));
	assert_int_equal(line, 3);
	assert_int_equal(column, 17);
	assert_false(json_locate(text, strlen(text), path_missing, 2, &line, &column));
}

/* The shipped sample policy compiles. */
static void test_sample_policy(void **state)
{
	(void)state;
	const char *top = getenv("top_srcdir");
	char path[4096], *text, e[256];
	size_t len;
	bool missing;
	snprintf(path, sizeof(path), "%s/conf/policy.json", top ? top : ".");
	if (!textfile_read(path, 1 << 20, &text, &len, &missing, e, sizeof(e)))
		fail_msg("%s: %s", path, e);
	struct policy *p = policy_compile(text, len, path, err, sizeof(err));
	if (!p)
		fail_msg("%s", err);
	assert_true(policy_rule_count(p) > 0);
	policy_free(p);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_reply_errors),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_sample_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
