/*
 * Unit tests for netaddr: addresses, networks, v4-mapped folding, servers with ports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netaddr.h"

static bool contains(const char *net, const char *addr)
{
	struct netaddr_net n;
	struct netaddr a;
	assert_true(netaddr_net_parse(net, &n));
	assert_true(netaddr_parse(addr, &a));
	return netaddr_net_contains(&n, &a);
}

static void test_networks(void **state)
{
	(void)state;
	assert_true(contains("192.0.2.0/24", "192.0.2.77"));
	assert_false(contains("192.0.2.0/24", "192.0.3.1"));
	assert_true(contains("192.0.2.1", "192.0.2.1"));
	assert_false(contains("192.0.2.1", "192.0.2.2"));
	assert_true(contains("0.0.0.0/0", "203.0.113.9"));
	assert_true(contains("127.0.0.0/8", "127.0.0.12"));
	assert_true(contains("192.0.2.130/25", "192.0.2.255"));
	assert_false(contains("192.0.2.130/25", "192.0.2.1"));
	assert_true(contains("2001:db8::/32", "2001:db8:1::25"));
	assert_false(contains("2001:db8::/32", "2001:db9::1"));
	assert_true(contains("2001:db8::/47", "2001:db8:1::1"));
	assert_false(contains("2001:db8::/48", "2001:db8:1::1"));
	assert_true(contains("::1", "::1"));
	/* IPv4-mapped forms on either side match IPv4 */
	assert_true(contains("192.0.2.0/24", "::ffff:192.0.2.9"));
	assert_true(contains("::ffff:192.0.2.0/120", "192.0.2.9"));
	assert_false(contains("2001:db8::/32", "192.0.2.1"));
}

static void test_bad_networks(void **state)
{
	(void)state;
	struct netaddr_net n;
	static const char *const bad[] = {"", "/24", "192.0.2.0/33", "192.0.2.0/", "192.0.2.0/x", "192.0.2.0/-1",
					  "2001:db8::/129", "host.example", "192.0.2.256", "::ffff:192.0.2.0/95",
					  "192.0.2.0/24/1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(netaddr_net_parse(bad[i], &n));
}

static void test_servers(void **state)
{
	(void)state;
	struct netaddr a;
	unsigned port;
	char buf[64];
	assert_true(netaddr_parse_server("127.0.0.1", &a, &port));
	assert_int_equal(port, 53);
	assert_true(netaddr_parse_server("::1@5353", &a, &port));
	assert_int_equal(port, 5353);
	assert_string_equal(netaddr_format(&a, buf, sizeof(buf)), "::1");
	assert_false(netaddr_parse_server("127.0.0.1@0", &a, &port));
	assert_false(netaddr_parse_server("127.0.0.1@65536", &a, &port));
	assert_false(netaddr_parse_server("127.0.0.1@", &a, &port));
	assert_false(netaddr_parse_server("@53", &a, &port));
	assert_false(netaddr_parse_server("ns.example@53", &a, &port));
}

static void test_loopback(void **state)
{
	(void)state;
	struct netaddr a;
	static const char *const yes[] = {"127.0.0.1", "127.255.0.9", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1"};
	static const char *const no[] = {"192.0.2.1", "::2", "2001:db8::1", "128.0.0.1"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_true(netaddr_parse(yes[i], &a));
		assert_true(netaddr_is_loopback_or_unspecified(&a));
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_true(netaddr_parse(no[i], &a));
		assert_false(netaddr_is_loopback_or_unspecified(&a));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_bad_networks),
		cmocka_unit_test(test_servers),
		cmocka_unit_test(test_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
