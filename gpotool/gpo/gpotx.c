/* GPO write transactions; see gpotx.h. */
#include "gpo/gpotx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/fault.h"
#include "reg/keypath.h"
#include "core/sbuf.h"
#include "core/datadir.h"
#include "gpo/gpo-fault.h"

static int load_registry(struct gpotx *tx, int write, struct gt_error *e)
{
	struct sbuf empty;
	int ret;

	if (gpo_registry_path(&tx->gpo, tx->user, &tx->reg_path, &tx->reg_exists, e) < 0)
		return -1;
	if (tx->reg_exists) {
		if (safefile_open(tx->reg_path, write, &tx->reg_file, e) < 0)
			return -1;
		/* a view: the locked file's bytes live until gpotx_close, which frees the doc first */
		return gpp_load_view(tx->reg_file.bytes, tx->reg_file.len, tx->reg_path, tx->schema, &tx->doc, e);
	}
	/* no Registry.xml yet: edits start from the empty file GPMC would write */
	sbuf_init(&empty);
	gpp_empty_file(&empty);
	ret = gpp_load((const uint8_t *)empty.buf, empty.len, tx->reg_path, tx->schema, &tx->doc, e);
	sbuf_release(&empty);
	return ret;
}

int gpotx_open(struct gpotx *tx, const char *dir, int user, int write, struct gt_error *e)
{
	memset(tx, 0, sizeof(*tx));
	tx->version_file.fd = tx->reg_file.fd = -1;
	tx->user = user;
	tx->schema = gpotool_data_file("gpp-registry.rng");
	sbuf_init(&tx->new_reg);
	if (gpo_open(dir, &tx->gpo, e) < 0)
		goto fail;
	/* the version file is the GPO's lock: one writer per GPO at a time */
	if (safefile_open(tx->gpo.backup ? tx->gpo.backup_xml : tx->gpo.gpt_path, write, &tx->version_file, e) < 0)
		goto fail;
	if (!tx->gpo.backup &&
	    gptini_parse(tx->version_file.bytes, tx->version_file.len, &tx->gpt, e) < 0) {
		gt_prefix(e, "'%s': ", tx->gpo.gpt_path);
		goto fail;
	}
	if (load_registry(tx, write, e) < 0)
		goto fail;
	if (write && tx->gpo.backup && !tx->reg_exists) {
		/* GPMC restores the files its Backup.xml lists; a new Registry.xml would be left behind */
		gt_fail(e, GT_REFUSED, "GPMC backup '%s' has no %s Registry.xml, and GPMC would not restore one added here; "
			"stage into the GPO folder instead", dir, user ? "User" : "Machine");
		goto fail;
	}
	return 0;
fail:
	gpotx_close(tx);
	return -1;
}

void gpotx_close(struct gpotx *tx)
{
	gpp_free(tx->doc);
	safefile_close(&tx->reg_file);
	safefile_close(&tx->version_file);
	gptini_release(&tx->gpt);
	gpo_release(&tx->gpo);
	sbuf_release(&tx->new_reg);
	free(tx->reg_path);
	free(tx->journal_id);
	free(tx->warning);
	free(tx->notice);
	for (size_t i = 0; i < tx->ncreated_dirs; i++)
		free(tx->created_dirs[i]);
	free(tx->created_dirs);
	memset(tx, 0, sizeof(*tx));
	tx->version_file.fd = tx->reg_file.fd = -1;
}

/* Root keys a GPP Registry item can name ([MS-GPPREF] 2.2.1.1.4 hive attribute). */
static const struct {
	const char *name, *alias;
	int machine, user;
} gpp_hives[] = {
	{ "HKEY_LOCAL_MACHINE", "HKLM", 1, 1 },
	{ "HKEY_CURRENT_USER", "HKCU", 0, 1 },
	{ "HKEY_USERS", "HKU", 1, 1 },
	{ "HKEY_CLASSES_ROOT", "HKCR", 1, 1 },
	{ "HKEY_CURRENT_CONFIG", "HKCC", 1, 1 },
};

int gpp_split_key(const char *text, int user, const char **hive, char **key, struct gt_error *e)
{
	size_t n = strcspn(text, "\\");
	struct keypath kp;

	*key = NULL;
	for (size_t i = 0; i < sizeof(gpp_hives) / sizeof(gpp_hives[0]); i++) {
		if ((strlen(gpp_hives[i].name) != n || strncasecmp(text, gpp_hives[i].name, n)) &&
		    (strlen(gpp_hives[i].alias) != n || strncasecmp(text, gpp_hives[i].alias, n)))
			continue;
		if (user ? !gpp_hives[i].user : !gpp_hives[i].machine)
			return gt_fail(e, GT_USAGE, "%s items belong on the User side of a GPO: add --user", gpp_hives[i].name);
		*hive = gpp_hives[i].name;
		if (!text[n] || !text[n + 1])
			return gt_fail(e, GT_USAGE, "key '%s' names only a root key", text);
		/* the same strict checks as hive paths: no empty names, Windows' limits */
		if (keypath_parse(text + n + 1, &kp, e) < 0)
			return -1;
		*key = keypath_join(kp.parts, kp.n);
		keypath_release(&kp);
		return 0;
	}
	return gt_fail(e, GT_USAGE, "key '%s' must start with a root key (HKLM\\..., HKCU\\..., HKU, HKCR, HKCC)", text);
}

static int file_mode(const struct locked_file *lf, mode_t fallback)
{
	return lf->fd >= 0 ? (int)(lf->st.st_mode & 07777) : (int)fallback;
}

static int remove_registry(struct gpotx *tx, struct gt_error *e)
{
	if (safefile_remove(&tx->reg_file, e) < 0)
		return -1;
	if (tx->reg_file.sync_warning)
		tx->warning = xstrdup(tx->reg_file.sync_warning);
	return 0;
}

/* After GPT.INI could not be replaced: Registry.xml back as it was (removed if it was new).
 * 1 when it is the original again, whatever a later step (a directory fsync) said: only the
 * file's bytes decide, so the failures on the way are not the caller's to report. */
static int put_back_registry(struct gpotx *tx, struct staged_file *reg)
{
	char want[SHA256_HEX_LEN + 1], now[SHA256_HEX_LEN + 1];
	struct gt_error ignored = { 0 };

	if (!tx->reg_exists)
		return staged_unlink_new(reg) == 0;
	write_file_atomic(tx->reg_path, tx->reg_file.bytes, tx->reg_file.len, (mode_t)file_mode(&tx->reg_file, 0644), &ignored);
	sha256_hex(tx->reg_file.bytes, tx->reg_file.len, want);
	return sha256_file_hex(tx->reg_path, now, &ignored) == 0 && strcmp(want, now) == 0;
}

/* The staged files read back through their descriptors: Registry.xml must be exactly the
 * bytes checked against the schema and the plan, GPT.INI must parse with the new version. */
static int verify_staged(struct gpotx *tx, const struct staged_file *reg, const struct staged_file *gpt, struct gt_error *e)
{
	struct gptini check;
	uint8_t *back;
	size_t len;
	int ok;

	if (reg->tmp_name) {
		if (staged_read(reg, &back, &len, e) < 0)
			return -1;
		ok = len == tx->new_reg.len && memcmp(back, tx->new_reg.buf, len) == 0;
		free(back);
		if (!ok)
			return gt_fail(e, GT_FAILED, "verification failed: the written Registry.xml is not the checked one");
	}
	if (!gpt->tmp_name)
		return 0;
	if (staged_read(gpt, &back, &len, e) < 0)
		return -1;
	ok = gptini_parse(back, len, &check, e) == 0;
	if (ok) {
		ok = check.version == tx->new_version;
		gptini_release(&check);
	}
	free(back);
	if (!ok) {
		gt_error_clear(e);
		return gt_fail(e, GT_FAILED, "verification failed: the new GPT.INI does not hold Version=%u", tx->new_version);
	}
	return 0;
}

/* A Samba SYSVOL keeps each file's Windows ACL in security.NTACL; a Registry.xml gpotool
 * creates has none (nor have folders it makes), so Windows sees Samba's default for it. */
static void note_new_without_ntacl(struct gpotx *tx)
{
	struct sbuf sb;

	if (tx->reg_exists || tx->remove_reg || tx->version_file.fd < 0 ||
	    !safefile_has_xattr(tx->version_file.fd, "security.NTACL"))
		return;
	sbuf_init(&sb);
	sbuf_addf(&sb, "'%s' is new and has no security.NTACL (nor has any folder made for it), while the GPO's GPT.INI has "
		  "one: Windows sees Samba's default ACL on it; on the DC run: samba-tool ntacl sysvolreset", tx->reg_path);
	free(tx->notice);
	tx->notice = sbuf_detach(&sb, NULL);
}

/* What one commit holds between its steps: the new GPT.INI's bytes, the two files staged
 * beside their targets and the journal entry. */
struct gpo_commit {
	struct sbuf gpt_bytes;
	struct staged_file reg, gpt;
	struct journal_entry *j;
};

static void gpo_commit_release(struct gpo_commit *c)
{
	journal_free(c->j);
	staged_discard(&c->reg);
	staged_discard(&c->gpt);
	sbuf_release(&c->gpt_bytes);
}

/* GPT.INI with the version bumped, and the new Registry.xml, written and fsynced beside the
 * originals, each keeping its file's owner, mode, ACL and xattrs; the folders a new
 * Registry.xml needs are made first (and recorded on tx). A GPMC backup's version file is
 * not rewritten. */
static int stage_files(struct gpotx *tx, struct gpo_commit *c, struct gt_error *e)
{
	if (!tx->gpo.backup) {
		tx->new_version = gpt_version_bump(tx->gpt.version, tx->user);
		gptini_render(&tx->gpt, tx->new_version, &c->gpt_bytes);
		fault_gptini_rendered(&c->gpt_bytes);
	}
	if (!tx->reg_exists && gpo_make_registry_dir(&tx->gpo, tx->user, &tx->created_dirs, &tx->ncreated_dirs, e) < 0)
		return -1;
	if (!tx->remove_reg &&
	    staged_write_like(tx->reg_path, tx->new_reg.buf, tx->new_reg.len, tx->reg_exists ? &tx->reg_file : NULL,
			      (mode_t)file_mode(&tx->reg_file, 0644), &c->reg, e) < 0)
		return -1;
	if (!tx->gpo.backup && staged_write_like(tx->gpo.gpt_path, c->gpt_bytes.buf, c->gpt_bytes.len, &tx->version_file,
						 (mode_t)file_mode(&tx->version_file, 0644), &c->gpt, e) < 0)
		return -1;
	return 0;
}

/* The pending entry, before anything is replaced: Registry.xml's and GPT.INI's before-states
 * (only Registry.xml's for a GPMC backup) with the hash and staged file of what replaces them. */
static int begin_journal(struct gpotx *tx, const char *state_dir, const struct journal_meta *meta_in, const struct plan *plan,
			 struct gpo_commit *c, struct gt_error *e)
{
	struct journal_meta meta = *meta_in;
	struct journal_target t[2];
	char after[2][SHA256_HEX_LEN + 1];

	memset(t, 0, sizeof(t));
	t[0] = (struct journal_target){ .path = tx->reg_path, .existed = tx->reg_exists, .kind = "gpp-registry-xml",
		.detail = tx->user ? "User" : "Machine", .key_prefix = "", .before = tx->reg_file.bytes,
		.before_len = tx->reg_file.len, .plan = plan, .created_dirs = tx->created_dirs,
		.ncreated_dirs = tx->ncreated_dirs };
	t[1] = (struct journal_target){ .path = tx->gpo.gpt_path, .existed = 1, .kind = "gpt-ini", .detail = tx->gpo.guid,
		.key_prefix = "", .before = tx->version_file.bytes, .before_len = tx->version_file.len };
	if (tx->remove_reg)
		after[0][0] = '\0'; /* absent, as the journal writes it */
	else
		sha256_hex(tx->new_reg.buf, tx->new_reg.len, after[0]);
	sha256_hex(c->gpt_bytes.buf, c->gpt_bytes.len, after[1]);
	t[0].after_sha256 = after[0];
	t[0].staged = c->reg.tmp;
	t[1].after_sha256 = after[1];
	t[1].staged = c->gpt.tmp;
	meta.target_kind = "gpo";
	meta.target_path = tx->gpo.dir;
	meta.side = tx->user ? "User" : "Machine";
	return journal_begin(state_dir, &meta, t, tx->gpo.backup ? 1 : 2, &c->j, e);
}

enum replaced {
	REPLACED,      /* both files are the new ones */
	UNCHANGED,     /* both are as before; the entry is marked failed */
	LOST,          /* a file gpotool did not write is in place; the entry stays pending */
	HALF_CHANGED,  /* Registry.xml new, GPT.INI old, and Registry.xml could not be put back */
};

/* Registry.xml, then GPT.INI, each renamed into place: until GPT.INI's version rises,
 * clients do not look at the new Registry.xml. When GPT.INI fails, Registry.xml is put back,
 * so that the GPO is entirely as before. */
static enum replaced replace_files(struct gpotx *tx, struct gpo_commit *c, struct gt_error *e)
{
	fault_point(FAULT_GPO_BEFORE_RENAMES);
	if ((tx->remove_reg ? remove_registry(tx, e) : staged_commit(&c->reg, e)) < 0) {
		if (c->reg.lost)
			return LOST;
		journal_abandon(c->j, e->msg);
		return UNCHANGED;
	}
	fault_point(FAULT_GPO_BETWEEN_RENAMES);
	if (tx->gpo.backup || staged_commit(&c->gpt, e) == 0)
		return REPLACED;
	if (c->gpt.lost)
		return LOST;
	if (!put_back_registry(tx, &c->reg))
		return HALF_CHANGED;
	journal_abandon(c->j, e->msg);
	return UNCHANGED;
}

/* The change is in place: tx gets the entry's ID and what the operator should hear, and the
 * entry is marked complete. When that mark cannot be written, the entry stays "pending" and
 * says what it was: the commit still succeeded, with a warning. */
static void finish_commit(struct gpotx *tx, struct gpo_commit *c)
{
	struct gt_error unmarked = { 0 };

	tx->journal_id = xstrdup(journal_id(c->j));
	if (!tx->warning && (c->reg.sync_warning || c->gpt.sync_warning))
		tx->warning = xstrdup(c->reg.sync_warning ? c->reg.sync_warning : c->gpt.sync_warning);
	note_new_without_ntacl(tx);
	if (journal_complete(c->j, &unmarked) < 0) {
		free(tx->warning);
		tx->warning = xstrdup(unmarked.msg);
	}
}

/* Nothing was replaced: the staged files go, and so do the folders made for a Registry.xml
 * that is not there ("left unchanged" includes them). Returns -1. */
static int left_unchanged(struct gpotx *tx, struct gpo_commit *c, struct gt_error *e)
{
	struct sbuf removed;

	gpo_commit_release(c);
	sbuf_init(&removed);
	gpo_remove_created_dirs(&tx->gpo, tx->user, tx->created_dirs, tx->ncreated_dirs, &removed);
	sbuf_release(&removed);
	return gt_prefix(e, "GPO '%s' left unchanged: ", tx->gpo.dir);
}

int gpotx_commit(struct gpotx *tx, const char *state_dir, const struct journal_meta *meta, const struct plan *plan,
		 struct gt_error *e)
{
	struct gpo_commit c = { .j = NULL };
	int ret = -1;

	sbuf_init(&c.gpt_bytes);
	/* write -> verify -> journal -> rename */
	if (stage_files(tx, &c, e) < 0 || verify_staged(tx, &c.reg, &c.gpt, e) < 0 ||
	    begin_journal(tx, state_dir, meta, plan, &c, e) < 0)
		return left_unchanged(tx, &c, e);
	switch (replace_files(tx, &c, e)) {
	case REPLACED:
		finish_commit(tx, &c);
		ret = 0;
		break;
	case UNCHANGED:
		return left_unchanged(tx, &c, e);
	case LOST:
		gt_prefix(e, "GPO '%s' not changed as asked; journal entry %s (pending) keeps its files as they were before: ",
			  tx->gpo.dir, journal_id(c.j));
		break;
	case HALF_CHANGED:
		/* neither state can be made whole now: the entry stays pending with GPT.INI's
		 * staged file, and the next gpotool write to this GPO finishes the change from them */
		gt_prefix(e, "GPO '%s' is half-changed (Registry.xml new, GPT.INI old); journal entry %s stays pending "
			  "and the next gpotool write to this GPO finishes it: ", tx->gpo.dir, journal_id(c.j));
		free(c.gpt.tmp);
		c.gpt.tmp = NULL;
		break;
	}
	gpo_commit_release(&c);
	return ret;
}

/* The same item, same data and no new filters: nothing to write (re-staging is a no-op). */
int gpotx_has_item(const struct gpotx *tx, const struct gpp_setting *s)
{
	long i = gpp_find(tx->doc, s->hive, s->key, s->name);
	struct gpp_item it;
	struct sbuf want;
	struct gt_error ignored = { 0 };
	int same;

	if (i < 0 || s->filter_group || s->filter_computer || s->filter_ou)
		return 0;
	sbuf_init(&want);
	gpp_value_text(&s->value, &want, &ignored);
	gpp_item_get(tx->doc, (size_t)i, &it);
	same = it.action[0] == s->action && !it.action[1] && strcmp(it.type, reg_type_name(s->value.type)) == 0 &&
	       strcmp(it.value, want.buf) == 0 && !it.disabled;
	gpp_item_release(&it);
	sbuf_release(&want);
	return same;
}
