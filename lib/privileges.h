/*
 * privileges - who dnsguard's programs run as: the ids of the configured user and group, and the
 * switch to them for good.
 *
 * The daemon (after opening its socket and pid file), its preflight child, and dnsguard-badmail
 * (whose store must belong to that user) all become the configured `user` the same way: its
 * uid, and `group`'s gid when the config names one, else the user's own; supplementary groups
 * are dropped, and a switch after which root could be regained counts as failed.
 * Nothing is printed or logged here.
 */
#ifndef DNSGUARD_PRIVILEGES_H
#define DNSGUARD_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

/*
 * The ids of `user` and `group` (either may be "": the process's own effective ids stand for
 * it).  false with one line per problem appended to `errors` ("user NAME: no such user (create
 * it, or change user = in SOURCE)"); `source` names the config file for that advice.
 */
bool privileges_lookup(const char *user, const char *group, const char *source, uid_t *uid, gid_t *gid,
		       struct strbuf *errors);

/* Becomes uid and gid for good (as root only).  -1 with "user NAME: ..." in err. */
int privileges_switch(const char *user, uid_t uid, gid_t gid, char *err, size_t errlen);

#endif
