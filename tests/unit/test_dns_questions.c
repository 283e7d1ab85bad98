/*
 * Unit tests for dns_questions: the store a check's names and evidence live in (copies that stay
 * put and valid as long as the check, bounded, not made twice), and the evidence bookkeeping:
 * answers recorded with their strings copied, evidence adopted from another check, settling.
 *
 * No resolver: a job that is finished already refuses every question, so each one asked is
 * answered at once as a local failure, and the tests hand in the answers they want themselves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns_questions.h"
#include "strbuf.h"

/* The check of these tests: counts the local answers and records none. */
struct check {
	struct dns_evidence *evidence;
	size_t evidence_count;
	unsigned local_answers;
	struct dns_questions set;
};

static void on_answer(struct dns_job *job, void *arg, const struct dns_answer *answer)
{
	struct dns_question *q = arg;
	struct check *c = q->set->owner;

	(void)job;
	assert_int_equal(answer->ev.cause, DNS_CAUSE_LOCAL);
	c->local_answers++;
}

static void check_init(struct check *c, struct dns_job *job, size_t max)
{
	memset(c, 0, sizeof(*c));
	c->set = (struct dns_questions){.job = job, .handler = on_answer, .owner = c, .evidence = &c->evidence,
					.count = &c->evidence_count, .max = max};
}

static struct dns_job *refusing_job(void)
{
	struct dns_job *job = dns_job_new(NULL, 1000);

	assert_non_null(job);
	dns_job_finish(job);	/* every dns_job_ask now fails without touching the resolver */
	return job;
}

static const char *format(const struct dns_evidence *ev, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	dns_evidence_format(ev, "", &sb);
	return strbuf_text(&sb);
}

static void test_keep_copies_and_stays_put(void **state)
{
	(void)state;
	struct check c;
	const char *kept[200];
	char name[64];

	check_init(&c, NULL, 8);
	/* enough names for several chunks: the earlier copies neither move nor change */
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "host-%03d.example.test.", i);
		kept[i] = dns_questions_keep(&c.set, name, DNS_NAME_TEXT_MAX);
		assert_non_null(kept[i]);
		assert_ptr_not_equal(kept[i], name);
	}
	memset(name, 'x', sizeof(name) - 1);
	for (int i = 0; i < 200; i++) {
		char want[64];
		snprintf(want, sizeof(want), "host-%03d.example.test.", i);
		assert_string_equal(kept[i], want);
	}
	/* a text in the store already is not copied again */
	assert_ptr_equal(dns_questions_keep(&c.set, kept[7], DNS_NAME_TEXT_MAX), kept[7]);
	assert_string_equal(dns_questions_keep(&c.set, NULL, 10), "");
	dns_questions_free(&c.set);
	assert_null(c.set.chunks);
}

static void test_keep_is_bounded(void **state)
{
	(void)state;
	struct check c;
	char long_text[1000];

	check_init(&c, NULL, 8);
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_int_equal(strlen(dns_questions_keep(&c.set, long_text, DNS_NAME_TEXT_MAX)), DNS_NAME_TEXT_MAX - 1);
	assert_int_equal(strlen(dns_questions_keep(&c.set, long_text, DNS_WHY_BOGUS_MAX)), DNS_WHY_BOGUS_MAX - 1);
	assert_string_equal(dns_questions_keep(&c.set, "abc", 1), "");
	dns_questions_free(&c.set);
}

static void test_alloc_is_zeroed_and_aligned(void **state)
{
	(void)state;
	struct check c;

	check_init(&c, NULL, 8);
	for (int i = 0; i < 50; i++) {
		unsigned char *p;
		assert_non_null(dns_questions_keep(&c.set, "odd.", 16));	/* leaves the next byte unaligned */
		p = dns_questions_alloc(&c.set, 24 + (size_t)i);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		for (int j = 0; j < 24 + i; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xff, 24 + (size_t)i);
	}
	/* bigger than a chunk grows to */
	assert_non_null(dns_questions_alloc(&c.set, 5000));
	dns_questions_free(&c.set);
}

static void test_ask_shares_names(void **state)
{
	(void)state;
	struct dns_job *job = refusing_job();
	struct check c;
	char name[DNS_NAME_TEXT_MAX] = "mx.example.test.";
	const char *kept;

	check_init(&c, job, 3);
	/* asked twice, kept once; refused by the job: answered at once as a local failure */
	assert_non_null(dns_questions_ask(&c.set, name, LDNS_RR_TYPE_A, 0));
	assert_non_null(dns_questions_ask(&c.set, name, LDNS_RR_TYPE_AAAA, 0));
	assert_int_equal(c.local_answers, 2);
	assert_int_equal(c.evidence_count, 2);
	assert_ptr_not_equal(c.evidence[0].qname, name);
	assert_ptr_equal(c.evidence[0].qname, c.evidence[1].qname);
	/* a name in the store already (as a check's own MX host is) is used as it is */
	kept = dns_questions_keep(&c.set, "other.example.test.", DNS_NAME_TEXT_MAX);
	assert_non_null(dns_questions_ask(&c.set, kept, LDNS_RR_TYPE_MX, 1));
	assert_ptr_equal(c.evidence[2].qname, kept);
	/* `max` asked: no more */
	assert_null(dns_questions_ask(&c.set, name, LDNS_RR_TYPE_A, 0));
	memset(name, 0, sizeof(name));
	assert_string_equal(c.evidence[0].qname, "mx.example.test.");
	dns_job_release(job);
	dns_questions_free(&c.set);
	assert_null(c.evidence);
}

static void test_record_copies_the_answer_strings(void **state)
{
	(void)state;
	struct dns_job *job = refusing_job();
	struct check c;
	struct dns_question *q0, *q1;
	char lookup_qname[DNS_NAME_TEXT_MAX], reason[300];
	struct dns_answer answer = {0};
	char line[1024];

	check_init(&c, job, 4);
	q0 = dns_questions_ask(&c.set, "Signed.Test", LDNS_RR_TYPE_MX, -1);
	q1 = dns_questions_ask(&c.set, "ok.test.", LDNS_RR_TYPE_A, 0);
	assert_non_null(q0);
	assert_non_null(q1);
	/* an answer as the resolver hands it over: strings valid during the handler call only */
	snprintf(lookup_qname, sizeof(lookup_qname), "Signed.Test.");
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	memcpy(reason, "validation failure ", 19);
	answer.ev = (struct dns_evidence){.qname = lookup_qname, .why_bogus = reason, .qtype = LDNS_RR_TYPE_MX,
					  .outcome = DNS_BOGUS, .rcode = 0, .ms = 7, .ttl = 60};
	assert_true(dns_questions_record(q0, &answer));
	assert_false(dns_questions_record(q0, &answer));	/* once */
	memset(lookup_qname, 'x', sizeof(lookup_qname) - 1);
	memset(reason, 'x', sizeof(reason) - 1);
	/* the resolver's text of the name (final dot) as the log always showed it, why_bogus cut */
	assert_string_equal(c.evidence[0].qname, "Signed.Test.");
	assert_int_equal(strlen(c.evidence[0].why_bogus), DNS_WHY_BOGUS_MAX - 1);
	assert_memory_equal(c.evidence[0].why_bogus, "validation failure rrr", 22);
	assert_int_equal(c.evidence[0].outcome, DNS_BOGUS);
	assert_int_equal(c.evidence[0].ms, 7);

	/* the same text as the name asked: the slot keeps its own copy, no new one */
	answer.ev = (struct dns_evidence){.qname = "ok.test.", .qtype = LDNS_RR_TYPE_A, .outcome = DNS_FOUND,
					  .ms = 3, .ttl = 300};
	{
		const char *asked = c.evidence[1].qname;
		assert_true(dns_questions_record(q1, &answer));
		assert_ptr_equal(c.evidence[1].qname, asked);
		assert_null(c.evidence[1].why_bogus);
	}
	assert_string_equal(format(&c.evidence[1], line, sizeof(line)),
			    " q=ok.test./A outcome=found rcode=NOERROR ms=3 ttl=300");
	dns_job_release(job);
	dns_questions_free(&c.set);
}

static void test_adopt_copies_strings(void **state)
{
	(void)state;
	struct check c;
	char qname[DNS_NAME_TEXT_MAX] = "good.clients.test.", why[40] = "signature expired";
	struct dns_evidence ev = {.qname = qname, .qtype = LDNS_RR_TYPE_A, .outcome = DNS_FOUND, .ms = 2, .ttl = 300};
	char line[1024];

	check_init(&c, NULL, 2);
	assert_true(dns_questions_adopt(&c.set, &ev));
	ev.outcome = DNS_BOGUS;
	ev.why_bogus = why;
	assert_true(dns_questions_adopt(&c.set, &ev));
	assert_false(dns_questions_adopt(&c.set, &ev));	/* max */
	/* the other check's strings may go: these are copies */
	memset(qname, 0, sizeof(qname));
	memset(why, 0, sizeof(why));
	assert_int_equal(c.evidence_count, 2);
	assert_string_equal(format(&c.evidence[0], line, sizeof(line)),
			    " q=good.clients.test./A outcome=found rcode=NOERROR ms=2 ttl=300");
	assert_string_equal(c.evidence[1].why_bogus, "signature expired");
	assert_ptr_equal(c.evidence[0].qname, c.evidence[1].qname);
	dns_questions_free(&c.set);
}

static void test_settle(void **state)
{
	(void)state;
	struct dns_job *job = refusing_job();
	struct check c;
	struct dns_question *q[4];
	struct dns_answer answer = {0};
	size_t decisive = 2;

	check_init(&c, job, 4);
	for (int i = 0; i < 4; i++)
		assert_non_null(q[i] = dns_questions_ask(&c.set, "a.test.", LDNS_RR_TYPE_A, i));
	answer.ev = (struct dns_evidence){.qname = "a.test.", .qtype = LDNS_RR_TYPE_A, .outcome = DNS_FOUND};
	assert_true(dns_questions_record(q[0], &answer));
	answer.ev.outcome = DNS_NXDOMAIN;
	assert_true(dns_questions_record(q[2], &answer));

	/* not decided: the open ones are stamped, the first of them is the one the deadline cut */
	assert_int_equal(dns_questions_settle(&c.set, false, NULL), 1);
	assert_int_equal(c.evidence[1].cause, DNS_CAUSE_DEADLINE);
	assert_int_equal(c.evidence_count, 4);

	/* decided on slot 2: the open ones go, decisive follows its evidence, no spare slot kept */
	assert_int_equal(dns_questions_settle(&c.set, true, &decisive), 1);
	assert_int_equal(c.evidence_count, 2);
	assert_int_equal(c.set.capacity, 2);
	assert_int_equal(c.evidence[0].outcome, DNS_FOUND);
	assert_int_equal(c.evidence[1].outcome, DNS_NXDOMAIN);
	/* settling again changes nothing */
	assert_int_equal(dns_questions_settle(&c.set, true, &decisive), 1);
	assert_int_equal(c.evidence_count, 2);
	dns_job_release(job);
	dns_questions_free(&c.set);
}

static void test_evidence_format_without_strings(void **state)
{
	(void)state;
	struct dns_evidence ev;
	char line[1024];

	/* unanswered evidence points at the caller's name; a bogus one without a reason prints "" */
	dns_evidence_unanswered(&ev, "late.test.", LDNS_RR_TYPE_MX, DNS_CAUSE_DEADLINE, 4000);
	assert_string_equal(format(&ev, line, sizeof(line)),
			    " q=late.test./MX outcome=tempfail cause=deadline rcode=none ms=4000");
	ev = (struct dns_evidence){.qname = "b.test.", .qtype = LDNS_RR_TYPE_A, .outcome = DNS_BOGUS};
	assert_string_equal(format(&ev, line, sizeof(line)),
			    " q=b.test./A outcome=bogus rcode=NOERROR ms=0 ttl=0 why_bogus=\"\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_copies_and_stays_put),
		cmocka_unit_test(test_keep_is_bounded),
		cmocka_unit_test(test_alloc_is_zeroed_and_aligned),
		cmocka_unit_test(test_ask_shares_names),
		cmocka_unit_test(test_record_copies_the_answer_strings),
		cmocka_unit_test(test_adopt_copies_strings),
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_evidence_format_without_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
