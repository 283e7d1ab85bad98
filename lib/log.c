/*
 * log - syslog plus optional stderr, with a level filter.
 *
 * syslog(3) is thread-safe in glibc; stderr lines are written with one fprintf under the stdio
 * lock so concurrent sessions never interleave within a line.  Lines longer than the buffer are
 * cut and marked with "...", never split.  Whatever a caller formats, a control byte, DEL or
 * 8-bit byte never reaches syslog or stderr raw: it is written as \xHH.  Values from peers are
 * escaped (and quoted) by strbuf_append_kv already; this is the net under every other line.
 */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#define LOG_LINE_MAX 4096

static atomic_int current_level = LOG_LEVEL_INFO;
static atomic_bool to_stderr;

static const struct {
	const char *name;
	int syslog_priority;
} levels[] = {
	[LOG_LEVEL_ERROR] = {"error", LOG_ERR},
	[LOG_LEVEL_WARNING] = {"warning", LOG_WARNING},
	[LOG_LEVEL_NOTICE] = {"notice", LOG_NOTICE},
	[LOG_LEVEL_INFO] = {"info", LOG_INFO},
	[LOG_LEVEL_DEBUG] = {"debug", LOG_DEBUG},
};

static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
	{"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
	{"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

void log_open(int facility, bool also_stderr)
{
	openlog("dnsguard", LOG_PID | LOG_NDELAY, facility);
	atomic_store(&to_stderr, also_stderr);
}

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, (int)level);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&current_level);
}

void log_set_stderr(bool also_stderr)
{
	atomic_store(&to_stderr, also_stderr);
}

void log_close(void)
{
	closelog();
}

static bool plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* Copies `line` into `out` with every byte that is not printable ASCII as \xHH; returns `out`,
 * or `line` itself when it is plain already (the usual case: no copy). */
static const char *escape_line(const char *line, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t o = 0;

	while (*p && plain_byte(*p))
		p++;
	if (!*p)
		return line;
	for (p = (const unsigned char *)line; *p; p++) {
		if (o + 5 >= size) {
			memcpy(out + (o < size - 4 ? o : size - 4), "...", 4);
			return out;
		}
		if (plain_byte(*p))
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", *p);
	}
	out[o] = '\0';
	return out;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], escaped[LOG_LINE_MAX];
	const char *text;
	int n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	text = escape_line(line, escaped, sizeof(escaped));
	/* Like Postfix, trouble says so in the text itself, where grep sees it. */
	const char *tag = level <= LOG_LEVEL_WARNING ? levels[level].name : "";
	const char *sep = level <= LOG_LEVEL_WARNING ? ": " : "";

	syslog(levels[level].syslog_priority, "%s%s%s", tag, sep, text);
	if (atomic_load(&to_stderr)) {
		struct timespec now;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &now);
		localtime_r(&now.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		fprintf(stderr, "%s dnsguard: %s%s%s\n", stamp, tag, sep, text);
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

const char *log_level_name(enum log_level level)
{
	return levels[level].name;
}

bool log_level_from_name(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(name, levels[i].name) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	return false;
}

bool log_facility_from_name(const char *name, int *out)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0) {
			*out = facilities[i].facility;
			return true;
		}
	return false;
}
