/*
 * fuzz_policy - policy_compile of any text, then decisions and route lookups on what compiled.
 *
 * Input: fields split at NUL bytes: the policy text, then the HELO name, the sender, the
 * recipient, the DNS cause and a route key, all client-supplied or DNS-derived in real life.
 * Promises checked (policy.h): a failed compile has a printable reason; a decision's reply text
 * is printable ASCII without CR/LF and shorter than POLICY_REPLY_TEXT_SIZE; reject and tempfail
 * carry a 4xx/5xx code; a found route has 1 to POLICY_ROUTE_HOSTS_MAX hosts.
 */
#include <jansson.h>

#include "fuzz.h"
#include "netaddr.h"
#include "policy.h"
#include "printable.h"

static void check_text(const char *text, size_t size, const char *what)
{
	const char *end = memchr(text, '\0', size);

	if (!end)
		fuzz_fail("%s is not terminated", what);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			fuzz_fail("%s holds byte 0x%02x", what, *p);
}

/* Printable as printable.h makes text: no control byte, well-formed UTF-8. */
static void check_printable(const char *text, size_t size, const char *what)
{
	const unsigned char *p = (const unsigned char *)text, *end;

	if (!(end = memchr(text, '\0', size)))
		fuzz_fail("%s is not terminated", what);
	while (p < end) {
		size_t n = *p < 0x80 ? 1 : printable_utf8_length(p, (size_t)(end - p));
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)))
			fuzz_fail("%s holds byte 0x%02x", what, *p);
		p += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[6];
	char *copy, err[512];
	struct netaddr client;
	struct policy *policy;

	fuzz_fields(data, size, &copy, f, 6);
	/* jansson allocates inside its own library: hand it ours, so that the sweep fails its
	 * allocations too (malloc is the wrapped one in the replay build) */
	json_set_alloc_funcs(malloc, free);
	policy = policy_compile(f[0], strlen(f[0]), "fuzz.json", err, sizeof(err));
	if (!policy) {
		check_printable(err, sizeof(err), "the compile error");
		free(copy);
		return 0;
	}
	netaddr_parse("192.0.2.1", &client);
	for (int check = 0; check < POLICY_CHECK_COUNT; check++)
		for (int outcome = 0; outcome < POLICY_OUTCOME_COUNT; outcome++) {
			struct policy_facts facts = {
				.check = (enum policy_check)check,
				.outcome = (enum policy_outcome)outcome,
				.client = &client,
				.client_hostname = f[1][0] ? f[1] : "unknown",
				.helo = f[1],
				.sender_address = f[2],
				.sender_domain = strchr(f[2], '@') ? strchr(f[2], '@') + 1 : "",
				.recipient = f[3],
				.recipient_domain = strchr(f[3], '@') ? strchr(f[3], '@') + 1 : "",
				.outbound = outcome & 1,
				.daemon = f[4],
				.cause = f[4],
			};
			struct policy_decision d;
			policy_decide(policy, &facts, &d);
			check_text(d.text, sizeof(d.text), "the reply text");
			check_text(d.xcode, sizeof(d.xcode), "the enhanced code");
			check_text(d.rule, sizeof(d.rule), "the rule name");
			if ((d.action == POLICY_REJECT || d.action == POLICY_TEMPFAIL) && (d.code < 400 || d.code > 599))
				fuzz_fail("a %s with code %u", policy_action_name(d.action), d.code);
			if (!policy_action_name(d.action))
				fuzz_fail("an action without a name");
		}
	const struct policy_route *route = policy_route_find(policy, f[5]);
	if (route && (route->host_count < 1 || route->host_count > POLICY_ROUTE_HOSTS_MAX || !route->destination))
		fuzz_fail("a route with %zu hosts", route->host_count);
	for (size_t i = 0; i < policy_route_count(policy); i++)
		if (policy_route_find(policy, policy_route_at(policy, i)->destination) == NULL &&
		    strcmp(policy_route_at(policy, i)->destination, "*") != 0)
			fuzz_fail("route %s is not found by its own destination", policy_route_at(policy, i)->destination);
	policy_free(policy);
	free(copy);
	return 0;
}
