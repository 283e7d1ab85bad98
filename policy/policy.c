/*
 * policy - compiles and validates the JSON policy; see policy.h and dnsguard-policy(5).
 *
 * Validation is strict and complete before anything is returned: a policy either compiles whole
 * or not at all, so a reload with a bad file keeps the old policy.  Errors carry the position of
 * the offending member, found with json_locate.
 */
#include "policy.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_locate.h"

#define POLICY_DEPTH_MAX 6
#define REPLY_TEXT_MAX 400

struct string_list {
	char **items;
	size_t count;
};

struct net_list {
	struct netaddr_net *items;
	size_t count;
};

enum tristate { TRI_ANY, TRI_YES, TRI_NO };

struct policy_rule {
	char *name;
	unsigned checks;	/* bit per enum policy_check; 0 = any */
	uint32_t outcomes;	/* bit per enum policy_outcome; 0 = any */
	struct net_list client_networks;
	struct string_list client_hostnames;	/* suffixes */
	struct string_list sender_domains;
	struct string_list recipients;		/* addresses or domains */
	struct string_list daemons;
	enum tristate authenticated;
	enum tristate outbound;
	enum policy_action action;
	bool has_reply;
	char reply_code[4];
	char reply_xcode[16];
	char *reply_text;
};

struct policy {
	bool dry_run;
	struct net_list trusted;
	struct net_list outbound;
	struct policy_rule *rules;
	size_t rule_count;
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
	[POLICY_OUTCOME_TEMPERROR] = "temperror",
	[POLICY_OUTCOME_BOGUS] = "bogus",
	[POLICY_OUTCOME_PASS] = "pass",
	[POLICY_OUTCOME_FAIL] = "fail",
	[POLICY_OUTCOME_PERMERROR] = "permerror",
	[POLICY_OUTCOME_UNRESOLVABLE] = "unresolvable",
	[POLICY_OUTCOME_MISMATCH] = "mismatch",
	[POLICY_OUTCOME_UNDECIDED] = "undecided",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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

/* A string or an array of strings; each checked by `valid` if given. */
static bool read_string_list(struct compile *c, json_t *value, struct string_list *out,
			     bool (*valid)(struct compile *, const char *), bool allow_empty)
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
		if (!read_string(c, item, &text) || (valid && !valid(c, text)))
			return false;
		out->items[i] = strdup(text);
		if (!out->items[i])
			return fail(c, "out of memory");
		out->count++;
		if (json_is_array(value))
			pop(c);
	}
	return true;
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
	for (size_t i = 0; i < texts.count; i++)
		free(texts.items[i]);
	free(texts.items);
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
			char expected[300] = "";
			for (size_t j = 0; j < count; j++)
				if (names[j])
					snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
						 "%s%s", j ? ", " : "", names[j]);
			if (json_is_array(value))
				push_index(c, i);
			ok = fail(c, "unknown %s '%s' (expected one of: %s)", what, list.items[i], expected);
			break;
		}
		*out |= 1u << index;
	}
	for (size_t i = 0; i < list.count; i++)
		free(list.items[i]);
	free(list.items);
	return ok;
}

static bool valid_domain_pattern(struct compile *c, const char *text)
{
	if (*text == '\0' || strlen(text) > 253 || strpbrk(text, " \t\r\n@<>"))
		return fail(c, "'%s' is not a domain name", text);
	return true;
}

static bool valid_recipient(struct compile *c, const char *text)
{
	if (*text == '\0' || strlen(text) > 320 || strpbrk(text, " \t\r\n<>"))
		return fail(c, "'%s' is not an address or domain", text);
	return true;
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
static const char *const top_members[] = {"version",	       "comment", "dry_run", "trusted_networks",
					  "outbound_networks", "rules",	  NULL};

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
	MEMBER("client_network", read_networks(c, v, &rule->client_networks, false));
	MEMBER("client_hostname", read_string_list(c, v, &rule->client_hostnames, valid_domain_pattern, false));
	MEMBER("sender_domain", read_string_list(c, v, &rule->sender_domains, valid_domain_pattern, false));
	MEMBER("recipient", read_string_list(c, v, &rule->recipients, valid_recipient, false));
	MEMBER("daemon", read_string_list(c, v, &rule->daemons, NULL, false));
	MEMBER("authenticated", read_tristate(c, v, &rule->authenticated));
	MEMBER("outbound", read_tristate(c, v, &rule->outbound));
#undef MEMBER
	return true;
}

/* Placeholders a reply text may use; anything else in braces is a typo. */
static bool valid_reply_text(struct compile *c, const char *text)
{
	static const char *const placeholders[] = {"{address}", "{domain}", "{ip}", "{hostname}", "{cause}", NULL};

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
					       "{hostname} or {cause})",
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
		if (strlen(xcode) >= sizeof(rule->reply_xcode) ||
		    sscanf(xcode, "%u.%u.%u%c", &a, &b, &d, &tail) != 3 || (a != 4 && a != 5) || b > 999 || d > 999)
			return fail(c, "expected an enhanced status code such as \"5.1.8\"");
		if (code && (unsigned)(code[0] - '0') != a)
			return fail(c, "enhanced code %s does not match reply code %s", xcode, code);
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
		if (*text == '\0' || strlen(text) > 64 || strpbrk(text, " \t\r\n\"="))
			return fail(c, "a rule name is 1-64 characters without spaces, quotes or '='");
		pop(c);
	} else {
		snprintf(fallback, sizeof(fallback), "rule-%zu", index + 1);
		text = fallback;
	}
	if (!(rule->name = strdup(text)))
		return fail(c, "out of memory");
	if ((v = json_object_get(object, "comment"))) {
		push_member(c, "comment");
		if (!read_string(c, v, &text))
			return false;
		pop(c);
	}
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

static void free_strings(struct string_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
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
		free_strings(&r->recipients);
		free_strings(&r->daemons);
		free(r->reply_text);
	}
	free(policy->rules);
	free(policy->trusted.items);
	free(policy->outbound.items);
	free(policy);
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
	if ((v = json_object_get(root, "comment"))) {
		const char *ignored;
		push_member(c, "comment");
		if (!read_string(c, v, &ignored))
			return false;
		pop(c);
	}
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
			push_index(c, i);
			policy->rule_count++;
			if (!read_rule(c, json_array_get(v, i), &policy->rules[i], i))
				return false;
			pop(c);
		}
		pop(c);
	}
	return true;
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
		return NULL;
	}
	policy = calloc(1, sizeof(*policy));
	if (!policy) {
		snprintf(err, errlen, "%s: out of memory", source);
		json_decref(root);
		return NULL;
	}
	if (!compile_top(&c, root, policy)) {
		policy_free(policy);
		policy = NULL;
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
