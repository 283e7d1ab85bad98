/*
 * preflight - what starting dnsguard would refuse, found while it can still tell the terminal.
 *
 * The daemon runs these checks before it detaches, and `dnsguard -n` runs the same ones, so that
 * "valid" from -n means that start will not refuse the files: the user and group named in the
 * config exist, and the files libunbound reads only after privileges are dropped (the trust
 * anchor, the root hints) can be read by that user.  Nothing is printed or logged here: every
 * problem is one line appended to `errors`, "what: why", and the caller decides.
 */
#ifndef DNSGUARD_PREFLIGHT_H
#define DNSGUARD_PREFLIGHT_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "strbuf.h"

/*
 * Everything below, every problem reported; the ids dnsguard will run as go to uid/gid (those of
 * `user` and `group` when set, else the process's own).
 *   - the user and the group named in the config exist;
 *   - the files libunbound opens only after the switch to that user (the trust anchor, and the
 *     root hints when recursing) can be read by it;
 *   - with `badmail` (a policy rule diverts), badmail_dir is that user's private directory, or
 *     can be made by it.  Started as root with a user to switch to,
 *     they are opened by a child process that has switched as the daemon will: call it while no
 *     other thread runs.  Otherwise they are opened by this process, as it is.
 */
bool preflight_check(const struct config *config, bool badmail, uid_t *uid, gid_t *gid, struct strbuf *errors);

/*
 * Warnings, not refusals: a unix milter_socket or route_socket that a chrooted Postfix cannot
 * see (postfix_chroot.h), one line each appended to `warnings`.  Postfix's main.cf and master.cf
 * are read from $MAIL_CONFIG, as Postfix's own commands do, else /etc/postfix; without a main.cf
 * Postfix is not configured there and nothing is said.
 */
void preflight_postfix_warnings(const struct config *config, struct strbuf *warnings);

#endif
