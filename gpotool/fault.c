/* Test-only kill, stop and corruption points; see fault.h. The damage is done here, not at
 * the call sites, so that each commit path carries one line for it. */
#include "fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keypath.h"

static int asked(const char *name)
{
	const char *want = getenv("GPOTOOL_FAULT");

	return want && strcmp(want, name) == 0;
}

void fault_point(const char *name)
{
	const char *want = getenv("GPOTOOL_FAULT");
	size_t n = strlen(name);

	if (!want || strncmp(want, name, n) != 0)
		return;
	if (want[n] == '\0')
		raise(SIGKILL);
	else if (strcmp(want + n, ":stop") == 0)
		raise(SIGSTOP);
}

/* ---- hives ---- */

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

static int nothing(const char *what, struct gt_error *e)
{
	return gt_fail(e, GT_FAILED, "fault point '%s' found nothing to damage", what);
}

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
	return ret == 1 ? nothing("hive-written-flip-other", e) : ret;
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
	const char *want = getenv("GPOTOOL_FAULT");
	const struct change *c;
	struct reg_value cur;
	hive_key k;
	int r;

	if (!want || strncmp(want, "hive-written-", 13) != 0)
		return 0;
	c = last_set(p);
	if (!c || find_key(h, c->key, &k, e) != 1)
		return nothing(want, e);
	if (asked("hive-written-flip-other"))
		return flip_other(h, p, c, k, fd, tmp, e);
	if (asked("hive-written-drop-change"))
		return drop_change(h, c, k, fd, tmp, e);
	r = hive_get_value(h, k, c->name, &cur, e);
	if (r != 1)
		return r < 0 ? -1 : nothing(want, e);
	if (asked("hive-written-flip-data"))
		r = damage_file_only(h, k, &cur, fd, tmp, flip_byte, e);
	else if (asked("hive-written-retype"))
		r = damage_file_only(h, k, &cur, fd, tmp, retype, e);
	else
		r = nothing(want, e);
	reg_value_release(&cur);
	return r;
}

/* ---- GPT.INI ---- */

/* "version" at s, ASCII (stride 1) or UTF-16LE (stride 2), any case */
static int is_version_at(const char *s, size_t left, size_t stride)
{
	static const char word[] = "version";

	if (left < (sizeof(word) - 1) * stride)
		return 0;
	for (size_t i = 0; i < sizeof(word) - 1; i++)
		if ((s[i * stride] | 0x20) != word[i] || (stride == 2 && s[i * stride + 1] != '\0'))
			return 0;
	return 1;
}

void fault_gptini_rendered(struct sbuf *gpt)
{
	size_t i;

	if (!asked("gptini-rendered-version"))
		return;
	for (i = 0; i < gpt->len; i++)
		if (is_version_at(gpt->buf + i, gpt->len - i, 1) || is_version_at(gpt->buf + i, gpt->len - i, 2))
			break;
	for (; i < gpt->len; i++)
		if (gpt->buf[i] >= '0' && gpt->buf[i] <= '9') {
			gpt->buf[i] = gpt->buf[i] == '9' ? '8' : (char)(gpt->buf[i] + 1);
			return;
		}
}

/* ---- Registry.xml ---- */

/* The next <Registry> item in [from, len): its start and end offsets. 0 when there is none. */
static int next_item(const struct sbuf *x, size_t from, size_t *start, size_t *end)
{
	const char *s = from < x->len ? strstr(x->buf + from, "<Registry ") : NULL;
	const char *t = s ? strstr(s, "</Registry>") : NULL;

	if (!t)
		return 0;
	*start = (size_t)(s - x->buf);
	*end = (size_t)(t - x->buf);
	return 1;
}

/* Offset of the first character after `attr` (e.g. ` value="`) in the item's Properties, 0 if none. */
static size_t props_attr(const struct sbuf *x, size_t start, size_t end, const char *attr)
{
	const char *p = strstr(x->buf + start, "<Properties");
	const char *a = p ? strstr(p, attr) : NULL;

	return a && (size_t)(a - x->buf) < end ? (size_t)(a - x->buf) + strlen(attr) : 0;
}

static int item_named(const struct sbuf *x, size_t start, size_t end, const char *name)
{
	size_t at = props_attr(x, start, end, " name=\""), n = strlen(name);

	return at && at + n < end && strncasecmp(x->buf + at, name, n) == 0 && x->buf[at + n] == '"';
}

/* Changes the character at offset at (0: none found) to another of the same kind. */
static int change_char(struct sbuf *x, size_t at, const char *what, struct gt_error *e)
{
	if (!at || x->buf[at] == '"')
		return nothing(what, e);
	x->buf[at] = x->buf[at] == '0' ? '1' : '0';
	return 0;
}

int fault_gpp_applied(struct sbuf *xml, const char *name, struct gt_error *e)
{
	const char *want = getenv("GPOTOOL_FAULT");
	int other = asked("gpp-applied-other");
	size_t start, end, from = 0;

	if (!want || strncmp(want, "gpp-applied-", 12) != 0)
		return 0;
	while (next_item(xml, from, &start, &end)) {
		from = end;
		if (item_named(xml, start, end, name) == other)
			continue;
		if (asked("gpp-applied-value") || other)
			return change_char(xml, props_attr(xml, start, end, " value=\""), want, e);
		if (asked("gpp-applied-clsid"))
			return change_char(xml, strncmp(xml->buf + start, "<Registry clsid=\"{", 18) == 0 ? start + 18 : 0, want, e);
		break;
	}
	return nothing(want, e);
}
