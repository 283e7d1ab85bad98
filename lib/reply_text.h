/*
 * reply_text - SMTP reply text made safe for libmilter.
 *
 * libmilter drops a reply whose text holds a lone '%' (it is a printf format there), and CR or LF
 * would end the reply early.  Text built from what a client sent (addresses, HELO names) passes
 * through here before smfi_setreply.
 */
#ifndef DNSGUARD_REPLY_TEXT_H
#define DNSGUARD_REPLY_TEXT_H

#include <stddef.h>

/* '%' becomes "%%", CR, LF, other control bytes and DEL become spaces, bytes >= 0x80 become '?'
 * (SMTP replies are ASCII).  Always NUL-terminated; cut at a character boundary if too long. */
const char *reply_text_sanitize(const char *in, char *out, size_t size);

#endif
