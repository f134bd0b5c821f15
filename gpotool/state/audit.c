/* The hash-chained audit log; see audit.h. */
#include "state/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fault.h"
#include "state/journal.h"
#include "core/safefile.h"
#include "core/textesc.h"

#define HASH_SUFFIX_LEN (sizeof(",\"hash\":\"\"}") - 1 + SHA256_HEX_LEN)

int audit_open(const char *path, struct audit_log *log, struct gt_error *e)
{
	struct stat st;

	log->path = NULL;
	log->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (log->fd < 0) {
		if (errno == ELOOP)
			return gt_fail(e, GT_REFUSED, "audit log '%s' is a symbolic link", path);
		return gt_fail(e, GT_FAILED, "unable to open the audit log '%s': %s", path, strerror(errno));
	}
	if (fstat(log->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(log->fd);
		log->fd = -1;
		return gt_fail(e, GT_REFUSED, "audit log '%s' is not a regular file", path);
	}
	/* a trail someone else can edit or cut proves nothing (say, a /tmp/x.log made in advance) */
	if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(log->fd);
		log->fd = -1;
		return gt_fail(e, GT_REFUSED, "audit log '%s' (owner %u, mode %04o) can be written by users other than root "
			       "and this one; give a file only they can write", path, (unsigned)st.st_uid,
			       (unsigned)(st.st_mode & 07777));
	}
	fcntl(log->fd, F_SETFL, fcntl(log->fd, F_GETFL) & ~O_NONBLOCK);
	log->path = xstrdup(path);
	return 0;
}

void audit_close(struct audit_log *log)
{
	if (log->fd >= 0)
		close(log->fd);
	free(log->path);
	log->path = NULL;
	log->fd = -1;
}

int audit_line_split(const char *line, size_t len, struct sbuf *covered, char hash[SHA256_HEX_LEN + 1])
{
	const char *tail;

	if (len < HASH_SUFFIX_LEN + 1)
		return -1;
	tail = line + len - HASH_SUFFIX_LEN;
	/* only the len bytes given are read: the line need not end in a NUL */
	if (memcmp(tail, ",\"hash\":\"", 9) != 0 || memcmp(tail + 9 + SHA256_HEX_LEN, "\"}", 2) != 0)
		return -1;
	for (size_t i = 0; i < SHA256_HEX_LEN; i++)
		if (!((tail[9 + i] >= '0' && tail[9 + i] <= '9') || (tail[9 + i] >= 'a' && tail[9 + i] <= 'f')))
			return -1;
	memcpy(hash, tail + 9, SHA256_HEX_LEN);
	hash[SHA256_HEX_LEN] = '\0';
	sbuf_add(covered, line, (size_t)(tail - line));
	sbuf_addch(covered, '}');
	return 0;
}

/* The last line of the log (without its newline), read backwards in growing chunks so an
 * append costs the same on a log of ten records or a million. *ends_nl: the file ends in a
 * newline (else a torn last write: the next record must start on a line of its own). */
static int last_line(int fd, struct sbuf *out, int *ends_nl, struct gt_error *e)
{
	struct stat st;
	off_t size, want = 64 * 1024;

	*ends_nl = 1;
	if (fstat(fd, &st) < 0)
		return gt_fail(e, GT_FAILED, "unable to stat the audit log: %s", strerror(errno));
	size = st.st_size;
	while (size > 0) {
		off_t from = size > want ? size - want : 0;
		size_t n = (size_t)(size - from), start;
		char *buf = xmalloc(n);
		ssize_t got = pread(fd, buf, n, from);

		if (got != (ssize_t)n) {
			int err = got < 0 ? errno : EIO; /* a short read sets no errno */

			free(buf);
			return gt_fail(e, GT_FAILED, "unable to read the audit log: %s", strerror(err));
		}
		*ends_nl = buf[n - 1] == '\n';
		start = n - (*ends_nl ? 1 : 0);
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (start > 0 || from == 0) {
			sbuf_add(out, buf + start, n - start - (*ends_nl ? 1 : 0));
			free(buf);
			return 0;
		}
		free(buf);
		if (want >= (off_t)AUDIT_MAX_LINE * 2)
			return gt_fail(e, GT_REFUSED, "the audit log's last line is longer than %u bytes", AUDIT_MAX_LINE);
		want *= 2;
	}
	return 0;
}

/* The seq and hash the next record follows: the genesis for an empty log. A last line that
 * is not a record (edited; a torn one is cut off first) is chained to by the hash of its bytes;
 * verify names it. */
static void chain_head(const struct sbuf *last, unsigned long long *seq, char prev[SHA256_HEX_LEN + 1])
{
	struct sbuf covered;
	struct json_object *o;

	*seq = 0;
	strcpy(prev, AUDIT_GENESIS);
	if (last->len == 0)
		return;
	sbuf_init(&covered);
	if (audit_line_split(last->buf, last->len, &covered, prev) < 0)
		sha256_hex(last->buf, last->len, prev);
	o = jsonx_parse_exact((const uint8_t *)last->buf, last->len);
	*seq = (unsigned long long)json_object_get_int64(json_object_object_get(o, "seq"));
	json_object_put(o);
	sbuf_release(&covered);
}

/* A whole record: a JSON object ending in its own hash. */
static int is_record_line(const char *line, size_t len)
{
	struct json_object *o = jsonx_parse_exact((const uint8_t *)line, len);
	char hash[SHA256_HEX_LEN + 1];
	struct sbuf covered;
	int ok;

	sbuf_init(&covered);
	ok = json_object_is_type(o, json_type_object) && audit_line_split(line, len, &covered, hash) == 0;
	sbuf_release(&covered);
	json_object_put(o);
	return ok;
}

/* A last line without its newline that is not a record is what a power cut or a short write
 * leaves (an edit keeps its newline, or yields a record): it is cut off, under the log's lock,
 * before the next record is chained, and *torn (bytes, sha256) goes into that record so the
 * removal is itself on the chain. *last and *ends_nl are then read again. */
static int cut_torn_tail(struct audit_log *log, struct sbuf *last, int *ends_nl, struct json_object **torn, struct gt_error *e)
{
	char sha[SHA256_HEX_LEN + 1];
	struct stat st;

	*torn = NULL;
	if (*ends_nl || is_record_line(last->buf, last->len))
		return 0;
	if (fstat(log->fd, &st) < 0 || ftruncate(log->fd, st.st_size - (off_t)last->len) < 0)
		return gt_fail(e, GT_FAILED, "unable to cut the torn last line off the audit log '%s': %s", log->path, strerror(errno));
	sha256_hex(last->buf, last->len, sha);
	*torn = json_object_new_object();
	json_object_object_add(*torn, "bytes", json_object_new_int64((int64_t)last->len));
	json_object_object_add(*torn, "sha256", json_object_new_string(sha));
	sbuf_release(last);
	sbuf_init(last);
	return last_line(log->fd, last, ends_nl, e);
}

static int write_locked(struct audit_log *log, const char *text, size_t len, int separate, struct gt_error *e)
{
	struct sbuf buf;
	ssize_t w;

	sbuf_init(&buf);
	if (separate)
		sbuf_addch(&buf, '\n');
	sbuf_add(&buf, text, len);
	sbuf_addch(&buf, '\n');
	/* one write on an O_APPEND descriptor: the record lands whole and after every other */
	w = write(log->fd, buf.buf, buf.len);
	if (w != (ssize_t)buf.len) {
		int err = w < 0 ? errno : ENOSPC;

		/* a short write leaves a torn line; cut it off so the log stays a chain */
		if (w > 0) {
			struct stat st;

			if (fstat(log->fd, &st) == 0 && ftruncate(log->fd, st.st_size - w) < 0)
				err = errno;
		}
		sbuf_release(&buf);
		return gt_fail(e, GT_FAILED, "unable to write to the audit log '%s': %s", log->path, strerror(err));
	}
	sbuf_release(&buf);
	if (fsync(log->fd) < 0)
		return gt_fail(e, GT_FAILED, "unable to fsync the audit log '%s': %s", log->path, strerror(errno));
	return 0;
}

static int lock_log(struct audit_log *log, struct gt_error *e)
{
	/* appends are short: waiting for another gpotool's append is right, never failing */
	while (flock(log->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return gt_fail(e, GT_FAILED, "unable to lock the audit log '%s': %s", log->path, strerror(errno));
	return 0;
}

static int append_copy(struct audit_log *log, const char *line, struct gt_error *e)
{
	struct sbuf last;
	int ends_nl, ret;

	if (lock_log(log, e) < 0)
		return -1;
	sbuf_init(&last);
	ret = last_line(log->fd, &last, &ends_nl, e);
	if (ret == 0)
		ret = write_locked(log, line, strlen(line), !ends_nl, e);
	flock(log->fd, LOCK_UN);
	sbuf_release(&last);
	return ret;
}

/* STATE/audit.log.head: the seq and hash of the last record, replaced atomically after each
 * append under the log's lock. A trail whose end was cut no longer reaches it. */
static char *head_path(const char *log_path)
{
	struct sbuf p;

	sbuf_init(&p);
	sbuf_addf(&p, "%s.head", log_path);
	return sbuf_detach(&p, NULL);
}

static int write_head(const struct audit_log *log, unsigned long long seq, const char *hash, struct gt_error *e)
{
	char *path = head_path(log->path);
	struct sbuf text;
	int ret;

	sbuf_init(&text);
	sbuf_addf(&text, "{\"seq\":%llu,\"hash\":\"%s\"}\n", seq, hash);
	ret = write_file_atomic(path, text.buf, text.len, 0600, e);
	sbuf_release(&text);
	free(path);
	return ret;
}

int audit_head_read(const char *log_path, unsigned long long *seq, char hash[SHA256_HEX_LEN + 1], struct gt_error *e)
{
	char *path = head_path(log_path);
	struct json_object *o, *s;
	const char *h;
	uint8_t *buf;
	size_t len;
	int ret;

	if (access(path, F_OK) != 0 && errno == ENOENT) {
		free(path);
		return 0;
	}
	ret = read_whole_file(path, 4096, &buf, &len, e);
	if (ret < 0) {
		free(path);
		return -1;
	}
	o = jsonx_parse_exact(buf, len);
	free(buf);
	s = json_object_object_get(o, "seq");
	h = jsonx_str(o, "hash");
	if (!json_object_is_type(s, json_type_int) || json_object_get_int64(s) < 1 || !h || strlen(h) != SHA256_HEX_LEN ||
	    strspn(h, "0123456789abcdef") != SHA256_HEX_LEN)
		ret = gt_fail(e, GT_MISMATCH, "the head file '%s' is not a head record (edited or damaged)", path);
	else {
		*seq = (unsigned long long)json_object_get_int64(s);
		strcpy(hash, h);
		ret = 1;
	}
	json_object_put(o);
	free(path);
	return ret;
}

int audit_append(struct audit_log *log, struct audit_log *copy, struct json_object *record, char **line,
		 struct audit_outcome *out)
{
	struct gt_error *e = &out->log;
	struct json_object *o = json_object_new_object();
	char prev[SHA256_HEX_LEN + 1], hash[SHA256_HEX_LEN + 1];
	unsigned long long seq;
	struct sbuf last, text;
	struct json_object *torn = NULL;
	const char *covered;
	int ends_nl, ret;

	if (lock_log(log, e) < 0) {
		json_object_put(o);
		return -1;
	}
	json_utf8_repair(record); /* the trail is JSON: valid UTF-8, whatever bytes argv held */
	sbuf_init(&last);
	sbuf_init(&text);
	ret = last_line(log->fd, &last, &ends_nl, e);
	if (ret == 0)
		ret = cut_torn_tail(log, &last, &ends_nl, &torn, e);
	if (ret == 0) {
		chain_head(&last, &seq, prev);
		/* seq and prev first, so a reader sees the chain before the content */
		json_object_object_add(o, "seq", json_object_new_int64((int64_t)seq + 1));
		json_object_object_add(o, "prev", json_object_new_string(prev));
		json_object_object_foreach(record, k, v)
			json_object_object_add(o, k, json_object_get(v));
		if (torn)
			json_object_object_add(o, "torn_tail_removed", json_object_get(torn));
		covered = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		sha256_hex(covered, strlen(covered), hash);
		sbuf_add(&text, covered, strlen(covered) - 1);
		sbuf_addf(&text, ",\"hash\":\"%s\"}", hash);
		if (text.len > AUDIT_MAX_LINE)
			ret = gt_fail(e, GT_REFUSED, "the audit record is larger than %u bytes", AUDIT_MAX_LINE);
		else
			ret = write_locked(log, text.buf, text.len, !ends_nl, e);
	}
	if (ret == 0 && line)
		*line = xstrdup(text.buf);
	if (ret == 0) {
		fault_point(FAULT_AUDIT_BEFORE_HEAD);
		/* the record is in the trail whatever happens to the head or the copy: they are said apart */
		write_head(log, seq + 1, hash, &out->head);
		/* the copy is written under the main log's lock, so its lines keep the chain's order */
		if (copy && copy->fd >= 0)
			append_copy(copy, text.buf, &out->copy);
	}
	flock(log->fd, LOCK_UN);
	sbuf_release(&text);
	sbuf_release(&last);
	json_object_put(torn);
	json_object_put(o);
	return ret;
}

int audit_each(const char *path, int (*each)(struct json_object *record, size_t lineno, const char *line, size_t len, void *arg),
	       void *arg, struct gt_error *e)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int ret = 0, err = 0;

	if (!f)
		return errno == ENOENT ? 0 : gt_fail(e, GT_FAILED, "unable to open '%s': %s", path, strerror(errno));
	/* errno is taken from getline itself: each() may change it, and EOF sets none */
	while (ret == 0 && (errno = 0, n = getline(&line, &cap, f)) >= 0) {
		struct json_object *o;

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		o = (size_t)n <= AUDIT_MAX_LINE ? jsonx_parse_exact((const uint8_t *)line, (size_t)n) : NULL;
		ret = each(json_object_is_type(o, json_type_object) ? o : NULL, lineno, line, (size_t)n, arg);
		json_object_put(o);
	}
	err = errno;
	if (ret == 0 && ferror(f))
		ret = gt_fail(e, GT_FAILED, "unable to read '%s': %s", path, strerror(err ? err : EIO));
	free(line);
	fclose(f);
	return ret;
}

/* ---- the journal entries the trail names ---- */

struct id_list {
	char **ids;
	size_t n, cap;
};

static int collect_journal_id(struct json_object *rec, size_t lineno, const char *line, size_t len, void *arg)
{
	struct id_list *s = arg;
	const char *id = jsonx_str(rec, "journal");

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

int audit_journal_ids(const char *path, char ***ids, size_t *n, struct gt_error *e)
{
	struct id_list s = { 0 };
	int r = audit_each(path, collect_journal_id, &s, e);

	if (s.n)
		qsort(s.ids, s.n, sizeof(*s.ids), cmp_str);
	*ids = s.ids;
	*n = s.n;
	return r < 0 ? -1 : 0;
}

int audit_names(char *const *ids, size_t n, const char *id)
{
	return n && bsearch(&id, ids, n, sizeof(*ids), cmp_str) != NULL;
}

/* ---- verify ---- */

struct verify_state {
	struct audit_verdict *v;
	char prev[SHA256_HEX_LEN + 1];
	const char *anchor;
	unsigned long long at_seq;
	off_t offset, bad_end;   /* where the line being read starts; where the bad one ends */
};

static int broken(struct audit_verdict *v, size_t lineno, const char *why)
{
	v->bad_line = lineno;
	snprintf(v->why, sizeof(v->why), "%s", why);
	return 1;
}

static int verify_one(struct json_object *rec, size_t lineno, const char *line, size_t len, void *arg)
{
	struct verify_state *s = arg;
	struct audit_verdict *v = s->v;
	char hash[SHA256_HEX_LEN + 1], actual[SHA256_HEX_LEN + 1];
	struct sbuf covered;
	const char *prev = jsonx_str(rec, "prev");
	struct json_object *seq = json_object_object_get(rec, "seq");
	int ok;

	s->bad_end = s->offset + (off_t)len;
	s->offset += (off_t)len + 1;
	if (!rec)
		return broken(v, lineno, "it is not a JSON record (torn or edited)");
	sbuf_init(&covered);
	ok = audit_line_split(line, len, &covered, hash) == 0;
	if (ok)
		sha256_hex(covered.buf, covered.len, actual);
	sbuf_release(&covered);
	if (!ok)
		return broken(v, lineno, "it has no hash of its own at its end");
	if (strcmp(actual, hash) != 0)
		return broken(v, lineno, "its content does not match its hash: the record was edited");
	if (!json_object_is_type(seq, json_type_int) || (unsigned long long)json_object_get_int64(seq) != v->last_seq + 1) {
		char what[160];

		snprintf(what, sizeof(what), "its sequence number is %llu, not %llu: a record before it was deleted, or it was inserted or moved",
			 (unsigned long long)json_object_get_int64(seq), v->last_seq + 1);
		return broken(v, lineno, what);
	}
	if (!prev || strcmp(prev, s->prev) != 0)
		return broken(v, lineno, "it does not chain to the record before it: a record was deleted, inserted or moved");
	strcpy(s->prev, hash);
	v->records++;
	v->last_seq++;
	if (s->anchor && !v->anchor_seq && strcmp(hash, s->anchor) == 0)
		v->anchor_seq = v->last_seq;
	if (s->at_seq && v->last_seq == s->at_seq)
		strcpy(v->at_hash, hash);
	return 0;
}

/* The bad line ending at end is the log's last, without its newline, and not a record. */
static int is_torn_tail(const char *path, off_t end)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK), ends_nl = 1, torn = 0;
	struct gt_error ignored = { 0 };
	struct stat st;
	struct sbuf last;

	if (fd < 0)
		return 0;
	sbuf_init(&last);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == end && last_line(fd, &last, &ends_nl, &ignored) == 0)
		torn = !ends_nl && !is_record_line(last.buf, last.len);
	sbuf_release(&last);
	close(fd);
	return torn;
}

int audit_verify_probe(const char *path, const char *anchor, unsigned long long at_seq, struct audit_verdict *v,
		       struct gt_error *e)
{
	struct verify_state s = { .v = v, .anchor = anchor, .at_seq = at_seq };
	int r;

	memset(v, 0, sizeof(*v));
	strcpy(s.prev, AUDIT_GENESIS);
	r = audit_each(path, verify_one, &s, e);
	strcpy(v->head, s.prev);
	if (r == 1 && is_torn_tail(path, s.bad_end))
		snprintf(v->why, sizeof(v->why), "it is a torn last line (no newline, not a whole record): a write cut short by a "
			 "crash or a full disk, not an edit; the next gpotool write removes it and records that");
	return r;
}

int audit_verify(const char *path, struct audit_verdict *v, struct gt_error *e)
{
	return audit_verify_probe(path, NULL, 0, v, e);
}
