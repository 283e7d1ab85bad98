/*
 * Unit tests for metrics: counts land in the right series, the histogram is cumulative, label
 * values are escaped, every family has its HELP and TYPE, and health says why it fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static int reset(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

static char text[METRICS_TEXT_MAX + 1];

static const char *render(const struct metrics_facts *facts)
{
	struct strbuf sb;

	strbuf_init(&sb, text, sizeof(text));
	metrics_render(facts, &sb);
	assert_false(strbuf_truncated(&sb));
	return strbuf_text(&sb);
}

/* The exposition holds this exact line. */
static void assert_line(const char *exposition, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(exposition, want))
		fail_msg("no line \"%s\" in the exposition", line);
}

static void test_decisions_counted_by_labels(void **state)
{
	struct metrics_facts facts = {.accepting = true};
	const char *t;

	(void)state;
	metrics_count_decision(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN, POLICY_REJECT);
	metrics_count_decision(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN, POLICY_REJECT);
	metrics_count_decision(POLICY_CHECK_CLIENT, POLICY_OUTCOME_TEMPERROR, POLICY_TEMPFAIL);
	/* out of range: ignored, never a write past the table */
	metrics_count_decision((enum policy_check)99, POLICY_OUTCOME_OK, POLICY_ACCEPT);
	t = render(&facts);
	assert_line(t, "dnsguard_decisions_total{check=\"sender\",outcome=\"nxdomain\",action=\"reject\"} 2");
	assert_line(t, "dnsguard_decisions_total{check=\"client\",outcome=\"temperror\",action=\"tempfail\"} 1");
	assert_line(t, "dnsguard_decisions_total{check=\"sender\",outcome=\"nxdomain\",action=\"accept\"} 0");
	/* outcomes a check cannot have get no series */
	assert_null(strstr(t, "check=\"client\",outcome=\"nxdomain\""));
}

static void test_families_have_help_and_type(void **state)
{
	struct metrics_facts facts = {.accepting = true, .badmail_known = true, .probes_known = true};
	char line[512], family[128], seen_type[128] = "";
	const char *p;

	(void)state;
	p = render(&facts);
	/* every sample's family was announced by a TYPE line before it */
	while (*p) {
		size_t len = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (p[len] ? 1 : 0);
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sscanf(line + 7, "%127s", seen_type);
			continue;
		}
		if (line[0] == '#')
			continue;
		snprintf(family, sizeof(family), "%.*s", (int)strcspn(line, "{ "), line);
		if (strncmp(family, seen_type, strlen(seen_type)) != 0)
			fail_msg("sample %s without its TYPE line (last TYPE %s)", line, seen_type);
	}
	assert_non_null(strstr(text, "# HELP dnsguard_decisions_total "));
	assert_non_null(strstr(text, "# TYPE dnsguard_dns_duration_seconds histogram\n"));
	assert_line(text, "dnsguard_up 1");
	assert_line(text, "dnsguard_badmail_entries 0");
}

static void test_histogram_is_cumulative(void **state)
{
	struct metrics_facts facts = {.accepting = true};
	struct dns_evidence ev = {.qname = "a.test.", .outcome = DNS_FOUND, .rcode = 0, .ms = 0};
	const char *t;

	(void)state;
	metrics_count_dns(&ev);		/* 0 ms: the first bucket */
	ev.ms = 3;
	metrics_count_dns(&ev);		/* le 0.005 */
	ev = (struct dns_evidence){.qname = "b.test.", .outcome = DNS_TEMPFAIL, .cause = DNS_CAUSE_DEADLINE,
				   .rcode = -1, .ms = 20000};
	metrics_count_dns(&ev);		/* past every bound: +Inf only */
	t = render(&facts);
	assert_line(t, "dnsguard_dns_duration_seconds_bucket{le=\"0.001\"} 1");
	assert_line(t, "dnsguard_dns_duration_seconds_bucket{le=\"0.002\"} 1");
	assert_line(t, "dnsguard_dns_duration_seconds_bucket{le=\"0.005\"} 2");
	assert_line(t, "dnsguard_dns_duration_seconds_bucket{le=\"10.000\"} 2");
	assert_line(t, "dnsguard_dns_duration_seconds_bucket{le=\"+Inf\"} 3");
	assert_line(t, "dnsguard_dns_duration_seconds_sum 20.003");
	assert_line(t, "dnsguard_dns_duration_seconds_count 3");
	assert_line(t, "dnsguard_dns_answers_total{outcome=\"found\"} 2");
	assert_line(t, "dnsguard_dns_failures_total{cause=\"deadline\"} 1");
	assert_line(t, "dnsguard_dns_rcodes_total{rcode=\"NOERROR\"} 2");
	assert_line(t, "dnsguard_dns_rcodes_total{rcode=\"none\"} 1");
}

static void test_label_values_escaped(void **state)
{
	struct metrics_facts facts = {.accepting = true, .server_count = 1};
	char storage[64];
	struct strbuf sb;
	const char *t;

	(void)state;
	strbuf_init(&sb, storage, sizeof(storage));
	metrics_append_label_value(&sb, "a\"b\\c\nd\re\x01");
	assert_string_equal(strbuf_text(&sb), "a\\\"b\\\\c\\nd?e?");

	snprintf(facts.servers[0].name, sizeof(facts.servers[0].name), "evil\"}\nfake_metric 1");
	facts.servers[0].state = PROBE_SERVER_SILENT;
	t = render(&facts);
	assert_line(t, "dnsguard_dns_server_state{server=\"evil\\\"}\\nfake_metric 1\",state=\"silent\"} 1");
	assert_line(t, "dnsguard_dns_server_state{server=\"evil\\\"}\\nfake_metric 1\",state=\"answering\"} 0");
	assert_null(strstr(t, "\nfake_metric"));
}

static void test_sessions_and_routes(void **state)
{
	struct metrics_facts facts = {.accepting = true};
	const char *t;

	(void)state;
	metrics_session_opened();
	metrics_session_opened();
	metrics_session_closed();
	assert_int_equal(metrics_route_answer_of("OK smtp:[192.0.2.1]"), METRICS_ROUTE_OK);
	assert_int_equal(metrics_route_answer_of("NOTFOUND "), METRICS_ROUTE_NOTFOUND);
	assert_int_equal(metrics_route_answer_of("PERM bad"), METRICS_ROUTE_PERM);
	assert_int_equal(metrics_route_answer_of("TIMEOUT x"), METRICS_ROUTE_TEMP);
	assert_int_equal(metrics_route_answer_of(""), METRICS_ROUTE_TEMP);
	metrics_count_route(METRICS_ROUTE_OK, true);
	metrics_count_route(METRICS_ROUTE_NOTFOUND, false);
	t = render(&facts);
	assert_line(t, "dnsguard_sessions_open 1");
	assert_line(t, "dnsguard_sessions_total 2");
	assert_line(t, "dnsguard_route_lookups_total{answer=\"ok\"} 1");
	assert_line(t, "dnsguard_route_lookups_total{answer=\"notfound\"} 1");
	assert_line(t, "dnsguard_route_stale_answers_total 1");
	/* the badmail store is not open: no made-up zeros */
	assert_null(strstr(t, "dnsguard_badmail"));
}

static void test_health(void **state)
{
	struct metrics_facts facts = {.accepting = true};
	struct dns_evidence ev = {.qname = "a.test.", .outcome = DNS_TEMPFAIL, .cause = DNS_CAUSE_LOCAL, .rcode = -1};
	char reason[256];

	(void)state;
	/* idle: healthy */
	assert_true(metrics_health(&facts, reason, sizeof(reason)));
	assert_string_equal(reason, "ok");
	/* dnsguard's own trouble says nothing about the servers */
	metrics_count_dns(&ev);
	assert_true(metrics_health(&facts, reason, sizeof(reason)));
	/* a failure with no usable answer in the window */
	ev.cause = DNS_CAUSE_SERVFAIL;
	ev.rcode = 2;
	metrics_count_dns(&ev);
	assert_false(metrics_health(&facts, reason, sizeof(reason)));
	assert_non_null(strstr(reason, "DNS is failing"));
	assert_line(render(&facts), "dnsguard_dns_healthy 0");
	/* a usable answer (NXDOMAIN is one) in the window: healthy again */
	ev = (struct dns_evidence){.qname = "b.test.", .outcome = DNS_NXDOMAIN, .rcode = 3};
	metrics_count_dns(&ev);
	assert_true(metrics_health(&facts, reason, sizeof(reason)));
	assert_line(render(&facts), "dnsguard_dns_healthy 1");
	/* stopping */
	facts.accepting = false;
	assert_false(metrics_health(&facts, reason, sizeof(reason)));
	assert_non_null(strstr(reason, "not accepting sessions"));
	assert_line(render(&facts), "dnsguard_accepting_sessions 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_decisions_counted_by_labels, reset),
		cmocka_unit_test_setup(test_families_have_help_and_type, reset),
		cmocka_unit_test_setup(test_histogram_is_cumulative, reset),
		cmocka_unit_test_setup(test_label_values_escaped, reset),
		cmocka_unit_test_setup(test_sessions_and_routes, reset),
		cmocka_unit_test_setup(test_health, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
