/* gpotool stage TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR): the main job. Preflight,
 * plan, apply, verify, journal; refuses what would be wrong and says when the workaround
 * stops working. The target is any kind of the table (target/target.h). */
#include <json-c/json.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "core/datadir.h"
#include "run/preflight.h"
#include "run/rules.h"

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

/* The template's value into the target: recorded, then committed (or shown, for a dry run). */
static int stage_into(struct target *target, const struct template *t, uint32_t value, int dry_run, struct gt_error *e)
{
	struct reg_value v;
	struct target_change c;
	int ret = template_data(t, value, &v, e);

	c = (struct target_change){ .kind = TC_SET_VALUE, .key = t->key, .value = &v };
	if (ret == 0)
		ret = target_begin(target, dry_run, e);
	if (ret == 0)
		ret = target_plan(target, &c, e) < 0 ? -1 : 0;
	if (ret == 0)
		ret = dry_run ? target_show_plan(target, e) : target_commit(target, e);
	reg_value_release(&v);
	return ret;
}

static int exec_stage(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	int force = cmd_opt(&cmd_stage_entry, a, "force") != NULL, dry_run = cmd_opt(&cmd_stage_entry, a, "dry-run") != NULL;
	struct target target = { 0 };
	struct advice adv = { 0 };
	const char *given[CMD_MAX_OPTIONS] = { 0 };
	struct target_domain_request dom;
	struct target_setting s;
	struct template t;
	uint32_t value;
	int ret;

	if (cmd_domain_options(ctx, &cmd_stage_entry, a, &dom, e) < 0 || template_load(gpotool_datadir(), a->argv[0], &t, e) < 0)
		return -1;
	ctx->template_name = t.name;
	ctx->defer_journal_line = 1; /* the follow-ups come first; "journal: ID" stays the last line */
	json_object_object_add(ctx->result, "template", json_object_new_string(t.name));
	template_setting(&t, &s);
	cmd_target_options(&cmd_stage_entry, a, given);
	cmd_hive_logs_options(ctx, &cmd_stage_entry, a);
	/* the target first: a path that is not there is said before anything about the value */
	ret = preflight_open_target(ctx, given, &s, &target, e);
	if (ret == 0)
		ret = preflight_value(ctx, cmd_opt(&cmd_stage_entry, a, "value"), &t, &target, &value, &adv, e);
	if (ret == 0)
		ret = preflight_check(ctx, &t, &target, &adv, force, e);
	/* something will be staged: now the value's warnings, once */
	if (ret == 0)
		value_rules_report(ctx, &adv, 1);
	if (ret == 0)
		ret = stage_into(&target, &t, value, dry_run, e);
	if (ret == 0 && !dry_run)
		print_followups(ctx, &t);
	if (ret == 0 && ctx->journal_id)
		out_text(ctx, "journal: %s\n", ctx->journal_id);
	advice_release(&adv);
	target_close(&target);
	ctx->template_name = NULL;
	template_release(&t);
	return ret;
}

const struct cmd_entry cmd_stage_entry = {
	.name = "stage",
	.args_usage = "TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR | --domain DNS (--gpo-name NAME | --gpo-guid GUID) "
		      "[--create] [--link DN] CONN) [--value N] [--dry-run] [--force]",
	.summary = "stage a template: preflight, plan, apply, verify, journal",
	.options = { "hive=", "image=", "gpo=", "value=", "dry-run", "force", "create", "link=", "ignore-logs", CMD_DOMAIN_OPTIONS, NULL },
	.min_args = 1,
	.max_args = 1,
	.audited = 1,
	.help = "TEMPLATE is one of 'gpotool templates'. The target is one of:\n"
		"  --hive FILE    an offline hive of the template's kind (SYSTEM or SOFTWARE)\n"
		"  --image WINDIR the Windows folder of an offline image (System32/config/SYSTEM and SOFTWARE)\n"
		"  --gpo DIR      a GPO folder (holding GPT.INI) or a GPMC backup: a GPP Registry item\n"
		"  --domain DNS   a GPO in a live domain (--gpo-name NAME or --gpo-guid GUID), on its DC: SYSVOL over\n"
		"                 SMB and the AD object over LDAP, one journaled transaction, read back and checked\n"
		"  --create       make the GPO (as GPMC does) when there is none by that name\n"
		"  --link DN      link it to DN (the template's OU: 'OU=Domain Controllers,DC=...'), lowest precedence\n"
		"  --value N      the data, where the template allows more than its own (kdc-backdating needs it)\n"
		"  --dry-run      the plan and the checks, nothing written\n"
		"  --force        stage although the role, connector or patch-level check refuses\n"
		"The value's rules (templates/value-rules) apply first: a refused value is never staged; an\n"
		"expiring one warns (--strict refuses it once expired). Exit 0 staged or already in place.\n"
		CMD_CONN_HELP,
	.exec = exec_stage,
};
