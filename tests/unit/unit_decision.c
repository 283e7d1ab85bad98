/*
 * unit_decision - a diverting decision made by the real policy and decision code; see
 * unit_decision.h.
 */
#include "unit_decision.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static struct netaddr client;

struct decision unit_divert_decision(const struct dns_evidence *ev, const char *domain)
{
	const char *text = "{\"version\": 1, \"rules\": [{\"name\": \"apps-divert\", \"if\": {\"check\": \"recipient\"},"
			   " \"then\": \"divert\"}]}";
	char err[256];
	struct policy *p = policy_compile(text, strlen(text), "p.json", err, sizeof(err));
	struct decision_dns dns = {.transport = DNS_TRANSPORT_UDP_TCP, .deadline_ms = 4000};
	struct decision_facts f = {.client = &client, .client_ip = "192.0.2.7", .client_name = "unknown",
				   .client_hostname = "unknown", .helo = "app.example.net",
				   .sender = "app@example.net", .sender_domain = "example.net",
				   .recipient = "bob@nx.example", .recipient_domain = domain, .outbound = true,
				   .daemon = ""};
	struct check_result r = {.check = POLICY_CHECK_RECIPIENT, .outcome = POLICY_OUTCOME_NXDOMAIN, .subject = domain,
				 .evidence = ev};
	struct decision d;

	if (!p || !netaddr_parse("192.0.2.7", &client))
		fail_msg("policy: %s", err);
	decision_make(p, &dns, &f, &r, &d);
	policy_free(p);
	return d;
}
