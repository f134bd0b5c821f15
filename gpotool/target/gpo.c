/* The GPO backend: a GPO folder (GPT.INI and a side's Registry.xml) or a GPMC backup, through
 * the GPO transaction (gpo/gpotx.h). A setting is a GPP Registry item; a commit raises the
 * version so that clients apply it; the machines it reaches are those of the OU it is
 * linked to, so the preflight cannot read their facts. */
#include "target/backend.h"
#include "target/gpo.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/datadir.h"
#include "core/digest.h"
#include "core/sbuf.h"
#include "gpo/gpo-fault.h"
#include "gpo/gpotx.h"
#include "gpo/gpp.h"
#include "gpo/gppitem.h"
#include "gpo/gptini.h"
#include "kb/template.h"

/* What the recorded change does when committed. */
enum gpo_step {
	GPO_NOTHING,        /* nothing recorded yet */
	GPO_UNCHANGED,      /* the GPO has the item already */
	GPO_RAISE_VERSION,  /* it has the item, but clients skip its half: raise the version */
	GPO_WRITE,          /* Registry.xml edited (tx.new_reg), version +1 */
};

struct gpo_target {
	char *dir;
	int user;               /* the User side */
	int tx_open;
	int dry_run;
	struct gpotx tx;
	enum gpo_step step;
	struct gpp_setting s;   /* the item set or removed (action 0) */
	char *hive_name;        /* s's strings, owned */
	char *key;
	char *name;
	char changed[32];
	char uid[39];
	const struct target_setting *setting; /* the template's setting, when opened for one */
};

static struct gpo_target *priv(const struct target *t)
{
	return t->priv;
}

static const struct report *rep(const struct target *t)
{
	return &t->env->rep;
}

/* ---- opening ---- */

static void close_tx(struct gpo_target *g)
{
	if (g->tx_open)
		gpotx_close(&g->tx);
	g->tx_open = 0;
}

/* For writing: recovery first finishes or undoes what an interrupted gpotool left pending
 * on its files. A GPMC backup has no GPT.INI: its journal entries name Registry.xml alone. */
static int open_write(struct target *t, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	int r;

	close_tx(g);
	if (t->env->writing)
		t->env->writing(t->env->arg, g->dir);
	if (target_check_recordable(g->dir, e) < 0 || gpotx_open(&g->tx, g->dir, g->user, 1, e) < 0)
		return -1;
	g->tx_open = 1;
	r = target_recover(t, (const char *const[]){ g->tx.reg_path, g->tx.gpo.gpt_path }, g->tx.gpo.backup ? 1 : 2, e);
	if (r == 0)
		return 0;
	close_tx(g);
	if (r < 0 || gpotx_open(&g->tx, g->dir, g->user, 1, e) < 0)
		return -1;
	g->tx_open = 1;
	return 0;
}

static int open_read(struct gpo_target *g, struct gt_error *e)
{
	if (g->tx_open)
		return 0;
	if (gpotx_open(&g->tx, g->dir, g->user, 0, e) < 0)
		return -1;
	g->tx_open = 1;
	return 0;
}

static int gpo_target_open(struct target *t, const struct target_request *rq, struct gt_error *e)
{
	struct gpo_target *g = xcalloc(1, sizeof(*g));

	t->priv = g;
	g->dir = xstrdup(rq->what);
	g->user = rq->user_side;
	g->setting = rq->setting;
	if (rq->setting && gt_check_path(rq->what, 1, "--gpo takes a GPO folder, holding GPT.INI, or a GPMC backup", e) < 0)
		return -1;
	return 0;
}

static void gpo_target_close(struct target *t)
{
	struct gpo_target *g = priv(t);

	if (!g)
		return;
	close_tx(g);
	reg_value_release(&g->s.value);
	free(g->hive_name);
	free(g->key);
	free(g->name);
	free(g->dir);
	free(g);
}

static const char *gpo_target_path(const struct target *t)
{
	return priv(t)->dir;
}

static int gpo_target_begin(struct target *t, int dry_run, struct gt_error *e)
{
	struct gpo_target *g = priv(t);

	g->dry_run = dry_run;
	return dry_run ? open_read(g, e) : open_write(t, e);
}

/* ---- changes ---- */

/* Clients skip a half of the GPO whose version is 0 (gpo show says so too). */
static int half_is_zero(const struct gpotx *tx)
{
	return !tx->gpo.backup && (tx->user ? tx->gpt.version >> 16 : tx->gpt.version & 0xFFFF) == 0;
}

/* The item a change sets: given whole (gpo set), or a plain value as a Machine-side Update
 * item with a fresh uid and changed time (a template's setting). */
static int take_item(struct gpo_target *g, const struct target_change *c, struct gt_error *e)
{
	const char *hive;
	time_t now = time(NULL);

	if (c->item) {
		g->s = *c->item;
		reg_value_init(&g->s.value);
		reg_value_copy(&g->s.value, &c->item->value);
		return 0;
	}
	if (gpp_split_key(c->key, g->user, &hive, &g->key, e) < 0)
		return -1;
	g->name = xstrdup(c->value->name ? c->value->name : "");
	g->s = (struct gpp_setting){ .hive = hive, .key = g->key, .name = g->name, .action = 'U' };
	reg_value_init(&g->s.value);
	reg_value_copy(&g->s.value, c->value);
	strftime(g->changed, sizeof(g->changed), "%Y-%m-%d %H:%M:%S", gmtime(&now));
	g->s.changed = g->changed;
	gpp_new_guid(g->uid);
	g->s.uid = g->uid;
	return 0;
}

static int plan_set(struct target *t, const struct target_change *c, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	struct gpotx *tx = &g->tx;

	if (take_item(g, c, e) < 0)
		return -1;
	/* a template's setting must reach clients: an item in a half they skip is not enough */
	if (gpotx_has_item(tx, &g->s) && !c->item && half_is_zero(tx)) {
		g->step = GPO_RAISE_VERSION;
		return 1;
	}
	if (gpotx_has_item(tx, &g->s)) {
		g->step = GPO_UNCHANGED;
		return 0;
	}
	g->step = GPO_WRITE;
	if (g->dry_run)
		return 1;
	if (gpp_apply_set(tx->doc, &g->s, &tx->new_reg, e) < 0 || fault_gpp_applied(&tx->new_reg, g->s.name, e) < 0 ||
	    gpp_verify(tx->doc, (const uint8_t *)tx->new_reg.buf, tx->new_reg.len, tx->schema, g->s.hive, g->s.key, g->s.name,
		       &g->s, e) < 0)
		return -1;
	return 1;
}

/* 1 removed, 0 the GPO has no item for it. */
static int plan_delete(struct target *t, const struct target_change *c, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	struct gpotx *tx = &g->tx;
	const char *hive;
	int r;

	if (gpp_split_key(c->key, g->user, &hive, &g->key, e) < 0)
		return -1;
	g->name = xstrdup(c->name);
	g->s = (struct gpp_setting){ .hive = hive, .key = g->key, .name = g->name };
	reg_value_init(&g->s.value);
	r = gpp_apply_delete(tx->doc, hive, g->key, g->name, &tx->new_reg, e);
	if (r == 1)
		r = gpp_verify(tx->doc, (const uint8_t *)tx->new_reg.buf, tx->new_reg.len, tx->schema, hive, g->key, g->name, NULL,
			       e) < 0 ? -1 : 1;
	if (r == 1)
		g->step = GPO_WRITE;
	return r;
}

static int gpo_target_plan(struct target *t, const struct target_change *c, struct gt_error *e)
{
	if (!priv(t)->tx_open)
		return gt_fail(e, GT_FAILED, "internal error: GPO '%s' is not open", priv(t)->dir);
	if (priv(t)->step != GPO_NOTHING)
		return gt_fail(e, GT_USAGE, "a GPO target records one item per write");
	switch (c->kind) {
	case TC_SET_VALUE:
		return plan_set(t, c, e);
	case TC_DELETE_VALUE:
		return plan_delete(t, c, e);
	default:
		return gt_fail(e, GT_USAGE, "a GPO holds Registry items, not keys: it cannot %s a key on its own",
			       c->kind == TC_ADD_KEY ? "create" : "delete");
	}
}

static uint32_t dword_of(const struct reg_value *v)
{
	if (v->type != RT_DWORD || v->len != 4)
		return UINT32_MAX;
	return (uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 | (uint32_t)v->data[3] << 24;
}

static int say_unchanged(struct target *t)
{
	report_text(rep(t), "no change: GPO '%s' already has this item\n", priv(t)->dir);
	report_field(rep(t), "changed", json_object_new_boolean(0));
	return 0;
}

static int gpo_target_show_plan(struct target *t, struct gt_error *e)
{
	struct gpo_target *g = priv(t);

	(void)e;
	if (g->step == GPO_UNCHANGED)
		return say_unchanged(t);
	if (g->step == GPO_RAISE_VERSION)
		report_text(rep(t), "plan: GPT.INI version +1: GPO '%s' has this item, but its machine version is 0\n", g->dir);
	else
		report_text(rep(t), "plan: Machine Registry.xml: %s\\%s\\%s = %s %u, action %c; GPT.INI version +1\n", g->s.hive,
			    g->s.key, g->s.name, reg_type_name(g->s.value.type), dword_of(&g->s.value), g->s.action);
	report_text(rep(t), "dry run: nothing written\n");
	return 0;
}

/* The commit of the recorded item (s, or with action 0 the item removed) and its report: the
 * item before and after, the version bump, the AD follow-up, the journal. */
static void record_item_change(struct gpotx *tx, const struct gpp_setting *s, struct plan *plan, struct change **out)
{
	long old = gpp_find(tx->doc, s->hive, s->key, s->name);
	struct change *c;
	struct sbuf key;

	sbuf_init(&key);
	sbuf_addf(&key, "%s\\%s", s->hive, s->key);
	c = plan_add(plan, s->action ? CH_SET_VALUE : CH_DELETE_VALUE, key.buf, s->name);
	sbuf_release(&key);
	if (old >= 0) {
		struct gpp_item it;

		gpp_item_get(tx->doc, (size_t)old, &it);
		c->had_old = 1;
		c->old.name = xstrdup(s->name);
		gpp_item_value(&it, &c->old);
		gpp_item_release(&it);
	}
	if (s->action) {
		c->has_new = 1;
		reg_value_copy(&c->new_value, &s->value);
	}
	*out = c;
}

static void report_version(struct target *t)
{
	struct gpotx *tx = &priv(t)->tx;

	if (!tx->gpo.backup) {
		report_text(rep(t), "GPT.INI: Version %u -> %u (user %u, machine %u)\n", tx->gpt.version, tx->new_version,
			    tx->new_version >> 16, tx->new_version & 0xFFFF);
		report_field(rep(t), "version_before", json_object_new_int64(tx->gpt.version));
		report_field(rep(t), "version", json_object_new_int64(tx->new_version));
		report_text(rep(t), "verified: Registry.xml parses, matches the schema and holds exactly this change; GPT.INI reads Version=%u\n",
			    tx->new_version);
		report_text(rep(t), "next: the GPO's AD object must agree: gpotool gpo ad '%s' --domain DNS%s\n", tx->gpo.dir,
			    tx->gpo.guid[0] ? "" : " (the folder is not named by its GUID; rename it or give the GUID)");
	} else {
		report_text(rep(t), "verified: Registry.xml parses, matches the schema and holds exactly this change\n");
		report_text(rep(t), "note: a GPMC backup has no GPT.INI; GPMC sets the version when it restores the backup\n");
	}
}

static void report_after_commit(struct target *t)
{
	struct gpotx *tx = &priv(t)->tx;

	if (tx->warning) {
		report_warn(rep(t), "the change is in place, but: %s", tx->warning);
		report_field(rep(t), "warning", json_object_new_string(tx->warning));
	}
	if (tx->notice) {
		report_warn(rep(t), "%s", tx->notice);
		report_field(rep(t), "notice", json_object_new_string(tx->notice));
	}
	target_journaled(t, tx->journal_id);
	report_field(rep(t), "journal", json_object_new_string(tx->journal_id));
}

static int write_and_report(struct target *t, const struct gpp_setting *s, struct gt_error *e)
{
	struct gpotx *tx = &priv(t)->tx;
	struct journal_meta meta;
	struct change *c;
	struct plan plan;
	struct sbuf line;
	int ret;

	plan_init(&plan);
	sbuf_init(&line);
	record_item_change(tx, s, &plan, &c);
	target_journal_meta(t, &meta);
	ret = t->env->judge ? t->env->judge(t->env->arg, &plan, "", tx->gpo.dir, e) : 0;
	if (ret == 0)
		ret = gpotx_commit(tx, t->env->state_dir, &meta, &plan, e);
	if (ret == 0) {
		change_describe(c, "", &line);
		if (s->action)
			sbuf_addf(&line, ", action %c", s->action);
		report_text(rep(t), "%s Registry.xml: %s\n", tx->user ? "User" : "Machine", line.buf);
		report_field(rep(t), "target", json_object_new_string(tx->reg_path));
		report_field(rep(t), "changed", json_object_new_boolean(1));
		report_field(rep(t), "changes", plan_to_json(&plan, ""));
		report_version(t);
		report_after_commit(t);
	}
	sbuf_release(&line);
	plan_release(&plan);
	return ret;
}

/* The item is in place, but GPT.INI's version of its half is 0, so clients skip the half:
 * raise the version (Registry.xml is written back as it is), journaled like any write. */
static int raise_version(struct target *t, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	struct gpotx *tx = &g->tx;
	struct journal_meta meta;
	struct change *c;
	struct plan plan;
	struct sbuf key;
	int ret;

	/* the entry records the item, the same before and after: what the version now applies */
	plan_init(&plan);
	sbuf_init(&key);
	sbuf_addf(&key, "%s\\%s", g->s.hive, g->s.key);
	c = plan_add(&plan, CH_SET_VALUE, key.buf, g->s.name);
	sbuf_release(&key);
	c->had_old = c->has_new = 1;
	reg_value_copy(&c->old, &g->s.value);
	reg_value_copy(&c->new_value, &g->s.value);
	sbuf_add(&tx->new_reg, tx->reg_file.bytes, tx->reg_file.len);
	target_journal_meta(t, &meta);
	ret = gpotx_commit(tx, t->env->state_dir, &meta, &plan, e);
	if (ret == 0) {
		report_text(rep(t), "GPO '%s' already has this item, but GPT.INI's %s version was 0, so clients skipped it\n",
			    tx->gpo.dir, tx->user ? "user" : "machine");
		report_text(rep(t), "GPT.INI: Version %u -> %u (user %u, machine %u)\n", tx->gpt.version, tx->new_version,
			    tx->new_version >> 16, tx->new_version & 0xFFFF);
		report_text(rep(t), "verified: GPT.INI reads Version=%u; Registry.xml unchanged\n", tx->new_version);
		report_text(rep(t), "next: the GPO's AD object must agree: gpotool gpo ad '%s' --domain DNS\n", tx->gpo.dir);
		report_field(rep(t), "target", json_object_new_string(tx->gpo.gpt_path));
		report_field(rep(t), "changed", json_object_new_boolean(1));
		report_field(rep(t), "changes", plan_to_json(&plan, ""));
		report_field(rep(t), "version_before", json_object_new_int64(tx->gpt.version));
		report_field(rep(t), "version", json_object_new_int64(tx->new_version));
		report_field(rep(t), "journal", json_object_new_string(tx->journal_id));
		if (tx->warning)
			report_warn(rep(t), "the change is in place, but: %s", tx->warning);
		if (t->env->journaled)
			t->env->journaled(t->env->arg, tx->journal_id);
	}
	plan_release(&plan);
	return ret;
}

static int gpo_target_commit(struct target *t, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	const char *link = g->setting ? g->setting->link : NULL;

	switch (g->step) {
	case GPO_NOTHING:
	case GPO_UNCHANGED:
		return say_unchanged(t);
	case GPO_RAISE_VERSION:
		return raise_version(t, e);
	case GPO_WRITE:
		break;
	}
	if (write_and_report(t, &g->s, e) < 0)
		return -1;
	if (link)
		report_text(rep(t), "link: this GPO must be linked to %s: gpotool gpo ad '%s' --domain DNS --link '%s,DC=...' "
			    "--current-gplink ... --current-extensions ...\n", link, g->dir, link);
	return 0;
}

/* ---- for the domain backend ---- */

int target_gpo_staged(struct target *t, struct gpo_staged *out, struct plan *plan, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	struct gpotx *tx = &g->tx;
	size_t n = strlen(g->dir);
	struct change *c;

	if (!g->tx_open || g->dry_run || g->step == GPO_NOTHING)
		return gt_fail(e, GT_FAILED, "internal error: GPO '%s' has no change planned", g->dir);
	if (strncmp(tx->reg_path, g->dir, n) != 0 || tx->reg_path[n] != '/')
		return gt_fail(e, GT_FAILED, "internal error: '%s' is not below '%s'", tx->reg_path, g->dir);
	*out = (struct gpo_staged){
		.step = g->step == GPO_UNCHANGED ? GPO_STAGED_NOTHING : g->step == GPO_RAISE_VERSION ? GPO_STAGED_RAISE : GPO_STAGED_WRITE,
		.reg_before = tx->reg_exists ? tx->reg_file.bytes : NULL,
		.reg_before_len = tx->reg_exists ? tx->reg_file.len : 0,
		.reg_existed = tx->reg_exists,
		.reg_rel = tx->reg_path + n + 1,
		.gpt = &tx->gpt,
		.gpt_before = tx->version_file.bytes,
		.gpt_before_len = tx->version_file.len,
		.user = g->user,
		.item = &g->s,
	};
	if (out->step == GPO_STAGED_WRITE) {
		out->reg = (const uint8_t *)tx->new_reg.buf;
		out->reg_len = tx->new_reg.len;
	} else {
		out->reg = out->reg_before;
		out->reg_len = out->reg_before_len;
	}
	if (out->step != GPO_STAGED_NOTHING)
		record_item_change(tx, &g->s, plan, &c);
	return 0;
}

int target_gpo_current(struct target *t, struct gpo_current *out, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	size_t n = strlen(g->dir);

	if (open_read(g, e) < 0)
		return -1;
	if (strncmp(g->tx.reg_path, g->dir, n) != 0 || g->tx.reg_path[n] != '/')
		return gt_fail(e, GT_FAILED, "internal error: '%s' is not below '%s'", g->tx.reg_path, g->dir);
	*out = (struct gpo_current){
		.gpt = &g->tx.gpt,
		.gpt_bytes = g->tx.version_file.bytes,
		.gpt_len = g->tx.version_file.len,
		.reg = g->tx.reg_exists ? g->tx.reg_file.bytes : NULL,
		.reg_len = g->tx.reg_exists ? g->tx.reg_file.len : 0,
		.reg_exists = g->tx.reg_exists,
		.reg_rel = g->tx.reg_path + n + 1,
	};
	return 0;
}

/* ---- validate ---- */

/* The item for the setting's value: its data as registry data (a GPO holds one item per
 * value name and key in a side); 1 found, 0 none. */
static int find_item_value(struct gpo_target *g, const char *hive, const char *key, const char *name, struct reg_value *out)
{
	long i = gpp_find(g->tx.doc, hive, key, name);
	struct gpp_item it;

	reg_value_init(out);
	if (i < 0)
		return 0;
	gpp_item_get(g->tx.doc, (size_t)i, &it);
	gpp_item_value(&it, out);
	gpp_item_release(&it);
	return 1;
}

static int gpo_target_read(struct target *t, const struct target_setting *set, struct reg_value *out, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	const char *hive;
	char *key = NULL;
	int r = gpp_split_key(set->key, g->user, &hive, &key, e) < 0 || open_read(g, e) < 0 ? -1 : 0;

	if (r == 0)
		r = find_item_value(g, hive, key, set->name, out);
	close_tx(g);
	free(key);
	return r;
}

static int gpo_target_check(struct target *t, const struct target_setting *set, const struct reg_value *want, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	struct gpp_setting s;
	struct reg_value have;
	const char *hive;
	char *key = NULL;
	int r = gpp_split_key(set->key, 0, &hive, &key, e) < 0 || open_read(g, e) < 0 ? -1 : 0;

	if (r < 0) {
		free(key);
		return -1;
	}
	s = (struct gpp_setting){ .hive = hive, .key = key, .name = set->name, .action = 'U', .value = *want };
	report_field(rep(t), "target", json_object_new_string(g->dir));
	r = find_item_value(g, hive, key, set->name, &have);
	report_field(rep(t), "value", target_value_json(set, want, r ? &have : NULL));
	reg_value_release(&have);
	r = 0;
	if (!gpotx_has_item(&g->tx, &s))
		gt_fail(e, GT_MISMATCH, "GPO '%s' has no Update item setting %s\\%s\\%s to %u", g->dir, hive, key, set->name,
			dword_of(want));
	else if (!g->tx.gpo.backup && (g->tx.gpt.version & 0xFFFF) == 0)
		gt_fail(e, GT_MISMATCH, "GPO '%s' has the item setting %s\\%s\\%s to %u, but GPT.INI's machine version is 0, "
			"so clients skip it (stage it again to raise the version)", g->dir, hive, key, set->name, dword_of(want));
	else {
		report_text(rep(t), "ok: GPO '%s' sets %s\\%s\\%s = %u (%s)\n", g->dir, hive, key, set->name, dword_of(want), set->label);
		r = 1;
	}
	close_tx(g);
	free(key);
	return r;
}

/* ---- rollback ---- */

/* "HKEY_LOCAL_MACHINE\SYSTEM\..." as a GPO plan spells a key: the root, and the rest. */
static int split_gpp_key(const char *key, char **hive, const char **rest)
{
	const char *bs = strchr(key, '\\');

	if (!bs)
		return -1;
	*hive = xmemdup(key, (size_t)(bs - key) + 1);
	(*hive)[bs - key] = '\0';
	*rest = bs + 1;
	return 0;
}

/* The recorded files must be the ones this GPO resolves to: a journal cannot point a
 * rollback anywhere else. */
static int check_gpo_paths(struct target_rollback *rb, struct gpotx *tx, struct gt_error *e)
{
	struct json_object *targets = json_object_object_get(journal_doc(rb->j), "targets");
	char *reg = absolute_path(tx->reg_path), *gpt = tx->gpo.backup ? NULL : absolute_path(tx->gpo.gpt_path);
	struct json_object *t1 = json_object_array_get_idx(targets, 1);
	int ok = strcmp(reg, jsonx_str(rb->file, "path")) == 0 &&
		 (tx->gpo.backup ? t1 == NULL : (t1 && jsonx_str(t1, "path") && strcmp(gpt, jsonx_str(t1, "path")) == 0));

	free(reg);
	free(gpt);
	if (!ok)
		return gt_fail(e, GT_REFUSED, "journal entry %s names files that are not this GPO's Registry.xml%s; not following it",
			       rb->id, tx->gpo.backup ? "" : " and GPT.INI");
	return 0;
}

/* A template that sets this value and is not the one staged. */
static int other_template_sets(const struct template *t, const char *hive, const char *key, const char *name, uint32_t staged)
{
	struct gt_error ignored = { 0 };
	const char *thive;
	char *tkey = NULL;
	int yes = t->has_data && t->data != staged && strcasecmp(t->value, name) == 0 &&
		  gpp_split_key(t->key, 0, &thive, &tkey, &ignored) == 0 && strcmp(thive, hive) == 0 && strcasecmp(tkey, key) == 0;

	free(tkey);
	return yes;
}

/* Templates that set the same value to something else: the real undo on clients. */
static void suggest_client_undo(struct target *t, const char *hive, const char *key, const char *name, const char *id,
				uint32_t staged)
{
	struct json_object *offers = json_object_new_array();
	struct gt_error ignored = { 0 };
	struct sbuf cmd;
	char **names;
	size_t n;

	report_text(rep(t), "note: computers that applied the removed item keep %s\\%s\\%s (Group Policy Preferences leave the value set)\n",
		    hive, key, name);
	sbuf_init(&cmd);
	sbuf_addf(&cmd, "gpotool rollback %s --undo-on-clients=delete", id);
	report_text(rep(t), "note: to delete it there too, roll back with an item that deletes it: %s\n", cmd.buf);
	json_object_array_add(offers, json_object_new_string(cmd.buf));
	report_field(rep(t), "undo_on_clients", offers);
	if (template_names(gpotool_datadir(), &names, &n, &ignored) < 0) {
		sbuf_release(&cmd);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct template tp;

		if (template_load(gpotool_datadir(), names[i], &tp, &ignored) == 0) {
			if (other_template_sets(&tp, hive, key, name, staged)) {
				sbuf_reset(&cmd);
				sbuf_addf(&cmd, "gpotool rollback %s --undo-on-clients=%u", id, tp.data);
				report_text(rep(t), "note: or set it to %u there (%s: %s): %s\n", tp.data, tp.name, tp.summary, cmd.buf);
				json_object_array_add(offers, json_object_new_string(cmd.buf));
			}
			template_release(&tp);
		}
		free(names[i]);
	}
	free(names);
	sbuf_release(&cmd);
}

/* The Registry.xml this rollback writes, in tx->new_reg (or tx->remove_reg), checked. */
struct gpo_undo {
	const char *hive, *key, *name;   /* the item */
	struct gpp_doc *model;           /* Registry.xml as it was before the entry */
	int removes_setting_item;        /* the rollback takes away an item that set a value on clients */
	int unchanged;                   /* --logical found the item already as it was */
	uint32_t staged_type;
	struct gpp_setting s;            /* what the report describes */
	struct reg_value undo_value;
};

static int load_model(struct target_rollback *rb, struct gpotx *tx, struct gpp_doc **model, uint8_t **before, size_t *len,
		      struct gt_error *e)
{
	struct sbuf empty;
	int ret;

	*before = NULL;
	*len = 0;
	if (json_object_get_boolean(json_object_object_get(rb->file, "existed")))
		return journal_read_before(rb->j, 0, before, len, e) < 0 ||
		       gpp_load(*before, *len, "the saved Registry.xml", tx->schema, model, e) < 0 ? -1 : 0;
	sbuf_init(&empty);
	gpp_empty_file(&empty);
	ret = gpp_load((const uint8_t *)empty.buf, empty.len, "an empty Registry.xml", tx->schema, model, e);
	sbuf_release(&empty);
	return ret;
}

/* --undo-on-clients: in place of taking the item away, an item that deletes the value on
 * every computer that applied it, or sets it to the data given. */
static int client_undo_item(struct target *t, struct target_rollback *rb, struct gpo_undo *u, const struct sbuf *restored,
			    struct gt_error *e)
{
	struct gpotx *tx = &priv(t)->tx;
	struct gpp_doc *mid;
	char uid[39], changed[32];
	time_t now = time(NULL);
	struct tm tm;
	int ret;

	gmtime_r(&now, &tm);
	strftime(changed, sizeof(changed), "%Y-%m-%d %H:%M:%S", &tm);
	gpp_new_guid(uid);
	u->s = (struct gpp_setting){ .hive = u->hive, .key = u->key, .name = u->name, .changed = changed, .uid = uid };
	reg_value_init(&u->undo_value);
	if (strcmp(rb->o->undo_on_clients, "delete") == 0) {
		u->s.action = 'D';
		u->undo_value.type = u->staged_type;
		u->undo_value.name = xstrdup(u->name);
	} else {
		u->s.action = 'U';
		t->env->rollback_new_data = 1; /* new data, not what was there: the value rules refuse it as any write */
		if (reg_value_from_text(u->staged_type, rb->o->undo_on_clients, &u->undo_value, e) < 0)
			return gt_prefix(e, "--undo-on-clients takes 'delete' or data for %s: ", reg_type_name(u->staged_type));
		free(u->undo_value.name);
		u->undo_value.name = xstrdup(u->name);
	}
	reg_value_copy(&u->s.value, &u->undo_value);
	if (gpp_load((const uint8_t *)restored->buf, restored->len, "the restored Registry.xml", tx->schema, &mid, e) < 0)
		return -1;
	sbuf_reset(&tx->new_reg);
	ret = gpp_apply_set(mid, &u->s, &tx->new_reg, e);
	if (ret == 0)
		ret = gpp_verify(mid, (const uint8_t *)tx->new_reg.buf, tx->new_reg.len, tx->schema, u->hive, u->key, u->name, &u->s, e);
	gpp_free(mid);
	tx->remove_reg = 0;
	return ret;
}

/* What the model says the item was, for the report (absent: action 0, an item removed). */
static void describe_model_item(struct gpo_undo *u)
{
	long i = gpp_find(u->model, u->hive, u->key, u->name);
	struct gpp_item it;

	u->s = (struct gpp_setting){ .hive = u->hive, .key = u->key, .name = u->name };
	reg_value_init(&u->undo_value);
	if (i < 0)
		return;
	gpp_item_get(u->model, (size_t)i, &it);
	gpp_item_value(&it, &u->undo_value);
	u->s.action = it.action[0] ? it.action[0] : 'U';
	reg_value_copy(&u->s.value, &u->undo_value);
	gpp_item_release(&it);
}

/* --logical: the item as it was before, on whatever else Registry.xml holds now. 1 built,
 * 0 the item is already so, -1 error. */
static int restore_item(struct gpotx *tx, struct gpo_undo *u, struct sbuf *restored, struct gt_error *e)
{
	int ret = gpp_apply_restore(tx->doc, u->model, u->hive, u->key, u->name, restored, e);

	if (ret == 0) {
		u->unchanged = 1;
		return 0;
	}
	if (ret > 0)
		ret = gpp_verify_restored(tx->doc, (const uint8_t *)restored->buf, restored->len, tx->schema, u->hive, u->key, u->name,
					  u->model, e) < 0 ? -1 : 1;
	return ret;
}

static int build_undo(struct target *t, struct target_rollback *rb, struct gpo_undo *u, int exact, const uint8_t *before,
		     size_t before_len, struct gt_error *e)
{
	const struct change *c = &rb->plan.v[0];
	struct gpotx *tx = &priv(t)->tx;
	struct sbuf restored;
	int ret = 0;

	u->removes_setting_item = gpp_find(u->model, u->hive, u->key, u->name) < 0 && c->has_new &&
				  gpp_find(tx->doc, u->hive, u->key, u->name) >= 0;
	u->staged_type = c->has_new ? c->new_value.type : RT_DWORD;
	sbuf_init(&restored);
	if (exact && before)
		sbuf_add(&restored, before, before_len);
	else if (exact)
		tx->remove_reg = 1;
	else if ((ret = restore_item(tx, u, &restored, e)) <= 0) {
		sbuf_release(&restored);
		return ret;
	}
	ret = 0;
	if (!u->removes_setting_item && rb->o->undo_on_clients)
		report_warn(rep(t), "--undo-on-clients not used: this rollback puts back the earlier item, and clients apply it");
	if (u->removes_setting_item && rb->o->undo_on_clients) {
		if (tx->remove_reg)
			gpp_empty_file(&restored);
		ret = client_undo_item(t, rb, u, &restored, e);
	} else {
		describe_model_item(u);
		sbuf_reset(&tx->new_reg);
		sbuf_add(&tx->new_reg, restored.buf, restored.len);
	}
	sbuf_release(&restored);
	tx->edited = 1;
	return ret;
}

static int refuse_drift(struct target *t, struct target_rollback *rb, struct gpo_undo *u, const char *now_sha, struct gt_error *e)
{
	const struct change *c = &rb->plan.v[0];
	struct gpotx *tx = &priv(t)->tx;
	long i = gpp_find(tx->doc, u->hive, u->key, u->name);
	struct sbuf left, cur;
	int same = i < 0 && !c->has_new;

	sbuf_init(&left);
	sbuf_init(&cur);
	if (c->has_new)
		reg_value_format_brief(&c->new_value, &left);
	else
		sbuf_addstr(&left, "no item");
	if (i >= 0) {
		struct gpp_item it;
		struct reg_value v;

		gpp_item_get(tx->doc, (size_t)i, &it);
		reg_value_init(&v);
		gpp_item_value(&it, &v);
		same = c->has_new && reg_value_equal_data(&v, &c->new_value) && !it.disabled;
		reg_value_format_brief(&v, &cur);
		sbuf_addf(&cur, ", action %s%s", it.action, it.disabled ? ", disabled" : "");
		reg_value_release(&v);
		gpp_item_release(&it);
	} else {
		sbuf_addstr(&cur, "no item");
	}
	if (same)
		report_text(rep(t), "what differs from what journal entry %s left:\n  item %s\\%s\\%s is as this entry left it; "
			    "other items changed since\n", rb->id, u->hive, u->key, u->name);
	else
		report_text(rep(t), "what differs from what journal entry %s left:\n  item %s\\%s\\%s: this entry left %s; now %s\n",
			    rb->id, u->hive, u->key, u->name, left.buf, cur.buf);
	sbuf_release(&left);
	sbuf_release(&cur);
	return gt_fail(e, GT_REFUSED, "'%s' changed since journal entry %s (SHA-256 now %.12s..., it left %.12s...); nothing "
		       "written. --logical undoes only this entry's item and keeps the rest", tx->reg_path, rb->id,
		       now_sha[0] ? now_sha : "(absent)", jsonx_str(rb->file, "sha256_after"));
}

/* The folders the entry made for the Registry.xml it created (journaled as created_dirs),
 * removed with it when they are empty again; others' and non-empty ones stay. */
static void remove_created_dirs(struct target *t, struct target_rollback *rb)
{
	struct json_object *dirs = json_object_object_get(rb->file, "created_dirs");
	size_t n = dirs && json_object_is_type(dirs, json_type_array) ? json_object_array_length(dirs) : 0;
	char **list = xcalloc(n ? n : 1, sizeof(*list));
	struct gpotx *tx = &priv(t)->tx;
	struct sbuf removed;

	for (size_t i = 0; i < n; i++)
		list[i] = (char *)(json_object_get_string(json_object_array_get_idx(dirs, i)) ?
				   json_object_get_string(json_object_array_get_idx(dirs, i)) : "");
	sbuf_init(&removed);
	if (n && gpo_remove_created_dirs(&tx->gpo, tx->user, list, n, &removed))
		report_text(rep(t), "removed the empty folders journal entry %s created: %s\n", rb->id, removed.buf);
	sbuf_release(&removed);
	free(list);
}

static int commit_undo(struct target *t, struct target_rollback *rb, struct gpo_undo *u, struct gt_error *e)
{
	struct gpotx *tx = &priv(t)->tx;

	if (rb->o->dry_run) {
		report_text(rep(t), "dry run: would %s %s Registry.xml%s and raise GPT.INI's version; nothing written\n",
			    tx->remove_reg ? "remove the" : "write the", tx->user ? "User" : "Machine",
			    tx->remove_reg ? " (it did not exist before)" : "");
		return 0;
	}
	if (tx->remove_reg)
		report_text(rep(t), "Registry.xml did not exist before journal entry %s: removing it\n", rb->id);
	if (write_and_report(t, &u->s, e) < 0)
		return -1;
	if (tx->remove_reg)
		remove_created_dirs(t, rb);
	return 0;
}

/* The file holds what it held before the entry (absent if it did not exist). */
static int as_before(const struct target_rollback *rb, const char *now_sha)
{
	const char *before = jsonx_str(rb->file, "sha256_before");

	if (!json_object_get_boolean(json_object_object_get(rb->file, "existed")))
		return !now_sha[0];
	return before && strcmp(now_sha, before) == 0;
}

/* Exact, logical or refused: what this rollback does to the GPO as it is now. */
static int decide_undo(struct target *t, struct target_rollback *rb, struct gpo_undo *u, uint8_t **before, size_t *before_len,
		       struct gt_error *e)
{
	const char *after = jsonx_str(rb->file, "sha256_after");
	struct gpotx *tx = &priv(t)->tx;
	char now[SHA256_HEX_LEN + 1] = "";
	int exact, ret;

	if (tx->reg_exists)
		sha256_hex(tx->reg_file.bytes, tx->reg_file.len, now);
	exact = after && strcmp(now, after) == 0;
	ret = load_model(rb, tx, &u->model, before, before_len, e);
	if (ret == 0 && !exact && !rb->o->logical && as_before(rb, now)) {
		u->unchanged = -1;
		return target_already_before(t, rb, tx->reg_path);
	}
	if (ret == 0 && !exact && !rb->o->logical)
		return refuse_drift(t, rb, u, now, e);
	if (ret == 0)
		ret = build_undo(t, rb, u, !rb->o->logical, *before, *before_len, e);
	return ret;
}

static int finish_undo(struct target *t, struct target_rollback *rb, struct gpo_undo *u, struct gt_error *e)
{
	struct gpotx *tx = &priv(t)->tx;

	if (u->unchanged < 0) /* said so already */
		return 0;
	if (u->unchanged) {
		report_text(rep(t), "no change: '%s' already holds the item as it was before journal entry %s\n", tx->reg_path, rb->id);
		report_field(rep(t), "changed", json_object_new_boolean(0));
		return 0;
	}
	if (commit_undo(t, rb, u, e) < 0)
		return -1;
	if (u->removes_setting_item && !rb->o->undo_on_clients)
		suggest_client_undo(t, u->hive, u->key, u->name, rb->id, dword_of(&rb->plan.v[0].new_value));
	else if (u->removes_setting_item)
		report_text(rep(t), "note: the item now %s the value on every computer that applies this GPO; remove it "
			    "with 'gpotool gpo delete' once they all have\n", u->s.action == 'D' ? "deletes" : "sets");
	return 0;
}

static int gpo_target_rollback(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	struct gpo_target *g = priv(t);
	struct gpo_undo u = { 0 };
	uint8_t *before = NULL;
	size_t before_len = 0;
	char *hive = NULL, *key = NULL, *name = NULL;
	int ret;

	if (rb->plan.n != 1 || !rb->plan.v[0].name)
		return gt_fail(e, GT_REFUSED, "journal entry %s does not record one GPP item; gpotool writes one per entry", rb->id);
	/* copies: reloading a pending entry below replaces its plan */
	key = xstrdup(rb->plan.v[0].key);
	name = xstrdup(rb->plan.v[0].name);
	if (split_gpp_key(key, &hive, &u.key) < 0) {
		free(key);
		free(name);
		return gt_fail(e, GT_REFUSED, "journal entry %s does not record one GPP item; gpotool writes one per entry", rb->id);
	}
	u.hive = hive;
	u.name = name;
	ret = gpo_target_begin(t, rb->o->dry_run, e);
	if (ret == 0) {
		target_rollback_result(t, rb, g->dir);
		ret = check_gpo_paths(rb, &g->tx, e);
	}
	if (ret == 0)
		ret = rb->reload_if_pending(rb, e);
	if (ret == 0)
		ret = decide_undo(t, rb, &u, &before, &before_len, e);
	if (ret == 0)
		ret = finish_undo(t, rb, &u, e);
	gpp_free(u.model);
	reg_value_release(&u.s.value);
	reg_value_release(&u.undo_value);
	free(before);
	free(hive);
	free(key);
	free(name);
	return ret;
}

static int gpo_target_open_recorded(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	const char *side = jsonx_str(rb->target, "side");
	struct gpo_target *g = xcalloc(1, sizeof(*g));

	(void)e;
	t->priv = g;
	g->dir = xstrdup(jsonx_str(rb->target, "path"));
	g->user = side && strcmp(side, "User") == 0;
	return 0;
}

/* ---- recovery ---- */

/* A journal's before copy goes back only when it is a file this tool would accept: a
 * Registry.xml that parses and matches the schema; a GPT.INI with its Version. */
static int gpo_target_check_copy(const char *file_kind, const uint8_t *buf, size_t len, int fd, const char *staged,
			  struct gt_error *e)
{
	(void)fd;
	if (strcmp(file_kind, "gpp-registry-xml") == 0) {
		struct gpp_doc *doc;

		if (gpp_load(buf, len, staged, gpotool_data_file("gpp-registry.rng"), &doc, e) < 0)
			return -1;
		gpp_free(doc);
		return 0;
	}
	{
		struct gptini gi;
		int r = gptini_parse(buf, len, &gi, e);

		gptini_release(&gi);
		return r;
	}
}

static const char *const gpo_file_kinds[] = { "gpp-registry-xml", "gpt-ini", NULL };

const struct target_ops target_gpo_ops = {
	.name = "gpo",
	.option = "gpo",
	.metavar = "DIR",
	.file_kinds = gpo_file_kinds,
	.reach = TARGET_REACHES_BY_LINK,
	.open = gpo_target_open,
	.open_recorded = gpo_target_open_recorded,
	.close = gpo_target_close,
	.path = gpo_target_path,
	.begin = gpo_target_begin,
	.plan = gpo_target_plan,
	.show_plan = gpo_target_show_plan,
	.commit = gpo_target_commit,
	.read = gpo_target_read,
	.check = gpo_target_check,
	.rollback = gpo_target_rollback,
	.check_copy = gpo_target_check_copy,
};
