/* For backends only: the operations a target kind implements, and what they share. Commands
 * and the run layer use target.h; no file outside target/ includes this one. A NULL
 * operation is one the kind cannot do: target.c says so, naming the kind. */
#ifndef GPOTOOL_TARGET_BACKEND_H
#define GPOTOOL_TARGET_BACKEND_H

#include "target/target.h"

struct target_ops {
	const char *name;             /* the journal's "backend" and the kind's name: "hive" */
	const char *option;           /* --OPTION names one on the command line: "hive" */
	const char *metavar;          /* "FILE" */
	const char *const *file_kinds; /* the journal file kinds it writes: "hive"; NULL-terminated */
	enum target_reach reach;

	int (*open)(struct target *t, const struct target_request *rq, struct gt_error *e);
	/* from a journal entry's record: its "target" and first file */
	int (*open_recorded)(struct target *t, struct target_rollback *rb, struct gt_error *e);
	void (*close)(struct target *t);
	const char *(*path)(const struct target *t);
	struct hivetx *(*hive)(struct target *t, struct gt_error *e);
	const char *(*locate)(struct target *t, const char *key);
	int (*begin)(struct target *t, int dry_run, struct gt_error *e);
	int (*plan)(struct target *t, const struct target_change *c, struct gt_error *e);
	int (*show_plan)(struct target *t, struct gt_error *e);
	int (*commit)(struct target *t, struct gt_error *e);
	int (*read)(struct target *t, const struct target_setting *s, struct reg_value *out, struct gt_error *e);
	int (*check)(struct target *t, const struct target_setting *s, const struct reg_value *want, struct gt_error *e);
	int (*fact)(struct target *t, enum target_fact f, struct target_fact_value *out, const char **why, struct gt_error *e);
	int (*rollback)(struct target *t, struct target_rollback *rb, struct gt_error *e);
	int (*fetch)(struct target *t, const char *dir, struct gt_error *e);
	/* a saved copy of a file of one of file_kinds, before recovery puts it back */
	int (*check_copy)(const char *file_kind, const uint8_t *buf, size_t len, int fd, const char *staged, struct gt_error *e);
};

extern const struct target_ops target_hive_ops;
extern const struct target_ops target_image_ops;
extern const struct target_ops target_gpo_ops;
extern const struct target_ops target_domain_ops;

/* ---- what backends share ---- */

/* The journal and the audit trail name a target by its absolute path, as UTF-8 text, and
 * rollback follows that path: one that is not UTF-8 could only be stored altered. */
int target_check_recordable(const char *path, struct gt_error *e);
/* Finishes or rolls back what an interrupted gpotool left pending on paths, saying what it
 * did as warnings: 1 recovered (the caller opens again), 0 nothing pending, -1 error. */
int target_recover(struct target *t, const char *const *paths, size_t n, struct gt_error *e);
/* The journal meta of a commit: the run's, plus this backend's name. */
void target_journal_meta(const struct target *t, struct journal_meta *m);
/* A commit made journal entry id: tell the run, and print "journal: ID" unless deferred. */
void target_journaled(struct target *t, const char *id);
/* Each change of p on its own line, after lead ("would ", "plan: ", ""). */
void target_report_plan(const struct target *t, const struct plan *p, const char *prefix, const char *lead);
/* The JSON fields every rollback sets. */
void target_rollback_result(const struct target *t, const struct target_rollback *rb, const char *target_path);
/* Nothing to roll back: the file is already as it was before the entry. Returns 0. */
int target_already_before(const struct target *t, const struct target_rollback *rb, const char *path);
/* {"key", "name", "want": {...}, "have": {...} or null}: what a check compared. */
struct json_object *target_value_json(const struct target_setting *s, const struct reg_value *want, const struct reg_value *have);

#endif
