/* gpotool hive set HIVE KEY NAME TYPE DATA: set one value, creating missing keys as
 * `reg add` does, through the full write pipeline. NAME "" is the key's default value. */
#include "run/cmdutil.h"

static int exec_hive_set(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct reg_value v;
	struct hivetx tx;
	struct keypath kp;
	uint32_t type;
	int ret;

	reg_value_init(&v);
	if (!reg_type_from_name(a->argv[3], &type))
		return gt_fail(e, GT_USAGE, "unknown value type '%s' (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY)",
			       a->argv[3]);
	if (reg_value_from_text(type, a->argv[4], &v, e) < 0)
		return -1;
	v.name = xstrdup(a->argv[2]);
	if (open_hive_for(ctx, &cmd_hive_set_entry, a, a->argv[0], 1, &tx, e) < 0) {
		reg_value_release(&v);
		return -1;
	}
	ret = hivetx_resolve(&tx, a->argv[1], &kp, e);
	if (ret == 0) {
		ret = hivetx_set_value(&tx, &kp, &v, e);
		if (ret < 0 && e->code != GT_USAGE)
			gt_prefix(e, "'%s': ", a->argv[0]);
		keypath_release(&kp);
	}
	if (ret == 0)
		ret = commit_and_report(ctx, &tx, e);
	hivetx_close(&tx);
	reg_value_release(&v);
	return ret;
}

const struct cmd_entry cmd_hive_set_entry = {
	.name = "hive set",
	.args_usage = "HIVE KEY NAME TYPE DATA",
	.summary = "set a value (missing keys are created); verified, journaled",
	.options = { "kind=", NULL },
	.min_args = 5,
	.max_args = 5,
	.audited = 1,
	.exec = exec_hive_set,
};
