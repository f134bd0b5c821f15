/* Where the templates and data tables are found; see datadir.h. */
#include "core/datadir.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef GPOTOOL_DATADIR
#define GPOTOOL_DATADIR "/usr/local/share/gpotool/templates"
#endif

const char *gpotool_datadir(void)
{
	static char buf[PATH_MAX];
	const char *env = getenv("GPOTOOL_DATADIR");
	char exe[PATH_MAX];
	ssize_t n;
	struct stat st;

	if (env && *env)
		return env;
	/* the build tree first when running from it: build/gpotool -> ../templates */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		const char *bindir;

		exe[n] = '\0';
		bindir = dirname(exe);
		for (const char *up = "/..", *up2 = "/../.."; up; up = up2, up2 = NULL) {
			snprintf(buf, sizeof(buf), "%s%s/templates", bindir, up);
			if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
				return buf;
		}
		/* installed: PREFIX/bin/gpotool -> PREFIX/share/gpotool/templates, whatever PREFIX
		 * (or DESTDIR) it was built for */
		snprintf(buf, sizeof(buf), "%s/../share/gpotool/templates", bindir);
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
			return buf;
	}
	return GPOTOOL_DATADIR;
}

const char *gpotool_data_file(const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", gpotool_datadir(), name);
	return buf;
}
