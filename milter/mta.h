/*
 * mta - every call dnsguard makes into libmilter about one session, in one place.
 *
 * The callbacks and verdicts speak to the MTA only through these functions: each says whether the
 * MTA took what was asked, so no result is dropped on the floor, and a unit test can link its own
 * implementation in place of milter/mta.c and run the callbacks with no MTA and no libmilter
 * (tests/unit/fake_mta.c).  The daemon's own calls (smfi_register, smfi_main, ...) stay in main.c.
 */
#ifndef DNSGUARD_MTA_H
#define DNSGUARD_MTA_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

/* A macro the MTA sent for this stage ("i", "{daemon_name}"), or NULL. */
const char *mta_macro(SMFICTX *ctx, const char *name);
/* The session's private pointer. */
void *mta_session(SMFICTX *ctx);
void mta_set_session(SMFICTX *ctx, void *session);

/* Each returns true when the MTA (libmilter) took it.  xcode may be NULL. */
bool mta_set_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text);
/* Removes occurrence `index` (1-based, per field name) of header field `name`. */
bool mta_delete_header(SMFICTX *ctx, const char *name, int index);
/* Adds a header field at the top of the message (before every other). */
bool mta_prepend_header(SMFICTX *ctx, const char *name, const char *value);
/* Puts the message in the MTA's hold (quarantine) queue with this reason. */
bool mta_quarantine(SMFICTX *ctx, const char *reason);
/* Removes an envelope recipient, named exactly as the MTA passed it at RCPT. */
bool mta_delete_recipient(SMFICTX *ctx, const char *recipient);

#endif
