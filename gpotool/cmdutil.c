/* Shared command plumbing; see cmdutil.h. */
#include "cmdutil.h"

#include <json-c/json.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advisory.h"
#include "gpotx.h"
#include "sbuf.h"

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

void out_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("gpotool: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Recovery needs the lock, and changes the files the open has just read: so open, recover,
 * and open again when anything was recovered. 1 recovered, 0 nothing pending, -1 error. */
static int recover(const struct gt_ctx *ctx, const char *const *paths, size_t n, struct gt_error *e)
{
	struct sbuf report;
	int r;

	sbuf_init(&report);
	r = journal_recover(ctx_state_dir(ctx), paths, n, &report, e);
	for (size_t i = 0; r == 0 && i < n; i++)
		safefile_sweep_temps(paths[i], &report);
	for (char *p = report.buf, *nl; r == 0 && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		out_warn("%s", p);
	}
	r = r < 0 ? -1 : report.len > 0;
	sbuf_release(&report);
	return r;
}

int open_hive_path(struct gt_ctx *ctx, const char *path, const char *kind, int write, struct hivetx *tx, struct gt_error *e)
{
	if (write)
		ctx_set_target(ctx, path);
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
	if (tx->dirty)
		out_warn("'%s' is dirty (sequence numbers %u != %u): its .LOG1/.LOG2 files hold newer data, so what is read here may be stale",
			 path, tx->hdr.seq1, tx->hdr.seq2);
	return 0;
}

int open_hive_for(struct gt_ctx *ctx, const struct cmd_entry *entry, const struct cmd_args *a, const char *path,
		  int write, struct hivetx *tx, struct gt_error *e)
{
	return open_hive_path(ctx, path, cmd_opt(entry, a, "kind"), write, tx, e);
}

int commit_and_report(struct gt_ctx *ctx, struct hivetx *tx, struct gt_error *e)
{
	struct json_object *jwarn;
	struct journal_meta meta;
	struct sbuf line;

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
	sbuf_reset(&line);
	jwarn = json_object_new_array();
	if (!ctx->template_warnings && advisory_check(&tx->plan, (time_t)ctx->as_of, &line, jwarn) > 0) {
		for (char *p = line.buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
			*nl = '\0';
			out_warn("%s", p);
		}
	}
	json_object_object_add(ctx->result, "advisories", jwarn);
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
	if (gpotx_open(tx, dir, user, write, e) < 0)
		return -1;
	if (!write || tx->gpo.backup)
		return 0;
	r = recover(ctx, (const char *const[]){ tx->reg_path, tx->gpo.gpt_path }, 2, e);
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
	struct json_object *jwarn;
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
	ret = gpotx_commit(tx, ctx_state_dir(ctx), &meta, &plan, e);
	if (ret == 0) {
		jwarn = json_object_new_array();
		if (!ctx->template_warnings && advisory_check(&plan, (time_t)ctx->as_of, &line, jwarn) > 0)
			for (char *p = line.buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
				*nl = '\0';
				out_warn("%s", p);
			}
		json_object_object_add(ctx->result, "advisories", jwarn);
		sbuf_reset(&line);
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
	if (ctx->target)
		json_object_object_add(r, "target", json_object_new_string(ctx->target));
	else
		copy_field(r, "target", ctx->result, "target");
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
