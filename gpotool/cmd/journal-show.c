/* gpotool journal show ID: one write in full: who, when, under which ticket, each file with
 * its SHA-256 before and after and where it stands now, and every change it made. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "state/journal.h"
#include "state/plan.h"
#include "core/textesc.h"

static void show_field(struct gt_ctx *ctx, struct json_object *doc, const char *label, const char *key)
{
	const char *v = jsonx_str(doc, key);

	if (v)
		out_text(ctx, "%-10s %s\n", label, esc(v));
}

static void show_changes(struct gt_ctx *ctx, struct json_object *t)
{
	const char *prefix = jsonx_str(t, "key_prefix");
	struct gt_error ignored = { 0 };
	struct sbuf line;
	struct plan p;

	if (!json_object_object_get(t, "changes"))
		return;
	if (plan_from_json(json_object_object_get(t, "changes"), &p, &ignored) < 0) {
		out_text(ctx, "  changes:  unreadable (%s)\n", esc(ignored.msg));
		return;
	}
	sbuf_init(&line);
	for (size_t i = 0; i < p.n; i++) {
		sbuf_reset(&line);
		change_describe(&p.v[i], prefix ? prefix : "", &line);
		out_text(ctx, "  %s\n", esc(line.buf));
	}
	sbuf_release(&line);
	plan_release(&p);
}

/* The target and the kind that wrote it (the table's name for it: rollback reopens it so). */
static void show_target(struct gt_ctx *ctx, struct json_object *doc)
{
	struct json_object *t = json_object_object_get(doc, "target");
	const struct target_ops *kind = target_kind_of_record(t);
	const char *side = jsonx_str(t, "side"), *container = jsonx_str(t, "container");
	struct sbuf how;

	if (!jsonx_str(t, "path"))
		return;
	sbuf_init(&how);
	sbuf_addstr(&how, kind ? target_kind_name(kind) : "unknown kind");
	if (side)
		sbuf_addf(&how, ", %s side", side);
	if (container)
		sbuf_addf(&how, ", in %s", container);
	out_text(ctx, "target     %s (%s)\n", esc(jsonx_str(t, "path")), esc(how.buf));
	sbuf_release(&how);
}

static const char *str_or(struct json_object *o, const char *key, const char *none)
{
	const char *v = jsonx_str(o, key);

	return v ? esc(v) : none;
}

/* A write to a domain: the DC, the GPO and each AD value before and after (the entry's
 * target "extra"). */
static void show_domain(const struct gt_ctx *ctx, struct json_object *doc)
{
	struct json_object *x = json_object_object_get(json_object_object_get(doc, "target"), "extra");
	struct json_object *gpo = json_object_object_get(x, "gpo"), *link = json_object_object_get(x, "link");

	if (!x || !json_object_object_get(x, "dc"))
		return;
	out_text(ctx, "dc         %s in %s\n", str_or(x, "dc", "?"), str_or(x, "domain", "?"));
	out_text(ctx, "gpo        %s (%s)\n", str_or(gpo, "dn", "?"), str_or(gpo, "name", ""));
	json_object_object_foreach(json_object_object_get(x, "attributes"), name, ba)
		out_text(ctx, "ad         %s: %s -> %s\n", name, str_or(ba, "before", "(none)"), str_or(ba, "after", "(none)"));
	if (link)
		out_text(ctx, "link       %s: %s\n", str_or(link, "ou", "?"),
			 json_object_get_boolean(json_object_object_get(link, "created")) ? "made by this entry"
			 : json_object_get_boolean(json_object_object_get(link, "removed")) ? "removed by this entry" : "as it was");
}

/* A write to a dirty hive: which logs were replayed into it (the entry's target "extra"). */
static void show_hive_logs(const struct gt_ctx *ctx, struct json_object *doc)
{
	struct json_object *x = json_object_object_get(json_object_object_get(json_object_object_get(doc, "target"), "extra"),
						       "transaction_logs");
	struct json_object *applied = json_object_object_get(x, "applied");
	struct sbuf names;

	if (!x)
		return;
	if (!json_object_get_boolean(json_object_object_get(x, "replayed"))) {
		out_text(ctx, "logs       not replayed: the stale primary was edited (--ignore-logs)\n");
		return;
	}
	sbuf_init(&names);
	for (size_t i = 0; i < json_object_array_length(applied); i++)
		sbuf_addf(&names, "%s%s", i ? ", " : "", esc(json_object_get_string(json_object_array_get_idx(applied, i))));
	out_text(ctx, "logs       replayed %s (%s format, %lld entries) before the change; kept as they were\n", names.buf,
		 str_or(x, "format", "?"), (long long)json_object_get_int64(json_object_object_get(x, "entries")));
	sbuf_release(&names);
}

static int exec_journal_show(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct json_object *doc, *targets, *now = json_object_new_array();
	struct journal_entry *j;

	if (journal_load(ctx_state_dir(ctx), a->argv[0], &j, e) < 0) {
		json_object_put(now);
		return -1;
	}
	doc = journal_doc(j);
	json_object_object_add(ctx->result, "entry", json_object_get(doc));
	out_text(ctx, "entry      %s\n", a->argv[0]);
	show_field(ctx, doc, "status", "status");
	show_field(ctx, doc, "started", "started");
	show_field(ctx, doc, "finished", "finished");
	show_field(ctx, doc, "operator", "operator");
	show_field(ctx, doc, "ticket", "ticket");
	show_field(ctx, doc, "template", "template");
	show_field(ctx, doc, "command", "command");
	show_field(ctx, doc, "rollback of", "rollback_of");
	show_field(ctx, doc, "reason", "reason");
	show_field(ctx, doc, "recovered", "recovered");
	if (json_object_object_get(doc, "recovered_by"))
		show_field(ctx, json_object_object_get(doc, "recovered_by"), "by", "command");
	if (json_object_object_get(doc, "abandoned_by")) {
		show_field(ctx, json_object_object_get(doc, "abandoned_by"), "abandoned", "command");
		show_field(ctx, json_object_object_get(doc, "abandoned_by"), "by", "operator");
	}
	show_target(ctx, doc);
	show_domain(ctx, doc);
	show_hive_logs(ctx, doc);
	targets = json_object_object_get(doc, "targets");
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);
		char cur[SHA256_HEX_LEN + 1];
		enum journal_file_state st = journal_file_state(t, cur);
		const char *after = jsonx_str(t, "sha256_after");

		out_text(ctx, "file       %s (%s%s%s)\n", jsonx_str(t, "path") ? esc(jsonx_str(t, "path")) : "?",
			 jsonx_str(t, "kind") ? esc(jsonx_str(t, "kind")) : "?", jsonx_str(t, "detail") ? ", " : "",
			 jsonx_str(t, "detail") ? esc(jsonx_str(t, "detail")) : "");
		out_text(ctx, "  before:   %s\n", json_object_get_boolean(json_object_object_get(t, "existed")) ?
			 esc(jsonx_str(t, "sha256_before")) : "(absent)");
		out_text(ctx, "  after:    %s\n", after && *after ? esc(after) : "(absent)");
		if (st == JFILE_REMOTE)
			out_text(ctx, "  now:      %s\n", journal_file_state_text(st));
		else
			out_text(ctx, "  now:      %s (%s)\n", cur[0] ? cur : "(absent)", journal_file_state_text(st));
		json_object_array_add(now, json_object_new_string(journal_file_state_text(st)));
		show_changes(ctx, t);
	}
	json_object_object_add(ctx->result, "now", now);
	journal_free(j);
	return GT_OK;
}

const struct cmd_entry cmd_journal_show_entry = {
	.name = "journal show",
	.args_usage = "ID",
	.summary = "show one journal entry: files with hashes then and now, and each change",
	.options = { NULL },
	.min_args = 1,
	.max_args = 1,
	.exec = exec_journal_show,
};
