/* gpotool hive import HIVE REGFILE: apply a .reg file (regedit 5.00 in UTF-16LE or UTF-8,
 * or REGEDIT4) as one transaction: every key and value it names goes in, or nothing does. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "reg/regfile.h"

#define REGFILE_MAX_BYTES (64u * 1024 * 1024)

static enum target_change_kind change_of(enum regfile_op_kind k)
{
	switch (k) {
	case RF_KEY: return TC_ADD_KEY;
	case RF_DELETE_KEY: return TC_DELETE_KEY;
	case RF_SET_VALUE: return TC_SET_VALUE;
	case RF_DELETE_VALUE: break;
	}
	return TC_DELETE_VALUE;
}

/* Every operation of the file, in order, into the hive's plan; a key or value to delete
 * that is not there is no error (regedit's "-" lines). */
static int apply_all(struct target *t, const struct regfile *rf, const char *name, struct gt_error *e)
{
	for (size_t i = 0; i < rf->n; i++) {
		const struct regfile_op *op = &rf->ops[i];
		struct target_change c = { .kind = change_of(op->kind), .key = op->key, .value = &op->value, .name = op->value.name };

		if (target_plan(t, &c, e) < 0)
			return gt_prefix(e, "'%s' line %u: ", name, op->line);
	}
	return 0;
}

static int exec_hive_import(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct regfile rf = { 0 };
	struct target t = { 0 };
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
	r = cmd_target_write(ctx, &cmd_hive_import_entry, a, &t, e);
	if (r == 0)
		r = apply_all(&t, &rf, a->argv[1], e);
	if (r == 0) {
		json_object_object_add(ctx->result, "source", json_object_new_string(a->argv[1]));
		r = target_commit(&t, e);
	}
	target_close(&t);
	regfile_release(&rf);
	return r;
}

const struct cmd_entry cmd_hive_import_entry = {
	.name = "hive import",
	.args_usage = "HIVE REGFILE [--log FILE]... [--ignore-logs]",
	.summary = "apply a .reg file as one verified, journaled change",
	.options = { "kind=", "log=*", "ignore-logs", NULL },
	.min_args = 2,
	.max_args = 2,
	.audited = 1,
	.exec = exec_hive_import,
};
