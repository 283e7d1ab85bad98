/*
 * postfix_chroot - will a chrooted Postfix see dnsguard's unix sockets?  See postfix_chroot.h.
 *
 * Both files are read as Postfix reads them, as far as this question needs: a logical line is a
 * line and the lines after it that start with white space; '#' at the start of a line is a
 * comment.  master.cf's fields are service, type, private, unpriv, chroot, wakeup, maxproc and
 * command: only chroot and the command's name matter here.
 */
#include "postfix_chroot.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define LOGICAL_LINE_MAX 4096

/*
 * Copies the next logical line of `text` from *pos into line (continuations joined with a space,
 * comments skipped; a line too long is cut); false at the end of the text.
 */
static bool next_logical_line(const char *text, size_t *pos, char *line, size_t size)
{
	size_t len = 0;
	bool started = false;

	while (text[*pos]) {
		const char *start = text + *pos;
		size_t n = strcspn(start, "\n");
		bool continuation = n > 0 && (start[0] == ' ' || start[0] == '\t');
		bool comment = start[strspn(start, " \t")] == '#';
		bool blank = start[strspn(start, " \t")] == '\n' || start[strspn(start, " \t")] == '\0';

		if (started && !continuation && !comment && !blank)
			break;
		*pos += n + (start[n] ? 1 : 0);
		if (comment || blank)
			continue;
		if (!started && continuation)
			continue;	/* a continuation with nothing to continue */
		started = true;
		if (len > 0 && len + 1 < size)
			line[len++] = ' ';
		if (len + n >= size)
			n = size - 1 - len;
		memcpy(line + len, start, n);
		len += n;
	}
	line[len] = '\0';
	return started;
}

/* Splits line into at most max white-space-separated fields (in place); returns how many. */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		p += strspn(p, " \t\r");
		if (!*p)
			break;
		fields[n++] = p;
		p += strcspn(p, " \t\r");
		if (*p)
			*p++ = '\0';
	}
	return n;
}

bool postfix_main_cf_value(const char *main_cf, const char *name, char *value, size_t size)
{
	char line[LOGICAL_LINE_MAX];
	size_t pos = 0, name_len = strlen(name);
	bool found = false;

	while (next_logical_line(main_cf, &pos, line, sizeof(line))) {
		char *p = line;
		if (strncmp(p, name, name_len) != 0)
			continue;
		p += name_len;
		p += strspn(p, " \t");
		if (*p != '=')
			continue;
		p++;
		p += strspn(p, " \t");
		size_t len = strlen(p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len == 0 || len >= size || memchr(p, '$', len)) {
			found = false;
			continue;
		}
		memcpy(value, p, len);
		value[len] = '\0';
		found = true;
	}
	return found;
}

static const char *const milter_programs[] = {"smtpd", "cleanup", NULL};
static const char *const route_programs[] = {"trivial-rewrite", NULL};

/* The index of `program` in the NULL-terminated list `programs`, or -1. */
static int program_index(const char *program, const char *const *programs)
{
	for (int i = 0; programs[i]; i++)
		if (strcmp(program, programs[i]) == 0)
			return i;
	return -1;
}

/* Is `path` the queue directory itself or below it ("/var/spool/postfix/" + something)? */
static bool under_directory(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	return strncmp(path, dir, len) == 0 && path[len] == '/' && path[len + 1] != '\0';
}

bool postfix_chroot_check(const char *key, const char *spec, enum postfix_socket_client client,
			  const char *queue_directory, const char *master_cf, struct strbuf *warnings)
{
	const char *const *programs = client == POSTFIX_CLIENT_MILTER ? milter_programs : route_programs;
	const char *path;
	char line[LOGICAL_LINE_MAX], chrooted[256] = "";
	bool found[2] = {false, false};	/* per program, in the order of `programs` */
	size_t pos = 0, count = 0;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else
		return false;
	if (under_directory(path, queue_directory))
		return false;
	while (next_logical_line(master_cf, &pos, line, sizeof(line))) {
		char *fields[8];
		if (split_fields(line, fields, 8) < 8 || strcmp(fields[4], "y") != 0)
			continue;
		int i = program_index(fields[7], programs);
		if (i >= 0)
			found[i] = true;
	}
	/* named in a fixed order, whatever master.cf's */
	for (size_t i = 0; programs[i]; i++) {
		if (!found[i])
			continue;
		size_t used = strlen(chrooted);
		snprintf(chrooted + used, sizeof(chrooted) - used, "%s%s", count ? " and " : "", programs[i]);
		count++;
	}
	if (count == 0)
		return false;
	strbuf_appendf(warnings,
		       "%s %s: Postfix runs %s chrooted in %s (master.cf), where this socket cannot be seen: put it "
		       "under %s (e.g. unix:%s/dnsguard/%s) and name it relative to that directory in main.cf "
		       "(unix:dnsguard/%s), or turn the chroot off for %s\n",
		       key, spec, chrooted, queue_directory, queue_directory, queue_directory,
		       client == POSTFIX_CLIENT_MILTER ? "milter.sock" : "route.sock",
		       client == POSTFIX_CLIENT_MILTER ? "milter.sock" : "route.sock", count > 1 ? "them" : "it");
	return true;
}
