/* The one error record every module fills; see error.h. */
#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int gt_fail(struct gt_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code != GT_OK)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int gt_prefix(struct gt_error *e, const char *fmt, ...)
{
	char prefix[512], old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	{
		size_t n = strlen(prefix);

		/* "'PATH': " before a message that already says 'PATH' */
		if (n > 4 && prefix[0] == '\'' && strcmp(prefix + n - 3, "': ") == 0 && !memchr(prefix + 1, '\'', n - 4)) {
			prefix[n - 2] = '\0';
			if (strstr(e->msg, prefix))
				return -1;
			prefix[n - 2] = ':';
		}
	}
	/* truncation is acceptable for a message; the start says the most */
	memcpy(old, e->msg, sizeof(old));
	size_t plen = strnlen(prefix, sizeof(prefix) - 1);
	memcpy(e->msg, prefix, plen);
	size_t olen = strnlen(old, sizeof(e->msg) - 1 - plen);
	memcpy(e->msg + plen, old, olen);
	e->msg[plen + olen] = '\0';
	return -1;
}

void gt_error_clear(struct gt_error *e)
{
	e->code = GT_OK;
	e->msg[0] = '\0';
}

int gt_path_errno_code(int err)
{
	return err == ENOENT || err == ENOTDIR || err == EISDIR ? GT_NO_SUCH_PATH : GT_FAILED;
}

int gt_check_path(const char *path, int want_dir, const char *takes, struct gt_error *e)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (gt_path_errno_code(errno) == GT_NO_SUCH_PATH)
			return gt_fail(e, GT_NO_SUCH_PATH, "'%s' does not exist (%s)", path, takes);
		return gt_fail(e, GT_FAILED, "unable to open '%s': %s", path, strerror(errno));
	}
	if (want_dir && !S_ISDIR(st.st_mode))
		return gt_fail(e, GT_NO_SUCH_PATH, "'%s' is not a folder (%s)", path, takes);
	if (!want_dir && S_ISDIR(st.st_mode))
		return gt_fail(e, GT_NO_SUCH_PATH, "'%s' is a folder, not a file (%s)", path, takes);
	if (!want_dir && !S_ISREG(st.st_mode))
		return gt_fail(e, GT_NO_SUCH_PATH, "'%s' is not a regular file (%s)", path, takes);
	return 0;
}
