/*
 * check_stats - `dnsguard-check stats`: the running daemon's counters and health, read from its
 * metrics_socket (metrics_server.h) as any scraper reads them.
 *
 *   stats [--all] [--raw] [--socket SPEC]
 *
 * Asks GET /health and GET /metrics.  Prints the health line, then every sample of the exposition
 * as `name{labels}  value`, without the counters that are still 0 (--all: with them); --raw
 * prints the exposition as served; --json one document {"health": {...}, "metrics": [...]}, each
 * sample with its family's type and its labels unescaped.  Exit status: 0 healthy, 1 the daemon
 * says it is not (its reason is printed), 2 no answer (not running, metrics_socket off, ...).
 */
#include "check.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "listener.h"
#include "metrics.h"
#include "monotonic.h"
#include "strbuf.h"

#define STATS_TIMEOUT_MS 5000
#define RESPONSE_MAX (METRICS_TEXT_MAX + 4096)

struct response {
	unsigned status;
	const char *body;	/* into text */
	struct strbuf text;
};

/* GET path from spec; false with one line on stderr. */
static bool http_get(const char *spec, const char *path, struct response *out)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	char err[512], request[128], chunk[16384];
	struct timespec deadline = monotonic_after(monotonic_now(), STATS_TIMEOUT_MS);
	int fd;

	strbuf_init_heap(&out->text, RESPONSE_MAX);
	if (!listener_address(spec, &sa, &salen, err, sizeof(err))) {
		check_fail("metrics_socket %s", err);
		return false;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		check_fail("metrics_socket %s: cannot connect: %s (is dnsguard running?)", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	int len = snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nUser-Agent: " CHECK_PROGRAM "\r\n\r\n", path);
	if (send(fd, request, (size_t)len, MSG_NOSIGNAL) != len) {
		check_fail("metrics_socket %s: cannot send: %s", spec, strerror(errno));
		close(fd);
		return false;
	}
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		unsigned ms = monotonic_ms_between(monotonic_now(), deadline);
		if (ms == 0 || poll(&pfd, 1, (int)ms) <= 0) {
			check_fail("metrics_socket %s: no whole answer within %d ms", spec, STATS_TIMEOUT_MS);
			close(fd);
			return false;
		}
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		strbuf_append_len(&out->text, chunk, (size_t)n);
	}
	close(fd);
	const char *text = strbuf_text(&out->text), *end = strstr(text, "\r\n\r\n");
	if (strbuf_truncated(&out->text) || sscanf(text, "HTTP/1.%*1[01] %3u", &out->status) != 1 || !end) {
		check_fail("metrics_socket %s: not an HTTP answer from dnsguard", spec);
		return false;
	}
	out->body = end + 4;
	return true;
}

/* ---- reading the exposition ------------------------------------------------------------------ */

/* One sample line: name, its labels (still escaped, without braces) and value. */
struct sample {
	char name[128];
	char labels[512];
	char value[64];
};

static bool parse_sample(const char *line, size_t len, struct sample *s)
{
	size_t name = strcspn(line, "{ ");
	const char *p = line + name, *end = line + len;

	if (name == 0 || name >= sizeof(s->name) || p >= end)
		return false;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)name, line);
	s->labels[0] = '\0';
	if (*p == '{') {
		const char *q = p + 1;
		bool quoted = false;
		/* the closing brace outside quotes (values may hold an escaped quote or a brace) */
		for (; q < end && (quoted || *q != '}'); q++) {
			if (*q == '\\' && quoted && q + 1 < end)
				q++;
			else if (*q == '"')
				quoted = !quoted;
		}
		if (q >= end || (size_t)(q - p - 1) >= sizeof(s->labels))
			return false;
		snprintf(s->labels, sizeof(s->labels), "%.*s", (int)(q - p - 1), p + 1);
		p = q + 1;
	}
	while (p < end && *p == ' ')
		p++;
	if (p >= end || (size_t)(end - p) >= sizeof(s->value))
		return false;
	snprintf(s->value, sizeof(s->value), "%.*s", (int)(end - p), p);
	return true;
}

/* The labels as a JSON object, values unescaped. */
static json_t *labels_json(const char *labels)
{
	json_t *obj = json_object();
	const char *p = labels;

	while (*p) {
		size_t key = strcspn(p, "=");
		char k[128], v[512];
		size_t n = 0;
		if (p[key] != '=' || p[key + 1] != '"' || key >= sizeof(k))
			break;
		snprintf(k, sizeof(k), "%.*s", (int)key, p);
		for (p += key + 2; *p && *p != '"' && n + 1 < sizeof(v); p++) {
			if (*p == '\\' && p[1]) {
				p++;
				v[n++] = *p == 'n' ? '\n' : *p;
			} else {
				v[n++] = *p;
			}
		}
		v[n] = '\0';
		json_object_set_new(obj, k, json_string(v));
		p += *p == '"';
		p += *p == ',';
	}
	return obj;
}

/* Calls fn for every sample of the exposition, with its family's type. */
static void each_sample(const char *body, void (*fn)(void *arg, const struct sample *s, const char *type), void *arg)
{
	char type[32] = "untyped", family[128] = "";
	const char *p = body;

	while (*p) {
		size_t len = strcspn(p, "\n");
		struct sample s;
		if (strncmp(p, "# TYPE ", 7) == 0) {
			if (sscanf(p + 7, "%127s %31s", family, type) != 2)
				snprintf(type, sizeof(type), "untyped");
		} else if (p[0] != '#' && len > 0 && parse_sample(p, len, &s)) {
			fn(arg, &s, strncmp(s.name, family, strlen(family)) == 0 ? type : "untyped");
		}
		p += len + (p[len] ? 1 : 0);
	}
}

struct text_options {
	bool all;
	unsigned shown, hidden;
};

static void print_sample(void *arg, const struct sample *s, const char *type)
{
	struct text_options *o = arg;
	char name[700], *end;
	double value = strtod(s->value, &end);

	/* a counter or histogram that has not moved says nothing; a gauge's 0 does */
	if (!o->all && strcmp(type, "gauge") != 0 && *end == '\0' && value == 0) {
		o->hidden++;
		return;
	}
	snprintf(name, sizeof(name), "%s%s%s%s", s->name + (strncmp(s->name, "dnsguard_", 9) == 0 ? 9 : 0),
		 s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "");
	printf("  %-70s %s\n", name, s->value);
	o->shown++;
}

static void add_sample_json(void *arg, const struct sample *s, const char *type)
{
	json_t *sample = json_pack("{s:s, s:s, s:o}", "name", s->name, "type", type, "labels", labels_json(s->labels));
	char *end;
	double value = strtod(s->value, &end);

	json_object_set_new(sample, "value", *end == '\0' ? json_real(value) : json_string(s->value));
	json_array_append_new(arg, sample);
}

int check_stats(struct check_context *ctx, int argc, char **argv)
{
	const char *spec = ctx->rt->config->metrics_socket;
	bool raw = false, all = false, healthy;
	struct response health = {0}, metrics = {0};
	char reason[512];
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--raw") == 0)
			raw = true;
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			spec = argv[++i];
		else
			return check_fail("stats: unknown argument %s (stats [--all] [--raw] [--socket SPEC])", argv[i]);
	}
	if (!spec || !*spec)
		return check_fail("stats: metrics_socket is not set in %s (dnsguard.conf(5))", ctx->config_path);
	if (!http_get(spec, "/health", &health)) {
		strbuf_free(&health.text);
		return 2;
	}
	if (!http_get(spec, "/metrics", &metrics) || metrics.status != 200) {
		if (metrics.body)
			check_fail("metrics_socket %s: GET /metrics answered %u", spec, metrics.status);
		strbuf_free(&health.text);
		strbuf_free(&metrics.text);
		return 2;
	}
	healthy = health.status == 200;
	snprintf(reason, sizeof(reason), "%.*s", (int)strcspn(health.body, "\n"), health.body);
	rc = healthy ? 0 : 1;
	if (raw) {
		fputs(metrics.body, stdout);
	} else if (ctx->json) {
		json_t *doc = json_pack("{s:{s:b, s:i, s:s}, s:s, s:[]}", "health", "ok", healthy, "status",
					(int)health.status, "reason", reason, "socket", spec, "metrics");
		each_sample(metrics.body, add_sample_json, json_object_get(doc, "metrics"));
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		struct text_options o = {.all = all};
		printf("dnsguard at %s: %s\n", spec, healthy ? "healthy" : "NOT healthy");
		printf("  health: %u %s\n", health.status, reason);
		each_sample(metrics.body, print_sample, &o);
		if (o.hidden)
			printf("(%u counters still at 0 not shown: --all shows them)\n", o.hidden);
	}
	strbuf_free(&health.text);
	strbuf_free(&metrics.text);
	return rc;
}
