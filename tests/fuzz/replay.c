/*
 * replay - runs a fuzz target over files, without libFuzzer: the target's regression test.
 *
 *   fuzz_NAME [FILE|DIR]...
 *
 * With no argument it runs every file of $top_srcdir/tests/fuzz/corpus/NAME (top_srcdir from
 * the environment, as `make check` sets it; "." otherwise).  It speaks TAP, as every test of the
 * suite does: one test point for the whole corpus.  A broken promise aborts (the target's
 * fuzz_fail, or a sanitizer): the test fails, and the last name on stderr is the input.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME names the target's corpus"
#endif

static int run_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (size == cap) {
			cap = cap ? cap * 2 : 4096;
			if (!(data = realloc(data, cap)))
				abort();
		}
		n = fread(data + size, 1, cap - size, f);
		size += n;
	} while (n > 0);
	fclose(f);
	/* a copy of exactly `size` bytes, so that a read past the end is the sanitizer's to see */
	uint8_t *exact = malloc(size ? size : 1);
	if (!exact)
		abort();
	if (size)
		memcpy(exact, data, size);
	free(data);
	fprintf(stderr, "%s\n", path);	/* the last name printed is the input that crashed */
	LLVMFuzzerTestOneInput(exact, size);
	free(exact);
	(*count)++;
	return 0;
}

static int compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, unsigned *count)
{
	struct stat st;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = 0;
	DIR *d;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	if (!(d = opendir(path))) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap && !(names = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names))))
			abort();
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		if (!(names[n] = malloc(len)))
			abort();
		snprintf(names[n++], len, "%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), compare);	/* the same order every run */
	for (size_t i = 0; i < n; i++) {
		if (run_file(names[i], count) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;

	if (argc < 2) {
		const char *srcdir = getenv("top_srcdir");
		char path[4096];
		snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/%s", srcdir && *srcdir ? srcdir : ".", FUZZ_NAME);
		rc = run_path(path, &count);
	}
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i], &count) != 0)
			rc = -1;
	printf("1..1\n");
	if (rc != 0 || count == 0) {
		printf("not ok 1 - %s: %s\n", FUZZ_NAME, rc != 0 ? "an input could not be read" : "no input in the corpus");
		return 1;
	}
	printf("ok 1 - %s: %u inputs, no promise broken\n", FUZZ_NAME, count);
	return 0;
}
