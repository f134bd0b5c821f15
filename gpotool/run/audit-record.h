/* The audit record of a run that writes (state/audit.h keeps the log). */
#ifndef GPOTOOL_AUDIT_RECORD_H
#define GPOTOOL_AUDIT_RECORD_H

#include "core/error.h"
#include "run/run.h"

/* The audit record of a writing command that ended with code (and err, when it failed):
 * who, where, when, under which ticket, what it did to which files. Caller puts it. */
struct json_object *audit_record(const struct gt_ctx *ctx, const char *command, int code, const struct gt_error *err);
/* The record a journal entry (doc) is owed and gets late: its write finished by recovery or
 * undone by it, or finished by a writer killed before its record. The fields of audit_record,
 * from the entry, and "recorded_late": why, and by which command. Caller puts it. */
struct json_object *audit_record_late(const struct gt_ctx *ctx, struct json_object *doc);

#endif
