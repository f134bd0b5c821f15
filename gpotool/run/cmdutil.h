/* What the commands share: where state lives, who the operator is, and how a finished
 * write is reported (the plan, then "journal: ID" as the last line). */
#ifndef GPOTOOL_CMDUTIL_H
#define GPOTOOL_CMDUTIL_H

#include "cmd/cmd.h"
#include "hive/hivetx.h"
#include "gpo/gpotx.h"
#include "state/journal.h"

/* --state-dir, GPOTOOL_STATE_DIR, /var/lib/gpotool for root, else $XDG_STATE_HOME/gpotool
 * (default ~/.local/state/gpotool). Static storage. */
const char *ctx_state_dir(const struct gt_ctx *ctx);
/* --operator, else SUDO_USER, else the user name. Static storage. */
const char *ctx_operator(const struct gt_ctx *ctx);
/* "YYYY-MM-DD" (a day that exists) as UTC midnight; -1 otherwise. */
int parse_utc_day(const char *text, long long *out);
/* Remembers the target a command is about to write (the audit record names it). */
void ctx_set_target(struct gt_ctx *ctx, const char *path);
void ctx_journal_meta(const struct gt_ctx *ctx, struct journal_meta *m);
/* Who recovers (this command) and how a journal's before copy is checked before it goes back. */
void ctx_recovery(const struct gt_ctx *ctx, struct journal_recovery *how);

/* Prints to stdout unless --json. */
void out_text(const struct gt_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Warnings go to stderr in either mode (JSON stays one object on stdout). */
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "gpotool: note: ..." on stderr: worth knowing, nothing wrong. */
void out_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens a hive for a hive command, with --kind from the command's options. A writer first
 * finishes or rolls back what an interrupted gpotool left pending on it (journal_recover). */
int open_hive_for(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, const char *path,
		  int write, struct hivetx *tx, struct gt_error *e);
/* The same with the hive kind given directly (NULL: detected). */
int open_hive_path(struct gt_ctx *ctx, const char *path, const char *kind, int write, struct hivetx *tx, struct gt_error *e);
/* The same for a GPO (one side of it). */
int open_gpo_for(struct gt_ctx *ctx, const char *dir, int user, int write, struct gpotx *tx, struct gt_error *e);
/* Commits tx and reports: each change, or "no change", and the journal ID. */
int commit_and_report(struct gt_ctx *ctx, struct hivetx *tx, struct gt_error *e);

struct gpotx;
struct gpp_setting;
struct gpp_item;
struct reg_value;
/* The value an existing GPP item carries, as registry data (REG_NONE text when it does not
 * parse as its type). v must be initialised (reg_value_init); released by the caller. */
void gpp_item_value(const struct gpp_item *it, struct reg_value *v);
/* Commits a GPO edit made in tx (s: the item set, or with action 0 the item removed) and
 * reports it: the item before and after, the version bump, the AD follow-up, the journal. */
int gpo_write_report(struct gt_ctx *ctx, struct gpotx *tx, const struct gpp_setting *s, struct gt_error *e);

/* The value rules (templates/value-rules, advisory.h) of every value plan sets: the one place
 * each writer applies them. judge refuses (GT_REFUSED, naming subject) a value a rule refuses
 * and, with --strict, an expired one; a rollback is never refused. report prints each hit
 * once (notes only when writing), fills "advisories" and "expiry" in the JSON result and marks
 * the rules reported for this run. apply = judge + report, unless already reported. */
struct advice;
struct plan;
int value_rules_judge(struct gt_ctx *ctx, const struct plan *p, const char *key_prefix, const char *subject,
		      struct advice *a, struct gt_error *e);
void value_rules_report(struct gt_ctx *ctx, const struct advice *a, int writing);
int apply_value_rules(struct gt_ctx *ctx, const struct plan *p, const char *key_prefix, const char *subject,
		      struct gt_error *e);

/* The audit record of a writing command that ended with code (and err, when it failed):
 * who, where, when, under which ticket, what it did to which files. Caller puts it. */
struct json_object *audit_record(const struct gt_ctx *ctx, const char *command, int code, const struct gt_error *err);
/* The record a journal entry (doc) is owed and gets late: its write finished by recovery or
 * undone by it, or finished by a writer killed before its record. The fields of audit_record,
 * from the entry, and "recorded_late": why, and by which command. Caller puts it. */
struct json_object *audit_record_late(const struct gt_ctx *ctx, struct json_object *doc);

#endif
