/*
 * fuzz_netaddr - addresses and networks as a config, a policy or a client gives them: what
 * parses formats to text that parses to the same address, and a network contains its own base.
 */
#include "fuzz.h"
#include "netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), buf[64];
	struct netaddr a, b;
	struct netaddr_net net;
	unsigned port;

	if (netaddr_parse(text, &a)) {
		const char *formatted = netaddr_format(&a, buf, sizeof(buf));
		if (!formatted || !netaddr_parse(formatted, &b) || !netaddr_equal(&a, &b))
			fuzz_fail("%s formats as %s, which is not the same address", text, formatted ? formatted : "NULL");
	}
	if (netaddr_net_parse(text, &net) && !netaddr_net_contains(&net, &net.addr))
		fuzz_fail("network %s does not contain its base", text);
	if (netaddr_parse_server(text, &a, &port) && port > 65535)
		fuzz_fail("server %s has port %u", text, port);
	free(text);
	return 0;
}
