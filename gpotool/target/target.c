/* The table of target kinds and the dispatch to them; see target.h. */
#include "target/backend.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "core/textesc.h"

/* Adding a kind: its backend file, and a line here. The order is the order of the
 * command-line options in usage messages. */
static const struct target_ops *const kinds[] = {
	&target_hive_ops,
	&target_image_ops,
	&target_gpo_ops,
	&target_domain_ops,
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct target_ops *target_kind_at(size_t n)
{
	return n < NKINDS ? kinds[n] : NULL;
}

const char *target_kind_option(const struct target_ops *ops)
{
	return ops->option;
}

const char *target_kind_name(const struct target_ops *ops)
{
	return ops->name;
}

const struct target_ops *target_kind_named(const char *name)
{
	for (size_t i = 0; name && i < NKINDS; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

const struct target_ops *target_kind_of_record(struct json_object *target)
{
	const char *backend = jsonx_str(target, "backend");

	/* entries written before the journal named its backend name their kind, which was it */
	return target_kind_named(backend ? backend : jsonx_str(target, "kind"));
}

const struct target_ops *target_kind_of_file(const char *file_kind)
{
	for (size_t i = 0; i < NKINDS; i++)
		for (const char *const *k = kinds[i]->file_kinds; k && *k; k++)
			if (strcmp(*k, file_kind) == 0)
				return kinds[i];
	return NULL;
}

void target_kinds_usage(struct sbuf *out)
{
	for (size_t i = 0; i < NKINDS; i++)
		sbuf_addf(out, "%s--%s %s", i == 0 ? "" : i + 1 == NKINDS ? " or " : ", ", kinds[i]->option, kinds[i]->metavar);
}

int target_check_saved_copy(const char *file_kind, const uint8_t *buf, size_t len, int fd, const char *staged,
			    struct gt_error *e)
{
	const struct target_ops *ops = target_kind_of_file(file_kind);

	if (!ops || !ops->check_copy)
		return gt_fail(e, GT_REFUSED, "a target of kind '%s' is not one gpotool writes", file_kind);
	return ops->check_copy(file_kind, buf, len, fd, staged, e);
}

/* ---- dispatch ---- */

static int cannot(const struct target *t, const char *what, struct gt_error *e)
{
	return gt_fail(e, GT_USAGE, "target kind '%s' cannot %s", t->ops->name, what);
}

int target_open(struct target *t, const struct target_ops *ops, struct target_env *env, const struct target_request *rq,
		struct gt_error *e)
{
	*t = (struct target){ .ops = ops, .env = env };
	return ops->open(t, rq, e);
}

int target_open_recorded(struct target *t, struct target_env *env, struct target_rollback *rb, struct gt_error *e)
{
	const struct target_ops *ops = target_kind_of_record(rb->target);

	*t = (struct target){ .env = env };
	if (!ops)
		return gt_fail(e, GT_REFUSED, "journal entry %s has a target of unknown kind '%s'", rb->id,
			       jsonx_str(rb->target, "backend") ? jsonx_str(rb->target, "backend") : jsonx_str(rb->target, "kind"));
	t->ops = ops;
	if (!ops->open_recorded)
		return cannot(t, "be rolled back", e);
	return ops->open_recorded(t, rb, e);
}

void target_close(struct target *t)
{
	if (t->ops && t->ops->close)
		t->ops->close(t);
	t->priv = NULL;
}

const char *target_path(const struct target *t)
{
	return t->ops->path(t);
}

enum target_reach target_reach(const struct target *t)
{
	return t->ops->reach;
}

const char *target_locate(struct target *t, const char *key)
{
	return t->ops->locate ? t->ops->locate(t, key) : target_path(t);
}

struct hivetx *target_hive(struct target *t, struct gt_error *e)
{
	if (!t->ops->hive) {
		cannot(t, "be read as one hive", e);
		return NULL;
	}
	return t->ops->hive(t, e);
}

int target_begin(struct target *t, int dry_run, struct gt_error *e)
{
	return t->ops->begin ? t->ops->begin(t, dry_run, e) : cannot(t, "be written", e);
}

int target_plan(struct target *t, const struct target_change *c, struct gt_error *e)
{
	return t->ops->plan ? t->ops->plan(t, c, e) : cannot(t, "record a change", e);
}

int target_show_plan(struct target *t, struct gt_error *e)
{
	return t->ops->show_plan ? t->ops->show_plan(t, e) : cannot(t, "show a plan", e);
}

int target_commit(struct target *t, struct gt_error *e)
{
	return t->ops->commit ? t->ops->commit(t, e) : cannot(t, "be written", e);
}

int target_read(struct target *t, const struct target_setting *s, struct reg_value *out, struct gt_error *e)
{
	return t->ops->read ? t->ops->read(t, s, out, e) : cannot(t, "read a setting", e);
}

int target_check(struct target *t, const struct target_setting *s, const struct reg_value *want, struct gt_error *e)
{
	return t->ops->check ? t->ops->check(t, s, want, e) : cannot(t, "be checked for a value", e);
}

int target_fact(struct target *t, enum target_fact f, struct target_fact_value *out, const char **why, struct gt_error *e)
{
	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (!t->ops->fact) {
		*why = "this kind of target holds no machine's registry";
		return 0;
	}
	return t->ops->fact(t, f, out, why, e);
}

void target_fact_release(struct target_fact_value *v)
{
	free(v->text);
	memset(v, 0, sizeof(*v));
}

int target_fetch(struct target *t, const char *dir, struct gt_error *e)
{
	return t->ops->fetch ? t->ops->fetch(t, dir, e) : cannot(t, "be fetched (it is a local file already)", e);
}

int target_rollback(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	return t->ops->rollback ? t->ops->rollback(t, rb, e) : cannot(t, "be rolled back", e);
}

/* ---- shared by backends ---- */

int target_check_recordable(const char *path, struct gt_error *e)
{
	char *abs = absolute_path(path);
	int ok = text_utf8_valid(abs, strlen(abs));

	free(abs);
	return ok ? 0 : gt_fail(e, GT_USAGE, "'%s': the path is not valid UTF-8; the journal records paths as UTF-8 text "
				 "(rename the file or the folder)", esc(path));
}

/* Recovery needs the lock, and changes the files the open has just read: so the backend
 * opens, recovers, and opens again when anything was recovered. */
int target_recover(struct target *t, const char *const *paths, size_t n, struct gt_error *e)
{
	struct sbuf report;
	int r;

	sbuf_init(&report);
	r = journal_recover(t->env->state_dir, paths, n, &t->env->recovery, &report, e);
	for (char *p = report.buf, *nl; r == 0 && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		report_warn(&t->env->rep, "%s", p);
	}
	r = r < 0 ? -1 : report.len > 0;
	sbuf_release(&report);
	return r;
}

void target_journal_meta(const struct target *t, struct journal_meta *m)
{
	*m = t->env->meta;
	if (!m->backend) /* a container named itself, and what holds the file, at its open */
		m->backend = t->ops->name;
}

void target_journaled(struct target *t, const char *id)
{
	if (t->env->journaled)
		t->env->journaled(t->env->arg, id);
	if (!t->env->defer_journal_line)
		report_text(&t->env->rep, "journal: %s\n", id);
}

void target_report_plan(const struct target *t, const struct plan *p, const char *prefix, const char *lead)
{
	struct sbuf line;

	sbuf_init(&line);
	for (size_t i = 0; i < p->n; i++) {
		sbuf_reset(&line);
		change_describe(&p->v[i], prefix, &line);
		report_text(&t->env->rep, "%s%s\n", lead, line.buf);
	}
	sbuf_release(&line);
}

void target_rollback_result(const struct target *t, const struct target_rollback *rb, const char *target_path)
{
	const struct report *rep = &t->env->rep;

	report_field(rep, "rollback_of", json_object_new_string(rb->id));
	report_field(rep, "method", json_object_new_string(rb->o->logical ? "logical" : "exact"));
	report_field(rep, "target", json_object_new_string(target_path));
	report_field(rep, "dry_run", json_object_new_boolean(rb->o->dry_run));
}

int target_already_before(const struct target *t, const struct target_rollback *rb, const char *path)
{
	report_text(&t->env->rep, "no change: '%s' is already byte-for-byte as it was before journal entry %s\n", path, rb->id);
	report_field(&t->env->rep, "changed", json_object_new_boolean(0));
	report_field(&t->env->rep, "changes", json_object_new_array());
	return 0;
}

struct json_object *target_value_json(const struct target_setting *s, const struct reg_value *want, const struct reg_value *have)
{
	struct json_object *o = json_object_new_object();
	struct reg_value w = *want;

	w.name = (char *)s->name;
	json_object_object_add(o, "key", json_object_new_string(s->key));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "want", reg_value_to_json(&w));
	json_object_object_add(o, "have", have ? reg_value_to_json(have) : NULL);
	return o;
}

int target_path_is_plain(const char *p)
{
	if (!p || p[0] != '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
		return 0;
	size_t n = strlen(p);

	return !(n >= 2 && strcmp(p + n - 2, "/.") == 0) && !(n >= 3 && strcmp(p + n - 3, "/..") == 0);
}
