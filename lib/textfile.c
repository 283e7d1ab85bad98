/*
 * textfile - bounded whole-file reads; see textfile.h.
 */
#include "textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool textfile_read(const char *path, size_t max, char **text, size_t *len, bool *missing, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	*text = NULL;
	*len = 0;
	*missing = false;
	if (!f) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return false;
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		if (ferror(f))
			snprintf(err, errlen, "read error: %s", strerror(errno));
		else
			snprintf(err, errlen, "larger than %zu bytes", max);
		fclose(f);
		free(buf);
		return false;
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return true;
}
