/* Named points where tests interrupt or sabotage gpotool (GPOTOOL_FAULT=name), to prove that
 * an interrupted write leaves every target whole and the journal able to finish or undo it,
 * and that the second reader refuses a file that is not what was asked for. Unset, every
 * function here does nothing. */
#ifndef GPOTOOL_FAULT_H
#define GPOTOOL_FAULT_H

#include "core/error.h"

/* Dies by SIGKILL here when GPOTOOL_FAULT is name; stops itself (SIGSTOP) when it is
 * "name:stop", so that a test holds the process exactly here (waiting for /proc/PID/stat
 * to say 'T') instead of guessing with a sleep. */
void fault_point(const char *name);

/* 1 when GPOTOOL_FAULT is exactly name: for the damage points of the engines (hive-fault.h,
 * gpo-fault.h), which live beside what they damage. */
int fault_asked(const char *name);
/* A damage point asked for found nothing to damage: GT_FAILED, so that a test of a refusal
 * cannot pass without the damage. Returns -1. */
int fault_nothing_to_damage(const char *what, struct gt_error *e);

#endif
