/*
 * metrics-bench - what counting costs (issue 21): each counting call of lib/metrics.h in a tight
 * loop, from one thread and from two at once (the daemon counts from its resolver thread and its
 * milter workers, on the same counters), in nanoseconds per call.
 *
 *   bench/metrics-bench [CALLS]     default 5,000,000 calls per thread and case; two rounds
 *
 * The cost per SMTP transaction is these numbers times the calls a transaction makes: one
 * metrics_count_dns per DNS question, one metrics_count_decision per check and recipient, one
 * session opened and closed (bench/RESULTS.md, issue 21).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "metrics.h"

static long calls = 5000000;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *count_dns(void *unused)
{
	struct dns_evidence ev = {.qname = "c1.clients.bench.test.", .outcome = DNS_FOUND, .rcode = 0};

	(void)unused;
	for (long i = 0; i < calls; i++) {
		ev.ms = (unsigned)(i & 7);
		metrics_count_dns(&ev);
	}
	return NULL;
}

static void *count_decision(void *unused)
{
	(void)unused;
	for (long i = 0; i < calls; i++)
		metrics_count_decision(POLICY_CHECK_SENDER, POLICY_OUTCOME_OK, POLICY_ACCEPT);
	return NULL;
}

static void *count_session(void *unused)
{
	(void)unused;
	for (long i = 0; i < calls; i++) {
		metrics_session_opened();
		metrics_session_closed();
	}
	return NULL;
}

static void run(const char *what, void *(*fn)(void *), int threads)
{
	pthread_t t[2];
	double start = now_s();

	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, fn, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("%-32s threads=%d %7.1f ns per call\n", what, threads, (now_s() - start) * 1e9 / (double)calls);
}

int main(int argc, char **argv)
{
	if (argc > 1 && (calls = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: metrics-bench [CALLS]\n");
		return 2;
	}
	for (int round = 0; round < 2; round++) {
		for (int threads = 1; threads <= 2; threads++) {
			run("metrics_count_dns", count_dns, threads);
			run("metrics_count_decision", count_decision, threads);
			run("session opened + closed", count_session, threads);
		}
	}
	return 0;
}
