/* Journal entries on disk; see journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "safefile.h"
#include "sbuf.h"

struct journal_entry {
	char *id;
	char *dir;
	struct json_object *doc;
};

static int mkdir_private(const char *path, struct gt_error *e)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return gt_fail(e, GT_FAILED, "unable to create '%s': %s", path, strerror(errno));
	if (lstat(path, &st) < 0)
		return gt_fail(e, GT_FAILED, "unable to stat '%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return gt_fail(e, GT_REFUSED, "state path '%s' is not a directory", path);
	if (st.st_uid != geteuid())
		return gt_fail(e, GT_REFUSED, "state directory '%s' belongs to another user (uid %u)", path, (unsigned)st.st_uid);
	if (st.st_mode & 022)
		return gt_fail(e, GT_REFUSED, "state directory '%s' is writable by other users (mode %04o); chmod 700 it",
			       path, (unsigned)(st.st_mode & 07777));
	return 0;
}

int state_dir_prepare(const char *dir, struct gt_error *e)
{
	char *p = xstrdup(dir);
	int ret = 0;

	/* create missing parents too, as `mkdir -p` (XDG state dirs often do not exist yet) */
	for (char *s = p + 1; *s && ret == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			ret = gt_fail(e, GT_FAILED, "unable to create '%s': %s", p, strerror(errno));
		*s = '/';
	}
	if (ret == 0)
		ret = mkdir_private(p, e);
	free(p);
	return ret;
}

static char *new_id(void)
{
	unsigned char rnd[4] = { 0 };
	struct sbuf sb;
	struct tm tm;
	time_t now = time(NULL);

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memcpy(rnd, &now, sizeof(rnd) < sizeof(now) ? sizeof(rnd) : sizeof(now));
	gmtime_r(&now, &tm);
	sbuf_init(&sb);
	sbuf_addf(&sb, "%04d%02d%02dT%02d%02d%02dZ-%02x%02x%02x%02x", tm.tm_year + 1900, tm.tm_mon + 1,
		  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd[0], rnd[1], rnd[2], rnd[3]);
	return sbuf_detach(&sb, NULL);
}

static void iso_time(char *buf, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int save_doc(struct journal_entry *j, struct gt_error *e)
{
	const char *text = json_object_to_json_string_ext(j->doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct sbuf path;
	int ret;

	sbuf_init(&path);
	sbuf_addf(&path, "%s/entry.json", j->dir);
	ret = write_file_atomic(path.buf, text, strlen(text), 0600, e);
	sbuf_release(&path);
	return ret;
}

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *target_json(const struct journal_target *t, const char *before_name)
{
	struct json_object *o = json_object_new_object();
	char sha[SHA256_HEX_LEN + 1];

	sha256_hex(t->before, t->before_len, sha);
	json_object_object_add(o, "path", jstr(t->path));
	json_object_object_add(o, "existed", json_object_new_boolean(t->existed));
	json_object_object_add(o, "kind", jstr(t->kind));
	json_object_object_add(o, "detail", jstr(t->detail));
	json_object_object_add(o, "key_prefix", jstr(t->key_prefix));
	json_object_object_add(o, "sha256_before", jstr(sha));
	json_object_object_add(o, "sha256_after", NULL);
	json_object_object_add(o, "size_before", json_object_new_int64((int64_t)t->before_len));
	json_object_object_add(o, "before_copy", jstr(before_name));
	if (t->plan)
		json_object_object_add(o, "changes", plan_to_json(t->plan, t->key_prefix));
	return o;
}

int journal_begin(const char *state_dir, const struct journal_meta *m, const struct journal_target *t, size_t n,
		  struct journal_entry **out, struct gt_error *e)
{
	struct journal_entry *j;
	struct json_object *targets;
	struct sbuf path;
	char now[32];

	*out = NULL;
	sbuf_init(&path);
	sbuf_addf(&path, "%s/journal", state_dir);
	if (state_dir_prepare(state_dir, e) < 0 || mkdir_private(path.buf, e) < 0) {
		sbuf_release(&path);
		return -1;
	}
	j = xcalloc(1, sizeof(*j));
	j->id = new_id();
	sbuf_addf(&path, "/%s", j->id);
	if (mkdir(path.buf, 0700) < 0) {
		gt_fail(e, GT_FAILED, "unable to create journal entry '%s': %s", path.buf, strerror(errno));
		sbuf_release(&path);
		journal_free(j);
		return -1;
	}
	j->dir = sbuf_detach(&path, NULL);
	sbuf_release(&path);

	/* the copies of the originals are durable before the entry that points at them says "pending" */
	for (size_t i = 0; i < n; i++) {
		sbuf_init(&path);
		sbuf_addf(&path, "%s/before-%zu.bin", j->dir, i);
		if (t[i].existed && write_file_atomic(path.buf, t[i].before, t[i].before_len, 0600, e) < 0) {
			sbuf_release(&path);
			journal_free(j);
			return -1;
		}
		sbuf_release(&path);
	}

	iso_time(now, sizeof(now));
	j->doc = json_object_new_object();
	json_object_object_add(j->doc, "format", json_object_new_string("gpotool-journal/1"));
	json_object_object_add(j->doc, "id", jstr(j->id));
	json_object_object_add(j->doc, "status", jstr("pending"));
	json_object_object_add(j->doc, "started", jstr(now));
	json_object_object_add(j->doc, "finished", NULL);
	json_object_object_add(j->doc, "command", jstr(m->command_line));
	json_object_object_add(j->doc, "operator", jstr(m->operator_name));
	json_object_object_add(j->doc, "ticket", jstr(m->ticket));
	json_object_object_add(j->doc, "template", jstr(m->template_name));
	targets = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "before-%zu.bin", i);
		json_object_array_add(targets, target_json(&t[i], t[i].existed ? name : NULL));
	}
	json_object_object_add(j->doc, "targets", targets);
	if (save_doc(j, e) < 0) {
		journal_free(j);
		return -1;
	}
	*out = j;
	return 0;
}

static void set_finished(struct journal_entry *j, const char *status)
{
	char now[32];

	iso_time(now, sizeof(now));
	json_object_object_add(j->doc, "status", jstr(status));
	json_object_object_add(j->doc, "finished", jstr(now));
}

int journal_complete(struct journal_entry *j, const char *const *after_sha256, size_t n, struct gt_error *e)
{
	struct json_object *targets = json_object_object_get(j->doc, "targets");

	for (size_t i = 0; i < n; i++)
		json_object_object_add(json_object_array_get_idx(targets, i), "sha256_after", jstr(after_sha256[i]));
	set_finished(j, "complete");
	return save_doc(j, e);
}

void journal_abandon(struct journal_entry *j, const char *reason)
{
	struct gt_error ignored = { 0 };

	set_finished(j, "failed");
	json_object_object_add(j->doc, "reason", jstr(reason));
	save_doc(j, &ignored); /* the target is untouched either way; this only labels the entry */
}

const char *journal_id(const struct journal_entry *j)
{
	return j->id;
}

void journal_free(struct journal_entry *j)
{
	if (!j)
		return;
	json_object_put(j->doc);
	free(j->id);
	free(j->dir);
	free(j);
}
