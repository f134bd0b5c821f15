/* Targets, preflight and expiry for stage and validate; see stage.h. */
#include "run/stage.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kb/builds.h"
#include "run/cmdutil.h"
#include "gpo/gpotx.h"
#include "gpo/gpo.h"
#include "hive/hivetx.h"
#include "reg/keypath.h"
#include "core/sbuf.h"
#include "core/datadir.h"

/* Display name of the Intune Certificate Connector's Uninstall entry (KB5014754 Intune
 * guidance; the connector's installer writes it). */
#define CONNECTOR_DISPLAY_NAME "Certificate Connector for Microsoft Intune"

static const char *const uninstall_keys[] = {
	"Microsoft\\Windows\\CurrentVersion\\Uninstall",
	"WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
};

static int image_hive(const char *windir, const char *name, char **out, struct gt_error *e)
{
	char *sys32 = NULL, *config = NULL;
	int r = dir_find_ci(windir, "System32", &sys32, e);

	*out = NULL;
	if (r == 1)
		r = dir_find_ci(sys32, "config", &config, e);
	if (r == 1)
		r = dir_find_ci(config, name, out, e);
	free(sys32);
	free(config);
	return r;
}

/* The hive given with --hive must be the template's hive: writing SYSTEM's key into SOFTWARE
 * cannot be right, whatever --force says. A hive whose kind cannot be told is taken as given. */
static int check_hive_kind(const struct template *t, struct stage_target *st, const char *path, struct gt_error *e)
{
	struct hivetx tx;
	enum hive_kind kind;

	if (hivetx_open(&tx, path, 0, NULL, e) < 0)
		return -1;
	kind = tx.kind;
	hivetx_close(&tx);
	if (kind != HK_OTHER && st->hive != HK_OTHER && kind != st->hive)
		return gt_fail(e, GT_USAGE, "'%s' is a %s hive, but %s writes %s\\%s in the %s hive: give that hive with --hive, "
			       "or the Windows folder with --image", path, hive_kind_name(kind), t->name, t->key, t->value,
			       hive_kind_name(st->hive));
	if (kind != HK_OTHER)
		st->hive = kind;
	return 0;
}

int stage_target_resolve(const struct cmd_entry *entry, const struct cmd_args *a, const struct template *t,
			 struct stage_target *st, struct gt_error *e)
{
	const char *hive = cmd_opt(entry, a, "hive"), *image = cmd_opt(entry, a, "image"), *gpo = cmd_opt(entry, a, "gpo");
	struct keypath kp;

	memset(st, 0, sizeof(*st));
	if (!!hive + !!image + !!gpo != 1)
		return gt_fail(e, GT_USAGE, "give exactly one target: --hive FILE, --image WINDIR or --gpo DIR");
	if (keypath_parse(t->key, &kp, e) < 0)
		return -1;
	st->hive = hive_kind_from_name(kp.mount, &st->hive) ? st->hive : HK_OTHER;
	keypath_release(&kp);
	if (hive) {
		st->kind = STAGE_HIVE;
		if (gt_check_path(hive, 0, "--hive takes a hive file", e) < 0 || check_hive_kind(t, st, hive, e) < 0)
			return -1;
		st->write_path = xstrdup(hive);
		if (st->hive == HK_SYSTEM)
			st->system_path = xstrdup(hive);
		else
			st->software_path = xstrdup(hive);
	} else if (image) {
		st->kind = STAGE_IMAGE;
		if (gt_check_path(image, 1, "--image takes the Windows folder of an offline image", e) < 0)
			return -1;
		if (image_hive(image, "SYSTEM", &st->system_path, e) < 0 || image_hive(image, "SOFTWARE", &st->software_path, e) < 0)
			return -1;
		st->write_path = st->hive == HK_SYSTEM ? (st->system_path ? xstrdup(st->system_path) : NULL)
						       : (st->software_path ? xstrdup(st->software_path) : NULL);
		if (!st->write_path)
			return gt_fail(e, GT_NO_SUCH_PATH, "'%s' holds no System32/config/%s: --image takes the Windows folder of an "
				       "offline image", image, hive_kind_name(st->hive));
	} else {
		st->kind = STAGE_GPO;
		if (gt_check_path(gpo, 1, "--gpo takes a GPO folder, holding GPT.INI, or a GPMC backup", e) < 0)
			return -1;
		st->gpo_dir = gpo;
	}
	return 0;
}

void stage_target_release(struct stage_target *st)
{
	free(st->write_path);
	free(st->system_path);
	free(st->software_path);
	memset(st, 0, sizeof(*st));
}

/* What the value rules say about writing value to the template's key, in adv. */
static int judge_value(struct gt_ctx *ctx, const struct template *t, const struct stage_target *st, uint32_t value,
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
	ret = value_rules_judge(ctx, &p, "", st->kind == STAGE_GPO ? st->gpo_dir : st->write_path, adv, e);
	plan_release(&p);
	return ret;
}

int stage_value(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, const struct template *t,
		const struct stage_target *st, uint32_t *value, struct advice *adv, struct gt_error *e)
{
	const char *given = cmd_opt(entry, a, "value");
	uint64_t v;

	memset(adv, 0, sizeof(*adv));
	if (!given && !t->has_data)
		return gt_fail(e, GT_USAGE, "template '%s' needs --value N", t->name);
	if (given && parse_u64(given, UINT32_MAX, &v) < 0)
		return gt_fail(e, GT_USAGE, "--value takes a number from 0 to 4294967295 (decimal or 0x-hex), not '%s'", given);
	*value = given ? (uint32_t)v : t->data;
	/* the value's own rules first: why 0 is refused matters more than a template's range */
	if (judge_value(ctx, t, st, *value, adv, e) < 0)
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

static int check_role(struct gt_ctx *ctx, const char *system_path, int force, struct gt_error *e)
{
	struct hivetx tx;
	char key[64], *ptype = NULL, msg[600];
	unsigned cs;
	int r, ret = 0;

	if (hivetx_open(&tx, system_path, 0, NULL, e) < 0)
		return -1;
	r = hivetx_current_control_set(&tx, &cs, e);
	if (r == 1) {
		snprintf(key, sizeof(key), "ControlSet%03u\\%s", cs, WINREG_PRODUCT_OPTIONS_KEY);
		r = hivetx_read_string(&tx, key, WINREG_PRODUCT_TYPE, &ptype, e);
	}
	hivetx_close(&tx);
	if (r < 0)
		return -1;
	if (r == 1 && strcasecmp(ptype, "LanmanNT") == 0) {
		out_text(ctx, "preflight: role: domain controller (ProductType LanmanNT)\n");
	} else {
		snprintf(msg, sizeof(msg), "'%s' is not a domain controller (ProductType %s%s%s); this template is for domain controllers",
			 system_path, r == 1 ? ptype : "absent", r == 1 && product_type_role(ptype) ? ": " : "",
			 r == 1 && product_type_role(ptype) ? product_type_role(ptype) : "");
		ret = refuse_or_warn(force, e, msg);
	}
	json_object_object_add(ctx->result, "product_type", r == 1 ? json_object_new_string(ptype) : NULL);
	free(ptype);
	return ret;
}

/* The connector's DisplayVersion from its Uninstall entry: 1 found (*version caller-freed). */
static int find_connector(struct hivetx *tx, char **version, struct gt_error *e)
{
	for (size_t u = 0; u < sizeof(uninstall_keys) / sizeof(uninstall_keys[0]); u++) {
		struct keypath kp;
		hive_key k, *kids = NULL;
		size_t n = 0;
		int r;

		keypath_split(uninstall_keys[u], &kp);
		r = hivetx_find(tx, &kp, &k, NULL, e);
		keypath_release(&kp);
		if (r < 0 || (r == 1 && hive_subkeys(tx->hive, k, &kids, &n, e) < 0))
			return -1;
		for (size_t i = 0; i < n; i++) {
			struct reg_value name, ver;
			int found = 0;

			if (hive_get_value(tx->hive, kids[i], "DisplayName", &name, e) < 0) {
				free(kids);
				return -1;
			}
			if (name.type == RT_SZ && reg_data_is_clean_string(name.data, name.len)) {
				struct sbuf s;

				sbuf_init(&s);
				utf16le_to_utf8(name.data, name.len - 2, &s);
				found = strcmp(s.buf, CONNECTOR_DISPLAY_NAME) == 0;
				sbuf_release(&s);
			}
			reg_value_release(&name);
			if (!found)
				continue;
			if (hive_get_value(tx->hive, kids[i], "DisplayVersion", &ver, e) < 0) {
				free(kids);
				return -1;
			}
			{
				struct sbuf s;

				sbuf_init(&s);
				if (ver.len >= 2)
					utf16le_to_utf8(ver.data, ver.len - 2, &s);
				*version = sbuf_detach(&s, NULL);
				sbuf_release(&s);
			}
			reg_value_release(&ver);
			free(kids);
			return 1;
		}
		free(kids);
	}
	return 0;
}

static int check_connector(struct gt_ctx *ctx, const struct template *t, const char *software_path, int force, struct gt_error *e)
{
	struct hivetx tx;
	char *version = NULL, msg[600];
	int r, ret = 0;

	if (hivetx_open(&tx, software_path, 0, NULL, e) < 0)
		return -1;
	r = find_connector(&tx, &version, e);
	hivetx_close(&tx);
	if (r < 0)
		return -1;
	if (r == 0) {
		snprintf(msg, sizeof(msg), "'%s' has no \"%s\" installed (no Uninstall entry)", software_path, CONNECTOR_DISPLAY_NAME);
		ret = refuse_or_warn(force, e, msg);
	} else if (version_compare(version, t->min_connector) < 0) {
		snprintf(msg, sizeof(msg), "%s is version %s; %s needs %s or later", CONNECTOR_DISPLAY_NAME, version, t->name, t->min_connector);
		ret = refuse_or_warn(force, e, msg);
	} else {
		out_text(ctx, "preflight: connector: %s %s (needs %s or later)\n", CONNECTOR_DISPLAY_NAME, version, t->min_connector);
	}
	json_object_object_add(ctx->result, "connector_version", version ? json_object_new_string(version) : NULL);
	free(version);
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

/* CurrentBuild, or on Windows before Vista (where CurrentBuild reads "1.511.1 () (Obsolete
 * data - do not use)") CurrentBuildNumber: 1 found, 0 not a number, -1 error. */
static int read_build(struct hivetx *tx, char **build, uint64_t *b, struct gt_error *e)
{
	static const char *const names[] = { "CurrentBuild", "CurrentBuildNumber" };

	*build = NULL;
	for (size_t i = 0; i < 2; i++) {
		int r = hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, names[i], build, e);

		if (r < 0)
			return -1;
		if (r == 1 && parse_u64(*build, UINT32_MAX, b) == 0)
			return 1;
		free(*build);
		*build = NULL;
	}
	return 0;
}

static int check_build(struct gt_ctx *ctx, const struct template *t, const char *software_path, const struct advice *adv,
		       int force, struct gt_error *e)
{
	const struct rule_hit *h;
	struct reg_value ubr;
	struct build_status bs;
	struct hivetx tx;
	char *build = NULL, msg[700];
	uint64_t b = 0;
	uint32_t u = 0;
	int r, ret = 0;

	if (hivetx_open(&tx, software_path, 0, NULL, e) < 0)
		return -1;
	r = read_build(&tx, &build, &b, e);
	if (r == 1 && hivetx_read_value(&tx, WINREG_CURRENT_VERSION_KEY, "UBR", &ubr, e) == 1) {
		if (ubr.type == RT_DWORD && ubr.len == 4)
			u = (uint32_t)ubr.data[0] | (uint32_t)ubr.data[1] << 8 | (uint32_t)ubr.data[2] << 16 | (uint32_t)ubr.data[3] << 24;
		reg_value_release(&ubr);
	}
	hivetx_close(&tx);
	if (r < 0 || (r == 1 && builds_lookup(gpotool_datadir(), (uint32_t)b, u, &bs, e) < 0)) {
		free(build);
		return -1;
	}
	if (r == 0 || bs.level == PATCH_UNKNOWN) {
		out_text(ctx, "preflight: build: %s%s%s unknown to templates/update-builds.tsv; the patch level is not checked\n",
			 r ? "CurrentBuild " : "no CurrentBuild", r ? build : "", r ? " is" : ",");
		json_object_object_add(ctx->result, "patch_level", json_object_new_string("unknown"));
		free(build);
		return 0;
	}
	if (bs.level == PATCH_NO_KB) {
		out_text(ctx, "preflight: build: %s, older than every build KB5014754 shipped for (the oldest: %s, build %u)\n", build,
			 bs.oldest_product, bs.oldest_build);
		json_object_object_add(ctx->result, "patch_level", json_object_new_string("no-kb5014754"));
		snprintf(msg, sizeof(msg), "this DC is at build %s, which KB5014754 never shipped for (it starts with %s, build %u): "
			 "%s has no effect there, so %s would change nothing", build, bs.oldest_product, bs.oldest_build, t->value,
			 t->name);
		free(build);
		return refuse_or_warn(force, e, msg);
	}
	if (bs.level == PATCH_NOT_LISTED) {
		out_text(ctx, "preflight: build: %s.%u (%s; KB5014754 applies; the UBRs of its %s and %s updates are not listed in "
			 "templates/update-builds.tsv, so the patch level is not checked)\n", build, u, bs.product, bs.feb_date,
			 bs.sep_date);
		json_object_object_add(ctx->result, "patch_level", json_object_new_string("unknown"));
		free(build);
		return 0;
	}
	out_text(ctx, "preflight: build: %s.%u (%s; %s update %s, %s update %s)\n", build, u, bs.product, bs.feb_date,
		 bs.level >= PATCH_FEB_2025 ? "installed" : "not installed", bs.sep_date,
		 bs.level >= PATCH_SEP_2025 ? "installed" : "not installed");
	json_object_object_add(ctx->result, "patch_level", json_object_new_string(
		bs.level == PATCH_SEP_2025 ? "september-2025" : bs.level == PATCH_FEB_2025 ? "february-2025" : "before-february-2025"));
	h = expires_with(adv, bs.sep_date);
	if (h && bs.level == PATCH_SEP_2025) {
		snprintf(msg, sizeof(msg), "this DC is at %s.%u, which has the %s update (%s.%u): it ignores %s = %u, "
			 "so %s would change nothing", build, u, bs.sep_date, build, bs.sep_ubr, h->name, h->data, t->name);
		ret = refuse_or_warn(force, e, msg);
	}
	free(build);
	return ret;
}

int stage_preflight(struct gt_ctx *ctx, const struct template *t, const struct stage_target *st, const struct advice *adv,
		    int force, struct gt_error *e)
{
	if (st->kind == STAGE_GPO) {
		if (t->role == ROLE_DOMAIN_CONTROLLER)
			out_text(ctx, "preflight: role: a GPO reaches the machines of the OU it is linked to; link it to %s\n",
				 t->gpo_link ? t->gpo_link : "the OU of the target machines");
		return 0;
	}
	if (t->role == ROLE_DOMAIN_CONTROLLER && st->system_path && check_role(ctx, st->system_path, force, e) < 0)
		return -1;
	if (t->role == ROLE_CONNECTOR_SERVER && t->min_connector) {
		if (!st->software_path)
			return gt_fail(e, GT_USAGE, "%s needs the SOFTWARE hive to check the connector", t->name);
		if (check_connector(ctx, t, st->software_path, force, e) < 0)
			return -1;
	}
	if (t->role == ROLE_DOMAIN_CONTROLLER) {
		if (st->software_path)
			return check_build(ctx, t, st->software_path, adv, force, e);
		out_text(ctx, "preflight: build: not checked: the build is in the SOFTWARE hive (give --image WINDIR to check it)\n");
	}
	return 0;
}

int template_item_init(struct template_item *ti, const struct template *t, uint32_t value, struct gt_error *e)
{
	time_t now = time(NULL);
	char num[16];

	memset(ti, 0, sizeof(*ti));
	ti->s.name = t->value;
	ti->s.action = 'U';
	reg_value_init(&ti->s.value);
	if (gpp_split_key(t->key, 0, &ti->s.hive, &ti->key, e) < 0)
		return -1;
	ti->s.key = ti->key;
	snprintf(num, sizeof(num), "%u", value);
	if (reg_value_from_text(t->type, num, &ti->s.value, e) < 0)
		return -1;
	strftime(ti->changed, sizeof(ti->changed), "%Y-%m-%d %H:%M:%S", gmtime(&now));
	ti->s.changed = ti->changed;
	gpp_new_guid(ti->uid);
	ti->s.uid = ti->uid;
	return 0;
}

void template_item_release(struct template_item *ti)
{
	reg_value_release(&ti->s.value);
	free(ti->key);
	memset(ti, 0, sizeof(*ti));
}
