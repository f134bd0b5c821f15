/* gpotool hive delete HIVE KEY [NAME]: delete a value, or a key with everything below it;
 * every deleted value is recorded with its data, so the journal can restore it. */
#include "cmd/cmd.h"

static int exec_hive_delete(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct target_change c = { .kind = a->argc == 3 ? TC_DELETE_VALUE : TC_DELETE_KEY, .key = a->argv[1],
				   .name = a->argc == 3 ? a->argv[2] : NULL };
	struct target t = { 0 };
	int r = cmd_target_write(ctx, &cmd_hive_delete_entry, a, &t, e);

	if (r == 0)
		r = target_plan(&t, &c, e);
	if (r == 0)
		gt_fail(e, GT_MISMATCH, "%s '%s%s%s' not found in '%s'; nothing changed", a->argc == 3 ? "value" : "key",
			a->argv[1], a->argc == 3 ? "\\" : "", a->argc == 3 ? a->argv[2] : "", a->argv[0]);
	r = r == 1 ? target_commit(&t, e) : -1;
	target_close(&t);
	return r;
}

const struct cmd_entry cmd_hive_delete_entry = {
	.name = "hive delete",
	.args_usage = "HIVE KEY [NAME] [--log FILE]... [--ignore-logs]",
	.summary = "delete a value, or a key and its subtree; verified, journaled",
	.options = { "kind=", "log=*", "ignore-logs", NULL },
	.min_args = 2,
	.max_args = 3,
	.audited = 1,
	.exec = exec_hive_delete,
};
