/*
 * printable - client text made safe for a terminal; see printable.h.
 */
#include "printable.h"

#include <stdbool.h>
#include <stdio.h>

size_t printable_utf8_length(const unsigned char *p, size_t len)
{
	if (len == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return len >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		unsigned char lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
		return len >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		unsigned char lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
		return len >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* Whether the bytes at p could still become a well-formed sequence with more text after them. */
static bool unfinished(const unsigned char *p, size_t len)
{
	unsigned char padded[4] = {0x80, 0x80, 0x80, 0x80};
	size_t want = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;

	if (p[0] < 0xc2 || p[0] > 0xf4 || len >= want)
		return false;
	for (size_t i = 0; i < len; i++)
		padded[i] = p[i];
	/* the smallest continuation bytes may be out of range for the lead (E0 A0, F0 90): try both ends */
	if (printable_utf8_length(padded, want) == want)
		return true;
	for (size_t i = len; i < want; i++)
		padded[i] = 0xbf;
	return printable_utf8_length(padded, want) == want;
}

/* Sequences a terminal obeys: C1 controls, bidi embeddings and overrides (U+202A..U+202E) and
 * isolates (U+2066..U+2069), and the marks U+200E, U+200F. */
static bool acts_on_terminal(const unsigned char *p, size_t seq)
{
	if (seq == 2)
		return p[0] == 0xc2 && p[1] < 0xa0;
	if (seq == 3 && p[0] == 0xe2 && p[1] == 0x80)
		return p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae);
	if (seq == 3 && p[0] == 0xe2 && p[1] == 0x81)
		return p[2] >= 0xa6 && p[2] <= 0xa9;
	return false;
}

static void append_escaped(struct strbuf *sb, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strbuf_appendf(sb, "\\x%02x", p[i]);
}

size_t printable_append(struct strbuf *sb, const char *text, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, plain = 0;	/* plain: where the run of bytes that pass as they are began */

	while (i < len) {
		unsigned char c = p[i];
		size_t seq;

		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		if ((flags & PRINTABLE_LINES) && (c == '\n' || c == '\t')) {
			i++;
			continue;
		}
		if ((flags & PRINTABLE_LINES) && c == '\r' && i + 1 < len && p[i + 1] == '\n') {
			i += 2;
			continue;
		}
		if ((flags & PRINTABLE_MORE) &&
		    ((c == '\r' && (flags & PRINTABLE_LINES) && i + 1 == len) || (c >= 0x80 && unfinished(p + i, len - i))))
			break;
		seq = c >= 0x80 ? printable_utf8_length(p + i, len - i) : 0;
		if (seq && !acts_on_terminal(p + i, seq)) {
			i += seq;
			continue;
		}
		strbuf_append_len(sb, text + plain, i - plain);
		append_escaped(sb, p + i, seq ? seq : 1);
		i += seq ? seq : 1;
		plain = i;
	}
	strbuf_append_len(sb, text + plain, i - plain);
	return i;
}
