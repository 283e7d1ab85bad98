/*
 * strbuf - a bounded string builder.
 *
 * Holds SMTP and DNS text whose size a peer controls, so it has a hard maximum: appends past it
 * are cut and the buffer remembers that it was truncated (strbuf_truncated), never silently.
 * The buffer may live on the stack over caller storage (strbuf_init) or grow on the heap up to
 * its maximum (strbuf_new).  The text is always NUL-terminated.
 */
#ifndef DNSGUARD_STRBUF_H
#define DNSGUARD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data;
	size_t len;
	size_t cap;	  /* bytes of data, including room for the NUL */
	size_t max;	  /* hard maximum length */
	bool owned;	  /* data is ours to grow and free */
	bool truncated;
};

/* Over caller storage of `size` bytes (maximum length size - 1). */
void strbuf_init(struct strbuf *sb, char *storage, size_t size);
/* On the heap, growing up to `max` bytes of text. */
void strbuf_init_heap(struct strbuf *sb, size_t max);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);

void strbuf_append(struct strbuf *sb, const char *text);
void strbuf_append_len(struct strbuf *sb, const char *text, size_t len);
void strbuf_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Appends " key=value" for a log line.  The value is written as is when it is plain, or in
 * double quotes with \" and \\ escaped when it holds spaces, quotes or '='; control bytes and
 * non-ASCII bytes from peers are written as \xHH so a line can never be split or forged.
 */
void strbuf_append_kv(struct strbuf *sb, const char *key, const char *value);

const char *strbuf_text(const struct strbuf *sb);
size_t strbuf_len(const struct strbuf *sb);
bool strbuf_truncated(const struct strbuf *sb);

#endif
