/*
 * badmail_store - entries written whole or not at all; see badmail_store.h.
 */
#include "badmail_store.h"
#include "monotonic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILES_MAX 4	/* message, record.json, ndr, and one spare */
/* How old the usage an entry's limits are checked against may be.  Walking the store stats every
 * file of every entry: done on a milter callback for each diverted message it would grow with the
 * store.  This process's commits are added as they happen; what others change (the command's
 * delete and purge) and the NDR files this process removes are seen at the next walk. */
#define USAGE_RESCAN_MS 5000

struct badmail_store {
	int dir, tmp, entries;		/* O_DIRECTORY | O_NOFOLLOW descriptors */
	struct badmail_limits limits;
	pthread_mutex_t lock;
	unsigned pending_entries;	/* begun, not committed or aborted */
	unsigned long long pending_bytes;
	struct badmail_usage stored;	/* at the last walk, plus this process's commits since */
	long long walked_ms;		/* monotonic time of that walk; 0: never */
};

struct badmail_entry {
	struct badmail_store *store;
	char id[BADMAIL_ID_SIZE];
	int dir;			/* tmp/ID */
	int message;
	int files[FILES_MAX];		/* added files, open for the fsync at commit */
	size_t file_count;
	unsigned long long bytes;
};

static void set_err(char *err, size_t errlen, const char *what, int error)
{
	snprintf(err, errlen, "%s: %s", what, strerror(error));
}

/* ---- ids -------------------------------------------------------------------------------------- */

bool badmail_id_valid(const char *id)
{
	/* YYYYMMDDThhmmss-xxxxxxxxxxxxxxxx */
	if (!id || strlen(id) != BADMAIL_ID_SIZE - 1)
		return false;
	for (size_t i = 0; i < BADMAIL_ID_SIZE - 1; i++) {
		char c = id[i];
		bool ok = i < 8 || (i > 8 && i < 15) ? (c >= '0' && c <= '9')
			: i == 8			      ? c == 'T'
			: i == 15			      ? c == '-'
						      : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
		if (!ok)
			return false;
	}
	return true;
}

bool badmail_id_time(const char *id, time_t *out)
{
	int year, month, day, hour, minute, second;
	struct tm tm = {0};
	time_t t;

	if (!badmail_id_valid(id) ||
	    sscanf(id, "%4d%2d%2dT%2d%2d%2d", &year, &month, &day, &hour, &minute, &second) != 6)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	t = timegm(&tm);
	/* timegm turns 31 February into 3 March: only a time that comes back as written is one */
	if (tm.tm_year != year - 1900 || tm.tm_mon != month - 1 || tm.tm_mday != day || tm.tm_hour != hour ||
	    tm.tm_min != minute || tm.tm_sec != second)
		return false;
	*out = t;
	return true;
}

static int new_id(char id[BADMAIL_ID_SIZE], char *err, size_t errlen)
{
	unsigned char random[8];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random)) {
		set_err(err, errlen, "getrandom", errno);
		return -1;
	}
	gmtime_r(&now, &tm);
	n = strftime(id, BADMAIL_ID_SIZE, "%Y%m%dT%H%M%S-", &tm);
	for (size_t i = 0; i < sizeof(random); i++)
		n += (size_t)snprintf(id + n, BADMAIL_ID_SIZE - n, "%02x", random[i]);
	return 0;
}

/* A file name of an entry: what this module writes, never anything from outside. */
static bool file_name_valid(const char *name)
{
	if (!name || !*name || strlen(name) > 32 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '.' || *p == '_'))
			return false;
	return true;
}

/* ---- the directories ---------------------------------------------------------------------------- */

/* Opens (making it if missing) a directory of the store, refusing a link or one open to others. */
static int open_private_dir(int at, const char *name, const char *shown, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (mkdirat(at, name, 0700) != 0 && errno != EEXIST) {
		set_err(err, errlen, shown, errno);
		return -1;
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			snprintf(err, errlen, "%s: not a directory (a symlink is never followed)", shown);
		else
			set_err(err, errlen, shown, errno);
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		set_err(err, errlen, shown, errno);
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		snprintf(err, errlen, "%s: must be owned by uid %u and closed to others (mode 0700), is uid %u mode %04o",
			 shown, (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

/* Removes the files of directory `name` under `at`, then the directory; links are removed, never
 * followed.  Only one level: an entry holds files only. */
static void remove_dir(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0) {
		(void)unlinkat(at, name, 0);	/* a file or a link where a directory should be */
		return;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	(void)unlinkat(at, name, AT_REMOVEDIR);
}

static void remove_leftovers(int tmp)
{
	int fd = dup(tmp);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	char names[64][256];
	size_t n;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	/* in rounds: removing while reading a directory may skip names */
	do {
		rewinddir(d);
		n = 0;
		while (n < 64 && (e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
		for (size_t i = 0; i < n; i++)
			remove_dir(tmp, names[i]);
	} while (n == 64);
	closedir(d);
}

struct badmail_store *badmail_store_open(const char *dir, const struct badmail_limits *limits, bool clean_tmp,
					 char *err, size_t errlen)
{
	struct badmail_store *s;

	if (!dir || dir[0] != '/') {
		snprintf(err, errlen, "badmail_dir must be an absolute path");
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->dir = s->tmp = s->entries = -1;
	if (limits)
		s->limits = *limits;
	pthread_mutex_init(&s->lock, NULL);
	if ((s->dir = open_private_dir(AT_FDCWD, dir, dir, err, errlen)) < 0 ||
	    (s->tmp = open_private_dir(s->dir, "tmp", "tmp", err, errlen)) < 0 ||
	    (s->entries = open_private_dir(s->dir, "entries", "entries", err, errlen)) < 0) {
		badmail_store_close(s);
		return NULL;
	}
	if (clean_tmp)
		remove_leftovers(s->tmp);
	return s;
}

void badmail_store_close(struct badmail_store *s)
{
	if (!s)
		return;
	if (s->entries >= 0)
		close(s->entries);
	if (s->tmp >= 0)
		close(s->tmp);
	if (s->dir >= 0)
		close(s->dir);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- usage and limits --------------------------------------------------------------------------- */

static unsigned long long entry_bytes(int entries, const char *id)
{
	int fd = openat(entries, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	unsigned long long bytes = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (fd < 0)
		return 0;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			bytes += (unsigned long long)st.st_size;
	closedir(d);
	return bytes;
}

struct usage_walk {
	struct badmail_store *store;
	struct badmail_usage *out;
};

static int count_entry(const char *id, void *arg)
{
	struct usage_walk *w = arg;

	w->out->entries++;
	w->out->bytes += entry_bytes(w->store->entries, id);
	return 0;
}

int badmail_store_usage(struct badmail_store *s, struct badmail_usage *out, char *err, size_t errlen)
{
	struct usage_walk w = {.store = s, .out = out};

	memset(out, 0, sizeof(*out));
	return badmail_store_each(s, count_entry, &w, err, errlen);
}

/* With the lock held: whether `more` bytes fit beside what is stored and being written. */
static bool bytes_fit(const struct badmail_store *s, unsigned long long stored, unsigned long long more)
{
	return !s->limits.max_bytes || stored + s->pending_bytes + more <= s->limits.max_bytes;
}

/* ---- writing ------------------------------------------------------------------------------------ */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int create_file(int dir, const char *name)
{
	return openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* The usage the limits are checked against: a walk of the store when the last is older than
 * USAGE_RESCAN_MS, else that walk plus the commits since. */
static int stored_usage(struct badmail_store *s, struct badmail_usage *out, char *err, size_t errlen)
{
	long long now = monotonic_ms();
	bool fresh;

	pthread_mutex_lock(&s->lock);
	fresh = s->walked_ms && now - s->walked_ms < USAGE_RESCAN_MS;
	if (fresh)
		*out = s->stored;
	pthread_mutex_unlock(&s->lock);
	if (fresh)
		return 0;
	if (badmail_store_usage(s, out, err, errlen) != 0)
		return -1;
	pthread_mutex_lock(&s->lock);
	s->stored = *out;
	s->walked_ms = now ? now : 1;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

struct badmail_entry *badmail_entry_begin(struct badmail_store *s, char *err, size_t errlen)
{
	struct badmail_usage usage;
	struct badmail_entry *e;

	if (stored_usage(s, &usage, err, errlen) != 0)
		return NULL;
	pthread_mutex_lock(&s->lock);
	if (s->limits.max_entries && usage.entries + s->pending_entries >= s->limits.max_entries) {
		pthread_mutex_unlock(&s->lock);
		snprintf(err, errlen, "badmail_max_entries (%u) reached", s->limits.max_entries);
		return NULL;
	}
	if (!bytes_fit(s, usage.bytes, 1)) {
		pthread_mutex_unlock(&s->lock);
		snprintf(err, errlen, "badmail_max_size (%llu bytes) reached", s->limits.max_bytes);
		return NULL;
	}
	s->pending_entries++;
	pthread_mutex_unlock(&s->lock);

	if (!(e = calloc(1, sizeof(*e)))) {
		snprintf(err, errlen, "out of memory");
		goto unreserve;
	}
	e->store = s;
	e->dir = e->message = -1;
	if (new_id(e->id, err, errlen) != 0)
		goto fail;
	if (mkdirat(s->tmp, e->id, 0700) != 0) {
		set_err(err, errlen, "tmp", errno);
		goto fail;
	}
	if ((e->dir = openat(s->tmp, e->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (e->message = create_file(e->dir, "message")) < 0) {
		set_err(err, errlen, "tmp", errno);
		badmail_entry_abort(e);
		return NULL;
	}
	return e;
fail:
	free(e);
unreserve:
	pthread_mutex_lock(&s->lock);
	s->pending_entries--;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

const char *badmail_entry_id(const struct badmail_entry *e)
{
	return e->id;
}

/* Reserves `len` more bytes for this entry, or says which limit it would pass. */
static int reserve(struct badmail_entry *e, size_t len, char *err, size_t errlen)
{
	struct badmail_store *s = e->store;

	pthread_mutex_lock(&s->lock);
	if (!bytes_fit(s, s->stored.bytes, len)) {
		pthread_mutex_unlock(&s->lock);
		snprintf(err, errlen, "badmail_max_size (%llu bytes) reached", s->limits.max_bytes);
		return -1;
	}
	s->pending_bytes += len;
	e->bytes += len;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int badmail_entry_write(struct badmail_entry *e, const void *data, size_t len, char *err, size_t errlen)
{
	if (reserve(e, len, err, errlen) != 0)
		return -1;
	if (write_all(e->message, data, len) != 0) {
		set_err(err, errlen, "writing the message", errno);
		return -1;
	}
	return 0;
}

int badmail_entry_add_file(struct badmail_entry *e, const char *name, const void *data, size_t len, char *err,
			   size_t errlen)
{
	int fd;

	if (!file_name_valid(name) || strcmp(name, "message") == 0 || e->file_count == FILES_MAX) {
		snprintf(err, errlen, "internal error: bad entry file name");
		return -1;
	}
	if (reserve(e, len, err, errlen) != 0)
		return -1;
	if ((fd = create_file(e->dir, name)) < 0) {
		set_err(err, errlen, name, errno);
		return -1;
	}
	e->files[e->file_count++] = fd;
	if (write_all(fd, data, len) != 0) {
		set_err(err, errlen, name, errno);
		return -1;
	}
	return 0;
}

static void entry_free(struct badmail_entry *e)
{
	struct badmail_store *s = e->store;

	if (e->message >= 0)
		close(e->message);
	for (size_t i = 0; i < e->file_count; i++)
		close(e->files[i]);
	if (e->dir >= 0)
		close(e->dir);
	pthread_mutex_lock(&s->lock);
	s->pending_entries--;
	s->pending_bytes -= e->bytes;
	pthread_mutex_unlock(&s->lock);
	free(e);
}

int badmail_entry_commit(struct badmail_entry *e, char *err, size_t errlen)
{
	struct badmail_store *s = e->store;

	/* the files, then the directory that names them, then the rename, then where it now is */
	if (fsync(e->message) != 0) {
		set_err(err, errlen, "fsync of the message", errno);
		goto fail;
	}
	for (size_t i = 0; i < e->file_count; i++)
		if (fsync(e->files[i]) != 0) {
			set_err(err, errlen, "fsync", errno);
			goto fail;
		}
	if (fsync(e->dir) != 0) {
		set_err(err, errlen, "fsync of the entry", errno);
		goto fail;
	}
	if (renameat(s->tmp, e->id, s->entries, e->id) != 0) {
		set_err(err, errlen, "rename into entries", errno);
		goto fail;
	}
	if (fsync(s->entries) != 0 || fsync(s->tmp) != 0) {
		/* whole but perhaps not durable: the message must not be discarded on its strength, and a
		 * copy left behind would be a second one when the MTA retries */
		set_err(err, errlen, "fsync of entries", errno);
		remove_dir(s->entries, e->id);
		entry_free(e);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	s->stored.entries++;
	s->stored.bytes += e->bytes;
	pthread_mutex_unlock(&s->lock);
	entry_free(e);
	return 0;
fail:
	badmail_entry_abort(e);
	return -1;
}

void badmail_entry_abort(struct badmail_entry *e)
{
	if (!e)
		return;
	remove_dir(e->store->tmp, e->id);
	entry_free(e);
}

int badmail_store_replace(struct badmail_store *s, const char *id, const char *name, const void *data, size_t len,
			  char *err, size_t errlen)
{
	char temp[48];
	int dir, fd = -1, rc = -1;

	if (!badmail_id_valid(id) || !file_name_valid(name)) {
		snprintf(err, errlen, "no such entry file");
		return -1;
	}
	if ((dir = openat(s->entries, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		set_err(err, errlen, id, errno);
		return -1;
	}
	snprintf(temp, sizeof(temp), ".%s.new", name);
	(void)unlinkat(dir, temp, 0);	/* a crash's leftover */
	if ((fd = create_file(dir, temp)) < 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		set_err(err, errlen, name, errno);
		(void)unlinkat(dir, temp, 0);
		goto out;
	}
	if (renameat(dir, temp, dir, name) != 0 || fsync(dir) != 0) {
		set_err(err, errlen, name, errno);
		(void)unlinkat(dir, temp, 0);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dir);
	return rc;
}

int badmail_store_delete(struct badmail_store *s, const char *id, char *err, size_t errlen)
{
	char gone[BADMAIL_ID_SIZE + 8];
	struct stat st;

	if (!badmail_id_valid(id)) {
		snprintf(err, errlen, "not an entry id");
		errno = EINVAL;
		return -1;
	}
	/* a name of its own in tmp/: never the one a session writing an entry could be using */
	snprintf(gone, sizeof(gone), "%s.delete", id);
	if (fstatat(s->tmp, gone, &st, AT_SYMLINK_NOFOLLOW) == 0)
		remove_dir(s->tmp, gone);	/* what an interrupted delete of this entry left */
	/* the link itself when one was planted in entries/: rename never follows it */
	if (renameat(s->entries, id, s->tmp, gone) != 0) {
		int saved = errno;
		if (saved == ENOENT)
			snprintf(err, errlen, "%s: no such entry", id);
		else
			set_err(err, errlen, id, saved);
		errno = saved;
		return -1;
	}
	if (fsync(s->entries) != 0) {
		int saved = errno;
		/* gone from entries/, perhaps not durably: a crash may bring it back whole, never half */
		remove_dir(s->tmp, gone);
		snprintf(err, errlen, "%s: removed, but fsync of entries failed: %s", id, strerror(saved));
		errno = saved;
		return -1;
	}
	remove_dir(s->tmp, gone);
	if (fstatat(s->tmp, gone, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		snprintf(err, errlen, "%s: moved out of entries into tmp, but not removed there (the next start of "
				      "dnsguard removes it)",
			 id);
		errno = ENOTEMPTY;
		return -1;
	}
	(void)fsync(s->tmp);
	return 0;
}

/* ---- reading committed entries ------------------------------------------------------------------ */

static int compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

int badmail_store_each(struct badmail_store *s, int (*fn)(const char *id, void *arg), void *arg, char *err,
		       size_t errlen)
{
	int fd = dup(s->entries), rc = 0;
	char (*ids)[BADMAIL_ID_SIZE] = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		set_err(err, errlen, "entries", errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (!badmail_id_valid(e->d_name))
			continue;
		if (count == cap) {
			size_t grown_cap = cap ? cap * 2 : 64;
			void *grown = realloc(ids, grown_cap * sizeof(*ids));
			if (!grown) {
				snprintf(err, errlen, "out of memory");
				rc = -1;
				break;
			}
			ids = grown;
			cap = grown_cap;
		}
		memcpy(ids[count++], e->d_name, BADMAIL_ID_SIZE);
	}
	closedir(d);
	if (rc == 0 && count) {
		qsort(ids, count, sizeof(*ids), compare_ids);
		for (size_t i = 0; i < count && rc == 0; i++)
			rc = fn(ids[i], arg);
	}
	free(ids);
	return rc;
}

/* The entry's directory, never through a link. */
static int open_entry(struct badmail_store *s, const char *id, const char *name, char *err, size_t errlen)
{
	int dir;

	if (!badmail_id_valid(id) || !file_name_valid(name)) {
		snprintf(err, errlen, "no such entry file");
		errno = EINVAL;
		return -1;
	}
	if ((dir = openat(s->entries, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		set_err(err, errlen, id, errno);
	return dir;
}

int badmail_store_open_file(struct badmail_store *s, const char *id, const char *name, char *err, size_t errlen)
{
	int dir = open_entry(s, id, name, err, errlen), fd, saved;

	if (dir < 0)
		return -1;
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	saved = errno;
	if (fd < 0)
		snprintf(err, errlen, "%s/%s: %s", id, name, strerror(saved));
	close(dir);
	errno = saved;
	return fd;
}

char *badmail_store_read_file(struct badmail_store *s, const char *id, const char *name, size_t max, size_t *len,
			      char *err, size_t errlen)
{
	int fd = badmail_store_open_file(s, id, name, err, errlen);
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		snprintf(err, errlen, "%s/%s: not a regular file of at most %zu bytes", id, name, max);
		close(fd);
		return NULL;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (len)
		*len = got;
	return buf;
}

int badmail_store_remove_file(struct badmail_store *s, const char *id, const char *name, char *err, size_t errlen)
{
	int dir = open_entry(s, id, name, err, errlen), rc = 0;

	if (dir < 0)
		return -1;
	if (unlinkat(dir, name, 0) != 0 && errno != ENOENT) {
		set_err(err, errlen, name, errno);
		rc = -1;
	} else if (fsync(dir) != 0) {
		set_err(err, errlen, id, errno);
		rc = -1;
	}
	close(dir);
	return rc;
}
