/*
 * decision - what one check's result comes to under the policy, as a value, and its renderings.
 *
 * Every program of dnsguard decides the same way: the milter at RCPT, and (next) the badmail
 * store, the NDR and dnsguard-check.  A check's result (client, HELO, sender or recipient:
 * fcrdns.h, helo_check.h, mail_domain.h) becomes a struct check_result; with the facts of the
 * session and message it becomes a struct decision: outcome, deciding rule, action, reply, the
 * cause of a DNS failure with the server probe's finding, and the evidence it rests on.  The log
 * line and the SMTP reply are renderings of that one value, each written here once.
 *
 * Pure: no I/O, no clock, no DNS, no libmilter; the probe's finding is handed in by the caller.
 * The strings of the inputs are borrowed: a decision is valid as long as its inputs.
 */
#ifndef DNSGUARD_DECISION_H
#define DNSGUARD_DECISION_H

#include <stdbool.h>
#include <stddef.h>

#include "dns_settings.h"
#include "fcrdns.h"
#include "helo_check.h"
#include "mail_domain.h"
#include "netaddr.h"
#include "policy.h"
#include "resolver.h"
#include "strbuf.h"

/* What the probe of the servers said about the failed lookup, when asked. */
enum decision_probe {
	DECISION_PROBE_NONE,		/* nothing to say (no failure, nothing to probe, nothing fits) */
	DECISION_PROBE_RUNNING,		/* the probe is still running: its finding follows in the log */
	DECISION_PROBE_KNOWN,		/* see check_result.finding */
};

/* One check's result, as a decision needs it. */
struct check_result {
	enum policy_check check;
	enum policy_outcome outcome;
	const char *subject;		/* what was asked about (a domain, a HELO name), or NULL */
	const char *cause;		/* why, when it is not DNS (the address does not parse), or NULL */
	const struct dns_evidence *evidence;	/* the lookup the outcome rests on, or NULL */
	enum decision_probe probe;
	const char *finding;		/* DECISION_PROBE_KNOWN: "the resolver 127.0.0.1 ..." */
};

/* The check results of the check modules.  NULL (not decided: out of memory, not started)
 * gives the outcome undecided without evidence. */
void check_result_client(const struct fcrdns_result *r, struct check_result *out);
void check_result_helo(const struct helo_result *r, const char *helo, struct check_result *out);
void check_result_domain(enum policy_check check, const struct mail_domain_result *r, const char *domain,
			 struct check_result *out);

/* What the session and the message say.  Strings are never NULL, except recipient and
 * recipient_domain before RCPT. */
struct decision_facts {
	const struct netaddr *client;	/* never NULL (unspecified for a local client) */
	const char *client_ip;		/* "192.0.2.1", or "unknown" */
	const char *client_name;	/* as the MTA names it ("unknown" if it has none) */
	const char *client_hostname;	/* FCrDNS-confirmed, without the final dot, or "unknown" */
	const char *helo;
	const char *sender;		/* the envelope sender without <>, "" for the null sender */
	const char *sender_domain;	/* A-label, lower case, "" if none */
	const char *recipient;		/* the RCPT being decided, without <>, or NULL */
	const char *recipient_domain;
	bool authenticated;		/* SASL */
	bool outbound;			/* authenticated or from an outbound network */
	const char *daemon;		/* the MTA's {daemon_name}, may be "" */
};

/* How the generation asks DNS: part of the cause ("SERVFAIL over udp-tcp"). */
struct decision_dns {
	enum dns_transport transport;
	unsigned deadline_ms;
};

#define DECISION_CAUSE_SIZE 768

struct decision {
	enum policy_check check;
	enum policy_outcome outcome;
	enum policy_action action;	/* what the rule says (even in dry run: see dry_run) */
	bool dry_run;			/* the policy's dry_run: logged, then accepted */
	char rule[128];			/* the deciding rule's name, "default" for the built-in table */
	unsigned code;			/* reject and tempfail: the reply; 0 otherwise */
	char xcode[16];
	char text[POLICY_REPLY_TEXT_SIZE];
	char cause[DECISION_CAUSE_SIZE];	/* "SERVFAIL over udp: the resolver ...", or "" */
	const char *subject;		/* borrowed from the check result; may be NULL */
	const struct dns_evidence *evidence;	/* borrowed; may be NULL */
	enum dns_transport transport;
};

/* Decides one check's result.  `policy` NULL: the built-in defaults alone.  Always fills out. */
void decision_make(const struct policy *policy, const struct decision_dns *dns, const struct decision_facts *facts,
		   const struct check_result *result, struct decision *out);

/* The cause of a failed lookup: "SERVFAIL over udp-tcp: <finding>", "no answer within 4000 ms
 * (the servers are being probed)", "DNSSEC validation failed: <why>"; "" for an answer that is
 * no failure.  Returns buf. */
const char *decision_cause(const struct dns_evidence *ev, const struct decision_dns *dns, enum decision_probe probe,
			   const char *finding, char *buf, size_t size);

/* Whether the outcome is fine and the policy lets it be: nothing to log, nothing to do. */
bool decision_is_quiet(const struct decision *d);
/* Whether the message goes on as far as this decision goes (dry run, accept, log-only, tag,
 * quarantine, divert): false only for a reject or tempfail that is carried out. */
bool decision_lets_through(const struct decision *d);
/* Whether the decision line is a warning (DNS trouble, undecided) rather than information. */
bool decision_is_warning(const struct decision *d);

/*
 * The decision line's fields after its lead ("ID: decision"): check outcome action [dry_run]
 * rule [reply] client helo from [to] [name] [cause] [transport dns_...].  Every value from a peer
 * is quoted and escaped by strbuf_append_kv.
 */
void decision_format(const struct decision *d, const struct decision_facts *facts, struct strbuf *line);

/* The SMTP reply of a reject or tempfail, made safe for the MTA (reply_text.h): code ("550"),
 * enhanced code ("" when none) and text.  False when the decision has no reply. */
struct decision_reply {
	char code[4];
	char xcode[16];
	char text[900];			/* libmilter refuses reply text over 980 bytes */
};
bool decision_reply(const struct decision *d, struct decision_reply *out);

#endif
