/* Test-only damage to a hive written by a commit; see hive-fault.h. The damage is done here,
 * not at the call site, so that the commit path carries one line for it. */
#include "hive/hive-fault.h"

#include "core/fault.h"
#include "reg/keypath.h"

static int find_key(struct hive *h, const char *key, hive_key *out, struct gt_error *e)
{
	struct keypath kp;
	hive_key k = hive_root(h);
	int r = 1;

	keypath_split(key, &kp);
	for (size_t i = 0; i < kp.n && r == 1; i++)
		r = hive_child(h, k, kp.parts[i], &k, e);
	keypath_release(&kp);
	*out = k;
	return r;
}

/* The last value the plan sets whose bytes libregf compares (more than 3: see hivetx.c). */
static const struct change *last_set(const struct plan *p)
{
	for (size_t i = p->n; i-- > 0;)
		if (p->v[i].kind == CH_SET_VALUE && p->v[i].has_new && p->v[i].new_value.len > 3)
			return &p->v[i];
	return NULL;
}

static int planned(const struct plan *p, const char *key, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].name && name_casecmp(p->v[i].key, key) == 0 && name_casecmp(p->v[i].name, name) == 0)
			return 1;
	return 0;
}

/* The file gets bad, hivex keeps good: only the second reader can tell them apart. */
static int damage_file_only(struct hive *h, hive_key k, const struct reg_value *good, int fd, const char *tmp,
			    void (*damage)(struct reg_value *), struct gt_error *e)
{
	struct reg_value bad;
	int ret;

	reg_value_init(&bad);
	reg_value_copy(&bad, good);
	damage(&bad);
	ret = hive_put_value(h, k, &bad, e) < 0 || hive_commit_fd(h, fd, tmp, e) < 0 || hive_put_value(h, k, good, e) < 0 ? -1 : 0;
	reg_value_release(&bad);
	return ret;
}

static void flip_byte(struct reg_value *v) { v->data[0] ^= 0x01; }
static void retype(struct reg_value *v) { v->type = v->type == RT_BINARY ? RT_DWORD_BIG_ENDIAN : RT_BINARY; }

/* A value of c's key that the plan leaves alone, damaged in the file only. */
static int flip_other(struct hive *h, const struct plan *p, const struct change *c, hive_key k, int fd, const char *tmp,
		      struct gt_error *e)
{
	struct reg_value *vals;
	size_t n;
	int ret = 1;

	if (hive_values(h, k, &vals, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 1; i++)
		if (vals[i].len > 3 && !planned(p, c->key, vals[i].name))
			ret = damage_file_only(h, k, &vals[i], fd, tmp, flip_byte, e);
	reg_values_free(vals, n);
	return ret == 1 ? fault_nothing_to_damage(e) : ret;
}

/* hivex "forgot" the change: the edited hive and the file agree, the plan does not. */
static int drop_change(struct hive *h, const struct change *c, hive_key k, int fd, const char *tmp, struct gt_error *e)
{
	if ((c->had_old ? hive_put_value(h, k, &c->old, e) : hive_delete_value(h, k, c->name, e)) < 0)
		return -1;
	return hive_commit_fd(h, fd, tmp, e);
}

int fault_hive_written(struct hive *h, const struct plan *p, int fd, const char *tmp, struct gt_error *e)
{
	const struct change *c;
	struct reg_value cur;
	hive_key k;
	int r;

	if (!fault_asked(FAULT_HIVE_WRITTEN))
		return 0;
	c = last_set(p);
	if (!c || find_key(h, c->key, &k, e) != 1)
		return fault_nothing_to_damage(e);
	if (fault_asked(FAULT_HIVE_WRITTEN_FLIP_OTHER))
		return flip_other(h, p, c, k, fd, tmp, e);
	if (fault_asked(FAULT_HIVE_WRITTEN_DROP_CHANGE))
		return drop_change(h, c, k, fd, tmp, e);
	r = hive_get_value(h, k, c->name, &cur, e);
	if (r != 1)
		return r < 0 ? -1 : fault_nothing_to_damage(e);
	if (fault_asked(FAULT_HIVE_WRITTEN_FLIP_DATA))
		r = damage_file_only(h, k, &cur, fd, tmp, flip_byte, e);
	else if (fault_asked(FAULT_HIVE_WRITTEN_RETYPE))
		r = damage_file_only(h, k, &cur, fd, tmp, retype, e);
	else
		r = fault_nothing_to_damage(e);
	reg_value_release(&cur);
	return r;
}

