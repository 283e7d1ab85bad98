/*
 * policy - what each check's outcome leads to, compiled from a JSON policy file.
 *
 * Pure: it takes the text of a policy (the caller reads the file) and, later, the facts of a
 * session, and returns decisions.  No I/O, no clock, no globals, so it can be tested
 * exhaustively.  The format is dnsguard-policy(5): {"version": 1, ...} with the rules in an array,
 * first match wins.  Every error names source:line:column and what was expected; unknown members
 * are errors, so a typo never silently turns a rule off.
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
 * and no A/AAAA), null-mx, mx-unresolvable (every MX host fails), temperror, bogus.  Client
 * (RFC 8601 iprev): pass, fail, permerror, temperror.  HELO: ok, unresolvable, mismatch,
 * temperror.  Any check: undecided (internal error or deadline).
 */
enum policy_outcome {
	POLICY_OUTCOME_OK,
	POLICY_OUTCOME_NXDOMAIN,
	POLICY_OUTCOME_NO_ADDRESS,
	POLICY_OUTCOME_NULL_MX,
	POLICY_OUTCOME_MX_UNRESOLVABLE,
	POLICY_OUTCOME_TEMPERROR,
	POLICY_OUTCOME_BOGUS,
	POLICY_OUTCOME_PASS,
	POLICY_OUTCOME_FAIL,
	POLICY_OUTCOME_PERMERROR,
	POLICY_OUTCOME_UNRESOLVABLE,
	POLICY_OUTCOME_MISMATCH,
	POLICY_OUTCOME_UNDECIDED,
};
#define POLICY_OUTCOME_COUNT 13

/*
 * Compiles policy text.  `source` names it in errors (usually the file path).  Returns NULL and a
 * message "source:line:column: ..." in err on any problem.
 */
struct policy *policy_compile(const char *text, size_t len, const char *source, char *err, size_t errlen);
void policy_free(struct policy *policy);

size_t policy_rule_count(const struct policy *policy);
bool policy_dry_run(const struct policy *policy);
/* Trusted networks skip every check; outbound networks get the recipient check. */
bool policy_client_trusted(const struct policy *policy, const struct netaddr *client);
bool policy_client_outbound(const struct policy *policy, const struct netaddr *client);

const char *policy_action_name(enum policy_action action);
const char *policy_check_name(enum policy_check check);
const char *policy_outcome_name(enum policy_outcome outcome);
/* The name of rule i (its "name", or "rule N" counting from 1). */
const char *policy_rule_name(const struct policy *policy, size_t i);

#endif
