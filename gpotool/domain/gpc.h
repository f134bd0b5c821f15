/* A GPO's Active Directory half, its groupPolicyContainer ([MS-GPOL] 2.3), and the gPLink of
 * the container it is linked to, read and written through a domain session: every write is a
 * compare-and-swap (delete the exact value read, add the new one, in one modify), so that a
 * value another writer changed since the read makes the modify fail instead of being lost. */
#ifndef GPOTOOL_DOMAIN_GPC_H
#define GPOTOOL_DOMAIN_GPC_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "domain/conn.h"

struct gpc {
	char *dn;               /* CN={GUID},CN=Policies,CN=System,DOMAIN */
	char guid[39];          /* braced, upper case */
	char *display_name;
	char *version;          /* versionNumber exactly as stored, NULL when absent */
	char *machine_ext;      /* gPCMachineExtensionNames as stored, NULL when absent */
	char *user_ext;         /* gPCUserExtensionNames */
	char *flags;            /* flags as stored (bit 0: user half disabled, bit 1: computer half) */
	char *file_sys_path;    /* gPCFileSysPath */
	uint8_t *sd;            /* nTSecurityDescriptor (owner, group, DACL), NULL when unreadable */
	size_t sd_len;
};

/* The GPO named name (displayName) or guid: 1 found, 0 none, -1 error. Two GPOs with one
 * name are GT_REFUSED, naming both GUIDs (--gpo-guid picks one). */
int gpc_find(struct domain_session *s, const char *name, const char *guid, struct gpc *out, struct gt_error *e);
/* Reads g->dn again into g (after a lost compare-and-swap). */
int gpc_reload(struct domain_session *s, struct gpc *g, struct gt_error *e);
void gpc_release(struct gpc *g);

/* versionNumber as a number: 0 when absent; -1 when it is not one (GT_REFUSED). */
int gpc_version(const struct gpc *g, uint32_t *out, struct gt_error *e);
uint32_t gpc_flags(const struct gpc *g);

/* Makes a GPO as GPMC does: the groupPolicyContainer (displayName, gPCFileSysPath
 * \\DOMAIN\SysVol\DOMAIN\Policies\{GUID}, versionNumber 0, flags 0, gPCFunctionalityVersion 2)
 * with its Machine and User containers; the DC gives it the schema's default security
 * descriptor. The SYSVOL half is the caller's. *out as gpc_find gives it. */
int gpc_create(struct domain_session *s, const char *name, struct gpc *out, struct gt_error *e);

/* The gPLink of the container dn: 1 read (*gplink caller-freed; NULL when it has none), -1
 * error (no such container: GT_USAGE). */
int gpc_read_gplink(struct domain_session *s, const char *dn, char **gplink, struct gt_error *e);

/* One attribute's compare-and-swap as modify operations: delete old (when not NULL), add
 * new_value (when not NULL). Appends to mods (room for 2). */
struct dir_mod;
struct dir_value;
struct sbuf;
void gpc_cas(struct dir_mod *mods, size_t *n, struct dir_value *vals, const char *attr, const char *old,
	     const char *new_value);

/* ext without tool under cse (and without the cse's group when no tool is left in it); every
 * other group exactly as it was. Appends to out (nothing when no group is left). */
void extnames_without(const char *ext, const char *cse, const char *tool, struct sbuf *out);

/* [MS-GPOL] 2.2.2: gPLink entries "[LDAP://DN;OPTIONS]", OPTIONS bit 0 disabled, bit 1 enforced. */
struct gplink_entry {
	char *dn;
	unsigned options;
};
/* Parses a gPLink (an empty one is no entries): GT_REFUSED when malformed. */
int gplink_parse(const char *gplink, struct gplink_entry **out, size_t *n, struct gt_error *e);
void gplink_entries_free(struct gplink_entry *v, size_t n);
/* The entry for gpo_dn (case-insensitive), or NULL. */
const struct gplink_entry *gplink_find(const struct gplink_entry *v, size_t n, const char *gpo_dn);
/* gplink without the entry of gpo_dn: every other entry exactly as it was. Appends to out. */
void gplink_without(const char *gplink, const char *gpo_dn, struct sbuf *out);

#endif
