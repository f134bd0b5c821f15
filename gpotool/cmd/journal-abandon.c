/* gpotool journal abandon ID: gives up on an interrupted write. Recovery refuses to act on a
 * pending entry when its files have been changed since (by a write through another state
 * directory, or by hand); once someone has checked them, this marks the entry "abandoned": its
 * files stay as they are, recovery leaves it alone, its staged files are removed. Journaled
 * (the entry says who abandoned it, when, under which ticket) and audited. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "state/journal.h"

static int exec_journal_abandon(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const char *id = a->argv[0];
	struct journal_recovery by;
	struct journal_entry *j;
	struct sbuf report;
	const char *target;
	int r;

	if (journal_load(ctx_state_dir(ctx), id, &j, e) < 0)
		return -1;
	target = jsonx_str(json_object_object_get(journal_doc(j), "target"), "path");
	if (target)
		ctx_set_target(ctx, target);
	journal_free(j);
	ctx_recovery(ctx, &by);
	sbuf_init(&report);
	r = journal_abandon_pending(ctx_state_dir(ctx), id, &by, &report, e);
	if (r == 0) {
		out_text(ctx, "%s", report.buf);
		out_text(ctx, "journal entry %s abandoned: recovery will not act on it\n", id);
		json_object_object_add(ctx->result, "abandoned", json_object_new_string(id));
	}
	sbuf_release(&report);
	return r < 0 ? -1 : GT_OK;
}

const struct cmd_entry cmd_journal_abandon_entry = {
	.name = "journal abandon",
	.args_usage = "ID",
	.summary = "give up on an interrupted write: recovery leaves its files as they are; journaled and audited",
	.options = { NULL },
	.min_args = 1,
	.max_args = 1,
	.audited = 1,
	.exec = exec_journal_abandon,
};
