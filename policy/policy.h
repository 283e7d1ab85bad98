/*
 * policy - what each check's outcome leads to, and where mail for a destination is routed,
 * compiled from a JSON policy file.
 *
 * Pure: it takes the text of a policy (the caller reads the file) and the facts of a check, and
 * returns a decision; or a routing key as an MTA asks it, and returns the route.  No I/O, no
 * DNS, no clock, no globals, no logging, so it can be tested exhaustively.  The format is
 * dnsguard-policy(5): {"version": 1, ...} with the rules in an array, first match wins, and a
 * built-in table of defaults when no rule matches; the routes in another array.  Every compile
 * error names source:line:column and what was expected; unknown members are errors, so a typo
 * never silently turns a rule off.  A compiled policy is read-only: any number of threads may
 * call policy_decide and policy_route_find on it at once.
 */
#ifndef DNSGUARD_POLICY_H
#define DNSGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"

struct policy;

/* The actions a rule's "then" can name. */
enum policy_action {
	POLICY_ACCEPT,
	POLICY_REJECT,
	POLICY_TEMPFAIL,
	POLICY_TAG,
	POLICY_QUARANTINE,
	POLICY_DIVERT,
	POLICY_LOG_ONLY,
};

/* The checks a rule's "if" can name. */
enum policy_check {
	POLICY_CHECK_CLIENT,
	POLICY_CHECK_HELO,
	POLICY_CHECK_SENDER,
	POLICY_CHECK_RECIPIENT,
};
#define POLICY_CHECK_COUNT 4

/*
 * Outcomes a rule can match.  Mail domains (sender, recipient): ok, nxdomain, no-address (no MX
 * and no A/AAAA), null-mx, mx-unresolvable (every MX host fails), loopback (every mail host is
 * localhost, an IP literal written as a name, or resolves only to loopback/unspecified
 * addresses), temperror, bogus.  Client (RFC 8601 iprev): pass, fail, permerror, temperror.
 * HELO: ok, unresolvable, mismatch, temperror.  Sender only: syntax (the MTA accepted an address
 * that dnsguard cannot parse, so its domain is not checked).  Any check: undecided (internal error
 * or deadline).
 */
enum policy_outcome {
	POLICY_OUTCOME_OK,
	POLICY_OUTCOME_NXDOMAIN,
	POLICY_OUTCOME_NO_ADDRESS,
	POLICY_OUTCOME_NULL_MX,
	POLICY_OUTCOME_MX_UNRESOLVABLE,
	POLICY_OUTCOME_LOOPBACK,
	POLICY_OUTCOME_TEMPERROR,
	POLICY_OUTCOME_BOGUS,
	POLICY_OUTCOME_PASS,
	POLICY_OUTCOME_FAIL,
	POLICY_OUTCOME_PERMERROR,
	POLICY_OUTCOME_UNRESOLVABLE,
	POLICY_OUTCOME_MISMATCH,
	POLICY_OUTCOME_SYNTAX,
	POLICY_OUTCOME_UNDECIDED,
};
#define POLICY_OUTCOME_COUNT 15

/*
 * Compiles policy text.  `source` names it in errors (usually the file path).  Returns NULL and a
 * message "source:line:column: ..." in err on any problem, safe to log and print: control bytes
 * and broken UTF-8 that the file or its name holds are written as \xHH (printable.h).
 */
struct policy *policy_compile(const char *text, size_t len, const char *source, char *err, size_t errlen);
void policy_free(struct policy *policy);

size_t policy_rule_count(const struct policy *policy);
bool policy_dry_run(const struct policy *policy);
/* Whether any rule says `action` (the built-in defaults never divert or quarantine): the daemon
 * opens the badmail store and asks the MTA for message bodies only when a rule diverts.  NULL
 * policy: false. */
bool policy_uses_action(const struct policy *policy, enum policy_action action);
/* Trusted networks skip every check; outbound networks get the recipient check. */
bool policy_client_trusted(const struct policy *policy, const struct netaddr *client);
bool policy_client_outbound(const struct policy *policy, const struct netaddr *client);

const char *policy_action_name(enum policy_action action);
const char *policy_check_name(enum policy_check check);
const char *policy_outcome_name(enum policy_outcome outcome);
/* "nxdomain" -> POLICY_OUTCOME_NXDOMAIN; false for a name that is not an outcome. */
bool policy_outcome_from_name(const char *name, enum policy_outcome *out);
/*
 * Whether a check can have an outcome at all (client/nxdomain cannot; syntax only the sender
 * check; undecided always can).
 */
bool policy_outcome_possible(enum policy_check check, enum policy_outcome outcome);
/* The name of rule i (its "name", or "rule-N" counting from 1). */
const char *policy_rule_name(const struct policy *policy, size_t i);

/*
 * What the caller knows when a check has an outcome.  Strings are never modified; a NULL string
 * counts as "" (but recipient NULL means "no RCPT yet", and client_hostname NULL means "unknown").
 */
struct policy_facts {
	enum policy_check check;
	enum policy_outcome outcome;
	const struct netaddr *client;	/* never NULL */
	const char *client_hostname;	/* FCrDNS-confirmed name without final dot, or "unknown" */
	const char *client_ip_text;	/* "192.0.2.1" / "2001:db8::1" for {ip}; "" = format client */
	const char *helo;		/* may be "" */
	const char *sender_address;	/* the envelope sender without <>, "" for the null sender */
	const char *sender_domain;	/* A-label, lower case, no final dot; "" if none */
	const char *recipient;		/* the RCPT being decided (without <>), or NULL before RCPT */
	const char *recipient_domain;	/* A-label, lower case; NULL/"" if none */
	bool authenticated;		/* SASL */
	bool outbound;			/* authenticated or in outbound_networks */
	const char *daemon;		/* MTA daemon name ({daemon_name}), may be "" */
	const char *cause;		/* DNS cause text for {cause}, e.g. "SERVFAIL over udp-tcp", may be "" */
};

#define POLICY_REPLY_TEXT_SIZE 512

struct policy_decision {
	enum policy_action action;	/* what to do (even in dry run: the caller logs it and accepts) */
	bool dry_run;			/* policy's global dry_run: caller must accept after logging */
	unsigned code;			/* SMTP code for reject/tempfail, e.g. 550; 0 for other actions */
	char xcode[16];			/* enhanced status, e.g. "5.1.8"; "" when none */
	char text[POLICY_REPLY_TEXT_SIZE]; /* reply text, placeholders expanded; "" when none */
	char rule[128];			/* name of the deciding rule, or "default" for the built-in table */
};

/*
 * Decides what the outcome in `facts` leads to: the first rule whose conditions all hold, else
 * the built-in default for the check and outcome (dnsguard-policy(5) has the table).  `policy`
 * may be NULL: the built-in defaults alone.  trusted_networks is not consulted here (a trusted
 * client is never checked: see policy_client_trusted).  An outcome the check cannot have (see
 * policy_outcome_possible: a caller's bug) is decided as undecided, never accepted.  For reject
 * and tempfail, code/xcode/text are filled; for other actions they are 0/"".  The reply text is
 * plain printable ASCII
 * without CR/LF, at most POLICY_REPLY_TEXT_SIZE - 1 bytes (ending in "..." if it was cut); the
 * caller still escapes '%' for libmilter.  Always fills `out`.
 */
void policy_decide(const struct policy *policy, const struct policy_facts *facts, struct policy_decision *out);

/* ---- routes: the smart hosts for a destination (dnsguard-policy(5), ROUTES) ---------------- */

#define POLICY_ROUTE_HOSTS_MAX 16	/* smart hosts per route */
#define POLICY_ROUTE_KEY_MAX 1000	/* octets of a key policy_route_find will look at */

enum policy_route_host_kind {
	POLICY_ROUTE_ADDRESS,	/* "[192.0.2.25]", "[2001:db8::25]:2525": no DNS needed */
	POLICY_ROUTE_NAME,	/* "smarthost.example.net:587": the caller resolves it */
};

struct policy_route_host {
	enum policy_route_host_kind kind;
	struct netaddr address;	/* ADDRESS only (IPv4-mapped IPv6 folded to IPv4, as netaddr does) */
	const char *name;	/* NAME only: A-label, lower case, no final dot; NULL for ADDRESS */
	unsigned port;		/* 1-65535, or 0: the transport's default */
};

struct policy_route {
	const char *name;		/* its "name", else its destination: the deciding route in logs */
	/*
	 * Normalized: "example.com" (A-label, lower case, no final dot), "user@example.com" (the
	 * whole address lower case, as Postfix transport(5) folds its keys) or "*" (the default).
	 */
	const char *destination;
	bool subdomains;		/* a domain destination covers the names under it too */
	const struct policy_route_host *hosts;	/* in the order they are tried */
	size_t host_count;		/* 1 to POLICY_ROUTE_HOSTS_MAX */
};

/* The routes in file order; a NULL policy has none.  policy_route_at: NULL when i is too big. */
size_t policy_route_count(const struct policy *policy);
const struct policy_route *policy_route_at(const struct policy *policy, size_t i);

/*
 * The route for a key as an MTA asks it, or NULL: no route (the socketmap NOTFOUND).  Keys are
 * folded to lower case, a final dot on a domain is ignored, and a domain written in Unicode is
 * taken in its A-label form.  Postfix asks with an address (a socketmap is a pattern table to it):
 * "user+ext@sub.example.com" tries the route for that address, then "user@sub.example.com" (the
 * extension after the first '+' removed), then sub.example.com, then example.com and com if their
 * routes cover subdomains, then "*".  Sendmail's mailertable asks "sub.example.com", then
 * ".example.com", ".com", ".": a domain key tries the domain's route and then its parents' that
 * cover subdomains, ".example.com" only routes covering names under example.com (example.com's with
 * subdomains, or a parent's), and "." as "*" the default route.  So both MTAs end at the same
 * route.  An address at a literal ("user@[192.0.2.1]") has only the default route.  A key that is
 * no address or domain (empty, longer than POLICY_ROUTE_KEY_MAX, with spaces or control bytes)
 * gets NULL.  Each key costs one hash probe per label, however many routes there are.
 */
const struct policy_route *policy_route_find(const struct policy *policy, const char *key);

#endif
