/* What stage and validate share: where a template goes (a hive, an offline Windows image,
 * a GPO), the value it stages, the preflight checks (role, connector version, patch level,
 * the value itself) and the expiry rule, judged as of --as-of. */
#ifndef GPOTOOL_STAGE_H
#define GPOTOOL_STAGE_H

#include <stdint.h>

#include "cmd.h"
#include "error.h"
#include "gpp.h"
#include "template.h"
#include "winreg.h"

enum stage_kind { STAGE_HIVE, STAGE_IMAGE, STAGE_GPO };

struct stage_target {
	enum stage_kind kind;
	enum hive_kind hive;   /* the hive the template writes: SYSTEM or SOFTWARE */
	char *write_path;      /* the hive file written (hive and image targets) */
	char *system_path;     /* SYSTEM hive read for the role, if at hand */
	char *software_path;   /* SOFTWARE hive read for the connector and the build, if at hand */
	const char *gpo_dir;
};

/* Reads --hive/--image/--gpo and the template's hive; exactly one target. */
int stage_target_resolve(const struct cmd_entry *entry, const struct cmd_args *a, const struct template *t,
			 struct stage_target *st, struct gt_error *e);
void stage_target_release(struct stage_target *st);

/* The value to stage: --value, else the template's; checked against allowed and refused values. */
int stage_value(const struct cmd_entry *entry, const struct cmd_args *a, const struct template *t, uint32_t *value,
		struct gt_error *e);

/* Role, connector and patch-level checks; prints what it found. force turns their refusals
 * into warnings. */
int stage_preflight(struct gt_ctx *ctx, const struct template *t, const struct stage_target *st, int force,
		    struct gt_error *e);

/* The expiry warning (stderr, and "expiry" in JSON); with --strict an expired template is
 * refused. Also the warning for weak bits in the value. */
int stage_expiry(struct gt_ctx *ctx, const struct template *t, uint32_t value, struct gt_error *e);

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
