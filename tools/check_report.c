/*
 * check_report - findings as aligned text or one JSON document; see check_report.h.
 */
#include "check_report.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "printable.h"
#include "strbuf.h"

#define TEXT_MAX 4096

struct check_report {
	FILE *out;
	bool json, color;
	json_t *root, *sections, *section;	/* JSON: built whole, printed at the end */
	int status;
};

static const char *const severity_names[] = {"ok", "info", "warning", "problem"};
static const char *const severity_colors[] = {"\033[32m", "\033[36m", "\033[33m", "\033[1;31m"};

const char *check_severity_name(enum check_severity s)
{
	return (unsigned)s < sizeof(severity_names) / sizeof(severity_names[0]) ? severity_names[s] : "?";
}

/* Text for the terminal: printable, whatever the DNS or a peer put in it. */
static void put_text(FILE *out, const char *text)
{
	char storage[TEXT_MAX * 4];
	struct strbuf sb;

	strbuf_init(&sb, storage, sizeof(storage));
	printable_append(&sb, text, strlen(text), 0);
	fputs(strbuf_text(&sb), out);
}

/* JSON takes UTF-8 only: anything else is written as \xHH, as the badmail record does. */
static json_t *json_text(const char *text)
{
	char storage[TEXT_MAX * 4];
	struct strbuf sb;

	strbuf_init(&sb, storage, sizeof(storage));
	printable_append(&sb, text, strlen(text), PRINTABLE_LINES);
	return json_string(strbuf_text(&sb));
}

struct check_report *check_report_new(FILE *out, bool json, bool color, const char *command, const char *subject)
{
	struct check_report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->out = out;
	r->json = json;
	r->color = color && !json;
	if (json) {
		r->root = json_object();
		r->sections = json_array();
		json_object_set_new(r->root, "command", json_text(command));
		json_object_set_new(r->root, "subject", json_text(subject ? subject : ""));
		json_object_set_new(r->root, "sections", r->sections);
	}
	return r;
}

void check_report_section(struct check_report *r, const char *fmt, ...)
{
	char title[TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	if (r->json) {
		r->section = json_object();
		json_object_set_new(r->section, "title", json_text(title));
		json_object_set_new(r->section, "findings", json_array());
		json_array_append_new(r->sections, r->section);
		return;
	}
	fprintf(r->out, "%s", r->section ? "\n" : "");
	put_text(r->out, title);
	fputc('\n', r->out);
	r->section = (json_t *)r;	/* text: only "a section has begun" */
}

static void evidence_text(const struct check_evidence *ev, struct strbuf *sb)
{
	if (ev->server)
		strbuf_appendf(sb, "%s ", ev->server);
	if (ev->name && ev->type)
		strbuf_appendf(sb, "%s/%s ", ev->name, ev->type);
	else if (ev->name || ev->type)
		strbuf_appendf(sb, "%s ", ev->name ? ev->name : ev->type);
	if (ev->rcode)
		strbuf_appendf(sb, "%s ", ev->rcode);
	if (ev->transport)
		strbuf_appendf(sb, "%s ", ev->transport);
	if (ev->ms >= 0)
		strbuf_appendf(sb, "%d ms ", ev->ms);
}

static json_t *evidence_json(const struct check_evidence *ev)
{
	json_t *o = json_object();

	if (ev->server)
		json_object_set_new(o, "server", json_text(ev->server));
	if (ev->name)
		json_object_set_new(o, "name", json_text(ev->name));
	if (ev->type)
		json_object_set_new(o, "type", json_text(ev->type));
	if (ev->rcode)
		json_object_set_new(o, "rcode", json_text(ev->rcode));
	if (ev->transport)
		json_object_set_new(o, "transport", json_text(ev->transport));
	if (ev->ms >= 0)
		json_object_set_new(o, "ms", json_integer(ev->ms));
	return o;
}

static void severity_word(struct check_report *r, const char *word, const char *color)
{
	if (r->color)
		fprintf(r->out, "  %s%-8s\033[0m ", color, word);
	else
		fprintf(r->out, "  %-8s ", word);
}

void check_report_finding(struct check_report *r, enum check_severity severity, const char *code,
			  const struct check_evidence *ev, const char *fmt, ...)
{
	char text[TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (severity == CHECK_PROBLEM)
		r->status = 1;
	if (!r->section)
		check_report_section(r, "%s", "");
	if (r->json) {
		json_t *f = json_object();
		json_object_set_new(f, "severity", json_string(check_severity_name(severity)));
		json_object_set_new(f, "code", json_text(code));
		json_object_set_new(f, "text", json_text(text));
		if (ev)
			json_object_set_new(f, "evidence", evidence_json(ev));
		json_array_append_new(json_object_get(r->section, "findings"), f);
		return;
	}
	severity_word(r, check_severity_name(severity), severity_colors[severity]);
	put_text(r->out, text);
	fputc('\n', r->out);
	if (ev) {
		char storage[TEXT_MAX];
		struct strbuf sb;
		strbuf_init(&sb, storage, sizeof(storage));
		evidence_text(ev, &sb);
		if (strbuf_len(&sb)) {
			fputs("           [", r->out);
			fwrite(strbuf_text(&sb), 1, strbuf_len(&sb) - 1, r->out);
			fputs("]\n", r->out);
		}
	}
}

void check_report_verdict(struct check_report *r, const char *verdict, const char *fmt, ...)
{
	char text[TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!r->section)
		check_report_section(r, "%s", "");
	if (r->json) {
		json_object_set_new(r->section, "verdict", json_text(verdict));
		json_object_set_new(r->section, "verdict_text", json_text(text));
		return;
	}
	severity_word(r, "verdict", "\033[1m");
	put_text(r->out, verdict);
	fputs(": ", r->out);
	put_text(r->out, text);
	fputc('\n', r->out);
}

int check_report_finish(struct check_report *r)
{
	int status;

	if (!r)
		return 2;
	status = r->status;
	if (r->json) {
		json_object_set_new(r->root, "status", json_integer(status));
		json_dumpf(r->root, r->out, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		fputc('\n', r->out);
		json_decref(r->root);
	}
	fflush(r->out);
	free(r);
	return status;
}
