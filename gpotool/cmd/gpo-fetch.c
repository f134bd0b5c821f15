/* gpotool gpo fetch --domain DNS (--gpo-name NAME | --gpo-guid GUID) DIR CONN: a GPO's SYSVOL
 * folder, as its DC holds it, copied into a new folder for offline review (gpo show DIR), and
 * its AD object's attributes said. Nothing on the DC is written. */
#include "cmd/cmd.h"

static int exec_gpo_fetch(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct target_domain_request dom;
	struct target t = { 0 };
	const char *domain = cmd_opt(&cmd_gpo_fetch_entry, a, "domain");
	int ret;

	if (!domain)
		return gt_fail(e, GT_USAGE, "usage: gpotool %s %s", cmd_gpo_fetch_entry.name, cmd_gpo_fetch_entry.args_usage);
	if (cmd_domain_options(ctx, &cmd_gpo_fetch_entry, a, &dom, e) < 0)
		return -1;
	ret = run_target_open(ctx, &t, target_kind_named("domain"), &(struct target_request){ .what = domain, .domain = &dom }, e);
	if (ret == 0)
		ret = target_fetch(&t, a->argv[0], e);
	target_close(&t);
	return ret;
}

const struct cmd_entry cmd_gpo_fetch_entry = {
	.name = "gpo fetch",
	.args_usage = "--domain DNS (--gpo-name NAME | --gpo-guid GUID) DIR " CMD_CONN_USAGE,
	.summary = "copy a GPO's SYSVOL folder from its DC into a new folder, for offline review",
	.options = { CMD_DOMAIN_OPTIONS, NULL },
	.min_args = 1,
	.max_args = 1,
	.help = "DIR must not exist. The copy is the GPO folder (GPT.INI, Machine/, User/) as the DC holds it;\n"
		"'gpotool gpo show DIR' reads it. The AD object's versionNumber, extension names and flags are printed.\n"
		CMD_CONN_HELP,
	.exec = exec_gpo_fetch,
};
