/* gpotool hive import HIVE REGFILE: apply a .reg file (regedit 5.00 in UTF-16LE or UTF-8,
 * or REGEDIT4) as one transaction: every key and value it names goes in, or nothing does. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "run/cmdutil.h"
#include "reg/regfile.h"

#define REGFILE_MAX_BYTES (64u * 1024 * 1024)

static int apply_op(struct hivetx *tx, const struct regfile_op *op, const struct keypath *kp, struct gt_error *e)
{
	switch (op->kind) {
	case RF_KEY:
		return hivetx_add_key(tx, kp, e);
	case RF_DELETE_KEY:
		return hivetx_delete_key(tx, kp, e) < 0 ? -1 : 0;
	case RF_SET_VALUE:
		return hivetx_set_value(tx, kp, &op->value, e);
	case RF_DELETE_VALUE:
		return hivetx_delete_value(tx, kp, op->value.name, e) < 0 ? -1 : 0;
	}
	return gt_fail(e, GT_FAILED, "internal error: unknown .reg operation");
}

static int apply_all(struct hivetx *tx, const struct regfile *rf, const char *name, struct gt_error *e)
{
	struct keypath kp = { 0 };
	const char *resolved_for = NULL;

	for (size_t i = 0; i < rf->n; i++) {
		const struct regfile_op *op = &rf->ops[i];

		/* values follow their key: resolve each section's path once */
		if (!resolved_for || strcmp(resolved_for, op->key) != 0) {
			keypath_release(&kp);
			resolved_for = NULL;
			if (hivetx_resolve(tx, op->key, &kp, e) < 0)
				return gt_prefix(e, "'%s' line %u: ", name, op->line);
			resolved_for = op->key;
		}
		if (apply_op(tx, op, &kp, e) < 0) {
			keypath_release(&kp);
			if (e->code != GT_USAGE)
				gt_prefix(e, "'%s': ", tx->file.path);
			return gt_prefix(e, "'%s' line %u: ", name, op->line);
		}
	}
	keypath_release(&kp);
	return 0;
}

static int exec_hive_import(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct regfile rf = { 0 };
	struct hivetx tx;
	uint8_t *buf;
	size_t len;
	int r;

	if (gt_check_path(a->argv[1], 0, "REGFILE is the path of a .reg file", e) < 0 ||
	    read_whole_file(a->argv[1], REGFILE_MAX_BYTES, &buf, &len, e) < 0)
		return -1;
	r = regfile_parse(buf, len, a->argv[1], &rf, e);
	free(buf);
	if (r < 0)
		return -1;
	if (open_hive_for(ctx, &cmd_hive_import_entry, a, a->argv[0], 1, &tx, e) < 0) {
		regfile_release(&rf);
		return -1;
	}
	r = apply_all(&tx, &rf, a->argv[1], e);
	if (r == 0) {
		json_object_object_add(ctx->result, "source", json_object_new_string(a->argv[1]));
		r = commit_and_report(ctx, &tx, e);
	}
	hivetx_close(&tx);
	regfile_release(&rf);
	return r;
}

const struct cmd_entry cmd_hive_import_entry = {
	.name = "hive import",
	.args_usage = "HIVE REGFILE",
	.summary = "apply a .reg file as one verified, journaled change",
	.options = { "kind=", NULL },
	.min_args = 2,
	.max_args = 2,
	.audited = 1,
	.exec = exec_hive_import,
};
