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
		gt_fail(e, GT_REFUSED, "'%s' is neither a GPO folder (no GPT.INI) nor a GPMC backup (no Backup.xml)", dir);
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
