/*
 * probe-cli: run one dns_probe from the command line, for the integration tests.
 *
 *   usage: probe-cli SERVER[@PORT] QNAME QTYPE DEADLINE_MS
 *
 * QTYPE is A, AAAA, MX, NS, PTR, SOA, TXT, CNAME, ANY or a number.  Prints three lines: the
 * dns_probe_describe sentence, the dns_probe_evidence line, and "healthy: yes" or "healthy: no".
 * Exits 0 when the probe ran (whatever the server did), 2 on bad arguments or a local failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_probe.h"

static const struct {
	const char *name;
	uint16_t type;
} qtypes[] = {
	{"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12}, {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"ANY", 255},
};

static bool parse_qtype(const char *text, uint16_t *out)
{
	char *end;
	unsigned long n;

	for (size_t i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++)
		if (strcasecmp(text, qtypes[i].name) == 0) {
			*out = qtypes[i].type;
			return true;
		}
	n = strtoul(text, &end, 10);
	if (*text < '0' || *text > '9' || *end != '\0' || n == 0 || n > 65535)
		return false;
	*out = (uint16_t)n;
	return true;
}

int main(int argc, char **argv)
{
	struct dns_server server;
	struct dns_probe_result result;
	char err[256], text[DNS_PROBE_TEXT_SIZE];
	uint16_t qtype;
	char *end;
	unsigned long deadline;

	if (argc != 5) {
		fprintf(stderr, "usage: probe-cli SERVER[@PORT] QNAME QTYPE DEADLINE_MS\n");
		return 2;
	}
	if (!netaddr_parse_server(argv[1], &server.addr, &server.port)) {
		fprintf(stderr, "probe-cli: bad server %s\n", argv[1]);
		return 2;
	}
	if (!parse_qtype(argv[3], &qtype)) {
		fprintf(stderr, "probe-cli: bad query type %s\n", argv[3]);
		return 2;
	}
	deadline = strtoul(argv[4], &end, 10);
	if (*argv[4] < '0' || *argv[4] > '9' || *end != '\0' || deadline > 600000) {
		fprintf(stderr, "probe-cli: bad deadline %s\n", argv[4]);
		return 2;
	}
	if (dns_probe_server(&server, argv[2], qtype, (unsigned)deadline, &result, err, sizeof(err)) < 0) {
		fprintf(stderr, "probe-cli: %s\n", err);
		return 2;
	}
	printf("%s\n", dns_probe_describe(&result, text, sizeof(text)));
	printf("%s\n", dns_probe_evidence(&result, text, sizeof(text)));
	printf("healthy: %s\n", dns_probe_healthy(&result) ? "yes" : "no");
	return 0;
}
