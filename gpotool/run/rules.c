/* The value rules applied by every writer; see rules.h. */
#include "run/rules.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <time.h>

#include "core/datadir.h"
#include "core/sbuf.h"

int value_rules_judge(struct gt_ctx *ctx, const struct plan *p, const char *key_prefix, const char *subject,
		      struct advice *a, struct gt_error *e)
{
	struct sbuf text;
	int ret = 0;

	if (advice_judge(gpotool_datadir(), p, key_prefix, (time_t)ctx->as_of, a, e) < 0)
		return -1;
	/* a rollback puts back what was there: its rules are reported, never refused (but data
	 * given with --undo-on-clients is a new write like any other) */
	if (ctx->rollback_of && !ctx->rollback_new_data)
		return 0;
	sbuf_init(&text);
	for (size_t i = 0; i < a->n && ret == 0; i++) {
		const struct rule_hit *h = &a->hit[i];

		sbuf_reset(&text);
		rule_hit_text(h, &text);
		if (h->rule->kind == RULE_REFUSE)
			ret = gt_fail(e, GT_REFUSED, "'%s': refusing %s", subject, text.buf);
		else if (h->rule->kind == RULE_EXPIRES && h->days <= 0 && ctx->strict)
			ret = gt_fail(e, GT_REFUSED, "refused (--strict): %s = %u (%s) expired on %s", h->name, h->data, h->rule->says,
				      h->rule->date);
	}
	sbuf_release(&text);
	return ret;
}

void value_rules_report(struct gt_ctx *ctx, const struct advice *a, int writing)
{
	struct json_object *list = json_object_new_array();
	struct sbuf text;
	int expiry = 0;

	sbuf_init(&text);
	for (size_t i = 0; i < a->n; i++) {
		const struct rule_hit *h = &a->hit[i];

		json_object_array_add(list, rule_hit_json(h));
		if (h->rule->kind == RULE_EXPIRES && !expiry++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "date", json_object_new_string(h->rule->date));
			json_object_object_add(o, "days", json_object_new_int64(h->days));
			json_object_object_add(o, "expired", json_object_new_boolean(h->days <= 0));
			json_object_object_add(ctx->result, "expiry", o);
		}
		if (h->rule->kind == RULE_NOTE && !writing)
			continue;
		sbuf_reset(&text);
		rule_hit_text(h, &text);
		if (h->rule->kind == RULE_NOTE)
			out_note("%s", text.buf);
		else if (h->rule->kind == RULE_REFUSE)
			out_warn("this puts back %s", text.buf);
		else
			out_warn("%s", text.buf);
	}
	json_object_object_add(ctx->result, "advisories", list);
	sbuf_release(&text);
	ctx->rules_reported = 1;
}

int apply_value_rules(struct gt_ctx *ctx, const struct plan *p, const char *key_prefix, const char *subject,
		      struct gt_error *e)
{
	struct advice a;
	int ret;

	if (ctx->rules_reported)
		return 0;
	ret = value_rules_judge(ctx, p, key_prefix, subject, &a, e);
	if (ret == 0)
		value_rules_report(ctx, &a, 1);
	advice_release(&a);
	return ret;
}
