/* Commands: one cmd-*.c file per subcommand, each exporting one struct cmd_entry, listed
 * in cmd.c's table (tmux's layout). The generic parser in cmd.c enforces each entry's
 * options and argument counts, so commands never parse argv themselves. */
#ifndef GPOTOOL_CMD_H
#define GPOTOOL_CMD_H

#include <stdio.h>

#include "core/error.h"
#include "run/run.h"
#include "target/target.h"

struct json_object;

#define CMD_MAX_OPTIONS 32
#define CMD_MAX_REPEAT 16

struct cmd_args {
	int argc;
	char **argv;                              /* positional arguments only */
	const char *opt_value[CMD_MAX_OPTIONS];   /* by index in entry->options; "" for flags; NULL unset */
	/* an option spelt "name=*" may be given again: every value, in order */
	const char *opt_many[CMD_MAX_OPTIONS][CMD_MAX_REPEAT];
	size_t opt_count[CMD_MAX_OPTIONS];
};

/* The options of a command that reaches a live domain: the GPO, then CONN. */
#define CMD_CONN_OPTIONS "dc=", "resolve=*", "ca-file=", "user=", "password-file=", "kerberos", "keytab=", \
	"allow-plain-ldap", "ldaps"
#define CMD_DOMAIN_OPTIONS "domain=", "gpo-name=", "gpo-guid=", CMD_CONN_OPTIONS
#define CMD_CONN_USAGE "[--dc HOST] [--resolve HOST:ADDRESS] [--ca-file PEM] [--user NAME --password-file FILE | " \
	"--kerberos [--keytab FILE]] [--allow-plain-ldap] [--ldaps]"
#define CMD_CONN_HELP \
	"Reaching a domain (CONN):\n" \
	"  --dc HOST            the DC to use (default: the domain's PDC emulator, from DNS SRV or fSMORoleOwner)\n" \
	"  --resolve HOST:ADDR  connect to ADDR while naming, verifying and authenticating HOST (as curl's; repeatable)\n" \
	"  --ca-file PEM        the CA that signs the DC's LDAP certificate (default: the system's store)\n" \
	"  --user NAME          a password logon (NAME, NAME@REALM or DOMAIN\\NAME) over StartTLS (or --ldaps);\n" \
	"                       the password from --password-file FILE (mode 600), GPOTOOL_PASSWORD, or a prompt\n" \
	"  --kerberos           the ticket cache (after kinit), or --keytab FILE; LDAP signed and sealed by SASL GSSAPI\n" \
	"  --allow-plain-ldap   allow a password bind without TLS (refused otherwise)\n"

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

/* Every value of a repeatable option ("resolve"); *n how many. */
const char *const *cmd_opt_all(const struct cmd_entry *entry, const struct cmd_args *a, const char *name, size_t *n);
/* --domain DNS given: reads the GPO and CONN options into ctx (ctx->domain, the connection
 * the target gets). 0 also when there is no --domain. */
int cmd_domain_options(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a,
		       struct target_domain_request *rq, struct gt_error *e);
/* The CONN options alone (rollback of a domain entry): 0 when none is given. */
int cmd_conn_options(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, struct gt_error *e);

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

/* given[i]: the value of the option naming the table's i-th target kind (--hive, --image,
 * --gpo), or NULL; given holds CMD_MAX_OPTIONS. */
void cmd_target_options(const struct cmd_entry *entry, const struct cmd_args *a, const char **given);
/* The first argument of the hive and gpo commands (HIVE, DIR) is a target of the kind their
 * group is named for, with --kind and --user where the command has them. Read: the hive, open
 * for reading, owned by t (NULL on error). Write: opened and begun (locked, pending entries
 * recovered), ready for target_plan. */
struct hivetx *cmd_target_read_hive(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a,
				    struct target *t, struct gt_error *e);
/* --log FILE... and --ignore-logs, where the command takes them: how a dirty hive's
 * transaction logs are taken (hive/hivetx.h). */
void cmd_hive_logs_options(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a);
int cmd_target_write(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, struct target *t,
		     struct gt_error *e);

extern const struct cmd_entry cmd_hive_info_entry;
extern const struct cmd_entry cmd_hive_recover_entry;
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
extern const struct cmd_entry cmd_gpo_fetch_entry;
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
