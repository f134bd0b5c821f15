/* Named points where tests interrupt or sabotage gpotool (GPOTOOL_FAULT=name), to prove that
 * an interrupted write leaves every target whole and the journal able to finish or undo it,
 * and that the second reader refuses a file that is not what was asked for. Unset, every
 * function here does nothing. */
#ifndef GPOTOOL_FAULT_H
#define GPOTOOL_FAULT_H

#include "error.h"
#include "hive.h"
#include "plan.h"
#include "sbuf.h"

/* Dies by SIGKILL here when GPOTOOL_FAULT is name; stops itself (SIGSTOP) when it is
 * "name:stop", so that a test holds the process exactly here (waiting for /proc/PID/stat
 * to say 'T') instead of guessing with a sleep. */
void fault_point(const char *name);

/* Between the temp hive being written and libregf verifying it (GPOTOOL_FAULT):
 *   hive-written-flip-data    one data byte of the last planned value, in the file only
 *   hive-written-retype       the last planned value's type, in the file only
 *   hive-written-flip-other   a value of the same key that the plan does not touch, file only
 *   hive-written-drop-change  the last planned value change undone, in hivex and the file
 * h is the edited hive, p its plan, tmp the temp file (written again here). 0 when nothing
 * was asked for or the file was damaged as asked; -1 (GT_FAILED) when there was nothing
 * to damage, so that a test of the refusal cannot pass without the damage. */
int fault_hive_written(struct hive *h, const struct plan *p, int fd, const char *tmp, struct gt_error *e);

/* After GPT.INI is rendered with the bumped version and before it is read back:
 *   gptini-rendered-version   one digit of the Version changed */
void fault_gptini_rendered(struct sbuf *gpt);

/* After the Registry.xml edit and before its verification; name is the edited item's
 * value name:
 *   gpp-applied-value    the edited item's value attribute changed
 *   gpp-applied-other    another item's value attribute changed
 *   gpp-applied-clsid    the edited item's Registry clsid changed (only the schema knows it)
 * 0, or -1 (GT_FAILED) when there was nothing to damage. */
int fault_gpp_applied(struct sbuf *xml, const char *name, struct gt_error *e);

#endif
