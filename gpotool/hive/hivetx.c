/* Hive targets: safe open, path resolution, recorded edits and the commit pipeline. */
#include "hive/hivetx.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/fault.h"
#include "core/sbuf.h"
#include "hive/verify.h"
#include "hive/hive-fault.h"

static int detect_has(struct hivetx *tx, hive_key k, const char *name)
{
	struct gt_error ignored = { 0 };
	hive_key out;

	return hive_child(tx->hive, k, name, &out, &ignored) == 1;
}

static int name_ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcasecmp(s + n - t, tail) == 0;
}

/* A user's Software subtree has Microsoft, Classes and Policies too; only the machine's
 * SOFTWARE hive says which Windows it is. */
static int has_windows_version(struct hivetx *tx)
{
	struct gt_error ignored = { 0 };
	char *v = NULL;
	int r = hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, "CurrentBuild", &v, &ignored);

	if (r != 1)
		r = hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, "ProductName", &v, &ignored);
	free(v);
	return r == 1;
}

/* Content first (keys only a hive of that kind has), then the path tail Windows writes
 * into the base block, which survives copies but not every tool that rewrites hives. */
static enum hive_kind detect_kind(struct hivetx *tx)
{
	hive_key root = hive_root(tx->hive), sam;
	const char *fn = tx->hdr.file_name;

	if (detect_has(tx, root, "Select") &&
	    (detect_has(tx, root, "ControlSet001") || detect_has(tx, root, "ControlSet002")))
		return HK_SYSTEM;
	if (detect_has(tx, root, "Microsoft") &&
	    (detect_has(tx, root, "Classes") || detect_has(tx, root, "Policies")) && has_windows_version(tx))
		return HK_SOFTWARE;
	if (hive_child(tx->hive, root, "SAM", &sam, &(struct gt_error){ 0 }) == 1 && detect_has(tx, sam, "Domains"))
		return HK_SAM;
	if (detect_has(tx, root, "Policy") && (detect_has(tx, root, "RXACT") || detect_has(tx, root, "Cache")))
		return HK_SECURITY;
	if (detect_has(tx, root, "Software") &&
	    (detect_has(tx, root, "Control Panel") || detect_has(tx, root, "Environment") ||
	     detect_has(tx, root, "AppEvents") || detect_has(tx, root, "Console")))
		return HK_NTUSER;
	if (detect_has(tx, root, "Local Settings") && !detect_has(tx, root, "Software"))
		return HK_USRCLASS;
	if (name_ends_with(fn, "\\SYSTEM"))
		return HK_SYSTEM;
	if (name_ends_with(fn, "\\SOFTWARE"))
		return HK_SOFTWARE;
	if (name_ends_with(fn, "\\SAM"))
		return HK_SAM;
	if (name_ends_with(fn, "\\SECURITY"))
		return HK_SECURITY;
	if (name_ends_with(fn, "ntuser.dat"))
		return HK_NTUSER;
	if (name_ends_with(fn, "UsrClass.dat"))
		return HK_USRCLASS;
	return HK_OTHER;
}

/* hivex reads the file again by name; if anything but gpotool changed it since we read it,
 * our copy of the before-state would not be what hivex edits. */
static int check_unchanged(struct hivetx *tx, struct gt_error *e)
{
	struct stat now;

	if (safefile_stat_name(&tx->file, &now) < 0 || now.st_ino != tx->file.st.st_ino || now.st_size != tx->file.st.st_size ||
	    now.st_mtim.tv_sec != tx->file.st.st_mtim.tv_sec || now.st_mtim.tv_nsec != tx->file.st.st_mtim.tv_nsec)
		return gt_fail(e, GT_REFUSED, "changed by another program while being read");
	return 0;
}

/* ---- transaction logs ---- */

/* Where a log's suffix puts it: .LOG1 and .LOG2 first (Windows' dual logs, and the file
 * recovery tries first), then .LOG (a single log, or a dummy left by an installation image). */
static int log_rank(const char *tail)
{
	return !strcasecmp(tail, ".LOG1") ? 0 : !strcasecmp(tail, ".LOG2") ? 1 : !strcasecmp(tail, ".LOG") ? 2 : -1;
}

struct log_name {
	char *name;
	int rank;
};

static int cmp_log_names(const void *a, const void *b)
{
	const struct log_name *x = a, *y = b;

	return x->rank != y->rank ? x->rank - y->rank : strcmp(x->name, y->name);
}

/* The transaction logs Windows keeps beside a hive: NAME.LOG1, NAME.LOG2 and NAME.LOG, in any
 * case (a copy from an NTFS volume keeps Windows' spelling, "SYSTEM.LOG1", a tool may lower
 * it). *paths gets "DIR/NAME" for each, caller-freed; returns how many. */
static size_t find_logs(const char *path, char ***paths)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *dir = slash ? xmemdup(path, (size_t)(slash - path) + 1) : xstrdup(".");
	size_t blen = strlen(base), n = 0, cap = 0;
	struct log_name *names = NULL;
	struct dirent *d;
	DIR *dp;

	if (slash)
		dir[slash - path] = '\0';
	dp = opendir(slash == path ? "/" : dir);
	while (dp && (d = readdir(dp))) {
		int rank = strncasecmp(d->d_name, base, blen) ? -1 : log_rank(d->d_name + blen);

		if (rank < 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 4;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = (struct log_name){ xstrdup(d->d_name), rank };
	}
	if (dp)
		closedir(dp);
	if (n)
		qsort(names, n, sizeof(*names), cmp_log_names);
	*paths = n ? xcalloc(n, sizeof(char *)) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct sbuf full;

		sbuf_init(&full);
		sbuf_addf(&full, "%s/%s", slash == path ? "" : slash ? dir : ".", names[i].name);
		(*paths)[i] = sbuf_detach(&full, NULL);
		sbuf_release(&full);
		free(names[i].name);
	}
	free(names);
	free(dir);
	return n;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A log found beside the hive, not named by the user: whoever can write that folder could have
 * put a symbolic link there, to make root read (or report the size of) any file. Only a regular
 * file is read, and only the one seen: anything else is listed as rejected, never followed. */
static int open_found_log(const char *p, int write, struct hivetx_log *l, struct gt_error *e)
{
	struct stat seen;

	if (lstat(p, &seen) == 0 && S_ISREG(seen.st_mode)) {
		if (safefile_open(p, write, &l->file, e) < 0)
			return -1;
		if (l->file.st.st_dev == seen.st_dev && l->file.st.st_ino == seen.st_ino)
			return 0;
		safefile_close(&l->file);
		return gt_fail(e, GT_REFUSED, "replaced by another program while being read");
	}
	l->file.path = xstrdup(p);
	l->file.fd = -1;
	l->skipped = 1;
	l->info.format = HIVELOG_INVALID;
	snprintf(l->info.why, sizeof(l->info.why), "%s", lstat(p, &seen) < 0 ? "gone while being looked at"
		 : S_ISLNK(seen.st_mode) ? "a symbolic link, not followed: name the file itself with --log"
		 : "not a regular file");
	return 0;
}

/* Reads each log whole (locked with the hive for a write: nothing may change it between the
 * replay and the journal's copy of it). */
static int open_logs(struct hivetx *tx, const char *path, int write, const struct hivetx_logs_opts *lo, struct gt_error *e)
{
	char **found = NULL;
	size_t n = lo && lo->n ? lo->n : find_logs(path, &found);
	int ret = 0;

	if (n > HIVELOG_MAX_FILES) {
		struct sbuf names;

		sbuf_init(&names);
		for (size_t i = 0; i < n; i++)
			sbuf_addf(&names, "%s%s", i ? ", " : "", found ? base_name(found[i]) : lo->paths[i]);
		ret = gt_fail(e, GT_REFUSED, "more transaction logs than a hive has (%s): name the right ones with --log", names.buf);
		sbuf_release(&names);
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *p = found ? found[i] : lo->paths[i];
		struct hivetx_log *l = &tx->logs[tx->nlogs];

		l->file.fd = -1;
		ret = found ? open_found_log(p, write, l, e) : safefile_open(p, write, &l->file, e);
		if (ret < 0) {
			ret = gt_prefix(e, "transaction log '%s': ", p);
			break;
		}
		l->name = base_name(l->file.path);
		tx->nlogs++;
	}
	for (size_t i = 0; found && i < n; i++)
		free(found[i]);
	free(found);
	return ret;
}

/* The view: a memory file only this process can reach, which hivex and libregf open by its
 * descriptor like any hive. */
static int make_view(struct hivetx *tx, uint8_t *view, size_t len, struct gt_error *e)
{
	size_t done = 0;
	int fd = memfd_create("gpotool-replayed-hive", MFD_CLOEXEC);

	if (fd < 0)
		return gt_fail(e, GT_FAILED, "cannot make a private copy to replay the logs into: %s", strerror(errno));
	while (done < len) {
		ssize_t w = write(fd, view + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return gt_fail(e, GT_FAILED, "cannot write the private copy the logs are replayed into: %s",
				       w < 0 ? strerror(errno) : "short write");
		}
		done += (size_t)w;
	}
	tx->view_fd = fd;
	tx->view_len = len;
	tx->replayed = 1;
	return 0;
}

/* The primary as it is on disk, read (not mapped: a file cut short by another program while
 * mapped would kill this process). */
static int read_primary(struct hivetx *tx, uint8_t **out, size_t *len, struct gt_error *e)
{
	size_t size = (size_t)tx->file.st.st_size, done = 0;
	uint8_t *buf = xmalloc(size ? size : 1);

	while (done < size) {
		ssize_t r = pread(tx->file.fd, buf + done, size - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return gt_fail(e, r < 0 ? GT_FAILED : GT_REFUSED, "cannot read it to replay its logs: %s",
				       r < 0 ? strerror(errno) : "cut short by another program while being read");
		}
		done += (size_t)r;
	}
	*out = buf;
	*len = size;
	return 0;
}

/* Replays the logs onto the primary as it is on disk, into the view. */
static int replay_logs(struct hivetx *tx, struct gt_error *e)
{
	const uint8_t *bytes[HIVELOG_MAX_FILES];
	size_t lens[HIVELOG_MAX_FILES], at[HIVELOG_MAX_FILES], n = 0, size = 0, view_len = 0;
	struct hivelog_info infos[HIVELOG_MAX_FILES];
	uint8_t *view = NULL, *primary = NULL;
	int r;

	/* the logs that were read, in order; at[] maps the replay's indexes back to tx->logs */
	for (size_t i = 0; i < tx->nlogs; i++) {
		if (tx->logs[i].skipped)
			continue;
		bytes[n] = tx->logs[i].file.bytes;
		lens[n] = tx->logs[i].file.len;
		at[n++] = i;
	}
	if (read_primary(tx, &primary, &size, e) < 0)
		return -1;
	r = hivelog_replay(primary, size, bytes, lens, n, SAFEFILE_MAX_BYTES, infos, &tx->replay, &view, &view_len, e);
	free(primary);
	for (size_t k = 0; k < n; k++)
		tx->logs[at[k]].info = infos[k];
	for (size_t k = 0; k < tx->replay.norder; k++)
		tx->replay.order[k] = at[tx->replay.order[k]];
	if (r == 1) {
		r = make_view(tx, view, view_len, e);
		free(view);
	}
	return r;
}

void hivetx_describe_log(const struct hivetx_log *l, struct sbuf *out)
{
	const struct hivelog_info *i = &l->info;

	sbuf_addstr(out, l->name);
	if (l->skipped) {
		sbuf_addf(out, ": %s", i->why);
		return;
	}
	if (i->format == HIVELOG_EMPTY) {
		sbuf_addstr(out, " (empty)");
		return;
	}
	sbuf_addf(out, " (%zu bytes", l->file.len);
	if (i->format == HIVELOG_NEW && i->entries)
		sbuf_addf(out, ", entries %u..%u", i->first_seq, i->last_seq);
	else if (i->format == HIVELOG_OLD)
		sbuf_addf(out, ", old format, %zu dirty pages", i->entries);
	sbuf_addstr(out, ")");
	if (i->why[0])
		sbuf_addf(out, ": %s", i->why);
}

void hivetx_dirty_reason(const struct hivetx *tx, int refusing, struct sbuf *out)
{
	const struct hive_header *h = &tx->hdr;

	if (h->checksum_stored != h->checksum_computed)
		sbuf_addf(out, "is dirty: bad base-block checksum (stored 0x%08x, computed 0x%08x)", h->checksum_stored,
			  h->checksum_computed);
	else
		sbuf_addf(out, "is dirty (sequence numbers %u != %u)", h->seq1, h->seq2);
	if (tx->nlogs == 0) {
		sbuf_addstr(out, " and no transaction log (.LOG, .LOG1, .LOG2) is beside it: its newest changes were in "
			    "the logs and are lost with them");
	} else {
		sbuf_addstr(out, ": none of its transaction logs can be replayed: ");
		for (size_t i = 0; i < tx->nlogs; i++) {
			sbuf_addstr(out, i ? "; " : "");
			hivetx_describe_log(&tx->logs[i], out);
		}
	}
	if (refusing)
		sbuf_addstr(out, tx->nlogs ? "; replace them with good copies (or load the hive once on Windows) before editing it"
			    : "; copy its logs along with it, or load it once on Windows, before editing it");
	if (refusing && tx->can_ignore_logs)
		sbuf_addstr(out, ", or give --ignore-logs to edit the stale primary anyway (recorded in the audit)");
}

void hivetx_replay_summary(const struct hivetx *tx, struct sbuf *out)
{
	const struct hivelog_replay *r = &tx->replay;

	sbuf_addstr(out, "replayed its transaction logs into a private copy: ");
	for (size_t k = 0; k < r->norder; k++) {
		const struct hivetx_log *l = &tx->logs[r->order[k]];

		sbuf_addf(out, "%s%s ", k ? ", " : "", l->name);
		if (r->format == HIVELOG_OLD)
			sbuf_addf(out, "%zu dirty pages", l->info.applied);
		else
			sbuf_addf(out, l->info.applied == 1 ? "entry %u" : "entries %u..%u", l->info.applied_first, l->info.applied_last);
	}
	if (r->format == HIVELOG_OLD)
		sbuf_addstr(out, " (old format)");
	else
		sbuf_addf(out, " (%zu entr%s)", r->entries, r->entries == 1 ? "y" : "ies");
	if (r->base_block_bad)
		sbuf_addf(out, "; its bad base block was taken from %s", tx->logs[r->order[0]].name);
	for (size_t i = 0; i < tx->nlogs; i++)
		if (tx->logs[i].info.applies && tx->logs[i].info.why[0])
			sbuf_addf(out, "; %s: %s", tx->logs[i].name, tx->logs[i].info.why);
}

struct json_object *hivetx_logs_json(const struct hivetx *tx)
{
	struct json_object *o = json_object_new_object(), *logs = json_object_new_array();
	const struct hivelog_replay *r = &tx->replay;

	for (size_t i = 0; i < tx->nlogs; i++) {
		const struct hivelog_info *in = &tx->logs[i].info;
		struct json_object *l = json_object_new_object();
		char *abs = absolute_path(tx->logs[i].file.path);

		json_object_object_add(l, "path", json_object_new_string(abs));
		free(abs);
		json_object_object_add(l, "name", json_object_new_string(tx->logs[i].name));
		json_object_object_add(l, "size", json_object_new_int64((int64_t)tx->logs[i].file.len));
		json_object_object_add(l, "format", json_object_new_string(in->format == HIVELOG_NEW ? "new"
			: in->format == HIVELOG_OLD ? "old" : in->format == HIVELOG_EMPTY ? "empty" : "invalid"));
		if (in->format == HIVELOG_NEW || in->format == HIVELOG_OLD) {
			json_object_object_add(l, "sequence", json_object_new_int64(in->seq1));
			json_object_object_add(l, "entries", json_object_new_int64((int64_t)in->entries));
		}
		if (in->format == HIVELOG_NEW && in->entries) {
			json_object_object_add(l, "first_seq", json_object_new_int64(in->first_seq));
			json_object_object_add(l, "last_seq", json_object_new_int64(in->last_seq));
		}
		json_object_object_add(l, "applies", json_object_new_boolean(in->applies));
		if (in->applies) {
			json_object_object_add(l, "applied", json_object_new_int64((int64_t)in->applied));
			if (in->format == HIVELOG_NEW) {
				json_object_object_add(l, "applied_first", json_object_new_int64(in->applied_first));
				json_object_object_add(l, "applied_last", json_object_new_int64(in->applied_last));
			}
		}
		json_object_object_add(l, "why", in->why[0] ? json_object_new_string(in->why) : NULL);
		json_object_array_add(logs, l);
	}
	json_object_object_add(o, "dirty", json_object_new_boolean(tx->dirty));
	json_object_object_add(o, "replayed", json_object_new_boolean(tx->replayed));
	json_object_object_add(o, "stale_primary", json_object_new_boolean(tx->stale));
	if (tx->replayed) {
		struct json_object *order = json_object_new_array();

		for (size_t k = 0; k < r->norder; k++)
			json_object_array_add(order, json_object_new_string(tx->logs[r->order[k]].name));
		json_object_object_add(o, "applied", order);
		json_object_object_add(o, "format", json_object_new_string(r->format == HIVELOG_OLD ? "old" : "new"));
		json_object_object_add(o, "entries", json_object_new_int64((int64_t)r->entries));
		if (r->format == HIVELOG_NEW) {
			json_object_object_add(o, "first_seq", json_object_new_int64(r->first_seq));
			json_object_object_add(o, "last_seq", json_object_new_int64(r->last_seq));
		}
		json_object_object_add(o, "base_block_from_log", json_object_new_boolean(r->base_block_bad));
		json_object_object_add(o, "sequence_after", json_object_new_int64(r->seq));
	}
	json_object_object_add(o, "logs", logs);
	return o;
}

int hivetx_load_logs(struct hivetx *tx, const struct hivetx_logs_opts *lo, struct gt_error *e)
{
	if (tx->dirty)
		return 0;
	if (open_logs(tx, tx->file.path, 0, lo, e) < 0 || replay_logs(tx, e) < 0)
		return gt_prefix(e, "'%s': ", tx->file.path);
	return 0;
}

/* A dirty hive: its logs replayed into the view, or, when none can be, refused for a write
 * unless --ignore-logs says to edit the stale primary. */
static int open_dirty(struct hivetx *tx, const char *path, int write, const struct hivetx_logs_opts *lo, struct gt_error *e)
{
	struct sbuf why;

	tx->can_ignore_logs = lo && lo->can_ignore;
	if (open_logs(tx, path, write, lo, e) < 0 || replay_logs(tx, e) < 0)
		return -1;
	if (tx->replayed || !write || (lo && lo->ignore_logs)) {
		tx->stale = !tx->replayed;
		return 0;
	}
	sbuf_init(&why);
	hivetx_dirty_reason(tx, 1, &why);
	gt_fail(e, GT_REFUSED, "hive %s", why.buf);
	sbuf_release(&why);
	return -1;
}

static int open_checked(struct hivetx *tx, const char *path, int write, const char *kind_override,
			const struct hivetx_logs_opts *lo, struct gt_error *e)
{
	char held[SAFEFILE_FD_NAME_MAX];
	struct regf_reader *r;
	uint32_t minor;
	int src;

	if (safefile_open_head(path, write, HIVEFILE_HEAD_BYTES, &tx->file, e) < 0)
		return -1;
	if (hivefile_read_header(tx->file.bytes, tx->file.len, &tx->hdr, e) < 0)
		return -1;
	tx->dirty = tx->hdr.seq1 != tx->hdr.seq2 || tx->hdr.checksum_stored != tx->hdr.checksum_computed;
	if (tx->dirty && open_dirty(tx, path, write, lo, e) < 0)
		return -1;
	minor = tx->hdr.minor;
	if (tx->replayed) {
		/* the replayed copy must pass every check a clean hive does */
		uint8_t head[HIVEFILE_HEAD_BYTES];
		ssize_t got = pread(tx->view_fd, head, sizeof(head), 0);

		if (got < 0 || hivefile_read_header(head, (size_t)got, &tx->view_hdr, e) < 0 ||
		    hivefile_check_safe(head, (size_t)got, tx->view_len, 0, e) < 0)
			return got < 0 ? gt_fail(e, GT_FAILED, "cannot read the replayed copy: %s", strerror(errno))
				       : gt_prefix(e, "with its logs replayed: ");
		minor = tx->view_hdr.minor;
	} else if (hivefile_check_safe(tx->file.bytes, tx->file.len, (uint64_t)tx->file.st.st_size, 1, e) < 0) {
		return -1;
	}
	/* a writer's libregf and hivex read the locked file itself (or the replayed copy), not
	 * whatever the name holds */
	src = tx->replayed ? tx->view_fd : tx->file.fd;
	safefile_fd_name(src, held);
	if (write) {
		if (verify_open_fd(src, &r, e) < 0)
			return -1;
		verify_close(r);
	}
	if (hive_open(write || tx->replayed ? held : path, write, minor, &tx->hive, e) < 0 || check_unchanged(tx, e) < 0)
		return -1;
	/* an edit must not build on a damaged tree, even far from the key it touches; and a
	 * read must not report as sound (export, get) what info and every writer refuse */
	if (hive_check_tree(tx->hive, &tx->tree_keys, &tx->tree_values, e) < 0)
		return -1;
	tx->writable = write;
	if (kind_override) {
		if (!hive_kind_from_name(kind_override, &tx->kind))
			return gt_fail(e, GT_USAGE, "unknown hive kind '%s' (SYSTEM, SOFTWARE, SAM, SECURITY, NTUSER, USRCLASS, other)",
				       kind_override);
	} else {
		tx->kind = detect_kind(tx);
		tx->kind_detected = 1;
	}
	return 0;
}

int hivetx_open(struct hivetx *tx, const char *path, int write, const char *kind_override, struct gt_error *e)
{
	return hivetx_open_logs(tx, path, write, kind_override, NULL, e);
}

int hivetx_open_logs(struct hivetx *tx, const char *path, int write, const char *kind_override,
		     const struct hivetx_logs_opts *lo, struct gt_error *e)
{
	memset(tx, 0, sizeof(*tx));
	tx->file.fd = -1;
	tx->view_fd = -1;
	plan_init(&tx->plan);
	if (open_checked(tx, path, write, kind_override, lo, e) < 0) {
		if (e->code != GT_USAGE)
			gt_prefix(e, "'%s': ", path);
		hivetx_close(tx);
		return -1;
	}
	return 0;
}

void hivetx_close(struct hivetx *tx)
{
	hive_close(tx->hive);
	safefile_close(&tx->file);
	for (size_t i = 0; i < tx->nlogs; i++)
		safefile_close(&tx->logs[i].file);
	if (tx->replayed && tx->view_fd >= 0)
		close(tx->view_fd);
	plan_release(&tx->plan);
	free(tx->journal_id);
	free(tx->warning);
	memset(tx, 0, sizeof(*tx));
	tx->file.fd = -1;
	tx->view_fd = -1;
}

const char *hivetx_prefix(const struct hivetx *tx)
{
	return hive_kind_short_prefix(tx->kind);
}

int hivetx_current_control_set(struct hivetx *tx, unsigned *n, struct gt_error *e)
{
	struct reg_value v;
	hive_key select, cs;
	char name[32];
	uint32_t cur;
	int r;

	*n = 0;
	r = hive_child(tx->hive, hive_root(tx->hive), WINREG_SELECT_KEY, &select, e);
	if (r <= 0)
		return r;
	r = hive_get_value(tx->hive, select, WINREG_SELECT_CURRENT, &v, e);
	if (r < 0)
		return -1;
	if (r == 0)
		return gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet: Select\\Current is missing");
	if (v.type != RT_DWORD || v.len != 4) {
		reg_value_release(&v);
		return gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet: Select\\Current is not a 4-byte REG_DWORD");
	}
	cur = (uint32_t)v.data[0] | (uint32_t)v.data[1] << 8 | (uint32_t)v.data[2] << 16 | (uint32_t)v.data[3] << 24;
	reg_value_release(&v);
	if (cur == 0 || cur > 999)
		return gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet: Select\\Current is %u, not a control set number", cur);
	snprintf(name, sizeof(name), "ControlSet%03u", cur);
	r = hive_child(tx->hive, hive_root(tx->hive), name, &cs, e);
	if (r < 0)
		return -1;
	if (r == 0)
		return gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet: Select\\Current names %s, which does not exist", name);
	*n = cur;
	return 1;
}

/* Drops the first n parts of kp (a mount's prefix that this hive holds at its root). */
static void drop_parts(struct keypath *kp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(kp->parts[i]);
	memmove(kp->parts, kp->parts + n, (kp->n - n) * sizeof(*kp->parts));
	kp->n -= n;
}

/* A UsrClass.dat is mounted at HKCU\Software\Classes and is HKCR's user half: keys shown as
 * "HKCU\Software\Classes\X" (as gpotool prints them) or written "HKCR\X" are X below its root. */
static int usrclass_path(struct keypath *kp)
{
	if (kp->classes) {
		drop_parts(kp, 1);
		return 1;
	}
	if (strcasecmp(kp->mount, "NTUSER") == 0 && kp->n >= 2 && strcasecmp(kp->parts[0], "Software") == 0 &&
	    strcasecmp(kp->parts[1], "Classes") == 0) {
		drop_parts(kp, 2);
		return 1;
	}
	return 0;
}

static int check_mount(struct hivetx *tx, const char *text, struct keypath *kp, struct gt_error *e)
{
	enum hive_kind named;

	if (!kp->mount)
		return 0;
	if (tx->kind == HK_USRCLASS && usrclass_path(kp))
		return 0;
	if (tx->kind == HK_OTHER) {
		if (hive_kind_from_name(kp->mount, &named))
			return gt_fail(e, GT_USAGE, "key '%s' is in the %s hive, but '%s' is not recognised as one; "
				       "give --kind %s or a path relative to the hive root", text, kp->mount, tx->file.path, kp->mount);
		return 0;
	}
	if (tx->kind == HK_USRCLASS)
		return gt_fail(e, GT_USAGE, "key '%s' is in the %s hive, but '%s' is a USRCLASS hive (its keys are "
			       "HKCU\\Software\\Classes\\... or HKCR\\...)", text, kp->mount, tx->file.path);
	if (strcasecmp(kp->mount, hive_kind_mount(tx->kind)) != 0)
		return gt_fail(e, GT_USAGE, "key '%s' is in the %s hive, but '%s' is a %s hive", text, kp->mount,
			       tx->file.path, hive_kind_name(tx->kind));
	return 0;
}

int hivetx_resolve(struct hivetx *tx, const char *text, struct keypath *kp, struct gt_error *e)
{
	unsigned cs;
	int r;

	if (keypath_parse(text, kp, e) < 0 || check_mount(tx, text, kp, e) < 0)
		goto fail;
	if (kp->n == 0 || strcasecmp(kp->parts[0], "CurrentControlSet") != 0)
		return 0;
	/* the running system links CurrentControlSet; a hive file has only ControlSet00N */
	r = hivetx_current_control_set(tx, &cs, e);
	if (r < 0)
		goto fail;
	if (r == 0) {
		gt_fail(e, GT_REFUSED, "cannot resolve CurrentControlSet in '%s': it has no Select key (is it a SYSTEM hive?)",
			tx->file.path);
		goto fail;
	}
	free(kp->parts[0]);
	kp->parts[0] = xmalloc(32);
	snprintf(kp->parts[0], 32, "ControlSet%03u", cs);
	return 0;
fail:
	keypath_release(kp);
	return -1;
}

/* Walks parts[0..n); *depth is how many were found; names (optional) collects stored names. */
static int walk(struct hivetx *tx, char *const *parts, size_t n, hive_key *out, size_t *depth,
		struct keypath *names, struct gt_error *e)
{
	hive_key k = hive_root(tx->hive);

	*depth = 0;
	for (size_t i = 0; i < n; i++) {
		hive_key child;
		int r = hive_child(tx->hive, k, parts[i], &child, e);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (names) {
			char *name = hive_key_name(tx->hive, child, e);

			if (!name)
				return -1;
			names->parts = xrealloc(names->parts, (names->n + 1) * sizeof(char *));
			names->parts[names->n++] = name;
		}
		k = child;
		(*depth)++;
	}
	*out = k;
	return 0;
}

int hivetx_find(struct hivetx *tx, const struct keypath *kp, hive_key *out, char **stored, struct gt_error *e)
{
	struct keypath names = { 0 };
	size_t depth;
	int ret;

	if (walk(tx, kp->parts, kp->n, out, &depth, stored ? &names : NULL, e) < 0) {
		keypath_release(&names);
		return -1;
	}
	ret = depth == kp->n;
	if (stored)
		*stored = ret ? keypath_join(names.parts, names.n) : NULL;
	keypath_release(&names);
	return ret;
}

/* Finds or creates the key, recording every key created; *stored is its stored path. */
static int ensure_key(struct hivetx *tx, const struct keypath *kp, hive_key *out, char **stored, struct gt_error *e)
{
	struct keypath names = { 0 };
	size_t depth;
	hive_key k;

	*stored = NULL;
	if (walk(tx, kp->parts, kp->n, &k, &depth, &names, e) < 0) {
		keypath_release(&names);
		return -1;
	}
	for (size_t i = depth; i < kp->n; i++) {
		char *joined;

		if (hive_add_key(tx->hive, k, kp->parts[i], &k, e) < 0) {
			keypath_release(&names);
			return -1;
		}
		names.parts = xrealloc(names.parts, (names.n + 1) * sizeof(char *));
		names.parts[names.n++] = xstrdup(kp->parts[i]);
		joined = keypath_join(names.parts, names.n);
		plan_add(&tx->plan, CH_ADD_KEY, joined, NULL);
		free(joined);
	}
	*out = k;
	*stored = keypath_join(names.parts, names.n);
	keypath_release(&names);
	return 0;
}

int hivetx_add_key(struct hivetx *tx, const struct keypath *kp, struct gt_error *e)
{
	char *stored;
	hive_key k;
	int ret = ensure_key(tx, kp, &k, &stored, e);

	free(stored);
	return ret;
}

static size_t utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

int hivetx_set_value(struct hivetx *tx, const struct keypath *kp, const struct reg_value *v, struct gt_error *e)
{
	struct reg_value old;
	struct change *c;
	char *stored;
	hive_key k;
	int r;

	if (utf8_length(v->name) > REG_NAME_MAX_CHARS)
		return gt_fail(e, GT_USAGE, "value name longer than %u characters", REG_NAME_MAX_CHARS);
	if (v->len > REG_VALUE_MAX_BYTES)
		return gt_fail(e, GT_REFUSED, "value '%s' is %zu bytes, over the %u-byte limit", v->name, v->len, REG_VALUE_MAX_BYTES);
	if (ensure_key(tx, kp, &k, &stored, e) < 0)
		return -1;
	r = hive_get_value(tx->hive, k, v->name, &old, e);
	if (r < 0 || (r == 1 && reg_value_equal_data(&old, v))) {
		/* already as asked: writing it again would only churn cells */
		reg_value_release(&old);
		free(stored);
		return r < 0 ? -1 : 0;
	}
	if (hive_put_value(tx->hive, k, v, e) < 0) {
		reg_value_release(&old);
		free(stored);
		return -1;
	}
	c = plan_add(&tx->plan, CH_SET_VALUE, stored, r == 1 ? old.name : v->name);
	c->had_old = r == 1;
	c->old = old;
	c->has_new = 1;
	reg_value_copy(&c->new_value, v);
	free(c->new_value.name);
	c->new_value.name = xstrdup(c->name);
	free(stored);
	return 0;
}

int hivetx_delete_value(struct hivetx *tx, const struct keypath *kp, const char *name, struct gt_error *e)
{
	struct reg_value old;
	struct change *c;
	char *stored;
	hive_key k;
	int r = hivetx_find(tx, kp, &k, &stored, e);

	if (r <= 0)
		return r;
	r = hive_get_value(tx->hive, k, name, &old, e);
	if (r == 1)
		r = hive_delete_value(tx->hive, k, old.name, e);
	if (r == 1) {
		c = plan_add(&tx->plan, CH_DELETE_VALUE, stored, old.name);
		c->had_old = 1;
		c->old = old;
	} else {
		reg_value_release(&old);
	}
	free(stored);
	return r;
}

/* Records a subtree's values and keys, children first, as the deletions they become. */
static int record_subtree(struct hivetx *tx, hive_key k, const char *stored, unsigned depth, struct gt_error *e)
{
	struct reg_value *vals;
	hive_key *kids;
	size_t nvals, nkids;
	int ret = 0;

	if (depth > KEYPATH_MAX_DEPTH)
		return gt_fail(e, GT_REFUSED, "key tree deeper than %u levels under '%s'", KEYPATH_MAX_DEPTH, stored);
	if (hive_subkeys(tx->hive, k, &kids, &nkids, e) < 0)
		return -1;
	for (size_t i = 0; i < nkids && ret == 0; i++) {
		char *name = hive_key_name(tx->hive, kids[i], e);
		struct sbuf path;

		if (!name) {
			ret = -1;
			break;
		}
		sbuf_init(&path);
		sbuf_addf(&path, "%s%s%s", stored, *stored ? "\\" : "", name);
		ret = record_subtree(tx, kids[i], path.buf, depth + 1, e);
		sbuf_release(&path);
		free(name);
	}
	free(kids);
	if (ret < 0 || hive_values(tx->hive, k, &vals, &nvals, e) < 0)
		return -1;
	for (size_t i = 0; i < nvals; i++) {
		struct change *c = plan_add(&tx->plan, CH_DELETE_VALUE, stored, vals[i].name);

		c->had_old = 1;
		reg_value_copy(&c->old, &vals[i]);
	}
	reg_values_free(vals, nvals);
	plan_add(&tx->plan, CH_DELETE_KEY, stored, NULL);
	return 0;
}

int hivetx_delete_key(struct hivetx *tx, const struct keypath *kp, struct gt_error *e)
{
	char *stored;
	hive_key k;
	int r;

	if (kp->n == 0)
		return gt_fail(e, GT_USAGE, "refusing to delete the root key of the hive");
	r = hivetx_find(tx, kp, &k, &stored, e);
	if (r <= 0)
		return r;
	if (record_subtree(tx, k, stored, 0, e) < 0 || hive_delete_key(tx->hive, k, e) < 0)
		r = -1;
	free(stored);
	return r;
}

int hivetx_read_value(struct hivetx *tx, const char *key, const char *name, struct reg_value *out, struct gt_error *e)
{
	struct keypath kp;
	hive_key k;
	int r;

	reg_value_init(out);
	keypath_split(key, &kp);
	r = hivetx_find(tx, &kp, &k, NULL, e);
	keypath_release(&kp);
	return r <= 0 ? r : hive_get_value(tx->hive, k, name, out, e);
}

int hivetx_read_string(struct hivetx *tx, const char *key, const char *name, char **out, struct gt_error *e)
{
	struct reg_value v;
	struct sbuf sb;
	int r;

	*out = NULL;
	r = hivetx_read_value(tx, key, name, &v, e);
	if (r <= 0)
		return r;
	sbuf_init(&sb);
	if (v.type == RT_SZ || v.type == RT_EXPAND_SZ)
		utf16le_to_utf8(v.data, v.len >= 2 && !v.data[v.len - 1] && !v.data[v.len - 2] ? v.len - 2 : v.len, &sb);
	else
		reg_value_format_brief(&v, &sb);
	reg_value_release(&v);
	*out = sbuf_detach(&sb, NULL);
	sbuf_release(&sb);
	return 1;
}

/* ---- verification: libregf must see exactly what hivex holds, and that must be the plan ---- */

/* Data of 4 bytes or less is stored inline in the value record. libregf 20201007 (Debian 12)
 * returns the last N bytes of that 4-byte field instead of the first N for N < 4 (e.g. an
 * empty REG_SZ, 2 bytes, reads as its padding), while Windows, hivex and reglookup read the
 * first N. For such values the second reader can vouch for name, type and size only; the
 * tests check their bytes with reglookup. */
#define REGF_INLINE_MAX 3

static int regf_agrees(const struct reg_value *hivex_view, const struct reg_value *regf_view)
{
	if (hivex_view->len <= REGF_INLINE_MAX)
		return hivex_view->type == regf_view->type && hivex_view->len == regf_view->len;
	return reg_value_equal_data(hivex_view, regf_view);
}

static int same_values(const struct reg_value *a, size_t na, const struct reg_value *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) != 0 || !regf_agrees(&a[i], &b[i]))
			return 0;
	return 1;
}

/* One touched key, read by hivex (in memory) and by libregf (from the written file). */
static int cross_check_key(struct hivetx *tx, struct regf_reader *r, const char *key, struct gt_error *e)
{
	struct reg_value *hv_vals = NULL, *rf_vals = NULL;
	size_t hv_n = 0, rf_n = 0;
	struct keypath kp;
	hive_key k;
	int in_hivex, in_regf, ret = 0;

	keypath_split(key, &kp);
	in_hivex = hivetx_find(tx, &kp, &k, NULL, e);
	if (in_hivex == 1 && hive_values(tx->hive, k, &hv_vals, &hv_n, e) < 0)
		in_hivex = -1;
	in_regf = in_hivex < 0 ? -1 : verify_read_key(r, kp.parts, kp.n, &rf_vals, &rf_n, e);
	if (in_hivex < 0 || in_regf < 0)
		ret = gt_prefix(e, "verification of key '%s' failed: ", key);
	else if (in_hivex != in_regf)
		ret = gt_fail(e, GT_FAILED, "verification failed: libregf %s key '%s'", in_regf ? "finds" : "does not find", key);
	else if (!same_values(hv_vals, hv_n, rf_vals, rf_n))
		ret = gt_fail(e, GT_FAILED, "verification failed: libregf reads the values of key '%s' differently from hivex", key);
	reg_values_free(hv_vals, hv_n);
	reg_values_free(rf_vals, rf_n);
	keypath_release(&kp);
	return ret;
}

/* Plan keys hold the names as stored in the hive, so one key is spelled one way throughout. */
static int is_same_or_below(const char *key, const char *ancestor)
{
	size_t n = strlen(ancestor);
	char *head;
	int ret;

	if (n == 0)
		return 1;
	if (strlen(key) < n || (key[n] != '\0' && key[n] != '\\'))
		return 0;
	head = xmemdup(key, n + 1);
	head[n] = '\0';
	ret = name_casecmp(head, ancestor) == 0;
	free(head);
	return ret;
}

/* Is change i overridden by a later change in the plan (the later one is checked instead)? */
static int superseded(const struct plan *p, size_t i)
{
	const struct change *c = &p->v[i];

	for (size_t j = i + 1; j < p->n; j++) {
		const struct change *d = &p->v[j];

		/* the short value names first: a plan of thousands of changes (hive recover) compares each pair */
		if (c->name && d->name && name_casecmp(c->name, d->name) == 0 && name_casecmp(c->key, d->key) == 0)
			return 1;
		if (d->kind == CH_DELETE_KEY && is_same_or_below(c->key, d->key))
			return 1;
		if (c->kind == CH_DELETE_KEY && (d->kind == CH_ADD_KEY || d->kind == CH_SET_VALUE) &&
		    is_same_or_below(d->key, c->key))
			return 1;
	}
	return 0;
}

static int find_value(const struct reg_value *vals, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (name_casecmp(vals[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The last word on each value and key in the plan, read back through libregf. */
static int check_plan(const struct plan *p, struct regf_reader *r, struct gt_error *e)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		struct reg_value *vals = NULL;
		size_t n = 0;
		struct keypath kp;
		int found, at, ok = 1;

		if (superseded(p, i))
			continue;
		keypath_split(c->key, &kp);
		found = verify_read_key(r, kp.parts, kp.n, &vals, &n, e);
		keypath_release(&kp);
		if (found < 0)
			return gt_prefix(e, "verification of key '%s' failed: ", c->key);
		at = found && c->name ? find_value(vals, n, c->name) : -1;
		switch (c->kind) {
		case CH_ADD_KEY: ok = found; break;
		case CH_DELETE_KEY: ok = !found; break;
		case CH_SET_VALUE: ok = at >= 0 && regf_agrees(&c->new_value, &vals[at]); break;
		case CH_DELETE_VALUE: ok = at < 0; break;
		}
		reg_values_free(vals, n);
		if (!ok) {
			struct sbuf what;

			sbuf_init(&what);
			change_describe(c, "", &what);
			gt_fail(e, GT_FAILED, "verification failed: the written hive does not hold this change: %s", what.buf);
			sbuf_release(&what);
			return -1;
		}
	}
	return 0;
}

/* Reads the temp file through its descriptor: what is checked is what will be renamed. */
static int verify_written(struct hivetx *tx, struct gt_error *e)
{
	struct regf_reader *r;
	int ret = 0;

	if (verify_open_fd(tx->file.tmp_fd, &r, e) < 0)
		return gt_prefix(e, "verification failed: ");
	for (size_t i = 0; i < tx->plan.n && ret == 0; i++) {
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = name_casecmp(tx->plan.v[j].key, tx->plan.v[i].key) == 0;
		if (!seen)
			ret = cross_check_key(tx, r, tx->plan.v[i].key, e);
	}
	if (ret == 0)
		ret = check_plan(&tx->plan, r, e);
	verify_close(r);
	return ret;
}

/* A dirty hive's logs go into the journal beside it, unchanged by the write (a clean primary
 * whose sequence numbers are above all of theirs is one Windows never replays them onto), so
 * that a rollback puts back the whole set as it was. */
struct log_targets {
	struct journal_target t[1 + HIVELOG_MAX_FILES];
	char sha[HIVELOG_MAX_FILES][SHA256_HEX_LEN + 1];
	struct plan none;
	size_t n;
};

static void add_log_targets(struct hivetx *tx, struct log_targets *lt)
{
	plan_init(&lt->none);
	for (size_t i = 0; i < tx->nlogs; i++) {
		const struct locked_file *f = &tx->logs[i].file;

		if (tx->logs[i].skipped)
			continue;
		sha256_hex(f->bytes, f->len, lt->sha[i]);
		lt->t[lt->n++] = (struct journal_target){
			.path = f->path, .existed = 1, .kind = HIVETX_LOG_FILE_KIND, .detail = tx->logs[i].name,
			.key_prefix = hivetx_prefix(tx), .before = f->bytes, .before_len = f->len, .plan = &lt->none,
			.after_sha256 = lt->sha[i],
		};
	}
}

/* The temp file holds the new hive, checked: journal, rename, complete. */
static int commit_staged(struct hivetx *tx, const char *state_dir, const struct journal_meta *meta_in, struct gt_error *e)
{
	struct journal_meta meta = *meta_in;
	struct journal_entry *j = NULL;
	char after[SHA256_HEX_LEN + 1], before[SHA256_HEX_LEN + 1];
	struct log_targets lt = { .n = 1 };
	struct json_object *extra = NULL;
	int ret;

	lt.t[0] = (struct journal_target){
		.path = tx->file.path, .existed = 1, .kind = "hive", .detail = hive_kind_name(tx->kind),
		.key_prefix = hivetx_prefix(tx), .before_file = &tx->file, .before_sha256 = before,
		.before_len = (size_t)tx->file.st.st_size, .plan = &tx->plan,
	};
	/* the journal's copy is taken from the locked file: it must still be what hivex read */
	if (check_unchanged(tx, e) < 0 || sha256_fd_hex(tx->file.fd, before, e) < 0 ||
	    sha256_fd_hex(tx->file.tmp_fd, after, e) < 0)
		return -1;
	lt.t[0].after_sha256 = after;
	lt.t[0].staged = tx->file.tmp_path;
	meta.target_kind = "hive";
	meta.target_path = tx->file.path;
	if (tx->dirty && !meta.extra) {
		add_log_targets(tx, &lt);
		extra = json_object_new_object();
		json_object_object_add(extra, "transaction_logs", hivetx_logs_json(tx));
		meta.extra = extra;
	}
	ret = journal_begin(state_dir, &meta, lt.t, lt.n, &j, e);
	json_object_put(extra);
	if (ret < 0)
		return -1;
	fault_point(FAULT_HIVE_BEFORE_RENAME);
	if (safefile_tmp_commit(&tx->file, e) < 0) {
		/* lost: the target holds another process's file; the entry stays pending, with the
		 * before copy, so that the next run sees a target that is neither state */
		if (tx->file.lost)
			gt_prefix(e, "journal entry %s (pending) keeps '%s' as it was before: ", journal_id(j), tx->file.path);
		else
			journal_abandon(j, e->msg);
		journal_free(j);
		return -1;
	}
	tx->journal_id = xstrdup(journal_id(j));
	if (tx->file.sync_warning)
		tx->warning = xstrdup(tx->file.sync_warning);
	fault_point(FAULT_HIVE_AFTER_RENAME);
	if (journal_complete(j, e) < 0) {
		/* the change is in place and the entry still holds the before-state: say so, not "failed" */
		struct sbuf w;

		sbuf_init(&w);
		sbuf_addf(&w, "journal entry %s could not be marked complete (%s); it stays 'pending'", tx->journal_id, e->msg);
		if (tx->warning)
			sbuf_addf(&w, "; and %s", tx->warning);
		free(tx->warning);
		tx->warning = sbuf_detach(&w, NULL);
		sbuf_release(&w);
		gt_error_clear(e);
	}
	journal_free(j);
	return 0;
}

/* The highest sequence number of the primary and of the logs beside it. */
static uint32_t logs_max_seq(const struct hivetx *tx)
{
	uint32_t max = tx->hdr.seq1;

	for (size_t i = 0; i < tx->nlogs; i++) {
		uint32_t s = tx->logs[i].info.max_seq;

		if ((tx->logs[i].info.format == HIVELOG_NEW || tx->logs[i].info.format == HIVELOG_OLD) &&
		    (uint32_t)(s - max) < 0x80000000u)
			max = s;
	}
	return max;
}

int hivetx_commit(struct hivetx *tx, const char *state_dir, const struct journal_meta *meta, struct gt_error *e)
{
	if (tx->plan.n == 0)
		return 0;
	/* write -> verify -> journal -> rename, each through the temp file's descriptor */
	if (safefile_tmp_create(&tx->file, e) < 0 ||
	    hive_commit_fd(tx->hive, tx->file.tmp_fd, tx->file.tmp_path, e) < 0 ||
	    (tx->stale && hivefile_raise_sequence(tx->file.tmp_fd, logs_max_seq(tx) + 1, e) < 0) ||
	    safefile_tmp_finish(&tx->file, e) < 0 ||
	    fault_hive_written(tx->hive, &tx->plan, tx->file.tmp_fd, tx->file.tmp_path, e) < 0 ||
	    verify_written(tx, e) < 0 ||
	    commit_staged(tx, state_dir, meta, e) < 0) {
		safefile_tmp_discard(&tx->file);
		return tx->file.lost ? -1 : gt_prefix(e, "'%s' left unchanged: ", tx->file.path);
	}
	return 0;
}

/* libregf reads the plan back from check, a copy of what goes in place (or, for a dirty copy,
 * of it with its logs replayed). */
static int check_plan_in(const struct plan *p, const uint8_t *check, size_t len, struct gt_error *e)
{
	struct hivetx scratch = { .view_fd = -1 };
	struct regf_reader *r;
	int ret;

	if (make_view(&scratch, (uint8_t *)check, len, e) < 0)
		return -1;
	ret = verify_open_fd(scratch.view_fd, &r, e);
	if (ret == 0) {
		ret = check_plan(p, r, e);
		verify_close(r);
	}
	close(scratch.view_fd);
	return ret;
}

static int commit_bytes_checked(struct hivetx *tx, const uint8_t *bytes, size_t len, const uint8_t *check, size_t check_len,
				int dirty, const char *state_dir, const struct journal_meta *meta, struct gt_error *e)
{
	struct hive_header hdr;
	struct regf_reader *r;
	int ret;

	/* what goes back must be a hive this tool would accept as a target (a dirty one, when it
	 * was one before and its logs go back with it) */
	if (hivefile_read_header(bytes, len, &hdr, e) < 0 ||
	    hivefile_check_safe(bytes, len, len, dirty ? HIVEFILE_DIRTY_ANY : 0, e) < 0)
		return gt_prefix(e, "'%s' left unchanged: the saved copy is not a sound hive: ", tx->file.path);
	if (safefile_tmp_create(&tx->file, e) < 0 || safefile_tmp_write(&tx->file, bytes, len, e) < 0 ||
	    safefile_tmp_finish(&tx->file, e) < 0)
		goto fail;
	if (check == bytes && hdr.checksum_stored != hdr.checksum_computed && tx->plan.n == 0) {
		/* a primary whose base block is bad, going back as it was: no reader opens it, and
		 * there is no change to find in it (the caller checks its bytes once in place) */
		ret = 0;
	} else if (check == bytes) {
		if (verify_open_fd(tx->file.tmp_fd, &r, e) < 0)
			goto fail;
		ret = check_plan(&tx->plan, r, e);
		verify_close(r);
	} else {
		ret = check_plan_in(&tx->plan, check, check_len, e);
	}
	if (ret < 0 || commit_staged(tx, state_dir, meta, e) < 0)
		goto fail;
	return 0;
fail:
	safefile_tmp_discard(&tx->file);
	return tx->file.lost ? -1 : gt_prefix(e, "'%s' left unchanged: ", tx->file.path);
}

int hivetx_commit_bytes(struct hivetx *tx, const uint8_t *bytes, size_t len, const char *state_dir,
			const struct journal_meta *meta, struct gt_error *e)
{
	return commit_bytes_checked(tx, bytes, len, bytes, len, 0, state_dir, meta, e);
}

int hivetx_commit_dirty_bytes(struct hivetx *tx, const uint8_t *bytes, size_t len, const uint8_t *check, size_t check_len,
			      const char *state_dir, const struct journal_meta *meta, struct gt_error *e)
{
	return commit_bytes_checked(tx, bytes, len, check ? check : bytes, check ? check_len : len, 1, state_dir, meta, e);
}

/* ---- hive recover: what the replay changed, key by key ---- */

struct diff {
	struct hive *old, *new;
	struct plan *plan;
};

static char *child_path(const char *parent, const char *name)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s%s%s", parent, *parent ? "\\" : "", name);
	return sbuf_detach(&sb, NULL);
}

static int diff_values(struct diff *d, hive_key ko, hive_key kn, const char *path, struct gt_error *e)
{
	struct reg_value *ov = NULL, *nv = NULL;
	size_t on = 0, nn = 0;
	int ret = -1;

	if ((ko && hive_values(d->old, ko, &ov, &on, e) < 0) || (kn && hive_values(d->new, kn, &nv, &nn, e) < 0))
		goto out;
	for (size_t i = 0; i < nn; i++) {
		int at = find_value(ov, on, nv[i].name);
		struct change *c;

		if (at >= 0 && ov[at].type == nv[i].type && reg_value_equal_data(&ov[at], &nv[i]))
			continue;
		c = plan_add(d->plan, CH_SET_VALUE, path, nv[i].name);
		if ((c->had_old = at >= 0))
			reg_value_copy(&c->old, &ov[at]);
		c->has_new = 1;
		reg_value_copy(&c->new_value, &nv[i]);
	}
	for (size_t i = 0; i < on; i++)
		if (find_value(nv, nn, ov[i].name) < 0) {
			struct change *c = plan_add(d->plan, CH_DELETE_VALUE, path, ov[i].name);

			c->had_old = 1;
			reg_value_copy(&c->old, &ov[i]);
		}
	ret = 0;
out:
	reg_values_free(ov, on);
	reg_values_free(nv, nn);
	return ret;
}

/* A key on one side only: every key and value below it is added (side new) or deleted. */
static int diff_one_side(struct diff *d, struct hive *h, hive_key k, const char *path, unsigned depth, struct gt_error *e)
{
	int added = h == d->new, ret = 0;
	hive_key *kids;
	size_t n;

	if (depth > KEYPATH_MAX_DEPTH)
		return gt_fail(e, GT_REFUSED, "key tree deeper than %u levels under '%s'", KEYPATH_MAX_DEPTH, path);
	if (added)
		plan_add(d->plan, CH_ADD_KEY, path, NULL);
	if (diff_values(d, added ? 0 : k, added ? k : 0, path, e) < 0 || hive_subkeys(h, k, &kids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		char *name = hive_key_name(h, kids[i], e), *sub;

		if (!name) {
			ret = -1;
			break;
		}
		sub = child_path(path, name);
		ret = diff_one_side(d, h, kids[i], sub, depth + 1, e);
		free(sub);
		free(name);
	}
	free(kids);
	if (ret == 0 && !added)
		plan_add(d->plan, CH_DELETE_KEY, path, NULL);
	return ret;
}

static int diff_keys(struct diff *d, hive_key ko, hive_key kn, const char *path, unsigned depth, struct gt_error *e)
{
	hive_key *kids;
	size_t n;
	int ret = 0;

	if (depth > KEYPATH_MAX_DEPTH)
		return gt_fail(e, GT_REFUSED, "key tree deeper than %u levels under '%s'", KEYPATH_MAX_DEPTH, path);
	if (diff_values(d, ko, kn, path, e) < 0 || hive_subkeys(d->new, kn, &kids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		char *name = hive_key_name(d->new, kids[i], e), *sub;
		hive_key other;
		int r;

		if (!name)
			return free(kids), -1;
		sub = child_path(path, name);
		r = hive_child(d->old, ko, name, &other, e);
		ret = r < 0 ? -1 : r ? diff_keys(d, other, kids[i], sub, depth + 1, e) : diff_one_side(d, d->new, kids[i], sub, depth + 1, e);
		free(sub);
		free(name);
	}
	free(kids);
	if (ret < 0 || hive_subkeys(d->old, ko, &kids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		char *name = hive_key_name(d->old, kids[i], e), *sub;
		hive_key other;
		int r;

		if (!name)
			return free(kids), -1;
		sub = child_path(path, name);
		r = hive_child(d->new, kn, name, &other, e);
		ret = r < 0 ? -1 : r ? 0 : diff_one_side(d, d->old, kids[i], sub, depth + 1, e);
		free(sub);
		free(name);
	}
	free(kids);
	return ret;
}

static int read_view(const struct hivetx *tx, uint8_t **out, struct gt_error *e)
{
	uint8_t *buf = xmalloc(tx->view_len ? tx->view_len : 1);
	size_t done = 0;

	while (done < tx->view_len) {
		ssize_t r = pread(tx->view_fd, buf + done, tx->view_len - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return gt_fail(e, GT_FAILED, "cannot read the replayed copy: %s", r < 0 ? strerror(errno) : "short read");
		}
		done += (size_t)r;
	}
	*out = buf;
	return 0;
}

int hivetx_recover(struct hivetx *tx, const char *state_dir, const struct journal_meta *meta, struct gt_error *e)
{
	char held[SAFEFILE_FD_NAME_MAX];
	struct gt_error unread = { 0 };
	struct diff d = { .new = tx->hive, .plan = &tx->plan };
	uint8_t *view = NULL;
	int ret;

	if (!tx->replayed)
		return gt_fail(e, GT_FAILED, "internal error: '%s' has no replayed copy to write", tx->file.path);
	/* a primary whose base block is bad cannot be read at all: nothing to compare with */
	safefile_fd_name(tx->file.fd, held);
	if (hive_open(held, 0, tx->hdr.minor, &d.old, &unread) == 0) {
		ret = diff_keys(&d, hive_root(d.old), hive_root(d.new), "", 0, e);
		hive_close(d.old);
		if (ret < 0)
			return gt_prefix(e, "'%s' left unchanged: ", tx->file.path);
	}
	gt_error_clear(&unread);
	if (read_view(tx, &view, e) < 0)
		return -1;
	ret = hivetx_commit_bytes(tx, view, tx->view_len, state_dir, meta, e);
	free(view);
	return ret;
}
