/*
 * postfix_chroot - will a chrooted Postfix see dnsguard's unix sockets?
 *
 * Debian's master.cf runs smtpd, cleanup and trivial-rewrite chrooted in Postfix's queue
 * directory: a unix socket outside it does not exist for them, and every SMTP command then gets
 * "451 4.7.1 Service unavailable" (milter) or every lookup fails (routes).  These functions read
 * the texts of main.cf and master.cf, which the caller has read, and say so: no I/O here.
 * A socket under the queue directory is visible: Postfix's daemons run in the queue directory,
 * so main.cf names it relative to it (unix:dnsguard/milter.sock), which holds chrooted or not.
 */
#ifndef DNSGUARD_POSTFIX_CHROOT_H
#define DNSGUARD_POSTFIX_CHROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Postfix's default queue_directory, where main.cf does not set one. */
#define POSTFIX_DEFAULT_QUEUE_DIRECTORY "/var/spool/postfix"

/* What a dnsguard socket serves: which Postfix programs connect to it. */
enum postfix_socket_client {
	POSTFIX_CLIENT_MILTER,	/* smtpd (smtpd_milters) and cleanup (non_smtpd_milters) */
	POSTFIX_CLIENT_ROUTES,	/* trivial-rewrite (transport_maps = socketmap:...) */
};

/*
 * The value of `name` in main.cf text `main_cf` (its last setting; "name = value", continuation
 * lines that start with white space joined), copied into value; false if it is not set or does
 * not fit.  $parameter expansion is not done: a value that holds a '$' counts as not set.
 */
bool postfix_main_cf_value(const char *main_cf, const char *name, char *value, size_t size);

/*
 * Appends to `warnings` one line ("KEY SPEC: ...") when `spec`, dnsguard's socket for `client`,
 * is a unix socket outside `queue_directory` and master.cf text `master_cf` runs one of the
 * programs that connect to it chrooted (chroot column "y"; "-" is "n" since Postfix 3.0).
 * Returns whether it warned.  inet: sockets are visible from anywhere.
 */
bool postfix_chroot_check(const char *key, const char *spec, enum postfix_socket_client client,
			  const char *queue_directory, const char *master_cf, struct strbuf *warnings);

#endif
