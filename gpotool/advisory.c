/* Value advisories; see advisory.h. The facts come from the templates (templates/NAME.template):
 * a template with an expiry date warns whenever any command writes its value with its data
 * (or, for a template without fixed data, with any data). */
#include "advisory.h"


#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpo.h"
#include "keypath.h"
#include "template.h"

/* The template's key below CurrentControlSet (or below the hive), the part a plan's key ends
 * with whatever control set or GPP hive prefix it was written under. */
static const char *key_tail(const char *key)
{
	const char *ccs = strcasestr(key, "CurrentControlSet\\");

	if (ccs)
		return ccs + strlen("CurrentControlSet\\");
	key = strchr(key, '\\') ? strchr(key, '\\') + 1 : key;      /* HKLM */
	return strchr(key, '\\') ? strchr(key, '\\') + 1 : key;     /* SYSTEM / SOFTWARE */
}

static int ends_with_key(const char *key, const char *suffix)
{
	size_t n = strlen(key), s = strlen(suffix);

	return n >= s && strcasecmp(key + n - s, suffix) == 0 && (n == s || key[n - s - 1] == '\\');
}

static long dword_of(const struct reg_value *v)
{
	if (v->type != RT_DWORD || v->len != 4)
		return -1;
	return (long)((uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 |
		      (uint32_t)v->data[3] << 24);
}

static int warn_one(const struct change *c, const struct template *t, time_t as_of, struct sbuf *out,
		    struct json_object *jwarnings)
{
	struct tm tm = { .tm_year = t->expires_y - 1900, .tm_mon = t->expires_m - 1, .tm_mday = t->expires_d };
	long days = (long)((timegm(&tm) - as_of) / 86400);
	char date[16];

	if (strcasecmp(c->name, t->value) || !ends_with_key(c->key, key_tail(t->key)) ||
	    (t->has_data && dword_of(&c->new_value) != (long)t->data))
		return 0;
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	if (days > 0)
		sbuf_addf(out, "%s stages %s (template %s), which works only until the %s security update: %ld days left\n",
			  c->name, t->summary, t->name, date, days);
	else
		sbuf_addf(out, "%s stages %s (template %s), which EXPIRED with the %s security update: domain controllers "
			  "with that update ignore it; it only helps DCs that do not have it yet. The real fix is strongly "
			  "mapped certificates (SID extension 1.3.6.1.4.1.311.25.2, or the SAN URL "
			  "tag:microsoft.com,2022-09-14:sid:<SID>)\n", c->name, t->summary, t->name, date);
	if (jwarnings) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "value", json_object_new_string(c->name));
		json_object_object_add(o, "template", json_object_new_string(t->name));
		json_object_object_add(o, "deadline", json_object_new_string(date));
		json_object_object_add(o, "days", json_object_new_int64(days > 0 ? days : 0));
		json_object_object_add(o, "expired", json_object_new_boolean(days <= 0));
		json_object_array_add(jwarnings, o);
	}
	return 1;
}

int advisory_check(const struct plan *p, time_t as_of, struct sbuf *out, struct json_object *jwarnings)
{
	struct gt_error ignored = { 0 };
	const char *dir = gpotool_datadir();
	char **names;
	size_t n;
	int count = 0;

	/* without the templates there is nothing to warn from; the write itself goes on */
	if (template_names(dir, &names, &n, &ignored) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct template t;

		if (template_load(dir, names[i], &t, &ignored) == 0) {
			for (size_t k = 0; t.has_expiry && k < p->n; k++)
				if (p->v[k].kind == CH_SET_VALUE)
					count += warn_one(&p->v[k], &t, as_of, out, jwarnings);
			template_release(&t);
		}
		gt_error_clear(&ignored);
		free(names[i]);
	}
	free(names);
	return count;
}
