/* The state directory gpotool keeps its journal and audit log in. */
#ifndef GPOTOOL_STATEDIR_H
#define GPOTOOL_STATEDIR_H

#include "core/error.h"

/* Creates the state directory (0700) if needed and refuses one other users can write. */
int statedir_prepare(const char *dir, struct gt_error *e);

/* Makes path a folder of this user, 0700 (or checks the one there): GT_REFUSED when it is not a
 * folder, is another user's or others can write it. */
int statedir_mkdir_private(const char *path, struct gt_error *e);

#endif
