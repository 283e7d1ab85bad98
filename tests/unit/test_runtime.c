/*
 * Unit tests for the configuration generation (lib/runtime), with no MTA and no libmilter: load,
 * install, pin, all-or-nothing reload (a broken policy keeps the running generation), an old
 * generation staying whole while pinned, and the restart-only keys taken from the config table.
 * The resolver is built against a loopback address it never asks: nothing is resolved here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_files.h"

#include "config.h"
#include "runtime.h"

static char dir[] = "/tmp/test_runtime.XXXXXX";
static char conf_path[256], policy_path[256];

static void write_config(const char *extra)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "milter_socket = unix:%s/milter.sock\npolicy_file = %s\ndns_servers = 127.0.0.1@9\n%s", dir,
		 policy_path, extra);
	unit_write_file(conf_path, text);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/dnsguard.conf", dir);
	snprintf(policy_path, sizeof(policy_path), "%s/policy.json", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(conf_path);
	unlink(policy_path);
	rmdir(dir);
	return 0;
}

static void test_reload_is_all_or_nothing(void **state)
{
	(void)state;
	struct strbuf errors;
	struct runtime *first, *pinned, *now;

	write_config("");
	unit_write_file(policy_path, "{\"version\": 1}");
	strbuf_init_heap(&errors, 4096);
	first = runtime_load(conf_path, &errors, NULL);
	assert_non_null(first);
	assert_true(runtime_start_dns(first, &errors));
	runtime_install(first);

	/* a session pins the running generation */
	pinned = runtime_acquire();
	assert_ptr_equal(pinned, first);
	assert_int_equal(policy_rule_count(pinned->policy), 0);

	/* a broken policy: reload refused, the running generation stays */
	unit_write_file(policy_path, "{\"version\": 1, \"rules\": [{\"if\": {\"check\": \"nosuch\"}}]}");
	assert_false(runtime_reload(conf_path));
	now = runtime_acquire();
	assert_ptr_equal(now, first);
	runtime_release(now);

	/* a good one: a new generation; the pinned one is still whole until its last user lets go */
	unit_write_file(policy_path, "{\"version\": 1, \"rules\": [{\"name\": \"r\", \"if\": {\"check\": \"client\", "
				"\"outcome\": \"fail\"}, \"then\": \"reject\"}]}");
	assert_true(runtime_reload(conf_path));
	now = runtime_acquire();
	assert_ptr_not_equal(now, first);
	assert_true(now->generation > pinned->generation);
	assert_int_equal(policy_rule_count(now->policy), 1);
	assert_int_equal(policy_rule_count(pinned->policy), 0);
	assert_string_equal(pinned->config->policy_file, policy_path);
	runtime_release(pinned);	/* the old generation is freed here (ASan/valgrind would say) */
	runtime_release(now);

	/* a broken config: refused too */
	unit_write_file(conf_path, "no_such_key = 1\n");
	assert_false(runtime_reload(conf_path));
	now = runtime_acquire();
	assert_int_equal(policy_rule_count(now->policy), 1);
	runtime_release(now);
	strbuf_free(&errors);
}

static void test_restart_only_keys_come_from_the_table(void **state)
{
	(void)state;
	static const char *const expected[] = {"milter_socket", "milter_socket_mode", "user", "group",
					       "pid_file", "log_facility", "route_socket", "route_socket_mode",
					       "route_state_file", "metrics_socket", "metrics_socket_mode"};
	size_t found = 0;
	struct config *a = config_defaults(), *b;
	struct strbuf errors;
	char va[1100], vb[1100];

	for (unsigned i = 0; config_key_name(i); i++) {
		if (!config_key_restart_only(i))
			continue;
		assert_true(found < sizeof(expected) / sizeof(expected[0]));
		assert_string_equal(config_key_name(i), expected[found]);
		found++;
	}
	assert_int_equal(found, sizeof(expected) / sizeof(expected[0]));
	assert_false(config_key_restart_only(9999));

	/* values compare as `dnsguard -p` prints them */
	strbuf_init_heap(&errors, 1024);
	b = config_parse("milter_socket_mode = 0666\n", "t.conf", &errors);
	assert_non_null(b);
	for (unsigned i = 0; config_key_name(i); i++) {
		config_key_value(a, i, va, sizeof(va));
		config_key_value(b, i, vb, sizeof(vb));
		if (strcmp(config_key_name(i), "milter_socket_mode") == 0) {
			assert_string_equal(va, "0660");
			assert_string_equal(vb, "0666");
		} else {
			assert_string_equal(va, vb);
		}
	}
	config_free(a);
	config_free(b);
	strbuf_free(&errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_is_all_or_nothing),
		cmocka_unit_test(test_restart_only_keys_come_from_the_table),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
