/*
 * Unit tests for the policy: the compiler (the schema, every error with its line:column, the
 * built-in trusted networks, that conf/policy.json compiles, that 100,000 rules compile in well
 * under seconds) and the decision engine (edge cases of the defaults table, first match, each
 * condition kind both ways, replies and placeholders, dry run, and what the sample policy decides).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "json_locate.h"
#include "policy.h"
#include "unit_policy.h"
#include "textfile.h"

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
		     "trusted_networks, outbound_networks, rules, routes)");
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
		     "no-address, null-mx, mx-unresolvable, loopback, temperror, bogus, pass, fail, permerror, "
		     "unresolvable, mismatch, syntax, undecided)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"check\": []}}]}",
		     "p.json:1:52: rules[0].if.check: expected at least one entry");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"authenticated\": 1}}]}",
		     "p.json:1:52: rules[0].if.authenticated: expected true or false");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"sender_domain\": \"a b\"}}]}",
		     "p.json:1:52: rules[0].if.sender_domain: 'a b' is not a domain name");
	expect_error("{\"version\": 1, \"rules\": [{\"name\": \"has space\", \"then\": \"accept\"}]}",
		     "p.json:1:27: rules[0].name: a rule name is 1-64 printable ASCII characters without spaces, quotes or "
		     "'='");
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
		     "{domain}, {ip}, {hostname}, {cause} or {helo})");
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

/* ---- the compiler's checks that came with the decision engine ------------------------------ */

static void test_condition_errors(void **state)
{
	(void)state;
	/* an outcome that the named checks never have would make the rule dead */
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"check\": \"client\", \"outcome\": \"nxdomain\"}}]}",
		     "p.json:1:71: rules[0].if.outcome: outcome 'nxdomain' never happens in a client check (expected one "
		     "of: temperror, pass, fail, permerror, undecided)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"check\": [\"client\", \"helo\"],\n"
		     " \"outcome\": [\"temperror\", \"loopback\"]}}]}",
		     "p.json:2:27: rules[0].if.outcome[1]: outcome 'loopback' never happens in a client or helo check "
		     "(expected one of: ok, temperror, pass, fail, permerror, unresolvable, mismatch, undecided)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"client_hostname\": \"*.example.org\"}}]}",
		     "p.json:1:52: rules[0].if.client_hostname: '*.example.org' is not a domain name (no wildcards: "
		     "'.example.org' means the names under example.org)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"sender_domain\": [\"a.example\", \"b\\u00fccher.example\"]}}]}",
		     "p.json:1:83: rules[0].if.sender_domain[1]: 'b\xc3\xbc" "cher.example' is not a domain name (write "
		     "internationalized names in A-label form, xn--...)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"sender_domain\": \"a..example\"}}]}",
		     "p.json:1:52: rules[0].if.sender_domain: 'a..example' is not a domain name");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"sender_domain\": \".\"}}]}",
		     "p.json:1:52: rules[0].if.sender_domain: '.' is not a domain name");
	static const char *const bad_recipients[] = {"@", "user@.example.org", "us er@example.org", "user@exa mple",
						     "user@@", "a@b..c", "@*.example"};
	for (size_t i = 0; i < sizeof(bad_recipients) / sizeof(bad_recipients[0]); i++) {
		char text[300], want[600];
		snprintf(text, sizeof(text),
			 "{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"recipient\": [\"ok@example.org\", \"%s\"]}}]}",
			 bad_recipients[i]);
		snprintf(want, sizeof(want),
			 "p.json:1:84: rules[0].if.recipient[1]: '%s' is not a recipient pattern%s (expected user@domain, "
			 "user@, @domain, domain or .domain)",
			 bad_recipients[i],
			 i == 6 ? " (no wildcards: '.example.org' means the names under example.org)" : "");
		expect_error(text, want);
	}
}

static void test_name_and_reply_errors(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"rules\": [{\"name\": \"default\", \"then\": \"accept\"}]}",
		     "p.json:1:27: rules[0].name: \"default\" names the built-in defaults in the log: choose another name");
	expect_error("{\"version\": 1, \"rules\": [{\"name\": \"tab\\there\", \"then\": \"accept\"}]}",
		     "p.json:1:27: rules[0].name: a rule name is 1-64 printable ASCII characters without spaces, quotes or "
		     "'='");
	expect_error("{\"version\": 1, \"rules\": [{\"name\": \"a\", \"then\": \"accept\"},\n {\"name\": \"a\", \"then\": \"tag\"}]}",
		     "p.json:2:3: rules[1].name: rule name 'a' is already used by rules[0]");
	/* an unnamed rule's name counts too */
	expect_error("{\"version\": 1, \"rules\": [{\"name\": \"rule-2\", \"then\": \"accept\"},\n {\"then\": \"tag\"}]}",
		     "p.json:2:2: rules[1]: rule name 'rule-2' is already used by rules[0]");
	/* without a code, the built-in code is taken: the enhanced code must agree with the action */
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"xcode\": \"4.7.1\"}}]}",
		     "p.json:1:55: rules[0].reply.xcode: a reject needs a 5.x.x enhanced code");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"tempfail\", \"reply\": {\"xcode\": \"5.7.1\"}}]}",
		     "p.json:1:57: rules[0].reply.xcode: a tempfail needs a 4.x.x enhanced code");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"xcode\": \"5.+1.8\"}}]}",
		     "p.json:1:55: rules[0].reply.xcode: expected an enhanced status code such as \"5.1.8\"");
}

static void test_comments(void **state)
{
	(void)state;
	struct policy *p = compile_ok("{\"version\": 1, \"comment\": [\"line one\", \"line two\"], \"rules\": ["
				      "{\"comment\": [], \"then\": \"accept\"}, {\"comment\": \"one line\", \"then\": \"tag\"}]}");
	assert_int_equal(policy_rule_count(p), 2);
	policy_free(p);
	expect_error("{\"version\": 1, \"comment\": [\"a\", 2]}", "p.json:1:33: comment[1]: expected a string");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"tag\", \"comment\": {}}]}",
		     "p.json:1:42: rules[0].comment: expected a string or an array of strings");
}

static void test_outcome_names(void **state)
{
	(void)state;
	enum policy_outcome o;
	for (int i = 0; i < POLICY_OUTCOME_COUNT; i++) {
		const char *name = policy_outcome_name((enum policy_outcome)i);
		assert_string_not_equal(name, "?");
		assert_true(policy_outcome_from_name(name, &o));
		assert_int_equal(o, i);
	}
	assert_string_equal(policy_outcome_name(POLICY_OUTCOME_LOOPBACK), "loopback");
	assert_true(policy_outcome_from_name("loopback", &o));
	assert_int_equal(o, POLICY_OUTCOME_LOOPBACK);
	assert_string_equal(policy_outcome_name(POLICY_OUTCOME_COUNT), "?");
	assert_false(policy_outcome_from_name("servfail", &o));
	assert_false(policy_outcome_from_name("", &o));
	assert_false(policy_outcome_from_name(NULL, &o));
	assert_true(policy_outcome_possible(POLICY_CHECK_SENDER, POLICY_OUTCOME_LOOPBACK));
	assert_true(policy_outcome_possible(POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_LOOPBACK));
	assert_false(policy_outcome_possible(POLICY_CHECK_CLIENT, POLICY_OUTCOME_LOOPBACK));
	assert_false(policy_outcome_possible(POLICY_CHECK_HELO, POLICY_OUTCOME_LOOPBACK));
	assert_false(policy_outcome_possible(POLICY_CHECK_CLIENT, POLICY_OUTCOME_OK));
	assert_false(policy_outcome_possible(POLICY_CHECK_SENDER, POLICY_OUTCOME_PASS));
	assert_false(policy_outcome_possible(POLICY_CHECK_COUNT, POLICY_OUTCOME_UNDECIDED));
	assert_string_equal(policy_outcome_name(POLICY_OUTCOME_SYNTAX), "syntax");
	assert_true(policy_outcome_possible(POLICY_CHECK_SENDER, POLICY_OUTCOME_SYNTAX));
	assert_false(policy_outcome_possible(POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_SYNTAX));
	assert_false(policy_outcome_possible(POLICY_CHECK_CLIENT, POLICY_OUTCOME_SYNTAX));
	assert_false(policy_outcome_possible(POLICY_CHECK_HELO, POLICY_OUTCOME_SYNTAX));
	/* the compiler takes loopback for the mail-domain checks */
	struct policy *p = compile("{\"version\": 1, \"rules\": [{\"then\": \"accept\", \"if\": {\"check\": [\"sender\", \"recipient\"],"
				   " \"outcome\": \"loopback\"}}]}");
	assert_non_null(p);
	policy_free(p);
}

/* ---- the decision engine ------------------------------------------------------------------- */

static struct netaddr client_v4, client_v6;

static int setup_clients(void **state)
{
	(void)state;
	return netaddr_parse("192.0.2.25", &client_v4) && netaddr_parse("2001:db8::25", &client_v6) ? 0 : -1;
}

/* A remote client sending alice@sender.example to bob@rcpt.example. */
static struct policy_facts facts(enum policy_check check, enum policy_outcome outcome)
{
	struct policy_facts f = {
		.check = check,
		.outcome = outcome,
		.client = &client_v4,
		.client_hostname = "mx.client.example",
		.client_ip_text = "192.0.2.25",
		.helo = "helo.client.example",
		.sender_address = "alice@sender.example",
		.sender_domain = "sender.example",
		.recipient = "bob@rcpt.example",
		.recipient_domain = "rcpt.example",
		.authenticated = false,
		.outbound = false,
		.daemon = "smtpd",
		.cause = "SERVFAIL over udp-tcp",
	};
	return f;
}

static struct policy_decision decide(const struct policy *p, const struct policy_facts *f)
{
	struct policy_decision d;
	memset(&d, 0x5a, sizeof(d)); /* every member must be set */
	policy_decide(p, f, &d);
	return d;
}

static void assert_decision(const struct policy_decision *d, enum policy_action action, unsigned code,
			    const char *xcode, const char *text, const char *rule)
{
	if (d->action != action || d->code != code || strcmp(d->xcode, xcode) != 0 || strcmp(d->text, text) != 0 ||
	    strcmp(d->rule, rule) != 0)
		fail_msg("\n got: %s %u %s \"%s\" rule=%s\nwant: %s %u %s \"%s\" rule=%s", policy_action_name(d->action),
			 d->code, d->xcode, d->text, d->rule, policy_action_name(action), code, xcode, text, rule);
}

/* The defaults table itself is held to dnsguard-policy(5) row by row in test_decision.c, which
 * reads the manual's table: one source, not a copy here. */

static void test_defaults_edge_cases(void **state)
{
	(void)state;
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_TEMPERROR);
	struct policy_decision d;

	/* no cause known: " ({cause})" goes */
	f.cause = "";
	d = decide(NULL, &f);
	assert_string_equal(d.text, "<alice@sender.example>: Sender domain must resolve: temporary DNS failure");
	f.cause = NULL;
	d = decide(NULL, &f);
	assert_string_equal(d.text, "<alice@sender.example>: Sender domain must resolve: temporary DNS failure");

	/* a client check before MAIL FROM, or for the null sender, has no address to name */
	f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_UNDECIDED);
	f.sender_address = "";
	d = decide(NULL, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.3.0", "Client host [192.0.2.25]: temporary internal error, try again later",
			"default");
	f.sender_address = NULL;
	f.client_ip_text = NULL; /* formatted from the address */
	f.client = &client_v6;
	d = decide(NULL, &f);
	assert_string_equal(d.text, "Client host [2001:db8::25]: temporary internal error, try again later");
	f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_PERMERROR);
	f.client = &client_v6;
	f.client_ip_text = "2001:db8::25";
	d = decide(NULL, &f);
	assert_string_equal(d.text, "Client host rejected: cannot find your reverse hostname, [2001:db8::25]");

	/* the recipient check's domain is recipient_domain (the A-label), else the address's own */
	f = facts(POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN);
	f.recipient = "bob@b\xc3\xbc" "cher.example";
	f.recipient_domain = "xn--bcher-kva.example";
	d = decide(NULL, &f);
	assert_string_equal(d.text, "<bob@b??cher.example>: Recipient address rejected: Domain xn--bcher-kva.example not found");
	f.recipient = "bob@Rcpt.Example";
	f.recipient_domain = NULL;
	d = decide(NULL, &f);
	assert_string_equal(d.text, "<bob@Rcpt.Example>: Recipient address rejected: Domain Rcpt.Example not found");

	/* a caller's bug is an internal error, never an accept */
	f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_OK);
	d = decide(NULL, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.3.0", "<alice@sender.example>: temporary internal error, try again later",
			"default");
	f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_COUNT);
	d = decide(NULL, &f);
	assert_int_equal(d.action, POLICY_TEMPFAIL);
	assert_string_equal(d.xcode, "4.3.0");
	f = facts(POLICY_CHECK_COUNT, POLICY_OUTCOME_OK);
	struct policy *p = compile_ok("{\"version\": 1, \"rules\": [{\"then\": \"accept\"}]}");
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.3.0", "<alice@sender.example>: temporary internal error, try again later",
			"default");
	/* ... and a rule sees it as the undecided it is */
	policy_free(p);
	p = compile_ok("{\"version\": 1, \"rules\": [{\"if\": {\"outcome\": \"undecided\"}, \"then\": \"log-only\"}]}");
	f = facts(POLICY_CHECK_HELO, POLICY_OUTCOME_PASS);
	d = decide(p, &f);
	assert_decision(&d, POLICY_LOG_ONLY, 0, "", "", "rule-1");
	policy_free(p);
}

static void test_first_match_wins(void **state)
{
	(void)state;
	struct policy *p = compile_ok("{\"version\": 1, \"rules\": [\n"
				      " {\"name\": \"one\", \"if\": {\"check\": \"sender\", \"outcome\": \"nxdomain\"}, \"then\": \"tag\"},\n"
				      " {\"name\": \"two\", \"if\": {\"check\": \"sender\"}, \"then\": \"quarantine\"},\n"
				      " {\"if\": {\"outcome\": [\"nxdomain\", \"null-mx\"]}, \"then\": \"divert\"},\n"
				      " {\"name\": \"catch-all\", \"then\": \"log-only\"},\n"
				      " {\"name\": \"never\", \"then\": \"reject\"}]}");
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN);
	struct policy_decision d = decide(p, &f);
	assert_decision(&d, POLICY_TAG, 0, "", "", "one");
	f.outcome = POLICY_OUTCOME_NULL_MX;
	d = decide(p, &f);
	assert_decision(&d, POLICY_QUARANTINE, 0, "", "", "two");
	f.check = POLICY_CHECK_RECIPIENT;
	d = decide(p, &f);
	assert_decision(&d, POLICY_DIVERT, 0, "", "", "rule-3");
	/* a rule without "outcome" matches every outcome, ok included */
	f.outcome = POLICY_OUTCOME_OK;
	d = decide(p, &f);
	assert_decision(&d, POLICY_LOG_ONLY, 0, "", "", "catch-all");
	assert_int_equal(policy_rule_count(p), 5);
	assert_string_equal(policy_rule_name(p, 2), "rule-3");
	assert_string_equal(policy_rule_name(p, 9), "");
	policy_free(p);
}

/* Whether a rule with these conditions decides for these facts. */
static bool holds(const char *conditions, const struct policy_facts *f)
{
	char text[2048];
	snprintf(text, sizeof(text), "{\"version\": 1, \"rules\": [{\"name\": \"r\", \"if\": %s, \"then\": \"tag\"}]}",
		 conditions);
	struct policy *p = compile_ok(text);
	struct policy_decision d = decide(p, f);
	policy_free(p);
	return strcmp(d.rule, "r") == 0 && d.action == POLICY_TAG;
}

static void test_condition_check_outcome(void **state)
{
	(void)state;
	struct policy_facts f = facts(POLICY_CHECK_HELO, POLICY_OUTCOME_MISMATCH);
	assert_true(holds("{}", &f));
	assert_true(holds("{\"check\": \"helo\"}", &f));
	assert_true(holds("{\"check\": [\"sender\", \"helo\"]}", &f));
	assert_false(holds("{\"check\": [\"sender\", \"client\"]}", &f));
	assert_true(holds("{\"outcome\": \"mismatch\"}", &f));
	assert_true(holds("{\"check\": \"helo\", \"outcome\": [\"unresolvable\", \"mismatch\"]}", &f));
	assert_false(holds("{\"check\": \"helo\", \"outcome\": [\"unresolvable\", \"ok\"]}", &f));
	f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_LOOPBACK);
	assert_true(holds("{\"check\": \"sender\", \"outcome\": \"loopback\"}", &f));
	assert_false(holds("{\"check\": \"recipient\", \"outcome\": \"loopback\"}", &f));
}

static void test_condition_client_network(void **state)
{
	(void)state;
	struct policy_facts f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_FAIL);
	assert_true(holds("{\"client_network\": \"192.0.2.0/24\"}", &f));
	assert_true(holds("{\"client_network\": \"192.0.2.25\"}", &f));
	assert_true(holds("{\"client_network\": [\"2001:db8::/32\", \"192.0.2.0/28\", \"192.0.2.16/28\"]}", &f));
	assert_false(holds("{\"client_network\": \"192.0.2.0/28\"}", &f));
	assert_false(holds("{\"client_network\": \"198.51.100.0/24\"}", &f));
	assert_false(holds("{\"client_network\": \"2001:db8::/32\"}", &f));
	/* written as an IPv4-mapped network, it still means IPv4 */
	assert_true(holds("{\"client_network\": \"::ffff:192.0.2.0/120\"}", &f));
	f.client = &client_v6;
	assert_true(holds("{\"client_network\": \"2001:db8::/32\"}", &f));
	assert_true(holds("{\"client_network\": \"2001:db8::/120\"}", &f));
	assert_true(holds("{\"client_network\": \"2001:db8::25\"}", &f));
	assert_false(holds("{\"client_network\": \"2001:db8:1::/48\"}", &f));
	assert_false(holds("{\"client_network\": \"192.0.2.0/24\"}", &f));
	assert_false(holds("{\"client_network\": \"::/128\"}", &f));
	assert_true(holds("{\"client_network\": \"::/0\"}", &f));
}

static void test_condition_client_hostname(void **state)
{
	(void)state;
	struct policy_facts f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_PASS);
	f.client_hostname = "mx.example.org";
	assert_true(holds("{\"client_hostname\": \"example.org\"}", &f));
	assert_true(holds("{\"client_hostname\": \"mx.example.org\"}", &f));
	assert_true(holds("{\"client_hostname\": \"EXAMPLE.Org.\"}", &f));
	assert_true(holds("{\"client_hostname\": \"org\"}", &f));
	assert_true(holds("{\"client_hostname\": \".example.org\"}", &f));
	assert_true(holds("{\"client_hostname\": [\"example.net\", \"example.org\"]}", &f));
	assert_false(holds("{\"client_hostname\": \"x.mx.example.org\"}", &f));
	assert_false(holds("{\"client_hostname\": \"ample.org\"}", &f));
	assert_false(holds("{\"client_hostname\": \".mx.example.org\"}", &f));
	assert_false(holds("{\"client_hostname\": \"example.net\"}", &f));
	f.client_hostname = "example.org";
	assert_true(holds("{\"client_hostname\": \"example.org\"}", &f));
	assert_false(holds("{\"client_hostname\": \".example.org\"}", &f));
	f.client_hostname = "badexample.org";
	assert_false(holds("{\"client_hostname\": \"example.org\"}", &f));
	assert_false(holds("{\"client_hostname\": \".example.org\"}", &f));
	assert_true(holds("{\"client_hostname\": \"org\"}", &f));
	f.client_hostname = "MX.Example.ORG.";
	assert_true(holds("{\"client_hostname\": \"example.org\"}", &f));
	/* no confirmed name matches nothing */
	f.client_hostname = "unknown";
	assert_false(holds("{\"client_hostname\": \"unknown\"}", &f));
	f.client_hostname = "";
	assert_false(holds("{\"client_hostname\": \"org\"}", &f));
	f.client_hostname = NULL;
	assert_false(holds("{\"client_hostname\": \"org\"}", &f));
}

static void test_condition_sender_domain(void **state)
{
	(void)state;
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN);
	f.sender_domain = "lists.example.org";
	assert_true(holds("{\"sender_domain\": \"example.org\"}", &f));
	assert_true(holds("{\"sender_domain\": \"lists.example.org\"}", &f));
	assert_true(holds("{\"sender_domain\": \".example.org\"}", &f));
	assert_true(holds("{\"sender_domain\": \"Example.ORG\"}", &f));
	assert_false(holds("{\"sender_domain\": \".lists.example.org\"}", &f));
	assert_false(holds("{\"sender_domain\": \"ts.example.org\"}", &f));
	assert_false(holds("{\"sender_domain\": \"example.net\"}", &f));
	f.sender_domain = "badexample.org";
	assert_false(holds("{\"sender_domain\": \"example.org\"}", &f));
	f.sender_domain = "xn--bcher-kva.example";
	assert_true(holds("{\"sender_domain\": \"XN--BCHER-KVA.example\"}", &f));
	/* the null sender has no domain */
	f.sender_address = "";
	f.sender_domain = "";
	assert_false(holds("{\"sender_domain\": \"example\"}", &f));
	f.sender_domain = NULL;
	assert_false(holds("{\"sender_domain\": \"example\"}", &f));
}

static void test_condition_recipient(void **state)
{
	(void)state;
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN);
	f.recipient = "bob@mail.example.org";
	f.recipient_domain = "mail.example.org";
	/* user@domain: that address, the domain in any case, the local part exactly */
	assert_true(holds("{\"recipient\": \"bob@mail.example.org\"}", &f));
	assert_true(holds("{\"recipient\": \"bob@MAIL.Example.org\"}", &f));
	assert_true(holds("{\"recipient\": \"bob@mail.example.org.\"}", &f));
	assert_false(holds("{\"recipient\": \"Bob@mail.example.org\"}", &f));
	assert_false(holds("{\"recipient\": \"bob@example.org\"}", &f));
	assert_false(holds("{\"recipient\": \"bo@mail.example.org\"}", &f));
	/* user@: that local part at any domain */
	assert_true(holds("{\"recipient\": \"bob@\"}", &f));
	assert_false(holds("{\"recipient\": \"bo@\"}", &f));
	assert_false(holds("{\"recipient\": \"BOB@\"}", &f));
	/* @domain: any address at exactly that domain */
	assert_true(holds("{\"recipient\": \"@mail.example.org\"}", &f));
	assert_true(holds("{\"recipient\": \"@Mail.Example.Org\"}", &f));
	assert_false(holds("{\"recipient\": \"@example.org\"}", &f));
	/* domain: that domain and the names under it; .domain: only those under it */
	assert_true(holds("{\"recipient\": \"mail.example.org\"}", &f));
	assert_true(holds("{\"recipient\": \"example.org\"}", &f));
	assert_true(holds("{\"recipient\": \".example.org\"}", &f));
	assert_false(holds("{\"recipient\": \".mail.example.org\"}", &f));
	assert_false(holds("{\"recipient\": \"il.example.org\"}", &f));
	assert_true(holds("{\"recipient\": [\"alice@\", \"@example.net\", \"example.org\"]}", &f));
	assert_false(holds("{\"recipient\": [\"alice@\", \"@example.net\", \"example.com\"]}", &f));
	/* postmaster is case-insensitive (RFC 5321 4.5.1), in the pattern and in the address */
	f.recipient = "PostMaster@mail.example.org";
	assert_true(holds("{\"recipient\": \"postmaster@\"}", &f));
	assert_true(holds("{\"recipient\": \"POSTMASTER@mail.example.org\"}", &f));
	f.recipient = "postmaster";
	f.recipient_domain = "";
	assert_true(holds("{\"recipient\": \"postmaster@\"}", &f));
	assert_false(holds("{\"recipient\": \"@example.org\"}", &f));
	assert_false(holds("{\"recipient\": \"example.org\"}", &f));
	/* recipient_domain, the A-label, is what the domain forms compare */
	f.recipient = "bob@b\xc3\xbc" "cher.example";
	f.recipient_domain = "xn--bcher-kva.example";
	assert_true(holds("{\"recipient\": \"bob@xn--bcher-kva.example\"}", &f));
	assert_true(holds("{\"recipient\": \"example\"}", &f));
	/* without recipient_domain, the address's own domain */
	f.recipient = "bob@Sub.Example.ORG";
	f.recipient_domain = NULL;
	assert_true(holds("{\"recipient\": \"bob@sub.example.org\"}", &f));
	assert_true(holds("{\"recipient\": \".example.org\"}", &f));
	/* the last '@' separates the domain; a source route is skipped */
	f.recipient = "\"odd@local\"@example.org";
	assert_true(holds("{\"recipient\": \"\\\"odd@local\\\"@example.org\"}", &f));
	assert_true(holds("{\"recipient\": \"\\\"odd@local\\\"@\"}", &f));
	f.recipient = "@relay.example.net,@hop.example.net:bob@example.org";
	assert_true(holds("{\"recipient\": \"bob@example.org\"}", &f));
	assert_false(holds("{\"recipient\": \"example.net\"}", &f));
	/* before RCPT there is no recipient to match */
	f.recipient = NULL;
	f.recipient_domain = NULL;
	assert_false(holds("{\"recipient\": \"example.org\"}", &f));
	assert_false(holds("{\"recipient\": \"bob@\"}", &f));
}

static void test_condition_flags_and_daemon(void **state)
{
	(void)state;
	struct policy_facts f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_PERMERROR);
	assert_false(holds("{\"authenticated\": true}", &f));
	assert_true(holds("{\"authenticated\": false}", &f));
	assert_false(holds("{\"outbound\": true}", &f));
	assert_true(holds("{\"outbound\": false}", &f));
	f.authenticated = true;
	assert_true(holds("{\"authenticated\": true}", &f));
	assert_false(holds("{\"authenticated\": false}", &f));
	assert_false(holds("{\"outbound\": true}", &f)); /* the caller sets outbound; policy does not infer it */
	f.outbound = true;
	assert_true(holds("{\"outbound\": true, \"authenticated\": true}", &f));
	assert_false(holds("{\"outbound\": false}", &f));
	f.authenticated = false;
	assert_true(holds("{\"outbound\": true, \"authenticated\": false}", &f));

	f.daemon = "ORIGINATING";
	assert_true(holds("{\"daemon\": \"ORIGINATING\"}", &f));
	assert_true(holds("{\"daemon\": [\"smtpd\", \"ORIGINATING\"]}", &f));
	assert_false(holds("{\"daemon\": \"originating\"}", &f));
	assert_false(holds("{\"daemon\": \"ORIGINATIN\"}", &f));
	f.daemon = "";
	assert_false(holds("{\"daemon\": \"ORIGINATING\"}", &f));
	assert_true(holds("{\"daemon\": \"\"}", &f));
	f.daemon = NULL;
	assert_true(holds("{\"daemon\": \"\"}", &f));

	/* all conditions must hold */
	f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN);
	const char *all = "{\"check\": \"sender\", \"outcome\": \"nxdomain\", \"client_network\": \"192.0.2.0/24\","
			  " \"client_hostname\": \"client.example\", \"sender_domain\": \"sender.example\","
			  " \"recipient\": \"bob@\", \"authenticated\": false, \"outbound\": false, \"daemon\": \"smtpd\"}";
	assert_true(holds(all, &f));
	struct policy_facts g = f;
	g.client = &client_v6;
	assert_false(holds(all, &g));
	g = f, g.client_hostname = "mx.other.example";
	assert_false(holds(all, &g));
	g = f, g.sender_domain = "other.example";
	assert_false(holds(all, &g));
	g = f, g.recipient = "carol@rcpt.example";
	assert_false(holds(all, &g));
	g = f, g.authenticated = true;
	assert_false(holds(all, &g));
	g = f, g.outbound = true;
	assert_false(holds(all, &g));
	g = f, g.daemon = "submission";
	assert_false(holds(all, &g));
	g = f, g.outcome = POLICY_OUTCOME_NO_ADDRESS;
	assert_false(holds(all, &g));
}

static void test_custom_replies(void **state)
{
	(void)state;
	struct policy *p = compile_ok(
		"{\"version\": 1, \"rules\": [\n"
		" {\"name\": \"all-placeholders\", \"if\": {\"check\": [\"sender\", \"recipient\"], \"outcome\": \"nxdomain\"},"
		"  \"then\": \"reject\", \"reply\": {\"code\": \"554\", \"xcode\": \"5.7.1\","
		"  \"text\": \"a={address} d={domain} i={ip} h={hostname} c={cause} e={helo} {ip}\"}},\n"
		" {\"name\": \"text-only\", \"if\": {\"check\": \"sender\", \"outcome\": \"null-mx\"}, \"then\": \"reject\","
		"  \"reply\": {\"text\": \"<{address}>: no mail from {domain}\"}},\n"
		" {\"name\": \"code-only\", \"if\": {\"check\": \"sender\", \"outcome\": \"temperror\"}, \"then\": \"tempfail\","
		"  \"reply\": {\"code\": \"450\"}},\n"
		" {\"name\": \"xcode-only\", \"if\": {\"check\": \"client\", \"outcome\": \"temperror\"}, \"then\": \"tempfail\","
		"  \"reply\": {\"xcode\": \"4.7.0\"}},\n"
		" {\"name\": \"no-reply\", \"if\": {\"check\": \"recipient\", \"outcome\": \"null-mx\"}, \"then\": \"reject\"},\n"
		" {\"name\": \"empty-reply\", \"if\": {\"check\": \"client\", \"outcome\": \"permerror\"}, \"then\": \"reject\","
		"  \"reply\": {}},\n"
		" {\"name\": \"cause-gone\", \"if\": {\"check\": \"helo\", \"outcome\": \"temperror\"}, \"then\": \"tempfail\","
		"  \"reply\": {\"text\": \"HELO {helo} ({cause}) ({hostname})\"}}\n"
		"]}");
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN);
	struct policy_decision d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 554, "5.7.1",
			"a=alice@sender.example d=sender.example i=192.0.2.25 h=mx.client.example c=SERVFAIL over udp-tcp "
			"e=helo.client.example 192.0.2.25",
			"all-placeholders");
	/* {address} and {domain} are the recipient's in a recipient check */
	f.check = POLICY_CHECK_RECIPIENT;
	f.client_hostname = NULL;
	d = decide(p, &f);
	assert_string_equal(d.text, "a=bob@rcpt.example d=rcpt.example i=192.0.2.25 h=unknown c=SERVFAIL over udp-tcp "
				    "e=helo.client.example 192.0.2.25");
	/* members left out come from the built-in reply of that check and outcome */
	f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_NULL_MX);
	d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 550, "5.7.27", "<alice@sender.example>: no mail from sender.example", "text-only");
	f.outcome = POLICY_OUTCOME_TEMPERROR;
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 450, "4.4.3",
			"<alice@sender.example>: Sender domain must resolve: temporary DNS failure (SERVFAIL over udp-tcp)",
			"code-only");
	f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_TEMPERROR);
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.7.0", "Client host rejected: temporary DNS failure looking up [192.0.2.25]",
			"xcode-only");
	f = facts(POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NULL_MX);
	d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 556, "5.1.10",
			"<bob@rcpt.example>: Recipient address rejected: Domain rcpt.example does not accept mail (null MX)",
			"no-reply");
	f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_PERMERROR);
	d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 550, "5.7.25", "Client host rejected: cannot find your reverse hostname, [192.0.2.25]",
			"empty-reply");
	/* an empty value in " (...)" goes with its parentheses; others stay */
	f = facts(POLICY_CHECK_HELO, POLICY_OUTCOME_TEMPERROR);
	f.cause = "";
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.7.1", "HELO helo.client.example (mx.client.example)", "cause-gone");
	f.helo = "";
	f.cause = "timeout";
	d = decide(p, &f);
	assert_string_equal(d.text, "HELO  (timeout) (mx.client.example)");
	policy_free(p);
}

/* A reject or tempfail with no built-in reply of its kind gets a generic one naming the rule. */
static void test_generic_replies(void **state)
{
	(void)state;
	struct policy *p = compile_ok("{\"version\": 1, \"rules\": [\n"
				      " {\"name\": \"no-ok-senders\", \"if\": {\"check\": \"sender\", \"outcome\": \"ok\"}, \"then\": \"reject\"},\n"
				      " {\"name\": \"strict-helo\", \"if\": {\"check\": \"helo\", \"outcome\": \"mismatch\"}, \"then\": \"tempfail\"},\n"
				      " {\"name\": \"hard-dns\", \"if\": {\"check\": \"sender\", \"outcome\": \"temperror\"}, \"then\": \"reject\"},\n"
				      " {\"if\": {\"check\": \"recipient\", \"outcome\": \"nxdomain\"}, \"then\": \"tempfail\","
				      "  \"reply\": {\"text\": \"try {domain} later\"}}\n"
				      "]}");
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_OK);
	struct policy_decision d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 550, "5.7.1", "<alice@sender.example>: rejected by policy rule no-ok-senders",
			"no-ok-senders");
	/* the built-in reply of sender temperror is a 4xx: a reject cannot take it */
	f.outcome = POLICY_OUTCOME_TEMPERROR;
	d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 550, "5.7.1", "<alice@sender.example>: rejected by policy rule hard-dns", "hard-dns");
	f = facts(POLICY_CHECK_HELO, POLICY_OUTCOME_MISMATCH);
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.7.1", "<alice@sender.example>: temporarily rejected by policy rule strict-helo",
			"strict-helo");
	f.sender_address = "";
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.7.1", "Client host [192.0.2.25]: temporarily rejected by policy rule strict-helo",
			"strict-helo");
	f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_OK);
	f.sender_address = NULL;
	d = decide(p, &f);
	assert_string_equal(d.text, "Client host [192.0.2.25]: rejected by policy rule no-ok-senders");
	f = facts(POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN);
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.7.1", "try rcpt.example later", "rule-4");
	policy_free(p);
}

/* Actions other than reject and tempfail carry no reply, whatever the rule's check. */
static void test_actions_without_reply(void **state)
{
	(void)state;
	static const char *const actions[] = {"accept", "tag", "quarantine", "divert", "log-only"};
	static const enum policy_action values[] = {POLICY_ACCEPT, POLICY_TAG, POLICY_QUARANTINE, POLICY_DIVERT,
						    POLICY_LOG_ONLY};
	for (size_t i = 0; i < 5; i++) {
		char text[200];
		snprintf(text, sizeof(text), "{\"version\": 1, \"rules\": [{\"name\": \"n%zu\", \"then\": \"%s\"}]}", i, actions[i]);
		struct policy *p = compile_ok(text);
		struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN);
		struct policy_decision d = decide(p, &f);
		char name[8];
		snprintf(name, sizeof(name), "n%zu", i);
		assert_decision(&d, values[i], 0, "", "", name);
		policy_free(p);
	}
}

static void test_dry_run(void **state)
{
	(void)state;
	struct policy *p = compile_ok("{\"version\": 1, \"dry_run\": true, \"rules\": [\n"
				      " {\"name\": \"strict\", \"if\": {\"check\": \"client\", \"outcome\": \"fail\"}, \"then\": \"reject\"}]}");
	struct policy_facts f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_FAIL);
	struct policy_decision d = decide(p, &f);
	/* the decision is what would happen; dry_run tells the caller to log it and accept */
	assert_true(d.dry_run);
	assert_decision(&d, POLICY_REJECT, 550, "5.7.1", "<alice@sender.example>: rejected by policy rule strict", "strict");
	f.outcome = POLICY_OUTCOME_PERMERROR;
	d = decide(p, &f);
	assert_true(d.dry_run);
	assert_decision(&d, POLICY_REJECT, 550, "5.7.25", "Client host rejected: cannot find your reverse hostname, [192.0.2.25]",
			"default");
	f.outcome = POLICY_OUTCOME_PASS;
	d = decide(p, &f);
	assert_true(d.dry_run);
	assert_int_equal(d.action, POLICY_ACCEPT);
	policy_free(p);
	p = compile_ok("{\"version\": 1, \"dry_run\": false}");
	d = decide(p, &f);
	assert_false(d.dry_run);
	policy_free(p);
}

/* Client-supplied text never puts CR/LF or 8-bit bytes in a reply, and a reply stays in bounds. */
static void test_reply_text_safety(void **state)
{
	(void)state;
	struct policy *p = compile_ok("{\"version\": 1, \"rules\": [\n"
				      " {\"name\": \"echo\", \"if\": {\"check\": \"helo\"}, \"then\": \"reject\","
				      "  \"reply\": {\"text\": \"[{helo}] [{address}] {helo}{helo}{helo}{helo}{helo}\"}}]}");
	struct policy_facts f = facts(POLICY_CHECK_HELO, POLICY_OUTCOME_UNRESOLVABLE);
	f.helo = "a\r\nb\tc\x7f" "d\xc3\xa9";
	f.sender_address = "x\ny@sender.example";
	struct policy_decision d = decide(p, &f);
	assert_string_equal(d.text, "[a  b c d??] [x y@sender.example] a  b c d??a  b c d??a  b c d??a  b c d??a  b c d??");

	/* a long HELO: the text is cut at the buffer, and says so */
	static char helo[1000];
	memset(helo, 'h', sizeof(helo) - 1);
	f.helo = helo;
	d = decide(p, &f);
	assert_int_equal(strlen(d.text), sizeof(d.text) - 1);
	assert_memory_equal(d.text, "[hhh", 4);
	assert_string_equal(d.text + sizeof(d.text) - 4, "...");
	for (size_t i = 1; i < sizeof(d.text) - 4; i++)
		assert_int_equal(d.text[i], 'h');
	/* exactly filling the buffer is not a cut */
	memset(helo, 0, sizeof(helo));
	policy_free(p);
	p = compile_ok("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"reply\": {\"text\": \"{helo}\"}}]}");
	memset(helo, 'h', sizeof(d.text) - 1);
	d = decide(p, &f);
	assert_int_equal(strlen(d.text), sizeof(d.text) - 1);
	assert_int_equal(d.text[sizeof(d.text) - 2], 'h');
	helo[sizeof(d.text) - 1] = 'h';
	d = decide(p, &f);
	assert_string_equal(d.text + sizeof(d.text) - 4, "...");
	policy_free(p);
}

/* The sample policy means what its comments say. */
static void test_sample_policy_decisions(void **state)
{
	(void)state;
	struct policy *p = compile_sample();
	assert_false(policy_dry_run(p));

	/* mail to postmaster gets through a sender that does not resolve, and a client without PTR */
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN);
	f.recipient = "Postmaster@rcpt.example";
	struct policy_decision d = decide(p, &f);
	assert_int_equal(d.action, POLICY_ACCEPT);
	assert_string_equal(d.rule, "postmaster-always");
	f.check = POLICY_CHECK_CLIENT;
	f.outcome = POLICY_OUTCOME_PERMERROR;
	d = decide(p, &f);
	assert_int_equal(d.action, POLICY_ACCEPT);
	/* to anyone else, the defaults */
	f.recipient = "bob@rcpt.example";
	d = decide(p, &f);
	assert_int_equal(d.action, POLICY_REJECT);
	assert_string_equal(d.rule, "default");
	/* authenticated submission skips the client checks */
	f.daemon = "ORIGINATING";
	f.authenticated = true;
	f.outbound = true;
	d = decide(p, &f);
	assert_int_equal(d.action, POLICY_ACCEPT);
	assert_string_equal(d.rule, "submission-authenticated");
	/* but not the recipient check */
	f.check = POLICY_CHECK_RECIPIENT;
	f.outcome = POLICY_OUTCOME_NULL_MX;
	d = decide(p, &f);
	assert_int_equal(d.action, POLICY_REJECT);
	assert_int_equal(d.code, 556);
	/* a partner's clients without reverse DNS are accepted, its new domains retried */
	struct netaddr partner;
	assert_true(netaddr_parse("198.51.100.7", &partner));
	f = facts(POLICY_CHECK_CLIENT, POLICY_OUTCOME_PERMERROR);
	f.client = &partner;
	f.client_ip_text = "198.51.100.7";
	d = decide(p, &f);
	assert_decision(&d, POLICY_ACCEPT, 0, "", "", "partner-broken-rdns");
	f.check = POLICY_CHECK_SENDER;
	f.outcome = POLICY_OUTCOME_NXDOMAIN;
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.7.1",
			"<alice@sender.example>: Domain sender.example not found; if it is new, try again later",
			"partner-new-domains");
	/* the sample's own reply for sender DNS trouble is the built-in one */
	f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_TEMPERROR);
	d = decide(p, &f);
	struct policy_decision builtin = decide(NULL, &f);
	assert_decision(&d, builtin.action, builtin.code, builtin.xcode, builtin.text, "sender-dns-trouble");
	f.cause = "";
	d = decide(p, &f);
	builtin = decide(NULL, &f);
	assert_string_equal(d.text, builtin.text);
	/* a sender address dnsguard cannot parse is left to the built-in accept */
	f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_SYNTAX);
	d = decide(p, &f);
	assert_decision(&d, POLICY_ACCEPT, 0, "", "", "default");
	/* the sample's outbound networks are documentation prefixes, apart from the test clients' */
	struct netaddr a;
	assert_true(netaddr_parse("192.0.2.77", &a));
	assert_true(policy_client_outbound(p, &a));
	assert_true(netaddr_parse("2001:db8:1::5", &a));
	assert_true(policy_client_outbound(p, &a));
	assert_true(netaddr_parse("198.51.100.1", &a));
	assert_false(policy_client_outbound(p, &a));
	assert_false(policy_client_outbound(p, &client_v6));
	assert_true(netaddr_parse("127.0.0.10", &a));
	assert_false(policy_client_outbound(p, &a));
	assert_false(policy_client_trusted(p, &a));
	policy_free(p);
}

/*
 * A sender address the MTA accepted but dnsguard cannot parse: accepted by default (with a
 * decision for the caller to log), and a rule may refuse it; no other check has the outcome.
 */
static void test_sender_syntax(void **state)
{
	(void)state;
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_SYNTAX);
	f.sender_address = "alice@@sender.example";
	f.sender_domain = "";
	struct policy_decision d = decide(NULL, &f);
	assert_decision(&d, POLICY_ACCEPT, 0, "", "", "default");

	struct policy *p = compile_ok("{\"version\": 1, \"rules\": [\n"
				      " {\"name\": \"sender-syntax\", \"if\": {\"check\": \"sender\", \"outcome\": \"syntax\","
				      "  \"daemon\": \"smtpd\"}, \"then\": \"reject\", \"reply\": {\"code\": \"550\", \"xcode\": \"5.1.7\","
				      "  \"text\": \"<{address}>: Sender address rejected: bad address syntax\"}},\n"
				      " {\"name\": \"syntax-plain\", \"if\": {\"outcome\": \"syntax\", \"daemon\": \"plain\"},"
				      "  \"then\": \"reject\"},\n"
				      " {\"name\": \"syntax-later\", \"if\": {\"check\": [\"sender\", \"recipient\"], \"outcome\": \"syntax\"},"
				      "  \"then\": \"tempfail\"}\n"
				      "]}");
	d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 550, "5.1.7", "<alice@@sender.example>: Sender address rejected: bad address syntax",
			"sender-syntax");
	/* the built-in reply is an accept, so a reject without a reply takes the generic one */
	f.daemon = "plain";
	d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 550, "5.7.1", "<alice@@sender.example>: rejected by policy rule syntax-plain",
			"syntax-plain");
	f.daemon = "other";
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.7.1",
			"<alice@@sender.example>: temporarily rejected by policy rule syntax-later", "syntax-later");
	/* the sender's other outcomes are untouched */
	f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_OK);
	d = decide(p, &f);
	assert_decision(&d, POLICY_ACCEPT, 0, "", "", "default");
	/* a recipient said to have it is a caller's bug: undecided, and no syntax rule matches */
	f = facts(POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_SYNTAX);
	d = decide(p, &f);
	assert_decision(&d, POLICY_TEMPFAIL, 451, "4.3.0", "<bob@rcpt.example>: temporary internal error, try again later",
			"default");
	policy_free(p);

	/* no other check has the outcome, so a rule that says so would never match */
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"if\": {\"check\": \"client\", \"outcome\": \"syntax\"}}]}",
		     "p.json:1:71: rules[0].if.outcome: outcome 'syntax' never happens in a client check (expected one "
		     "of: temperror, pass, fail, permerror, undecided)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"if\": {\"check\": \"helo\", \"outcome\": \"syntax\"}}]}",
		     "p.json:1:69: rules[0].if.outcome: outcome 'syntax' never happens in a helo check (expected one "
		     "of: ok, temperror, unresolvable, mismatch, undecided)");
	expect_error("{\"version\": 1, \"rules\": [{\"then\": \"reject\", \"if\": {\"check\": \"recipient\",\n"
		     " \"outcome\": [\"nxdomain\", \"syntax\"]}}]}",
		     "p.json:2:26: rules[0].if.outcome[1]: outcome 'syntax' never happens in a recipient check (expected "
		     "one of: ok, nxdomain, no-address, null-mx, mx-unresolvable, loopback, temperror, bogus, undecided)");
}

/* ---- size: compiling stays n log n in the number of rules ---------------------------------- */

#define MANY_RULES 100000
/*
 * How long they take is reported, never asserted (a unit test is no benchmark: a busy machine
 * under ASan took 7.75 s).  Measured on a 2-core VM: about 0.6 s with gcc -O2 and 1.3 s under
 * ASan, most of it in jansson; when every rule's name was compared with every earlier one's,
 * 100,000 rules took 25 s with gcc -O2 and 54 s under ASan, which a reader of the TAP output sees.
 */

/* Long names with a long common prefix, as generated policies have: the costliest to compare. */
#define MANY_RULES_NAME "partner-relay-sender-domain-exception-for-migrated-site-"

/*
 * A policy of `count` sender rules, rule i on line i + 2, named MANY_RULES_NAME and i in six
 * digits, with its own sender domain; the last rule is named `last_name` if given.  The caller
 * frees the text.
 */
static char *many_rules_text(size_t count, const char *last_name, size_t *len)
{
	size_t size = 64 + count * 160, used = 0;
	char *text = malloc(size);
	assert_non_null(text);
	used += (size_t)snprintf(text, size, "{\"version\": 1, \"rules\": [\n");
	for (size_t i = 0; i < count; i++) {
		char name[80];
		if (i + 1 == count && last_name)
			snprintf(name, sizeof(name), "%s", last_name);
		else
			snprintf(name, sizeof(name), MANY_RULES_NAME "%06zu", i);
		used += (size_t)snprintf(text + used, size - used,
					 "  {\"name\": \"%s\", \"if\": {\"check\": \"sender\", \"sender_domain\": "
					 "\"d%zu.example\"}, \"then\": \"reject\"}%s\n",
					 name, i, i + 1 < count ? "," : "");
		assert_true(used < size);
	}
	used += (size_t)snprintf(text + used, size - used, "]}\n");
	assert_true(used < size);
	*len = used;
	return text;
}

static struct policy *compile_timed(const char *text, size_t len, double *seconds)
{
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	err[0] = '\0';
	struct policy *p = policy_compile(text, len, "p.json", err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &end);
	*seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
	return p;
}

/* 100,000 rules compile in well under the bound, so -n and reload never stall on a big policy. */
static void test_many_rules(void **state)
{
	(void)state;
	size_t len;
	double seconds;
	char *text = many_rules_text(MANY_RULES, NULL, &len);
	struct policy *p = compile_timed(text, len, &seconds);
	free(text);
	if (!p)
		fail_msg("%s", err);
	print_message("# %d rules compiled in %.2f s\n", MANY_RULES, seconds);
	assert_int_equal(policy_rule_count(p), MANY_RULES);
	assert_string_equal(policy_rule_name(p, MANY_RULES - 1), MANY_RULES_NAME "099999");
	/* and they all mean what they say: the last rule decides for its own domain only */
	struct policy_facts f = facts(POLICY_CHECK_SENDER, POLICY_OUTCOME_OK);
	f.sender_domain = "d99999.example";
	struct policy_decision d = decide(p, &f);
	assert_decision(&d, POLICY_REJECT, 550, "5.7.1",
			"<alice@sender.example>: rejected by policy rule " MANY_RULES_NAME "099999", MANY_RULES_NAME "099999");
	f.sender_domain = "d100000.example";
	d = decide(p, &f);
	assert_decision(&d, POLICY_ACCEPT, 0, "", "", "default");
	policy_free(p);
}

/* A duplicate name found among 100,000 rules is reported as precisely as among two. */
static void test_many_rules_duplicate_name(void **state)
{
	(void)state;
	size_t len;
	double seconds;
	char *text = many_rules_text(MANY_RULES, MANY_RULES_NAME "004242", &len);
	struct policy *p = compile_timed(text, len, &seconds);
	free(text);
	if (p) {
		policy_free(p);
		fail_msg("compiled, expected a duplicate name");
	}
	assert_string_equal(err, "p.json:100001:4: rules[99999].name: rule name '" MANY_RULES_NAME "004242' is already "
				 "used by rules[4242]");
	print_message("# %d rules refused in %.2f s\n", MANY_RULES, seconds);
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
		cmocka_unit_test(test_condition_errors),
		cmocka_unit_test(test_name_and_reply_errors),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_defaults_edge_cases),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_condition_check_outcome),
		cmocka_unit_test(test_condition_client_network),
		cmocka_unit_test(test_condition_client_hostname),
		cmocka_unit_test(test_condition_sender_domain),
		cmocka_unit_test(test_condition_recipient),
		cmocka_unit_test(test_condition_flags_and_daemon),
		cmocka_unit_test(test_custom_replies),
		cmocka_unit_test(test_generic_replies),
		cmocka_unit_test(test_actions_without_reply),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_reply_text_safety),
		cmocka_unit_test(test_sample_policy_decisions),
		cmocka_unit_test(test_sender_syntax),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_many_rules_duplicate_name),
	};
	return cmocka_run_group_tests(tests, setup_clients, NULL);
}
