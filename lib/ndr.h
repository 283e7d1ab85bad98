/*
 * ndr - the non-delivery report that tells a sender why dnsguard diverted a message.
 *
 * An RFC 3464 delivery status notification in an RFC 6522 multipart/report: a text/plain part
 * that explains the DNS cause in plain words, per recipient (which name, which record type, what
 * the server said, over which transport, what the probe found, and what the sender or the admin
 * can do); a message/delivery-status part (Reporting-MTA, Arrival-Date and, per recipient,
 * Final-Recipient, Action: failed, Status, Diagnostic-Code); and the original message's headers
 * as text/rfc822-headers.  The NDR is From: MAILER-DAEMON@ the reporting host, Auto-Submitted:
 * auto-replied, and is to be submitted with the null envelope sender <>.
 *
 * Whatever the original holds (8-bit bytes, NUL, bare CR or LF, 2,000-character lines, broken
 * MIME, a line equal to the boundary), the NDR is 7-bit, valid MIME, and nothing of the original
 * can add a header field or end a part: the parts that quote foreign bytes are quoted-printable,
 * the boundary contains "=_" (which quoted-printable never writes), the To: field is written only
 * for a sender that parses and is printable ASCII, and the delivery-status fields are plain ASCII
 * (RFC 3461 xtext where an address is not).  Lines end in LF alone, as sendmail(1) expects on
 * its standard input; no line is longer than 998 octets, and those dnsguard writes itself are
 * folded within 78 columns (only a single word longer than that, such as a 253-octet host name,
 * stays whole on its own line).
 *
 * Pure: no clock, no randomness, no DNS, no store, no submission.  The caller hands in the times
 * and the random tokens, so tests compare output exactly; the date is written in the local time
 * zone of the process (TZ), with a numeric offset.
 */
#ifndef DNSGUARD_NDR_H
#define DNSGUARD_NDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "decision.h"

/* At most this much of the original header block is quoted (cut at a line end when one is in
 * reach); the explanation says when it was cut. */
#define NDR_HEADERS_MAX (64 * 1024)
/* A buffer this large holds any reason ndr_wanted gives. */
#define NDR_WHY_SIZE 160
/* The tokens the caller makes up: letters and digits only (tokens), and dot-atom text (ids). */
#define NDR_TOKEN_MAX 64

/*
 * Whether an NDR may be sent for a message from `envelope_sender` (as the MTA gave it, with or
 * without <>) whose header block is `headers` (raw bytes, `len` of them; it ends at the first
 * empty line).  False, with the reason in `why`, for the null sender, a sender that does not parse
 * (there is nowhere to send to), a message with an Auto-Submitted field whose keyword is anything
 * but "no" (RFC 3834), and a delivery report (a Content-Type of multipart/report with
 * report-type delivery-status or global-delivery-status: RFC 3464, RFC 6533).  The reason is
 * printable ASCII and safe to log as is: "null sender", "Auto-Submitted: auto-generated", "a
 * delivery report (multipart/report; report-type=delivery-status)".  True with `why` "" otherwise.
 * Fields are read as RFC 5322 and RFC 2045 say (unfolded, names in any case, comments, quoted
 * parameter values, RFC 2231 extended values), and every byte is distrusted.
 */
bool ndr_wanted(const char *envelope_sender, const char *headers, size_t len, char *why, size_t whylen);

/* One recipient the message was diverted for, and the decision that diverted it. */
struct ndr_recipient {
	const char *address;		/* the envelope recipient, without <> (any bytes) */
	const struct decision *decision;	/* its check, outcome, reply, cause and evidence */
};

struct ndr_input {
	const char *reporting_host;	/* our host name: From: MAILER-DAEMON@, Reporting-MTA, Message-ID */
	time_t arrival;			/* when the original arrived: Arrival-Date */
	time_t now;			/* Date */
	const char *sender;		/* the original envelope sender (with or without <>): To */
	const char *headers;		/* the original header block as received: raw bytes, may be NULL */
	size_t headers_len;
	const char *entry_id;		/* where the message is kept (the badmail store's id), or NULL */
	const char *message_id;		/* the left part of our Message-ID: dot-atom text, unique */
	const char *boundary_token;	/* random letters and digits, 8 to NDR_TOKEN_MAX of them */
	const struct ndr_recipient *recipients;
	size_t recipient_count;		/* at least 1 */
};

/*
 * Writes the whole NDR (header fields, blank line, body) to `out`.  0 on success; -1 with a
 * sentence in `err` when an input is not usable (a host name that is not a plain host name, a
 * null sender, no recipient, a token of the wrong form: the caller's bug or configuration) or
 * writing failed.  On -1 what was written is incomplete and must be discarded.
 */
int ndr_build(const struct ndr_input *in, FILE *out, char *err, size_t errlen);

/* The RFC 3463 status reported for a decision: its enhanced code when that is permanent (5.x.x),
 * else one that fits its check and outcome (5.1.2, 5.1.10, 5.4.4, ...).  Returns buf. */
const char *ndr_status(const struct decision *decision, char *buf, size_t size);
/* What a check's outcome says of its name, as the Diagnostic-Code words it ("not found", "does
 * not accept mail (null MX)"); NULL for an outcome that is no failure (ok, pass). */
const char *ndr_outcome_phrase(enum policy_outcome outcome);

#endif
