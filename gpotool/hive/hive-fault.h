/* The hive damage points of the fault tests (GPOTOOL_FAULT, core/fault.h): they prove that the
 * second reader refuses a written hive that is not what the plan asked for. */
#ifndef GPOTOOL_HIVE_FAULT_H
#define GPOTOOL_HIVE_FAULT_H

#include "core/error.h"
#include "hive/hive.h"
#include "state/plan.h"

/* Between the temp hive being written and libregf verifying it (GPOTOOL_FAULT):
 *   hive-written-flip-data    one data byte of the last planned value, in the file only
 *   hive-written-retype       the last planned value's type, in the file only
 *   hive-written-flip-other   a value of the same key that the plan does not touch, file only
 *   hive-written-drop-change  the last planned value change undone, in hivex and the file
 * h is the edited hive, p its plan, tmp the temp file (written again here). 0 when nothing
 * was asked for or the file was damaged as asked; -1 (GT_FAILED) when there was nothing
 * to damage, so that a test of the refusal cannot pass without the damage. */
int fault_hive_written(struct hive *h, const struct plan *p, int fd, const char *tmp, struct gt_error *e);

#endif
