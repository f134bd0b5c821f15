/* The Active Directory side of a GPO: the gPC*ExtensionNames list and an OU's gPLink,
 * merged so that nothing already there is dropped ([MS-GPOL] 2.2.2 and 2.2.4). */
#ifndef GPOTOOL_ADATTRS_H
#define GPOTOOL_ADATTRS_H

#include "core/error.h"
#include "core/sbuf.h"

/* The GPP Registry client-side extension and its MMC snap-in (tool) extension, the pair
 * GPMC writes into gPCMachineExtensionNames for Registry.xml ([MS-GPPREF] 2.1, corpus
 * gpt/gpmc_backups/.../Backup.xml MachineExtensionGuids). */
#define GPP_REGISTRY_CSE "{B087BE9D-ED37-454F-AF9C-04291E351182}"
#define GPP_REGISTRY_TOOL "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}"

/* "[{CSE}{TOOL}...][...]": adds tool under cse (and the group if missing), groups sorted
 * by CSE GUID and tools within a group sorted, as Windows keeps them. *changed says whether
 * the list gained anything. Malformed input is GT_USAGE. Appends to out. */
int extnames_merge(const char *current, const char *cse, const char *tool, struct sbuf *out, int *changed,
		   struct gt_error *e);

/* "[LDAP://dn;options]...": adds a link to gpo_dn (options 0, enabled) unless one exists;
 * the new link goes first, which gives it the lowest precedence, as a new link gets by
 * default. *changed = 0 when already linked. Appends to out. */
int gplink_merge(const char *current, const char *gpo_dn, struct sbuf *out, int *changed, struct gt_error *e);

/* "corp.example.com" -> "DC=corp,DC=example,DC=com"; GT_USAGE for a bad name. */
int dns_to_dn(const char *dns, struct sbuf *out, struct gt_error *e);

/* 1 when s is a braced GUID {8-4-4-4-12}. */
int is_braced_guid(const char *s);

#endif
