/* gpotool audit show [--since DATE] [--ticket ID] [--log FILE]: the audit trail, one block per
 * command that wrote or refused to write: when, who, the ticket, what happened and to what. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "state/audit.h"
#include "cmd/cmd.h"
#include "state/journal.h"
#include "core/textesc.h"

struct show_filter {
	struct gt_ctx *ctx;
	const char *since;   /* "YYYY-MM-DD": records from that day on */
	const char *ticket;
	struct json_object *out;
	size_t shown, unreadable;
};

/* Every field is shown escaped: a record's text came from the command line and from file
 * names, and must not forge a line or reach the terminal as a control sequence. */
static const char *or_dash(const char *s)
{
	return s ? esc(s) : "-";
}

static void show_changes(struct gt_ctx *ctx, struct json_object *changes)
{
	if (!json_object_is_type(changes, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(changes); i++) {
		struct json_object *c = json_object_array_get_idx(changes, i);
		const char *old = jsonx_str(json_object_object_get(c, "old"), "text");
		const char *nv = jsonx_str(json_object_object_get(c, "new"), "text");

		out_text(ctx, "    %-12s %s", or_dash(jsonx_str(c, "action")), or_dash(jsonx_str(c, "path")));
		if (json_object_object_get_ex(c, "old", NULL))
			out_text(ctx, ": %s -> %s", old ? esc(old) : "(absent)", nv ? esc(nv) : "(absent)");
		out_text(ctx, "\n");
	}
}

static int show_one(struct json_object *rec, size_t lineno, const char *line, size_t len, void *arg)
{
	struct show_filter *f = arg;
	const char *time = jsonx_str(rec, "time"), *ticket = jsonx_str(rec, "ticket");
	struct json_object *late = json_object_object_get(rec, "recorded_late");

	(void)line;
	(void)len;
	if (!rec) {
		f->unreadable++;
		out_warn("audit log line %zu is not a record; 'gpotool audit verify' says more", lineno);
		return 0;
	}
	if ((f->since && (!time || strcmp(time, f->since) < 0)) || (f->ticket && (!ticket || strcmp(ticket, f->ticket) != 0)))
		return 0;
	out_text(f->ctx, "#%lld %s %s%s%s: %s -> %s ", (long long)json_object_get_int64(json_object_object_get(rec, "seq")),
		 or_dash(time), or_dash(jsonx_str(rec, "operator")), ticket ? ", ticket " : "", ticket ? esc(ticket) : "",
		 or_dash(jsonx_str(rec, "command")), or_dash(jsonx_str(rec, "result")));
	if (late)
		out_text(f->ctx, "(recorded late)\n");
	else
		out_text(f->ctx, "(exit %d)\n", json_object_get_int(json_object_object_get(rec, "exit")));
	out_text(f->ctx, "    target       %s\n", or_dash(jsonx_str(rec, "target")));
	if (jsonx_str(rec, "template"))
		out_text(f->ctx, "    template     %s\n", esc(jsonx_str(rec, "template")));
	if (jsonx_str(rec, "error"))
		out_text(f->ctx, "    error        %s\n", esc(jsonx_str(rec, "error")));
	show_changes(f->ctx, json_object_object_get(rec, "changes"));
	if (jsonx_str(rec, "rollback_of"))
		out_text(f->ctx, "    rollback of  %s\n", esc(jsonx_str(rec, "rollback_of")));
	if (jsonx_str(rec, "journal"))
		out_text(f->ctx, "    journal      %s\n", esc(jsonx_str(rec, "journal")));
	if (json_object_object_get(rec, "torn_tail_removed")) {
		struct json_object *t = json_object_object_get(rec, "torn_tail_removed");

		out_text(f->ctx, "    torn tail    %lld bytes cut off the log before this record (SHA-256 %s)\n",
			 (long long)json_object_get_int64(json_object_object_get(t, "bytes")), or_dash(jsonx_str(t, "sha256")));
	}
	if (late)
		out_text(f->ctx, "    late         %s; written by %s\n", or_dash(jsonx_str(late, "reason")),
			 or_dash(jsonx_str(late, "written_by")));
	json_object_array_add(f->out, json_object_get(rec));
	f->shown++;
	return 0;
}

static int exec_audit_show(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct show_filter f = { .ctx = ctx, .ticket = cmd_opt(&cmd_audit_show_entry, a, "ticket") };
	const char *since = cmd_opt(&cmd_audit_show_entry, a, "since"), *log = cmd_opt(&cmd_audit_show_entry, a, "log");
	struct sbuf path;
	long long day;
	int r;

	if (since && parse_utc_day(since, &day) < 0)
		return gt_fail(e, GT_USAGE, "--since takes a date YYYY-MM-DD, not '%s'", since);
	f.since = since;
	f.out = json_object_new_array();
	json_object_object_add(ctx->result, "records", f.out);
	sbuf_init(&path);
	if (log)
		sbuf_addstr(&path, log);
	else
		sbuf_addf(&path, "%s/audit.log", ctx_state_dir(ctx));
	r = audit_each(path.buf, show_one, &f, e);
	if (r == 0 && f.shown == 0)
		out_text(ctx, "no audit records%s in '%s'\n", since || f.ticket ? " match" : "", esc(path.buf));
	sbuf_release(&path);
	return r < 0 ? -1 : GT_OK;
}

const struct cmd_entry cmd_audit_show_entry = {
	.name = "audit show",
	.args_usage = "[--since YYYY-MM-DD] [--ticket ID] [--log FILE]",
	.summary = "show the audit trail: who changed what, when, under which ticket",
	.options = { "since=", "ticket=", "log=", NULL },
	.min_args = 0,
	.max_args = 0,
	.exec = exec_audit_show,
};
