/* Targets, values and preflight for stage and validate; see preflight.h. */
#include "run/preflight.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/datadir.h"
#include "core/sbuf.h"
#include "kb/builds.h"
#include "run/rules.h"

static int choose_target(const char *const *given, const struct target_ops **ops, const char **what, struct gt_error *e)
{
	size_t n = 0;

	*ops = NULL;
	*what = NULL;
	for (size_t i = 0; target_kind_at(i); i++) {
		if (!given[i])
			continue;
		n++;
		*ops = target_kind_at(i);
		*what = given[i];
	}
	if (n != 1) {
		struct sbuf options;

		sbuf_init(&options);
		target_kinds_usage(&options);
		gt_fail(e, GT_USAGE, "give exactly one target: %s", options.buf);
		sbuf_release(&options);
		return -1;
	}
	return 0;
}

int preflight_open_target(struct gt_ctx *ctx, const char *const *given, const struct target_setting *s, struct target *t,
			  struct gt_error *e)
{
	const struct target_ops *ops;
	const char *what;

	/* the audit record names what was given, even when it is refused */
	for (size_t i = 0; target_kind_at(i); i++)
		if (given[i] && !ctx->target)
			ctx_set_target(ctx, given[i]);
	if (choose_target(given, &ops, &what, e) < 0 ||
	    run_target_open(ctx, t, ops, &(struct target_request){ .what = what, .setting = s, .domain = ctx->domain }, e) < 0)
		return -1;
	ctx_set_target(ctx, target_path(t));
	return 0;
}

void template_setting(const struct template *t, struct target_setting *s)
{
	*s = (struct target_setting){ .key = t->key, .name = t->value, .type = t->type, .label = t->name, .link = t->gpo_link };
}

int template_data(const struct template *t, uint32_t value, struct reg_value *v, struct gt_error *e)
{
	char num[16];

	reg_value_init(v);
	snprintf(num, sizeof(num), "%u", value);
	if (reg_value_from_text(t->type, num, v, e) < 0)
		return -1;
	v->name = xstrdup(t->value);
	return 0;
}

/* What the value rules say about writing value to the template's key, in adv. */
static int judge_value(struct gt_ctx *ctx, const struct template *t, struct target *target, uint32_t value,
		       struct advice *adv, struct gt_error *e)
{
	struct plan p;
	struct change *c;
	int ret;

	plan_init(&p);
	c = plan_add(&p, CH_SET_VALUE, t->key, t->value);
	c->has_new = 1;
	c->new_value.type = RT_DWORD;
	c->new_value.len = 4;
	c->new_value.data = xmalloc(4);
	for (int i = 0; i < 4; i++)
		c->new_value.data[i] = (uint8_t)(value >> (8 * i));
	ret = value_rules_judge(ctx, &p, "", target_locate(target, t->key), adv, e);
	plan_release(&p);
	return ret;
}

int preflight_value(struct gt_ctx *ctx, const char *given, const struct template *t, struct target *target, uint32_t *value,
		    struct advice *adv, struct gt_error *e)
{
	uint64_t v;

	memset(adv, 0, sizeof(*adv));
	if (!given && !t->has_data)
		return gt_fail(e, GT_USAGE, "template '%s' needs --value N", t->name);
	if (given && parse_u64(given, UINT32_MAX, &v) < 0)
		return gt_fail(e, GT_USAGE, "--value takes a number from 0 to 4294967295 (decimal or 0x-hex), not '%s'", given);
	*value = given ? (uint32_t)v : t->data;
	/* the value's own rules first: why 0 is refused matters more than a template's range */
	if (judge_value(ctx, t, target, *value, adv, e) < 0)
		return -1;
	if (t->allowed_min == t->allowed_max && *value != t->allowed_min)
		return gt_fail(e, GT_REFUSED, "refusing %s = %u for %s: it writes %u only", t->value, *value, t->name, t->allowed_min);
	if (*value < t->allowed_min || *value > t->allowed_max)
		return gt_fail(e, GT_REFUSED, "refusing %s = %u for %s: allowed values are %u to %u", t->value, *value, t->name,
			       t->allowed_min, t->allowed_max);
	return 0;
}

/* A finding that refuses unless --force, when it turns into a warning. */
static int refuse_or_warn(int force, struct gt_error *e, const char *msg)
{
	if (force) {
		out_warn("--force: going on although %s", msg);
		return 0;
	}
	return gt_fail(e, GT_REFUSED, "refused: %s (--force to stage anyway)", msg);
}

static int check_role(struct gt_ctx *ctx, struct target *target, int force, struct gt_error *e)
{
	struct target_fact_value f;
	const char *why, *ptype, *role;
	char msg[600];
	int r = target_fact(target, TF_PRODUCT_TYPE, &f, &why, e), ret = 0;

	if (r <= 0) /* the role is not in the hive given: nothing to check it against */
		return r;
	ptype = f.text;
	role = ptype ? product_type_role(ptype) : NULL;
	if (ptype && strcasecmp(ptype, "LanmanNT") == 0) {
		out_text(ctx, "preflight: role: domain controller (ProductType LanmanNT)\n");
	} else {
		snprintf(msg, sizeof(msg), "'%s' is not a domain controller (ProductType %s%s%s); this template is for domain controllers",
			 f.source, ptype ? ptype : "absent", role ? ": " : "", role ? role : "");
		ret = refuse_or_warn(force, e, msg);
	}
	json_object_object_add(ctx->result, "product_type", ptype ? json_object_new_string(ptype) : NULL);
	target_fact_release(&f);
	return ret;
}

static int check_connector(struct gt_ctx *ctx, const struct template *t, struct target *target, int force, struct gt_error *e)
{
	struct target_fact_value f;
	const char *why;
	char msg[600];
	int r = target_fact(target, TF_CONNECTOR_VERSION, &f, &why, e), ret = 0;

	if (r < 0)
		return -1;
	if (r == 0)
		return gt_fail(e, GT_USAGE, "%s needs the SOFTWARE hive to check the connector", t->name);
	if (!f.text) {
		snprintf(msg, sizeof(msg), "'%s' has no \"%s\" installed (no Uninstall entry)", f.source, WINREG_CONNECTOR_DISPLAY_NAME);
		ret = refuse_or_warn(force, e, msg);
	} else if (version_compare(f.text, t->min_connector) < 0) {
		snprintf(msg, sizeof(msg), "%s is version %s; %s needs %s or later", WINREG_CONNECTOR_DISPLAY_NAME, f.text, t->name,
			 t->min_connector);
		ret = refuse_or_warn(force, e, msg);
	} else {
		out_text(ctx, "preflight: connector: %s %s (needs %s or later)\n", WINREG_CONNECTOR_DISPLAY_NAME, f.text, t->min_connector);
	}
	json_object_object_add(ctx->result, "connector_version", f.text ? json_object_new_string(f.text) : NULL);
	target_fact_release(&f);
	return ret;
}

/* The value rule that ends with the update of date, if the value staged has one. */
static const struct rule_hit *expires_with(const struct advice *adv, const char *date)
{
	for (size_t i = 0; i < adv->n; i++)
		if (adv->hit[i].rule->kind == RULE_EXPIRES && strcmp(adv->hit[i].rule->date, date) == 0)
			return &adv->hit[i];
	return NULL;
}

static void set_patch_level(struct gt_ctx *ctx, const char *level)
{
	json_object_object_add(ctx->result, "patch_level", json_object_new_string(level));
}

/* The build is known to the table, with the updates that matter for this value. */
static int judge_patch_level(struct gt_ctx *ctx, const struct template *t, const struct target_fact_value *f,
			     const struct build_status *bs, const struct advice *adv, int force, struct gt_error *e)
{
	const struct rule_hit *h;
	char msg[700];

	if (bs->level == PATCH_NO_KB) {
		out_text(ctx, "preflight: build: %s, older than every build KB5014754 shipped for (the oldest: %s, build %u)\n", f->text,
			 bs->oldest_product, bs->oldest_build);
		set_patch_level(ctx, "no-kb5014754");
		snprintf(msg, sizeof(msg), "this DC is at build %s, which KB5014754 never shipped for (it starts with %s, build %u): "
			 "%s has no effect there, so %s would change nothing", f->text, bs->oldest_product, bs->oldest_build, t->value,
			 t->name);
		return refuse_or_warn(force, e, msg);
	}
	if (bs->level == PATCH_NOT_LISTED) {
		out_text(ctx, "preflight: build: %s.%u (%s; KB5014754 applies; the UBRs of its %s and %s updates are not listed in "
			 "templates/update-builds.tsv, so the patch level is not checked)\n", f->text, f->ubr, bs->product, bs->feb_date,
			 bs->sep_date);
		set_patch_level(ctx, "unknown");
		return 0;
	}
	out_text(ctx, "preflight: build: %s.%u (%s; %s update %s, %s update %s)\n", f->text, f->ubr, bs->product, bs->feb_date,
		 bs->level >= PATCH_FEB_2025 ? "installed" : "not installed", bs->sep_date,
		 bs->level >= PATCH_SEP_2025 ? "installed" : "not installed");
	set_patch_level(ctx, bs->level == PATCH_SEP_2025 ? "september-2025" : bs->level == PATCH_FEB_2025 ? "february-2025"
												   : "before-february-2025");
	h = expires_with(adv, bs->sep_date);
	if (h && bs->level == PATCH_SEP_2025) {
		snprintf(msg, sizeof(msg), "this DC is at %s.%u, which has the %s update (%s.%u): it ignores %s = %u, "
			 "so %s would change nothing", f->text, f->ubr, bs->sep_date, f->text, bs->sep_ubr, h->name, h->data, t->name);
		return refuse_or_warn(force, e, msg);
	}
	return 0;
}

static int check_build(struct gt_ctx *ctx, const struct template *t, struct target *target, const struct advice *adv,
		       int force, struct gt_error *e)
{
	struct target_fact_value f;
	struct build_status bs;
	const char *why;
	int r = target_fact(target, TF_BUILD, &f, &why, e), ret;

	if (r < 0)
		return -1;
	if (r == 0) {
		out_text(ctx, "preflight: build: not checked: %s\n", why);
		return 0;
	}
	if (f.text && builds_lookup(gpotool_datadir(), f.number, f.ubr, &bs, e) < 0) {
		target_fact_release(&f);
		return -1;
	}
	if (!f.text || bs.level == PATCH_UNKNOWN) {
		out_text(ctx, "preflight: build: %s%s%s unknown to templates/update-builds.tsv; the patch level is not checked\n",
			 f.text ? "CurrentBuild " : "no CurrentBuild", f.text ? f.text : "", f.text ? " is" : ",");
		set_patch_level(ctx, "unknown");
		target_fact_release(&f);
		return 0;
	}
	ret = judge_patch_level(ctx, t, &f, &bs, adv, force, e);
	target_fact_release(&f);
	return ret;
}

int preflight_check(struct gt_ctx *ctx, const struct template *t, struct target *target, const struct advice *adv, int force,
		    struct gt_error *e)
{
	if (target_reach(target) == TARGET_REACHES_BY_LINK) {
		if (t->role == ROLE_DOMAIN_CONTROLLER)
			out_text(ctx, "preflight: role: a GPO reaches the machines of the OU it is linked to; link it to %s\n",
				 t->gpo_link ? t->gpo_link : "the OU of the target machines");
		return 0;
	}
	if (t->role == ROLE_DOMAIN_CONTROLLER && check_role(ctx, target, force, e) < 0)
		return -1;
	if (t->role == ROLE_CONNECTOR_SERVER && t->min_connector && check_connector(ctx, t, target, force, e) < 0)
		return -1;
	if (t->role == ROLE_DOMAIN_CONTROLLER)
		return check_build(ctx, t, target, adv, force, e);
	return 0;
}
