/*
 * fuzz_headers - the header fields dnsguard reads from and writes into a message.
 *
 * Input fields (split at NUL bytes): an Authentication-Results value as a client could forge it,
 * the MTA's authserv-id ({j}), a client IP and a host name.  auth_results_is_ours reads any value
 * in time linear in its length (a sanitizer or the fuzzer's timeout sees a loop), and the fields
 * dnsguard writes are one line of printable ASCII whatever {j} holds, and are recognised as ours.
 */
#include "auth_results.h"
#include "fuzz.h"

static void one_line(const char *value, const char *what)
{
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			fuzz_fail("%s holds byte 0x%02x: %s", what, *p, value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[4];
	char *copy, buf[2048];

	fuzz_fields(data, size, &copy, f, 4);
	(void)auth_results_is_ours(f[0], f[1]);
	(void)auth_results_id_is_token(f[1]);
	if (f[1][0] && strlen(f[1]) < 256) {
		const char *iprev = auth_results_iprev(f[1], "pass", "192.0.2.1", f[3], buf, sizeof(buf));
		if (iprev) {
			one_line(iprev, "the iprev field");
			if (!auth_results_is_ours(iprev, f[1]))
				fuzz_fail("our own field is not ours: %s", iprev);
		}
		const char *ours = auth_results_dnsguard(f[2], f[1], buf, sizeof(buf));
		if (ours)
			one_line(ours, "the X-DNSGuard field");
	}
	free(copy);
	return 0;
}
