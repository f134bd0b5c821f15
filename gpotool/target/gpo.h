/* For backends that write a GPO elsewhere (the domain backend writes it to SYSVOL over SMB):
 * what a GPO target's recorded change would put in place, computed and checked by the GPO
 * backend exactly as for a local commit, but not written. Included only inside target/. */
#ifndef GPOTOOL_TARGET_GPO_H
#define GPOTOOL_TARGET_GPO_H

#include <stddef.h>
#include <stdint.h>

#include "target/backend.h"

struct gptini;
struct gpp_setting;

enum gpo_staged_step {
	GPO_STAGED_NOTHING,   /* the GPO has the item already */
	GPO_STAGED_RAISE,     /* it has the item, but its half's version is 0: only the version rises */
	GPO_STAGED_WRITE,     /* Registry.xml changes */
};

struct gpo_staged {
	enum gpo_staged_step step;
	const uint8_t *reg;          /* the Registry.xml to put in place (the new one, or as it is) */
	size_t reg_len;
	const uint8_t *reg_before;   /* as it was (NULL, 0 when it did not exist) */
	size_t reg_before_len;
	int reg_existed;
	const char *reg_rel;         /* below the GPO folder, as spelt there: "Machine/Preferences/Registry/Registry.xml" */
	const struct gptini *gpt;    /* GPT.INI as read */
	const uint8_t *gpt_before;
	size_t gpt_before_len;
	int user;                    /* the User side */
	const struct gpp_setting *item;
};

/* The staged change of a GPO target opened, begun (not as a dry run) and planned: 0, with
 * plan (initialised by the caller) holding the item's change; -1 when nothing was planned.
 * Pointers into t, valid until target_close. */
int target_gpo_staged(struct target *t, struct gpo_staged *out, struct plan *plan, struct gt_error *e);

/* What a GPO target holds now, open for reading (kept open until target_close): GPT.INI
 * parsed and its bytes, the side's Registry.xml (NULL when there is none) and its path below
 * the GPO folder. Pointers into t. */
struct gpo_current {
	const struct gptini *gpt;
	const uint8_t *gpt_bytes;
	size_t gpt_len;
	const uint8_t *reg;
	size_t reg_len;
	int reg_exists;
	const char *reg_rel;
};
int target_gpo_current(struct target *t, struct gpo_current *out, struct gt_error *e);

#endif
