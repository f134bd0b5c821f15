/* What the commands share: where state lives, who the operator is, and how a finished
 * write is reported (the plan, then "journal: ID" as the last line). */
#ifndef GPOTOOL_CMDUTIL_H
#define GPOTOOL_CMDUTIL_H

#include "cmd.h"
#include "hivetx.h"
#include "gpotx.h"
#include "journal.h"

/* --state-dir, GPOTOOL_STATE_DIR, /var/lib/gpotool for root, else $XDG_STATE_HOME/gpotool
 * (default ~/.local/state/gpotool). Static storage. */
const char *ctx_state_dir(const struct gt_ctx *ctx);
/* --operator, else SUDO_USER, else the user name. Static storage. */
const char *ctx_operator(const struct gt_ctx *ctx);
void ctx_journal_meta(const struct gt_ctx *ctx, struct journal_meta *m);

/* Prints to stdout unless --json. */
void out_text(const struct gt_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Warnings go to stderr in either mode (JSON stays one object on stdout). */
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens a hive for a hive command, with --kind from the command's options. A writer first
 * finishes or rolls back what an interrupted gpotool left pending on it (journal_recover). */
int open_hive_for(const struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, const char *path,
		  int write, struct hivetx *tx, struct gt_error *e);
/* The same for a GPO (one side of it). */
int open_gpo_for(const struct gt_ctx *ctx, const char *dir, int user, int write, struct gpotx *tx, struct gt_error *e);
/* Commits tx and reports: each change, or "no change", and the journal ID. */
int commit_and_report(struct gt_ctx *ctx, struct hivetx *tx, struct gt_error *e);

struct gpotx;
struct gpp_setting;
/* Commits a GPO edit made in tx (s: the item set, or with action 0 the item removed) and
 * reports it: the item before and after, the version bump, the AD follow-up, the journal. */
int gpo_write_report(struct gt_ctx *ctx, struct gpotx *tx, const struct gpp_setting *s, struct gt_error *e);

#endif
