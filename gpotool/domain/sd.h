/* Windows security descriptors as AD stores them (nTSecurityDescriptor, self-relative,
 * [MS-DTYP] 2.4.6): who may apply a GPO, and the file ACL a GPO's SYSVOL folder gets from its
 * AD object. Hand-written: no Debian library exposes an SD parser (Samba's libsamba-security
 * is private to Samba), and this is a bounded binary format with a published layout. */
#ifndef GPOTOOL_DOMAIN_SD_H
#define GPOTOOL_DOMAIN_SD_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct sbuf;

/* [MS-ADTS] 5.1.3.2.1 control access right Apply-Group-Policy ({edacfd8f-ffb3-11d1-b41d-00a0c968f939}),
 * the right a GPO's security filtering grants. */
#define SD_APPLY_GROUP_POLICY_GUID "edacfd8f-ffb3-11d1-b41d-00a0c968f939"

struct sd_ace {
	uint8_t type;          /* 0 allowed, 1 denied, 5 allowed object, 6 denied object */
	uint8_t flags;
	uint32_t mask;
	int has_object;        /* object ACE with ObjectType present */
	uint8_t object[16];    /* GUID, in the on-disk (little-endian fields) order */
	int has_inherited_object;
	uint8_t inherited_object[16];
	char sid[192];         /* "S-1-5-21-...-516" */
};

struct sd {
	uint16_t control;
	char owner[192], group[192];   /* "" when absent */
	int has_dacl;
	struct sd_ace *aces;           /* the DACL's ACEs in order */
	size_t naces;
};

/* Parses a self-relative SD; every offset and length checked against len (hostile input is
 * GT_REFUSED, never a read past the end). Release with sd_release. */
int sd_parse(const uint8_t *buf, size_t len, struct sd *out, struct gt_error *e);
void sd_release(struct sd *sd);

/* Would a member of every SID in token (e.g. a DC: S-1-1-0, S-1-5-11, S-1-5-9, DOMAIN-516) be
 * granted both read (ADS_RIGHT_DS_READ_PROPERTY, or GENERIC_READ / GENERIC_ALL) and the
 * Apply-Group-Policy control access right (the extended right on that GUID, or control access
 * on every right: an object ACE without ObjectType or a plain ACE with ADS_RIGHT_DS_CONTROL_ACCESS)
 * by this DACL, evaluated in order as Windows does (the first ACE that decides a bit decides
 * it; a deny before an allow wins)? 1 yes, 0 no; *why says which ACE decided, or that none
 * grants (static text filled into why). */
int sd_grants_apply(const struct sd *sd, const char *const *token, size_t ntoken, struct sbuf *why);

/* The NT ACL Samba's sysvolcheck expects on a GPO's SYSVOL folder, derived from the GPO's AD
 * security descriptor the way Samba's dsacl2fsacl does (python/samba/ntacls.py): owner and group
 * kept, each allowed ACE (plain or object) except BUILTIN\Pre-Windows 2000 Compatible Access
 * becomes an allowed ACE with object- and container-inherit (CREATOR OWNER's also inherit-only)
 * and its DS rights mapped to file rights (ldapmask2filemask). Appended to out as the text
 * libsmbclient's "system.nt_sec_desc.*" attribute takes (numeric SIDs; type, flags and mask in
 * decimal, "ACL:S-1-5-11:0/3/1179817", since libsmbclient reads them with "%u/%u/%u" and a
 * "0x..." mask would be read as 0). Deny ACEs are dropped, as dsacl2fsacl does.
 * What the text cannot say (libsmbclient 4.17 cacl_set, measured against the test DC): an object ACE
 * keeps type 5 but loses its ObjectType GUID; the DACL control (sd_sysvol_dacl_control) is lost;
 * and libsmbclient sorts the ACEs and drops duplicates before it sets them.
 * GT_REFUSED when ds has no DACL or no ACE survives (libsmbclient would set no DACL at all). */
int sd_to_sysvol_acl_text(const struct sd *ds, struct sbuf *out, struct gt_error *e);

/* "S-1-5-21-1-2-3" from a binary SID; -1 when malformed. */
int sd_sid_to_text(const uint8_t *buf, size_t len, size_t *used, char *out, size_t outlen);

/* Additions (the helper that wrote sd.c):
 * A GUID between its text form ("edacfd8f-ffb3-11d1-b41d-00a0c968f939", either case, no braces)
 * and the 16 bytes an ACE stores (Data1, Data2, Data3 little-endian, then Data4 as is).
 * sd_guid_from_text returns -1 when text is not of that form; to_text writes lower case. */
int sd_guid_from_text(const char *text, uint8_t out[16]);
void sd_guid_to_text(const uint8_t guid[16], char out[37]);

/* The DACL control bits (SE_DACL_PROTECTED 0x1000, SE_DACL_AUTO_INHERITED 0x0400,
 * SE_DACL_AUTO_INHERIT_REQ 0x0100) dsacl2fsacl copies from the GPO's SD into the folder's: they
 * show in SDDL ("D:P", "D:AI") and so in sysvolcheck's comparison. The text form of
 * sd_to_sysvol_acl_text cannot carry them: libsmbclient builds the SD it sets with only
 * SE_SELF_RELATIVE | SE_DACL_PRESENT. */
uint16_t sd_sysvol_dacl_control(const struct sd *ds);

#endif
