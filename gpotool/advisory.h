/* Warnings that go with particular registry values, whatever path stages them: today the
 * KB5014754 compatibility-mode values, whose effect Microsoft ended on 2025-09-09. */
#ifndef GPOTOOL_ADVISORY_H
#define GPOTOOL_ADVISORY_H

#include <time.h>

#include "plan.h"
#include "sbuf.h"

struct json_object;

/* Appends one warning line per matching change in the plan to out (none: out unchanged),
 * judged as of the given day (UTC midnight). Returns the number of warnings; if jwarnings
 * is not NULL, a structured object per warning is appended to that JSON array. */
int advisory_check(const struct plan *p, time_t as_of, struct sbuf *out, struct json_object *jwarnings);

#endif
