/* gpotool validate TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR): does the target hold
 * the template's value? Exit 0 yes, 1 no, and why. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/cmdutil.h"
#include "gpo/gpotx.h"
#include "run/stage.h"
#include "core/datadir.h"

/* {"key", "name", "want": {...}, "have": {...} or null}: what validate compared. */
static struct json_object *validate_json(const struct template *t, uint32_t want, const struct reg_value *have)
{
	struct json_object *o = json_object_new_object();
	struct reg_value w;
	uint8_t data[4];

	for (int i = 0; i < 4; i++)
		data[i] = (uint8_t)(want >> (8 * i));
	w = (struct reg_value){ .name = t->value, .type = RT_DWORD, .data = data, .len = 4 };
	json_object_object_add(o, "key", json_object_new_string(t->key));
	json_object_object_add(o, "name", json_object_new_string(t->value));
	json_object_object_add(o, "want", reg_value_to_json(&w));
	json_object_object_add(o, "have", have ? reg_value_to_json(have) : NULL);
	return o;
}

static int validate_hive(struct gt_ctx *ctx, const struct cmd_args *a, const struct template *t, const char *path,
			 uint32_t want, struct gt_error *e)
{
	struct reg_value v;
	struct hivetx tx;
	struct keypath kp;
	hive_key k;
	int r;

	if (open_hive_for(ctx, &cmd_validate_entry, a, path, 0, &tx, e) < 0)
		return -1;
	r = hivetx_resolve(&tx, t->key, &kp, e);
	if (r == 0) {
		r = hivetx_find(&tx, &kp, &k, NULL, e);
		keypath_release(&kp);
	} else {
		r = -1;
	}
	if (r == 1)
		r = hive_get_value(tx.hive, k, t->value, &v, e);
	hivetx_close(&tx);
	if (r < 0)
		return -1;
	json_object_object_add(ctx->result, "target", json_object_new_string(path));
	if (r == 0) {
		json_object_object_add(ctx->result, "value", validate_json(t, want, NULL));
		return gt_fail(e, GT_MISMATCH, "'%s' does not hold %s\\%s (absent); %s wants %u", path, t->key, t->value, t->name, want);
	}
	json_object_object_add(ctx->result, "value", validate_json(t, want, &v));
	r = v.type == RT_DWORD && v.len == 4 &&
	    ((uint32_t)v.data[0] | (uint32_t)v.data[1] << 8 | (uint32_t)v.data[2] << 16 | (uint32_t)v.data[3] << 24) == want;
	if (!r) {
		struct sbuf have;

		sbuf_init(&have);
		reg_value_format_brief(&v, &have);
		gt_fail(e, GT_MISMATCH, "'%s' holds %s = %s; %s wants REG_DWORD %u", path, t->value, have.buf, t->name, want);
		sbuf_release(&have);
	}
	reg_value_release(&v);
	if (!r)
		return -1;
	out_text(ctx, "ok: '%s' holds %s = REG_DWORD %u (%s)\n", path, t->value, want, t->name);
	return GT_OK;
}

static int validate_gpo(struct gt_ctx *ctx, const struct template *t, const char *dir, uint32_t want, struct gt_error *e)
{
	struct template_item ti;
	struct gpotx tx;
	int r = template_item_init(&ti, t, want, e);

	if (r == 0)
		r = gpotx_open(&tx, dir, 0, 0, e);
	if (r == 0) {
		long i = gpp_find(tx.doc, ti.s.hive, ti.s.key, ti.s.name);
		uint32_t half = tx.gpt.version & 0xFFFF;
		struct reg_value have;

		json_object_object_add(ctx->result, "target", json_object_new_string(dir));
		reg_value_init(&have);
		if (i >= 0) {
			struct gpp_item it;

			gpp_item_get(tx.doc, (size_t)i, &it);
			gpp_item_value(&it, &have);
			gpp_item_release(&it);
		}
		json_object_object_add(ctx->result, "value", validate_json(t, want, i >= 0 ? &have : NULL));
		reg_value_release(&have);
		if (!gpotx_has_item(&tx, &ti.s))
			r = gt_fail(e, GT_MISMATCH, "GPO '%s' has no Update item setting %s\\%s\\%s to %u", dir, ti.s.hive, ti.s.key,
				    ti.s.name, want);
		else if (!tx.gpo.backup && half == 0)
			r = gt_fail(e, GT_MISMATCH, "GPO '%s' has the item setting %s\\%s\\%s to %u, but GPT.INI's machine version is 0, "
				    "so clients skip it (stage it again to raise the version)", dir, ti.s.hive, ti.s.key, ti.s.name, want);
		else
			out_text(ctx, "ok: GPO '%s' sets %s\\%s\\%s = %u (%s)\n", dir, ti.s.hive, ti.s.key, ti.s.name, want, t->name);
		gpotx_close(&tx);
	}
	template_item_release(&ti);
	return r;
}

static int exec_validate(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct stage_target st = { 0 };
	struct advice adv = { 0 };
	struct template t;
	uint32_t want;
	int ret;

	if (template_load(gpotool_datadir(), a->argv[0], &t, e) < 0)
		return -1;
	json_object_object_add(ctx->result, "template", json_object_new_string(t.name));
	ret = stage_target_resolve(&cmd_validate_entry, a, &t, &st, e);
	if (ret == 0)
		ret = stage_value(ctx, &cmd_validate_entry, a, &t, &st, &want, &adv, e);
	/* the value's standing (expired, weak bits) is worth saying on a check too; notes are for writes */
	if (ret == 0)
		value_rules_report(ctx, &adv, 0);
	if (ret == 0)
		ret = st.kind == STAGE_GPO ? validate_gpo(ctx, &t, st.gpo_dir, want, e)
					   : validate_hive(ctx, a, &t, st.write_path, want, e);
	json_object_object_add(ctx->result, "holds", json_object_new_boolean(ret == GT_OK));
	advice_release(&adv);
	stage_target_release(&st);
	template_release(&t);
	return ret;
}

const struct cmd_entry cmd_validate_entry = {
	.name = "validate",
	.args_usage = "TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR) [--value N]",
	.summary = "check that a target holds a template's value (exit 0 yes, 1 no)",
	.options = { "hive=", "image=", "gpo=", "value=", NULL },
	.min_args = 1,
	.max_args = 1,
	.help = "TEMPLATE is one of 'gpotool templates'; the target as for 'gpotool stage' (--hive FILE,\n"
		"--image WINDIR or --gpo DIR). Exit 0 when the target holds the value (for a GPO: the item, in\n"
		"a half whose GPT.INI version is not 0), 1 when it does not, and why. Nothing is written.\n",
	.exec = exec_validate,
};
