/* Hive targets: safe open, path resolution, recorded edits and the commit pipeline. */
#include "hive/hivetx.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/digest.h"
#include "core/fault.h"
#include "core/sbuf.h"
#include "hive/verify.h"
#include "hive/hive-fault.h"

static int detect_has(struct hivetx *tx, hive_key k, const char *name)
{
	struct gt_error ignored = { 0 };
	hive_key out;

	return hive_child(tx->hive, k, name, &out, &ignored) == 1;
}

static int name_ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcasecmp(s + n - t, tail) == 0;
}

/* A user's Software subtree has Microsoft, Classes and Policies too; only the machine's
 * SOFTWARE hive says which Windows it is. */
static int has_windows_version(struct hivetx *tx)
{
	struct gt_error ignored = { 0 };
	char *v = NULL;
	int r = hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, "CurrentBuild", &v, &ignored);

	if (r != 1)
		r = hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, "ProductName", &v, &ignored);
	free(v);
	return r == 1;
}

/* Content first (keys only a hive of that kind has), then the path tail Windows writes
 * into the base block, which survives copies but not every tool that rewrites hives. */
static enum hive_kind detect_kind(struct hivetx *tx)
{
	hive_key root = hive_root(tx->hive), sam;
	const char *fn = tx->hdr.file_name;

	if (detect_has(tx, root, "Select") &&
	    (detect_has(tx, root, "ControlSet001") || detect_has(tx, root, "ControlSet002")))
		return HK_SYSTEM;
	if (detect_has(tx, root, "Microsoft") &&
	    (detect_has(tx, root, "Classes") || detect_has(tx, root, "Policies")) && has_windows_version(tx))
		return HK_SOFTWARE;
	if (hive_child(tx->hive, root, "SAM", &sam, &(struct gt_error){ 0 }) == 1 && detect_has(tx, sam, "Domains"))
		return HK_SAM;
	if (detect_has(tx, root, "Policy") && (detect_has(tx, root, "RXACT") || detect_has(tx, root, "Cache")))
		return HK_SECURITY;
	if (detect_has(tx, root, "Software") &&
	    (detect_has(tx, root, "Control Panel") || detect_has(tx, root, "Environment") ||
	     detect_has(tx, root, "AppEvents") || detect_has(tx, root, "Console")))
		return HK_NTUSER;
	if (detect_has(tx, root, "Local Settings") && !detect_has(tx, root, "Software"))
		return HK_USRCLASS;
	if (name_ends_with(fn, "\\SYSTEM"))
		return HK_SYSTEM;
	if (name_ends_with(fn, "\\SOFTWARE"))
		return HK_SOFTWARE;
	if (name_ends_with(fn, "\\SAM"))
		return HK_SAM;
	if (name_ends_with(fn, "\\SECURITY"))
		return HK_SECURITY;
	if (name_ends_with(fn, "ntuser.dat"))
		return HK_NTUSER;
	if (name_ends_with(fn, "UsrClass.dat"))
		return HK_USRCLASS;
	return HK_OTHER;
}

/* hivex reads the file again by name; if anything but gpotool changed it since we read it,
 * our copy of the before-state would not be what hivex edits. */
static int check_unchanged(struct hivetx *tx, struct gt_error *e)
{
	struct stat now;

	if (safefile_stat_name(&tx->file, &now) < 0 || now.st_ino != tx->file.st.st_ino || now.st_size != tx->file.st.st_size ||
	    now.st_mtim.tv_sec != tx->file.st.st_mtim.tv_sec || now.st_mtim.tv_nsec != tx->file.st.st_mtim.tv_nsec)
		return gt_fail(e, GT_REFUSED, "changed by another program while being read");
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The transaction logs Windows keeps beside a hive: NAME.LOG (before Windows 8.1), NAME.LOG1
 * and NAME.LOG2, in any case (a copy from an NTFS volume keeps Windows' spelling, "SYSTEM.LOG1",
 * a tool may lower it). Appends "NAME.LOG1 (N bytes), NAME.LOG2 (empty)"; returns how many. */
static size_t find_logs(const char *path, struct sbuf *out)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *dir = slash ? xmemdup(path, (size_t)(slash - path) + 1) : xstrdup(".");
	size_t blen = strlen(base), n = 0, cap = 0;
	char **names = NULL;
	struct dirent *d;
	DIR *dp;

	if (slash)
		dir[slash - path] = '\0';
	dp = opendir(slash == path ? "/" : dir);

	while (dp && (d = readdir(dp))) {
		const char *tail = d->d_name + blen;

		if (strncasecmp(d->d_name, base, blen) != 0 ||
		    (strcasecmp(tail, ".LOG") && strcasecmp(tail, ".LOG1") && strcasecmp(tail, ".LOG2")))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 4;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(d->d_name);
	}
	if (dp)
		closedir(dp);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct sbuf full;
		struct stat st;

		sbuf_init(&full);
		sbuf_addf(&full, "%s/%s", slash == path ? "" : dir, names[i]);
		sbuf_addf(out, "%s%s", i ? ", " : "", names[i]);
		if (lstat(full.buf, &st) == 0 && S_ISREG(st.st_mode))
			sbuf_addf(out, st.st_size ? " (%lld bytes)" : " (empty)", (long long)st.st_size);
		sbuf_release(&full);
		free(names[i]);
	}
	free(names);
	free(dir);
	return n;
}

void hivetx_dirty_reason(const char *path, const struct hive_header *h, int refusing, struct sbuf *out)
{
	struct sbuf logs;

	sbuf_init(&logs);
	sbuf_addf(out, "is dirty (sequence numbers %u != %u)", h->seq1, h->seq2);
	if (find_logs(path, &logs) == 0)
		sbuf_addstr(out, " and no transaction log (.LOG, .LOG1, .LOG2) is beside it: its newest changes were in "
			    "the logs and are lost with them");
	else
		sbuf_addf(out, ": its transaction logs %s beside it hold changes not yet in it, which gpotool does not "
			  "replay yet", logs.buf);
	if (refusing)
		sbuf_addstr(out, logs.len ? "; load it once on Windows (or replay the logs) before editing it"
			    : "; copy its logs along with it, or load it once on Windows, before editing it");
	sbuf_release(&logs);
}

static int open_checked(struct hivetx *tx, const char *path, int write, const char *kind_override, struct gt_error *e)
{
	char held[SAFEFILE_FD_NAME_MAX];
	struct regf_reader *r;

	if (safefile_open_head(path, write, HIVEFILE_HEAD_BYTES, &tx->file, e) < 0)
		return -1;
	/* a writer's libregf and hivex read the locked file itself, not whatever the name holds */
	safefile_fd_name(tx->file.fd, held);
	if (hivefile_read_header(tx->file.bytes, tx->file.len, &tx->hdr, e) < 0 ||
	    hivefile_check_safe(tx->file.bytes, tx->file.len, (uint64_t)tx->file.st.st_size, 1, e) < 0)
		return -1;
	tx->dirty = tx->hdr.seq1 != tx->hdr.seq2;
	if (write && tx->dirty) {
		struct sbuf why;

		sbuf_init(&why);
		hivetx_dirty_reason(path, &tx->hdr, 1, &why);
		gt_fail(e, GT_REFUSED, "hive %s", why.buf);
		sbuf_release(&why);
		return -1;
	}
	if (write) {
		if (verify_open_fd(tx->file.fd, &r, e) < 0)
			return -1;
		verify_close(r);
	}
	if (hive_open(write ? held : path, write, tx->hdr.minor, &tx->hive, e) < 0 || check_unchanged(tx, e) < 0)
		return -1;
	/* an edit must not build on a damaged tree, even far from the key it touches; and a
	 * read must not report as sound (export, get) what info and every writer refuse */
	if (hive_check_tree(tx->hive, &tx->tree_keys, &tx->tree_values, e) < 0)
		return -1;
	tx->writable = write;
	if (kind_override) {
		if (!hive_kind_from_name(kind_override, &tx->kind))
			return gt_fail(e, GT_USAGE, "unknown hive kind '%s' (SYSTEM, SOFTWARE, SAM, SECURITY, NTUSER, USRCLASS, other)",
				       kind_override);
	} else {
		tx->kind = detect_kind(tx);
		tx->kind_detected = 1;
	}
	return 0;
}

int hivetx_open(struct hivetx *tx, const char *path, int write, const char *kind_override, struct gt_error *e)
{
	memset(tx, 0, sizeof(*tx));
	tx->file.fd = -1;
	plan_init(&tx->plan);
	if (open_checked(tx, path, write, kind_override, e) < 0) {
		if (e->code != GT_USAGE)
			gt_prefix(e, "'%s': ", path);
		hivetx_close(tx);
		return -1;
	}
	return 0;
}

void hivetx_close(struct hivetx *tx)
{
	hive_close(tx->hive);
	safefile_close(&tx->file);
	plan_release(&tx->plan);
	free(tx->journal_id);
	free(tx->warning);
	memset(tx, 0, sizeof(*tx));
	tx->file.fd = -1;
}

const char *hivetx_prefix(const struct hivetx *tx)
{
	return hive_kind_short_prefix(tx->kind);
}

int hivetx_current_control_set(struct hivetx *tx, unsigned *n, struct gt_error *e)
{
	struct reg_value v;
	hive_key select, cs;
	char name[32];
	uint32_t cur;
	int r;

	*n = 0;
	r = hive_child(tx->hive, hive_root(tx->hive), WINREG_SELECT_KEY, &select, e);
	if (r <= 0)
		return r;
	r = hive_get_value(tx->hive, select, WINREG_SELECT_CURRENT, &v, e);
	if (r < 0)
		return -1;
	if (r == 0)
		return gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet: Select\\Current is missing");
	if (v.type != RT_DWORD || v.len != 4) {
		reg_value_release(&v);
		return gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet: Select\\Current is not a 4-byte REG_DWORD");
	}
	cur = (uint32_t)v.data[0] | (uint32_t)v.data[1] << 8 | (uint32_t)v.data[2] << 16 | (uint32_t)v.data[3] << 24;
	reg_value_release(&v);
	if (cur == 0 || cur > 999)
		return gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet: Select\\Current is %u, not a control set number", cur);
	snprintf(name, sizeof(name), "ControlSet%03u", cur);
	r = hive_child(tx->hive, hive_root(tx->hive), name, &cs, e);
	if (r < 0)
		return -1;
	if (r == 0)
		return gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet: Select\\Current names %s, which does not exist", name);
	*n = cur;
	return 1;
}

/* Drops the first n parts of kp (a mount's prefix that this hive holds at its root). */
static void drop_parts(struct keypath *kp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(kp->parts[i]);
	memmove(kp->parts, kp->parts + n, (kp->n - n) * sizeof(*kp->parts));
	kp->n -= n;
}

/* A UsrClass.dat is mounted at HKCU\Software\Classes and is HKCR's user half: keys shown as
 * "HKCU\Software\Classes\X" (as gpotool prints them) or written "HKCR\X" are X below its root. */
static int usrclass_path(struct keypath *kp)
{
	if (kp->classes) {
		drop_parts(kp, 1);
		return 1;
	}
	if (strcasecmp(kp->mount, "NTUSER") == 0 && kp->n >= 2 && strcasecmp(kp->parts[0], "Software") == 0 &&
	    strcasecmp(kp->parts[1], "Classes") == 0) {
		drop_parts(kp, 2);
		return 1;
	}
	return 0;
}

static int check_mount(struct hivetx *tx, const char *text, struct keypath *kp, struct gt_error *e)
{
	enum hive_kind named;

	if (!kp->mount)
		return 0;
	if (tx->kind == HK_USRCLASS && usrclass_path(kp))
		return 0;
	if (tx->kind == HK_OTHER) {
		if (hive_kind_from_name(kp->mount, &named))
			return gt_fail(e, GT_USAGE, "key '%s' is in the %s hive, but '%s' is not recognised as one; "
				       "give --kind %s or a path relative to the hive root", text, kp->mount, tx->file.path, kp->mount);
		return 0;
	}
	if (tx->kind == HK_USRCLASS)
		return gt_fail(e, GT_USAGE, "key '%s' is in the %s hive, but '%s' is a USRCLASS hive (its keys are "
			       "HKCU\\Software\\Classes\\... or HKCR\\...)", text, kp->mount, tx->file.path);
	if (strcasecmp(kp->mount, hive_kind_mount(tx->kind)) != 0)
		return gt_fail(e, GT_USAGE, "key '%s' is in the %s hive, but '%s' is a %s hive", text, kp->mount,
			       tx->file.path, hive_kind_name(tx->kind));
	return 0;
}

int hivetx_resolve(struct hivetx *tx, const char *text, struct keypath *kp, struct gt_error *e)
{
	unsigned cs;
	int r;

	if (keypath_parse(text, kp, e) < 0 || check_mount(tx, text, kp, e) < 0)
		goto fail;
	if (kp->n == 0 || strcasecmp(kp->parts[0], "CurrentControlSet") != 0)
		return 0;
	/* the running system links CurrentControlSet; a hive file has only ControlSet00N */
	r = hivetx_current_control_set(tx, &cs, e);
	if (r < 0)
		goto fail;
	if (r == 0) {
		gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet in '%s': it has no Select key (is it a SYSTEM hive?)",
			tx->file.path);
		goto fail;
	}
	free(kp->parts[0]);
	kp->parts[0] = xmalloc(32);
	snprintf(kp->parts[0], 32, "ControlSet%03u", cs);
	return 0;
fail:
	keypath_release(kp);
	return -1;
}

/* Walks parts[0..n); *depth is how many were found; names (optional) collects stored names. */
static int walk(struct hivetx *tx, char *const *parts, size_t n, hive_key *out, size_t *depth,
		struct keypath *names, struct gt_error *e)
{
	hive_key k = hive_root(tx->hive);

	*depth = 0;
	for (size_t i = 0; i < n; i++) {
		hive_key child;
		int r = hive_child(tx->hive, k, parts[i], &child, e);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (names) {
			char *name = hive_key_name(tx->hive, child, e);

			if (!name)
				return -1;
			names->parts = xrealloc(names->parts, (names->n + 1) * sizeof(char *));
			names->parts[names->n++] = name;
		}
		k = child;
		(*depth)++;
	}
	*out = k;
	return 0;
}

int hivetx_find(struct hivetx *tx, const struct keypath *kp, hive_key *out, char **stored, struct gt_error *e)
{
	struct keypath names = { 0 };
	size_t depth;
	int ret;

	if (walk(tx, kp->parts, kp->n, out, &depth, stored ? &names : NULL, e) < 0) {
		keypath_release(&names);
		return -1;
	}
	ret = depth == kp->n;
	if (stored)
		*stored = ret ? keypath_join(names.parts, names.n) : NULL;
	keypath_release(&names);
	return ret;
}

/* Finds or creates the key, recording every key created; *stored is its stored path. */
static int ensure_key(struct hivetx *tx, const struct keypath *kp, hive_key *out, char **stored, struct gt_error *e)
{
	struct keypath names = { 0 };
	size_t depth;
	hive_key k;

	*stored = NULL;
	if (walk(tx, kp->parts, kp->n, &k, &depth, &names, e) < 0) {
		keypath_release(&names);
		return -1;
	}
	for (size_t i = depth; i < kp->n; i++) {
		char *joined;

		if (hive_add_key(tx->hive, k, kp->parts[i], &k, e) < 0) {
			keypath_release(&names);
			return -1;
		}
		names.parts = xrealloc(names.parts, (names.n + 1) * sizeof(char *));
		names.parts[names.n++] = xstrdup(kp->parts[i]);
		joined = keypath_join(names.parts, names.n);
		plan_add(&tx->plan, CH_ADD_KEY, joined, NULL);
		free(joined);
	}
	*out = k;
	*stored = keypath_join(names.parts, names.n);
	keypath_release(&names);
	return 0;
}

int hivetx_add_key(struct hivetx *tx, const struct keypath *kp, struct gt_error *e)
{
	char *stored;
	hive_key k;
	int ret = ensure_key(tx, kp, &k, &stored, e);

	free(stored);
	return ret;
}

static size_t utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

int hivetx_set_value(struct hivetx *tx, const struct keypath *kp, const struct reg_value *v, struct gt_error *e)
{
	struct reg_value old;
	struct change *c;
	char *stored;
	hive_key k;
	int r;

	if (utf8_length(v->name) > REG_NAME_MAX_CHARS)
		return gt_fail(e, GT_USAGE, "value name longer than %u characters", REG_NAME_MAX_CHARS);
	if (v->len > REG_VALUE_MAX_BYTES)
		return gt_fail(e, GT_REFUSED, "value '%s' is %zu bytes, over the %u-byte limit", v->name, v->len, REG_VALUE_MAX_BYTES);
	if (ensure_key(tx, kp, &k, &stored, e) < 0)
		return -1;
	r = hive_get_value(tx->hive, k, v->name, &old, e);
	if (r < 0 || (r == 1 && reg_value_equal_data(&old, v))) {
		/* already as asked: writing it again would only churn cells */
		reg_value_release(&old);
		free(stored);
		return r < 0 ? -1 : 0;
	}
	if (hive_put_value(tx->hive, k, v, e) < 0) {
		reg_value_release(&old);
		free(stored);
		return -1;
	}
	c = plan_add(&tx->plan, CH_SET_VALUE, stored, r == 1 ? old.name : v->name);
	c->had_old = r == 1;
	c->old = old;
	c->has_new = 1;
	reg_value_copy(&c->new_value, v);
	free(c->new_value.name);
	c->new_value.name = xstrdup(c->name);
	free(stored);
	return 0;
}

int hivetx_delete_value(struct hivetx *tx, const struct keypath *kp, const char *name, struct gt_error *e)
{
	struct reg_value old;
	struct change *c;
	char *stored;
	hive_key k;
	int r = hivetx_find(tx, kp, &k, &stored, e);

	if (r <= 0)
		return r;
	r = hive_get_value(tx->hive, k, name, &old, e);
	if (r == 1)
		r = hive_delete_value(tx->hive, k, old.name, e);
	if (r == 1) {
		c = plan_add(&tx->plan, CH_DELETE_VALUE, stored, old.name);
		c->had_old = 1;
		c->old = old;
	} else {
		reg_value_release(&old);
	}
	free(stored);
	return r;
}

/* Records a subtree's values and keys, children first, as the deletions they become. */
static int record_subtree(struct hivetx *tx, hive_key k, const char *stored, unsigned depth, struct gt_error *e)
{
	struct reg_value *vals;
	hive_key *kids;
	size_t nvals, nkids;
	int ret = 0;

	if (depth > KEYPATH_MAX_DEPTH)
		return gt_fail(e, GT_REFUSED, "key tree deeper than %u levels under '%s'", KEYPATH_MAX_DEPTH, stored);
	if (hive_subkeys(tx->hive, k, &kids, &nkids, e) < 0)
		return -1;
	for (size_t i = 0; i < nkids && ret == 0; i++) {
		char *name = hive_key_name(tx->hive, kids[i], e);
		struct sbuf path;

		if (!name) {
			ret = -1;
			break;
		}
		sbuf_init(&path);
		sbuf_addf(&path, "%s%s%s", stored, *stored ? "\\" : "", name);
		ret = record_subtree(tx, kids[i], path.buf, depth + 1, e);
		sbuf_release(&path);
		free(name);
	}
	free(kids);
	if (ret < 0 || hive_values(tx->hive, k, &vals, &nvals, e) < 0)
		return -1;
	for (size_t i = 0; i < nvals; i++) {
		struct change *c = plan_add(&tx->plan, CH_DELETE_VALUE, stored, vals[i].name);

		c->had_old = 1;
		reg_value_copy(&c->old, &vals[i]);
	}
	reg_values_free(vals, nvals);
	plan_add(&tx->plan, CH_DELETE_KEY, stored, NULL);
	return 0;
}

int hivetx_delete_key(struct hivetx *tx, const struct keypath *kp, struct gt_error *e)
{
	char *stored;
	hive_key k;
	int r;

	if (kp->n == 0)
		return gt_fail(e, GT_USAGE, "refusing to delete the root key of the hive");
	r = hivetx_find(tx, kp, &k, &stored, e);
	if (r <= 0)
		return r;
	if (record_subtree(tx, k, stored, 0, e) < 0 || hive_delete_key(tx->hive, k, e) < 0)
		r = -1;
	free(stored);
	return r;
}

int hivetx_read_value(struct hivetx *tx, const char *key, const char *name, struct reg_value *out, struct gt_error *e)
{
	struct keypath kp;
	hive_key k;
	int r;

	reg_value_init(out);
	keypath_split(key, &kp);
	r = hivetx_find(tx, &kp, &k, NULL, e);
	keypath_release(&kp);
	return r <= 0 ? r : hive_get_value(tx->hive, k, name, out, e);
}

int hivetx_read_string(struct hivetx *tx, const char *key, const char *name, char **out, struct gt_error *e)
{
	struct reg_value v;
	struct sbuf sb;
	int r;

	*out = NULL;
	r = hivetx_read_value(tx, key, name, &v, e);
	if (r <= 0)
		return r;
	sbuf_init(&sb);
	if (v.type == RT_SZ || v.type == RT_EXPAND_SZ)
		utf16le_to_utf8(v.data, v.len >= 2 && !v.data[v.len - 1] && !v.data[v.len - 2] ? v.len - 2 : v.len, &sb);
	else
		reg_value_format_brief(&v, &sb);
	reg_value_release(&v);
	*out = sbuf_detach(&sb, NULL);
	sbuf_release(&sb);
	return 1;
}

/* ---- verification: libregf must see exactly what hivex holds, and that must be the plan ---- */

/* Data of 4 bytes or less is stored inline in the value record. libregf 20201007 (Debian 12)
 * returns the last N bytes of that 4-byte field instead of the first N for N < 4 (e.g. an
 * empty REG_SZ, 2 bytes, reads as its padding), while Windows, hivex and reglookup read the
 * first N. For such values the second reader can vouch for name, type and size only; the
 * tests check their bytes with reglookup. */
#define REGF_INLINE_MAX 3

static int regf_agrees(const struct reg_value *hivex_view, const struct reg_value *regf_view)
{
	if (hivex_view->len <= REGF_INLINE_MAX)
		return hivex_view->type == regf_view->type && hivex_view->len == regf_view->len;
	return reg_value_equal_data(hivex_view, regf_view);
}

static int same_values(const struct reg_value *a, size_t na, const struct reg_value *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) != 0 || !regf_agrees(&a[i], &b[i]))
			return 0;
	return 1;
}

/* One touched key, read by hivex (in memory) and by libregf (from the written file). */
static int cross_check_key(struct hivetx *tx, struct regf_reader *r, const char *key, struct gt_error *e)
{
	struct reg_value *hv_vals = NULL, *rf_vals = NULL;
	size_t hv_n = 0, rf_n = 0;
	struct keypath kp;
	hive_key k;
	int in_hivex, in_regf, ret = 0;

	keypath_split(key, &kp);
	in_hivex = hivetx_find(tx, &kp, &k, NULL, e);
	if (in_hivex == 1 && hive_values(tx->hive, k, &hv_vals, &hv_n, e) < 0)
		in_hivex = -1;
	in_regf = in_hivex < 0 ? -1 : verify_read_key(r, kp.parts, kp.n, &rf_vals, &rf_n, e);
	if (in_hivex < 0 || in_regf < 0)
		ret = gt_prefix(e, "verification of key '%s' failed: ", key);
	else if (in_hivex != in_regf)
		ret = gt_fail(e, GT_FAILED, "verification failed: libregf %s key '%s'", in_regf ? "finds" : "does not find", key);
	else if (!same_values(hv_vals, hv_n, rf_vals, rf_n))
		ret = gt_fail(e, GT_FAILED, "verification failed: libregf reads the values of key '%s' differently from hivex", key);
	reg_values_free(hv_vals, hv_n);
	reg_values_free(rf_vals, rf_n);
	keypath_release(&kp);
	return ret;
}

/* Plan keys hold the names as stored in the hive, so one key is spelled one way throughout. */
static int is_same_or_below(const char *key, const char *ancestor)
{
	size_t n = strlen(ancestor);
	char *head;
	int ret;

	if (n == 0)
		return 1;
	if (strlen(key) < n || (key[n] != '\0' && key[n] != '\\'))
		return 0;
	head = xmemdup(key, n + 1);
	head[n] = '\0';
	ret = name_casecmp(head, ancestor) == 0;
	free(head);
	return ret;
}

/* Is change i overridden by a later change in the plan (the later one is checked instead)? */
static int superseded(const struct plan *p, size_t i)
{
	const struct change *c = &p->v[i];

	for (size_t j = i + 1; j < p->n; j++) {
		const struct change *d = &p->v[j];

		if (c->name && d->name && name_casecmp(c->key, d->key) == 0 && name_casecmp(c->name, d->name) == 0)
			return 1;
		if (d->kind == CH_DELETE_KEY && is_same_or_below(c->key, d->key))
			return 1;
		if (c->kind == CH_DELETE_KEY && (d->kind == CH_ADD_KEY || d->kind == CH_SET_VALUE) &&
		    is_same_or_below(d->key, c->key))
			return 1;
	}
	return 0;
}

static int find_value(const struct reg_value *vals, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (name_casecmp(vals[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The last word on each value and key in the plan, read back through libregf. */
static int check_plan(const struct plan *p, struct regf_reader *r, struct gt_error *e)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		struct reg_value *vals = NULL;
		size_t n = 0;
		struct keypath kp;
		int found, at, ok = 1;

		if (superseded(p, i))
			continue;
		keypath_split(c->key, &kp);
		found = verify_read_key(r, kp.parts, kp.n, &vals, &n, e);
		keypath_release(&kp);
		if (found < 0)
			return gt_prefix(e, "verification of key '%s' failed: ", c->key);
		at = found && c->name ? find_value(vals, n, c->name) : -1;
		switch (c->kind) {
		case CH_ADD_KEY: ok = found; break;
		case CH_DELETE_KEY: ok = !found; break;
		case CH_SET_VALUE: ok = at >= 0 && regf_agrees(&c->new_value, &vals[at]); break;
		case CH_DELETE_VALUE: ok = at < 0; break;
		}
		reg_values_free(vals, n);
		if (!ok) {
			struct sbuf what;

			sbuf_init(&what);
			change_describe(c, "", &what);
			gt_fail(e, GT_FAILED, "verification failed: the written hive does not hold this change: %s", what.buf);
			sbuf_release(&what);
			return -1;
		}
	}
	return 0;
}

/* Reads the temp file through its descriptor: what is checked is what will be renamed. */
static int verify_written(struct hivetx *tx, struct gt_error *e)
{
	struct regf_reader *r;
	int ret = 0;

	if (verify_open_fd(tx->file.tmp_fd, &r, e) < 0)
		return gt_prefix(e, "verification failed: ");
	for (size_t i = 0; i < tx->plan.n && ret == 0; i++) {
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = name_casecmp(tx->plan.v[j].key, tx->plan.v[i].key) == 0;
		if (!seen)
			ret = cross_check_key(tx, r, tx->plan.v[i].key, e);
	}
	if (ret == 0)
		ret = check_plan(&tx->plan, r, e);
	verify_close(r);
	return ret;
}

/* The temp file holds the new hive, checked: journal, rename, complete. */
static int commit_staged(struct hivetx *tx, const char *state_dir, const struct journal_meta *meta_in, struct gt_error *e)
{
	struct journal_meta meta = *meta_in;
	struct journal_entry *j = NULL;
	char after[SHA256_HEX_LEN + 1], before[SHA256_HEX_LEN + 1];
	struct journal_target t = {
		.path = tx->file.path, .existed = 1, .kind = "hive", .detail = hive_kind_name(tx->kind),
		.key_prefix = hivetx_prefix(tx), .before_file = &tx->file, .before_sha256 = before,
		.before_len = (size_t)tx->file.st.st_size, .plan = &tx->plan,
	};

	/* the journal's copy is taken from the locked file: it must still be what hivex read */
	if (check_unchanged(tx, e) < 0 || sha256_fd_hex(tx->file.fd, before, e) < 0 ||
	    sha256_fd_hex(tx->file.tmp_fd, after, e) < 0)
		return -1;
	t.after_sha256 = after;
	t.staged = tx->file.tmp_path;
	meta.target_kind = "hive";
	meta.target_path = tx->file.path;
	if (journal_begin(state_dir, &meta, &t, 1, &j, e) < 0)
		return -1;
	fault_point(FAULT_HIVE_BEFORE_RENAME);
	if (safefile_tmp_commit(&tx->file, e) < 0) {
		/* lost: the target holds another process's file; the entry stays pending, with the
		 * before copy, so that the next run sees a target that is neither state */
		if (tx->file.lost)
			gt_prefix(e, "journal entry %s (pending) keeps '%s' as it was before: ", journal_id(j), tx->file.path);
		else
			journal_abandon(j, e->msg);
		journal_free(j);
		return -1;
	}
	tx->journal_id = xstrdup(journal_id(j));
	if (tx->file.sync_warning)
		tx->warning = xstrdup(tx->file.sync_warning);
	fault_point(FAULT_HIVE_AFTER_RENAME);
	if (journal_complete(j, e) < 0) {
		/* the change is in place and the entry still holds the before-state: say so, not "failed" */
		struct sbuf w;

		sbuf_init(&w);
		sbuf_addf(&w, "journal entry %s could not be marked complete (%s); it stays 'pending'", tx->journal_id, e->msg);
		if (tx->warning)
			sbuf_addf(&w, "; and %s", tx->warning);
		free(tx->warning);
		tx->warning = sbuf_detach(&w, NULL);
		sbuf_release(&w);
		gt_error_clear(e);
	}
	journal_free(j);
	return 0;
}

int hivetx_commit(struct hivetx *tx, const char *state_dir, const struct journal_meta *meta, struct gt_error *e)
{
	if (tx->plan.n == 0)
		return 0;
	/* write -> verify -> journal -> rename, each through the temp file's descriptor */
	if (safefile_tmp_create(&tx->file, e) < 0 ||
	    hive_commit_fd(tx->hive, tx->file.tmp_fd, tx->file.tmp_path, e) < 0 ||
	    safefile_tmp_finish(&tx->file, e) < 0 ||
	    fault_hive_written(tx->hive, &tx->plan, tx->file.tmp_fd, tx->file.tmp_path, e) < 0 ||
	    verify_written(tx, e) < 0 ||
	    commit_staged(tx, state_dir, meta, e) < 0) {
		safefile_tmp_discard(&tx->file);
		return tx->file.lost ? -1 : gt_prefix(e, "'%s' left unchanged: ", tx->file.path);
	}
	return 0;
}

int hivetx_commit_bytes(struct hivetx *tx, const uint8_t *bytes, size_t len, const char *state_dir,
			const struct journal_meta *meta, struct gt_error *e)
{
	struct hive_header hdr;
	struct regf_reader *r;
	int ret;

	/* what goes back must be a hive this tool would accept as a target */
	if (hivefile_read_header(bytes, len, &hdr, e) < 0 || hivefile_check_safe(bytes, len, len, 0, e) < 0)
		return gt_prefix(e, "'%s' left unchanged: the saved copy is not a sound hive: ", tx->file.path);
	if (safefile_tmp_create(&tx->file, e) < 0 || safefile_tmp_write(&tx->file, bytes, len, e) < 0 ||
	    safefile_tmp_finish(&tx->file, e) < 0 || verify_open_fd(tx->file.tmp_fd, &r, e) < 0)
		goto fail;
	ret = check_plan(&tx->plan, r, e);
	verify_close(r);
	if (ret < 0 || commit_staged(tx, state_dir, meta, e) < 0)
		goto fail;
	return 0;
fail:
	safefile_tmp_discard(&tx->file);
	return tx->file.lost ? -1 : gt_prefix(e, "'%s' left unchanged: ", tx->file.path);
}
