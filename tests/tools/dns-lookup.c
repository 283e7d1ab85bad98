/*
 * dns-lookup - drive dnsguard's DNS core from the command line, for the integration tests.
 *
 *   dns-lookup [-s addr@port]... [-t udp-tcp|tcp|udp] [-z auto|servers|local] [-a anchor]
 *              [-r resolv.conf | -R root.hints] [-d deadline_ms] COMMAND
 *   COMMAND:  lookup NAME TYPE [NAME TYPE]...   asked together in one job, one line per answer
 *             domain NAME                       the mail-domain check
 *             client ADDRESS                    the forward-confirmed reverse DNS check
 *             helo NAME ADDRESS                 the HELO check for a client at ADDRESS
 *             helo-after-client NAME ADDRESS    the client check first, then the HELO check
 *                                               given its result (as the milter does)
 *             repeat N COMMAND...               run COMMAND N times on one resolver (cache tests)
 *   -i ms     pause between repeats (outage and recovery tests)
 *
 * Verdict lines end with at=MS, the time since the program started.
 *
 * Output is key=value lines a test can match: the verdict line first, then one `evidence` line
 * per question.  Exit status 0, or 2 on a usage or setup error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns_rdata.h"
#include "fcrdns.h"
#include "helo_check.h"
#include "mail_domain.h"
#include "netaddr.h"
#include "resolver.h"
#include "strbuf.h"

static struct timespec program_start;
static unsigned repeat_pause_ms;

static unsigned at_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned)((ts.tv_sec - program_start.tv_sec) * 1000 + (ts.tv_nsec - program_start.tv_nsec) / 1000000);
}

static void usage(void)
{
	fprintf(stderr, "usage: dns-lookup [-s addr@port]... [-t transport] [-z zones] [-a anchor] [-r resolv.conf]\n"
			"                  [-d deadline_ms] lookup NAME TYPE... | domain NAME | client ADDRESS\n");
	exit(2);
}

static void print_evidence(const struct dns_evidence *ev, bool decisive)
{
	char line[1024];
	struct strbuf sb;

	strbuf_init(&sb, line, sizeof(line));
	strbuf_append(&sb, decisive ? "evidence decisive=yes" : "evidence decisive=no");
	dns_evidence_format(ev, "", &sb);
	printf("%s\n", strbuf_text(&sb));
}

struct lookup_ctx {
	const char *name;
	uint16_t type;
	bool answered;
	char evidence[2048];	/* formatted at once: the answer's strings live only during the handler */
	char data[1024];
};

static void keep_evidence(struct lookup_ctx *l, const struct dns_evidence *ev)
{
	struct strbuf sb;

	l->answered = true;
	strbuf_init(&sb, l->evidence, sizeof(l->evidence));
	dns_evidence_format(ev, "", &sb);
}

static void on_lookup(struct dns_job *job, void *arg, const struct dns_answer *answer)
{
	struct lookup_ctx *l = arg;
	struct strbuf sb;

	(void)job;
	keep_evidence(l, &answer->ev);
	strbuf_init(&sb, l->data, sizeof(l->data));
	if (answer->ev.outcome != DNS_FOUND)
		return;
	if (answer->ev.qtype == LDNS_RR_TYPE_MX) {
		struct dns_mx mx[32];
		size_t n = dns_rdata_mx(answer->packet, mx, 32, NULL);
		for (size_t i = 0; i < n; i++)
			strbuf_appendf(&sb, "%s%u:%s", i ? "," : "", mx[i].preference, mx[i].host);
	} else if (answer->ev.qtype == LDNS_RR_TYPE_A || answer->ev.qtype == LDNS_RR_TYPE_AAAA) {
		struct netaddr a[32];
		size_t n = dns_rdata_addresses(answer->packet, answer->ev.qtype, a, 32, NULL);
		for (size_t i = 0; i < n; i++) {
			char text[64];
			strbuf_appendf(&sb, "%s%s", i ? "," : "", netaddr_format(&a[i], text, sizeof(text)));
		}
	} else if (answer->ev.qtype == LDNS_RR_TYPE_PTR) {
		static char names[16][DNS_NAME_TEXT_MAX];
		size_t n = dns_rdata_ptr(answer->packet, names, 16, NULL);
		for (size_t i = 0; i < n; i++)
			strbuf_appendf(&sb, "%s%s", i ? "," : "", names[i]);
	}
}

static int run_lookup(struct resolver *r, unsigned deadline, int argc, char **argv)
{
	size_t n = (size_t)argc / 2;
	struct lookup_ctx *l = calloc(n ? n : 1, sizeof(*l));
	struct dns_job *job = dns_job_new(r, deadline);
	bool complete;

	if (argc < 2 || argc % 2 || !l || !job)
		usage();
	dns_job_lock(job);
	for (size_t i = 0; i < n; i++) {
		l[i].name = argv[2 * i];
		l[i].type = ldns_get_rr_type_by_name(argv[2 * i + 1]);
		if (!l[i].type) {
			fprintf(stderr, "dns-lookup: unknown type %s\n", argv[2 * i + 1]);
			exit(2);
		}
		if (dns_job_ask(job, l[i].name, l[i].type, on_lookup, &l[i]) != 0) {
			struct dns_evidence ev;
			dns_evidence_unanswered(&ev, l[i].name, l[i].type, DNS_CAUSE_LOCAL, 0);
			keep_evidence(&l[i], &ev);
		}
	}
	dns_job_unlock(job);
	complete = dns_job_wait(job);
	dns_job_lock(job);
	printf("lookup complete=%s ms=%u\n", complete ? "yes" : "no", dns_job_elapsed_ms(job));
	for (size_t i = 0; i < n; i++) {
		char line[4096];
		struct strbuf sb;
		if (!l[i].answered) {
			struct dns_evidence ev;
			dns_evidence_unanswered(&ev, l[i].name, l[i].type, DNS_CAUSE_DEADLINE, dns_job_elapsed_ms(job));
			keep_evidence(&l[i], &ev);
		}
		strbuf_init(&sb, line, sizeof(line));
		strbuf_appendf(&sb, "answer%s", l[i].evidence);
		if (l[i].data[0])
			strbuf_appendf(&sb, " data=%s", l[i].data);
		printf("%s\n", strbuf_text(&sb));
	}
	dns_job_unlock(job);
	dns_job_release(job);
	free(l);
	return 0;
}

static int run_domain(struct resolver *r, unsigned deadline, const char *domain)
{
	struct mail_domain_check *c = mail_domain_start(r, domain, deadline);
	const struct mail_domain_result *res;
	char addr[64] = "";

	if (!c)
		return 2;
	res = mail_domain_wait(c);
	if (res->verdict == MAIL_DOMAIN_OK)
		netaddr_format(&res->usable_address, addr, sizeof(addr));
	printf("domain verdict=%s domain=%s mx=%zu implicit_mx=%s literal=%s localhost=%s loopback=%s usable=%s[%s] ms=%u at=%u\n",
	       mail_domain_verdict_name(res->verdict), res->domain, res->mx_count,
	       res->flags & MAIL_DOMAIN_FLAG_IMPLICIT_MX ? "yes" : "no", res->flags & MAIL_DOMAIN_FLAG_MX_LITERAL ? "yes" : "no",
	       res->flags & MAIL_DOMAIN_FLAG_MX_LOCALHOST ? "yes" : "no",
	       res->flags & MAIL_DOMAIN_FLAG_MX_LOOPBACK ? "yes" : "no", res->usable_host, addr, res->ms, at_ms());
	for (size_t i = 0; i < res->evidence_count; i++)
		print_evidence(&res->evidence[i], i == res->decisive);
	mail_domain_free(c);
	return 0;
}

static int run_client(struct resolver *r, unsigned deadline, const char *text)
{
	struct netaddr client;
	struct fcrdns_check *c;
	const struct fcrdns_result *res;

	if (!netaddr_parse(text, &client)) {
		fprintf(stderr, "dns-lookup: not an address: %s\n", text);
		return 2;
	}
	c = fcrdns_start(r, &client, deadline);
	if (!c)
		return 2;
	res = fcrdns_wait(c);
	printf("client verdict=%s iprev=%s names=%zu hostname=%s ms=%u at=%u\n", fcrdns_verdict_name(res->verdict),
	       fcrdns_iprev_result(res->verdict), res->name_count, fcrdns_hostname(res), res->ms, at_ms());
	for (size_t i = 0; i < res->evidence_count; i++)
		print_evidence(&res->evidence[i], i == res->decisive);
	fcrdns_free(c);
	return 0;
}

static int run_helo(struct resolver *r, unsigned deadline, const char *name, const char *text, bool after_client)
{
	struct netaddr client;
	struct fcrdns_check *cc = NULL;
	struct helo_check *c;
	const struct helo_result *res;

	if (!netaddr_parse(text, &client)) {
		fprintf(stderr, "dns-lookup: not an address: %s\n", text);
		return 2;
	}
	if (after_client) {
		if (!(cc = fcrdns_start(r, &client, deadline)))
			return 2;
		printf("client verdict=%s\n", fcrdns_verdict_name(fcrdns_wait(cc)->verdict));
	}
	c = helo_check_start(r, name, &client, deadline, cc ? fcrdns_peek(cc) : NULL);
	if (!c) {
		fcrdns_free(cc);
		return 2;
	}
	res = helo_check_wait(c);
	printf("helo verdict=%s ms=%u evidence=%zu at=%u\n", helo_verdict_name(res->verdict), res->ms,
	       res->evidence_count, at_ms());
	for (size_t i = 0; i < res->evidence_count; i++)
		print_evidence(&res->evidence[i], i == res->decisive);
	helo_check_free(c);
	fcrdns_free(cc);
	return 0;
}

static int run(struct resolver *r, unsigned deadline, int argc, char **argv)
{
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "lookup") == 0)
		return run_lookup(r, deadline, argc - 1, argv + 1);
	if (strcmp(argv[0], "domain") == 0 && argc == 2)
		return run_domain(r, deadline, argv[1]);
	if (strcmp(argv[0], "client") == 0 && argc == 2)
		return run_client(r, deadline, argv[1]);
	if (strcmp(argv[0], "helo") == 0 && argc == 3)
		return run_helo(r, deadline, argv[1], argv[2], false);
	if (strcmp(argv[0], "helo-after-client") == 0 && argc == 3)
		return run_helo(r, deadline, argv[1], argv[2], true);
	if (strcmp(argv[0], "repeat") == 0 && argc > 2) {
		int times = atoi(argv[1]), rc = 0;
		for (int i = 0; i < times && rc == 0; i++) {
			if (i && repeat_pause_ms)
				usleep(repeat_pause_ms * 1000);
			rc = run(r, deadline, argc - 2, argv + 2);
			fflush(stdout);
		}
		return rc;
	}
	usage();
	return 2;
}

int main(int argc, char **argv)
{
	struct resolver_options o = {0};
	struct resolver *r;
	unsigned deadline = 4000;
	char err[512];
	int opt, rc;

	clock_gettime(CLOCK_MONOTONIC, &program_start);
	o.dns.mode = DNS_MODE_RESOLV_CONF;
	while ((opt = getopt(argc, argv, "+s:t:z:a:r:R:d:i:")) != -1) {
		switch (opt) {
		case 's':
			if (o.dns.server_count == DNS_SERVERS_MAX ||
			    !netaddr_parse_server(optarg, &o.dns.servers[o.dns.server_count].addr,
						  &o.dns.servers[o.dns.server_count].port)) {
				fprintf(stderr, "dns-lookup: bad server %s\n", optarg);
				return 2;
			}
			o.dns.server_count++;
			o.dns.mode = DNS_MODE_FORWARD;
			break;
		case 't':
			if (!dns_transport_from_name(optarg, &o.dns.transport))
				usage();
			break;
		case 'z':
			if (!dns_builtin_zones_from_name(optarg, &o.dns.builtin_zones))
				usage();
			break;
		case 'a':
			o.trust_anchor_file = optarg;
			break;
		case 'r':
			o.resolv_conf = optarg;
			break;
		case 'R':
			o.dns.mode = DNS_MODE_RECURSIVE;
			o.root_hints = optarg;
			break;
		case 'd':
			deadline = (unsigned)atoi(optarg);
			break;
		case 'i':
			repeat_pause_ms = (unsigned)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	r = resolver_new(&o, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "dns-lookup: %s\n", err);
		return 2;
	}
	rc = run(r, deadline, argc - optind, argv + optind);
	resolver_free(r);
	return rc;
}
