/* Rollback: the commit pipeline fed from a journal entry. The entry names the target kind
 * that wrote it; that backend reopens the target and puts it back (target_rollback). A GPO's
 * version goes up either way, because clients only apply a higher one. The rollback is
 * itself journaled, so it can be undone. */
#ifndef GPOTOOL_ROLLBACK_H
#define GPOTOOL_ROLLBACK_H

#include "core/error.h"
#include "run/run.h"

/* Rolls back journal entry id. GT_REFUSED when the target drifted (without --logical),
 * when the entry changed nothing, or when its recorded paths are not the target's. */
int rollback_entry(struct gt_ctx *ctx, const char *id, const struct rollback_opts *o, struct gt_error *e);

#endif
