/* The hive backend: one offline hive file, through the hive transaction (hive/hivetx.h).
 * Containers of hives (target/image.c) hand their hive operations to it. */
#include "target/backend.h"
#include "target/hive.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/safefile.h"
#include "core/sbuf.h"
#include "hive/hivefile.h"
#include "hive/hivetx.h"
#include "hive/verify.h"
#include "reg/keypath.h"

static const char *const uninstall_keys[] = {
	"Microsoft\\Windows\\CurrentVersion\\Uninstall",
	"WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
};

struct hive_target {
	char *path;
	char *kind_override;   /* --kind, or the kind a journal recorded */
	enum hive_kind kind;   /* as detected (HK_OTHER: not told) */
	int for_setting;       /* opened for a template's setting: every error names the hive */
	struct hivetx tx;
	int tx_open;           /* 0 closed, 1 read, 2 write */
	struct keypath kp;     /* the key the last change resolved to */
	char *kp_for;          /* ... as the change named it: values follow their key, resolved once */
	int whole_file;        /* an exact rollback: the file is replaced whole, so a dirty hive's logs
				* need not replay (the journal's copy goes back, and its logs with it) */
};

static struct hive_target *priv(const struct target *t)
{
	return t->priv;
}

static const struct report *rep(const struct target *t)
{
	return &t->env->rep;
}

/* ---- opening ---- */

/* A dirty hive is read (and edited) with its logs replayed, and says so; one whose logs cannot
 * be replayed is read as it is, with a warning, and edited so only when --ignore-logs said to. */
static int warn_if_dirty(struct target *t)
{
	struct hive_target *h = priv(t);
	struct hivetx *tx = &h->tx;
	struct sbuf why;

	if (!tx->dirty)
		return 0;
	sbuf_init(&why);
	report_field(rep(t), "transaction_logs", hivetx_logs_json(tx));
	if (tx->replayed) {
		hivetx_replay_summary(tx, &why);
		if (tx->writable)
			report_note(rep(t), "'%s' is dirty: %s; the change is made there and the primary written clean (sequence "
				    "numbers above every one its logs hold, so Windows never replays them onto it; they stay as they are)",
				    h->path, why.buf);
		else
			report_note(rep(t), "'%s' is dirty: %s; what is read here comes from that copy, not the stale primary", h->path,
				    why.buf);
	} else {
		hivetx_dirty_reason(tx, 0, &why);
		if (tx->writable && h->whole_file)
			report_note(rep(t), "'%s' %s; the rollback replaces it whole with the journal's copy", h->path, why.buf);
		else if (tx->writable)
			report_warn(rep(t), "'%s' %s; --ignore-logs: editing the stale primary, and what only the logs hold is lost",
				    h->path, why.buf);
		else
			report_warn(rep(t), "'%s' %s, so what is read here may be stale", h->path, why.buf);
	}
	sbuf_release(&why);
	return 0;
}

static void close_tx(struct hive_target *h)
{
	if (h->tx_open)
		hivetx_close(&h->tx);
	h->tx_open = 0;
}

/* Opens the hive for reading (once), saying when it is dirty. */
static int open_read(struct target *t, struct gt_error *e)
{
	struct hive_target *h = priv(t);

	if (h->tx_open)
		return 0;
	if (hivetx_open_logs(&h->tx, h->path, 0, h->kind_override, &t->env->hive_logs, e) < 0)
		return -1;
	h->tx_open = 1;
	return warn_if_dirty(t);
}

/* Opens it for writing: locked, with every safety check, after recovery has finished or
 * undone what an interrupted gpotool left pending on it. */
static int open_write(struct target *t, struct gt_error *e)
{
	struct hive_target *h = priv(t);
	struct hivetx_logs_opts lo = t->env->hive_logs;
	int r;

	lo.ignore_logs |= h->whole_file;
	close_tx(h);
	if (t->env->writing)
		t->env->writing(t->env->arg, h->path);
	if (target_check_recordable(h->path, e) < 0 || hivetx_open_logs(&h->tx, h->path, 1, h->kind_override, &lo, e) < 0)
		return -1;
	h->tx_open = 2;
	r = target_recover(t, (const char *const[]){ h->path }, 1, e);
	if (r != 0) {
		close_tx(h);
		if (r < 0 || hivetx_open_logs(&h->tx, h->path, 1, h->kind_override, &lo, e) < 0)
			return -1;
		h->tx_open = 2;
	}
	return warn_if_dirty(t);
}

/* The hive given for a setting must be the setting's hive: writing SYSTEM's key into
 * SOFTWARE cannot be right, whatever --force says. A hive whose kind cannot be told is taken
 * as given. */
static int check_setting_hive(struct hive_target *h, const struct target_setting *s, struct gt_error *e)
{
	enum hive_kind wants = target_hive_kind_of_key(s->key);
	struct hivetx tx;

	if (hivetx_open(&tx, h->path, 0, NULL, e) < 0)
		return -1;
	h->kind = tx.kind;
	hivetx_close(&tx);
	if (h->kind != HK_OTHER && wants != HK_OTHER && h->kind != wants)
		return gt_fail(e, GT_USAGE, "'%s' is a %s hive, but %s writes %s\\%s in the %s hive: give that hive with --hive, "
			       "or the Windows folder with --image", h->path, hive_kind_name(h->kind), s->label, s->key, s->name,
			       hive_kind_name(wants));
	if (h->kind == HK_OTHER)
		h->kind = wants;
	return 0;
}

static int hive_target_open(struct target *t, const struct target_request *rq, struct gt_error *e)
{
	struct hive_target *h = xcalloc(1, sizeof(*h));

	t->priv = h;
	h->path = xstrdup(rq->what);
	h->kind_override = rq->hive_kind ? xstrdup(rq->hive_kind) : NULL;
	h->for_setting = rq->setting != NULL;
	/* a path that is not there is the user's mistake: said (and coded) the same everywhere */
	if (gt_check_path(rq->what, 0, rq->setting ? "--hive takes a hive file" : "HIVE is the path of a hive file", e) < 0)
		return -1;
	return rq->setting ? check_setting_hive(h, rq->setting, e) : 0;
}

int target_hive_open_inner(struct target *inner, const struct target *outer, const char *path, const struct target_setting *s,
			   struct gt_error *e)
{
	struct hive_target *h = xcalloc(1, sizeof(*h));

	(void)e;
	*inner = (struct target){ .ops = &target_hive_ops, .env = outer->env, .priv = h };
	h->path = xstrdup(path);
	h->for_setting = s != NULL;
	h->kind = s ? target_hive_kind_of_key(s->key) : HK_OTHER;
	return 0;
}

static void hive_target_close(struct target *t)
{
	struct hive_target *h = priv(t);

	if (!h)
		return;
	close_tx(h);
	keypath_release(&h->kp);
	free(h->kp_for);
	free(h->path);
	free(h->kind_override);
	free(h);
}

static const char *hive_target_path(const struct target *t)
{
	return priv(t)->path;
}

static int name_errors(struct target *t, struct gt_error *e);

static int hive_target_begin(struct target *t, int dry_run, struct gt_error *e)
{
	/* a dry run opens as a real run does: the same checks, the same lock */
	(void)dry_run;
	return open_write(t, e) < 0 ? name_errors(t, e) : 0;
}

static struct hivetx *hive_target_engine(struct target *t, struct gt_error *e)
{
	return open_read(t, e) < 0 ? NULL : &priv(t)->tx;
}

/* ---- changes ---- */

static int name_errors(struct target *t, struct gt_error *e)
{
	struct hive_target *h = priv(t);

	if (h->for_setting && e->code != GT_USAGE && !strstr(e->msg, h->path))
		gt_prefix(e, "'%s': ", h->path);
	return -1;
}

static int apply_change(struct hivetx *tx, const struct target_change *c, const struct keypath *kp, struct gt_error *e)
{
	switch (c->kind) {
	case TC_SET_VALUE:
		return hivetx_set_value(tx, kp, c->value, e) < 0 ? -1 : 1;
	case TC_ADD_KEY:
		return hivetx_add_key(tx, kp, e) < 0 ? -1 : 1;
	case TC_DELETE_VALUE:
		return hivetx_delete_value(tx, kp, c->name, e);
	case TC_DELETE_KEY:
		return hivetx_delete_key(tx, kp, e);
	}
	return gt_fail(e, GT_FAILED, "internal error: unknown change");
}

/* The change's key below the hive's root, resolved once for a run of changes to one key. */
static int resolve(struct hive_target *h, const char *key, struct gt_error *e)
{
	if (h->kp_for && strcmp(h->kp_for, key) == 0)
		return 0;
	keypath_release(&h->kp);
	free(h->kp_for);
	h->kp_for = NULL;
	if (hivetx_resolve(&h->tx, key, &h->kp, e) < 0)
		return -1;
	h->kp_for = xstrdup(key);
	return 0;
}

static int hive_target_plan(struct target *t, const struct target_change *c, struct gt_error *e)
{
	struct hive_target *h = priv(t);
	int r;

	if (h->tx_open != 2)
		return gt_fail(e, GT_FAILED, "internal error: '%s' is not open for writing", h->path);
	if (resolve(h, c->key, e) < 0)
		return name_errors(t, e);
	r = apply_change(&h->tx, c, &h->kp, e);
	if (r < 0 && e->code != GT_USAGE)
		gt_prefix(e, "'%s': ", h->path);
	return r < 0 ? name_errors(t, e) : r;
}

static int hive_target_show_plan(struct target *t, struct gt_error *e)
{
	struct hivetx *tx = &priv(t)->tx;

	(void)e;
	target_report_plan(t, &tx->plan, hivetx_prefix(tx), "plan: ");
	report_text(rep(t), tx->plan.n ? "dry run: nothing written\n" : "no change: '%s' already holds this (dry run)\n", priv(t)->path);
	report_field(rep(t), "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
	report_field(rep(t), "dry_run", json_object_new_boolean(1));
	return 0;
}

/* The commit and its report: each change, or "no change", and the journal ID. */
static int commit_and_report(struct target *t, struct gt_error *e)
{
	struct hivetx *tx = &priv(t)->tx;
	struct journal_meta meta;

	if (t->env->judge && t->env->judge(t->env->arg, &tx->plan, hivetx_prefix(tx), tx->file.path, e) < 0)
		return -1;
	target_journal_meta(t, &meta);
	if (hivetx_commit(tx, t->env->state_dir, &meta, e) < 0)
		return -1;
	report_field(rep(t), "target", json_object_new_string(tx->file.path));
	report_field(rep(t), "changed", json_object_new_boolean(tx->plan.n > 0));
	report_field(rep(t), "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
	report_field(rep(t), "journal", tx->journal_id ? json_object_new_string(tx->journal_id) : NULL);
	if (tx->plan.n == 0) {
		report_text(rep(t), "no change: '%s' already holds this\n", tx->file.path);
		return 0;
	}
	target_report_plan(t, &tx->plan, hivetx_prefix(tx), "");
	report_text(rep(t), "verified: libregf reads back %zu change%s in '%s'\n", tx->plan.n, tx->plan.n == 1 ? "" : "s",
		    tx->file.path);
	if (tx->warning) {
		report_warn(rep(t), "%s", tx->warning);
		report_field(rep(t), "warning", json_object_new_string(tx->warning));
	}
	target_journaled(t, tx->journal_id);
	return 0;
}

static int hive_target_commit(struct target *t, struct gt_error *e)
{
	return commit_and_report(t, e) < 0 ? name_errors(t, e) : 0;
}

/* ---- hive recover ---- */

int target_hive_recover(struct target *t, struct gt_error *e)
{
	struct hive_target *h;
	struct journal_meta meta;
	struct hivetx *tx;

	if (t->ops != &target_hive_ops || priv(t)->tx_open != 2)
		return gt_fail(e, GT_FAILED, "internal error: hive recover needs a hive opened for writing");
	h = priv(t);
	tx = &h->tx;
	report_field(rep(t), "target", json_object_new_string(tx->file.path));
	if (!tx->dirty) {
		report_text(rep(t), "no change: '%s' is clean (sequence numbers %u/%u), so Windows replays none of its logs onto "
			    "it and neither does gpotool\n", tx->file.path, tx->hdr.seq1, tx->hdr.seq2);
		report_field(rep(t), "changed", json_object_new_boolean(0));
		return 0;
	}
	if (!tx->replayed) {
		struct sbuf why;

		sbuf_init(&why);
		hivetx_dirty_reason(tx, 0, &why);
		gt_fail(e, GT_REFUSED, "'%s' %s: there is nothing to recover it from; nothing written", tx->file.path, why.buf);
		sbuf_release(&why);
		return -1;
	}
	target_journal_meta(t, &meta);
	if (hivetx_recover(tx, t->env->state_dir, &meta, e) < 0)
		return name_errors(t, e);
	report_field(rep(t), "changed", json_object_new_boolean(1));
	report_field(rep(t), "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
	report_field(rep(t), "journal", json_object_new_string(tx->journal_id));
	report_field(rep(t), "sequence", json_object_new_int64(tx->replay.seq));
	target_report_plan(t, &tx->plan, hivetx_prefix(tx), "");
	if (tx->plan.n == 0 && tx->replay.base_block_bad)
		report_text(rep(t), "the stale primary could not be read (its base block is bad): the recovered hive replaces it "
			    "whole\n");
	report_text(rep(t), "verified: libregf reads back %zu change%s in '%s', now clean (sequence numbers %u/%u, above every "
		    "one its logs hold: Windows will not replay them onto it; they are left as they were)\n", tx->plan.n,
		    tx->plan.n == 1 ? "" : "s", tx->file.path, tx->replay.seq, tx->replay.seq);
	if (tx->warning)
		report_warn(rep(t), "%s", tx->warning);
	target_journaled(t, tx->journal_id);
	return 0;
}

/* ---- validate ---- */

static uint32_t dword_of(const struct reg_value *v)
{
	return (uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 | (uint32_t)v->data[3] << 24;
}

static int hive_target_read(struct target *t, const struct target_setting *s, struct reg_value *out, struct gt_error *e)
{
	struct hive_target *h = priv(t);
	struct keypath kp;
	hive_key k;
	int r = open_read(t, e);

	if (r == 0)
		r = hivetx_resolve(&h->tx, s->key, &kp, e);
	if (r == 0) {
		r = hivetx_find(&h->tx, &kp, &k, NULL, e);
		keypath_release(&kp);
	} else {
		r = -1;
	}
	if (r == 1)
		r = hive_get_value(h->tx.hive, k, s->name, out, e);
	close_tx(h);
	return r;
}

static int hive_target_check(struct target *t, const struct target_setting *s, const struct reg_value *want, struct gt_error *e)
{
	struct hive_target *h = priv(t);
	struct reg_value v;
	int r = hive_target_read(t, s, &v, e);

	if (r < 0)
		return -1;
	report_field(rep(t), "target", json_object_new_string(h->path));
	if (r == 0) {
		report_field(rep(t), "value", target_value_json(s, want, NULL));
		gt_fail(e, GT_MISMATCH, "'%s' does not hold %s\\%s (absent); %s wants %u", h->path, s->key, s->name, s->label,
			dword_of(want));
		return 0;
	}
	report_field(rep(t), "value", target_value_json(s, want, &v));
	r = v.type == RT_DWORD && v.len == 4 && dword_of(&v) == dword_of(want);
	if (!r) {
		struct sbuf have;

		sbuf_init(&have);
		reg_value_format_brief(&v, &have);
		gt_fail(e, GT_MISMATCH, "'%s' holds %s = %s; %s wants REG_DWORD %u", h->path, s->name, have.buf, s->label,
			dword_of(want));
		sbuf_release(&have);
	}
	reg_value_release(&v);
	if (r)
		report_text(rep(t), "ok: '%s' holds %s = REG_DWORD %u (%s)\n", h->path, s->name, dword_of(want), s->label);
	return r;
}

/* ---- preflight facts ---- */

static int read_product_type(struct hivetx *tx, struct target_fact_value *out, struct gt_error *e)
{
	char key[64];
	unsigned cs;
	int r = hivetx_current_control_set(tx, &cs, e);

	if (r == 1) {
		snprintf(key, sizeof(key), "ControlSet%03u\\%s", cs, WINREG_PRODUCT_OPTIONS_KEY);
		r = hivetx_read_string(tx, key, WINREG_PRODUCT_TYPE, &out->text, e);
	}
	return r < 0 ? -1 : 1;
}

/* The display name of an Uninstall entry is the connector's. */
static int is_connector(struct hivetx *tx, hive_key k, int *yes, struct gt_error *e)
{
	struct reg_value name;

	*yes = 0;
	if (hive_get_value(tx->hive, k, "DisplayName", &name, e) < 0)
		return -1;
	if (name.type == RT_SZ && reg_data_is_clean_string(name.data, name.len)) {
		struct sbuf s;

		sbuf_init(&s);
		utf16le_to_utf8(name.data, name.len - 2, &s);
		*yes = strcmp(s.buf, WINREG_CONNECTOR_DISPLAY_NAME) == 0;
		sbuf_release(&s);
	}
	reg_value_release(&name);
	return 0;
}

static int read_display_version(struct hivetx *tx, hive_key k, char **version, struct gt_error *e)
{
	struct reg_value ver;
	struct sbuf s;

	if (hive_get_value(tx->hive, k, "DisplayVersion", &ver, e) < 0)
		return -1;
	sbuf_init(&s);
	if (ver.len >= 2)
		utf16le_to_utf8(ver.data, ver.len - 2, &s);
	*version = sbuf_detach(&s, NULL);
	sbuf_release(&s);
	reg_value_release(&ver);
	return 0;
}

/* The connector's DisplayVersion from its Uninstall entry (text NULL: not installed). */
static int read_connector(struct hivetx *tx, struct target_fact_value *out, struct gt_error *e)
{
	for (size_t u = 0; u < sizeof(uninstall_keys) / sizeof(uninstall_keys[0]); u++) {
		struct keypath kp;
		hive_key k, *kids = NULL;
		size_t n = 0;
		int r, yes = 0;

		keypath_split(uninstall_keys[u], &kp);
		r = hivetx_find(tx, &kp, &k, NULL, e);
		keypath_release(&kp);
		if (r < 0 || (r == 1 && hive_subkeys(tx->hive, k, &kids, &n, e) < 0))
			return -1;
		for (size_t i = 0; i < n && !yes; i++) {
			if (is_connector(tx, kids[i], &yes, e) < 0 || (yes && read_display_version(tx, kids[i], &out->text, e) < 0)) {
				free(kids);
				return -1;
			}
		}
		free(kids);
		if (yes)
			return 1;
	}
	return 1;
}

/* CurrentBuild, or on Windows before Vista (where CurrentBuild reads "1.511.1 () (Obsolete
 * data - do not use)") CurrentBuildNumber; and UBR. text NULL: no build number. */
static int read_build(struct hivetx *tx, struct target_fact_value *out, struct gt_error *e)
{
	static const char *const names[] = { "CurrentBuild", "CurrentBuildNumber" };
	struct reg_value ubr;
	uint64_t b;

	for (size_t i = 0; i < 2 && !out->text; i++) {
		int r = hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, names[i], &out->text, e);

		if (r < 0)
			return -1;
		if (r == 1 && parse_u64(out->text, UINT32_MAX, &b) == 0) {
			out->number = (uint32_t)b;
			break;
		}
		free(out->text);
		out->text = NULL;
	}
	/* no readable UBR is UBR 0: the patch level is then judged from the build alone, and the
	 * read's failure must not stand in for a later one (a scratch error) */
	if (out->text && hivetx_read_value(tx, WINREG_CURRENT_VERSION_KEY, "UBR", &ubr, &(struct gt_error){ 0 }) == 1) {
		if (ubr.type == RT_DWORD && ubr.len == 4)
			out->ubr = dword_of(&ubr);
		reg_value_release(&ubr);
	}
	return 1;
}

int target_hive_file_fact(const char *path, enum target_fact f, struct target_fact_value *out, struct gt_error *e)
{
	struct hivetx tx;
	int r;

	if (hivetx_open(&tx, path, 0, NULL, e) < 0)
		return -1;
	out->source = path;
	r = f == TF_PRODUCT_TYPE ? read_product_type(&tx, out, e)
	  : f == TF_CONNECTOR_VERSION ? read_connector(&tx, out, e) : read_build(&tx, out, e);
	hivetx_close(&tx);
	if (r < 0)
		target_fact_release(out);
	return r;
}

static int hive_target_fact(struct target *t, enum target_fact f, struct target_fact_value *out, const char **why, struct gt_error *e)
{
	struct hive_target *h = priv(t);

	if (f == TF_PRODUCT_TYPE && h->kind != HK_SYSTEM) {
		*why = "the role is in the SYSTEM hive";
		return 0;
	}
	if (f != TF_PRODUCT_TYPE && h->kind == HK_SYSTEM) {
		*why = f == TF_BUILD ? "the build is in the SOFTWARE hive (give --image WINDIR to check it)"
				     : "the connector is in the SOFTWARE hive";
		return 0;
	}
	return target_hive_file_fact(h->path, f, out, e);
}

/* ---- rollback ---- */

/* What the entry left at c's value or key, against what the hive holds now: appends a line
 * to out when they differ. */
static void drift_line(struct hivetx *tx, const struct change *c, const char *prefix, struct sbuf *out)
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

static int refuse_drift(struct target *t, struct target_rollback *rb, const char *now_sha, struct gt_error *e)
{
	struct hivetx *tx = &priv(t)->tx;
	struct sbuf lines;

	sbuf_init(&lines);
	for (size_t i = 0; i < rb->plan.n; i++)
		drift_line(tx, &rb->plan.v[i], hivetx_prefix(tx), &lines);
	if (lines.len == 0)
		sbuf_addstr(&lines, "  every value this entry changed is as it left it; the file changed elsewhere\n");
	report_text(rep(t), "what differs from what journal entry %s left:\n%s", rb->id, lines.buf);
	report_field(rep(t), "drift", json_object_new_string(lines.buf));
	sbuf_release(&lines);
	return gt_fail(e, GT_REFUSED, "'%s' changed since journal entry %s (SHA-256 now %.12s..., it left %.12s...); nothing "
		       "written. --logical undoes only this entry's changes and keeps the rest", tx->file.path, rb->id, now_sha,
		       jsonx_str(rb->file, "sha256_after"));
}

/* The hive gets the rollback's changes as its plan: the journal records them, libregf checks them. */
static void take_inverse_plan(struct hivetx *tx, const struct plan *inv)
{
	plan_release(&tx->plan);
	for (size_t i = 0; i < inv->n; i++) {
		struct change *c = plan_add(&tx->plan, inv->v[i].kind, inv->v[i].key, inv->v[i].name);

		if ((c->had_old = inv->v[i].had_old))
			reg_value_copy(&c->old, &inv->v[i].old);
		if ((c->has_new = inv->v[i].has_new))
			reg_value_copy(&c->new_value, &inv->v[i].new_value);
	}
}

/* Read the target back: the promise is the original bytes, so check exactly that. */
static int check_exact_result(struct target *t, struct target_rollback *rb, const char *want, struct gt_error *e)
{
	struct hivetx *tx = &priv(t)->tx;
	char now[SHA256_HEX_LEN + 1];

	if (sha256_file_hex(tx->file.path, now, e) < 0)
		return gt_prefix(e, "rolled back, but unable to read it back: ");
	if (strcmp(now, want) != 0)
		return gt_fail(e, GT_FAILED, "'%s' was replaced but does not read back as the original (SHA-256 %s, not %s); "
			       "journal entry %s holds the state before this rollback", tx->file.path, now, want, tx->journal_id);
	report_text(rep(t), "verified: libregf reads back %zu change%s; '%s' is byte-for-byte as before journal entry %s (SHA-256 %s)\n",
		    tx->plan.n, tx->plan.n == 1 ? "" : "s", tx->file.path, rb->id, now);
	if (tx->warning)
		report_warn(rep(t), "%s", tx->warning);
	return 0;
}

/* ---- a write to a dirty hive: its logs were journaled with it ---- */

static int recorded_is(struct json_object *file, const char *field, const char *value);

struct saved_logs {
	uint8_t *bytes[HIVELOG_MAX_FILES];
	size_t lens[HIVELOG_MAX_FILES];
	size_t index[HIVELOG_MAX_FILES]; /* in the entry's targets */
	size_t n;
};

static void saved_logs_release(struct saved_logs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->bytes[i]);
	s->n = 0;
}

static int read_saved_logs(struct target_rollback *rb, struct saved_logs *s, struct gt_error *e)
{
	struct json_object *targets = json_object_object_get(journal_doc(rb->j), "targets");

	s->n = 0;
	for (size_t i = 1; i < json_object_array_length(targets) && s->n < HIVELOG_MAX_FILES; i++) {
		const char *kind = jsonx_str(json_object_array_get_idx(targets, i), "kind");

		if (!kind || strcmp(kind, HIVETX_LOG_FILE_KIND) != 0)
			continue;
		if (journal_read_before(rb->j, i, &s->bytes[s->n], &s->lens[s->n], e) < 0) {
			saved_logs_release(s);
			return -1;
		}
		s->index[s->n++] = i;
	}
	return 0;
}

/* The copy as the hive was, with its saved logs replayed: where libregf checks what the
 * rollback puts back (NULL when they do not replay: the write went to the stale primary). */
static int replay_saved(const uint8_t *bytes, size_t len, const struct saved_logs *s, uint8_t **view, size_t *view_len,
			struct gt_error *e)
{
	struct hivelog_info infos[HIVELOG_MAX_FILES];
	struct hivelog_replay res;

	*view = NULL;
	return hivelog_replay(bytes, len, (const uint8_t *const *)s->bytes, s->lens, s->n, SAFEFILE_MAX_BYTES, infos, &res, view,
			      view_len, e) < 0 ? -1 : 0;
}

/* The entry's logs, before anything is written: each must be as the entry left it (it never
 * changes them), or gone, when it is made again from its copy after the hive is back. A log
 * changed since holds what nobody saved: refused, as a hive changed since is. Opened without
 * following links and without blocking on a FIFO, locked while checked. missing[i] says which
 * are gone. */
static int check_saved_logs(struct target *t, struct target_rollback *rb, const struct saved_logs *s, int *missing,
			    struct gt_error *e)
{
	struct json_object *targets = json_object_object_get(journal_doc(rb->j), "targets");

	for (size_t i = 0; i < s->n; i++) {
		struct json_object *rec = json_object_array_get_idx(targets, s->index[i]);
		const char *path = jsonx_str(rec, "path");
		struct locked_file lf = { .fd = -1 };
		char now[SHA256_HEX_LEN + 1];
		struct stat st;

		missing[i] = lstat(path, &st) < 0 && errno == ENOENT;
		if (missing[i])
			continue;
		if (safefile_open(path, 1, &lf, e) < 0)
			return gt_prefix(e, "'%s' left unchanged: its transaction log: ", priv(t)->path);
		sha256_hex(lf.bytes, lf.len, now);
		safefile_close(&lf);
		if (!recorded_is(rec, "sha256_after", now))
			return gt_fail(e, GT_REFUSED, "'%s' left unchanged: its transaction log '%s' changed since journal entry %s "
				       "(SHA-256 now %.12s..., it left %.12s...), and what it holds now is saved nowhere; move it aside "
				       "to roll back", priv(t)->path, path, rb->id, now, jsonx_str(rec, "sha256_after"));
	}
	return 0;
}

static int put_back_logs(struct target *t, struct target_rollback *rb, const struct saved_logs *s, const int *missing,
			 struct gt_error *e)
{
	struct json_object *targets = json_object_object_get(journal_doc(rb->j), "targets");
	struct sbuf said;
	int ret = 0;

	sbuf_init(&said);
	for (size_t i = 0; i < s->n && ret == 0; i++) {
		const char *path = jsonx_str(json_object_array_get_idx(targets, s->index[i]), "path");

		if (missing[i] && write_file_new(path, s->bytes[i], s->lens[i], priv(t)->tx.file.st.st_mode & 0666, e) < 0) {
			/* the hive is back already: this is no refusal */
			e->code = GT_FAILED;
			ret = gt_prefix(e, "the hive is back as it was, but its transaction log '%s', gone since, could not be "
					"made again from the journal's copy: ", path);
		}
		sbuf_addf(&said, "%s%s (%s)", said.len ? ", " : "", path, missing[i] ? "made again" : "unchanged");
	}
	if (ret == 0 && s->n)
		report_text(rep(t), "transaction logs byte-for-byte as before journal entry %s: %s\n", rb->id, said.buf);
	sbuf_release(&said);
	return ret;
}

static int roll_back_exact(struct target *t, struct target_rollback *rb, const struct plan *inv, struct gt_error *e)
{
	const char *want = jsonx_str(rb->file, "sha256_before");
	struct hivetx *tx = &priv(t)->tx;
	struct saved_logs logs = { .n = 0 };
	struct json_object *extra = json_object_object_get(rb->target, "extra");
	int missing[HIVELOG_MAX_FILES] = { 0 }, dirty;
	struct journal_meta meta;
	uint8_t *bytes, *view = NULL;
	size_t len, view_len = 0;
	int ret;

	if (journal_read_before(rb->j, 0, &bytes, &len, e) < 0)
		return -1;
	/* a write to a dirty hive (replayed, or --ignore-logs) puts back a dirty copy */
	dirty = json_object_object_get(extra, "transaction_logs") != NULL;
	/* a write to a dirty hive changed its replayed view, so the inverse plan is checked in the
	 * copy replayed again; hive recover's plan is what the replay changed, so its inverse is
	 * the stale primary itself */
	if (read_saved_logs(rb, &logs, e) < 0 ||
	    (logs.n && !recorded_is(journal_doc(rb->j), "command_name", "hive recover") &&
	     replay_saved(bytes, len, &logs, &view, &view_len, e) < 0) ||
	    (!rb->o->dry_run && check_saved_logs(t, rb, &logs, missing, e) < 0)) {
		free(bytes);
		free(view);
		saved_logs_release(&logs);
		return -1;
	}
	take_inverse_plan(tx, inv);
	target_report_plan(t, &tx->plan, hivetx_prefix(tx), rb->o->dry_run ? "would " : "");
	report_field(rep(t), "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
	if (rb->o->dry_run) {
		report_text(rep(t), "dry run: would put back the %zu bytes '%s' held before journal entry %s (SHA-256 %s)%s; nothing "
			    "written\n", len, tx->file.path, rb->id, want, logs.n ? ", and its transaction logs" : "");
		free(bytes);
		free(view);
		saved_logs_release(&logs);
		return 0;
	}
	target_journal_meta(t, &meta);
	ret = dirty || logs.n ? hivetx_commit_dirty_bytes(tx, bytes, len, view, view_len, t->env->state_dir, &meta, e)
			      : hivetx_commit_bytes(tx, bytes, len, t->env->state_dir, &meta, e);
	free(bytes);
	free(view);
	if (ret == 0) {
		target_journaled(t, tx->journal_id);
		report_field(rep(t), "journal", json_object_new_string(tx->journal_id));
		report_field(rep(t), "changed", json_object_new_boolean(1));
		ret = check_exact_result(t, rb, want, e);
	}
	if (ret == 0)
		ret = put_back_logs(t, rb, &logs, missing, e);
	saved_logs_release(&logs);
	return ret;
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

/* A key the entry created goes only when nothing was added to it since. */
static int undo_created_key(struct target *t, struct target_rollback *rb, const struct keypath *kp, const char *key,
			    struct gt_error *e)
{
	struct hivetx *tx = &priv(t)->tx;
	hive_key k;
	int found = hivetx_find(tx, kp, &k, NULL, e), empty;

	if (found <= 0)
		return found;
	empty = key_is_empty(tx, k, e);
	if (empty == 1)
		return hivetx_delete_key(tx, kp, e) < 0 ? -1 : 0;
	if (empty == 0)
		report_warn(rep(t), "kept key '%s\\%s': journal entry %s created it, but it holds keys or values added since",
			    hivetx_prefix(tx), key, rb->id);
	return empty < 0 ? -1 : 0;
}

/* One inverse change on the current content; notes what it kept or overrode. */
static int undo_one(struct target *t, struct target_rollback *rb, const struct change *c, struct gt_error *e)
{
	struct hivetx *tx = &priv(t)->tx;
	struct keypath kp;
	int ret = 0;

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
		ret = undo_created_key(t, rb, &kp, c->key, e) < 0 ? -1 : 0;
		break;
	}
	keypath_release(&kp);
	return ret;
}

static int roll_back_logical(struct target *t, struct target_rollback *rb, const struct plan *inv, struct gt_error *e)
{
	struct hivetx *tx = &priv(t)->tx;
	struct sbuf drift;

	sbuf_init(&drift);
	for (size_t i = 0; i < rb->plan.n; i++)
		drift_line(tx, &rb->plan.v[i], hivetx_prefix(tx), &drift);
	if (drift.len)
		report_warn(rep(t), "changed since journal entry %s, and put back as before it all the same:\n%.*s", rb->id,
			    (int)drift.len - 1, drift.buf);
	sbuf_release(&drift);
	for (size_t i = 0; i < inv->n; i++)
		if (undo_one(t, rb, &inv->v[i], e) < 0)
			return gt_prefix(e, "'%s' left unchanged: ", tx->file.path);
	if (tx->plan.n == 0) {
		report_text(rep(t), "no change: '%s' already holds what it held before journal entry %s\n", tx->file.path, rb->id);
		report_field(rep(t), "changed", json_object_new_boolean(0));
		report_field(rep(t), "changes", json_object_new_array());
		return 0;
	}
	if (rb->o->dry_run) {
		target_report_plan(t, &tx->plan, hivetx_prefix(tx), "would ");
		report_field(rep(t), "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
		report_text(rep(t), "dry run: nothing written\n");
		return 0;
	}
	return commit_and_report(t, e);
}

static int recorded_is(struct json_object *file, const char *field, const char *value)
{
	const char *v = jsonx_str(file, field);

	return strcmp(value, v ? v : "") == 0;
}

static int hive_target_rollback(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	struct hive_target *h = priv(t);
	char now[SHA256_HEX_LEN + 1];
	struct plan inv;
	int ret;

	if (rb->o->undo_on_clients)
		return gt_fail(e, GT_USAGE, "--undo-on-clients is for GPO entries; journal entry %s changed the hive '%s'", rb->id,
			       h->path);
	/* a dry run opens as a real run does (as stage --dry-run): the same checks, the same lock */
	h->whole_file = !rb->o->logical;
	if (open_write(t, e) < 0)
		return -1;
	target_rollback_result(t, rb, h->path);
	ret = rb->reload_if_pending(rb, e);
	if (ret == 0)
		ret = sha256_fd_hex(h->tx.file.fd, now, e);
	if (ret < 0)
		return -1;
	plan_invert(&rb->plan, &inv);
	if (!rb->o->logical && recorded_is(rb->file, "sha256_before", now))
		ret = target_already_before(t, rb, h->path);
	else if (rb->o->logical)
		ret = roll_back_logical(t, rb, &inv, e);
	else if (recorded_is(rb->file, "sha256_after", now))
		ret = roll_back_exact(t, rb, &inv, e);
	else
		ret = refuse_drift(t, rb, now, e);
	plan_release(&inv);
	return ret;
}

static int hive_target_open_recorded(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	const char *path = jsonx_str(rb->target, "path");
	struct hive_target *h;

	if (strcmp(jsonx_str(rb->file, "path"), path) != 0 || !jsonx_str(rb->file, "kind") ||
	    strcmp(jsonx_str(rb->file, "kind"), "hive") != 0)
		return gt_fail(e, GT_REFUSED, "journal entry %s is inconsistent: its file is not its target hive", rb->id);
	h = xcalloc(1, sizeof(*h));
	t->priv = h;
	h->path = xstrdup(path);
	h->kind_override = jsonx_str(rb->file, "detail") ? xstrdup(jsonx_str(rb->file, "detail")) : NULL;
	return 0;
}

/* ---- recovery ---- */

/* A journal's before copy of a hive goes back only when libregf opens it and the base block
 * checks pass. */
static int hive_target_check_copy(const char *file_kind, const uint8_t *buf, size_t len, int fd, const char *staged,
			   struct gt_error *e)
{
	struct hive_header hdr;
	struct regf_reader *r;

	(void)staged;
	/* a dirty hive's transaction log goes back as the journal saved it (its SHA-256 checked):
	 * nothing reads it alone */
	if (strcmp(file_kind, HIVETX_LOG_FILE_KIND) == 0)
		return 0;
	/* a dirty hive was journaled as it was, its logs beside it: it goes back dirty (even with a
	 * bad base block, which no reader opens: its SHA-256 was checked) */
	if (hivefile_read_header(buf, len, &hdr, e) < 0 || hivefile_check_safe(buf, len, len, HIVEFILE_DIRTY_ANY, e) < 0)
		return -1;
	if (hdr.checksum_stored != hdr.checksum_computed)
		return 0;
	if (verify_open_fd(fd, &r, e) < 0) /* the file held, not whatever its name holds now */
		return -1;
	verify_close(r);
	return 0;
}

static const char *const hive_file_kinds[] = { "hive", HIVETX_LOG_FILE_KIND, NULL };

const struct target_ops target_hive_ops = {
	.name = "hive",
	.option = "hive",
	.metavar = "FILE",
	.file_kinds = hive_file_kinds,
	.reach = TARGET_HOLDS_MACHINE,
	.open = hive_target_open,
	.open_recorded = hive_target_open_recorded,
	.close = hive_target_close,
	.path = hive_target_path,
	.hive = hive_target_engine,
	.begin = hive_target_begin,
	.plan = hive_target_plan,
	.show_plan = hive_target_show_plan,
	.commit = hive_target_commit,
	.read = hive_target_read,
	.check = hive_target_check,
	.fact = hive_target_fact,
	.rollback = hive_target_rollback,
	.check_copy = hive_target_check_copy,
};

/* ---- for containers of hives ---- */

int target_hive_open_inner_recorded(struct target *inner, const struct target *outer, struct target_rollback *rb,
				    struct gt_error *e)
{
	*inner = (struct target){ .ops = &target_hive_ops, .env = outer->env };
	return hive_target_open_recorded(inner, rb, e);
}

enum hive_kind target_hive_kind_of_key(const char *key)
{
	struct gt_error ignored = { 0 };
	enum hive_kind k = HK_OTHER;
	struct keypath kp;

	if (keypath_parse(key, &kp, &ignored) < 0)
		return HK_OTHER;
	if (!hive_kind_from_name(kp.mount, &k))
		k = HK_OTHER;
	keypath_release(&kp);
	return k;
}
