/*
 * verdicts - the checks of one SMTP session: when they start, when their verdicts are delivered,
 * and how the milter carries out what lib/decision.h decides (reply, tag, quarantine, log line).
 *
 * Lookups start as early as possible (client at connect, HELO at HELO, sender at MAIL) and run
 * while the session goes on; verdicts are delivered at RCPT (like Postfix's smtpd_delay_reject),
 * so that recipient exceptions such as postmaster@ can still apply, and with the whole context
 * in the log line.  Accepted mail gets Authentication-Results (iprev) and X-DNSGuard at the end
 * of the message, after forged copies of both are removed.
 */
#ifndef DNSGUARD_VERDICTS_H
#define DNSGUARD_VERDICTS_H

#include <libmilter/mfapi.h>

#include "session.h"

void verdicts_connect(struct session *s);
void verdicts_helo(struct session *s);
/* At MAIL: parses the MTA's argument as it came (with its angle brackets) and starts the
 * sender check. */
void verdicts_mail(struct session *s, const char *argument);
/* Decides every check for this recipient (without <>; `argument` is the MTA's own form of it);
 * sets the reply and returns SMFIS_REJECT/TEMPFAIL when the policy says so, else
 * SMFIS_CONTINUE.  A recipient a rule diverts is accepted and noted in the message's diversion,
 * begun at the first one (badmail_dir cannot take it: SMFIS_TEMPFAIL). */
sfsistat verdicts_rcpt(SMFICTX *ctx, struct session *s, const char *recipient, const char *argument);
/* Notes header fields that claim to be ours; stores each field when the message is diverted. */
void verdicts_header(struct session *s, const char *name, const char *value);
/* Stores a body chunk when the message is diverted: true; false when the body is not needed. */
bool verdicts_body(struct session *s, const void *chunk, size_t len);
/* End of message: stores a diverted message and its NDR in the badmail store, then discards it
 * (every recipient diverted) or removes the diverted recipients; removes forged fields, adds
 * ours, quarantines if asked; appends the checks' outcomes and the action to the message log
 * line.  SMFIS_TEMPFAIL (with a reply set) when the store could not take the message or a forged
 * field could not be removed: a message is never discarded unless stored, a forgery never
 * delivered; SMFIS_DISCARD when every recipient was diverted; else SMFIS_CONTINUE. */
sfsistat verdicts_eom(SMFICTX *ctx, struct session *s, struct strbuf *line);
/* Frees what belongs to the connection, its message included (at close). */
void verdicts_end_session(struct session *s);

#endif
