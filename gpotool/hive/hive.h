/* The hive engine: reads and edits one offline hive in memory through hivex. Only hive.c
 * includes hivex.h. Wraps hivex's two traps (STYLE.md): lookups that return 0 for both
 * "absent" and "error", and hivex_commit writing in place; commits go to a path the caller
 * chose (a temp file), and keys this handle modified get their last-write time stamped. */
#ifndef GPOTOOL_HIVE_H
#define GPOTOOL_HIVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "reg/regvalue.h"

struct hive;
typedef uint64_t hive_key; /* file offset of the key's nk cell; 0 is never a key */

/* Opens path with hivex (write = 1 for an editable in-memory copy). minor is the hive's
 * format minor version (from the base block), used by the big-data guard.
 * *out is freed with hive_close. */
int hive_open(const char *path, int write, uint32_t minor, struct hive **out, struct gt_error *e);
void hive_close(struct hive *h);

hive_key hive_root(struct hive *h);
/* Case-insensitive child lookup: 1 found, 0 absent, -1 error. */
int hive_child(struct hive *h, hive_key parent, const char *name, hive_key *out, struct gt_error *e);
/* The key's name as stored (UTF-8). Caller frees. NULL with e set on error. */
char *hive_key_name(struct hive *h, hive_key k, struct gt_error *e);
/* Subkeys in stored order. *kids is caller-freed. */
int hive_subkeys(struct hive *h, hive_key k, hive_key **kids, size_t *n, struct gt_error *e);
int64_t hive_key_timestamp(struct hive *h, hive_key k);

/* All values of a key, in stored order. Caller frees with reg_values_free. */
int hive_values(struct hive *h, hive_key k, struct reg_value **vals, size_t *n, struct gt_error *e);
void reg_values_free(struct reg_value *vals, size_t n);
/* One value by name ("" for the default value): 1 found (out filled; caller releases), 0 absent, -1 error. */
int hive_get_value(struct hive *h, hive_key k, const char *name, struct reg_value *out, struct gt_error *e);

/* Walks the whole key tree (subkey lists, names, value lists, value types and sizes) and
 * refuses, GT_REFUSED, a hive whose tree is damaged: a list that points outside the hive,
 * a key reached from two parents (deleting either would free what the other still uses).
 * *keys and *values (optional) get the counts. */
int hive_check_tree(struct hive *h, size_t *keys, size_t *values, struct gt_error *e);

/* Edits (write handles only): 0 done, -1 error. put replaces or appends; delete_value
 * returns 1 deleted, 0 absent, -1 error. */
int hive_add_key(struct hive *h, hive_key parent, const char *name, hive_key *out, struct gt_error *e);
int hive_put_value(struct hive *h, hive_key k, const struct reg_value *v, struct gt_error *e);
int hive_delete_value(struct hive *h, hive_key k, const char *name, struct gt_error *e);
int hive_delete_key(struct hive *h, hive_key k, struct gt_error *e);

/* Writes the edited hive into the open temp file fd (never the original) and stamps the
 * last-write time of every key edited through this handle. hivex writes through
 * /proc/self/fd/N, so the file written is the one held, whatever happens to its name; name
 * is for messages. Leaves the file unsynced: the caller fsyncs, verifies and renames. */
int hive_commit_fd(struct hive *h, int fd, const char *name, struct gt_error *e);

#endif
