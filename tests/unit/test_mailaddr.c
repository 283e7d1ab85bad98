/*
 * Unit tests for mailaddr: envelope addresses as libmilter hands them over, good and bad, their
 * length limits, and hostile input (every prefix of tricky strings, seeded random garbage and
 * mutations of good addresses) that must always give a defined result and never read or write
 * out of bounds (run under ASan/UBSan and valgrind to make that last part bite).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mailaddr.h"

struct good {
	const char *text;
	enum mailaddr_kind kind;
	const char *address;
	const char *local;
	const char *domain;
	const char *domain_utf8;
};

static const struct good goods[] = {
	/* the null sender, brackets and blanks */
	{"<>", MAILADDR_NULL, "", "", "", ""},
	{"  <>\t", MAILADDR_NULL, "", "", "", ""},
	{"<user@example.org>", MAILADDR_DOMAIN, "user@example.org", "user", "example.org", "example.org"},
	{"user@example.org", MAILADDR_DOMAIN, "user@example.org", "user", "example.org", "example.org"},
	{" \t<user@example.org> ", MAILADDR_DOMAIN, "user@example.org", "user", "example.org", "example.org"},
	/* case: folded in `domain` only */
	{"<User.Name+tag@Example.ORG>", MAILADDR_DOMAIN, "User.Name+tag@Example.ORG", "User.Name+tag", "example.org",
	 "Example.ORG"},
	/* a final dot goes */
	{"<user@example.org.>", MAILADDR_DOMAIN, "user@example.org", "user", "example.org", "example.org"},
	/* no domain: RCPT TO:<postmaster> */
	{"<postmaster>", MAILADDR_LOCAL_ONLY, "postmaster", "postmaster", "", ""},
	{"Postmaster", MAILADDR_LOCAL_ONLY, "Postmaster", "Postmaster", "", ""},
	{"<\"post master\">", MAILADDR_LOCAL_ONLY, "\"post master\"", "\"post master\"", "", ""},
	/* source routes are dropped */
	{"<@relay1,@relay2:user@example.org>", MAILADDR_DOMAIN, "user@example.org", "user", "example.org", "example.org"},
	{"<@relay.example:user@example.org>", MAILADDR_DOMAIN, "user@example.org", "user", "example.org", "example.org"},
	{"@relay.example:user@example.org", MAILADDR_DOMAIN, "user@example.org", "user", "example.org", "example.org"},
	{"<@[192.0.2.9]:user@example.org>", MAILADDR_DOMAIN, "user@example.org", "user", "example.org", "example.org"},
	{"<@relay:\"a:b\"@example.org>", MAILADDR_DOMAIN, "\"a:b\"@example.org", "\"a:b\"", "example.org", "example.org"},
	/* quoted local parts: the '@' (or '>') inside quotes is no separator */
	{"<\"john doe\"@example.org>", MAILADDR_DOMAIN, "\"john doe\"@example.org", "\"john doe\"", "example.org",
	 "example.org"},
	{"<\"a\\\"b@c\"@example.org>", MAILADDR_DOMAIN, "\"a\\\"b@c\"@example.org", "\"a\\\"b@c\"", "example.org",
	 "example.org"},
	{"\"a\\\"b@c\"@example.org", MAILADDR_DOMAIN, "\"a\\\"b@c\"@example.org", "\"a\\\"b@c\"", "example.org",
	 "example.org"},
	{"<\"a>b\"@example.org>", MAILADDR_DOMAIN, "\"a>b\"@example.org", "\"a>b\"", "example.org", "example.org"},
	{"<\"a\\\\\"@example.org>", MAILADDR_DOMAIN, "\"a\\\\\"@example.org", "\"a\\\\\"", "example.org", "example.org"},
	{"<\"\"@example.org>", MAILADDR_DOMAIN, "\"\"@example.org", "\"\"", "example.org", "example.org"},
	{"<\"@\"@example.org>", MAILADDR_DOMAIN, "\"@\"@example.org", "\"@\"", "example.org", "example.org"},
	/* unquoted local parts: all of atext, stray dots as seen in the wild, UTF-8 */
	{"<!#$%&'*+-/=?^_`{|}~@example.org>", MAILADDR_DOMAIN, "!#$%&'*+-/=?^_`{|}~@example.org",
	 "!#$%&'*+-/=?^_`{|}~", "example.org", "example.org"},
	{"<a..b.@example.org>", MAILADDR_DOMAIN, "a..b.@example.org", "a..b.", "example.org", "example.org"},
	{"<.a@example.org>", MAILADDR_DOMAIN, ".a@example.org", ".a", "example.org", "example.org"},
	{"<jörg@example.org>", MAILADDR_DOMAIN, "jörg@example.org", "jörg", "example.org", "example.org"},
	{"<\"jörg s\"@example.org>", MAILADDR_DOMAIN, "\"jörg s\"@example.org", "\"jörg s\"", "example.org",
	 "example.org"},
	/* internationalized domains, to A-labels */
	{"user@bücher.example", MAILADDR_DOMAIN, "user@bücher.example", "user", "xn--bcher-kva.example",
	 "bücher.example"},
	{"<user@ÄÖ.example>", MAILADDR_DOMAIN, "user@ÄÖ.example", "user", "xn--4ca0b.example", "ÄÖ.example"},
	{"<user@BÜCHER.Example.>", MAILADDR_DOMAIN, "user@BÜCHER.Example", "user", "xn--bcher-kva.example",
	 "BÜCHER.Example"},
	{"<用户@例子.广告>", MAILADDR_DOMAIN, "用户@例子.广告", "用户", "xn--fsqu00a.xn--4rr70v", "例子.广告"},
	/* non-transitional: ß stays ß */
	{"<user@faß.de>", MAILADDR_DOMAIN, "user@faß.de", "user", "xn--fa-hia.de", "faß.de"},
	/* only the transitional rules take emoji: the fallback */
	{"<user@😀.example>", MAILADDR_DOMAIN, "user@😀.example", "user", "xn--e28h.example", "😀.example"},
	/* an ideographic full stop is a dot */
	{"<user@bücher。example>", MAILADDR_DOMAIN, "user@bücher。example", "user", "xn--bcher-kva.example",
	 "bücher。example"},
	/* A-labels pass through, lower-cased */
	{"<user@XN--BCHER-KVA.example>", MAILADDR_DOMAIN, "user@XN--BCHER-KVA.example", "user",
	 "xn--bcher-kva.example", "XN--BCHER-KVA.example"},
	/* underscores tolerated; single labels and numeric labels below the top are domains */
	{"<user@mail_out.example.com>", MAILADDR_DOMAIN, "user@mail_out.example.com", "user", "mail_out.example.com",
	 "mail_out.example.com"},
	{"<user@_bounce.example>", MAILADDR_DOMAIN, "user@_bounce.example", "user", "_bounce.example",
	 "_bounce.example"},
	{"<user@localhost>", MAILADDR_DOMAIN, "user@localhost", "user", "localhost", "localhost"},
	{"<user@123.example>", MAILADDR_DOMAIN, "user@123.example", "user", "123.example", "123.example"},
	{"<user@a-b--c.x1>", MAILADDR_DOMAIN, "user@a-b--c.x1", "user", "a-b--c.x1", "a-b--c.x1"},
	/* address literals */
	{"<user@[192.0.2.1]>", MAILADDR_LITERAL, "user@[192.0.2.1]", "user", "[192.0.2.1]", "[192.0.2.1]"},
	{"<user@[IPv6:2001:db8::1]>", MAILADDR_LITERAL, "user@[IPv6:2001:db8::1]", "user", "[IPv6:2001:db8::1]",
	 "[IPv6:2001:db8::1]"},
	{"<user@[ipv6:2001:DB8:0:0:0:0:0:1]>", MAILADDR_LITERAL, "user@[ipv6:2001:DB8:0:0:0:0:0:1]", "user",
	 "[IPv6:2001:db8::1]", "[ipv6:2001:DB8:0:0:0:0:0:1]"},
	{"<user@[IPv6:::ffff:192.0.2.1]>", MAILADDR_LITERAL, "user@[IPv6:::ffff:192.0.2.1]", "user", "[192.0.2.1]",
	 "[IPv6:::ffff:192.0.2.1]"},
	{"<user@[IPv6:2001:db8::192.0.2.1]>", MAILADDR_LITERAL, "user@[IPv6:2001:db8::192.0.2.1]", "user",
	 "[IPv6:2001:db8::c000:201]", "[IPv6:2001:db8::192.0.2.1]"},
	{"<user@[IPv6:::1]>", MAILADDR_LITERAL, "user@[IPv6:::1]", "user", "[IPv6:::1]", "[IPv6:::1]"},
	{"<\"a b\"@[192.0.2.1]>", MAILADDR_LITERAL, "\"a b\"@[192.0.2.1]", "\"a b\"", "[192.0.2.1]", "[192.0.2.1]"},
};

struct bad {
	const char *text;
	const char *reason;	/* a part of the reason that names the rule */
};

static const struct bad bads[] = {
	/* shape */
	{"", "empty address"},
	{" \t ", "empty address"},
	{"<", "missing '>'"},
	{"<user@example.org", "missing '>'"},
	{"<<>>", "text after '>'"},
	{"<>>", "text after '>'"},
	{"<> x", "text after '>'"},
	{"<user@example.org> SIZE=100", "text after '>'"},
	{"<user@example.org><x>", "text after '>'"},
	{">", "missing '<'"},
	{"user@example.org>", "missing '<'"},
	{"< user@example.org>", "blanks inside the angle brackets"},
	{"<user@example.org\t>", "blanks inside the angle brackets"},
	{"@", "empty local part"},
	{"@@", "empty local part"},
	{"<@>", "empty local part"},
	{"@b", "empty local part"},
	{"<@example.org>", "empty local part"},
	{"a@", "empty domain"},
	{"<a@>", "empty domain"},
	{"a@.", "empty domain"},
	{"a@b@c", "invalid character '@' in local part"},
	/* source routes */
	{"<@relay1,@relay2:>", "no mailbox after the source route"},
	{"<@relay1,:user@example.org>", "invalid source route"},
	{"<@relay1,relay2:user@example.org>", "invalid source route"},
	{"<@:user@example.org>", "empty domain in source route"},
	{"<@relay1,,@relay2:user@example.org>", "invalid source route"},
	{"<@re lay:user@example.org>", "invalid source route"},
	{"<@relay:<user@example.org>>", "text after '>'"},
	{"@relay:<user@example.org", "invalid character '<' in local part"},
	/* quotes */
	{"\"unterminated", "unbalanced quotes"},
	{"<\"unterminated@example.org>", "unbalanced quotes"},
	{"\"", "unbalanced quotes"},
	{"\"a\\", "unbalanced quotes"},
	{"\"a\\\"@example.org", "unbalanced quotes"},
	{"\"a\"b@example.org", "a quoted string must be the whole local part"},
	{"a\"b\"@example.org", "a quoted string must be the whole local part"},
	{"\"a\".\"b\"@example.org", "a quoted string must be the whole local part"},
	{"\"a\x01\"@example.org", "control character in local part"},
	{"\"a\tb\"@example.org", "control character in local part"},
	{"\"a\\\x01\"@example.org", "invalid escape in quoted local part"},
	{"\"a\\\xc3\xa4\"@example.org", "invalid escape in quoted local part"},
	/* unquoted local parts */
	{"a b@example.org", "space in local part"},
	{"a\x01" "b@example.org", "control character in local part"},
	{"a\x7f@example.org", "control character in local part"},
	{"a(comment)@example.org", "invalid character '(' in local part"},
	{"a\\b@example.org", "invalid character '\\' in local part"},
	{"a,b@example.org", "invalid character ',' in local part"},
	{"[", "invalid character '[' in local part"},
	{"\xff@example.org", "invalid UTF-8 in local part"},
	{"\xc3\x41@example.org", "invalid UTF-8 in local part"},
	{"\xc0\xaf@example.org", "invalid UTF-8 in local part"},
	{"\xed\xa0\x80@example.org", "invalid UTF-8 in local part"},
	{"\xf4\x90\x80\x80@example.org", "invalid UTF-8 in local part"},
	{"a\xc3@example.org", "invalid UTF-8 in local part"},
	/* address literals */
	{"a@[", "unterminated address literal"},
	{"a@[192.0.2.1", "unterminated address literal"},
	{"a@[]", "empty address literal"},
	{"a@[192.0.2.1]x", "text after ']' in address literal"},
	{"a@[192.0.2.1].", "text after ']' in address literal"},
	{"a@[192.0.2.1]]", "text after ']' in address literal"},
	{"a@[999.1.1.1]", "invalid IPv4 address literal"},
	{"a@[192.0.2]", "invalid IPv4 address literal"},
	{"a@[192.0.2.01]", "invalid IPv4 address literal"},
	{"a@[192.0.2.1 ]", "invalid IPv4 address literal"},
	{"a@[mail.example]", "invalid IPv4 address literal"},
	{"a@[IPv6:zz]", "invalid IPv6 address literal"},
	{"a@[IPv6:]", "invalid IPv6 address literal"},
	{"a@[IPv6:192.0.2.1]", "invalid IPv6 address literal"},
	{"a@[IPv6:2001:db8::1%eth0]", "invalid IPv6 address literal"},
	{"a@[IPv6:1::2::3]", "invalid IPv6 address literal"},
	{"a@[2001:db8::1]", "without the \"IPv6:\" tag"},
	{"a@[x-tag:content]", "unknown address literal tag"},
	{"a@[IPv6:2001:0db8:0000:0000:0000:0000:0000:0001:0000:0000:0000:0000]", "invalid address literal"},
	{"a@x[192.0.2.1]", "invalid character '[' in domain"},
	/* domains */
	{"a@exa mple.org", "space in domain"},
	{"a@exa\tmple.org", "control character in domain"},
	{"a@example.org\r\n", "control character in domain"},
	{"a@a..b", "empty label in domain"},
	{"a@example.org..", "empty label in domain"},
	{"a@.example.org", "domain starts with a dot"},
	{"a@..", "domain starts with a dot"},
	{"a@-example.org", "domain label begins or ends with a hyphen"},
	{"a@example-.org", "domain label begins or ends with a hyphen"},
	{"a@example.-", "domain label begins or ends with a hyphen"},
	{"a@exa!mple.org", "invalid character '!' in domain"},
	{"a@\"example\".org", "invalid character '\"' in domain"},
	{"a@192.0.2.1", "numeric top-level label"},
	{"a@example.123", "numeric top-level label"},
	{"a@example.org:25", "invalid character ':' in domain"},
	/* internationalized domains */
	{"a@b\xff" "c.example", "invalid UTF-8 in domain"},
	{"a@bü\xc3.example", "invalid UTF-8 in domain"},
	{"a@-bü.example", "invalid IDN:"},
	{"a@xn--garbage.bücher", "invalid IDN:"},
	{"a@bü／x.example", "invalid IDN:"},
	{"a@ü/x.example", "invalid character '/' in domain"},
	{"a@bü..example", "empty label in domain"},
	{"a@.bü.example", "domain starts with a dot"},
	{"a@bücher.example。.", "empty label in domain"},
};

static void fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

static void check_good(const struct good *g)
{
	struct mailaddr a;
	char err[128];
	int rc = mailaddr_parse(g->text, &a, err, sizeof(err));

	if (rc != 0)
		fail_msg("\"%s\": %s", g->text, err);
	assert_string_equal(err, "");
	assert_int_equal(a.kind, g->kind);
	assert_string_equal(a.address, g->address);
	assert_string_equal(a.local, g->local);
	assert_string_equal(a.domain, g->domain);
	assert_string_equal(a.domain_utf8, g->domain_utf8);
}

static void check_bad(const char *text, const char *want)
{
	struct mailaddr a;
	char err[128];

	if (mailaddr_parse(text, &a, err, sizeof(err)) == 0)
		fail_msg("\"%s\" parsed as %s \"%s\"", text, mailaddr_kind_name(a.kind), a.address);
	if (!strstr(err, want))
		fail_msg("\"%s\": reason \"%s\", want \"%s\"", text, err, want);
}

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++)
		check_good(&goods[i]);
}

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		check_bad(bads[i].text, bads[i].reason);
	check_bad(NULL, "no address");
}

static void test_literal_address(void **state)
{
	(void)state;
	struct mailaddr a;
	struct netaddr want;

	assert_int_equal(mailaddr_parse("<u@[IPv6:::ffff:192.0.2.1]>", &a, NULL, 0), 0);
	assert_true(netaddr_parse("192.0.2.1", &want));
	assert_int_equal(a.literal.family, AF_INET);
	assert_true(netaddr_equal(&a.literal, &want));
	assert_int_equal(mailaddr_parse("<u@[IPv6:2001:db8::1]>", &a, NULL, 0), 0);
	assert_true(netaddr_parse("2001:db8::1", &want));
	assert_true(netaddr_equal(&a.literal, &want));
	/* a domain leaves the literal unset */
	assert_int_equal(mailaddr_parse("<u@example.org>", &a, NULL, 0), 0);
	assert_int_equal(a.literal.family, 0);
}

/* Every limit, just inside and just outside. */
static void test_limits(void **state)
{
	(void)state;
	char label63[64], label64[65], local255[256], local256[257], text[2048];
	struct mailaddr a;
	char err[128];

	fill(label63, 'a', 63);
	fill(label64, 'a', 64);
	fill(local255, 'l', 255);
	fill(local256, 'l', 256);

	snprintf(text, sizeof(text), "<u@%s.example>", label63);
	assert_int_equal(mailaddr_parse(text, &a, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "<u@%s.example>", label64);
	check_bad(text, "domain label longer than 63 octets");
	snprintf(text, sizeof(text), "<u@example.%s>", label64);
	check_bad(text, "domain label longer than 63 octets");

	/* 253 octets: 63.63.63.61 */
	snprintf(text, sizeof(text), "<u@%s.%s.%s.%.61s>", label63, label63, label63, label63);
	assert_int_equal(mailaddr_parse(text, &a, err, sizeof(err)), 0);
	assert_int_equal(strlen(a.domain), 253);
	snprintf(text, sizeof(text), "<u@%s.%s.%s.%.61s.>", label63, label63, label63, label63);
	assert_int_equal(mailaddr_parse(text, &a, err, sizeof(err)), 0);
	assert_int_equal(strlen(a.domain), 253);
	snprintf(text, sizeof(text), "<u@%s.%s.%s.%.62s>", label63, label63, label63, label63);
	check_bad(text, "domain longer than 253 octets");
	snprintf(text, sizeof(text), "<u@%s.%s.%s.%s.%s>", label63, label63, label63, label63, label63);
	check_bad(text, "domain longer than 253 octets");
	/* a UTF-8 name within 253 octets whose A-label form is too long: 8 labels "ü" + 28 x "a"
	 * are 247 octets as written, each grows by "xn--" and the encoded ü */
	{
		char utf8[512] = "<u@", a28[29];
		fill(a28, 'a', 28);
		for (int i = 0; i < 8; i++) {
			strcat(utf8, i ? ".ü" : "ü");
			strcat(utf8, a28);
		}
		strcat(utf8, ">");
		assert_int_equal(strlen(utf8), 3 + 247 + 1);
		check_bad(utf8, "domain longer than 253 octets");
		/* six of them are 221 octets as A-labels ("xn--" 28 x "a" "-06c"): with a 31-octet
		 * label 253, with a 32-octet one 254, which libidn2 still takes */
		utf8[3 + 6 * 31 - 1] = '\0';
		snprintf(text, sizeof(text), "%s.%.31s>", utf8, label63);
		assert_int_equal(mailaddr_parse(text, &a, err, sizeof(err)), 0);
		assert_int_equal(strlen(a.domain), 253);
		assert_true(strncmp(a.domain, "xn--", 4) == 0);
		snprintf(text, sizeof(text), "%s.%.32s>", utf8, label63);
		check_bad(text, "domain longer than 253 octets");
		/* a label too long only once encoded */
		snprintf(text, sizeof(text), "<u@ü%.56s.example>", label63);
		check_bad(text, "domain label longer than 63 octets");
		snprintf(text, sizeof(text), "<u@ü.%s.example>", label64);
		check_bad(text, "domain label longer than 63 octets");
	}
	/* a UTF-8 name too long even as written */
	{
		char utf8[1024] = "<u@";
		for (int i = 0; i < 130; i++)
			strcat(utf8, i % 10 == 9 ? "ü." : "ü");
		strcat(utf8, "example>");
		check_bad(utf8, "domain longer than 255 octets as written");
	}

	snprintf(text, sizeof(text), "<%s@example.org>", local255);
	assert_int_equal(mailaddr_parse(text, &a, err, sizeof(err)), 0);
	assert_string_equal(a.local, local255);
	assert_int_equal(strlen(a.address), 255 + 1 + 11);
	snprintf(text, sizeof(text), "<%s@example.org>", local256);
	check_bad(text, "local part longer than 255 octets");
	snprintf(text, sizeof(text), "<%s>", local256);
	check_bad(text, "local part longer than 255 octets");

	/* the longest address: 255 + '@' + 253 fills `address` to its last byte */
	snprintf(text, sizeof(text), "<%s@%s.%s.%s.%.61s>", local255, label63, label63, label63, label63);
	assert_int_equal(mailaddr_parse(text, &a, err, sizeof(err)), 0);
	assert_int_equal(strlen(a.address), 509);

	/* MAILADDR_TEXT_MAX octets of input, blanks included, and one more */
	memset(text, ' ', sizeof(text));
	memcpy(text, "<u@example.org>", 15);
	text[MAILADDR_TEXT_MAX] = '\0';
	assert_int_equal(mailaddr_parse(text, &a, err, sizeof(err)), 0);
	text[MAILADDR_TEXT_MAX] = ' ';
	text[MAILADDR_TEXT_MAX + 1] = '\0';
	check_bad(text, "address longer than 1024 octets");
}

/* The reason is cut to the buffer and always terminated; a failure leaves nothing behind. */
static void test_failure_contract(void **state)
{
	(void)state;
	struct mailaddr a, zero;
	char err[8];

	memset(&zero, 0, sizeof(zero));
	memset(err, 'x', sizeof(err));
	assert_int_equal(mailaddr_parse("a@a..b", &a, err, sizeof(err)), -1);
	assert_string_equal(err, "empty l");
	memset(err, 'x', sizeof(err));
	assert_int_equal(mailaddr_parse("a@a..b", &a, err, 1), -1);
	assert_string_equal(err, "");
	assert_int_equal(err[1], 'x');
	assert_int_equal(mailaddr_parse("a@a..b", &a, NULL, 0), -1);
	/* a good first part was filled in before the domain failed: it must not be left there */
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(mailaddr_parse("someone@a..b", &a, NULL, 0), -1);
	assert_memory_equal(&a, &zero, sizeof(a));
	assert_int_equal(mailaddr_parse("<x@y.example>", NULL, err, sizeof(err)), -1);
	assert_string_equal(mailaddr_kind_name(MAILADDR_NULL), "null");
	assert_string_equal(mailaddr_kind_name(MAILADDR_DOMAIN), "domain");
	assert_string_equal(mailaddr_kind_name(MAILADDR_LITERAL), "literal");
	assert_string_equal(mailaddr_kind_name(MAILADDR_LOCAL_ONLY), "local-only");
}

/* ---- hostile input ---------------------------------------------------------------------------- */

static bool terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

/*
 * What any result must satisfy: success gives a consistent address that parses again to the same
 * thing; failure gives a printable reason and an empty result.
 */
static void check_defined(const char *text)
{
	struct mailaddr a, again, zero;
	char err[128], err2[128], bracketed[600];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = mailaddr_parse(text, &a, err, sizeof(err));
	assert_true(terminated(err, sizeof(err)));
	if (rc != 0) {
		assert_int_equal(rc, -1);
		assert_true(err[0] != '\0');
		for (const char *c = err; *c; c++)
			assert_true(*c >= 0x20 && *c <= 0x7e);
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(&a, &zero, sizeof(a));
		return;
	}
	assert_string_equal(err, "");
	assert_true(terminated(a.address, sizeof(a.address)));
	assert_true(terminated(a.local, sizeof(a.local)));
	assert_true(terminated(a.domain, sizeof(a.domain)));
	assert_true(terminated(a.domain_utf8, sizeof(a.domain_utf8)));
	switch (a.kind) {
	case MAILADDR_NULL:
		assert_string_equal(a.address, "");
		assert_string_equal(a.local, "");
		assert_string_equal(a.domain, "");
		break;
	case MAILADDR_LOCAL_ONLY:
		assert_true(a.local[0] != '\0');
		assert_string_equal(a.address, a.local);
		assert_string_equal(a.domain, "");
		break;
	case MAILADDR_DOMAIN:
		assert_true(strlen(a.domain) >= 1 && strlen(a.domain) <= MAILADDR_DOMAIN_MAX);
		assert_true(strspn(a.domain, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == strlen(a.domain));
		assert_true(a.domain[0] != '.' && a.domain[strlen(a.domain) - 1] != '.');
		assert_null(strstr(a.domain, ".."));
		/* fall through */
	case MAILADDR_LITERAL:
		assert_true(a.local[0] != '\0');
		assert_true(strlen(a.local) <= MAILADDR_LOCAL_MAX);
		assert_int_equal(strlen(a.address), strlen(a.local) + 1 + strlen(a.domain_utf8));
		assert_memory_equal(a.address, a.local, strlen(a.local));
		assert_int_equal(a.address[strlen(a.local)], '@');
		assert_string_equal(a.address + strlen(a.local) + 1, a.domain_utf8);
		if (a.kind == MAILADDR_LITERAL) {
			assert_int_equal(a.domain[0], '[');
			assert_true(a.literal.family == AF_INET || a.literal.family == AF_INET6);
		}
		break;
	default:
		fail_msg("kind %d", (int)a.kind);
	}
	snprintf(bracketed, sizeof(bracketed), "<%s>", a.address);
	if (mailaddr_parse(bracketed, &again, err2, sizeof(err2)) != 0)
		fail_msg("\"%s\" does not parse again: %s", bracketed, err2);
	assert_int_equal(again.kind, a.kind);
	assert_string_equal(again.address, a.address);
	assert_string_equal(again.local, a.local);
	assert_string_equal(again.domain, a.domain);
}

/* On the heap at exactly its size, so a read past the NUL is caught by ASan and valgrind. */
static void check_defined_exact(const char *bytes, size_t len)
{
	char *copy = malloc(len + 1);

	assert_non_null(copy);
	memcpy(copy, bytes, len);
	copy[len] = '\0';
	check_defined(copy);
	free(copy);
}

static void test_every_prefix(void **state)
{
	(void)state;
	static const char *const tricky[] = {
		"<@relay1,@relay2:\"a\\\"b@c\"@[IPv6:::ffff:192.0.2.1]>",
		"  <\"john doe\"@Bücher.Example.>  ",
		"<\"a>b\\\\\"@xn--bcher-kva.example>",
		"<user@[IPv6:2001:db8:0:0:0:0:0:1]>",
		"<<>>@@[[]]\"\"\\\\",
		"\"a\\",
		"<@:>",
		"<用户@例子.广告。>",
		"a@😀.example",
		"<\"\\\\\\\"\"@[192.0.2.1]>",
		"@a,@b,@c:@d:e@f",
		"<a.b@c-d.e_f.g.h.example.>",
		"<postmaster>",
		"<x@[IPv6:2001:db8::192.0.2.1]>",
		"<\"a@b\"@[a@b]>",
	};
	size_t total = 0;

	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		size_t len = strlen(tricky[i]);
		for (size_t n = 0; n <= len; n++, total++) {
			check_defined_exact(tricky[i], n);
			/* and every suffix */
			check_defined_exact(tricky[i] + n, len - n);
		}
	}
	assert_true(total > 300);
}

/* xorshift32: the same garbage on every run and every libc. */
static uint32_t next_random(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_random_garbage(void **state)
{
	(void)state;
	static const char specials[] = "<>@\"\\[]:.,;() \t-_aZ09";
	static const char *const pieces[] = {"ü", "例", "。", "IPv6:", "::", "192.0.2.1", "xn--", "\xff", "\xc3"};
	uint32_t seed = 0x5eed1234;
	char buf[1200];

	for (int round = 0; round < 20000; round++) {
		size_t len = next_random(&seed) % (round % 100 == 0 ? 1100 : 80), n = 0;
		while (n < len) {
			uint32_t r = next_random(&seed) % 10;
			if (r < 5) {
				buf[n++] = specials[next_random(&seed) % (sizeof(specials) - 1)];
			} else if (r < 8) {
				buf[n++] = (char)(1 + next_random(&seed) % 255);
			} else {
				const char *piece = pieces[next_random(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];
				size_t plen = strlen(piece);
				if (n + plen > len)
					break;
				memcpy(buf + n, piece, plen);
				n += plen;
			}
		}
		check_defined_exact(buf, n);
	}
}

/* Good addresses with a few bytes changed, inserted or dropped: near misses reach deep rules. */
static void test_mutations(void **state)
{
	(void)state;
	static const char mutants[] = "<>@\"\\[]:.,. -_aZ9\x01\x7f\xc3\xbc";
	uint32_t seed = 0xdecafbad;
	char buf[600];
	int passed = 0, failed = 0;

	for (int round = 0; round < 20000; round++) {
		const char *base = goods[next_random(&seed) % (sizeof(goods) / sizeof(goods[0]))].text;
		size_t len = strlen(base);
		int edits = 1 + (int)(next_random(&seed) % 3);
		struct mailaddr a;

		memcpy(buf, base, len);
		for (int e = 0; e < edits; e++) {
			size_t at = len ? next_random(&seed) % len : 0;
			char c = mutants[next_random(&seed) % (sizeof(mutants) - 1)];
			switch (next_random(&seed) % 3) {
			case 0:
				if (len)
					buf[at] = c;
				break;
			case 1:
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = c;
				len++;
				break;
			default:
				if (len) {
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
				}
			}
		}
		check_defined_exact(buf, len);
		buf[len] = '\0';
		if (mailaddr_parse(buf, &a, NULL, 0) == 0)
			passed++;
		else
			failed++;
	}
	/* both ways, or the mutations test nothing */
	assert_true(passed > 1000);
	assert_true(failed > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_literal_address),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_failure_contract),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
