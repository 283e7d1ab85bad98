/*
 * submit - hands a message to the MTA through its sendmail(1) interface.
 *
 * Postfix and Sendmail both install /usr/sbin/sendmail, and both queue what it is given at once,
 * so dnsguard needs neither an SMTP client nor a port to reach: NDRs and released messages go in
 * as any local submission would (Postfix's pickup, Sendmail's submission queue).  The program is
 * run with an argv, never through a shell: "sendmail -i -f SENDER -- RECIPIENT...", the message
 * on its standard input from a file, a minimal environment, every other descriptor closed.  A
 * recipient or sender with a control byte is refused here, and "--" ends the options, so no
 * address can become an option.  Bounded: a submission that has not ended by its timeout is
 * killed and counts as failed.  Blocking: call it from a worker, never from a milter callback.
 */
#ifndef DNSGUARD_SUBMIT_H
#define DNSGUARD_SUBMIT_H

#include <stddef.h>

#define SUBMIT_SENDMAIL "/usr/sbin/sendmail"

/*
 * Submits the message read from `message_fd` (from its current offset to its end) from
 * `sender` ("" for the null sender <>) to `recipients`.  0 when the program exited 0; -1 with
 * the reason in err (its exit status and the first line it wrote, or "no answer within N ms").
 */
int submit_message(const char *sendmail, const char *sender, const char *const *recipients, size_t count,
		   int message_fd, unsigned timeout_ms, char *err, size_t errlen);

#endif
