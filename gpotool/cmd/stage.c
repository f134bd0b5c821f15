/* gpotool stage TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR): the main job. Preflight,
 * plan, apply, verify, journal; refuses what would be wrong and says when the workaround
 * stops working. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run/cmdutil.h"
#include "core/fault.h"
#include "gpo/gpotx.h"
#include "run/stage.h"
#include "core/datadir.h"
#include "gpo/gpo-fault.h"

/* The template's follow-ups: "then:" lines, and "followups" in JSON. */
static void print_followups(struct gt_ctx *ctx, const struct template *t)
{
	struct json_object *list = json_object_new_array();

	for (size_t i = 0; i < t->nfollowup; i++) {
		out_text(ctx, "then: %s\n", t->followup[i]);
		json_object_array_add(list, json_object_new_string(t->followup[i]));
	}
	json_object_object_add(ctx->result, "followups", list);
}

/* The item is in place, but GPT.INI's version of its half is 0, so clients skip the half:
 * raise the version (Registry.xml is written back as it is), journaled like any write. */
static int raise_version(struct gt_ctx *ctx, struct gpotx *tx, const struct gpp_setting *sp, struct gt_error *e)
{
	struct journal_meta meta;
	struct change *c;
	struct plan plan;
	struct sbuf key;
	int ret;

	/* the entry records the item, the same before and after: what the version now applies */
	plan_init(&plan);
	sbuf_init(&key);
	sbuf_addf(&key, "%s\\%s", sp->hive, sp->key);
	c = plan_add(&plan, CH_SET_VALUE, key.buf, sp->name);
	sbuf_release(&key);
	c->had_old = c->has_new = 1;
	reg_value_copy(&c->old, &sp->value);
	reg_value_copy(&c->new_value, &sp->value);
	sbuf_add(&tx->new_reg, tx->reg_file.bytes, tx->reg_file.len);
	ctx_journal_meta(ctx, &meta);
	ret = gpotx_commit(tx, ctx_state_dir(ctx), &meta, &plan, e);
	if (ret == 0) {
		out_text(ctx, "GPO '%s' already has this item, but GPT.INI's %s version was 0, so clients skipped it\n", tx->gpo.dir,
			 tx->user ? "user" : "machine");
		out_text(ctx, "GPT.INI: Version %u -> %u (user %u, machine %u)\n", tx->gpt.version, tx->new_version,
			 tx->new_version >> 16, tx->new_version & 0xFFFF);
		out_text(ctx, "verified: GPT.INI reads Version=%u; Registry.xml unchanged\n", tx->new_version);
		out_text(ctx, "next: the GPO's AD object must agree: gpotool gpo ad '%s' --domain DNS\n", tx->gpo.dir);
		json_object_object_add(ctx->result, "target", json_object_new_string(tx->gpo.gpt_path));
		json_object_object_add(ctx->result, "changed", json_object_new_boolean(1));
		json_object_object_add(ctx->result, "changes", plan_to_json(&plan, ""));
		json_object_object_add(ctx->result, "version_before", json_object_new_int64(tx->gpt.version));
		json_object_object_add(ctx->result, "version", json_object_new_int64(tx->new_version));
		json_object_object_add(ctx->result, "journal", json_object_new_string(tx->journal_id));
		if (tx->warning)
			out_warn("the change is in place, but: %s", tx->warning);
		free(ctx->journal_id);
		ctx->journal_id = xstrdup(tx->journal_id);
	}
	plan_release(&plan);
	return ret;
}

/* Clients skip a half of the GPO whose version is 0 (gpo show says so too). */
static int half_is_zero(const struct gpotx *tx)
{
	return !tx->gpo.backup && (tx->user ? tx->gpt.version >> 16 : tx->gpt.version & 0xFFFF) == 0;
}

static int stage_hive(struct gt_ctx *ctx, const struct cmd_args *a, const struct template *t, const char *path,
		      uint32_t value, int dry_run, struct gt_error *e)
{
	struct reg_value v;
	struct hivetx tx;
	struct keypath kp;
	char num[16];
	int ret;

	reg_value_init(&v);
	snprintf(num, sizeof(num), "%u", value);
	if (reg_value_from_text(t->type, num, &v, e) < 0)
		return -1;
	v.name = xstrdup(t->value);
	if (open_hive_for(ctx, &cmd_stage_entry, a, path, 1, &tx, e) < 0) {
		reg_value_release(&v);
		return -1;
	}
	ret = hivetx_resolve(&tx, t->key, &kp, e);
	if (ret == 0) {
		ret = hivetx_set_value(&tx, &kp, &v, e);
		keypath_release(&kp);
	}
	if (ret == 0 && dry_run) {
		struct sbuf line;

		sbuf_init(&line);
		for (size_t i = 0; i < tx.plan.n; i++) {
			sbuf_reset(&line);
			change_describe(&tx.plan.v[i], hivetx_prefix(&tx), &line);
			out_text(ctx, "plan: %s\n", line.buf);
		}
		out_text(ctx, tx.plan.n ? "dry run: nothing written\n" : "no change: '%s' already holds this (dry run)\n", path);
		json_object_object_add(ctx->result, "changes", plan_to_json(&tx.plan, hivetx_prefix(&tx)));
		json_object_object_add(ctx->result, "dry_run", json_object_new_boolean(1));
		sbuf_release(&line);
	} else if (ret == 0) {
		ret = commit_and_report(ctx, &tx, e);
	}
	if (ret < 0 && e->code != GT_USAGE && !strstr(e->msg, path))
		gt_prefix(e, "'%s': ", path);
	hivetx_close(&tx);
	reg_value_release(&v);
	return ret;
}

static int stage_gpo(struct gt_ctx *ctx, const struct template *t, const char *dir, uint32_t value, int dry_run,
		     struct gt_error *e)
{
	struct template_item ti;
	struct gpp_setting *sp = &ti.s;
	struct gpotx tx;
	int ret = template_item_init(&ti, t, value, e);

	if (ret == 0)
		ret = open_gpo_for(ctx, dir, 0, !dry_run, &tx, e);
	if (ret == 0) {
		if (gpotx_has_item(&tx, sp) && half_is_zero(&tx) && dry_run) {
			out_text(ctx, "plan: GPT.INI version +1: GPO '%s' has this item, but its machine version is 0\n", dir);
			out_text(ctx, "dry run: nothing written\n");
		} else if (gpotx_has_item(&tx, sp) && half_is_zero(&tx)) {
			ret = raise_version(ctx, &tx, sp, e);
		} else if (gpotx_has_item(&tx, sp)) {
			out_text(ctx, "no change: GPO '%s' already has this item\n", dir);
			json_object_object_add(ctx->result, "changed", json_object_new_boolean(0));
		} else if (dry_run) {
			out_text(ctx, "plan: Machine Registry.xml: %s\\%s\\%s = %s %u, action U; GPT.INI version +1\n", sp->hive, sp->key,
				 sp->name, reg_type_name(t->type), value);
			out_text(ctx, "dry run: nothing written\n");
		} else {
			ret = gpp_apply_set(tx.doc, sp, &tx.new_reg, e);
			if (ret == 0)
				ret = fault_gpp_applied(&tx.new_reg, sp->name, e);
			if (ret == 0)
				ret = gpp_verify(tx.doc, (const uint8_t *)tx.new_reg.buf, tx.new_reg.len, tx.schema, sp->hive, sp->key, sp->name,
						 sp, e);
			if (ret == 0)
				ret = gpo_write_report(ctx, &tx, sp, e);
			if (ret == 0 && t->gpo_link)
				out_text(ctx, "link: this GPO must be linked to %s: gpotool gpo ad '%s' --domain DNS --link '%s,DC=...' "
					 "--current-gplink ... --current-extensions ...\n", t->gpo_link, dir, t->gpo_link);
		}
		gpotx_close(&tx);
	}
	template_item_release(&ti);
	return ret;
}

static int exec_stage(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	int force = cmd_opt(&cmd_stage_entry, a, "force") != NULL, dry_run = cmd_opt(&cmd_stage_entry, a, "dry-run") != NULL;
	struct stage_target st = { 0 };
	struct advice adv = { 0 };
	struct template t;
	uint32_t value;
	int ret;

	if (template_load(gpotool_datadir(), a->argv[0], &t, e) < 0)
		return -1;
	ctx->template_name = t.name;
	ctx->defer_journal_line = 1; /* the follow-ups come first; "journal: ID" stays the last line */
	json_object_object_add(ctx->result, "template", json_object_new_string(t.name));
	/* the target first: a path that is not there is said before anything about the value;
	 * the audit record names what was given even then */
	for (const char *const *o = (const char *const[]){ "hive", "image", "gpo", NULL }; *o; o++)
		if (cmd_opt(&cmd_stage_entry, a, *o) && !ctx->target)
			ctx_set_target(ctx, cmd_opt(&cmd_stage_entry, a, *o));
	ret = stage_target_resolve(&cmd_stage_entry, a, &t, &st, e);
	if (ret == 0)
		ctx_set_target(ctx, st.kind == STAGE_GPO ? st.gpo_dir : st.write_path);
	if (ret == 0)
		ret = stage_value(ctx, &cmd_stage_entry, a, &t, &st, &value, &adv, e);
	if (ret == 0)
		ret = stage_preflight(ctx, &t, &st, &adv, force, e);
	/* something will be staged: now the value's warnings, once */
	if (ret == 0)
		value_rules_report(ctx, &adv, 1);
	if (ret == 0)
		ret = st.kind == STAGE_GPO ? stage_gpo(ctx, &t, st.gpo_dir, value, dry_run, e)
					   : stage_hive(ctx, a, &t, st.write_path, value, dry_run, e);
	if (ret == 0 && !dry_run)
		print_followups(ctx, &t);
	if (ret == 0 && ctx->journal_id)
		out_text(ctx, "journal: %s\n", ctx->journal_id);
	advice_release(&adv);
	stage_target_release(&st);
	ctx->template_name = NULL;
	template_release(&t);
	return ret;
}

const struct cmd_entry cmd_stage_entry = {
	.name = "stage",
	.args_usage = "TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR) [--value N] [--dry-run] [--force]",
	.summary = "stage a template: preflight, plan, apply, verify, journal",
	.options = { "hive=", "image=", "gpo=", "value=", "dry-run", "force", NULL },
	.min_args = 1,
	.max_args = 1,
	.audited = 1,
	.help = "TEMPLATE is one of 'gpotool templates'. The target is one of:\n"
		"  --hive FILE    an offline hive of the template's kind (SYSTEM or SOFTWARE)\n"
		"  --image WINDIR the Windows folder of an offline image (System32/config/SYSTEM and SOFTWARE)\n"
		"  --gpo DIR      a GPO folder (holding GPT.INI) or a GPMC backup: a GPP Registry item\n"
		"  --value N      the data, where the template allows more than its own (kdc-backdating needs it)\n"
		"  --dry-run      the plan and the checks, nothing written\n"
		"  --force        stage although the role, connector or patch-level check refuses\n"
		"The value's rules (templates/value-rules) apply first: a refused value is never staged; an\n"
		"expiring one warns (--strict refuses it once expired). Exit 0 staged or already in place.\n",
	.exec = exec_stage,
};
