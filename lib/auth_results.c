/*
 * auth_results - header fields dnsguard adds, and recognising forged ones; see auth_results.h.
 *
 * Reading an authserv-id is a small lexer over RFC 8601 2.2 and RFC 5322 3.2: it decides what
 * gets removed from mail a peer wrote, so it reads the id exactly as a conforming reader would, and
 * where readers may differ (malformed text, a trailing dot) it leans towards removing.  It never
 * recurses and never reads past the terminating NUL.
 */
#include "auth_results.h"

#include <stdio.h>
#include <string.h>

/* ---- writing ------------------------------------------------------------------------------- */

/* RFC 2045 5.1: token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials> */
static bool is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

bool auth_results_id_is_token(const char *id)
{
	if (!id || !*id)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (!is_token_char(*p))
			return false;
	return true;
}

/* Header values hold no CR/LF and no parentheses-breaking text from peers. */
static void clean_copy(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)(src ? src : ""); *p && o + 1 < size; p++)
		dst[o++] = (*p < 0x21 || *p >= 0x7f || *p == '(' || *p == ')' || *p == ';' || *p == '\\') ? '_' : (char)*p;
	dst[o] = '\0';
}

/* The id as a token when it is one, else as an RFC 5322 quoted-string: the configured id is a
 * token (config.c), but the MTA's {j} or the host name may not be, and the field must stay
 * well-formed and ours either way. */
static void write_authserv_id(char *dst, size_t size, const char *id)
{
	size_t o = 0;

	if (auth_results_id_is_token(id)) {
		snprintf(dst, size, "%s", id);
		return;
	}
	dst[o++] = '"';
	/* room for a quoted-pair, the closing quote and the NUL */
	for (const unsigned char *p = (const unsigned char *)(id ? id : ""); *p && o + 4 <= size; p++) {
		if (*p == '"' || *p == '\\')
			dst[o++] = '\\';
		dst[o++] = (*p < 0x20 || *p >= 0x7f) ? '_' : (char)*p;
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

const char *auth_results_iprev(const char *authserv_id, const char *result, const char *client_ip,
			       const char *hostname, char *buf, size_t size)
{
	char id[520], name[256], ip[64];

	write_authserv_id(id, sizeof(id), authserv_id);
	clean_copy(ip, sizeof(ip), client_ip);
	clean_copy(name, sizeof(name), hostname);
	if (name[0])
		snprintf(buf, size, "%s; iprev=%s policy.iprev=%s (%s)", id, result, ip, name);
	else
		snprintf(buf, size, "%s; iprev=%s policy.iprev=%s", id, result, ip);
	return buf;
}

const char *auth_results_dnsguard(const char *summary, const char *authserv_id, char *buf, size_t size)
{
	char id[256], text[256];

	/* the id sits in a comment: no parenthesis, backslash or control byte may end it early */
	clean_copy(id, sizeof(id), authserv_id);
	snprintf(text, sizeof(text), "%s", summary ? summary : "");
	for (char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f || *c == '(' || *c == ')' || *c == '\\')
			*c = '_';
	snprintf(buf, size, "%s (%s)", text, id);
	return buf;
}

/* ---- reading ------------------------------------------------------------------------------- */

/*
 * Compares an authserv-id with ours as it is decoded, byte by byte, so that no id a peer writes
 * needs a buffer: ASCII case is ignored (RFC 8601 2.5), and so is one trailing dot on either side,
 * because "mx.example.org." names the same host and a reader that makes names absolute would take
 * it as ours.
 */
struct id_match {
	const char *ours;
	size_t ours_len;	/* without its trailing dot */
	size_t matched;
	bool past_dot;		/* one dot was taken after all of ours */
	bool differs;
};

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static void id_match_init(struct id_match *m, const char *ours)
{
	/* a quoted-string's blanks at its ends are not part of the id when it is read back */
	while (*ours == ' ')
		ours++;
	m->ours = ours;
	m->ours_len = strlen(ours);
	while (m->ours_len && ours[m->ours_len - 1] == ' ')
		m->ours_len--;
	if (m->ours_len > 1 && ours[m->ours_len - 1] == '.')
		m->ours_len--;
	m->matched = 0;
	m->past_dot = false;
	m->differs = false;
}

/* A byte of our id as write_authserv_id writes it: a field we wrote for an id with control or
 * 8-bit bytes (the MTA's {j} can hold anything) must still be found ours. */
static unsigned char as_written(unsigned char c)
{
	return c < 0x20 || c >= 0x7f ? '_' : c;
}

static void id_match_feed(struct id_match *m, unsigned char c)
{
	if (m->differs)
		return;
	if (!m->past_dot && m->matched < m->ours_len &&
	    ascii_lower(as_written(c)) == ascii_lower(as_written((unsigned char)m->ours[m->matched])))
		m->matched++;
	else if (!m->past_dot && m->matched == m->ours_len && c == '.')
		m->past_dot = true;
	else
		m->differs = true;
}

static bool id_match_equal(const struct id_match *m)
{
	return !m->differs && m->matched == m->ours_len;
}

/* Folds are CRLF or a bare LF before white space; a stray CR or LF is taken as white space too,
 * since some readers do, and reading it so can only find more of our fields. */
static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Skips CFWS: white space, folds and comments.  Comments nest and hold quoted-pairs ("\)" does not
 * close one); the depth is a counter, not recursion, so a peer's nesting costs no stack.  False
 * when the value ends inside a comment.
 */
static bool skip_cfws(const unsigned char **cursor)
{
	const unsigned char *p = *cursor;
	size_t depth = 0;

	while (*p) {
		if (*p == '(') {
			depth++;
		} else if (depth == 0) {
			if (!is_space(*p))
				break;
		} else if (*p == ')') {
			depth--;
		} else if (*p == '\\' && p[1] != '\0') {
			p++;
		}
		p++;
	}
	*cursor = p;
	return depth == 0;
}

/*
 * Reads a quoted-string starting at its opening quote into `m`: quoted-pairs decode to the byte
 * they quote and folds unfold (the CR and LF go, the white space stays, RFC 5322 3.2.4).  White
 * space at either end of the content is left out, as a reader that trims names would.  False when
 * the value ends before the closing quote.
 */
static bool read_quoted_string(const unsigned char **cursor, struct id_match *m)
{
	const unsigned char *p = *cursor + 1;
	struct id_match before_space = *m;
	bool started = false, in_space = false;

	for (; *p != '"'; p++) {
		unsigned char c = *p;
		if (c == '\0')
			return false;
		if (c == '\r' || c == '\n')
			continue;
		if (c == '\\') {
			if (p[1] == '\0')
				return false;
			c = *++p;
		}
		if (c == ' ' || c == '\t') {
			if (!started)
				continue;
			if (!in_space)
				before_space = *m;
			in_space = true;
		} else {
			started = true;
			in_space = false;
		}
		id_match_feed(m, c);
	}
	/* white space that ended the content was not part of the name */
	if (in_space)
		*m = before_space;
	*cursor = p + 1;
	return true;
}

bool auth_results_is_ours(const char *value, const char *authserv_id)
{
	const unsigned char *p = (const unsigned char *)value;
	struct id_match m;

	if (!value || !authserv_id || !*authserv_id)
		return false;
	id_match_init(&m, authserv_id);
	if (!skip_cfws(&p))
		return true;
	if (*p == '\0')
		return false;
	if (*p == '"') {
		if (!read_quoted_string(&p, &m))
			return true;
	} else if (is_token_char(*p)) {
		while (is_token_char(*p))
			id_match_feed(&m, *p++);
	} else {
		/* neither a token nor a quoted-string: no reader can use it, some may see our id */
		return true;
	}
	/* the version, ';' and the results that follow do not change whose field it claims to be */
	return id_match_equal(&m);
}
