/* GPO folders and GPMC backups on disk; see gpo.h. */
#include "gpo/gpo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpo/adattrs.h"
#include "core/safefile.h"
#include "core/sbuf.h"
#include "core/dirfind.h"

#define SAMBA_SUFFIX ".SAMBABACKUP"

static void upper_guid(char *g)
{
	for (; *g; g++)
		*g = (char)toupper((unsigned char)*g);
}

/* A GPMC backup names the GPO in Backup.xml: <ID><![CDATA[{guid}]]></ID>. */
static int backup_guid(const char *backup_xml, char guid[39], struct gt_error *e)
{
	static const char tag[] = "<ID><![CDATA[";
	uint8_t *buf;
	size_t len;
	const char *p;

	if (read_whole_file(backup_xml, 16u * 1024 * 1024, &buf, &len, e) < 0)
		return -1;
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	p = strstr((const char *)buf, tag);
	guid[0] = '\0';
	if (p && strlen(p) >= sizeof(tag) - 1 + 38) {
		memcpy(guid, p + sizeof(tag) - 1, 38);
		guid[38] = '\0';
	}
	free(buf);
	if (!is_braced_guid(guid))
		return gt_fail(e, GT_REFUSED, "'%s' names no GPO GUID (<ID>)", backup_xml);
	upper_guid(guid);
	return 0;
}

/* The number in <tag>N</tag> or <tag><![CDATA[N]]></tag>, GPMC writing the latter. */
static int backup_number(const char *text, size_t len, const char *tag, uint32_t *out)
{
	struct sbuf open;
	const char *p, *end = text + len;
	unsigned long long v = 0;
	size_t digits = 0;

	sbuf_init(&open);
	sbuf_addf(&open, "<%s>", tag);
	p = memmem(text, len, open.buf, open.len);
	if (p)
		p += open.len;
	sbuf_release(&open);
	if (!p)
		return 0;
	if ((size_t)(end - p) >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
		p += 9;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 11; p++, digits++)
		v = v * 10 + (unsigned)(*p - '0');
	if (digits == 0 || digits > 10 || v > UINT32_MAX || p >= end || (*p != ']' && *p != '<'))
		return 0;
	*out = (uint32_t)v;
	return 1;
}

int gpo_backup_versions(const uint8_t *backup_xml, size_t len, uint32_t *machine, uint32_t *user)
{
	const char *t = (const char *)backup_xml;

	return backup_number(t, len, "MachineVersionNumber", machine) && backup_number(t, len, "UserVersionNumber", user);
}

/* Neither a GPO folder nor a GPMC backup: says what it is when it is a samba-tool gpo backup
 * (or the --tmpdir holding one), so that the user knows which folder to give. */
static void refuse_other_folder(const char *dir, struct gt_error *e)
{
	struct gt_error ignored = { 0 };
	struct sbuf p;
	int exists = 0;

	sbuf_init(&p);
	if (dir_join_existing(dir, "GPT.INI" SAMBA_SUFFIX, &p, &exists, &ignored) == 0 && exists)
		gt_fail(e, GT_REFUSED, "'%s' is a samba-tool gpo backup (GPT.INI" SAMBA_SUFFIX "): gpo show reads it; to change "
			"it, restore it as a GPO (samba-tool gpo restore) and work on that GPO's folder", dir);
	else if (dir_join_existing(dir, "policy", &p, &exists, &ignored) == 0 && exists)
		gt_fail(e, GT_REFUSED, "'%s' is neither a GPO folder (no GPT.INI) nor a GPMC backup (no Backup.xml); if it "
			"is the --tmpdir of samba-tool gpo backup, give its policy/{GUID} folder", dir);
	else
		gt_fail(e, GT_REFUSED, "'%s' is neither a GPO folder (no GPT.INI) nor a GPMC backup (no Backup.xml)", dir);
	sbuf_release(&p);
}

int gpo_open(const char *dir, struct gpo *g, struct gt_error *e)
{
	struct sbuf p;
	struct stat st;
	int exists;

	memset(g, 0, sizeof(*g));
	if (stat(dir, &st) < 0)
		return gt_fail(e, gt_path_errno_code(errno), "unable to open '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return gt_fail(e, GT_USAGE, "'%s' is not a folder: give the GPO folder (holding GPT.INI) or a GPMC backup folder", dir);
	g->dir = xstrdup(dir);
	sbuf_init(&p);
	if (dir_join_existing(dir, "GPT.INI", &p, &exists, e) < 0)
		goto fail;
	if (exists) {
		char *copy = xstrdup(dir), *base;

		g->gpt_path = xstrdup(p.buf);
		g->root = xstrdup(dir);
		base = basename(copy);
		if (is_braced_guid(base)) {
			snprintf(g->guid, sizeof(g->guid), "%s", base);
			upper_guid(g->guid);
		}
		free(copy);
		sbuf_release(&p);
		return 0;
	}
	if (dir_join_existing(dir, "Backup.xml", &p, &exists, e) < 0)
		goto fail;
	if (!exists) {
		refuse_other_folder(dir, e);
		goto fail;
	}
	g->backup = 1;
	g->backup_xml = xstrdup(p.buf);
	if (dir_join_existing(dir, "DomainSysvol", &p, &exists, e) < 0 || !exists ||
	    dir_join_existing(p.buf, "GPO", &p, &exists, e) < 0 || !exists) {
		gt_fail(e, GT_REFUSED, "'%s' is a GPMC backup without DomainSysvol/GPO", dir);
		goto fail;
	}
	g->root = xstrdup(p.buf);
	if (backup_guid(g->backup_xml, g->guid, e) < 0)
		goto fail;
	sbuf_release(&p);
	return 0;
fail:
	sbuf_release(&p);
	gpo_release(g);
	return -1;
}

void gpo_release(struct gpo *g)
{
	free(g->dir);
	free(g->root);
	free(g->gpt_path);
	free(g->backup_xml);
	memset(g, 0, sizeof(*g));
}

static const char *const registry_parts[] = { "Preferences", "Registry", "Registry.xml" };

int gpo_registry_path(const struct gpo *g, int user, char **path, int *exists, struct gt_error *e)
{
	struct sbuf cur, next;
	int ok = 1;

	*path = NULL;
	*exists = 0;
	sbuf_init(&cur);
	sbuf_init(&next);
	if (dir_join_existing(g->root, user ? "User" : "Machine", &cur, &ok, e) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(registry_parts) / sizeof(registry_parts[0]); i++) {
		int here = 0;

		if (ok) {
			if (dir_join_existing(cur.buf, registry_parts[i], &next, &here, e) < 0)
				goto fail;
		} else {
			sbuf_reset(&next);
			sbuf_addf(&next, "%s/%s", cur.buf, registry_parts[i]);
		}
		ok = ok && here;
		sbuf_reset(&cur);
		sbuf_addstr(&cur, next.buf);
	}
	*exists = ok;
	*path = sbuf_detach(&cur, NULL);
	sbuf_release(&next);
	return 0;
fail:
	sbuf_release(&cur);
	sbuf_release(&next);
	return -1;
}

/* Each missing folder below the GPO root is made relative to its parent's descriptor, and
 * every one is entered with O_NOFOLLOW: a link planted in the GPO (Machine/Preferences ->
 * /etc) makes the write fail instead of root creating folders wherever it points. */
int gpo_make_registry_dir(const struct gpo *g, int user, char ***created, size_t *ncreated, struct gt_error *e)
{
	char *path, *dir;
	int exists, ret = 0, fd;

	if (created) {
		*created = NULL;
		*ncreated = 0;
	}
	if (gpo_registry_path(g, user, &path, &exists, e) < 0)
		return -1;
	dir = xstrdup(path);
	fd = open(g->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		ret = gt_fail(e, GT_FAILED, "unable to open '%s': %s", g->root, strerror(errno));
	for (char *c = dir + strlen(g->root) + 1, *s = c; ret == 0 && *s; s++) {
		int next;

		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdirat(fd, c, 0755) == 0 && created) {
			*created = xrealloc(*created, (*ncreated + 1) * sizeof(**created));
			(*created)[(*ncreated)++] = absolute_path(dir);
		} else if (errno != EEXIST) {
			ret = gt_fail(e, GT_FAILED, "unable to create '%s': %s", dir, strerror(errno));
		}
		if (ret == 0 && (next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			ret = gt_fail(e, errno == ELOOP || errno == ENOTDIR ? GT_REFUSED : GT_FAILED,
				      errno == ELOOP || errno == ENOTDIR ? "'%s' is not a real folder (a symbolic link or a file); "
				      "not writing through it" : "unable to open '%s': %s", dir, strerror(errno));
		if (ret == 0) {
			close(fd);
			fd = next;
		}
		*s = '/';
		c = s + 1;
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	free(path);
	return ret;
}

static int listed(char *const *list, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], path) == 0)
			return 1;
	return 0;
}

size_t gpo_remove_created_dirs(const struct gpo *g, int user, char *const *created, size_t ncreated, struct sbuf *out)
{
	struct gt_error ignored = { 0 };
	size_t root_len = strlen(g->root), removed = 0;
	char *path, *slash;
	int exists;

	/* the folders as the GPO resolves them now (gpo_registry_path refuses a link anywhere) */
	if (gpo_registry_path(g, user, &path, &exists, &ignored) < 0)
		return 0;
	while ((slash = strrchr(path, '/')) && (size_t)(slash - path) > root_len) {
		char *abs;
		int gone;

		*slash = '\0';
		abs = absolute_path(path);
		/* only what the entry made, and only while empty: rmdir refuses anything else */
		gone = listed(created, ncreated, abs) && rmdir(path) == 0;
		free(abs);
		if (!gone)
			break;
		sbuf_addf(out, "%s%s", removed++ ? ", " : "", path + root_len + 1);
	}
	free(path);
	return removed;
}

/* ---- samba-tool gpo backup ---- */

/* dir/parts[0]/.../parts[n-1] as spelled on disk into out; *exists 0 when one is missing. */
static int join_parts(const char *dir, const char *const *parts, size_t n, struct sbuf *out, int *exists,
		      struct gt_error *e)
{
	sbuf_reset(out);
	sbuf_addstr(out, dir);
	*exists = 1;
	for (size_t i = 0; i < n && *exists; i++)
		if (dir_join_existing(out->buf, parts[i], out, exists, e) < 0)
			return -1;
	return 0;
}

/* A .SAMBAEXT file: the attribute's value as samba-tool wrote it, a line of GUIDs. */
static int read_ext_file(const char *path, char **text, struct gt_error *e)
{
	uint8_t *buf;
	size_t len;

	*text = NULL;
	if (read_whole_file(path, 64u * 1024, &buf, &len, e) < 0)
		return -1;
	if (memchr(buf, '\0', len)) {
		free(buf);
		return gt_fail(e, GT_REFUSED, "'%s' holds a NUL byte: not an extension list", path);
	}
	*text = xrealloc(buf, len + 1);
	(*text)[len] = '\0';
	return 0;
}

int gpo_samba_backup_open(const char *dir, struct gpo_samba_backup *b, struct gt_error *e)
{
	static const char *const gpt[] = { "GPT.INI" SAMBA_SUFFIX }, *const plain_gpt[] = { "GPT.INI" };
	static const char *const reg[2][4] = {
		{ "Machine", "Preferences", "Registry", "Registry.xml" SAMBA_SUFFIX },
		{ "User", "Preferences", "Registry", "Registry.xml" SAMBA_SUFFIX },
	};
	static const char *const ext[2][1] = { { "gPCMachineExtensionNames.SAMBAEXT" }, { "gPCUserExtensionNames.SAMBAEXT" } };
	struct sbuf p;
	struct stat st;
	int exists, plain;
	char *copy, *base;

	memset(b, 0, sizeof(*b));
	/* not a folder: gpo_open says so, as for any GPO folder */
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	sbuf_init(&p);
	if (join_parts(dir, plain_gpt, 1, &p, &plain, e) < 0 || join_parts(dir, gpt, 1, &p, &exists, e) < 0)
		goto fail;
	if (plain || !exists) {
		sbuf_release(&p);
		return 0;
	}
	b->dir = xstrdup(dir);
	b->gpt_path = xstrdup(p.buf);
	copy = xstrdup(dir);
	base = basename(copy);
	if (is_braced_guid(base)) {
		snprintf(b->guid, sizeof(b->guid), "%s", base);
		upper_guid(b->guid);
	}
	free(copy);
	for (int s = 0; s < 2; s++) {
		if (join_parts(dir, reg[s], 4, &p, &exists, e) < 0)
			goto fail;
		if (exists)
			b->reg_path[s] = xstrdup(p.buf);
		if (join_parts(dir, ext[s], 1, &p, &exists, e) < 0 || (exists && read_ext_file(p.buf, &b->ext[s], e) < 0))
			goto fail;
	}
	sbuf_release(&p);
	return 1;
fail:
	sbuf_release(&p);
	gpo_samba_backup_release(b);
	return -1;
}

void gpo_samba_backup_release(struct gpo_samba_backup *b)
{
	free(b->dir);
	free(b->gpt_path);
	for (int s = 0; s < 2; s++) {
		free(b->reg_path[s]);
		free(b->ext[s]);
	}
	memset(b, 0, sizeof(*b));
}
