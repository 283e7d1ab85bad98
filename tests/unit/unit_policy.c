/*
 * unit_policy - policy text compiled for the unit tests; see unit_policy.h.
 */
#include "unit_policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

char err[1024];

struct policy *compile(const char *text)
{
	err[0] = '\0';
	return policy_compile(text, strlen(text), "p.json", err, sizeof(err));
}

struct policy *compile_ok(const char *text)
{
	struct policy *p = compile(text);
	if (!p)
		fail_msg("%s", err);
	return p;
}

void expect_error(const char *text, const char *message)
{
	struct policy *p = compile(text);
	if (p) {
		policy_free(p);
		fail_msg("compiled, expected error: %s", message);
	}
	if (strcmp(err, message) != 0)
		fail_msg("\n got: %s\nwant: %s", err, message);
}
