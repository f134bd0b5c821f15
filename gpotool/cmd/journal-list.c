/* gpotool journal list [--pending]: every write gpotool made from this state directory, oldest
 * first, with what it changed and whether it finished. An interrupted write shows as pending. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "state/journal.h"
#include "core/textesc.h"

/* "hive /x/SYSTEM" or "gpo /x/{GUID} (Machine)" from the entry, or its first file. */
static void describe_target(struct json_object *doc, struct sbuf *out)
{
	struct json_object *t = json_object_object_get(doc, "target");
	const char *side = jsonx_str(t, "side");

	if (t) {
		sbuf_addf(out, "%s %s", jsonx_str(t, "kind") ? jsonx_str(t, "kind") : "?", jsonx_str(t, "path") ? jsonx_str(t, "path") : "?");
		if (side)
			sbuf_addf(out, " (%s)", side);
		return;
	}
	t = json_object_array_get_idx(json_object_object_get(doc, "targets"), 0);
	sbuf_addstr(out, jsonx_str(t, "path") ? jsonx_str(t, "path") : "?");
}

static int is_pending(const char *status)
{
	return strcmp(status, "complete") != 0 && strcmp(status, "rolled-back") != 0 && strcmp(status, "failed") != 0 &&
	       strcmp(status, "abandoned") != 0;
}

static int exec_journal_list(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	int only_pending = cmd_opt(&cmd_journal_list_entry, a, "pending") != NULL;
	struct json_object *arr = json_object_new_array();
	size_t n, shown = 0, pending = 0;
	const char *state = ctx_state_dir(ctx);
	char **ids;

	json_object_object_add(ctx->result, "entries", arr);
	if (journal_list_ids(state, &ids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct gt_error bad = { 0 };
		struct journal_entry *j;
		struct json_object *doc, *o;
		struct sbuf target, line;
		const char *status;

		if (journal_load(state, ids[i], &j, &bad) < 0) {
			out_warn("%s", bad.msg);
			continue;
		}
		doc = journal_doc(j);
		status = jsonx_str(doc, "status");
		pending += is_pending(status);
		if (!only_pending || is_pending(status)) {
			sbuf_init(&target);
			describe_target(doc, &target);
			sbuf_init(&line);
			sbuf_addf(&line, "%s  %-11s %s  ", ids[i], status, jsonx_str(doc, "operator") ? jsonx_str(doc, "operator") : "?");
			if (jsonx_str(doc, "ticket"))
				sbuf_addf(&line, "ticket %s  ", jsonx_str(doc, "ticket"));
			sbuf_addstr(&line, target.buf);
			if (jsonx_str(doc, "rollback_of"))
				sbuf_addf(&line, "  rollback of %s", jsonx_str(doc, "rollback_of"));
			out_text(ctx, "%s\n", esc(line.buf)); /* one line, whatever the entry holds */
			sbuf_release(&line);
			o = json_object_new_object();
			json_object_object_add(o, "id", json_object_new_string(ids[i]));
			json_object_object_add(o, "status", json_object_new_string(status));
			json_object_object_add(o, "started", json_object_get(json_object_object_get(doc, "started")));
			json_object_object_add(o, "operator", json_object_get(json_object_object_get(doc, "operator")));
			json_object_object_add(o, "ticket", json_object_get(json_object_object_get(doc, "ticket")));
			json_object_object_add(o, "template", json_object_get(json_object_object_get(doc, "template")));
			json_object_object_add(o, "target", json_object_new_string(target.buf));
			json_object_object_add(o, "rollback_of", json_object_get(json_object_object_get(doc, "rollback_of")));
			json_object_array_add(arr, o);
			sbuf_release(&target);
			shown++;
		}
		journal_free(j);
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (shown == 0)
		out_text(ctx, only_pending ? "no interrupted writes in '%s'\n" : "no journal entries in '%s'\n", state);
	if (pending)
		out_warn("%zu write%s did not finish (pending): the next write to %s finishes or rolls it back", pending,
			 pending == 1 ? "" : "s", pending == 1 ? "its target" : "their targets");
	json_object_object_add(ctx->result, "pending", json_object_new_int64((int64_t)pending));
	return GT_OK;
}

const struct cmd_entry cmd_journal_list_entry = {
	.name = "journal list",
	.args_usage = "[--pending]",
	.summary = "list the journal: every write, its status, operator, ticket and target",
	.options = { "pending", NULL },
	.min_args = 0,
	.max_args = 0,
	.exec = exec_journal_list,
};
