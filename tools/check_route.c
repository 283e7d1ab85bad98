/*
 * check_route - dnsguard-check route; see check.h and dnsguard-check(8).
 */
#include "check.h"

int check_route(struct check_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return check_fail("route: not written yet");
}
