/* How failures travel: a module fills a struct gt_error and returns -1; only the command
 * prints it, once, and main turns its code into the exit status. */
#ifndef GPOTOOL_ERROR_H
#define GPOTOOL_ERROR_H

/* Exit codes, for every command (README "Exit codes"). */
enum gt_exit {
	GT_OK = 0,       /* done */
	GT_MISMATCH = 1, /* checked, and not as expected (absent value, failed validation) */
	GT_USAGE = 2,    /* the command line is wrong */
	GT_REFUSED = 3,  /* input unsafe or invalid; nothing written */
	GT_FAILED = 4,   /* I/O or internal error; nothing written */
};

struct gt_error {
	int code;        /* an enum gt_exit, GT_OK while no error is set */
	char msg[1024];  /* one line, lowercase, subject quoted: "unable to open 'SYSTEM': ..." */
};

/* The rule that keeps an error from going stale:
 * - An error set in e is a failure on its way up, and only that. gt_fail keeps an error
 *   already set, so the innermost cause wins: the way up returns -1 or adds context with
 *   gt_prefix, and a caller's own gt_fail after a callee failed does not hide the cause.
 * - A failure ends where a caller stops returning it: it ignores it, falls back, or turns it
 *   into a warning. That caller must not leave it in e, or the next failure through e would
 *   be reported as this one: it hands that call a scratch error of its own
 *   (struct gt_error ignored = { 0 }), or, having used the message, ends it with
 *   gt_error_clear. So a function that returns success leaves e as it found it.
 * - Replacing a cause on purpose (a read-back whose parse failed is reported as a failed
 *   verification) is gt_error_clear, then gt_fail.
 * - A function decides that it failed from what its own steps return, never from e->code:
 *   an error left in e by a caller that broke this rule must not turn a success into a
 *   failure. */

/* Sets the error unless one is already set (the innermost cause wins) and returns -1. */
int gt_fail(struct gt_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes context to an error already set ("'SYSTEM': " + msg); returns -1. A prefix that
 * only names a subject ("'PATH': ") is left out when the message already names it: a
 * message says its subject once. */
int gt_prefix(struct gt_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends a failure that stops here (see the rule above): e holds no error again. */
void gt_error_clear(struct gt_error *e);

/* A path the user named that is not there, or is not the kind of file asked for, is the
 * user's mistake: one exit code for it in every command (README "Exit codes"), decided here. */
#define GT_NO_SUCH_PATH GT_USAGE
/* The code for an open or stat of a user's path that failed with err: GT_NO_SUCH_PATH for
 * ENOENT, ENOTDIR and EISDIR, GT_FAILED (I/O) otherwise. */
int gt_path_errno_code(int err);
/* Checks that path exists and is a folder (want_dir) or a regular file; else fails with
 * GT_NO_SUCH_PATH (GT_FAILED when stat fails otherwise), naming the path once and saying
 * what the option takes ("--hive takes a hive file"). */
int gt_check_path(const char *path, int want_dir, const char *takes, struct gt_error *e);

#endif
