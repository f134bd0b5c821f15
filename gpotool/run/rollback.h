/* Rollback: the commit pipeline fed from a journal entry. Exact when the target is as the
 * entry left it (the saved bytes go back); --logical applies the inverse of the entry's
 * changes to whatever the target holds now. A GPO's version goes up either way, because
 * clients only apply a higher one. The rollback is itself journaled, so it can be undone. */
#ifndef GPOTOOL_ROLLBACK_H
#define GPOTOOL_ROLLBACK_H

#include "cmd/cmd.h"
#include "core/error.h"

struct rollback_opts {
	int logical;                  /* undo the entry's changes on the current content */
	int dry_run;                  /* say what would be done; write nothing */
	const char *undo_on_clients;  /* GPO only: "delete", or data for the value, in place of removing an item */
};

/* Rolls back journal entry id. GT_REFUSED when the target drifted (without --logical),
 * when the entry changed nothing, or when its recorded paths are not the target's. */
int rollback_entry(struct gt_ctx *ctx, const char *id, const struct rollback_opts *o, struct gt_error *e);

#endif
