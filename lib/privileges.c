/*
 * privileges - the configured user and group, looked up and become; see privileges.h.
 */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* getpwnam and getgrnam return NULL both for "no such name" and for a failed lookup. */
static bool lookup_failed(int err)
{
	return err != 0 && err != ENOENT && err != ESRCH && err != EBADF && err != EPERM;
}

bool privileges_lookup(const char *user, const char *group, const char *source, uid_t *uid, gid_t *gid,
		       struct strbuf *errors)
{
	bool ok = true;

	*uid = geteuid();
	*gid = getegid();
	if (user[0]) {
		errno = 0;
		struct passwd *pw = getpwnam(user);
		if (pw) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
		} else if (lookup_failed(errno)) {
			strbuf_appendf(errors, "user %s: cannot look it up: %s\n", user, strerror(errno));
			ok = false;
		} else {
			strbuf_appendf(errors, "user %s: no such user (create it, or change user = in %s)\n", user,
				       source);
			ok = false;
		}
	}
	if (group[0]) {
		errno = 0;
		struct group *gr = getgrnam(group);
		if (gr) {
			*gid = gr->gr_gid;
		} else if (lookup_failed(errno)) {
			strbuf_appendf(errors, "group %s: cannot look it up: %s\n", group, strerror(errno));
			ok = false;
		} else {
			strbuf_appendf(errors, "group %s: no such group (create it, or change group = in %s)\n", group,
				       source);
			ok = false;
		}
	}
	return ok;
}

int privileges_switch(const char *user, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		snprintf(err, errlen, "user %s: cannot switch to it: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "user %s: dropping privileges failed: still able to regain root", user);
		return -1;
	}
	return 0;
}
