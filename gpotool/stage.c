/* Targets, preflight and expiry for stage and validate; see stage.h. */
#include "stage.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "builds.h"
#include "cmdutil.h"
#include "gpotx.h"
#include "gpo.h"
#include "hivetx.h"
#include "keypath.h"
#include "sbuf.h"

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
		st->write_path = xstrdup(hive);
		if (st->hive == HK_SYSTEM)
			st->system_path = xstrdup(hive);
		else
			st->software_path = xstrdup(hive);
	} else if (image) {
		st->kind = STAGE_IMAGE;
		if (image_hive(image, "SYSTEM", &st->system_path, e) < 0 || image_hive(image, "SOFTWARE", &st->software_path, e) < 0)
			return -1;
		st->write_path = st->hive == HK_SYSTEM ? (st->system_path ? xstrdup(st->system_path) : NULL)
						       : (st->software_path ? xstrdup(st->software_path) : NULL);
		if (!st->write_path)
			return gt_fail(e, GT_REFUSED, "'%s' holds no System32/config/%s: is it the Windows folder of an offline image?",
				       image, hive_kind_name(st->hive));
	} else {
		st->kind = STAGE_GPO;
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

int stage_value(const struct cmd_entry *entry, const struct cmd_args *a, const struct template *t, uint32_t *value,
		struct gt_error *e)
{
	const char *given = cmd_opt(entry, a, "value");
	uint64_t v;

	if (!given && !t->has_data)
		return gt_fail(e, GT_USAGE, "template '%s' needs --value N", t->name);
	if (given && parse_u64(given, UINT32_MAX, &v) < 0)
		return gt_fail(e, GT_USAGE, "--value takes a number from 0 to 4294967295 (decimal or 0x-hex), not '%s'", given);
	*value = given ? (uint32_t)v : t->data;
	for (size_t i = 0; i < t->nrefuse; i++)
		if (t->refuse[i].value == *value)
			return gt_fail(e, GT_REFUSED, "refusing %s = %u for %s: %s", t->value, *value, t->name, t->refuse[i].reason);
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

static int check_build(struct gt_ctx *ctx, const struct template *t, const char *software_path, int force, struct gt_error *e)
{
	struct reg_value ubr;
	struct build_status bs;
	struct hivetx tx;
	char *build = NULL, msg[700];
	uint64_t b = 0;
	uint32_t u = 0;
	int r, ret = 0;

	if (hivetx_open(&tx, software_path, 0, NULL, e) < 0)
		return -1;
	r = hivetx_read_string(&tx, WINREG_CURRENT_VERSION_KEY, "CurrentBuild", &build, e);
	if (r == 1 && hivetx_read_value(&tx, WINREG_CURRENT_VERSION_KEY, "UBR", &ubr, e) == 1) {
		if (ubr.type == RT_DWORD && ubr.len == 4)
			u = (uint32_t)ubr.data[0] | (uint32_t)ubr.data[1] << 8 | (uint32_t)ubr.data[2] << 16 | (uint32_t)ubr.data[3] << 24;
		reg_value_release(&ubr);
	}
	hivetx_close(&tx);
	if (r < 0) {
		free(build);
		return -1;
	}
	if (r == 0 || parse_u64(build, UINT32_MAX, &b) < 0 || builds_lookup(gpotool_datadir(), (uint32_t)b, u, &bs, e) < 0 ||
	    bs.level == PATCH_UNKNOWN) {
		free(build);
		if (e->code != GT_OK)
			return -1;
		out_text(ctx, "preflight: build: unknown to templates/update-builds.tsv; the patch level is not checked\n");
		json_object_object_add(ctx->result, "patch_level", json_object_new_string("unknown"));
		return 0;
	}
	out_text(ctx, "preflight: build: %s.%u (%s; February 2025 update %s, September 2025 update %s)\n", build, u, bs.product,
		 bs.level >= PATCH_FEB_2025 ? "installed" : "not installed", bs.level >= PATCH_SEP_2025 ? "installed" : "not installed");
	json_object_object_add(ctx->result, "patch_level", json_object_new_string(
		bs.level == PATCH_SEP_2025 ? "september-2025" : bs.level == PATCH_FEB_2025 ? "february-2025" : "before-february-2025"));
	if (t->has_expiry && bs.level == PATCH_SEP_2025) {
		snprintf(msg, sizeof(msg), "this DC is at %s.%u, which has the September 9, 2025 update (%s.%u): it ignores %s, "
			 "so %s would change nothing", build, u, build, bs.sep_ubr, t->value, t->name);
		ret = refuse_or_warn(force, e, msg);
	}
	free(build);
	return ret;
}

int stage_preflight(struct gt_ctx *ctx, const struct template *t, const struct stage_target *st, int force,
		    struct gt_error *e)
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
			return check_build(ctx, t, st->software_path, force, e);
		out_text(ctx, "preflight: build: no SOFTWARE hive at hand (use --image to check the patch level)\n");
	}
	return 0;
}

int stage_expiry(struct gt_ctx *ctx, const struct template *t, uint32_t value, struct gt_error *e)
{
	struct tm tm = { .tm_year = t->expires_y - 1900, .tm_mon = t->expires_m - 1, .tm_mday = t->expires_d };
	struct json_object *o;
	char date[16];
	long days;

	if (t->warn_bits & value)
		out_warn("%s = 0x%x: %s", t->value, value, t->warn_bits_why);
	if (!t->has_expiry)
		return 0;
	ctx->template_warnings = 1;
	days = (long)(((long long)timegm(&tm) - ctx->as_of) / 86400);
	snprintf(date, sizeof(date), "%04d-%02d-%02d", t->expires_y, t->expires_m, t->expires_d);
	o = json_object_new_object();
	json_object_object_add(o, "date", json_object_new_string(date));
	json_object_object_add(o, "days", json_object_new_int64(days > 0 ? days : 0));
	json_object_object_add(o, "expired", json_object_new_boolean(days <= 0));
	json_object_object_add(ctx->result, "expiry", o);
	if (days > 0) {
		out_warn("%s works only until the %s security update (KB5014754): %ld day%s left", t->name, date, days,
			 days == 1 ? "" : "s");
		return 0;
	}
	out_warn("%s EXPIRED on %s: domain controllers with the September 9, 2025 security update ignore %s; it only helps "
		 "DCs that do not have that update yet. The real fix is strongly mapped certificates (SID extension "
		 "1.3.6.1.4.1.311.25.2, or the SAN URL tag:microsoft.com,2022-09-14:sid:<SID>)", t->name, date, t->value);
	if (ctx->strict)
		return gt_fail(e, GT_REFUSED, "refused (--strict): %s expired on %s", t->name, date);
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
