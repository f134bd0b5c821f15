/* What stage and validate share: where a template goes (a hive, an offline Windows image,
 * a GPO), the value it stages and the value rules it meets (advisory.h, judged as of
 * --as-of), and the preflight checks (role, connector version, patch level). The target is
 * checked first: a path that is not there or is the wrong kind of hive is the user's mistake
 * (exit 2), said before anything else. */
#ifndef GPOTOOL_STAGE_H
#define GPOTOOL_STAGE_H

#include <stdint.h>

#include "kb/advisory.h"
#include "cmd/cmd.h"
#include "core/error.h"
#include "gpo/gpp.h"
#include "kb/template.h"
#include "reg/winreg.h"

enum stage_kind { STAGE_HIVE, STAGE_IMAGE, STAGE_GPO };

struct stage_target {
	enum stage_kind kind;
	enum hive_kind hive;   /* the hive the template writes: SYSTEM or SOFTWARE */
	char *write_path;      /* the hive file written (hive and image targets) */
	char *system_path;     /* SYSTEM hive read for the role, if at hand */
	char *software_path;   /* SOFTWARE hive read for the connector and the build, if at hand */
	const char *gpo_dir;
};

/* Reads --hive/--image/--gpo: exactly one target, that exists and is of the kind asked (a
 * hive file of the template's hive, a folder); GT_NO_SUCH_PATH (exit 2) otherwise. */
int stage_target_resolve(const struct cmd_entry *entry, const struct cmd_args *a, const struct template *t,
			 struct stage_target *st, struct gt_error *e);
void stage_target_release(struct stage_target *st);

/* The value to stage: --value, else the template's. Judged by the value rules first (a value
 * they refuse is refused, never overridable; --strict refuses an expired one), then against
 * the template's allowed range. adv (released by the caller with advice_release, also on
 * error) holds what the rules said, for stage_preflight and value_rules_report. */
int stage_value(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, const struct template *t,
		const struct stage_target *st, uint32_t *value, struct advice *adv, struct gt_error *e);

/* Role, connector and patch-level checks; prints what it found. force turns their refusals
 * into warnings. adv: the value rules' verdict (a value that expired with an update is
 * refused on a DC that has it). */
int stage_preflight(struct gt_ctx *ctx, const struct template *t, const struct stage_target *st, const struct advice *adv,
		    int force, struct gt_error *e);

/* The GPP item a template stages into a GPO (Machine side, action U), with a fresh uid and
 * changed time. Release with template_item_release. */
struct template_item {
	struct gpp_setting s;
	char *key;
	char changed[32];
	char uid[39];
};

int template_item_init(struct template_item *ti, const struct template *t, uint32_t value, struct gt_error *e);
void template_item_release(struct template_item *ti);

#endif
