/*
 * fuzz_route - a route lookup as an MTA asks it over the socketmap: the key is an envelope
 * address or a domain that a client chose.  Whatever the map and the key, the reply is one of
 * "OK ", "NOTFOUND ", "TEMP ", "PERM ", holds no CR, LF or NUL, and fits what Postfix reads.
 *
 * Input fields (split at NUL bytes): the map name, then the key.  The routes are a fixed policy
 * (literals, names, a default); names resolve to fixed addresses without DNS.
 */
#include "fuzz.h"
#include "policy.h"
#include "routes.h"
#include "strbuf.h"

static const char routes_policy[] =
	"{\"version\": 1, \"routes\": ["
	"{\"destination\": \"example.com\", \"subdomains\": true, \"hosts\": [\"[192.0.2.25]:2525\", \"smart.example.net\"]},"
	"{\"destination\": \"user@example.org\", \"hosts\": [\"[2001:db8::25]\"]},"
	"{\"destination\": \"xn--bcher-kva.example\", \"hosts\": [\"relay.example.net:587\"]},"
	"{\"destination\": \"*\", \"hosts\": [\"[192.0.2.26]\"]}]}";

static void resolve(void *arg, const char *name, struct host_addresses *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	if (strcmp(name, "smart.example.net") == 0) {
		out->outcome = DNS_FOUND;
		netaddr_parse("192.0.2.27", &out->addresses[0]);
		out->count = 1;
		out->ttl = 3600;
	} else {
		out->outcome = DNS_NXDOMAIN;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy *policy;
	static struct route_hosts *hosts;
	const char *f[2];
	char *copy, err[512], storage[ROUTES_REPLY_MAX + 1];
	struct strbuf reply;

	if (!policy) {
		/* made once, without failing allocations: the sweep is for the lookup */
		if (!(policy = policy_compile(routes_policy, sizeof(routes_policy) - 1, "routes.json", err, sizeof(err))) ||
		    !(hosts = route_hosts_start(NULL, resolve, NULL, err, sizeof(err))))
			fuzz_fail("setup: %s", err);
		route_hosts_want(hosts, policy);
	}
	fuzz_fields(data, size, &copy, f, 2);
	strbuf_init(&reply, storage, sizeof(storage));
	route_answer(hosts, policy, f[0], f[1], 0, &reply, NULL);
	const char *r = strbuf_text(&reply);
	if (strncmp(r, "OK ", 3) && strncmp(r, "NOTFOUND ", 9) && strncmp(r, "TEMP ", 5) && strncmp(r, "PERM ", 5))
		fuzz_fail("reply %s", r);
	if (strbuf_len(&reply) != strlen(r) || strpbrk(r, "\r\n"))
		fuzz_fail("a reply with NUL, CR or LF");
	if (strbuf_len(&reply) > ROUTES_REPLY_MAX)
		fuzz_fail("a reply of %zu bytes", strbuf_len(&reply));
	free(copy);
	return 0;
}
