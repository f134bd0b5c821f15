/* Plans and how a change is told to the user; see plan.h. */
#include "state/plan.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
}

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].key);
		free(p->v[i].name);
		reg_value_release(&p->v[i].old);
		reg_value_release(&p->v[i].new_value);
	}
	free(p->v);
	plan_init(p);
}

struct change *plan_add(struct plan *p, enum change_kind kind, const char *key, const char *name)
{
	struct change *c;

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	c = &p->v[p->n++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->key = xstrdup(key);
	c->name = name ? xstrdup(name) : NULL;
	return c;
}

const char *change_kind_name(enum change_kind kind)
{
	switch (kind) {
	case CH_ADD_KEY: return "add-key";
	case CH_DELETE_KEY: return "delete-key";
	case CH_SET_VALUE: return "set-value";
	case CH_DELETE_VALUE: return "delete-value";
	}
	return "?";
}

void display_path(const char *prefix, const char *key, const char *name, struct sbuf *out)
{
	sbuf_addstr(out, prefix);
	if (*key) {
		if (*prefix)
			sbuf_addch(out, '\\');
		sbuf_addstr(out, key);
	}
	if (name) {
		sbuf_addch(out, '\\');
		sbuf_addstr(out, *name ? name : "(default)");
	}
}

void change_describe(const struct change *c, const char *key_prefix, struct sbuf *out)
{
	static const char *const verbs[] = {
		[CH_ADD_KEY] = "add key     ", [CH_DELETE_KEY] = "delete key  ",
		[CH_SET_VALUE] = "set value   ", [CH_DELETE_VALUE] = "delete value",
	};

	sbuf_addstr(out, verbs[c->kind]);
	sbuf_addch(out, ' ');
	display_path(key_prefix, c->key, c->name, out);
	if (c->kind != CH_SET_VALUE && c->kind != CH_DELETE_VALUE)
		return;
	sbuf_addstr(out, ": ");
	if (c->had_old)
		reg_value_format_brief(&c->old, out);
	else
		sbuf_addstr(out, "(absent)");
	sbuf_addstr(out, " -> ");
	if (c->has_new)
		reg_value_format_brief(&c->new_value, out);
	else
		sbuf_addstr(out, "(absent)");
}

struct json_object *reg_value_to_json(const struct reg_value *v)
{
	struct json_object *o = json_object_new_object();
	struct sbuf sb;

	sbuf_init(&sb);
	for (size_t i = 0; i < v->len; i++)
		sbuf_addf(&sb, "%02x", v->data[i]);
	json_object_object_add(o, "type", json_object_new_string(reg_type_name(v->type)));
	json_object_object_add(o, "hex", json_object_new_string(sb.buf));
	sbuf_reset(&sb);
	reg_value_format_brief(v, &sb);
	json_object_object_add(o, "text", json_object_new_string(sb.buf));
	sbuf_release(&sb);
	return o;
}

struct json_object *plan_to_json(const struct plan *p, const char *key_prefix)
{
	struct json_object *arr = json_object_new_array();
	struct sbuf sb;

	sbuf_init(&sb);
	for (size_t i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		struct json_object *o = json_object_new_object();

		sbuf_reset(&sb);
		display_path(key_prefix, c->key, c->name, &sb);
		json_object_object_add(o, "action", json_object_new_string(change_kind_name(c->kind)));
		json_object_object_add(o, "path", json_object_new_string(sb.buf));
		json_object_object_add(o, "key", json_object_new_string(c->key));
		if (c->name)
			json_object_object_add(o, "name", json_object_new_string(c->name));
		if (c->kind == CH_SET_VALUE || c->kind == CH_DELETE_VALUE) {
			json_object_object_add(o, "old", c->had_old ? reg_value_to_json(&c->old) : NULL);
			json_object_object_add(o, "new", c->has_new ? reg_value_to_json(&c->new_value) : NULL);
		}
		json_object_array_add(arr, o);
	}
	sbuf_release(&sb);
	return arr;
}

static int kind_from_name(const char *s, enum change_kind *out)
{
	for (int k = CH_ADD_KEY; k <= CH_DELETE_VALUE; k++)
		if (s && strcmp(s, change_kind_name((enum change_kind)k)) == 0) {
			*out = (enum change_kind)k;
			return 0;
		}
	return -1;
}

/* {"type", "hex"} back into a value; the hex is exact (even length, hex digits only). */
static int value_from_json(struct json_object *o, const char *name, struct reg_value *v)
{
	const char *type = json_object_get_string(json_object_object_get(o, "type"));
	const char *hex = json_object_get_string(json_object_object_get(o, "hex"));
	uint64_t number;
	size_t n;

	reg_value_init(v);
	if (!type || !hex)
		return -1;
	/* types without a name are written as their number, "0x1234" (reg_type_name) */
	if (!reg_type_from_name(type, &v->type)) {
		if (strncmp(type, "0x", 2) != 0 || parse_u64(type, UINT32_MAX, &number) < 0)
			return -1;
		v->type = (uint32_t)number;
	}
	n = strlen(hex);
	if (n % 2 || strspn(hex, "0123456789abcdef") != n)
		return -1;
	v->name = xstrdup(name ? name : "");
	v->data = xmalloc(n / 2 + 1);
	v->len = n / 2;
	for (size_t i = 0; i < v->len; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		v->data[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	return 0;
}

int plan_from_json(struct json_object *arr, struct plan *p, struct gt_error *e)
{
	plan_init(p);
	if (!json_object_is_type(arr, json_type_array))
		return gt_fail(e, GT_REFUSED, "its changes are not a list");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *old, *nv;
		const char *key = json_object_get_string(json_object_object_get(o, "key"));
		const char *name = json_object_get_string(json_object_object_get(o, "name"));
		enum change_kind kind;
		struct change *c;

		if (!key || kind_from_name(json_object_get_string(json_object_object_get(o, "action")), &kind) < 0 ||
		    ((kind == CH_SET_VALUE || kind == CH_DELETE_VALUE) != (name != NULL))) {
			plan_release(p);
			return gt_fail(e, GT_REFUSED, "change %zu is malformed", i + 1);
		}
		c = plan_add(p, kind, key, name);
		old = json_object_object_get(o, "old");
		nv = json_object_object_get(o, "new");
		if ((old && (c->had_old = 1, value_from_json(old, name, &c->old) < 0)) ||
		    (nv && (c->has_new = 1, value_from_json(nv, name, &c->new_value) < 0))) {
			plan_release(p);
			return gt_fail(e, GT_REFUSED, "change %zu has malformed data", i + 1);
		}
	}
	return 0;
}

void plan_invert(const struct plan *in, struct plan *out)
{
	plan_init(out);
	for (size_t i = in->n; i-- > 0;) {
		const struct change *c = &in->v[i];
		enum change_kind kind = c->kind;
		struct change *d;

		if (kind == CH_ADD_KEY)
			kind = CH_DELETE_KEY;
		else if (kind == CH_DELETE_KEY)
			kind = CH_ADD_KEY;
		else
			kind = c->had_old ? CH_SET_VALUE : CH_DELETE_VALUE;
		d = plan_add(out, kind, c->key, c->name);
		if ((d->had_old = c->has_new))
			reg_value_copy(&d->old, &c->new_value);
		if ((d->has_new = c->had_old))
			reg_value_copy(&d->new_value, &c->old);
	}
}
