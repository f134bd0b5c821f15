/* The journal: before anything is replaced, a record of what is about to change and a copy
 * of the target's bytes; after, the record is marked complete. A crash in between leaves a
 * pending entry that says so. Layout: STATE/journal/ID/{entry.json,before-0.bin}, 0700/0600. */
#ifndef GPOTOOL_JOURNAL_H
#define GPOTOOL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/digest.h"
#include "core/error.h"
#include "core/jsonx.h"
#include "state/plan.h"
#include "core/safefile.h"
#include "core/sbuf.h"

struct journal_meta {
	const char *command_line;
	const char *command_name;  /* "hive set", "stage": what an audit record names; may be NULL */
	const char *operator_name;
	const char *ticket;        /* may be NULL */
	const char *template_name; /* may be NULL */
	const char *target_kind;   /* "hive" or "gpo": what rollback opens */
	const char *target_path;   /* the hive file, or the GPO folder */
	const char *side;          /* a GPO's "Machine" or "User" side, else NULL */
	const char *backend;       /* the target kind that wrote it (target/): rollback opens it with that */
	const char *container;     /* what holds target_path and was named (a Windows folder), else NULL */
	const char *rollback_of;   /* the entry a rollback undoes, else NULL */
	int remote;                /* target_path names a remote object (a GPO in a domain): kept as
				    * given, never made absolute, never followed as a local path */
	struct json_object *extra; /* what the backend records besides files (a GPO's AD attributes
				    * before and after), as "extra" in the entry's target; or NULL */
};

struct journal_target {
	const char *path;          /* path of the target, as given */
	int existed;               /* 0: the change creates it (before is empty) */
	const char *kind;          /* "hive" ... */
	const char *detail;        /* e.g. hive kind "SYSTEM" */
	const char *key_prefix;    /* how keys are shown, e.g. "HKLM\\SYSTEM" */
	const uint8_t *before;
	size_t before_len;
	/* or, for a large file, the before content is the locked file itself: hard-linked into the
	 * journal (the rename leaves that inode to the journal alone), or copied by the kernel
	 * when the journal is on another file system. before_sha256 is then its SHA-256. */
	const struct locked_file *before_file;
	const char *before_sha256;
	const struct plan *plan;
	const char *after_sha256;  /* of the content about to be put in place */
	const char *staged;        /* the temp file holding that content, beside the target */
	int remote;                /* path names a remote file (SYSVOL over SMB): kept as given, and
				    * journal_recover never matches it with a local path */
	const uint8_t *after;      /* a copy of the content about to be put in place (after-N.bin), */
	size_t after_len;          /* for a target with no staged file a recovery could finish from */
	char *const *created_dirs; /* folders made for a target that did not exist (absolute), */
	size_t ncreated_dirs;      /* which a rollback removes again when empty */
};

struct journal_entry;

/* The most files one entry replaces or keeps: a GPO's Registry.xml and GPT.INI, or a dirty
 * hive and its three transaction logs. */
#define JOURNAL_MAX_TARGETS 4


/* Writes a pending entry (fsynced) before any target is replaced: one per file the change
 * replaces (a GPO change replaces Registry.xml and GPT.INI). *out freed by journal_free. */
int journal_begin(const char *state_dir, const struct journal_meta *m, const struct journal_target *t, size_t n,
		  struct journal_entry **out, struct gt_error *e);
/* Marks it complete: every target now holds its after_sha256 content. */
int journal_complete(struct journal_entry *j, struct gt_error *e);

/* Who recovers, and how a before copy is checked before it is put back. */
struct journal_recovery {
	const char *command_line;   /* the run that recovers (or abandons): recorded in the entry */
	const char *operator_name;
	const char *ticket;
	/* 0 when buf (also in the temp file staged, held open as staged_fd, beside the target) is
	 * a sound file of its kind ("hive", "gpp-registry-xml", "gpt-ini"); else -1 with e set.
	 * NULL: no check. */
	int (*check_copy)(const char *kind, const uint8_t *buf, size_t len, int staged_fd, const char *staged,
			  struct gt_error *e);
};

/* Finishes what a killed gpotool left half done on any of paths. A pending entry naming one
 * of them is acted on only when each of its targets is exactly as before it or exactly as it
 * would leave it (SHA-256); anything else is refused (GT_REFUSED, naming the entry, the hashes
 * and 'gpotool journal abandon ID') with nothing written. It is completed from its staged
 * files when they are all there, else rolled back from its before copies (checked against
 * their recorded SHA-256 and with how->check_copy first), and marked so, with the recovering
 * command. The caller holds the targets' locks, so a pending entry for them cannot belong to
 * a live writer. Then temp files beside paths that this journal accounts for are removed
 * (others are reported, not removed). Appends one line per thing done to report. */
int journal_recover(const char *state_dir, const char *const *paths, size_t npaths, const struct journal_recovery *how,
		    struct sbuf *report, struct gt_error *e);
/* Removes the intents journal_recover recorded (this writer's own; called once, at exit). */
void journal_writer_done(void);
/* Marks pending entry id abandoned: recovery never acts on it; its files stay as they are
 * (report: where each stands) and its staged files are removed. GT_REFUSED when it is not
 * pending or a writer holds it. */
int journal_abandon_pending(const char *state_dir, const char *id, const struct journal_recovery *by, struct sbuf *report,
			    struct gt_error *e);

/* Audit records owed by the journal. An entry's record is marked appended (a file in its
 * directory) once it is in the trail. journal_unaudited lists finished entries without that
 * mark whose writer is gone (their lock is taken, and held to exit) or that this process
 * recovered; not those this process wrote (the command's own record names them). Failed and
 * abandoned entries owe none and are marked on the way. *ids caller-freed. */
int journal_unaudited(const char *state_dir, char ***ids, size_t *n, struct gt_error *e);
int journal_mark_audited(const char *state_dir, const char *id, struct gt_error *e);
int journal_is_audited(const char *state_dir, const char *id);

/* Replaces the "extra" record of a pending entry's target (what a remote write learned between
 * steps: the values a compare-and-swap retry found), saved before the next step. */
int journal_update_extra(struct journal_entry *j, struct json_object *extra, struct gt_error *e);
/* Marks it failed (target untouched) with the reason, so a reader never mistakes it for a crash. */
void journal_abandon(struct journal_entry *j, const char *reason);
const char *journal_id(const struct journal_entry *j);

/* Reading entries back (journal list/show, rollback). An ID is only ever the name
 * journal_begin gave, so it cannot name a path outside the journal. */
int journal_id_valid(const char *id);
/* Every entry's ID, oldest first. *ids caller-freed (each and the array). */
int journal_list_ids(const char *state_dir, char ***ids, size_t *n, struct gt_error *e);
/* Reads entry id: GT_REFUSED when there is no such entry or it is malformed. */
int journal_load(const char *state_dir, const char *id, struct journal_entry **out, struct gt_error *e);
/* Adds key: value to entry id (what happened after it was written, e.g. its audit record
 * could not be appended). */
int journal_annotate(const char *state_dir, const char *id, const char *key, const char *value, struct gt_error *e);
/* The entry's document, owned by j. */
struct json_object *journal_doc(const struct journal_entry *j);
/* The copy of target i as it was before the change, checked against its recorded SHA-256
 * (GT_REFUSED when it differs: the journal was damaged or edited). *buf caller-freed. */
int journal_read_before(const struct journal_entry *j, size_t i, uint8_t **buf, size_t *len, struct gt_error *e);
/* The copy of what target i became (journal_target.after), checked the same way. */
int journal_read_after(const struct journal_entry *j, size_t i, uint8_t **buf, size_t *len, struct gt_error *e);
/* A pending entry's target i will hold after instead (a compare-and-swap retry changed it):
 * its copy and hash are replaced, and the target's "extra" by extra when not NULL, in one save,
 * durable before the write that puts it in place. */
int journal_update_after(struct journal_entry *j, size_t i, const uint8_t *after, size_t len, struct json_object *extra,
			 struct gt_error *e);
/* Takes pending entry id for a recovery the caller runs itself (a remote target, which
 * journal_recover cannot see): 1 with *out loaded under its lock, held to exit; 0 when it is
 * not pending any more or a live writer holds it. */
int journal_claim_pending(const char *state_dir, const char *id, struct journal_entry **out, struct gt_error *e);
/* Ends a claimed entry as status ("complete", "rolled-back") with what the recovery did. */
int journal_finish_recovered(struct journal_entry *j, const char *status, const char *what, const struct journal_recovery *how,
			     struct gt_error *e);
/* Where a recorded target stands now, against the entry's hashes. cur gets its SHA-256
 * ("" when absent). */
enum journal_file_state { JFILE_AS_LEFT, JFILE_AS_BEFORE, JFILE_CHANGED_SINCE, JFILE_ABSENT, JFILE_REMOTE };
enum journal_file_state journal_file_state(struct json_object *target, char cur[SHA256_HEX_LEN + 1]);
const char *journal_file_state_text(enum journal_file_state s);

void journal_free(struct journal_entry *j);

#endif
