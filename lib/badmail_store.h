/*
 * badmail_store - where diverted messages are kept, whole or not at all.
 *
 * A diverted message is discarded by the MTA only once it is here durably, so every entry is
 * written maildir-style: into a temporary directory, every file fsync'd, then one rename(2) makes
 * the whole entry appear, and the directory holding it is fsync'd.  A crash or kill -9 at any
 * moment leaves a whole entry or none; what a crash leaves in tmp/ is removed when the store is
 * opened.  Later changes to an entry (its record, when the NDR has been submitted) replace a file
 * whole, by rename.
 *
 * Layout under badmail_dir (stable: admins and scripts read it):
 *   tmp/ID/                 an entry being written (removed at open)
 *   tmp/ID.delete/          an entry being deleted (likewise)
 *   entries/ID/message      the message as received, with dnsguard's trace header first
 *   entries/ID/record.json  why it was diverted, with the DNS evidence, and the NDR's status
 *   entries/ID/ndr          the NDR, when it was not sent
 * Directories are 0700 and files 0600, owned by dnsguard's user.  An ID is the UTC time of the
 * entry (YYYYMMDDThhmmss), '-', and 16 random hex digits: sortable, unguessable, never derived
 * from anything a client sent; no path is ever built from message data.
 *
 * Every file is reached relative to the store's directory with O_NOFOLLOW: a symlink planted in
 * the store is refused, never followed.  Limits (total bytes, entry count) are checked when an
 * entry begins and as the message grows: at a limit the entry is refused with a reason that names
 * it, and the caller tempfails: the store is never silently full.
 *
 * Thread-safe: entries are written by the sessions that divert, concurrently.
 */
#ifndef DNSGUARD_BADMAIL_STORE_H
#define DNSGUARD_BADMAIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define BADMAIL_ID_SIZE 33	/* "20261204T144500-0123456789abcdef" and NUL */

struct badmail_limits {
	unsigned long long max_bytes;	/* every file of every entry; 0: no limit */
	unsigned max_entries;		/* 0: no limit */
};

struct badmail_store;
struct badmail_entry;

/*
 * Opens (creating, mode 0700) the store at `dir`, an absolute path, with its tmp/ and entries/;
 * with clean_tmp, removes what a crash left in tmp/ (at process start only: a reload's new store
 * must not remove the entries the running sessions are writing).  Refuses a store reached
 * through a symlink, not owned by the caller's effective user, or open to others (group or world
 * bits).  NULL with a reason in err.
 */
struct badmail_store *badmail_store_open(const char *dir, const struct badmail_limits *limits, bool clean_tmp,
					 char *err, size_t errlen);
void badmail_store_close(struct badmail_store *store);

/* What the store holds now (committed entries only). */
struct badmail_usage {
	unsigned entries;
	unsigned long long bytes;
};
int badmail_store_usage(struct badmail_store *store, struct badmail_usage *out, char *err, size_t errlen);

/* Whether `id` has the form of an entry id (the command checks what an admin typed). */
bool badmail_id_valid(const char *id);
/* The UTC time an id begins with (when its entry was begun); false when `id` is not valid or
 * names no real time (20261341T...). */
bool badmail_id_time(const char *id, time_t *out);

/*
 * Starts an entry: checks the limits, makes tmp/ID/ and opens its message file.  NULL with a
 * reason ("badmail_max_entries (100) reached", "No space left on device") when the store cannot
 * take it.  The limits are checked against the store's usage walked at most a few seconds ago plus
 * this process's commits since, so what another process deletes frees room within seconds, not at
 * once, and a busy store is not walked for every message.
 */
struct badmail_entry *badmail_entry_begin(struct badmail_store *store, char *err, size_t errlen);
const char *badmail_entry_id(const struct badmail_entry *entry);
/* Appends to the message.  -1 with a reason on an I/O error or when the message would pass
 * max_bytes; the entry must then be aborted. */
int badmail_entry_write(struct badmail_entry *entry, const void *data, size_t len, char *err, size_t errlen);
/* Adds another file of the entry ("record.json", "ndr"), whole. */
int badmail_entry_add_file(struct badmail_entry *entry, const char *name, const void *data, size_t len, char *err,
			   size_t errlen);
/* Makes the entry durable and visible (fsync of each file and of tmp/ID, rename to entries/ID,
 * fsync of entries/) and frees it.  -1 with a reason: the entry is then removed, nothing of it
 * stays, and the message must not be discarded. */
int badmail_entry_commit(struct badmail_entry *entry, char *err, size_t errlen);
/* Removes an entry that will not be committed, and frees it. */
void badmail_entry_abort(struct badmail_entry *entry);

/* Calls fn for every committed entry, oldest first (ids sort by time), until fn returns non-zero;
 * returns that, 0 when every entry was seen, or -1 with a reason. */
int badmail_store_each(struct badmail_store *store, int (*fn)(const char *id, void *arg), void *arg, char *err,
		       size_t errlen);
/* Opens file `name` of committed entry `id` for reading (never through a link).  -1 with a reason;
 * errno is ENOENT when the entry has no such file. */
int badmail_store_open_file(struct badmail_store *store, const char *id, const char *name, char *err, size_t errlen);
/* The whole of file `name` of entry `id`, NUL-terminated, malloc'd; NULL with a reason (also for a
 * file over max bytes). */
char *badmail_store_read_file(struct badmail_store *store, const char *id, const char *name, size_t max, size_t *len,
			      char *err, size_t errlen);
/* Removes file `name` of entry `id` (and fsyncs the entry); a file already gone is no error. */
int badmail_store_remove_file(struct badmail_store *store, const char *id, const char *name, char *err, size_t errlen);

/* Replaces file `name` of committed entry `id` whole (temporary file, fsync, rename, fsync). */
int badmail_store_replace(struct badmail_store *store, const char *id, const char *name, const void *data, size_t len,
			  char *err, size_t errlen);

/*
 * Removes committed entry `id`, safe beside a running daemon and its NDR worker: one rename moves
 * the entry from entries/ into tmp/ (so it vanishes whole, and a reader finds it or not, never
 * half of it; entries/ is fsync'd), then its files and directory are removed there.  What a crash
 * leaves in tmp/ is removed at the next start.  -1 with a reason: "no such entry" (errno ENOENT)
 * when entries/ has no `id`, or the error; nothing has changed unless the reason says the entry
 * was moved out but not removed.
 */
int badmail_store_delete(struct badmail_store *store, const char *id, char *err, size_t errlen);

#endif
