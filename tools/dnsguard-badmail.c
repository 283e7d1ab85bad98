/*
 * dnsguard-badmail - the admin's command for the badmail store: list, show, release, delete and
 * purge the messages dnsguard diverted.
 *
 * A thin front end over lib/: the store (badmail_store.h) holds the entries, the record
 * (badmail_record.h) says why each was diverted, submit.h re-injects a released message, and
 * privileges.h makes the command the user the daemon runs as, whose store it is.  It is safe
 * beside the running daemon and its NDR worker: it reads entries, replaces a record whole, and
 * removes an entry by one rename out of entries/.  Whatever a client chose (addresses, HELO, the
 * message) reaches the terminal through printable.h, so it can neither act on the terminal nor
 * forge a line.  Every error is one line "dnsguard-badmail: what: why" on stderr and exit status
 * 1, with nothing changed; usage errors are found before the config or the store is touched.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "badmail_record.h"
#include "badmail_store.h"
#include "config.h"
#include "ndr.h"
#include "printable.h"
#include "privileges.h"
#include "strbuf.h"
#include "submit.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define PROGRAM "dnsguard-badmail"
#define RECORD_MAX (1024 * 1024)	/* as the NDR worker reads records */
#define RELEASE_TIMEOUT_MS 60000	/* one submission, as the NDR worker allows it */
#define LINE_MAX_BYTES (256 * 1024)	/* one line of output, whatever a record holds */

enum command { COMMAND_LIST, COMMAND_SHOW, COMMAND_RELEASE, COMMAND_DELETE, COMMAND_PURGE };

struct command_line {
	const char *config_path;
	enum command command;
	const char *id;
	bool json, message, force, dry_run;
	const char *older_than;
	unsigned long long older_than_ms;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROGRAM " [-c CONFIG] COMMAND [ARGUMENTS]\n"
		"\n"
		"The messages dnsguard diverted (badmail_dir in dnsguard.conf), see dnsguard-badmail(8):\n"
		"  list [--json]                         every entry, oldest first\n"
		"  show ID [--json | --message]          why it was diverted, its NDR, when released\n"
		"  release ID [--force]                  re-inject the message to its diverted recipients\n"
		"  delete ID                             remove the entry\n"
		"  purge --older-than DURATION [--dry-run]\n"
		"                                        remove entries older than e.g. 30d, 12h, 90m, 3600s\n"
		"\n"
		"  -c CONFIG   dnsguard's config (default " CONFIG_DEFAULT_PATH ")\n"
		"  -h, --help  this text;  -V, --version  the version\n");
}

/* ---- messages --------------------------------------------------------------------------------- */

/* One line on stderr, "dnsguard-badmail: ...", for the caller to return 1 after. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROGRAM ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROGRAM ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (" PROGRAM " --help shows the usage)\n", stderr);
	return 1;
}

/* `text` made printable into buf: for what an admin typed or a client sent, in a message. */
static const char *shown(const char *text, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	printable_append(&sb, text, strlen(text), 0);
	return buf;
}

/* Appends a value a client may have chosen to a line of output. */
static void put(struct strbuf *line, const char *value)
{
	printable_append(line, value, strlen(value), 0);
}

/* Writes the line and empties it. */
static void emit(struct strbuf *line)
{
	fwrite(strbuf_text(line), 1, strbuf_len(line), stdout);
	fputc('\n', stdout);
	strbuf_reset(line);
}

/* ---- the command line -------------------------------------------------------------------------- */

static const struct {
	const char *name;
	enum command command;
	bool takes_id;
	const char *options;	/* the ones it takes, each between spaces */
} commands[] = {
	{"list", COMMAND_LIST, false, " --json "},
	{"show", COMMAND_SHOW, true, " --json --message "},
	{"release", COMMAND_RELEASE, true, " --force "},
	{"delete", COMMAND_DELETE, true, " "},
	{"purge", COMMAND_PURGE, false, " --older-than --dry-run "},
};

static bool command_takes(size_t c, const char *option)
{
	const char *at = strstr(commands[c].options, option);
	size_t n = strlen(option);

	return n && at && at[-1] == ' ' && at[n] == ' ';
}

/* 0 to go on; 1 after a usage error; -1 after --help or --version (exit 0). */
static int parse_command_line(int argc, char **argv, struct command_line *cl)
{
	char buf[256];
	size_t c;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-c") == 0) {
			if (++i == argc)
				return usage_error("-c: expected the config file after it");
			cl->config_path = argv[i];
		} else if (strncmp(a, "-c", 2) == 0) {
			cl->config_path = a + 2;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return -1;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf(PROGRAM " %s\n", PACKAGE_VERSION);
			return -1;
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else {
			return usage_error("unknown option %s", shown(a, buf, sizeof(buf)));
		}
	}
	if (i == argc)
		return usage_error("no command given (list, show, release, delete or purge)");
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			break;
	if (c == sizeof(commands) / sizeof(commands[0]))
		return usage_error("unknown command %s (list, show, release, delete or purge)",
				   shown(argv[i], buf, sizeof(buf)));
	cl->command = commands[c].command;
	for (i++; i < argc; i++) {
		const char *a = argv[i], *value = NULL;
		char option[64];

		if (a[0] != '-' || a[1] == '\0') {
			if (!commands[c].takes_id || cl->id)
				return usage_error("%s: unexpected argument %s", commands[c].name, shown(a, buf, sizeof(buf)));
			cl->id = a;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return -1;
		}
		/* --older-than=30d or --older-than 30d */
		size_t n = strcspn(a, "=");
		if (n >= sizeof(option))
			return usage_error("%s: unknown option %s", commands[c].name, shown(a, buf, sizeof(buf)));
		memcpy(option, a, n);
		option[n] = '\0';
		if (a[n] == '=')
			value = a + n + 1;
		if (!command_takes(c, option) || (value && strcmp(option, "--older-than") != 0))
			return usage_error("%s: unknown option %s", commands[c].name, shown(a, buf, sizeof(buf)));
		if (strcmp(option, "--json") == 0)
			cl->json = true;
		else if (strcmp(option, "--message") == 0)
			cl->message = true;
		else if (strcmp(option, "--force") == 0)
			cl->force = true;
		else if (strcmp(option, "--dry-run") == 0)
			cl->dry_run = true;
		else if (strcmp(option, "--older-than") == 0) {
			if (!value && ++i == argc)
				return usage_error("purge: --older-than: expected a duration such as 30d, 12h, 90m or 3600s");
			cl->older_than = value ? value : argv[i];
		}
	}
	if (commands[c].takes_id && !cl->id)
		return usage_error("%s: expected the id of an entry (as list shows it)", commands[c].name);
	if (cl->id && !badmail_id_valid(cl->id))
		return fail("%s: not an entry id (expected YYYYMMDDThhmmss-, then 16 hex digits, as list shows it)",
			    shown(cl->id, buf, sizeof(buf)));
	if (cl->json && cl->message)
		return usage_error("show: --json and --message: choose one");
	if (cl->command == COMMAND_PURGE) {
		if (!cl->older_than)
			return usage_error("purge: --older-than DURATION is required (e.g. 30d)");
		if (!config_parse_duration_ms(cl->older_than, &cl->older_than_ms))
			return usage_error("purge: --older-than %s: expected a duration such as 30d, 12h, 90m or 3600s",
					   shown(cl->older_than, buf, sizeof(buf)));
	}
	return 0;
}

/* ---- the config, the user, the store ------------------------------------------------------------ */

static struct config *load_config(const char *path)
{
	struct strbuf errors;
	struct config *config;

	strbuf_init_heap(&errors, 65536);
	config = config_load(path, false, &errors);
	if (!config) {
		/* one line per problem, as dnsguard -n prints them */
		const char *text = strbuf_text(&errors);
		while (*text) {
			size_t n = strcspn(text, "\n");
			fprintf(stderr, PROGRAM ": %.*s\n", (int)n, text);
			text += n + (text[n] == '\n');
		}
	}
	strbuf_free(&errors);
	return config;
}

static const char *switched_to;	/* the user become, for the messages */

/* Started as root with a user in the config: become that user, as the daemon does, since the
 * store is that user's and refuses anyone else.  Otherwise stay as is. */
static bool become_user(const struct config *config)
{
	struct strbuf errors;
	char err[512];
	uid_t uid;
	gid_t gid;
	bool ok;

	if (geteuid() != 0 || !config->user[0])
		return true;
	strbuf_init_heap(&errors, 4096);
	ok = privileges_lookup(config->user, config->group, config->source, &uid, &gid, &errors);
	if (!ok)
		fail("%.*s", (int)strcspn(strbuf_text(&errors), "\n"), strbuf_text(&errors));
	strbuf_free(&errors);
	if (ok && privileges_switch(config->user, uid, gid, err, sizeof(err)) != 0) {
		fail("%s", err);
		ok = false;
	}
	switched_to = ok ? config->user : NULL;
	return ok;
}

static struct badmail_store *open_store(const struct config *config)
{
	struct badmail_limits limits = {.max_bytes = config->badmail_max_size,
					.max_entries = config->badmail_max_entries};
	struct badmail_store *store;
	struct stat st;
	char err[512];

	/* opening makes a missing store: a command that only looks must not */
	if (lstat(config->badmail_dir, &st) != 0) {
		if (errno == ENOENT)
			fail("badmail_dir %s: does not exist (dnsguard makes it when a policy rule diverts)",
			     config->badmail_dir);
		else
			fail("badmail_dir %s: %s", config->badmail_dir, strerror(errno));
		return NULL;
	}
	/* never clean tmp/: the running daemon's sessions write their entries there */
	store = badmail_store_open(config->badmail_dir, &limits, false, err, sizeof(err));
	if (!store)
		fail("badmail_dir: %s%s%s%s", err, switched_to ? " (as user " : "", switched_to ? switched_to : "",
		     switched_to ? ", as dnsguard runs)" : "");
	return store;
}

/* ---- reading entries ------------------------------------------------------------------------------ */

struct id_list {
	char (*ids)[BADMAIL_ID_SIZE];
	size_t count, cap;
};

static int collect_id(const char *id, void *arg)
{
	struct id_list *list = arg;

	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		void *grown = realloc(list->ids, cap * sizeof(*list->ids));
		if (!grown)
			return 1;	/* out of memory */
		list->ids = grown;
		list->cap = cap;
	}
	memcpy(list->ids[list->count++], id, BADMAIL_ID_SIZE);
	return 0;
}

static bool collect_ids(struct badmail_store *store, struct id_list *list)
{
	char err[512];
	int rc = badmail_store_each(store, collect_id, list, err, sizeof(err));

	if (rc < 0)
		fail("badmail_dir: %s", err);
	else if (rc > 0)
		fail("out of memory");
	return rc == 0;
}

/* The entry's record, raw and parsed.  -1 with the reason in err (ENOENT: no such entry). */
static int read_record(struct badmail_store *store, const char *id, char **json, size_t *len,
		       struct badmail_record_parsed *record, char *err, size_t errlen)
{
	*json = badmail_store_read_file(store, id, "record.json", RECORD_MAX, len, err, errlen);
	memset(record, 0, sizeof(*record));
	if (!*json)
		return -1;
	if (badmail_record_parse(*json, *len, record, err, errlen) != 0) {
		free(*json);
		*json = NULL;
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Whether entry `id` is there at all (its directory in entries/). */
static bool entry_exists(struct badmail_store *store, const char *id)
{
	char err[256];
	int fd = badmail_store_open_file(store, id, "message", err, sizeof(err));

	if (fd >= 0) {
		close(fd);
		return true;
	}
	/* the entry's directory may hold no message (an entry a newer dnsguard wrote, or damaged) */
	fd = badmail_store_open_file(store, id, "record.json", err, sizeof(err));
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int no_such_entry(struct badmail_store *store, const char *id, const char *err)
{
	if (!entry_exists(store, id))
		return fail("%s: no such entry", id);
	return fail("%s: the record cannot be read: %s", id, err);
}

/* ---- list ------------------------------------------------------------------------------------------ */

struct row {
	char *cells[5];
};
enum { COLUMN_ID, COLUMN_TIME, COLUMN_SENDER, COLUMN_RECIPIENTS, COLUMN_NDR, COLUMNS };

/* Characters a terminal shows for escaped UTF-8: one per sequence. */
static size_t display_width(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

/* A cell of the table: `prefix` and `suffix` are ours, `value` a client's, made printable. */
static char *cell(const char *prefix, const char *value, const char *suffix)
{
	struct strbuf sb;
	char *copy;

	strbuf_init_heap(&sb, LINE_MAX_BYTES);
	strbuf_append(&sb, prefix);
	put(&sb, value);
	strbuf_append(&sb, suffix);
	copy = strdup(strbuf_text(&sb));
	strbuf_free(&sb);
	return copy;
}

static void fill_row(struct row *row, const char *id, const struct badmail_record_parsed *r, const char *err)
{
	char extra[64];

	row->cells[COLUMN_ID] = strdup(id);
	if (err) {
		row->cells[COLUMN_TIME] = strdup("-");
		row->cells[COLUMN_SENDER] = strdup("-");
		row->cells[COLUMN_RECIPIENTS] = strdup("-");
		row->cells[COLUMN_NDR] = cell("record unreadable: ", err, "");
		return;
	}
	row->cells[COLUMN_TIME] = cell("", r->time, "");
	row->cells[COLUMN_SENDER] = cell("<", r->sender, ">");
	if (r->recipient_count == 0) {
		row->cells[COLUMN_RECIPIENTS] = strdup("none");
	} else {
		extra[0] = '\0';
		if (r->recipient_count > 1)
			snprintf(extra, sizeof(extra), " (+%zu)", r->recipient_count - 1);
		row->cells[COLUMN_RECIPIENTS] = cell("", r->recipients[0].address, extra);
	}
	snprintf(extra, sizeof(extra), "%s%s", badmail_ndr_status_name(r->ndr), r->released ? ", released" : "");
	row->cells[COLUMN_NDR] = strdup(extra);
}

static json_t *list_object(const char *id, const struct badmail_record_parsed *r, const char *err)
{
	json_t *o = json_object(), *rcpts;

	json_object_set_new(o, "id", json_string(id));
	if (err) {
		json_object_set_new(o, "error", json_string(err));
		return o;
	}
	json_object_set_new(o, "time", json_string(r->time));
	json_object_set_new(o, "queue_id", json_string(r->queue_id));
	json_object_set_new(o, "sender", json_string(r->sender));
	rcpts = json_array();
	for (size_t i = 0; i < r->recipient_count; i++)
		json_array_append_new(rcpts, json_string(r->recipients[i].address));
	json_object_set_new(o, "recipients", rcpts);
	json_object_set_new(o, "ndr", json_string(badmail_ndr_status_name(r->ndr)));
	json_object_set_new(o, "released", r->released ? json_string(r->released_time) : json_null());
	return o;
}

/* JSON for a terminal or a script alike: every non-ASCII and control character as \uXXXX. */
static void print_json(json_t *value)
{
	json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
}

static int command_list(struct badmail_store *store, const struct command_line *cl)
{
	struct id_list ids = {0};
	struct row *rows = NULL;
	json_t *array = NULL;
	size_t width[COLUMNS] = {0};
	static const char *const titles[COLUMNS] = {"ID", "TIME", "SENDER", "RECIPIENTS", "NDR"};
	struct strbuf line;
	int rc = 0;

	if (!collect_ids(store, &ids))
		return 1;
	if (cl->json)
		array = json_array();
	else if (ids.count && !(rows = calloc(ids.count, sizeof(*rows))))
		rc = fail("out of memory");
	for (size_t i = 0; rc == 0 && i < ids.count; i++) {
		struct badmail_record_parsed record;
		char err[512], *json;
		size_t len;
		bool broken = read_record(store, ids.ids[i], &json, &len, &record, err, sizeof(err)) != 0;

		if (broken && !entry_exists(store, ids.ids[i])) {
			/* deleted since the directory was read */
			if (rows)
				rows[i].cells[0] = NULL;
			continue;
		}
		if (array)
			json_array_append_new(array, list_object(ids.ids[i], &record, broken ? err : NULL));
		else
			fill_row(&rows[i], ids.ids[i], &record, broken ? err : NULL);
		badmail_record_parsed_free(&record);
		free(json);
	}
	if (array) {
		if (rc == 0)
			print_json(array);
		json_decref(array);
	} else if (rc == 0) {
		for (size_t c = 0; c < COLUMNS; c++)
			width[c] = strlen(titles[c]);
		for (size_t i = 0; i < ids.count; i++)
			for (size_t c = 0; c < COLUMNS && rows[i].cells[0]; c++)
				if (rows[i].cells[c] && display_width(rows[i].cells[c]) > width[c])
					width[c] = display_width(rows[i].cells[c]);
		strbuf_init_heap(&line, 5 * LINE_MAX_BYTES);
		for (size_t i = 0; i <= ids.count; i++) {
			if (i > 0 && !rows[i - 1].cells[0])
				continue;
			for (size_t c = 0; c < COLUMNS; c++) {
				const char *text = i == 0 ? titles[c] : rows[i - 1].cells[c] ? rows[i - 1].cells[c] : "?";
				strbuf_append(&line, text);
				if (c + 1 < COLUMNS)
					strbuf_appendf(&line, "%*s", (int)(width[c] - display_width(text) + 2), "");
			}
			emit(&line);
		}
		strbuf_free(&line);
	}
	for (size_t i = 0; rows && i < ids.count; i++)
		for (size_t c = 0; c < COLUMNS; c++)
			free(rows[i].cells[c]);
	free(rows);
	free(ids.ids);
	return rc;
}

/* ---- show ------------------------------------------------------------------------------------------ */

/* Copies an entry's file to stdout: as it is into a file or a pipe, made printable on a terminal. */
static int print_file(struct badmail_store *store, const char *id, const char *name)
{
	char err[512], chunk[65536];
	bool terminal = isatty(STDOUT_FILENO);
	size_t held = 0;
	struct strbuf out;
	int fd = badmail_store_open_file(store, id, name, err, sizeof(err));

	if (fd < 0)
		return errno == ENOENT && !entry_exists(store, id) ? fail("%s: no such entry", id) : fail("%s", err);
	strbuf_init_heap(&out, 4 * sizeof(chunk) + 64);
	for (;;) {
		ssize_t n = read(fd, chunk + held, sizeof(chunk) - held);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			strbuf_free(&out);
			return fail("%s/%s: %s", id, name, strerror(errno));
		}
		if (!terminal) {
			fwrite(chunk, 1, (size_t)n, stdout);
			if (n == 0)
				break;
			continue;
		}
		size_t have = held + (size_t)n;
		size_t used = printable_append(&out, chunk, have, PRINTABLE_LINES | (n ? PRINTABLE_MORE : 0));
		fwrite(strbuf_text(&out), 1, strbuf_len(&out), stdout);
		strbuf_reset(&out);
		held = have - used;
		memmove(chunk, chunk + used, held);
		if (n == 0)
			break;
	}
	close(fd);
	strbuf_free(&out);
	return fflush(stdout) == 0 ? 0 : fail("writing: %s", strerror(errno));
}

/* "message (1234 bytes)", or nothing when the entry has no such file. */
static void describe_file(struct badmail_store *store, const char *id, const char *name, struct strbuf *line)
{
	char err[256];
	struct stat st;
	int fd = badmail_store_open_file(store, id, name, err, sizeof(err));

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0)
		strbuf_appendf(line, "%s%s (%lld bytes)", strbuf_len(line) > 13 ? ", " : "", name, (long long)st.st_size);
	close(fd);
}

static void field(struct strbuf *line, const char *label, const char *value)
{
	strbuf_appendf(line, "%-13s", label);
	put(line, value);
	emit(line);
}

static void show_recipient(struct strbuf *line, const struct badmail_parsed_recipient *r)
{
	enum policy_outcome outcome;
	const char *phrase = policy_outcome_from_name(r->outcome, &outcome) ? ndr_outcome_phrase(outcome) : NULL;

	strbuf_append(line, "  <");
	put(line, r->address);
	strbuf_append(line, ">");
	emit(line);

	/* "recipient check: nx.example not found (outcome nxdomain), rule apps-divert: divert" */
	strbuf_appendf(line, "    %-9s", "why:");
	put(line, r->check[0] ? r->check : "a");
	strbuf_append(line, " check: ");
	put(line, r->name[0] ? r->name : "the name");
	strbuf_append(line, " ");
	strbuf_append(line, phrase ? phrase : "failed");
	strbuf_append(line, " (outcome ");
	put(line, r->outcome[0] ? r->outcome : "not recorded");
	strbuf_append(line, "), rule ");
	put(line, r->rule[0] ? r->rule : "(none)");
	strbuf_append(line, ": ");
	put(line, r->action[0] ? r->action : "divert");
	emit(line);
	if (r->reply[0]) {
		strbuf_appendf(line, "    %-9s", "reply:");
		put(line, r->reply);
		emit(line);
	}
	if (r->cause[0]) {
		strbuf_appendf(line, "    %-9s", "cause:");
		put(line, r->cause);
		emit(line);
	}
	if (r->has_dns) {
		/* "nx.example./MX: NXDOMAIN (nxdomain) in 31 ms over udp-tcp, TTL 900" */
		strbuf_appendf(line, "    %-9s", "DNS:");
		put(line, r->dns.q);
		strbuf_append(line, ": ");
		put(line, r->dns.rcode[0] ? r->dns.rcode : "no answer");
		strbuf_append(line, " (");
		put(line, r->dns.outcome);
		strbuf_append(line, ")");
		if (r->dns.ms >= 0)
			strbuf_appendf(line, " in %lld ms", r->dns.ms);
		if (r->dns.transport[0]) {
			strbuf_append(line, " over ");
			put(line, r->dns.transport);
		}
		if (r->dns.ttl >= 0)
			strbuf_appendf(line, ", TTL %lld", r->dns.ttl);
		if (r->dns.dnssec[0]) {
			strbuf_append(line, ", DNSSEC ");
			put(line, r->dns.dnssec);
		}
		if (r->dns.cause[0]) {
			strbuf_append(line, ", cause ");
			put(line, r->dns.cause);
		}
		if (r->dns.why_bogus[0]) {
			strbuf_append(line, ", bogus: ");
			put(line, r->dns.why_bogus);
		}
		emit(line);
	}
}

static void show_ndr(struct strbuf *line, const struct badmail_record_parsed *r)
{
	strbuf_appendf(line, "%-13s", "NDR:");
	switch (r->ndr) {
	case BADMAIL_NDR_PENDING:
		strbuf_append(line, "pending: the running dnsguard's NDR worker sends it");
		break;
	case BADMAIL_NDR_SUBMITTED:
		strbuf_append(line, "submitted to the MTA");
		break;
	case BADMAIL_NDR_STORED:
		strbuf_append(line, "stored in the entry, not sent");
		break;
	case BADMAIL_NDR_NONE:
		strbuf_append(line, "none generated");
		break;
	}
	if (r->ndr_time[0]) {
		strbuf_append(line, " at ");
		put(line, r->ndr_time);
	}
	if (r->ndr_detail[0]) {
		strbuf_append(line, ": ");
		put(line, r->ndr_detail);
	}
	emit(line);
}

static int command_show(struct badmail_store *store, const struct command_line *cl)
{
	struct badmail_record_parsed r;
	char err[512], *json;
	struct strbuf line;
	size_t len;

	if (cl->message)
		return print_file(store, cl->id, "message");
	if (cl->json)
		return print_file(store, cl->id, "record.json");
	if (read_record(store, cl->id, &json, &len, &r, err, sizeof(err)) != 0)
		return no_such_entry(store, cl->id, err);
	strbuf_init_heap(&line, LINE_MAX_BYTES);
	field(&line, "entry:", cl->id);
	field(&line, "diverted:", r.time);
	if (r.queue_id[0])
		field(&line, "queue id:", r.queue_id);
	if (r.session[0])
		field(&line, "session:", r.session);
	strbuf_appendf(&line, "%-13s", "client:");
	put(&line, r.client_name[0] ? r.client_name : "unknown");
	strbuf_append(&line, " [");
	put(&line, r.client_address);
	strbuf_append(&line, "]");
	emit(&line);
	if (r.helo[0])
		field(&line, "helo:", r.helo);
	strbuf_appendf(&line, "%-13s<", "sender:");
	put(&line, r.sender);
	strbuf_append(&line, r.sender[0] ? ">" : "> (the null sender)");
	emit(&line);
	strbuf_appendf(&line, "%-13s%zu diverted", "recipients:", r.recipient_count);
	emit(&line);
	for (size_t i = 0; i < r.recipient_count; i++)
		show_recipient(&line, &r.recipients[i]);
	show_ndr(&line, &r);
	strbuf_appendf(&line, "%-13s", "released:");
	if (r.released) {
		put(&line, r.released_time);
		if (r.released_recipients >= 0)
			strbuf_appendf(&line, ", to %lld recipient%s", r.released_recipients,
				       r.released_recipients == 1 ? "" : "s");
	} else {
		strbuf_append(&line, "not yet");
	}
	emit(&line);
	strbuf_appendf(&line, "%-13s", "files:");
	describe_file(store, cl->id, "message", &line);
	describe_file(store, cl->id, "record.json", &line);
	describe_file(store, cl->id, "ndr", &line);
	emit(&line);
	strbuf_free(&line);
	badmail_record_parsed_free(&r);
	free(json);
	return fflush(stdout) == 0 ? 0 : fail("writing: %s", strerror(errno));
}

/* ---- release --------------------------------------------------------------------------------------- */

static int command_release(struct badmail_store *store, const struct config *config, const struct command_line *cl)
{
	struct badmail_record_parsed r;
	const char **to = NULL;
	char err[512], buf[1100], *json, *updated = NULL;
	size_t len, outlen;
	int fd = -1, rc = 1;

	if (read_record(store, cl->id, &json, &len, &r, err, sizeof(err)) != 0)
		return no_such_entry(store, cl->id, err);
	if (r.released && !cl->force) {
		fail("%s: already released at %s (--force releases it again)", cl->id,
		     shown(r.released_time, buf, sizeof(buf)));
		goto out;
	}
	if (r.recipient_count == 0) {
		fail("%s: the record names no diverted recipient to release to", cl->id);
		goto out;
	}
	if (r.sender[0] && !badmail_record_address_sendable(r.sender)) {
		fail("%s: the sender <%s> cannot be given to sendmail as it is (not plain ASCII)", cl->id,
		     shown(r.sender, buf, sizeof(buf)));
		goto out;
	}
	if (!(to = calloc(r.recipient_count, sizeof(*to)))) {
		fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < r.recipient_count; i++) {
		if (!badmail_record_address_sendable(r.recipients[i].address)) {
			fail("%s: the recipient <%s> cannot be given to sendmail as it is (not plain ASCII)", cl->id,
			     shown(r.recipients[i].address, buf, sizeof(buf)));
			goto out;
		}
		to[i] = r.recipients[i].address;
	}
	if ((fd = badmail_store_open_file(store, cl->id, "message", err, sizeof(err))) < 0) {
		fail("%s: the entry holds no message to release: %s", cl->id, err);
		goto out;
	}
	if (submit_message(config->sendmail_path, r.sender, to, r.recipient_count, fd, RELEASE_TIMEOUT_MS, err,
			   sizeof(err)) != 0) {
		fail("%s: not released: %s: %s", cl->id, config->sendmail_path, err);
		goto out;
	}
	updated = badmail_record_set_released(json, len, time(NULL), r.recipient_count, &outlen, err, sizeof(err));
	if (!updated || badmail_store_replace(store, cl->id, "record.json", updated, outlen, err, sizeof(err)) != 0) {
		fail("%s: released (the MTA took it), but the record could not say so: %s", cl->id, err);
		goto out;
	}
	printf("%s: released to %zu recipient%s from <%s>\n", cl->id, r.recipient_count,
	       r.recipient_count == 1 ? "" : "s", shown(r.sender, buf, sizeof(buf)));
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(updated);
	free(to);
	badmail_record_parsed_free(&r);
	free(json);
	return rc;
}

/* ---- delete and purge ------------------------------------------------------------------------------ */

static int command_delete(struct badmail_store *store, const struct command_line *cl)
{
	char err[512];

	if (badmail_store_delete(store, cl->id, err, sizeof(err)) != 0)
		return fail("%s", err);
	printf("%s: deleted\n", cl->id);
	return 0;
}

static int command_purge(struct badmail_store *store, const struct command_line *cl)
{
	unsigned long long age = cl->older_than_ms / 1000;
	time_t now = time(NULL), when;
	struct id_list ids = {0};
	size_t removed = 0;
	char err[512];
	int rc = 0;

	if (!collect_ids(store, &ids))
		return 1;
	for (size_t i = 0; i < ids.count; i++) {
		const char *id = ids.ids[i];
		if (!badmail_id_time(id, &when)) {
			fail("%s: its id names no real time: kept", id);
			rc = 1;
			continue;
		}
		if (when >= now || (unsigned long long)(now - when) <= age)
			break;	/* ids sort by time: the rest are younger */
		if (cl->dry_run) {
			printf("%s: would be deleted\n", id);
			removed++;
		} else if (badmail_store_delete(store, id, err, sizeof(err)) == 0) {
			removed++;
		} else if (errno != ENOENT) {	/* gone meanwhile: what purge wanted */
			fail("%s", err);
			rc = 1;
		}
	}
	printf("%zu entr%s older than %s %s\n", removed, removed == 1 ? "y" : "ies", cl->older_than,
	       cl->dry_run ? "would be deleted" : "deleted");
	free(ids.ids);
	return rc;
}

int main(int argc, char **argv)
{
	struct command_line cl = {.config_path = CONFIG_DEFAULT_PATH};
	struct badmail_store *store = NULL;
	struct config *config = NULL;
	int rc = parse_command_line(argc, argv, &cl);

	if (rc != 0)
		return rc < 0 ? 0 : 1;
	if (!(config = load_config(cl.config_path)) || !become_user(config) || !(store = open_store(config))) {
		config_free(config);
		return 1;
	}
	switch (cl.command) {
	case COMMAND_LIST:
		rc = command_list(store, &cl);
		break;
	case COMMAND_SHOW:
		rc = command_show(store, &cl);
		break;
	case COMMAND_RELEASE:
		rc = command_release(store, config, &cl);
		break;
	case COMMAND_DELETE:
		rc = command_delete(store, &cl);
		break;
	case COMMAND_PURGE:
		rc = command_purge(store, &cl);
		break;
	}
	if (fflush(stdout) != 0 && rc == 0)
		rc = fail("writing: %s", strerror(errno));
	badmail_store_close(store);
	config_free(config);
	return rc;
}
