/* The state directory: where journal entries, writer intents and the audit log live; see
 * statedir.h. */
#include "state/statedir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sbuf.h"

int statedir_mkdir_private(const char *path, struct gt_error *e)
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

int statedir_prepare(const char *dir, struct gt_error *e)
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
		ret = statedir_mkdir_private(p, e);
	free(p);
	return ret;
}
