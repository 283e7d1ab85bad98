/*
 * textfile - reads a whole configuration-sized text file, bounded.
 */
#ifndef DNSGUARD_TEXTFILE_H
#define DNSGUARD_TEXTFILE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Reads `path` (at most `max` bytes) into a NUL-terminated heap buffer.  On failure returns false
 * with a sentence in err ("cannot open: No such file or directory"); *missing says whether the
 * file did not exist, so callers can treat that case apart.
 */
bool textfile_read(const char *path, size_t max, char **text, size_t *len, bool *missing, char *err,
		   size_t errlen);

#endif
