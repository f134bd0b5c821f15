/* gpotool hive recover HIVE [--log FILE]...: a dirty hive's transaction logs replayed into it,
 * as Windows does when it loads the hive, and written as a clean primary through the full
 * write pipeline: journaled (the logs' copies with it), verified, audited. */
#include "cmd/cmd.h"

static int exec_hive_recover(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct target t = { 0 };
	int ret = cmd_target_write(ctx, &cmd_hive_recover_entry, a, &t, e);

	if (ret == 0)
		ret = target_hive_recover(&t, e);
	target_close(&t);
	return ret;
}

const struct cmd_entry cmd_hive_recover_entry = {
	.name = "hive recover",
	.args_usage = "HIVE [--log FILE]...",
	.summary = "replay a dirty hive's transaction logs into it; verified, journaled",
	.options = { "kind=", "log=*", NULL },
	.min_args = 1,
	.max_args = 1,
	.audited = 1,
	.exec = exec_hive_recover,
};
