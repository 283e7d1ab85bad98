/*
 * Unit tests for submission through sendmail(1) (lib/submit), against a stand-in program that
 * records its argv and standard input: the argv (no shell, "--" before the recipients, <> for the
 * null sender), the message from the file's offset, a failure with its reason, a program that
 * hangs (killed at the timeout), one that cannot be run, and addresses with control bytes refused.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_files.h"

#include "submit.h"

static char dir[] = "/tmp/test_submit.XXXXXX";
static char program[300], message[300];

/* A file the stand-in sendmail wrote in the test's directory. */
static char *read_file(const char *name)
{
	char path[400], *text;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = unit_read_file(path, NULL);
	assert_non_null(text);
	return text;
}

static void set_mode(const char *mode)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/mode", dir);
	unit_write_file(path, mode);
}

static int open_message(off_t offset)
{
	int fd = open(message, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, offset, SEEK_SET), offset);
	return fd;
}

static void test_argv_and_message(void **state)
{
	(void)state;
	const char *rcpts[] = {"bob@example.org", "-oQ/tmp/evil@example.org"};
	char err[256], *argv, *in;
	int fd = open_message(11);	/* past a line the store keeps for itself */

	set_mode("ok");
	assert_int_equal(submit_message(program, "", rcpts, 2, fd, 5000, err, sizeof(err)), 0);
	close(fd);
	argv = read_file("argv");
	/* one argument per line: an address that looks like an option stays an address */
	assert_string_equal(argv, "-i\n-f\n<>\n--\nbob@example.org\n-oQ/tmp/evil@example.org\n");
	in = read_file("stdin");
	assert_string_equal(in, "Subject: test\n\nbody\n.\nmore\n");
	free(argv);
	free(in);

	fd = open_message(0);
	assert_int_equal(submit_message(program, "alice@example.net", rcpts, 1, fd, 5000, err, sizeof(err)), 0);
	close(fd);
	argv = read_file("argv");
	assert_string_equal(argv, "-i\n-f\nalice@example.net\n--\nbob@example.org\n");
	free(argv);
	/* the environment is not dnsguard's */
	in = read_file("env");
	assert_null(strstr(in, "HOME="));
	assert_non_null(strstr(in, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
	free(in);
}

static void test_failure_says_why(void **state)
{
	(void)state;
	const char *rcpts[] = {"bob@example.org"};
	char err[256];
	int fd = open_message(0);

	set_mode("fail");
	assert_int_equal(submit_message(program, "", rcpts, 1, fd, 5000, err, sizeof(err)), -1);
	close(fd);
	assert_non_null(strstr(err, "exited with status 75: sendmail: fatal: queue file write error"));

	fd = open_message(0);
	assert_int_equal(submit_message("/nonexistent/sendmail", "", rcpts, 1, fd, 5000, err, sizeof(err)), -1);
	close(fd);
	assert_string_equal(err, "/nonexistent/sendmail: cannot be run");
}

static void test_hang_is_killed_at_the_timeout(void **state)
{
	(void)state;
	const char *rcpts[] = {"bob@example.org"};
	char err[256];
	struct timespec a, b;
	long ms;
	int fd = open_message(0);

	set_mode("hang");
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(submit_message(program, "", rcpts, 1, fd, 300, err, sizeof(err)), -1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	close(fd);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 290 && ms < 3000);
	assert_non_null(strstr(err, "no answer within 300 ms"));
}

static void test_control_bytes_refused(void **state)
{
	(void)state;
	const char *bad[] = {"bob@example.org\n-X/tmp/log"};
	const char *good[] = {"bob@example.org"};
	char err[256];
	int fd = open_message(0);

	set_mode("ok");
	assert_int_equal(submit_message(program, "", bad, 1, fd, 5000, err, sizeof(err)), -1);
	assert_int_equal(submit_message(program, "a\r@example.net", good, 1, fd, 5000, err, sizeof(err)), -1);
	assert_int_equal(submit_message(program, "", good, 0, fd, 5000, err, sizeof(err)), -1);
	assert_int_equal(submit_message("sendmail", "", good, 1, fd, 5000, err, sizeof(err)), -1);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	char text[2048];

	if (!mkdtemp(dir))
		return -1;
	snprintf(program, sizeof(program), "%s/sendmail", dir);
	snprintf(message, sizeof(message), "%s/message", dir);
	unit_write_file(message, "X-Trace: x\nSubject: test\n\nbody\n.\nmore\n");
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "d='%s'\n"
		 ": > \"$d/argv\"\n"
		 "for a in \"$@\"; do printf '%%s\\n' \"$a\" >> \"$d/argv\"; done\n"
		 "env > \"$d/env\"\n"
		 "cat > \"$d/stdin\"\n"
		 "case $(cat \"$d/mode\") in\n"
		 "fail) echo 'sendmail: fatal: queue file write error' >&2; exit 75;;\n"
		 "hang) exec sleep 30;;\n"
		 "esac\n"
		 "exit 0\n",
		 dir);
	unit_write_file(program, text);
	return chmod(program, 0755);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_and_message),
		cmocka_unit_test(test_failure_says_why),
		cmocka_unit_test(test_hang_is_killed_at_the_timeout),
		cmocka_unit_test(test_control_bytes_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
