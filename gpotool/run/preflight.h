/* What stage and validate share: the target the user named (exactly one of the table's
 * options), the value staged and the value rules it meets (kb/advisory.h, judged as of
 * --as-of), and the preflight checks (role, connector version, patch level) on the facts the
 * target reads. The target is checked first: a path that is not there or is the wrong kind
 * of hive is the user's mistake (exit 2), said before anything else. */
#ifndef GPOTOOL_PREFLIGHT_H
#define GPOTOOL_PREFLIGHT_H

#include <stdint.h>

#include "kb/advisory.h"
#include "kb/template.h"
#include "run/run.h"

/* Opens the target for setting s: given[i] is the value of the option of the table's i-th
 * kind (--hive, --image, --gpo), or NULL; exactly one must be set (GT_USAGE naming the
 * options otherwise). The audit record names it (ctx_set_target). t released by target_close. */
int preflight_open_target(struct gt_ctx *ctx, const char *const *given, const struct target_setting *s, struct target *t,
			  struct gt_error *e);

/* The template's setting, and its data for value (released by the caller). */
void template_setting(const struct template *t, struct target_setting *s);
int template_data(const struct template *t, uint32_t value, struct reg_value *v, struct gt_error *e);

/* The value to stage: given (--value), else the template's. Judged by the value rules first
 * (a value they refuse is refused, never overridable; --strict refuses an expired one), then
 * against the template's allowed range. adv (released by the caller with advice_release,
 * also on error) holds what the rules said, for preflight_check and value_rules_report. */
int preflight_value(struct gt_ctx *ctx, const char *given, const struct template *t, struct target *target, uint32_t *value,
		    struct advice *adv, struct gt_error *e);

/* Role, connector and patch-level checks; prints what it found. force turns their refusals
 * into warnings. adv: the value rules' verdict (a value that expired with an update is
 * refused on a DC that has it). */
int preflight_check(struct gt_ctx *ctx, const struct template *t, struct target *target, const struct advice *adv, int force,
		    struct gt_error *e);

#endif
