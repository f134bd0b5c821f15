/* Locking, reading and atomically replacing target files; see safefile.h. */
#include "core/safefile.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "core/sbuf.h"

static int allow_shared;

void safefile_allow_shared_dirs(int on)
{
	allow_shared = on;
}

void safefile_fd_name(int fd, char buf[SAFEFILE_FD_NAME_MAX])
{
	snprintf(buf, SAFEFILE_FD_NAME_MAX, "/proc/self/fd/%d", fd);
}

static int same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

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

/* ---- folders: reached without symbolic links, held by descriptor, checked like StrictModes ---- */

/* The name of a held folder, for a message ("?" when /proc cannot say). Caller frees. */
static char *fd_path(int fd)
{
	char name[SAFEFILE_FD_NAME_MAX], buf[PATH_MAX];
	ssize_t n;

	safefile_fd_name(fd, name);
	n = readlink(name, buf, sizeof(buf) - 1);
	if (n < 0)
		return xstrdup("?");
	buf[n] = '\0';
	return xstrdup(buf);
}

/* path's folder part: "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/". Caller frees. */
static char *folder_part(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	dir = xmemdup(path, (size_t)(slash - path) + 1);
	dir[slash - path] = '\0';
	return dir;
}

/* A name beside path's file: "a/b/c" + ".x" -> "a/b/.x". Caller frees. */
static char *beside(const char *path, const char *name)
{
	char *dir = folder_part(path);
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
	free(dir);
	return sbuf_detach(&sb, NULL);
}

/* Opens the folder of path, each component of it with O_NOFOLLOW from / (or from the
 * working directory for a relative path): the folder a writer acts in is the one the
 * path names, never one a link points to, and it is held from then on. *name gets the
 * file's name in it. Both are set only on success (caller closes and frees). */
static int open_folder(const char *path, int *dirfd, char **name, struct gt_error *e)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *dir = folder_part(path), *walk = xstrdup(dir), *save = NULL;
	int cur = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		ret = gt_fail(e, GT_REFUSED, "'%s' is not a regular file", path);
	else if (cur < 0)
		ret = gt_fail(e, GT_FAILED, "unable to open the folder of '%s': %s", path, strerror(errno));
	for (char *c = strtok_r(walk, "/", &save); c && ret == 0; c = strtok_r(NULL, "/", &save)) {
		struct stat st;
		int next, err;

		if (strcmp(c, ".") == 0)
			continue;
		next = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		err = errno;
		if (next >= 0) {
			close(cur);
			cur = next;
			continue;
		}
		if (fstatat(cur, c, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			ret = gt_fail(e, GT_REFUSED, "'%.*s' is a symbolic link to a folder; gpotool writes only through real "
				      "folders (give the real path of '%s', as realpath prints it)", (int)(c - walk + strlen(c)), dir, path);
		else
			ret = gt_fail(e, GT_FAILED, "unable to open '%s': %s", path, strerror(err));
	}
	if (ret == 0) {
		/* a descriptor that fsync accepts (O_PATH ones it does not) */
		*dirfd = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*dirfd < 0)
			ret = gt_fail(e, GT_FAILED, "unable to open the folder of '%s': %s", path, strerror(errno));
		else
			*name = xstrdup(base);
	}
	if (cur >= 0)
		close(cur);
	free(dir);
	free(walk);
	return ret;
}

/* StrictModes: who other than root and the file's owner can write this folder? Its owner
 * (who can chmod it), and anyone its group or other write bits let in, unless it is sticky
 * (then they cannot rename or remove our files in it). */
static int folder_unsafe(const struct stat *st, uid_t owner)
{
	if (st->st_uid != 0 && st->st_uid != owner)
		return 1;
	return (st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX);
}

/* Others than root and owner can write the folder itself (checked whatever the option says). */
static int folder_shared(int dirfd, uid_t owner)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return 1;
	return folder_unsafe(&st, owner == (uid_t)-1 ? geteuid() : owner);
}

/* Every folder from dirfd up to / (by "..", so above a relative path's working directory
 * too). owner is the file's owner; (uid_t)-1 for a file not there yet, which will belong to
 * us (a new file is never chowned): a folder someone else owns can then swap it. */
static int check_folders(int dirfd, uid_t owner, const char *path, struct gt_error *e)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3), ret = 0;

	if (owner == (uid_t)-1)
		owner = geteuid();
	if (allow_shared)
		goto out;
	for (int depth = 0; fd >= 0 && ret == 0; depth++) {
		struct stat st, up;
		int parent;

		if (fstat(fd, &st) < 0) {
			ret = gt_fail(e, GT_FAILED, "unable to check the folders of '%s': %s", path, strerror(errno));
			break;
		}
		if (folder_unsafe(&st, owner)) {
			char *dir = fd_path(fd);

			ret = gt_fail(e, GT_REFUSED, "refusing to write '%s': folder '%s' (owner %u, group %u, mode %04o) can be "
				      "written by users other than root and the file's owner; give --allow-shared-dir if they are "
				      "all trusted (a Samba SYSVOL is group-writable by the domain's administrators)", path, dir,
				      (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
			free(dir);
			break;
		}
		parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &up) < 0 || depth > 4096) {
			ret = gt_fail(e, GT_FAILED, "unable to check the folders of '%s': %s", path, strerror(errno));
			if (parent >= 0)
				close(parent);
			break;
		}
		close(fd);
		fd = parent;
		if (same_inode(&st, &up))
			break; /* "/" is its own parent */
	}
	if (fd < 0 && ret == 0)
		ret = gt_fail(e, GT_FAILED, "unable to check the folders of '%s': %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- opening a target ---- */

/* Opens and locks; a writer that renamed a new file in while we waited for the lock is
 * seen by comparing the name's inode with ours, and we start again on the new file. */
static int open_target(const char *path, int write, struct locked_file *lf, struct gt_error *e)
{
	for (int tries = 0; tries < 10; tries++) {
		struct stat now;
		/* O_NONBLOCK: a FIFO in place of the file must not hang us; cleared once it is a file */
		int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
		int fd = write ? openat(lf->dirfd, lf->name, flags | O_NOFOLLOW) : open(path, flags);

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
		if (fstatat(lf->dirfd, lf->name, &now, AT_SYMLINK_NOFOLLOW) == 0 && same_inode(&now, &lf->st)) {
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
	lf->fd = lf->dirfd = lf->tmp_fd = lf->new_fd = -1;
	if (write && open_folder(path, &lf->dirfd, &lf->name, e) < 0)
		return -1;
	if (open_target(path, write, lf, e) < 0) {
		safefile_close(lf);
		return -1;
	}
	lf->path = xstrdup(path);
	if (write && check_folders(lf->dirfd, lf->st.st_uid, path, e) < 0) {
		safefile_close(lf);
		return -1;
	}
	lf->shared = write && folder_shared(lf->dirfd, lf->st.st_uid);
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

int safefile_stat_name(const struct locked_file *lf, struct stat *st)
{
	if (lf->name)
		return fstatat(lf->dirfd, lf->name, st, AT_SYMLINK_NOFOLLOW);
	return stat(lf->path, st);
}

/* ---- temp files ---- */

/* Removes tmp_name from dirfd only while it is still fd's inode: a name another process
 * put there is not ours to remove. */
static void unlink_if_ours(int dirfd, const char *tmp_name, int fd)
{
	struct stat mine, there;

	if (fstat(fd, &mine) == 0 && fstatat(dirfd, tmp_name, &there, AT_SYMLINK_NOFOLLOW) == 0 && same_inode(&mine, &there))
		unlinkat(dirfd, tmp_name, 0);
}

/* A fresh ".NAME.gpotool-XXXXXX" (mkstemp's alphabet). Caller frees. */
static char *tmp_candidate(const char *name, int salt)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[6];
	struct timespec ts;
	struct sbuf sb;

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)((unsigned long)ts.tv_nsec >> (i * 5) ^ (unsigned long)getpid() ^ (unsigned long)salt);
	}
	sbuf_init(&sb);
	sbuf_addf(&sb, ".%s.gpotool-", name);
	for (size_t i = 0; i < sizeof(rnd); i++)
		sbuf_addch(&sb, chars[rnd[i] % (sizeof(chars) - 1)]);
	return sbuf_detach(&sb, NULL);
}

/* Creates ".NAME.gpotool-XXXXXX" in dirfd: O_EXCL and O_NOFOLLOW, so a name someone else
 * made (a file, a symbolic link) is never opened, only passed over; 0600 until the final
 * mode is set. *tmp_name and *fd are set on success. */
static int (*temp_made)(const char *tmp_path);

void safefile_on_temp_made(int (*hook)(const char *tmp_path))
{
	temp_made = hook;
}

/* A temp file whose making cannot be recorded is given up: a full state disk fails the
 * write before anything is replaced, like every other write the journal needs. */
static int tell_temp_made(const char *tmp_path, struct gt_error *e)
{
	if (temp_made && temp_made(tmp_path) < 0)
		return gt_fail(e, GT_FAILED, "unable to record the temp file '%s' in this writer's list (STATE/writers): %s",
			       tmp_path, strerror(errno));
	return 0;
}

static int tmp_open(int dirfd, const char *name, char **tmp_name, int *fd, const char *path, struct gt_error *e)
{
	for (int tries = 0; tries < 100; tries++) {
		char *cand = tmp_candidate(name, tries);

		*fd = openat(dirfd, cand, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (*fd >= 0) {
			*tmp_name = cand;
			return 0;
		}
		free(cand);
		if (errno != EEXIST)
			return gt_fail(e, GT_FAILED, "unable to create a temp file beside '%s': %s", path, strerror(errno));
	}
	return gt_fail(e, GT_FAILED, "unable to create a temp file beside '%s': every name tried is taken", path);
}

/* The names of fd's extended attributes, NUL-separated (none where the file system has none). */
static int list_xattrs(int fd, char **names, size_t *len)
{
	*names = NULL;
	*len = 0;
	for (;;) {
		ssize_t n = flistxattr(fd, NULL, 0), m;

		if (n < 0)
			return errno == ENOTSUP ? 0 : -1;
		*names = xmalloc(n ? (size_t)n : 1);
		m = n ? flistxattr(fd, *names, (size_t)n) : 0;
		if (m >= 0) {
			*len = (size_t)m;
			return 0;
		}
		free(*names);
		*names = NULL;
		if (errno != ERANGE) /* ERANGE: one was added between the two calls */
			return -1;
	}
}

static int in_list(const char *list, size_t len, const char *name)
{
	for (const char *n = list; n < list + len; n += strlen(n) + 1)
		if (strcmp(n, name) == 0)
			return 1;
	return 0;
}

static int copy_xattr(int from, int to, const char *name)
{
	for (;;) {
		ssize_t n = fgetxattr(from, name, NULL, 0), m;
		void *v;
		int r;

		if (n < 0)
			return -1;
		v = xmalloc(n ? (size_t)n : 1);
		m = fgetxattr(from, name, v, (size_t)n);
		if (m < 0 && errno == ERANGE) {
			free(v);
			continue;
		}
		r = m < 0 ? -1 : fsetxattr(to, name, v, (size_t)m, 0);
		free(v);
		return r;
	}
}

/* The replacement gets what the replaced file carried: owner and group first (a chown
 * clears set-id bits and file capabilities), then the mode, then every extended attribute
 * (the POSIX ACL system.posix_acl_access, security.NTACL, user.DOSATTRIB, ...), and none it
 * inherited that the original lacked. What cannot be kept is a refusal: nothing replaced. */
static int copy_metadata(int from, const struct stat *st, int to, const char *path, struct gt_error *e)
{
	char *names = NULL, *mine = NULL;
	size_t nlen = 0, mlen = 0;
	const char *what = "owner and group";
	struct stat now;
	int ret = 0;

	if (fstat(to, &now) < 0)
		goto refuse;
	if ((now.st_uid != st->st_uid || now.st_gid != st->st_gid) && fchown(to, st->st_uid, st->st_gid) < 0)
		goto refuse;
	what = "mode";
	if (fchmod(to, st->st_mode & 07777) < 0)
		goto refuse;
	what = "extended attributes";
	if (list_xattrs(from, &names, &nlen) < 0 || list_xattrs(to, &mine, &mlen) < 0)
		goto refuse;
	for (const char *n = mine; n < mine + mlen; n += strlen(n) + 1) {
		/* security.* the kernel's LSM sets on every file (SELinux labels) may not be removable */
		if (!in_list(names, nlen, n) && fremovexattr(to, n) < 0 && strncmp(n, "security.", 9) != 0) {
			what = n;
			goto refuse;
		}
	}
	for (const char *n = names; n < names + nlen; n += strlen(n) + 1) {
		if (copy_xattr(from, to, n) < 0) {
			what = n;
			goto refuse;
		}
	}
	what = "owner, group and mode";
	if (fstat(to, &now) < 0)
		goto refuse;
	if (now.st_uid != st->st_uid || now.st_gid != st->st_gid || (now.st_mode & 07777) != (st->st_mode & 07777)) {
		errno = EPERM;
		goto refuse;
	}
	goto out;
refuse:
	ret = gt_fail(e, GT_REFUSED, "unable to keep the %s of '%s' on the file that replaces it (%s); nothing replaced",
		      what, path, strerror(errno));
out:
	free(names);
	free(mine);
	return ret;
}

/* After the rename the new file is in place for every reader: a directory fsync that fails
 * then cannot undo it, only leave it less durable. So it is said, not turned into a failure:
 * -1 with *warning set (appended to what it says already). */
static int note_unsynced(int dirfd, const char *path, char **warning)
{
	struct sbuf sb;

	if (fsync(dirfd) == 0)
		return 0;
	sbuf_init(&sb);
	if (*warning)
		sbuf_addf(&sb, "%s; and ", *warning);
	sbuf_addf(&sb, "unable to fsync the directory of '%s': %s", path, strerror(errno));
	free(*warning);
	*warning = sbuf_detach(&sb, NULL);
	return -1;
}

/* Renames tmp_name (held as tmp_fd) over name in dirfd, proving first that the name still
 * holds our inode, and after that the target does. 0 done; -1 nothing replaced; -2 renamed,
 * but what is under name now is not ours. In a folder only root and the file's owner can
 * write, that is the whole story; in one others can write, see rename_via_private. */
static int rename_checked(int dirfd, const char *tmp_name, int tmp_fd, const char *name, const char *path,
			  struct gt_error *e)
{
	struct stat mine, there;

	if (fstat(tmp_fd, &mine) < 0)
		return gt_fail(e, GT_FAILED, "unable to stat the temp file for '%s': %s", path, strerror(errno));
	if (fstatat(dirfd, tmp_name, &there, AT_SYMLINK_NOFOLLOW) < 0 || !same_inode(&mine, &there))
		return gt_fail(e, GT_FAILED, "another process replaced or removed '%s', the temp file gpotool wrote and verified "
			       "for '%s', before the rename (its folder can be written by others); nothing replaced",
			       tmp_name, path);
	if (renameat(dirfd, tmp_name, dirfd, name) < 0)
		return gt_fail(e, GT_FAILED, "unable to replace '%s': %s", path, strerror(errno));
	if (fstatat(dirfd, name, &there, AT_SYMLINK_NOFOLLOW) < 0 || !same_inode(&mine, &there))
		return -2;
	return 0;
}

/* A folder of our own inside dirfd (0700, owned by us, empty), held: nobody else can put
 * anything in it. -1 when it cannot be made, or what we opened is not what we made. */
static int private_dir(int dirfd, const char *name, char **pname, int *pfd)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat st;
		char *cand = tmp_candidate(name, tries);

		if (mkdirat(dirfd, cand, 0700) < 0) {
			free(cand);
			if (errno == EEXIST)
				continue;
			return -1;
		}
		*pfd = openat(dirfd, cand, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* uid and mode, not st_nlink == 2: btrfs and some FUSE file systems say 1 for every folder */
		if (*pfd >= 0 && fstat(*pfd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077) == 0) {
			*pname = cand;
			return 0;
		}
		/* someone renamed theirs in between: it is not ours to remove */
		if (*pfd >= 0)
			close(*pfd);
		free(cand);
		errno = EEXIST;
		return -1;
	}
	errno = EEXIST;
	return -1;
}

static void remove_private_dir(int dirfd, const char *pname, int pfd)
{
	struct stat mine, there;

	if (fstat(pfd, &mine) == 0 && fstatat(dirfd, pname, &there, AT_SYMLINK_NOFOLLOW) == 0 && same_inode(&mine, &there))
		unlinkat(dirfd, pname, AT_REMOVEDIR);
	close(pfd);
}

/* In a folder others can write, any name in it can be swapped between a check and a
 * rename. So the temp file goes first into a folder of our own beside it, where it is
 * checked to be our inode, and from there (where nobody else can reach it) over the
 * target: what is renamed over the target is exactly the file gpotool wrote. A swap that
 * came first is moved back out and the target is left as it was. Returns as rename_checked. */
static int rename_via_private(int dirfd, const char *tmp_name, int tmp_fd, const char *name, const char *path,
			      struct gt_error *e)
{
	struct stat mine, there;
	char *pname = NULL;
	int pfd = -1, ret = 0;

	if (fstat(tmp_fd, &mine) < 0)
		return gt_fail(e, GT_FAILED, "unable to stat the temp file for '%s': %s", path, strerror(errno));
	if (private_dir(dirfd, name, &pname, &pfd) < 0)
		return gt_fail(e, GT_FAILED, "unable to make a private folder beside '%s': %s", path, strerror(errno));
	if (renameat(dirfd, tmp_name, pfd, "new") < 0) {
		ret = errno == ENOENT ? gt_fail(e, GT_FAILED, "another process removed '%s', the temp file gpotool wrote and "
					      "verified for '%s', before the rename (its folder can be written by others); "
					      "nothing replaced", tmp_name, path)
				      : gt_fail(e, GT_FAILED, "unable to replace '%s': %s", path, strerror(errno));
	} else if (fstatat(pfd, "new", &there, AT_SYMLINK_NOFOLLOW) < 0 || !same_inode(&mine, &there)) {
		/* not ours: back where it came from, whatever it is */
		renameat(pfd, "new", dirfd, tmp_name);
		ret = gt_fail(e, GT_FAILED, "another process replaced '%s', the temp file gpotool wrote and verified for '%s', "
			      "before the rename (its folder can be written by others); nothing replaced", tmp_name, path);
	} else if (renameat(pfd, "new", dirfd, name) < 0) {
		ret = gt_fail(e, GT_FAILED, "unable to replace '%s': %s", path, strerror(errno));
		renameat(pfd, "new", dirfd, tmp_name); /* the staged file stays where the journal says */
	} else if (fstatat(dirfd, name, &there, AT_SYMLINK_NOFOLLOW) < 0 || !same_inode(&mine, &there)) {
		ret = -2; /* the target name itself was replaced right after: nothing can prevent that */
	}
	remove_private_dir(dirfd, pname, pfd);
	free(pname);
	return ret;
}

/* The rename (through a private folder when others can write this one), then the folder
 * fsynced. 0 done; 1 done, but the folder could not be fsynced (*warning says so); -1 with
 * *lost = 0: nothing replaced; -1 with *lost = 1: the rename happened, but the target now
 * holds a file gpotool did not write. */
static int put_in_place(int dirfd, const char *name, const char *tmp_name, int tmp_fd, int shared, const char *path,
			char **warning, int *lost, struct gt_error *e)
{
	int r;

	/* locked before it is in place, as the file it replaces was: a gpotool that opens it
	 * next waits for us, and only another program can have replaced it when the check
	 * after the rename finds a stranger */
	while (flock(tmp_fd, LOCK_EX | LOCK_NB) < 0 && errno == EINTR)
		;
	r = shared ? rename_via_private(dirfd, tmp_name, tmp_fd, name, path, e)
		   : rename_checked(dirfd, tmp_name, tmp_fd, name, path, e);

	if (r == 0)
		return note_unsynced(dirfd, path, warning) < 0 ? 1 : 0;
	if (r == -1)
		return -1;
	*lost = 1;
	return gt_fail(e, GT_FAILED, "'%s' now holds a file gpotool did not write: another process put it there in the "
		       "instant of the rename; nothing was verified", path);
}


int safefile_tmp_create(struct locked_file *lf, struct gt_error *e)
{
	if (!lf->name)
		return gt_fail(e, GT_FAILED, "'%s' was not opened for writing", lf->path);
	if (tmp_open(lf->dirfd, lf->name, &lf->tmp_name, &lf->tmp_fd, lf->path, e) < 0)
		return -1;
	lf->tmp_path = beside(lf->path, lf->tmp_name);
	if (tell_temp_made(lf->tmp_path, e) < 0) {
		safefile_tmp_discard(lf);
		return -1;
	}
	return 0;
}

int safefile_tmp_write(struct locked_file *lf, const void *buf, size_t len, struct gt_error *e)
{
	if (write_all(lf->tmp_fd, buf, len) < 0) /* a fresh temp file: at offset 0 */
		return gt_fail(e, GT_FAILED, "unable to write '%s': %s", lf->tmp_path, strerror(errno));
	return 0;
}

int safefile_tmp_finish(struct locked_file *lf, struct gt_error *e)
{
	if (copy_metadata(lf->fd, &lf->st, lf->tmp_fd, lf->path, e) < 0)
		return -1;
	if (fsync(lf->tmp_fd) < 0)
		return gt_fail(e, GT_FAILED, "unable to write '%s': %s", lf->tmp_path, strerror(errno));
	return 0;
}

/* The temp name is gone (renamed) or to go: forget it. keep (after a rename) gets its
 * descriptor, still locked; else it is closed. */
static void drop_tmp(int dirfd, int *fd, char **tmp_name, char **tmp_path, int *keep)
{
	if (*tmp_name) {
		unlink_if_ours(dirfd, *tmp_name, *fd);
		if (keep)
			*keep = *fd;
		else
			close(*fd);
	}
	*fd = -1;
	free(*tmp_name);
	*tmp_name = NULL;
	free(*tmp_path);
	*tmp_path = NULL;
}

int safefile_tmp_commit(struct locked_file *lf, struct gt_error *e)
{
	int r = put_in_place(lf->dirfd, lf->name, lf->tmp_name, lf->tmp_fd, lf->shared, lf->path, &lf->sync_warning,
			     &lf->lost, e);

	if (r < 0 && !lf->lost)
		return -1;
	drop_tmp(lf->dirfd, &lf->tmp_fd, &lf->tmp_name, &lf->tmp_path, r < 0 ? NULL : &lf->new_fd);
	return r < 0 ? -1 : 0;
}

void safefile_tmp_discard(struct locked_file *lf)
{
	drop_tmp(lf->dirfd, &lf->tmp_fd, &lf->tmp_name, &lf->tmp_path, NULL);
}

int safefile_remove(struct locked_file *lf, struct gt_error *e)
{
	struct stat now;

	if (!lf->name || fstatat(lf->dirfd, lf->name, &now, AT_SYMLINK_NOFOLLOW) < 0 || !same_inode(&now, &lf->st))
		return gt_fail(e, GT_FAILED, "'%s' is no longer the file gpotool opened; not removing it", lf->path);
	if (unlinkat(lf->dirfd, lf->name, 0) < 0)
		return gt_fail(e, GT_FAILED, "unable to remove '%s': %s", lf->path, strerror(errno));
	/* removed for every reader now: a failed directory fsync only makes it less durable */
	note_unsynced(lf->dirfd, lf->path, &lf->sync_warning);
	return 0;
}

void safefile_close(struct locked_file *lf)
{
	safefile_tmp_discard(lf);
	if (lf->fd >= 0)
		close(lf->fd); /* releases the flock */
	if (lf->name && lf->new_fd >= 0)
		close(lf->new_fd); /* releases the lock on the file now in place */
	if (lf->name)
		close(lf->dirfd);
	free(lf->name);
	free(lf->path);
	free(lf->bytes);
	free(lf->sync_warning);
	memset(lf, 0, sizeof(*lf));
	lf->fd = lf->dirfd = lf->tmp_fd = lf->new_fd = -1;
}

int safefile_check_no_links(const char *path, struct gt_error *e)
{
	struct gt_error why = { 0 };
	char *name = NULL;
	int fd = -1;

	if (open_folder(path, &fd, &name, &why) == 0) {
		close(fd);
		free(name);
		return 0;
	}
	if (why.code != GT_REFUSED)
		return 0;
	return gt_fail(e, why.code, "%s", why.msg);
}

int safefile_has_xattr(int fd, const char *name)
{
	return fgetxattr(fd, name, NULL, 0) >= 0;
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

/* ---- staged files (and write_file_atomic/new, built on them) ---- */

/* The regular file now under name in dirfd, opened to read its owner, mode and attributes;
 * -1 when there is none (absent, or not a regular file: a link there is replaced, not followed). */
static int open_original(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0 && (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Stages buf for path. like: the file opened for writing that it replaces (its folder
 * descriptor and its metadata are used); else the folder is opened here, and keep = 1 takes
 * the metadata of a regular file already at path (mode is for a new one). */
static int stage(const char *path, const void *buf, size_t len, const struct locked_file *like, int keep, mode_t mode,
		 struct staged_file *sf, struct gt_error *e)
{
	struct stat st;
	int orig = -1, ret = 0;

	memset(sf, 0, sizeof(*sf));
	sf->dirfd = sf->fd = sf->new_fd = -1;
	sf->path = xstrdup(path);
	if (like && like->name) {
		sf->dirfd = fcntl(like->dirfd, F_DUPFD_CLOEXEC, 3);
		if (sf->dirfd < 0) {
			ret = gt_fail(e, GT_FAILED, "unable to stage '%s': %s", path, strerror(errno));
			goto out;
		}
		sf->name = xstrdup(like->name);
		sf->shared = like->shared;
		orig = like->fd;
		st = like->st;
	} else {
		if (open_folder(path, &sf->dirfd, &sf->name, e) < 0) {
			ret = -1;
			goto out;
		}
		if (keep)
			orig = open_original(sf->dirfd, sf->name, &st);
		if (check_folders(sf->dirfd, orig >= 0 ? st.st_uid : (uid_t)-1, path, e) < 0) {
			ret = -1;
			goto out;
		}
		sf->shared = folder_shared(sf->dirfd, orig >= 0 ? st.st_uid : (uid_t)-1);
	}
	if (tmp_open(sf->dirfd, sf->name, &sf->tmp_name, &sf->fd, path, e) < 0) {
		ret = -1;
		goto out;
	}
	sf->tmp = beside(path, sf->tmp_name);
	if (tell_temp_made(sf->tmp, e) < 0)
		ret = -1;
	else if (write_all(sf->fd, buf, len) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to write '%s': %s", sf->tmp, strerror(errno));
	else if (orig >= 0 ? copy_metadata(orig, &st, sf->fd, path, e) < 0 : fchmod(sf->fd, mode) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to write '%s': %s", sf->tmp, strerror(errno));
	else if (fsync(sf->fd) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to write '%s': %s", sf->tmp, strerror(errno));
out:
	if (orig >= 0 && !(like && like->name))
		close(orig);
	if (ret < 0)
		staged_discard(sf);
	return ret;
}

int staged_write(const char *path, const void *buf, size_t len, mode_t mode, struct staged_file *sf, struct gt_error *e)
{
	return stage(path, buf, len, NULL, 1, mode, sf, e);
}

int staged_write_like(const char *path, const void *buf, size_t len, const struct locked_file *like, mode_t mode,
		      struct staged_file *sf, struct gt_error *e)
{
	return stage(path, buf, len, like, 0, mode, sf, e);
}

int staged_read(const struct staged_file *sf, uint8_t **buf, size_t *len, struct gt_error *e)
{
	struct stat st;

	*buf = NULL;
	*len = 0;
	if (!sf->tmp_name || fstat(sf->fd, &st) < 0 || lseek(sf->fd, 0, SEEK_SET) < 0 ||
	    read_fd(sf->fd, (size_t)st.st_size, buf, len) < 0)
		return gt_fail(e, GT_FAILED, "unable to read back '%s': %s", sf->tmp ? sf->tmp : sf->path, strerror(errno));
	return 0;
}

int staged_commit(struct staged_file *sf, struct gt_error *e)
{
	int r = put_in_place(sf->dirfd, sf->name, sf->tmp_name, sf->fd, sf->shared, sf->path, &sf->sync_warning, &sf->lost, e);

	if (r < 0 && !sf->lost)
		return -1;
	drop_tmp(sf->dirfd, &sf->fd, &sf->tmp_name, &sf->tmp, r < 0 ? NULL : &sf->new_fd);
	return r < 0 ? -1 : 0;
}

int staged_unlink_new(struct staged_file *sf)
{
	struct stat mine, there;

	if (!sf->name || sf->new_fd < 0 || fstat(sf->new_fd, &mine) < 0)
		return -1;
	if (fstatat(sf->dirfd, sf->name, &there, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	return !same_inode(&mine, &there) || unlinkat(sf->dirfd, sf->name, 0) < 0 ? -1 : 0;
}

void staged_discard(struct staged_file *sf)
{
	if (sf->tmp_name && sf->tmp)
		unlink_if_ours(sf->dirfd, sf->tmp_name, sf->fd);
	if (sf->tmp_name)
		close(sf->fd);
	if (sf->name && sf->new_fd >= 0)
		close(sf->new_fd); /* releases the lock on the file now in place */
	if (sf->name)
		close(sf->dirfd);
	free(sf->tmp_name);
	free(sf->name);
	free(sf->tmp);
	free(sf->path);
	free(sf->sync_warning);
	memset(sf, 0, sizeof(*sf));
	sf->dirfd = sf->fd = sf->new_fd = -1;
}

int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode, struct gt_error *e)
{
	struct staged_file sf;
	int ret = stage(path, buf, len, NULL, 1, mode, &sf, e);

	if (ret < 0)
		return -1;
	ret = put_in_place(sf.dirfd, sf.name, sf.tmp_name, sf.fd, sf.shared, sf.path, &sf.sync_warning, &sf.lost, e);
	if (ret >= 0 || sf.lost)
		drop_tmp(sf.dirfd, &sf.fd, &sf.tmp_name, &sf.tmp, NULL);
	/* the caller has no warning to carry: an unsynced folder is a failure here, as it always was */
	if (ret == 1)
		ret = gt_fail(e, GT_FAILED, "%s", sf.sync_warning);
	staged_discard(&sf);
	return ret;
}

/* linkat of our descriptor fails when path exists, which makes "create, never clobber"
 * atomic, and it links exactly the inode written, whatever happens to the temp name */
static int link_new(struct staged_file *sf, struct gt_error *e)
{
	char name[SAFEFILE_FD_NAME_MAX];
	int r = linkat(sf->fd, "", sf->dirfd, sf->name, AT_EMPTY_PATH);

	if (r < 0 && errno == ENOENT) {
		/* AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH on older kernels; /proc's link does not */
		safefile_fd_name(sf->fd, name);
		r = linkat(AT_FDCWD, name, sf->dirfd, sf->name, AT_SYMLINK_FOLLOW);
	}
	if (r < 0) {
		if (errno == EEXIST)
			return gt_fail(e, GT_REFUSED, "'%s' already exists; refusing to overwrite it", sf->path);
		return gt_fail(e, GT_FAILED, "unable to create '%s': %s", sf->path, strerror(errno));
	}
	unlink_if_ours(sf->dirfd, sf->tmp_name, sf->fd);
	if (fsync(sf->dirfd) < 0)
		return gt_fail(e, GT_FAILED, "unable to fsync the directory of '%s': %s", sf->path, strerror(errno));
	return 0;
}

int write_file_new(const char *path, const void *buf, size_t len, mode_t mode, struct gt_error *e)
{
	struct staged_file sf;
	int ret = stage(path, buf, len, NULL, 0, mode, &sf, e);

	if (ret == 0) {
		ret = link_new(&sf, e);
		staged_discard(&sf);
	}
	return ret;
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

/* The private folder of rename_via_private (ours: 0700, our uid), left by a gpotool killed
 * between its two renames: the staged file in it never reached the target. */
static void sweep_private_dir(int dirfd, const char *dir, const char *name, const struct stat *st, struct sbuf *report)
{
	int fd;

	if (st->st_uid != geteuid() || (st->st_mode & 077))
		return;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	unlinkat(fd, "new", 0);
	close(fd);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
		sbuf_addf(report, "removed '%s/%s', the private folder of a gpotool killed while renaming its write\n", dir, name);
}

void safefile_sweep_private_dirs(const char *path, struct sbuf *report)
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

		/* exactly mkstemp's name: the prefix and six characters, a folder */
		if (strncmp(de->d_name, prefix.buf, prefix.len) == 0 && strlen(de->d_name) == prefix.len + 6 &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			sweep_private_dir(dirfd(d), dir, de->d_name, &st, report);
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

/* Unlinks the regular file at path relative to its folder, reached without following links:
 * 0 removed or already gone. temp_only: only a gpotool temp name is removed. */
static int unlink_in_folder(const char *path, int temp_only, struct gt_error *e)
{
	struct stat st;
	char *name;
	int dfd, ret = 0;

	if (open_folder(path, &dfd, &name, e) < 0) {
		if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
			gt_error_clear(e); /* its folder is gone, and the file with it */
			return 0;
		}
		return -1;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		ret = errno == ENOENT ? 0 : gt_fail(e, GT_FAILED, "unable to stat '%s': %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode) || (temp_only && strstr(name, ".gpotool-") == NULL))
		ret = gt_fail(e, GT_REFUSED, "'%s' is not a %s; not removed", path, temp_only ? "gpotool temp file" : "regular file");
	else if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		ret = gt_fail(e, GT_FAILED, "unable to remove '%s': %s", path, strerror(errno));
	else if (!temp_only && fsync(dfd) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to fsync the folder of '%s': %s", path, strerror(errno));
	close(dfd);
	free(name);
	return ret;
}

int safefile_remove_temp(const char *tmp, struct gt_error *e)
{
	return unlink_in_folder(tmp, 1, e);
}

int safefile_unlink(const char *path, struct gt_error *e)
{
	return unlink_in_folder(path, 0, e);
}
