/*
 * json_locate - where in a JSON text a member or element is, for error messages.
 *
 * jansson reports positions only for syntax errors.  A semantic error (unknown member, wrong
 * type) is found on the decoded tree; this finds the same place in the text so the admin gets
 * line:column.  The text must already have been accepted by a JSON parser.
 */
#ifndef DNSGUARD_JSON_LOCATE_H
#define DNSGUARD_JSON_LOCATE_H

#include <stddef.h>

struct json_step {
	const char *member;	/* an object member name, or NULL for ... */
	size_t index;		/* ... an array index */
};

/*
 * Finds the value at `path` (depth steps; the last step's member name itself when the last step
 * names a member).  Returns false if not found.  line and column count from 1.
 */
_Bool json_locate(const char *text, size_t len, const struct json_step *path, size_t depth, unsigned *line,
		  unsigned *column);

#endif
