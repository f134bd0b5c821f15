/* Locking, reading and atomically replacing target files; see safefile.h. */
#include "safefile.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sbuf.h"

static int read_fd(int fd, size_t size, uint8_t **buf, size_t *len)
{
	uint8_t *p = xmalloc(size ? size : 1);
	size_t got = 0;

	while (got < size) {
		ssize_t r = read(fd, p + got, size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(p);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*buf = p;
	*len = got;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = ENOSPC; /* no bytes taken and no error said: errno is stale otherwise */
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int lock_fd(int fd, const char *path, struct gt_error *e)
{
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return gt_fail(e, GT_REFUSED, "'%s' is locked by another gpotool process; try again when it has finished", path);
		return gt_fail(e, GT_FAILED, "unable to lock '%s': %s", path, strerror(errno));
	}
	return 0;
}

/* Opens and locks; a writer that renamed a new file in while we waited for the lock is
 * seen by comparing the path's inode with ours, and we start again on the new file. */
static int open_target(const char *path, int write, struct locked_file *lf, struct gt_error *e)
{
	for (int tries = 0; tries < 10; tries++) {
		struct stat now;
		/* O_NONBLOCK: a FIFO in place of the file must not hang us; cleared once it is a file */
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (write ? O_NOFOLLOW : 0));

		if (fd < 0) {
			if (errno == ELOOP)
				return gt_fail(e, GT_REFUSED, "'%s' is a symbolic link; give the path of the file itself", path);
			return gt_fail(e, GT_FAILED,
				       "unable to open '%s': %s", path, strerror(errno));
		}
		if (fstat(fd, &lf->st) < 0 || !S_ISREG(lf->st.st_mode)) {
			int err = errno;

			close(fd);
			if (!S_ISREG(lf->st.st_mode))
				return gt_fail(e, GT_REFUSED, "'%s' is not a regular file", path);
			return gt_fail(e, GT_FAILED, "unable to stat '%s': %s", path, strerror(err));
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		if (!write) {
			lf->fd = fd;
			return 0;
		}
		if (lock_fd(fd, path, e) < 0) {
			close(fd);
			return -1;
		}
		if (lstat(path, &now) == 0 && now.st_ino == lf->st.st_ino && now.st_dev == lf->st.st_dev) {
			lf->fd = fd;
			return 0;
		}
		close(fd);
	}
	return gt_fail(e, GT_REFUSED, "'%s' keeps being replaced by another process", path);
}

int safefile_open(const char *path, int write, struct locked_file *lf, struct gt_error *e)
{
	return safefile_open_head(path, write, SIZE_MAX, lf, e);
}

int safefile_open_head(const char *path, int write, size_t head, struct locked_file *lf, struct gt_error *e)
{
	memset(lf, 0, sizeof(*lf));
	lf->fd = -1;
	if (open_target(path, write, lf, e) < 0)
		return -1;
	lf->path = xstrdup(path);
	if ((unsigned long long)lf->st.st_size > SAFEFILE_MAX_BYTES) {
		gt_fail(e, GT_REFUSED, "'%s' is %lld bytes, larger than any registry hive can be", path,
			(long long)lf->st.st_size);
		safefile_close(lf);
		return -1;
	}
	if (read_fd(lf->fd, (size_t)lf->st.st_size < head ? (size_t)lf->st.st_size : head, &lf->bytes, &lf->len) < 0) {
		gt_fail(e, GT_FAILED, "unable to read '%s': %s", path, strerror(errno));
		safefile_close(lf);
		return -1;
	}
	return 0;
}

void safefile_tmp_discard(struct locked_file *lf)
{
	if (lf->tmp_path) {
		unlink(lf->tmp_path);
		free(lf->tmp_path);
		lf->tmp_path = NULL;
	}
}

void safefile_close(struct locked_file *lf)
{
	safefile_tmp_discard(lf);
	if (lf->fd >= 0)
		close(lf->fd); /* releases the flock */
	free(lf->path);
	free(lf->bytes);
	free(lf->sync_warning);
	memset(lf, 0, sizeof(*lf));
	lf->fd = -1;
}

static char *tmp_template(const char *path)
{
	char *dup = xstrdup(path), *dup2 = xstrdup(path);
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s/.%s.gpotool-XXXXXX", dirname(dup), basename(dup2));
	free(dup);
	free(dup2);
	return sbuf_detach(&sb, NULL);
}

int safefile_tmp_create(struct locked_file *lf, struct gt_error *e)
{
	char *tmp = tmp_template(lf->path);
	int fd = mkstemp(tmp);

	if (fd < 0) {
		gt_fail(e, GT_FAILED, "unable to create a temp file beside '%s': %s", lf->path, strerror(errno));
		free(tmp);
		return -1;
	}
	close(fd);
	lf->tmp_path = tmp;
	return 0;
}

int safefile_tmp_write(struct locked_file *lf, const void *buf, size_t len, struct gt_error *e)
{
	int fd = open(lf->tmp_path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return gt_fail(e, GT_FAILED, "unable to open '%s': %s", lf->tmp_path, strerror(errno));
	if (write_all(fd, buf, len) < 0) {
		int err = errno;

		close(fd);
		return gt_fail(e, GT_FAILED, "unable to write '%s': %s", lf->tmp_path, strerror(err));
	}
	if (close(fd) < 0)
		return gt_fail(e, GT_FAILED, "unable to write '%s': %s", lf->tmp_path, strerror(errno));
	return 0;
}

int safefile_tmp_finish(struct locked_file *lf, struct gt_error *e)
{
	int fd = open(lf->tmp_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return gt_fail(e, GT_FAILED, "unable to reopen '%s': %s", lf->tmp_path, strerror(errno));
	if (fstat(fd, &st) < 0 ||
	    ((st.st_uid != lf->st.st_uid || st.st_gid != lf->st.st_gid) &&
	     fchown(fd, lf->st.st_uid, lf->st.st_gid) < 0) ||
	    fchmod(fd, lf->st.st_mode & 07777) < 0 || fsync(fd) < 0) {
		int err = errno;

		close(fd);
		return gt_fail(e, GT_FAILED, "unable to prepare '%s' (owner, mode, fsync): %s", lf->tmp_path, strerror(err));
	}
	if (close(fd) < 0)
		return gt_fail(e, GT_FAILED, "unable to write '%s': %s", lf->tmp_path, strerror(errno));
	return 0;
}

int fsync_parent_dir(const char *path, struct gt_error *e)
{
	char *dup = xstrdup(path);
	int fd = open(dirname(dup), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0 || fsync(fd) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to fsync the directory of '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dup);
	return ret;
}

/* After the rename the new file is in place for every reader: a directory fsync that fails
 * then cannot undo it, only leave it less durable. So it is said, not turned into a failure. */
static void note_unsynced(const char *path, char **warning)
{
	struct gt_error e = { 0 };

	if (fsync_parent_dir(path, &e) == 0)
		return;
	free(*warning);
	*warning = xstrdup(e.msg);
}

int safefile_tmp_commit(struct locked_file *lf, struct gt_error *e)
{
	if (rename(lf->tmp_path, lf->path) < 0)
		return gt_fail(e, GT_FAILED, "unable to replace '%s': %s", lf->path, strerror(errno));
	free(lf->tmp_path);
	lf->tmp_path = NULL;
	note_unsynced(lf->path, &lf->sync_warning);
	return 0;
}

int read_whole_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct gt_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	int ret = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return gt_fail(e, GT_FAILED, "unable to open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to stat '%s': %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		ret = gt_fail(e, GT_REFUSED, "'%s' is not a regular file", path);
	else if ((unsigned long long)st.st_size > max)
		ret = gt_fail(e, GT_REFUSED, "'%s' is larger than %zu bytes", path, max);
	else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 || read_fd(fd, (size_t)st.st_size, buf, len) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to read '%s': %s", path, strerror(errno));
	close(fd);
	return ret;
}

/* Temp file beside path, written and fsynced; then publish() puts it in place. */
static int write_file_via_tmp(const char *path, const void *buf, size_t len, mode_t mode,
			      int (*publish)(const char *tmp, const char *path, struct gt_error *e), struct gt_error *e)
{
	char *tmp = tmp_template(path);
	int fd = mkstemp(tmp), ret = 0;

	if (fd < 0) {
		ret = gt_fail(e, GT_FAILED, "unable to create a temp file beside '%s': %s", path, strerror(errno));
		free(tmp);
		return ret;
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, buf, len) < 0 || fsync(fd) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to write '%s': %s", tmp, strerror(errno));
	if (close(fd) < 0 && ret == 0)
		ret = gt_fail(e, GT_FAILED, "unable to write '%s': %s", tmp, strerror(errno));
	if (ret == 0)
		ret = publish(tmp, path, e);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret < 0 ? -1 : fsync_parent_dir(path, e);
}

static int publish_replace(const char *tmp, const char *path, struct gt_error *e)
{
	if (rename(tmp, path) < 0)
		return gt_fail(e, GT_FAILED, "unable to replace '%s': %s", path, strerror(errno));
	return 0;
}

/* link() fails when path exists, which makes "create, never clobber" atomic */
static int publish_new(const char *tmp, const char *path, struct gt_error *e)
{
	if (link(tmp, path) < 0) {
		if (errno == EEXIST)
			return gt_fail(e, GT_REFUSED, "'%s' already exists; refusing to overwrite it", path);
		return gt_fail(e, GT_FAILED, "unable to create '%s': %s", path, strerror(errno));
	}
	unlink(tmp);
	return 0;
}

int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode, struct gt_error *e)
{
	return write_file_via_tmp(path, buf, len, mode, publish_replace, e);
}

int write_file_new(const char *path, const void *buf, size_t len, mode_t mode, struct gt_error *e)
{
	return write_file_via_tmp(path, buf, len, mode, publish_new, e);
}

int staged_write(const char *path, const void *buf, size_t len, mode_t mode, struct staged_file *sf, struct gt_error *e)
{
	int fd, ret = 0;

	sf->path = xstrdup(path);
	sf->tmp = tmp_template(path);
	fd = mkstemp(sf->tmp);
	if (fd < 0) {
		gt_fail(e, GT_FAILED, "unable to create a temp file beside '%s': %s", path, strerror(errno));
		free(sf->tmp);
		sf->tmp = NULL;
		return -1;
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, buf, len) < 0 || fsync(fd) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to write '%s': %s", sf->tmp, strerror(errno));
	if (close(fd) < 0 && ret == 0)
		ret = gt_fail(e, GT_FAILED, "unable to write '%s': %s", sf->tmp, strerror(errno));
	if (ret < 0)
		staged_discard(sf);
	return ret;
}

int staged_commit(struct staged_file *sf, struct gt_error *e)
{
	if (rename(sf->tmp, sf->path) < 0)
		return gt_fail(e, GT_FAILED, "unable to replace '%s': %s", sf->path, strerror(errno));
	free(sf->tmp);
	sf->tmp = NULL;
	note_unsynced(sf->path, &sf->sync_warning);
	return 0;
}

void staged_discard(struct staged_file *sf)
{
	if (sf->tmp)
		unlink(sf->tmp);
	free(sf->tmp);
	free(sf->path);
	free(sf->sync_warning);
	sf->tmp = sf->path = sf->sync_warning = NULL;
}

char *absolute_path(const char *path)
{
	char *dup = xstrdup(path), *dup2 = xstrdup(path), dir[PATH_MAX];
	struct sbuf sb;

	sbuf_init(&sb);
	if (realpath(dirname(dup), dir))
		sbuf_addf(&sb, "%s/%s", dir, basename(dup2));
	else
		sbuf_addstr(&sb, path);
	free(dup);
	free(dup2);
	return sbuf_detach(&sb, NULL);
}

void safefile_sweep_temps(const char *path, struct sbuf *report)
{
	char *dup = xstrdup(path), *dup2 = xstrdup(path);
	const char *dir = dirname(dup), *base = basename(dup2);
	struct sbuf prefix;
	struct dirent *de;
	DIR *d = opendir(dir);

	sbuf_init(&prefix);
	sbuf_addf(&prefix, ".%s.gpotool-", base);
	while (d && (de = readdir(d))) {
		struct stat st;

		/* exactly mkstemp's name: the prefix and six characters, a regular file */
		if (strncmp(de->d_name, prefix.buf, prefix.len) != 0 || strlen(de->d_name) != prefix.len + 6 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			sbuf_addf(report, "removed '%s/%s', left by a gpotool killed before it journaled its write\n", dir, de->d_name);
	}
	if (d)
		closedir(d);
	sbuf_release(&prefix);
	free(dup);
	free(dup2);
}

/* ---- temp files beside a target, for journal recovery (rec) ---- */

/* ".NAME.gpotool-" and exactly mkstemp's six characters. */
static int is_temp_name(const char *name, const char *prefix, size_t plen)
{
	return strncmp(name, prefix, plen) == 0 && strlen(name) == plen + 6;
}

int safefile_list_temps(const char *path, char ***out, size_t *n)
{
	char *dup = xstrdup(path), *dup2 = xstrdup(path);
	const char *dir = dirname(dup), *base = basename(dup2);
	struct sbuf prefix;
	struct dirent *de;
	size_t cap = 0;
	DIR *d = opendir(dir);

	*out = NULL;
	*n = 0;
	sbuf_init(&prefix);
	sbuf_addf(&prefix, ".%s.gpotool-", base);
	while (d && (de = readdir(d))) {
		struct stat st;
		struct sbuf full;

		if (!is_temp_name(de->d_name, prefix.buf, prefix.len) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 4;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		sbuf_init(&full);
		sbuf_addf(&full, "%s/%s", dir, de->d_name);
		(*out)[(*n)++] = sbuf_detach(&full, NULL);
	}
	if (d)
		closedir(d);
	sbuf_release(&prefix);
	free(dup);
	free(dup2);
	return 0;
}

int safefile_remove_temp(const char *tmp, struct gt_error *e)
{
	char *dup = xstrdup(tmp), *dup2 = xstrdup(tmp);
	const char *base = basename(dup2);
	int dfd = open(dirname(dup), O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;
	struct stat st;

	if (dfd < 0)
		ret = errno == ENOENT ? 0 : gt_fail(e, GT_FAILED, "unable to open the directory of '%s': %s", tmp, strerror(errno));
	else if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		ret = errno == ENOENT ? 0 : gt_fail(e, GT_FAILED, "unable to stat '%s': %s", tmp, strerror(errno));
	else if (!S_ISREG(st.st_mode) || strstr(base, ".gpotool-") == NULL)
		ret = gt_fail(e, GT_REFUSED, "'%s' is not a gpotool temp file; not removed", tmp);
	else if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
		ret = gt_fail(e, GT_FAILED, "unable to remove '%s': %s", tmp, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	free(dup);
	free(dup2);
	return ret;
}
