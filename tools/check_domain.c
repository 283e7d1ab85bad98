/*
 * check_domain - dnsguard-check domain; see check.h and dnsguard-check(8).
 */
#include "check.h"

int check_domain(struct check_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return check_fail("domain: not written yet");
}
