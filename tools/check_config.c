/*
 * check_config - dnsguard-check config; see check.h and dnsguard-check(8).
 */
#include "check.h"

int check_config(struct check_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return check_fail("config: not written yet");
}
