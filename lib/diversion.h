/*
 * diversion - one message being diverted into the badmail store, from its first diverted
 * recipient to the committed entry.
 *
 * The milter begins a diversion at the first recipient a policy rule diverts (so that the
 * decision line can name the entry), adds every diverted recipient with the decision that
 * diverted it, streams the message in as the MTA sends it (never held whole in memory), and at
 * end of message commits: the message file (our trace header first, then the message as
 * received, lines ending in LF), the JSON record (badmail_record.h) and the NDR (ndr.h) with its
 * status: pending for the NDR worker to submit, stored when it must not be sent (the sender's own
 * domain cannot receive mail: no backscatter), or none (null sender, auto-submitted, a report).
 * Only a committed entry lets the MTA discard the message; any failure on the way is sticky and
 * reported at commit, so that the caller tempfails and nothing is lost.
 *
 * No libmilter and no DNS: the caller hands in what the session knows.  One diversion belongs to
 * one session (not thread-safe by itself); the store is shared.
 */
#ifndef DNSGUARD_DIVERSION_H
#define DNSGUARD_DIVERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "badmail_record.h"
#include "badmail_store.h"
#include "decision.h"

#define DIVERSION_TRACE_HEADER "X-DNSGuard-Diverted"

struct diversion;

/* Begins an entry in `store` (its limits are checked now).  NULL with the reason in err
 * ("badmail_max_entries (100) reached"). */
struct diversion *diversion_begin(struct badmail_store *store, time_t now, char *err, size_t errlen);
/* The entry's id: for the decision line, the message line and the record. */
const char *diversion_id(const struct diversion *dv);

/* Adds a diverted recipient: its address (without <>), the same as the MTA named it (to remove
 * it from the message: "<bob@nx.example>"), and the decision that diverted it.  All are copied,
 * the decision's subject too (its evidence stays borrowed: it must live until commit).  -1 when
 * out of memory. */
int diversion_add_recipient(struct diversion *dv, const char *address, const char *mta_form,
			    const struct decision *decision);
size_t diversion_recipient_count(const struct diversion *dv);
/* Recipient i as the MTA named it. */
const char *diversion_recipient_mta_form(const struct diversion *dv, size_t i);

/* One header field as the MTA passed it (name, value without the colon; folded values with
 * CRLF or LF line ends).  The first call writes our trace header before it.  Errors are kept for
 * diversion_commit. */
void diversion_header(struct diversion *dv, const char *name, const char *value);
/* A chunk of the body as it came over SMTP (CRLF line ends). */
void diversion_body(struct diversion *dv, const void *chunk, size_t len);
/* Whether writing has failed so far (the reason is given by commit). */
bool diversion_failed(const struct diversion *dv);

/* What the session knows about the message, for the record and the NDR. */
struct diversion_facts {
	const char *reporting_host;	/* a plain host name: From: MAILER-DAEMON@, Reporting-MTA */
	time_t now;
	const char *queue_id;		/* "" before the MTA gave one */
	const char *session;
	const char *client_name, *client_address, *helo;
	const char *envelope_sender;	/* as the MTA gave it, without <>; "" for the null sender */
	/* why an NDR to the sender cannot be delivered (its domain failed the sender check), or NULL:
	 * the NDR is then kept in the entry, not sent */
	const char *sender_unreachable;
};

/*
 * Ends the message, writes the record and the NDR and makes the entry durable; frees dv.  0 with
 * the NDR's status in *ndr (pending: kick the NDR worker) and its detail in ndr_detail; -1 with
 * the reason in err: nothing of the entry stays, and the message must not be discarded.
 */
int diversion_commit(struct diversion *dv, const struct diversion_facts *facts, enum badmail_ndr_status *ndr,
		     char *ndr_detail, size_t detail_len, char *err, size_t errlen);
/* Drops the entry (the message was aborted or refused); frees dv.  NULL: nothing. */
void diversion_abort(struct diversion *dv);

#endif
