/* gpotool hive get HIVE KEY [NAME]: one value in .reg notation (exit 1 when absent), or a
 * key's values and subkeys. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "hive/hivetx.h"
#include "core/sbuf.h"

static int print_value(struct gt_ctx *ctx, struct hivetx *tx, hive_key k, const char *path, const char *name,
		       struct gt_error *e)
{
	struct reg_value v;
	struct sbuf sb;
	int r = hive_get_value(tx->hive, k, name, &v, e);

	if (r < 0)
		return -1;
	if (r == 0) {
		gt_fail(e, GT_MISMATCH, "value '%s' not found in '%s'", name, path);
		return -1;
	}
	sbuf_init(&sb);
	reg_value_format_data(&v, 0, 0, &sb);
	out_text(ctx, "%s\n", sb.buf);
	json_object_object_add(ctx->result, "name", json_object_new_string(v.name));
	json_object_object_add(ctx->result, "value", reg_value_to_json(&v));
	json_object_object_add(ctx->result, "reg", json_object_new_string(sb.buf));
	sbuf_release(&sb);
	reg_value_release(&v);
	return GT_OK;
}

static int print_key(struct gt_ctx *ctx, struct hivetx *tx, hive_key k, const char *path, struct gt_error *e)
{
	struct json_object *jvals = json_object_new_array(), *jkeys = json_object_new_array();
	struct reg_value *vals;
	hive_key *kids;
	size_t nvals, nkids;
	struct sbuf sb;

	json_object_object_add(ctx->result, "values", jvals);
	json_object_object_add(ctx->result, "subkeys", jkeys);
	if (hive_values(tx->hive, k, &vals, &nvals, e) < 0)
		return -1;
	if (hive_subkeys(tx->hive, k, &kids, &nkids, e) < 0) {
		reg_values_free(vals, nvals);
		return -1;
	}
	sbuf_init(&sb);
	out_text(ctx, "[%s]\n", path);
	for (size_t i = 0; i < nvals; i++) {
		struct json_object *o = reg_value_to_json(&vals[i]);

		sbuf_reset(&sb);
		reg_value_format_name(vals[i].name, &sb);
		sbuf_addch(&sb, '=');
		reg_value_format_data(&vals[i], 0, 0, &sb);
		out_text(ctx, "%s\n", sb.buf);
		json_object_object_add(o, "name", json_object_new_string(vals[i].name));
		json_object_array_add(jvals, o);
	}
	for (size_t i = 0; i < nkids; i++) {
		char *name = hive_key_name(tx->hive, kids[i], e);

		if (!name)
			break;
		out_text(ctx, "[%s\\%s]\n", path, name);
		json_object_array_add(jkeys, json_object_new_string(name));
		free(name);
	}
	sbuf_release(&sb);
	reg_values_free(vals, nvals);
	free(kids);
	return e->code == GT_OK ? GT_OK : -1;
}

static int exec_hive_get(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct target t = { 0 };
	struct hivetx *tx;
	struct keypath kp;
	struct sbuf path;
	char *stored = NULL;
	hive_key k;
	int r;

	if (!(tx = cmd_target_read_hive(ctx, &cmd_hive_get_entry, a, &t, e))) {
		target_close(&t);
		return -1;
	}
	if (hivetx_resolve(tx, a->argv[1], &kp, e) < 0) {
		target_close(&t);
		return -1;
	}
	sbuf_init(&path);
	r = hivetx_find(tx, &kp, &k, &stored, e);
	if (r == 0)
		gt_fail(e, GT_MISMATCH, "key '%s' not found in '%s'", a->argv[1], a->argv[0]);
	if (r == 1) {
		display_path(hivetx_prefix(tx), stored, NULL, &path);
		json_object_object_add(ctx->result, "key", json_object_new_string(path.buf));
		r = a->argc == 3 ? print_value(ctx, tx, k, path.buf, a->argv[2], e) : print_key(ctx, tx, k, path.buf, e);
	} else {
		r = -1;
	}
	free(stored);
	sbuf_release(&path);
	keypath_release(&kp);
	if (e->code != GT_OK && e->code != GT_USAGE && e->code != GT_MISMATCH && !strstr(e->msg, a->argv[0]))
		gt_prefix(e, "'%s': ", a->argv[0]);
	target_close(&t);
	return r;
}

const struct cmd_entry cmd_hive_get_entry = {
	.name = "hive get",
	.args_usage = "HIVE KEY [NAME]",
	.summary = "print a value in .reg notation (exit 1 if absent), or a key's values",
	.options = { "kind=", "log=*", NULL },
	.min_args = 2,
	.max_args = 3,
	.exec = exec_hive_get,
};
