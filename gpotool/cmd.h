/* Commands: one cmd-*.c file per subcommand, each exporting one struct cmd_entry, listed
 * in cmd.c's table (tmux's layout). The generic parser in cmd.c enforces each entry's
 * options and argument counts, so commands never parse argv themselves. */
#ifndef GPOTOOL_CMD_H
#define GPOTOOL_CMD_H

#include <stdio.h>

#include "error.h"

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
	int template_warnings;       /* the template already warned: skip the generic value advisories */
	int defer_journal_line;      /* the command prints "journal: ID" itself, last */
	char *journal_id;            /* the last write's journal entry, owned */
	char *target;                /* the hive or GPO the command opened to write, for the audit record; owned */
	const char *rollback_of;     /* the journal entry a rollback undoes */
	const char *audit_copy;      /* --audit-log FILE: every record appended there too */
	int use_syslog;              /* --syslog: and sent to syslog */
	int allow_shared_dir;        /* --allow-shared-dir: write in folders others can write (audited) */
	struct json_object *result;  /* commands add their fields; main prints it */
};

#define CMD_MAX_OPTIONS 8

struct cmd_args {
	int argc;
	char **argv;                              /* positional arguments only */
	const char *opt_value[CMD_MAX_OPTIONS];   /* by index in entry->options; "" for flags; NULL unset */
};

struct cmd_entry {
	const char *name;                 /* "hive set": the exact words, never a prefix */
	const char *args_usage;           /* "HIVE KEY NAME TYPE DATA" */
	const char *summary;
	const char *const options[CMD_MAX_OPTIONS + 1]; /* "kind=" takes a value, "utf8" is a flag */
	int min_args, max_args;
	int audited;                      /* writes: one audit record per run, refused or not */
	/* Returns GT_OK or GT_MISMATCH, or -1 with e set. */
	int (*exec)(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e);
};

/* The value of option name ("kind") as given to this command, or NULL. */
const char *cmd_opt(const struct cmd_entry *entry, const struct cmd_args *a, const char *name);

/* Finds the entry named by the leading words of argv; *used = words consumed. NULL if none. */
const struct cmd_entry *cmd_find(int argc, char **argv, int *used);
/* Parses the command's own options and arguments; -1 with GT_USAGE on a bad command line. */
int cmd_parse(const struct cmd_entry *entry, int argc, char **argv, struct cmd_args *a, struct gt_error *e);
void cmd_print_usage(FILE *out);

extern const struct cmd_entry cmd_hive_info_entry;
extern const struct cmd_entry cmd_hive_get_entry;
extern const struct cmd_entry cmd_hive_set_entry;
extern const struct cmd_entry cmd_hive_delete_entry;
extern const struct cmd_entry cmd_hive_export_entry;
extern const struct cmd_entry cmd_hive_import_entry;
extern const struct cmd_entry cmd_hive_new_entry;
extern const struct cmd_entry cmd_gpo_new_entry;
extern const struct cmd_entry cmd_gpo_show_entry;
extern const struct cmd_entry cmd_gpo_set_entry;
extern const struct cmd_entry cmd_gpo_delete_entry;
extern const struct cmd_entry cmd_gpo_ad_entry;
extern const struct cmd_entry cmd_templates_entry;
extern const struct cmd_entry cmd_stage_entry;
extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_journal_list_entry;
extern const struct cmd_entry cmd_journal_show_entry;
extern const struct cmd_entry cmd_rollback_entry;
extern const struct cmd_entry cmd_audit_show_entry;
extern const struct cmd_entry cmd_audit_verify_entry;

#endif
