/* The command table and the one parser that enforces every entry; see cmd.h. */
#include "cmd/cmd.h"
#include "run/domain.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct cmd_entry *const cmd_table[] = {
	&cmd_hive_info_entry,
	&cmd_hive_get_entry,
	&cmd_hive_set_entry,
	&cmd_hive_delete_entry,
	&cmd_hive_export_entry,
	&cmd_hive_import_entry,
	&cmd_hive_new_entry,
	&cmd_hive_recover_entry,
	&cmd_gpo_new_entry,
	&cmd_gpo_show_entry,
	&cmd_gpo_set_entry,
	&cmd_gpo_delete_entry,
	&cmd_gpo_ad_entry,
	&cmd_gpo_fetch_entry,
	&cmd_templates_entry,
	&cmd_stage_entry,
	&cmd_validate_entry,
	&cmd_journal_list_entry,
	&cmd_journal_show_entry,
	&cmd_journal_abandon_entry,
	&cmd_rollback_entry,
	&cmd_audit_show_entry,
	&cmd_audit_verify_entry,
	NULL,
};

static int words_in(const char *name)
{
	int n = 1;

	for (; *name; name++)
		n += *name == ' ';
	return n;
}

/* Exact words only: "hive se" must never reach "hive set". */
static int matches(const char *name, int argc, char **argv)
{
	int words = words_in(name);
	const char *p = name;

	if (argc < words)
		return 0;
	for (int i = 0; i < words; i++) {
		size_t n = strcspn(p, " ");

		if (strlen(argv[i]) != n || strncmp(argv[i], p, n) != 0)
			return 0;
		p += n + (p[n] == ' ');
	}
	return 1;
}

const struct cmd_entry *cmd_find(int argc, char **argv, int *used)
{
	for (size_t i = 0; cmd_table[i]; i++) {
		if (matches(cmd_table[i]->name, argc, argv)) {
			*used = words_in(cmd_table[i]->name);
			return cmd_table[i];
		}
	}
	return NULL;
}

/* Optimal string alignment distance (Levenshtein plus swapped neighbours), ignoring case:
 * how far a typo is from a name. Capped inputs: names are short. */
static size_t typo_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), d[64][64];

	if (n > 63 || m > 63)
		return (size_t)-1;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]), best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[n][m];
}

/* Close enough to be the name meant: one edit for short names, two from five characters. */
static int near_miss(const char *typed, const char *name)
{
	size_t dist = typo_distance(typed, name);

	return dist <= (strlen(name) >= 5 ? 2u : 1u);
}

const char *cmd_suggest(int argc, char **argv)
{
	const char *best = NULL;
	size_t best_dist = (size_t)-1;

	for (size_t i = 0; cmd_table[i]; i++) {
		const char *name = cmd_table[i]->name;
		int words = words_in(name);
		char typed[128] = "";
		size_t dist;

		if (argc < words)
			continue;
		for (int w = 0; w < words; w++)
			snprintf(typed + strlen(typed), sizeof(typed) - strlen(typed), "%s%s", w ? " " : "", argv[w]);
		dist = typo_distance(typed, name);
		if (near_miss(typed, name) && dist < best_dist) {
			best = name;
			best_dist = dist;
		}
	}
	return best;
}

int cmd_is_group(const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; cmd_table[i]; i++)
		if (strncmp(cmd_table[i]->name, word, n) == 0 && cmd_table[i]->name[n] == ' ')
			return 1;
	return 0;
}

void cmd_print_group(FILE *out, const char *word)
{
	size_t n = strlen(word);

	fprintf(out, "usage: gpotool %s COMMAND ...\n\n'%s' commands:\n", word, word);
	for (size_t i = 0; cmd_table[i]; i++)
		if (strncmp(cmd_table[i]->name, word, n) == 0 && cmd_table[i]->name[n] == ' ')
			fprintf(out, "  %-15s %-28s %s\n", cmd_table[i]->name, cmd_table[i]->args_usage, cmd_table[i]->summary);
	fprintf(out, "\n'gpotool help %s COMMAND' (or 'gpotool %s COMMAND --help') shows one of them\n", word, word);
}

void cmd_print_help(FILE *out, const struct cmd_entry *entry)
{
	fprintf(out, "usage: gpotool %s %s\n\n%s.\n", entry->name, entry->args_usage, entry->summary);
	if (entry->help)
		fprintf(out, "\n%s", entry->help);
	if (entry->options[0] && !entry->help) {
		fprintf(out, "\noptions:");
		for (int i = 0; entry->options[i]; i++) {
			size_t n = strcspn(entry->options[i], "=");

			fprintf(out, " --%.*s%s", (int)n, entry->options[i], entry->options[i][n] == '=' ? " VALUE" : "");
		}
		fputc('\n', out);
	}
	fprintf(out, "\n%s"
		     "global options (before the command): --state-dir DIR, --json, --operator NAME, --ticket ID,\n"
		     "  --as-of YYYY-MM-DD, --strict, --audit-log FILE, --syslog\n"
		     "exit codes: 0 done, 1 checked and not as expected, 2 usage error, 3 refused (nothing written),\n"
		     "  4 I/O or internal error (nothing written); more in 'man gpotool'\n",
		entry->audited ? "writes: journaled (gpotool journal list) and audited (gpotool audit show)\n" : "");
}

int cmd_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

static int option_index(const struct cmd_entry *entry, const char *name, size_t len, int *takes_value)
{
	for (int i = 0; entry->options[i]; i++) {
		const char *o = entry->options[i];
		size_t n = strcspn(o, "=");

		if (n == len && strncmp(o, name, len) == 0) {
			*takes_value = o[n] == '=' ? (o[n + 1] == '*' ? 2 : 1) : 0;
			return i;
		}
	}
	return -1;
}

const char *cmd_opt(const struct cmd_entry *entry, const struct cmd_args *a, const char *name)
{
	int takes;
	int i = option_index(entry, name, strlen(name), &takes);

	return i < 0 ? NULL : a->opt_value[i];
}

const char *const *cmd_opt_all(const struct cmd_entry *entry, const struct cmd_args *a, const char *name, size_t *n)
{
	int takes;
	int i = option_index(entry, name, strlen(name), &takes);

	*n = i < 0 ? 0 : a->opt_count[i];
	return i < 0 ? NULL : a->opt_many[i];
}

int cmd_conn_options(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, struct gt_error *e)
{
	struct run_conn_args c = {
		.dc = cmd_opt(entry, a, "dc"),
		.ca_file = cmd_opt(entry, a, "ca-file"),
		.user = cmd_opt(entry, a, "user"),
		.password_file = cmd_opt(entry, a, "password-file"),
		.kerberos = cmd_opt(entry, a, "kerberos") != NULL,
		.keytab = cmd_opt(entry, a, "keytab"),
		.allow_plain_ldap = cmd_opt(entry, a, "allow-plain-ldap") != NULL,
		.ldaps = cmd_opt(entry, a, "ldaps") != NULL,
	};

	c.resolve = cmd_opt_all(entry, a, "resolve", &c.nresolve);
	if (!c.user && !c.kerberos && !c.password_file && !c.dc && !c.nresolve && !c.ca_file && !c.keytab &&
	    !c.allow_plain_ldap && !c.ldaps)
		return 0;
	return run_domain_conn(ctx, &c, e);
}

int cmd_domain_options(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a,
		       struct target_domain_request *rq, struct gt_error *e)
{
	*rq = (struct target_domain_request){
		.gpo_name = cmd_opt(entry, a, "gpo-name"),
		.gpo_guid = cmd_opt(entry, a, "gpo-guid"),
		.create = cmd_opt(entry, a, "create") != NULL,
		.link_dn = cmd_opt(entry, a, "link"),
	};
	if (!cmd_opt(entry, a, "domain")) {
		if (rq->gpo_name || rq->gpo_guid || rq->create || rq->link_dn)
			return gt_fail(e, GT_USAGE, "--gpo-name, --gpo-guid, --create and --link name a GPO in a domain: give --domain DNS");
		return 0;
	}
	ctx->domain = rq;
	if (cmd_conn_options(ctx, entry, a, e) < 0)
		return -1;
	if (!ctx->conn)
		return gt_fail(e, GT_USAGE, "--domain needs credentials: --user NAME (with --password-file FILE, GPOTOOL_PASSWORD "
			       "or a prompt) or --kerberos [--keytab FILE]");
	return 0;
}

int cmd_parse(const struct cmd_entry *entry, int argc, char **argv, struct cmd_args *a, struct gt_error *e)
{
	int only_args = 0;

	memset(a, 0, sizeof(*a));
	a->argv = argv; /* positionals are compacted in place; argv is ours (main's copy) */
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (!only_args && strcmp(arg, "--") == 0) {
			only_args = 1;
		} else if (!only_args && strncmp(arg, "--", 2) == 0) {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			int takes, idx = option_index(entry, name, len, &takes);

			if (idx < 0) {
				char typed[64];
				const char *guess = NULL;

				snprintf(typed, sizeof(typed), "%.*s", (int)(len < 63 ? len : 63), name);
				for (int k = 0; entry->options[k] && !guess; k++) {
					char opt[64];

					snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(entry->options[k], "="), entry->options[k]);
					if (near_miss(typed, opt))
						guess = entry->options[k];
				}
				if (guess)
					return gt_fail(e, GT_USAGE, "unknown option '--%.*s' for '%s' (did you mean '--%.*s'?)", (int)len, name,
						       entry->name, (int)strcspn(guess, "="), guess);
				return gt_fail(e, GT_USAGE, "unknown option '--%.*s' for '%s' (see 'gpotool help %s')", (int)len, name,
					       entry->name, entry->name);
			}
			if (takes && !eq && i + 1 >= argc)
				return gt_fail(e, GT_USAGE, "option '--%.*s' needs a value", (int)len, name);
			if (!takes && eq)
				return gt_fail(e, GT_USAGE, "option '--%.*s' takes no value", (int)len, name);
			/* twice is a mistake to point out, not a last-one-wins to guess at */
			if (a->opt_value[idx] && takes != 2)
				return gt_fail(e, GT_USAGE, "option '--%.*s' given twice", (int)len, name);
			if (takes == 2 && a->opt_count[idx] == CMD_MAX_REPEAT)
				return gt_fail(e, GT_USAGE, "option '--%.*s' given more than %d times", (int)len, name, CMD_MAX_REPEAT);
			a->opt_value[idx] = takes ? (eq ? eq + 1 : argv[++i]) : "";
			if (takes == 2)
				a->opt_many[idx][a->opt_count[idx]++] = a->opt_value[idx];
		} else if (!only_args && arg[0] == '-' && arg[1] != '\0') {
			return gt_fail(e, GT_USAGE, "unknown option '%s' for '%s' (options are spelled --name; use -- before a value that starts with '-')",
				       arg, entry->name);
		} else {
			a->argv[a->argc++] = argv[i];
		}
	}
	if (a->argc < entry->min_args || a->argc > entry->max_args)
		return gt_fail(e, GT_USAGE, "usage: gpotool %s %s", entry->name, entry->args_usage);
	return 0;
}

void cmd_print_usage(FILE *out)
{
	fprintf(out, "usage: gpotool [--state-dir DIR] [--json] [--operator NAME] [--ticket ID] [--as-of YYYY-MM-DD] [--strict]\n"
		     "               [--audit-log FILE] [--syslog] [--allow-shared-dir] COMMAND ...\n\ncommands:\n");
	for (size_t i = 0; cmd_table[i]; i++)
		fprintf(out, "  %-15s %-28s %s\n", cmd_table[i]->name, cmd_table[i]->args_usage, cmd_table[i]->summary);
	fprintf(out, "\n'gpotool help COMMAND' (or 'gpotool COMMAND --help') shows one command; 'man gpotool' all of them\n"
		     "\nexit codes: 0 done, 1 checked and not as expected, 2 usage error,\n"
		     "            3 refused as unsafe or invalid (nothing written), 4 I/O or internal error (nothing written)\n");
}

void cmd_hive_logs_options(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a)
{
	ctx->hive_logs.paths = cmd_opt_all(entry, a, "log", &ctx->hive_logs.n);
	ctx->hive_logs.ignore_logs = cmd_opt(entry, a, "ignore-logs") != NULL;
	ctx->hive_logs.can_ignore = option_index(entry, "ignore-logs", strlen("ignore-logs"), &(int){ 0 }) >= 0;
}

void cmd_target_options(const struct cmd_entry *entry, const struct cmd_args *a, const char **given)
{
	for (size_t i = 0; target_kind_at(i); i++)
		given[i] = cmd_opt(entry, a, target_kind_option(target_kind_at(i)));
}

/* The hive and gpo command groups take a target of the kind their group is named for (the
 * table's kind of the same name) as their first argument. */
static const struct target_ops *kind_of_group(const struct cmd_entry *entry)
{
	char group[16];
	size_t n = strcspn(entry->name, " ");

	snprintf(group, sizeof(group), "%.*s", (int)n, entry->name);
	return target_kind_named(group);
}

static int open_target_arg(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, struct target *t,
			   struct gt_error *e)
{
	struct target_request rq = { .what = a->argv[0], .hive_kind = cmd_opt(entry, a, "kind"),
				     .user_side = cmd_opt(entry, a, "user") != NULL };
	const struct target_ops *ops = kind_of_group(entry);

	cmd_hive_logs_options(ctx, entry, a);
	if (!ops)
		return gt_fail(e, GT_FAILED, "internal error: no target kind for '%s'", entry->name);
	return run_target_open(ctx, t, ops, &rq, e);
}

struct hivetx *cmd_target_read_hive(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a,
				    struct target *t, struct gt_error *e)
{
	return open_target_arg(ctx, entry, a, t, e) < 0 ? NULL : target_hive(t, e);
}

int cmd_target_write(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, struct target *t,
		     struct gt_error *e)
{
	return open_target_arg(ctx, entry, a, t, e) < 0 ? -1 : target_begin(t, 0, e);
}
