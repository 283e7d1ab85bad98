/*
 * fuzz_mailaddr - mailaddr_parse of any MAIL FROM / RCPT TO argument: on success the parts are
 * NUL-terminated within their sizes and a DOMAIN is lower-case A-label text; on failure the
 * output is cleared and the reason is printable ASCII (mailaddr.h: safe to log as is).
 */
#include <ctype.h>

#include "fuzz.h"
#include "mailaddr.h"

static void printable_only(const char *text, const char *what)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			fuzz_fail("%s holds byte 0x%02x", what, *p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), err[160];
	struct mailaddr a;

	memset(err, 'x', sizeof(err));
	if (mailaddr_parse(text, &a, err, sizeof(err)) == 0) {
		if (!memchr(a.address, '\0', sizeof(a.address)) || !memchr(a.local, '\0', sizeof(a.local)) ||
		    !memchr(a.domain, '\0', sizeof(a.domain)) || !memchr(a.domain_utf8, '\0', sizeof(a.domain_utf8)))
			fuzz_fail("an unterminated part");
		if (!mailaddr_kind_name(a.kind))
			fuzz_fail("a kind without a name");
		if (a.kind == MAILADDR_DOMAIN) {
			if (!a.domain[0] || strlen(a.domain) > MAILADDR_DOMAIN_MAX)
				fuzz_fail("a domain of %zu octets", strlen(a.domain));
			for (const unsigned char *p = (const unsigned char *)a.domain; *p; p++)
				if (!(islower(*p) || isdigit(*p) || *p == '-' || *p == '.' || *p == '_'))
					fuzz_fail("domain byte 0x%02x", *p);
		}
		if (a.kind == MAILADDR_NULL && a.address[0])
			fuzz_fail("a null sender with an address");
	} else {
		if (!memchr(err, '\0', sizeof(err)))
			fuzz_fail("an unterminated reason");
		printable_only(err, "the reason");
		if (a.address[0] || a.domain[0] || a.local[0])
			fuzz_fail("a failed parse left output behind");
	}
	free(text);
	return 0;
}
