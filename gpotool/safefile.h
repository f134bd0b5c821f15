/* Safe replacement of a file someone cares about: lock it, read it whole, write the new
 * content to a temp file beside it, fsync, and only then rename over it and fsync the
 * directory (git's lock-then-rename, OpenSSH's mkstemp-then-rename). A failure at any step
 * leaves the original byte-for-byte as it was. */
#ifndef GPOTOOL_SAFEFILE_H
#define GPOTOOL_SAFEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "error.h"

#define SAFEFILE_MAX_BYTES (2ull * 1024 * 1024 * 1024 + 4096) /* regf offsets are 32-bit */

struct locked_file {
	char *path;
	int fd;          /* open and, for writers, flock()ed until safefile_close */
	struct stat st;
	uint8_t *bytes;  /* the file as read under the lock: all of it, or its head (safefile_open_head) */
	size_t len;      /* bytes read; the file's size is st.st_size */
	char *tmp_path;  /* the temp file being prepared, if any */
	char *sync_warning; /* set when the file was replaced but its directory could not be fsynced */
};

/* Opens and reads path. write = 1 takes an exclusive lock (refused with GT_REFUSED when
 * another process holds it: waiting could act on content the user has not seen) and
 * refuses symbolic links and non-regular files. lf is released with safefile_close. */
int safefile_open(const char *path, int write, struct locked_file *lf, struct gt_error *e);
/* The same, reading only the first head bytes: a hive is read by hivex and libregf, and a
 * second whole copy here would double the peak memory for nothing. */
int safefile_open_head(const char *path, int write, size_t head, struct locked_file *lf, struct gt_error *e);
void safefile_close(struct locked_file *lf);

/* Reserves a temp file name in the target's directory (".NAME.gpotool-XXXXXX"). */
int safefile_tmp_create(struct locked_file *lf, struct gt_error *e);
/* Fills the temp file with buf. */
int safefile_tmp_write(struct locked_file *lf, const void *buf, size_t len, struct gt_error *e);
/* Gives the temp file the original's mode and owner, and fsyncs it. */
int safefile_tmp_finish(struct locked_file *lf, struct gt_error *e);
/* Renames the temp file over the target and fsyncs the directory; a failed directory fsync
 * leaves the file in place and sets lf->sync_warning (0 is returned: it is replaced). */
int safefile_tmp_commit(struct locked_file *lf, struct gt_error *e);
/* Removes the temp file if one is pending (also done by safefile_close). */
void safefile_tmp_discard(struct locked_file *lf);

/* Reads a whole file without locking (small inputs: .reg files); caller frees *buf. */
int read_whole_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct gt_error *e);
/* Writes buf to path atomically (temp + fsync + rename + directory fsync), mode for a new file. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode, struct gt_error *e);
/* Writes a new file at path, atomically and never over an existing one (GT_REFUSED). */
int write_file_new(const char *path, const void *buf, size_t len, mode_t mode, struct gt_error *e);
/* A file content staged beside its target: written and fsynced to a temp file, put in
 * place by staged_commit (rename + directory fsync), removed by staged_discard. */
struct staged_file {
	char *path;
	char *tmp;
	char *sync_warning; /* as in locked_file */
};

int staged_write(const char *path, const void *buf, size_t len, mode_t mode, struct staged_file *sf, struct gt_error *e);
int staged_commit(struct staged_file *sf, struct gt_error *e);
void staged_discard(struct staged_file *sf);

/* path with its directory resolved (realpath), so journal paths match whatever the caller's
 * cwd; path itself when the directory cannot be resolved. Caller frees. */
char *absolute_path(const char *path);

/* Removes the temp files a killed gpotool left beside path (".NAME.gpotool-XXXXXX"). Only
 * for a caller that holds path's lock, after journal recovery has used any it needed: no
 * live writer has one then. Appends a line per file removed to report. */
struct sbuf;
void safefile_sweep_temps(const char *path, struct sbuf *report);

/* fsync the directory holding path, so that a rename in it is durable. */
int fsync_parent_dir(const char *path, struct gt_error *e);

/* ---- temp files beside a target, for journal recovery (rec) ---- */
/* The temp files beside path (".NAME.gpotool-XXXXXX", regular files, never followed through a
 * symlink), as "DIR/NAME" with path's DIR. *out caller-freed (each and the array). */
int safefile_list_temps(const char *path, char ***out, size_t *n);
/* Removes the temp file tmp: a regular file of a gpotool temp name, unlinked relative to its
 * directory (a symlink there is refused, not followed). 0 removed or already gone. */
int safefile_remove_temp(const char *tmp, struct gt_error *e);

#endif
