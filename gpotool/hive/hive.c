/* hivex behind one small interface; see hive.h for the traps it wraps. */
#include "hive/hive.h"

#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hive/hivefile.h"
#include "core/sbuf.h"

#define MAX_SUBKEYS_LISTED 1000000u

struct hive {
	hive_h *h;
	uint32_t minor;
	uint64_t *touched; /* nk offsets to stamp at commit */
	size_t ntouched, captouched;
};

static int hivex_error(struct gt_error *e, const char *what)
{
	int err = errno ? errno : EIO;

	return gt_fail(e, err == ENOMEM ? GT_FAILED : GT_REFUSED, "%s: %s", what, strerror(err));
}

int hive_open(const char *path, int write, uint32_t minor, struct hive **out, struct gt_error *e)
{
	struct hive *hv;
	hive_h *h;

	*out = NULL;
	errno = 0;
	h = hivex_open(path, write ? HIVEX_OPEN_WRITE : 0);
	if (!h)
		return gt_fail(e, errno == ENOMEM ? GT_FAILED : GT_REFUSED, "damaged: hivex cannot read its hive bins (%s)",
			       strerror(errno ? errno : EIO));
	hv = xcalloc(1, sizeof(*hv));
	hv->h = h;
	hv->minor = minor;
	*out = hv;
	return 0;
}

void hive_close(struct hive *hv)
{
	if (!hv)
		return;
	hivex_close(hv->h);
	free(hv->touched);
	free(hv);
}

hive_key hive_root(struct hive *hv)
{
	return hivex_root(hv->h);
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* hivex folds ASCII only; Windows folds all of Unicode, so "ПРИВЕТ" must find "Привет". */
static int child_by_unicode_name(struct hive *hv, hive_key parent, const char *name, hive_key *out, struct gt_error *e)
{
	hive_node_h *c;
	int found = 0;

	errno = 0;
	c = hivex_node_children(hv->h, parent);
	if (!c)
		return hivex_error(e, "unable to read subkeys");
	for (size_t i = 0; c[i] && !found; i++) {
		char *n = hivex_node_name(hv->h, c[i]);

		if (n && name_casecmp(n, name) == 0) {
			*out = c[i];
			found = 1;
		}
		free(n);
	}
	free(c);
	return found;
}

int hive_child(struct hive *hv, hive_key parent, const char *name, hive_key *out, struct gt_error *e)
{
	hive_node_h n;

	errno = 0;
	n = hivex_node_get_child(hv->h, parent, name);
	*out = n;
	if (n)
		return 1;
	if (errno)
		return hivex_error(e, "unable to read subkeys");
	return is_ascii(name) ? 0 : child_by_unicode_name(hv, parent, name, out, e);
}

char *hive_key_name(struct hive *hv, hive_key k, struct gt_error *e)
{
	char *name;

	errno = 0;
	name = hivex_node_name(hv->h, k);
	if (!name)
		hivex_error(e, "unable to read a key name");
	return name;
}

int hive_subkeys(struct hive *hv, hive_key k, hive_key **kids, size_t *n, struct gt_error *e)
{
	hive_node_h *c;
	size_t count = 0;

	*kids = NULL;
	*n = 0;
	errno = 0;
	c = hivex_node_children(hv->h, k);
	if (!c)
		return hivex_error(e, "unable to read subkeys");
	while (c[count] && count < MAX_SUBKEYS_LISTED)
		count++;
	*kids = xcalloc(count ? count : 1, sizeof(**kids));
	for (size_t i = 0; i < count; i++)
		(*kids)[i] = c[i];
	*n = count;
	free(c);
	return 0;
}

int64_t hive_key_timestamp(struct hive *hv, hive_key k)
{
	return hivex_node_timestamp(hv->h, k);
}

void reg_values_free(struct reg_value *vals, size_t n)
{
	if (!vals)
		return;
	for (size_t i = 0; i < n; i++)
		reg_value_release(&vals[i]);
	free(vals);
}

static int read_value(struct hive *hv, hive_value_h vh, struct reg_value *out, struct gt_error *e)
{
	hive_type t;
	size_t len;
	char *data;

	reg_value_init(out);
	errno = 0;
	out->name = hivex_value_key(hv->h, vh);
	if (!out->name)
		return hivex_error(e, "unable to read a value name");
	errno = 0;
	data = hivex_value_value(hv->h, vh, &t, &len);
	if (!data) {
		gt_fail(e, GT_REFUSED, "unable to read the data of value '%s': %s", out->name,
			strerror(errno ? errno : EIO));
		reg_value_release(out);
		return -1;
	}
	out->type = (uint32_t)t;
	out->data = (uint8_t *)data;
	out->len = len;
	return 0;
}

int hive_values(struct hive *hv, hive_key k, struct reg_value **vals, size_t *n, struct gt_error *e)
{
	hive_value_h *vh;
	size_t count = 0;

	*vals = NULL;
	*n = 0;
	errno = 0;
	vh = hivex_node_values(hv->h, k);
	if (!vh)
		return hivex_error(e, "unable to read values");
	while (vh[count])
		count++;
	*vals = xcalloc(count ? count : 1, sizeof(**vals));
	for (size_t i = 0; i < count; i++) {
		if (read_value(hv, vh[i], &(*vals)[i], e) < 0) {
			reg_values_free(*vals, i);
			*vals = NULL;
			free(vh);
			return -1;
		}
	}
	*n = count;
	free(vh);
	return 0;
}

int hive_get_value(struct hive *hv, hive_key k, const char *name, struct reg_value *out, struct gt_error *e)
{
	hive_value_h *vh;
	int found = 0;

	reg_value_init(out);
	errno = 0;
	vh = hivex_node_values(hv->h, k);
	if (!vh)
		return hivex_error(e, "unable to read values");
	/* by name over the whole list: hivex's own lookup folds ASCII only */
	for (size_t i = 0; vh[i] && !found; i++) {
		char *n = hivex_value_key(hv->h, vh[i]);

		if (!n) {
			free(vh);
			return hivex_error(e, "unable to read a value name");
		}
		if (name_casecmp(n, name) == 0)
			found = read_value(hv, vh[i], out, e) < 0 ? -1 : 1;
		free(n);
	}
	free(vh);
	return found;
}

/* An open-addressing set of node offsets, for the tree check. */
/* Key records seen by the walk: a node handle is the record's offset in the hive, 8-byte
 * aligned, so one bit per 8 bytes is an exact set that costs a 64th of the hive. */
struct node_set {
	uint64_t *bits;
	size_t words;
};

static int node_set_add(struct node_set *s, hive_node_h node)
{
	size_t bit = (size_t)node / 8, word = bit / 64;
	uint64_t mask = (uint64_t)1 << (bit % 64);

	if (word >= s->words) {
		size_t words = s->words ? s->words : 1024;

		while (words <= word)
			words *= 2;
		s->bits = xrealloc(s->bits, words * sizeof(*s->bits));
		memset(s->bits + s->words, 0, (words - s->words) * sizeof(*s->bits));
		s->words = words;
	}
	if (s->bits[word] & mask)
		return 0;
	s->bits[word] |= mask;
	return 1;
}

static int check_values(struct hive *hv, hive_node_h node, size_t *values, struct gt_error *e)
{
	hive_value_h *vh;
	int ret = 0;

	errno = 0;
	vh = hivex_node_values(hv->h, node);
	if (!vh)
		return gt_fail(e, GT_REFUSED, "damaged: a value list cannot be read (%s)", strerror(errno ? errno : EIO));
	for (size_t i = 0; vh[i] && ret == 0; i++) {
		hive_type t;
		size_t len;
		char *name;

		errno = 0;
		name = hivex_value_key(hv->h, vh[i]);
		if (!name || hivex_value_type(hv->h, vh[i], &t, &len) < 0)
			ret = gt_fail(e, GT_REFUSED, "damaged: a value record cannot be read (%s)", strerror(errno ? errno : EIO));
		free(name);
		(*values)++;
	}
	free(vh);
	return ret;
}

int hive_check_tree(struct hive *hv, size_t *keys, size_t *values, struct gt_error *e)
{
	struct node_set seen = { 0 };
	hive_node_h *stack = xmalloc(64 * sizeof(*stack));
	size_t depth = 0, cap = 64, nkeys = 0, nvalues = 0;
	int ret = 0;

	stack[depth++] = hivex_root(hv->h);
	while (depth && ret == 0) {
		hive_node_h node = stack[--depth], *kids;
		char *name;

		if (!node_set_add(&seen, node)) {
			ret = gt_fail(e, GT_REFUSED, "damaged: a key record is linked from two places (offset 0x%zx)", (size_t)node);
			break;
		}
		nkeys++;
		errno = 0;
		name = hivex_node_name(hv->h, node);
		kids = name ? hivex_node_children(hv->h, node) : NULL;
		free(name);
		if (!kids) {
			ret = gt_fail(e, GT_REFUSED, "damaged: a key or its subkey list cannot be read (%s)", strerror(errno ? errno : EIO));
			break;
		}
		for (size_t i = 0; kids[i]; i++) {
			if (depth == cap) {
				cap *= 2;
				stack = xrealloc(stack, cap * sizeof(*stack));
			}
			stack[depth++] = kids[i];
		}
		free(kids);
		ret = check_values(hv, node, &nvalues, e);
	}
	free(stack);
	free(seen.bits);
	if (keys)
		*keys = nkeys;
	if (values)
		*values = nvalues;
	return ret;
}

static void remember_touched(struct hive *hv, hive_key k)
{
	for (size_t i = 0; i < hv->ntouched; i++)
		if (hv->touched[i] == k)
			return;
	if (hv->ntouched == hv->captouched) {
		hv->captouched = hv->captouched ? 2 * hv->captouched : 16;
		hv->touched = xrealloc(hv->touched, hv->captouched * sizeof(*hv->touched));
	}
	hv->touched[hv->ntouched++] = k;
}

static void forget_touched(struct hive *hv, hive_key k)
{
	for (size_t i = 0; i < hv->ntouched; i++)
		if (hv->touched[i] == k)
			hv->touched[i] = hv->touched[--hv->ntouched];
}

int hive_add_key(struct hive *hv, hive_key parent, const char *name, hive_key *out, struct gt_error *e)
{
	hive_node_h n;

	errno = 0;
	n = hivex_node_add_child(hv->h, parent, name);
	if (!n)
		return gt_fail(e, GT_FAILED, "unable to create key '%s': %s", name, strerror(errno ? errno : EIO));
	remember_touched(hv, parent);
	remember_touched(hv, n);
	*out = n;
	return 0;
}

/* hivex rewrites every value of a key when one changes, and writes data over 16,344
 * bytes as a single cell. Hives of format 1.4 and later must hold such data in big-data
 * (db) records, so the rewrite would leave a value Windows and libregf cannot read. */
static int check_big_data(struct hive *hv, const hive_set_value *vals, size_t n, struct gt_error *e)
{
	if (hv->minor < 4)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (vals[i].len > HIVE_BIG_DATA_THRESHOLD)
			return gt_fail(e, GT_REFUSED,
				       "refusing to write this key: value '%s' holds %zu bytes, and hivex would rewrite it "
				       "without the big-data records a format 1.%u hive needs, leaving it unreadable",
				       vals[i].key, vals[i].len, hv->minor);
	return 0;
}

/* Replaces the whole value list of k: the only primitive hivex offers for value edits. */
static int rewrite_values(struct hive *hv, hive_key k, const struct reg_value *vals, size_t n, struct gt_error *e)
{
	hive_set_value *sv = xcalloc(n ? n : 1, sizeof(*sv));
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		sv[i].key = vals[i].name;
		sv[i].t = (hive_type)vals[i].type;
		sv[i].len = vals[i].len;
		sv[i].value = (char *)vals[i].data;
	}
	if (check_big_data(hv, sv, n, e) < 0) {
		ret = -1;
	} else {
		errno = 0;
		if (hivex_node_set_values(hv->h, k, n, sv, 0) < 0)
			ret = gt_fail(e, GT_FAILED, "unable to write values: %s", strerror(errno ? errno : EIO));
		else
			remember_touched(hv, k);
	}
	free(sv);
	return ret;
}

int hive_put_value(struct hive *hv, hive_key k, const struct reg_value *v, struct gt_error *e)
{
	struct reg_value *vals, *all;
	size_t n, i;
	int ret;

	if (hive_values(hv, k, &vals, &n, e) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (name_casecmp(vals[i].name, v->name) == 0)
			break;
	all = xcalloc(n + 1, sizeof(*all));
	memcpy(all, vals, n * sizeof(*all));
	/* keep the stored spelling of an existing name, as Windows does */
	all[i].name = i < n ? vals[i].name : v->name;
	all[i].type = v->type;
	all[i].data = v->data;
	all[i].len = v->len;
	ret = rewrite_values(hv, k, all, i < n ? n : n + 1, e);
	free(all);
	reg_values_free(vals, n);
	return ret;
}

int hive_delete_value(struct hive *hv, hive_key k, const char *name, struct gt_error *e)
{
	struct reg_value *vals;
	size_t n, i;
	int ret;

	if (hive_values(hv, k, &vals, &n, e) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (name_casecmp(vals[i].name, name) == 0)
			break;
	if (i == n) {
		reg_values_free(vals, n);
		return 0;
	}
	reg_value_release(&vals[i]);
	memmove(&vals[i], &vals[i + 1], (n - i - 1) * sizeof(*vals));
	ret = rewrite_values(hv, k, vals, n - 1, e);
	reg_values_free(vals, n - 1);
	return ret < 0 ? -1 : 1;
}

static void forget_subtree(struct hive *hv, hive_key k)
{
	hive_node_h *c = hivex_node_children(hv->h, k);

	forget_touched(hv, k);
	for (size_t i = 0; c && c[i]; i++)
		forget_subtree(hv, c[i]);
	free(c);
}

int hive_delete_key(struct hive *hv, hive_key k, struct gt_error *e)
{
	hive_node_h parent;

	if (k == hivex_root(hv->h))
		return gt_fail(e, GT_USAGE, "refusing to delete the root key");
	errno = 0;
	parent = hivex_node_parent(hv->h, k);
	if (!parent)
		return hivex_error(e, "unable to find the parent key");
	/* stamping a freed cell would scribble on whatever reuses it */
	forget_subtree(hv, k);
	errno = 0;
	if (hivex_node_delete_child(hv->h, k) < 0)
		return gt_fail(e, GT_FAILED, "unable to delete key: %s", strerror(errno ? errno : EIO));
	remember_touched(hv, parent);
	return 0;
}

int hive_commit_fd(struct hive *hv, int fd, const char *name, struct gt_error *e)
{
	char self[32];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	errno = 0;
	if (hivex_commit(hv->h, self, 0) < 0)
		return gt_fail(e, GT_FAILED, "unable to write '%s': %s", name, strerror(errno ? errno : EIO));
	return hivefile_stamp(fd, hv->touched, hv->ntouched, filetime_now(), e);
}
