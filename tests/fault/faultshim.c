/* faultshim.so: an LD_PRELOAD shim that makes one write step of a process fail, for
 * tests/t4400-fault-injection.sh. It wraps the calls a write goes through (dlsym RTLD_NEXT)
 * and fails the Nth call of one kind with errno, as a full or failing disk would:
 *
 *   GPOTOOL_FAULT_OP     write    write, pwrite, pwrite64, writev, pwritev
 *                        fsync    fsync, fdatasync
 *                        rename   rename, renameat, renameat2
 *                        link     link, linkat
 *                        copy_file_range
 *                        ftruncate, unlink (unlink, unlinkat)
 *                        any      write, fsync, rename, link and copy_file_range counted
 *                                 together: the calls a full disk fails (never unlink, ftruncate)
 *   GPOTOOL_FAULT_NTH    the matching call to fail, 1-based (counted per GPOTOOL_FAULT_OP);
 *                        a comma-separated list fails each of them (up to 16: "4,7")
 *   GPOTOOL_FAULT_ERRNO  ENOSPC (default), EIO, EDQUOT, EROFS, EXDEV, EPERM, EACCES or a number
 *   GPOTOOL_FAULT_STICKY=1  the Nth call and every matching call after it fail (a disk that
 *                        stays full), instead of the Nth alone
 *   GPOTOOL_FAULT_SHORT=1   a write-kind fault writes the first half of its bytes and returns
 *                        that short count; later writes to the same descriptor fail (ENOSPC
 *                        usually arrives as a short write first)
 *   GPOTOOL_FAULT_ZERO=1    a write-kind fault (write, pwrite) returns 0 and leaves errno as it
 *                        was: what a caller must not take for a reason (the errno is stale)
 *   GPOTOOL_FAULT_NOSYNC=1  fsync and fdatasync that are not failed return 0 at once (as
 *                        eatmydata does): fault runs stay fast; what gpotool sees is the same
 *   GPOTOOL_FAULT_XDEV=1 link and linkat always fail with EXDEV, uncounted, as when the
 *                        state directory is on another file system (a condition, not a fault)
 *   GPOTOOL_FAULT_COUNT=FILE  fail nothing; at exit write "OP N" lines to FILE: how many calls
 *                        of each kind (and "any") the process made, to enumerate every step
 *   GPOTOOL_FAULT_TRACE=FILE  append "OP N PATH" for every matching call ("FAULT OP N PATH"
 *                        for the one failed), PATH from /proc/self/fd or the call's arguments
 *
 * Only descriptors above 2 count: messages on stdin/stdout/stderr are never failed. Calls
 * that name paths (rename, link, unlink) always count. No allocation in the wrappers and no
 * locking: the process under test is single-threaded. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum op { OP_WRITE, OP_FSYNC, OP_RENAME, OP_LINK, OP_COPY, OP_FTRUNCATE, OP_UNLINK, OP_N, OP_ANY = OP_N, OP_NONE };

static const char *const op_names[] = { "write", "fsync", "rename", "link", "copy_file_range", "ftruncate", "unlink", "any" };

static struct {
	int ready, active, counting, sticky, shortw, zero, xdev, nosync, err;
	enum op op;
	unsigned long nth[16];
	int nnth;
	unsigned long count[OP_N + 1];
	int short_fd;              /* the descriptor a short write hit, or -1 */
	const char *count_file, *trace_file;
} cfg = { .short_fd = -1, .op = OP_NONE };

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned);
static int (*real_link)(const char *, const char *);
static int (*real_linkat)(int, const char *, int, const char *, int);
static ssize_t (*real_copy_file_range)(int, off64_t *, int, off64_t *, size_t, unsigned);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);

static int parse_errno(const char *s)
{
	static const struct { const char *name; int value; } names[] = {
		{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EDQUOT", EDQUOT }, { "EROFS", EROFS },
		{ "EXDEV", EXDEV }, { "EPERM", EPERM }, { "EACCES", EACCES }, { "EINTR", EINTR },
	};

	if (!s || !*s)
		return ENOSPC;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].value;
	return atoi(s) > 0 ? atoi(s) : ENOSPC;
}

static int env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") != 0;
}

#define RESOLVE(name) (real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name))

__attribute__((constructor)) static void shim_init(void)
{
	const char *op, *nth;

	if (cfg.ready)
		return;
	RESOLVE(write);
	RESOLVE(pwrite);
	RESOLVE(pwrite64);
	RESOLVE(writev);
	RESOLVE(pwritev);
	RESOLVE(fsync);
	RESOLVE(fdatasync);
	RESOLVE(rename);
	RESOLVE(renameat);
	RESOLVE(renameat2);
	RESOLVE(link);
	RESOLVE(linkat);
	RESOLVE(copy_file_range);
	RESOLVE(ftruncate);
	RESOLVE(ftruncate64);
	RESOLVE(unlink);
	RESOLVE(unlinkat);

	cfg.count_file = getenv("GPOTOOL_FAULT_COUNT");
	cfg.trace_file = getenv("GPOTOOL_FAULT_TRACE");
	cfg.counting = cfg.count_file && *cfg.count_file;
	cfg.sticky = env_on("GPOTOOL_FAULT_STICKY");
	cfg.shortw = env_on("GPOTOOL_FAULT_SHORT");
	cfg.zero = env_on("GPOTOOL_FAULT_ZERO");
	cfg.xdev = env_on("GPOTOOL_FAULT_XDEV");
	cfg.nosync = env_on("GPOTOOL_FAULT_NOSYNC");
	cfg.err = parse_errno(getenv("GPOTOOL_FAULT_ERRNO"));
	op = getenv("GPOTOOL_FAULT_OP");
	nth = getenv("GPOTOOL_FAULT_NTH");
	for (int i = 0; op && i <= OP_ANY; i++)
		if (strcmp(op, op_names[i]) == 0)
			cfg.op = (enum op)i;
	if (op && strcmp(op, "pwrite") == 0)
		cfg.op = OP_WRITE;
	if (op && strcmp(op, "fdatasync") == 0)
		cfg.op = OP_FSYNC;
	for (char *end; nth && *nth && cfg.nnth < 16; nth = *end == ',' ? end + 1 : end) {
		unsigned long v = strtoul(nth, &end, 10);

		if (end == nth)
			break;
		if (v > 0)
			cfg.nth[cfg.nnth++] = v;
	}
	cfg.active = !cfg.counting && cfg.op != OP_NONE && cfg.nnth > 0;
	cfg.ready = 1;
}

/* One line to the trace file: opened, appended, closed, so no descriptor of ours lingers. */
static void trace(const char *tag, enum op op, unsigned long n, const char *path, const char *path2)
{
	char line[8400];
	int fd, len;

	if (!cfg.trace_file || !*cfg.trace_file || !real_write)
		return;
	len = snprintf(line, sizeof(line), "%s%s %lu %s%s%s\n", tag, op_names[op], n, path ? path : "-",
		       path2 ? " -> " : "", path2 ? path2 : "");
	if (len <= 0)
		return;
	if ((size_t)len >= sizeof(line))
		len = sizeof(line) - 1;
	fd = open(cfg.trace_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		real_write(fd, line, (size_t)len);
		close(fd);
	}
}

static const char *fd_path(int fd, char *buf, size_t n)
{
	char link[64];
	ssize_t r;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	r = readlink(link, buf, n - 1);
	if (r < 0)
		return "?";
	buf[r] = '\0';
	return buf;
}

/* dirfd + path as one absolute-looking string for the trace. */
static const char *at_path(int dirfd, const char *path, char *buf, size_t n)
{
	char dir[4096];

	if (!path)
		return "-";
	if (path[0] == '/')
		return path;
	if (dirfd == AT_FDCWD) {
		if (!getcwd(dir, sizeof(dir)))
			return path;
	} else {
		fd_path(dirfd, dir, sizeof(dir));
	}
	snprintf(buf, n, "%s/%s", dir, path);
	return buf;
}

/* Counts one call of kind op; 1 when it is to fail. */
static int hit(enum op op, const char *path, const char *path2)
{
	unsigned long n, nany;
	int fail;

	if (!cfg.ready)
		shim_init();
	n = ++cfg.count[op];
	nany = op < OP_FTRUNCATE ? ++cfg.count[OP_ANY] : 0;
	if (!cfg.active) {
		trace("", op, n, path, path2);
		return 0;
	}
	if (cfg.op == OP_ANY && nany)
		n = nany;
	else if (cfg.op != op)
		return trace("", op, n, path, path2), 0;
	fail = 0;
	for (int i = 0; i < cfg.nnth; i++)
		fail |= cfg.sticky ? n >= cfg.nth[i] : n == cfg.nth[i];
	trace(fail ? "FAULT " : "", op, n, path, path2);
	return fail;
}

static int hit_fd(enum op op, int fd)
{
	char buf[4096];

	if (fd <= 2)
		return 0;
	if (!cfg.trace_file)
		return hit(op, NULL, NULL);
	return hit(op, fd_path(fd, buf, sizeof(buf)), NULL);
}

static int hit_at(enum op op, int d1, const char *p1, int d2, const char *p2)
{
	char b1[8192], b2[8192];

	if (!cfg.trace_file)
		return hit(op, NULL, NULL);
	return hit(op, at_path(d1, p1, b1, sizeof(b1)), p2 ? at_path(d2, p2, b2, sizeof(b2)) : NULL);
}

/* A write-kind fault: whole (-1, errno) or, with GPOTOOL_FAULT_SHORT, half the bytes. */
static ssize_t write_fault(int fd, const void *buf, size_t len, off_t off, int positional)
{
	if (cfg.zero)
		return 0;
	if (cfg.shortw && len > 1) {
		ssize_t w = positional ? real_pwrite(fd, buf, len / 2, off) : real_write(fd, buf, len / 2);

		if (w >= 0) {
			cfg.short_fd = fd;
			return w;
		}
	}
	errno = cfg.err;
	return -1;
}

/* After a short write the disk is full: later writes on that descriptor fail. */
static int after_short(int fd)
{
	if (cfg.short_fd < 0 || fd != cfg.short_fd)
		return 0;
	errno = cfg.err;
	return 1;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (!real_write)
		shim_init();
	if (fd > 2 && after_short(fd))
		return -1;
	if (hit_fd(OP_WRITE, fd))
		return write_fault(fd, buf, len, 0, 0);
	return real_write(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	if (!real_pwrite)
		shim_init();
	if (fd > 2 && after_short(fd))
		return -1;
	if (hit_fd(OP_WRITE, fd))
		return write_fault(fd, buf, len, off, 1);
	return real_pwrite(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	if (!real_pwrite64)
		shim_init();
	if (fd > 2 && after_short(fd))
		return -1;
	if (hit_fd(OP_WRITE, fd))
		return write_fault(fd, buf, len, (off_t)off, 1);
	return real_pwrite64(fd, buf, len, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	if (!real_writev)
		shim_init();
	if (fd > 2 && after_short(fd))
		return -1;
	if (hit_fd(OP_WRITE, fd)) {
		errno = cfg.err;
		return -1;
	}
	return real_writev(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	if (!real_pwritev)
		shim_init();
	if (fd > 2 && after_short(fd))
		return -1;
	if (hit_fd(OP_WRITE, fd)) {
		errno = cfg.err;
		return -1;
	}
	return real_pwritev(fd, iov, n, off);
}

int fsync(int fd)
{
	if (!real_fsync)
		shim_init();
	if (hit_fd(OP_FSYNC, fd)) {
		errno = cfg.err;
		return -1;
	}
	return cfg.nosync && fd > 2 ? 0 : real_fsync(fd);
}

int fdatasync(int fd)
{
	if (!real_fdatasync)
		shim_init();
	if (hit_fd(OP_FSYNC, fd)) {
		errno = cfg.err;
		return -1;
	}
	return cfg.nosync && fd > 2 ? 0 : real_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
	if (!real_rename)
		shim_init();
	if (hit_at(OP_RENAME, AT_FDCWD, from, AT_FDCWD, to)) {
		errno = cfg.err;
		return -1;
	}
	return real_rename(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	if (!real_renameat)
		shim_init();
	if (hit_at(OP_RENAME, fd1, from, fd2, to)) {
		errno = cfg.err;
		return -1;
	}
	return real_renameat(fd1, from, fd2, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
	if (!real_renameat2)
		shim_init();
	if (hit_at(OP_RENAME, fd1, from, fd2, to)) {
		errno = cfg.err;
		return -1;
	}
	return real_renameat2(fd1, from, fd2, to, flags);
}

int link(const char *from, const char *to)
{
	if (!real_link)
		shim_init();
	if (cfg.xdev) {
		errno = EXDEV;
		return -1;
	}
	if (hit_at(OP_LINK, AT_FDCWD, from, AT_FDCWD, to)) {
		errno = cfg.err;
		return -1;
	}
	return real_link(from, to);
}

int linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
	if (!real_linkat)
		shim_init();
	if (cfg.xdev) {
		errno = EXDEV;
		return -1;
	}
	if (hit_at(OP_LINK, fd1, from, fd2, to)) {
		errno = cfg.err;
		return -1;
	}
	return real_linkat(fd1, from, fd2, to, flags);
}

ssize_t copy_file_range(int in, off64_t *in_off, int out, off64_t *out_off, size_t len, unsigned flags)
{
	if (!real_copy_file_range)
		shim_init();
	if (hit_fd(OP_COPY, out)) {
		errno = cfg.err;
		return -1;
	}
	return real_copy_file_range(in, in_off, out, out_off, len, flags);
}

int ftruncate(int fd, off_t len)
{
	if (!real_ftruncate)
		shim_init();
	if (hit_fd(OP_FTRUNCATE, fd)) {
		errno = cfg.err;
		return -1;
	}
	return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	if (!real_ftruncate64)
		shim_init();
	if (hit_fd(OP_FTRUNCATE, fd)) {
		errno = cfg.err;
		return -1;
	}
	return real_ftruncate64(fd, len);
}

int unlink(const char *path)
{
	if (!real_unlink)
		shim_init();
	if (hit_at(OP_UNLINK, AT_FDCWD, path, AT_FDCWD, NULL)) {
		errno = cfg.err;
		return -1;
	}
	return real_unlink(path);
}

int unlinkat(int fd, const char *path, int flags)
{
	if (!real_unlinkat)
		shim_init();
	if (hit_at(OP_UNLINK, fd, path, AT_FDCWD, NULL)) {
		errno = cfg.err;
		return -1;
	}
	return real_unlinkat(fd, path, flags);
}

__attribute__((destructor)) static void shim_fini(void)
{
	char buf[512];
	int fd, len = 0;

	if (!cfg.counting)
		return;
	for (int i = 0; i <= OP_ANY; i++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s %lu\n", op_names[i], cfg.count[i]);
	fd = open(cfg.count_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		real_write(fd, buf, (size_t)len);
		close(fd);
	}
}
