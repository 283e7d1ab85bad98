/*
 * netstring - the framing of Sendmail's socket maps and Postfix's socketmap tables.
 *
 * A netstring is `<len>:<bytes>,` (cr.yp.to/proto/netstrings.txt): len is the count of bytes in
 * decimal ASCII, non-empty, with no leading zero unless it is "0" itself.  The decoder reads one
 * netstring from the front of a byte buffer that may hold only part of it, or several pipelined
 * ones; it never reads past `len`, never allocates, and refuses a declared length over the
 * caller's maximum as soon as the digits show it, so a peer cannot make the caller buffer more
 * than one bounded request.  Pure: no I/O, no globals.
 */
#ifndef DNSGUARD_NETSTRING_H
#define DNSGUARD_NETSTRING_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

enum netstring_status {
	NETSTRING_COMPLETE,	/* one whole netstring at the front of the buffer */
	NETSTRING_NEED_MORE,	/* a valid beginning: read more bytes and call again */
	NETSTRING_ERROR,	/* not a netstring, or too long: the stream cannot be resynchronised */
};

enum netstring_error {
	NETSTRING_OK,
	NETSTRING_EMPTY_LENGTH,	  /* ':' with no digits before it */
	NETSTRING_BAD_LENGTH,	  /* a byte other than a digit or ':' in the length ('-' included) */
	NETSTRING_LEADING_ZERO,	  /* "01:", "00:" */
	NETSTRING_TOO_LONG,	  /* declared length over the maximum */
	NETSTRING_MISSING_COMMA,  /* the byte after the data is not ',' */
};

struct netstring_frame {
	size_t offset;	 /* where the data starts in the buffer */
	size_t length;	 /* bytes of data */
	size_t consumed; /* bytes of the whole netstring, length digits to comma */
};

/*
 * Reads the netstring at the front of buf[0, len), whose data may be at most `max` bytes.
 * COMPLETE fills *frame; ERROR sets *error (NETSTRING_OK otherwise).
 */
enum netstring_status netstring_decode(const char *buf, size_t len, size_t max, struct netstring_frame *frame,
				       enum netstring_error *error);

/* Bytes a netstring of `max` data bytes takes at most, framing included. */
size_t netstring_size(size_t max);

/* Appends data[0, len) as a netstring; false if sb truncated it (sb is then marked truncated). */
bool netstring_append(struct strbuf *sb, const char *data, size_t len);

/* "declared length over the limit", ...: for logs and PERM replies (no peer bytes in it). */
const char *netstring_error_text(enum netstring_error error);

#endif
