/* One run of gpotool: the global options, the JSON result, what the audit record needs, and
 * the operator's output. The run layer is what the commands share (preflight, rollback, the
 * value rules, the audit record); it and cmd/ are the only layers that print. */
#ifndef GPOTOOL_RUN_H
#define GPOTOOL_RUN_H

#include "core/error.h"
#include "state/journal.h"
#include "target/target.h"

struct json_object;

/* What every command gets: the global options and where its JSON result goes. */
struct gt_ctx {
	int json;                    /* --json: one JSON object on stdout */
	const char *state_dir_opt;   /* --state-dir, else GPOTOOL_STATE_DIR, else the default */
	const char *operator_name;   /* --operator */
	const char *ticket;          /* --ticket */
	char *command_line;          /* argv, shell-quoted, for the journal */
	long long as_of;             /* --as-of, UTC midnight (time_t); the expiry rules' today */
	int strict;                  /* --strict: an expired template is refused */
	const char *template_name;   /* the template a stage applies, for the journal */
	int rules_reported;          /* the value rules were applied and printed for this run (once) */
	int defer_journal_line;      /* the command prints "journal: ID" itself, last */
	char *journal_id;            /* the last write's journal entry, owned */
	char *target;                /* the hive or GPO the command opened to write, for the audit record; owned */
	const char *rollback_of;     /* the journal entry a rollback undoes */
	int rollback_new_data;       /* the rollback writes data the user gave (--undo-on-clients=DATA) */
	const char *audit_copy;      /* --audit-log FILE: every record appended there too */
	int use_syslog;              /* --syslog: and sent to syslog */
	int allow_shared_dir;        /* --allow-shared-dir: write in folders others can write (audited) */
	struct json_object *result;  /* commands add their fields; main prints it */
	struct target_env env;       /* what targets opened in this run get (run_target_env) */
	struct domain_conn_opts *conn;  /* the CONN options of a domain command (run/domain.h), owned */
	char *password;              /* its password, owned, wiped at exit */
	const struct target_domain_request *domain; /* which GPO of a domain the command names */
	struct hivetx_logs_opts hive_logs; /* --log FILE..., --ignore-logs: how a dirty hive's logs are taken */
};

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

/* The environment targets of this run get: state, who writes, the report sink, the value
 * rules. Filled afresh at each call (the template or the entry rolled back is known by then);
 * owned by ctx. */
struct target_env *run_target_env(struct gt_ctx *ctx);
/* Opens the target the user named for a command: ops from the table, what from its option. */
int run_target_open(struct gt_ctx *ctx, struct target *t, const struct target_ops *ops, const struct target_request *rq,
		    struct gt_error *e);

/* Prints to stdout unless --json. */
void out_text(const struct gt_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Warnings go to stderr in either mode (JSON stays one object on stdout). */
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "gpotool: note: ..." on stderr: worth knowing, nothing wrong. */
void out_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The report sink that prints as out_text, out_note and out_warn do. */
struct report run_report(struct gt_ctx *ctx);

#endif
