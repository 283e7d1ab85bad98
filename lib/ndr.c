/*
 * ndr - the non-delivery report of a diverted message; see ndr.h.
 *
 * Two halves.  ndr_wanted reads the original's header block, as raw bytes and without trusting
 * any of them, for the few fields that forbid an NDR.  ndr_build writes the report; what it
 * quotes from the original passes through one of three doors only: quoted-printable (the
 * explanation and the original headers), RFC 3461 xtext or a printable-ASCII check (the
 * delivery-status fields, To:), so no byte of the original reaches the output as it came.
 *
 * Line ends: the original's lines end at LF (a CR before it is dropped; a CR anywhere else is a
 * control byte like any other); the NDR's lines end at LF alone, as sendmail(1) reads them.
 */
#include "ndr.h"

#include <errno.h>
#include <locale.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "mailaddr.h"
#include "strbuf.h"

#define LINE_WIDTH 78		/* header fields we write are folded within this */
#define TEXT_WIDTH 72		/* the explanation is wrapped at this, before encoding */
#define QP_WIDTH 76		/* RFC 2045 6.7 (5): encoded lines, soft line break included */
#define LINE_MAX_OCTETS 998	/* RFC 5322 2.1.1 */
#define ADDRESS_OCTETS_MAX 900	/* of an address as written in a field; past this it is cut */
#define TOKEN_MAX 64		/* a keyword or parameter of the original's fields */
/* In our own sentences, a blank the explanation must not wrap at ("31 ms"); written as a blank.
 * Foreign text cannot hold it: text_of turns control octets into '?'. */
#define NB "\x1f"

/* ---- reading the original's header block ------------------------------------------------------ */

/*
 * The length of the header block in `h`: up to and including the line end before the first
 * empty line, or all of it.  A line ends at LF; "\r\n" counts as one line end.
 */
static size_t header_block_length(const unsigned char *h, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (h[i] != '\n')
			continue;
		/* an empty line: nothing, or a lone CR, between the previous line end and this LF */
		if (i == line || (i == line + 1 && h[line] == '\r'))
			return line;
		line = i + 1;
	}
	return len;
}

/* The end of the line starting at `p` (before its CR LF or LF), and where the next begins. */
static const unsigned char *line_end(const unsigned char *p, const unsigned char *end, const unsigned char **next)
{
	const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
	const unsigned char *e = lf ? lf : end;

	*next = lf ? lf + 1 : end;
	if (e > p && e[-1] == '\r')
		e--;
	return e;
}

/* One field of a header block: its name, and its value with every fold still in it. */
struct field {
	const unsigned char *name, *value;
	size_t name_len, value_len;
};

/*
 * The next field of the block [*p, end), moving *p past it.  A line that does not start a field
 * (a continuation line at the top, or no "name:") is skipped with its continuation lines.
 */
static bool next_field(const unsigned char **p, const unsigned char *end, struct field *f)
{
	while (*p < end) {
		const unsigned char *start = *p, *next, *e = line_end(start, end, &next), *c = start;

		while (c < e && *c > ' ' && *c < 0x7f && *c != ':')
			c++;
		f->name = start;
		f->name_len = (size_t)(c - start);
		while (c < e && (*c == ' ' || *c == '\t'))	/* obs-optional: blanks before the colon */
			c++;
		/* the value runs to the end of the last continuation line */
		while (next < end && (*next == ' ' || *next == '\t'))
			e = line_end(next, end, &next);
		*p = next;
		if (f->name_len > 0 && c < e && *c == ':') {
			f->value = c + 1;
			f->value_len = (size_t)(e - f->value);
			return true;
		}
	}
	return false;
}

static bool field_is(const struct field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp((const char *)f->name, name, f->name_len) == 0;
}

/*
 * A cursor over a field's value that reads it unfolded: line ends are skipped as white space
 * (outside quoted strings unfolding leaves a blank anyway; inside, a fold's line end is not part
 * of the text).
 */
struct lexer {
	const unsigned char *p, *end;
};

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2045 token characters: printable ASCII but tspecials. */
static bool is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* Skips white space and comments (which nest, and hold quoted pairs). */
static void skip_cfws(struct lexer *lx)
{
	unsigned depth = 0;

	while (lx->p < lx->end) {
		unsigned char c = *lx->p;
		if (depth == 0 && is_blank(c)) {
			lx->p++;
		} else if (c == '(') {
			depth++;
			lx->p++;
		} else if (depth > 0 && c == ')') {
			depth--;
			lx->p++;
		} else if (depth > 0 && c == '\\') {
			lx->p += lx->end - lx->p > 1 ? 2 : 1;
		} else if (depth > 0) {
			lx->p++;
		} else {
			return;
		}
	}
}

/* Reads a token into buf (cut to size - 1 octets, and then marked too long by returning false
 * along with an empty buf).  False for no token. */
static bool read_token(struct lexer *lx, char *buf, size_t size)
{
	size_t n = 0;
	bool fits = true;

	while (lx->p < lx->end && is_token_char(*lx->p)) {
		if (n + 1 < size)
			buf[n++] = (char)*lx->p;
		else
			fits = false;
		lx->p++;
	}
	buf[fits ? n : 0] = '\0';
	return fits && n > 0;
}

/* Reads a parameter value: a token or a quoted string (quoted pairs undone, folds dropped). */
static bool read_value(struct lexer *lx, char *buf, size_t size)
{
	size_t n = 0;
	bool fits = true;

	if (lx->p >= lx->end || *lx->p != '"')
		return read_token(lx, buf, size);
	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		unsigned char c = *lx->p++;
		if (c == '\r' || c == '\n')
			continue;
		if (c == '\\' && lx->p < lx->end)
			c = *lx->p++;
		if (n + 1 < size)
			buf[n++] = (char)c;
		else
			fits = false;
	}
	if (lx->p < lx->end)
		lx->p++;	/* the closing quote; an unclosed one ends with the value */
	buf[fits ? n : 0] = '\0';
	return fits;
}

/* Moves past the next ';' outside quoted strings and comments, or to the end. */
static void skip_to_semicolon(struct lexer *lx)
{
	char scratch[TOKEN_MAX];

	while (lx->p < lx->end) {
		skip_cfws(lx);
		if (lx->p >= lx->end)
			return;
		if (*lx->p == ';') {
			lx->p++;
			return;
		}
		if (*lx->p == '"')
			read_value(lx, scratch, sizeof(scratch));
		else
			lx->p++;
	}
}

/* RFC 2231 extended value (charset'language'percent-encoded) into plain text, in place. */
static void decode_extended(char *value)
{
	char *q = strchr(value, '\''), *r, *w = value;

	if (!q || !(q = strchr(q + 1, '\'')))
		return;
	for (r = q + 1; *r; r++) {
		unsigned hi, lo;
		if (*r == '%' && sscanf(r + 1, "%1x%1x", &hi, &lo) == 2) {
			*w++ = (char)(hi << 4 | lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/*
 * The report type of a Content-Type value if it is multipart/report ("" when it has none), else
 * NULL.  Parameters in any order and case, quoted or not, with comments; a parameter that does
 * not parse is skipped up to the next ';'.
 */
static const char *report_type(const struct field *f, char *buf, size_t size)
{
	struct lexer lx = {f->value, f->value + f->value_len};
	char type[TOKEN_MAX], subtype[TOKEN_MAX], attribute[TOKEN_MAX];

	buf[0] = '\0';
	skip_cfws(&lx);
	if (!read_token(&lx, type, sizeof(type)) || strcasecmp(type, "multipart") != 0)
		return NULL;
	skip_cfws(&lx);
	if (lx.p >= lx.end || *lx.p != '/')
		return NULL;
	lx.p++;
	skip_cfws(&lx);
	if (!read_token(&lx, subtype, sizeof(subtype)) || strcasecmp(subtype, "report") != 0)
		return NULL;
	skip_to_semicolon(&lx);
	while (lx.p < lx.end) {
		char value[TOKEN_MAX];
		bool extended;

		skip_cfws(&lx);
		if (!read_token(&lx, attribute, sizeof(attribute))) {
			skip_to_semicolon(&lx);
			continue;
		}
		skip_cfws(&lx);
		if (lx.p >= lx.end || *lx.p != '=') {
			skip_to_semicolon(&lx);
			continue;
		}
		lx.p++;
		skip_cfws(&lx);
		extended = strcasecmp(attribute, "report-type*") == 0;
		if ((extended || strcasecmp(attribute, "report-type") == 0) && read_value(&lx, value, sizeof(value))) {
			if (extended)
				decode_extended(value);
			snprintf(buf, size, "%s", value);
		}
		skip_to_semicolon(&lx);
	}
	return buf;
}

/* The keyword of an Auto-Submitted value ("auto-generated"), or "" when there is none. */
static const char *auto_submitted_keyword(const struct field *f, char *buf, size_t size)
{
	struct lexer lx = {f->value, f->value + f->value_len};

	skip_cfws(&lx);
	read_token(&lx, buf, size);
	return buf;
}

static void say(char *why, size_t whylen, const char *fmt, const char *arg)
{
	if (whylen)
		snprintf(why, whylen, fmt, arg);
}

static bool is_null_sender(const char *s)
{
	size_t n;

	if (!s)
		return true;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 0 || (n == 2 && s[0] == '<' && s[1] == '>');
}

bool ndr_wanted(const char *envelope_sender, const char *headers, size_t len, char *why, size_t whylen)
{
	const unsigned char *h = (const unsigned char *)(headers ? headers : ""), *p = h, *end;
	struct mailaddr sender;
	struct field f;
	char reason[128], token[TOKEN_MAX];

	if (!headers)
		len = 0;
	end = h + header_block_length(h, len);
	if (is_null_sender(envelope_sender)) {
		say(why, whylen, "%s", "null sender");
		return false;
	}
	if (mailaddr_parse(envelope_sender, &sender, reason, sizeof(reason)) != 0) {
		say(why, whylen, "sender address does not parse (%s): nowhere to send to", reason);
		return false;
	}
	while (next_field(&p, end, &f)) {
		if (field_is(&f, "Auto-Submitted")) {
			const char *k = auto_submitted_keyword(&f, token, sizeof(token));
			if (strcasecmp(k, "no") != 0) {
				/* RFC 3834 5: anything but "no" is automatic; an unreadable one counts too */
				say(why, whylen, "Auto-Submitted: %s", *k ? k : "(no readable keyword)");
				return false;
			}
		} else if (field_is(&f, "Content-Type")) {
			const char *rt = report_type(&f, token, sizeof(token));
			if (rt && (strcasecmp(rt, "delivery-status") == 0 || strcasecmp(rt, "global-delivery-status") == 0)) {
				snprintf(reason, sizeof(reason), "%s", rt);
				for (char *c = reason; *c; c++)
					*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
				say(why, whylen, "a delivery report (multipart/report; report-type=%s)", reason);
				return false;
			}
		}
	}
	say(why, whylen, "%s", "");
	return true;
}

/* ---- writing: fields, quoted-printable, wrapped text ------------------------------------------ */

/* Writes "Name: value", folded at its blanks within LINE_WIDTH.  The value is printable ASCII
 * (the callers make it so); runs of blanks fold as one. */
static void put_field(FILE *out, const char *name, const char *value)
{
	size_t col = strlen(name) + 1;
	const char *w = value;

	fprintf(out, "%s:", name);
	while (*w) {
		size_t n;

		while (*w == ' ')
			w++;
		if (!*w)
			break;
		n = strcspn(w, " ");
		if (col + 1 + n > LINE_WIDTH && col > strlen(name) + 1) {
			fputs("\n", out);
			col = 0;
		}
		fputc(' ', out);
		fwrite(w, 1, n, out);
		col += 1 + n;
		w += n;
	}
	fputc('\n', out);
}

/* Quoted-printable (RFC 2045 6.7), one line at a time, LF line ends. */
struct qp {
	FILE *out;
	size_t col;
};

/*
 * Encodes one line (no line end in it) and ends it.  Control octets but TAB (NUL and a lone CR
 * among them) become '?', as in SMTP replies: the text is for people to read, and a terminal
 * escape sequence must not reach them.  Besides what RFC 2045 requires, a '.' or the
 * "F" of "From " that would start an encoded line is encoded, so no MTA or mailbox format can take
 * the line for the end of the message or for a new one.
 */
static void qp_line(struct qp *q, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f ? '?' : s[i];
		bool last = i + 1 == n;
		bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
		char enc[3] = {'=', hex[c >> 4], hex[c & 15]};

		/* a soft line break (which takes a column of its own) may come first: then this octet
		 * starts a line, and is judged there */
		if (q->col + (plain ? 1 : 3) > QP_WIDTH - 1) {
			fputs("=\n", q->out);
			q->col = 0;
		}
		if (q->col == 0 && (c == '.' || (c == 'F' && n - i >= 5 && memcmp(s + i, "From ", 5) == 0)))
			plain = false;
		fwrite(plain ? (const char *)&c : enc, 1, plain ? 1 : 3, q->out);
		q->col += plain ? 1 : 3;
	}
	fputc('\n', q->out);
	q->col = 0;
}

/*
 * Writes a paragraph of the explanation: wrapped at TEXT_WIDTH with `indent` blanks before every
 * line, then encoded.  A word longer than a line stands alone (quoted-printable breaks it).
 */
static void put_paragraph(struct qp *q, unsigned indent, const char *text)
{
	char line[LINE_MAX_OCTETS + 1];
	size_t len = 0;
	const char *w = text;

	while (*w) {
		size_t n;

		while (*w == ' ')
			w++;
		if (!*w)
			break;
		n = strcspn(w, " ");
		if (len > indent && len + 1 + n > TEXT_WIDTH) {
			qp_line(q, (const unsigned char *)line, len);
			len = 0;
		}
		if (len == 0) {
			memset(line, ' ', indent);
			len = indent;
		} else {
			line[len++] = ' ';
		}
		/* a word past the line buffer goes out in pieces (it is broken by the encoding anyway) */
		while (len + n > sizeof(line) - 1) {
			size_t part = sizeof(line) - 1 - len;
			for (size_t k = 0; k < part; k++)
				line[len + k] = w[k] == NB[0] ? ' ' : w[k];
			qp_line(q, (const unsigned char *)line, len + part);
			w += part;
			n -= part;
			len = 0;
		}
		for (size_t k = 0; k < n; k++)
			line[len + k] = w[k] == NB[0] ? ' ' : w[k];
		len += n;
		w += n;
	}
	if (len > 0)
		qp_line(q, (const unsigned char *)line, len);
}

/* ---- making foreign text fit ---------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence (RFC 3629) at s, or 0. */
static size_t utf8_length(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp >= 0x80 && cp < 0xa0)	/* C1 controls */
		return 0;
	return n;
}

/*
 * Foreign text for the explanation (charset utf-8): valid UTF-8 is kept, control bytes and bytes
 * that are not UTF-8 become '?', blanks become ' '.  Cut at a character boundary.  Returns buf.
 */
static const char *text_of(const char *in, char *buf, size_t size)
{
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	size_t o = 0;

	while (*s && size > 0) {
		size_t n = utf8_length(s);
		if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
			if (o + 1 >= size)
				break;
			buf[o++] = (*s == '\t') ? ' ' : '?';
			s++;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(buf + o, s, n);
		o += n;
		s += n;
	}
	if (size > 0)
		buf[o] = '\0';
	return buf;
}

/* Text for a delivery-status field: printable ASCII, anything else '?'.  Returns buf. */
static const char *ascii_of(const char *in, char *buf, size_t size)
{
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)(in ? in : ""); *s && o + 1 < size; s++)
		buf[o++] = (*s >= 0x20 && *s < 0x7f) ? (char)*s : (*s == '\t' ? ' ' : '?');
	if (size > 0)
		buf[o] = '\0';
	return buf;
}

/*
 * An address for Final-Recipient: as it is when it is printable ASCII without blanks, else all of
 * it as RFC 3461 xtext ("+HH" for '+', '=', blanks, controls and 8-bit octets).  Cut at
 * ADDRESS_OCTETS_MAX (at a whole "+HH"), which only a forged address reaches.
 */
static const char *address_for_field(const char *in, char *buf, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	bool plain = true;
	size_t o = 0, max = size - 1 < ADDRESS_OCTETS_MAX ? size - 1 : ADDRESS_OCTETS_MAX;

	for (const unsigned char *c = s; *c; c++)
		if (*c <= ' ' || *c >= 0x7f)
			plain = false;
	for (; *s; s++) {
		if (plain || (*s > ' ' && *s < 0x7f && *s != '+' && *s != '=')) {
			if (o + 1 > max)
				break;
			buf[o++] = (char)*s;
		} else {
			if (o + 3 > max)
				break;
			o += (size_t)snprintf(buf + o, 4, "+%02X", *s);
		}
	}
	buf[o] = '\0';
	return buf;
}

static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5322 dot-atom-text, n octets of it. */
static bool is_dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(is_atext((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] != '.')))
			return false;
	return true;
}

/* RFC 5322 quoted-string of printable ASCII, as a whole. */
static bool is_quoted_string(const char *s, size_t n)
{
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return false;
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < ' ' || c > '~' || c == '"')
			return false;
		if (c == '\\' && ++i + 1 >= n)
			return false;	/* a quoted pair needs its octet, and that cannot be the closing quote */
	}
	return true;
}

/*
 * The To: value for the original sender: "local@domain" (the domain in A-label form, a local part
 * that is no dot-atom written as a quoted string) when the sender parses, has a domain and is
 * printable ASCII; else the empty group, so nothing of an unusable sender is written.
 */
static const char *to_value(const char *sender, char *buf, size_t size)
{
	struct mailaddr a;
	char err[128], local[2 * MAILADDR_LOCAL_MAX + 3];
	size_t n;

	snprintf(buf, size, "undisclosed-recipients:;");
	if (!sender || mailaddr_parse(sender, &a, err, sizeof(err)) != 0 ||
	    (a.kind != MAILADDR_DOMAIN && a.kind != MAILADDR_LITERAL))
		return buf;
	n = strlen(a.local);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a.local[i] < ' ' || (unsigned char)a.local[i] > '~')
			return buf;
	if (is_dot_atom(a.local, n) || is_quoted_string(a.local, n)) {
		snprintf(local, sizeof(local), "%s", a.local);
	} else {
		size_t o = 0;
		local[o++] = '"';
		for (size_t i = 0; i < n; i++) {
			if (a.local[i] == '"' || a.local[i] == '\\')
				local[o++] = '\\';
			local[o++] = a.local[i];
		}
		local[o++] = '"';
		local[o] = '\0';
	}
	snprintf(buf, size, "%s@%s", local, a.domain);
	return buf;
}

/* ---- what the report says ------------------------------------------------------------------- */

/* "5.1.2": RFC 3463 syntax, permanent class. */
static bool is_permanent_status(const char *s)
{
	unsigned subject, detail;
	int end = 0;

	return s[0] == '5' && sscanf(s, "5.%3u.%3u%n", &subject, &detail, &end) == 2 && s[end] == '\0' &&
	       strspn(s, "0123456789.") == strlen(s);
}

static const char *status_for(enum policy_check check, enum policy_outcome outcome)
{
	switch (outcome) {
	case POLICY_OUTCOME_NXDOMAIN:
	case POLICY_OUTCOME_NO_ADDRESS:
	case POLICY_OUTCOME_MX_UNRESOLVABLE:
		return check == POLICY_CHECK_SENDER ? "5.1.8" : check == POLICY_CHECK_RECIPIENT ? "5.1.2" : "5.4.4";
	case POLICY_OUTCOME_NULL_MX:
		return check == POLICY_CHECK_SENDER ? "5.7.27" : "5.1.10";
	case POLICY_OUTCOME_SYNTAX:
		return "5.1.7";
	case POLICY_OUTCOME_FAIL:
	case POLICY_OUTCOME_PERMERROR:
		return "5.7.25";
	case POLICY_OUTCOME_UNRESOLVABLE:
	case POLICY_OUTCOME_MISMATCH:
		return "5.7.1";
	case POLICY_OUTCOME_LOOPBACK:
	case POLICY_OUTCOME_TEMPERROR:
	case POLICY_OUTCOME_BOGUS:
	case POLICY_OUTCOME_UNDECIDED:
	case POLICY_OUTCOME_OK:
	case POLICY_OUTCOME_PASS:
		return "5.4.4";
	}
	return "5.4.4";
}

const char *ndr_status(const struct decision *d, char *buf, size_t size)
{
	snprintf(buf, size, "%s", is_permanent_status(d->xcode) ? d->xcode : status_for(d->check, d->outcome));
	return buf;
}

/* The name a decision is about, for the explanation: the subject, else the name asked. */
static const char *name_of(const struct decision *d, char *buf, size_t size)
{
	const char *name = d->subject && d->subject[0] ? d->subject : d->evidence ? d->evidence->qname : "";
	size_t n;

	text_of(name, buf, size);
	n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return buf;
}

const char *ndr_outcome_phrase(enum policy_outcome outcome)
{
	switch (outcome) {
	case POLICY_OUTCOME_NXDOMAIN:
	case POLICY_OUTCOME_NO_ADDRESS:
	case POLICY_OUTCOME_UNRESOLVABLE:
		return "not found";
	case POLICY_OUTCOME_MX_UNRESOLVABLE:
		return "has no mail host that resolves";
	case POLICY_OUTCOME_NULL_MX:
		return "does not accept mail (null MX)";
	case POLICY_OUTCOME_LOOPBACK:
		return "has only loopback mail hosts";
	case POLICY_OUTCOME_TEMPERROR:
		return "could not be looked up in DNS";
	case POLICY_OUTCOME_BOGUS:
		return "failed DNSSEC validation";
	case POLICY_OUTCOME_FAIL:
	case POLICY_OUTCOME_PERMERROR:
		return "has no valid reverse DNS";
	case POLICY_OUTCOME_MISMATCH:
		return "does not resolve to the client's address";
	case POLICY_OUTCOME_SYNTAX:
		return "cannot be parsed";
	case POLICY_OUTCOME_UNDECIDED:
		return "could not be checked";
	case POLICY_OUTCOME_OK:
	case POLICY_OUTCOME_PASS:
		return NULL;
	}
	return NULL;
}

/*
 * The Diagnostic-Code text: the decision's own reply when it is a permanent one, else the reply
 * dnsguard would have given at RCPT ("550 5.1.2 Domain nx.example not found").  Printable ASCII.
 */
static void diagnostic_of(const struct decision *d, const char *status, struct strbuf *sb)
{
	char text[POLICY_REPLY_TEXT_SIZE], name[DNS_NAME_TEXT_MAX];
	const char *what = "failed a DNS check";

	if (d->code >= 500 && d->code <= 599 && d->text[0]) {
		strbuf_appendf(sb, "%u", d->code);
		if (is_permanent_status(d->xcode))
			strbuf_appendf(sb, " %s", d->xcode);
		strbuf_appendf(sb, " %s", ascii_of(d->text, text, sizeof(text)));
		return;
	}
	ascii_of(name_of(d, name, sizeof(name)), name, sizeof(name));
	if (ndr_outcome_phrase(d->outcome))
		what = ndr_outcome_phrase(d->outcome);
	strbuf_appendf(sb, "%s %s dnsguard %s check: %s %s", strcmp(status, "5.1.10") == 0 ? "556" : "550", status,
		       policy_check_name(d->check), name[0] ? name : "the name", what);
	if (d->cause[0])
		strbuf_appendf(sb, " (%s)", ascii_of(d->cause, text, sizeof(text)));
}

/* What the DNS server said, in a sentence: "The DNS server answered NXDOMAIN for nx.example (MX)
 * over udp-tcp in 31 ms." */
static void evidence_sentence(const struct decision *d, struct strbuf *sb)
{
	const struct dns_evidence *ev = d->evidence;
	char name[DNS_NAME_TEXT_MAX], type[24], rcode[24];
	const char *transport = dns_transport_name(d->transport);
	size_t n;

	if (!ev)
		return;
	text_of(ev->qname, name, sizeof(name));
	n = strlen(name);
	if (n > 1 && name[n - 1] == '.')
		name[n - 1] = '\0';
	dns_type_name(ev->qtype, type, sizeof(type));
	dns_rcode_name(ev->rcode, rcode, sizeof(rcode));
	switch (ev->outcome) {
	case DNS_NXDOMAIN:
		strbuf_appendf(sb, " The DNS server answered NXDOMAIN (no such name) for %s (%s) over %s in %u" NB "ms.", name,
			       type, transport, ev->ms);
		break;
	case DNS_NODATA:
		strbuf_appendf(sb, " The DNS server answered that %s has no %s record (NOERROR, no data) over %s in %u" NB "ms.",
			       name, type, transport, ev->ms);
		break;
	case DNS_FOUND:
		if (d->outcome == POLICY_OUTCOME_NULL_MX && ev->qtype == 15)
			strbuf_appendf(sb, " The DNS server answered with the null MX record \"0 .\" for %s over %s in %u" NB "ms.",
				       name, transport, ev->ms);
		else
			strbuf_appendf(sb, " The DNS server answered with %s records for %s over %s in %u" NB "ms.", type, name,
				       transport, ev->ms);
		break;
	case DNS_TEMPFAIL:
		switch (ev->cause) {
		case DNS_CAUSE_DEADLINE:
			strbuf_appendf(sb, " No answer came for %s (%s) over %s within %u" NB "ms.", name, type, transport, ev->ms);
			break;
		case DNS_CAUSE_SERVFAIL:
		case DNS_CAUSE_REFUSED:
		case DNS_CAUSE_RCODE:
			strbuf_appendf(sb, " The DNS server answered %s for %s (%s) over %s after %u" NB "ms.", rcode, name, type,
				       transport, ev->ms);
			break;
		case DNS_CAUSE_MALFORMED:
			strbuf_appendf(sb, " The answer for %s (%s) over %s could not be read.", name, type, transport);
			break;
		case DNS_CAUSE_LOCAL:
		case DNS_CAUSE_NONE:
			strbuf_appendf(sb, " The question for %s (%s) could not be asked.", name, type);
			break;
		}
		break;
	case DNS_BOGUS:
		strbuf_appendf(sb, " The validating resolver rejected the answer for %s (%s) over %s after %u" NB "ms.",
			       name, type, transport, ev->ms);
		break;
	}
	if (ev->secure && ev->outcome != DNS_BOGUS)
		strbuf_append(sb, " The answer was DNSSEC-validated.");
}

/* The trouble that is no fact about a name (DNS failed, or the check did), for any check. */
static bool explain_trouble(const struct decision *d, const char *name, const char *host, struct strbuf *what,
			    struct strbuf *advice)
{
	switch (d->outcome) {
	case POLICY_OUTCOME_TEMPERROR:
		strbuf_appendf(what, "The DNS look-up of %s failed, so it is not known whether mail can go there.", name);
		strbuf_appendf(advice, "What you can do: send the message again later. If this keeps happening, the "
				       "administrator of %s should check the DNS servers it uses; the finding above "
				       "says which server failed and how.", host);
		return true;
	case POLICY_OUTCOME_BOGUS:
		strbuf_appendf(what, "The DNS answer for %s failed DNSSEC validation: either it was tampered with on "
				     "the way, or the domain's DNSSEC signatures are broken.", name);
		strbuf_append(advice, "What you can do: send the message again later. If this keeps happening, the "
				      "owner of the domain has to repair its DNSSEC records.");
		return true;
	case POLICY_OUTCOME_UNDECIDED:
		strbuf_appendf(what, "The DNS check of %s could not be completed.", name);
		strbuf_appendf(advice, "What you can do: send the message again later. The administrator of %s finds "
				       "the details in dnsguard's log.", host);
		return true;
	case POLICY_OUTCOME_OK:
	case POLICY_OUTCOME_PASS:
		strbuf_appendf(what, "The DNS check of %s found no problem, but this mail system's policy held the "
				     "message back.", name);
		strbuf_appendf(advice, "What you can do: ask the administrator of %s why.", host);
		return true;
	case POLICY_OUTCOME_NXDOMAIN:
	case POLICY_OUTCOME_NO_ADDRESS:
	case POLICY_OUTCOME_NULL_MX:
	case POLICY_OUTCOME_MX_UNRESOLVABLE:
	case POLICY_OUTCOME_LOOPBACK:
	case POLICY_OUTCOME_FAIL:
	case POLICY_OUTCOME_PERMERROR:
	case POLICY_OUTCOME_UNRESOLVABLE:
	case POLICY_OUTCOME_MISMATCH:
	case POLICY_OUTCOME_SYNTAX:
		break;
	}
	return false;
}

static void explain_recipient(const struct decision *d, const char *domain, struct strbuf *what, struct strbuf *advice)
{
	switch (d->outcome) {
	case POLICY_OUTCOME_NXDOMAIN:
		strbuf_appendf(what, "The domain %s does not exist.", domain);
		strbuf_append(advice, "What you can do: check the address for a typing error, especially the part "
				      "after the @, and send the message again.");
		return;
	case POLICY_OUTCOME_NO_ADDRESS:
		strbuf_appendf(what, "The domain %s exists, but it names no mail server: it has no MX record and no "
				     "address (A or AAAA) either.", domain);
		strbuf_append(advice, "What you can do: check the address for a typing error. If it is right, the "
				      "owner of the domain has to publish a mail server (an MX record) for it before it "
				      "can receive mail.");
		return;
	case POLICY_OUTCOME_NULL_MX:
		strbuf_appendf(what, "The domain %s states that it accepts no mail at all: it publishes a \"null MX\" "
				     "record (RFC 7505).", domain);
		strbuf_append(advice, "What you can do: mail to this address can never be delivered; ask the "
				      "recipient for another address.");
		return;
	case POLICY_OUTCOME_MX_UNRESOLVABLE:
		strbuf_appendf(what, "The mail servers that the domain %s names (its MX records) cannot be found: "
				     "none of them has an address in DNS.", domain);
		strbuf_append(advice, "What you can do: check the address for a typing error. If it is right, the "
				      "domain's DNS is broken and only its owner can repair it; send the message again "
				      "later, or use another address.");
		return;
	case POLICY_OUTCOME_LOOPBACK:
		strbuf_appendf(what, "The mail servers of the domain %s point to \"localhost\" or a loopback address "
				     "(such as 127.0.0.1), so mail for it would never leave the sending machine.", domain);
		strbuf_append(advice, "What you can do: the owner of the domain has to correct its MX records; tell "
				      "the recipient by other means, or use another address.");
		return;
	case POLICY_OUTCOME_FAIL:
	case POLICY_OUTCOME_PERMERROR:
	case POLICY_OUTCOME_UNRESOLVABLE:
	case POLICY_OUTCOME_MISMATCH:
	case POLICY_OUTCOME_SYNTAX:
	case POLICY_OUTCOME_TEMPERROR:
	case POLICY_OUTCOME_BOGUS:
	case POLICY_OUTCOME_UNDECIDED:
	case POLICY_OUTCOME_OK:
	case POLICY_OUTCOME_PASS:
		break;
	}
	strbuf_appendf(what, "The recipient's domain %s failed the DNS check (%s).", domain,
		       policy_outcome_name(d->outcome));
	strbuf_append(advice, "What you can do: check the address for a typing error.");
}

static void explain_sender(const struct decision *d, const char *domain, struct strbuf *what, struct strbuf *advice)
{
	switch (d->outcome) {
	case POLICY_OUTCOME_NXDOMAIN:
		strbuf_appendf(what, "The domain of the sender address, %s, does not exist, so no reply could reach "
				     "the sender.", domain);
		break;
	case POLICY_OUTCOME_NO_ADDRESS:
		strbuf_appendf(what, "The domain of the sender address, %s, names no mail server (no MX record and no "
				     "address), so no reply could reach the sender.", domain);
		break;
	case POLICY_OUTCOME_NULL_MX:
		strbuf_appendf(what, "The domain of the sender address, %s, states that it accepts no mail (a \"null "
				     "MX\" record, RFC 7505), so no reply could reach the sender.", domain);
		break;
	case POLICY_OUTCOME_MX_UNRESOLVABLE:
		strbuf_appendf(what, "The mail servers of the sender's domain %s cannot be found: none of them has an "
				     "address in DNS.", domain);
		break;
	case POLICY_OUTCOME_LOOPBACK:
		strbuf_appendf(what, "The mail servers of the sender's domain %s point to \"localhost\" or a loopback "
				     "address.", domain);
		break;
	case POLICY_OUTCOME_SYNTAX:
		strbuf_append(what, "The sender address cannot be read.");
		strbuf_append(advice, "What you can do: check the sender address your mail program uses.");
		return;
	case POLICY_OUTCOME_FAIL:
	case POLICY_OUTCOME_PERMERROR:
	case POLICY_OUTCOME_UNRESOLVABLE:
	case POLICY_OUTCOME_MISMATCH:
	case POLICY_OUTCOME_TEMPERROR:
	case POLICY_OUTCOME_BOGUS:
	case POLICY_OUTCOME_UNDECIDED:
	case POLICY_OUTCOME_OK:
	case POLICY_OUTCOME_PASS:
		strbuf_appendf(what, "The domain of the sender address, %s, failed the DNS check (%s).", domain,
			       policy_outcome_name(d->outcome));
		break;
	}
	strbuf_appendf(advice, "What you can do: check that your mail program sends from your correct address. "
			       "If it does, the owner of %s has to correct its DNS records.", domain);
}

static void explain_client(const struct decision *d, const char *name, struct strbuf *what, struct strbuf *advice)
{
	switch (d->outcome) {
	case POLICY_OUTCOME_PERMERROR:
		strbuf_append(what, "The address of the computer that sent the message has no name in DNS (no PTR "
				    "record).");
		break;
	case POLICY_OUTCOME_FAIL:
		strbuf_append(what, "The name that DNS gives for the address of the sending computer does not lead "
				    "back to that address.");
		break;
	case POLICY_OUTCOME_UNRESOLVABLE:
	case POLICY_OUTCOME_MISMATCH:
		strbuf_appendf(what, "The name the sending computer introduced itself with (HELO %s) %s.", name,
			       d->outcome == POLICY_OUTCOME_MISMATCH ? "does not resolve to its address"
								   : "does not exist in DNS");
		strbuf_append(advice, "What you can do: the administrator of the sending mail server has to make it "
				      "introduce itself with a name that resolves to its address.");
		return;
	case POLICY_OUTCOME_NXDOMAIN:
	case POLICY_OUTCOME_NO_ADDRESS:
	case POLICY_OUTCOME_NULL_MX:
	case POLICY_OUTCOME_MX_UNRESOLVABLE:
	case POLICY_OUTCOME_LOOPBACK:
	case POLICY_OUTCOME_SYNTAX:
	case POLICY_OUTCOME_TEMPERROR:
	case POLICY_OUTCOME_BOGUS:
	case POLICY_OUTCOME_UNDECIDED:
	case POLICY_OUTCOME_OK:
	case POLICY_OUTCOME_PASS:
		strbuf_appendf(what, "The sending computer failed the DNS check of the %s (%s).",
			       d->check == POLICY_CHECK_HELO ? "name it introduced itself with" : "name of its address",
			       policy_outcome_name(d->outcome));
		break;
	}
	strbuf_append(advice, "What you can do: the administrator of the sending mail server has to give its "
			      "address a name (a PTR record) that leads back to it; until then, send through your "
			      "provider's mail server.");
}

/* One recipient's block of the explanation. */
static void explain(const struct ndr_recipient *r, const char *host, const char *status, struct qp *q)
{
	const struct decision *d = r->decision;
	char what_text[2048], advice_text[1024], admin_text[1024], name[DNS_NAME_TEXT_MAX * 2], text[1536];
	struct strbuf what, advice, admin;

	strbuf_init(&what, what_text, sizeof(what_text));
	strbuf_init(&advice, advice_text, sizeof(advice_text));
	strbuf_init(&admin, admin_text, sizeof(admin_text));
	name_of(d, name, sizeof(name));
	if (!name[0])
		snprintf(name, sizeof(name), "%s", d->check == POLICY_CHECK_CLIENT ? "the client's address" : "the name");

	if (!explain_trouble(d, name, host, &what, &advice)) {
		switch (d->check) {
		case POLICY_CHECK_RECIPIENT:
			explain_recipient(d, name, &what, &advice);
			break;
		case POLICY_CHECK_SENDER:
			explain_sender(d, name, &what, &advice);
			break;
		case POLICY_CHECK_CLIENT:
		case POLICY_CHECK_HELO:
			explain_client(d, name, &what, &advice);
			break;
		}
	}
	evidence_sentence(d, &what);
	if (d->cause[0])
		strbuf_appendf(&what, " Finding: %s.", text_of(d->cause, text, sizeof(text)));
	strbuf_appendf(&admin, "For the administrator: %s check, outcome %s, policy rule \"%s\", status %s.",
		       policy_check_name(d->check), policy_outcome_name(d->outcome), text_of(d->rule, text, sizeof(text)),
		       status);

	snprintf(text, sizeof(text), "<%s>", r->address);
	text_of(text, name, sizeof(name));
	put_paragraph(q, 0, name);
	put_paragraph(q, 4, strbuf_text(&what));
	put_paragraph(q, 4, strbuf_text(&advice));
	put_paragraph(q, 4, strbuf_text(&admin));
}

/* ---- the report ------------------------------------------------------------------------------ */

static int fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (errlen)
		snprintf(err, errlen, fmt, arg);
	return -1;
}

/* RFC 5322 date-time in the C locale, local time with a numeric zone. */
static bool format_date(time_t t, char *buf, size_t size)
{
	struct tm tm;
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	size_t n = 0;

	if (c && localtime_r(&t, &tm))
		n = strftime_l(buf, size, "%a, %d %b %Y %H:%M:%S %z", &tm, c);
	if (c)
		freelocale(c);
	return n > 0;
}

static bool is_token_of(const char *s, size_t min, bool dots)
{
	size_t n = s ? strlen(s) : 0;

	if (n < min || n > NDR_TOKEN_MAX)
		return false;
	if (dots)
		return is_dot_atom(s, n);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int check_input(const struct ndr_input *in, char *host, size_t hostsize, char *err, size_t errlen)
{
	size_t n = in->reporting_host ? dns_plain_name_length(in->reporting_host) : 0;

	if (n == 0 || n != strlen(in->reporting_host))
		return fail(err, errlen, "%s", "the reporting host name is not a plain host name");
	snprintf(host, hostsize, "%.*s", (int)(n - (in->reporting_host[n - 1] == '.')), in->reporting_host);
	if (is_null_sender(in->sender))
		return fail(err, errlen, "%s", "no NDR is sent to the null sender");
	if (!is_token_of(in->message_id, 1, true))
		return fail(err, errlen, "the Message-ID part must be 1 to %s octets of dot-atom text", "64");
	if (!is_token_of(in->boundary_token, 8, false))
		return fail(err, errlen, "the boundary token must be 8 to %s letters and digits", "64");
	if (in->entry_id && !is_token_of(in->entry_id, 1, true))
		return fail(err, errlen, "the entry id must be 1 to %s octets of dot-atom text", "64");
	if (in->recipient_count == 0 || !in->recipients)
		return fail(err, errlen, "%s", "an NDR needs at least one recipient");
	for (size_t i = 0; i < in->recipient_count; i++)
		if (!in->recipients[i].address || !in->recipients[i].decision)
			return fail(err, errlen, "%s", "a recipient without address or decision");
	return 0;
}

/* The part of the original header block that is quoted: to its end, at most NDR_HEADERS_MAX
 * octets and then up to the last line end in reach (if any). */
static size_t quoted_headers_length(const struct ndr_input *in, bool *cut)
{
	const unsigned char *h = (const unsigned char *)in->headers;
	size_t n = in->headers ? header_block_length(h, in->headers_len) : 0;

	*cut = n > NDR_HEADERS_MAX;
	if (*cut) {
		const unsigned char *lf = NULL;
		for (size_t i = NDR_HEADERS_MAX; i > 0 && !lf; i--)
			if (h[i - 1] == '\n')
				lf = h + i;
		n = lf ? (size_t)(lf - h) : NDR_HEADERS_MAX;
	}
	return n;
}

static void put_headers(struct qp *q, const unsigned char *h, size_t n)
{
	if (!h)
		return;	/* no header block: NULL + 0 is undefined */
	const unsigned char *p = h, *end = h + n, *next;

	while (p < end) {
		const unsigned char *e = line_end(p, end, &next);
		qp_line(q, p, (size_t)(e - p));
		p = next;
	}
}

static void put_explanation(const struct ndr_input *in, const char *host, bool cut, struct qp *q)
{
	char text[1024];
	bool recipient_checks_only = true;
	struct strbuf sb;

	for (size_t i = 0; i < in->recipient_count; i++)
		if (in->recipients[i].decision->check != POLICY_CHECK_RECIPIENT)
			recipient_checks_only = false;
	snprintf(text, sizeof(text), "This is the mail system at %s.", host);
	put_paragraph(q, 0, text);
	qp_line(q, (const unsigned char *)"", 0);

	strbuf_init(&sb, text, sizeof(text));
	if (in->recipient_count == 1)
		strbuf_append(&sb, "Your message could not be delivered to the recipient below.");
	else
		strbuf_appendf(&sb, "Your message could not be delivered to the %zu recipients below.", in->recipient_count);
	if (recipient_checks_only)
		strbuf_append(&sb, " Before passing mail on, this system looks up in DNS, the Internet's directory of "
				   "names, where the recipient's domain receives mail, and that look-up showed a problem.");
	else
		strbuf_append(&sb, " Before passing mail on, this system checks the names involved in DNS, the "
				   "Internet's directory of names, and a check failed.");
	strbuf_append(&sb, " For each recipient, the problem and what you can do about it follow.");
	put_paragraph(q, 0, strbuf_text(&sb));
	qp_line(q, (const unsigned char *)"", 0);

	for (size_t i = 0; i < in->recipient_count; i++) {
		char status[16];
		explain(&in->recipients[i], host, ndr_status(in->recipients[i].decision, status, sizeof(status)), q);
		qp_line(q, (const unsigned char *)"", 0);
	}

	strbuf_reset(&sb);
	if (in->entry_id)
		strbuf_appendf(&sb, "Your message has been kept at %s under the id %s. If you need help, ask the "
				    "administrator of %s (postmaster@%s) and give them this id.", host, in->entry_id, host, host);
	else
		strbuf_appendf(&sb, "If you need help, ask the administrator of %s (postmaster@%s).", host, host);
	put_paragraph(q, 0, strbuf_text(&sb));
	qp_line(q, (const unsigned char *)"", 0);
	strbuf_reset(&sb);
	strbuf_append(&sb, "The technical details follow: a delivery status report (RFC 3464) and the header of "
			   "your message.");
	if (cut)
		strbuf_appendf(&sb, " The header was longer than %d octets; only its beginning is attached.",
			       NDR_HEADERS_MAX);
	put_paragraph(q, 0, strbuf_text(&sb));
}

int ndr_build(const struct ndr_input *in, FILE *out, char *err, size_t errlen)
{
	char host[DNS_NAME_TEXT_MAX], date[64], arrival[64], boundary[NDR_TOKEN_MAX + 16];
	char value[LINE_MAX_OCTETS + 1], address[ADDRESS_OCTETS_MAX + 1], diagnostic_text[2048], status[16];
	struct qp q = {out, 0};
	struct strbuf diagnostic;
	size_t headers_len;
	bool cut;

	if (check_input(in, host, sizeof(host), err, errlen) != 0)
		return -1;
	if (!format_date(in->now, date, sizeof(date)) || !format_date(in->arrival, arrival, sizeof(arrival)))
		return fail(err, errlen, "%s", "the date cannot be written (time out of range)");
	snprintf(boundary, sizeof(boundary), "=_dnsguard_%s", in->boundary_token);
	headers_len = quoted_headers_length(in, &cut);

	snprintf(value, sizeof(value), "Mail Delivery System <MAILER-DAEMON@%s>", host);
	put_field(out, "From", value);
	put_field(out, "To", to_value(in->sender, value, sizeof(value)));
	put_field(out, "Subject", "Undelivered Mail: a DNS check failed");
	put_field(out, "Date", date);
	snprintf(value, sizeof(value), "<%s@%s>", in->message_id, host);
	put_field(out, "Message-ID", value);
	put_field(out, "Auto-Submitted", "auto-replied");
	put_field(out, "MIME-Version", "1.0");
	snprintf(value, sizeof(value), "multipart/report; report-type=delivery-status; boundary=\"%s\"", boundary);
	put_field(out, "Content-Type", value);
	put_field(out, "Content-Transfer-Encoding", "7bit");
	fputs("\nThis is a delivery status notification in MIME format (RFC 3464).\n\n", out);

	fprintf(out, "--%s\n", boundary);
	put_field(out, "Content-Type", "text/plain; charset=utf-8");
	put_field(out, "Content-Transfer-Encoding", "quoted-printable");
	put_field(out, "Content-Description", "Notification");
	fputc('\n', out);
	put_explanation(in, host, cut, &q);
	fputc('\n', out);

	fprintf(out, "--%s\n", boundary);
	put_field(out, "Content-Type", "message/delivery-status");
	put_field(out, "Content-Description", "Delivery report");
	fputc('\n', out);
	snprintf(value, sizeof(value), "dns; %s", host);
	put_field(out, "Reporting-MTA", value);
	if (in->entry_id)
		put_field(out, "X-Dnsguard-Entry-Id", in->entry_id);
	put_field(out, "Arrival-Date", arrival);
	for (size_t i = 0; i < in->recipient_count; i++) {
		const struct ndr_recipient *r = &in->recipients[i];

		ndr_status(r->decision, status, sizeof(status));
		fputc('\n', out);
		snprintf(value, sizeof(value), "rfc822; %s", address_for_field(r->address, address, sizeof(address)));
		put_field(out, "Final-Recipient", value);
		put_field(out, "Action", "failed");
		put_field(out, "Status", status);
		strbuf_init(&diagnostic, diagnostic_text, sizeof(diagnostic_text));
		strbuf_append(&diagnostic, "smtp; ");
		diagnostic_of(r->decision, status, &diagnostic);
		put_field(out, "Diagnostic-Code", strbuf_text(&diagnostic));
	}
	fputc('\n', out);

	fprintf(out, "--%s\n", boundary);
	put_field(out, "Content-Type", "text/rfc822-headers");
	put_field(out, "Content-Transfer-Encoding", "quoted-printable");
	put_field(out, "Content-Description", "Undelivered message headers");
	fputc('\n', out);
	put_headers(&q, (const unsigned char *)in->headers, headers_len);
	fputc('\n', out);
	fprintf(out, "--%s--\n", boundary);

	if (fflush(out) != 0 || ferror(out))
		return fail(err, errlen, "writing the NDR failed: %s", strerror(errno));
	return 0;
}
