/* gpotool validate TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR): does the target hold
 * the template's value? Exit 0 yes, 1 no, and why. */
#include <json-c/json.h>

#include "cmd/cmd.h"
#include "core/datadir.h"
#include "run/preflight.h"
#include "run/rules.h"

/* GT_OK when the target holds the value; -1 when it does not (GT_MISMATCH, why in e) or on error. */
static int check(struct target *target, const struct template *t, const struct target_setting *s, uint32_t want,
		 struct gt_error *e)
{
	struct reg_value v;
	int r = template_data(t, want, &v, e);

	if (r == 0)
		r = target_check(target, s, &v, e);
	reg_value_release(&v);
	return r == 1 ? GT_OK : -1;
}

static int exec_validate(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct target target = { 0 };
	struct advice adv = { 0 };
	const char *given[CMD_MAX_OPTIONS] = { 0 };
	struct target_domain_request dom;
	struct target_setting s;
	struct template t;
	uint32_t want;
	int ret;

	if (cmd_domain_options(ctx, &cmd_validate_entry, a, &dom, e) < 0 ||
	    template_load(gpotool_datadir(), a->argv[0], &t, e) < 0)
		return -1;
	json_object_object_add(ctx->result, "template", json_object_new_string(t.name));
	template_setting(&t, &s);
	cmd_target_options(&cmd_validate_entry, a, given);
	/* the target first: a path that is not there is said before anything about the value */
	ret = preflight_open_target(ctx, given, &s, &target, e);
	if (ret == 0)
		ret = preflight_value(ctx, cmd_opt(&cmd_validate_entry, a, "value"), &t, &target, &want, &adv, e);
	/* the value's standing (expired, weak bits) is worth saying on a check too; notes are for writes */
	if (ret == 0)
		value_rules_report(ctx, &adv, 0);
	if (ret == 0)
		ret = check(&target, &t, &s, want, e);
	json_object_object_add(ctx->result, "holds", json_object_new_boolean(ret == GT_OK));
	advice_release(&adv);
	target_close(&target);
	template_release(&t);
	return ret;
}

const struct cmd_entry cmd_validate_entry = {
	.name = "validate",
	.args_usage = "TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR | --domain DNS (--gpo-name NAME | --gpo-guid GUID) "
		      "CONN) [--value N]",
	.summary = "check that a target holds a template's value (exit 0 yes, 1 no)",
	.options = { "hive=", "image=", "gpo=", "value=", CMD_DOMAIN_OPTIONS, NULL },
	.min_args = 1,
	.max_args = 1,
	.help = "TEMPLATE is one of 'gpotool templates'; the target as for 'gpotool stage' (--hive FILE,\n"
		"--image WINDIR or --gpo DIR). Exit 0 when the target holds the value (for a GPO: the item, in\n"
		"a half whose GPT.INI version is not 0), 1 when it does not, and why. Nothing is written.\n"
		"A GPO in a domain must also reach its DCs: linked (and enabled) on the template's OU, its computer\n"
		"settings enabled, the GPP Registry extension named, GPT.INI and AD agreeing on the version, and\n"
		"Domain Controllers allowed to read and apply it; each failure is said, and is exit 1.\n"
		CMD_CONN_HELP,
	.exec = exec_validate,
};
