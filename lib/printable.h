/*
 * printable - text that came from a client, made safe to show on a terminal.
 *
 * dnsguard-badmail prints envelope addresses, HELO names and whole messages that a client chose.
 * Written raw, an ESC could move the cursor, recolour or retitle the terminal or feed it input,
 * and a CR or LF could forge a line of the output.  Here every C0 control byte and DEL, the C1
 * controls (U+0080..U+009F, which some terminals obey), the bidirectional embeddings, overrides
 * and isolates (which reorder what is shown), and every byte that is not part of well-formed
 * UTF-8 are written as \xHH; any other UTF-8 passes unchanged, so that names stay readable.
 * A backslash passes as it is: it cannot act on a terminal.
 */
#ifndef DNSGUARD_PRINTABLE_H
#define DNSGUARD_PRINTABLE_H

#include <stddef.h>

#include "strbuf.h"

enum {
	PRINTABLE_LINES = 1 << 0,	/* line feeds, tabs, and a CR right before LF pass (a message) */
	PRINTABLE_MORE = 1 << 1,	/* more text follows: an unfinished sequence at the end waits */
};

/*
 * Appends text[0, len) to sb, made printable.  Returns how many bytes it consumed: all of them,
 * unless PRINTABLE_MORE is given and the text ends inside a UTF-8 sequence (or on a CR, with
 * PRINTABLE_LINES), which the caller passes again in front of what follows.
 */
size_t printable_append(struct strbuf *sb, const char *text, size_t len, unsigned flags);

/* Length of the well-formed UTF-8 sequence at p, which has `len` bytes (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF), or 0. */
size_t printable_utf8_length(const unsigned char *p, size_t len);

#endif
