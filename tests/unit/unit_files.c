/*
 * unit_files - whole files in unit tests; see unit_files.h.
 */
#include "unit_files.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "textfile.h"

void unit_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot write %s", path);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

char *unit_read_file(const char *path, size_t *len)
{
	char *text, err[256];
	size_t n;
	bool missing;

	if (!textfile_read(path, UNIT_FILE_MAX, &text, &n, &missing, err, sizeof(err))) {
		if (missing)
			return NULL;
		fail_msg("%s: %s", path, err);
	}
	if (len)
		*len = n;
	return text;
}

char *unit_read_source(const char *relative, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *text;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", relative);
	if (!(text = unit_read_file(path, len)))
		fail_msg("cannot read %s (top_srcdir unset?)", path);
	return text;
}
