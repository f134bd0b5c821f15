/* One GPO as a write target: its version file locked (GPT.INI, or Backup.xml for a GPMC
 * backup), one side's Registry.xml loaded and validated, and a commit that replaces
 * Registry.xml and then GPT.INI, each atomically, with both before-states journaled first.
 * GPT.INI goes last: until its version rises, clients do not look at the new Registry.xml. */
#ifndef GPOTOOL_GPOTX_H
#define GPOTOOL_GPOTX_H

#include <stdint.h>

#include "core/error.h"
#include "gpo/gpo.h"
#include "gpo/gpp.h"
#include "gpo/gptini.h"
#include "state/journal.h"
#include "state/plan.h"
#include "core/safefile.h"

struct gpotx {
	struct gpo gpo;
	int user;                       /* the User side (HKCU items, user half of the version) */
	struct locked_file version_file;
	struct gptini gpt;              /* GPO folders */
	char *reg_path;
	int reg_exists;
	struct locked_file reg_file;    /* when Registry.xml exists */
	struct gpp_doc *doc;
	const char *schema;
	struct sbuf new_reg;            /* the edited Registry.xml, once an edit is made */
	int edited;
	int remove_reg;                 /* the commit removes Registry.xml (a rollback to before it existed) */
	uint32_t new_version;
	char *journal_id;
	char *warning;                  /* the change is in place, but something after it went wrong */
	char *notice;                   /* the change is in place; something for the operator to do (NTACL) */
	char **created_dirs;            /* folders the commit made for a new Registry.xml (journaled) */
	size_t ncreated_dirs;
};

int gpotx_open(struct gpotx *tx, const char *dir, int user, int write, struct gt_error *e);
void gpotx_close(struct gpotx *tx);

/* "HKLM\SYSTEM\CurrentControlSet\Services\Kdc" -> hive "HKEY_LOCAL_MACHINE" and key
 * "SYSTEM\CurrentControlSet\Services\Kdc" (CurrentControlSet kept: clients resolve it). The
 * Machine side takes HKLM, HKCR, HKU and HKCC; the User side HKCU too. *key caller-freed. */
int gpp_split_key(const char *text, int user, const char **hive, char **key, struct gt_error *e);

/* 1 when the item s names is already there with the same action and data, no filters asked. */
int gpotx_has_item(const struct gpotx *tx, const struct gpp_setting *s);

/* Replaces Registry.xml and bumps the version, journaled; plan describes the change. */
int gpotx_commit(struct gpotx *tx, const char *state_dir, const struct journal_meta *meta, const struct plan *plan,
		 struct gt_error *e);

#endif
