/*
 * Unit tests for postfix_chroot: Debian's master.cf (smtpd, cleanup and trivial-rewrite chrooted)
 * against sockets inside and outside the queue directory, the chroot column read as Postfix reads
 * it (continuation lines, comments, "-"), and main.cf's queue_directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "postfix_chroot.h"

/* the lines of Debian 12's master.cf that matter, with its header and a continuation */
static const char debian_master_cf[] =
	"#\n"
	"# Postfix master process configuration file.\n"
	"# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
	"#               (yes)   (yes)   (no)    (never) (100)\n"
	"# ==========================================================================\n"
	"smtp      inet  n       -       y       -       -       smtpd\n"
	"#submission inet n       -       y       -       -       smtpd\n"
	"#  -o syslog_name=postfix/submission\n"
	"pickup    unix  n       -       y       60      1       pickup\n"
	"cleanup   unix  n       -       y       -       0       cleanup\n"
	"qmgr      unix  n       -       n       300     1       qmgr\n"
	"rewrite   unix  -       -       y       -       -       trivial-rewrite\n"
	"smtp      unix  -       -       y       -       -       smtp\n"
	"local     unix  -       n       n       -       -       local\n"
	"virtual   unix  -       n       n       -       -       virtual\n";

static const char unchrooted_master_cf[] =
	"smtp      inet  n       -       n       -       -       smtpd\n"
	"cleanup   unix  n       -       -       -       0       cleanup\n"
	"rewrite   unix  -       -       n       -       -       trivial-rewrite\n";

static const char *check(const char *key, const char *spec, enum postfix_socket_client client, const char *master_cf,
			 bool expect)
{
	static char text[4096];
	struct strbuf warnings;

	strbuf_init(&warnings, text, sizeof(text));
	assert_int_equal(postfix_chroot_check(key, spec, client, "/var/spool/postfix", master_cf, &warnings), expect);
	assert_int_equal(strbuf_len(&warnings) > 0, expect);
	return strbuf_text(&warnings);
}

static void test_socket_outside_the_chroot(void **state)
{
	(void)state;
	const char *text = check("milter_socket", "unix:/run/dnsguard/milter.sock", POSTFIX_CLIENT_MILTER,
				 debian_master_cf, true);
	assert_string_equal(text,
			    "milter_socket unix:/run/dnsguard/milter.sock: Postfix runs smtpd and cleanup chrooted in "
			    "/var/spool/postfix (master.cf), where this socket cannot be seen: put it under "
			    "/var/spool/postfix (e.g. unix:/var/spool/postfix/dnsguard/milter.sock) and name it relative "
			    "to that directory in main.cf (unix:dnsguard/milter.sock), or turn the chroot off for them\n");
	text = check("route_socket", "local:/run/dnsguard/route.sock", POSTFIX_CLIENT_ROUTES, debian_master_cf, true);
	assert_non_null(strstr(text, "route_socket local:/run/dnsguard/route.sock: Postfix runs trivial-rewrite chrooted in "));
	assert_non_null(strstr(text, "(unix:dnsguard/route.sock), or turn the chroot off for it\n"));
}

static void test_socket_inside_the_chroot(void **state)
{
	(void)state;
	check("milter_socket", "unix:/var/spool/postfix/dnsguard/milter.sock", POSTFIX_CLIENT_MILTER, debian_master_cf,
	      false);
	check("route_socket", "unix:/var/spool/postfix/dnsguard/route.sock", POSTFIX_CLIENT_ROUTES, debian_master_cf,
	      false);
	/* a prefix of the name is not the directory, and the directory itself is no socket */
	check("milter_socket", "unix:/var/spool/postfix2/milter.sock", POSTFIX_CLIENT_MILTER, debian_master_cf, true);
	check("milter_socket", "unix:/var/spool/postfix/", POSTFIX_CLIENT_MILTER, debian_master_cf, true);
}

static void test_inet_is_seen_from_anywhere(void **state)
{
	(void)state;
	check("milter_socket", "inet:8891@127.0.0.1", POSTFIX_CLIENT_MILTER, debian_master_cf, false);
	check("route_socket", "inet6:8892@[::1]", POSTFIX_CLIENT_ROUTES, debian_master_cf, false);
}

static void test_no_chroot(void **state)
{
	(void)state;
	/* "n", and "-", which is "n" since Postfix 3.0 */
	check("milter_socket", "unix:/run/dnsguard/milter.sock", POSTFIX_CLIENT_MILTER, unchrooted_master_cf, false);
	check("route_socket", "unix:/run/dnsguard/route.sock", POSTFIX_CLIENT_ROUTES, unchrooted_master_cf, false);
	check("milter_socket", "unix:/run/dnsguard/milter.sock", POSTFIX_CLIENT_MILTER, "", false);
}

static void test_only_the_programs_that_connect(void **state)
{
	(void)state;
	/* chrooted smtp (the client) and pickup do not connect to the milter; trivial-rewrite does not either */
	const char *master_cf = "smtp unix - - y - - smtp\npickup unix n - y 60 1 pickup\n"
				"rewrite unix - - y - - trivial-rewrite\n";
	check("milter_socket", "unix:/run/dnsguard/milter.sock", POSTFIX_CLIENT_MILTER, master_cf, false);
	/* only cleanup chrooted: named alone */
	const char *text = check("milter_socket", "unix:/run/dnsguard/milter.sock", POSTFIX_CLIENT_MILTER,
				 "cleanup unix n - y - 0 cleanup\n", true);
	assert_non_null(strstr(text, "Postfix runs cleanup chrooted in"));
	/* named in one order, whatever master.cf's */
	text = check("milter_socket", "unix:/run/dnsguard/milter.sock", POSTFIX_CLIENT_MILTER,
		     "cleanup unix n - y - 0 cleanup\nsmtp inet n - y - - smtpd\n", true);
	assert_non_null(strstr(text, "Postfix runs smtpd and cleanup chrooted in"));
	/* two chrooted smtpd services are one program */
	text = check("milter_socket", "unix:/run/dnsguard/milter.sock", POSTFIX_CLIENT_MILTER,
		     "smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n  -o smtpd_sasl_auth_enable=yes\n",
		     true);
	assert_non_null(strstr(text, "Postfix runs smtpd chrooted in"));
}

static void test_continuation_lines(void **state)
{
	(void)state;
	/* the chroot column on a continuation line, and an -o line that looks like a service */
	check("milter_socket", "unix:/run/x.sock", POSTFIX_CLIENT_MILTER, "smtp inet n -\n  y - - smtpd\n", true);
	check("milter_socket", "unix:/run/x.sock", POSTFIX_CLIENT_MILTER,
	      "smtp inet n - n - - smtpd\n  -o a=b y y y y y smtpd\n", false);
	/* a commented service is no service */
	check("milter_socket", "unix:/run/x.sock", POSTFIX_CLIENT_MILTER, "#smtp inet n - y - - smtpd\n", false);
}

static void test_queue_directory(void **state)
{
	char value[256];

	(void)state;
	assert_false(postfix_main_cf_value("myhostname = mx.example\n", "queue_directory", value, sizeof(value)));
	assert_true(postfix_main_cf_value("queue_directory = /srv/postfix\n", "queue_directory", value, sizeof(value)));
	assert_string_equal(value, "/srv/postfix");
	/* the last setting wins; spaces and comments around it; not a longer name */
	assert_true(postfix_main_cf_value("queue_directory=/a\n# queue_directory = /b\nqueue_directory_x = /c\n"
					  "queue_directory   =   /d  \n",
					  "queue_directory", value, sizeof(value)));
	assert_string_equal(value, "/d");
	/* a value continued on the next line */
	assert_true(postfix_main_cf_value("queue_directory =\n  /e\n", "queue_directory", value, sizeof(value)));
	assert_string_equal(value, "/e");
	/* $expansion is not done: not set, as far as we can tell */
	assert_false(postfix_main_cf_value("queue_directory = $base/spool\n", "queue_directory", value, sizeof(value)));
	assert_false(postfix_main_cf_value("queue_directory = /a-long-name\n", "queue_directory", value, 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_outside_the_chroot),
		cmocka_unit_test(test_socket_inside_the_chroot),
		cmocka_unit_test(test_inet_is_seen_from_anywhere),
		cmocka_unit_test(test_no_chroot),
		cmocka_unit_test(test_only_the_programs_that_connect),
		cmocka_unit_test(test_continuation_lines),
		cmocka_unit_test(test_queue_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
