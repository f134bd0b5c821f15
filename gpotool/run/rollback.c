/* Rollback of a journal entry, whatever target kind wrote it; see rollback.h. */
#include "run/rollback.h"

#include <json-c/json.h>
#include <string.h>

#include "core/safefile.h"
#include "state/journal.h"

struct rollback {
	struct gt_ctx *ctx;
	struct target_rollback rb;
};

static int check_status(const struct target_rollback *rb, int allow_pending, struct gt_error *e)
{
	struct json_object *doc = journal_doc(rb->j);
	const char *status = jsonx_str(doc, "status");

	if (strcmp(status, "complete") == 0 || (allow_pending && strcmp(status, "pending") == 0))
		return 0;
	if (strcmp(status, "failed") == 0)
		return gt_fail(e, GT_REFUSED, "journal entry %s changed nothing (it failed: %s); there is nothing to roll back",
			       rb->id, jsonx_str(doc, "reason") ? jsonx_str(doc, "reason") : "no reason recorded");
	if (strcmp(status, "rolled-back") == 0)
		return gt_fail(e, GT_REFUSED, "journal entry %s was interrupted and put back by gpotool's recovery; "
			       "nothing of it is in place to roll back", rb->id);
	return gt_fail(e, GT_REFUSED, "journal entry %s is '%s', not complete", rb->id, status);
}

/* Every path the entry names must be plain and absolute, with no link on the way: a folder
 * that is now a symbolic link would lead the write elsewhere. */
static int check_recorded_paths(const struct target_rollback *rb, struct json_object *targets, struct gt_error *e)
{
	/* a remote target (a GPO in a domain) names no local path: its backend checks its record */
	if (rb->target && json_object_get_boolean(json_object_object_get(rb->target, "remote")))
		return 0;
	if (!rb->target || !target_path_is_plain(jsonx_str(rb->target, "path")) || !jsonx_str(rb->target, "kind"))
		return gt_fail(e, GT_REFUSED, "journal entry %s does not name its target by an absolute path; not following it", rb->id);
	if (!target_path_is_plain(jsonx_str(rb->file, "path")))
		return gt_fail(e, GT_REFUSED, "journal entry %s names a file by a path that is not plain and absolute; not following it",
			       rb->id);
	for (size_t i = 0; json_object_is_type(targets, json_type_array) && i < json_object_array_length(targets); i++) {
		const char *p = jsonx_str(json_object_array_get_idx(targets, i), "path");

		if (p && !target_path_is_plain(p))
			return gt_fail(e, GT_REFUSED, "journal entry %s names a file by a path that is not plain and absolute; "
				       "not following it", rb->id);
		if (p && safefile_check_no_links(p, e) < 0)
			return gt_prefix(e, "journal entry %s: not following it: ", rb->id);
	}
	return 0;
}

static int load(struct rollback *r, struct gt_error *e)
{
	struct target_rollback *rb = &r->rb;
	struct json_object *doc, *targets;

	journal_free(rb->j);
	rb->j = NULL;
	plan_release(&rb->plan);
	if (journal_load(ctx_state_dir(r->ctx), rb->id, &rb->j, e) < 0)
		return -1;
	doc = journal_doc(rb->j);
	rb->target = json_object_object_get(doc, "target");
	targets = json_object_object_get(doc, "targets");
	rb->file = json_object_array_get_idx(targets, 0);
	if (check_recorded_paths(rb, targets, e) < 0)
		return -1;
	if (plan_from_json(json_object_object_get(rb->file, "changes"), &rb->plan, e) < 0)
		return gt_prefix(e, "journal entry %s is damaged: ", rb->id);
	return 0;
}

/* After the target is locked, recovery may have ended a pending entry: read it again. */
static int reload_if_pending(struct target_rollback *rb, struct gt_error *e)
{
	struct rollback *r = rb->arg;

	if (strcmp(jsonx_str(journal_doc(rb->j), "status"), "pending") != 0)
		return 0;
	if (load(r, e) < 0)
		return -1;
	return check_status(rb, 0, e);
}

int rollback_entry(struct gt_ctx *ctx, const char *id, const struct rollback_opts *o, struct gt_error *e)
{
	struct rollback r = { .ctx = ctx, .rb = { .id = id, .o = o, .reload_if_pending = reload_if_pending } };
	struct target t = { 0 };
	int ret;

	r.rb.arg = &r;
	plan_init(&r.rb.plan);
	ctx->rollback_of = id;
	ctx->defer_journal_line = 1; /* notes come first; "journal: ID" stays the last line */
	ret = load(&r, e);
	if (ret == 0)
		ret = check_status(&r.rb, 1, e);
	if (ret == 0)
		ret = target_open_recorded(&t, run_target_env(ctx), &r.rb, e);
	if (ret == 0)
		ret = target_rollback(&t, &r.rb, e);
	if (ret == 0 && ctx->journal_id)
		out_text(ctx, "journal: %s\n", ctx->journal_id);
	target_close(&t);
	plan_release(&r.rb.plan);
	journal_free(r.rb.j);
	return ret;
}
