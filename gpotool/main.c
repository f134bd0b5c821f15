/* gpotool: stage, verify and roll back KB5014754 registry settings in offline hives and
 * GPOs. main parses the global options, finds the command, runs it, reports an error
 * once, and turns the result into the exit code. */
#include <json-c/json.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "audit.h"
#include "cmd.h"
#include "cmdutil.h"
#include "error.h"
#include "journal.h"
#include "safefile.h"
#include "sbuf.h"

#define GPOTOOL_VERSION "0.1.0"

static char *quote_command_line(int argc, char **argv)
{
	struct sbuf sb;

	sbuf_init(&sb);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (i)
			sbuf_addch(&sb, ' ');
		if (*a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == strlen(a)) {
			sbuf_addstr(&sb, a);
			continue;
		}
		sbuf_addch(&sb, '\'');
		for (; *a; a++) {
			if (*a == '\'')
				sbuf_addstr(&sb, "'\\''");
			else
				sbuf_addch(&sb, *a);
		}
		sbuf_addch(&sb, '\'');
	}
	return sbuf_detach(&sb, NULL);
}

/* Today as UTC midnight: the default --as-of. */
static long long today(void)
{
	time_t now = time(NULL);

	return (long long)(now - now % 86400);
}

/* Global options come before the command: --state-dir DIR, --json, --operator, --ticket. */
static int parse_globals(struct gt_ctx *ctx, int argc, char **argv, int *first, struct gt_error *e)
{
	static const char *const with_value[] = { "--state-dir", "--operator", "--ticket", "--as-of", "--audit-log", NULL };
	int i = 1;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *arg = argv[i], *value = NULL;
		size_t len = strcspn(arg, "=");
		int known = 0;

		if (strcmp(arg, "--json") == 0) {
			ctx->json = 1;
			continue;
		}
		if (strcmp(arg, "--strict") == 0) {
			ctx->strict = 1;
			continue;
		}
		if (strcmp(arg, "--syslog") == 0) {
			ctx->use_syslog = 1;
			continue;
		}
		if (strcmp(arg, "--allow-shared-dir") == 0) {
			ctx->allow_shared_dir = 1;
			safefile_allow_shared_dirs(1);
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "--version") == 0)
			break;
		for (int k = 0; with_value[k]; k++) {
			if (strlen(with_value[k]) != len || strncmp(arg, with_value[k], len) != 0)
				continue;
			known = 1;
			value = arg[len] == '=' ? arg + len + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!value || !*value)
				return gt_fail(e, GT_USAGE, "option '%.*s' needs a value", (int)len, arg);
			if (k == 0)
				ctx->state_dir_opt = value;
			else if (k == 1)
				ctx->operator_name = value;
			else if (k == 2)
				ctx->ticket = value;
			else if (k == 4)
				ctx->audit_copy = value;
			else if (parse_utc_day(value, &ctx->as_of) < 0)
				return gt_fail(e, GT_USAGE, "--as-of takes a date YYYY-MM-DD, not '%s'", value);
		}
		if (!known)
			return gt_fail(e, GT_USAGE, "unknown global option '%.*s' (global options go before the command)", (int)len, arg);
	}
	*first = i;
	return 0;
}

static int report(struct gt_ctx *ctx, int code, const struct gt_error *e)
{
	if (code != GT_OK && e->code != GT_OK)
		fprintf(stderr, "gpotool: %s\n", e->msg);
	if (ctx->json) {
		json_object_object_add(ctx->result, "exit", json_object_new_int(code));
		json_object_object_add(ctx->result, "ok", json_object_new_boolean(code == GT_OK));
		if (e->code != GT_OK)
			json_object_object_add(ctx->result, "error", json_object_new_string(e->msg));
		puts(json_object_to_json_string_ext(ctx->result, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gpotool: unable to write the output\n");
		return code == GT_OK ? GT_FAILED : code;
	}
	return code;
}

/* Where a writing command's audit record goes: STATE/audit.log, --audit-log FILE, syslog. */
struct audit_sinks {
	struct audit_log log, copy;
};

/* Opened before the command runs: a trail that cannot be written stops it before any change. */
static int audit_sinks_open(const struct gt_ctx *ctx, struct audit_sinks *s, struct gt_error *e)
{
	const char *state = ctx_state_dir(ctx);
	struct sbuf path;
	int ret;

	sbuf_init(&path);
	sbuf_addf(&path, "%s/audit.log", state);
	ret = state_dir_prepare(state, e) < 0 || audit_open(path.buf, &s->log, e) < 0 ? -1 : 0;
	if (ret == 0 && ctx->audit_copy && audit_open(ctx->audit_copy, &s->copy, e) < 0)
		ret = -1;
	sbuf_release(&path);
	if (ret < 0)
		gt_prefix(e, "nothing changed: ");
	return ret;
}

static void audit_sinks_write(struct gt_ctx *ctx, struct audit_sinks *s, const char *command, int code,
			      const struct gt_error *err)
{
	struct json_object *rec = audit_record(ctx, command, code, err);
	struct gt_error e = { 0 };
	char *line = NULL;

	audit_append(&s->log, &s->copy, rec, &line, &e);
	if (line && ctx->use_syslog) {
		openlog("gpotool", LOG_PID, LOG_AUTHPRIV);
		syslog(LOG_NOTICE, "%s", line);
		closelog();
	}
	if (e.code != GT_OK) {
		struct gt_error ignored = { 0 };

		/* the journal keeps the gap on record, so audit verify can tell it from a deletion */
		if (ctx->journal_id)
			journal_annotate(ctx_state_dir(ctx), ctx->journal_id, "audit_error", e.msg, &ignored);
		out_warn("the audit record was not written: %s", e.msg);
		json_object_object_add(ctx->result, "audit_error", json_object_new_string(e.msg));
	}
	json_object_put(rec);
	free(line);
}

static void audit_sinks_close(struct audit_sinks *s)
{
	audit_close(&s->log);
	audit_close(&s->copy);
}

static int run(struct gt_ctx *ctx, int argc, char **argv, const struct cmd_entry **ran, struct audit_sinks *sinks,
	       struct gt_error *e)
{
	const struct cmd_entry *entry;
	struct cmd_args args;
	int first = 0, used = 0, code;

	if (parse_globals(ctx, argc, argv, &first, e) < 0)
		return -1;
	if (first >= argc || strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "help") == 0) {
		cmd_print_usage(first >= argc ? stderr : stdout);
		return first >= argc ? gt_fail(e, GT_USAGE, "no command given") : GT_OK;
	}
	if (strcmp(argv[first], "--version") == 0 || strcmp(argv[first], "version") == 0) {
		printf("gpotool %s\n", GPOTOOL_VERSION);
		return GT_OK;
	}
	entry = cmd_find(argc - first, argv + first, &used);
	if (!entry)
		return gt_fail(e, GT_USAGE, "unknown command '%s%s%s' (see 'gpotool --help')", argv[first],
			       first + 1 < argc ? " " : "", first + 1 < argc ? argv[first + 1] : "");
	if (entry->audited) {
		if (audit_sinks_open(ctx, sinks, e) < 0)
			return -1;
		*ran = entry;
	}
	if (cmd_parse(entry, argc - first - used, argv + first + used, &args, e) < 0)
		return -1;
	json_object_object_add(ctx->result, "command", json_object_new_string(entry->name));
	code = entry->exec(ctx, &args, e);
	return code;
}

int main(int argc, char **argv)
{
	struct audit_sinks sinks = { .log.fd = -1, .copy.fd = -1 };
	const struct cmd_entry *audited = NULL;
	struct gt_ctx ctx = { 0 };
	struct gt_error e = { 0 };
	char **args = xcalloc((size_t)argc + 1, sizeof(*args));
	int code;

	memcpy(args, argv, (size_t)argc * sizeof(*args));
	/* only character classes: registry names compare case-insensitively over all of Unicode */
	setlocale(LC_CTYPE, "C.UTF-8");
	ctx.command_line = quote_command_line(argc, argv);
	ctx.result = json_object_new_object();
	ctx.as_of = today();
	code = run(&ctx, argc, args, &audited, &sinks, &e);
	if (code < 0)
		code = e.code != GT_OK ? e.code : GT_FAILED;
	if (audited)
		audit_sinks_write(&ctx, &sinks, audited->name, code, &e);
	audit_sinks_close(&sinks);
	code = report(&ctx, code, &e);
	json_object_put(ctx.result);
	free(ctx.command_line);
	free(ctx.journal_id);
	free(ctx.target);
	free(args);
	return code;
}
