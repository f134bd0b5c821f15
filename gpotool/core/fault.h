/* Named points where tests interrupt or sabotage gpotool (GPOTOOL_FAULT=name), to prove that
 * an interrupted write leaves every target whole and the journal able to finish or undo it,
 * and that the second reader refuses a file that is not what was asked for. Unset, every
 * function here does nothing. Each point is one line of the table in fault.c, which gives the
 * exact name the tests use and where the point is; call sites name the point by its enum. */
#ifndef GPOTOOL_FAULT_H
#define GPOTOOL_FAULT_H

#include "core/error.h"

enum fault_id {
	/* kill points (fault_point) */
	FAULT_HIVE_BEFORE_RENAME,
	FAULT_HIVE_AFTER_RENAME,
	FAULT_GPO_BEFORE_RENAMES,
	FAULT_GPO_BETWEEN_RENAMES,
	FAULT_AUDIT_BEFORE_APPEND,
	FAULT_AUDIT_BEFORE_HEAD,
	FAULT_AUDIT_AFTER_APPEND,
	FAULT_RECOVER_AFTER_WRITE,
	FAULT_RECOVER_AFTER_MARK,
	FAULT_ABANDON_AFTER_LOAD,
	FAULT_JOURNAL_ENTRY_OPENED,
	FAULT_DOMAIN_JOURNALED,
	FAULT_DOMAIN_REGISTRY_WRITTEN,
	FAULT_DOMAIN_FILES_WRITTEN,
	FAULT_DOMAIN_GPC_WRITTEN,
	FAULT_DOMAIN_LINK_WRITTEN,
	FAULT_DOMAIN_CAS_READ,
	/* damage points (fault_asked), beside the engines they damage (hive-fault.h, gpo-fault.h) */
	FAULT_HIVE_WRITTEN,            /* any hive-written-* name: the family, known names or not */
	FAULT_HIVE_WRITTEN_FLIP_DATA,
	FAULT_HIVE_WRITTEN_RETYPE,
	FAULT_HIVE_WRITTEN_FLIP_OTHER,
	FAULT_HIVE_WRITTEN_DROP_CHANGE,
	FAULT_GPTINI_RENDERED_VERSION,
	FAULT_GPP_APPLIED,             /* any gpp-applied-* name */
	FAULT_GPP_APPLIED_VALUE,
	FAULT_GPP_APPLIED_OTHER,
	FAULT_GPP_APPLIED_CLSID,
	FAULT_NPOINTS
};

/* A kill point: dies by SIGKILL here when GPOTOOL_FAULT is its name; stops itself (SIGSTOP)
 * when it is "name:stop", so that a test holds the process exactly here (waiting for
 * /proc/PID/stat to say 'T') instead of guessing with a sleep. */
void fault_point(enum fault_id kill);

/* A damage point: 1 when GPOTOOL_FAULT is exactly its name, or, for a family
 * (FAULT_HIVE_WRITTEN, FAULT_GPP_APPLIED), starts with the family's prefix. */
int fault_asked(enum fault_id damage);
/* A damage point asked for found nothing to damage, or a family's name is none of its
 * points: GT_FAILED naming the GPOTOOL_FAULT value, so that a test of a refusal cannot pass
 * without the damage. Returns -1. */
int fault_nothing_to_damage(struct gt_error *e);

/* The exact name of point id, as GPOTOOL_FAULT gives it (a family's prefix for a family). */
const char *fault_name(enum fault_id id);
/* 1 when value names a point: a kill point, "kill point:stop", a damage point, or a name of
 * a damage family (whose engine reports one that is none of its points). main notes a
 * GPOTOOL_FAULT that is not one: a typo in a test would otherwise interrupt nothing, silently. */
int fault_value_known(const char *value);

#endif
