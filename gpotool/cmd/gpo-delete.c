/* gpotool gpo delete DIR KEY NAME: remove a GPP Registry item. Removing an item does not
 * remove the value from machines that applied it; an item with --action D does that. */
#include <json-c/json.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "gpo/gpotx.h"

static int exec_gpo_delete(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	int user = cmd_opt(&cmd_gpo_delete_entry, a, "user") != NULL;
	struct target_change c = { .kind = TC_DELETE_VALUE, .key = a->argv[1], .name = a->argv[2] };
	struct target t = { 0 };
	const char *hive;
	char *key = NULL;
	int r;

	if (gpp_split_key(a->argv[1], user, &hive, &key, e) < 0)
		return -1;
	r = cmd_target_write(ctx, &cmd_gpo_delete_entry, a, &t, e);
	if (r == 0) {
		r = target_plan(&t, &c, e);
		if (r == 0)
			r = gt_fail(e, GT_MISMATCH, "GPO '%s' has no item for %s\\%s\\%s; nothing changed", a->argv[0], hive, key, a->argv[2]);
		if (r == 1) {
			r = target_commit(&t, e);
			out_warn("machines that applied the item keep the value (Group Policy Preferences tattoo it); "
				 "to remove it there, set an item with --action D instead");
		}
	}
	target_close(&t);
	free(key);
	return r;
}

const struct cmd_entry cmd_gpo_delete_entry = {
	.name = "gpo delete",
	.args_usage = "DIR KEY NAME [--user]",
	.summary = "remove a GPP Registry item; bumps GPT.INI; verified, journaled",
	.options = { "user", NULL },
	.min_args = 3,
	.max_args = 3,
	.audited = 1,
	.exec = exec_gpo_delete,
};
