/*
 * fuzz.h - what every fuzz target shares: the libFuzzer entry point and the input split into
 * fields.
 *
 * Each target in tests/fuzz/ is one file with LLVMFuzzerTestOneInput.  Linked with
 * -fsanitize=fuzzer (configure --enable-fuzzing, clang) it is a fuzzer; linked with replay.c it
 * is a test that runs the target over its committed corpus (tests/fuzz/corpus/NAME), in every
 * build, so what a fuzzing run found stays found.  A target checks the promises of the module's
 * header itself and calls fuzz_fail, which aborts: a broken promise is a crash, as a sanitizer's
 * report is.
 */
#ifndef DNSGUARD_FUZZ_H
#define DNSGUARD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken promise and aborts. */
#define fuzz_fail(...)                                                    \
	do {                                                              \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                             \
		fputc('\n', stderr);                                      \
		abort();                                                  \
	} while (0)

/*
 * The input as up to `max` NUL-terminated fields, split at each NUL byte of the input: a target
 * that takes several strings reads them from one input, and the fuzzer learns the separator.
 * Returns the count; the fields point into `copy`, which the caller frees.  Fields not in the
 * input are "".
 */
static inline size_t fuzz_fields(const uint8_t *data, size_t size, char **copy, const char **fields, size_t max)
{
	size_t n = 0;
	char *p;

	*copy = malloc(size + 1);
	if (!*copy)
		abort();
	if (size)
		memcpy(*copy, data, size);
	(*copy)[size] = '\0';
	for (size_t i = 0; i < max; i++)
		fields[i] = "";
	p = *copy;
	while (n < max) {
		fields[n++] = p;
		p += strlen(p);
		if (p >= *copy + size)
			break;
		p++;
	}
	return n;
}

/* A NUL-terminated copy of the whole input (which may hold NULs: C strings see the first part). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
