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

/* Sets the error unless one is already set (the innermost cause wins) and returns -1. */
int gt_fail(struct gt_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes context to an error already set ("'SYSTEM': " + msg); returns -1. */
int gt_prefix(struct gt_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void gt_error_clear(struct gt_error *e);

#endif
