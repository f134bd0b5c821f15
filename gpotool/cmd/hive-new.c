/* gpotool hive new HIVE [--kind KIND]: an empty, valid hive written by gpotool itself
 * (never over an existing file), for building sample hives from .reg sources. */
#include <json-c/json.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "hive/hivefile.h"

static int exec_hive_new(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const char *kind_name = cmd_opt(&cmd_hive_new_entry, a, "kind");
	enum hive_kind kind = HK_OTHER;
	uint8_t *buf;
	size_t len;
	int ret;

	ctx_set_target(ctx, a->argv[0]);
	if (kind_name && !hive_kind_from_name(kind_name, &kind))
		return gt_fail(e, GT_USAGE, "unknown hive kind '%s' (SYSTEM, SOFTWARE, SAM, SECURITY, NTUSER, USRCLASS, other)", kind_name);
	hivefile_new(kind == HK_OTHER ? NULL : hive_kind_name(kind), filetime_now(), &buf, &len);
	ret = write_file_new(a->argv[0], buf, len, 0644, e);
	free(buf);
	if (ret < 0)
		return -1;
	out_text(ctx, "created empty %s hive '%s' (regf 1.3, %zu bytes)\n", hive_kind_name(kind), a->argv[0], len);
	json_object_object_add(ctx->result, "target", json_object_new_string(a->argv[0]));
	json_object_object_add(ctx->result, "kind", json_object_new_string(hive_kind_name(kind)));
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)len));
	return GT_OK;
}

const struct cmd_entry cmd_hive_new_entry = {
	.name = "hive new",
	.args_usage = "HIVE [--kind KIND]",
	.summary = "write an empty, valid hive (refuses to overwrite)",
	.options = { "kind=", NULL },
	.min_args = 1,
	.max_args = 1,
	.audited = 1,
	.exec = exec_hive_new,
};
