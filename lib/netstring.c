/*
 * netstring - netstring decoder and encoder; see netstring.h.
 *
 * The length is checked digit by digit, against the maximum, before any data is waited for: a
 * peer that declares "99999999999999999999:" is refused after those bytes, without overflow.
 */
#include "netstring.h"

#include <stdio.h>

static enum netstring_status fail(enum netstring_error *error, enum netstring_error why)
{
	*error = why;
	return NETSTRING_ERROR;
}

enum netstring_status netstring_decode(const char *buf, size_t len, size_t max, struct netstring_frame *frame,
				       enum netstring_error *error)
{
	size_t declared = 0, i;

	*error = NETSTRING_OK;
	for (i = 0; i < len && buf[i] != ':'; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return fail(error, NETSTRING_BAD_LENGTH);
		if (i == 1 && buf[0] == '0')
			return fail(error, NETSTRING_LEADING_ZERO);
		size_t digit = (size_t)(buf[i] - '0');
		if (digit > max || declared > (max - digit) / 10)
			return fail(error, NETSTRING_TOO_LONG);
		declared = declared * 10 + digit;
	}
	if (i == len)
		return NETSTRING_NEED_MORE;
	if (i == 0)
		return fail(error, NETSTRING_EMPTY_LENGTH);
	/* i is the colon; the data is declared bytes after it, then the comma */
	if (len - (i + 1) <= declared)
		return NETSTRING_NEED_MORE;
	if (buf[i + 1 + declared] != ',')
		return fail(error, NETSTRING_MISSING_COMMA);
	frame->offset = i + 1;
	frame->length = declared;
	frame->consumed = i + 1 + declared + 1;
	return NETSTRING_COMPLETE;
}

size_t netstring_size(size_t max)
{
	size_t digits = 1;

	for (size_t n = max; n >= 10; n /= 10)
		digits++;
	return digits + 1 + max + 1;
}

bool netstring_append(struct strbuf *sb, const char *data, size_t len)
{
	char head[32];
	int n = snprintf(head, sizeof(head), "%zu:", len);

	strbuf_append_len(sb, head, (size_t)n);
	strbuf_append_len(sb, data, len);
	strbuf_append_len(sb, ",", 1);
	return !strbuf_truncated(sb);
}

const char *netstring_error_text(enum netstring_error error)
{
	switch (error) {
	case NETSTRING_OK:
		return "no error";
	case NETSTRING_EMPTY_LENGTH:
		return "empty length";
	case NETSTRING_BAD_LENGTH:
		return "length is not a decimal number";
	case NETSTRING_LEADING_ZERO:
		return "length has a leading zero";
	case NETSTRING_TOO_LONG:
		return "declared length over the limit";
	case NETSTRING_MISSING_COMMA:
		return "no comma after the data";
	}
	return "unknown error";
}
