/*
 * unit_files - whole files in unit tests, written and read once here instead of in every test.
 *
 * Reading goes through lib/textfile (the daemon's own reader).  Every helper fails the running
 * cmocka test on an error, except unit_read_file for a file that is not there.
 */
#ifndef DNSGUARD_UNIT_FILES_H
#define DNSGUARD_UNIT_FILES_H

#include <stddef.h>

#define UNIT_FILE_MAX (16 * 1024 * 1024)

/* Writes `text` to `path`, replacing it. */
void unit_write_file(const char *path, const char *text);
/* The whole file, NUL-terminated, malloc'd (*len set when len is not NULL); NULL if it does not
 * exist. */
char *unit_read_file(const char *path, size_t *len);
/* A file of the source tree, by its path under $top_srcdir (the test driver sets it). */
char *unit_read_source(const char *relative, size_t *len);

#endif
