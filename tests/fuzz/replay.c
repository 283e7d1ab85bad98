/*
 * replay - runs a fuzz target over files without libFuzzer: the target's regression test, and a
 * fault-injection sweep.
 *
 *   fuzz_NAME [FILE|DIR]...
 *
 * With no argument it takes every file of $top_srcdir/tests/fuzz/corpus/NAME (top_srcdir from
 * the environment, as `make check` sets it; "." otherwise).  It speaks TAP, as every test of the
 * suite does:
 *   1  every input once;
 *   2  the sweep: for each named input (a file a person named: "seed-like", "found-..."; the
 *      fuzzer's own finds are named by their hash and are many), the target runs again once per
 *      allocation it makes, with that allocation failing (malloc, calloc and realloc, linked with
 *      --wrap), so that every out-of-memory path of the module runs under the sanitizers.
 * A broken promise aborts (the target's fuzz_fail, or a sanitizer): the test fails, and its last
 * line on stderr names the input (and the failing allocation).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME names the target's corpus"
#endif

#define SWEEP_MAX 5000	/* allocations failed in turn per input, at most */

/* ---- allocation failure ------------------------------------------------------------------------ */

void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *ptr, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *ptr, size_t size);

static long countdown = -1;	/* allocations to let through before the one that fails; -1: none */
static unsigned long allocations;
static bool faulted;

static bool fail_now(void)
{
	allocations++;
	if (countdown < 0 || countdown-- > 0)
		return false;
	faulted = true;
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
	return fail_now() ? NULL : __real_calloc(count, size);
}

void *__wrap_realloc(void *ptr, size_t size)
{
	return fail_now() ? NULL : __real_realloc(ptr, size);
}

int fuzz_faulted(void)
{
	return faulted;
}

/* ---- inputs ------------------------------------------------------------------------------------ */

struct input {
	char *path;
	uint8_t *data;
	size_t size;
};

static struct input *inputs;
static size_t input_count, input_cap;

static int read_input(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct input in = {0};
	size_t cap = 0, n;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (in.size == cap && !(in.data = __real_realloc(in.data, cap = cap ? cap * 2 : 4096)))
			abort();
		n = fread(in.data + in.size, 1, cap - in.size, f);
		in.size += n;
	} while (n > 0);
	fclose(f);
	/* exactly `size` bytes, so that a read past the end is the sanitizer's to see */
	if (!(in.data = __real_realloc(in.data, in.size ? in.size : 1)) || !(in.path = __real_malloc(strlen(path) + 1)))
		abort();
	strcpy(in.path, path);
	if (input_count == input_cap &&
	    !(inputs = __real_realloc(inputs, (input_cap = input_cap ? input_cap * 2 : 256) * sizeof(*inputs))))
		abort();
	inputs[input_count++] = in;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_path(const char *path)
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
		return read_input(path);
	if (!(d = opendir(path))) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap && !(names = __real_realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names))))
			abort();
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		if (!(names[n] = __real_malloc(len)))
			abort();
		snprintf(names[n++], len, "%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), compare_names);	/* the same order every run */
	for (size_t i = 0; i < n; i++) {
		if (read_input(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

/* A name a person gave (a seed, a find kept on purpose), not the fuzzer's 40-hex-digit hash. */
static bool named_by_hand(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t hex = 0;

	while (isxdigit((unsigned char)base[hex]))
		hex++;
	return !(hex == 40 && base[hex] == '\0');
}

/* ---- naming the input that crashed ---------------------------------------------------------------- */

static char where[4200];	/* "PATH" or "PATH, allocation K of N failing" */

static void say_where(void)
{
	size_t len = strnlen(where, sizeof(where));
	(void)!write(STDERR_FILENO, "while running ", 14);
	(void)!write(STDERR_FILENO, where, len);
	(void)!write(STDERR_FILENO, "\n", 1);
}

static void on_signal(int sig)
{
	say_where();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The sanitizers exit without a signal; their runtime calls this first when it is linked in. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* One run of the target on its own copy of the input. */
static void run(const struct input *in)
{
	uint8_t *copy = __real_malloc(in->size ? in->size : 1);

	if (!copy)
		abort();
	if (in->size)
		memcpy(copy, in->data, in->size);
	faulted = false;
	LLVMFuzzerTestOneInput(copy, in->size);
	free(copy);
}

int main(int argc, char **argv)
{
	unsigned long sweeps = 0, swept = 0;
	int rc = 0;

	if (argc < 2) {
		const char *top = getenv("top_srcdir");
		char path[4096];
		snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/%s", top && *top ? top : ".", FUZZ_NAME);
		rc = read_path(path);
	}
	for (int i = 1; i < argc; i++)
		if (read_path(argv[i]) != 0)
			rc = -1;
	printf("1..2\n");
	if (rc != 0 || input_count == 0) {
		printf("not ok 1 - %s: %s\n", FUZZ_NAME, rc != 0 ? "an input could not be read" : "no input in the corpus");
		printf("not ok 2 - %s: allocation failures # SKIP no corpus\n", FUZZ_NAME);
		return 1;
	}
	signal(SIGABRT, on_signal);
	signal(SIGSEGV, on_signal);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(say_where);
	for (size_t i = 0; i < input_count; i++) {
		snprintf(where, sizeof(where), "%s", inputs[i].path);
		run(&inputs[i]);
	}
	printf("ok 1 - %s: %zu inputs, no promise broken\n", FUZZ_NAME, input_count);
	fflush(stdout);

	for (size_t i = 0; i < input_count; i++) {
		unsigned long made;
		if (!named_by_hand(inputs[i].path))
			continue;
		countdown = -1;
		allocations = 0;
		run(&inputs[i]);
		made = allocations < SWEEP_MAX ? allocations : SWEEP_MAX;
		for (unsigned long k = 0; k < made; k++) {
			snprintf(where, sizeof(where), "%s, allocation %lu of %lu failing", inputs[i].path, k + 1, made);
			countdown = (long)k;
			run(&inputs[i]);
			countdown = -1;
			sweeps++;
		}
		swept++;
	}
	printf("ok 2 - %s: %lu runs with an allocation failing, over %lu inputs, no promise broken\n", FUZZ_NAME,
	       sweeps, swept);
	return 0;
}
