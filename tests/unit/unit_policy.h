/*
 * unit_policy - compiling policy text in the policy unit tests, with the compiler's message.
 */
#ifndef DNSGUARD_UNIT_POLICY_H
#define DNSGUARD_UNIT_POLICY_H

#include "policy.h"

/* The last compile's error message ("" when it compiled). */
extern char err[1024];

/* Compiles text as "p.json"; NULL with the message in err. */
struct policy *compile(const char *text);
/* Compiles, or fails the test with the message. */
struct policy *compile_ok(const char *text);
/* Compiling must fail with exactly this message. */
void expect_error(const char *text, const char *message);
/* The sample policy, conf/policy.json under $top_srcdir (or .), compiled, or the test fails. */
struct policy *compile_sample(void);

#endif
