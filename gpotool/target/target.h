/* Targets: what gpotool writes a setting into, behind one interface, so that stage, validate,
 * rollback and the writing hive commands never know which kind they drive (curl's vtls
 * dispatching to one struct Curl_ssl per TLS backend; git's ref_storage_be).
 *
 * A kind is one backend (target/<kind>.c) with a struct target_ops, and one line in the table
 * of target/target.c. A container of hives (an offline Windows folder today; WIM and NTFS
 * images next) wraps the hive backend: it finds the hive a setting lives in and hands every
 * hive operation to it. Each operation a kind cannot do fails with a clear error from here,
 * never with a missing branch in a command.
 *
 * The life of a write: target_open (identify what the user named, every safety check, no
 * lock) -> target_begin (lock, finish what an interrupted gpotool left pending) ->
 * target_plan (record each change with its before-state) -> target_commit (temp -> verify by
 * the second reader -> journal -> replace -> report; the run layer audits) or
 * target_show_plan (a dry run). A rollback opens the target from its journal record:
 * target_open_recorded, then target_rollback. */
#ifndef GPOTOOL_TARGET_H
#define GPOTOOL_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/report.h"
#include "hive/hivetx.h"
#include "reg/regvalue.h"
#include "reg/winreg.h"
#include "state/journal.h"
#include "state/plan.h"

struct gpp_setting;
struct domain_conn_opts;

/* What the run gives a target: where state lives, who writes, where messages go, and the
 * value rules every commit applies. Filled by the run layer (run/run.c). */
struct target_env {
	const char *state_dir;
	struct journal_meta meta;          /* who and why; the backend adds its target, and a
					    * container kind sets backend and container when it opens */
	struct journal_recovery recovery;  /* who recovers pending entries; check_copy is target_check_saved_copy */
	struct report rep;                 /* messages and the JSON result */
	/* Judges and reports the value rules of plan before a commit: -1 (refused) stops it. */
	int (*judge)(void *arg, const struct plan *p, const char *key_prefix, const char *subject, struct gt_error *e);
	void *arg;                         /* for judge, writing and journaled */
	/* A write is about to open path: the audit record names it. */
	void (*writing)(void *arg, const char *path);
	/* A commit made journal entry id: the audit record and "journal: ID" name it. */
	void (*journaled)(void *arg, const char *id);
	int defer_journal_line;            /* the command prints "journal: ID" itself, last */
	int rollback_new_data;             /* a rollback writes data the user gave */
	const struct domain_conn_opts *conn; /* how to reach a domain's DC (the CONN options), or NULL */
	struct hivetx_logs_opts hive_logs;   /* how a dirty hive's transaction logs are taken */
};

/* A setting as a template names it. */
struct target_setting {
	const char *key;      /* "HKLM\SYSTEM\CurrentControlSet\Services\Kdc" */
	const char *name;     /* the value name */
	uint32_t type;        /* RT_DWORD */
	const char *label;    /* the template's name, for messages */
	const char *link;     /* the OU a GPO carrying it must be linked to, or NULL */
};

/* A GPO in a live domain (what is the domain's DNS name): which GPO, and what else to do. */
struct target_domain_request {
	const char *gpo_name;                   /* --gpo-name (displayName), or */
	const char *gpo_guid;                   /* --gpo-guid */
	int create;                             /* --create: make the GPO when there is none by that name */
	const char *link_dn;                    /* --link DN: link the GPO there (lowest precedence) */
};

/* What the user named, and what for. */
struct target_request {
	const char *what;                       /* the path given (a domain: its DNS name) */
	const struct target_domain_request *domain; /* for a domain target */
	const char *hive_kind;                  /* --kind for a hive, or NULL: detected */
	int user_side;                          /* a GPO's User side */
	const struct target_setting *setting;   /* the setting a command is about, or NULL */
};

enum target_change_kind { TC_SET_VALUE, TC_DELETE_VALUE, TC_ADD_KEY, TC_DELETE_KEY };

/* One change to record. key as the user writes it (a hive takes paths below its root or
 * with its mount, "HKLM\SYSTEM\..."); a GPO item carries its own attributes in item. */
struct target_change {
	enum target_change_kind kind;
	const char *key;
	const struct reg_value *value;    /* TC_SET_VALUE: name, type, data */
	const char *name;                 /* TC_DELETE_VALUE */
	const struct gpp_setting *item;   /* a GPO item as given (action, filters), or NULL */
};

/* Facts the preflight judges. */
enum target_fact { TF_PRODUCT_TYPE, TF_CONNECTOR_VERSION, TF_BUILD };

struct target_fact_value {
	char *text;           /* ProductType, the connector's DisplayVersion, CurrentBuild; owned */
	uint32_t number;      /* TF_BUILD: the build; 0 when text is not a number */
	uint32_t ubr;         /* TF_BUILD: UBR, 0 when absent */
	const char *source;   /* the file read, for messages */
};

/* How a backend reaches the machines it configures: read from the files it holds, or through
 * a link in the directory (a GPO), where the machines' own facts cannot be read. */
enum target_reach { TARGET_HOLDS_MACHINE, TARGET_REACHES_BY_LINK };

/* How a rollback goes: exact (the saved bytes back) when the target is as the entry left it,
 * else refused with what differs; --logical applies the inverse of the entry's changes to
 * what the target holds now. */
struct rollback_opts {
	int logical;                  /* undo the entry's changes on the current content */
	int dry_run;                  /* say what would be done; write nothing */
	const char *undo_on_clients;  /* GPO only: "delete", or data for the value, in place of removing an item */
};

/* A journal entry being rolled back, as the run layer loaded and checked it. */
struct target_rollback {
	const char *id;
	const struct rollback_opts *o;
	struct journal_entry *j;
	struct json_object *target;   /* the entry's "target": backend, kind, path, side */
	struct json_object *file;     /* its first file (the hive; a GPO's Registry.xml) */
	struct plan plan;             /* what the entry changed in that file */
	/* Reloads the entry once the target is locked (recovery may have ended it): -1 with e set
	 * when it is no longer one to roll back. */
	int (*reload_if_pending)(struct target_rollback *rb, struct gt_error *e);
	void *arg;
};

struct target_ops;

struct target {
	const struct target_ops *ops;
	struct target_env *env;
	void *priv;                   /* the backend's state */
};

/* ---- the table ---- */

/* The n-th kind in the table (NULL past the end), for the commands' options: each kind is
 * named on the command line by --OPTION VALUE. */
const struct target_ops *target_kind_at(size_t n);
const char *target_kind_option(const struct target_ops *ops);   /* "hive" (for --hive) */
const char *target_kind_name(const struct target_ops *ops);     /* the journal's "backend" */
/* The kind a journal entry's target was written by ("backend", else its "kind"), or NULL. */
const struct target_ops *target_kind_of_record(struct json_object *target);
/* The kind that writes files of this journal kind ("hive", "gpp-registry-xml"), or NULL. */
const struct target_ops *target_kind_of_file(const char *file_kind);
/* A named kind ("hive"), or NULL. */
const struct target_ops *target_kind_named(const char *name);

/* "--hive FILE, --image WINDIR or --gpo DIR" into out. */
void target_kinds_usage(struct sbuf *out);

/* A journal's before copy is put back only when it is a file the kind that wrote it would
 * accept (journal_recovery.check_copy). */
int target_check_saved_copy(const char *file_kind, const uint8_t *buf, size_t len, int fd, const char *staged,
			    struct gt_error *e);

/* A path from a journal is only followed when it is absolute and says what it means: no
 * ".", ".." or empty components for a symlinked or edited entry to hide behind. */
int target_path_is_plain(const char *p);

/* ---- operations ---- */

/* Identifies and checks what rq names (a path that is not there, or not of this kind, is
 * GT_NO_SUCH_PATH); reads only. t released by target_close, also on error. */
int target_open(struct target *t, const struct target_ops *ops, struct target_env *env, const struct target_request *rq,
		struct gt_error *e);
/* The same from a journal entry's record of its target (rollback). */
int target_open_recorded(struct target *t, struct target_env *env, struct target_rollback *rb, struct gt_error *e);
void target_close(struct target *t);

/* The path the target names, as given: for messages and the audit record. */
const char *target_path(const struct target *t);
/* How it reaches the machines it configures. */
enum target_reach target_reach(const struct target *t);
/* The file a setting at key lives in (a hive in a Windows folder; a GPO's Registry.xml), for
 * the value rules' subject and messages. Static to t. */
const char *target_locate(struct target *t, const char *key);

/* The hive a target is, open for reading (the hive commands read through it); NULL with an
 * error for kinds that are not one hive. Owned by t. */
struct hivetx;
struct hivetx *target_hive(struct target *t, struct gt_error *e);
/* hive recover: a hive target opened for writing (target_begin) gets its replayed copy as
 * its primary, journaled, with what that changes; a clean hive is left alone. */
int target_hive_recover(struct target *t, struct gt_error *e);

/* Readiness for a write: lock, finish or undo what an interrupted run left pending. A dry run
 * takes the same checks (and, where a kind locks even for that, the lock). */
int target_begin(struct target *t, int dry_run, struct gt_error *e);
/* Records one change. 1 recorded, 0 nothing to change (a value or key to delete is absent),
 * -1 error. */
int target_plan(struct target *t, const struct target_change *c, struct gt_error *e);
/* A dry run: the plan, and that nothing was written. */
int target_show_plan(struct target *t, struct gt_error *e);
/* Commits the plan through the pipeline and reports what changed (or "no change"). */
int target_commit(struct target *t, struct gt_error *e);

/* The setting's value as the target holds it: 1 (out caller-released), 0 absent, -1 error. */
int target_read(struct target *t, const struct target_setting *s, struct reg_value *out, struct gt_error *e);
/* Does the target hold the setting with data want? 1 yes (said), 0 no (GT_MISMATCH set in e,
 * saying why), -1 error. */
int target_check(struct target *t, const struct target_setting *s, const struct reg_value *want, struct gt_error *e);
/* A preflight fact: 1 read (out filled; release with target_fact_release), 0 not at hand in
 * this target (the message in why, static), -1 error. */
int target_fact(struct target *t, enum target_fact f, struct target_fact_value *out, const char **why, struct gt_error *e);
void target_fact_release(struct target_fact_value *v);

/* A copy of what the target holds into dir, a new folder (made here; one that exists is
 * GT_REFUSED), for offline review: a domain's GPO folder as its DC has it. */
int target_fetch(struct target *t, const char *dir, struct gt_error *e);

/* Rolls back journal entry rb (opened with target_open_recorded). */
int target_rollback(struct target *t, struct target_rollback *rb, struct gt_error *e);

#endif
