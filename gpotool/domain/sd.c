/* Windows security descriptors ([MS-DTYP] 2.4.6, self-relative) as AD stores a GPO's: parsed with
 * every offset checked against the buffer, evaluated for the rights a DC needs to apply the GPO,
 * and turned into the SYSVOL folder ACL Samba derives from them; see sd.h. */
#include "domain/sd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sbuf.h"

/* [MS-DTYP] 2.4.6 control bits */
#define SE_DACL_PRESENT 0x0004
#define SE_SACL_PRESENT 0x0010
#define SE_DACL_AUTO_INHERIT_REQ 0x0100
#define SE_DACL_AUTO_INHERITED 0x0400
#define SE_DACL_PROTECTED 0x1000
#define SE_SELF_RELATIVE 0x8000

/* [MS-DTYP] 2.4.4.1 ACE types and flags */
#define ACE_ALLOWED 0x00
#define ACE_DENIED 0x01
#define ACE_ALLOWED_OBJECT 0x05
#define ACE_DENIED_OBJECT 0x06
#define ACE_SYSTEM_AUDIT_OBJECT 0x07
#define ACE_SYSTEM_ALARM_OBJECT 0x08
#define OBJECT_INHERIT_ACE 0x01
#define CONTAINER_INHERIT_ACE 0x02
#define INHERIT_ONLY_ACE 0x08
#define ACE_OBJECT_TYPE_PRESENT 0x1
#define ACE_INHERITED_OBJECT_TYPE_PRESENT 0x2

/* [MS-ADTS] 5.1.3.2 access rights on directory objects */
#define RIGHT_DS_CREATE_CHILD 0x00000001
#define RIGHT_DS_DELETE_CHILD 0x00000002
#define RIGHT_DS_LIST_CONTENTS 0x00000004
#define RIGHT_DS_READ_PROPERTY 0x00000010
#define RIGHT_DS_WRITE_PROPERTY 0x00000020
#define RIGHT_DS_CONTROL_ACCESS 0x00000100
#define STANDARD_RIGHTS_ALL 0x001F0000
#define GENERIC_ALL 0x10000000
#define GENERIC_READ 0x80000000

/* [MS-DTYP] 2.4.5.1 file rights, for ldapmask_to_filemask */
#define FILE_READ_DATA 0x0001
#define FILE_WRITE_DATA 0x0002
#define FILE_APPEND_DATA 0x0004
#define FILE_READ_EA 0x0008
#define FILE_WRITE_EA 0x0010
#define FILE_EXECUTE 0x0020
#define FILE_DELETE_CHILD 0x0040
#define FILE_READ_ATTRIBUTES 0x0080
#define FILE_WRITE_ATTRIBUTES 0x0100
#define SYNCHRONIZE 0x00100000

#define SD_HEADER_LEN 20
#define ACL_HEADER_LEN 8
#define ACE_HEADER_LEN 4
#define SID_MAX_SUBAUTH 15

#define SID_CREATOR_OWNER "S-1-3-0"
#define SID_BUILTIN_PREW2K "S-1-5-32-554"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* where names the part ("DACL", "SACL", "header"); off is the byte offset in the descriptor */
static int malformed(struct gt_error *e, const char *where, const char *what, size_t off)
{
	return gt_fail(e, GT_REFUSED, "the GPO's security descriptor is malformed: %s (%s, byte %zu)", what,
		       where, off);
}

int sd_sid_to_text(const uint8_t *buf, size_t len, size_t *used, char *out, size_t outlen)
{
	uint64_t authority = 0;
	size_t n, need;
	int w;

	if (len < 8 || buf[0] != 1 || buf[1] > SID_MAX_SUBAUTH)
		return -1;
	n = buf[1];
	need = 8 + 4 * n;
	if (len < need)
		return -1;
	for (int i = 2; i < 8; i++)
		authority = authority << 8 | buf[i];
	/* [MS-DTYP] 2.4.2.1: an authority of 2^32 or more is written in hex */
	if (authority >> 32)
		w = snprintf(out, outlen, "S-1-0x%012" PRIX64, authority);
	else
		w = snprintf(out, outlen, "S-1-%" PRIu64, authority);
	for (size_t i = 0; w >= 0 && (size_t)w < outlen && i < n; i++) {
		int more = snprintf(out + w, outlen - (size_t)w, "-%" PRIu32, le32(buf + 8 + 4 * i));

		w = more < 0 ? more : w + more;
	}
	if (w < 0 || (size_t)w >= outlen)
		return -1;
	if (used)
		*used = need;
	return 0;
}

int sd_guid_from_text(const char *text, uint8_t out[16])
{
	/* the text is Data1-Data2-Data3-Data4[0..1]-Data4[2..7]; Data1..3 are stored little-endian */
	static const int byte_at[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	uint8_t raw[16];
	size_t nib = 0;

	if (strlen(text) != sizeof(shape) - 1)
		return -1;
	memset(raw, 0, sizeof(raw));
	for (size_t i = 0; shape[i]; i++) {
		char c = text[i];
		int v;

		if (shape[i] == '-') {
			if (c != '-')
				return -1;
			continue;
		}
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		raw[nib / 2] |= (uint8_t)(nib % 2 ? v : v << 4);
		nib++;
	}
	for (int i = 0; i < 16; i++)
		out[byte_at[i]] = raw[i];
	return 0;
}

void sd_guid_to_text(const uint8_t guid[16], char out[37])
{
	snprintf(out, 37, "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(guid),
		 le16(guid + 4), le16(guid + 6), guid[8], guid[9], guid[10], guid[11], guid[12], guid[13],
		 guid[14], guid[15]);
}

/* The part of an ACE after its header: mask, for object ACEs the object flags and GUIDs, then
 * the SID. body/len is the ACE without its 4-byte header; off is where it sits in the SD. */
static int parse_ace_body(const uint8_t *body, size_t len, size_t off, const char *where, struct sd_ace *ace,
			  struct gt_error *e)
{
	size_t pos = 4, used;

	if (len < 4)
		return malformed(e, where, "an ACE too short for its access mask", off);
	ace->mask = le32(body);
	if (ace->type == ACE_ALLOWED_OBJECT || ace->type == ACE_DENIED_OBJECT ||
	    ace->type == ACE_SYSTEM_AUDIT_OBJECT || ace->type == ACE_SYSTEM_ALARM_OBJECT) {
		uint32_t oflags;

		if (len - pos < 4)
			return malformed(e, where, "an object ACE too short for its flags", off + pos);
		oflags = le32(body + pos);
		pos += 4;
		if (oflags & ACE_OBJECT_TYPE_PRESENT) {
			if (len - pos < 16)
				return malformed(e, where, "an object ACE too short for its ObjectType", off + pos);
			memcpy(ace->object, body + pos, 16);
			ace->has_object = 1;
			pos += 16;
		}
		if (oflags & ACE_INHERITED_OBJECT_TYPE_PRESENT) {
			if (len - pos < 16)
				return malformed(e, where, "an object ACE too short for its InheritedObjectType", off + pos);
			memcpy(ace->inherited_object, body + pos, 16);
			ace->has_inherited_object = 1;
			pos += 16;
		}
	}
	if (sd_sid_to_text(body + pos, len - pos, &used, ace->sid, sizeof(ace->sid)) < 0)
		return malformed(e, where, "an ACE's SID does not fit in the ACE or is not a revision-1 SID", off + pos);
	return 0;
}

/* Types whose body is a mask, (object part,) SID; any other type is kept with only its header,
 * since its layout is not known here and it never grants. */
static int ace_type_known(uint8_t type)
{
	return type == ACE_ALLOWED || type == ACE_DENIED || type == 0x02 || type == 0x03 ||
	       (type >= ACE_ALLOWED_OBJECT && type <= ACE_SYSTEM_ALARM_OBJECT);
}

/* The ACL at off: its header, then AceCount ACEs that must lie inside AclSize. Who frees: the
 * caller, *aces (NULL when the ACL has none). */
static int parse_acl(const uint8_t *buf, size_t len, size_t off, const char *where, struct sd_ace **aces,
		     size_t *naces, struct gt_error *e)
{
	size_t size, count, pos;
	struct sd_ace *list;

	*aces = NULL;
	*naces = 0;
	if (off < SD_HEADER_LEN || off > len || len - off < ACL_HEADER_LEN)
		return malformed(e, where, "an ACL offset outside the descriptor", off);
	if (buf[off] != 2 && buf[off] != 4)
		return malformed(e, where, "an ACL revision other than 2 or 4", off);
	size = le16(buf + off + 2);
	count = le16(buf + off + 4);
	if (size < ACL_HEADER_LEN || size > len - off)
		return malformed(e, where, "an ACL size past the end of the descriptor", off + 2);
	/* each ACE takes at least its header: caps the allocation by the bytes there are */
	if (count > (size - ACL_HEADER_LEN) / ACE_HEADER_LEN)
		return malformed(e, where, "more ACEs than the ACL has room for", off + 4);
	list = count ? xcalloc(count, sizeof(*list)) : NULL;
	pos = off + ACL_HEADER_LEN;
	for (size_t i = 0; i < count; i++) {
		struct sd_ace *ace = &list[i];
		size_t ace_size, end = off + size;

		if (end - pos < ACE_HEADER_LEN) {
			free(list);
			return malformed(e, where, "an ACE header past the end of its ACL", pos);
		}
		ace->type = buf[pos];
		ace->flags = buf[pos + 1];
		ace_size = le16(buf + pos + 2);
		if (ace_size < ACE_HEADER_LEN || ace_size > end - pos) {
			free(list);
			return malformed(e, where, "an ACE size past the end of its ACL", pos + 2);
		}
		if (ace_type_known(ace->type) &&
		    parse_ace_body(buf + pos + ACE_HEADER_LEN, ace_size - ACE_HEADER_LEN, pos + ACE_HEADER_LEN, where,
				   ace, e) < 0) {
			free(list);
			return -1;
		}
		pos += ace_size;
	}
	*aces = list;
	*naces = count;
	return 0;
}

static int parse_owner_or_group(const uint8_t *buf, size_t len, size_t off, char *out, size_t outlen,
				const char *where, struct gt_error *e)
{
	out[0] = '\0';
	if (off == 0)
		return 0;
	if (off < SD_HEADER_LEN || off >= len ||
	    sd_sid_to_text(buf + off, len - off, NULL, out, outlen) < 0) {
		out[0] = '\0';
		return malformed(e, where, "a SID outside the descriptor or not a revision-1 SID", off);
	}
	return 0;
}

int sd_parse(const uint8_t *buf, size_t len, struct sd *out, struct gt_error *e)
{
	size_t off_owner, off_group, off_sacl, off_dacl;

	memset(out, 0, sizeof(*out));
	if (len < SD_HEADER_LEN)
		return malformed(e, "header", "shorter than the 20-byte header", len);
	if (buf[0] != 1)
		return malformed(e, "header", "a revision other than 1", 0);
	out->control = le16(buf + 2);
	if (!(out->control & SE_SELF_RELATIVE))
		return malformed(e, "header", "not self-relative", 2);
	off_owner = le32(buf + 4);
	off_group = le32(buf + 8);
	off_sacl = le32(buf + 12);
	off_dacl = le32(buf + 16);
	if (parse_owner_or_group(buf, len, off_owner, out->owner, sizeof(out->owner), "owner", e) < 0 ||
	    parse_owner_or_group(buf, len, off_group, out->group, sizeof(out->group), "group", e) < 0)
		return -1;
	/* the SACL is not used, but a descriptor is only well-formed if it is */
	if ((out->control & SE_SACL_PRESENT) && off_sacl) {
		struct sd_ace *sacl;
		size_t nsacl;

		if (parse_acl(buf, len, off_sacl, "SACL", &sacl, &nsacl, e) < 0)
			return -1;
		free(sacl);
	}
	/* DACL_PRESENT with offset 0 is the NULL DACL: the same as none for access */
	if ((out->control & SE_DACL_PRESENT) && off_dacl) {
		if (parse_acl(buf, len, off_dacl, "DACL", &out->aces, &out->naces, e) < 0)
			return -1;
		out->has_dacl = 1;
	}
	return 0;
}

void sd_release(struct sd *sd)
{
	free(sd->aces);
	sd->aces = NULL;
	sd->naces = 0;
}

/* ---- access ---- */

enum need { NEED_READ, NEED_APPLY, NEED_COUNT };

static const char *const need_name[NEED_COUNT] = { "read", "Apply Group Policy" };

static int sid_in_token(const char *sid, const char *const *token, size_t ntoken)
{
	for (size_t i = 0; i < ntoken; i++)
		if (token[i] && strcasecmp(sid, token[i]) == 0)
			return 1;
	return 0;
}

static int is_object_ace(const struct sd_ace *ace)
{
	return ace->type == ACE_ALLOWED_OBJECT || ace->type == ACE_DENIED_OBJECT;
}

/* Does this ACE speak about need on the object itself? An object ACE with an ObjectType limits
 * its mask to that property set or extended right, so it decides read only without one and
 * Apply-Group-Policy only without one or with exactly that GUID. */
static int ace_covers(const struct sd_ace *ace, enum need need, const uint8_t apply_guid[16])
{
	if (need == NEED_READ)
		return (ace->mask & (RIGHT_DS_READ_PROPERTY | GENERIC_READ | GENERIC_ALL)) &&
		       !(is_object_ace(ace) && ace->has_object);
	if (!(ace->mask & (RIGHT_DS_CONTROL_ACCESS | GENERIC_ALL)))
		return 0;
	return !(is_object_ace(ace) && ace->has_object) || memcmp(ace->object, apply_guid, 16) == 0;
}

/* "Authenticated Users (S-1-5-11)" for the SIDs a GPO's DACL names; the bare SID otherwise. */
static void add_sid_label(struct sbuf *out, const char *sid)
{
	static const struct {
		const char *sid, *name;
	} well_known[] = {
		{ "S-1-1-0", "Everyone" },
		{ "S-1-3-0", "CREATOR OWNER" },
		{ "S-1-5-9", "Enterprise Domain Controllers" },
		{ "S-1-5-11", "Authenticated Users" },
		{ "S-1-5-18", "SYSTEM" },
		{ "S-1-5-32-544", "Administrators" },
		{ "S-1-5-32-554", "Pre-Windows 2000 Compatible Access" },
	};
	static const struct {
		const char *rid, *name;
	} domain_rids[] = {
		{ "512", "Domain Admins" },       { "513", "Domain Users" },
		{ "515", "Domain Computers" },    { "516", "Domain Controllers" },
		{ "519", "Enterprise Admins" },   { "520", "Group Policy Creator Owners" },
		{ "521", "Read-only Domain Controllers" },
	};
	const char *name = NULL, *last = strrchr(sid, '-');
	int dashes = 0;

	for (const char *p = sid; *p; p++)
		dashes += *p == '-';
	for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++)
		if (strcasecmp(sid, well_known[i].sid) == 0)
			name = well_known[i].name;
	/* S-1-5-21-X-Y-Z-RID: a domain account */
	if (!name && strncasecmp(sid, "S-1-5-21-", 9) == 0 && dashes == 7)
		for (size_t i = 0; i < sizeof(domain_rids) / sizeof(domain_rids[0]); i++)
			if (strcmp(last + 1, domain_rids[i].rid) == 0)
				name = domain_rids[i].name;
	if (name)
		sbuf_addf(out, "%s (%s)", name, sid);
	else
		sbuf_addstr(out, sid);
}

static void add_decision(struct sbuf *why, const struct sd *sd, size_t i, enum need need)
{
	const struct sd_ace *ace = &sd->aces[i];
	int allows = ace->type == ACE_ALLOWED || ace->type == ACE_ALLOWED_OBJECT;

	sbuf_addf(why, "ACE %zu of %zu %s ", i + 1, sd->naces, allows ? "allows" : "denies");
	add_sid_label(why, ace->sid);
	sbuf_addf(why, " %s", need_name[need]);
}

static void add_none_grants(struct sbuf *why, enum need need, const char *const *token, size_t ntoken)
{
	sbuf_addf(why, "no ACE grants %s to ", need_name[need]);
	for (size_t i = 0; i < ntoken; i++) {
		if (i)
			sbuf_addstr(why, i + 1 == ntoken ? " or " : ", ");
		add_sid_label(why, token[i] ? token[i] : "?");
	}
	if (ntoken == 0)
		sbuf_addstr(why, "an empty token");
}

int sd_grants_apply(const struct sd *sd, const char *const *token, size_t ntoken, struct sbuf *why)
{
	size_t decided_by[NEED_COUNT];
	int decided[NEED_COUNT] = { 0 }, allowed[NEED_COUNT] = { 0 };
	uint8_t apply_guid[16];

	if (!sd->has_dacl) {
		if (why)
			sbuf_addstr(why, "the security descriptor has no DACL, which grants every right to everyone");
		return 1;
	}
	sd_guid_from_text(SD_APPLY_GROUP_POLICY_GUID, apply_guid);
	for (size_t i = 0; i < sd->naces; i++) {
		const struct sd_ace *ace = &sd->aces[i];
		int allow = ace->type == ACE_ALLOWED || ace->type == ACE_ALLOWED_OBJECT;
		int deny = ace->type == ACE_DENIED || ace->type == ACE_DENIED_OBJECT;

		/* inherit-only ACEs are for the children, and unknown types never decide */
		if ((ace->flags & INHERIT_ONLY_ACE) || !(allow || deny) || !sid_in_token(ace->sid, token, ntoken))
			continue;
		for (int n = 0; n < NEED_COUNT; n++) {
			if (decided[n] || !ace_covers(ace, (enum need)n, apply_guid))
				continue;
			decided[n] = 1;
			allowed[n] = allow;
			decided_by[n] = i;
		}
	}
	if (why) {
		/* the reason that matters most: Apply Group Policy, then read */
		for (int n = NEED_COUNT - 1; n >= 0; n--) {
			if (allowed[n])
				continue;
			if (decided[n])
				add_decision(why, sd, decided_by[n], (enum need)n);
			else if (sd->naces == 0)
				sbuf_addf(why, "the DACL is empty, so it grants nothing (not %s)", need_name[n]);
			else
				add_none_grants(why, (enum need)n, token, ntoken);
			return 0;
		}
		add_decision(why, sd, decided_by[NEED_APPLY], NEED_APPLY);
		sbuf_addstr(why, "; ");
		add_decision(why, sd, decided_by[NEED_READ], NEED_READ);
	}
	return allowed[NEED_READ] && allowed[NEED_APPLY];
}

/* ---- the SYSVOL ACL ---- */

/* Samba's ldapmask2filemask (python/samba/ntacls.py): the standard rights are kept, read needs
 * both read-property and list-contents, and extended rights (control access) map to nothing. */
static uint32_t ldapmask_to_filemask(uint32_t ldm)
{
	uint32_t fm = ldm & STANDARD_RIGHTS_ALL;

	if ((ldm & RIGHT_DS_READ_PROPERTY) && (ldm & RIGHT_DS_LIST_CONTENTS))
		fm |= SYNCHRONIZE | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | FILE_EXECUTE;
	if (ldm & RIGHT_DS_WRITE_PROPERTY)
		fm |= SYNCHRONIZE | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES;
	if (ldm & RIGHT_DS_CREATE_CHILD)
		fm |= FILE_APPEND_DATA | FILE_WRITE_DATA;
	if (ldm & RIGHT_DS_DELETE_CHILD)
		fm |= FILE_DELETE_CHILD;
	return fm;
}

uint16_t sd_sysvol_dacl_control(const struct sd *ds)
{
	return ds->control & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED | SE_DACL_AUTO_INHERIT_REQ);
}

int sd_to_sysvol_acl_text(const struct sd *ds, struct sbuf *out, struct gt_error *e)
{
	size_t start = out->len, kept = 0;

	if (!ds->has_dacl)
		return gt_fail(e, GT_REFUSED, "the GPO's security descriptor has no DACL: "
			       "no SYSVOL ACL can be derived from it");
	sbuf_addstr(out, "REVISION:1");
	if (ds->owner[0])
		sbuf_addf(out, ",OWNER:%s", ds->owner);
	if (ds->group[0])
		sbuf_addf(out, ",GROUP:%s", ds->group);
	for (size_t i = 0; i < ds->naces; i++) {
		const struct sd_ace *ace = &ds->aces[i];
		unsigned flags = ace->flags | OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE;

		/* dsacl2fsacl drops deny ACEs and unknown types along with Pre-Windows 2000 access */
		if ((ace->type != ACE_ALLOWED && ace->type != ACE_ALLOWED_OBJECT) ||
		    strcasecmp(ace->sid, SID_BUILTIN_PREW2K) == 0)
			continue;
		/* CREATOR OWNER means something only to the children */
		if (strcasecmp(ace->sid, SID_CREATOR_OWNER) == 0)
			flags |= INHERIT_ONLY_ACE;
		/* decimal: libsmbclient's parse_ace reads "%u/%u/%u", so "0x..." would read as 0 */
		sbuf_addf(out, ",ACL:%s:%u/%u/%" PRIu32, ace->sid, (unsigned)ace->type, flags,
			  ldapmask_to_filemask(ace->mask));
		kept++;
	}
	if (kept == 0) {
		out->len = start;
		out->buf[start] = '\0';
		/* libsmbclient builds no DACL from a text without ACL entries: everyone, full access */
		return gt_fail(e, GT_REFUSED, "the GPO's DACL allows no one: its SYSVOL ACL would be empty, "
			       "which libsmbclient would set as no DACL (full access for everyone)");
	}
	return 0;
}
