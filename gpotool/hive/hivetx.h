/* One offline hive as a target: opened with every safety check, edited in memory while a
 * plan records each change with its before-state, and committed through the pipeline of
 * DESIGN.md: temp file -> stamp -> fsync -> verify with libregf -> journal -> rename. */
#ifndef GPOTOOL_HIVETX_H
#define GPOTOOL_HIVETX_H

#include <stdint.h>

#include "core/error.h"
#include "hive/hive.h"
#include "hive/hivefile.h"
#include "hive/hivelog.h"
#include "state/journal.h"
#include "reg/keypath.h"
#include "state/plan.h"
#include "core/safefile.h"
#include "core/sbuf.h"
#include "reg/winreg.h"

/* A transaction log of the hive: found beside it (NAME.LOG, .LOG1, .LOG2 in any case) or named
 * with --log; read whole, and locked with the hive for a write. */
struct hivetx_log {
	struct locked_file file;
	const char *name;          /* its file name (in file.path) */
	int skipped;               /* found beside the hive but not a regular file (a symbolic link,
				    * a folder...): not read, never followed; info.why says which */
	struct hivelog_info info;
};

/* The journal's kind for a dirty hive's log, kept beside the hive in a write's entry. */
#define HIVETX_LOG_FILE_KIND "hive-log"

/* How a dirty hive's logs are taken. */
struct hivetx_logs_opts {
	const char *const *paths;  /* --log FILE...: these instead of the files beside the hive */
	size_t n;
	int ignore_logs;           /* --ignore-logs: a write to a dirty hive whose logs cannot be
				    * replayed goes to the stale primary (the caller audits it) */
	int can_ignore;            /* the command takes --ignore-logs: a refusal offers it */
};

struct hivetx {
	struct locked_file file;
	struct hive_header hdr;
	struct hive *hive;
	enum hive_kind kind;
	int kind_detected;  /* 1 detected from content, 0 from --kind */
	int writable;
	int dirty;          /* sequence numbers differ or the base-block checksum is bad */
	/* a dirty hive's logs and their replay: with replayed, hivex and libregf read view_fd (a
	 * private memory file holding the primary with the logs applied), never the stale primary */
	struct hivetx_log logs[HIVELOG_MAX_FILES];
	size_t nlogs;
	struct hivelog_replay replay;
	int replayed;
	int view_fd;
	size_t view_len;
	int stale;          /* dirty and read (or, with ignore_logs, written) as the stale primary */
	int can_ignore_logs; /* a refusal may offer --ignore-logs */
	struct hive_header view_hdr; /* the replayed copy's base block (replayed only) */
	size_t tree_keys, tree_values; /* counted by the tree check every open makes */
	struct plan plan;
	char *journal_id;   /* set by a commit that wrote something */
	char *warning;      /* set when the change landed but something after it went wrong */
};

/* Opens path. write = 1 refuses unsafe hives (dirty, bad checksum, version, libregf cannot
 * read it) and locks the file. Every open, reads too, walks the key tree and refuses a
 * damaged one (hive_check_tree), so that no command reports as sound what another refuses.
 * kind_override is a --kind value or NULL. */
int hivetx_open(struct hivetx *tx, const char *path, int write, const char *kind_override, struct gt_error *e);
/* The same, saying how a dirty hive's logs are taken (NULL: beside it, never ignored). */
int hivetx_open_logs(struct hivetx *tx, const char *path, int write, const char *kind_override,
		     const struct hivetx_logs_opts *lo, struct gt_error *e);
void hivetx_close(struct hivetx *tx);

/* What an open found about a dirty hive, for a reader's warning or a writer's refusal:
 * "is dirty (sequence numbers A != B)" and then which logs were looked for and why none
 * could be replayed (or that none is there and what that means). Appends to out. */
void hivetx_dirty_reason(const struct hivetx *tx, int refusing, struct sbuf *out);
/* What the replay did: "replayed its transaction logs: NAME.LOG1 entries 287..290, NAME.LOG2
 * entries 291..300 (14 entries)". Appends to out. */
void hivetx_replay_summary(const struct hivetx *tx, struct sbuf *out);
/* A clean hive's logs, read and judged for hive info (a dirty hive's were, by the open). */
int hivetx_load_logs(struct hivetx *tx, const struct hivetx_logs_opts *lo, struct gt_error *e);
/* One log as "NAME (N bytes, entries A..B): why". Appends to out. */
void hivetx_describe_log(const struct hivetx_log *l, struct sbuf *out);
/* The logs and the replay as JSON (for hive info, and a write's journal and audit record). */
struct json_object *hivetx_logs_json(const struct hivetx *tx);

/* hive recover: the replayed hive alone, as the plan of what differs from the stale primary
 * (every key and value), committed through the pipeline; an empty plan still writes, for the
 * base block becomes clean. */
int hivetx_recover(struct hivetx *tx, const char *state_dir, const struct journal_meta *meta, struct gt_error *e);

/* Resolves a user key path to components below this hive's root: checks that it names
 * this hive, maps CurrentControlSet through Select\Current. kp released by the caller. */
int hivetx_resolve(struct hivetx *tx, const char *text, struct keypath *kp, struct gt_error *e);

/* Finds a key: 1 found, 0 absent, -1 error. stored (optional) gets "A\B" as stored; caller frees. */
int hivetx_find(struct hivetx *tx, const struct keypath *kp, hive_key *out, char **stored, struct gt_error *e);

/* Edits, each recorded in tx->plan with its before-state. Missing parents are created.
 * set and add: 0 done (also when it already was as asked), -1 error. */
int hivetx_set_value(struct hivetx *tx, const struct keypath *kp, const struct reg_value *v, struct gt_error *e);
int hivetx_add_key(struct hivetx *tx, const struct keypath *kp, struct gt_error *e);
/* The deletions: 1 deleted, 0 absent (nothing recorded), -1 error. A key goes with its
 * whole subtree, each value and key recorded. */
int hivetx_delete_value(struct hivetx *tx, const struct keypath *kp, const char *name, struct gt_error *e);
int hivetx_delete_key(struct hivetx *tx, const struct keypath *kp, struct gt_error *e);

/* How this hive's keys are shown ("HKLM\SYSTEM"). */
const char *hivetx_prefix(const struct hivetx *tx);

/* Commits the plan; an empty plan writes nothing. On success tx->journal_id is set. */
int hivetx_commit(struct hivetx *tx, const char *state_dir, const struct journal_meta *meta, struct gt_error *e);

/* Puts bytes (a journal's copy of this hive as it was) in place of the target, through the
 * same pipeline; tx->plan says what that changes, and libregf must find each change in them. */
int hivetx_commit_bytes(struct hivetx *tx, const uint8_t *bytes, size_t len, const char *state_dir,
			const struct journal_meta *meta, struct gt_error *e);
/* The same for a copy that is a dirty hive: libregf checks the plan in check (the copy with
 * its logs replayed; NULL: in the copy itself, whose logs could not be replayed) and the copy
 * goes back as it is. */
int hivetx_commit_dirty_bytes(struct hivetx *tx, const uint8_t *bytes, size_t len, const uint8_t *check, size_t check_len,
			      const char *state_dir, const struct journal_meta *meta, struct gt_error *e);

/* The current control set number from Select\Current: 1 found, 0 no Select, -1 invalid. */
int hivetx_current_control_set(struct hivetx *tx, unsigned *n, struct gt_error *e);

/* Reads a value at a key path below the root (no CurrentControlSet mapping):
 * 1 found (out caller-released), 0 key or value absent, -1 error. */
int hivetx_read_value(struct hivetx *tx, const char *key, const char *name, struct reg_value *out, struct gt_error *e);

/* Reads a string value at a key path below the root (no CurrentControlSet mapping):
 * 1 found (*out caller-freed UTF-8), 0 absent, -1 error. */
int hivetx_read_string(struct hivetx *tx, const char *key, const char *name, char **out, struct gt_error *e);

#endif
