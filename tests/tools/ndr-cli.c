/*
 * ndr-cli: build an NDR or ask whether one is wanted, from the command line, for the integration
 * tests (tests/integration/ndr-parse.test parses what it writes with a real MIME parser).
 *
 *   usage: ndr-cli wanted SENDER < HEADERS
 *          ndr-cli build [-r] [-c CHECK] [-s SENDER] [-H HOST] [-e ENTRY] RCPT OUTCOME [RCPT OUTCOME ...]
 *                  < HEADERS
 *
 * HEADERS is the original message (its header block ends at the first empty line), read as raw
 * bytes.  `wanted` prints "wanted" or "not wanted: REASON" and exits 0 or 1.  `build` writes the
 * NDR to standard output: each RCPT failed CHECK (default recipient) with OUTCOME (a policy outcome
 * name), with the evidence the resolver would give for it; the decision is a divert (no reply of
 * its own) unless -r asks for the built-in defaults table's reply.  The clock is fixed (arrival
 * 1700000000, now 1700000060; the zone is TZ's), as are the tokens, so output compares exactly.
 * Exits 0, or 2 on bad arguments or when ndr_build refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decision.h"
#include "ndr.h"
#include "policy.h"

#define HEADERS_READ_MAX (16 * 1024 * 1024)

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *grown;
	size_t got;

	if (!buf)
		return NULL;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			if (cap >= HEADERS_READ_MAX || !(grown = realloc(buf, cap * 2))) {
				free(buf);
				return NULL;
			}
			buf = grown;
			cap *= 2;
		}
	}
	*len = n;
	return buf;
}

static bool check_from_name(const char *name, enum policy_check *out)
{
	static const enum policy_check all[] = {POLICY_CHECK_CLIENT, POLICY_CHECK_HELO, POLICY_CHECK_SENDER,
						POLICY_CHECK_RECIPIENT};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(name, policy_check_name(all[i])) == 0) {
			*out = all[i];
			return true;
		}
	return false;
}

/* The evidence a check with this outcome rests on, as the resolver would give it. */
static struct dns_evidence evidence_for(enum policy_outcome outcome, const char *qname)
{
	struct dns_evidence ev = {.qname = qname, .qtype = 15, .rcode = 0, .ms = 31, .ttl = 300};

	switch (outcome) {
	case POLICY_OUTCOME_NXDOMAIN:
	case POLICY_OUTCOME_PERMERROR:
	case POLICY_OUTCOME_UNRESOLVABLE:
	case POLICY_OUTCOME_MX_UNRESOLVABLE:
		ev.outcome = DNS_NXDOMAIN;
		ev.rcode = 3;
		ev.qtype = outcome == POLICY_OUTCOME_MX_UNRESOLVABLE ? 1 : ev.qtype;
		break;
	case POLICY_OUTCOME_TEMPERROR:
	case POLICY_OUTCOME_UNDECIDED:
		ev.outcome = DNS_TEMPFAIL;
		ev.cause = DNS_CAUSE_SERVFAIL;
		ev.rcode = 2;
		break;
	case POLICY_OUTCOME_BOGUS:
		ev.outcome = DNS_BOGUS;
		ev.why_bogus = "signature expired";
		break;
	case POLICY_OUTCOME_NO_ADDRESS:
		ev.outcome = DNS_NODATA;
		ev.qtype = 28;
		break;
	default:
		ev.outcome = DNS_FOUND;
		break;
	}
	return ev;
}

static int usage(void)
{
	fprintf(stderr, "usage: ndr-cli wanted SENDER < HEADERS\n"
			"       ndr-cli build [-r] [-c CHECK] [-s SENDER] [-H HOST] [-e ENTRY] RCPT OUTCOME [...] < HEADERS\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *sender = "alice@sender.example", *host = "mx.example.org", *entry = "4F2A9C1B";
	enum policy_check check = POLICY_CHECK_RECIPIENT;
	bool reply = false;
	char *headers, err[256], why[NDR_WHY_SIZE];
	size_t headers_len = 0, count;
	int opt, rc;

	if (argc < 2)
		return usage();
	if (!(headers = read_all(stdin, &headers_len))) {
		fprintf(stderr, "ndr-cli: cannot read the headers\n");
		return 2;
	}
	if (strcmp(argv[1], "wanted") == 0) {
		if (argc != 3)
			return usage();
		rc = ndr_wanted(argv[2], headers, headers_len, why, sizeof(why));
		printf(rc ? "wanted\n" : "not wanted: %s\n", why);
		free(headers);
		return rc ? 0 : 1;
	}
	if (strcmp(argv[1], "build") != 0)
		return usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "rc:s:H:e:")) != -1) {
		switch (opt) {
		case 'r':
			reply = true;
			break;
		case 'c':
			if (!check_from_name(optarg, &check))
				return usage();
			break;
		case 's':
			sender = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'e':
			entry = *optarg ? optarg : NULL;
			break;
		default:
			return usage();
		}
	}
	if (argc - optind < 2 || (argc - optind) % 2 != 0)
		return usage();
	count = (size_t)(argc - optind) / 2;

	struct ndr_recipient *recipients = calloc(count, sizeof(*recipients));
	struct decision *decisions = calloc(count, sizeof(*decisions));
	struct dns_evidence *evidence = calloc(count, sizeof(*evidence));
	char (*qnames)[DNS_NAME_TEXT_MAX] = calloc(count, sizeof(*qnames));
	struct netaddr client = {0};
	const struct decision_dns dns = {.transport = DNS_TRANSPORT_UDP_TCP, .deadline_ms = 4000};

	if (!recipients || !decisions || !evidence || !qnames)
		return 2;
	for (size_t i = 0; i < count; i++) {
		const char *rcpt = argv[optind + 2 * i], *at = strrchr(rcpt, '@');
		const char *domain = at ? at + 1 : "";
		enum policy_outcome outcome;
		struct check_result result = {.check = check};
		struct decision_facts facts = {
			.client = &client, .client_ip = "192.0.2.25", .client_name = "unknown",
			.client_hostname = "unknown", .helo = "helo.client.example", .sender = sender,
			.sender_domain = "sender.example", .recipient = rcpt, .recipient_domain = domain,
			.outbound = true, .daemon = "smtpd",
		};

		if (!policy_outcome_from_name(argv[optind + 2 * i + 1], &outcome))
			return usage();
		snprintf(qnames[i], sizeof(qnames[i]), "%s.", check == POLICY_CHECK_SENDER ? "sender.example" : domain);
		evidence[i] = evidence_for(outcome, qnames[i]);
		result.outcome = outcome;
		result.subject = check == POLICY_CHECK_SENDER ? "sender.example" : check == POLICY_CHECK_RECIPIENT ? domain
														     : check == POLICY_CHECK_HELO ? facts.helo : NULL;
		result.evidence = outcome == POLICY_OUTCOME_SYNTAX ? NULL : &evidence[i];
		if (outcome == POLICY_OUTCOME_SYNTAX)
			result.cause = "unbalanced quotes";
		if (outcome == POLICY_OUTCOME_TEMPERROR) {
			result.probe = DECISION_PROBE_KNOWN;
			result.finding = "the resolver 127.0.0.1 truncates over UDP and refuses TCP";
		}
		decision_make(NULL, &dns, &facts, &result, &decisions[i]);
		if (!reply) {	/* a divert rule: no reply of its own */
			decisions[i].action = POLICY_DIVERT;
			decisions[i].code = 0;
			decisions[i].xcode[0] = decisions[i].text[0] = '\0';
			snprintf(decisions[i].rule, sizeof(decisions[i].rule), "divert-dns-failures");
		}
		recipients[i] = (struct ndr_recipient){.address = rcpt, .decision = &decisions[i]};
	}

	struct ndr_input in = {
		.reporting_host = host,
		.arrival = 1700000000,
		.now = 1700000060,
		.sender = sender,
		.headers = headers,
		.headers_len = headers_len,
		.entry_id = entry,
		.message_id = "ndr.4F2A9C1B.1700000060",
		.boundary_token = "Q7xK2mP9vR4tW8zB",
		.recipients = recipients,
		.recipient_count = count,
	};
	rc = ndr_build(&in, stdout, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "ndr-cli: %s\n", err);
	free(recipients);
	free(decisions);
	free(evidence);
	free(qnames);
	free(headers);
	return rc == 0 ? 0 : 2;
}
