/*
 * Unit tests for the routes of the policy: the compiler (good routes and what they compile to,
 * every error with its line:column, duplicates naming both places) and policy_route_find (both
 * MTAs' query orders ending at the same route, case, final dots, Unicode, garbage keys, and
 * 10,000 routes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "unit_policy.h"
#include "textfile.h"

/* One route to a.example with the hosts given as JSON text, which must fail with `why`. */
static void expect_host_error(const char *host_json, unsigned column, const char *host, const char *why)
{
	char text[512], message[1024];
	snprintf(text, sizeof(text), "{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\", \"hosts\": %s}]}",
		 host_json);
	snprintf(message, sizeof(message),
		 "p.json:2:%u: routes[0].hosts[0]: '%s' is not a smart host: %s (expected an address in brackets or "
		 "a host name, each with an optional port: [192.0.2.25], [2001:db8::25]:2525, smarthost.example.net:587)",
		 column, host, why);
	expect_error(text, message);
}

static void expect_destination_error(const char *destination, const char *why)
{
	char text[512], message[1024];
	snprintf(text, sizeof(text), "{\"version\": 1, \"routes\": [\n {\"destination\": \"%s\", \"hosts\": \"x.example\"}]}",
		 destination);
	snprintf(message, sizeof(message),
		 "p.json:2:3: routes[0].destination: '%s' is not a destination%s (expected a domain such as "
		 "example.com, an address such as user@example.com, or \"*\")",
		 destination, why);
	expect_error(text, message);
}

static void assert_host_address(const struct policy_route_host *h, const char *address, unsigned port)
{
	struct netaddr want;
	assert_int_equal(h->kind, POLICY_ROUTE_ADDRESS);
	assert_true(netaddr_parse(address, &want));
	assert_true(netaddr_equal(&h->address, &want));
	assert_null(h->name);
	assert_int_equal(h->port, port);
}

static void assert_host_name(const struct policy_route_host *h, const char *name, unsigned port)
{
	assert_int_equal(h->kind, POLICY_ROUTE_NAME);
	assert_string_equal(h->name, name);
	assert_int_equal(h->port, port);
}

/* ---- the compiler -------------------------------------------------------------------------- */

static void test_routes_compile(void **state)
{
	(void)state;
	struct policy *p = compile_ok(
		"{\"version\": 1, \"routes\": [\n"
		" {\"name\": \"partner\", \"comment\": [\"two\", \"lines\"], \"destination\": \"Partner.EXAMPLE.\",\n"
		"  \"subdomains\": true,\n"
		"  \"hosts\": [\"[192.0.2.25]\", \"[2001:DB8::25]:2525\", \"SmartHost.Example.NET.:587\",\n"
		"            \"[IPv6:2001:db8::26]\", \"[::ffff:192.0.2.26]:25\", \"relay\"]},\n"
		" {\"comment\": \"one\", \"destination\": \"Alice+Tag@B\\u00fccher.example\", \"hosts\": \"[192.0.2.1]\"},\n"
		" {\"destination\": \"only.example\", \"subdomains\": false, \"hosts\": [\"mx.only.example:0025\"]},\n"
		" {\"destination\": \"*\", \"hosts\": [\"fallback.example\"]}]}");
	const struct policy_route *r;

	assert_int_equal(policy_rule_count(p), 0);
	assert_int_equal(policy_route_count(p), 4);
	assert_null(policy_route_at(p, 4));

	r = policy_route_at(p, 0);
	assert_string_equal(r->name, "partner");
	assert_string_equal(r->destination, "partner.example");
	assert_true(r->subdomains);
	assert_int_equal(r->host_count, 6);
	assert_host_address(&r->hosts[0], "192.0.2.25", 0);
	assert_host_address(&r->hosts[1], "2001:db8::25", 2525);
	assert_host_name(&r->hosts[2], "smarthost.example.net", 587);
	assert_host_address(&r->hosts[3], "2001:db8::26", 0);
	assert_host_address(&r->hosts[4], "192.0.2.26", 25);
	assert_host_name(&r->hosts[5], "relay", 0);

	/* an address is lower case as a whole (transport(5)), its domain in A-label form */
	r = policy_route_at(p, 1);
	assert_string_equal(r->destination, "alice+tag@xn--bcher-kva.example");
	assert_string_equal(r->name, "alice+tag@xn--bcher-kva.example");
	assert_false(r->subdomains);
	assert_int_equal(r->host_count, 1);
	assert_host_address(&r->hosts[0], "192.0.2.1", 0);

	r = policy_route_at(p, 2);
	assert_string_equal(r->name, "only.example");
	assert_false(r->subdomains);
	assert_host_name(&r->hosts[0], "mx.only.example", 25);

	r = policy_route_at(p, 3);
	assert_string_equal(r->destination, "*");
	assert_string_equal(r->name, "*");
	assert_false(r->subdomains);
	policy_free(p);

	/* a domain covers its subdomains unless told otherwise; no routes at all is fine */
	p = compile_ok("{\"version\": 1, \"routes\": [{\"destination\": \"b\\u00fccher.example\", \"hosts\": \"x\"}]}");
	assert_string_equal(policy_route_at(p, 0)->destination, "xn--bcher-kva.example");
	assert_true(policy_route_at(p, 0)->subdomains);
	policy_free(p);
	p = compile_ok("{\"version\": 1, \"routes\": []}");
	assert_int_equal(policy_route_count(p), 0);
	assert_null(policy_route_find(p, "*"));
	policy_free(p);
	p = compile_ok("{\"version\": 1}");
	assert_int_equal(policy_route_count(p), 0);
	assert_null(policy_route_find(p, "user@example.com"));
	policy_free(p);
	assert_int_equal(policy_route_count(NULL), 0);
	assert_null(policy_route_at(NULL, 0));
	assert_null(policy_route_find(NULL, "*"));
}

/* Every host that is not one, at its own line:column, with what was expected. */
static void test_route_host_errors(void **state)
{
	(void)state;
	const char *port = "the port is not a number from 1 to 65535";
	const char *not_name = "not a host name (letters, digits and '-', labels of 1 to 63 characters, at most 253 in all)";
	const char *not_literal = "not an IPv4 or IPv6 address in brackets";

	expect_host_error("[\"[192.0.2.25]:0\"]", 41, "[192.0.2.25]:0", port);
	expect_host_error("[\"[192.0.2.25]:65536\"]", 41, "[192.0.2.25]:65536", port);
	expect_host_error("[\"[2001:db8::25]:99999\"]", 41, "[2001:db8::25]:99999", port);
	expect_host_error("[\"[2001:db8::25]:\"]", 41, "[2001:db8::25]:", port);
	expect_host_error("[\"smarthost.example:x\"]", 41, "smarthost.example:x", port);
	expect_host_error("[\"smarthost.example:-25\"]", 41, "smarthost.example:-25", port);
	expect_host_error("[\"smarthost.example:000025\"]", 41, "smarthost.example:000025", port);
	expect_host_error("[\"2001:db8::25\"]", 41, "2001:db8::25",
			  "an IPv6 address needs brackets: [address] or [address]:port");
	expect_host_error("[\"192.0.2.25:25\"]", 41, "192.0.2.25:25",
			  "an address needs brackets: [address] or [address]:port");
	expect_host_error("[\"[192.0.2.25\"]", 41, "[192.0.2.25", "no closing ']'");
	expect_host_error("[\"[192.0.2.25]25\"]", 41, "[192.0.2.25]25", "text after ']' that is not a :port");
	expect_host_error("[\"[192.0.2.256]\"]", 41, "[192.0.2.256]", not_literal);
	expect_host_error("[\"[]\"]", 41, "[]", not_literal);
	expect_host_error("[\"[smarthost.example]\"]", 41, "[smarthost.example]", not_literal);
	expect_host_error("[\"[IPv6:192.0.2.25]\"]", 41, "[IPv6:192.0.2.25]", not_literal);
	expect_host_error("[\"[fe80::1%eth0]\"]", 41, "[fe80::1%eth0]", not_literal);
	expect_host_error("[\"smart host.example\"]", 41, "smart host.example", not_name);
	expect_host_error("[\"smarthost..example\"]", 41, "smarthost..example", not_name);
	expect_host_error("[\"smarthost.example..\"]", 41, "smarthost.example..", not_name);
	expect_host_error("[\"\"]", 41, "", not_name);
	expect_host_error("[\"10.1\"]", 41, "10.1", not_name);
	expect_host_error("[\"a.b.c.123\"]", 41, "a.b.c.123", not_name);
	expect_host_error("[\"" "a123456789a123456789a123456789a123456789a123456789a123456789abcd.example\"]", 41,
			  "a123456789a123456789a123456789a123456789a123456789a123456789abcd.example", not_name);
	/* a plain string is a list of one; the error is then at the member */
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\", \"hosts\": \"[192.0.2.25]:0\"}]}",
		     "p.json:2:31: routes[0].hosts: '[192.0.2.25]:0' is not a smart host: the port is not a number from 1 "
		     "to 65535 (expected an address in brackets or a host name, each with an optional port: "
		     "[192.0.2.25], [2001:db8::25]:2525, smarthost.example.net:587)");
	/* the second entry, at its own column */
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\", \"hosts\": [\"[192.0.2.25]\",\n"
		     "   \"[2001:db8::25]:2525x\"]}]}",
		     "p.json:3:4: routes[0].hosts[1]: '[2001:db8::25]:2525x' is not a smart host: the port is not a "
		     "number from 1 to 65535 (expected an address in brackets or a host name, each with an optional "
		     "port: [192.0.2.25], [2001:db8::25]:2525, smarthost.example.net:587)");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\", \"hosts\": []}]}",
		     "p.json:2:31: routes[0].hosts: expected 1 to 16 smart hosts, tried in order");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\", \"hosts\": [\"a\", \"b\", \"c\", "
		     "\"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", \"k\", \"l\", \"m\", \"n\", \"o\", \"p\", \"q\"]}]}",
		     "p.json:2:31: routes[0].hosts: expected 1 to 16 smart hosts, tried in order");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\", \"hosts\": [1]}]}",
		     "p.json:2:41: routes[0].hosts[0]: expected a string");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\",\n"
		     "  \"hosts\": [\"Relay.example:25\", \"[192.0.2.1]\", \"relay.example.:25\"]}]}",
		     "p.json:3:48: routes[0].hosts[2]: 'relay.example.:25' is already hosts[0]");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\",\n"
		     "  \"hosts\": [\"[2001:db8::1]\", \"[IPv6:2001:DB8:0::1]\"]}]}",
		     "p.json:3:30: routes[0].hosts[1]: '[IPv6:2001:DB8:0::1]' is already hosts[0]");
	/* the same host on another port is another host */
	policy_free(compile_ok("{\"version\": 1, \"routes\": [{\"destination\": \"a.example\","
			       " \"hosts\": [\"[192.0.2.1]\", \"[192.0.2.1]:2525\", \"relay:25\", \"relay:587\"]}]}"));
	/* the longest host name there is: 253 octets, a final dot not counted */
	char l63[64], l61[62], text[600];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l61, 'b', 61);
	l61[61] = '\0';
	snprintf(text, sizeof(text), "{\"version\": 1, \"routes\": [{\"destination\": \"a.example\", "
		 "\"hosts\": \"%s.%s.%s.%s.:25\"}]}", l63, l63, l63, l61);
	struct policy *p = compile_ok(text);
	assert_int_equal(strlen(policy_route_at(p, 0)->hosts[0].name), 253);
	assert_int_equal(policy_route_at(p, 0)->hosts[0].port, 25);
	policy_free(p);
	snprintf(text, sizeof(text), "{\"version\": 1, \"routes\": [{\"destination\": \"a.example\", "
		 "\"hosts\": \"%s.%s.%s.%sb\"}]}", l63, l63, l63, l61);
	assert_null(compile(text));
	assert_non_null(strstr(err, "is not a smart host: not a host name"));
}

static void test_route_destination_errors(void **state)
{
	(void)state;
	expect_destination_error(".a.example",
				 " (write the domain without the dot: \"subdomains\" says whether the names under it are routed)");
	expect_destination_error("*.a.example",
				 " (no wildcards: a domain covers the names under it unless \"subdomains\" is false)");
	expect_destination_error("user@[192.0.2.1]",
				 " (an address literal cannot be routed: the default route \"*\" covers it)");
	expect_destination_error("192.0.2.1", " (a destination is a domain name, not an address)");
	expect_destination_error("a b", "");
	expect_destination_error("", "");
	expect_destination_error("@a.example", "");
	expect_destination_error("user@", "");
	expect_destination_error("us er@a.example", "");
	expect_destination_error("a..example", "");
	expect_destination_error("**", " (no wildcards: a domain covers the names under it unless \"subdomains\" is false)");
	expect_destination_error("xn--a\xc3\xbc.example", "");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": 7, \"hosts\": \"x\"}]}",
		     "p.json:2:3: routes[0].destination: expected a string");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"*\", \"subdomains\": false, \"hosts\": \"x\"}]}",
		     "p.json:2:23: routes[0].subdomains: \"subdomains\" goes only with a domain destination");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"u@a.example\", \"subdomains\": true, \"hosts\": \"x\"}]}",
		     "p.json:2:33: routes[0].subdomains: \"subdomains\" goes only with a domain destination");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\", \"subdomains\": \"no\", \"hosts\": \"x\"}]}",
		     "p.json:2:31: routes[0].subdomains: expected true or false");
}

static void test_route_schema_errors(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"routes\": {}}", "p.json:1:16: routes: expected an array of routes");
	expect_error("{\"version\": 1, \"routes\": [\n \"a.example\"]}",
		     "p.json:2:2: routes[0]: expected a route object {\"destination\": ..., \"hosts\": [...]}");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\", \"hosts\": \"x\",\n  \"via\": \"y\"}]}",
		     "p.json:3:3: routes[0].via: unknown member 'via' (expected one of: name, comment, destination, "
		     "subdomains, hosts)");
	expect_error("{\"version\": 1, \"routes\": [\n {\"hosts\": \"x\"}]}",
		     "p.json:2:2: routes[0]: missing member \"destination\" (expected a domain such as example.com, an "
		     "address such as user@example.com, or \"*\")");
	expect_error("{\"version\": 1, \"routes\": [\n {\"destination\": \"a.example\"}]}",
		     "p.json:2:2: routes[0]: missing member \"hosts\" (the smart hosts, tried in order: "
		     "[\"[192.0.2.25]\", \"smarthost.example.net:587\"])");
	expect_error("{\"version\": 1, \"routes\": [\n {\"name\": \"has space\", \"destination\": \"a.example\", \"hosts\": \"x\"}]}",
		     "p.json:2:3: routes[0].name: a route name is 1-64 printable ASCII characters without spaces, "
		     "quotes or '='");
	expect_error("{\"version\": 1, \"routes\": [\n {\"comment\": 1, \"destination\": \"a.example\", \"hosts\": \"x\"}]}",
		     "p.json:2:3: routes[0].comment: expected a string or an array of strings");
}

/* A duplicate, however written, names both places. */
static void test_route_duplicates(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"routes\": [\n"
		     " {\"destination\": \"a.example\", \"hosts\": \"x\"},\n"
		     " {\"destination\": \"b.example\", \"hosts\": \"x\"},\n"
		     " {\"destination\": \"A.Example.\", \"subdomains\": false, \"hosts\": \"y\"}]}",
		     "p.json:4:3: routes[2].destination: destination 'a.example' is already routed by routes[0] "
		     "(p.json:2:3)");
	expect_error("{\"version\": 1, \"routes\": [\n"
		     " {\"destination\": \"xn--bcher-kva.example\", \"hosts\": \"x\"},\n"
		     "     {\"destination\": \"B\\u00fccher.example\", \"hosts\": \"y\"}]}",
		     "p.json:3:7: routes[1].destination: destination 'xn--bcher-kva.example' is already routed by "
		     "routes[0] (p.json:2:3)");
	expect_error("{\"version\": 1, \"routes\": [\n"
		     " {\"destination\": \"User@A.example\", \"hosts\": \"x\"},\n"
		     " {\"destination\": \"user@a.example.\", \"hosts\": \"y\"}]}",
		     "p.json:3:3: routes[1].destination: destination 'user@a.example' is already routed by routes[0] "
		     "(p.json:2:3)");
	expect_error("{\"version\": 1, \"routes\": [\n"
		     " {\"destination\": \"*\", \"hosts\": \"x\"},\n"
		     " {\"name\": \"again\", \"destination\": \"*\", \"hosts\": \"y\"}]}",
		     "p.json:3:20: routes[1].destination: destination '*' is already routed by routes[0] (p.json:2:3)");
	expect_error("{\"version\": 1, \"routes\": [\n"
		     " {\"name\": \"p\", \"destination\": \"a.example\", \"hosts\": \"x\"},\n"
		     " {\"name\": \"p\", \"destination\": \"b.example\", \"hosts\": \"y\"}]}",
		     "p.json:3:3: routes[1].name: route name 'p' is already used by routes[0] (p.json:2:3)");
	/* a route without a name is named by its destination */
	expect_error("{\"version\": 1, \"routes\": [\n"
		     " {\"destination\": \"a.example\", \"hosts\": \"x\"},\n"
		     " {\"name\": \"a.example\", \"destination\": \"b.example\", \"hosts\": \"y\"}]}",
		     "p.json:3:3: routes[1].name: route name 'a.example' is already used by routes[0] (p.json:2:3)");
	expect_error("{\"version\": 1, \"routes\": [\n"
		     " {\"name\": \"a.example\", \"destination\": \"b.example\", \"hosts\": \"y\"},\n"
		     " {\"destination\": \"a.example\", \"hosts\": \"x\"}]}",
		     "p.json:3:3: routes[1].destination: route name 'a.example' is already used by routes[0] "
		     "(p.json:2:3)");
	/* a route's name and a rule's name live apart: the log says which one it is */
	policy_free(compile_ok("{\"version\": 1, \"rules\": [{\"name\": \"p\", \"then\": \"accept\"}],\n"
			       " \"routes\": [{\"name\": \"p\", \"destination\": \"a.example\", \"hosts\": \"x\"}]}"));
}

/* ---- finding the route for a key ----------------------------------------------------------- */

static const char *const routes_policy =
	"{\"version\": 1, \"routes\": [\n"
	" {\"name\": \"partner\", \"destination\": \"partner.example\", \"hosts\": \"[192.0.2.25]\"},\n"
	" {\"name\": \"partner-only\", \"destination\": \"only.partner.example\", \"subdomains\": false,"
	"  \"hosts\": \"[192.0.2.26]\"},\n"
	" {\"name\": \"exact\", \"destination\": \"exact.example\", \"subdomains\": false, \"hosts\": \"[192.0.2.27]\"},\n"
	" {\"name\": \"alice\", \"destination\": \"Alice@Exact.example\", \"hosts\": \"[192.0.2.28]\"},\n"
	" {\"name\": \"bob-tag\", \"destination\": \"bob+tag@exact.example\", \"hosts\": \"[192.0.2.29]\"},\n"
	" {\"name\": \"idn\", \"destination\": \"b\\u00fccher.example\", \"hosts\": \"[192.0.2.30]\"},\n"
	" {\"name\": \"tld\", \"destination\": \"test\", \"hosts\": \"[192.0.2.31]\"},\n"
	" {\"name\": \"all\", \"destination\": \"*\", \"hosts\": \"smarthost.example.net\"}]}";

static void expect_route(const struct policy *p, const char *key, const char *name)
{
	const struct policy_route *r = policy_route_find(p, key);
	if (!name && r)
		fail_msg("key '%s': route %s, expected none", key, r->name);
	if (name && !r)
		fail_msg("key '%s': no route, expected %s", key, name);
	if (name && strcmp(r->name, name) != 0)
		fail_msg("key '%s': route %s, expected %s", key, r->name, name);
}

/* Postfix asks with the whole address, and then "*". */
static void test_route_find_postfix(void **state)
{
	(void)state;
	struct policy *p = compile_ok(routes_policy);

	/* the address's own route, then without the +extension, then the domain, its parents, "*" */
	expect_route(p, "alice@exact.example", "alice");
	expect_route(p, "alice+news@exact.example", "alice");
	expect_route(p, "bob+tag@exact.example", "bob-tag");
	expect_route(p, "bob@exact.example", "exact");
	expect_route(p, "bob+other@exact.example", "exact");
	expect_route(p, "carol@exact.example", "exact");
	expect_route(p, "carol@sub.exact.example", "all");
	expect_route(p, "carol@partner.example", "partner");
	expect_route(p, "carol@mx.eu.partner.example", "partner");
	expect_route(p, "carol@only.partner.example", "partner-only");
	expect_route(p, "carol@sub.only.partner.example", "partner");
	expect_route(p, "carol@notpartner.example", "all");
	expect_route(p, "carol@example", "all");
	expect_route(p, "carol@host.test", "tld");
	expect_route(p, "*", "all");
	/* only the first '+' starts the extension, and a local part is not all extension */
	expect_route(p, "alice+a+b@exact.example", "alice");
	expect_route(p, "+alice@exact.example", "exact");
	/* the last '@' splits the address */
	expect_route(p, "\"x@y\"@partner.example", "partner");
	/* the whole key is folded, as Postfix transport(5) does; a final dot is ignored */
	expect_route(p, "ALICE@EXACT.EXAMPLE", "alice");
	expect_route(p, "Bob+Tag@Exact.Example.", "bob-tag");
	expect_route(p, "carol@PARTNER.example.", "partner");
	/* Unicode or A-label */
	expect_route(p, "carol@b\303\274cher.example", "idn");
	expect_route(p, "carol@mail.B\303\234CHER.example", "idn");
	expect_route(p, "carol@xn--bcher-kva.example", "idn");
	/* an address literal has only the default route */
	expect_route(p, "carol@[192.0.2.1]", "all");
	expect_route(p, "carol@[IPv6:2001:db8::1]", "all");
	policy_free(p);
}

/* Sendmail's mailertable asks host, .parent, ..., then ".": the same route at the end. */
static void test_route_find_sendmail(void **state)
{
	(void)state;
	struct policy *p = compile_ok(routes_policy);

	expect_route(p, "partner.example", "partner");
	expect_route(p, "mx.eu.partner.example", "partner");
	expect_route(p, ".eu.partner.example", "partner");
	expect_route(p, ".partner.example", "partner");
	expect_route(p, "only.partner.example", "partner-only");
	/* names under only.partner.example are not its route's: they fall to partner.example's */
	expect_route(p, "sub.only.partner.example", "partner");
	expect_route(p, ".only.partner.example", "partner");
	/* exact.example covers itself only: Sendmail walks on to "." */
	expect_route(p, "exact.example", "exact");
	expect_route(p, "sub.exact.example", NULL);
	expect_route(p, ".exact.example", NULL);
	expect_route(p, ".example", NULL);
	expect_route(p, "example", NULL);
	expect_route(p, ".test", "tld");
	expect_route(p, "test", "tld");
	expect_route(p, ".", "all");
	expect_route(p, "PARTNER.Example.", "partner");
	expect_route(p, ".Partner.Example.", "partner");
	expect_route(p, "b\303\274cher.example", "idn");
	expect_route(p, ".xn--bcher-kva.example", "idn");
	policy_free(p);

	/* without a default route, the end of Sendmail's walk and Postfix's "*" find nothing */
	p = compile_ok("{\"version\": 1, \"routes\": [{\"destination\": \"a.example\", \"hosts\": \"x\"}]}");
	expect_route(p, ".", NULL);
	expect_route(p, "*", NULL);
	expect_route(p, "user@b.example", NULL);
	expect_route(p, "user@[192.0.2.1]", NULL);
	expect_route(p, "user@a.example", "a.example");
	policy_free(p);
}

/* Both query orders end at the same route for every name. */
static void test_route_find_orders_agree(void **state)
{
	(void)state;
	struct policy *p = compile_ok(routes_policy);
	const char *domains[] = {"partner.example",	 "a.b.partner.example", "only.partner.example",
				 "x.only.partner.example", "exact.example",	"x.exact.example",
				 "example",		 "host.test",		"b\303\274cher.example",
				 "nowhere.invalid"};

	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		char address[300];
		const struct policy_route *sendmail = policy_route_find(p, domains[i]);
		/* Sendmail: host, then each ".parent", then "." */
		for (const char *dot = strchr(domains[i], '.'); !sendmail && dot; dot = strchr(dot + 1, '.'))
			sendmail = policy_route_find(p, dot);
		if (!sendmail)
			sendmail = policy_route_find(p, ".");
		/* Postfix: the address (carol has no route of her own), then "*" */
		snprintf(address, sizeof(address), "carol@%s", domains[i]);
		const struct policy_route *postfix = policy_route_find(p, address);
		if (!postfix)
			postfix = policy_route_find(p, "*");
		if (sendmail != postfix)
			fail_msg("%s: Sendmail ends at %s, Postfix at %s", domains[i], sendmail ? sendmail->name : "none",
				 postfix ? postfix->name : "none");
	}
	policy_free(p);
}

/* Keys that are no address or domain find nothing, and never crash. */
static void test_route_find_garbage(void **state)
{
	(void)state;
	struct policy *p = compile_ok(routes_policy);
	char big[1100];

	expect_route(p, NULL, NULL);
	expect_route(p, "", NULL);
	expect_route(p, " ", NULL);
	expect_route(p, "partner.example ", NULL);
	expect_route(p, "carol@partner.example\r\n", NULL);
	expect_route(p, "carol @partner.example", NULL);
	expect_route(p, "carol@part\tner.example", NULL);
	expect_route(p, "carol@partner.example\x7f", NULL);
	expect_route(p, "@partner.example", NULL);
	expect_route(p, "carol@", NULL);
	expect_route(p, "carol@.", NULL);
	expect_route(p, "carol@partner..example", NULL);
	expect_route(p, "carol@[192.0.2.1", NULL);
	expect_route(p, "carol@[192.0.2.1]x", NULL);
	expect_route(p, "..", NULL);
	expect_route(p, "..partner.example", NULL);
	expect_route(p, "partner.example..", NULL);
	expect_route(p, "**", NULL);
	expect_route(p, "*.partner.example", NULL);
	expect_route(p, "\xff\xfe.example", NULL);
	expect_route(p, "carol@\xc3.example", NULL);
	/* a name of 253 octets is one, of 254 not; a label of 63 octets is one, of 64 not */
	char l63[64], l61[62];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l61, 'b', 61);
	l61[61] = '\0';
	snprintf(big, sizeof(big), "carol@%s.%s.%s.%s", l63, l63, l63, l61);
	expect_route(p, big, "all");
	snprintf(big, sizeof(big), "carol@%s.%s.%s.%sb", l63, l63, l63, l61);
	expect_route(p, big, NULL);
	snprintf(big, sizeof(big), "carol@%s.test", l63);
	expect_route(p, big, "tld");
	snprintf(big, sizeof(big), "carol@%sa.test", l63);
	expect_route(p, big, NULL);
	/* a local part of any length, up to the key's bound of 1000 octets */
	memset(big, 'a', sizeof(big));
	memcpy(big + 1000 - 10, "@host.test", 11);
	expect_route(p, big, "tld");
	memset(big, 'a', sizeof(big));
	memcpy(big + 1001 - 10, "@host.test", 11);
	expect_route(p, big, NULL);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	expect_route(p, big, NULL);
	policy_free(p);
}

/* The sample policy's route compiles and covers what its comment says, and nothing else. */
static void test_sample_policy_routes(void **state)
{
	(void)state;
	struct policy *p = compile_sample();
	assert_int_equal(policy_route_count(p), 1);
	const struct policy_route *r = policy_route_at(p, 0);
	assert_string_equal(r->destination, "partner.example");
	assert_int_equal(r->host_count, 2);
	assert_host_address(&r->hosts[0], "192.0.2.25", 0);
	assert_host_address(&r->hosts[1], "2001:db8::25", 2525);
	expect_route(p, "someone@mx.partner.example", r->name);
	expect_route(p, ".partner.example", r->name);
	/* never a default route in the sample: it would send everything to one host */
	expect_route(p, "*", NULL);
	expect_route(p, ".", NULL);
	expect_route(p, "someone@example.com", NULL);
	policy_free(p);
}

/* 10,000 routes: every one found, each through a hash probe per label, not a scan. */
static void test_many_routes(void **state)
{
	(void)state;
	enum { ROUTES = 10000 };
	size_t size = 64 + ROUTES * 120, used = 0;
	char *text = malloc(size), key[100];
	struct policy *p;

	assert_non_null(text);
	used += (size_t)snprintf(text, size, "{\"version\": 1, \"routes\": [\n");
	for (size_t i = 0; i < ROUTES; i++) {
		used += (size_t)snprintf(text + used, size - used,
					 " {\"destination\": \"d%zu.example\", \"subdomains\": %s, \"hosts\": "
					 "\"[192.0.%zu.%zu]:%zu\"},\n",
					 i, i % 2 ? "false" : "true", i / 250, i % 250 + 1, i % 65535 + 1);
		assert_true(used < size);
	}
	used += (size_t)snprintf(text + used, size - used, " {\"destination\": \"*\", \"hosts\": \"relay\"}]}\n");
	assert_true(used < size);
	p = policy_compile(text, used, "p.json", err, sizeof(err));
	free(text);
	if (!p)
		fail_msg("%s", err);
	assert_int_equal(policy_route_count(p), ROUTES + 1);
	for (size_t i = 0; i < ROUTES; i++) {
		const struct policy_route *r;
		snprintf(key, sizeof(key), "user+ext@d%zu.example", i);
		r = policy_route_find(p, key);
		assert_ptr_equal(r, policy_route_at(p, i));
		assert_int_equal(r->hosts[0].port, i % 65535 + 1);
		snprintf(key, sizeof(key), "mx.d%zu.example", i);
		assert_ptr_equal(policy_route_find(p, key), i % 2 ? NULL : policy_route_at(p, i));
		snprintf(key, sizeof(key), ".d%zu.example", i);
		assert_ptr_equal(policy_route_find(p, key), i % 2 ? NULL : policy_route_at(p, i));
	}
	expect_route(p, "user@d10000.example", "*");
	expect_route(p, "d10000.example", NULL);
	policy_free(p);

	/* and a duplicate among them is still named with both places */
	size = 64 + ROUTES * 80;
	used = 0;
	text = malloc(size);
	assert_non_null(text);
	used += (size_t)snprintf(text, size, "{\"version\": 1, \"routes\": [\n");
	for (size_t i = 0; i < ROUTES; i++)
		used += (size_t)snprintf(text + used, size - used, " {\"destination\": \"d%zu.example\", \"hosts\": \"x\"},\n", i);
	used += (size_t)snprintf(text + used, size - used, " {\"destination\": \"D4242.example.\", \"hosts\": \"x\"}]}\n");
	assert_true(used < size);
	p = policy_compile(text, used, "p.json", err, sizeof(err));
	free(text);
	assert_null(p);
	assert_string_equal(err, "p.json:10002:3: routes[10000].destination: destination 'd4242.example' is already routed "
				 "by routes[4242] (p.json:4244:3)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_compile),
		cmocka_unit_test(test_route_host_errors),
		cmocka_unit_test(test_route_destination_errors),
		cmocka_unit_test(test_route_schema_errors),
		cmocka_unit_test(test_route_duplicates),
		cmocka_unit_test(test_route_find_postfix),
		cmocka_unit_test(test_route_find_sendmail),
		cmocka_unit_test(test_route_find_orders_agree),
		cmocka_unit_test(test_route_find_garbage),
		cmocka_unit_test(test_sample_policy_routes),
		cmocka_unit_test(test_many_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
