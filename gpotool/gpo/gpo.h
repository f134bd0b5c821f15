/* A GPO on disk: a SYSVOL GPO folder ({GUID} holding GPT.INI, Machine/, User/) or a GPMC
 * backup folder (Backup.xml and DomainSysvol/GPO/...); a samba-tool gpo backup is read only
 * (gpo_samba_backup_open). Paths inside are resolved case-insensitively (SYSVOL copies differ
 * in case) and never through a symbolic link. */
#ifndef GPOTOOL_GPO_H
#define GPOTOOL_GPO_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/sbuf.h"

struct gpo {
	char *dir;           /* as given */
	int backup;          /* a GPMC backup folder */
	char *root;          /* the folder holding Machine/ and User/ */
	char guid[39];       /* the GPO's GUID, braced, upper-case; "" when the folder name is not one */
	char *gpt_path;      /* GPT.INI (GPO folders only) */
	char *backup_xml;    /* Backup.xml (backups only) */
};

/* A samba-tool gpo backup is refused (GT_REFUSED, saying what it is): gpotool writes GPO
 * folders and GPMC backups only. */
int gpo_open(const char *dir, struct gpo *g, struct gt_error *e);
void gpo_release(struct gpo *g);

/* The versions a GPMC backup's Backup.xml records, <MachineVersionNumber> and
 * <UserVersionNumber>: each holds that side's AD version in its high 16 bits and its
 * SYSVOL (GPT.INI) version in its low 16 bits (corpus gpt/gpmc_backups: 0x1B001B, 0x10001).
 * 1 both found, 0 not. */
int gpo_backup_versions(const uint8_t *backup_xml, size_t len, uint32_t *machine, uint32_t *user);

/* Machine|User/Preferences/Registry/Registry.xml below root: existing components in the
 * case they have on disk, missing ones as GPMC spells them. *exists says whether the file is
 * there. Refuses a symbolic link anywhere below the GPO folder. *path caller-freed. */
int gpo_registry_path(const struct gpo *g, int user, char **path, int *exists, struct gt_error *e);
/* Creates the missing folders on the way to Registry.xml (mode 0755). *created (optional)
 * gets the absolute paths of the folders made, outermost first: a rollback removes them
 * again (gpo_remove_created_dirs). Caller frees each and the array. */
int gpo_make_registry_dir(const struct gpo *g, int user, char ***created, size_t *ncreated, struct gt_error *e);
/* Removes, deepest first, those of the folders on the way to Registry.xml (as the GPO
 * resolves them now, never through a link) that are in created and empty; the names of the
 * removed ones are appended to out ("Machine/Preferences/Registry, ..."). Returns how many. */
size_t gpo_remove_created_dirs(const struct gpo *g, int user, char *const *created, size_t ncreated, struct sbuf *out);


/* A samba-tool gpo backup of one GPO (Samba 4.17: the folder policy/{GUID} in the --tmpdir it
 * was given). Each file of the GPO's SYSVOL folder is there as NAME.SAMBABACKUP, its exact
 * bytes, beside NAME.xml, Samba's parse of it; a Registry.xml has no parser there
 * (<UnknownFile/>), so `samba-tool gpo restore` copies its .SAMBABACKUP back as it is. The AD
 * object's extension lists are gPC{Machine,User}ExtensionNames.SAMBAEXT (absent when the
 * attribute was); its versionNumber is not kept. */
struct gpo_samba_backup {
	char *dir;           /* as given */
	char guid[39];       /* braced, upper-case; "" when the folder name is not one */
	char *gpt_path;      /* GPT.INI.SAMBABACKUP */
	char *reg_path[2];   /* Machine, User: .../Registry/Registry.xml.SAMBABACKUP; NULL when absent */
	char *ext[2];        /* the .SAMBAEXT files' text (machine, user); NULL when absent */
};

/* 1 when dir is one (b filled, freed by gpo_samba_backup_release), 0 when it is not (a
 * folder with a GPT.INI is a GPO folder; what is no folder, gpo_open reports), -1 on error. */
int gpo_samba_backup_open(const char *dir, struct gpo_samba_backup *b, struct gt_error *e);
void gpo_samba_backup_release(struct gpo_samba_backup *b);

#endif
