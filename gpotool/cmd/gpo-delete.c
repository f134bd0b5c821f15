/* gpotool gpo delete DIR KEY NAME: remove a GPP Registry item. Removing an item does not
 * remove the value from machines that applied it; an item with --action D does that. */
#include <json-c/json.h>
#include <stdlib.h>

#include "run/cmdutil.h"
#include "gpo/gpotx.h"

static int exec_gpo_delete(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	int user = cmd_opt(&cmd_gpo_delete_entry, a, "user") != NULL;
	const char *hive;
	char *key = NULL;
	struct gpotx tx;
	int r;

	if (gpp_split_key(a->argv[1], user, &hive, &key, e) < 0)
		return -1;
	r = open_gpo_for(ctx, a->argv[0], user, 1, &tx, e);
	if (r == 0) {
		r = gpp_apply_delete(tx.doc, hive, key, a->argv[2], &tx.new_reg, e);
		if (r == 0)
			r = gt_fail(e, GT_MISMATCH, "GPO '%s' has no item for %s\\%s\\%s; nothing changed", a->argv[0], hive, key, a->argv[2]);
		if (r == 1)
			r = gpp_verify(tx.doc, (const uint8_t *)tx.new_reg.buf, tx.new_reg.len, tx.schema, hive, key, a->argv[2],
				       NULL, e);
		if (r == 0) {
			struct gpp_setting gone = { .hive = hive, .key = key, .name = a->argv[2] };

			r = gpo_write_report(ctx, &tx, &gone, e);
			out_warn("machines that applied the item keep the value (Group Policy Preferences tattoo it); "
				 "to remove it there, set an item with --action D instead");
		}
		gpotx_close(&tx);
	}
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
