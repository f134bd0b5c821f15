/* gpotool hive delete HIVE KEY [NAME]: delete a value, or a key with everything below it;
 * every deleted value is recorded with its data, so the journal can restore it. */
#include "run/cmdutil.h"

static int exec_hive_delete(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct hivetx tx;
	struct keypath kp;
	int r;

	if (open_hive_for(ctx, &cmd_hive_delete_entry, a, a->argv[0], 1, &tx, e) < 0)
		return -1;
	if (hivetx_resolve(&tx, a->argv[1], &kp, e) < 0) {
		hivetx_close(&tx);
		return -1;
	}
	if (a->argc == 3)
		r = hivetx_delete_value(&tx, &kp, a->argv[2], e);
	else
		r = hivetx_delete_key(&tx, &kp, e);
	if (r < 0 && e->code != GT_USAGE)
		gt_prefix(e, "'%s': ", a->argv[0]);
	if (r == 0)
		gt_fail(e, GT_MISMATCH, "%s '%s%s%s' not found in '%s'; nothing changed", a->argc == 3 ? "value" : "key",
			a->argv[1], a->argc == 3 ? "\\" : "", a->argc == 3 ? a->argv[2] : "", a->argv[0]);
	if (r == 1)
		r = commit_and_report(ctx, &tx, e);
	else
		r = -1;
	keypath_release(&kp);
	hivetx_close(&tx);
	return r;
}

const struct cmd_entry cmd_hive_delete_entry = {
	.name = "hive delete",
	.args_usage = "HIVE KEY [NAME]",
	.summary = "delete a value, or a key and its subtree; verified, journaled",
	.options = { "kind=", NULL },
	.min_args = 2,
	.max_args = 3,
	.audited = 1,
	.exec = exec_hive_delete,
};
