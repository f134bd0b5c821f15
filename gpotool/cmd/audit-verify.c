/* gpotool audit verify [--log FILE] [--anchor HASH]: is the audit trail whole? Each record's
 * own hash, its sequence number and its link to the record before; the head file (the seq and
 * hash of the last record, replaced after each append), so a trail cut short at its end shows,
 * whatever the records cut were; every finished write the journal holds has its record; and
 * with --anchor, that a hash kept elsewhere (with the change ticket) is still one record's.
 * Exit 1 names the first problem. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/audit.h"
#include "cmd/cmd.h"
#include "state/journal.h"
#include "core/textesc.h"

/* Why a finished entry has no record yet, when that is a crash's gap and not a deletion. */
static const char *owed_because(struct json_object *doc)
{
	if (jsonx_str(doc, "audit_error"))
		return jsonx_str(doc, "audit_error");
	if (jsonx_str(doc, "recovered"))
		return "recovery ended it, and the run that did was stopped before its record";
	return "its writer was stopped after the write, before its record";
}

/* A write that finished (or that recovery ended) must have its record. One the journal marks
 * as recorded but that no record names was cut from the trail: its ID is returned (caller
 * frees). One not marked is owed by a crash: a warning says so, and the next write appends it. */
static char *unrecorded_write(const char *state, const char *log, struct gt_error *e)
{
	char **ids = NULL, **named = NULL, *missing = NULL;
	size_t n = 0, nnamed = 0;

	if (audit_journal_ids(log, &named, &nnamed, e) < 0 || journal_list_ids(state, &ids, &n, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct gt_error ignored = { 0 };
		struct journal_entry *j;

		if (!missing && !audit_names(named, nnamed, ids[i]) && journal_load(state, ids[i], &j, &ignored) == 0) {
			struct json_object *doc = journal_doc(j);
			const char *status = jsonx_str(doc, "status");

			if (strcmp(status, "complete") == 0 || strcmp(status, "rolled-back") == 0) {
				if (journal_is_audited(state, ids[i]))
					missing = xstrdup(ids[i]);
				else
					out_warn("journal entry %s has no audit record yet (%s): the next gpotool write appends it, "
						 "flagged as recorded late", ids[i], owed_because(doc));
			}
			journal_free(j);
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	for (size_t i = 0; i < nnamed; i++)
		free(named[i]);
	free(named);
	return missing;
}

/* The head file against the chain: NULL when it agrees (or lags: a writer stopped between
 * the record and the head), else what is wrong, in out. */
static int head_problem(const char *path, int have_head, unsigned long long hseq, const char *hhash,
			const struct audit_verdict *v, int head_required, struct sbuf *out)
{
	if (!have_head) {
		if (head_required && v->records > 0)
			sbuf_addf(out, "there is no head file '%s.head', so records cut from the end of the trail would not show "
				  "(it was removed, or only an older gpotool has written here: the next write makes one)", esc(path));
		return out->len > 0;
	}
	if (hseq > v->last_seq)
		sbuf_addf(out, "the head file says the trail ends at record %llu (hash %s), but it ends at record %llu: "
			  "records were cut from its end", hseq, hhash, v->last_seq);
	else if (strcmp(v->at_hash, hhash) != 0)
		sbuf_addf(out, "record %llu is not the one the head file names (hash %s): the trail was rewritten", hseq, hhash);
	return out->len > 0;
}

static int exec_audit_verify(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const char *log = cmd_opt(&cmd_audit_verify_entry, a, "log"), *anchor = cmd_opt(&cmd_audit_verify_entry, a, "anchor");
	char hhash[SHA256_HEX_LEN + 1] = "", want[SHA256_HEX_LEN + 1] = "";
	unsigned long long hseq = 0;
	struct audit_verdict v;
	struct sbuf path, head;
	char *missing = NULL;
	int r, hr;

	if (anchor) {
		if (strlen(anchor) != SHA256_HEX_LEN || strspn(anchor, "0123456789abcdefABCDEF") != SHA256_HEX_LEN)
			return gt_fail(e, GT_USAGE, "--anchor takes a record's hash, 64 hex digits, not '%s'", esc(anchor));
		for (size_t i = 0; i < SHA256_HEX_LEN; i++)
			want[i] = (char)(anchor[i] >= 'A' && anchor[i] <= 'F' ? anchor[i] - 'A' + 'a' : anchor[i]);
	}
	sbuf_init(&path);
	sbuf_init(&head);
	if (log)
		sbuf_addstr(&path, log);
	else
		sbuf_addf(&path, "%s/audit.log", ctx_state_dir(ctx));
	json_object_object_add(ctx->result, "log", json_object_new_string(path.buf));
	/* a log named that is not there holds no trail: that is not a whole chain of 0 records */
	if (log && access(path.buf, F_OK) != 0) {
		r = gt_fail(e, GT_MISMATCH, "'%s' does not exist: there is no audit trail there to verify", esc(path.buf));
		goto out;
	}
	hr = audit_head_read(path.buf, &hseq, hhash, e);
	if (hr < 0) {
		r = -1;
		goto out;
	}
	r = audit_verify_probe(path.buf, anchor ? want : NULL, hr == 1 ? hseq : 0, &v, e);
	if (r == 0 && !log) {
		missing = unrecorded_write(ctx_state_dir(ctx), path.buf, e);
		if (e->code != GT_OK)
			r = -1;
	}
	json_object_object_add(ctx->result, "records", json_object_new_int64((int64_t)v.records));
	json_object_object_add(ctx->result, "head", json_object_new_string(v.head));
	if (r == 0)
		head_problem(path.buf, hr == 1, hseq, hhash, &v, !log, &head);
	if (r == 1) {
		json_object_object_add(ctx->result, "bad_line", json_object_new_int64((int64_t)v.bad_line));
		r = gt_fail(e, GT_MISMATCH, "'%s' line %zu (record %llu): %s", path.buf, v.bad_line, v.last_seq + 1, v.why);
	} else if (r == 0 && missing) {
		json_object_object_add(ctx->result, "unrecorded", json_object_new_string(missing));
		r = gt_fail(e, GT_MISMATCH, "'%s': journal entry %s finished a write but no record names it: records were "
			    "removed from the end of the trail (or it was never written)%s%s", path.buf, missing,
			    head.len ? "; " : "", head.buf);
	} else if (r == 0 && head.len) {
		r = gt_fail(e, GT_MISMATCH, "'%s': %s", path.buf, head.buf);
	} else if (r == 0 && anchor && !v.anchor_seq) {
		r = gt_fail(e, GT_MISMATCH, "'%s': no record's hash is %s: the trail does not hold that anchor (it was rewritten, "
			    "or cut before it)", path.buf, want);
	} else if (r == 0) {
		out_text(ctx, "'%s': %zu record%s, chain whole; last record %llu, hash %s", path.buf, v.records,
			 v.records == 1 ? "" : "s", v.last_seq, v.head);
		if (anchor)
			out_text(ctx, "; anchor is record %llu", v.anchor_seq);
		out_text(ctx, "\n");
		if (anchor)
			json_object_object_add(ctx->result, "anchor_seq", json_object_new_int64((int64_t)v.anchor_seq));
		r = GT_OK;
	}
out:
	free(missing);
	sbuf_release(&head);
	sbuf_release(&path);
	return r;
}

const struct cmd_entry cmd_audit_verify_entry = {
	.name = "audit verify",
	.args_usage = "[--log FILE] [--anchor HASH]",
	.summary = "check the audit trail's hash chain and head; exit 1 names the first bad record",
	.options = { "log=", "anchor=", NULL },
	.min_args = 0,
	.max_args = 0,
	.exec = exec_audit_verify,
};
