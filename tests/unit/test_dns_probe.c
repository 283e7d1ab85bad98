/*
 * Unit tests for dns_probe: the sentences and evidence made from constructed results, the health
 * verdict, and argument errors (which fail before anything is sent).  The probe against real
 * servers is tested in tests/integration/dns-probe.test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns_probe.h"

enum { RCODE_NOERROR = 0, RCODE_SERVFAIL = 2, RCODE_NXDOMAIN = 3, RCODE_REFUSED = 5 };

static struct dns_probe_leg answered(int rcode, unsigned answers, unsigned ms)
{
	struct dns_probe_leg leg = {.status = DNS_PROBE_ANSWERED, .rcode = rcode, .answers = answers, .ms = ms};
	return leg;
}

static struct dns_probe_leg truncated(unsigned ms)
{
	struct dns_probe_leg leg = answered(RCODE_NOERROR, 0, ms);
	leg.truncated = true;
	return leg;
}

static struct dns_probe_leg failed(enum dns_probe_status status, unsigned ms)
{
	struct dns_probe_leg leg = {.status = status, .ms = ms};
	return leg;
}

static struct dns_probe_leg tcp_failed(enum dns_probe_status status, unsigned ms)
{
	struct dns_probe_leg leg = failed(status, ms);
	leg.connected = true;
	return leg;
}

static struct dns_probe_result result(const char *server, struct dns_probe_leg udp, struct dns_probe_leg tcp)
{
	struct dns_probe_result r;

	memset(&r, 0, sizeof(r));
	assert_true(netaddr_parse_server(server, &r.server.addr, &r.server.port));
	strcpy(r.qname, "big.test");
	r.qtype = 15;
	r.udp = udp;
	r.tcp = tcp;
	return r;
}

static const char *describe(struct dns_probe_result r)
{
	static char buf[DNS_PROBE_TEXT_SIZE];
	return dns_probe_describe(&r, buf, sizeof(buf));
}

static const char *evidence(struct dns_probe_result r)
{
	static char buf[DNS_PROBE_TEXT_SIZE];
	return dns_probe_evidence(&r, buf, sizeof(buf));
}

static void test_describe_same_on_both(void **state)
{
	(void)state;
	assert_string_equal(describe(result("127.0.0.1", answered(RCODE_NOERROR, 1, 1), answered(RCODE_NOERROR, 1, 1))),
			    "127.0.0.1 answers over UDP and TCP");
	assert_string_equal(describe(result("127.0.0.1", answered(RCODE_SERVFAIL, 0, 3), answered(RCODE_SERVFAIL, 0, 3))),
			    "127.0.0.1 answers SERVFAIL over UDP and TCP");
	assert_string_equal(describe(result("127.0.0.1@5353", failed(DNS_PROBE_TIMEOUT, 900), failed(DNS_PROBE_TIMEOUT, 900))),
			    "127.0.0.1@5353 does not answer over UDP or TCP");
	assert_string_equal(describe(result("127.0.0.1@5353", failed(DNS_PROBE_REFUSED, 0), failed(DNS_PROBE_REFUSED, 0))),
			    "127.0.0.1@5353 refuses UDP and TCP");
	assert_string_equal(describe(result("::1", failed(DNS_PROBE_MALFORMED, 1), failed(DNS_PROBE_MALFORMED, 1))),
			    "::1 answers garbage over UDP and TCP");
	assert_string_equal(describe(result("::1@53", answered(RCODE_NXDOMAIN, 0, 1), answered(RCODE_NXDOMAIN, 0, 1))),
			    "::1 answers NXDOMAIN over UDP and TCP");
}

static void test_describe_different(void **state)
{
	(void)state;
	/* the classic failure: a large answer and a server that does no TCP */
	assert_string_equal(describe(result("127.0.0.1", truncated(1), failed(DNS_PROBE_REFUSED, 0))),
			    "127.0.0.1 truncates over UDP and refuses TCP");
	assert_string_equal(describe(result("127.0.0.1", truncated(1), answered(RCODE_NOERROR, 40, 2))),
			    "127.0.0.1 truncates over UDP and answers over TCP");
	assert_string_equal(describe(result("127.0.0.1", failed(DNS_PROBE_MALFORMED, 1), answered(RCODE_NOERROR, 1, 1))),
			    "127.0.0.1 answers garbage over UDP and answers over TCP");
	assert_string_equal(describe(result("127.0.0.1", answered(RCODE_NOERROR, 1, 1), tcp_failed(DNS_PROBE_CLOSED, 1))),
			    "127.0.0.1 answers over UDP and closes TCP without answering");
	assert_string_equal(describe(result("127.0.0.1", failed(DNS_PROBE_TIMEOUT, 500), tcp_failed(DNS_PROBE_TIMEOUT, 500))),
			    "127.0.0.1 does not answer over UDP or TCP");
	assert_string_equal(describe(result("127.0.0.1", failed(DNS_PROBE_TIMEOUT, 500), answered(RCODE_REFUSED, 0, 1))),
			    "127.0.0.1 does not answer over UDP and answers REFUSED over TCP");
	struct dns_probe_leg eperm = failed(DNS_PROBE_ERROR, 0);
	eperm.os_error = 1;
	assert_string_equal(describe(result("127.0.0.1", eperm, answered(RCODE_NOERROR, 1, 1))),
			    "127.0.0.1 could not be probed over UDP (EPERM) and answers over TCP");
	struct dns_probe_leg unreachable = failed(DNS_PROBE_UNREACHABLE, 0);
	unreachable.os_error = 113;
	assert_string_equal(describe(result("2001:db8::53", unreachable, unreachable)),
			    "2001:db8::53 cannot be reached over UDP or TCP");
}

/* A resolver dnsguard forwards to is named as one: its answer is its verdict on the question. */
static void test_describe_resolver(void **state)
{
	(void)state;
	static char buf[DNS_PROBE_TEXT_SIZE];
	struct dns_probe_result r = result("127.0.0.1", answered(RCODE_SERVFAIL, 0, 3), answered(RCODE_SERVFAIL, 0, 3));

	assert_string_equal(dns_probe_describe_resolver(&r, buf, sizeof(buf)),
			    "the resolver 127.0.0.1 answers SERVFAIL over UDP and TCP");
	r = result("127.0.0.1@5353", truncated(1), failed(DNS_PROBE_REFUSED, 0));
	assert_string_equal(dns_probe_describe_resolver(&r, buf, sizeof(buf)),
			    "the resolver 127.0.0.1@5353 truncates over UDP and refuses TCP");
	r = result("::1", failed(DNS_PROBE_TIMEOUT, 250), tcp_failed(DNS_PROBE_TIMEOUT, 250));
	assert_string_equal(dns_probe_describe_resolver(&r, buf, sizeof(buf)),
			    "the resolver ::1 does not answer over UDP or TCP");
	/* the server's own sentence is unchanged, for probes of authoritative servers */
	assert_string_equal(describe(r), "::1 does not answer over UDP or TCP");
	char small[8];
	assert_string_equal(dns_probe_describe_resolver(&r, small, sizeof(small)), "the res");
}

static void test_evidence(void **state)
{
	(void)state;
	assert_string_equal(evidence(result("127.0.0.1@5353", truncated(2), failed(DNS_PROBE_REFUSED, 1))),
			    "server=127.0.0.1@5353 qname=big.test qtype=MX udp=answered/NOERROR/tc/answers:0/2ms "
			    "tcp=refused/1ms");
	assert_string_equal(evidence(result("127.0.0.1", answered(RCODE_SERVFAIL, 0, 7), tcp_failed(DNS_PROBE_TIMEOUT, 1500))),
			    "server=127.0.0.1 qname=big.test qtype=MX udp=answered/SERVFAIL/answers:0/7ms "
			    "tcp=timeout/connected/1500ms");
	assert_string_equal(evidence(result("::1", failed(DNS_PROBE_TIMEOUT, 1500), failed(DNS_PROBE_TIMEOUT, 1500))),
			    "server=::1 qname=big.test qtype=MX udp=timeout/1500ms tcp=timeout/1500ms");
	struct dns_probe_leg eperm = failed(DNS_PROBE_ERROR, 0);
	eperm.os_error = 1;
	struct dns_probe_result r = result("127.0.0.1", eperm, tcp_failed(DNS_PROBE_CLOSED, 3));
	r.qtype = 65280;
	strcpy(r.qname, "odd\"name.test");
	assert_string_equal(evidence(r), "server=127.0.0.1 qname=\"odd\\\"name.test\" qtype=TYPE65280 "
					 "udp=error/EPERM/0ms tcp=closed/3ms");
	r.udp = answered(16, 0, 1);	/* BADVERS, an extended rcode */
	r.tcp = failed(DNS_PROBE_MALFORMED, 2);
	assert_string_equal(evidence(r), "server=127.0.0.1 qname=\"odd\\\"name.test\" qtype=TYPE65280 "
					 "udp=answered/RCODE16/answers:0/1ms tcp=malformed/2ms");
}

static void test_text_is_bounded(void **state)
{
	(void)state;
	struct dns_probe_result r = result("127.0.0.1", truncated(1), failed(DNS_PROBE_REFUSED, 0));
	char small[12];

	memset(small, 'x', sizeof(small));
	assert_ptr_equal(dns_probe_describe(&r, small, sizeof(small)), small);
	assert_string_equal(small, "127.0.0.1 t");
	assert_string_equal(dns_probe_evidence(&r, small, sizeof(small)), "server=127.");
	assert_ptr_equal(dns_probe_describe(&r, small, 0), small);

	/* the longest query name and the longest phrases still fit DNS_PROBE_TEXT_SIZE */
	struct dns_probe_leg error = failed(DNS_PROBE_ERROR, 4000000000u);
	error.os_error = 113;
	r = result("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe@65535", error, tcp_failed(DNS_PROBE_TIMEOUT, 4000000000u));
	memset(r.qname, '"', sizeof(r.qname) - 1);
	r.qname[sizeof(r.qname) - 1] = '\0';
	assert_true(strlen(evidence(r)) < DNS_PROBE_TEXT_SIZE - 1);
	assert_non_null(strstr(evidence(r), "tcp=timeout/connected/4000000000ms"));
	assert_true(strlen(describe(r)) < DNS_PROBE_TEXT_SIZE - 1);
}

static void test_healthy(void **state)
{
	(void)state;
	struct dns_probe_result r;

	r = result("127.0.0.1", answered(RCODE_NOERROR, 1, 1), answered(RCODE_NOERROR, 1, 1));
	assert_true(dns_probe_healthy(&r));
	r = result("127.0.0.1", answered(RCODE_NXDOMAIN, 0, 1), answered(RCODE_NXDOMAIN, 0, 1));
	assert_true(dns_probe_healthy(&r));
	r = result("127.0.0.1", truncated(1), answered(RCODE_NOERROR, 40, 1));
	assert_true(dns_probe_healthy(&r));
	r = result("127.0.0.1", truncated(1), failed(DNS_PROBE_REFUSED, 1));
	assert_false(dns_probe_healthy(&r));
	r = result("127.0.0.1", answered(RCODE_SERVFAIL, 0, 1), answered(RCODE_NOERROR, 1, 1));
	assert_false(dns_probe_healthy(&r));
	r = result("127.0.0.1", answered(RCODE_NOERROR, 1, 1), tcp_failed(DNS_PROBE_CLOSED, 1));
	assert_false(dns_probe_healthy(&r));
	r = result("127.0.0.1", failed(DNS_PROBE_MALFORMED, 1), answered(RCODE_NOERROR, 1, 1));
	assert_false(dns_probe_healthy(&r));
	r = result("127.0.0.1", answered(RCODE_NOERROR, 1, 1), truncated(1));
	assert_false(dns_probe_healthy(&r));
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(dns_probe_status_name(DNS_PROBE_ANSWERED), "answered");
	assert_string_equal(dns_probe_status_name(DNS_PROBE_TIMEOUT), "timeout");
	assert_string_equal(dns_probe_status_name(DNS_PROBE_REFUSED), "refused");
	assert_string_equal(dns_probe_status_name(DNS_PROBE_CLOSED), "closed");
	assert_string_equal(dns_probe_status_name(DNS_PROBE_MALFORMED), "malformed");
	assert_string_equal(dns_probe_status_name(DNS_PROBE_UNREACHABLE), "unreachable");
	assert_string_equal(dns_probe_status_name(DNS_PROBE_ERROR), "error");
}

/* Every call here must fail on its arguments, before any socket exists. */
static void expect_refused(const struct dns_server *server, const char *qname, unsigned deadline_ms,
			   const char *err_part)
{
	struct dns_probe_result r;
	char err[256] = "";

	assert_int_equal(dns_probe_server(server, qname, 1, deadline_ms, &r, err, sizeof(err)), -1);
	if (!strstr(err, err_part))
		fail_msg("error \"%s\" does not mention \"%s\"", err, err_part);
}

static void test_argument_errors(void **state)
{
	(void)state;
	struct dns_server ok, bad;
	struct dns_probe_result r;
	char err[256] = "";
	char long_name[300];

	assert_true(netaddr_parse_server("127.0.0.1@9", &ok.addr, &ok.port));
	expect_refused(NULL, "ok.test", 100, "server");
	expect_refused(&ok, NULL, 100, "query name");
	assert_int_equal(dns_probe_server(&ok, "ok.test", 1, 100, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "result"));

	expect_refused(&ok, "", 100, "query name");
	expect_refused(&ok, "has space.test", 100, "query name");
	expect_refused(&ok, "ctl\n.test", 100, "query name");
	expect_refused(&ok, "caf\xc3\xa9.test", 100, "query name");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	expect_refused(&ok, long_name, 100, "query name");
	expect_refused(&ok, "a..test", 100, "not a domain name");
	/* 64 octets is one too many for a label */
	expect_refused(&ok, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", 100,
		       "not a domain name");

	expect_refused(&ok, "ok.test", 0, "deadline");
	bad = ok;
	bad.port = 65536;
	expect_refused(&bad, "ok.test", 100, "port 65536");
	bad = ok;
	bad.addr.family = AF_UNIX;
	expect_refused(&bad, "ok.test", 100, "neither IPv4 nor IPv6");

	/* no error buffer is fine */
	assert_int_equal(dns_probe_server(&ok, "ok.test", 1, 0, &r, NULL, 0), -1);
	assert_int_equal(dns_probe_server(&ok, "", 1, 100, &r, err, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_same_on_both),
		cmocka_unit_test(test_describe_different),
		cmocka_unit_test(test_describe_resolver),
		cmocka_unit_test(test_evidence),
		cmocka_unit_test(test_text_is_bounded),
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_argument_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
