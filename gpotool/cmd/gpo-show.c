/* gpotool gpo show DIR: the GPO's versions and Registry items, and the problems an
 * administrator would want to know about before a change window. DIR is a GPO folder, a
 * GPMC backup or a samba-tool gpo backup (whose Registry.xml is kept as it was). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/dirfind.h"
#include "cmd/cmd.h"
#include "core/datadir.h"
#include "core/sbuf.h"
#include "core/textesc.h"
#include "gpo/adattrs.h"
#include "gpo/gpotx.h"
#include "core/safefile.h"

/* One side of a GPO as shown: its Registry.xml, parsed, and the version half clients read. */
struct side_view {
	int user;
	const char *reg_path;        /* NULL or absent: the side has none */
	int reg_exists;
	const char *absent;          /* how to name it when absent */
	struct gpp_doc *doc;
	uint32_t version;            /* GPT.INI's */
	int check_version;           /* a half of 0 under items is a problem (not for GPMC backups) */
};

struct item_key {
	char *key;   /* hive\key\name, for comparing case-insensitively */
	size_t index;
};

static int cmp_item_key(const void *a, const void *b)
{
	const struct item_key *x = a, *y = b;
	int c = strcasecmp(x->key, y->key);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Items that set the same value, found by sorting: a large Registry.xml stays quick. */
static void report_duplicates(struct gpp_doc *doc, const char *side, struct json_object *problems)
{
	size_t n = gpp_item_count(doc), m = 0;
	struct item_key *keys = xcalloc(n ? n : 1, sizeof(*keys));
	char msg[512];

	for (size_t i = 0; i < n; i++) {
		struct gpp_item it;
		struct sbuf k;

		gpp_item_get(doc, i, &it);
		/* key-only items (type "") set no value, so they never clash with one */
		if (*it.type) {
			sbuf_init(&k);
			sbuf_addf(&k, "%s\\%s\\%s", it.hive, it.key, it.name);
			keys[m].key = sbuf_detach(&k, NULL);
			keys[m++].index = i;
		}
		gpp_item_release(&it);
	}
	qsort(keys, m, sizeof(*keys), cmp_item_key);
	for (size_t i = 1; i < m; i++)
		if (strcasecmp(keys[i - 1].key, keys[i].key) == 0) {
			snprintf(msg, sizeof(msg), "%s items %zu and %zu both set %s; the later one wins on clients", side,
				 keys[i - 1].index + 1, keys[i].index + 1, keys[i].key);
			json_object_array_add(problems, json_object_new_string(msg));
		}
	for (size_t i = 0; i < m; i++)
		free(keys[i].key);
	free(keys);
}

static void show_side(struct gt_ctx *ctx, const struct side_view *v, struct json_object *jside, struct json_object *problems)
{
	struct json_object *items = json_object_new_array();
	size_t n = v->reg_exists ? gpp_item_count(v->doc) : 0;
	const char *side = v->user ? "User" : "Machine";
	uint32_t half = v->user ? v->version >> 16 : v->version & 0xFFFF;
	char msg[512];

	json_object_object_add(jside, "registry_xml", v->reg_exists ? json_object_new_string(v->reg_path) : NULL);
	json_object_object_add(jside, "items", items);
	if (!v->reg_exists) {
		out_text(ctx, "%s: no %s\n", side, v->absent);
		return;
	}
	out_text(ctx, "%s: %s (%zu item%s)\n", side, v->reg_path, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		struct gpp_item it;
		struct json_object *o;

		gpp_item_get(v->doc, i, &it);
		out_text(ctx, "  [%s] %s\\%s\\%s = %s %s%s%s%s%s\n", it.action, it.hive, it.key, *it.name ? it.name : "(default)",
			 *it.type ? it.type : "(key only)", it.value, it.disabled ? "  (disabled)" : "",
			 it.has_filters ? "  (item-level targeting)" : "", *it.collection ? "  in " : "", it.collection);
		/* the objects only for --json: 200,000 items would otherwise cost more than the file */
		if (!ctx->json) {
			gpp_item_release(&it);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "action", json_object_new_string(it.action));
		json_object_object_add(o, "hive", json_object_new_string(it.hive));
		json_object_object_add(o, "key", json_object_new_string(it.key));
		json_object_object_add(o, "name", json_object_new_string(it.name));
		json_object_object_add(o, "type", json_object_new_string(it.type));
		json_object_object_add(o, "value", json_object_new_string(it.value));
		json_object_object_add(o, "uid", json_object_new_string(it.uid));
		json_object_object_add(o, "disabled", json_object_new_boolean(it.disabled));
		json_object_object_add(o, "filtered", json_object_new_boolean(it.has_filters));
		json_object_object_add(o, "collection", json_object_new_string(it.collection));
		json_object_array_add(items, o);
		gpp_item_release(&it);
	}
	report_duplicates(v->doc, side, problems);
	if (n && v->check_version && half == 0) {
		snprintf(msg, sizeof(msg), "GPT.INI's %s version is 0 while %s Registry.xml has items: clients skip this half",
			 v->user ? "user" : "machine", side);
		json_object_array_add(problems, json_object_new_string(msg));
	}
}

/* A GPMC backup's versions: its own gpt.ini when it has one, and what Backup.xml records
 * (each side's SYSVOL version, which GPT.INI holds, and its AD version). */
static void show_backup_versions(struct gt_ctx *ctx, struct gpotx *tx, struct json_object *problems)
{
	static const char *const sides[] = { "machine", "user" };
	struct gt_error ignored = { 0 };
	uint32_t v[2], sysvol[2], ad[2];
	char *ini = NULL, msg[256];
	uint8_t *buf;
	size_t len;

	if (dir_find_ci(tx->gpo.root, "GPT.INI", &ini, &ignored) == 1 &&
	    read_whole_file(ini, GPTINI_MAX_BYTES, &buf, &len, &ignored) == 0) {
		struct gptini g;

		if (gptini_parse(buf, len, &g, &ignored) == 0) {
			out_text(ctx, "GPT.INI (in the backup): Version %u (user %u, machine %u)\n", g.version, g.version >> 16,
				 g.version & 0xFFFF);
			json_object_object_add(ctx->result, "gpt_ini_version", json_object_new_int64(g.version));
			gptini_release(&g);
		}
		free(buf);
	}
	free(ini);
	if (!gpo_backup_versions(tx->version_file.bytes, tx->version_file.len, &v[0], &v[1])) {
		out_text(ctx, "Backup.xml: no MachineVersionNumber/UserVersionNumber\n");
		return;
	}
	for (int i = 0; i < 2; i++) {
		sysvol[i] = v[i] & 0xFFFF;
		ad[i] = v[i] >> 16;
		if (sysvol[i] != ad[i]) {
			snprintf(msg, sizeof(msg), "Backup.xml: the %s side's AD version (%u) and SYSVOL version (%u) differ: the "
				 "GPO was not in step when it was backed up", sides[i], ad[i], sysvol[i]);
			json_object_array_add(problems, json_object_new_string(msg));
		}
	}
	out_text(ctx, "Backup.xml: Version %u (user %u, machine %u; in AD user %u, machine %u)\n",
		 sysvol[1] << 16 | sysvol[0], sysvol[1], sysvol[0], ad[1], ad[0]);
	json_object_object_add(ctx->result, "version", json_object_new_int64((int64_t)(sysvol[1] << 16 | sysvol[0])));
	json_object_object_add(ctx->result, "ad_version", json_object_new_int64((int64_t)(ad[1] << 16 | ad[0])));
}

/* The problems found, last, so that a long list of items does not hide them. */
static void print_problems(struct gt_ctx *ctx, struct json_object *problems)
{
	if (!json_object_array_length(problems)) {
		out_text(ctx, "problems: none found\n");
		return;
	}
	out_text(ctx, "problems:\n");
	for (size_t i = 0; i < json_object_array_length(problems); i++)
		out_text(ctx, "  - %s\n", json_object_get_string(json_object_array_get_idx(problems, i)));
}

static const char *const ext_attr[2] = { "gPCMachineExtensionNames", "gPCUserExtensionNames" };

/* One side of a samba-tool backup: its Registry.xml.SAMBABACKUP, and whether the extension
 * list the backup kept names the GPP Registry extension (without it, clients of a GPO
 * restored from the backup do not run the extension, and apply none of the items). */
static int show_samba_side(struct gt_ctx *ctx, const struct gpo_samba_backup *b, int user, uint32_t version,
			   struct json_object *problems, struct gt_error *e)
{
	struct locked_file f = { .fd = -1 };
	struct gpp_doc *doc = NULL;
	struct json_object *jside;
	char msg[512];

	if (b->reg_path[user] &&
	    (safefile_open(b->reg_path[user], 0, &f, e) < 0 ||
	     gpp_load_view(f.bytes, f.len, b->reg_path[user], gpotool_data_file("gpp-registry.rng"), &doc, e) < 0)) {
		safefile_close(&f);
		return -1;
	}
	jside = json_object_new_object();
	show_side(ctx, &(struct side_view){ .user = user, .reg_path = b->reg_path[user], .reg_exists = doc != NULL,
					    .absent = "Preferences\\Registry\\Registry.xml.SAMBABACKUP", .doc = doc,
					    .version = version, .check_version = 1 },
		  jside, problems);
	json_object_object_add(ctx->result, user ? "user" : "machine", jside);
	if (doc && gpp_item_count(doc) && !(b->ext[user] && strcasestr(b->ext[user], GPP_REGISTRY_CSE))) {
		snprintf(msg, sizeof(msg), "%s Registry.xml has items, but the %s the backup kept has no GPP Registry "
			 "extension %s: clients of a GPO restored from it apply none of them", user ? "User" : "Machine",
			 ext_attr[user], GPP_REGISTRY_CSE);
		json_object_array_add(problems, json_object_new_string(msg));
	}
	gpp_free(doc);
	safefile_close(&f);
	return 0;
}

/* A samba-tool gpo backup: GPT.INI and each Registry.xml from their .SAMBABACKUP copies
 * (the bytes the GPO had, which a restore writes back), and the extension lists AD had. */
static int show_samba_backup(struct gt_ctx *ctx, const struct gpo_samba_backup *b, struct json_object *problems,
			     struct gt_error *e)
{
	struct locked_file f = { .fd = -1 };
	struct gptini g;
	int ret = 0;

	if (safefile_open(b->gpt_path, 0, &f, e) < 0)
		return -1;
	if (gptini_parse(f.bytes, f.len, &g, e) < 0) {
		safefile_close(&f);
		return gt_prefix(e, "'%s': ", b->gpt_path);
	}
	safefile_close(&f);
	out_text(ctx, "samba-tool gpo backup '%s'%s%s\n", b->dir, b->guid[0] ? ", GPO " : "", b->guid);
	out_text(ctx, "GPT.INI (GPT.INI.SAMBABACKUP): Version %u (user %u, machine %u)\n", g.version, g.version >> 16,
		 g.version & 0xFFFF);
	/* measured with Samba 4.17: the restored GPO is a new one, and keeps its own GPT.INI */
	out_text(ctx, "note: samba-tool gpo restore makes a new GPO and copies each Registry.xml.SAMBABACKUP into it as it "
		      "is; without --restore-metadata its Version stays 0, which clients skip: raise it after restoring\n");
	json_object_object_add(ctx->result, "backup", json_object_new_boolean(0));
	json_object_object_add(ctx->result, "samba_backup", json_object_new_boolean(1));
	json_object_object_add(ctx->result, "guid", b->guid[0] ? json_object_new_string(b->guid) : NULL);
	json_object_object_add(ctx->result, "version", json_object_new_int64(g.version));
	for (int s = 0; s < 2; s++) {
		out_text(ctx, "AD when backed up: %s %s\n", ext_attr[s], b->ext[s] ? esc(b->ext[s]) : "(absent)");
		json_object_object_add(ctx->result, ext_attr[s], b->ext[s] ? json_object_new_string(b->ext[s]) : NULL);
	}
	for (int user = 0; user <= 1 && ret == 0; user++)
		ret = show_samba_side(ctx, b, user, g.version, problems, e);
	gptini_release(&g);
	return ret;
}

static int exec_gpo_show(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct json_object *problems = json_object_new_array();
	struct gpo_samba_backup sb;
	struct gpotx tx;
	int samba;

	json_object_object_add(ctx->result, "problems", problems);
	if ((samba = gpo_samba_backup_open(a->argv[0], &sb, e)) < 0)
		return -1;
	if (samba) {
		int ret = show_samba_backup(ctx, &sb, problems, e);

		gpo_samba_backup_release(&sb);
		if (ret < 0)
			return -1;
		print_problems(ctx, problems);
		return GT_OK;
	}
	for (int user = 0; user <= 1; user++) {
		struct json_object *side;

		if (gpotx_open(&tx, a->argv[0], user, 0, e) < 0)
			return -1;
		side = json_object_new_object();
		if (!user) {
			out_text(ctx, "%s '%s'%s%s\n", tx.gpo.backup ? "GPMC backup" : "GPO folder", tx.gpo.dir,
				 tx.gpo.guid[0] ? ", GPO " : "", tx.gpo.guid);
			json_object_object_add(ctx->result, "backup", json_object_new_boolean(tx.gpo.backup));
			json_object_object_add(ctx->result, "samba_backup", json_object_new_boolean(0));
			json_object_object_add(ctx->result, "guid", tx.gpo.guid[0] ? json_object_new_string(tx.gpo.guid) : NULL);
			if (!tx.gpo.backup) {
				out_text(ctx, "GPT.INI: Version %u (user %u, machine %u)\n", tx.gpt.version, tx.gpt.version >> 16,
					 tx.gpt.version & 0xFFFF);
				json_object_object_add(ctx->result, "version", json_object_new_int64(tx.gpt.version));
			} else {
				show_backup_versions(ctx, &tx, problems);
			}
		}
		show_side(ctx, &(struct side_view){ .user = user, .reg_path = tx.reg_path, .reg_exists = tx.reg_exists,
						      .absent = "Preferences\\Registry\\Registry.xml", .doc = tx.doc,
						      .version = tx.gpt.version, .check_version = !tx.gpo.backup },
			  side, problems);
		json_object_object_add(ctx->result, user ? "user" : "machine", side);
		gpotx_close(&tx);
	}
	print_problems(ctx, problems);
	return GT_OK;
}

const struct cmd_entry cmd_gpo_show_entry = {
	.name = "gpo show",
	.args_usage = "DIR",
	.summary = "a GPO's versions, Registry items and problems found (GPO folder, GPMC or samba-tool backup)",
	.options = { NULL },
	.min_args = 1,
	.max_args = 1,
	.exec = exec_gpo_show,
};
