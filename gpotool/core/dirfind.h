/* Windows file names are case-insensitive: an offline image or a GPO copied from SYSVOL spells
 * "System32" or "GPT.INI" as it pleases. These find the spelling on disk; a symbolic link is
 * refused, as it could lead out of the tree. */
#ifndef GPOTOOL_DIRFIND_H
#define GPOTOOL_DIRFIND_H

#include "core/error.h"
#include "core/sbuf.h"

/* Finds name in dir case-insensitively: 1 found (*out = dir/name as on disk, caller frees),
 * 0 absent, -1 error (a symbolic link is refused). */
int dir_find_ci(const char *dir, const char *name, char **out, struct gt_error *e);
/* dir + "/" + name as spelled on disk into out (which may hold dir); *exists 1 when found, else
 * 0 and out spells name as given. */
int dir_join_existing(const char *dir, const char *name, struct sbuf *out, int *exists, struct gt_error *e);

#endif
