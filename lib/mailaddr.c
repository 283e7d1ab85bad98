/*
 * mailaddr - RFC 5321 envelope address parsing; see mailaddr.h.
 *
 * The input is never modified and never read past the first MAILADDR_TEXT_MAX + 1 octets; after
 * the length check it is only looked at through (start, length) ranges, and every copy out is
 * checked against the field it goes into before it is made.
 */
#include "mailaddr.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct range {
	const char *s;
	size_t len;
};

struct parse {
	struct mailaddr *out;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static bool reason(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
		/* libidn2's messages may come translated: keep the promise of printable ASCII */
		for (char *c = p->err; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				*c = '?';
	}
	return false;
}

/* Names a refused byte without ever putting a control or 8-bit byte into the reason. */
static bool bad_character(struct parse *p, unsigned char c, const char *where)
{
	if (c < 0x20 || c == 0x7f)
		return reason(p, "control character in %s", where);
	if (c == ' ')
		return reason(p, "space in %s", where);
	if (c < 0x80)
		return reason(p, "invalid character '%c' in %s", c, where);
	return reason(p, "invalid character 0x%02x in %s", c, where);
}

/* RFC 5322 atext: what an unquoted local part is made of, besides dots and UTF-8. */
static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Letters, digits, hyphen, and the underscore real senders put in their subdomains. */
static bool is_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Well-formed UTF-8: no stray continuation bytes, no overlong forms, no surrogates, <= U+10FFFF. */
static bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = u[i], cp, min;
		size_t more;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			more = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i - 1 < more)
			return false;
		for (size_t k = 1; k <= more; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += more + 1;
	}
	return true;
}

/* The caller has checked that r fits. */
static void copy_range(char *dst, size_t size, struct range r)
{
	size_t n = r.len < size ? r.len : size - 1;

	memcpy(dst, r.s, n);
	dst[n] = '\0';
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/*
 * Where `want` occurs outside quoted strings in r: the first time, or the last when `last`.
 * Inside quotes a backslash takes the next byte with it, so neither \" nor a quoted '@' or '>'
 * counts.  -1 when a quote is left open, 0 when `want` does not occur, 1 with *pos set.
 */
static int find_unquoted(struct range r, char want, bool last, size_t *pos)
{
	bool quoted = false, found = false;

	for (size_t i = 0; i < r.len; i++) {
		char c = r.s[i];
		if (quoted) {
			if (c == '\\') {
				if (i + 1 == r.len)
					return -1;
				i++;
			} else if (c == '"') {
				quoted = false;
			}
			continue;
		}
		if (c == '"') {
			quoted = true;
		} else if (c == want) {
			*pos = i;
			found = true;
			if (!last)
				return 1;
		}
	}
	if (quoted)
		return -1;
	return found ? 1 : 0;
}

/* A dot-string (stray dots tolerated) or one quoted string; UTF-8 allowed (RFC 6531). */
static bool check_local(struct parse *p, struct range r)
{
	if (r.len == 0)
		return reason(p, "empty local part");
	if (r.len > MAILADDR_LOCAL_MAX)
		return reason(p, "local part longer than %d octets", MAILADDR_LOCAL_MAX);
	if (r.s[0] == '"') {
		size_t i;
		for (i = 1; i < r.len; i++) {
			unsigned char c = (unsigned char)r.s[i];
			if (c == '"')
				break;
			if (c == '\\') {
				if (++i == r.len)
					return reason(p, "unbalanced quotes");
				c = (unsigned char)r.s[i];
				/* RFC 5321 quoted-pairSMTP: a backslash and a printable ASCII character */
				if (c < 0x20 || c > 0x7e)
					return reason(p, "invalid escape in quoted local part");
				continue;
			}
			if (c < 0x20 || c == 0x7f)
				return reason(p, "control character in local part");
		}
		if (i == r.len)
			return reason(p, "unbalanced quotes");
		if (i != r.len - 1)
			return reason(p, "a quoted string must be the whole local part");
	} else {
		for (size_t i = 0; i < r.len; i++) {
			unsigned char c = (unsigned char)r.s[i];
			if (c == '"')
				return reason(p, "a quoted string must be the whole local part");
			if (c < 0x80 && c != '.' && !is_atext(c))
				return bad_character(p, c, "local part");
		}
	}
	if (!utf8_valid(r.s, r.len))
		return reason(p, "invalid UTF-8 in local part");
	copy_range(p->out->local, sizeof(p->out->local), r);
	return true;
}

/* The A-label form, lower case and without its final dot, as DNS will be asked about it. */
static bool check_alabel(struct parse *p, const char *name)
{
	size_t len = strlen(name), start = 0;
	bool numeric = true;

	if (len > MAILADDR_DOMAIN_MAX)
		return reason(p, "domain longer than %d octets", MAILADDR_DOMAIN_MAX);
	if (name[0] == '.')
		return reason(p, "domain starts with a dot");
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (i < len && c != '.') {
			if (!is_label_char(c))
				return bad_character(p, c, "domain");
			if (c < '0' || c > '9')
				numeric = false;
			continue;
		}
		if (i == start)
			return reason(p, "empty label in domain");
		if (i - start > MAILADDR_LABEL_MAX)
			return reason(p, "domain label longer than %d octets", MAILADDR_LABEL_MAX);
		if (name[start] == '-' || name[i - 1] == '-')
			return reason(p, "domain label begins or ends with a hyphen");
		if (i < len) {
			start = i + 1;
			numeric = true;
		}
	}
	/* no top-level domain is all digits: this is an IP address written without brackets */
	if (numeric)
		return reason(p, "numeric top-level label (an address literal needs brackets)");
	return true;
}

/* UTS #46 as libidn2 does it: non-transitional first (faß.de stays faß), transitional as the
 * fallback for names only the older rules take (emoji).  An ideographic full stop at the end maps
 * to a final dot, dropped unless the name already lost one ("bücher.example。." keeps it, and
 * fails as an empty label). */
static bool to_alabel(struct parse *p, const char *utf8, bool final_dot_dropped, char *alabel, size_t size)
{
	char *ascii = NULL;
	size_t len;
	int rc = idn2_to_ascii_8z(utf8, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);

	/* libidn2 checks the lengths of the A-label form too: say so in the words used for ASCII */
	if (rc == IDN2_TOO_BIG_DOMAIN)
		return reason(p, "domain longer than %d octets", MAILADDR_DOMAIN_MAX);
	if (rc == IDN2_TOO_BIG_LABEL || rc == IDN2_PUNYCODE_BIG_OUTPUT)
		return reason(p, "domain label longer than %d octets", MAILADDR_LABEL_MAX);
	if (rc != IDN2_OK) {
		int first = rc;
		rc = idn2_to_ascii_8z(utf8, &ascii, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK)
			return reason(p, "invalid IDN: %s", idn2_strerror(first));
	}
	len = strlen(ascii);
	if (len && ascii[len - 1] == '.' && !final_dot_dropped)
		ascii[--len] = '\0';
	if (len >= size) {
		idn2_free(ascii);
		return reason(p, "domain longer than %d octets", MAILADDR_DOMAIN_MAX);
	}
	memcpy(alabel, ascii, len + 1);
	idn2_free(ascii);
	return true;
}

static bool parse_domain(struct parse *p, struct range r)
{
	struct mailaddr *out = p->out;
	bool ascii = true, final_dot = r.len && r.s[r.len - 1] == '.';

	if (final_dot)
		r.len--;
	if (r.len == 0)
		return reason(p, "empty domain");
	for (size_t i = 0; i < r.len; i++) {
		unsigned char c = (unsigned char)r.s[i];
		if (c >= 0x80)
			ascii = false;
		else if (c != '.' && !is_label_char(c))
			return bad_character(p, c, "domain");
	}
	if (!ascii && !utf8_valid(r.s, r.len))
		return reason(p, "invalid UTF-8 in domain");
	/* the A-label length is checked below; this only bounds the copy (UTF-8 takes more octets) */
	if (r.len >= sizeof(out->domain_utf8)) {
		if (ascii)
			return reason(p, "domain longer than %d octets", MAILADDR_DOMAIN_MAX);
		return reason(p, "domain longer than %zu octets as written", sizeof(out->domain_utf8) - 1);
	}
	copy_range(out->domain_utf8, sizeof(out->domain_utf8), r);
	if (ascii)
		copy_range(out->domain, sizeof(out->domain), r);
	else if (!to_alabel(p, out->domain_utf8, final_dot, out->domain, sizeof(out->domain)))
		return false;
	lower_ascii(out->domain);
	if (!check_alabel(p, out->domain))
		return false;
	out->kind = MAILADDR_DOMAIN;
	return true;
}

/* [192.0.2.1] or [IPv6:2001:db8::1]; RFC 5321 4.1.3 registers no other tag. */
static bool parse_literal(struct parse *p, struct range r)
{
	struct mailaddr *out = p->out;
	char text[64], canonical[INET6_ADDRSTRLEN];
	const char *close = memchr(r.s, ']', r.len);
	size_t len;

	if (!close)
		return reason(p, "unterminated address literal");
	if (close != r.s + r.len - 1)
		return reason(p, "text after ']' in address literal");
	len = r.len - 2;
	if (len == 0)
		return reason(p, "empty address literal");
	if (len >= sizeof(text))
		return reason(p, "invalid address literal");
	memcpy(text, r.s + 1, len);
	text[len] = '\0';
	if (strncasecmp(text, "IPv6:", 5) == 0) {
		/* an IPv6 address always has a colon; without one inet_pton would take IPv4 */
		if (!strchr(text + 5, ':') || !netaddr_parse(text + 5, &out->literal))
			return reason(p, "invalid IPv6 address literal");
	} else if (strchr(text, ':')) {
		struct netaddr untagged;
		if (netaddr_parse(text, &untagged))
			return reason(p, "IPv6 address literal without the \"IPv6:\" tag");
		return reason(p, "unknown address literal tag");
	} else if (!netaddr_parse(text, &out->literal) || out->literal.family != AF_INET) {
		return reason(p, "invalid IPv4 address literal");
	}
	netaddr_format(&out->literal, canonical, sizeof(canonical));
	snprintf(out->domain, sizeof(out->domain), "[%s%s]", out->literal.family == AF_INET6 ? "IPv6:" : "", canonical);
	copy_range(out->domain_utf8, sizeof(out->domain_utf8), r);
	out->kind = MAILADDR_LITERAL;
	return true;
}

/* "@relay1,@relay2:" (RFC 5321 A-d-l): checked for shape, then dropped as 5321 says to. */
static bool skip_route(struct parse *p, struct range *r)
{
	const char *colon = memchr(r->s, ':', r->len);
	size_t route_len, i = 0;

	/* "@example.org" is far more often a missing local part than a route missing its ':' */
	if (!colon)
		return reason(p, "empty local part");
	route_len = (size_t)(colon - r->s);
	while (i < route_len) {
		size_t start;
		if (r->s[i] != '@')
			return reason(p, "invalid source route");
		start = ++i;
		for (; i < route_len && r->s[i] != ','; i++) {
			unsigned char c = (unsigned char)r->s[i];
			if (c < 0x80 && c != '.' && c != '[' && c != ']' && !is_label_char(c))
				return reason(p, "invalid source route");
		}
		if (i == start)
			return reason(p, "empty domain in source route");
		if (i < route_len && ++i == route_len)
			return reason(p, "invalid source route");
	}
	r->s = colon + 1;
	r->len -= route_len + 1;
	if (r->len == 0)
		return reason(p, "no mailbox after the source route");
	return true;
}

static bool parse_mailbox(struct parse *p, struct range r)
{
	struct mailaddr *out = p->out;
	struct range local, domain;
	size_t at = 0;
	bool ok;

	switch (find_unquoted(r, '@', true, &at)) {
	case -1:
		return reason(p, "unbalanced quotes");
	case 0:
		if (!check_local(p, r))
			return false;
		out->kind = MAILADDR_LOCAL_ONLY;
		memcpy(out->address, out->local, strlen(out->local) + 1);
		return true;
	default:
		break;
	}
	local = (struct range){r.s, at};
	domain = (struct range){r.s + at + 1, r.len - at - 1};
	if (!check_local(p, local))
		return false;
	if (domain.len && domain.s[0] == '[')
		ok = parse_literal(p, domain);
	else
		ok = parse_domain(p, domain);
	if (!ok)
		return false;
	/* local <= 255 and domain_utf8 <= 255 octets: always fits in 512 */
	size_t local_len = strlen(out->local), domain_len = strlen(out->domain_utf8);
	memcpy(out->address, out->local, local_len);
	out->address[local_len] = '@';
	memcpy(out->address + local_len + 1, out->domain_utf8, domain_len + 1);
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool parse_text(struct parse *p, const char *text)
{
	struct range r;

	if (!text)
		return reason(p, "no address");
	r.s = text;
	r.len = strnlen(text, MAILADDR_TEXT_MAX + 1);
	if (r.len > MAILADDR_TEXT_MAX)
		return reason(p, "address longer than %d octets", MAILADDR_TEXT_MAX);
	while (r.len && is_blank(r.s[0]))
		r.s++, r.len--;
	while (r.len && is_blank(r.s[r.len - 1]))
		r.len--;
	if (r.len == 0)
		return reason(p, "empty address");
	if (r.s[0] == '<') {
		size_t gt = 0;
		r.s++, r.len--;
		switch (find_unquoted(r, '>', false, &gt)) {
		case -1:
			return reason(p, "unbalanced quotes");
		case 0:
			return reason(p, "missing '>'");
		default:
			break;
		}
		if (gt + 1 != r.len)
			return reason(p, "text after '>'");
		r.len = gt;
		if (r.len == 0) {
			p->out->kind = MAILADDR_NULL;
			return true;
		}
		if (is_blank(r.s[0]) || is_blank(r.s[r.len - 1]))
			return reason(p, "blanks inside the angle brackets");
	} else if (r.s[r.len - 1] == '>') {
		return reason(p, "missing '<'");
	}
	if (r.s[0] == '@' && !skip_route(p, &r))
		return false;
	return parse_mailbox(p, r);
}

int mailaddr_parse(const char *text, struct mailaddr *out, char *err, size_t errlen)
{
	struct parse p = {out, err, errlen};

	if (err && errlen)
		err[0] = '\0';
	if (!out) {
		reason(&p, "no result buffer");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (!parse_text(&p, text)) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

const char *mailaddr_kind_name(enum mailaddr_kind kind)
{
	switch (kind) {
	case MAILADDR_NULL:
		return "null";
	case MAILADDR_DOMAIN:
		return "domain";
	case MAILADDR_LITERAL:
		return "literal";
	case MAILADDR_LOCAL_ONLY:
		return "local-only";
	}
	return "?";
}
