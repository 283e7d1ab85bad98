/*
 * unit_policy - policy text compiled for the unit tests; see unit_policy.h.
 */
#include "unit_policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "textfile.h"

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

struct policy *compile_sample(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *text, e[256];
	size_t len;
	bool missing;
	struct policy *p;

	snprintf(path, sizeof(path), "%s/conf/policy.json", top ? top : ".");
	if (!textfile_read(path, 1 << 20, &text, &len, &missing, e, sizeof(e)))
		fail_msg("%s: %s", path, e);
	p = policy_compile(text, len, path, err, sizeof(err));
	free(text);
	if (!p)
		fail_msg("%s", err);
	return p;
}
