/*
 * Unit tests for config: syntax, every value type, units, errors with file:line, all-or-nothing,
 * and that conf/dnsguard.conf and dnsguard.conf(5) document exactly the keys of the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_files.h"

#include "config.h"
#include "textfile.h"

static struct config *parse(const char *text, struct strbuf *errors)
{
	strbuf_init_heap(errors, 65536);
	return config_parse(text, "test.conf", errors);
}

static void test_defaults(void **state)
{
	(void)state;
	struct config *c = config_defaults();
	assert_non_null(c);
	assert_string_equal(c->milter_socket, "unix:/run/dnsguard/milter.sock");
	assert_int_equal(c->milter_socket_mode, 0660);
	assert_int_equal(c->dns.mode, DNS_MODE_RESOLV_CONF);
	assert_int_equal(c->dns.transport, DNS_TRANSPORT_UDP_TCP);
	assert_int_equal(c->dns_deadline_ms, 4000);
	assert_int_equal(c->log_facility, LOG_MAIL);
	assert_int_equal(c->log_level, LOG_LEVEL_INFO);
	assert_string_equal(c->route_socket, "");
	config_free(c);
}

static void test_values(void **state)
{
	(void)state;
	struct strbuf errors;
	struct config *c = parse("# a comment\n"
				 "  milter_socket = inet:8891@127.0.0.1   # trailing comment\n"
				 "milter_socket_mode=0666\n"
				 "user =\n"
				 "dns_servers = 127.0.0.1@5353, ::1 192.0.2.53\n"
				 "dns_transport = tcp\n"
				 "dns_deadline = 1500ms\n"
				 "log_facility = local3\n"
				 "log_level = debug\n"
				 "shutdown_timeout = 2m\n"
				 "\n",
				 &errors);
	assert_non_null(c);
	assert_string_equal(strbuf_text(&errors), "");
	assert_string_equal(c->milter_socket, "inet:8891@127.0.0.1");
	assert_int_equal(c->milter_socket_mode, 0666);
	assert_string_equal(c->user, "");
	assert_int_equal(c->dns.mode, DNS_MODE_FORWARD);
	assert_int_equal(c->dns.server_count, 3);
	assert_int_equal(c->dns.servers[0].port, 5353);
	assert_int_equal(c->dns.servers[1].addr.family, AF_INET6);
	assert_int_equal(c->dns.servers[2].port, 53);
	assert_int_equal(c->dns.transport, DNS_TRANSPORT_TCP);
	assert_int_equal(c->dns_deadline_ms, 1500);
	assert_int_equal(c->log_facility, LOG_LOCAL3);
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c->shutdown_timeout_ms, 120000);
	config_free(c);
	strbuf_free(&errors);
}

static void test_recursive(void **state)
{
	(void)state;
	struct strbuf errors;
	struct config *c = parse("dns_servers = recursive\ndns_transport = udp\n", &errors);
	assert_non_null(c);
	assert_int_equal(c->dns.mode, DNS_MODE_RECURSIVE);
	assert_int_equal(c->dns.transport, DNS_TRANSPORT_UDP);
	config_free(c);
	strbuf_free(&errors);
}

/* Every bad line is reported, with its line number, and nothing is returned. */
static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	struct strbuf errors;
	struct config *c = parse("milter_socket = unix:/run/x.sock\n"
				 "dns_server = 127.0.0.1\n"
				 "dns_deadline = 4 seconds\n"
				 "this line has no equals sign\n"
				 "milter_socket = unix:/run/y.sock\n"
				 "dns_transport = tcp-only\n"
				 "dns_servers = 127.0.0.1@99999\n"
				 "milter_socket_mode = 0999\n"
				 "pid_file = relative/path\n"
				 "shutdown_timeout = 11m\n"
				 "frobnicate = yes\n"
				 "route_socket = tcp:25\n",
				 &errors);
	const char *e = strbuf_text(&errors);
	assert_null(c);
	assert_non_null(strstr(e, "test.conf:2: unknown key 'dns_server' (did you mean 'dns_servers'?)"));
	assert_non_null(strstr(e, "test.conf:3: dns_deadline = 4 seconds: expected a duration"));
	assert_non_null(strstr(e, "test.conf:4: expected 'key = value'"));
	assert_non_null(strstr(e, "test.conf:5: duplicate key 'milter_socket' (first set at line 1)"));
	assert_non_null(strstr(e, "test.conf:6: dns_transport = tcp-only: expected udp-tcp, tcp or udp"));
	assert_non_null(strstr(e, "test.conf:7: dns_servers = 127.0.0.1@99999: '127.0.0.1@99999' is not an IP"));
	assert_non_null(strstr(e, "test.conf:8: milter_socket_mode = 0999: expected an octal mode"));
	assert_non_null(strstr(e, "test.conf:9: pid_file = relative/path: expected an absolute path"));
	assert_non_null(strstr(e, "test.conf:10: shutdown_timeout = 11m: expected a duration from 0ms to 600000ms"));
	assert_non_null(strstr(e, "test.conf:11: unknown key 'frobnicate' (dnsguard.conf(5) lists the keys)"));
	assert_non_null(strstr(e, "test.conf:12: route_socket = tcp:25: expected unix:/path"));
	strbuf_free(&errors);
}

/* The metrics endpoint has no authentication: TCP only on a loopback address, said with file:line. */
static void test_metrics_socket_loopback_only(void **state)
{
	static const char *const good[] = {"unix:/run/dnsguard/metrics.sock", "inet:9426@127.0.0.1",
					   "inet:9426@127.1.2.3", "inet6:9426@[::1]", "inet6:9426@::1", ""};
	static const char *const bad[] = {"inet:9426", "inet:9426@0.0.0.0", "inet:9426@192.0.2.1",
					  "inet:9426@localhost", "inet6:9426@[::]", "inet6:9426@2001:db8::1",
					  "inet6:9426@127.0.0.1", "inet:9426@::1", "tcp:9426"};
	char text[128];
	struct strbuf errors;
	struct config *c;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "metrics_socket = %s\n", good[i]);
		c = parse(text, &errors);
		if (!c)
			fail_msg("%s refused: %s", good[i], strbuf_text(&errors));
		assert_string_equal(c->metrics_socket, good[i]);
		config_free(c);
		strbuf_free(&errors);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "log_level = info\nmetrics_socket = %s\n", bad[i]);
		c = parse(text, &errors);
		if (c)
			fail_msg("%s accepted", bad[i]);
		if (!strstr(strbuf_text(&errors), "test.conf:2: metrics_socket = "))
			fail_msg("%s: no file:line in '%s'", bad[i], strbuf_text(&errors));
		strbuf_free(&errors);
	}
	c = config_defaults();
	assert_string_equal(c->metrics_socket, "");
	assert_int_equal(c->metrics_socket_mode, 0660);
	config_free(c);
}

static void test_socket_specs(void **state)
{
	(void)state;
	static const char *const good[] = {"unix:/run/a.sock", "local:/a", "inet:8891", "inet:8891@localhost",
					   "inet6:8891@[::1]"};
	static const char *const bad[] = {"unix:relative", "inet:0@h", "inet:70000", "inet:x@h", "tcp:1", "inet:1@",
					  "unix:/"
					  "0123456789012345678901234567890123456789012345678901234567890123456789012345"
					  "6789012345678901234567890"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[256];
		struct strbuf errors;
		snprintf(text, sizeof(text), "milter_socket = %s\n", good[i]);
		struct config *c = parse(text, &errors);
		assert_non_null(c);
		config_free(c);
		strbuf_free(&errors);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct strbuf errors;
		snprintf(text, sizeof(text), "milter_socket = %s\n", bad[i]);
		assert_null(parse(text, &errors));
		strbuf_free(&errors);
	}
}

static void test_units(void **state)
{
	(void)state;
	unsigned long long v;
	assert_true(config_parse_duration_ms("500ms", &v));
	assert_int_equal(v, 500);
	assert_true(config_parse_duration_ms("4s", &v));
	assert_int_equal(v, 4000);
	assert_true(config_parse_duration_ms("4", &v));
	assert_int_equal(v, 4000);
	assert_true(config_parse_duration_ms("2m", &v));
	assert_int_equal(v, 120000);
	assert_true(config_parse_duration_ms("30d", &v));
	assert_int_equal(v, 30ULL * 86400000);
	/* as dnsguard-badmail purge --older-than takes them */
	assert_true(config_parse_duration_ms("12h", &v));
	assert_int_equal(v, 12ULL * 3600000);
	assert_true(config_parse_duration_ms("90m", &v));
	assert_int_equal(v, 90ULL * 60000);
	assert_true(config_parse_duration_ms("3600s", &v));
	assert_int_equal(v, 3600000);
	assert_false(config_parse_duration_ms("30D", &v));
	assert_false(config_parse_duration_ms("1h30m", &v));
	assert_false(config_parse_duration_ms("", &v));
	assert_false(config_parse_duration_ms("s", &v));
	assert_false(config_parse_duration_ms("-1s", &v));
	assert_false(config_parse_duration_ms("4 s", &v));
	assert_false(config_parse_duration_ms("4x", &v));
	assert_false(config_parse_duration_ms("99999999999999999999999d", &v));
	assert_false(config_parse_duration_ms("999999999999999999d", &v));
	assert_true(config_parse_size("100M", &v));
	assert_int_equal(v, 100ULL << 20);
	assert_true(config_parse_size("64k", &v));
	assert_int_equal(v, 65536);
	assert_true(config_parse_size("1G", &v));
	assert_int_equal(v, 1ULL << 30);
	assert_true(config_parse_size("123", &v));
	assert_int_equal(v, 123);
	assert_false(config_parse_size("1T", &v));
	assert_false(config_parse_size("M", &v));
	assert_false(config_parse_size("18446744073709551615G", &v));
}

static void test_long_and_binary_lines(void **state)
{
	(void)state;
	struct strbuf errors;
	char *text = malloc(10000);
	memset(text, 'a', 9998);
	text[9998] = '\n';
	text[9999] = '\0';
	assert_null(parse(text, &errors));
	assert_non_null(strstr(strbuf_text(&errors), "test.conf:1: line longer than"));
	strbuf_free(&errors);
	free(text);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct strbuf errors;
	strbuf_init_heap(&errors, 4096);
	assert_null(config_load("/nonexistent/dnsguard.conf", false, &errors));
	assert_non_null(strstr(strbuf_text(&errors), "/nonexistent/dnsguard.conf: cannot open: No such file"));
	struct config *c = config_load("/nonexistent/dnsguard.conf", true, &errors);
	assert_non_null(c);
	config_free(c);
	strbuf_free(&errors);
}

/* authserv_id must be a value that can stand in an Authentication-Results field as a token. */
static void test_authserv_id_values(void **state)
{
	(void)state;
	static const char *const good[] = {"", "mx.example.org", "MX-1.Example.ORG.", "mx_2", "localhost",
					   "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z"};
	static const char *const bad[] = {"mx example.org", "mx.example.org;", "postmaster@example.org",
					  "\"mx.example.org\"", "mx.example.org(x)", "[192.0.2.1]", "a,b",
					  "a:b", "a/b", "a=b", "a?b", "a<b>", "a\\b", "mx\x01.example.org",
					  "mx\x7f", "b\303\274cher.example"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[256];
		struct strbuf errors;
		snprintf(text, sizeof(text), "authserv_id = %s\n", good[i]);
		struct config *c = parse(text, &errors);
		if (!c)
			fail_msg("authserv_id '%s' refused: %s", good[i], strbuf_text(&errors));
		assert_string_equal(c->authserv_id, good[i]);
		config_free(c);
		strbuf_free(&errors);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct strbuf errors;
		snprintf(text, sizeof(text), "# header\nauthserv_id = %s\n", bad[i]);
		if (parse(text, &errors))
			fail_msg("authserv_id '%s' accepted", bad[i]);
		if (!strstr(strbuf_text(&errors), "test.conf:2: authserv_id = ") ||
		    !strstr(strbuf_text(&errors), "expected a host name"))
			fail_msg("authserv_id '%s': %s", bad[i], strbuf_text(&errors));
		strbuf_free(&errors);
	}

	/* the error says which byte is wrong */
	struct strbuf errors;
	assert_null(parse("authserv_id = postmaster@example.org\n", &errors));
	assert_non_null(strstr(strbuf_text(&errors), "test.conf:1: authserv_id = postmaster@example.org: '@' is not allowed"));
	strbuf_free(&errors);
	assert_null(parse("authserv_id = mx\x01\n", &errors));
	assert_non_null(strstr(strbuf_text(&errors), ": byte 0x01 is not allowed: expected a host name"));
	strbuf_free(&errors);

	/* longer than any domain name is refused */
	char text[400];
	memset(text, 0, sizeof(text));
	strcpy(text, "authserv_id = ");
	memset(text + strlen(text), 'a', 255);
	strcat(text, "\n");
	struct config *c = parse(text, &errors);
	assert_non_null(c);
	config_free(c);
	strbuf_free(&errors);
	text[strlen(text) - 1] = 'a';
	strcat(text, "\n");
	assert_null(parse(text, &errors));
	assert_non_null(strstr(strbuf_text(&errors), "at most 255 bytes"));
	strbuf_free(&errors);
}

/* A directory of its own, removed at the end, for files a config names. */
static char *make_temp_dir(void)
{
	char *dir = strdup("/tmp/dnsguard-test-config.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

/* dns_trust_anchor and dns_root_hints name files libunbound reads only at its first lookup: a
 * file that is not there must fail `dnsguard -n` and startup, not the first message. */
static void test_dns_files_must_exist(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char conf[512], anchor[512], hints[512], missing[512], text[2048];
	struct strbuf errors;
	struct config *c;

	snprintf(conf, sizeof(conf), "%s/dnsguard.conf", dir);
	snprintf(anchor, sizeof(anchor), "%s/root.key", dir);
	snprintf(hints, sizeof(hints), "%s/root.hints", dir);
	snprintf(missing, sizeof(missing), "%s/missing.key", dir);
	unit_write_file(anchor, ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n");
	unit_write_file(hints, ". 3600000 IN NS a.root.test.\n");

	/* existing files are fine */
	snprintf(text, sizeof(text), "dns_servers = recursive\ndns_trust_anchor = %s\ndns_root_hints = %s\n", anchor,
		 hints);
	unit_write_file(conf, text);
	strbuf_init_heap(&errors, 65536);
	c = config_load(conf, false, &errors);
	if (!c)
		fail_msg("%s", strbuf_text(&errors));
	assert_string_equal(c->dns_trust_anchor, anchor);
	assert_string_equal(c->dns_root_hints, hints);
	config_free(c);

	/* a missing file is refused with file:line and the system's reason */
	snprintf(text, sizeof(text), "dns_servers = recursive\n\ndns_trust_anchor = %s\ndns_root_hints = %s\n", missing,
		 missing);
	unit_write_file(conf, text);
	assert_null(config_load(conf, false, &errors));
	char want[1200];
	snprintf(want, sizeof(want), "%s:3: dns_trust_anchor = %s: cannot open: No such file or directory\n", conf,
		 missing);
	if (!strstr(strbuf_text(&errors), want))
		fail_msg("expected '%s' in '%s'", want, strbuf_text(&errors));
	snprintf(want, sizeof(want), "%s:4: dns_root_hints = %s: cannot open: No such file or directory\n", conf,
		 missing);
	if (!strstr(strbuf_text(&errors), want))
		fail_msg("expected '%s' in '%s'", want, strbuf_text(&errors));
	strbuf_free(&errors);

	/* so is a directory, or anything else that is not a regular file */
	snprintf(text, sizeof(text), "dns_trust_anchor = %s\ndns_root_hints = /dev/null\n", dir);
	assert_null(parse(text, &errors));
	snprintf(want, sizeof(want), "test.conf:1: dns_trust_anchor = %s: not a regular file\n", dir);
	if (!strstr(strbuf_text(&errors), want))
		fail_msg("expected '%s' in '%s'", want, strbuf_text(&errors));
	assert_non_null(strstr(strbuf_text(&errors), "test.conf:2: dns_root_hints = /dev/null: not a regular file\n"));
	strbuf_free(&errors);

	/* still an absolute path, and empty still means none */
	assert_null(parse("dns_trust_anchor = root.key\n", &errors));
	assert_non_null(strstr(strbuf_text(&errors), "test.conf:1: dns_trust_anchor = root.key: expected an absolute path"));
	strbuf_free(&errors);
	c = parse("dns_trust_anchor =\ndns_root_hints =\n", &errors);
	assert_non_null(c);
	assert_string_equal(c->dns_trust_anchor, "");
	config_free(c);
	strbuf_free(&errors);

	unlink(conf);
	unlink(anchor);
	unlink(hints);
	rmdir(dir);
	free(dir);
}

/* Round trip: what -p prints parses back to the same values. */
static void test_write_parses_back(void **state)
{
	(void)state;
	struct strbuf errors;
	struct config *c = parse("dns_servers = 127.0.0.1@5353 ::1\ndns_deadline = 1500ms\nlog_level = debug\n", &errors);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	config_write(c, f);
	fclose(f);
	struct strbuf errors2;
	struct config *again = parse(text, &errors2);
	assert_non_null(again);
	assert_int_equal(again->dns.server_count, 2);
	assert_int_equal(again->dns.servers[0].port, 5353);
	assert_int_equal(again->dns_deadline_ms, 1500);
	assert_int_equal(again->log_level, LOG_LEVEL_DEBUG);
	config_free(c);
	config_free(again);
	free(text);
	strbuf_free(&errors);
	strbuf_free(&errors2);
}

/* conf/dnsguard.conf shows every key, commented out, with its built-in default. */
static void test_sample_config_matches_table(void **state)
{
	(void)state;
	char *sample = unit_read_source("conf/dnsguard.conf", NULL);
	char *expected = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&expected, &len);
	config_write_sample(f);
	fclose(f);
	/* each "#key = default" line of the table's sample stands in the shipped sample, which
	 * names paths as installed with --sysconfdir=/etc */
	for (char *line = strtok(expected, "\n"); line; line = strtok(NULL, "\n")) {
		char want[1024];
		const char *at = strstr(line, DNSGUARD_SYSCONFDIR "/");
		if (strncmp(line, "# ", 2) == 0)
			continue;
		if (at)
			snprintf(want, sizeof(want), "%.*s/etc%s", (int)(at - line), line,
				 at + strlen(DNSGUARD_SYSCONFDIR));
		else
			snprintf(want, sizeof(want), "%s", line);
		if (!strstr(sample, want))
			fail_msg("conf/dnsguard.conf lacks the line '%s'", want);
	}
	/* and the sample, uncommented, is the defaults */
	struct strbuf uncommented, errors;
	strbuf_init_heap(&uncommented, 1 << 20);
	for (char *line = strtok(sample, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] == '#' && line[1] != ' ' && line[1] != '#' && strchr(line, '='))
			strbuf_appendf(&uncommented, "%s\n", line + 1);
	struct config *c = parse(strbuf_text(&uncommented), &errors);
	if (!c)
		fail_msg("uncommented sample does not parse: %s", strbuf_text(&errors));
	struct config *d = config_defaults();
	assert_string_equal(c->milter_socket, d->milter_socket);
	assert_int_equal(c->dns_deadline_ms, d->dns_deadline_ms);
	config_free(c);
	config_free(d);
	strbuf_free(&uncommented);
	strbuf_free(&errors);
	free(expected);
	free(sample);
}

/* dnsguard.conf(5) has a section for every key. */
static void test_man_page_documents_every_key(void **state)
{
	(void)state;
	char *man = unit_read_source("conf/dnsguard.conf.5.in", NULL);
	for (unsigned i = 0; config_key_name(i); i++) {
		char heading[128];
		const char *entry, *end, *next_sh;
		bool says_restart;
		snprintf(heading, sizeof(heading), ".B %s\n", config_key_name(i));
		if (!(entry = strstr(man, heading)))
			fail_msg("dnsguard.conf.5.in does not document %s", config_key_name(i));
		/* the entry runs to the next .TP or section; restart-only is the table's column */
		end = strstr(entry, ".TP\n");
		next_sh = strstr(entry, ".SH ");
		if (!end || (next_sh && next_sh < end))
			end = next_sh ? next_sh : entry + strlen(entry);
		says_restart = memmem(entry, (size_t)(end - entry), "takes effect at restart",
				      strlen("takes effect at restart")) != NULL;
		if (says_restart != config_key_restart_only(i))
			fail_msg("dnsguard.conf.5.in %s that %s takes effect at restart, the config table %s",
				 says_restart ? "says" : "does not say", config_key_name(i),
				 config_key_restart_only(i) ? "does" : "does not");
	}
	free(man);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_metrics_socket_loopback_only),
		cmocka_unit_test(test_recursive),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_socket_specs),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_long_and_binary_lines),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_authserv_id_values),
		cmocka_unit_test(test_dns_files_must_exist),
		cmocka_unit_test(test_write_parses_back),
		cmocka_unit_test(test_sample_config_matches_table),
		cmocka_unit_test(test_man_page_documents_every_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
