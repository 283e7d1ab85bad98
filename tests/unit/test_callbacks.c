/*
 * Unit tests for the milter's callbacks with no MTA and no libmilter: milter/callbacks.c,
 * verdicts.c and session.c run against tests/unit/fake_mta.c, which records every reply and
 * change asked for and can refuse any of them, as a real MTA may.
 *
 * No resolver is started: a check that cannot run is undecided, which is what the policy's
 * failure mode is about.  Where a check result is needed (the Authentication-Results field), the
 * test hands the session one, as the client check would.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
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

#include "callbacks.h"
#include "fake_mta.h"
#include "log.h"
#include "runtime.h"
#include "session.h"

/* ---- log lines, captured (linked with -Wl,--wrap=log_msg) ------------------------------------ */

static char logged[16384];

void __wrap_log_msg(enum log_level level, const char *fmt, ...);
void __wrap_log_msg(enum log_level level, const char *fmt, ...)
{
	size_t used = strlen(logged);
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(logged + used, sizeof(logged) - used, fmt, ap);
	va_end(ap);
	used = strlen(logged);
	if (used + 1 < sizeof(logged))
		strcat(logged, "\n");
}

static void assert_logged(const char *text)
{
	if (!strstr(logged, text))
		fail_msg("not logged: %s\nlog:\n%s", text, logged);
}

/* ---- a generation with a policy, and a session ------------------------------------------------ */

static char dir[] = "/tmp/test_callbacks.XXXXXX";
static char conf_path[256], policy_path[256];
static char ctx_storage[64];
static SMFICTX *const ctx = (SMFICTX *)ctx_storage;

/* Installs a generation with this policy (NULL: the built-in defaults). */
static void install(const char *policy)
{
	char text[1024], errors_storage[2048];
	struct strbuf errors;
	struct runtime *rt;

	snprintf(text, sizeof(text),
		 "milter_socket = unix:%s/milter.sock\npolicy_file = %s\ndns_servers = 127.0.0.1@9\n"
		 "authserv_id = mx.test\n", dir, policy_path);
	unit_write_file(conf_path, text);
	unlink(policy_path);
	if (policy)
		unit_write_file(policy_path, policy);
	strbuf_init(&errors, errors_storage, sizeof(errors_storage));
	rt = runtime_load(conf_path, &errors, NULL);
	if (!rt)
		fail_msg("%s", strbuf_text(&errors));
	runtime_install(rt);
}

static struct session *session(void)
{
	return fake_mta.priv;
}

/* A client from the documentation network, HELO, MAIL. */
static void start(const char *from)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(40000)};
	char helo[] = "client.example", mail[256], *argv[] = {mail, NULL};

	inet_pton(AF_INET, "192.0.2.25", &sa.sin_addr);
	snprintf(mail, sizeof(mail), "%s", from);
	assert_int_equal(callbacks_filter.xxfi_connect(ctx, "unknown", (struct sockaddr *)&sa), SMFIS_CONTINUE);
	assert_non_null(session());
	assert_int_equal(callbacks_filter.xxfi_helo(ctx, helo), SMFIS_CONTINUE);
	assert_int_equal(callbacks_filter.xxfi_envfrom(ctx, argv), SMFIS_CONTINUE);
}

static sfsistat mail(const char *from)
{
	char arg[256], *argv[] = {arg, NULL};
	snprintf(arg, sizeof(arg), "%s", from);
	return callbacks_filter.xxfi_envfrom(ctx, argv);
}

static sfsistat rcpt(const char *to)
{
	char arg[256], *argv[] = {arg, NULL};
	snprintf(arg, sizeof(arg), "%s", to);
	return callbacks_filter.xxfi_envrcpt(ctx, argv);
}

static sfsistat header(const char *name, const char *value)
{
	char n[128], v[512];
	snprintf(n, sizeof(n), "%s", name);
	snprintf(v, sizeof(v), "%s", value);
	return callbacks_filter.xxfi_header(ctx, n, v);
}

static void finish(void)
{
	assert_int_equal(callbacks_filter.xxfi_close(ctx), SMFIS_CONTINUE);
	assert_null(session());
}

/* A client check that passed: the confirmed name and its PTR evidence. */
static const char *pass_names[] = {"mx.client.example."};
static struct dns_evidence pass_evidence = {.qname = "25.2.0.192.in-addr.arpa.", .outcome = DNS_FOUND, .qtype = 12};
static struct fcrdns_result pass_result = {.verdict = FCRDNS_PASS, .names = pass_names, .name_count = 1, .confirmed = 0,
					   .evidence = &pass_evidence, .evidence_count = 1};

static int setup_each(void **state)
{
	(void)state;
	fake_mta_reset();
	logged[0] = '\0';
	return 0;
}

/* ---- tests ------------------------------------------------------------------------------------ */

/* No resolver, no checks: undecided, and the built-in default tempfails with its reply. */
static void test_undecided_tempfails_at_rcpt(void **state)
{
	(void)state;
	install(NULL);
	start("<alice@example.org>");
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_TEMPFAIL);
	assert_string_equal(fake_mta.reply, "451 4.3.0 <alice@example.org>: temporary internal error, try again later");
	assert_logged(": decision check=client outcome=undecided action=tempfail rule=default");
	finish();
}

/* The quarantine the policy asked for is done; when the MTA refuses it, the message waits. */
static void test_quarantine_refused_tempfails(void **state)
{
	(void)state;
	install("{\"version\": 1, \"rules\": [{\"name\": \"hold\", \"if\": {\"check\": \"client\", \"outcome\": \"undecided\"},"
		" \"then\": \"quarantine\"}]}");
	start("<alice@example.org>");
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	assert_int_equal(callbacks_filter.xxfi_eom(ctx), SMFIS_CONTINUE);
	assert_string_equal(fake_mta.quarantined, "dnsguard: client undecided (rule hold)");
	assert_logged(" action=quarantine");

	/* the next message of the session: the MTA will not hold it */
	fake_mta.refuse_quarantine = true;
	fake_mta_macro("i", "4ABC2");
	assert_int_equal(mail("<alice@example.org>"), SMFIS_CONTINUE);
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	assert_int_equal(callbacks_filter.xxfi_eom(ctx), SMFIS_TEMPFAIL);
	assert_string_equal(fake_mta.reply, "451 4.7.0 Message not accepted now, try again later");
	assert_logged("4ABC2: message ");
	assert_logged(" action=tempfail reason=\"the MTA refused to quarantine the message\"");
	finish();
}

/* A refused header field is the client check undecided: tempfail by default, as a rule says. */
static void test_header_refused_follows_the_policy(void **state)
{
	(void)state;
	install(NULL);
	start("<alice@example.org>");
	session()->client_result = &pass_result;
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	assert_int_equal(callbacks_filter.xxfi_eom(ctx), SMFIS_CONTINUE);
	assert_non_null(strstr(fake_mta.prepended, "Authentication-Results: mx.test; iprev=pass"));
	assert_non_null(strstr(fake_mta.prepended, "X-DNSGuard: "));

	fake_mta.refuse_prepend = true;
	assert_int_equal(mail("<alice@example.org>"), SMFIS_CONTINUE);
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	assert_int_equal(callbacks_filter.xxfi_eom(ctx), SMFIS_TEMPFAIL);
	assert_string_equal(fake_mta.reply, "451 4.3.0 <alice@example.org>: temporary internal error, try again later");
	assert_logged("decision check=client outcome=undecided action=tempfail rule=default");
	assert_logged("cause=\"the MTA refused to add Authentication-Results\"");
	finish();

	/* a policy that accepts what cannot be decided lets it go, and says so */
	install("{\"version\": 1, \"rules\": [{\"name\": \"open\", \"if\": {\"outcome\": \"undecided\"}, \"then\": \"accept\"}]}");
	logged[0] = '\0';
	start("<alice@example.org>");
	session()->client_result = &pass_result;
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	assert_int_equal(callbacks_filter.xxfi_eom(ctx), SMFIS_CONTINUE);
	assert_logged("decision check=client outcome=undecided action=accept rule=open");
	assert_logged(" refused=\"the MTA refused to add Authentication-Results\"");
	finish();
}

/* Forged fields of ours are removed; when the MTA refuses, the forgery never goes out. */
static void test_forged_field_removed_or_tempfail(void **state)
{
	(void)state;
	install("{\"version\": 1, \"rules\": [{\"if\": {\"outcome\": \"undecided\"}, \"then\": \"accept\"}]}");
	start("<alice@example.org>");
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	header("Authentication-Results", "mx.test; iprev=pass smtp.remote-ip=192.0.2.25");
	header("Authentication-Results", "other.example; iprev=fail");
	assert_int_equal(callbacks_filter.xxfi_eom(ctx), SMFIS_CONTINUE);
	assert_int_equal(fake_mta.deleted, 1);
	assert_string_equal(fake_mta.last_deleted, "Authentication-Results[1]");
	assert_logged(" forged_removed=1");

	fake_mta.refuse_delete = true;
	assert_int_equal(mail("<alice@example.org>"), SMFIS_CONTINUE);
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	header("Authentication-Results", "mx.test; iprev=pass");
	assert_int_equal(callbacks_filter.xxfi_eom(ctx), SMFIS_TEMPFAIL);
	assert_string_equal(fake_mta.reply, "451 4.7.0 Message not accepted now, try again later");
	finish();
}

/* The message context: reset at MAIL, its queue id its own, freed by abort and close alike. */
static void test_message_context(void **state)
{
	(void)state;
	install("{\"version\": 1, \"rules\": [{\"if\": {\"outcome\": \"undecided\"}, \"then\": \"accept\"}]}");
	fake_mta_macro("i", "4AAAA");
	start("<alice@example.org>");
	assert_string_equal(session()->msg.from, "alice@example.org");
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	assert_string_equal(session()->msg.queue_id, "4AAAA");
	assert_int_equal(callbacks_filter.xxfi_abort(ctx), SMFIS_CONTINUE);
	assert_string_equal(session()->msg.queue_id, "");
	assert_string_equal(session()->msg.from, "");

	/* an address the MTA took and dnsguard cannot read: outcome syntax, accepted by default */
	fake_mta_macro("i", "4BBBB");
	assert_int_equal(mail("<a\"b@example.org>"), SMFIS_CONTINUE);
	assert_string_not_equal(session()->msg.sender_error, "");
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	assert_logged("4BBBB: decision session=");
	assert_logged(" check=sender outcome=syntax action=accept rule=default");
	/* the null sender parses as such */
	assert_int_equal(mail("<>"), SMFIS_CONTINUE);
	assert_string_equal(session()->msg.sender_error, "");
	assert_string_equal(session()->msg.from, "");
	assert_int_equal(rcpt("<bob@example.net>"), SMFIS_CONTINUE);
	/* closed in the middle of a message: the message goes with the session (ASan/valgrind) */
	finish();
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
	struct runtime *rt = runtime_acquire();
	/* the last generation: released by the test's and the installed reference */
	runtime_release(rt);
	runtime_release(rt);
	unlink(conf_path);
	unlink(policy_path);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_undecided_tempfails_at_rcpt, setup_each),
		cmocka_unit_test_setup(test_quarantine_refused_tempfails, setup_each),
		cmocka_unit_test_setup(test_header_refused_follows_the_policy, setup_each),
		cmocka_unit_test_setup(test_forged_field_removed_or_tempfail, setup_each),
		cmocka_unit_test_setup(test_message_context, setup_each),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
