/*
 * Unit tests for the log writer's last line of defence: whatever a caller formats, no control,
 * DEL or 8-bit byte reaches stderr (or syslog) raw, and an overlong line is cut, not split.
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

#include "log.h"

/* Logs one line with stderr redirected to a file; returns what was written after "dnsguard: ". */
static char *logged(const char *fmt, const char *arg)
{
	static char out[16384];
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	size_t n;
	char *text;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	log_open(LOG_USER, true);
	log_set_level(LOG_LEVEL_DEBUG);
	log_info(fmt, arg);
	log_close();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	text = strstr(out, "dnsguard: ");
	assert_non_null(text);
	return text + strlen("dnsguard: ");
}

static void test_plain_line_is_unchanged(void **state)
{
	(void)state;
	assert_string_equal(logged("reload: config=%s", "/etc/dnsguard/dnsguard.conf"),
			    "reload: config=/etc/dnsguard/dnsguard.conf\n");
}

static void test_raw_bytes_are_escaped(void **state)
{
	(void)state;
	/* CR/LF would split the line, ESC would colour a terminal, 8-bit bytes reach the journal raw */
	assert_string_equal(logged("sender <%s> seen", "a\r\nb\x1b[31m\x7f\xc3\xa9\t"),
			    "sender <a\\x0d\\x0ab\\x1b[31m\\x7f\\xc3\\xa9\\x09> seen\n");
}

static void test_long_escaped_line_is_cut_not_split(void **state)
{
	(void)state;
	char big[3000];
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *line = logged("x=%s", big);
	size_t len = strlen(line);
	/* one line: the only newline is the one that ends it */
	assert_ptr_equal(strchr(line, '\n'), line + len - 1);
	assert_true(len < 4100);
	assert_memory_equal(line + len - 4, "...", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_line_is_unchanged),
		cmocka_unit_test(test_raw_bytes_are_escaped),
		cmocka_unit_test(test_long_escaped_line_is_cut_not_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
