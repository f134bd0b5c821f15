/* Journal entries on disk; see journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
	int lock_fd;   /* the entry's directory, flock()ed by the writer that owns it, or -1 */
};

/* A writer holds a lock on its entry's directory from creation until it is done, and the
 * lock dies with the process: recovery never mistakes a live writer's entry for an
 * interrupted one, nor sweeps up a directory still being filled. -1 when busy or failing. */
static int lock_entry_dir(const char *dir, int wait)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		return -1;
	}
	return fd;
}

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

/* IDs sort in time order (microseconds), and the random tail keeps two hosts apart. */
static char *new_id(void)
{
	unsigned char rnd[4] = { 0 };
	struct timespec ts;
	struct sbuf sb;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memcpy(rnd, &ts.tv_nsec, sizeof(rnd));
	gmtime_r(&ts.tv_sec, &tm);
	sbuf_init(&sb);
	sbuf_addf(&sb, "%04d%02d%02dT%02d%02d%02d.%06ldZ-%02x%02x%02x%02x", tm.tm_year + 1900, tm.tm_mon + 1,
		  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, rnd[0], rnd[1], rnd[2], rnd[3]);
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
	char sha[SHA256_HEX_LEN + 1], *abs;

	if (t->before_sha256)
		snprintf(sha, sizeof(sha), "%s", t->before_sha256);
	else
		sha256_hex(t->before, t->before_len, sha);
	abs = absolute_path(t->path);

	json_object_object_add(o, "path", jstr(abs));
	free(abs);
	abs = t->staged ? absolute_path(t->staged) : NULL;
	json_object_object_add(o, "staged", jstr(abs));
	free(abs);
	json_object_object_add(o, "existed", json_object_new_boolean(t->existed));
	json_object_object_add(o, "kind", jstr(t->kind));
	json_object_object_add(o, "detail", jstr(t->detail));
	json_object_object_add(o, "key_prefix", jstr(t->key_prefix));
	json_object_object_add(o, "sha256_before", jstr(sha));
	json_object_object_add(o, "sha256_after", jstr(t->after_sha256));
	json_object_object_add(o, "size_before", json_object_new_int64((int64_t)t->before_len));
	json_object_object_add(o, "before_copy", jstr(before_name));
	if (t->plan)
		json_object_object_add(o, "changes", plan_to_json(t->plan, t->key_prefix));
	if (t->ncreated_dirs) {
		struct json_object *dirs = json_object_new_array();

		for (size_t i = 0; i < t->ncreated_dirs; i++)
			json_object_array_add(dirs, jstr(t->created_dirs[i]));
		json_object_object_add(o, "created_dirs", dirs);
	}
	return o;
}

static struct json_object *target_summary(const struct journal_meta *m)
{
	struct json_object *o;
	char *abs;

	if (!m->target_kind || !m->target_path)
		return NULL;
	o = json_object_new_object();
	abs = absolute_path(m->target_path);
	json_object_object_add(o, "kind", jstr(m->target_kind));
	json_object_object_add(o, "path", jstr(abs));
	json_object_object_add(o, "side", jstr(m->side));
	free(abs);
	return o;
}

/* The kernel copies: no user-space buffer the size of a hive. */
static int copy_fd(int from, int to)
{
	loff_t in = 0;
	uint8_t buf[1 << 16];
	ssize_t r;

	while ((r = copy_file_range(from, &in, to, NULL, 1 << 30, 0)) > 0)
		;
	if (r == 0)
		return 0;
	if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
		return -1;
	/* older kernels, or file systems that cannot: plain reads and writes from where it stopped */
	while ((r = pread(from, buf, sizeof(buf), in)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || write(to, buf, (size_t)r) != r)
			return -1;
		in += r;
	}
	return 0;
}

/* The before copy of a locked file: a hard link when dest can take one and the target path
 * is still the locked inode, else a copy made beside dest and renamed to it. */
static int save_before_file(const struct locked_file *lf, const char *dest, struct gt_error *e)
{
	struct sbuf tmp;
	struct stat st;
	int fd, ret = 0;

	if (link(lf->path, dest) == 0) {
		if (lstat(dest, &st) == 0 && st.st_ino == lf->st.st_ino && st.st_dev == lf->st.st_dev)
			return 0;
		unlink(dest);
	}
	sbuf_init(&tmp);
	sbuf_addf(&tmp, "%s.XXXXXX", dest);
	fd = mkstemp(tmp.buf);
	if (fd < 0 || fchmod(fd, 0600) < 0 || copy_fd(lf->fd, fd) < 0 || fsync(fd) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to copy '%s' into the journal: %s", lf->path, strerror(errno));
	if (fd >= 0 && close(fd) < 0 && ret == 0)
		ret = gt_fail(e, GT_FAILED, "unable to copy '%s' into the journal: %s", lf->path, strerror(errno));
	if (ret == 0 && rename(tmp.buf, dest) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to copy '%s' into the journal: %s", lf->path, strerror(errno));
	if (ret < 0 && fd >= 0)
		unlink(tmp.buf);
	sbuf_release(&tmp);
	return ret;
}

/* Once the targets are replaced, a hard-linked before copy is the journal's alone: it gets
 * the journal's mode (before that, its mode was the live target's). */
static void make_copies_private(struct journal_entry *j)
{
	struct json_object *targets = json_object_object_get(j->doc, "targets");

	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		const char *copy = json_str(json_object_array_get_idx(targets, i), "before_copy");
		struct sbuf p;

		if (!copy || strchr(copy, '/'))
			continue;
		sbuf_init(&p);
		sbuf_addf(&p, "%s/%s", j->dir, copy);
		chmod(p.buf, 0600);
		sbuf_release(&p);
	}
}

/* mkdir, then lock: another writer's orphan sweep may remove the directory in between (it
 * holds no entry.json yet), and then we start again under a new ID. */
static int create_entry_dir(struct journal_entry *j, struct sbuf *path, size_t base_len, struct gt_error *e)
{
	for (int tries = 0; tries < 5; tries++) {
		free(j->id);
		j->id = new_id();
		path->len = base_len;
		path->buf[base_len] = '\0';
		sbuf_addf(path, "/%s", j->id);
		if (mkdir(path->buf, 0700) < 0)
			break;
		j->lock_fd = lock_entry_dir(path->buf, 1);
		if (j->lock_fd >= 0)
			return 0;
		if (errno != ENOENT)
			break;
	}
	return gt_fail(e, GT_FAILED, "unable to create journal entry '%s': %s", path->buf, strerror(errno));
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
	j->lock_fd = -1;
	if (create_entry_dir(j, &path, path.len, e) < 0) {
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
		if (t[i].existed && (t[i].before_file ? save_before_file(t[i].before_file, path.buf, e)
						      : write_file_atomic(path.buf, t[i].before, t[i].before_len, 0600, e)) < 0) {
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
	json_object_object_add(j->doc, "target", target_summary(m));
	if (m->rollback_of)
		json_object_object_add(j->doc, "rollback_of", jstr(m->rollback_of));
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

int journal_complete(struct journal_entry *j, struct gt_error *e)
{
	make_copies_private(j);
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
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	free(j->id);
	free(j->dir);
	free(j);
}

/* ---- reading entries back ---- */

const char *json_str(struct json_object *obj, const char *key)
{
	struct json_object *v = json_object_object_get(obj, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* new_id's shape exactly: 20251105T101112.123456Z-0a1b2c3d */
int journal_id_valid(const char *id)
{
	static const char shape[] = "DDDDDDDDTDDDDDD.DDDDDDZ-XXXXXXXX";

	if (strlen(id) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		int ok = shape[i] == 'D' ? (id[i] >= '0' && id[i] <= '9')
		       : shape[i] == 'X' ? (strchr("0123456789abcdef", id[i]) != NULL && id[i])
		       : id[i] == shape[i];
		if (!ok)
			return 0;
	}
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entry directories by ID, oldest first: those with an entry.json (with_entry = 1), or those
 * a writer killed in journal_begin left without one (0). */
static int list_dirs(const char *state_dir, int with_entry, char ***ids, size_t *n, struct gt_error *e)
{
	struct sbuf dir;
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*ids = NULL;
	*n = 0;
	sbuf_init(&dir);
	sbuf_addf(&dir, "%s/journal", state_dir);
	d = opendir(dir.buf);
	if (!d) {
		int err = errno;

		sbuf_release(&dir);
		return err == ENOENT ? 0 : gt_fail(e, GT_FAILED, "unable to read '%s/journal': %s", state_dir, strerror(err));
	}
	while ((de = readdir(d))) {
		char entry[sizeof(de->d_name) + 16];

		if (!journal_id_valid(de->d_name))
			continue;
		snprintf(entry, sizeof(entry), "%s/entry.json", de->d_name);
		if ((faccessat(dirfd(d), entry, F_OK, AT_SYMLINK_NOFOLLOW) == 0) != with_entry)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	sbuf_release(&dir);
	if (*n)
		qsort(*ids, *n, sizeof(**ids), cmp_str);
	return 0;
}

int journal_list_ids(const char *state_dir, char ***ids, size_t *n, struct gt_error *e)
{
	return list_dirs(state_dir, 1, ids, n, e);
}

/* A JSON document that is all of buf, nothing before or after it. Caller puts it. */
struct json_object *json_parse_exact(const uint8_t *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (len > INT32_MAX || memchr(buf, '\0', len)) {
		json_tokener_free(tok);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	for (size_t i = o ? json_tokener_get_parse_end(tok) : len; i < len; i++)
		if (!strchr(" \t\r\n", buf[i])) {
			json_object_put(o);
			o = NULL;
			break;
		}
	json_tokener_free(tok);
	return o;
}

int journal_load(const char *state_dir, const char *id, struct journal_entry **out, struct gt_error *e)
{
	struct journal_entry *j;
	struct json_object *targets;
	struct sbuf file;
	uint8_t *text;
	size_t len;

	*out = NULL;
	if (!journal_id_valid(id))
		return gt_fail(e, GT_USAGE, "'%s' is not a journal entry ID (they look like 20251105T101112.123456Z-0a1b2c3d; "
			       "see 'gpotool journal list')", id);
	sbuf_init(&file);
	sbuf_addf(&file, "%s/journal/%s/entry.json", state_dir, id);
	if (access(file.buf, F_OK) != 0) {
		sbuf_release(&file);
		return gt_fail(e, GT_REFUSED, "no journal entry '%s' in '%s' (see 'gpotool journal list')", id, state_dir);
	}
	if (read_whole_file(file.buf, 64u * 1024 * 1024, &text, &len, e) < 0) {
		sbuf_release(&file);
		return -1;
	}
	j = xcalloc(1, sizeof(*j));
	j->lock_fd = -1;
	j->id = xstrdup(id);
	j->doc = json_parse_exact(text, len);
	free(text);
	*strrchr(file.buf, '/') = '\0';
	j->dir = sbuf_detach(&file, NULL);
	targets = json_object_object_get(j->doc, "targets");
	if (!j->doc || !json_str(j->doc, "status") || !json_object_is_type(targets, json_type_array) ||
	    json_object_array_length(targets) == 0 || json_object_array_length(targets) > 2) {
		journal_free(j);
		return gt_fail(e, GT_REFUSED, "journal entry '%s' is damaged: its entry.json is not a journal entry", id);
	}
	*out = j;
	return 0;
}

int journal_annotate(const char *state_dir, const char *id, const char *key, const char *value, struct gt_error *e)
{
	struct journal_entry *j;
	int ret;

	if (journal_load(state_dir, id, &j, e) < 0)
		return -1;
	json_object_object_add(j->doc, key, jstr(value));
	ret = save_doc(j, e);
	journal_free(j);
	return ret;
}

struct json_object *journal_doc(const struct journal_entry *j)
{
	return j->doc;
}

int journal_read_before(const struct journal_entry *j, size_t i, uint8_t **buf, size_t *len, struct gt_error *e)
{
	struct json_object *t = json_object_array_get_idx(json_object_object_get(j->doc, "targets"), i);
	const char *want = json_str(t, "sha256_before");
	char name[32], sha[SHA256_HEX_LEN + 1];
	struct sbuf path;
	int ret;

	*buf = NULL;
	*len = 0;
	snprintf(name, sizeof(name), "before-%zu.bin", i);
	if (!t || !want || !json_str(t, "before_copy") || strcmp(json_str(t, "before_copy"), name) != 0)
		return gt_fail(e, GT_REFUSED, "journal entry '%s' has no copy of target %zu", j->id, i + 1);
	sbuf_init(&path);
	sbuf_addf(&path, "%s/%s", j->dir, name);
	ret = read_whole_file(path.buf, SAFEFILE_MAX_BYTES, buf, len, e);
	sbuf_release(&path);
	if (ret < 0)
		return -1;
	sha256_hex(*buf, *len, sha);
	if (strcmp(sha, want) != 0) {
		free(*buf);
		*buf = NULL;
		return gt_fail(e, GT_REFUSED, "journal entry '%s': the saved copy %s does not match its recorded SHA-256 "
			       "(the journal was changed or damaged)", j->id, name);
	}
	return 0;
}

/* ---- recovery ---- */

static int file_sha(const char *path, char out[SHA256_HEX_LEN + 1]);

enum target_state journal_target_state(struct json_object *t, char cur[SHA256_HEX_LEN + 1])
{
	const char *path = json_str(t, "path"), *after = json_str(t, "sha256_after"), *before = json_str(t, "sha256_before");
	int existed = json_object_get_boolean(json_object_object_get(t, "existed"));

	cur[0] = '\0';
	if (!path || file_sha(path, cur) < 0)
		return TARGET_CHANGED_SINCE;
	if (after && strcmp(cur, after) == 0)
		return TARGET_AS_LEFT;
	if (before && existed ? strcmp(cur, before) == 0 : !cur[0])
		return TARGET_AS_BEFORE;
	return cur[0] ? TARGET_CHANGED_SINCE : TARGET_ABSENT;
}

const char *target_state_text(enum target_state s)
{
	switch (s) {
	case TARGET_AS_LEFT: return "as this change left it";
	case TARGET_AS_BEFORE: return "as it was before this change";
	case TARGET_CHANGED_SINCE: return "changed since";
	case TARGET_ABSENT: return "absent";
	}
	return "?";
}

static const char *target_str(struct json_object *t, const char *key)
{
	return json_str(t, key);
}

/* The SHA-256 of a file, or "" when it does not exist. */
static int file_sha(const char *path, char out[SHA256_HEX_LEN + 1])
{
	struct gt_error ignored = { 0 };

	if (access(path, F_OK) != 0) {
		out[0] = '\0';
		return 0;
	}
	return sha256_file_hex(path, out, &ignored);
}

/* A staged file is only ever the temp name beside its target (".NAME.gpotool-XXXXXX"):
 * a journal that says otherwise is not followed. */
static int staged_is_beside(const char *target, const char *staged)
{
	char *t1 = xstrdup(target), *t2 = xstrdup(target), *s1 = xstrdup(staged), *s2 = xstrdup(staged);
	struct sbuf want;
	int ok;

	sbuf_init(&want);
	sbuf_addf(&want, ".%s.gpotool-", basename(t2));
	ok = strcmp(dirname(t1), dirname(s1)) == 0 && strncmp(basename(s2), want.buf, want.len) == 0 &&
	     strlen(basename(s2)) == want.len + 6;
	sbuf_release(&want);
	free(t1);
	free(t2);
	free(s1);
	free(s2);
	return ok;
}

static int names_one_of(struct json_object *targets, const char *const *paths, size_t npaths)
{
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		const char *p = target_str(json_object_array_get_idx(targets, i), "path");

		for (size_t k = 0; p && k < npaths; k++) {
			char *abs = absolute_path(paths[k]);
			int same = strcmp(abs, p) == 0;

			free(abs);
			if (same)
				return 1;
		}
	}
	return 0;
}

/* Did the interrupted write replace any of its targets yet? If not, it never happened for
 * anyone looking at them, and undoing it is the honest ending. */
static int any_replaced(struct json_object *targets)
{
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);
		const char *path = target_str(t, "path"), *after = target_str(t, "sha256_after");
		char cur[SHA256_HEX_LEN + 1];

		if (path && after && file_sha(path, cur) == 0 && strcmp(cur, after) == 0)
			return 1;
	}
	return 0;
}

/* Puts each target's staged content in place where it is still there; 1 when every target
 * then holds its after content. */
static int roll_forward(struct json_object *targets)
{
	int all = 1;

	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);
		const char *path = target_str(t, "path"), *after = target_str(t, "sha256_after"), *staged = target_str(t, "staged");
		char cur[SHA256_HEX_LEN + 1], st[SHA256_HEX_LEN + 1];

		if (!path || !after)
			return 0;
		if (file_sha(path, cur) == 0 && strcmp(cur, after) == 0)
			continue;
		if (!staged || !staged_is_beside(path, staged) || file_sha(staged, st) < 0 || strcmp(st, after) != 0 ||
		    rename(staged, path) < 0) {
			all = 0;
			continue;
		}
	}
	return all;
}

static void roll_back(const char *entry_dir, struct json_object *targets)
{
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);
		const char *path = target_str(t, "path"), *copy = target_str(t, "before_copy"), *staged = target_str(t, "staged");
		const char *before = target_str(t, "sha256_before");
		char cur[SHA256_HEX_LEN + 1];
		struct gt_error ignored = { 0 };

		if (!path)
			continue;
		if (staged && staged_is_beside(path, staged))
			unlink(staged);
		if (file_sha(path, cur) == 0 && before && strcmp(cur, before) == 0 && json_object_get_boolean(json_object_object_get(t, "existed")))
			continue;
		if (!json_object_get_boolean(json_object_object_get(t, "existed"))) {
			unlink(path);
		} else if (copy && !strchr(copy, '/')) {
			struct sbuf p;
			uint8_t *buf;
			size_t len;

			sbuf_init(&p);
			sbuf_addf(&p, "%s/%s", entry_dir, copy);
			if (read_whole_file(p.buf, SAFEFILE_MAX_BYTES, &buf, &len, &ignored) == 0) {
				struct stat st;

				/* the target keeps its own mode; the copy in the journal is 0600 */
				write_file_atomic(path, buf, len, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644, &ignored);
				free(buf);
			}
			sbuf_release(&p);
		}
	}
}

/* Ends one interrupted entry: finished when some target already holds its new content and
 * every staged file is there, else rolled back; the entry then says which. */
static int recover_entry(struct journal_entry *j, struct sbuf *report, struct gt_error *e)
{
	struct json_object *targets = json_object_object_get(j->doc, "targets");

	if (any_replaced(targets) && roll_forward(targets)) {
		make_copies_private(j);
		set_finished(j, "complete");
		json_object_object_add(j->doc, "recovered", jstr("finished by a later gpotool run from its staged files"));
		sbuf_addf(report, "journal entry %s was interrupted; its staged files were all there and are now in place\n", j->id);
	} else {
		roll_back(j->dir, targets);
		set_finished(j, "rolled-back");
		json_object_object_add(j->doc, "recovered", jstr("rolled back by a later gpotool run from its before copies"));
		sbuf_addf(report, "journal entry %s was interrupted; its targets were put back as they were before it\n", j->id);
	}
	return save_doc(j, e);
}

/* A writer killed inside journal_begin leaves a directory without entry.json: its target was
 * never touched, so the directory (partial before copies) is only litter, removed once no
 * writer holds its lock (create_entry_dir copes with losing the race between mkdir and lock). */
static void sweep_orphans(const char *state_dir, struct sbuf *report)
{
	struct gt_error ignored = { 0 };
	char **ids;
	size_t n;

	if (list_dirs(state_dir, 0, &ids, &n, &ignored) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct sbuf dir;
		struct stat st;
		int fd;

		sbuf_init(&dir);
		sbuf_addf(&dir, "%s/journal/%s", state_dir, ids[i]);
		if (lstat(dir.buf, &st) == 0 && S_ISDIR(st.st_mode) && (fd = lock_entry_dir(dir.buf, 0)) >= 0) {
			DIR *d = fdopendir(dup(fd));
			struct dirent *de;

			while (d && (de = readdir(d)))
				if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
					unlinkat(fd, de->d_name, 0);
			if (d)
				closedir(d);
			if (rmdir(dir.buf) == 0)
				sbuf_addf(report, "removed journal directory %s: a gpotool was killed before its entry was written, "
					  "so nothing was changed\n", ids[i]);
			close(fd);
		}
		sbuf_release(&dir);
		free(ids[i]);
	}
	free(ids);
}

int journal_recover(const char *state_dir, const char *const *paths, size_t npaths, struct sbuf *report,
		    struct gt_error *e)
{
	char **ids;
	size_t n;
	int ret;

	ret = journal_list_ids(state_dir, &ids, &n, e);
	for (size_t i = 0; i < n; i++) {
		struct gt_error ignored = { 0 };
		struct journal_entry *j;

		/* an entry that does not load (damaged, edited) is not acted on: journal show reports it;
		 * one whose directory is locked belongs to a writer still running */
		if (ret == 0 && journal_load(state_dir, ids[i], &j, &ignored) == 0) {
			if (strcmp(json_str(j->doc, "status"), "pending") == 0 &&
			    names_one_of(json_object_object_get(j->doc, "targets"), paths, npaths) &&
			    (j->lock_fd = lock_entry_dir(j->dir, 0)) >= 0)
				ret = recover_entry(j, report, e);
			journal_free(j);
		}
		free(ids[i]);
	}
	free(ids);
	if (ret == 0)
		sweep_orphans(state_dir, report);
	return ret;
}
