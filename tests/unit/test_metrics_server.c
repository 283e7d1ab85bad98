/*
 * Unit tests for metrics_server's request parsing: the two requests it answers, and everything
 * else refused with the right status, whatever bytes a client sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics_server.h"

static enum metrics_request parse(const char *head)
{
	return metrics_request_parse(head, strlen(head));
}

static void test_the_two_requests(void **state)
{
	(void)state;
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n"), METRICS_REQUEST_METRICS);
	assert_int_equal(parse("GET /metrics HTTP/1.0\n\n"), METRICS_REQUEST_METRICS);
	assert_int_equal(parse("GET /metrics?x=1 HTTP/1.1\r\n\r\n"), METRICS_REQUEST_METRICS);
	assert_int_equal(parse("GET /health HTTP/1.1\r\nUser-Agent: a b\tc\r\n\r\n"), METRICS_REQUEST_HEALTH);
}

static void test_other_paths_and_methods(void **state)
{
	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n"), METRICS_REQUEST_NOT_FOUND);
	assert_int_equal(parse("GET /metricsx HTTP/1.1\r\n\r\n"), METRICS_REQUEST_NOT_FOUND);
	assert_int_equal(parse("GET /metric HTTP/1.1\r\n\r\n"), METRICS_REQUEST_NOT_FOUND);
	assert_int_equal(parse("GET http://localhost/metrics HTTP/1.1\r\n\r\n"), METRICS_REQUEST_NOT_FOUND);
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\n"), METRICS_REQUEST_BAD_METHOD);
	assert_int_equal(parse("HEAD /health HTTP/1.1\r\n\r\n"), METRICS_REQUEST_BAD_METHOD);
}

static void test_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\r\n\r\n",
		"GET /metrics\r\n\r\n",			/* HTTP/0.9 */
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET /metrics HTTP/1.1 \r\n\r\n",
		"GET  /metrics HTTP/1.1\r\n\r\n",
		"get /metrics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n",		/* no end of head */
		"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n: no name\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nX: \x01\r\n\r\n",
		"GET /met\x7frics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n\r\nextra",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n",	/* TLS */
		"GETGETGETGETGETGETGET /metrics HTTP/1.1\r\n\r\n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != METRICS_REQUEST_BAD)
			fail_msg("request %zu is not refused as bad", i);
	/* a NUL inside is bad too, wherever it is */
	static const char nul[] = "GET /metrics HTTP/1.1\r\nX: a\0b\r\n\r\n";
	assert_int_equal(metrics_request_parse(nul, sizeof(nul) - 1), METRICS_REQUEST_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_two_requests),
		cmocka_unit_test(test_other_paths_and_methods),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
