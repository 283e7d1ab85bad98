/*
 * dns_probe - ask one DNS server one question over UDP and TCP at once, and say what it did.
 *
 * libunbound reports a failed lookup as "SERVFAIL" without saying which server or transport let
 * it down.  The probe sends the same question (RD set, EDNS0 with a 1232-byte buffer) straight to
 * one server over UDP and over TCP in parallel, in the calling thread, and records per transport
 * what came back.  Its sentence goes into logs, SMTP replies and NDRs ("the resolver 127.0.0.1
 * truncates over UDP and refuses TCP" for a resolver dnsguard forwards to, "127.0.0.1 truncates
 * over UDP and refuses TCP" for a server in its own right); its evidence line goes into the log.  The whole probe ends by its
 * deadline.  It neither retries nor caches: one call, one question per transport.
 */
#ifndef DNSGUARD_DNS_PROBE_H
#define DNSGUARD_DNS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_settings.h"

/* What became of one transport's query. */
enum dns_probe_status {
	DNS_PROBE_ANSWERED,	/* a well-formed reply to our question: see rcode, truncated */
	DNS_PROBE_TIMEOUT,	/* nothing by the deadline (TCP: see connected) */
	DNS_PROBE_REFUSED,	/* UDP: ICMP port unreachable; TCP: connection refused (RST) */
	DNS_PROBE_CLOSED,	/* TCP: accepted, then closed or reset without a whole reply */
	DNS_PROBE_MALFORMED,	/* the reply does not parse, or its id or question is not ours */
	DNS_PROBE_UNREACHABLE,	/* no route to the server (ICMP host or network unreachable) */
	DNS_PROBE_ERROR,	/* a local error while sending or receiving: see os_error */
};

struct dns_probe_leg {
	enum dns_probe_status status;
	int rcode;		/* ANSWERED: the reply's rcode, EDNS extended bits included */
	bool truncated;		/* ANSWERED: TC was set */
	bool connected;		/* TCP: the connection was established */
	unsigned answers;	/* ANSWERED: records in the answer section */
	unsigned size;		/* ANSWERED: the reply's length in octets (TCP: without the length prefix) */
	bool edns;		/* ANSWERED: the reply carries an OPT record (EDNS0) */
	unsigned edns_udp_size;	/* ANSWERED with edns: the UDP payload size the server says it takes */
	unsigned ms;		/* from the start of the probe to this outcome */
	int os_error;		/* ERROR, UNREACHABLE: the errno */
};

/* Longest query name kept (the longest name without escapes is 254 characters). */
#define DNS_PROBE_QNAME_SIZE 256

struct dns_probe_result {
	struct dns_server server;	/* port 0 is stored as 53 */
	char qname[DNS_PROBE_QNAME_SIZE];
	uint16_t qtype;
	struct dns_probe_leg udp, tcp;
};

/* A buffer this size always holds the whole of dns_probe_describe and dns_probe_evidence. */
#define DNS_PROBE_TEXT_SIZE 1024

/*
 * Probes `server` (IPv4 or IPv6; port 0 means 53) for qname/qtype, class IN, and waits at most
 * deadline_ms.  qname is a domain name in presentation form, printable ASCII without spaces.
 * Returns 0 with both legs filled in, whatever the server did; -1 with a sentence in err for bad
 * arguments or a local failure before anything was sent (no socket, no memory).
 */
int dns_probe_server(const struct dns_server *server, const char *qname, uint16_t qtype, unsigned deadline_ms,
		     struct dns_probe_result *out, char *err, size_t errlen);

/*
 * One sentence for people, about the server as itself (an authoritative server, as a diagnostic
 * command probes them): "127.0.0.1 truncates over UDP and refuses TCP",
 * "127.0.0.1@5353 does not answer over UDP or TCP", "127.0.0.1 answers over UDP and TCP".
 * Returns buf.
 */
const char *dns_probe_describe(const struct dns_probe_result *r, char *buf, size_t size);

/*
 * The same sentence about a recursive resolver dnsguard forwards to (dns_servers, or the
 * nameservers of resolv.conf): what it answers is its own verdict on the question, not
 * necessarily its fault ("the resolver 127.0.0.1 answers SERVFAIL over UDP and TCP").
 * Returns buf.
 */
const char *dns_probe_describe_resolver(const struct dns_probe_result *r, char *buf, size_t size);

/*
 * key=value evidence for a log line, e.g.
 * "server=127.0.0.1@5353 qname=big.test qtype=MX udp=answered/NOERROR/tc/answers:0/2ms tcp=refused/1ms".
 * Returns buf.
 */
const char *dns_probe_evidence(const struct dns_probe_result *r, char *buf, size_t size);

/*
 * True if the server does its job: both transports answer with NOERROR or NXDOMAIN and the TCP
 * answer is whole.  A truncated UDP answer is normal DNS (the client retries over TCP).
 */
bool dns_probe_healthy(const struct dns_probe_result *r);

/* "answered", "timeout", "refused", "closed", "malformed", "unreachable", "error". */
const char *dns_probe_status_name(enum dns_probe_status status);

#endif
