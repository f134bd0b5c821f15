/* The table of update builds (templates/update-builds.tsv): the Windows Server builds
 * KB5014754 shipped for, and where each stands against two KB5014754 updates (February 11
 * and September 9, 2025; the table's header names their dates). */
#ifndef GPOTOOL_BUILDS_H
#define GPOTOOL_BUILDS_H

#include <stdint.h>

#include "core/error.h"

enum patch_level {
	PATCH_UNKNOWN,          /* a build the table does not list, newer than its oldest */
	PATCH_NO_KB,            /* older than every build KB5014754 shipped for: no effect there */
	PATCH_NOT_LISTED,       /* KB5014754 shipped for it; the table lists no update UBRs */
	PATCH_BEFORE_FEB_2025,
	PATCH_FEB_2025,
	PATCH_SEP_2025,
};

struct build_status {
	enum patch_level level;
	char product[64];
	uint32_t feb_ubr, sep_ubr;
	char feb_date[11], sep_date[11];   /* from the header: "2025-02-11", "2025-09-09" */
	uint32_t oldest_build;             /* the oldest build listed, and its product */
	char oldest_product[64];
};

/* Looks build.ubr up in datadir's table. A build not in the table is PATCH_UNKNOWN (or
 * PATCH_NO_KB, older than all of it), not an error. */
int builds_lookup(const char *datadir, uint32_t build, uint32_t ubr, struct build_status *st, struct gt_error *e);

#endif
