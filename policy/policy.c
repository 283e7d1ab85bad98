/*
 * policy - compiles and validates the JSON policy, and decides; see policy.h and dnsguard-policy(5).
 *
 * Validation is strict and complete before anything is returned: a policy either compiles whole
 * or not at all, so a reload with a bad file keeps the old policy.  Errors carry the position of
 * the offending member, found with json_locate.  Patterns are normalized when compiled (domains
 * without a final dot, recipients split into local part and domain), so policy_decide only
 * compares.  The built-in defaults (what happens when no rule matches) are one table here,
 * mirrored by the table in dnsguard-policy(5) and checked row by row by the unit tests.
 *
 * Routes are compiled into a hash table keyed by their normalized destination, so that finding
 * the route for an MTA's key walks the key's labels, one probe each, whatever the number of
 * routes.  Host names in routes are only checked here; resolving them is the caller's job.
 */
#include "policy.h"

#include <idn2.h>
#include <jansson.h>
#include <search.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_locate.h"
#include "printable.h"
#include "strbuf.h"

#define POLICY_DEPTH_MAX 6
#define REPLY_TEXT_MAX 400
#define RULE_NAME_MAX 64

struct string_list {
	char **items;
	size_t count;
};

struct net_list {
	struct netaddr_net *items;
	size_t count;
};

/*
 * A recipient pattern: "user@domain" (local and domain, domain_exact), "user@" (local only),
 * "@domain" (domain only, domain_exact), "domain" (that domain and the names under it) or
 * ".domain" (only the names under it; domain keeps its leading dot).
 */
struct recipient_pattern {
	char *local;		/* NULL: any local part */
	char *domain;		/* NULL: any domain; lower case, no final dot */
	bool domain_exact;
};

struct recipient_list {
	struct recipient_pattern *items;
	size_t count;
};

enum tristate { TRI_ANY, TRI_YES, TRI_NO };

struct policy_rule {
	char *name;
	unsigned checks;	/* bit per enum policy_check; 0 = any */
	uint32_t outcomes;	/* bit per enum policy_outcome; 0 = any */
	struct net_list client_networks;
	struct string_list client_hostnames;	/* domain patterns: "name" or ".name" */
	struct string_list sender_domains;	/* likewise */
	struct recipient_list recipients;
	struct string_list daemons;
	enum tristate authenticated;
	enum tristate outbound;
	enum policy_action action;
	bool has_reply;
	char reply_code[4];	/* "" when the built-in reply's code applies */
	char reply_xcode[16];	/* likewise */
	char *reply_text;	/* NULL likewise */
};

/* A slot of the route table: open addressing, linear probing; route NULL when empty. */
struct route_slot {
	const char *key;	/* the route's destination */
	size_t len;
	const struct policy_route *route;
};

struct policy {
	bool dry_run;
	struct net_list trusted;
	struct net_list outbound;
	struct policy_rule *rules;
	size_t rule_count;
	struct policy_route *routes;
	size_t route_count;
	struct route_slot *route_slots;	/* domain and address routes by destination */
	size_t route_mask;		/* slots - 1, a power of two minus one */
	const struct policy_route *default_route;	/* "*" */
};

static const char *const action_names[] = {
	[POLICY_ACCEPT] = "accept",	[POLICY_REJECT] = "reject", [POLICY_TEMPFAIL] = "tempfail",
	[POLICY_TAG] = "tag",		[POLICY_QUARANTINE] = "quarantine",
	[POLICY_DIVERT] = "divert",	[POLICY_LOG_ONLY] = "log-only",
};
static const char *const check_names[] = {
	[POLICY_CHECK_CLIENT] = "client",
	[POLICY_CHECK_HELO] = "helo",
	[POLICY_CHECK_SENDER] = "sender",
	[POLICY_CHECK_RECIPIENT] = "recipient",
};
static const char *const outcome_names[] = {
	[POLICY_OUTCOME_OK] = "ok",
	[POLICY_OUTCOME_NXDOMAIN] = "nxdomain",
	[POLICY_OUTCOME_NO_ADDRESS] = "no-address",
	[POLICY_OUTCOME_NULL_MX] = "null-mx",
	[POLICY_OUTCOME_MX_UNRESOLVABLE] = "mx-unresolvable",
	[POLICY_OUTCOME_LOOPBACK] = "loopback",
	[POLICY_OUTCOME_TEMPERROR] = "temperror",
	[POLICY_OUTCOME_BOGUS] = "bogus",
	[POLICY_OUTCOME_PASS] = "pass",
	[POLICY_OUTCOME_FAIL] = "fail",
	[POLICY_OUTCOME_PERMERROR] = "permerror",
	[POLICY_OUTCOME_UNRESOLVABLE] = "unresolvable",
	[POLICY_OUTCOME_MISMATCH] = "mismatch",
	[POLICY_OUTCOME_SYNTAX] = "syntax",
	[POLICY_OUTCOME_UNDECIDED] = "undecided",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1u << (n))

_Static_assert(COUNT(check_names) == POLICY_CHECK_COUNT, "POLICY_CHECK_COUNT is stale");
_Static_assert(COUNT(outcome_names) == POLICY_OUTCOME_COUNT, "POLICY_OUTCOME_COUNT is stale");
_Static_assert(POLICY_OUTCOME_COUNT <= 32, "outcome sets are 32-bit masks");

/* Which outcomes each check can have (policy.h). */
#define MAIL_DOMAIN_OUTCOMES                                                                                 \
	(BIT(POLICY_OUTCOME_OK) | BIT(POLICY_OUTCOME_NXDOMAIN) | BIT(POLICY_OUTCOME_NO_ADDRESS) |            \
	 BIT(POLICY_OUTCOME_NULL_MX) | BIT(POLICY_OUTCOME_MX_UNRESOLVABLE) | BIT(POLICY_OUTCOME_LOOPBACK) | \
	 BIT(POLICY_OUTCOME_TEMPERROR) | BIT(POLICY_OUTCOME_BOGUS) | BIT(POLICY_OUTCOME_UNDECIDED))
static const uint32_t check_outcomes[] = {
	[POLICY_CHECK_CLIENT] = BIT(POLICY_OUTCOME_PASS) | BIT(POLICY_OUTCOME_FAIL) | BIT(POLICY_OUTCOME_PERMERROR) |
				BIT(POLICY_OUTCOME_TEMPERROR) | BIT(POLICY_OUTCOME_UNDECIDED),
	[POLICY_CHECK_HELO] = BIT(POLICY_OUTCOME_OK) | BIT(POLICY_OUTCOME_UNRESOLVABLE) | BIT(POLICY_OUTCOME_MISMATCH) |
			      BIT(POLICY_OUTCOME_TEMPERROR) | BIT(POLICY_OUTCOME_UNDECIDED),
	[POLICY_CHECK_SENDER] = MAIL_DOMAIN_OUTCOMES | BIT(POLICY_OUTCOME_SYNTAX),
	[POLICY_CHECK_RECIPIENT] = MAIL_DOMAIN_OUTCOMES,
};

const char *policy_action_name(enum policy_action action)
{
	return (size_t)action < COUNT(action_names) ? action_names[action] : "?";
}

const char *policy_check_name(enum policy_check check)
{
	return (size_t)check < COUNT(check_names) ? check_names[check] : "?";
}

const char *policy_outcome_name(enum policy_outcome outcome)
{
	return (size_t)outcome < COUNT(outcome_names) ? outcome_names[outcome] : "?";
}

static int name_index(const char *const *names, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

bool policy_outcome_from_name(const char *name, enum policy_outcome *out)
{
	int index = name ? name_index(outcome_names, COUNT(outcome_names), name) : -1;

	if (index < 0)
		return false;
	*out = (enum policy_outcome)index;
	return true;
}

bool policy_outcome_possible(enum policy_check check, enum policy_outcome outcome)
{
	return (size_t)check < COUNT(check_outcomes) && (size_t)outcome < COUNT(outcome_names) &&
	       (check_outcomes[check] & BIT(outcome)) != 0;
}

/* "a, b, c" of the names whose bits are set */
static void names_text(const char *const *names, size_t count, uint32_t set, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count && used < size; i++) {
		if (!(set & BIT(i)) || !names[i])
			continue;
		int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", names[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* ---- error reporting: the path being validated, and where it is in the text -------------- */

struct compile {
	const char *text;
	size_t len;
	const char *source;
	char *err;
	size_t errlen;
	struct json_step path[POLICY_DEPTH_MAX];
	size_t depth;
	char index_text[POLICY_DEPTH_MAX][24];
	void *rule_names;	/* tsearch tree of the rules read so far, the first of each name */
	void *route_names;	/* likewise for the routes */
};

static void push_member(struct compile *c, const char *member)
{
	c->path[c->depth].member = member;
	c->path[c->depth].index = 0;
	c->depth++;
}

static void push_index(struct compile *c, size_t index)
{
	c->path[c->depth].member = NULL;
	c->path[c->depth].index = index;
	c->depth++;
}

static void pop(struct compile *c)
{
	c->depth--;
}

/* "rules[2].if.check" for the message */
static void path_text(struct compile *c, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->depth && used < size; i++) {
		int n = c->path[i].member
				? snprintf(buf + used, size - used, "%s%s", i ? "." : "", c->path[i].member)
				: snprintf(buf + used, size - used, "[%zu]", c->path[i].index);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, size, "top level");
}

static bool fail(struct compile *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(struct compile *c, const char *fmt, ...)
{
	unsigned line = 0, column = 0;
	char where[200], what[400];
	va_list ap;
	size_t depth = c->depth;

	/* the closest enclosing place that can be found in the text */
	while (!json_locate(c->text, c->len, c->path, depth, &line, &column) && depth > 0)
		depth--;
	path_text(c, where, sizeof(where));
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u:%u: %s: %s", c->source, line, column, where, what);
	return false;
}

/* ---- value readers ------------------------------------------------------------------------ */

static bool read_bool(struct compile *c, json_t *value, bool *out)
{
	if (!json_is_boolean(value))
		return fail(c, "expected true or false");
	*out = json_is_true(value);
	return true;
}

static bool read_tristate(struct compile *c, json_t *value, enum tristate *out)
{
	bool b = false;

	if (!read_bool(c, value, &b))
		return false;
	*out = b ? TRI_YES : TRI_NO;
	return true;
}

static bool read_string(struct compile *c, json_t *value, const char **out)
{
	if (!json_is_string(value))
		return fail(c, "expected a string");
	*out = json_string_value(value);
	if (strlen(*out) != json_string_length(value))
		return fail(c, "NUL character in string");
	return true;
}

/*
 * A string or an array of strings.  `normalize`, if given, checks each entry and may rewrite it
 * (it gets the rule's own copy).
 */
static bool read_string_list(struct compile *c, json_t *value, struct string_list *out,
			     bool (*normalize)(struct compile *, char *), bool allow_empty)
{
	size_t count = json_is_array(value) ? json_array_size(value) : 1;

	if (!json_is_string(value) && !json_is_array(value))
		return fail(c, "expected a string or an array of strings");
	/* an empty list in a condition could never match: surely a mistake */
	if (json_is_array(value) && count == 0 && !allow_empty)
		return fail(c, "expected at least one entry");
	out->items = calloc(count + 1, sizeof(char *));
	if (!out->items)
		return fail(c, "out of memory");
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_is_array(value) ? json_array_get(value, i) : value;
		const char *text;
		if (json_is_array(value))
			push_index(c, i);
		if (!read_string(c, item, &text))
			return false;
		out->items[i] = strdup(text);
		if (!out->items[i])
			return fail(c, "out of memory");
		out->count++;
		if (normalize && !normalize(c, out->items[i]))
			return false;
		if (json_is_array(value))
			pop(c);
	}
	return true;
}

static void free_strings(struct string_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static bool read_networks(struct compile *c, json_t *value, struct net_list *out, bool allow_empty)
{
	struct string_list texts = {0};
	bool ok = read_string_list(c, value, &texts, NULL, allow_empty);

	if (ok) {
		out->items = calloc(texts.count + 1, sizeof(*out->items));
		if (!out->items)
			ok = fail(c, "out of memory");
	}
	for (size_t i = 0; ok && i < texts.count; i++) {
		if (!netaddr_net_parse(texts.items[i], &out->items[i])) {
			if (json_is_array(value))
				push_index(c, i);
			ok = fail(c, "'%s' is not an address or network (expected e.g. 192.0.2.0/24 or 2001:db8::/32)",
				  texts.items[i]);
			break;
		}
		out->count++;
	}
	free_strings(&texts);
	return ok;
}

/* A bit set of names from a closed list: "sender" or ["sender", "recipient"]. */
static bool read_name_set(struct compile *c, json_t *value, const char *const *names, size_t count,
			  const char *what, uint32_t *out)
{
	struct string_list list = {0};
	bool ok = read_string_list(c, value, &list, NULL, false);

	for (size_t i = 0; ok && i < list.count; i++) {
		int index = name_index(names, count, list.items[i]);
		if (index < 0) {
			char expected[300];
			names_text(names, count, UINT32_MAX, expected, sizeof(expected));
			if (json_is_array(value))
				push_index(c, i);
			ok = fail(c, "unknown %s '%s' (expected one of: %s)", what, list.items[i], expected);
			break;
		}
		*out |= BIT(index);
	}
	free_strings(&list);
	return ok;
}

/* ---- names and addresses: ASCII only, so no locale can change a comparison ------------------- */

static char ascii_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool ascii_equal(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

static bool has_non_ascii(const char *text)
{
	for (; *text; text++)
		if ((unsigned char)*text >= 0x80)
			return true;
	return false;
}

/* A host name of len bytes: labels of 1-63 letters, digits, '-' or '_', at most 253 in all. */
static bool is_domain_name(const char *text, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			   ch == '-' || ch == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/*
 * Checks a domain, or with allow_below a ".domain" pattern, in place; lower-cases it and drops
 * a final dot.  Returns a reason or NULL.
 */
static const char *domain_pattern_normalize(char *text, bool allow_below)
{
	char *name = allow_below && text[0] == '.' ? text + 1 : text;
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (!is_domain_name(name, len)) {
		if (strchr(text, '*'))
			return " (no wildcards: '.example.org' means the names under example.org)";
		if (has_non_ascii(text))
			return " (write internationalized names in A-label form, xn--...)";
		return "";
	}
	name[len] = '\0';
	for (char *p = text; *p; p++)
		*p = ascii_lower(*p);
	return NULL;
}

static bool normalize_domain_pattern(struct compile *c, char *text)
{
	char original[300];
	const char *why;

	snprintf(original, sizeof(original), "%s", text);
	if ((why = domain_pattern_normalize(text, true)) != NULL)
		return fail(c, "'%s' is not a domain name%s", original, why);
	return true;
}

/*
 * A local part as a pattern: no spaces or control characters, no angle brackets, at most 64, and
 * '@' only inside a quoted local part.
 */
static bool is_local_part(const char *text, size_t len)
{
	if (len == 0 || len > 64 || (text[0] != '"' && memchr(text, '@', len)))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch <= ' ' || ch == 0x7f || ch == '<' || ch == '>')
			return false;
	}
	return true;
}

/* "user@domain", "user@", "@domain", "domain" or ".domain"; see struct recipient_pattern. */
static bool parse_recipient(struct compile *c, const char *text, struct recipient_pattern *out)
{
	const char *at = strrchr(text, '@');
	size_t local_len = at ? (size_t)(at - text) : 0;
	const char *domain = at ? at + 1 : text;
	const char *why = "";

	if (strlen(text) > 320 || (at && local_len == 0 && *domain == '\0') ||
	    (at && local_len > 0 && !is_local_part(text, local_len)))
		goto bad;
	if (at && local_len > 0 && !(out->local = strndup(text, local_len)))
		return fail(c, "out of memory");
	if (*domain != '\0' || !at) {
		if (!(out->domain = strdup(domain)))
			return fail(c, "out of memory");
		/* after '@' a domain is exact, so a leading dot there is a mistake */
		if ((why = domain_pattern_normalize(out->domain, !at)) != NULL)
			goto bad;
		out->domain_exact = at != NULL;
	}
	return true;
bad:
	return fail(c, "'%s' is not a recipient pattern%s (expected user@domain, user@, @domain, domain or .domain)",
		    text, why);
}

static void free_recipients(struct recipient_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].local);
		free(list->items[i].domain);
	}
	free(list->items);
}

static bool read_recipients(struct compile *c, json_t *value, struct recipient_list *out)
{
	struct string_list texts = {0};
	bool ok = read_string_list(c, value, &texts, NULL, false);

	if (ok) {
		out->items = calloc(texts.count + 1, sizeof(*out->items));
		if (!out->items)
			ok = fail(c, "out of memory");
	}
	for (size_t i = 0; ok && i < texts.count; i++) {
		if (json_is_array(value))
			push_index(c, i);
		out->count++; /* so that policy_free frees what parse_recipient allocated */
		ok = parse_recipient(c, texts.items[i], &out->items[i]);
		if (ok && json_is_array(value))
			pop(c);
	}
	free_strings(&texts);
	return ok;
}

/* Rejects members not in `allowed`, naming the first unknown one. */
static bool check_members(struct compile *c, json_t *object, const char *const *allowed)
{
	const char *key;
	json_t *value;

	json_object_foreach(object, key, value) {
		bool known = false;
		for (const char *const *a = allowed; *a; a++)
			known = known || strcmp(*a, key) == 0;
		if (!known) {
			char expected[300] = "";
			for (const char *const *a = allowed; *a; a++)
				snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s",
					 a == allowed ? "" : ", ", *a);
			push_member(c, key);
			return fail(c, "unknown member '%s' (expected one of: %s)", key, expected);
		}
	}
	return true;
}

/* ---- rules --------------------------------------------------------------------------------- */

static const char *const rule_members[] = {"name", "comment", "if", "then", "reply", NULL};
static const char *const condition_members[] = {"check",	   "outcome",	    "client_network",
						"client_hostname", "sender_domain", "recipient",
						"authenticated",   "outbound",	    "daemon",
						NULL};
static const char *const reply_members[] = {"code", "xcode", "text", NULL};
static const char *const top_members[] = {"version",		"comment", "dry_run", "trusted_networks",
					  "outbound_networks", "rules",	  "routes",  NULL};

/*
 * An outcome that none of the rule's checks can have would make the rule dead: say so, at the
 * outcome, with the outcomes those checks do have.
 */
static bool check_outcomes_possible(struct compile *c, json_t *outcome, uint32_t checks, uint32_t outcomes)
{
	uint32_t possible = 0, impossible;
	char checks_text[100] = "", expected[300];
	size_t used = 0, named = 0, total = 0;
	int first = -1;

	for (size_t i = 0; i < POLICY_CHECK_COUNT; i++)
		if (checks & BIT(i)) {
			possible |= check_outcomes[i];
			total++;
		}
	impossible = outcomes & ~possible;
	if (!impossible)
		return true;
	for (size_t i = 0; i < POLICY_OUTCOME_COUNT && first < 0; i++)
		if (impossible & BIT(i))
			first = (int)i;
	/* "client", "client or helo", "client, helo or sender" */
	for (size_t i = 0; i < POLICY_CHECK_COUNT && used < sizeof(checks_text); i++) {
		if (!(checks & BIT(i)))
			continue;
		named++;
		int n = snprintf(checks_text + used, sizeof(checks_text) - used, "%s%s",
				 named == 1 ? "" : named == total ? " or " : ", ", check_names[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	names_text(outcome_names, COUNT(outcome_names), possible, expected, sizeof(expected));
	push_member(c, "outcome");
	for (size_t i = 0; json_is_array(outcome) && i < json_array_size(outcome); i++)
		if (strcmp(json_string_value(json_array_get(outcome, i)), outcome_names[first]) == 0) {
			push_index(c, i);
			break;
		}
	return fail(c, "outcome '%s' never happens in a %s check (expected one of: %s)", outcome_names[first],
		    checks_text, expected);
}

static bool read_conditions(struct compile *c, json_t *cond, struct policy_rule *rule)
{
	json_t *v;

	if (!json_is_object(cond))
		return fail(c, "expected an object of conditions");
	if (!check_members(c, cond, condition_members))
		return false;
#define MEMBER(name, reader)                                                                                 \
	if ((v = json_object_get(cond, name)) != NULL) {                                                     \
		push_member(c, name);                                                                        \
		if (!(reader))                                                                               \
			return false;                                                                        \
		pop(c);                                                                                      \
	}
	uint32_t checks = 0;
	MEMBER("check", read_name_set(c, v, check_names, COUNT(check_names), "check", &checks));
	rule->checks = checks;
	MEMBER("outcome", read_name_set(c, v, outcome_names, COUNT(outcome_names), "outcome", &rule->outcomes));
	if (rule->checks && rule->outcomes &&
	    !check_outcomes_possible(c, json_object_get(cond, "outcome"), rule->checks, rule->outcomes))
		return false;
	MEMBER("client_network", read_networks(c, v, &rule->client_networks, false));
	MEMBER("client_hostname", read_string_list(c, v, &rule->client_hostnames, normalize_domain_pattern, false));
	MEMBER("sender_domain", read_string_list(c, v, &rule->sender_domains, normalize_domain_pattern, false));
	MEMBER("recipient", read_recipients(c, v, &rule->recipients));
	MEMBER("daemon", read_string_list(c, v, &rule->daemons, NULL, false));
	MEMBER("authenticated", read_tristate(c, v, &rule->authenticated));
	MEMBER("outbound", read_tristate(c, v, &rule->outbound));
#undef MEMBER
	return true;
}

/* Placeholders a reply text may use; anything else in braces is a typo. */
static const char *const placeholders[] = {"{address}", "{domain}", "{ip}", "{hostname}", "{cause}", "{helo}", NULL};

static bool valid_reply_text(struct compile *c, const char *text)
{
	if (strlen(text) > REPLY_TEXT_MAX)
		return fail(c, "reply text longer than %d characters", REPLY_TEXT_MAX);
	for (const char *p = text; *p; p++) {
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
			return fail(c, "reply text must be printable ASCII on one line");
		if (*p == '{') {
			bool known = false;
			for (const char *const *ph = placeholders; *ph && !known; ph++)
				known = strncmp(p, *ph, strlen(*ph)) == 0;
			if (!known)
				return fail(c, "unknown placeholder at '%.20s' (expected {address}, {domain}, {ip}, "
					       "{hostname}, {cause} or {helo})",
					    p);
		}
	}
	return true;
}

static bool read_reply(struct compile *c, json_t *reply, struct policy_rule *rule)
{
	const char *code = NULL, *xcode = NULL, *text = NULL;
	json_t *v;

	if (!json_is_object(reply))
		return fail(c, "expected an object with code, xcode and text");
	if (!check_members(c, reply, reply_members))
		return false;
	if ((v = json_object_get(reply, "code"))) {
		push_member(c, "code");
		if (!read_string(c, v, &code))
			return false;
		if (strlen(code) != 3 || (code[0] != '4' && code[0] != '5') || code[1] < '0' || code[1] > '9' ||
		    code[2] < '0' || code[2] > '9')
			return fail(c, "expected a 4xx or 5xx reply code such as \"550\"");
		if (rule->action == POLICY_REJECT && code[0] != '5')
			return fail(c, "a reject needs a 5xx code");
		if (rule->action == POLICY_TEMPFAIL && code[0] != '4')
			return fail(c, "a tempfail needs a 4xx code");
		pop(c);
	}
	if ((v = json_object_get(reply, "xcode"))) {
		unsigned a, b, d;
		char tail;
		push_member(c, "xcode");
		if (!read_string(c, v, &xcode))
			return false;
		if (strlen(xcode) >= sizeof(rule->reply_xcode) || strspn(xcode, "0123456789.") != strlen(xcode) ||
		    sscanf(xcode, "%u.%u.%u%c", &a, &b, &d, &tail) != 3 || (a != 4 && a != 5) || b > 999 || d > 999)
			return fail(c, "expected an enhanced status code such as \"5.1.8\"");
		if (code && (unsigned)(code[0] - '0') != a)
			return fail(c, "enhanced code %s does not match reply code %s", xcode, code);
		/* without a code, the built-in one is taken: it agrees with the action */
		if (!code && rule->action == POLICY_REJECT && a != 5)
			return fail(c, "a reject needs a 5.x.x enhanced code");
		if (!code && rule->action == POLICY_TEMPFAIL && a != 4)
			return fail(c, "a tempfail needs a 4.x.x enhanced code");
		pop(c);
	}
	if ((v = json_object_get(reply, "text"))) {
		push_member(c, "text");
		if (!read_string(c, v, &text) || !valid_reply_text(c, text))
			return false;
		pop(c);
	}
	if (rule->action != POLICY_REJECT && rule->action != POLICY_TEMPFAIL)
		return fail(c, "a reply goes only with \"then\": \"reject\" or \"tempfail\"");
	rule->has_reply = true;
	if (code)
		memcpy(rule->reply_code, code, 4);
	if (xcode)
		strcpy(rule->reply_xcode, xcode);
	if (text && !(rule->reply_text = strdup(text)))
		return fail(c, "out of memory");
	return true;
}

/* The "comment" member of `object`, if it has one: a string, or an array of strings for one that
 * reads better as several lines.  Only checked: nothing of it is kept. */
static bool read_comment(struct compile *c, json_t *object)
{
	json_t *value = json_object_get(object, "comment");
	struct string_list lines = {0};
	bool ok;

	if (!value)
		return true;
	push_member(c, "comment");
	ok = read_string_list(c, value, &lines, NULL, true);
	free_strings(&lines);
	if (ok)
		pop(c);
	return ok;
}

static bool valid_rule_name(const char *text)
{
	size_t len = strlen(text);

	if (len == 0 || len > RULE_NAME_MAX)
		return false;
	for (const char *p = text; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '"' || *p == '\'' || *p == '=')
			return false;
	return true;
}

static bool read_rule(struct compile *c, json_t *object, struct policy_rule *rule, size_t index)
{
	const char *text;
	json_t *v;
	char fallback[32];

	if (!json_is_object(object))
		return fail(c, "expected a rule object");
	if (!check_members(c, object, rule_members))
		return false;
	if ((v = json_object_get(object, "name"))) {
		push_member(c, "name");
		if (!read_string(c, v, &text))
			return false;
		if (!valid_rule_name(text))
			return fail(c, "a rule name is 1-64 printable ASCII characters without spaces, quotes or '='");
		if (strcmp(text, "default") == 0)
			return fail(c, "\"default\" names the built-in defaults in the log: choose another name");
		pop(c);
	} else {
		snprintf(fallback, sizeof(fallback), "rule-%zu", index + 1);
		text = fallback;
	}
	if (!(rule->name = strdup(text)))
		return fail(c, "out of memory");
	if (!read_comment(c, object))
		return false;
	if (!(v = json_object_get(object, "then")))
		return fail(c, "missing member \"then\" (the action: accept, reject, tempfail, tag, quarantine, "
			       "divert or log-only)");
	push_member(c, "then");
	if (!read_string(c, v, &text))
		return false;
	int action = name_index(action_names, COUNT(action_names), text);
	if (action < 0)
		return fail(c, "unknown action '%s' (expected accept, reject, tempfail, tag, quarantine, divert "
			       "or log-only)",
			    text);
	rule->action = (enum policy_action)action;
	pop(c);
	if ((v = json_object_get(object, "if"))) {
		push_member(c, "if");
		if (!read_conditions(c, v, rule))
			return false;
		pop(c);
	}
	if ((v = json_object_get(object, "reply"))) {
		push_member(c, "reply");
		if (!read_reply(c, v, rule))
			return false;
		pop(c);
	}
	return true;
}

/* ---- routes -------------------------------------------------------------------------------- */

static const char *const route_members[] = {"name", "comment", "destination", "subdomains", "hosts", NULL};

#define DESTINATION_EXPECTED "(expected a domain such as example.com, an address such as user@example.com, or \"*\")"
#define HOST_EXPECTED                                                                                       \
	"(expected an address in brackets or a host name, each with an optional port: [192.0.2.25], "      \
	"[2001:db8::25]:2525, smarthost.example.net:587)"

/* Frees what a route owns; its const pointers are the policy's own copies. */
static void free_owned(const void *p)
{
	union {
		const void *c;
		void *m;
	} u = {.c = p};

	free(u.m);
}

static bool last_label_numeric(const char *name, size_t len)
{
	size_t i = len;

	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	return i < len && (i == 0 || name[i - 1] == '.');
}

/*
 * A domain as routes compare it: A-label form (UTS #46 through libidn2, with the flags lib/mailaddr
 * uses for envelope domains, so a route and the milter agree on a name), lower case, no final dot,
 * labels of letters, digits, '-' or '_'.  Writes it to out (size > 253) and returns its length,
 * or 0 when text is no such name.
 */
static size_t domain_key(const char *text, char *out, size_t size)
{
	char *ascii = NULL;
	size_t len;
	bool ok;

	if (has_non_ascii(text)) {
		if (idn2_to_ascii_8z(text, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK &&
		    idn2_to_ascii_8z(text, &ascii, IDN2_TRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK)
			return 0;
		text = ascii;
	}
	len = strlen(text);
	if (len > 0 && text[len - 1] == '.')
		len--;
	ok = len < size && is_domain_name(text, len);
	if (ok) {
		for (size_t i = 0; i < len; i++)
			out[i] = ascii_lower(text[i]);
		out[len] = '\0';
	}
	idn2_free(ascii);
	return ok ? len : 0;
}

/* FNV-1a: keys are the admin's destinations, so no peer can choose collisions among them. */
static size_t route_hash(const char *key, size_t len)
{
	uint64_t h = 14695981039346656037u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211u;
	}
	return (size_t)h;
}

static const struct policy_route *route_get(const struct policy *policy, const char *key, size_t len)
{
	if (!policy->route_slots)
		return NULL;
	for (size_t i = route_hash(key, len) & policy->route_mask;; i = (i + 1) & policy->route_mask) {
		const struct route_slot *slot = &policy->route_slots[i];
		if (!slot->route)
			return NULL;
		if (slot->len == len && memcmp(slot->key, key, len) == 0)
			return slot->route;
	}
}

/* Adds a route by its destination; returns the route already there, if any, instead. */
static const struct policy_route *route_put(struct policy *policy, const struct policy_route *route)
{
	size_t len = strlen(route->destination);

	for (size_t i = route_hash(route->destination, len) & policy->route_mask;; i = (i + 1) & policy->route_mask) {
		struct route_slot *slot = &policy->route_slots[i];
		if (!slot->route) {
			*slot = (struct route_slot){route->destination, len, route};
			return NULL;
		}
		if (slot->len == len && memcmp(slot->key, route->destination, len) == 0)
			return slot->route;
	}
}

/*
 * "*", a domain, or user@domain, normalized (see struct policy_route); a domain gets `*is_domain`.
 * NULL with a reason in why when it is none of them.
 */
static char *destination_normalize(const char *text, bool *is_domain, const char **why)
{
	char domain[256];
	const char *at = strrchr(text, '@');
	size_t local_len = at ? (size_t)(at - text) : 0;
	char *out;

	*is_domain = false;
	*why = "";
	if (strcmp(text, "*") == 0)
		return strdup("*");
	if (text[0] == '.' && !at) {
		*why = " (write the domain without the dot: \"subdomains\" says whether the names under it are routed)";
		return NULL;
	}
	if (at && !is_local_part(text, local_len))
		return NULL;
	if (!domain_key(at ? at + 1 : text, domain, sizeof(domain))) {
		if (strchr(text, '*'))
			*why = " (no wildcards: a domain covers the names under it unless \"subdomains\" is false)";
		else if (at && at[1] == '[')
			*why = " (an address literal cannot be routed: the default route \"*\" covers it)";
		return NULL;
	}
	if (last_label_numeric(domain, strlen(domain))) {
		*why = " (a destination is a domain name, not an address)";
		return NULL;
	}
	if (!(out = malloc(local_len + (at ? 1 : 0) + strlen(domain) + 1))) {
		*why = " (out of memory)";
		return NULL;
	}
	for (size_t i = 0; i < local_len; i++)
		out[i] = ascii_lower(text[i]);
	sprintf(out + local_len, "%s%s", at ? "@" : "", domain);
	*is_domain = !at;
	return out;
}

/* "65535" -> 65535; 0 when text is not a port number 1-65535. */
static unsigned port_parse(const char *text)
{
	unsigned port = 0;
	size_t len = strlen(text);

	if (len == 0 || len > 5 || strspn(text, "0123456789") != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		port = port * 10 + (unsigned)(text[i] - '0');
	return port <= 65535 ? port : 0;
}

/*
 * One smart host: "[192.0.2.25]", "[IPv6:2001:db8::25]" or "[2001:db8::25]", or a host name, each
 * with an optional ":port".  Fills out (a name is allocated); a reason in why when it is none.
 */
static bool route_host_parse(const char *text, struct policy_route_host *out, const char **why)
{
	char host[300], name[256];
	const char *port_text = NULL, *end;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		if (!(end = strchr(text, ']'))) {
			*why = "no closing ']'";
			return false;
		}
		if (end[1] != '\0' && end[1] != ':') {
			*why = "text after ']' that is not a :port";
			return false;
		}
		port_text = end[1] == ':' ? end + 2 : NULL;
		len = (size_t)(end - text - 1);
		if (len >= sizeof(host)) {
			*why = "not an IPv4 or IPv6 address in brackets";
			return false;
		}
		memcpy(host, text + 1, len);
		host[len] = '\0';
		/* Sendmail's mailertable writes IPv6 literals so: take them as they are copied */
		const char *literal = strncasecmp(host, "IPv6:", 5) == 0 && strchr(host + 5, ':') ? host + 5 : host;
		if (!netaddr_parse(literal, &out->address)) {
			*why = "not an IPv4 or IPv6 address in brackets";
			return false;
		}
		out->kind = POLICY_ROUTE_ADDRESS;
	} else {
		const char *colon = strchr(text, ':');
		len = colon ? (size_t)(colon - text) : strlen(text);
		if (colon && strchr(colon + 1, ':')) {
			*why = "an IPv6 address needs brackets: [address] or [address]:port";
			return false;
		}
		port_text = colon ? colon + 1 : NULL;
		if (len >= sizeof(host)) {
			*why = "not a host name (longer than 253 characters)";
			return false;
		}
		memcpy(host, text, len);
		host[len] = '\0';
		if (netaddr_parse(host, &out->address)) {
			*why = "an address needs brackets: [address] or [address]:port";
			return false;
		}
		len = domain_key(host, name, sizeof(name));
		if (len == 0 || last_label_numeric(name, len)) {
			*why = "not a host name (letters, digits and '-', labels of 1 to 63 characters, at most 253 "
			       "in all)";
			return false;
		}
		out->kind = POLICY_ROUTE_NAME;
		if (!(out->name = strdup(name))) {
			*why = "out of memory";
			return false;
		}
	}
	if (port_text && !(out->port = port_parse(port_text))) {
		free_owned(out->name);
		out->name = NULL;
		*why = "the port is not a number from 1 to 65535";
		return false;
	}
	return true;
}

static bool route_host_equal(const struct policy_route_host *a, const struct policy_route_host *b)
{
	return a->kind == b->kind && a->port == b->port &&
	       (a->kind == POLICY_ROUTE_ADDRESS ? netaddr_equal(&a->address, &b->address) : strcmp(a->name, b->name) == 0);
}

static bool read_route_hosts(struct compile *c, json_t *value, struct policy_route *route)
{
	struct string_list texts = {0};
	struct policy_route_host *hosts;
	bool ok = read_string_list(c, value, &texts, NULL, true);
	const char *why = "";

	if (ok && (texts.count == 0 || texts.count > POLICY_ROUTE_HOSTS_MAX))
		ok = fail(c, "expected 1 to %d smart hosts, tried in order", POLICY_ROUTE_HOSTS_MAX);
	if (ok && !(hosts = calloc(texts.count, sizeof(*hosts))))
		ok = fail(c, "out of memory");
	if (ok)
		route->hosts = hosts;
	for (size_t i = 0; ok && i < texts.count; i++) {
		if (json_is_array(value))
			push_index(c, i);
		if (!route_host_parse(texts.items[i], &hosts[i], &why)) {
			ok = fail(c, "'%s' is not a smart host: %s " HOST_EXPECTED, texts.items[i], why);
			break;
		}
		route->host_count++;
		for (size_t j = 0; j < i; j++)
			if (route_host_equal(&hosts[j], &hosts[i])) {
				ok = fail(c, "'%s' is already hosts[%zu]", texts.items[i], j);
				break;
			}
		if (ok && json_is_array(value))
			pop(c);
	}
	free_strings(&texts);
	return ok;
}

static bool read_route(struct compile *c, json_t *object, struct policy_route *route)
{
	const char *text, *why;
	char *destination;
	bool is_domain = false;
	json_t *v;

	if (!json_is_object(object))
		return fail(c, "expected a route object {\"destination\": ..., \"hosts\": [...]}");
	if (!check_members(c, object, route_members))
		return false;
	if (!(v = json_object_get(object, "destination")))
		return fail(c, "missing member \"destination\" " DESTINATION_EXPECTED);
	push_member(c, "destination");
	if (!read_string(c, v, &text))
		return false;
	if (!(destination = destination_normalize(text, &is_domain, &why)))
		return fail(c, "'%s' is not a destination%s " DESTINATION_EXPECTED, text, why);
	route->destination = destination;
	pop(c);
	route->subdomains = is_domain;
	if ((v = json_object_get(object, "subdomains"))) {
		push_member(c, "subdomains");
		if (!read_bool(c, v, &route->subdomains))
			return false;
		if (!is_domain)
			return fail(c, "\"subdomains\" goes only with a domain destination");
		pop(c);
	}
	if ((v = json_object_get(object, "name"))) {
		push_member(c, "name");
		if (!read_string(c, v, &text))
			return false;
		if (!valid_rule_name(text))
			return fail(c, "a route name is 1-64 printable ASCII characters without spaces, quotes or '='");
		pop(c);
	} else {
		text = route->destination;
	}
	if (!(route->name = strdup(text)))
		return fail(c, "out of memory");
	if (!read_comment(c, object))
		return false;
	if (!(v = json_object_get(object, "hosts")))
		return fail(c, "missing member \"hosts\" (the smart hosts, tried in order: [\"[192.0.2.25]\", "
			       "\"smarthost.example.net:587\"])");
	push_member(c, "hosts");
	if (!read_route_hosts(c, v, route))
		return false;
	pop(c);
	return true;
}

static void free_route(struct policy_route *route)
{
	for (size_t i = 0; i < route->host_count; i++)
		free_owned(route->hosts[i].name);
	free_owned(route->hosts);
	free_owned(route->name);
	free_owned(route->destination);
}

static int route_name_compare(const void *a, const void *b)
{
	return strcmp(((const struct policy_route *)a)->name, ((const struct policy_route *)b)->name);
}

/* "routes[1] (p.json:3:18)": the other place a duplicate names */
static void route_place(struct compile *c, size_t index, const char *member, char *buf, size_t size)
{
	struct json_step path[3] = {{"routes", 0}, {NULL, index}, {member, 0}};
	unsigned line = 0, column = 0;

	if (json_locate(c->text, c->len, path, 3, &line, &column) ||
	    json_locate(c->text, c->len, path, 2, &line, &column))
		snprintf(buf, size, "routes[%zu] (%s:%u:%u)", index, c->source, line, column);
	else
		snprintf(buf, size, "routes[%zu]", index);
}

/*
 * Two routes for one destination would leave the answer to chance, and two with one name the
 * log: refuse either, naming both places.
 */
static bool check_unique_route(struct compile *c, json_t *routes, struct policy *policy, size_t index)
{
	const struct policy_route *route = &policy->routes[index], *other;
	const struct policy_route *const *first;
	bool is_default = strcmp(route->destination, "*") == 0;
	char place[300];
	size_t other_index;

	other = is_default ? policy->default_route : route_put(policy, route);
	if (other) {
		route_place(c, (size_t)(other - policy->routes), "destination", place, sizeof(place));
		push_member(c, "destination");
		return fail(c, "destination '%s' is already routed by %s", route->destination, place);
	}
	if (is_default)
		policy->default_route = route;
	if (!(first = tsearch(route, &c->route_names, route_name_compare)))
		return fail(c, "out of memory");
	if (*first == route)
		return true;
	/* a route without a name is named by its destination */
	other_index = (size_t)(*first - policy->routes);
	route_place(c, other_index, json_object_get(json_array_get(routes, other_index), "name") ? "name" : "destination",
		    place, sizeof(place));
	push_member(c, json_object_get(json_array_get(routes, index), "name") ? "name" : "destination");
	return fail(c, "route name '%s' is already used by %s", route->name, place);
}

static bool read_routes(struct compile *c, json_t *value, struct policy *policy)
{
	size_t count, slots = 8;

	if (!json_is_array(value))
		return fail(c, "expected an array of routes");
	count = json_array_size(value);
	while (slots < 2 * count)
		slots *= 2;
	policy->routes = calloc(count + 1, sizeof(*policy->routes));
	policy->route_slots = calloc(slots, sizeof(*policy->route_slots));
	if (!policy->routes || !policy->route_slots)
		return fail(c, "out of memory");
	policy->route_mask = slots - 1;
	for (size_t i = 0; i < count; i++) {
		push_index(c, i);
		policy->route_count++;
		if (!read_route(c, json_array_get(value, i), &policy->routes[i]) ||
		    !check_unique_route(c, value, policy, i))
			return false;
		pop(c);
	}
	return true;
}

void policy_free(struct policy *policy)
{
	if (!policy)
		return;
	for (size_t i = 0; i < policy->rule_count; i++) {
		struct policy_rule *r = &policy->rules[i];
		free(r->name);
		free(r->client_networks.items);
		free_strings(&r->client_hostnames);
		free_strings(&r->sender_domains);
		free_recipients(&r->recipients);
		free_strings(&r->daemons);
		free(r->reply_text);
	}
	free(policy->rules);
	for (size_t i = 0; i < policy->route_count; i++)
		free_route(&policy->routes[i]);
	free(policy->routes);
	free(policy->route_slots);
	free(policy->trusted.items);
	free(policy->outbound.items);
	free(policy);
}

static int rule_name_compare(const void *a, const void *b)
{
	return strcmp(((const struct policy_rule *)a)->name, ((const struct policy_rule *)b)->name);
}

/* The tree only points at rules; the policy owns them. */
static void rule_name_keep(void *rule)
{
	(void)rule;
}

/*
 * Two rules with one name would make the log ambiguous about which one decided.  Each rule is
 * looked up in a balanced tree of the names before it (tsearch), so n rules cost n log n: comparing
 * each rule with every earlier one took seconds from 20,000 rules on, and -n and reload stalled as
 * long.  Checked rule by rule, so the first error in file order is still the one reported.
 */
static bool check_unique_name(struct compile *c, json_t *object, const struct policy *policy, size_t index)
{
	const struct policy_rule *rule = &policy->rules[index];
	const struct policy_rule *const *first = tsearch(rule, &c->rule_names, rule_name_compare);

	if (!first)
		return fail(c, "out of memory");
	if (*first == rule)
		return true;
	if (json_object_get(object, "name"))
		push_member(c, "name");
	return fail(c, "rule name '%s' is already used by rules[%zu]", rule->name, (size_t)(*first - policy->rules));
}

static bool compile_top(struct compile *c, json_t *root, struct policy *policy)
{
	json_t *v;

	if (!json_is_object(root))
		return fail(c, "expected an object {\"version\": 1, \"rules\": [...]}");
	if (!check_members(c, root, top_members))
		return false;
	v = json_object_get(root, "version");
	if (!v)
		return fail(c, "missing member \"version\" (expected \"version\": 1)");
	push_member(c, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return fail(c, "expected 1 (the only policy format version this dnsguard knows)");
	pop(c);
	if (!read_comment(c, root))
		return false;
	if ((v = json_object_get(root, "dry_run"))) {
		push_member(c, "dry_run");
		if (!read_bool(c, v, &policy->dry_run))
			return false;
		pop(c);
	}
	/* The local MTA itself is trusted unless the policy says otherwise. */
	v = json_object_get(root, "trusted_networks");
	json_t *default_trusted = NULL;
	if (!v)
		v = default_trusted = json_pack("[ss]", "127.0.0.1", "::1");
	push_member(c, "trusted_networks");
	bool ok = read_networks(c, v, &policy->trusted, true);
	json_decref(default_trusted);
	if (!ok)
		return false;
	pop(c);
	if ((v = json_object_get(root, "outbound_networks"))) {
		push_member(c, "outbound_networks");
		if (!read_networks(c, v, &policy->outbound, true))
			return false;
		pop(c);
	}
	if ((v = json_object_get(root, "rules"))) {
		push_member(c, "rules");
		if (!json_is_array(v))
			return fail(c, "expected an array of rules");
		policy->rules = calloc(json_array_size(v) + 1, sizeof(*policy->rules));
		if (!policy->rules)
			return fail(c, "out of memory");
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *rule = json_array_get(v, i);
			push_index(c, i);
			policy->rule_count++;
			if (!read_rule(c, rule, &policy->rules[i], i) || !check_unique_name(c, rule, policy, i))
				return false;
			pop(c);
		}
		pop(c);
	}
	if ((v = json_object_get(root, "routes"))) {
		push_member(c, "routes");
		if (!read_routes(c, v, policy))
			return false;
		pop(c);
	}
	return true;
}

/* An error quotes the file (jansson quotes the token it stopped at; a key may be "\u0001"): it
 * goes to syslog and a terminal, so control bytes and broken UTF-8 are written as \xHH
 * (printable.h); a Unicode domain name stays readable. */
static void printable_error(char *err, size_t errlen)
{
	char copy[1024];
	struct strbuf sb;

	snprintf(copy, sizeof(copy), "%s", err);
	strbuf_init(&sb, err, errlen);
	printable_append(&sb, copy, strlen(copy), 0);
}

struct policy *policy_compile(const char *text, size_t len, const char *source, char *err, size_t errlen)
{
	struct compile c = {.text = text, .len = len, .source = source, .err = err, .errlen = errlen};
	json_error_t jerr;
	json_t *root;
	struct policy *policy;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: %s", source, jerr.line, jerr.column, jerr.text);
		printable_error(err, errlen);
		return NULL;
	}
	policy = calloc(1, sizeof(*policy));
	if (!policy) {
		snprintf(err, errlen, "%s: out of memory", source);
		json_decref(root);
		return NULL;
	}
	bool ok = compile_top(&c, root, policy);
	tdestroy(c.rule_names, rule_name_keep);
	tdestroy(c.route_names, rule_name_keep);
	if (!ok) {
		policy_free(policy);
		policy = NULL;
		printable_error(err, errlen);
	}
	json_decref(root);
	return policy;
}

size_t policy_rule_count(const struct policy *policy)
{
	return policy->rule_count;
}

const char *policy_rule_name(const struct policy *policy, size_t i)
{
	return i < policy->rule_count ? policy->rules[i].name : "";
}

bool policy_dry_run(const struct policy *policy)
{
	return policy->dry_run;
}

bool policy_uses_action(const struct policy *policy, enum policy_action action)
{
	for (size_t i = 0; policy && i < policy->rule_count; i++)
		if (policy->rules[i].action == action)
			return true;
	return false;
}

static bool in_networks(const struct net_list *list, const struct netaddr *addr)
{
	for (size_t i = 0; i < list->count; i++)
		if (netaddr_net_contains(&list->items[i], addr))
			return true;
	return false;
}

bool policy_client_trusted(const struct policy *policy, const struct netaddr *client)
{
	return in_networks(&policy->trusted, client);
}

bool policy_client_outbound(const struct policy *policy, const struct netaddr *client)
{
	return in_networks(&policy->outbound, client);
}

/* ---- routes: finding the route for an MTA's key -------------------------------------------- */

size_t policy_route_count(const struct policy *policy)
{
	return policy ? policy->route_count : 0;
}

const struct policy_route *policy_route_at(const struct policy *policy, size_t i)
{
	return policy && i < policy->route_count ? &policy->routes[i] : NULL;
}

/*
 * The route of `domain` (normalized) or of the nearest parent whose route covers subdomains;
 * with below_only, only routes that cover names under `domain`.  One probe per label.
 */
static const struct policy_route *route_walk(const struct policy *policy, const char *domain, bool below_only)
{
	for (const char *p = domain; p; p = strchr(p, '.'), p = p ? p + 1 : NULL) {
		const struct policy_route *r = route_get(policy, p, strlen(p));
		/* address routes hold an '@', which no domain has: never found here */
		if (r && ((p == domain && !below_only) || r->subdomains))
			return r;
	}
	return NULL;
}

const struct policy_route *policy_route_find(const struct policy *policy, const char *key)
{
	char lower[POLICY_ROUTE_KEY_MAX + 1], domain[256], address[POLICY_ROUTE_KEY_MAX + sizeof(domain) + 1];
	const struct policy_route *r;
	size_t len, local_len;
	const char *at, *plus;

	if (!policy || !key || (len = strnlen(key, POLICY_ROUTE_KEY_MAX + 1)) == 0 || len > POLICY_ROUTE_KEY_MAX)
		return NULL;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && ((unsigned char)key[i] <= ' ' || key[i] == 0x7f))
			return NULL;
		lower[i] = ascii_lower(key[i]);
	}
	if (strcmp(lower, "*") == 0 || strcmp(lower, ".") == 0)
		return policy->default_route;
	if (!(at = strrchr(lower, '@')))
		/* Sendmail: "sub.example.com", then ".example.com" */
		return domain_key(lower[0] == '.' ? lower + 1 : lower, domain, sizeof(domain))
			       ? route_walk(policy, domain, lower[0] == '.')
			       : NULL;
	/* Postfix: the whole address */
	local_len = (size_t)(at - lower);
	if (local_len == 0)
		return NULL;
	if (at[1] == '[')
		return strchr(at, ']') == lower + len - 1 ? policy->default_route : NULL;
	if (!domain_key(at + 1, domain, sizeof(domain)))
		return NULL;
	snprintf(address, sizeof(address), "%.*s@%s", (int)local_len, lower, domain);
	if ((r = route_get(policy, address, strlen(address))))
		return r;
	/* Postfix's recipient_delimiter: user+ext@domain is also user@domain */
	if ((plus = memchr(lower, '+', local_len)) && plus > lower) {
		snprintf(address, sizeof(address), "%.*s@%s", (int)(plus - lower), lower, domain);
		if ((r = route_get(policy, address, strlen(address))))
			return r;
	}
	if ((r = route_walk(policy, domain, false)))
		return r;
	return policy->default_route;
}

/* ---- the built-in defaults: what happens when no rule matches ------------------------------- */

struct builtin {
	enum policy_check check;
	enum policy_outcome outcome;
	enum policy_action action;
	unsigned code;
	const char *xcode;
	const char *text;
	const char *text_no_address;	/* instead of text when {address} would be empty */
};

#define SENDER_NOT_FOUND "<{address}>: Sender address rejected: Domain {domain} not found"
#define SENDER_NO_HOST "<{address}>: Sender address rejected: Domain {domain} has no mail host that resolves"
#define RECIPIENT_NOT_FOUND "<{address}>: Recipient address rejected: Domain {domain} not found"
#define RECIPIENT_NO_HOST "<{address}>: Recipient address rejected: Domain {domain} has no mail host that resolves"
#define UNDECIDED_TEXT "<{address}>: temporary internal error, try again later"
#define UNDECIDED_TEXT_CLIENT "Client host [{ip}]: temporary internal error, try again later"
#define UNDECIDED(check)                                                                                     \
	{check, POLICY_OUTCOME_UNDECIDED, POLICY_TEMPFAIL, 451, "4.3.0", UNDECIDED_TEXT, UNDECIDED_TEXT_CLIENT}

/*
 * A permanent DNS answer gets 5xx, DNS trouble 4xx, never the other way round.  Every outcome a
 * check can have has its row (the unit tests hold this table to dnsguard-policy(5)).
 */
static const struct builtin builtins[] = {
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_OK, POLICY_ACCEPT, 0, NULL, NULL, NULL},
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN, POLICY_REJECT, 550, "5.1.8", SENDER_NOT_FOUND, NULL},
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_NO_ADDRESS, POLICY_REJECT, 550, "5.1.8", SENDER_NOT_FOUND, NULL},
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_MX_UNRESOLVABLE, POLICY_REJECT, 550, "5.1.8", SENDER_NO_HOST, NULL},
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_NULL_MX, POLICY_REJECT, 550, "5.7.27",
	 "<{address}>: Sender address rejected: Domain {domain} does not accept mail (null MX)", NULL},
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_TEMPERROR, POLICY_TEMPFAIL, 451, "4.4.3",
	 "<{address}>: Sender domain must resolve: temporary DNS failure ({cause})", NULL},
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_BOGUS, POLICY_TEMPFAIL, 451, "4.4.3",
	 "<{address}>: Sender domain must resolve: DNSSEC validation failed", NULL},
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_LOOPBACK, POLICY_TAG, 0, NULL, NULL, NULL},
	/*
	 * The MTA accepted the address, so refusing it is the admin's choice, not ours; the caller
	 * logs the decision (at info, as any outcome that is not ok).
	 */
	{POLICY_CHECK_SENDER, POLICY_OUTCOME_SYNTAX, POLICY_ACCEPT, 0, NULL, NULL, NULL},
	UNDECIDED(POLICY_CHECK_SENDER),

	{POLICY_CHECK_CLIENT, POLICY_OUTCOME_PASS, POLICY_ACCEPT, 0, NULL, NULL, NULL},
	{POLICY_CHECK_CLIENT, POLICY_OUTCOME_PERMERROR, POLICY_REJECT, 550, "5.7.25",
	 "Client host rejected: cannot find your reverse hostname, [{ip}]", NULL},
	{POLICY_CHECK_CLIENT, POLICY_OUTCOME_FAIL, POLICY_TAG, 0, NULL, NULL, NULL},
	{POLICY_CHECK_CLIENT, POLICY_OUTCOME_TEMPERROR, POLICY_TEMPFAIL, 451, "4.4.3",
	 "Client host rejected: temporary DNS failure looking up [{ip}]", NULL},
	UNDECIDED(POLICY_CHECK_CLIENT),

	{POLICY_CHECK_HELO, POLICY_OUTCOME_OK, POLICY_ACCEPT, 0, NULL, NULL, NULL},
	{POLICY_CHECK_HELO, POLICY_OUTCOME_UNRESOLVABLE, POLICY_TAG, 0, NULL, NULL, NULL},
	{POLICY_CHECK_HELO, POLICY_OUTCOME_MISMATCH, POLICY_TAG, 0, NULL, NULL, NULL},
	{POLICY_CHECK_HELO, POLICY_OUTCOME_TEMPERROR, POLICY_LOG_ONLY, 0, NULL, NULL, NULL},
	UNDECIDED(POLICY_CHECK_HELO),

	{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_OK, POLICY_ACCEPT, 0, NULL, NULL, NULL},
	{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NXDOMAIN, POLICY_REJECT, 550, "5.1.2", RECIPIENT_NOT_FOUND, NULL},
	{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NO_ADDRESS, POLICY_REJECT, 550, "5.1.2", RECIPIENT_NOT_FOUND, NULL},
	{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_MX_UNRESOLVABLE, POLICY_REJECT, 550, "5.1.2", RECIPIENT_NO_HOST, NULL},
	{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_NULL_MX, POLICY_REJECT, 556, "5.1.10",
	 "<{address}>: Recipient address rejected: Domain {domain} does not accept mail (null MX)", NULL},
	/* the MTA queues and retries; the caller logs the trouble at warning level */
	{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_TEMPERROR, POLICY_LOG_ONLY, 0, NULL, NULL, NULL},
	{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_BOGUS, POLICY_LOG_ONLY, 0, NULL, NULL, NULL},
	{POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_LOOPBACK, POLICY_TAG, 0, NULL, NULL, NULL},
	UNDECIDED(POLICY_CHECK_RECIPIENT),
};

/* A rule's reject or tempfail whose check and outcome have no built-in reply of that kind. */
static const struct builtin generic_reject = {0,
					      0,
					      POLICY_REJECT,
					      550,
					      "5.7.1",
					      "<{address}>: rejected by policy rule ",
					      "Client host [{ip}]: rejected by policy rule "};
static const struct builtin generic_tempfail = {0,
						0,
						POLICY_TEMPFAIL,
						451,
						"4.7.1",
						"<{address}>: temporarily rejected by policy rule ",
						"Client host [{ip}]: temporarily rejected by policy rule "};

static const struct builtin *builtin_find(enum policy_check check, enum policy_outcome outcome)
{
	for (size_t i = 0; i < COUNT(builtins); i++)
		if (builtins[i].check == check && builtins[i].outcome == outcome)
			return &builtins[i];
	return NULL;
}

/* ---- deciding ------------------------------------------------------------------------------ */

static const char *str(const char *text)
{
	return text ? text : "";
}

/*
 * A name (a final dot ignored) against a domain pattern: "example.org" is that name and every
 * name under it, on a label boundary; ".example.org" only the names under it.
 */
static bool domain_matches(const char *pattern, const char *name)
{
	bool below_only = pattern[0] == '.';
	const char *suffix = below_only ? pattern + 1 : pattern;
	size_t suffix_len = strlen(suffix), len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == suffix_len)
		return len > 0 && !below_only && ascii_equal(name, suffix, len);
	return len > suffix_len && name[len - suffix_len - 1] == '.' &&
	       ascii_equal(name + len - suffix_len, suffix, suffix_len);
}

static bool domain_equal(const char *pattern, const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	return len > 0 && len == strlen(pattern) && ascii_equal(name, pattern, len);
}

static bool any_domain_matches(const struct string_list *patterns, const char *name)
{
	for (size_t i = 0; i < patterns->count; i++)
		if (domain_matches(patterns->items[i], name))
			return true;
	return false;
}

/* The address a check is about, split at its last '@'; a source route "@a,@b:" is skipped. */
struct address_parts {
	const char *local;
	size_t local_len;
	const char *domain;	/* NUL-terminated; "" when there is no '@' */
};

static void address_split(const char *address, struct address_parts *out)
{
	const char *colon = address[0] == '@' ? strchr(address, ':') : NULL;
	const char *at;

	if (colon)
		address = colon + 1;
	at = strrchr(address, '@');
	out->local = address;
	out->local_len = at ? (size_t)(at - address) : strlen(address);
	out->domain = at ? at + 1 : "";
}

/* Local parts are compared exactly, except "postmaster", which RFC 5321 4.5.1 makes case-insensitive. */
static bool local_equal(const char *pattern, const char *local, size_t len)
{
	size_t pattern_len = strlen(pattern);

	if (len != pattern_len)
		return false;
	if (pattern_len == 10 && ascii_equal(pattern, "postmaster", 10))
		return ascii_equal(local, "postmaster", 10);
	return memcmp(pattern, local, len) == 0;
}

static bool recipient_matches(const struct recipient_list *patterns, const struct policy_facts *f)
{
	struct address_parts parts;
	const char *domain;

	if (!f->recipient)
		return false;
	address_split(f->recipient, &parts);
	domain = f->recipient_domain && *f->recipient_domain ? f->recipient_domain : parts.domain;
	for (size_t i = 0; i < patterns->count; i++) {
		const struct recipient_pattern *p = &patterns->items[i];
		if (p->local && !local_equal(p->local, parts.local, parts.local_len))
			continue;
		if (p->domain && !(p->domain_exact ? domain_equal(p->domain, domain)
						   : domain_matches(p->domain, domain)))
			continue;
		return true;
	}
	return false;
}

static bool any_string_equal(const struct string_list *list, const char *text)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i], text) == 0)
			return true;
	return false;
}

static bool tristate_holds(enum tristate want, bool have)
{
	return want == TRI_ANY || (want == TRI_YES) == have;
}

/* A client without a confirmed name matches no client_hostname. */
static const char *confirmed_hostname(const struct policy_facts *f)
{
	const char *name = str(f->client_hostname);

	return strcmp(name, "unknown") == 0 ? "" : name;
}

static bool rule_matches(const struct policy_rule *r, const struct policy_facts *f)
{
	return (!r->checks || (r->checks & BIT(f->check))) && (!r->outcomes || (r->outcomes & BIT(f->outcome))) &&
	       (!r->client_networks.count || (f->client && in_networks(&r->client_networks, f->client))) &&
	       (!r->client_hostnames.count || any_domain_matches(&r->client_hostnames, confirmed_hostname(f))) &&
	       (!r->sender_domains.count || any_domain_matches(&r->sender_domains, str(f->sender_domain))) &&
	       (!r->recipients.count || recipient_matches(&r->recipients, f)) &&
	       tristate_holds(r->authenticated, f->authenticated) && tristate_holds(r->outbound, f->outbound) &&
	       (!r->daemons.count || any_string_equal(&r->daemons, str(f->daemon)));
}

/* ---- reply text: placeholders expanded, printable ASCII only, bounded ----------------------- */

struct placeholder_values {
	const char *address, *domain, *ip, *hostname, *cause, *helo;
	char ip_buf[64];
};

static void placeholder_values_init(struct placeholder_values *v, const struct policy_facts *f)
{
	if (f->check == POLICY_CHECK_RECIPIENT) {
		struct address_parts parts;
		v->address = str(f->recipient);
		address_split(v->address, &parts);
		v->domain = f->recipient_domain && *f->recipient_domain ? f->recipient_domain : parts.domain;
	} else {
		v->address = str(f->sender_address);
		v->domain = str(f->sender_domain);
	}
	v->ip = str(f->client_ip_text);
	if (*v->ip == '\0' && f->client)
		v->ip = netaddr_format(f->client, v->ip_buf, sizeof(v->ip_buf));
	v->hostname = f->client_hostname && *f->client_hostname ? f->client_hostname : "unknown";
	v->cause = str(f->cause);
	v->helo = str(f->helo);
}

static const char *placeholder_value(const struct placeholder_values *v, const char *p, size_t *len)
{
	const char *const values[] = {v->address, v->domain, v->ip, v->hostname, v->cause, v->helo};

	for (size_t i = 0; placeholders[i]; i++) {
		*len = strlen(placeholders[i]);
		if (strncmp(p, placeholders[i], *len) == 0)
			return values[i];
	}
	return NULL;
}

struct text_out {
	char *buf;
	size_t size;
	size_t len;
	bool cut;
};

/* Control characters (CR and LF among them) become spaces, bytes beyond ASCII '?'. */
static void out_char(struct text_out *o, char ch)
{
	unsigned char u = (unsigned char)ch;

	if (o->len + 1 >= o->size) {
		o->cut = true;
		return;
	}
	o->buf[o->len++] = u < ' ' || u == 0x7f ? ' ' : u > 0x7f ? '?' : ch;
	o->buf[o->len] = '\0';
}

static void out_text(struct text_out *o, const char *text)
{
	while (*text && !o->cut)
		out_char(o, *text++);
}

/*
 * A placeholder with nothing to say, written as " ({cause})", disappears with its parentheses
 * and the space before them.
 */
static void out_expand(struct text_out *o, const char *template, const struct placeholder_values *v)
{
	const char *p = template;

	while (*p && !o->cut) {
		size_t len = 0;
		const char *value = *p == '{' ? placeholder_value(v, p, &len) : NULL;
		if (!value) {
			out_char(o, *p++);
			continue;
		}
		if (*value == '\0' && p > template && p[-1] == '(' && p[len] == ')' && o->len > 0 &&
		    o->buf[o->len - 1] == '(') {
			o->len--;
			if (p - 1 > template && p[-2] == ' ' && o->len > 0 && o->buf[o->len - 1] == ' ')
				o->len--;
			o->buf[o->len] = '\0';
			p += len + 1;
			continue;
		}
		out_text(o, value);
		p += len;
	}
}

/* A cut text ends in "..." so that nobody takes it for the whole. */
static void out_finish(struct text_out *o)
{
	if (o->cut && o->size > 4)
		memcpy(o->buf + o->size - 4, "...", 4);
}

static void fill_reply(struct policy_decision *out, const struct builtin *reply, const struct policy_rule *rule,
		       const struct policy_facts *f)
{
	struct placeholder_values values;
	struct text_out o = {out->text, sizeof(out->text), 0, false};
	const char *template;

	placeholder_values_init(&values, f);
	out->code = rule && rule->reply_code[0] ? (unsigned)atoi(rule->reply_code) : reply->code;
	snprintf(out->xcode, sizeof(out->xcode), "%s", rule && rule->reply_xcode[0] ? rule->reply_xcode : reply->xcode);
	out->text[0] = '\0';
	if (rule && rule->reply_text) {
		out_expand(&o, rule->reply_text, &values);
	} else {
		template = *values.address == '\0' && reply->text_no_address ? reply->text_no_address : reply->text;
		out_expand(&o, template, &values);
		if (reply == &generic_reject || reply == &generic_tempfail)
			out_text(&o, rule->name);
	}
	out_finish(&o);
}

void policy_decide(const struct policy *policy, const struct policy_facts *facts, struct policy_decision *out)
{
	struct policy_facts f = *facts;
	const struct builtin *reply;

	memset(out, 0, sizeof(*out));
	out->dry_run = policy && policy->dry_run;
	/* a caller's bug: no rule can mean it, so it is the internal error it is */
	if ((size_t)f.check >= POLICY_CHECK_COUNT) {
		f.check = POLICY_CHECK_CLIENT;
		f.outcome = POLICY_OUTCOME_UNDECIDED;
		policy = NULL;
	}
	if (!policy_outcome_possible(f.check, f.outcome))
		f.outcome = POLICY_OUTCOME_UNDECIDED;
	for (size_t i = 0; policy && i < policy->rule_count; i++) {
		const struct policy_rule *r = &policy->rules[i];
		if (!rule_matches(r, &f))
			continue;
		out->action = r->action;
		snprintf(out->rule, sizeof(out->rule), "%s", r->name);
		if (r->action == POLICY_REJECT || r->action == POLICY_TEMPFAIL) {
			reply = builtin_find(f.check, f.outcome);
			if (!reply || reply->action != r->action)
				reply = r->action == POLICY_REJECT ? &generic_reject : &generic_tempfail;
			fill_reply(out, reply, r, &f);
		}
		return;
	}
	reply = builtin_find(f.check, f.outcome);
	snprintf(out->rule, sizeof(out->rule), "default");
	out->action = reply->action;
	if (reply->action == POLICY_REJECT || reply->action == POLICY_TEMPFAIL)
		fill_reply(out, reply, NULL, &f);
}
