/* Commands: one cmd-*.c file per subcommand, each exporting one struct cmd_entry, listed
 * in cmd.c's table (tmux's layout). The generic parser in cmd.c enforces each entry's
 * options and argument counts, so commands never parse argv themselves. */
#ifndef GPOTOOL_CMD_H
#define GPOTOOL_CMD_H

#include <stdio.h>

#include "core/error.h"

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
	const char *help;                 /* optional: more for 'gpotool help NAME', lines ending in \n */
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
/* 'gpotool help NAME' / 'gpotool NAME --help': usage, summary, help text, options. */
void cmd_print_help(FILE *out, const struct cmd_entry *entry);
/* 1 when word is the first word of commands ("hive", "gpo"...); cmd_print_group lists them. */
int cmd_is_group(const char *word);
void cmd_print_group(FILE *out, const char *word);
/* The command a near miss of argv's leading words was meant to be ("hive se", "stgae"), or
 * NULL. Only a suggestion: a guess is never run. */
const char *cmd_suggest(int argc, char **argv);
/* 1 when the command's arguments ask for --help (before any "--"). */
int cmd_wants_help(int argc, char **argv);

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
extern const struct cmd_entry cmd_journal_abandon_entry;
extern const struct cmd_entry cmd_rollback_entry;
extern const struct cmd_entry cmd_audit_show_entry;
extern const struct cmd_entry cmd_audit_verify_entry;

#endif
