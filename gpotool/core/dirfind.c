/* Names in folders found as Windows finds them, whatever their case; see dirfind.h. */
#include "core/dirfind.h"

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

#include "core/sbuf.h"

/* Finds name in dir case-insensitively. 1 found (*out = the on-disk spelling, caller frees),
 * 0 absent, -1 error; a symbolic link is refused: it could lead out of the GPO. */
static int find_entry(const char *dir, const char *name, char **out, struct gt_error *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	*out = NULL;
	if (!d)
		return errno == ENOENT ? 0 : gt_fail(e, GT_FAILED, "unable to read '%s': %s", dir, strerror(errno));
	while (!found && (de = readdir(d)))
		if (strcasecmp(de->d_name, name) == 0) {
			*out = xstrdup(de->d_name);
			found = 1;
		}
	closedir(d);
	if (found) {
		struct sbuf p;
		struct stat st;

		sbuf_init(&p);
		sbuf_addf(&p, "%s/%s", dir, *out);
		if (lstat(p.buf, &st) == 0 && S_ISLNK(st.st_mode)) {
			gt_fail(e, GT_REFUSED, "'%s' is a symbolic link; gpotool does not follow links inside a GPO", p.buf);
			found = -1;
		}
		sbuf_release(&p);
		if (found < 0) {
			free(*out);
			*out = NULL;
		}
	}
	return found;
}

/* dir + "/" + name, name as found on disk or as given when absent. */
int dir_join_existing(const char *dir, const char *name, struct sbuf *out, int *exists, struct gt_error *e)
{
	char *found, *base = xstrdup(dir); /* dir may be out's own buffer */
	int r = find_entry(base, name, &found, e);

	if (r >= 0) {
		sbuf_reset(out);
		sbuf_addf(out, "%s/%s", base, r ? found : name);
		*exists = r;
	}
	free(found);
	free(base);
	return r < 0 ? -1 : 0;
}

int dir_find_ci(const char *dir, const char *name, char **out, struct gt_error *e)
{
	struct sbuf p;
	int exists;

	*out = NULL;
	sbuf_init(&p);
	if (dir_join_existing(dir, name, &p, &exists, e) < 0) {
		sbuf_release(&p);
		return -1;
	}
	if (exists)
		*out = sbuf_detach(&p, NULL);
	sbuf_release(&p);
	return exists;
}
