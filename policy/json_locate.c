/*
 * json_locate - walks well-formed JSON text to a path; see json_locate.h.
 *
 * Only skips and compares; it never builds values.  Member names are compared as raw text, so a
 * name written with escapes is not found (the caller then reports the enclosing object).
 */
#include "json_locate.h"

#include <stdbool.h>
#include <string.h>

struct cursor {
	const char *text;
	size_t len;
	size_t pos;
};

static void skip_space(struct cursor *c)
{
	while (c->pos < c->len && c->text[c->pos] && strchr(" \t\r\n", c->text[c->pos]))
		c->pos++;
}

/* At an opening quote: moves past the closing one. */
static void skip_string(struct cursor *c)
{
	c->pos++;
	while (c->pos < c->len && c->text[c->pos] != '"')
		c->pos += c->text[c->pos] == '\\' ? 2 : 1;
	c->pos++;
}

static bool is_delimiter(char ch)
{
	return ch == '\0' || strchr(",}] \t\r\n", ch) != NULL;
}

static void skip_value(struct cursor *c)
{
	int depth = 0;

	skip_space(c);
	if (c->pos >= c->len)
		return;
	if (c->text[c->pos] == '"') {
		skip_string(c);
		return;
	}
	if (c->text[c->pos] != '{' && c->text[c->pos] != '[') {
		while (c->pos < c->len && !is_delimiter(c->text[c->pos]))
			c->pos++;
		return;
	}
	while (c->pos < c->len) {
		char ch = c->text[c->pos];
		if (ch == '"') {
			skip_string(c);
			continue;
		}
		c->pos++;
		if (ch == '{' || ch == '[')
			depth++;
		else if ((ch == '}' || ch == ']') && --depth == 0)
			return;
	}
}

/* At '{': finds member `name`; leaves the cursor at its key (key_pos) and value. */
static bool find_member(struct cursor *c, const char *name, size_t *key_pos)
{
	size_t name_len = strlen(name);

	c->pos++;
	for (;;) {
		skip_space(c);
		if (c->pos >= c->len || c->text[c->pos] != '"')
			return false;
		size_t start = c->pos;
		skip_string(c);
		bool match = c->pos - start - 2 == name_len && memcmp(c->text + start + 1, name, name_len) == 0;
		skip_space(c);
		c->pos++; /* ':' */
		skip_space(c);
		if (match) {
			*key_pos = start;
			return true;
		}
		skip_value(c);
		skip_space(c);
		if (c->pos >= c->len || c->text[c->pos] != ',')
			return false;
		c->pos++;
	}
}

static bool find_element(struct cursor *c, size_t index)
{
	c->pos++;
	for (size_t i = 0;; i++) {
		skip_space(c);
		if (c->pos >= c->len || c->text[c->pos] == ']')
			return false;
		if (i == index)
			return true;
		skip_value(c);
		skip_space(c);
		if (c->pos >= c->len || c->text[c->pos] != ',')
			return false;
		c->pos++;
	}
}

bool json_locate(const char *text, size_t len, const struct json_step *path, size_t depth, unsigned *line,
		 unsigned *column)
{
	struct cursor c = {text, len, 0};
	size_t found = 0;

	skip_space(&c);
	for (size_t i = 0; i < depth; i++) {
		if (c.pos >= c.len)
			return false;
		if (path[i].member) {
			size_t key_pos;
			if (c.text[c.pos] != '{' || !find_member(&c, path[i].member, &key_pos))
				return false;
			found = i + 1 == depth ? key_pos : c.pos;
		} else {
			if (c.text[c.pos] != '[' || !find_element(&c, path[i].index))
				return false;
			found = c.pos;
		}
	}
	if (depth == 0)
		found = c.pos;
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < found && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
	return true;
}
