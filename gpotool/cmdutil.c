/* Shared command plumbing; see cmdutil.h. */
#include "cmdutil.h"

#include <json-c/json.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advisory.h"
#include "sbuf.h"

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
	m->command_line = ctx->command_line;
	m->operator_name = ctx_operator(ctx);
	m->ticket = ctx->ticket;
	m->template_name = NULL;
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

void out_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("gpotool: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int open_hive_for(const struct cmd_entry *entry, const struct cmd_args *a, const char *path, int write,
		  struct hivetx *tx, struct gt_error *e)
{
	if (hivetx_open(tx, path, write, cmd_opt(entry, a, "kind"), e) < 0)
		return -1;
	if (tx->dirty)
		out_warn("'%s' is dirty (sequence numbers %u != %u): its .LOG1/.LOG2 files hold newer data, so what is read here may be stale",
			 path, tx->hdr.seq1, tx->hdr.seq2);
	return 0;
}

int commit_and_report(struct gt_ctx *ctx, struct hivetx *tx, struct gt_error *e)
{
	struct json_object *jwarn;
	struct journal_meta meta;
	struct sbuf line;

	ctx_journal_meta(ctx, &meta);
	if (hivetx_commit(tx, ctx_state_dir(ctx), &meta, e) < 0)
		return -1;
	json_object_object_add(ctx->result, "target", json_object_new_string(tx->file.path));
	json_object_object_add(ctx->result, "changed", json_object_new_boolean(tx->plan.n > 0));
	json_object_object_add(ctx->result, "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
	json_object_object_add(ctx->result, "journal", tx->journal_id ? json_object_new_string(tx->journal_id) : NULL);
	if (tx->plan.n == 0) {
		out_text(ctx, "no change: '%s' already holds this\n", tx->file.path);
		return GT_OK;
	}
	sbuf_init(&line);
	for (size_t i = 0; i < tx->plan.n; i++) {
		sbuf_reset(&line);
		change_describe(&tx->plan.v[i], hivetx_prefix(tx), &line);
		out_text(ctx, "%s\n", line.buf);
	}
	sbuf_reset(&line);
	jwarn = json_object_new_array();
	if (advisory_check(&tx->plan, time(NULL), &line, jwarn) > 0) {
		for (char *p = line.buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
			*nl = '\0';
			out_warn("%s", p);
		}
	}
	json_object_object_add(ctx->result, "advisories", jwarn);
	sbuf_release(&line);
	out_text(ctx, "verified: libregf reads back %zu change%s in '%s'\n", tx->plan.n, tx->plan.n == 1 ? "" : "s",
		 tx->file.path);
	if (tx->warning) {
		out_warn("%s", tx->warning);
		json_object_object_add(ctx->result, "warning", json_object_new_string(tx->warning));
	}
	out_text(ctx, "journal: %s\n", tx->journal_id);
	return GT_OK;
}
