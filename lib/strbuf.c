/*
 * strbuf - bounded string builder; see strbuf.h.
 *
 * Allocation failure while growing is treated like reaching the maximum: the text is cut and
 * marked truncated, so callers on a milter callback never have to handle a second error path.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *sb, char *storage, size_t size)
{
	sb->data = storage;
	sb->cap = size;
	sb->max = size ? size - 1 : 0;
	sb->len = 0;
	sb->owned = false;
	sb->truncated = false;
	if (size)
		storage[0] = '\0';
}

void strbuf_init_heap(struct strbuf *sb, size_t max)
{
	sb->data = NULL;
	sb->cap = 0;
	sb->max = max;
	sb->len = 0;
	sb->owned = true;
	sb->truncated = false;
}

void strbuf_free(struct strbuf *sb)
{
	if (sb->owned)
		free(sb->data);
	sb->data = NULL;
	sb->cap = sb->len = 0;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->truncated = false;
	if (sb->data)
		sb->data[0] = '\0';
}

/* Makes room for `want` more bytes if it can; returns how many fit. */
static size_t reserve(struct strbuf *sb, size_t want)
{
	size_t room_to_max = sb->max - sb->len;

	if (want > room_to_max)
		want = room_to_max;
	if (sb->len + want + 1 > sb->cap && sb->owned) {
		size_t cap = sb->cap ? sb->cap : 64;
		char *grown;

		while (cap < sb->len + want + 1)
			cap *= 2;
		if (cap > sb->max + 1)
			cap = sb->max + 1;
		grown = realloc(sb->data, cap);
		if (grown) {
			sb->data = grown;
			sb->cap = cap;
		}
	}
	if (sb->cap == 0)
		return 0;
	if (sb->len + want + 1 > sb->cap)
		want = sb->cap - 1 - sb->len;
	return want;
}

void strbuf_append_len(struct strbuf *sb, const char *text, size_t len)
{
	size_t fit = reserve(sb, len);

	if (fit < len)
		sb->truncated = true;
	if (sb->cap == 0)
		return;
	memcpy(sb->data + sb->len, text, fit);
	sb->len += fit;
	sb->data[sb->len] = '\0';
}

void strbuf_append(struct strbuf *sb, const char *text)
{
	strbuf_append_len(sb, text, strlen(text));
}

void strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		strbuf_append_len(sb, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		sb->truncated = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	strbuf_append_len(sb, big, (size_t)n);
	free(big);
}

static bool needs_quotes(const char *value)
{
	if (*value == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '=')
			return true;
	return false;
}

void strbuf_append_kv(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_appendf(sb, " %s=", key);
	if (!value)
		value = "";
	if (!needs_quotes(value)) {
		strbuf_append(sb, value);
		return;
	}
	strbuf_append(sb, "\"");
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_appendf(sb, "\\%c", *p);
		else if (*p < ' ' || *p >= 0x7f)
			strbuf_appendf(sb, "\\x%02x", *p);
		else
			strbuf_append_len(sb, (const char *)p, 1);
	}
	strbuf_append(sb, "\"");
}

const char *strbuf_text(const struct strbuf *sb)
{
	return sb->data ? sb->data : "";
}

size_t strbuf_len(const struct strbuf *sb)
{
	return sb->len;
}

bool strbuf_truncated(const struct strbuf *sb)
{
	return sb->truncated;
}
