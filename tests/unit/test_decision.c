/*
 * Unit tests for whole decisions (lib/decision), with no libmilter and no DNS: check results built
 * here, with their evidence and the probe's finding, go through the policy to a decision, its log
 * line and its SMTP reply.
 *
 * The defaults table is read from dnsguard-policy(5) itself (policy/dnsguard-policy.5.in, the
 * DEFAULTS section), so the manual and the code cannot drift apart: every row, every outcome a
 * check can have, exactly one row each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_files.h"

#include "decision.h"
#include "policy.h"

#define FINDING "the resolver 127.0.0.1 answers SERVFAIL over UDP and TCP"
#define CAUSE_SERVFAIL "SERVFAIL over udp-tcp: " FINDING

static struct netaddr client;
static const struct decision_dns dns = {.transport = DNS_TRANSPORT_UDP_TCP, .deadline_ms = 4000};

/* A remote client sending alice@sender.example to bob@rcpt.example. */
static struct decision_facts facts(void)
{
	return (struct decision_facts){
		.client = &client,
		.client_ip = "192.0.2.25",
		.client_name = "unknown",
		.client_hostname = "mx.client.example",
		.helo = "helo.client.example",
		.sender = "alice@sender.example",
		.sender_domain = "sender.example",
		.recipient = "bob@rcpt.example",
		.recipient_domain = "rcpt.example",
		.daemon = "smtpd",
	};
}

/* The evidence a check with this outcome rests on, as the resolver would give it. */
static struct dns_evidence evidence_for(enum policy_outcome outcome)
{
	struct dns_evidence ev = {.qname = "sender.example.", .qtype = 15, .rcode = 0, .ms = 3, .ttl = 300};

	switch (outcome) {
	case POLICY_OUTCOME_NXDOMAIN:
	case POLICY_OUTCOME_PERMERROR:
	case POLICY_OUTCOME_UNRESOLVABLE:
		ev.outcome = DNS_NXDOMAIN;
		ev.rcode = 3;
		break;
	case POLICY_OUTCOME_TEMPERROR:
		ev.outcome = DNS_TEMPFAIL;
		ev.cause = DNS_CAUSE_SERVFAIL;
		ev.rcode = 2;
		break;
	case POLICY_OUTCOME_BOGUS:
		ev.outcome = DNS_BOGUS;
		ev.why_bogus = "signature expired";
		break;
	case POLICY_OUTCOME_NO_ADDRESS:
		ev.outcome = DNS_NODATA;
		break;
	default:
		ev.outcome = DNS_FOUND;
		break;
	}
	return ev;
}

static struct check_result result_for(enum policy_check check, enum policy_outcome outcome,
				      const struct dns_evidence *ev)
{
	struct check_result r = {.check = check, .outcome = outcome};

	if (outcome == POLICY_OUTCOME_SYNTAX) {
		r.cause = "unbalanced quotes";
		return r;
	}
	if (outcome == POLICY_OUTCOME_UNDECIDED)
		return r;
	r.evidence = ev;
	r.subject = check == POLICY_CHECK_RECIPIENT ? "rcpt.example" : check == POLICY_CHECK_SENDER ? "sender.example" : NULL;
	if (outcome == POLICY_OUTCOME_TEMPERROR) {
		r.probe = DECISION_PROBE_KNOWN;
		r.finding = FINDING;
	}
	return r;
}

/* ---- the defaults table of dnsguard-policy(5) ------------------------------------------------- */

/* Next line of *p (cut in place), or NULL at the end. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

/* Replaces every `name` in text by `value`. */
static void substitute(char *text, size_t size, const char *name, const char *value)
{
	char *out = malloc(size), *at;
	size_t nlen = strlen(name);

	assert_non_null(out);
	while ((at = strstr(text, name))) {
		snprintf(out, size, "%.*s%s%s", (int)(at - text), text, value, at + nlen);
		memcpy(text, out, size);
	}
	free(out);
}

struct manual_row {
	char check[16];
	char outcomes[64];
	char action[16];
	char reply[512];	/* "" when the row has none */
};

/* The rows of the DEFAULTS table, in order; returns how many. */
static size_t manual_rows(struct manual_row *rows, size_t max)
{
	char *text = unit_read_source("policy/dnsguard-policy.5.in", NULL), *p, *line;
	size_t n = 0;
	bool in_table = false, in_defaults = false;

	p = text;
	while ((line = next_line(&p))) {
		if (strncmp(line, ".SH", 3) == 0)
			in_defaults = strcmp(line, ".SH DEFAULTS") == 0;
		if (!in_defaults)
			continue;
		if (strcmp(line, ".TS") == 0) {
			in_table = true;
			next_line(&p);	/* the format line */
			continue;
		}
		if (strcmp(line, ".TE") == 0)
			break;
		if (!in_table || strcmp(line, "_") == 0 || strchr(line, '\t') == NULL ||
		    strncmp(line, "check\t", 6) == 0)
			continue;
		assert_true(n < max);
		struct manual_row *row = &rows[n++];
		char *fields[4] = {0}, *save = NULL;
		fields[0] = strtok_r(line, "\t", &save);
		fields[1] = strtok_r(NULL, "\t", &save);
		fields[2] = strtok_r(NULL, "\t", &save);
		fields[3] = strtok_r(NULL, "\t", &save);
		assert_non_null(fields[2]);
		snprintf(row->check, sizeof(row->check), "%s", fields[0]);
		snprintf(row->outcomes, sizeof(row->outcomes), "%s", fields[1]);
		snprintf(row->action, sizeof(row->action), "%s", fields[2]);
		if (fields[3] && strcmp(fields[3], "T{") == 0) {
			char *body = next_line(&p);
			assert_non_null(body);
			/* "(logged; ...)" explains a row without a reply */
			if (body[0] != '(')
				snprintf(row->reply, sizeof(row->reply), "%s", body);
			assert_string_equal(next_line(&p), "T}");
		}
	}
	free(text);
	assert_true(n > 0);
	return n;
}

static bool check_from_name(const char *name, enum policy_check *out)
{
	for (int c = 0; c < POLICY_CHECK_COUNT; c++)
		if (strcmp(name, policy_check_name((enum policy_check)c)) == 0) {
			*out = (enum policy_check)c;
			return true;
		}
	return false;
}

/* The reply the manual promises, its placeholders filled with the facts of facts(). */
static void expected_reply(const char *manual, enum policy_check check, enum policy_outcome outcome, char *out,
			   size_t size)
{
	bool recipient = check == POLICY_CHECK_RECIPIENT;

	snprintf(out, size, "%s", manual);
	substitute(out, size, "{address}", recipient ? "bob@rcpt.example" : "alice@sender.example");
	substitute(out, size, "{domain}", recipient ? "rcpt.example" : "sender.example");
	substitute(out, size, "{ip}", "192.0.2.25");
	substitute(out, size, "{cause}", outcome == POLICY_OUTCOME_TEMPERROR ? CAUSE_SERVFAIL : "");
}

/* Every row of the manual's table, decided whole, with no policy and with one that does not
 * match; and every outcome a check can have has exactly one row. */
static void test_defaults_table_of_the_manual(void **state)
{
	(void)state;
	struct manual_row rows[64];
	size_t count = manual_rows(rows, 64);
	unsigned seen[POLICY_CHECK_COUNT][POLICY_OUTCOME_COUNT] = {{0}};
	char err[256];
	const char *other_text = "{\"version\": 1, \"rules\": [{\"if\": {\"daemon\": \"nothing-like-this\"}, \"then\": \"reject\"}]}";
	struct policy *other = policy_compile(other_text, strlen(other_text), "other.json", err, sizeof(err));
	const struct policy *policies[] = {NULL, other};

	assert_non_null(other);
	for (size_t i = 0; i < count; i++) {
		const struct manual_row *row = &rows[i];
		char outcomes[64], *save = NULL;
		snprintf(outcomes, sizeof(outcomes), "%s", row->outcomes);
		for (char *name = strtok_r(outcomes, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
			enum policy_outcome outcome;
			if (!policy_outcome_from_name(name, &outcome))
				fail_msg("dnsguard-policy(5) DEFAULTS: %s is not an outcome", name);
			for (int c = 0; c < POLICY_CHECK_COUNT; c++) {
				enum policy_check check = (enum policy_check)c, named;
				bool any = strcmp(row->check, "any") == 0;
				if (!any && (!check_from_name(row->check, &named) || named != check))
					continue;
				if (!policy_outcome_possible(check, outcome)) {
					if (!any)
						fail_msg("dnsguard-policy(5) DEFAULTS: %s cannot be %s", row->check, name);
					continue;
				}
				seen[c][outcome]++;
				struct dns_evidence ev = evidence_for(outcome);
				struct check_result r = result_for(check, outcome, &ev);
				struct decision_facts f = facts();
				char want[1024] = "", got[1024] = "";
				expected_reply(row->reply, check, outcome, want, sizeof(want));
				for (size_t j = 0; j < 2; j++) {
					struct decision d;
					memset(&d, 0x5a, sizeof(d));
					decision_make(policies[j], &dns, &f, &r, &d);
					if (d.code)
						snprintf(got, sizeof(got), "%u %s %s", d.code, d.xcode, d.text);
					else
						got[0] = '\0';
					if (strcmp(policy_action_name(d.action), row->action) != 0 || strcmp(got, want) != 0 ||
					    strcmp(d.rule, "default") != 0 || d.dry_run)
						fail_msg("%s %s (policy %zu):\n got: %s \"%s\" rule=%s\nwant: %s \"%s\" (dnsguard-policy(5))",
							 policy_check_name(check), name, j, policy_action_name(d.action), got, d.rule,
							 row->action, want);
					/* permanent DNS answers get 5xx, trouble 4xx, never the other way round */
					if (d.action == POLICY_REJECT)
						assert_true(d.code >= 500 && d.code < 600 && d.xcode[0] == '5');
					if (d.action == POLICY_TEMPFAIL)
						assert_true(d.code >= 400 && d.code < 500 && d.xcode[0] == '4');
					if (outcome == POLICY_OUTCOME_TEMPERROR || outcome == POLICY_OUTCOME_BOGUS ||
					    outcome == POLICY_OUTCOME_UNDECIDED)
						assert_true(d.action != POLICY_REJECT);
				}
			}
		}
	}
	for (int c = 0; c < POLICY_CHECK_COUNT; c++)
		for (int o = 0; o < POLICY_OUTCOME_COUNT; o++) {
			bool possible = policy_outcome_possible((enum policy_check)c, (enum policy_outcome)o);
			if (seen[c][o] != (possible ? 1u : 0u))
				fail_msg("dnsguard-policy(5) DEFAULTS has %u rows for %s %s", seen[c][o],
					 policy_check_name((enum policy_check)c), policy_outcome_name((enum policy_outcome)o));
		}
	policy_free(other);
}

/* ---- causes --------------------------------------------------------------------------------- */

static void test_causes(void **state)
{
	(void)state;
	struct dns_evidence ev = evidence_for(POLICY_OUTCOME_TEMPERROR);
	char buf[DECISION_CAUSE_SIZE];

	assert_string_equal(decision_cause(&ev, &dns, DECISION_PROBE_KNOWN, FINDING, buf, sizeof(buf)), CAUSE_SERVFAIL);
	assert_string_equal(decision_cause(&ev, &dns, DECISION_PROBE_NONE, NULL, buf, sizeof(buf)),
			    "SERVFAIL over udp-tcp");
	assert_string_equal(decision_cause(&ev, &dns, DECISION_PROBE_RUNNING, NULL, buf, sizeof(buf)),
			    "SERVFAIL over udp-tcp (the servers are being probed)");
	ev.cause = DNS_CAUSE_DEADLINE;
	ev.rcode = -1;
	assert_string_equal(decision_cause(&ev, &dns, DECISION_PROBE_NONE, NULL, buf, sizeof(buf)),
			    "no answer within 4000 ms");
	ev.cause = DNS_CAUSE_REFUSED;
	struct decision_dns tcp = {.transport = DNS_TRANSPORT_TCP, .deadline_ms = 10};
	assert_string_equal(decision_cause(&ev, &tcp, DECISION_PROBE_NONE, NULL, buf, sizeof(buf)), "REFUSED over tcp");
	ev.cause = DNS_CAUSE_RCODE;
	ev.rcode = 4;
	assert_string_equal(decision_cause(&ev, &dns, DECISION_PROBE_NONE, NULL, buf, sizeof(buf)), "rcode 4 over udp-tcp");
	ev.cause = DNS_CAUSE_LOCAL;
	assert_string_equal(decision_cause(&ev, &dns, DECISION_PROBE_KNOWN, FINDING, buf, sizeof(buf)), "internal error");
	ev = evidence_for(POLICY_OUTCOME_BOGUS);
	assert_string_equal(decision_cause(&ev, &dns, DECISION_PROBE_NONE, NULL, buf, sizeof(buf)),
			    "DNSSEC validation failed: signature expired");
	ev = evidence_for(POLICY_OUTCOME_NXDOMAIN);
	assert_string_equal(decision_cause(&ev, &dns, DECISION_PROBE_KNOWN, FINDING, buf, sizeof(buf)), "");
	assert_string_equal(decision_cause(NULL, &dns, DECISION_PROBE_NONE, NULL, buf, sizeof(buf)), "");
}

/* ---- the renderings ------------------------------------------------------------------------- */

static void test_log_line_and_reply(void **state)
{
	(void)state;
	struct dns_evidence ev = evidence_for(POLICY_OUTCOME_TEMPERROR);
	struct check_result r = result_for(POLICY_CHECK_SENDER, POLICY_OUTCOME_TEMPERROR, &ev);
	struct decision_facts f = facts();
	struct decision d;
	struct decision_reply reply;
	char storage[4096];
	struct strbuf line;

	decision_make(NULL, &dns, &f, &r, &d);
	strbuf_init(&line, storage, sizeof(storage));
	decision_format(&d, &f, &line);
	assert_string_equal(strbuf_text(&line),
			    " check=sender outcome=temperror action=tempfail rule=default"
			    " reply=\"451 4.4.3 <alice@sender.example>: Sender domain must resolve: temporary DNS failure (" CAUSE_SERVFAIL ")\""
			    " client=unknown[192.0.2.25] helo=helo.client.example from=<alice@sender.example> to=<bob@rcpt.example>"
			    " name=sender.example cause=\"" CAUSE_SERVFAIL "\" transport=udp-tcp"
			    " dns_q=sender.example./MX dns_outcome=tempfail dns_cause=servfail dns_rcode=SERVFAIL dns_ms=3"
			    " hint=\"dnsguard-check domain sender.example\"");
	assert_true(decision_is_warning(&d));
	assert_false(decision_is_quiet(&d));
	assert_false(decision_lets_through(&d));
	assert_true(decision_reply(&d, &reply));
	assert_string_equal(reply.code, "451");
	assert_string_equal(reply.xcode, "4.4.3");
	assert_string_equal(reply.text, "<alice@sender.example>: Sender domain must resolve: temporary DNS failure (" CAUSE_SERVFAIL ")");

	/* fine and accepted: quiet, no reply */
	ev = evidence_for(POLICY_OUTCOME_OK);
	r = result_for(POLICY_CHECK_SENDER, POLICY_OUTCOME_OK, &ev);
	decision_make(NULL, &dns, &f, &r, &d);
	assert_true(decision_is_quiet(&d));
	assert_true(decision_lets_through(&d));
	assert_false(decision_reply(&d, &reply));
	assert_string_equal(d.cause, "");

	/* tagged: logged, not quiet, no reply; before RCPT no to= */
	r = result_for(POLICY_CHECK_HELO, POLICY_OUTCOME_MISMATCH, &ev);
	r.subject = "helo.client.example";
	f.recipient = f.recipient_domain = NULL;
	decision_make(NULL, &dns, &f, &r, &d);
	assert_int_equal(d.action, POLICY_TAG);
	assert_false(decision_is_quiet(&d));
	assert_false(decision_is_warning(&d));
	assert_false(decision_reply(&d, &reply));
	strbuf_init(&line, storage, sizeof(storage));
	decision_format(&d, &f, &line);
	assert_null(strstr(strbuf_text(&line), " to="));
	assert_null(strstr(strbuf_text(&line), " reply="));
	assert_non_null(strstr(strbuf_text(&line), " action=tag rule=default client="));
}

/* The hint names the command that explains DNS trouble, and only DNS trouble. */
static void test_hint(void **state)
{
	(void)state;
	struct dns_evidence ev = evidence_for(POLICY_OUTCOME_TEMPERROR);
	struct check_result r = result_for(POLICY_CHECK_CLIENT, POLICY_OUTCOME_TEMPERROR, &ev);
	struct decision_facts f = facts();
	struct decision d;
	char storage[4096];
	struct strbuf line;

	r.subject = NULL;
	decision_make(NULL, &dns, &f, &r, &d);
	strbuf_init(&line, storage, sizeof(storage));
	decision_format(&d, &f, &line);
	assert_non_null(strstr(strbuf_text(&line), " dns_ms=3 hint=\"dnsguard-check client 192.0.2.25\""));

	/* a recipient's DNS trouble: its domain */
	r = result_for(POLICY_CHECK_RECIPIENT, POLICY_OUTCOME_TEMPERROR, &ev);
	r.subject = "rcpt.example";
	decision_make(NULL, &dns, &f, &r, &d);
	strbuf_init(&line, storage, sizeof(storage));
	decision_format(&d, &f, &line);
	assert_non_null(strstr(strbuf_text(&line), " hint=\"dnsguard-check domain rcpt.example\""));

	/* dnsguard's own failure is no DNS trouble */
	ev.cause = DNS_CAUSE_LOCAL;
	decision_make(NULL, &dns, &f, &r, &d);
	strbuf_init(&line, storage, sizeof(storage));
	decision_format(&d, &f, &line);
	assert_null(strstr(strbuf_text(&line), "hint="));

	/* an answer is no trouble either */
	ev = evidence_for(POLICY_OUTCOME_NXDOMAIN);
	r = result_for(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN, &ev);
	decision_make(NULL, &dns, &f, &r, &d);
	strbuf_init(&line, storage, sizeof(storage));
	decision_format(&d, &f, &line);
	assert_null(strstr(strbuf_text(&line), "hint="));
}

/* Client text in the line and the reply: quoted and escaped, never raw; '%' doubled for libmilter. */
static void test_hostile_client_text(void **state)
{
	(void)state;
	struct dns_evidence ev = evidence_for(POLICY_OUTCOME_NXDOMAIN);
	struct check_result r = result_for(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN, &ev);
	struct decision_facts f = facts();
	struct decision d;
	struct decision_reply reply;
	char storage[4096];
	struct strbuf line;
	const char *text = "{\"version\": 1, \"rules\": [{\"name\": \"say-helo\", \"if\": {\"check\": \"sender\"},"
			   " \"then\": \"reject\", \"reply\": {\"text\": \"you said {helo} from {address} %s\"}}]}";
	char err[256];
	struct policy *p = policy_compile(text, strlen(text), "p.json", err, sizeof(err));

	assert_non_null(p);
	f.helo = "evil\r\nX-Forged: yes \"quoted\" \\ %n\x01\xff";
	f.sender = "a%d@sender.example";
	decision_make(p, &dns, &f, &r, &d);
	assert_string_equal(d.rule, "say-helo");
	assert_int_equal(d.action, POLICY_REJECT);
	assert_true(decision_reply(&d, &reply));
	assert_string_equal(reply.code, "550");
	assert_null(strchr(reply.text, '\r'));
	assert_null(strchr(reply.text, '\n'));
	/* every '%' doubled: libmilter would drop the reply for a lone one */
	for (const char *c = reply.text; (c = strchr(c, '%')); c += 2)
		assert_int_equal(c[1], '%');
	assert_non_null(strstr(reply.text, "a%%d@sender.example"));
	for (const unsigned char *c = (const unsigned char *)reply.text; *c; c++)
		assert_true(*c >= ' ' && *c < 0x7f);

	strbuf_init(&line, storage, sizeof(storage));
	decision_format(&d, &f, &line);
	for (const unsigned char *c = (const unsigned char *)strbuf_text(&line); *c; c++)
		assert_true(*c >= ' ' && *c < 0x7f);
	assert_non_null(strstr(strbuf_text(&line), " helo=\"evil\\x0d\\x0aX-Forged: yes \\\"quoted\\\" \\\\ %n\\x01\\xff\""));
	/* the reply= value: the policy made CR and LF spaces, the line quotes it whole */
	assert_non_null(strstr(strbuf_text(&line), " reply=\"550 5.1.8 you said evil  X-Forged: yes \\\"quoted\\\" "));
	policy_free(p);
}

/* Rules override the table: the deciding rule is named, placeholders are the facts'. */
static void test_rules_override(void **state)
{
	(void)state;
	const char *text =
		"{\"version\": 1, \"rules\": ["
		" {\"name\": \"postmaster-always\", \"if\": {\"check\": [\"client\", \"helo\", \"sender\"], \"recipient\": \"postmaster@\"}, \"then\": \"accept\"},"
		" {\"name\": \"soft-nxdomain\", \"if\": {\"check\": \"sender\", \"outcome\": \"nxdomain\"}, \"then\": \"tempfail\","
		"  \"reply\": {\"code\": \"450\", \"xcode\": \"4.1.8\", \"text\": \"{hostname} [{ip}] {domain} ({cause})\"}},"
		" {\"name\": \"hold-temperror\", \"if\": {\"check\": \"sender\", \"outcome\": \"temperror\"}, \"then\": \"quarantine\"}"
		"]}";
	char err[256];
	struct policy *p = policy_compile(text, strlen(text), "p.json", err, sizeof(err));
	struct dns_evidence ev = evidence_for(POLICY_OUTCOME_NXDOMAIN);
	struct check_result r = result_for(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN, &ev);
	struct decision_facts f = facts();
	struct decision d;
	struct decision_reply reply;

	if (!p)
		fail_msg("%s", err);
	decision_make(p, &dns, &f, &r, &d);
	assert_string_equal(d.rule, "soft-nxdomain");
	assert_int_equal(d.action, POLICY_TEMPFAIL);
	assert_true(decision_reply(&d, &reply));
	assert_string_equal(reply.code, "450");
	assert_string_equal(reply.xcode, "4.1.8");
	/* a placeholder with nothing to say goes with its parentheses */
	assert_string_equal(reply.text, "mx.client.example [192.0.2.25] sender.example");

	f.recipient = "postmaster@rcpt.example";
	decision_make(p, &dns, &f, &r, &d);
	assert_string_equal(d.rule, "postmaster-always");
	assert_int_equal(d.action, POLICY_ACCEPT);
	assert_false(decision_is_quiet(&d));	/* a bad outcome let through is still logged */
	assert_true(decision_lets_through(&d));

	f = facts();
	ev = evidence_for(POLICY_OUTCOME_TEMPERROR);
	r = result_for(POLICY_CHECK_SENDER, POLICY_OUTCOME_TEMPERROR, &ev);
	r.probe = DECISION_PROBE_RUNNING;
	r.finding = NULL;
	decision_make(p, &dns, &f, &r, &d);
	assert_string_equal(d.rule, "hold-temperror");
	assert_int_equal(d.action, POLICY_QUARANTINE);
	assert_true(decision_lets_through(&d));
	assert_false(decision_reply(&d, &reply));
	assert_string_equal(d.cause, "SERVFAIL over udp-tcp (the servers are being probed)");
	policy_free(p);
}

/* dry_run: the decision says what would be done, and that nothing is. */
static void test_dry_run(void **state)
{
	(void)state;
	const char *text = "{\"version\": 1, \"dry_run\": true}";
	char err[256], storage[4096];
	struct policy *p = policy_compile(text, strlen(text), "p.json", err, sizeof(err));
	struct dns_evidence ev = evidence_for(POLICY_OUTCOME_NXDOMAIN);
	struct check_result r = result_for(POLICY_CHECK_SENDER, POLICY_OUTCOME_NXDOMAIN, &ev);
	struct decision_facts f = facts();
	struct decision d;
	struct strbuf line;

	assert_non_null(p);
	decision_make(p, &dns, &f, &r, &d);
	assert_int_equal(d.action, POLICY_REJECT);
	assert_true(d.dry_run);
	assert_true(decision_lets_through(&d));
	strbuf_init(&line, storage, sizeof(storage));
	decision_format(&d, &f, &line);
	assert_non_null(strstr(strbuf_text(&line), " action=reject dry_run=yes rule=default reply=\"550 5.1.8 "));
	policy_free(p);
}

/* An undecided check without an address, and the check results of the check modules. */
static void test_undecided_and_check_results(void **state)
{
	(void)state;
	struct check_result r;
	struct decision_facts f = facts();
	struct decision d;
	struct decision_reply reply;

	check_result_client(NULL, &r);
	assert_int_equal(r.check, POLICY_CHECK_CLIENT);
	assert_int_equal(r.outcome, POLICY_OUTCOME_UNDECIDED);
	assert_null(r.evidence);
	f.sender = "";
	f.sender_domain = "";
	decision_make(NULL, &dns, &f, &r, &d);
	assert_true(decision_reply(&d, &reply));
	assert_string_equal(reply.text, "Client host [192.0.2.25]: temporary internal error, try again later");
	assert_true(decision_is_warning(&d));

	struct dns_evidence evs[2] = {evidence_for(POLICY_OUTCOME_OK), evidence_for(POLICY_OUTCOME_TEMPERROR)};
	struct mail_domain_result md = {.verdict = MAIL_DOMAIN_TEMPFAIL, .evidence = evs, .evidence_count = 2, .decisive = 1};
	check_result_domain(POLICY_CHECK_RECIPIENT, &md, "rcpt.example", &r);
	assert_int_equal(r.outcome, POLICY_OUTCOME_TEMPERROR);
	assert_ptr_equal(r.evidence, &evs[1]);
	assert_string_equal(r.subject, "rcpt.example");
	md.decisive = 7;	/* out of range: the first, never past the end */
	check_result_domain(POLICY_CHECK_SENDER, &md, "sender.example", &r);
	assert_ptr_equal(r.evidence, &evs[0]);

	struct fcrdns_result fr = {.verdict = FCRDNS_NO_PTR, .evidence = evs, .evidence_count = 1, .confirmed = -1};
	check_result_client(&fr, &r);
	assert_int_equal(r.outcome, POLICY_OUTCOME_PERMERROR);
	fr.verdict = FCRDNS_BOGUS;
	check_result_client(&fr, &r);
	assert_int_equal(r.outcome, POLICY_OUTCOME_TEMPERROR);

	struct helo_result hr = {.verdict = HELO_MISMATCH};
	check_result_helo(&hr, "helo.client.example", &r);
	assert_int_equal(r.outcome, POLICY_OUTCOME_MISMATCH);
	assert_null(r.evidence);
	assert_string_equal(r.subject, "helo.client.example");
}

static int setup(void **state)
{
	(void)state;
	return netaddr_parse("192.0.2.25", &client) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_table_of_the_manual),
		cmocka_unit_test(test_causes),
		cmocka_unit_test(test_log_line_and_reply),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_hostile_client_text),
		cmocka_unit_test(test_rules_override),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_undecided_and_check_results),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
