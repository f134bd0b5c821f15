/* Shared command plumbing; see cmdutil.h. */
#include "run/cmdutil.h"

#include <json-c/json.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kb/advisory.h"
#include "gpo/gpo.h"
#include "gpo/gpotx.h"
#include "gpo/gptini.h"
#include "gpo/gpp.h"
#include "hive/hivefile.h"
#include "core/sbuf.h"
#include "core/textesc.h"
#include "hive/verify.h"
#include "core/datadir.h"

const char *ctx_state_dir(const struct gt_ctx *ctx)
{
	static char buf[4096];
	const char *env = getenv("GPOTOOL_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (ctx->state_dir_opt)
		return ctx->state_dir_opt;
	if (env && *env)
		return env;
	if (geteuid() == 0)
		return "/var/lib/gpotool";
	if (xdg && *xdg == '/')
		snprintf(buf, sizeof(buf), "%s/gpotool", xdg);
	else
		snprintf(buf, sizeof(buf), "%s/.local/state/gpotool", home && *home ? home : "/tmp");
	return buf;
}

const char *ctx_operator(const struct gt_ctx *ctx)
{
	static char buf[256];
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (ctx->operator_name)
		return ctx->operator_name;
	if (sudo && *sudo)
		return sudo;
	pw = getpwuid(geteuid());
	snprintf(buf, sizeof(buf), "%s", pw ? pw->pw_name : "uid-unknown");
	if (!pw)
		snprintf(buf, sizeof(buf), "uid-%u", (unsigned)geteuid());
	return buf;
}

void ctx_journal_meta(const struct gt_ctx *ctx, struct journal_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->command_line = ctx->command_line;
	m->command_name = json_object_get_string(json_object_object_get(ctx->result, "command"));
	m->operator_name = ctx_operator(ctx);
	m->ticket = ctx->ticket;
	m->template_name = ctx->template_name;
	m->rollback_of = ctx->rollback_of;
}

int parse_utc_day(const char *text, long long *out)
{
	struct tm tm = { 0 };
	char tail;

	if (strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tail) != 3 ||
	    tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970)
		return -1;
	{
		struct tm back;
		int want_mday = tm.tm_mday, want_mon = tm.tm_mon - 1;
		time_t t;

		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		t = timegm(&tm); /* normalises tm in place: compare with the day asked for */
		/* 2025-02-30 normalises to March 2: a day that does not exist is refused */
		if (!gmtime_r(&t, &back) || back.tm_mday != want_mday || back.tm_mon != want_mon)
			return -1;
		*out = (long long)t;
	}
	return 0;
}

void ctx_set_target(struct gt_ctx *ctx, const char *path)
{
	free(ctx->target);
	ctx->target = xstrdup(path);
}

void out_text(const struct gt_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* A warning or note may quote a file name or an operator: its control characters are escaped
 * (the line ends gpotool writes itself stay). */
__attribute__((format(printf, 2, 0)))
static void out_diagnostic(const char *label, const char *fmt, va_list ap)
{
	struct sbuf sb;
	char *text = NULL;
	int n = vasprintf(&text, fmt, ap);

	sbuf_init(&sb);
	text_escape(&sb, n >= 0 ? text : fmt, 1);
	fprintf(stderr, "gpotool: %s: %s\n", label, sb.buf);
	sbuf_release(&sb);
	free(n >= 0 ? text : NULL);
}

void out_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_diagnostic("note", fmt, ap);
	va_end(ap);
}

void out_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_diagnostic("warning", fmt, ap);
	va_end(ap);
}

/* A journal's before copy is put back only when it is a file this tool would accept as that
 * target: a hive libregf opens and the base block checks pass; a Registry.xml that parses and
 * matches the schema; a GPT.INI with its Version. */
static int check_saved_copy(const char *kind, const uint8_t *buf, size_t len, int staged_fd, const char *staged,
			    struct gt_error *e)
{
	if (strcmp(kind, "hive") == 0) {
		struct hive_header hdr;
		struct regf_reader *r;

		if (hivefile_read_header(buf, len, &hdr, e) < 0 || hivefile_check_safe(buf, len, len, 0, e) < 0 ||
		    verify_open_fd(staged_fd, &r, e) < 0) /* the file held, not whatever its name holds now */
			return -1;
		verify_close(r);
		return 0;
	}
	if (strcmp(kind, "gpp-registry-xml") == 0) {
		struct gpp_doc *doc;

		if (gpp_load(buf, len, staged, gpotool_data_file("gpp-registry.rng"), &doc, e) < 0)
			return -1;
		gpp_free(doc);
		return 0;
	}
	if (strcmp(kind, "gpt-ini") == 0) {
		struct gptini g;
		int r = gptini_parse(buf, len, &g, e);

		gptini_release(&g);
		return r;
	}
	return gt_fail(e, GT_REFUSED, "a target of kind '%s' is not one gpotool writes", kind);
}

void ctx_recovery(const struct gt_ctx *ctx, struct journal_recovery *how)
{
	memset(how, 0, sizeof(*how));
	how->command_line = ctx->command_line;
	how->operator_name = ctx_operator(ctx);
	how->ticket = ctx->ticket;
	how->check_copy = check_saved_copy;
}

/* Recovery needs the lock, and changes the files the open has just read: so open, recover,
 * and open again when anything was recovered. 1 recovered, 0 nothing pending, -1 error. */
static int recover(const struct gt_ctx *ctx, const char *const *paths, size_t n, struct gt_error *e)
{
	struct journal_recovery how;
	struct sbuf report;
	int r;

	ctx_recovery(ctx, &how);
	sbuf_init(&report);
	r = journal_recover(ctx_state_dir(ctx), paths, n, &how, &report, e);
	for (char *p = report.buf, *nl; r == 0 && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		out_warn("%s", p);
	}
	r = r < 0 ? -1 : report.len > 0;
	sbuf_release(&report);
	return r;
}

/* The journal and the audit trail name a target by its absolute path, as UTF-8 text, and
 * rollback follows that path: one that is not UTF-8 could only be stored altered. */
static int check_recordable(const char *path, struct gt_error *e)
{
	char *abs = absolute_path(path);
	int ok = text_utf8_valid(abs, strlen(abs));

	free(abs);
	return ok ? 0 : gt_fail(e, GT_USAGE, "'%s': the path is not valid UTF-8; the journal records paths as UTF-8 text "
				 "(rename the file or the folder)", esc(path));
}

int open_hive_path(struct gt_ctx *ctx, const char *path, const char *kind, int write, struct hivetx *tx, struct gt_error *e)
{
	if (write)
		ctx_set_target(ctx, path);
	if (write && check_recordable(path, e) < 0)
		return -1;
	if (hivetx_open(tx, path, write, kind, e) < 0)
		return -1;
	if (write) {
		int r = recover(ctx, (const char *const[]){ path }, 1, e);

		if (r != 0) {
			hivetx_close(tx);
			if (r < 0 || hivetx_open(tx, path, write, kind, e) < 0)
				return -1;
		}
	}
	if (tx->dirty) {
		struct sbuf why;

		sbuf_init(&why);
		hivetx_dirty_reason(path, &tx->hdr, 0, &why);
		out_warn("'%s' %s, so what is read here may be stale", path, why.buf);
		sbuf_release(&why);
	}
	return 0;
}

int open_hive_for(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, const char *path,
		  int write, struct hivetx *tx, struct gt_error *e)
{
	/* a path that is not there is the user's mistake: said (and coded) the same for every command */
	if (gt_check_path(path, 0, "HIVE is the path of a hive file", e) < 0)
		return -1;
	return open_hive_path(ctx, path, cmd_opt(entry, a, "kind"), write, tx, e);
}

int commit_and_report(struct gt_ctx *ctx, struct hivetx *tx, struct gt_error *e)
{
	struct journal_meta meta;
	struct sbuf line;

	if (apply_value_rules(ctx, &tx->plan, hivetx_prefix(tx), tx->file.path, e) < 0)
		return -1;
	ctx_journal_meta(ctx, &meta);
	if (hivetx_commit(tx, ctx_state_dir(ctx), &meta, e) < 0)
		return -1;
	json_object_object_add(ctx->result, "target", json_object_new_string(tx->file.path));
	json_object_object_add(ctx->result, "changed", json_object_new_boolean(tx->plan.n > 0));
	json_object_object_add(ctx->result, "changes", plan_to_json(&tx->plan, hivetx_prefix(tx)));
	json_object_object_add(ctx->result, "journal", tx->journal_id ? json_object_new_string(tx->journal_id) : NULL);
	if (tx->plan.n == 0) {
		out_text(ctx, "no change: '%s' already holds this\n", tx->file.path);
		return GT_OK;
	}
	sbuf_init(&line);
	for (size_t i = 0; i < tx->plan.n; i++) {
		sbuf_reset(&line);
		change_describe(&tx->plan.v[i], hivetx_prefix(tx), &line);
		out_text(ctx, "%s\n", line.buf);
	}
	sbuf_release(&line);
	out_text(ctx, "verified: libregf reads back %zu change%s in '%s'\n", tx->plan.n, tx->plan.n == 1 ? "" : "s",
		 tx->file.path);
	if (tx->warning) {
		out_warn("%s", tx->warning);
		json_object_object_add(ctx->result, "warning", json_object_new_string(tx->warning));
	}
	free(ctx->journal_id);
	ctx->journal_id = xstrdup(tx->journal_id);
	if (!ctx->defer_journal_line)
		out_text(ctx, "journal: %s\n", tx->journal_id);
	return GT_OK;
}

int open_gpo_for(struct gt_ctx *ctx, const char *dir, int user, int write, struct gpotx *tx, struct gt_error *e)
{
	int r;

	if (write)
		ctx_set_target(ctx, dir);
	if (write && check_recordable(dir, e) < 0)
		return -1;
	if (gpotx_open(tx, dir, user, write, e) < 0)
		return -1;
	if (!write)
		return 0;
	/* a GPMC backup has no GPT.INI: its journal entries name Registry.xml alone */
	r = recover(ctx, (const char *const[]){ tx->reg_path, tx->gpo.gpt_path }, tx->gpo.backup ? 1 : 2, e);
	if (r == 0)
		return 0;
	gpotx_close(tx);
	return r < 0 ? -1 : gpotx_open(tx, dir, user, write, e);
}

/* The value an existing GPP item carries, as registry data (MULTI_SZ parts come from the
 * blank-joined value attribute, so a part with a blank in it is split: shown, not restored). */
void gpp_item_value(const struct gpp_item *it, struct reg_value *v)
{
	struct gt_error ignored = { 0 };
	uint32_t type = RT_NONE;
	struct sbuf text;

	sbuf_init(&text);
	reg_type_from_name(it->type, &type);
	if (type == RT_DWORD || type == RT_QWORD)
		sbuf_addf(&text, "0x%s", it->value);
	else if (type == RT_MULTI_SZ)
		for (const char *p = it->value; *p; p++)
			sbuf_addstr(&text, *p == ' ' ? "\\0" : (char[]){ *p, 0 });
	else
		sbuf_addstr(&text, it->value);
	if (reg_value_from_text(type, text.buf, v, &ignored) < 0) {
		/* not parseable as its type: keep the text, typed REG_NONE, so nothing is lost */
		free(v->data);
		v->type = RT_NONE;
		v->data = (uint8_t *)xstrdup(it->value);
		v->len = strlen(it->value);
	}
	sbuf_release(&text);
}

int gpo_write_report(struct gt_ctx *ctx, struct gpotx *tx, const struct gpp_setting *s, struct gt_error *e)
{
	long old = gpp_find(tx->doc, s->hive, s->key, s->name);
	struct journal_meta meta;
	struct change *c;
	struct plan plan;
	struct sbuf key, line;
	int ret;

	plan_init(&plan);
	sbuf_init(&key);
	sbuf_init(&line);
	sbuf_addf(&key, "%s\\%s", s->hive, s->key);
	c = plan_add(&plan, s->action ? CH_SET_VALUE : CH_DELETE_VALUE, key.buf, s->name);
	if (old >= 0) {
		struct gpp_item it;

		gpp_item_get(tx->doc, (size_t)old, &it);
		c->had_old = 1;
		c->old.name = xstrdup(s->name);
		gpp_item_value(&it, &c->old);
		gpp_item_release(&it);
	}
	if (s->action) {
		c->has_new = 1;
		reg_value_copy(&c->new_value, &s->value);
	}
	ctx_journal_meta(ctx, &meta);
	ret = apply_value_rules(ctx, &plan, "", tx->gpo.dir, e);
	if (ret == 0)
		ret = gpotx_commit(tx, ctx_state_dir(ctx), &meta, &plan, e);
	if (ret == 0) {
		change_describe(c, "", &line);
		if (s->action)
			sbuf_addf(&line, ", action %c", s->action);
		out_text(ctx, "%s Registry.xml: %s\n", tx->user ? "User" : "Machine", line.buf);
		json_object_object_add(ctx->result, "target", json_object_new_string(tx->reg_path));
		json_object_object_add(ctx->result, "changed", json_object_new_boolean(1));
		json_object_object_add(ctx->result, "changes", plan_to_json(&plan, ""));
		if (!tx->gpo.backup) {
			out_text(ctx, "GPT.INI: Version %u -> %u (user %u, machine %u)\n", tx->gpt.version, tx->new_version,
				 tx->new_version >> 16, tx->new_version & 0xFFFF);
			json_object_object_add(ctx->result, "version_before", json_object_new_int64(tx->gpt.version));
			json_object_object_add(ctx->result, "version", json_object_new_int64(tx->new_version));
			out_text(ctx, "verified: Registry.xml parses, matches the schema and holds exactly this change; GPT.INI reads Version=%u\n",
				 tx->new_version);
			out_text(ctx, "next: the GPO's AD object must agree: gpotool gpo ad '%s' --domain DNS%s\n", tx->gpo.dir,
				 tx->gpo.guid[0] ? "" : " (the folder is not named by its GUID; rename it or give the GUID)");
		} else {
			out_text(ctx, "verified: Registry.xml parses, matches the schema and holds exactly this change\n");
			out_text(ctx, "note: a GPMC backup has no GPT.INI; GPMC sets the version when it restores the backup\n");
		}
		if (tx->warning) {
			out_warn("the change is in place, but: %s", tx->warning);
			json_object_object_add(ctx->result, "warning", json_object_new_string(tx->warning));
		}
		if (tx->notice) {
			out_warn("%s", tx->notice);
			json_object_object_add(ctx->result, "notice", json_object_new_string(tx->notice));
		}
		free(ctx->journal_id);
		ctx->journal_id = xstrdup(tx->journal_id);
		if (!ctx->defer_journal_line)
			out_text(ctx, "journal: %s\n", tx->journal_id);
		json_object_object_add(ctx->result, "journal", json_object_new_string(tx->journal_id));
	}
	sbuf_release(&key);
	sbuf_release(&line);
	plan_release(&plan);
	return ret;
}

/* ---- value rules: the one place every writer applies them ---- */

int value_rules_judge(struct gt_ctx *ctx, const struct plan *p, const char *key_prefix, const char *subject,
		      struct advice *a, struct gt_error *e)
{
	struct sbuf text;
	int ret = 0;

	if (advice_judge(gpotool_datadir(), p, key_prefix, (time_t)ctx->as_of, a, e) < 0)
		return -1;
	/* a rollback puts back what was there: its rules are reported, never refused (but data
	 * given with --undo-on-clients is a new write like any other) */
	if (ctx->rollback_of && !ctx->rollback_new_data)
		return 0;
	sbuf_init(&text);
	for (size_t i = 0; i < a->n && ret == 0; i++) {
		const struct rule_hit *h = &a->hit[i];

		sbuf_reset(&text);
		rule_hit_text(h, &text);
		if (h->rule->kind == RULE_REFUSE)
			ret = gt_fail(e, GT_REFUSED, "'%s': refusing %s", subject, text.buf);
		else if (h->rule->kind == RULE_EXPIRES && h->days <= 0 && ctx->strict)
			ret = gt_fail(e, GT_REFUSED, "refused (--strict): %s = %u (%s) expired on %s", h->name, h->data, h->rule->says,
				      h->rule->date);
	}
	sbuf_release(&text);
	return ret;
}

void value_rules_report(struct gt_ctx *ctx, const struct advice *a, int writing)
{
	struct json_object *list = json_object_new_array();
	struct sbuf text;
	int expiry = 0;

	sbuf_init(&text);
	for (size_t i = 0; i < a->n; i++) {
		const struct rule_hit *h = &a->hit[i];

		json_object_array_add(list, rule_hit_json(h));
		if (h->rule->kind == RULE_EXPIRES && !expiry++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "date", json_object_new_string(h->rule->date));
			json_object_object_add(o, "days", json_object_new_int64(h->days));
			json_object_object_add(o, "expired", json_object_new_boolean(h->days <= 0));
			json_object_object_add(ctx->result, "expiry", o);
		}
		if (h->rule->kind == RULE_NOTE && !writing)
			continue;
		sbuf_reset(&text);
		rule_hit_text(h, &text);
		if (h->rule->kind == RULE_NOTE)
			out_note("%s", text.buf);
		else if (h->rule->kind == RULE_REFUSE)
			out_warn("this puts back %s", text.buf);
		else
			out_warn("%s", text.buf);
	}
	json_object_object_add(ctx->result, "advisories", list);
	sbuf_release(&text);
	ctx->rules_reported = 1;
}

int apply_value_rules(struct gt_ctx *ctx, const struct plan *p, const char *key_prefix, const char *subject,
		      struct gt_error *e)
{
	struct advice a;
	int ret;

	if (ctx->rules_reported)
		return 0;
	ret = value_rules_judge(ctx, p, key_prefix, subject, &a, e);
	if (ret == 0)
		value_rules_report(ctx, &a, 1);
	advice_release(&a);
	return ret;
}

/* ---- the audit record of a command that writes ---- */

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
	if (target) {
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
	copy_field(r, "changes", ctx->result, "changes");
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
	struct json_object *by = json_object_object_get(doc, "recovered_by");
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
	copy_field(r, "template", doc, "template");
	json_object_object_add(r, "as_of", NULL);
	json_object_object_add(r, "expiry", NULL);
	json_object_object_add(r, "result", json_object_new_string(undone ? "undone by recovery" : "changed"));
	json_object_object_add(r, "exit", NULL);
	json_object_object_add(r, "error", NULL);
	copy_field(r, "journal", doc, "id");
	copy_field(r, "rollback_of", doc, "rollback_of");
	json_object_object_add(r, "files", files);
	json_object_object_add(r, "changes", changes);
	json_object_object_add(late, "reason", json_object_new_string(late_reason(doc)));
	json_object_object_add(late, "recovered_by", by ? json_object_get(by) : NULL);
	json_object_object_add(late, "written_by", json_object_new_string(ctx->command_line));
	json_object_object_add(late, "written_by_operator", json_object_new_string(ctx_operator(ctx)));
	json_object_object_add(r, "recorded_late", late);
	return r;
}
