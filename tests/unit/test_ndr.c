/*
 * Unit tests for the NDR (lib/ndr): when one may be sent (ndr_wanted), and what ndr_build writes,
 * for ordinary and for hostile originals.  tests/integration/ndr-parse.test parses the same kind
 * of output with a real MIME parser; here the output is taken apart by hand, and one NDR is
 * compared whole with tests/golden/ndr-nxdomain.eml.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit_files.h"

#include "decision.h"
#include "ndr.h"

#define BOUNDARY "=_dnsguard_Q7xK2mP9vR4tW8zB"

/* ---- ndr_wanted ------------------------------------------------------------------------------ */

/* ndr_wanted over an exact-size heap copy, so a read past the end is caught by the sanitizers. */
static bool wanted(const char *sender, const char *headers, size_t len, char *why)
{
	char *copy;
	bool w;

	if (!headers)
		return ndr_wanted(sender, NULL, len, why, NDR_WHY_SIZE);
	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, headers, len);
	w = ndr_wanted(sender, copy, len, why, NDR_WHY_SIZE);
	free(copy);
	return w;
}

#define WANTED(sender, headers, why) wanted(sender, headers, sizeof(headers) - 1, why)

static void test_wanted_ordinary_mail(void **state)
{
	char why[NDR_WHY_SIZE] = "x";

	(void)state;
	assert_true(WANTED("alice@sender.example", "From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n", why));
	assert_string_equal(why, "");
	assert_true(WANTED("<alice@sender.example>", "", why));
	assert_true(wanted("alice@sender.example", NULL, 0, why));
	/* an Auto-Submitted or a report type in the body is no field */
	assert_true(WANTED("a@b.example", "Subject: x\n\nAuto-Submitted: auto-generated\n"
					  "Content-Type: multipart/report; report-type=delivery-status\n", why));
	assert_true(WANTED("a@b.example", "X-Auto-Submitted: auto-generated\nX-Content-Type: multipart/report; "
					  "report-type=delivery-status\n", why));
	/* the local part alone: the MTA completes it */
	assert_true(WANTED("postmaster", "Subject: x\n", why));
}

static void test_wanted_null_sender(void **state)
{
	char why[NDR_WHY_SIZE];

	(void)state;
	assert_false(WANTED(NULL, "Subject: x\n", why));
	assert_string_equal(why, "null sender");
	assert_false(WANTED("", "Subject: x\n", why));
	assert_false(WANTED("<>", "Subject: x\n", why));
	assert_false(WANTED(" \t<> ", "Subject: x\n", why));
	assert_string_equal(why, "null sender");
	assert_false(WANTED("<unbalanced@x", "", why));
	assert_string_equal(why, "sender address does not parse (missing '>'): nowhere to send to");
}

static void test_wanted_auto_submitted(void **state)
{
	char why[NDR_WHY_SIZE];

	(void)state;
	assert_false(WANTED("a@b.example", "Subject: x\r\nAuto-Submitted: auto-generated\r\n\r\n", why));
	assert_string_equal(why, "Auto-Submitted: auto-generated");
	assert_false(WANTED("a@b.example", "auto-submitted: Auto-Replied (vacation)\n", why));
	assert_string_equal(why, "Auto-Submitted: Auto-Replied");
	/* folded, with comments (nested, with a quoted pair), parameters */
	assert_false(WANTED("a@b.example", "AUTO-SUBMITTED:\r\n\t(from (the \\) robot))\r\n auto-notified; owner=x\r\n", why));
	assert_string_equal(why, "Auto-Submitted: auto-notified");
	/* obsolete syntax: blanks before the colon */
	assert_false(WANTED("a@b.example", "Auto-Submitted \t: auto-generated\n", why));
	/* no readable keyword: taken as automatic */
	assert_false(WANTED("a@b.example", "Auto-Submitted:\n", why));
	assert_string_equal(why, "Auto-Submitted: (no readable keyword)");
	assert_false(WANTED("a@b.example", "Auto-Submitted: \"no\"\n", why));
	/* "no" in any case, with comments, is a person's mail */
	assert_true(WANTED("a@b.example", "Auto-Submitted: no\n", why));
	assert_true(WANTED("a@b.example", "Auto-Submitted: (a human) NO (really)\r\n", why));
	assert_true(WANTED("a@b.example", "Auto-Submitted:\r\n no\r\n", why));
	/* a second field that says otherwise wins */
	assert_false(WANTED("a@b.example", "Auto-Submitted: no\nAuto-Submitted: auto-replied\n", why));
	assert_string_equal(why, "Auto-Submitted: auto-replied");
	/* a keyword too long to keep is still not "no" */
	assert_false(WANTED("a@b.example", "Auto-Submitted: auto-generated-by-a-very-long-and-unusual-robot-name-that-goes-on\n",
			    why));
	/* a field hidden after the blank line does not count */
	assert_true(WANTED("a@b.example", "Subject: x\r\n\r\nAuto-Submitted: auto-replied\r\n", why));
	assert_true(WANTED("a@b.example", "Subject: x\n\r\nAuto-Submitted: auto-replied\n", why));
}

static void test_wanted_delivery_report(void **state)
{
	char why[NDR_WHY_SIZE];

	(void)state;
	assert_false(WANTED("a@b.example", "Content-Type: multipart/report; report-type=delivery-status; boundary=x\n", why));
	assert_string_equal(why, "a delivery report (multipart/report; report-type=delivery-status)");
	/* any case, any order, quoted */
	assert_false(WANTED("a@b.example", "content-type: Multipart/Report; boundary=\"x\"; Report-Type=\"Delivery-Status\"\n",
			    why));
	assert_string_equal(why, "a delivery report (multipart/report; report-type=delivery-status)");
	/* comments and folds everywhere, a ';' inside a quoted boundary */
	assert_false(WANTED("a@b.example", "Content-Type: multipart (a) / (b) report (dsn);\r\n\tboundary=\"a;b\";\r\n"
					  " (c) report-type=\r\n delivery-status (d)\r\n", why));
	/* RFC 2231 */
	assert_false(WANTED("a@b.example", "Content-Type: multipart/report; report-type*=us-ascii'en'delivery%2Dstatus\n",
			    why));
	/* RFC 6533 */
	assert_false(WANTED("a@b.example", "Content-Type: multipart/report; report-type=global-delivery-status\n", why));
	assert_string_equal(why, "a delivery report (multipart/report; report-type=global-delivery-status)");
	/* a garbled parameter before it does not hide it */
	assert_false(WANTED("a@b.example", "Content-Type: multipart/report; =;; junk; report-type=delivery-status\n", why));

	/* what is no delivery report */
	assert_true(WANTED("a@b.example", "Content-Type: multipart/report; report-type=disposition-notification\n", why));
	assert_true(WANTED("a@b.example", "Content-Type: multipart/mixed; report-type=delivery-status\n", why));
	assert_true(WANTED("a@b.example", "Content-Type: text/plain; x=\"; report-type=delivery-status\"\n", why));
	assert_true(WANTED("a@b.example", "Content-Type: multipart/report; boundary=\"; report-type=delivery-status\"\n", why));
	assert_true(WANTED("a@b.example", "Content-Type: multipart/report; report-type=delivery-statusx\n", why));
	assert_true(WANTED("a@b.example", "Content-Type: multipart/report; report-type\n", why));
	assert_true(WANTED("a@b.example", "Content-Type: multipart/report; report-type=\"delivery-status\n", why) ==
		    false);	/* an unclosed quote ends with the value: still read */
}

static void test_wanted_hostile_bytes(void **state)
{
	static const char nul[] = "Subject: a\0b\r\nAuto-Submitted: auto-\0generated\r\n";
	char why[NDR_WHY_SIZE], *big;
	size_t n = 200000;

	(void)state;
	/* a NUL ends the keyword's token: what is left is not "no" */
	assert_false(wanted("a@b.example", nul, sizeof(nul) - 1, why));
	assert_string_equal(why, "Auto-Submitted: auto-");
	assert_true(WANTED("a@b.example", "\xff\xfe: x\n\x80\x81\x82\n \x90\nSubject: \xc3\xa9\n", why));
	/* a comment that never closes, a quote that never closes: read to the end, no further */
	assert_true(WANTED("a@b.example", "Content-Type: multipart/report (never closed\n", why));
	assert_false(WANTED("a@b.example", "Auto-Submitted: (\\", why));
	/* one line of 200,000 octets, not ended */
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'x', n);
	memcpy(big, "Auto-Submitted: ", 16);
	assert_false(wanted("a@b.example", big, n, why));
	assert_string_equal(why, "Auto-Submitted: (no readable keyword)");
	free(big);
}

/* ---- building ------------------------------------------------------------------------------ */

static struct dns_evidence nx_evidence = {.qname = "nx.example.", .outcome = DNS_NXDOMAIN, .rcode = 3, .ms = 31,
					  .ttl = 300, .qtype = 15};

static struct decision nx_decision(void)
{
	struct decision d = {
		.check = POLICY_CHECK_RECIPIENT,
		.outcome = POLICY_OUTCOME_NXDOMAIN,
		.action = POLICY_DIVERT,
		.subject = "nx.example",
		.evidence = &nx_evidence,
		.transport = DNS_TRANSPORT_UDP_TCP,
	};
	snprintf(d.rule, sizeof(d.rule), "divert-dns-failures");
	return d;
}

static struct ndr_input input(const struct ndr_recipient *r, size_t count, const char *headers)
{
	return (struct ndr_input){
		.reporting_host = "mx.example.org",
		.arrival = 1700000000,
		.now = 1700000060,
		.sender = "alice@sender.example",
		.headers = headers,
		.headers_len = headers ? strlen(headers) : 0,
		.entry_id = "4F2A9C1B",
		.message_id = "ndr.4F2A9C1B.1700000060",
		.boundary_token = "Q7xK2mP9vR4tW8zB",
		.recipients = r,
		.recipient_count = count,
	};
}

/* Builds into memory; fails the test if ndr_build does. */
static char *build(const struct ndr_input *in, size_t *len)
{
	char *out = NULL, err[256] = "";
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	assert_non_null(f);
	if (ndr_build(in, f, err, sizeof(err)) != 0)
		fail_msg("ndr_build: %s", err);
	fclose(f);
	if (len)
		*len = size;
	return out;
}

/* Every octet 7-bit, no NUL or CR, LF line ends, lines within 998 octets and (unless a long
 * word is expected) within 78. */
static void assert_lines_safe(const char *out, size_t len, bool long_words)
{
	size_t line = 0, n = 0;

	assert_true(len > 0 && out[len - 1] == '\n');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c == 0 || c == '\r' || c >= 0x80)
			fail_msg("octet 0x%02x at %zu", c, i);
		if (c == '\n') {
			size_t width = i - line;
			if (width > 998 || (width > 78 && !long_words))
				fail_msg("line %zu is %zu octets: %.60s...", n + 1, width, out + line);
			line = i + 1;
			n++;
		}
	}
}

/* The number of lines that are exactly `text`. */
static size_t count_lines(const char *out, const char *text)
{
	size_t count = 0, n = strlen(text);

	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, text, n) == 0 && p[n] == '\n')
			count++;
	return count;
}

/* The unfolded value of the only `name` field among the header lines starting at `block`. */
static char *field(const char *block, const char *name)
{
	static char value[4096];
	size_t n = strlen(name), found = 0;

	value[0] = '\0';
	for (const char *p = block; *p && *p != '\n'; p = strchr(p, '\n') + 1) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e;
			size_t o = 0;
			found++;
			while (*v == ' ')
				v++;
			/* the value with its continuation lines, folds unfolded */
			for (e = strchr(v, '\n'); e[1] == ' ' || e[1] == '\t'; e = strchr(e + 1, '\n'))
				;
			for (; v < e && o + 1 < sizeof(value); v++)
				if (*v != '\n')
					value[o++] = *v;
			value[o] = '\0';
		}
	}
	if (found != 1)
		fail_msg("%zu %s fields", found, name);
	return value;
}

/* The body of part i (1-based): after its header block, before the next boundary line. */
static char *part(const char *out, int i, char **headers)
{
	const char *p = out;
	char *copy;
	const char *body, *end;

	for (int k = 0; k < i; k++) {
		p = strstr(p, "\n--" BOUNDARY "\n");
		assert_non_null(p);
		p += strlen("\n--" BOUNDARY "\n");
	}
	body = strstr(p, "\n\n");
	assert_non_null(body);
	body += 2;
	end = strstr(body, "\n--" BOUNDARY);
	assert_non_null(end);
	if (headers) {
		*headers = strndup(p, (size_t)(body - p));
		assert_non_null(*headers);
	}
	copy = strndup(body, (size_t)(end - body) + 1);
	assert_non_null(copy);
	return copy;
}

/* Quoted-printable decoded, then every run of blanks and line ends made one blank. */
static char *plain_words(const char *qp)
{
	char *out = malloc(strlen(qp) + 1);
	size_t o = 0;

	assert_non_null(out);
	for (const char *p = qp; *p; p++) {
		unsigned hi, lo;
		char c = *p;
		if (c == '=' && p[1] == '\n') {
			p++;
			continue;
		}
		if (c == '=' && sscanf(p + 1, "%1X%1X", &hi, &lo) == 2) {
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		if (c == '\n' || c == ' ' || c == '\t') {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

static char *explanation(const char *out)
{
	char *qp = part(out, 1, NULL), *text = plain_words(qp);

	free(qp);
	return text;
}

static void test_build_structure(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r = {"bob@nx.example", &d};
	struct ndr_input in = input(&r, 1, "From: alice@sender.example\r\nSubject: Lunch?\r\n\r\nbody\r\n");
	size_t len;
	char *out = build(&in, &len), *h, *body, *text;

	(void)state;
	assert_lines_safe(out, len, false);
	assert_string_equal(field(out, "From"), "Mail Delivery System <MAILER-DAEMON@mx.example.org>");
	assert_string_equal(field(out, "To"), "alice@sender.example");
	assert_string_equal(field(out, "Auto-Submitted"), "auto-replied");
	assert_string_equal(field(out, "Message-ID"), "<ndr.4F2A9C1B.1700000060@mx.example.org>");
	assert_string_equal(field(out, "Date"), "Tue, 14 Nov 2023 22:14:20 +0000");
	assert_string_equal(field(out, "MIME-Version"), "1.0");
	assert_string_equal(field(out, "Content-Type"),
			    "multipart/report; report-type=delivery-status; boundary=\"" BOUNDARY "\"");
	assert_int_equal(count_lines(out, "--" BOUNDARY), 3);
	assert_int_equal(count_lines(out, "--" BOUNDARY "--"), 1);

	body = part(out, 1, &h);
	assert_string_equal(field(h, "Content-Type"), "text/plain; charset=utf-8");
	assert_string_equal(field(h, "Content-Transfer-Encoding"), "quoted-printable");
	free(h);
	free(body);
	text = explanation(out);
	assert_non_null(strstr(text, "The domain nx.example does not exist. The DNS server answered NXDOMAIN (no such "
				     "name) for nx.example (MX) over udp-tcp in 31 ms."));
	assert_non_null(strstr(text, "What you can do: check the address for a typing error"));
	assert_non_null(strstr(text, "<bob@nx.example>"));
	assert_non_null(strstr(text, "kept at mx.example.org under the id 4F2A9C1B"));
	assert_non_null(strstr(text, "policy rule \"divert-dns-failures\", status 5.1.2."));
	free(text);

	body = part(out, 2, &h);
	assert_string_equal(field(h, "Content-Type"), "message/delivery-status");
	free(h);
	assert_string_equal(field(body, "Reporting-MTA"), "dns; mx.example.org");
	assert_string_equal(field(body, "Arrival-Date"), "Tue, 14 Nov 2023 22:13:20 +0000");
	{
		char *rcpt = strstr(body, "\n\n") + 2;
		assert_string_equal(field(rcpt, "Final-Recipient"), "rfc822; bob@nx.example");
		assert_string_equal(field(rcpt, "Action"), "failed");
		assert_string_equal(field(rcpt, "Status"), "5.1.2");
		assert_string_equal(field(rcpt, "Diagnostic-Code"),
				    "smtp; 550 5.1.2 dnsguard recipient check: nx.example not found");
	}
	free(body);

	body = part(out, 3, &h);
	assert_string_equal(field(h, "Content-Type"), "text/rfc822-headers");
	assert_string_equal(field(h, "Content-Transfer-Encoding"), "quoted-printable");
	assert_string_equal(body, "From: alice@sender.example\nSubject: Lunch?\n\n");
	free(h);
	free(body);
	free(out);
}

static char *read_golden(const char *name, size_t *len)
{
	char relative[512];

	snprintf(relative, sizeof(relative), "tests/golden/%s", name);
	return unit_read_source(relative, len);
}

/* One NDR whole, as Postfix tests its bounces: wording changes show up in review. */
static void test_build_golden(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r = {"bob@nx.example", &d};
	struct ndr_input in = input(&r, 1, "Received: from client.sender.example by mx.example.org\r\n"
					   "From: Alice <alice@sender.example>\r\nTo: bob@nx.example\r\n"
					   "Subject: Lunch?\r\nMessage-ID: <1@sender.example>\r\n\r\nbody\r\n");
	size_t len, golden_len;
	char *out = build(&in, &len), *golden = read_golden("ndr-nxdomain.eml", &golden_len);

	(void)state;
	if (getenv("NDR_WRITE_GOLDEN")) {	/* to review a change of wording: write it, diff it */
		FILE *f = fopen(getenv("NDR_WRITE_GOLDEN"), "w");
		assert_non_null(f);
		fwrite(out, 1, len, f);
		fclose(f);
	}
	assert_string_equal(out, golden);
	free(out);
	free(golden);
}

static void test_status(void **state)
{
	static const struct {
		enum policy_check check;
		enum policy_outcome outcome;
		const char *xcode, *status;
	} cases[] = {
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN, "", "5.1.2"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NO_ADDRESS, "", "5.1.2"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_MX_UNRESOLVABLE, "", "5.1.2"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NULL_MX, "", "5.1.10"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_LOOPBACK, "", "5.4.4"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_TEMPERROR, "4.4.3", "5.4.4"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_BOGUS, "", "5.4.4"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_UNDECIDED, "4.3.0", "5.4.4"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NULL_MX, "5.1.10", "5.1.10"},
		{POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN, "", "5.1.8"},
		{POLICY_CHECK_SENDER, POLICY_OUTCOME_NULL_MX, "", "5.7.27"},
		{POLICY_CHECK_SENDER, POLICY_OUTCOME_SYNTAX, "", "5.1.7"},
		{POLICY_CHECK_CLIENT, POLICY_OUTCOME_PERMERROR, "", "5.7.25"},
		{POLICY_CHECK_HELO, POLICY_OUTCOME_MISMATCH, "", "5.7.1"},
		/* the decision's own code when it is a permanent one, in RFC 3463 form */
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN, "5.1.1", "5.1.1"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN, "5.1", "5.1.2"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN, "5.1.2x", "5.1.2"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN, "5.1234.1", "5.1.2"},
		{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN, "5.+1.2", "5.1.2"},
	};
	char buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct decision d = {.check = cases[i].check, .outcome = cases[i].outcome};
		snprintf(d.xcode, sizeof(d.xcode), "%s", cases[i].xcode);
		if (strcmp(ndr_status(&d, buf, sizeof(buf)), cases[i].status) != 0)
			fail_msg("case %zu: %s, want %s", i, buf, cases[i].status);
	}
}

/* Every outcome a diverted recipient can have, explained and reported. */
static void test_build_recipient_outcomes(void **state)
{
	static const struct {
		enum policy_outcome outcome;
		struct dns_evidence ev;
		const char *cause, *status, *said, *advice;
	} cases[] = {
		{POLICY_OUTCOME_NO_ADDRESS, {.qname = "d.example.", .outcome = DNS_NODATA, .ms = 4, .qtype = 28},
		 "", "5.1.2", "has no MX record and no address (A or AAAA) either. The DNS server answered that d.example "
			      "has no AAAA record (NOERROR, no data) over udp-tcp in 4 ms.",
		 "publish a mail server (an MX record)"},
		{POLICY_OUTCOME_NULL_MX, {.qname = "d.example.", .outcome = DNS_FOUND, .ms = 4, .qtype = 15, .secure = true},
		 "", "5.1.10", "accepts no mail at all: it publishes a \"null MX\" record (RFC 7505). The DNS server "
			       "answered with the null MX record \"0 .\" for d.example over udp-tcp in 4 ms. The answer "
			       "was DNSSEC-validated.",
		 "ask the recipient for another address"},
		{POLICY_OUTCOME_MX_UNRESOLVABLE, {.qname = "mx1.d.example.", .outcome = DNS_NXDOMAIN, .rcode = 3, .qtype = 1},
		 "", "5.1.2", "none of them has an address in DNS. The DNS server answered NXDOMAIN (no such name) for "
			      "mx1.d.example (A)", "only its owner can repair it"},
		{POLICY_OUTCOME_LOOPBACK, {.qname = "d.example.", .outcome = DNS_FOUND, .qtype = 15},
		 "", "5.4.4", "point to \"localhost\" or a loopback address", "correct its MX records"},
		{POLICY_OUTCOME_TEMPERROR,
		 {.qname = "d.example.", .outcome = DNS_TEMPFAIL, .cause = DNS_CAUSE_SERVFAIL, .rcode = 2, .ms = 12, .qtype = 15},
		 "SERVFAIL over udp-tcp: 127.0.0.1 truncates over UDP and refuses TCP", "5.4.4",
		 "The DNS server answered SERVFAIL for d.example (MX) over udp-tcp after 12 ms. Finding: SERVFAIL over "
		 "udp-tcp: 127.0.0.1 truncates over UDP and refuses TCP.",
		 "the administrator of mx.example.org should check the DNS servers it uses"},
		{POLICY_OUTCOME_TEMPERROR,
		 {.qname = "d.example.", .outcome = DNS_TEMPFAIL, .cause = DNS_CAUSE_DEADLINE, .rcode = -1, .ms = 4000, .qtype = 15},
		 "no answer within 4000 ms (the servers are being probed)", "5.4.4",
		 "No answer came for d.example (MX) over udp-tcp within 4000 ms.", "send the message again later"},
		{POLICY_OUTCOME_BOGUS, {.qname = "d.example.", .outcome = DNS_BOGUS, .qtype = 15, .why_bogus = "expired"},
		 "DNSSEC validation failed: expired", "5.4.4",
		 "The validating resolver rejected the answer for d.example (MX) over udp-tcp after 0 ms. Finding: DNSSEC "
		 "validation failed: expired.", "repair its DNSSEC records"},
		{POLICY_OUTCOME_UNDECIDED, {.qname = "d.example.", .outcome = DNS_TEMPFAIL, .cause = DNS_CAUSE_LOCAL, .qtype = 15},
		 "internal error", "5.4.4", "The DNS check of d.example could not be completed.", "dnsguard's log"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct decision d = nx_decision();
		struct ndr_recipient r = {"bob@d.example", &d};
		struct ndr_input in = input(&r, 1, "Subject: x\n");
		size_t len;
		char *out, *text, *dsn;

		d.outcome = cases[i].outcome;
		d.subject = "d.example";
		d.evidence = &cases[i].ev;
		snprintf(d.cause, sizeof(d.cause), "%s", cases[i].cause);
		out = build(&in, &len);
		assert_lines_safe(out, len, false);
		text = explanation(out);
		if (!strstr(text, cases[i].said) || !strstr(text, cases[i].advice))
			fail_msg("case %zu: %s", i, text);
		dsn = part(out, 2, NULL);
		assert_string_equal(field(strstr(dsn, "\n\n") + 2, "Status"), cases[i].status);
		free(dsn);
		free(text);
		free(out);
	}
}

/* Client, HELO and sender checks are explained in their own terms. */
static void test_build_other_checks(void **state)
{
	static struct dns_evidence ptr = {.qname = "25.2.0.192.in-addr.arpa.", .outcome = DNS_NXDOMAIN, .rcode = 3,
					  .qtype = 12, .ms = 2};
	struct decision d[3] = {nx_decision(), nx_decision(), nx_decision()};
	struct ndr_recipient r[3] = {{"a@ok.example", &d[0]}, {"b@ok.example", &d[1]}, {"c@ok.example", &d[2]}};
	struct ndr_input in = input(r, 3, "");
	size_t len;
	char *out, *text;

	(void)state;
	d[0].check = POLICY_CHECK_SENDER;
	d[0].subject = "nx.example";
	d[1].check = POLICY_CHECK_CLIENT;
	d[1].outcome = POLICY_OUTCOME_PERMERROR;
	d[1].subject = NULL;
	d[1].evidence = &ptr;
	d[2].check = POLICY_CHECK_HELO;
	d[2].outcome = POLICY_OUTCOME_MISMATCH;
	d[2].subject = "helo.example";
	d[2].evidence = NULL;
	out = build(&in, &len);
	assert_lines_safe(out, len, false);
	text = explanation(out);
	assert_non_null(strstr(text, "Your message could not be delivered to the 3 recipients below."));
	assert_non_null(strstr(text, "checks the names involved in DNS"));
	assert_non_null(strstr(text, "The domain of the sender address, nx.example, does not exist"));
	assert_non_null(strstr(text, "has no name in DNS (no PTR record). The DNS server answered NXDOMAIN (no such "
				     "name) for 25.2.0.192.in-addr.arpa (PTR) over udp-tcp in 2 ms."));
	assert_non_null(strstr(text, "(HELO helo.example) does not resolve to its address."));
	assert_non_null(strstr(text, "status 5.1.8."));
	assert_non_null(strstr(text, "status 5.7.25."));
	assert_non_null(strstr(text, "status 5.7.1."));
	free(text);
	free(out);
}

/* A decision with a reply of its own (a reject turned into a divert) reports that reply. */
static void test_build_diagnostic_from_reply(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r = {"bob@nx.example", &d};
	struct ndr_input in = input(&r, 1, "");
	size_t len;
	char *out, *dsn, *rcpt;

	(void)state;
	d.code = 550;
	snprintf(d.xcode, sizeof(d.xcode), "5.1.2");
	snprintf(d.text, sizeof(d.text), "<bob@nx.example>: Recipient address rejected: Domain nx.example not found "
					 "and this text goes on long enough to need folding twice over in the field, "
					 "a\x01" "b\xff");
	out = build(&in, &len);
	assert_lines_safe(out, len, false);
	dsn = part(out, 2, NULL);
	rcpt = strstr(dsn, "\n\n") + 2;
	assert_string_equal(field(rcpt, "Diagnostic-Code"),
			    "smtp; 550 5.1.2 <bob@nx.example>: Recipient address rejected: Domain nx.example not "
			    "found and this text goes on long enough to need folding twice over in the field, a?b?");
	free(dsn);
	free(out);

	/* a temporary reply is not what a failed delivery reports */
	d.code = 451;
	snprintf(d.xcode, sizeof(d.xcode), "4.4.3");
	d.outcome = POLICY_OUTCOME_TEMPERROR;
	snprintf(d.cause, sizeof(d.cause), "SERVFAIL over udp-tcp");
	out = build(&in, &len);
	dsn = part(out, 2, NULL);
	rcpt = strstr(dsn, "\n\n") + 2;
	assert_string_equal(field(rcpt, "Status"), "5.4.4");
	assert_string_equal(field(rcpt, "Diagnostic-Code"), "smtp; 550 5.4.4 dnsguard recipient check: nx.example could "
							    "not be looked up in DNS (SERVFAIL over udp-tcp)");
	free(dsn);
	free(out);
}

/* The original's headers, however hostile, stay inside their part and arrive intact. */
static void test_build_hostile_headers(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r = {"bob@nx.example", &d};
	char headers[4096], *out, *body, *text, *top;
	size_t n = 0, len;
	struct ndr_input in;

	(void)state;
	n += (size_t)snprintf(headers + n, sizeof(headers) - n,
			      "Subject: hi\r\nBcc: victim@example.com\r\nSubject: Gr\xc3\xbc\xc3\x9f" "e \xe9t\xe9\r\n"
			      "X-Nul: a");
	headers[n++] = '\0';
	n += (size_t)snprintf(headers + n, sizeof(headers) - n,
			      "b\x1b[31m\r\nX-Bare-CR: a\rb\r\nX-Bare-LF: c\n--" BOUNDARY "\r\n--" BOUNDARY "--\r\n"
			      "From nobody\r\n.\r\nContent-Type: multipart/mixed; boundary=\"unterminated\r\n"
			      "Trailing: blank \t\r\nX-Long: ");
	memset(headers + n, 'y', 2000);
	n += 2000;
	n += (size_t)snprintf(headers + n, sizeof(headers) - n, "\r\n\r\nMIME-Version: in the body\r\n");
	in = input(&r, 1, NULL);
	in.headers = headers;
	in.headers_len = n;
	out = build(&in, &len);
	assert_lines_safe(out, len, false);
	/* the structure holds: one set of our fields, three parts, one end */
	assert_int_equal(count_lines(out, "--" BOUNDARY), 3);
	assert_int_equal(count_lines(out, "--" BOUNDARY "--"), 1);
	assert_string_equal(field(out, "To"), "alice@sender.example");
	assert_string_equal(field(out, "MIME-Version"), "1.0");
	top = strndup(out, (size_t)(strstr(out, "\n\n") - out));
	assert_non_null(top);
	assert_null(strstr(top, "\nBcc:"));
	free(top);
	body = part(out, 3, NULL);
	assert_non_null(strstr(body, "\nBcc: victim@example.com\n"));
	assert_non_null(strstr(body, "\nSubject: Gr=C3=BC=C3=9Fe =E9t=E9\n"));
	assert_non_null(strstr(body, "\nX-Nul: a?b?[31m\n"));
	assert_non_null(strstr(body, "\nX-Bare-CR: a?b\nX-Bare-LF: c\n"));
	assert_non_null(strstr(body, "\n--=3D_dnsguard_Q7xK2mP9vR4tW8zB\n--=3D_dnsguard_Q7xK2mP9vR4tW8zB--\n"));
	assert_non_null(strstr(body, "\n=46rom nobody\n=2E\n"));
	assert_non_null(strstr(body, "\nTrailing: blank =09\n"));
	assert_null(strstr(body, "in the body"));
	text = plain_words(body);
	{
		char want[2100] = "X-Long: ";
		memset(want + 8, 'y', 2000);
		want[2008] = '\0';
		assert_non_null(strstr(text, want));
	}
	free(text);
	free(body);
	free(out);
}

static void test_build_headers_cut(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r = {"bob@nx.example", &d};
	size_t n = 100000, len;
	char *headers = malloc(n), *out, *text, *body;
	struct ndr_input in = input(&r, 1, NULL);

	(void)state;
	assert_non_null(headers);
	for (size_t i = 0; i < n; i += 50)
		memcpy(headers + i, "X-Filler: 01234567890123456789012345678901234567\r\n", 50);
	in.headers = headers;
	in.headers_len = n;
	out = build(&in, &len);
	assert_lines_safe(out, len, false);
	text = explanation(out);
	assert_non_null(strstr(text, "The header was longer than 65536 octets; only its beginning is attached."));
	body = part(out, 3, NULL);
	/* cut at the last line end within 64 KiB: whole lines only */
	assert_int_equal(count_lines(body, "X-Filler: 01234567890123456789012345678901234567"), 65536 / 50);
	free(body);
	free(text);
	free(out);
	free(headers);
}

static void test_build_senders(void **state)
{
	static const struct {
		const char *sender, *to;
	} cases[] = {
		{"<alice@sender.example>", "alice@sender.example"},
		{"\"john doe\"@sender.example", "\"john doe\"@sender.example"},
		{"a..b@sender.example", "\"a..b\"@sender.example"},
		{"alice@B\xc3\xbc" "cher.example", "alice@xn--bcher-kva.example"},
		{"alice@[192.0.2.1]", "alice@[192.0.2.1]"},
		{"j\xc3\xb6rg@sender.example", "undisclosed-recipients:;"},
		{"alice@sender.example\r\nBcc: victim@example.com", "undisclosed-recipients:;"},
		{"alice@sender.example\nBcc: victim@example.com", "undisclosed-recipients:;"},
		{"\"a\r\nBcc: v@x\"@sender.example", "undisclosed-recipients:;"},
		{"postmaster", "undisclosed-recipients:;"},
		{"not an address", "undisclosed-recipients:;"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct decision d = nx_decision();
		struct ndr_recipient r = {"bob@nx.example", &d};
		struct ndr_input in = input(&r, 1, "");
		size_t len;
		char *out;

		in.sender = cases[i].sender;
		out = build(&in, &len);
		assert_lines_safe(out, len, false);
		if (strcmp(field(out, "To"), cases[i].to) != 0)
			fail_msg("sender %zu: To: %s, want %s", i, field(out, "To"), cases[i].to);
		assert_null(strstr(out, "\nBcc:"));
		free(out);
	}
}

static void test_build_recipients_xtext(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r[3] = {{"bob@nx.example\r\nX-Injected: 1", &d},
				     {"j\xc3\xb6rg+tag@nx.example", &d},
				     {NULL, &d}};
	char *long_address = malloc(2001), *out, *dsn, *p, *text;
	struct ndr_input in = input(r, 3, "");
	size_t len;

	(void)state;
	assert_non_null(long_address);
	memset(long_address, '\xe9', 2000);
	long_address[2000] = '\0';
	r[2].address = long_address;
	out = build(&in, &len);
	assert_lines_safe(out, len, true);
	assert_null(strstr(out, "\nX-Injected"));
	dsn = part(out, 2, NULL);
	p = strstr(dsn, "\n\n") + 2;
	assert_string_equal(field(p, "Final-Recipient"), "rfc822; bob@nx.example+0D+0AX-Injected:+201");
	p = strstr(p, "\n\n") + 2;
	assert_string_equal(field(p, "Final-Recipient"), "rfc822; j+C3+B6rg+2Btag@nx.example");
	p = strstr(p, "\n\n") + 2;
	/* cut at a whole "+HH" within 900 octets, on a line of its own */
	assert_int_equal(strlen(field(p, "Final-Recipient")), strlen("rfc822; ") + 300 * 3);
	assert_non_null(strstr(p, "Final-Recipient: rfc822;\n +E9+E9"));
	text = explanation(out);
	assert_non_null(strstr(text, "<bob@nx.example??X-Injected: 1>"));
	assert_non_null(strstr(text, "<j\xc3\xb6rg+tag@nx.example>"));
	free(text);
	free(dsn);
	free(out);
	free(long_address);
}

static void test_build_refuses(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r = {"bob@nx.example", &d};
	struct ndr_input in;
	char err[256], *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
#define REFUSED(change, message)                                                                                       \
	do {                                                                                                           \
		in = input(&r, 1, "");                                                                                 \
		change;                                                                                                \
		err[0] = '\0';                                                                                         \
		assert_int_equal(ndr_build(&in, f, err, sizeof(err)), -1);                                             \
		assert_string_equal(err, message);                                                                     \
	} while (0)
	REFUSED(in.reporting_host = NULL, "the reporting host name is not a plain host name");
	REFUSED(in.reporting_host = "mx example.org", "the reporting host name is not a plain host name");
	REFUSED(in.reporting_host = "mx.example.org\nBcc: x", "the reporting host name is not a plain host name");
	REFUSED(in.sender = "<>", "no NDR is sent to the null sender");
	REFUSED(in.sender = NULL, "no NDR is sent to the null sender");
	REFUSED(in.message_id = "a@b", "the Message-ID part must be 1 to 64 octets of dot-atom text");
	REFUSED(in.message_id = "a..b", "the Message-ID part must be 1 to 64 octets of dot-atom text");
	REFUSED(in.boundary_token = "short", "the boundary token must be 8 to 64 letters and digits");
	REFUSED(in.boundary_token = "abcdefgh_", "the boundary token must be 8 to 64 letters and digits");
	REFUSED(in.entry_id = "x y", "the entry id must be 1 to 64 octets of dot-atom text");
	REFUSED(in.recipient_count = 0, "an NDR needs at least one recipient");
	REFUSED(r.address = NULL, "a recipient without address or decision");
#undef REFUSED
	fclose(f);
	free(buf);

	/* a host name with its final dot is written without it */
	r.address = "bob@nx.example";
	in = input(&r, 1, "");
	in.reporting_host = "mx.example.org.";
	in.entry_id = NULL;
	in.message_id = "ndr.1";
	buf = build(&in, &size);
	assert_string_equal(field(buf, "From"), "Mail Delivery System <MAILER-DAEMON@mx.example.org>");
	assert_null(strstr(buf, "4F2A9C1B"));
	free(buf);

	/* the badmail store's ids ("UTC time-random") and its id as the Message-ID part */
	in.entry_id = in.message_id = "20261204T144500-0123456789abcdef";
	buf = build(&in, &size);
	assert_string_equal(field(buf, "Message-ID"), "<20261204T144500-0123456789abcdef@mx.example.org>");
	assert_non_null(strstr(buf, "\nX-Dnsguard-Entry-Id: 20261204T144500-0123456789abcdef\n"));
	free(buf);
}

static void test_build_write_error(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r = {"bob@nx.example", &d};
	struct ndr_input in = input(&r, 1, "");
	char err[256] = "";
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		skip();
	assert_int_equal(ndr_build(&in, f, err, sizeof(err)), -1);
	assert_string_equal(err, "writing the NDR failed: No space left on device");
	fclose(f);
}

/* The date is RFC 5322 in the process's zone, in English whatever the locale. */
static void test_build_date(void **state)
{
	struct decision d = nx_decision();
	struct ndr_recipient r = {"bob@nx.example", &d};
	struct ndr_input in = input(&r, 1, "");
	char *out;

	(void)state;
	setenv("TZ", "EST5", 1);
	tzset();
	out = build(&in, NULL);
	assert_string_equal(field(out, "Date"), "Tue, 14 Nov 2023 17:14:20 -0500");
	free(out);
	setenv("TZ", "UTC0", 1);
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanted_ordinary_mail),
		cmocka_unit_test(test_wanted_null_sender),
		cmocka_unit_test(test_wanted_auto_submitted),
		cmocka_unit_test(test_wanted_delivery_report),
		cmocka_unit_test(test_wanted_hostile_bytes),
		cmocka_unit_test(test_build_structure),
		cmocka_unit_test(test_build_golden),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_build_recipient_outcomes),
		cmocka_unit_test(test_build_other_checks),
		cmocka_unit_test(test_build_diagnostic_from_reply),
		cmocka_unit_test(test_build_hostile_headers),
		cmocka_unit_test(test_build_headers_cut),
		cmocka_unit_test(test_build_senders),
		cmocka_unit_test(test_build_recipients_xtext),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_build_write_error),
		cmocka_unit_test(test_build_date),
	};

	setenv("TZ", "UTC0", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
