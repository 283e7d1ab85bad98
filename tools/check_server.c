/*
 * check_server - dnsguard-check server; see check.h and dnsguard-check(8).
 */
#include "check.h"

int check_server(struct check_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return check_fail("server: not written yet");
}
