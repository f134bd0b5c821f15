/* gpotool hive set HIVE KEY NAME TYPE DATA: set one value, creating missing keys as
 * `reg add` does, through the full write pipeline. NAME "" is the key's default value. */
#include "cmd/cmd.h"

static int exec_hive_set(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct target t = { 0 };
	struct reg_value v;
	uint32_t type;
	int ret;

	reg_value_init(&v);
	if (!reg_type_from_name(a->argv[3], &type))
		return gt_fail(e, GT_USAGE, "unknown value type '%s' (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY)",
			       a->argv[3]);
	if (reg_value_from_text(type, a->argv[4], &v, e) < 0)
		return -1;
	v.name = xstrdup(a->argv[2]);
	ret = cmd_target_write(ctx, &cmd_hive_set_entry, a, &t, e);
	if (ret == 0)
		ret = target_plan(&t, &(struct target_change){ .kind = TC_SET_VALUE, .key = a->argv[1], .value = &v }, e) < 0 ? -1 : 0;
	if (ret == 0)
		ret = target_commit(&t, e);
	target_close(&t);
	reg_value_release(&v);
	return ret;
}

const struct cmd_entry cmd_hive_set_entry = {
	.name = "hive set",
	.args_usage = "HIVE KEY NAME TYPE DATA [--log FILE]... [--ignore-logs]",
	.summary = "set a value (missing keys are created); verified, journaled",
	.options = { "kind=", "log=*", "ignore-logs", NULL },
	.min_args = 5,
	.max_args = 5,
	.audited = 1,
	.exec = exec_hive_set,
};
