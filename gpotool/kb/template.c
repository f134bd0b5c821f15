/* Loading setting templates against templates/template.schema; see template.h. */
#include "kb/template.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "reg/keypath.h"
#include "reg/regvalue.h"
#include "core/safefile.h"
#include "core/sbuf.h"

#define TEMPLATE_MAX_BYTES (64u * 1024)
#define SCHEMA_MAX_FIELDS 64

struct schema_field {
	char name[32], kind[32];
	int required, repeat, seen;
};

struct schema {
	struct schema_field f[SCHEMA_MAX_FIELDS];
	size_t n;
};

static int load_schema(const char *dir, struct schema *s, struct gt_error *e)
{
	struct sbuf path;
	uint8_t *buf;
	size_t len;
	char *line, *save = NULL;
	unsigned lineno = 0;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	sbuf_init(&path);
	sbuf_addf(&path, "%s/template.schema", dir);
	if (read_whole_file(path.buf, TEMPLATE_MAX_BYTES, &buf, &len, e) < 0) {
		sbuf_release(&path);
		return -1;
	}
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char req[8], rep[8];
		struct schema_field *f = &s->f[s->n];

		lineno++;
		if (*line == '#' || strspn(line, " \t\r") == strlen(line))
			continue;
		if (s->n == SCHEMA_MAX_FIELDS || sscanf(line, "%31s %7s %7s %31s", f->name, req, rep, f->kind) != 4) {
			ret = gt_fail(e, GT_FAILED, "'%s': malformed schema line %u", path.buf, lineno);
			break;
		}
		f->required = strcmp(req, "yes") == 0;
		f->repeat = strcmp(rep, "yes") == 0;
		s->n++;
	}
	free(buf);
	sbuf_release(&path);
	return ret;
}

static struct schema_field *schema_find(struct schema *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->f[i].name, name) == 0)
			return &s->f[i];
	return NULL;
}

static int parse_u32(const char *text, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(text, UINT32_MAX, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Digits, dots between them, nine digits at most per part: 6.2406.0.1001. */
static int version_valid(const char *v)
{
	while (*v) {
		size_t n = strspn(v, "0123456789");

		if (n == 0 || n > 9)
			return 0;
		v += n;
		if (*v == '.' && v[1])
			v++;
		else if (*v)
			return 0;
	}
	return 1;
}

int version_compare(const char *a, const char *b)
{
	/* checked whole first: a comparison settled by the first part must not hide a bad tail */
	if (!*a || !*b || !version_valid(a) || !version_valid(b))
		return -2;
	while (*a || *b) {
		uint64_t x = 0, y = 0;
		size_t na = strspn(a, "0123456789"), nb = strspn(b, "0123456789");

		if ((*a && !na) || (*b && !nb) || na > 9 || nb > 9)
			return -2;
		for (size_t i = 0; i < na; i++)
			x = x * 10 + (uint64_t)(a[i] - '0');
		for (size_t i = 0; i < nb; i++)
			y = y * 10 + (uint64_t)(b[i] - '0');
		if (x != y)
			return x < y ? -1 : 1;
		a += na;
		b += nb;
		if ((*a && *a != '.') || (*b && *b != '.'))
			return -2;
		a += *a == '.';
		b += *b == '.';
	}
	return 0;
}

/* A regkey field: a full key path (HKLM\...); the parser's reason when it is not one. */
static int check_regkey(const char *field, const char *v, const char *where, struct gt_error *e)
{
	struct gt_error inner = { 0 };
	struct keypath kp;
	int full = keypath_parse(v, &kp, &inner) == 0 && kp.mount;

	keypath_release(&kp);
	if (!full)
		return gt_fail(e, GT_REFUSED, "%s: %s must be a full key path (HKLM\\...)%s%s", where, field,
			       inner.code ? ": " : "", inner.msg);
	return 0;
}

/* MIN-MAX, each a number, MIN <= MAX, into t's allowed range. */
static int parse_range(struct template *t, const char *field, const char *v, const char *where, struct gt_error *e)
{
	char lo[16], hi[16];
	const char *dash = strchr(v, '-');

	if (!dash || dash - v > 15 || strlen(dash + 1) > 15)
		return gt_fail(e, GT_REFUSED, "%s: %s must be MIN-MAX", where, field);
	snprintf(lo, sizeof(lo), "%.*s", (int)(dash - v), v);
	snprintf(hi, sizeof(hi), "%s", dash + 1);
	if (parse_u32(lo, &t->allowed_min) < 0 || parse_u32(hi, &t->allowed_max) < 0 || t->allowed_min > t->allowed_max)
		return gt_fail(e, GT_REFUSED, "%s: %s must be MIN-MAX with MIN <= MAX", where, field);
	return 0;
}

static int parse_role(struct template *t, const char *field, const char *v, const char *where, struct gt_error *e)
{
	if (strcmp(v, "domain-controller") == 0)
		t->role = ROLE_DOMAIN_CONTROLLER;
	else if (strcmp(v, "connector-server") == 0)
		t->role = ROLE_CONNECTOR_SERVER;
	else if (strcmp(v, "any") == 0)
		t->role = ROLE_ANY;
	else
		return gt_fail(e, GT_REFUSED, "%s: %s must be domain-controller, connector-server or any", where, field);
	return 0;
}

/* Checks a value against its schema kind (template.schema); the kinds that are numbers,
 * a type, a range or a role are stored in t here, as what they parse to. */
static int check_kind(struct template *t, const char *field, const char *kind, const char *v, const char *where,
		      struct gt_error *e)
{
	if (strcmp(kind, "word") == 0) {
		if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(v))
			return gt_fail(e, GT_REFUSED, "%s: %s must be lower-case letters, digits and '-'", where, field);
	} else if (strcmp(kind, "regkey") == 0) {
		return check_regkey(field, v, where, e);
	} else if (strcmp(kind, "regtype") == 0) {
		if (!reg_type_from_name(v, &t->type) || t->type != RT_DWORD)
			return gt_fail(e, GT_REFUSED, "%s: %s must be REG_DWORD (the only type templates stage)", where, field);
	} else if (strcmp(kind, "number") == 0) {
		if (parse_u32(v, &t->data) < 0)
			return gt_fail(e, GT_REFUSED, "%s: %s must be a number (decimal or 0x-hex)", where, field);
		t->has_data = 1;
	} else if (strcmp(kind, "range") == 0) {
		return parse_range(t, field, v, where, e);
	} else if (strcmp(kind, "role") == 0) {
		return parse_role(t, field, v, where, e);
	} else if (strcmp(kind, "version") == 0) {
		if (version_compare(v, "0") == -2)
			return gt_fail(e, GT_REFUSED, "%s: %s must be a dotted version (6.2406.0.1001)", where, field);
	} else if (strcmp(kind, "text") != 0 || !*v) {
		return gt_fail(e, GT_REFUSED, "%s: %s is empty or of an unknown kind '%s'", where, field, kind);
	}
	return 0;
}

/* Where a field's text goes in t (the fields kept as text; a list keeps its first
 * TEMPLATE_MAX_LIST lines). */
static void store_text(struct template *t, const char *field, const char *v)
{
	if (strcmp(field, "name") == 0) t->name = xstrdup(v);
	else if (strcmp(field, "summary") == 0) t->summary = xstrdup(v);
	else if (strcmp(field, "purpose") == 0) t->purpose = xstrdup(v);
	else if (strcmp(field, "key") == 0) t->key = xstrdup(v);
	else if (strcmp(field, "value") == 0) t->value = xstrdup(v);
	else if (strcmp(field, "min-connector") == 0) t->min_connector = xstrdup(v);
	else if (strcmp(field, "gpo-link") == 0) t->gpo_link = xstrdup(v);
	else if (strcmp(field, "followup") == 0 && t->nfollowup < TEMPLATE_MAX_LIST) t->followup[t->nfollowup++] = xstrdup(v);
	else if (strcmp(field, "source") == 0 && t->nsource < TEMPLATE_MAX_LIST) t->source[t->nsource++] = xstrdup(v);
}

/* Checks a value against the schema kind and stores it in t. */
static int take_field(struct template *t, const char *field, const char *kind, const char *v, const char *where,
		      struct gt_error *e)
{
	if (check_kind(t, field, kind, v, where, e) < 0)
		return -1;
	store_text(t, field, v);
	return 0;
}

static int parse_template(char *text, const char *file, struct schema *s, struct template *t, struct gt_error *e)
{
	char *line, *save = NULL, where[600];
	unsigned lineno = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon, *v;
		struct schema_field *f;

		lineno++;
		line[strcspn(line, "\r")] = '\0';
		snprintf(where, sizeof(where), "template '%s' line %u", file, lineno);
		if (*line == '#' || strspn(line, " \t") == strlen(line))
			continue;
		colon = strchr(line, ':');
		if (!colon)
			return gt_fail(e, GT_REFUSED, "%s: expected 'field: value'", where);
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		f = schema_find(s, line);
		if (!f)
			return gt_fail(e, GT_REFUSED, "%s: unknown field '%s'", where, line);
		if (f->seen && !f->repeat)
			return gt_fail(e, GT_REFUSED, "%s: field '%s' given twice", where, line);
		f->seen = 1;
		if (take_field(t, line, f->kind, v, where, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].required && !s->f[i].seen)
			return gt_fail(e, GT_REFUSED, "template '%s': required field '%s' is missing", file, s->f[i].name);
	if (t->has_data && (t->data < t->allowed_min || t->data > t->allowed_max))
		return gt_fail(e, GT_REFUSED, "template '%s': data %u is outside allowed %u-%u", file, t->data, t->allowed_min,
			       t->allowed_max);
	return 0;
}

int template_load(const char *dir, const char *name, struct template *t, struct gt_error *e)
{
	struct schema s;
	struct sbuf path;
	uint8_t *buf;
	size_t len;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(name))
		return gt_fail(e, GT_USAGE, "'%s' is not a template name (see 'gpotool templates')", name);
	if (load_schema(dir, &s, e) < 0)
		return -1;
	sbuf_init(&path);
	sbuf_addf(&path, "%s/%s.template", dir, name);
	if (access(path.buf, F_OK) != 0) {
		sbuf_release(&path);
		return gt_fail(e, GT_USAGE, "no template '%s' (see 'gpotool templates')", name);
	}
	if (read_whole_file(path.buf, TEMPLATE_MAX_BYTES, &buf, &len, e) < 0) {
		sbuf_release(&path);
		return -1;
	}
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	t->file = sbuf_detach(&path, NULL);
	ret = memchr(buf, '\0', len) ? gt_fail(e, GT_REFUSED, "template '%s' holds NUL bytes", t->file)
				     : parse_template((char *)buf, t->file, &s, t, e);
	free(buf);
	if (ret == 0 && strcmp(t->name, name) != 0)
		ret = gt_fail(e, GT_REFUSED, "template '%s' says its name is '%s'", t->file, t->name);
	if (ret < 0)
		template_release(t);
	return ret;
}

void template_release(struct template *t)
{
	free(t->file);
	free(t->name);
	free(t->summary);
	free(t->purpose);
	free(t->key);
	free(t->value);
	free(t->min_connector);
	free(t->gpo_link);
	for (size_t i = 0; i < t->nfollowup; i++)
		free(t->followup[i]);
	for (size_t i = 0; i < t->nsource; i++)
		free(t->source[i]);
	memset(t, 0, sizeof(*t));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int template_names(const char *dir, char ***names, size_t *n, struct gt_error *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*names = NULL;
	*n = 0;
	if (!d)
		return gt_fail(e, GT_FAILED, "unable to read the templates folder '%s'", dir);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len <= 9 || strcmp(de->d_name + len - 9, ".template") != 0)
			continue;
		*names = xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[*n] = xmemdup(de->d_name, len - 9 + 1);
		(*names)[*n][len - 9] = '\0';
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
}

const char *template_role_name(enum template_role r)
{
	return r == ROLE_DOMAIN_CONTROLLER ? "domain controller" : r == ROLE_CONNECTOR_SERVER ? "Intune Certificate Connector server" : "any";
}
