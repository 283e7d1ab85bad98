/*
 * fuzz_ndr - the NDR built from a hostile message: ndr_wanted on any header block and sender,
 * ndr_build with them.  Promises checked (ndr.h): the NDR is 7-bit, holds no NUL or CR, no line
 * is longer than 998 octets, and the original cannot add a header field to it (the header block
 * is the same whatever the original holds, but for To:).
 */
#include "decision.h"
#include "fuzz.h"
#include "ndr.h"

static struct dns_evidence evidence = {.qname = "nx.example.", .outcome = DNS_NXDOMAIN, .rcode = 3, .ms = 31,
				       .ttl = 300, .qtype = 15};

/* The header block of the NDR: fields before the first empty line, without To:. */
static size_t header_fields(const char *ndr, size_t len)
{
	size_t fields = 0;

	for (size_t i = 0; i < len; i++) {
		if (ndr[i] != '\n')
			continue;
		if (i + 1 < len && ndr[i + 1] == '\n')
			break;
		if (i + 1 < len && ndr[i + 1] != ' ' && ndr[i + 1] != '\t' && strncmp(ndr + i + 1, "To:", 3) != 0)
			fields++;
	}
	return fields;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[4];
	char *copy, why[NDR_WHY_SIZE], err[256];
	static size_t expected_fields;

	fuzz_fields(data, size, &copy, f, 4);
	/* the header block is the last field and may hold NULs: the rest of the input, whole */
	size_t before = (size_t)(f[3] - copy);
	const char *headers = f[3][0] || before < size ? f[3] : NULL;
	size_t headers_len = before <= size ? size - before : 0;

	memset(why, 'x', sizeof(why));
	ndr_wanted(f[0], headers ? headers : "", headers_len, why, sizeof(why));
	if (!memchr(why, '\0', sizeof(why)))
		fuzz_fail("an unterminated reason");
	for (const unsigned char *p = (const unsigned char *)why; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			fuzz_fail("reason byte 0x%02x", *p);

	struct decision d = {
		.check = POLICY_CHECK_RECIPIENT,
		.outcome = POLICY_OUTCOME_NXDOMAIN,
		.action = POLICY_DIVERT,
		.subject = f[2],
		.evidence = &evidence,
		.transport = DNS_TRANSPORT_UDP_TCP,
	};
	snprintf(d.rule, sizeof(d.rule), "divert");
	snprintf(d.cause, sizeof(d.cause), "%s", f[2]);
	struct ndr_recipient r = {.address = f[1], .decision = &d};
	struct ndr_input in = {
		.reporting_host = "mx.example.org",
		.arrival = 1700000000,
		.now = 1700000060,
		.sender = f[0],
		.headers = headers,
		.headers_len = headers_len,
		.entry_id = "20261204T144500-0123456789abcdef",
		.message_id = "ndr.1700000060",
		.boundary_token = "Q7xK2mP9vR4tW8zB",
		.recipients = &r,
		.recipient_count = 1,
	};
	char *out = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&out, &len);
	if (!o)
		abort();
	int rc = ndr_build(&in, o, err, sizeof(err));
	fclose(o);
	if (rc == 0) {
		size_t line = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)out[i];
			if (c == 0 || c == '\r' || c > 0x7e)
				fuzz_fail("NDR byte 0x%02x at %zu", c, i);
			line = c == '\n' ? 0 : line + 1;
			if (line > 998)
				fuzz_fail("an NDR line over 998 octets at %zu", i);
		}
		size_t fields = header_fields(out, len);
		if (!expected_fields)
			expected_fields = fields;
		else if (fields != expected_fields)
			fuzz_fail("%zu header fields, not %zu:\n%.*s", fields, expected_fields, (int)(len < 2000 ? len : 2000), out);
	}
	free(out);
	free(copy);
	return 0;
}
