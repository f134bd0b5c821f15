/* Test-only kill, stop and corruption points; see fault.h. The damage is done here, not at
 * the call sites, so that each commit path carries one line for it. */
#include "core/fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


int fault_asked(const char *name)
{
	const char *want = getenv("GPOTOOL_FAULT");

	return want && strcmp(want, name) == 0;
}

void fault_point(const char *name)
{
	const char *want = getenv("GPOTOOL_FAULT");
	size_t n = strlen(name);

	if (!want || strncmp(want, name, n) != 0)
		return;
	if (want[n] == '\0')
		raise(SIGKILL);
	else if (strcmp(want + n, ":stop") == 0)
		raise(SIGSTOP);
}

int fault_nothing_to_damage(const char *what, struct gt_error *e)
{
	return gt_fail(e, GT_FAILED, "fault point '%s' found nothing to damage", what);
}
