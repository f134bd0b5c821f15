/* A GPO on disk: a SYSVOL GPO folder ({GUID} holding GPT.INI, Machine/, User/) or a GPMC
 * backup folder (Backup.xml and DomainSysvol/GPO/...). Paths inside are resolved
 * case-insensitively (SYSVOL copies differ in case) and never through a symbolic link. */
#ifndef GPOTOOL_GPO_H
#define GPOTOOL_GPO_H

#include "error.h"

struct gpo {
	char *dir;           /* as given */
	int backup;          /* a GPMC backup folder */
	char *root;          /* the folder holding Machine/ and User/ */
	char guid[39];       /* the GPO's GUID, braced, upper-case; "" when the folder name is not one */
	char *gpt_path;      /* GPT.INI (GPO folders only) */
	char *backup_xml;    /* Backup.xml (backups only) */
};

int gpo_open(const char *dir, struct gpo *g, struct gt_error *e);
void gpo_release(struct gpo *g);

/* Machine|User/Preferences/Registry/Registry.xml below root: existing components in the
 * case they have on disk, missing ones as GPMC spells them. *exists says whether the file is
 * there. Refuses a symbolic link anywhere below the GPO folder. *path caller-freed. */
int gpo_registry_path(const struct gpo *g, int user, char **path, int *exists, struct gt_error *e);
/* Creates the missing folders on the way to Registry.xml (mode 0755). */
int gpo_make_registry_dir(const struct gpo *g, int user, struct gt_error *e);

/* Finds name in dir case-insensitively: 1 found (*out = dir/name as on disk, caller frees),
 * 0 absent, -1 error (a symbolic link is refused). */
int dir_find_ci(const char *dir, const char *name, char **out, struct gt_error *e);

/* Where the templates/ data lives: GPOTOOL_DATADIR, the installed path, or the build tree. */
const char *gpotool_datadir(void);
/* datadir + "/" + name in static storage. */
const char *gpotool_data_file(const char *name);

#endif
