/* Rollback of hive and GPO entries; see rollback.h. */
#include "run/rollback.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "run/cmdutil.h"
#include "core/digest.h"
#include "gpo/gpo.h"
#include "gpo/gpotx.h"
#include "gpo/gpp.h"
#include "hive/hive.h"
#include "hive/hivetx.h"
#include "state/journal.h"
#include "reg/keypath.h"
#include "state/plan.h"
#include "core/safefile.h"
#include "kb/template.h"
#include "core/datadir.h"

/* One rollback: the entry, the file it names first, and that file's recorded changes. */
struct rollback {
	struct gt_ctx *ctx;
	const struct rollback_opts *o;
	const char *id;
	struct journal_entry *j;
	struct json_object *target;  /* the entry's "target": kind, path, side */
	struct json_object *file;    /* its first file (the hive; a GPO's Registry.xml) */
	struct plan plan;            /* what the entry changed in that file */
};

/* A path from a journal is only followed when it is absolute and says what it means:
 * no ".", "..", or empty components for a symlinked or edited entry to hide behind. */
static int path_is_plain(const char *p)
{
	if (!p || p[0] != '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
		return 0;
	size_t n = strlen(p);

	return !(n >= 2 && strcmp(p + n - 2, "/.") == 0) && !(n >= 3 && strcmp(p + n - 3, "/..") == 0);
}

static int check_status(const struct rollback *r, int allow_pending, struct gt_error *e)
{
	struct json_object *doc = journal_doc(r->j);
	const char *status = jsonx_str(doc, "status");

	if (strcmp(status, "complete") == 0 || (allow_pending && strcmp(status, "pending") == 0))
		return 0;
	if (strcmp(status, "failed") == 0)
		return gt_fail(e, GT_REFUSED, "journal entry %s changed nothing (it failed: %s); there is nothing to roll back",
			       r->id, jsonx_str(doc, "reason") ? jsonx_str(doc, "reason") : "no reason recorded");
	if (strcmp(status, "rolled-back") == 0)
		return gt_fail(e, GT_REFUSED, "journal entry %s was interrupted and put back by gpotool's recovery; "
			       "nothing of it is in place to roll back", r->id);
	return gt_fail(e, GT_REFUSED, "journal entry %s is '%s', not complete", r->id, status);
}

static int load(struct rollback *r, struct gt_error *e)
{
	struct json_object *doc, *targets;
	const char *path;

	journal_free(r->j);
	r->j = NULL;
	plan_release(&r->plan);
	if (journal_load(ctx_state_dir(r->ctx), r->id, &r->j, e) < 0)
		return -1;
	doc = journal_doc(r->j);
	r->target = json_object_object_get(doc, "target");
	targets = json_object_object_get(doc, "targets");
	r->file = json_object_array_get_idx(targets, 0);
	path = jsonx_str(r->target, "path");
	if (!r->target || !path_is_plain(path) || !jsonx_str(r->target, "kind"))
		return gt_fail(e, GT_REFUSED, "journal entry %s does not name its target by an absolute path; not following it", r->id);
	if (!path_is_plain(jsonx_str(r->file, "path")))
		return gt_fail(e, GT_REFUSED, "journal entry %s names a file by a path that is not plain and absolute; not following it", r->id);
	/* a folder on the way that is now a symbolic link would lead the write elsewhere */
	for (size_t i = 0; json_object_is_type(targets, json_type_array) && i < json_object_array_length(targets); i++) {
		const char *p = jsonx_str(json_object_array_get_idx(targets, i), "path");

		if (p && !path_is_plain(p))
			return gt_fail(e, GT_REFUSED, "journal entry %s names a file by a path that is not plain and absolute; "
				       "not following it", r->id);
		if (p && safefile_check_no_links(p, e) < 0)
			return gt_prefix(e, "journal entry %s: not following it: ", r->id);
	}
	if (plan_from_json(json_object_object_get(r->file, "changes"), &r->plan, e) < 0)
		return gt_prefix(e, "journal entry %s is damaged: ", r->id);
	return 0;
}

/* After the target is locked, recovery may have ended a pending entry: read it again. */
static int reload_if_pending(struct rollback *r, struct gt_error *e)
{
	if (strcmp(jsonx_str(journal_doc(r->j), "status"), "pending") != 0)
		return 0;
	if (load(r, e) < 0)
		return -1;
	return check_status(r, 0, e);
}

static void json_result(struct rollback *r, const char *how, const char *target)
{
	json_object_object_add(r->ctx->result, "rollback_of", json_object_new_string(r->id));
	json_object_object_add(r->ctx->result, "method", json_object_new_string(how));
	json_object_object_add(r->ctx->result, "target", json_object_new_string(target));
	json_object_object_add(r->ctx->result, "dry_run", json_object_new_boolean(r->o->dry_run));
}

static void describe_plan(struct gt_ctx *ctx, const struct plan *p, const char *prefix, const char *lead)
{
	struct sbuf line;

	sbuf_init(&line);
	for (size_t i = 0; i < p->n; i++) {
		sbuf_reset(&line);
		change_describe(&p->v[i], prefix, &line);
		out_text(ctx, "%s%s\n", lead, line.buf);
	}
	sbuf_release(&line);
}

/* ---- hives ---- */

/* What the entry left at c's value or key, against what the hive holds now: appends a line
 * to out when they differ. */
static void hive_drift_line(struct hivetx *tx, const struct change *c, const char *prefix, struct sbuf *out)
{
	struct gt_error ignored = { 0 };
	struct sbuf path, now;
	struct reg_value cur;
	struct keypath kp;
	hive_key k;
	int found;

	sbuf_init(&path);
	sbuf_init(&now);
	display_path(prefix, c->key, c->name, &path);
	if (c->kind == CH_ADD_KEY || c->kind == CH_DELETE_KEY) {
		keypath_split(c->key, &kp);
		found = hivetx_find(tx, &kp, &k, NULL, &ignored);
		keypath_release(&kp);
		if (found == (c->kind == CH_DELETE_KEY))
			sbuf_addf(out, "  %s: this entry %s the key; it is %s now\n", path.buf,
				  c->kind == CH_ADD_KEY ? "created" : "deleted", found ? "there" : "gone");
	} else {
		found = hivetx_read_value(tx, c->key, c->name, &cur, &ignored);
		if (found == 1)
			reg_value_format_brief(&cur, &now);
		if ((found == 1) != c->has_new || (found == 1 && !reg_value_equal_data(&cur, &c->new_value))) {
			struct sbuf left;

			sbuf_init(&left);
			if (c->has_new)
				reg_value_format_brief(&c->new_value, &left);
			sbuf_addf(out, "  %s: this entry left %s; now %s\n", path.buf, c->has_new ? left.buf : "(absent)",
				  found == 1 ? now.buf : "(absent)");
			sbuf_release(&left);
		}
		reg_value_release(&cur);
	}
	sbuf_release(&path);
	sbuf_release(&now);
}

static int hive_drift(struct rollback *r, struct hivetx *tx, const char *now_sha, struct gt_error *e)
{
	struct sbuf lines;

	sbuf_init(&lines);
	for (size_t i = 0; i < r->plan.n; i++)
		hive_drift_line(tx, &r->plan.v[i], hivetx_prefix(tx), &lines);
	if (lines.len == 0)
		sbuf_addstr(&lines, "  every value this entry changed is as it left it; the file changed elsewhere\n");
	out_text(r->ctx, "what differs from what journal entry %s left:\n%s", r->id, lines.buf);
	json_object_object_add(r->ctx->result, "drift", json_object_new_string(lines.buf));
	sbuf_release(&lines);
	return gt_fail(e, GT_REFUSED, "'%s' changed since journal entry %s (SHA-256 now %.12s..., it left %.12s...); nothing "
		       "written. --logical undoes only this entry's changes and keeps the rest", tx->file.path, r->id, now_sha,
		       jsonx_str(r->file, "sha256_after"));
}

/* Rolled back already (or never applied here): nothing to do, and saying so is the answer. */
static int already_before(struct rollback *r, const char *path)
{
	out_text(r->ctx, "no change: '%s' is already byte-for-byte as it was before journal entry %s\n", path, r->id);
	json_object_object_add(r->ctx->result, "changed", json_object_new_boolean(0));
	json_object_object_add(r->ctx->result, "changes", json_object_new_array());
	return GT_OK;
}

static int hive_exact(struct rollback *r, struct hivetx *tx, const struct plan *inv, struct gt_error *e)
{
	const char *want = jsonx_str(r->file, "sha256_before");
	struct journal_meta meta;
	char now[SHA256_HEX_LEN + 1];
	uint8_t *bytes;
	size_t len;
	int ret;

	if (journal_read_before(r->j, 0, &bytes, &len, e) < 0)
		return -1;
	plan_release(&tx->plan);
	for (size_t i = 0; i < inv->n; i++) {
		/* the hive gets the rollback's changes as its plan: the journal records them, libregf checks them */
		struct change *c = plan_add(&tx->plan, inv->v[i].kind, inv->v[i].key, inv->v[i].name);

		if ((c->had_old = inv->v[i].had_old))
			reg_value_copy(&c->old, &inv->v[i].old);
		if ((c->has_new = inv->v[i].has_new))
			reg_value_copy(&c->new_value, &inv->v[i].new_value);
	}
	describe_plan(r->ctx, &tx->plan, hivetx_prefix(tx), r->o->dry_run ? "would " : "");
	json_object_object_add(r->ctx->result, "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
	if (r->o->dry_run) {
		out_text(r->ctx, "dry run: would put back the %zu bytes '%s' held before journal entry %s (SHA-256 %s); nothing written\n",
			 len, tx->file.path, r->id, want);
		free(bytes);
		return GT_OK;
	}
	ctx_journal_meta(r->ctx, &meta);
	ret = hivetx_commit_bytes(tx, bytes, len, ctx_state_dir(r->ctx), &meta, e);
	free(bytes);
	if (ret < 0)
		return -1;
	free(r->ctx->journal_id);
	r->ctx->journal_id = xstrdup(tx->journal_id);
	json_object_object_add(r->ctx->result, "journal", json_object_new_string(tx->journal_id));
	json_object_object_add(r->ctx->result, "changed", json_object_new_boolean(1));
	/* read the target back: the promise is the original bytes, so check exactly that */
	if (sha256_file_hex(tx->file.path, now, e) < 0)
		return gt_prefix(e, "rolled back, but unable to read it back: ");
	if (strcmp(now, want) != 0)
		return gt_fail(e, GT_FAILED, "'%s' was replaced but does not read back as the original (SHA-256 %s, not %s); "
			       "journal entry %s holds the state before this rollback", tx->file.path, now, want, tx->journal_id);
	out_text(r->ctx, "verified: libregf reads back %zu change%s; '%s' is byte-for-byte as before journal entry %s (SHA-256 %s)\n",
		 tx->plan.n, tx->plan.n == 1 ? "" : "s", tx->file.path, r->id, now);
	if (tx->warning)
		out_warn("%s", tx->warning);
	return GT_OK;
}

static int key_is_empty(struct hivetx *tx, hive_key k, struct gt_error *e)
{
	struct reg_value *vals;
	hive_key *kids;
	size_t nv, nk;

	if (hive_subkeys(tx->hive, k, &kids, &nk, e) < 0)
		return -1;
	free(kids);
	if (hive_values(tx->hive, k, &vals, &nv, e) < 0)
		return -1;
	reg_values_free(vals, nv);
	return nk == 0 && nv == 0;
}

/* One inverse change on the current content; notes what it kept or overrode. */
static int hive_undo_one(struct rollback *r, struct hivetx *tx, const struct change *c, struct gt_error *e)
{
	struct keypath kp;
	hive_key k;
	int ret = 0, found;

	keypath_split(c->key, &kp);
	switch (c->kind) {
	case CH_SET_VALUE:
		ret = hivetx_set_value(tx, &kp, &c->new_value, e);
		break;
	case CH_DELETE_VALUE:
		ret = hivetx_delete_value(tx, &kp, c->name, e) < 0 ? -1 : 0;
		break;
	case CH_ADD_KEY:
		ret = hivetx_add_key(tx, &kp, e);
		break;
	case CH_DELETE_KEY:
		found = hivetx_find(tx, &kp, &k, NULL, e);
		if (found == 1) {
			int empty = key_is_empty(tx, k, e);

			if (empty == 1)
				ret = hivetx_delete_key(tx, &kp, e) < 0 ? -1 : 0;
			else if (empty == 0)
				out_warn("kept key '%s\\%s': journal entry %s created it, but it holds keys or values added since",
					 hivetx_prefix(tx), c->key, r->id);
			else
				ret = -1;
		} else if (found < 0) {
			ret = -1;
		}
		break;
	}
	keypath_release(&kp);
	return ret;
}

static int hive_logical(struct rollback *r, struct hivetx *tx, const struct plan *inv, struct gt_error *e)
{
	struct sbuf drift;

	sbuf_init(&drift);
	for (size_t i = 0; i < r->plan.n; i++)
		hive_drift_line(tx, &r->plan.v[i], hivetx_prefix(tx), &drift);
	if (drift.len)
		out_warn("changed since journal entry %s, and put back as before it all the same:\n%.*s", r->id,
			 (int)drift.len - 1, drift.buf);
	sbuf_release(&drift);
	for (size_t i = 0; i < inv->n; i++)
		if (hive_undo_one(r, tx, &inv->v[i], e) < 0)
			return gt_prefix(e, "'%s' left unchanged: ", tx->file.path);
	if (tx->plan.n == 0) {
		out_text(r->ctx, "no change: '%s' already holds what it held before journal entry %s\n", tx->file.path, r->id);
		json_object_object_add(r->ctx->result, "changed", json_object_new_boolean(0));
		json_object_object_add(r->ctx->result, "changes", json_object_new_array());
		return GT_OK;
	}
	if (r->o->dry_run) {
		describe_plan(r->ctx, &tx->plan, hivetx_prefix(tx), "would ");
		json_object_object_add(r->ctx->result, "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
		out_text(r->ctx, "dry run: nothing written\n");
		return GT_OK;
	}
	return commit_and_report(r->ctx, tx, e);
}

static int rollback_hive(struct rollback *r, struct gt_error *e)
{
	const char *path = jsonx_str(r->target, "path");
	char now[SHA256_HEX_LEN + 1];
	struct hivetx tx;
	struct plan inv;
	int ret;

	if (r->o->undo_on_clients)
		return gt_fail(e, GT_USAGE, "--undo-on-clients is for GPO entries; journal entry %s changed the hive '%s'", r->id, path);
	if (strcmp(jsonx_str(r->file, "path"), path) != 0 || !jsonx_str(r->file, "kind") ||
	    strcmp(jsonx_str(r->file, "kind"), "hive") != 0)
		return gt_fail(e, GT_REFUSED, "journal entry %s is inconsistent: its file is not its target hive", r->id);
	/* a dry run opens as a real run does (as stage --dry-run): the same checks, the same lock */
	if (open_hive_path(r->ctx, path, jsonx_str(r->file, "detail"), 1, &tx, e) < 0)
		return -1;
	json_result(r, r->o->logical ? "logical" : "exact", path);
	ret = reload_if_pending(r, e);
	if (ret == 0)
		ret = sha256_fd_hex(tx.file.fd, now, e);
	if (ret == 0) {
		plan_invert(&r->plan, &inv);
		if (!r->o->logical && strcmp(now, jsonx_str(r->file, "sha256_before") ? jsonx_str(r->file, "sha256_before") : "") == 0)
			ret = already_before(r, path);
		else if (r->o->logical)
			ret = hive_logical(r, &tx, &inv, e);
		else if (strcmp(now, jsonx_str(r->file, "sha256_after") ? jsonx_str(r->file, "sha256_after") : "") == 0)
			ret = hive_exact(r, &tx, &inv, e);
		else
			ret = hive_drift(r, &tx, now, e);
		plan_release(&inv);
	}
	hivetx_close(&tx);
	return ret;
}

/* ---- GPOs ---- */

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
static int check_gpo_paths(struct rollback *r, struct gpotx *tx, struct gt_error *e)
{
	struct json_object *targets = json_object_object_get(journal_doc(r->j), "targets");
	char *reg = absolute_path(tx->reg_path), *gpt = tx->gpo.backup ? NULL : absolute_path(tx->gpo.gpt_path);
	struct json_object *t1 = json_object_array_get_idx(targets, 1);
	int ok = strcmp(reg, jsonx_str(r->file, "path")) == 0 &&
		 (tx->gpo.backup ? t1 == NULL : (t1 && jsonx_str(t1, "path") && strcmp(gpt, jsonx_str(t1, "path")) == 0));

	free(reg);
	free(gpt);
	if (!ok)
		return gt_fail(e, GT_REFUSED, "journal entry %s names files that are not this GPO's Registry.xml%s; not following it",
			       r->id, tx->gpo.backup ? "" : " and GPT.INI");
	return 0;
}

static uint32_t dword_of(const struct reg_value *v)
{
	if (v->type != RT_DWORD || v->len != 4)
		return UINT32_MAX;
	return (uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 | (uint32_t)v->data[3] << 24;
}

/* Templates that set the same value to something else: the real undo on clients. */
static void suggest_client_undo(struct gt_ctx *ctx, const char *hive, const char *key, const char *name, const char *id,
				uint32_t staged)
{
	struct json_object *offers = json_object_new_array();
	struct gt_error ignored = { 0 };
	struct sbuf cmd;
	char **names;
	size_t n;

	out_text(ctx, "note: computers that applied the removed item keep %s\\%s\\%s (Group Policy Preferences leave the value set)\n",
		 hive, key, name);
	sbuf_init(&cmd);
	sbuf_addf(&cmd, "gpotool rollback %s --undo-on-clients=delete", id);
	out_text(ctx, "note: to delete it there too, roll back with an item that deletes it: %s\n", cmd.buf);
	json_object_array_add(offers, json_object_new_string(cmd.buf));
	json_object_object_add(ctx->result, "undo_on_clients", offers);
	if (template_names(gpotool_datadir(), &names, &n, &ignored) < 0) {
		sbuf_release(&cmd);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct template t;
		const char *thive;
		char *tkey = NULL;

		if (template_load(gpotool_datadir(), names[i], &t, &ignored) == 0) {
			if (t.has_data && t.data != staged && strcasecmp(t.value, name) == 0 &&
			    gpp_split_key(t.key, 0, &thive, &tkey, &ignored) == 0 && strcmp(thive, hive) == 0 &&
			    strcasecmp(tkey, key) == 0) {
				sbuf_reset(&cmd);
				sbuf_addf(&cmd, "gpotool rollback %s --undo-on-clients=%u", id, t.data);
				out_text(ctx, "note: or set it to %u there (%s: %s): %s\n", t.data, t.name, t.summary, cmd.buf);
				json_object_array_add(offers, json_object_new_string(cmd.buf));
			}
			free(tkey);
			template_release(&t);
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
	struct gpp_setting s;            /* what gpo_write_report describes */
	struct reg_value undo_value;
};

static int load_model(struct rollback *r, struct gpotx *tx, struct gpp_doc **model, uint8_t **before, size_t *len,
		      struct gt_error *e)
{
	struct sbuf empty;
	int ret;

	*before = NULL;
	*len = 0;
	if (json_object_get_boolean(json_object_object_get(r->file, "existed")))
		return journal_read_before(r->j, 0, before, len, e) < 0 ||
		       gpp_load(*before, *len, "the saved Registry.xml", tx->schema, model, e) < 0 ? -1 : 0;
	sbuf_init(&empty);
	gpp_empty_file(&empty);
	ret = gpp_load((const uint8_t *)empty.buf, empty.len, "an empty Registry.xml", tx->schema, model, e);
	sbuf_release(&empty);
	return ret;
}

/* --undo-on-clients: in place of taking the item away, an item that deletes the value on
 * every computer that applied it, or sets it to the data given. */
static int client_undo_item(struct rollback *r, struct gpotx *tx, struct gpo_undo *u, const struct sbuf *restored,
			    struct gt_error *e)
{
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
	if (strcmp(r->o->undo_on_clients, "delete") == 0) {
		u->s.action = 'D';
		u->undo_value.type = u->staged_type;
		u->undo_value.name = xstrdup(u->name);
	} else {
		u->s.action = 'U';
		r->ctx->rollback_new_data = 1; /* new data, not what was there: the value rules refuse it as any write */
		if (reg_value_from_text(u->staged_type, r->o->undo_on_clients, &u->undo_value, e) < 0)
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

static int gpo_build(struct rollback *r, struct gpotx *tx, struct gpo_undo *u, int exact, const uint8_t *before,
		     size_t before_len, struct gt_error *e)
{
	const struct change *c = &r->plan.v[0];
	struct sbuf restored;
	int ret = 0;

	u->removes_setting_item = gpp_find(u->model, u->hive, u->key, u->name) < 0 && c->has_new &&
				  gpp_find(tx->doc, u->hive, u->key, u->name) >= 0;
	u->staged_type = c->has_new ? c->new_value.type : RT_DWORD;
	sbuf_init(&restored);
	if (exact) {
		if (before)
			sbuf_add(&restored, before, before_len);
		else
			tx->remove_reg = 1;
	} else {
		ret = gpp_apply_restore(tx->doc, u->model, u->hive, u->key, u->name, &restored, e);
		if (ret == 0) {
			u->unchanged = 1;
			sbuf_release(&restored);
			return 0;
		}
		if (ret > 0)
			ret = gpp_verify_restored(tx->doc, (const uint8_t *)restored.buf, restored.len, tx->schema, u->hive, u->key,
						  u->name, u->model, e);
	}
	if (ret == 0 && !u->removes_setting_item && r->o->undo_on_clients)
		out_warn("--undo-on-clients not used: this rollback puts back the earlier item, and clients apply it");
	if (ret == 0 && u->removes_setting_item && r->o->undo_on_clients) {
		if (tx->remove_reg)
			gpp_empty_file(&restored);
		ret = client_undo_item(r, tx, u, &restored, e);
	} else if (ret == 0) {
		describe_model_item(u);
		sbuf_reset(&tx->new_reg);
		sbuf_add(&tx->new_reg, restored.buf, restored.len);
	}
	sbuf_release(&restored);
	tx->edited = 1;
	return ret;
}

static int gpo_drift(struct rollback *r, struct gpotx *tx, struct gpo_undo *u, const char *now_sha, struct gt_error *e)
{
	const struct change *c = &r->plan.v[0];
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
		out_text(r->ctx, "what differs from what journal entry %s left:\n  item %s\\%s\\%s is as this entry left it; "
			 "other items changed since\n", r->id, u->hive, u->key, u->name);
	else
		out_text(r->ctx, "what differs from what journal entry %s left:\n  item %s\\%s\\%s: this entry left %s; now %s\n",
			 r->id, u->hive, u->key, u->name, left.buf, cur.buf);
	sbuf_release(&left);
	sbuf_release(&cur);
	return gt_fail(e, GT_REFUSED, "'%s' changed since journal entry %s (SHA-256 now %.12s..., it left %.12s...); nothing "
		       "written. --logical undoes only this entry's item and keeps the rest", tx->reg_path, r->id,
		       now_sha[0] ? now_sha : "(absent)", jsonx_str(r->file, "sha256_after"));
}

/* The folders the entry made for the Registry.xml it created (journaled as created_dirs),
 * removed with it when they are empty again; others' and non-empty ones stay. */
static void remove_created_dirs(struct rollback *r, struct gpotx *tx)
{
	struct json_object *dirs = json_object_object_get(r->file, "created_dirs");
	size_t n = dirs && json_object_is_type(dirs, json_type_array) ? json_object_array_length(dirs) : 0;
	char **list = xcalloc(n ? n : 1, sizeof(*list));
	struct sbuf removed;

	for (size_t i = 0; i < n; i++)
		list[i] = (char *)(json_object_get_string(json_object_array_get_idx(dirs, i)) ?
				   json_object_get_string(json_object_array_get_idx(dirs, i)) : "");
	sbuf_init(&removed);
	if (n && gpo_remove_created_dirs(&tx->gpo, tx->user, list, n, &removed))
		out_text(r->ctx, "removed the empty folders journal entry %s created: %s\n", r->id, removed.buf);
	sbuf_release(&removed);
	free(list);
}

static int gpo_commit(struct rollback *r, struct gpotx *tx, struct gpo_undo *u, struct gt_error *e)
{
	if (r->o->dry_run) {
		out_text(r->ctx, "dry run: would %s %s Registry.xml%s and raise GPT.INI's version; nothing written\n",
			 tx->remove_reg ? "remove the" : "write the", tx->user ? "User" : "Machine",
			 tx->remove_reg ? " (it did not exist before)" : "");
		return GT_OK;
	}
	if (tx->remove_reg)
		out_text(r->ctx, "Registry.xml did not exist before journal entry %s: removing it\n", r->id);
	if (gpo_write_report(r->ctx, tx, &u->s, e) < 0)
		return -1;
	if (tx->remove_reg)
		remove_created_dirs(r, tx);
	return GT_OK;
}

/* The file holds what it held before the entry (absent if it did not exist). */
static int as_before(const struct rollback *r, const char *now_sha)
{
	const char *before = jsonx_str(r->file, "sha256_before");

	if (!json_object_get_boolean(json_object_object_get(r->file, "existed")))
		return !now_sha[0];
	return before && strcmp(now_sha, before) == 0;
}

static int rollback_gpo(struct rollback *r, struct gt_error *e)
{
	const char *side = jsonx_str(r->target, "side"), *after = jsonx_str(r->file, "sha256_after");
	int user = side && strcmp(side, "User") == 0, exact, ret;
	struct gpo_undo u = { 0 };
	char now[SHA256_HEX_LEN + 1] = "";
	uint8_t *before = NULL;
	size_t before_len = 0;
	char *hive = NULL;
	struct gpotx tx;

	if (r->plan.n != 1 || !r->plan.v[0].name || split_gpp_key(r->plan.v[0].key, &hive, &u.key) < 0)
		return gt_fail(e, GT_REFUSED, "journal entry %s does not record one GPP item; gpotool writes one per entry", r->id);
	u.hive = hive;
	u.name = r->plan.v[0].name;
	if (r->o->dry_run ? gpotx_open(&tx, jsonx_str(r->target, "path"), user, 0, e) < 0
			  : open_gpo_for(r->ctx, jsonx_str(r->target, "path"), user, 1, &tx, e) < 0) {
		free(hive);
		return -1;
	}
	json_result(r, r->o->logical ? "logical" : "exact", jsonx_str(r->target, "path"));
	ret = check_gpo_paths(r, &tx, e);
	if (ret == 0)
		ret = reload_if_pending(r, e);
	if (ret == 0) {
		if (tx.reg_exists)
			sha256_hex(tx.reg_file.bytes, tx.reg_file.len, now);
		exact = after && strcmp(now, after) == 0;
		ret = load_model(r, &tx, &u.model, &before, &before_len, e);
		if (ret == 0 && !exact && !r->o->logical && as_before(r, now)) {
			ret = already_before(r, tx.reg_path);
			u.unchanged = -1;
		} else if (ret == 0 && !exact && !r->o->logical)
			ret = gpo_drift(r, &tx, &u, now, e);
		else if (ret == 0)
			ret = gpo_build(r, &tx, &u, !r->o->logical, before, before_len, e);
	}
	if (ret == 0 && u.unchanged < 0) {
		/* said so already */
	} else if (ret == 0 && u.unchanged) {
		out_text(r->ctx, "no change: '%s' already holds the item as it was before journal entry %s\n", tx.reg_path, r->id);
		json_object_object_add(r->ctx->result, "changed", json_object_new_boolean(0));
	} else if (ret == 0) {
		ret = gpo_commit(r, &tx, &u, e);
		if (ret == 0 && u.removes_setting_item && !r->o->undo_on_clients)
			suggest_client_undo(r->ctx, u.hive, u.key, u.name, r->id, dword_of(&r->plan.v[0].new_value));
		else if (ret == 0 && u.removes_setting_item)
			out_text(r->ctx, "note: the item now %s the value on every computer that applies this GPO; remove it "
				 "with 'gpotool gpo delete' once they all have\n", u.s.action == 'D' ? "deletes" : "sets");
	}
	gpp_free(u.model);
	reg_value_release(&u.s.value);
	reg_value_release(&u.undo_value);
	free(before);
	free(hive);
	gpotx_close(&tx);
	return ret;
}

int rollback_entry(struct gt_ctx *ctx, const char *id, const struct rollback_opts *o, struct gt_error *e)
{
	struct rollback r = { .ctx = ctx, .o = o, .id = id };
	const char *kind;
	int ret;

	plan_init(&r.plan);
	ctx->rollback_of = id;
	ctx->defer_journal_line = 1; /* notes come first; "journal: ID" stays the last line */
	ret = load(&r, e);
	if (ret == 0)
		ret = check_status(&r, 1, e);
	if (ret == 0) {
		kind = jsonx_str(r.target, "kind");
		if (strcmp(kind, "hive") == 0)
			ret = rollback_hive(&r, e);
		else if (strcmp(kind, "gpo") == 0)
			ret = rollback_gpo(&r, e);
		else
			ret = gt_fail(e, GT_REFUSED, "journal entry %s has a target of unknown kind '%s'", id, kind);
	}
	if (ret == GT_OK && ctx->journal_id)
		out_text(ctx, "journal: %s\n", ctx->journal_id);
	plan_release(&r.plan);
	journal_free(r.j);
	return ret;
}
