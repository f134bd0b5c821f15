/* Value rules (templates/value-rules); see advisory.h. */
#include "kb/advisory.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reg/regvalue.h"
#include "core/safefile.h"

#define RULES_MAX_BYTES (256u * 1024)
#define RULES_MAX 256

static int parse_day(const char *text, char date[11], long long *day)
{
	struct tm tm = { 0 }, back, want;
	char tail;
	time_t t;

	if (strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tail) != 3 ||
	    tm.tm_year < 1990 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	want = tm;
	t = timegm(&tm); /* normalises tm in place: compare with the day asked for */
	/* 2025-02-30 would normalise to March 2: a day that does not exist is refused */
	if (!gmtime_r(&t, &back) || back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon)
		return -1;
	memcpy(date, text, 11);
	*day = (long long)t;
	return 0;
}

static int parse_data(struct value_rule *r, const char *v)
{
	uint64_t n;

	if (strcmp(v, "any") == 0) {
		r->match = MATCH_ANY;
		return 0;
	}
	r->match = strncmp(v, "bits ", 5) == 0 ? MATCH_BITS : MATCH_EQUAL;
	if (parse_u64(r->match == MATCH_BITS ? v + 5 : v, UINT32_MAX, &n) < 0 || (r->match == MATCH_BITS && n == 0))
		return -1;
	r->data = (uint32_t)n;
	return 0;
}

static int parse_kind(const char *v, enum rule_kind *k)
{
	static const enum rule_kind kinds[] = { RULE_REFUSE, RULE_EXPIRES, RULE_NOTE, RULE_WARN };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(v, rule_kind_name(kinds[i])) == 0) {
			*k = kinds[i];
			return 0;
		}
	return -1;
}

const char *rule_kind_name(enum rule_kind k)
{
	switch (k) {
	case RULE_REFUSE: return "refuse";
	case RULE_EXPIRES: return "expires";
	case RULE_NOTE: return "note";
	default: return "warn";
	}
}

static void rule_release(struct value_rule *r)
{
	/* kp was parsed when key was taken (a path of the hive alone has no parts, but a mount) */
	if (r->key)
		keypath_release(&r->kp);
	free(r->key);
	free(r->value);
	free(r->says);
	free(r->after);
	for (size_t i = 0; i < r->nsource; i++)
		free(r->source[i]);
	memset(r, 0, sizeof(*r));
}

/* Bit i of a rule's "seen" set: the fields, in this order. */
static const char *const fields[] = { "key", "value", "data", "rule", "date", "says", "after", "source", NULL };

static int field_index(const char *name)
{
	for (int i = 0; fields[i]; i++)
		if (strcmp(fields[i], name) == 0)
			return i;
	return -1;
}

static int take(struct value_rule *r, int f, const char *v, const char *where, struct gt_error *e)
{
	struct gt_error inner = { 0 };

	if (!*v)
		return gt_fail(e, GT_REFUSED, "%s: %s is empty", where, fields[f]);
	switch (f) {
	case 0:
		if (keypath_parse(v, &r->kp, &inner) < 0 || !r->kp.mount) {
			if (inner.code == GT_OK)
				keypath_release(&r->kp);
			memset(&r->kp, 0, sizeof(r->kp));
			return gt_fail(e, GT_REFUSED, "%s: key must be a full key path (HKLM\\...)", where);
		}
		r->key = xstrdup(v);
		return 0;
	case 1:
		r->value = xstrdup(v);
		return 0;
	case 2:
		return parse_data(r, v) < 0 ? gt_fail(e, GT_REFUSED, "%s: data must be a number, 'any' or 'bits MASK'", where) : 0;
	case 3:
		return parse_kind(v, &r->kind) < 0 ? gt_fail(e, GT_REFUSED, "%s: rule must be refuse, expires, note or warn", where) : 0;
	case 4:
		return parse_day(v, r->date, &r->day) < 0 ? gt_fail(e, GT_REFUSED, "%s: date must be a date YYYY-MM-DD", where) : 0;
	case 5:
		r->says = xstrdup(v);
		return 0;
	case 6:
		r->after = xstrdup(v);
		return 0;
	default:
		if (r->nsource == sizeof(r->source) / sizeof(r->source[0]))
			return gt_fail(e, GT_REFUSED, "%s: too many sources", where);
		r->source[r->nsource++] = xstrdup(v);
		return 0;
	}
}

/* A block is whole: every field but "after" given, "after" only with "expires". */
static int check_rule(const struct value_rule *r, unsigned seen, const char *file, struct gt_error *e)
{
	for (int i = 0; fields[i]; i++)
		if (i != 6 && !(seen & (1u << i)))
			return gt_fail(e, GT_REFUSED, "'%s' line %u: the rule lacks '%s'", file, r->line, fields[i]);
	if ((r->kind == RULE_EXPIRES) != !!r->after)
		return gt_fail(e, GT_REFUSED, "'%s' line %u: 'after' goes with 'rule: expires', and only with it", file, r->line);
	return 0;
}

static int parse_rules(char *text, struct value_rules *r, struct gt_error *e)
{
	char *line, *next, where[600];
	struct value_rule *cur = NULL;
	unsigned lineno = 0, seen = 0;

	for (line = text; line; line = next) {
		char *colon, *v;
		int f;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		snprintf(where, sizeof(where), "'%s' line %u", r->file, lineno);
		if (*line == '#')
			continue;
		if (strspn(line, " \t") == strlen(line)) {
			if (cur && check_rule(cur, seen, r->file, e) < 0)
				return -1;
			cur = NULL;
			continue;
		}
		colon = strchr(line, ':');
		if (!colon)
			return gt_fail(e, GT_REFUSED, "%s: expected 'field: value'", where);
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		f = field_index(line);
		if (f < 0)
			return gt_fail(e, GT_REFUSED, "%s: unknown field '%s'", where, line);
		if (!cur) {
			if (r->n == RULES_MAX)
				return gt_fail(e, GT_REFUSED, "%s: more than %d rules", where, RULES_MAX);
			r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
			cur = &r->v[r->n++];
			memset(cur, 0, sizeof(*cur));
			cur->line = lineno;
			seen = 0;
		}
		if ((seen & (1u << f)) && f != 7)
			return gt_fail(e, GT_REFUSED, "%s: field '%s' given twice in one rule", where, line);
		seen |= 1u << f;
		if (take(cur, f, v, where, e) < 0)
			return -1;
	}
	return cur ? check_rule(cur, seen, r->file, e) : 0;
}

int value_rules_load(const char *datadir, struct value_rules *r, struct gt_error *e)
{
	struct sbuf path;
	uint8_t *buf;
	size_t len;
	int ret;

	memset(r, 0, sizeof(*r));
	sbuf_init(&path);
	sbuf_addf(&path, "%s/value-rules", datadir);
	r->file = sbuf_detach(&path, NULL);
	if (read_whole_file(r->file, RULES_MAX_BYTES, &buf, &len, e) < 0)
		return gt_prefix(e, "the value rules cannot be read: ");
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	ret = memchr(buf, '\0', len) ? gt_fail(e, GT_REFUSED, "'%s' holds NUL bytes", r->file)
				     : parse_rules((char *)buf, r, e);
	free(buf);
	return ret;
}

void value_rules_release(struct value_rules *r)
{
	for (size_t i = 0; i < r->n; i++)
		rule_release(&r->v[i]);
	free(r->v);
	free(r->file);
	memset(r, 0, sizeof(*r));
}

static int is_control_set(const char *part)
{
	return strcasecmp(part, "CurrentControlSet") == 0 ||
	       (strncasecmp(part, "ControlSet", 10) == 0 && strlen(part) == 13 && strspn(part + 10, "0123456789") == 3);
}

/* The rule's key names this one: the same hive (when the written key says which), the same
 * parts, CurrentControlSet standing for any ControlSet00N. */
static int same_key(const struct keypath *rule, const struct keypath *k)
{
	if (k->mount && strcasecmp(k->mount, rule->mount) != 0)
		return 0;
	if (k->n != rule->n)
		return 0;
	for (size_t i = 0; i < k->n; i++) {
		if (i == 0 && strcasecmp(rule->parts[0], "CurrentControlSet") == 0 ? !is_control_set(k->parts[0])
										    : strcasecmp(rule->parts[i], k->parts[i]) != 0)
			return 0;
	}
	return 1;
}

static int rule_matches(const struct value_rule *r, const struct keypath *k, const char *name, uint32_t data)
{
	if (strcasecmp(r->value, name) != 0 || !same_key(&r->kp, k))
		return 0;
	return r->match == MATCH_ANY || (r->match == MATCH_EQUAL && data == r->data) || (r->match == MATCH_BITS && (data & r->data));
}

static void add_hit(struct advice *a, const struct value_rule *r, const char *name, uint32_t data, time_t as_of)
{
	struct rule_hit *h;

	a->hit = xrealloc(a->hit, (a->n + 1) * sizeof(*a->hit));
	h = &a->hit[a->n++];
	h->rule = r;
	h->name = xstrdup(name);
	h->data = data;
	/* both are UTC midnights: the division is exact */
	h->days = (long)((r->day - (long long)as_of) / 86400);
}

int advice_judge(const char *datadir, const struct plan *p, const char *key_prefix, time_t as_of, struct advice *a,
		 struct gt_error *e)
{
	struct sbuf full;

	memset(a, 0, sizeof(*a));
	if (value_rules_load(datadir, &a->rules, e) < 0)
		return -1;
	sbuf_init(&full);
	for (size_t i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		const struct reg_value *v = &c->new_value;
		struct gt_error ignored = { 0 };
		struct keypath kp;
		uint32_t data;

		if (c->kind != CH_SET_VALUE || !c->has_new || v->type != RT_DWORD || v->len != 4)
			continue;
		data = (uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 | (uint32_t)v->data[3] << 24;
		sbuf_reset(&full);
		display_path(key_prefix, c->key, NULL, &full);
		/* a key gpotool cannot parse is one no rule names */
		if (keypath_parse(full.buf, &kp, &ignored) < 0)
			continue;
		for (size_t k = 0; k < a->rules.n; k++)
			if (rule_matches(&a->rules.v[k], &kp, c->name, data))
				add_hit(a, &a->rules.v[k], c->name, data, as_of);
		keypath_release(&kp);
	}
	sbuf_release(&full);
	return 0;
}

void advice_release(struct advice *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->hit[i].name);
	free(a->hit);
	value_rules_release(&a->rules);
	memset(a, 0, sizeof(*a));
}

int value_rules_for(const struct value_rules *r, const char *key, const char *name, const struct value_rule **out,
		    size_t max)
{
	struct gt_error ignored = { 0 };
	struct keypath kp;
	size_t n = 0;

	if (keypath_parse(key, &kp, &ignored) < 0)
		return 0;
	for (size_t i = 0; i < r->n && n < max; i++)
		if (strcasecmp(r->v[i].value, name) == 0 && same_key(&r->v[i].kp, &kp))
			out[n++] = &r->v[i];
	keypath_release(&kp);
	return (int)n;
}

void rule_hit_text(const struct rule_hit *h, struct sbuf *out)
{
	const struct value_rule *r = h->rule;

	sbuf_addf(out, r->match == MATCH_BITS ? "%s = 0x%x" : "%s = %u", h->name, h->data);
	if (r->kind != RULE_EXPIRES)
		sbuf_addf(out, ": %s", r->says);
	else if (h->days > 0)
		sbuf_addf(out, " (%s) works only until the %s security update (KB5014754): %ld day%s left", r->says, r->date, h->days,
			  h->days == 1 ? "" : "s");
	else
		sbuf_addf(out, " (%s) EXPIRED on %s: %s", r->says, r->date, r->after);
}

struct json_object *rule_hit_json(const struct rule_hit *h)
{
	const struct value_rule *r = h->rule;
	struct json_object *o = json_object_new_object(), *src = json_object_new_array();
	struct sbuf text;

	sbuf_init(&text);
	rule_hit_text(h, &text);
	json_object_object_add(o, "value", json_object_new_string(h->name));
	json_object_object_add(o, "data", json_object_new_int64(h->data));
	json_object_object_add(o, "rule", json_object_new_string(rule_kind_name(r->kind)));
	json_object_object_add(o, "date", json_object_new_string(r->date));
	json_object_object_add(o, "days", json_object_new_int64(h->days));
	if (r->kind == RULE_EXPIRES)
		json_object_object_add(o, "expired", json_object_new_boolean(h->days <= 0));
	json_object_object_add(o, "text", json_object_new_string(text.buf));
	for (size_t i = 0; i < r->nsource; i++)
		json_object_array_add(src, json_object_new_string(r->source[i]));
	json_object_object_add(o, "sources", src);
	sbuf_release(&text);
	return o;
}
