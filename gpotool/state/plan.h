/* A plan: the list of logical changes one command makes to one target, in the order made,
 * each with its before and after. Printed to the user, recorded in the journal, checked by
 * the verifier, and (later) inverted by rollback. */
#ifndef GPOTOOL_PLAN_H
#define GPOTOOL_PLAN_H

#include <stddef.h>

#include "reg/regvalue.h"
#include "core/error.h"
#include "core/sbuf.h"

enum change_kind { CH_ADD_KEY, CH_DELETE_KEY, CH_SET_VALUE, CH_DELETE_VALUE };

struct change {
	enum change_kind kind;
	char *key;              /* below the hive root, stored names, '\' separated; "" = root */
	char *name;             /* value name ("" = default) for value changes, else NULL */
	int had_old;            /* the value existed before (old is valid) */
	struct reg_value old;
	int has_new;            /* the value exists after (new_value is valid) */
	struct reg_value new_value;
};

struct plan {
	struct change *v;
	size_t n, cap;
};

void plan_init(struct plan *p);
void plan_release(struct plan *p);
/* Appends a change; key and name are copied. The returned pointer is valid until the next add. */
struct change *plan_add(struct plan *p, enum change_kind kind, const char *key, const char *name);
const char *change_kind_name(enum change_kind kind);
/* One line for the user: "set value  HKLM\SYSTEM\...\Name: (absent) -> REG_DWORD 1 (0x00000001)". */
void change_describe(const struct change *c, const char *key_prefix, struct sbuf *out);
struct json_object;
/* JSON array of the changes (kind, path, key, name, old, new with type and hex data).
 * The caller owns the returned object (json_object_put). */
struct json_object *plan_to_json(const struct plan *p, const char *key_prefix);
/* {"type": "REG_DWORD", "hex": "01000000", "text": "REG_DWORD 1 (0x00000001)"}; caller owns it. */
struct json_object *reg_value_to_json(const struct reg_value *v);

/* Reads back what plan_to_json wrote (a journal's changes); GT_REFUSED when malformed.
 * p released by the caller, also on error. */
int plan_from_json(struct json_object *arr, struct plan *p, struct gt_error *e);
/* The changes that undo in, last first: each value back to its old type and data (or
 * deleted where it was absent), created keys deleted, deleted keys created. out released
 * by the caller. */
void plan_invert(const struct plan *in, struct plan *out);

/* "HKLM\SYSTEM" + "\" + key (+ "\" + name) as shown to the user. */
void display_path(const char *prefix, const char *key, const char *name, struct sbuf *out);

#endif
