/* Journal entries on disk; see journal.h. */
#include "state/journal.h"

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

#include "core/digest.h"
#include "core/fault.h"
#include "core/safefile.h"
#include "core/sbuf.h"
#include "core/textesc.h"
#include "state/statedir.h"

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
	if (wait) /* only the entry's writer waits: here a sweep may take the folder first */
		fault_point(FAULT_JOURNAL_ENTRY_OPENED);
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		return -1;
	}
	return fd;
}

/* The entries this process wrote or ended by recovery stay locked until it exits: until
 * their audit record is appended, no other gpotool may take them for interrupted. */
enum held_kind { HELD_WRITTEN, HELD_RECOVERED, HELD_CAUGHT_UP };
static struct held_lock {
	char *id;
	int fd;
	enum held_kind kind;
} *held;
static size_t nheld, held_cap;

static void hold_lock(const char *id, int fd, enum held_kind kind)
{
	if (nheld == held_cap) {
		held_cap = held_cap ? 2 * held_cap : 8;
		held = xrealloc(held, held_cap * sizeof(*held));
	}
	held[nheld++] = (struct held_lock){ xstrdup(id), fd, kind };
}

static struct held_lock *held_find(const char *id)
{
	for (size_t i = 0; i < nheld; i++)
		if (strcmp(held[i].id, id) == 0)
			return &held[i];
	return NULL;
}

static int held_fd(int fd)
{
	for (size_t i = 0; i < nheld; i++)
		if (held[i].fd == fd)
			return 1;
	return 0;
}

static void drop_lock(const char *id)
{
	struct held_lock *h = held_find(id);

	if (!h)
		return;
	close(h->fd);
	free(h->id);
	*h = held[--nheld];
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
	const char *text;
	struct sbuf path;
	int ret;

	json_utf8_repair(j->doc); /* JSON is UTF-8: an error message may quote any bytes */
	text = json_object_to_json_string_ext(j->doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
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
	abs = t->remote ? xstrdup(t->path) : absolute_path(t->path);

	json_object_object_add(o, "path", jstr(abs));
	free(abs);
	abs = t->staged ? absolute_path(t->staged) : NULL;
	json_object_object_add(o, "staged", jstr(abs));
	free(abs);
	json_object_object_add(o, "existed", json_object_new_boolean(t->existed));
	if (t->remote)
		json_object_object_add(o, "remote", json_object_new_boolean(1));
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
	abs = m->remote ? xstrdup(m->target_path) : absolute_path(m->target_path);
	json_object_object_add(o, "kind", jstr(m->target_kind));
	json_object_object_add(o, "path", jstr(abs));
	json_object_object_add(o, "side", jstr(m->side));
	json_object_object_add(o, "backend", jstr(m->backend));
	if (m->container) {
		char *holder = absolute_path(m->container);

		json_object_object_add(o, "container", jstr(holder));
		free(holder);
	}
	if (m->remote)
		json_object_object_add(o, "remote", json_object_new_boolean(1));
	if (m->extra)
		json_object_object_add(o, "extra", json_object_get(m->extra));
	free(abs);
	return o;
}

/* The kernel copies: no user-space buffer the size of a hive. */
static int copy_fd(int from, int to)
{
	loff_t in = 0;
	uint8_t buf[1 << 16];
	ssize_t r;

	while ((r = copy_file_range(from, &in, to, NULL, 1 << 30, 0)) > 0 || (r < 0 && errno == EINTR))
		;
	if (r == 0)
		return 0;
	if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
		return -1;
	/* older kernels, or file systems that cannot: plain reads and writes from where it stopped */
	while ((r = pread(from, buf, sizeof(buf), in)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		for (ssize_t done = 0, w; done < r; done += w) {
			w = write(to, buf + done, (size_t)(r - done));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0) {
				/* a write that takes nothing leaves errno as it was (EXDEV from just above) */
				if (w == 0)
					errno = ENOSPC;
				return -1;
			}
		}
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
		const char *copy = jsonx_str(json_object_array_get_idx(targets, i), "before_copy");
		struct sbuf p;

		if (!copy || strchr(copy, '/'))
			continue;
		sbuf_init(&p);
		sbuf_addf(&p, "%s/%s", j->dir, copy);
		chmod(p.buf, 0600);
		sbuf_release(&p);
	}
}

/* The directory locked through fd is still the one named path: a sweep that locked it first
 * (see below) may have removed it while this process waited for the lock. */
static int still_named(const char *path, int fd)
{
	struct stat mine, named;

	return fstat(fd, &mine) == 0 && mine.st_nlink > 0 && lstat(path, &named) == 0 && named.st_ino == mine.st_ino &&
	       named.st_dev == mine.st_dev;
}

/* mkdir, then lock: another writer's orphan sweep may remove the directory in between (it
 * holds no entry.json yet): before this process opens it, or after it opened it and while it
 * waited for the sweep's lock. Either way we start again under a new ID. */
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
		if (j->lock_fd >= 0 && !still_named(path->buf, j->lock_fd)) {
			close(j->lock_fd);
			j->lock_fd = -1;
			errno = ENOENT;
		}
		if (j->lock_fd >= 0) {
			hold_lock(j->id, j->lock_fd, HELD_WRITTEN);
			return 0;
		}
		if (errno != ENOENT)
			break;
	}
	return gt_fail(e, GT_FAILED, "unable to create journal entry '%s': %s", path->buf, strerror(errno));
}

/* Empties and removes an entry directory whose lock fd holds (the files a writer killed, or
 * failing, in journal_begin left); 0 when it is gone. */
static int remove_entry_dir(const char *dir, int fd)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;

	if (dfd >= 0 && !d)
		close(dfd); /* fdopendir took no ownership */
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(fd, de->d_name, 0);
	if (d)
		closedir(d);
	return rmdir(dir);
}

/* journal_begin failed (a full disk, an I/O error): the entry never said "pending", so its
 * directory is removed here rather than left for the next run to take for a killed writer. */
static void discard_entry(struct journal_entry *j)
{
	if (j->dir && j->lock_fd >= 0)
		remove_entry_dir(j->dir, j->lock_fd);
	if (j->id)
		drop_lock(j->id);
	j->lock_fd = -1;
	journal_free(j);
}

/* A new entry's locked directory, STATE/journal/ID (the journal folder made private first).
 * *out freed by journal_free. */
static int new_entry(const char *state_dir, struct journal_entry **out, struct gt_error *e)
{
	struct journal_entry *j;
	struct sbuf path;

	*out = NULL;
	sbuf_init(&path);
	sbuf_addf(&path, "%s/journal", state_dir);
	if (statedir_prepare(state_dir, e) < 0 || statedir_mkdir_private(path.buf, e) < 0) {
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
	*out = j;
	return 0;
}

/* before-N.bin for each target that exists: the copies of the originals, durable before
 * the entry that points at them says "pending". */
static int save_before_copies(struct journal_entry *j, const struct journal_target *t, size_t n, struct gt_error *e)
{
	struct sbuf path;
	int ret = 0;

	sbuf_init(&path);
	for (size_t i = 0; i < n && ret == 0; i++) {
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/before-%zu.bin", j->dir, i);
		if (t[i].existed && (t[i].before_file ? save_before_file(t[i].before_file, path.buf, e)
						      : write_file_atomic(path.buf, t[i].before, t[i].before_len, 0600, e)) < 0)
			ret = -1;
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/after-%zu.bin", j->dir, i);
		if (ret == 0 && t[i].after && write_file_atomic(path.buf, t[i].after, t[i].after_len, 0600, e) < 0)
			ret = -1;
	}
	sbuf_release(&path);
	return ret;
}

/* The pending entry's document: who changes what, and each target's before and after. */
static struct json_object *pending_doc(const struct journal_entry *j, const struct journal_meta *m,
				       const struct journal_target *t, size_t n)
{
	struct json_object *doc = json_object_new_object(), *targets = json_object_new_array();
	char now[32];

	iso_time(now, sizeof(now));
	json_object_object_add(doc, "format", json_object_new_string("gpotool-journal/1"));
	json_object_object_add(doc, "id", jstr(j->id));
	json_object_object_add(doc, "status", jstr("pending"));
	json_object_object_add(doc, "started", jstr(now));
	json_object_object_add(doc, "finished", NULL);
	json_object_object_add(doc, "command", jstr(m->command_line));
	if (m->command_name)
		json_object_object_add(doc, "command_name", jstr(m->command_name));
	json_object_object_add(doc, "operator", jstr(m->operator_name));
	json_object_object_add(doc, "ticket", jstr(m->ticket));
	json_object_object_add(doc, "template", jstr(m->template_name));
	json_object_object_add(doc, "target", target_summary(m));
	if (m->rollback_of)
		json_object_object_add(doc, "rollback_of", jstr(m->rollback_of));
	for (size_t i = 0; i < n; i++) {
		char name[32];

		struct json_object *o;

		snprintf(name, sizeof(name), "before-%zu.bin", i);
		o = target_json(&t[i], t[i].existed ? name : NULL);
		if (t[i].after) {
			snprintf(name, sizeof(name), "after-%zu.bin", i);
			json_object_object_add(o, "after_copy", jstr(name));
		}
		json_object_array_add(targets, o);
	}
	json_object_object_add(doc, "targets", targets);
	return doc;
}

int journal_begin(const char *state_dir, const struct journal_meta *m, const struct journal_target *t, size_t n,
		  struct journal_entry **out, struct gt_error *e)
{
	struct journal_entry *j;

	*out = NULL;
	if (n == 0 || n > JOURNAL_MAX_TARGETS)
		return gt_fail(e, GT_FAILED, "internal error: a journal entry holds 1 to %d files, not %zu", JOURNAL_MAX_TARGETS, n);
	if (new_entry(state_dir, &j, e) < 0)
		return -1;
	if (save_before_copies(j, t, n, e) < 0)
		goto fail;
	j->doc = pending_doc(j, m, t, n);
	if (save_doc(j, e) < 0)
		goto fail;
	*out = j;
	return 0;
fail:
	discard_entry(j);
	return -1;
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

int journal_update_extra(struct journal_entry *j, struct json_object *extra, struct gt_error *e)
{
	struct json_object *target = json_object_object_get(j->doc, "target");

	if (!target)
		return gt_fail(e, GT_FAILED, "internal error: journal entry %s has no target to update", j->id);
	json_object_object_add(target, "extra", json_object_get(extra));
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
	if (j->lock_fd >= 0 && !held_fd(j->lock_fd))
		close(j->lock_fd);
	free(j->id);
	free(j->dir);
	free(j);
}

/* ---- reading entries back ---- */

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
	j->doc = jsonx_parse_exact(text, len);
	free(text);
	*strrchr(file.buf, '/') = '\0';
	j->dir = sbuf_detach(&file, NULL);
	targets = json_object_object_get(j->doc, "targets");
	if (!j->doc || !jsonx_str(j->doc, "status") || !json_object_is_type(targets, json_type_array) ||
	    json_object_array_length(targets) == 0 || json_object_array_length(targets) > JOURNAL_MAX_TARGETS) {
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

int journal_update_after(struct journal_entry *j, size_t i, const uint8_t *after, size_t len, struct json_object *extra,
			 struct gt_error *e)
{
	struct json_object *t = json_object_array_get_idx(json_object_object_get(j->doc, "targets"), i);
	char name[32], sha[SHA256_HEX_LEN + 1];
	struct sbuf path;
	int ret;

	if (!t)
		return gt_fail(e, GT_FAILED, "internal error: journal entry %s has no target %zu", j->id, i + 1);
	snprintf(name, sizeof(name), "after-%zu.bin", i);
	sbuf_init(&path);
	sbuf_addf(&path, "%s/%s", j->dir, name);
	ret = write_file_atomic(path.buf, after, len, 0600, e);
	sbuf_release(&path);
	if (ret < 0)
		return -1;
	sha256_hex(after, len, sha);
	json_object_object_add(t, "sha256_after", jstr(sha));
	json_object_object_add(t, "after_copy", jstr(name));
	if (extra && json_object_object_get(j->doc, "target"))
		json_object_object_add(json_object_object_get(j->doc, "target"), "extra", json_object_get(extra));
	return save_doc(j, e);
}

/* Copy "before" or "after" of target i, checked against the hash the entry recorded for it. */
static int read_copy(const struct journal_entry *j, size_t i, const char *which, const char *missing, uint8_t **buf,
		     size_t *len, struct gt_error *e)
{
	struct json_object *t = json_object_array_get_idx(json_object_object_get(j->doc, "targets"), i);
	char name[32], key[32], sha[SHA256_HEX_LEN + 1];
	const char *want, *copy;
	struct sbuf path;
	int ret;

	*buf = NULL;
	*len = 0;
	snprintf(name, sizeof(name), "%s-%zu.bin", which, i);
	snprintf(key, sizeof(key), "sha256_%s", which);
	want = jsonx_str(t, key);
	snprintf(key, sizeof(key), "%s_copy", which);
	copy = jsonx_str(t, key);
	if (!t || !want || !copy || strcmp(copy, name) != 0)
		return gt_fail(e, GT_REFUSED, "journal entry '%s' has no copy of %s %zu", j->id, missing, i + 1);
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

int journal_read_before(const struct journal_entry *j, size_t i, uint8_t **buf, size_t *len, struct gt_error *e)
{
	return read_copy(j, i, "before", "target", buf, len, e);
}

int journal_read_after(const struct journal_entry *j, size_t i, uint8_t **buf, size_t *len, struct gt_error *e)
{
	return read_copy(j, i, "after", "what became of target", buf, len, e);
}

/* ---- recovery ---- */

static int file_sha(const char *path, char out[SHA256_HEX_LEN + 1]);

enum journal_file_state journal_file_state(struct json_object *t, char cur[SHA256_HEX_LEN + 1])
{
	const char *path = jsonx_str(t, "path"), *after = jsonx_str(t, "sha256_after"), *before = jsonx_str(t, "sha256_before");
	int existed = json_object_get_boolean(json_object_object_get(t, "existed"));

	cur[0] = '\0';
	if (json_object_get_boolean(json_object_object_get(t, "remote")))
		return JFILE_REMOTE;
	if (!path || file_sha(path, cur) < 0)
		return JFILE_CHANGED_SINCE;
	if (after && strcmp(cur, after) == 0)
		return JFILE_AS_LEFT;
	if (before && existed ? strcmp(cur, before) == 0 : !cur[0])
		return JFILE_AS_BEFORE;
	return cur[0] ? JFILE_CHANGED_SINCE : JFILE_ABSENT;
}

const char *journal_file_state_text(enum journal_file_state s)
{
	switch (s) {
	case JFILE_AS_LEFT: return "as this change left it";
	case JFILE_AS_BEFORE: return "as it was before this change";
	case JFILE_CHANGED_SINCE: return "changed since";
	case JFILE_ABSENT: return "absent";
	case JFILE_REMOTE: return "on the DC: rollback reads it there";
	}
	return "?";
}

static const char *target_str(struct json_object *t, const char *key)
{
	return jsonx_str(t, key);
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

void journal_unmark_audited(const struct journal_entry *j);

/* Where an interrupted entry's target stands: exactly as before the entry, exactly as the
 * entry would leave it, or neither (something else wrote it since: recovery must not act). */
enum where { AT_BEFORE, AT_AFTER, AT_NEITHER };

static enum where where_is(struct json_object *t, char cur[SHA256_HEX_LEN + 1])
{
	const char *path = target_str(t, "path"), *after = target_str(t, "sha256_after"), *before = target_str(t, "sha256_before");
	int existed = json_object_get_boolean(json_object_object_get(t, "existed"));

	cur[0] = '\0';
	if (!path || !after || (existed && !before) || file_sha(path, cur) < 0)
		return AT_NEITHER;
	if (strcmp(cur, after) == 0) /* "" when the entry removes the file, and it is absent */
		return AT_AFTER;
	if (existed ? strcmp(cur, before) == 0 : cur[0] == '\0')
		return AT_BEFORE;
	return AT_NEITHER;
}

static int refuse_changed(const struct journal_entry *j, struct json_object *t, const char *cur, struct gt_error *e)
{
	const char *before = target_str(t, "sha256_before"), *after = target_str(t, "sha256_after");
	int existed = json_object_get_boolean(json_object_object_get(t, "existed"));

	return gt_fail(e, GT_REFUSED, "journal entry %s was interrupted, and '%s' has been changed since; nothing was written: "
		       "check the file, then 'gpotool journal abandon %s' leaves it as it is (SHA-256 now %s; before the entry %s; "
		       "as the entry would leave it %s)", j->id, esc(target_str(t, "path")), j->id, cur[0] ? cur : "absent",
		       existed && before ? before : "absent", after && *after ? after : "absent");
}

/* What recovery puts in place of one target: bytes to stage, or the file removed. */
struct put {
	uint8_t *bytes;
	size_t len;
	int remove;
	int from_copy;            /* the journal's before copy: checked as a file of its kind once staged */
	struct staged_file sf;
};

/* The staged content of a target the entry did not replace yet, when it is still there and
 * exactly what the entry recorded: forward is possible for this target. */
static int load_staged(struct json_object *t, struct put *p)
{
	const char *path = target_str(t, "path"), *after = target_str(t, "sha256_after"), *staged = target_str(t, "staged");
	struct gt_error ignored = { 0 };
	char sha[SHA256_HEX_LEN + 1];

	if (!*after) {
		p->remove = 1;
		return 0;
	}
	if (!staged || !staged_is_beside(path, staged) ||
	    read_whole_file(staged, SAFEFILE_MAX_BYTES, &p->bytes, &p->len, &ignored) < 0)
		return -1;
	sha256_hex(p->bytes, p->len, sha);
	if (strcmp(sha, after) != 0) {
		free(p->bytes);
		p->bytes = NULL;
		return -1;
	}
	return 0;
}

/* The before content of a target the entry replaced: its copy, with the recorded SHA-256. */
static int load_before(const struct journal_entry *j, size_t i, struct json_object *t, struct put *p, struct gt_error *e)
{
	if (!json_object_get_boolean(json_object_object_get(t, "existed"))) {
		p->remove = 1;
		return 0;
	}
	p->from_copy = 1;
	if (journal_read_before(j, i, &p->bytes, &p->len, e) < 0)
		return gt_prefix(e, "recovery refused, nothing was written: ");
	return 0;
}

/* Stages every put beside its target, checks the before copies as files of their kind, and
 * only then puts them in place: a copy that is not sound stops recovery with nothing written. */
static int apply_puts(const struct journal_entry *j, struct json_object *targets, struct put *puts, size_t n,
		      const struct journal_recovery *how, int unmark, int *wrote, struct gt_error *e)
{
	int ret = 0, writes = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);
		const char *path = target_str(t, "path");
		struct stat st;

		if (!puts[i].bytes)
			continue;
		/* the target keeps its own mode; the copy in the journal is 0600 */
		ret = staged_write(path, puts[i].bytes, puts[i].len, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644, &puts[i].sf, e);
		if (ret == 0 && puts[i].from_copy && how && how->check_copy &&
		    how->check_copy(target_str(t, "kind") ? target_str(t, "kind") : "", puts[i].bytes, puts[i].len, puts[i].sf.fd, puts[i].sf.tmp,
				    e) < 0)
			ret = gt_prefix(e, "journal entry %s: the saved copy of '%s' is not a sound file; recovery refused, nothing "
					"was written: ", j->id, esc(path));
	}
	for (size_t i = 0; i < n; i++)
		writes |= puts[i].bytes || (puts[i].remove && access(target_str(json_object_array_get_idx(targets, i), "path"), F_OK) == 0);
	/* a record already in the trail says the change landed: gone before the undo starts, so a
	 * kill in the middle cannot leave the entry marked as told */
	if (ret == 0 && unmark && writes)
		journal_unmark_audited(j);
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);

		if (puts[i].bytes) {
			ret = staged_commit(&puts[i].sf, e);
			*wrote = 1;
		} else if (puts[i].remove && access(target_str(t, "path"), F_OK) == 0) {
			ret = safefile_unlink(target_str(t, "path"), e);
			*wrote = 1;
		}
	}
	return ret;
}

/* The entry's own staged files, once it is ended one way or the other. */
static void remove_staged(struct json_object *targets)
{
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);
		const char *path = target_str(t, "path"), *staged = target_str(t, "staged");
		struct gt_error ignored = { 0 };

		if (path && staged && staged_is_beside(path, staged))
			safefile_remove_temp(staged, &ignored);
	}
}

static void mark_recovered(struct journal_entry *j, const char *status, const char *what, const struct journal_recovery *how)
{
	struct json_object *by = json_object_new_object();
	char now[32];

	iso_time(now, sizeof(now));
	set_finished(j, status);
	json_object_object_add(j->doc, "recovered", jstr(what));
	json_object_object_add(by, "command", jstr(how && how->command_line ? how->command_line : NULL));
	json_object_object_add(by, "operator", jstr(how && how->operator_name ? how->operator_name : NULL));
	json_object_object_add(by, "time", jstr(now));
	json_object_object_add(j->doc, "recovered_by", by);
}

/* A file the entry keeps as it was (a dirty hive's transaction log): as before is as after. */
static int kept_as_is(struct json_object *t)
{
	const char *before = target_str(t, "sha256_before"), *after = target_str(t, "sha256_after");

	return json_object_get_boolean(json_object_object_get(t, "existed")) && before && after && strcmp(before, after) == 0;
}

/* Ends one interrupted entry, only when each target is exactly as before it or exactly as it
 * would leave it: finished when some target already holds its new content and the others'
 * staged content is there, else put back from the before copies; the entry then says which,
 * and by which command. Anything else is refused with nothing written. */
static int recover_entry(struct journal_entry *j, const struct journal_recovery *how, struct sbuf *report, struct gt_error *e)
{
	struct json_object *targets = json_object_object_get(j->doc, "targets");
	size_t n = json_object_array_length(targets);
	struct put puts[JOURNAL_MAX_TARGETS];
	enum where w[JOURNAL_MAX_TARGETS];
	int any_after = 0, forward = 1, wrote = 0, ret = 0;

	memset(puts, 0, sizeof(puts));
	for (size_t i = 0; i < n; i++) {
		char cur[SHA256_HEX_LEN + 1];

		w[i] = where_is(json_object_array_get_idx(targets, i), cur);
		if (w[i] == AT_NEITHER)
			return refuse_changed(j, json_object_array_get_idx(targets, i), cur, e);
		/* a file kept as it was is as before too: it says nothing about how far the entry got */
		any_after |= w[i] == AT_AFTER && !kept_as_is(json_object_array_get_idx(targets, i));
	}
	for (size_t i = 0; i < n && any_after && forward; i++)
		if (w[i] != AT_AFTER && load_staged(json_object_array_get_idx(targets, i), &puts[i]) < 0)
			forward = 0;
	if (!any_after || !forward) {
		forward = 0;
		for (size_t i = 0; i < n; i++) {
			free(puts[i].bytes);
			memset(&puts[i], 0, sizeof(puts[i]));
			if (w[i] == AT_AFTER && ret == 0 && !kept_as_is(json_object_array_get_idx(targets, i)))
				ret = load_before(j, i, json_object_array_get_idx(targets, i), &puts[i], e);
		}
	}
	if (ret == 0)
		ret = apply_puts(j, targets, puts, n, how, !forward, &wrote, e);
	for (size_t i = 0; i < n; i++) {
		staged_discard(&puts[i].sf);
		free(puts[i].bytes);
	}
	if (ret < 0)
		return -1;
	fault_point(FAULT_RECOVER_AFTER_WRITE);
	remove_staged(targets);
	if (forward) {
		make_copies_private(j);
		mark_recovered(j, "complete", "finished by a later gpotool run from its staged files", how);
		sbuf_addf(report, "journal entry %s was interrupted; its staged files were all there and are now in place\n", j->id);
	} else {
		mark_recovered(j, "rolled-back", "rolled back by a later gpotool run from its before copies", how);
		sbuf_addf(report, "journal entry %s was interrupted; its targets were put back as they were before it\n", j->id);
	}
	/* a record written for the entry before (its complete mark failed) does not tell what
	 * recovery did to the files: it gets one that does */
	if (wrote)
		journal_unmark_audited(j);
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
			if (remove_entry_dir(dir.buf, fd) == 0)
				sbuf_addf(report, "removed journal directory %s: a gpotool was killed before its entry was written, "
					  "so nothing was changed\n", ids[i]);
			close(fd);
		}
		sbuf_release(&dir);
		free(ids[i]);
	}
	free(ids);
}

/* ---- writers' intents: which temp files beside a target are this state directory's ---- */

/* A writer says, before it makes any temp file, which targets it is about to write beside:
 * STATE/writers/W-XXXXXX lists their absolute paths (NUL-terminated) and is locked for the
 * writer's life. A temp file that no entry names is then known to be litter of this state
 * directory only when a writer that is gone (its intent unlocked) named that target. */
static struct intent {
	char *path;
	int fd;
} *intents;
static size_t nintents;

/* path as the journal will name it once its folder exists (a new Registry.xml's folders are
 * made later): the nearest folder that exists, resolved, and the rest as given. Caller frees. */
static char *intent_path(const char *path)
{
	char *abs = absolute_path(path), *dup, *cut;
	struct sbuf sb;

	if (abs[0] == '/')
		return abs;
	dup = xstrdup(abs);
	free(abs);
	for (cut = strrchr(dup, '/'); cut; cut = strrchr(dup, '/')) {
		char real[PATH_MAX];

		*cut = '\0';
		if (realpath(*dup ? dup : ".", real)) {
			sbuf_init(&sb);
			sbuf_addf(&sb, "%s/%s", real, path + (size_t)(cut - dup) + 1);
			free(dup);
			return sbuf_detach(&sb, NULL);
		}
	}
	free(dup);
	return absolute_path(path);
}

/* Each temp file this writer makes is added to its intent as "T:" and its absolute path, so a
 * later run sweeps exactly the temp files a dead writer of this state directory made: never one
 * that another state directory's pending entry has staged beside the same target. A kill
 * between the create and this write leaves one unlisted temp file, reported and left; a write
 * that fails here fails the command before anything is replaced. */
/* Is abs inside the state directory of this writer's intent (STATE/writers/W-XXXXXX)? */
static int in_state_dir(const char *abs)
{
	char *intent = absolute_path(intents[nintents - 1].path), *cut = strrchr(intent, '/');
	int inside = 0;

	if (cut) {
		*cut = '\0'; /* STATE/writers */
		cut = strrchr(intent, '/');
	}
	if (cut) {
		*cut = '\0'; /* STATE */
		inside = strncmp(abs, intent, strlen(intent)) == 0 && abs[strlen(intent)] == '/';
	}
	free(intent);
	return inside;
}

static int note_temp_made(const char *tmp_path)
{
	char *abs;
	struct sbuf line;
	int ret = 0;

	if (nintents == 0)
		return 0;
	abs = absolute_path(tmp_path);
	if (in_state_dir(abs)) { /* the journal's own files: never swept as a target's temps */
		free(abs);
		return 0;
	}
	sbuf_init(&line);
	sbuf_addf(&line, "T:%s", abs);
	errno = ENOSPC; /* what a write that stops short means */
	if (write(intents[nintents - 1].fd, line.buf, line.len + 1) != (ssize_t)(line.len + 1))
		ret = -1;
	sbuf_release(&line);
	free(abs);
	return ret;
}

static int write_intent(const char *state_dir, const char *const *paths, size_t npaths, struct gt_error *e)
{
	struct sbuf dir, text;
	int fd, ret = 0;
	char *name;

	sbuf_init(&dir);
	sbuf_addf(&dir, "%s/writers", state_dir);
	if (statedir_prepare(state_dir, e) < 0 || statedir_mkdir_private(dir.buf, e) < 0) {
		sbuf_release(&dir);
		return -1;
	}
	sbuf_addstr(&dir, "/W-XXXXXX");
	name = sbuf_detach(&dir, NULL);
	fd = mkstemp(name);
	if (fd < 0) {
		ret = gt_fail(e, GT_FAILED, "unable to create '%s': %s", name, strerror(errno));
		free(name);
		return ret;
	}
	sbuf_init(&text);
	for (size_t i = 0; i < npaths; i++) {
		char *abs = intent_path(paths[i]);

		sbuf_add(&text, abs, strlen(abs) + 1);
		free(abs);
	}
	errno = ENOSPC; /* what a write that stops short means */
	if (flock(fd, LOCK_EX) < 0 || write(fd, text.buf, text.len) != (ssize_t)text.len) {
		ret = gt_fail(e, GT_FAILED, "unable to write '%s': %s", name, strerror(errno));
		unlink(name);
		close(fd);
		free(name);
	} else {
		intents = xrealloc(intents, (nintents + 1) * sizeof(*intents));
		intents[nintents++] = (struct intent){ name, fd };
		safefile_on_temp_made(note_temp_made);
	}
	sbuf_release(&text);
	return ret;
}

void journal_writer_done(void)
{
	for (size_t i = 0; i < nintents; i++) {
		unlink(intents[i].path);
		close(intents[i].fd);
		free(intents[i].path);
	}
	free(intents);
	intents = NULL;
	nintents = 0;
}

/* A dead writer's intent: its paths and its file, locked by us now. */
struct dead_intent {
	char *file;
	int fd;
	struct sbuf paths; /* NUL-separated */
};

static int names_path(const struct sbuf *paths, const char *abs)
{
	for (size_t at = 0; at < paths->len; at += strlen(paths->buf + at) + 1)
		if (strcmp(paths->buf + at, abs) == 0)
			return 1;
	return 0;
}

static void dead_intents(const char *state_dir, struct dead_intent **out, size_t *n)
{
	struct sbuf dir;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	sbuf_init(&dir);
	sbuf_addf(&dir, "%s/writers", state_dir);
	d = opendir(dir.buf);
	while (d && (de = readdir(d))) {
		struct dead_intent di = { 0 };
		struct sbuf file;
		struct stat st;
		uint8_t *buf;
		size_t len;
		int fd;

		if (strncmp(de->d_name, "W-", 2) != 0 || strlen(de->d_name) != 8)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || flock(fd, LOCK_EX | LOCK_NB) < 0 ||
		    (size_t)st.st_size > 64 * 1024) {
			close(fd); /* a live writer's, or not ours to read */
			continue;
		}
		sbuf_init(&di.paths);
		sbuf_init(&file);
		sbuf_addf(&file, "%s/writers/%s", state_dir, de->d_name);
		di.file = sbuf_detach(&file, NULL);
		di.fd = fd;
		buf = xmalloc((size_t)st.st_size + 1);
		len = (size_t)pread(fd, buf, (size_t)st.st_size, 0) == (size_t)st.st_size ? (size_t)st.st_size : 0;
		sbuf_add(&di.paths, buf, len);
		if (len && di.paths.buf[len - 1] != '\0')
			sbuf_addch(&di.paths, '\0');
		free(buf);
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = di;
	}
	if (d)
		closedir(d);
	sbuf_release(&dir);
}

/* Temp files beside each of paths: those this journal accounts for are removed (an entry that
 * is over names it, or a writer of this state directory that is gone was writing beside it);
 * any other may be the staged file of a write journaled in another state directory, and is
 * left alone and reported. */
/* Did a dead writer of this state directory make this temp file (its intent lists "T:" tmp)? */
static int dead_writer_made(const struct dead_intent *dead, size_t ndead, const char *tmp)
{
	struct sbuf want;
	int found = 0;

	sbuf_init(&want);
	sbuf_addf(&want, "T:%s", tmp);
	for (size_t i = 0; i < ndead && !found; i++)
		found = names_path(&dead[i].paths, want.buf);
	sbuf_release(&want);
	return found;
}

static void sweep_temps(const char *state_dir, const char *const *paths, size_t npaths, const struct sbuf *ended,
			const struct sbuf *open_staged, struct sbuf *report)
{
	struct dead_intent *dead;
	size_t ndead;

	dead_intents(state_dir, &dead, &ndead);
	for (size_t k = 0; k < npaths; k++) {
		char *abs = absolute_path(paths[k]);
		char **tmps;
		size_t ntmp;

		safefile_list_temps(abs, &tmps, &ntmp);
		for (size_t i = 0; i < ntmp; i++) {
			struct gt_error ignored = { 0 };
			int writer_gone = dead_writer_made(dead, ndead, tmps[i]);

			if (names_path(open_staged, tmps[i]))
				; /* a pending entry of this journal still needs it */
			else if (names_path(ended, tmps[i]) && safefile_remove_temp(tmps[i], &ignored) == 0)
				sbuf_addf(report, "removed '%s': the staged file of a journal entry in '%s' that is over\n", esc(tmps[i]),
					  esc(state_dir));
			else if (writer_gone && safefile_remove_temp(tmps[i], &ignored) == 0)
				sbuf_addf(report, "removed '%s', left by a gpotool killed before it journaled its write\n", esc(tmps[i]));
			else if (!names_path(ended, tmps[i]) && !writer_gone)
				sbuf_addf(report, "'%s' not removed: no journal entry or interrupted writer in '%s' accounts for it; it is left "
					  "by a gpotool that used another state directory (perhaps staged by a write journaled there) or by "
					  "an older gpotool: remove it once no gpotool has a pending entry for '%s'\n", esc(tmps[i]),
					  esc(state_dir), esc(abs));
			free(tmps[i]);
		}
		free(tmps);
		safefile_sweep_private_dirs(abs, report);
		free(abs);
	}
	/* an intent is done with once every file it named has been swept here */
	for (size_t i = 0; i < ndead; i++) {
		int all = 1;

		for (size_t at = 0; at < dead[i].paths.len && all; at += strlen(dead[i].paths.buf + at) + 1) {
			int found = strncmp(dead[i].paths.buf + at, "T:", 2) == 0; /* a temp file, not a target */

			for (size_t k = 0; k < npaths && !found; k++) {
				char *abs = absolute_path(paths[k]);

				found = strcmp(abs, dead[i].paths.buf + at) == 0;
				free(abs);
			}
			all = found;
		}
		if (all)
			unlink(dead[i].file);
		close(dead[i].fd);
		free(dead[i].file);
		sbuf_release(&dead[i].paths);
	}
	free(dead);
}

/* Adds the staged paths of an entry's targets that lie beside one of paths to ended (the
 * entry is over) or to open_staged (it is still pending), NUL-separated. */
static void collect_staged(struct json_object *doc, struct sbuf *ended, struct sbuf *open_staged)
{
	struct json_object *targets = json_object_object_get(doc, "targets");
	const char *status = jsonx_str(doc, "status");

	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		const char *staged = target_str(json_object_array_get_idx(targets, i), "staged");

		if (staged)
			sbuf_add(status && strcmp(status, "pending") == 0 ? open_staged : ended, staged, strlen(staged) + 1);
	}
}

int journal_recover(const char *state_dir, const char *const *paths, size_t npaths, const struct journal_recovery *how,
		    struct sbuf *report, struct gt_error *e)
{
	struct sbuf ended, open_staged;
	char **ids;
	size_t n;
	int ret;

	/* said before any temp file of ours exists, so a kill from here on leaves nothing unaccounted */
	if (write_intent(state_dir, paths, npaths, e) < 0)
		return -1;
	ret = journal_list_ids(state_dir, &ids, &n, e);
	sbuf_init(&ended);
	sbuf_init(&open_staged);
	for (size_t i = 0; i < n; i++) {
		struct gt_error ignored = { 0 };
		struct journal_entry *j;

		/* an entry that does not load (damaged, edited) is not acted on: journal show reports it;
		 * one whose directory is locked belongs to a writer still running */
		if (ret == 0 && journal_load(state_dir, ids[i], &j, &ignored) == 0) {
			if (names_one_of(json_object_object_get(j->doc, "targets"), paths, npaths)) {
				if (strcmp(jsonx_str(j->doc, "status"), "pending") == 0 && !held_find(j->id) &&
				    (j->lock_fd = lock_entry_dir(j->dir, 0)) >= 0) {
					ret = recover_entry(j, how, report, e);
					if (ret == 0) {
						/* held until its audit record is appended (journal_unaudited) */
						hold_lock(j->id, j->lock_fd, HELD_RECOVERED);
						fault_point(FAULT_RECOVER_AFTER_MARK);
					}
				}
				collect_staged(j->doc, &ended, &open_staged);
			}
			journal_free(j);
		}
		free(ids[i]);
	}
	free(ids);
	if (ret == 0) {
		sweep_orphans(state_dir, report);
		sweep_temps(state_dir, paths, npaths, &ended, &open_staged, report);
	}
	sbuf_release(&ended);
	sbuf_release(&open_staged);
	return ret;
}

/* ---- which finished entries have their audit record ---- */

/* STATE/journal/ID/audited: the entry's audit record is in the trail. Without it, a finished
 * entry's record is owed (its writer, or the run that recovered it, was killed first). */
static int marker_path(const char *state_dir, const char *id, struct sbuf *p)
{
	sbuf_init(p);
	sbuf_addf(p, "%s/journal/%s/audited", state_dir, id);
	return 0;
}

int journal_is_audited(const char *state_dir, const char *id)
{
	struct sbuf p;
	int yes;

	marker_path(state_dir, id, &p);
	yes = faccessat(AT_FDCWD, p.buf, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	sbuf_release(&p);
	return yes;
}

int journal_mark_audited(const char *state_dir, const char *id, struct gt_error *e)
{
	struct sbuf p;
	int fd;

	if (!journal_id_valid(id))
		return gt_fail(e, GT_USAGE, "'%s' is not a journal entry ID", id);
	marker_path(state_dir, id, &p);
	/* no fsync: a mark lost to a power cut only makes the next run look the record up again */
	fd = open(p.buf, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		gt_fail(e, GT_FAILED, "unable to create '%s': %s", p.buf, strerror(errno));
		sbuf_release(&p);
		return -1;
	}
	close(fd);
	sbuf_release(&p);
	return 0;
}

void journal_unmark_audited(const struct journal_entry *j)
{
	struct sbuf p;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/audited", j->dir);
	unlink(p.buf);
	sbuf_release(&p);
}

/* Ended by recovery or finished normally: these owe a record that names them. */
static int owes_record(const char *status)
{
	return strcmp(status, "complete") == 0 || strcmp(status, "rolled-back") == 0;
}

/* The entry's status, read without its lock ("" when it does not load). */
static char *status_of(const char *state_dir, const char *id)
{
	struct gt_error ignored = { 0 };
	struct journal_entry *j;
	char *status;

	if (journal_load(state_dir, id, &j, &ignored) < 0)
		return xstrdup("");
	status = xstrdup(jsonx_str(j->doc, "status"));
	journal_free(j);
	return status;
}

/* Takes entry id's lock when its writer is gone, and it is still as status says (a writer may
 * have ended it between the read and the lock). A pending entry is never locked here: a
 * recovering writer that found it locked would take it for a live writer's. -1 when busy. */
static int lock_if_still(const char *state_dir, const char *id, const char *status)
{
	struct sbuf dir;
	char *now;
	int fd;

	sbuf_init(&dir);
	sbuf_addf(&dir, "%s/journal/%s", state_dir, id);
	fd = lock_entry_dir(dir.buf, 0);
	sbuf_release(&dir);
	if (fd < 0)
		return -1;
	now = status_of(state_dir, id);
	if (strcmp(now, status) != 0 || journal_is_audited(state_dir, id)) {
		close(fd);
		fd = -1;
	}
	free(now);
	return fd;
}

int journal_unaudited(const char *state_dir, char ***out, size_t *nout, struct gt_error *e)
{
	char **ids;
	size_t n, cap = 0;

	*out = NULL;
	*nout = 0;
	if (journal_list_ids(state_dir, &ids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct held_lock *h = held_find(ids[i]);
		struct gt_error ignored = { 0 };
		char *status = NULL;
		int fd = -1;

		if (journal_is_audited(state_dir, ids[i]) || (h && h->kind == HELD_WRITTEN))
			goto next; /* recorded, or this run's own write: the command's record names it */
		status = status_of(state_dir, ids[i]);
		if (strcmp(status, "pending") == 0 || !*status)
			goto next; /* for recovery to end first, or damaged (journal show says so) */
		if (!h && (fd = lock_if_still(state_dir, ids[i], status)) < 0)
			goto next; /* its writer is still running */
		if (!owes_record(status)) {
			/* failed and abandoned entries changed nothing of theirs: their command's record is
			 * all there is to say */
			journal_mark_audited(state_dir, ids[i], &ignored);
			if (fd >= 0)
				close(fd);
			goto next;
		}
		if (fd >= 0)
			hold_lock(ids[i], fd, HELD_CAUGHT_UP);
		if (*nout == cap) {
			cap = cap ? 2 * cap : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*nout)++] = ids[i];
		ids[i] = NULL;
next:
		free(status);
		free(ids[i]);
	}
	free(ids);
	return 0;
}

/* ---- journal abandon ---- */

/* *j, locked, read again: refused unless it is still pending. The lock moves to the new copy. */
static int reload_locked(const char *state_dir, struct journal_entry **j, struct gt_error *e)
{
	struct journal_entry *now;
	const char *id = (*j)->id;

	if (journal_load(state_dir, id, &now, e) < 0) {
		journal_free(*j);
		return -1;
	}
	now->lock_fd = (*j)->lock_fd;
	(*j)->lock_fd = -1;
	journal_free(*j);
	*j = now;
	if (strcmp(jsonx_str(now->doc, "status"), "pending") != 0) {
		gt_fail(e, GT_REFUSED, "journal entry %s is no longer pending: another gpotool ended it ('%s') while this one "
			"waited; nothing was changed", now->id, esc(jsonx_str(now->doc, "status")));
		journal_free(now);
		return -1;
	}
	return 0;
}

int journal_abandon_pending(const char *state_dir, const char *id, const struct journal_recovery *by, struct sbuf *report,
			    struct gt_error *e)
{
	struct journal_entry *j;
	struct json_object *who, *targets;
	const char *status;
	char now[32];
	int ret;

	if (journal_load(state_dir, id, &j, e) < 0)
		return -1;
	status = jsonx_str(j->doc, "status");
	if (strcmp(status, "pending") != 0) {
		gt_fail(e, GT_REFUSED, "journal entry %s is '%s', not pending: there is nothing to abandon", id, esc(status));
		journal_free(j);
		return -1;
	}
	fault_point(FAULT_ABANDON_AFTER_LOAD);
	if (held_find(id) || (j->lock_fd = lock_entry_dir(j->dir, 0)) < 0) {
		journal_free(j);
		return gt_fail(e, GT_REFUSED, "journal entry %s is locked: a gpotool is still writing it; nothing was changed", id);
	}
	/* another run may have recovered it between the load and the lock: read it again under the lock */
	if (reload_locked(state_dir, &j, e) < 0)
		return -1;
	targets = json_object_object_get(j->doc, "targets");
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);
		char cur[SHA256_HEX_LEN + 1];
		enum journal_file_state st = journal_file_state(t, cur);

		sbuf_addf(report, "'%s' is left as it is: %s (SHA-256 %s)\n", esc(target_str(t, "path")), journal_file_state_text(st),
			  cur[0] ? cur : "absent");
	}
	iso_time(now, sizeof(now));
	set_finished(j, "abandoned");
	who = json_object_new_object();
	json_object_object_add(who, "command", jstr(by ? by->command_line : NULL));
	json_object_object_add(who, "operator", jstr(by ? by->operator_name : NULL));
	json_object_object_add(who, "ticket", jstr(by ? by->ticket : NULL));
	json_object_object_add(who, "time", jstr(now));
	json_object_object_add(j->doc, "abandoned_by", who);
	json_object_object_add(j->doc, "reason", jstr("abandoned: its files are left as they are; recovery will not act on it"));
	ret = save_doc(j, e);
	if (ret == 0)
		remove_staged(targets); /* its staged files are this journal's, and nothing will use them now */
	journal_free(j);
	return ret;
}

int journal_claim_pending(const char *state_dir, const char *id, struct journal_entry **out, struct gt_error *e)
{
	struct journal_entry *j;

	*out = NULL;
	if (journal_load(state_dir, id, &j, e) < 0)
		return -1;
	if (strcmp(jsonx_str(j->doc, "status"), "pending") != 0 || held_find(id)) {
		journal_free(j);
		return 0;
	}
	if ((j->lock_fd = lock_entry_dir(j->dir, 0)) < 0) {
		journal_free(j);
		return 0; /* a live writer holds it */
	}
	if (reload_locked(state_dir, &j, e) < 0) {
		gt_error_clear(e);
		return 0;
	}
	hold_lock(j->id, j->lock_fd, HELD_RECOVERED);
	*out = j;
	return 1;
}

int journal_finish_recovered(struct journal_entry *j, const char *status, const char *what, const struct journal_recovery *how,
			     struct gt_error *e)
{
	mark_recovered(j, status, what, how);
	return save_doc(j, e);
}
