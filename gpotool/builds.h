/* The table of update builds (templates/update-builds.tsv): where a Windows Server build
 * stands against the KB5014754 milestones of February 11 and September 9, 2025. */
#ifndef GPOTOOL_BUILDS_H
#define GPOTOOL_BUILDS_H

#include <stdint.h>

#include "error.h"

enum patch_level { PATCH_UNKNOWN, PATCH_BEFORE_FEB_2025, PATCH_FEB_2025, PATCH_SEP_2025 };

struct build_status {
	enum patch_level level;
	char product[64];
	uint32_t feb_ubr, sep_ubr;
};

/* Looks build.ubr up in datadir's table. A build not in the table is PATCH_UNKNOWN, not an error. */
int builds_lookup(const char *datadir, uint32_t build, uint32_t ubr, struct build_status *st, struct gt_error *e);

#endif
