/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz-*.c).
 *
 * Harnesses whose target reads a file get a private directory from mkdtemp under $TMPDIR,
 * removed at exit. run-fuzz points TMPDIR at build/fuzz/tmp/NAME, so even a run that dies
 * on a crash (libFuzzer then exits without atexit handlers) leaves nothing outside build/.
 * FUZZ_SRCDIR (set by fuzz.mk) is the source tree, for the project's schemas. */
#ifndef GPOTOOL_FUZZUTIL_H
#define GPOTOOL_FUZZUTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

static char fuzz_dir[4096];

static inline int fuzz_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static inline void fuzz_tmpdir_remove(void)
{
	if (*fuzz_dir)
		nftw(fuzz_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* An I/O failure of the harness itself is not a finding in the target: say so and stop. */
__attribute__((noreturn)) static inline void fuzz_die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz harness: %s '%s': %m\n", what, path);
	exit(2);
}

static inline const char *fuzz_tmpdir(void)
{
	if (!*fuzz_dir) {
		const char *t = getenv("TMPDIR");

		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/gpotool-fuzz.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(fuzz_dir))
			fuzz_die("cannot create", fuzz_dir);
		atexit(fuzz_tmpdir_remove);
	}
	return fuzz_dir;
}

/* Replaces path with exactly buf (a fresh inode each time, as a tool would meet it). */
static inline void fuzz_write_file(const char *path, const void *buf, size_t len)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		fuzz_die("cannot create", path);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, (const char *)buf + off, len - off);

		if (w <= 0)
			fuzz_die("cannot write", path);
		off += (size_t)w;
	}
	if (close(fd) < 0)
		fuzz_die("cannot write", path);
}

/* The whole of a small file (the project's schemas); caller frees. */
static inline char *fuzz_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		fuzz_die("cannot read", path);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		fuzz_die("cannot read", path);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Input as a C string, as argv or a line reader would hand it over; caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A broken invariant: print why, then abort so libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...)                                                       \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz invariant failed: %s: ", #cond);      \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
			abort();                                                    \
		}                                                                   \
	} while (0)

#endif
