/* Safe replacement of a file someone cares about: lock it, read it whole, write the new
 * content to a temp file beside it, fsync, and only then rename over it and fsync the
 * directory (git's lock-then-rename, OpenSSH's mkstemp-then-rename). A failure at any step
 * leaves the original byte-for-byte as it was.
 *
 * A writer reaches the file's folder without following a symbolic link (an openat walk
 * from / or the working directory) and holds it by descriptor; the temp file is created
 * there (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), written, verified and renamed through that
 * descriptor and its own, never reopened by name, and what lands on the target is checked
 * to be that very inode (in a folder others can write, by way of a private folder beside
 * it, which only we can write). The replacement gets the original's owner, group, mode, ACL and
 * every extended attribute. Like OpenSSH's StrictModes, a folder (or one above it) that a
 * user other than root and the file's owner can write is refused unless it is sticky or
 * safefile_allow_shared_dirs(1) was called (the --allow-shared-dir option). */
#ifndef GPOTOOL_SAFEFILE_H
#define GPOTOOL_SAFEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/error.h"

#define SAFEFILE_MAX_BYTES (2ull * 1024 * 1024 * 1024 + 4096) /* regf offsets are 32-bit */

/* "/proc/self/fd/N": a held descriptor as a name, for libraries that only open names. */
#define SAFEFILE_FD_NAME_MAX 32
void safefile_fd_name(int fd, char buf[SAFEFILE_FD_NAME_MAX]);

/* Allows folders that others can write (the --allow-shared-dir option); process-wide. */
void safefile_allow_shared_dirs(int on);

struct locked_file {
	char *path;
	int fd;          /* open and, for writers, flock()ed until safefile_close */
	struct stat st;
	uint8_t *bytes;  /* the file as read under the lock: all of it, or its head (safefile_open_head) */
	size_t len;      /* bytes read; the file's size is st.st_size */
	char *tmp_path;  /* the temp file being prepared, if any (its full name, for messages and the journal) */
	char *sync_warning; /* set when the file was replaced but its directory could not be fsynced */
	/* writers only: set while name is (a reader has name NULL) */
	int dirfd;       /* the file's folder, reached without symbolic links */
	char *name;      /* the file's name in it */
	/* set while tmp_name is */
	int tmp_fd;      /* the temp file, held from its creation to the rename */
	char *tmp_name;  /* its name in dirfd */
	int lost;        /* the rename happened, but the file now in place is not ours (see safefile_tmp_commit) */
	int shared;      /* others than root and the owner can write the folder: rename through a private one */
	int new_fd;      /* after safefile_tmp_commit: the file now in place, locked until safefile_close */
};

/* Opens and reads path. write = 1 takes an exclusive lock (refused with GT_REFUSED when
 * another process holds it: waiting could act on content the user has not seen) and
 * refuses symbolic links (the file or a folder on its path), non-regular files and
 * folders others can write. lf is released with safefile_close. */
int safefile_open(const char *path, int write, struct locked_file *lf, struct gt_error *e);
/* The same, reading only the first head bytes: a hive is read by hivex and libregf, and a
 * second whole copy here would double the peak memory for nothing. */
int safefile_open_head(const char *path, int write, size_t head, struct locked_file *lf, struct gt_error *e);
void safefile_close(struct locked_file *lf);
/* The file's name now: lstat of it in its held folder (writers), stat of path (readers). */
int safefile_stat_name(const struct locked_file *lf, struct stat *st);

/* Creates the temp file in the target's folder (".NAME.gpotool-XXXXXX", 0600, held). */
int safefile_tmp_create(struct locked_file *lf, struct gt_error *e);
/* Fills the temp file with buf, through its descriptor. */
int safefile_tmp_write(struct locked_file *lf, const void *buf, size_t len, struct gt_error *e);
/* Gives the temp file the original's owner, group, mode, ACL and extended attributes
 * (GT_REFUSED when one cannot be kept), and fsyncs it. */
int safefile_tmp_finish(struct locked_file *lf, struct gt_error *e);
/* Renames the temp file over the target, after checking that its name still holds our
 * inode (another process's file there is refused: -1, nothing replaced), and fsyncs the
 * directory; a failed directory fsync leaves the file in place and sets lf->sync_warning
 * (0 is returned: it is replaced). When the target does not hold our inode after the
 * rename, -1 with lf->lost set: the target holds a file gpotool did not write. */
int safefile_tmp_commit(struct locked_file *lf, struct gt_error *e);
/* Removes the temp file if one is pending (also done by safefile_close). */
void safefile_tmp_discard(struct locked_file *lf);
/* Removes the locked file itself (it must still be the one under its name) and fsyncs its
 * folder; a failed fsync sets lf->sync_warning. */
int safefile_remove(struct locked_file *lf, struct gt_error *e);

/* Reads a whole file without locking (small inputs: .reg files); caller frees *buf. */
int read_whole_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct gt_error *e);
/* Writes buf to path atomically (temp + fsync + rename + directory fsync). A file already
 * there keeps its owner, group, mode, ACL and extended attributes; mode is for a new file. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode, struct gt_error *e);
/* Writes a new file at path, atomically and never over an existing one (GT_REFUSED). */
int write_file_new(const char *path, const void *buf, size_t len, mode_t mode, struct gt_error *e);
/* A file content staged beside its target: written and fsynced to a temp file, put in
 * place by staged_commit (rename + directory fsync), removed by staged_discard. */
struct staged_file {
	char *path;
	char *tmp;          /* the temp file's full name; NULL: staged_discard leaves it there */
	char *sync_warning; /* as in locked_file */
	int lost;           /* as in locked_file */
	int shared;         /* as in locked_file */
	int new_fd;         /* as in locked_file, until staged_discard */
	/* set while name is */
	int dirfd;
	char *name;
	/* set while tmp_name is */
	int fd;
	char *tmp_name;
};

int staged_write(const char *path, const void *buf, size_t len, mode_t mode, struct staged_file *sf, struct gt_error *e);
/* The same for the file like holds open for writing (or, like NULL, a new file of that
 * mode): staged in like's folder, with like's owner, group, mode, ACL and extended attributes. */
int staged_write_like(const char *path, const void *buf, size_t len, const struct locked_file *like, mode_t mode,
		      struct staged_file *sf, struct gt_error *e);
/* Reads the staged content back through the temp file's descriptor; caller frees *buf. */
int staged_read(const struct staged_file *sf, uint8_t **buf, size_t *len, struct gt_error *e);
int staged_commit(struct staged_file *sf, struct gt_error *e);
/* Takes a committed new file away again (it must still be the one put there): 0 removed or
 * already gone, -1 not removed. */
int staged_unlink_new(struct staged_file *sf);
void staged_discard(struct staged_file *sf);

/* 1 when the open file fd carries the extended attribute name (e.g. "security.NTACL"). */
int safefile_has_xattr(int fd, const char *name);

/* Refuses (GT_REFUSED, -1) a path whose folder part passes through a symbolic link; 0
 * otherwise, also when a folder is missing (the open that follows says so). For paths read
 * from a journal, before anything acts on them. */
int safefile_check_no_links(const char *path, struct gt_error *e);

/* path with its directory resolved (realpath), so journal paths match whatever the caller's
 * cwd; path itself when the directory cannot be resolved. Caller frees. */
char *absolute_path(const char *path);

/* Removes the private folders (".NAME.gpotool-XXXXXX", ours, 0700) a gpotool killed between
 * its two renames left beside path: a folder lives only while its writer holds path's lock,
 * so a caller holding that lock, after journal recovery, finds only dead writers' ones.
 * Temp files are journal recovery's (safefile_list_temps). Appends a line per folder removed. */
struct sbuf;
void safefile_sweep_private_dirs(const char *path, struct sbuf *report);


/* ---- temp files beside a target, for journal recovery (rec) ---- */
/* The temp files beside path (".NAME.gpotool-XXXXXX", regular files, never followed through a
 * symlink), as "DIR/NAME" with path's DIR. *out caller-freed (each and the array). */
int safefile_list_temps(const char *path, char ***out, size_t *n);
/* Removes the temp file tmp: a regular file of a gpotool temp name, unlinked relative to its
 * directory (a symlink there is refused, not followed). 0 removed or already gone. */
int safefile_remove_temp(const char *tmp, struct gt_error *e);
/* hook is called with the path of every temp file made, right after it is created (journal
 * recovery lists them in its writer's intent, so that only its own are ever swept); when it
 * returns -1 (errno set), the temp file is removed and the write fails. */
void safefile_on_temp_made(int (*hook)(const char *tmp_path));
/* Removes the regular file at path (its folder reached without following links) and fsyncs
 * the folder: 0 removed or already gone. */
int safefile_unlink(const char *path, struct gt_error *e);

#endif
