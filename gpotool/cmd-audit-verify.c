/* gpotool audit verify [--log FILE]: is the audit trail whole? Each record's own hash, its
 * sequence number and its link to the record before; and every write the journal holds has
 * its record, so a trail cut short at the end shows too. Exit 1 names the first bad record. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cmdutil.h"
#include "journal.h"

struct named {
	char **ids;
	size_t n, cap;
};

static int collect_journal_ids(struct json_object *rec, size_t lineno, const char *line, size_t len, void *arg)
{
	struct named *s = arg;
	const char *id = json_str(rec, "journal");

	(void)lineno;
	(void)line;
	(void)len;
	if (!id)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->ids = xrealloc(s->ids, s->cap * sizeof(*s->ids));
	}
	s->ids[s->n++] = xstrdup(id);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A write that finished (not one a later run recovered: that run was killed before its
 * record) must have its record. Returns the first ID without one, or NULL; caller frees. */
static char *unrecorded_write(const char *state, const char *log, struct gt_error *e)
{
	struct named s = { 0 };
	char **ids, *missing = NULL;
	size_t n;

	if (audit_each(log, collect_journal_ids, &s, e) < 0 || journal_list_ids(state, &ids, &n, e) < 0)
		goto out;
	if (s.n)
		qsort(s.ids, s.n, sizeof(*s.ids), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct gt_error ignored = { 0 };
		struct journal_entry *j;

		if (!missing && journal_load(state, ids[i], &j, &ignored) == 0) {
			struct json_object *doc = journal_doc(j);
			const char *status = json_str(doc, "status");

			if (status && strcmp(status, "complete") == 0 && !json_object_object_get(doc, "recovered") &&
			    !(s.n && bsearch(&ids[i], s.ids, s.n, sizeof(*s.ids), cmp_str))) {
				if (json_str(doc, "audit_error"))
					out_warn("journal entry %s has no audit record: appending it failed (%s)", ids[i],
						 json_str(doc, "audit_error"));
				else
					missing = xstrdup(ids[i]);
			}
			journal_free(j);
		}
		free(ids[i]);
	}
	free(ids);
out:
	for (size_t i = 0; i < s.n; i++)
		free(s.ids[i]);
	free(s.ids);
	return missing;
}

static int exec_audit_verify(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const char *log = cmd_opt(&cmd_audit_verify_entry, a, "log");
	struct audit_verdict v;
	struct sbuf path;
	char *missing = NULL;
	int r;

	sbuf_init(&path);
	if (log)
		sbuf_addstr(&path, log);
	else
		sbuf_addf(&path, "%s/audit.log", ctx_state_dir(ctx));
	r = audit_verify(path.buf, &v, e);
	if (r == 0 && !log) {
		missing = unrecorded_write(ctx_state_dir(ctx), path.buf, e);
		if (e->code != GT_OK)
			r = -1;
	}
	json_object_object_add(ctx->result, "log", json_object_new_string(path.buf));
	json_object_object_add(ctx->result, "records", json_object_new_int64((int64_t)v.records));
	json_object_object_add(ctx->result, "head", json_object_new_string(v.head));
	if (r == 1) {
		json_object_object_add(ctx->result, "bad_line", json_object_new_int64((int64_t)v.bad_line));
		r = gt_fail(e, GT_MISMATCH, "'%s' line %zu (record %llu): %s", path.buf, v.bad_line, v.last_seq + 1, v.why);
	} else if (r == 0 && missing) {
		json_object_object_add(ctx->result, "unrecorded", json_object_new_string(missing));
		r = gt_fail(e, GT_MISMATCH, "'%s': journal entry %s finished a write but no record names it: records were "
			    "removed from the end of the trail (or it was never written)", path.buf, missing);
	} else if (r == 0) {
		out_text(ctx, "'%s': %zu record%s, chain whole; last record %llu, hash %s\n", path.buf, v.records,
			 v.records == 1 ? "" : "s", v.last_seq, v.head);
		r = GT_OK;
	}
	free(missing);
	sbuf_release(&path);
	return r;
}

const struct cmd_entry cmd_audit_verify_entry = {
	.name = "audit verify",
	.args_usage = "[--log FILE]",
	.summary = "check the audit trail's hash chain; exit 1 names the first bad record",
	.options = { "log=", NULL },
	.min_args = 0,
	.max_args = 0,
	.exec = exec_audit_verify,
};
