/* What the hive backend offers the backends that wrap it (containers of hives: a Windows
 * folder, and next WIM and NTFS images). Backend-only: not for commands. */
#ifndef GPOTOOL_TARGET_HIVE_H
#define GPOTOOL_TARGET_HIVE_H

#include "target/backend.h"

/* The hive a key names by its mount ("HKLM\SYSTEM\..." -> HK_SYSTEM), HK_OTHER when none. */
enum hive_kind target_hive_kind_of_key(const char *key);
/* Makes inner a hive target on the hive file path inside outer's container, for setting s
 * (NULL: none), sharing outer's environment. Released with target_close. */
int target_hive_open_inner(struct target *inner, const struct target *outer, const char *path, const struct target_setting *s,
			   struct gt_error *e);
/* The same from a journal entry whose first file is that hive. */
int target_hive_open_inner_recorded(struct target *inner, const struct target *outer, struct target_rollback *rb,
				    struct gt_error *e);
/* A preflight fact read from the hive file at path (opened read-only). */
int target_hive_file_fact(const char *path, enum target_fact f, struct target_fact_value *out, struct gt_error *e);

#endif
