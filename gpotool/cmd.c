/* The command table and the one parser that enforces every entry; see cmd.h. */
#include "cmd.h"

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
	&cmd_gpo_new_entry,
	&cmd_gpo_show_entry,
	&cmd_gpo_set_entry,
	&cmd_gpo_delete_entry,
	&cmd_gpo_ad_entry,
	&cmd_templates_entry,
	&cmd_stage_entry,
	&cmd_validate_entry,
	&cmd_journal_list_entry,
	&cmd_journal_show_entry,
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

static int option_index(const struct cmd_entry *entry, const char *name, size_t len, int *takes_value)
{
	for (int i = 0; entry->options[i]; i++) {
		const char *o = entry->options[i];
		size_t n = strcspn(o, "=");

		if (n == len && strncmp(o, name, len) == 0) {
			*takes_value = o[n] == '=';
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

			if (idx < 0)
				return gt_fail(e, GT_USAGE, "unknown option '--%.*s' for '%s'", (int)len, name, entry->name);
			if (takes && !eq && i + 1 >= argc)
				return gt_fail(e, GT_USAGE, "option '--%.*s' needs a value", (int)len, name);
			if (!takes && eq)
				return gt_fail(e, GT_USAGE, "option '--%.*s' takes no value", (int)len, name);
			/* twice is a mistake to point out, not a last-one-wins to guess at */
			if (a->opt_value[idx])
				return gt_fail(e, GT_USAGE, "option '--%.*s' given twice", (int)len, name);
			a->opt_value[idx] = takes ? (eq ? eq + 1 : argv[++i]) : "";
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
		fprintf(out, "  %-12s %-28s %s\n", cmd_table[i]->name, cmd_table[i]->args_usage, cmd_table[i]->summary);
	fprintf(out, "\nexit codes: 0 done, 1 checked and not as expected, 2 usage error,\n"
		     "            3 refused as unsafe or invalid (nothing written), 4 I/O or internal error (nothing written)\n");
}
