/*
 * badmail_ndr - sends the NDRs the badmail store holds, and writes down what became of each.
 *
 * Submission never runs on a milter callback: a diversion stores the NDR in its entry with the
 * record's NDR status "pending", and a worker calls badmail_ndr_flush, which also resumes what a
 * restart left pending.  Each NDR goes to the MTA through sendmail(1) (submit.h) from the null
 * sender to the diverted message's envelope sender.  When the MTA takes it, the record says
 * "submitted" and the entry's ndr file goes; when it does not (the program fails, hangs past the
 * timeout, or the sender cannot be written as an ASCII address), the record says "stored" with the
 * reason and the NDR stays in the entry for the admin.  The record is updated before the file is
 * removed, so a crash between the two leaves a submitted NDR's file behind, never an NDR lost; a
 * crash between submission and the record's update sends it again after the restart (at least
 * once, as the MTA's own queue does).
 */
#ifndef DNSGUARD_BADMAIL_NDR_H
#define DNSGUARD_BADMAIL_NDR_H

#include <stdatomic.h>

#include "badmail_record.h"
#include "badmail_store.h"

struct badmail_ndr_report {
	const char *id;					/* the entry */
	const struct badmail_record_summary *record;	/* its ids and sender, for the log line */
	enum badmail_ndr_status status;			/* submitted or stored */
	const char *detail;				/* stored: why; else "" */
};
typedef void badmail_ndr_reporter(void *arg, const struct badmail_ndr_report *report);

/*
 * Submits every NDR still pending in the store, oldest first, each bounded by timeout_ms, and
 * reports each (report may be NULL).  Stops before the next entry once *stop is true (stop may be
 * NULL): a flush never holds up its owner longer than one submission.  Returns how many were
 * handled, or -1 with a reason when the store could not be read.  Blocking.
 */
int badmail_ndr_flush(struct badmail_store *store, const char *sendmail, unsigned timeout_ms, const atomic_bool *stop,
		      badmail_ndr_reporter *report, void *arg, char *err, size_t errlen);

#endif
