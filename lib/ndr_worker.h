/*
 * ndr_worker - the thread that submits a badmail store's NDRs (badmail_ndr.h), never a milter
 * callback's time.
 *
 * Started with its generation's store, it first sends what a restart left pending, then waits:
 * each diversion kicks it, and it flushes the store.  Every NDR it handles is one log line, led
 * like the session's lines by the diverted message's queue id (or its session id):
 *   4Tk3Zq1x2Fz: ndr session=655e1a2b0004 badmail=20261204T144500-0123456789abcdef status=submitted to=<app@example.net>
 * at info when the MTA took it, at warning with reason= when it is kept in the entry instead.
 */
#ifndef DNSGUARD_NDR_WORKER_H
#define DNSGUARD_NDR_WORKER_H

#include "badmail_store.h"

#define NDR_WORKER_TIMEOUT_MS 60000	/* one submission, at most */

struct ndr_worker;

/* Starts the thread, which flushes at once.  `store` and `sendmail` must outlive it.  NULL with
 * a reason in err. */
struct ndr_worker *ndr_worker_start(struct badmail_store *store, const char *sendmail, char *err, size_t errlen);
/* Something was stored: flush again soon.  Never blocks. */
void ndr_worker_kick(struct ndr_worker *worker);
/* Asks the thread to stop after the submission in progress, without waiting: a generation that
 * is replaced says so at once, so that freeing it later (on the last session's close) does not
 * wait on a flush.  What is left pending goes with the next generation's worker. */
void ndr_worker_request_stop(struct ndr_worker *worker);
/* Stops (after the submission in progress, bounded by its timeout), joins and frees.  NULL:
 * nothing. */
void ndr_worker_stop(struct ndr_worker *worker);

#endif
