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

#include "state/audit.h"
#include "cmd/cmd.h"
#include "run/domain.h"
#include "run/audit-record.h"
#include "core/error.h"
#include "core/fault.h"
#include "state/journal.h"
#include "core/safefile.h"
#include "core/sbuf.h"
#include "core/textesc.h"
#include "state/statedir.h"

#define GPOTOOL_VERSION "0.1.0"

/* The command line as a shell would take it back; control characters and bytes that are
 * not UTF-8 as $'\xNN', so what the journal and audit trail store is printable UTF-8. */
static char *quote_command_line(int argc, char **argv)
{
	struct sbuf sb;

	sbuf_init(&sb);
	for (int i = 0; i < argc; i++) {
		if (i)
			sbuf_addch(&sb, ' ');
		shell_quote(&sb, argv[i]);
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
			/* who and why end up in every record: one line of valid UTF-8, nothing else */
			if ((k == 1 || k == 2) && !text_is_clean(value))
				return gt_fail(e, GT_USAGE, "%.*s '%s' holds a control character or bytes that are not UTF-8; "
					       "give plain text", (int)len, arg, esc(value));
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
	/* an error is one line, whatever file name or argument it quotes */
	if (code != GT_OK && e->code != GT_OK)
		fprintf(stderr, "gpotool: %s\n", esc(e->msg));
	if (ctx->json) {
		json_object_object_add(ctx->result, "exit", json_object_new_int(code));
		json_object_object_add(ctx->result, "ok", json_object_new_boolean(code == GT_OK));
		if (e->code != GT_OK)
			json_object_object_add(ctx->result, "error", json_object_new_string(e->msg));
		json_utf8_repair(ctx->result);
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
	ret = statedir_prepare(state, e) < 0 || audit_open(path.buf, &s->log, e) < 0 ? -1 : 0;
	if (ret == 0 && ctx->audit_copy && audit_open(ctx->audit_copy, &s->copy, e) < 0)
		ret = -1;
	sbuf_release(&path);
	if (ret < 0)
		gt_prefix(e, "nothing changed: ");
	return ret;
}

/* One record to every sink: the trail (and its head file), the copy, syslog. Returns the
 * outcome's parts through out. */
static int sink_append(struct gt_ctx *ctx, struct audit_sinks *s, struct json_object *rec, struct audit_outcome *out)
{
	char *line = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = audit_append(&s->log, &s->copy, rec, &line, out);
	if (line && ctx->use_syslog) {
		openlog("gpotool", LOG_PID, LOG_AUTHPRIV);
		syslog(LOG_NOTICE, "%s", line);
		closelog();
	}
	if (r == 0 && out->head.code != GT_OK)
		out_warn("the audit record is in the trail, but its head file was not updated (%s); audit verify accepts a head "
			 "that lags, and the next record updates it", out->head.msg);
	free(line);
	return r;
}

/* The records the journal is owed (writes that recovery finished or undid, and writes whose
 * writer was killed before its record), appended before this command's own: they tell of
 * earlier events. Each is flagged "recorded_late"; one already in the trail (its mark was
 * lost) is only marked. */
static void audit_catch_up(struct gt_ctx *ctx, struct audit_sinks *s)
{
	const char *state = ctx_state_dir(ctx);
	struct gt_error ignored = { 0 };
	char **ids = NULL, **named = NULL;
	size_t n = 0, nnamed = 0;

	if (journal_unaudited(state, &ids, &n, &ignored) < 0 || n == 0 ||
	    audit_journal_ids(s->log.path, &named, &nnamed, &ignored) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct audit_outcome o;
		struct journal_entry *j;
		struct json_object *rec;

		if (audit_names(named, nnamed, ids[i])) {
			journal_mark_audited(state, ids[i], &ignored);
			continue;
		}
		if (journal_load(state, ids[i], &j, &ignored) < 0)
			continue;
		rec = audit_record_late(ctx, journal_doc(j));
		journal_free(j);
		if (sink_append(ctx, s, rec, &o) == 0) {
			journal_mark_audited(state, ids[i], &ignored);
			out_warn("journal entry %s had no audit record (%s): appended it now, flagged as recorded late", ids[i],
				 jsonx_str(json_object_object_get(rec, "recorded_late"), "reason"));
			if (o.copy.code != GT_OK)
				out_warn("the audit copy '%s' lacks that record: %s", s->copy.path, o.copy.msg);
		}
		json_object_put(rec);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	for (size_t i = 0; i < nnamed; i++)
		free(named[i]);
	free(named);
}

/* This command's record. A failure to append it after a change is a warning (the journal
 * notes the gap, so audit verify tells it from a deletion); the copy lacking it is an error:
 * exit 4, saying that the change landed. Returns the exit code. */
static int audit_sinks_write(struct gt_ctx *ctx, struct audit_sinks *s, const char *command, int code, struct gt_error *err)
{
	struct json_object *rec;
	struct audit_outcome o;

	audit_catch_up(ctx, s);
	rec = audit_record(ctx, command, code, err);
	fault_point(FAULT_AUDIT_BEFORE_APPEND);
	if (sink_append(ctx, s, rec, &o) < 0) {
		struct gt_error ignored = { 0 };

		/* the journal keeps the gap on record, so audit verify can tell it from a deletion */
		if (ctx->journal_id)
			journal_annotate(ctx_state_dir(ctx), ctx->journal_id, "audit_error", o.log.msg, &ignored);
		out_warn("the audit record was not written: %s", o.log.msg);
		json_object_object_add(ctx->result, "audit_error", json_object_new_string(o.log.msg));
	} else {
		struct gt_error ignored = { 0 };

		fault_point(FAULT_AUDIT_AFTER_APPEND);
		if (ctx->journal_id)
			journal_mark_audited(ctx_state_dir(ctx), ctx->journal_id, &ignored);
	}
	json_object_put(rec);
	if (o.copy.code == GT_OK)
		return code;
	json_object_object_add(ctx->result, "audit_copy_error", json_object_new_string(o.copy.msg));
	if (code != GT_OK) {
		out_warn("the audit copy '%s' lacks this command's record: %s", s->copy.path, o.copy.msg);
		return code;
	}
	gt_error_clear(err);
	if (ctx->journal_id)
		gt_fail(err, GT_FAILED, "the change is in place (journal entry %s) and recorded in '%s', but the audit copy '%s' "
			"lacks its record: %s", ctx->journal_id, s->log.path, s->copy.path, o.copy.msg);
	else
		gt_fail(err, GT_FAILED, "recorded in '%s', but the audit copy '%s' lacks the record: %s", s->log.path,
			s->copy.path, o.copy.msg);
	return GT_FAILED;
}

static void audit_sinks_close(struct audit_sinks *s)
{
	audit_close(&s->log);
	audit_close(&s->copy);
}

/* An unknown command, with the one it was probably meant to be; never run in its place. */
static int unknown_command(int argc, char **argv, struct gt_error *e)
{
	const char *guess = cmd_suggest(argc, argv);
	int group = cmd_is_group(argv[0]);

	if (guess)
		return gt_fail(e, GT_USAGE, "unknown command '%s%s%s' (did you mean '%s'? see 'gpotool help %s')", argv[0],
			       argc > 1 && group ? " " : "", argc > 1 && group ? argv[1] : "", guess, guess);
	return gt_fail(e, GT_USAGE, "unknown command '%s%s%s' (see 'gpotool --help'%s%s%s)", argv[0], argc > 1 && group ? " " : "",
		       argc > 1 && group ? argv[1] : "", group ? " or 'gpotool help " : "", group ? argv[0] : "", group ? "'" : "");
}

/* gpotool help [COMMAND...]: the command's help, a group's list, or the global usage. */
static int help(int argc, char **argv, struct gt_error *e)
{
	const struct cmd_entry *entry;
	int used = 0;

	entry = cmd_find(argc, argv, &used);
	if (entry && used == argc) {
		cmd_print_help(stdout, entry);
		return GT_OK;
	}
	if (argc == 1 && cmd_is_group(argv[0])) {
		cmd_print_group(stdout, argv[0]);
		return GT_OK;
	}
	if (entry)
		return gt_fail(e, GT_USAGE, "'gpotool help' takes a command name only, as in 'gpotool help %s'", entry->name);
	return unknown_command(argc, argv, e);
}

static int run(struct gt_ctx *ctx, int argc, char **argv, const struct cmd_entry **ran, struct audit_sinks *sinks,
	       struct gt_error *e)
{
	const struct cmd_entry *entry;
	struct cmd_args args;
	int first = 0, used = 0, code;

	if (parse_globals(ctx, argc, argv, &first, e) < 0)
		return -1;
	if (first >= argc || strcmp(argv[first], "--help") == 0 || (strcmp(argv[first], "help") == 0 && first + 1 >= argc)) {
		cmd_print_usage(first >= argc ? stderr : stdout);
		return first >= argc ? gt_fail(e, GT_USAGE, "no command given") : GT_OK;
	}
	if (strcmp(argv[first], "help") == 0)
		return help(argc - first - 1, argv + first + 1, e);
	if (strcmp(argv[first], "--version") == 0 || strcmp(argv[first], "version") == 0) {
		printf("gpotool %s\n", GPOTOOL_VERSION);
		return GT_OK;
	}
	entry = cmd_find(argc - first, argv + first, &used);
	/* "gpotool hive" and "gpotool hive --help": what "hive" holds */
	if (!entry && cmd_is_group(argv[first]) && (first + 1 >= argc || strcmp(argv[first + 1], "--help") == 0)) {
		cmd_print_group(stdout, argv[first]);
		return GT_OK;
	}
	if (!entry)
		return unknown_command(argc - first, argv + first, e);
	/* help is never a run of the command: no audit record, nothing opened */
	if (cmd_wants_help(argc - first - used, argv + first + used)) {
		cmd_print_help(stdout, entry);
		return GT_OK;
	}
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

/* A misspelt fault point (tests only) would interrupt nothing, silently: say so. */
static void note_unknown_fault(void)
{
	const char *want = getenv("GPOTOOL_FAULT");

	if (want && *want && !fault_value_known(want))
		out_note("GPOTOOL_FAULT='%s' names no fault point (see gpotool/core/fault.c); nothing is interrupted or damaged",
			 want);
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
	note_unknown_fault();
	ctx.command_line = quote_command_line(argc, argv);
	ctx.result = json_object_new_object();
	ctx.as_of = today();
	code = run(&ctx, argc, args, &audited, &sinks, &e);
	if (code < 0)
		code = e.code != GT_OK ? e.code : GT_FAILED;
	if (audited)
		code = audit_sinks_write(&ctx, &sinks, audited->name, code, &e);
	audit_sinks_close(&sinks);
	journal_writer_done();
	code = report(&ctx, code, &e);
	json_object_put(ctx.result);
	run_domain_release(&ctx);
	free(ctx.command_line);
	free(ctx.journal_id);
	free(ctx.target);
	free(args);
	return code;
}
