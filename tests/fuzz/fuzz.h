/*
 * fuzz.h - what every fuzz target shares: the libFuzzer entry point and the input split into
 * fields.
 *
 * Each target in tests/fuzz/ is one file with LLVMFuzzerTestOneInput.  Linked with
 * -fsanitize=fuzzer (configure --enable-fuzzing, clang) it is a fuzzer; linked with replay.c it
 * is a test that runs the target over its committed corpus (tests/fuzz/corpus/NAME), in every
 * build, so what a fuzzing run found stays found, and then over the corpus's named inputs with
 * each allocation of the module failing in turn (fault injection: every error path is taken).  A
 * target checks the promises of the module's header itself and calls fuzz_fail, which aborts: a
 * broken promise is a crash, as a sanitizer's report is.  Under an injected allocation failure
 * only what must hold whatever happens is checked (fuzz_faulted tells).
 */
#ifndef DNSGUARD_FUZZ_H
#define DNSGUARD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness's own allocations never fail: replay.c makes the module's fail one by one, and
 * links with --wrap=malloc so that __real_malloc is the allocator that does not. */
#ifdef FUZZ_REPLAY
void *__real_malloc(size_t size);
#define fuzz_malloc __real_malloc
/* Whether an allocation was made to fail during this run of the target. */
int fuzz_faulted(void);
#else
#define fuzz_malloc malloc
static inline int fuzz_faulted(void)
{
	return 0;
}
#endif

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

	*copy = fuzz_malloc(size + 1);
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
	char *s = fuzz_malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
