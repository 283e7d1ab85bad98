/*
 * Unit tests for the route service's answers (lib/routes) with a stand-in resolver: both maps'
 * syntax, literals and names, a first lookup waited for, a name that never resolved answered
 * TEMP, a failed refresh that keeps serving the last good addresses, the state file that carries
 * them over a restart, and requests that are not ours.
 */
#include <pthread.h>
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

#include "routes.h"

/* The stand-in resolver: every name answers what `fake` says now. */
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	enum dns_outcome outcome;
	const char *addresses[4];
	unsigned asked;
} fake;

static void fake_resolve(void *arg, const char *name, struct host_addresses *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	snprintf(out->qname, sizeof(out->qname), "%s", name);
	pthread_mutex_lock(&fake_lock);
	fake.asked++;
	out->outcome = fake.outcome;
	for (size_t i = 0; i < 4 && fake.addresses[i]; i++)
		if (netaddr_parse(fake.addresses[i], &out->addresses[out->count]))
			out->count++;
	pthread_mutex_unlock(&fake_lock);
	out->ttl = 300;
	dns_evidence_unanswered(&out->evidence, out->qname, 1, DNS_CAUSE_SERVFAIL, 3);
	out->evidence.outcome = out->outcome;
	if (out->outcome != DNS_TEMPFAIL)
		out->evidence.cause = DNS_CAUSE_NONE;
}

static void fake_set(enum dns_outcome outcome, const char *a1, const char *a2)
{
	pthread_mutex_lock(&fake_lock);
	fake.outcome = outcome;
	fake.addresses[0] = a1;
	fake.addresses[1] = a2;
	fake.addresses[2] = NULL;
	pthread_mutex_unlock(&fake_lock);
}

static struct policy *compile(const char *text)
{
	char err[512];
	struct policy *p = policy_compile(text, strlen(text), "p.json", err, sizeof(err));
	if (!p)
		fail_msg("policy: %s", err);
	return p;
}

static const char *answer(struct route_hosts *h, const struct policy *p, const char *map, const char *key,
			  struct route_answer_info *info)
{
	static char storage[4096];
	struct strbuf sb;

	strbuf_init(&sb, storage, sizeof(storage));
	route_answer(h, p, map, key, 2000, &sb, info);
	return strbuf_text(&sb);
}

#define POLICY                                                                                                  \
	"{\"version\": 1, \"routes\": ["                                                                        \
	"{\"name\": \"partner\", \"destination\": \"partner.example\", \"hosts\": [\"[192.0.2.25]:2525\", \"[2001:db8::25]\"]}," \
	"{\"name\": \"relay\", \"destination\": \"*\", \"hosts\": [\"smart.example.net:587\", \"[192.0.2.99]\"]}," \
	"{\"name\": \"gone\", \"destination\": \"gone.example\", \"hosts\": \"nx.example.net\"}]}"

static void test_literals_in_both_syntaxes(void **state)
{
	struct policy *p = compile(POLICY);
	char err[256];
	struct route_hosts *h = route_hosts_start(NULL, fake_resolve, NULL, err, sizeof(err));
	struct route_answer_info info;

	(void)state;
	assert_non_null(h);
	assert_string_equal(answer(h, p, "transport", "bob@partner.example", &info),
			    "OK smtp:[192.0.2.25]:2525, [2001:db8::25]");
	assert_string_equal(info.route, "partner");
	assert_false(info.stale);
	assert_string_equal(answer(h, p, "mailertable", "partner.example", NULL),
			    "OK esmtp:[192.0.2.25]:[IPv6:2001:db8::25]");
	assert_string_equal(answer(h, p, "mailertable", "mx.partner.example", NULL),
			    "OK esmtp:[192.0.2.25]:[IPv6:2001:db8::25]");
	assert_string_equal(answer(h, p, "virtual", "bob@partner.example", NULL),
			    "PERM unknown map (dnsguard serves transport and mailertable)");
	route_hosts_stop(h);
	policy_free(p);
}

static void test_names_resolved_and_kept(void **state)
{
	struct policy *p = compile(POLICY);
	char err[256];
	struct route_hosts *h;
	struct route_answer_info info;

	(void)state;
	fake_set(DNS_FOUND, "192.0.2.30", "2001:db8::30");
	assert_non_null(h = route_hosts_start(NULL, fake_resolve, NULL, err, sizeof(err)));
	route_hosts_want(h, p);
	/* the first lookup is waited for; the literal after the name keeps its place */
	assert_string_equal(answer(h, p, "transport", "carol@elsewhere.example", &info),
			    "OK smtp:[192.0.2.30]:587, [2001:db8::30]:587, [192.0.2.99]");
	assert_string_equal(info.route, "relay");
	assert_string_equal(answer(h, p, "mailertable", ".", NULL),
			    "OK esmtp:[192.0.2.30]:[IPv6:2001:db8::30]:[192.0.2.99]");

	/* DNS fails: the last good addresses are still served, marked stale */
	fake_set(DNS_TEMPFAIL, NULL, NULL);
	route_hosts_want(h, p);	/* a reload asks every name again */
	for (int i = 0; i < 200; i++) {
		answer(h, p, "transport", "carol@elsewhere.example", &info);
		if (info.stale)
			break;
		usleep(10000);
	}
	assert_true(info.stale);
	assert_string_equal(answer(h, p, "transport", "carol@elsewhere.example", NULL),
			    "OK smtp:[192.0.2.30]:587, [2001:db8::30]:587, [192.0.2.99]");
	route_hosts_stop(h);
	policy_free(p);
}

static void test_never_resolved_is_temp(void **state)
{
	struct policy *p = compile(POLICY);
	char err[256];
	struct route_hosts *h;

	(void)state;
	fake_set(DNS_NXDOMAIN, NULL, NULL);
	assert_non_null(h = route_hosts_start(NULL, fake_resolve, NULL, err, sizeof(err)));
	route_hosts_want(h, p);
	assert_string_equal(answer(h, p, "transport", "dan@gone.example", NULL),
			    "TEMP smart host nx.example.net does not exist (NXDOMAIN)");
	/* no route at all: not ours */
	fake_set(DNS_FOUND, "192.0.2.30", NULL);
	route_hosts_stop(h);
	policy_free(p);

	p = compile("{\"version\": 1, \"routes\": [{\"destination\": \"partner.example\", \"hosts\": \"[192.0.2.25]\"}]}");
	assert_non_null(h = route_hosts_start(NULL, fake_resolve, NULL, err, sizeof(err)));
	route_hosts_want(h, p);
	assert_string_equal(answer(h, p, "transport", "bob@other.example", NULL), "NOTFOUND ");
	assert_string_equal(answer(h, p, "transport", "", NULL), "NOTFOUND ");
	assert_string_equal(answer(h, p, "transport", "bad key\x01", NULL), "NOTFOUND ");
	route_hosts_stop(h);
	policy_free(p);
}

static void test_state_survives_a_restart(void **state)
{
	char dir[] = "/tmp/test_routes.XXXXXX", path[128], err[256], *text;
	struct policy *p = compile(POLICY);
	struct route_hosts *h;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/routes.json", dir);
	fake_set(DNS_FOUND, "192.0.2.40", NULL);
	assert_non_null(h = route_hosts_start(path, fake_resolve, NULL, err, sizeof(err)));
	route_hosts_want(h, p);
	assert_string_equal(answer(h, p, "mailertable", ".", NULL), "OK esmtp:[192.0.2.40]:[192.0.2.99]");
	route_hosts_stop(h);	/* the thread writes the file before it waits: it is there now */
	text = unit_read_file(path, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"smart.example.net\""));
	assert_non_null(strstr(text, "\"192.0.2.40\""));
	free(text);

	/* DNS is down at the restart: the last good addresses are served at once */
	fake_set(DNS_TEMPFAIL, NULL, NULL);
	assert_non_null(h = route_hosts_start(path, fake_resolve, NULL, err, sizeof(err)));
	route_hosts_want(h, p);
	assert_string_equal(answer(h, p, "mailertable", ".", NULL), "OK esmtp:[192.0.2.40]:[192.0.2.99]");
	route_hosts_stop(h);

	/* a state file that is not JSON is ignored, not fatal */
	unit_write_file(path, "not json");
	assert_non_null(h = route_hosts_start(path, fake_resolve, NULL, err, sizeof(err)));
	route_hosts_stop(h);
	policy_free(p);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_in_both_syntaxes),
		cmocka_unit_test(test_names_resolved_and_kept),
		cmocka_unit_test(test_never_resolved_is_temp),
		cmocka_unit_test(test_state_survives_a_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
