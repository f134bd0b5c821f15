/* The value rules (templates/value-rules, kb/advisory.h) of every value a plan sets. */
#ifndef GPOTOOL_RULES_H
#define GPOTOOL_RULES_H

#include "kb/advisory.h"
#include "run/run.h"
#include "state/plan.h"

/* The value rules (templates/value-rules, advisory.h) of every value plan sets: the one place
 * each writer applies them. judge refuses (GT_REFUSED, naming subject) a value a rule refuses
 * and, with --strict, an expired one; a rollback is never refused. report prints each hit
 * once (notes only when writing), fills "advisories" and "expiry" in the JSON result and marks
 * the rules reported for this run. apply = judge + report, unless already reported. */
int value_rules_judge(struct gt_ctx *ctx, const struct plan *p, const char *key_prefix, const char *subject,
		      struct advice *a, struct gt_error *e);
void value_rules_report(struct gt_ctx *ctx, const struct advice *a, int writing);
int apply_value_rules(struct gt_ctx *ctx, const struct plan *p, const char *key_prefix, const char *subject,
		      struct gt_error *e);

#endif
