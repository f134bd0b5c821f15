/* The Active Directory side of a GPO: the gPC*ExtensionNames list and an OU's gPLink,
 * merged so that nothing already there is dropped ([MS-GPOL] 2.2.2 and 2.2.4); the
 * versionNumber, which only rises; and LDIF (RFC 2849) lines that carry them. */
#ifndef GPOTOOL_ADATTRS_H
#define GPOTOOL_ADATTRS_H

#include <stdint.h>

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
 * default. *changed = 0 when already linked. A value of spaces only (" ", what an OU keeps
 * when GPMC removes its last link) holds no link. Appends to out. */
int gplink_merge(const char *current, const char *gpo_dn, struct sbuf *out, int *changed, struct gt_error *e);

/* "corp.example.com" -> "DC=corp,DC=example,DC=com"; GT_USAGE for a bad name. */
int dns_to_dn(const char *dns, struct sbuf *out, struct gt_error *e);

/* 1 when s is a braced GUID {8-4-4-4-12}. */
int is_braced_guid(const char *s);

/* The versionNumber the AD object takes for a folder whose GPT.INI says gpt while AD says ad:
 * GPT.INI's, so that both agree, when neither of its halves (user << 16 | machine) is lower
 * than AD's. A lower half is GT_REFUSED: clients apply a half only when it rises, so printing
 * it would hide the change from them (and lower what another writer raised). */
int ad_version_next(uint32_t ad, uint32_t gpt, uint32_t *next, struct gt_error *e);
/* versionNumber as text: AD holds a signed 32-bit integer, so ldapsearch prints a user half
 * from 0x8000 up as a negative number; both forms are taken. 0 ok, -1 not a version. */
int ad_version_parse(const char *text, uint32_t *out);
/* The form AD holds and prints (signed); buf holds at least 12 bytes. */
const char *ad_version_text(uint32_t v, char *buf);

/* 1 when an LDIF value must be written base64 (attr:: ...), as RFC 2849 requires: a byte
 * above 127, CR or LF anywhere (NUL too, which a C string cannot hold), a first character
 * space, ':' or '<'; or, as it advises, a last character space (which readers may strip). */
int ldif_needs_base64(const char *value);
/* "attr: value\n", or "attr:: BASE64\n" when ldif_needs_base64; attr "dn" too. Appends. */
void ldif_line(struct sbuf *out, const char *attr, const char *value);
/* One compare-and-swap of attr inside a modify record: delete the exact old value, add the
 * new one; the server applies both or neither, and fails when old is no longer there. old
 * NULL (the attribute absent) writes the add alone, which fails when the attribute is there
 * (every attribute here is single-valued). Appends. */
void ldif_swap(struct sbuf *out, const char *attr, const char *old, const char *new_value);

#endif
