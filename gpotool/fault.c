/* Test-only kill points; see fault.h. */
#include "fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void fault_point(const char *name)
{
	const char *want = getenv("GPOTOOL_FAULT");

	if (want && strcmp(want, name) == 0)
		raise(SIGKILL);
}
