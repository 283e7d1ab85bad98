/*
 * check_client - dnsguard-check client; see check.h and dnsguard-check(8).
 */
#include "check.h"

int check_client(struct check_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return check_fail("client: not written yet");
}
