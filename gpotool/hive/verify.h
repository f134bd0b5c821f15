/* The second reader: libregf (libyal), a parser that shares no code with hivex, reads back
 * what was written. Only verify.c includes libregf.h; callers see struct regf_reader. */
#ifndef GPOTOOL_VERIFY_H
#define GPOTOOL_VERIFY_H

#include <stddef.h>

#include "core/error.h"
#include "reg/regvalue.h"

struct regf_reader;

/* Opens path with libregf; -1 with GT_REFUSED when libregf cannot. *out freed by verify_close. */
int verify_open(const char *path, struct regf_reader **out, struct gt_error *e);
/* The same for an open file (read through /proc/self/fd/N: the file held, not a name). */
int verify_open_fd(int fd, struct regf_reader **out, struct gt_error *e);
void verify_close(struct regf_reader *r);

/* Reads every value of the key at parts[0..n) below the root (exact stored names), reading
 * each value's data in full, so that a layout libregf rejects shows up here.
 * 1 key found (*vals caller-freed with reg_values_free), 0 key absent, -1 unreadable. */
int verify_read_key(struct regf_reader *r, char *const *parts, size_t n,
		    struct reg_value **vals, size_t *nvals, struct gt_error *e);

#endif
