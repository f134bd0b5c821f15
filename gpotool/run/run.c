/* The run: its context, its output and the environment its targets get; see run.h. */
#include "run/run.h"

#include <json-c/json.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sbuf.h"
#include "core/textesc.h"
#include "run/rules.h"

const char *ctx_state_dir(const struct gt_ctx *ctx)
{
	static char buf[4096];
	const char *env = getenv("GPOTOOL_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (ctx->state_dir_opt)
		return ctx->state_dir_opt;
	if (env && *env)
		return env;
	if (geteuid() == 0)
		return "/var/lib/gpotool";
	if (xdg && *xdg == '/')
		snprintf(buf, sizeof(buf), "%s/gpotool", xdg);
	else
		snprintf(buf, sizeof(buf), "%s/.local/state/gpotool", home && *home ? home : "/tmp");
	return buf;
}

const char *ctx_operator(const struct gt_ctx *ctx)
{
	static char buf[256];
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (ctx->operator_name)
		return ctx->operator_name;
	if (sudo && *sudo)
		return sudo;
	pw = getpwuid(geteuid());
	snprintf(buf, sizeof(buf), "%s", pw ? pw->pw_name : "uid-unknown");
	if (!pw)
		snprintf(buf, sizeof(buf), "uid-%u", (unsigned)geteuid());
	return buf;
}

void ctx_journal_meta(const struct gt_ctx *ctx, struct journal_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->command_line = ctx->command_line;
	m->command_name = json_object_get_string(json_object_object_get(ctx->result, "command"));
	m->operator_name = ctx_operator(ctx);
	m->ticket = ctx->ticket;
	m->template_name = ctx->template_name;
	m->rollback_of = ctx->rollback_of;
}

int parse_utc_day(const char *text, long long *out)
{
	struct tm tm = { 0 };
	char tail;

	if (strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tail) != 3 ||
	    tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970)
		return -1;
	{
		struct tm back;
		int want_mday = tm.tm_mday, want_mon = tm.tm_mon - 1;
		time_t t;

		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		t = timegm(&tm); /* normalises tm in place: compare with the day asked for */
		/* 2025-02-30 normalises to March 2: a day that does not exist is refused */
		if (!gmtime_r(&t, &back) || back.tm_mday != want_mday || back.tm_mon != want_mon)
			return -1;
		*out = (long long)t;
	}
	return 0;
}

void ctx_set_target(struct gt_ctx *ctx, const char *path)
{
	free(ctx->target);
	ctx->target = xstrdup(path);
}

void out_text(const struct gt_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* A warning or note may quote a file name or an operator: its control characters are escaped
 * (the line ends gpotool writes itself stay). */
__attribute__((format(printf, 2, 0)))
static void out_diagnostic(const char *label, const char *fmt, va_list ap)
{
	struct sbuf sb;
	char *text = NULL;
	int n = vasprintf(&text, fmt, ap);

	sbuf_init(&sb);
	text_escape(&sb, n >= 0 ? text : fmt, 1);
	fprintf(stderr, "gpotool: %s: %s\n", label, sb.buf);
	sbuf_release(&sb);
	free(n >= 0 ? text : NULL);
}

void out_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_diagnostic("note", fmt, ap);
	va_end(ap);
}

void out_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_diagnostic("warning", fmt, ap);
	va_end(ap);
}

void ctx_recovery(const struct gt_ctx *ctx, struct journal_recovery *how)
{
	memset(how, 0, sizeof(*how));
	how->command_line = ctx->command_line;
	how->operator_name = ctx_operator(ctx);
	how->ticket = ctx->ticket;
	how->check_copy = target_check_saved_copy;
}

static void emit(void *arg, enum report_kind kind, const char *text)
{
	if (kind == REPORT_TEXT)
		out_text(arg, "%s", text);
	else if (kind == REPORT_NOTE)
		out_note("%s", text);
	else
		out_warn("%s", text);
}

struct report run_report(struct gt_ctx *ctx)
{
	return (struct report){ .emit = emit, .arg = ctx, .result = ctx->result };
}

static int judge(void *arg, const struct plan *p, const char *key_prefix, const char *subject, struct gt_error *e)
{
	struct gt_ctx *ctx = arg;

	ctx->rollback_new_data |= ctx->env.rollback_new_data;
	return apply_value_rules(ctx, p, key_prefix, subject, e);
}

static void writing(void *arg, const char *path)
{
	ctx_set_target(arg, path);
}

static void journaled(void *arg, const char *id)
{
	struct gt_ctx *ctx = arg;

	free(ctx->journal_id);
	ctx->journal_id = xstrdup(id);
}

struct target_env *run_target_env(struct gt_ctx *ctx)
{
	struct target_env *env = &ctx->env;

	*env = (struct target_env){
		.state_dir = ctx_state_dir(ctx), .rep = run_report(ctx), .judge = judge, .arg = ctx, .writing = writing,
		.journaled = journaled, .defer_journal_line = ctx->defer_journal_line, .conn = ctx->conn,
		.hive_logs = ctx->hive_logs,
	};
	ctx_journal_meta(ctx, &env->meta);
	ctx_recovery(ctx, &env->recovery);
	return env;
}

int run_target_open(struct gt_ctx *ctx, struct target *t, const struct target_ops *ops, const struct target_request *rq,
		    struct gt_error *e)
{
	return target_open(t, ops, run_target_env(ctx), rq, e);
}
