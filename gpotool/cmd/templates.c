/* gpotool templates [NAME]: the setting templates gpotool knows (templates/ data). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "kb/advisory.h"
#include "cmd/cmd.h"
#include "gpo/gpo.h"
#include "kb/template.h"
#include "core/datadir.h"

/* The value rules a template's writes meet: refusals always (they say why a value cannot be
 * given), the others for the data the template can write. */
static void show_rules(struct gt_ctx *ctx, const struct template *t, const struct value_rules *rules)
{
	const struct value_rule *r[32];
	struct json_object *list = json_object_new_array();
	int n = value_rules_for(rules, t->key, t->value, r, sizeof(r) / sizeof(r[0]));

	for (int i = 0; i < n; i++) {
		const struct value_rule *x = r[i];
		uint32_t lo = t->has_data ? t->data : t->allowed_min, hi = t->has_data ? t->data : t->allowed_max;
		struct json_object *o;
		char data[32];

		if (x->kind != RULE_REFUSE && x->match == MATCH_EQUAL && (x->data < lo || x->data > hi))
			continue;
		if (x->match == MATCH_ANY)
			snprintf(data, sizeof(data), "any value");
		else
			snprintf(data, sizeof(data), x->match == MATCH_BITS ? "bits 0x%x" : "%u", x->data);
		switch (x->kind) {
		case RULE_REFUSE: out_text(ctx, "  refused:  %s: %s\n", data, x->says); break;
		case RULE_EXPIRES: out_text(ctx, "  expires:  %s, for %s: %s\n", x->date, data, x->says); break;
		case RULE_NOTE: out_text(ctx, "  note:     %s: %s\n", data, x->says); break;
		case RULE_WARN: out_text(ctx, "  warns:    %s: %s\n", data, x->says); break;
		}
		o = json_object_new_object();
		json_object_object_add(o, "rule", json_object_new_string(rule_kind_name(x->kind)));
		json_object_object_add(o, "data", json_object_new_string(data));
		json_object_object_add(o, "date", json_object_new_string(x->date));
		json_object_object_add(o, "says", json_object_new_string(x->says));
		json_object_array_add(list, o);
	}
	json_object_object_add(ctx->result, "rules", list);
}

static void show_one(struct gt_ctx *ctx, const struct template *t, const struct value_rules *rules)
{
	struct json_object *f = json_object_new_array(), *s = json_object_new_array();

	out_text(ctx, "%s: %s\n", t->name, t->summary);
	out_text(ctx, "  purpose:  %s\n  key:      %s\n  value:    %s (%s)\n", t->purpose, t->key, t->value, reg_type_name(t->type));
	if (t->has_data)
		out_text(ctx, "  data:     %u\n", t->data);
	else
		out_text(ctx, "  data:     from --value\n");
	out_text(ctx, "  allowed:  %u to %u\n  role:     %s\n", t->allowed_min, t->allowed_max, template_role_name(t->role));
	show_rules(ctx, t, rules);
	if (t->min_connector)
		out_text(ctx, "  needs:    Certificate Connector for Microsoft Intune %s or later\n", t->min_connector);
	if (t->gpo_link)
		out_text(ctx, "  GPO link: %s\n", t->gpo_link);
	for (size_t i = 0; i < t->nfollowup; i++) {
		out_text(ctx, "  then:     %s\n", t->followup[i]);
		json_object_array_add(f, json_object_new_string(t->followup[i]));
	}
	for (size_t i = 0; i < t->nsource; i++) {
		out_text(ctx, "  source:   %s\n", t->source[i]);
		json_object_array_add(s, json_object_new_string(t->source[i]));
	}
	json_object_object_add(ctx->result, "name", json_object_new_string(t->name));
	json_object_object_add(ctx->result, "key", json_object_new_string(t->key));
	json_object_object_add(ctx->result, "value", json_object_new_string(t->value));
	json_object_object_add(ctx->result, "data", t->has_data ? json_object_new_int64(t->data) : NULL);
	json_object_object_add(ctx->result, "role", json_object_new_string(template_role_name(t->role)));
	json_object_object_add(ctx->result, "followups", f);
	json_object_object_add(ctx->result, "sources", s);
}

static int exec_templates(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const char *dir = gpotool_datadir();
	struct json_object *list;
	struct template t;
	char **names;
	size_t n;
	int ret = GT_OK;

	if (a->argc == 1) {
		struct value_rules rules;

		if (template_load(dir, a->argv[0], &t, e) < 0)
			return -1;
		if (value_rules_load(dir, &rules, e) == 0)
			show_one(ctx, &t, &rules);
		else
			ret = -1;
		value_rules_release(&rules);
		template_release(&t);
		return ret;
	}
	if (template_names(dir, &names, &n, e) < 0)
		return -1;
	list = json_object_new_array();
	json_object_object_add(ctx->result, "templates", list);
	for (size_t i = 0; i < n; i++) {
		if (ret == GT_OK && template_load(dir, names[i], &t, e) == 0) {
			out_text(ctx, "%-18s %s\n", t.name, t.summary);
			json_object_array_add(list, json_object_new_string(t.name));
			template_release(&t);
		} else {
			ret = -1;
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

const struct cmd_entry cmd_templates_entry = {
	.name = "templates",
	.args_usage = "[NAME]",
	.summary = "list the setting templates, or show one",
	.options = { NULL },
	.min_args = 0,
	.max_args = 1,
	.exec = exec_templates,
};
