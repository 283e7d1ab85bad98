/*
 * preflight - the user, the group and the files the unprivileged daemon reads; see preflight.h.
 *
 * Why a child process: whether a user can read a file is decided by the kernel, with the
 * directories on the way, ACLs, supplementary groups and mount options; the only check that
 * agrees with it in every case is to become that user and open the file.  dnsguard cannot
 * become it for a moment and come back (setuid is for good), so a child does it, exactly as
 * main's drop_privileges will, and sends its findings back through a pipe.
 */
#include "preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "postfix_chroot.h"
#include "privileges.h"
#include "textfile.h"

#define FINDINGS_MAX 4096	/* what the child may report: a line per file, with room to spare */

/* `who` is "" when the process stays as it is, else "user NAME " (with the space). */
static void check_readable(const char *key, const char *path, const char *who, struct strbuf *errors)
{
	int fd;

	if (!*path)
		return;
	/* as config.c's check: O_NONBLOCK, so that a fifo cannot hang us */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0) {
		close(fd);
		return;
	}
	if (*who)
		strbuf_appendf(errors, "%s %s: %scannot read it: %s (libunbound reads it after dnsguard has "
				       "switched to that user)\n",
			       key, path, who, strerror(errno));
	else
		strbuf_appendf(errors, "%s %s: cannot read it: %s\n", key, path, strerror(errno));
}

/* What badmail_store_open will refuse: a link, not a directory, another owner, open to others,
 * or a directory that is not there and cannot be made. */
static void check_badmail_dir(const char *path, const char *who, struct strbuf *errors)
{
	struct stat st;
	char parent[4096];
	char *slash;

	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			strbuf_appendf(errors, "badmail_dir %s: is a symbolic link: not following it\n", path);
		else if (!S_ISDIR(st.st_mode))
			strbuf_appendf(errors, "badmail_dir %s: not a directory\n", path);
		else if (st.st_uid != geteuid() || (st.st_mode & 077))
			strbuf_appendf(errors, "badmail_dir %s: must belong to %sthe user dnsguard runs as and be mode 0700, "
					       "is uid %u mode %04o\n",
				       path, who, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (errno != ENOENT) {
		strbuf_appendf(errors, "badmail_dir %s: %s\n", path, strerror(errno));
		return;
	}
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (access(parent, W_OK | X_OK) != 0)
		strbuf_appendf(errors, "badmail_dir %s: does not exist, and %scannot create it in %s: %s\n", path, who,
			       parent, strerror(errno));
}

/* The files libunbound opens only when it first resolves, i.e. after the switch of user; the
 * badmail store, which is opened after it too. */
static void check_files_here(const struct config *config, bool badmail, const char *who, struct strbuf *errors)
{
	check_readable("dns_trust_anchor", config->dns_trust_anchor, who, errors);
	if (config->dns.mode == DNS_MODE_RECURSIVE)
		check_readable("dns_root_hints", config->dns_root_hints, who, errors);
	if (badmail)
		check_badmail_dir(config->badmail_dir, who, errors);
}

/* In the child: become uid/gid as drop_privileges does, check, write the findings, exit. */
static void __attribute__((noreturn)) check_files_in_child(const struct config *config, bool badmail, uid_t uid,
							     gid_t gid, const char *who, int out)
{
	char text[FINDINGS_MAX], why[512];
	struct strbuf findings;
	size_t done = 0;

	strbuf_init(&findings, text, sizeof(text));
	if (privileges_switch(config->user, uid, gid, why, sizeof(why)) != 0)
		strbuf_appendf(&findings, "%s\n", why);
	else
		check_files_here(config, badmail, who, &findings);
	while (done < strbuf_len(&findings)) {
		ssize_t n = write(out, text + done, strbuf_len(&findings) - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		done += (size_t)n;
	}
	_exit(0);
}

static bool check_files_as_user(const struct config *config, bool badmail, uid_t uid, gid_t gid,
				struct strbuf *errors)
{
	char who[300], text[FINDINGS_MAX];
	size_t len = 0;
	int fds[2], status = 0;
	pid_t pid, waited;

	snprintf(who, sizeof(who), "user %s ", config->user);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		strbuf_appendf(errors, "user %s: cannot check the files it must read: pipe: %s\n", config->user,
			       strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0) {
		strbuf_appendf(errors, "user %s: cannot check the files it must read: fork: %s\n", config->user,
			       strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		close(fds[0]);
		check_files_in_child(config, badmail, uid, gid, who, fds[1]);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], text + len, sizeof(text) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(text) - 1)
			break;
	}
	close(fds[0]);
	while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	text[len] = '\0';
	strbuf_append(errors, text);
	if (waited != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		strbuf_appendf(errors, "user %s: the process that checks the files it must read failed\n",
			       config->user);
		return false;
	}
	return len == 0;
}

static bool check_files(const struct config *config, bool badmail, uid_t uid, gid_t gid, struct strbuf *errors)
{
	size_t before = strbuf_len(errors);

	/* the same condition as drop_privileges: only root with a user to become switches */
	if (geteuid() == 0 && config->user[0])
		return check_files_as_user(config, badmail, uid, gid, errors);
	check_files_here(config, badmail, "", errors);
	return strbuf_len(errors) == before;
}

bool preflight_check(const struct config *config, bool badmail, uid_t *uid, gid_t *gid, struct strbuf *errors)
{
	/* without the ids there is nobody to check the files as */
	return privileges_lookup(config->user, config->group, config->source, uid, gid, errors) &&
	       check_files(config, badmail, *uid, *gid, errors);
}

#define POSTFIX_CONFIG_MAX (1024 * 1024)

void preflight_postfix_warnings(const struct config *config, struct strbuf *warnings)
{
	const char *dir = getenv("MAIL_CONFIG");
	char path[4096], err[256], queue_directory[4096];
	char *main_cf = NULL, *master_cf = NULL;
	size_t len;
	bool missing;

	if (!dir || !*dir)
		dir = "/etc/postfix";
	snprintf(path, sizeof(path), "%s/main.cf", dir);
	if (!textfile_read(path, POSTFIX_CONFIG_MAX, &main_cf, &len, &missing, err, sizeof(err)))
		return;
	snprintf(path, sizeof(path), "%s/master.cf", dir);
	if (textfile_read(path, POSTFIX_CONFIG_MAX, &master_cf, &len, &missing, err, sizeof(err))) {
		if (!postfix_main_cf_value(main_cf, "queue_directory", queue_directory, sizeof(queue_directory)))
			snprintf(queue_directory, sizeof(queue_directory), "%s", POSTFIX_DEFAULT_QUEUE_DIRECTORY);
		postfix_chroot_check("milter_socket", config->milter_socket, POSTFIX_CLIENT_MILTER, queue_directory,
				     master_cf, warnings);
		if (config->route_socket && *config->route_socket)
			postfix_chroot_check("route_socket", config->route_socket, POSTFIX_CLIENT_ROUTES,
					     queue_directory, master_cf, warnings);
	}
	free(main_cf);
	free(master_cf);
}
