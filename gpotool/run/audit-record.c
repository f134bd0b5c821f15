/* The audit record of a command that writes; see audit-record.h. */
#include "run/audit-record.h"

#include <json-c/json.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sbuf.h"
#include "state/journal.h"

static const char *result_word(const struct gt_ctx *ctx, int code)
{
	struct json_object *changed = json_object_object_get(ctx->result, "changed");

	switch (code) {
	case GT_OK:
		if (json_object_get_boolean(json_object_object_get(ctx->result, "dry_run")))
			return "dry run";
		return changed && !json_object_get_boolean(changed) ? "no change" : "changed";
	case GT_MISMATCH: return "not as expected";
	case GT_USAGE: return "usage error";
	case GT_REFUSED: return "refused";
	default: return "failed";
	}
}

static void copy_field(struct json_object *to, const char *name, struct json_object *from, const char *from_name)
{
	struct json_object *v = json_object_object_get(from, from_name);

	json_object_object_add(to, name, v ? json_object_get(v) : NULL);
}

/* A record names every change, up to this many: a hive recover changes thousands of values,
 * and a record over the trail's line limit would never be written. The rest stay in the
 * journal entry the record names. */
#define AUDIT_MAX_CHANGES 200

static void add_changes(struct json_object *r, struct json_object *changes)
{
	size_t n = json_object_is_type(changes, json_type_array) ? json_object_array_length(changes) : 0;
	struct json_object *kept;

	if (n <= AUDIT_MAX_CHANGES) {
		json_object_object_add(r, "changes", changes ? json_object_get(changes) : NULL);
		return;
	}
	kept = json_object_new_array();
	for (size_t i = 0; i < AUDIT_MAX_CHANGES; i++)
		json_object_array_add(kept, json_object_get(json_object_array_get_idx(changes, i)));
	json_object_object_add(r, "changes", kept);
	json_object_object_add(r, "changes_total", json_object_new_int64((int64_t)n));
	json_object_object_add(r, "changes_omitted", json_object_new_string("the rest are in the journal entry"));
}

/* Each file the write replaced, with its SHA-256 before and after, from the journal entry. */
static struct json_object *files_from_journal(const struct gt_ctx *ctx)
{
	struct json_object *files = json_object_new_array(), *targets;
	struct gt_error ignored = { 0 };
	struct journal_entry *j;

	if (!ctx->journal_id || journal_load(ctx_state_dir(ctx), ctx->journal_id, &j, &ignored) < 0)
		return files;
	targets = json_object_object_get(journal_doc(j), "targets");
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i), *f = json_object_new_object();

		copy_field(f, "path", t, "path");
		copy_field(f, "sha256_before", t, "sha256_before");
		copy_field(f, "sha256_after", t, "sha256_after");
		json_object_array_add(files, f);
	}
	journal_free(j);
	return files;
}

/* A write to a domain: its DC, the GPO's DN and GUID, the OU and each AD value before and
 * after, as the journal entry recorded them ("extra" of its target); NULL for a local write. */
static struct json_object *domain_from_journal(const struct gt_ctx *ctx)
{
	struct gt_error ignored = { 0 };
	struct json_object *x = NULL;
	struct journal_entry *j;

	if (!ctx->journal_id || journal_load(ctx_state_dir(ctx), ctx->journal_id, &j, &ignored) < 0)
		return NULL;
	x = json_object_object_get(json_object_object_get(journal_doc(j), "target"), "extra");
	x = x ? json_object_get(x) : NULL;
	journal_free(j);
	return x;
}

static void utc_now(char *buf, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct json_object *audit_record(const struct gt_ctx *ctx, const char *command, int code, const struct gt_error *err)
{
	struct json_object *r = json_object_new_object();
	struct passwd *pw = getpwuid(getuid());
	char host[256] = "", now[32], day[16];
	time_t as_of = (time_t)ctx->as_of;
	const char *target;
	struct tm tm;

	utc_now(now, sizeof(now));
	gmtime_r(&as_of, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	gethostname(host, sizeof(host) - 1);
	json_object_object_add(r, "time", json_object_new_string(now));
	json_object_object_add(r, "operator", json_object_new_string(ctx_operator(ctx)));
	json_object_object_add(r, "uid", json_object_new_int((int)getuid()));
	json_object_object_add(r, "user", pw ? json_object_new_string(pw->pw_name) : NULL);
	json_object_object_add(r, "host", json_object_new_string(host));
	json_object_object_add(r, "ticket", ctx->ticket ? json_object_new_string(ctx->ticket) : NULL);
	json_object_object_add(r, "command", json_object_new_string(command));
	json_object_object_add(r, "command_line", json_object_new_string(ctx->command_line));
	if (ctx->allow_shared_dir) /* the StrictModes folder check was switched off for this command */
		json_object_object_add(r, "allow_shared_dir", json_object_new_boolean(1));
	/* absolute, as the journal names it: a path as typed means nothing without its cwd (the
	 * typed form stays in command_line) */
	target = ctx->target ? ctx->target : jsonx_str(ctx->result, "target");
	if (target && ctx->conn) { /* a GPO in a domain: named as such, not a local path */
		json_object_object_add(r, "target", json_object_new_string(target));
	} else if (target) {
		char *abs = absolute_path(target);

		json_object_object_add(r, "target", json_object_new_string(abs));
		free(abs);
	} else {
		json_object_object_add(r, "target", NULL);
	}
	copy_field(r, "template", ctx->result, "template");
	json_object_object_add(r, "as_of", json_object_new_string(day));
	copy_field(r, "expiry", ctx->result, "expiry");
	json_object_object_add(r, "result", json_object_new_string(result_word(ctx, code)));
	json_object_object_add(r, "exit", json_object_new_int(code));
	json_object_object_add(r, "error", err->code != GT_OK ? json_object_new_string(err->msg) : NULL);
	json_object_object_add(r, "journal", ctx->journal_id ? json_object_new_string(ctx->journal_id) : NULL);
	json_object_object_add(r, "rollback_of", ctx->rollback_of ? json_object_new_string(ctx->rollback_of) : NULL);
	json_object_object_add(r, "files", files_from_journal(ctx));
	if (ctx->conn)
		json_object_object_add(r, "domain", domain_from_journal(ctx));
	/* a dirty hive: which logs were replayed, or that --ignore-logs wrote to the stale primary */
	if (ctx->hive_logs.ignore_logs && json_object_get_boolean(json_object_object_get(
		    json_object_object_get(ctx->result, "transaction_logs"), "stale_primary")))
		json_object_object_add(r, "ignore_logs", json_object_new_boolean(1));
	if (json_object_object_get(ctx->result, "transaction_logs"))
		copy_field(r, "transaction_logs", ctx->result, "transaction_logs");
	add_changes(r, json_object_object_get(ctx->result, "changes"));
	return r;
}

/* Why a record is written late, from what the entry says happened to it. */
static const char *late_reason(struct json_object *doc)
{
	const char *status = jsonx_str(doc, "status");

	if (strcmp(status, "rolled-back") == 0)
		return "the write was interrupted and undone by recovery (its files put back as they were before it)";
	if (jsonx_str(doc, "recovered"))
		return "the write was interrupted and finished by recovery (from its staged files)";
	if (jsonx_str(doc, "audit_error"))
		return "its writer could not append this record when it finished";
	return "its writer was killed after the write, before it appended this record";
}

struct json_object *audit_record_late(const struct gt_ctx *ctx, struct json_object *doc)
{
	struct json_object *r = json_object_new_object(), *files = json_object_new_array(), *changes = json_object_new_array();
	struct json_object *targets = json_object_object_get(doc, "targets"), *late = json_object_new_object();
	struct json_object *by = json_object_object_get(doc, "recovered_by"), *extra;
	struct passwd *pw = getpwuid(getuid());
	int undone = strcmp(jsonx_str(doc, "status"), "rolled-back") == 0;
	char host[256] = "", now[32];

	utc_now(now, sizeof(now));
	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i), *f = json_object_new_object();
		struct json_object *ch = json_object_object_get(t, "changes");

		copy_field(f, "path", t, "path");
		copy_field(f, "sha256_before", t, "sha256_before");
		copy_field(f, "sha256_after", t, "sha256_after");
		json_object_array_add(files, f);
		for (size_t k = 0; json_object_is_type(ch, json_type_array) && k < json_object_array_length(ch); k++)
			json_object_array_add(changes, json_object_get(json_object_array_get_idx(ch, k)));
	}
	/* who and what: the entry's; when, by which process: this late one's, said as such */
	json_object_object_add(r, "time", json_object_new_string(now));
	copy_field(r, "operator", doc, "operator");
	json_object_object_add(r, "uid", json_object_new_int((int)getuid()));
	json_object_object_add(r, "user", pw ? json_object_new_string(pw->pw_name) : NULL);
	json_object_object_add(r, "host", json_object_new_string(host));
	copy_field(r, "ticket", doc, "ticket");
	json_object_object_add(r, "command", json_object_new_string(jsonx_str(doc, "command_name") ? jsonx_str(doc, "command_name") : "?"));
	copy_field(r, "command_line", doc, "command");
	json_object_object_add(r, "target", json_object_get(json_object_object_get(json_object_object_get(doc, "target"), "path")));
	extra = json_object_object_get(json_object_object_get(doc, "target"), "extra");
	if (json_object_object_get(extra, "transaction_logs"))
		copy_field(r, "transaction_logs", extra, "transaction_logs");
	else if (extra)
		copy_field(r, "domain", json_object_object_get(doc, "target"), "extra");
	copy_field(r, "template", doc, "template");
	json_object_object_add(r, "as_of", NULL);
	json_object_object_add(r, "expiry", NULL);
	json_object_object_add(r, "result", json_object_new_string(undone ? "undone by recovery" : "changed"));
	json_object_object_add(r, "exit", NULL);
	json_object_object_add(r, "error", NULL);
	copy_field(r, "journal", doc, "id");
	copy_field(r, "rollback_of", doc, "rollback_of");
	json_object_object_add(r, "files", files);
	add_changes(r, changes);
	json_object_put(changes);
	json_object_object_add(late, "reason", json_object_new_string(late_reason(doc)));
	json_object_object_add(late, "recovered_by", by ? json_object_get(by) : NULL);
	json_object_object_add(late, "written_by", json_object_new_string(ctx->command_line));
	json_object_object_add(late, "written_by_operator", json_object_new_string(ctx_operator(ctx)));
	json_object_object_add(r, "recorded_late", late);
	return r;
}
