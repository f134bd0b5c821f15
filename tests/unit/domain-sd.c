/* Unit tests for sd.c: parsing a GPO's nTSecurityDescriptor with hostile lengths, who may apply
 * it, and the SYSVOL ACL Samba derives from it; checked against a real SD from Samba 4.17. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/sbuf.h"
#include "domain/sd.h"

#define DOM "S-1-5-21-2834461715-919855423-889600407"
#define MALFORMED "the GPO's security descriptor is malformed: "

/* The nTSecurityDescriptor of the Default Domain Policy ({31B2F340-016D-11D2-945F-00C04FB984F9})
 * of a domain provisioned by Samba 4.17.12 (samba-tool domain provision, realm EXAMPLE.COM), read
 * whole (owner, group, SACL, DACL) from sam.ldb with samba.samdb and ndr_pack'ed; 432 bytes. In
 * SDDL (Samba's as_sddl):
 * O:DAG:DAD:P(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;DA)(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;EA)
 * (A;CIIO;RPWPCCDCLCLORCWOWDSDDTSW;;;CO)(A;;RPWPCCDCLCLORCWOWDSDDTSW;;;DA)
 * (A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;SY)(A;CI;RPLCLORC;;;AU)
 * (OA;CI;CR;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)(A;CI;RPLCLORC;;;ED)
 * S:AI(OU;CIIOIDSA;WP;f30e3bbe-9ff0-11d1-b603-0000f80367c1;bf967aa5-0de6-11d0-a285-00aa003049e2;WD)
 * (OU;CIIOIDSA;WP;f30e3bbf-9ff0-11d1-b603-0000f80367c1;bf967aa5-0de6-11d0-a285-00aa003049e2;WD) */
static const uint8_t real_sd[] = {
	0x01, 0x00, 0x17, 0x98, 0x14, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00,
	0x4c, 0x00, 0x00, 0x00, 0xc4, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00, 0x13, 0x74, 0xf2, 0xa8,
	0x3f, 0xe1, 0xd3, 0x36, 0x97, 0x39, 0x06, 0x35, 0x00, 0x02, 0x00, 0x00,
	0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00,
	0x13, 0x74, 0xf2, 0xa8, 0x3f, 0xe1, 0xd3, 0x36, 0x97, 0x39, 0x06, 0x35,
	0x00, 0x02, 0x00, 0x00, 0x04, 0x00, 0x78, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x07, 0x5a, 0x38, 0x00, 0x20, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0xbe, 0x3b, 0x0e, 0xf3, 0xf0, 0x9f, 0xd1, 0x11, 0xb6, 0x03, 0x00, 0x00,
	0xf8, 0x03, 0x67, 0xc1, 0xa5, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11,
	0xa2, 0x85, 0x00, 0xaa, 0x00, 0x30, 0x49, 0xe2, 0x01, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 0x5a, 0x38, 0x00,
	0x20, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0xbf, 0x3b, 0x0e, 0xf3,
	0xf0, 0x9f, 0xd1, 0x11, 0xb6, 0x03, 0x00, 0x00, 0xf8, 0x03, 0x67, 0xc1,
	0xa5, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11, 0xa2, 0x85, 0x00, 0xaa,
	0x00, 0x30, 0x49, 0xe2, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0xec, 0x00, 0x08, 0x00, 0x00, 0x00,
	0x00, 0x02, 0x24, 0x00, 0xff, 0x00, 0x0f, 0x00, 0x01, 0x05, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00, 0x13, 0x74, 0xf2, 0xa8,
	0x3f, 0xe1, 0xd3, 0x36, 0x97, 0x39, 0x06, 0x35, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x02, 0x24, 0x00, 0xff, 0x00, 0x0f, 0x00, 0x01, 0x05, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00, 0x13, 0x74, 0xf2, 0xa8,
	0x3f, 0xe1, 0xd3, 0x36, 0x97, 0x39, 0x06, 0x35, 0x07, 0x02, 0x00, 0x00,
	0x00, 0x0a, 0x14, 0x00, 0xff, 0x00, 0x0f, 0x00, 0x01, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00,
	0xff, 0x00, 0x0f, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x15, 0x00, 0x00, 0x00, 0x13, 0x74, 0xf2, 0xa8, 0x3f, 0xe1, 0xd3, 0x36,
	0x97, 0x39, 0x06, 0x35, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x14, 0x00,
	0xff, 0x00, 0x0f, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x12, 0x00, 0x00, 0x00, 0x00, 0x02, 0x14, 0x00, 0x94, 0x00, 0x02, 0x00,
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0b, 0x00, 0x00, 0x00,
	0x05, 0x02, 0x28, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x8f, 0xfd, 0xac, 0xed, 0xb3, 0xff, 0xd1, 0x11, 0xb4, 0x1d, 0x00, 0xa0,
	0xc9, 0x68, 0xf9, 0x39, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x0b, 0x00, 0x00, 0x00, 0x00, 0x02, 0x14, 0x00, 0x94, 0x00, 0x02, 0x00,
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x09, 0x00, 0x00, 0x00,
};

/* What Samba 4.17's samba.ntacls.dsacl2fsacl(sddl, domain_sid) makes of real_sd (the same for the
 * SD read with the SD-flags control 7, without the SACL):
 * O:DAG:DAD:P(A;OICI;0x001f01ff;;;DA)(A;OICI;0x001f01ff;;;EA)(A;OICIIO;0x001f01ff;;;CO)
 * (A;OICI;0x001f01ff;;;DA)(A;OICI;0x001f01ff;;;SY)(A;OICI;0x001200a9;;;AU)
 * (OA;OICI;;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)(A;OICI;0x001200a9;;;ED)
 * whose ACEs (type, flags, mask) are 0/0x3/0x1f01ff, 0/0x3/0x1f01ff, 0/0xb/0x1f01ff,
 * 0/0x3/0x1f01ff, 0/0x3/0x1f01ff, 0/0x3/0x1200a9, 5/0x3/0x0, 0/0x3/0x1200a9 and whose control
 * is 0x9814 (SE_DACL_PROTECTED among it): here in libsmbclient's decimal text form. */
static const char *const real_sysvol_aces[] = {
	"ACL:" DOM "-512:0/3/2032127",
	"ACL:" DOM "-519:0/3/2032127",
	"ACL:S-1-3-0:0/11/2032127",
	"ACL:" DOM "-512:0/3/2032127",
	"ACL:S-1-5-18:0/3/2032127",
	"ACL:S-1-5-11:0/3/1179817",
	"ACL:S-1-5-11:5/3/0",
	"ACL:S-1-5-9:0/3/1179817",
};

#define APPLY_GUID_BYTES 0x8f, 0xfd, 0xac, 0xed, 0xb3, 0xff, 0xd1, 0x11, 0xb4, 0x1d, 0x00, 0xa0, 0xc9, 0x68, 0xf9, 0x39
#define OTHER_GUID "bf967aa5-0de6-11d0-a285-00aa003049e2"

#define GENERIC_ALL 0x10000000u
#define GENERIC_READ 0x80000000u
#define RP 0x10u
#define LC 0x04u
#define CR 0x100u

/* ---- building SDs for the cases the real one does not show ---- */

struct test_ace {
	uint8_t type, flags;
	uint32_t mask;
	const char *object;        /* ObjectType of an object ACE, NULL for none */
	const char *sid;
};

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

/* "S-1-5-21-1-2" as a binary SID at p; its length. */
static size_t put_sid(uint8_t *p, const char *text)
{
	char *end;
	unsigned long long auth;
	size_t n = 0;

	assert_int_equal(strncmp(text, "S-1-", 4), 0);
	auth = strtoull(text + 4, &end, 10);
	p[0] = 1;
	for (int i = 0; i < 6; i++)
		p[2 + i] = (uint8_t)(auth >> (8 * (5 - i)));
	while (*end == '-') {
		put32(p + 8 + 4 * n, (uint32_t)strtoul(end + 1, &end, 10));
		n++;
	}
	p[1] = (uint8_t)n;
	return 8 + 4 * n;
}

static size_t put_ace(uint8_t *p, const struct test_ace *a)
{
	size_t pos = 8;

	p[0] = a->type;
	p[1] = a->flags;
	put32(p + 4, a->mask);
	if (a->type == 5 || a->type == 6) {
		put32(p + 8, a->object ? 1 : 0);
		pos = 12;
		if (a->object) {
			assert_int_equal(sd_guid_from_text(a->object, p + pos), 0);
			pos += 16;
		}
	}
	pos += put_sid(p + pos, a->sid);
	put16(p + 2, (uint32_t)pos);
	return pos;
}

/* A self-relative SD: owner Domain Admins, no group, no SACL, and a DACL of n ACEs (none at all,
 * not even DACL_PRESENT, when aces is NULL). Returns its length. */
static size_t build_sd(uint8_t *buf, const struct test_ace *aces, size_t n)
{
	size_t pos = 20, acl;

	memset(buf, 0, 20);
	buf[0] = 1;
	put16(buf + 2, 0x8000 | (aces ? 0x0004 : 0));
	put32(buf + 4, (uint32_t)pos);
	pos += put_sid(buf + pos, DOM "-512");
	if (!aces)
		return pos;
	acl = pos;
	put32(buf + 16, (uint32_t)acl);
	buf[acl] = 2;
	put16(buf + acl + 4, (uint32_t)n);
	pos += 8;
	for (size_t i = 0; i < n; i++)
		pos += put_ace(buf + pos, &aces[i]);
	put16(buf + acl + 2, (uint32_t)(pos - acl));
	return pos;
}

static void parse_built(const struct test_ace *aces, size_t n, struct sd *sd)
{
	uint8_t buf[2048];
	struct gt_error e = { 0 };
	size_t len = build_sd(buf, aces, n);

	assert_int_equal(sd_parse(buf, len, sd, &e), 0);
	assert_int_equal(e.code, GT_OK);
}

/* sd_grants_apply on ACEs for token; why must equal want_why. */
static void check_grants(const struct test_ace *aces, size_t n, const char *const *token, size_t ntoken,
			 int want, const char *want_why)
{
	struct sd sd;
	struct sbuf why;

	parse_built(aces, n, &sd);
	sbuf_init(&why);
	assert_int_equal(sd_grants_apply(&sd, token, ntoken, &why), want);
	assert_string_equal(why.buf, want_why);
	sbuf_release(&why);
	sd_release(&sd);
}

static void parse_refused(const uint8_t *buf, size_t len, const char *want_in_msg)
{
	struct sd sd;
	struct gt_error e = { 0 };
	/* an exact-size heap copy, so that ASan sees any read past the end */
	uint8_t *copy = malloc(len ? len : 1);

	memcpy(copy, buf, len);
	assert_int_equal(sd_parse(copy, len, &sd, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_int_equal(strncmp(e.msg, MALFORMED, strlen(MALFORMED)), 0);
	if (want_in_msg && !strstr(e.msg, want_in_msg))
		fail_msg("'%s' not in '%s'", want_in_msg, e.msg);
	assert_null(sd.aces);
	free(copy);
}

static const char *const au[] = { "S-1-5-11" };
static const char *const dc_token[] = { "S-1-1-0", "S-1-5-11", "S-1-5-9", DOM "-516" };

/* ---- the real SD ---- */

static void test_real_sd_parses(void **state)
{
	static const uint8_t apply[16] = { APPLY_GUID_BYTES };
	static const struct {
		uint8_t type, flags;
		uint32_t mask;
		const char *sid;
	} want[] = {
		{ 0, 0x02, 0x000f00ff, DOM "-512" }, { 0, 0x02, 0x000f00ff, DOM "-519" },
		{ 0, 0x0a, 0x000f00ff, "S-1-3-0" },  { 0, 0x00, 0x000f00ff, DOM "-512" },
		{ 0, 0x02, 0x000f00ff, "S-1-5-18" }, { 0, 0x02, 0x00020094, "S-1-5-11" },
		{ 5, 0x02, 0x00000100, "S-1-5-11" }, { 0, 0x02, 0x00020094, "S-1-5-9" },
	};
	struct sd sd;
	struct gt_error e = { 0 };

	(void)state;
	assert_int_equal(sd_parse(real_sd, sizeof(real_sd), &sd, &e), 0);
	assert_int_equal(sd.control, 0x9817);
	assert_string_equal(sd.owner, DOM "-512");
	assert_string_equal(sd.group, DOM "-512");
	assert_int_equal(sd.has_dacl, 1);
	assert_int_equal(sd.naces, 8);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(sd.aces[i].type, want[i].type);
		assert_int_equal(sd.aces[i].flags, want[i].flags);
		assert_int_equal(sd.aces[i].mask, want[i].mask);
		assert_string_equal(sd.aces[i].sid, want[i].sid);
		assert_int_equal(sd.aces[i].has_object, i == 6);
		assert_int_equal(sd.aces[i].has_inherited_object, 0);
	}
	assert_memory_equal(sd.aces[6].object, apply, 16);
	sd_release(&sd);
}

static void test_real_sd_grants_apply(void **state)
{
	struct sd sd;
	struct gt_error e = { 0 };
	struct sbuf why;

	(void)state;
	assert_int_equal(sd_parse(real_sd, sizeof(real_sd), &sd, &e), 0);
	sbuf_init(&why);
	/* default GPO security: Authenticated Users read and apply */
	assert_int_equal(sd_grants_apply(&sd, au, 1, &why), 1);
	assert_string_equal(why.buf, "ACE 7 of 8 allows Authenticated Users (S-1-5-11) Apply Group Policy; "
				     "ACE 6 of 8 allows Authenticated Users (S-1-5-11) read");
	sbuf_reset(&why);
	assert_int_equal(sd_grants_apply(&sd, dc_token, 4, &why), 1);
	sbuf_reset(&why);
	/* Enterprise Domain Controllers may read it, nothing more */
	assert_int_equal(sd_grants_apply(&sd, dc_token + 2, 1, &why), 0);
	assert_string_equal(why.buf, "no ACE grants Apply Group Policy to Enterprise Domain Controllers (S-1-5-9)");
	sbuf_reset(&why);
	assert_int_equal(sd_grants_apply(&sd, dc_token + 2, 2, &why), 0);
	assert_string_equal(why.buf, "no ACE grants Apply Group Policy to Enterprise Domain Controllers "
				     "(S-1-5-9) or Domain Controllers (" DOM "-516)");
	/* why may be NULL */
	assert_int_equal(sd_grants_apply(&sd, au, 1, NULL), 1);
	sbuf_release(&why);
	sd_release(&sd);
}

static void test_real_sd_sysvol_acl(void **state)
{
	struct sd sd;
	struct gt_error e = { 0 };
	struct sbuf out, want;

	(void)state;
	assert_int_equal(sd_parse(real_sd, sizeof(real_sd), &sd, &e), 0);
	sbuf_init(&out);
	sbuf_init(&want);
	sbuf_addstr(&want, "REVISION:1,OWNER:" DOM "-512,GROUP:" DOM "-512");
	for (size_t i = 0; i < sizeof(real_sysvol_aces) / sizeof(real_sysvol_aces[0]); i++)
		sbuf_addf(&want, ",%s", real_sysvol_aces[i]);
	assert_int_equal(sd_to_sysvol_acl_text(&sd, &out, &e), 0);
	assert_string_equal(out.buf, want.buf);
	/* Samba's 0x9814 shows in SDDL as "D:P" */
	assert_int_equal(sd_sysvol_dacl_control(&sd), 0x1000);
	sbuf_release(&out);
	sbuf_release(&want);
	sd_release(&sd);
}

/* Every prefix of the real SD cuts its DACL (the last part of it): each must be refused without
 * a read past its end. */
static void test_real_sd_truncated(void **state)
{
	(void)state;
	for (size_t len = 0; len < sizeof(real_sd); len++)
		parse_refused(real_sd, len, NULL);
}

/* Any single byte set to 0x00, 0x7f or 0xff: parsed or refused, never a read out of bounds. */
static void test_real_sd_damaged_bytes(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x7f, 0xff };
	uint8_t *copy = malloc(sizeof(real_sd));

	(void)state;
	for (size_t i = 0; i < sizeof(real_sd); i++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			struct sd sd;
			struct gt_error e = { 0 };

			memcpy(copy, real_sd, sizeof(real_sd));
			copy[i] = vals[v];
			if (sd_parse(copy, sizeof(real_sd), &sd, &e) == 0)
				sd_release(&sd);
			else
				assert_int_equal(e.code, GT_REFUSED);
		}
	}
	free(copy);
}

/* ---- malformed ---- */

static void test_malformed(void **state)
{
	uint8_t buf[sizeof(real_sd)];

	(void)state;
#define DAMAGE(off, val, msg)                                   \
	do {                                                    \
		memcpy(buf, real_sd, sizeof(real_sd));          \
		buf[off] = (val);                               \
		parse_refused(buf, sizeof(buf), msg);           \
	} while (0)
	DAMAGE(0, 2, "a revision other than 1");
	DAMAGE(3, 0x18, "not self-relative");                     /* control without SE_SELF_RELATIVE */
	DAMAGE(4, 0x04, "a SID outside");                         /* owner offset inside the header */
	DAMAGE(7, 0x01, "a SID outside");                         /* owner offset past the end */
	DAMAGE(21, 16, "a SID outside");                          /* owner with 16 subauthorities */
	DAMAGE(20, 2, "a SID outside");                           /* owner SID revision 2 */
	DAMAGE(0xc4, 3, "an ACL revision other than 2 or 4");     /* DACL revision */
	DAMAGE(0xc6, 0xed, "an ACL size past the end");           /* DACL size one byte too big */
	DAMAGE(0xc6, 0x04, "an ACL size past the end");           /* DACL smaller than its header */
	DAMAGE(0xc8, 0x40, "more ACEs than the ACL has room for"); /* 64 ACEs in 236 bytes */
	DAMAGE(0xc8, 0x09, "an ACE header past the end");         /* a 9th ACE after the 8th */
	DAMAGE(0xce, 0x00, "an ACE size past the end");           /* first ACE size 0 */
	DAMAGE(0xce, 0xff, "an ACE size past the end");
	DAMAGE(0xce, 0x0c, "an ACE's SID does not fit");          /* the SID cut by the ACE size */
	DAMAGE(0x4f, 0xff, "an ACL size past the end");           /* SACL size past the end */
	DAMAGE(0x4e, 0x10, "an ACE size past the end");           /* SACL too small for its ACEs */
	DAMAGE(0x50, 0x03, "an ACE header past the end");         /* SACL says 3 ACEs, holds 2 */
	DAMAGE(0x56, 0x07, "an ACE too short for its access mask"); /* SACL's first ACE 7 bytes */
	DAMAGE(0x56, 0x0c, "an object ACE too short for its ObjectType");
#undef DAMAGE
}

static void test_sid_text(void **state)
{
	uint8_t sid[8 + 4 * 16];
	char out[192];
	size_t used = 0;

	(void)state;
	assert_int_equal(put_sid(sid, "S-1-5-21-1-2-4294967295"), 24);
	assert_int_equal(sd_sid_to_text(sid, 24, &used, out, sizeof(out)), 0);
	assert_string_equal(out, "S-1-5-21-1-2-4294967295");
	assert_int_equal(used, 24);
	assert_int_equal(sd_sid_to_text(sid, 23, &used, out, sizeof(out)), -1);
	/* too small an output buffer is an error, not a cut SID */
	assert_int_equal(sd_sid_to_text(sid, 24, &used, out, 10), -1);
	/* an authority of 2^32 or more is hex, [MS-DTYP] 2.4.2.1 */
	sid[2] = 0x12;
	assert_int_equal(sd_sid_to_text(sid, 24, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "S-1-0x120000000005-21-1-2-4294967295");
	/* no subauthority at all */
	put_sid(sid, "S-1-0");
	assert_int_equal(sd_sid_to_text(sid, 8, &used, out, sizeof(out)), 0);
	assert_string_equal(out, "S-1-0");
	/* the longest: 15 subauthorities of 10 digits */
	sid[1] = 15;
	memset(sid + 8, 0xff, 60);
	sid[2] = 0xff;
	assert_int_equal(sd_sid_to_text(sid, 68, &used, out, sizeof(out)), 0);
	assert_int_equal(used, 68);
	sid[1] = 16;
	assert_int_equal(sd_sid_to_text(sid, sizeof(sid), &used, out, sizeof(out)), -1);
}

static void test_guid_text(void **state)
{
	static const uint8_t apply[16] = { APPLY_GUID_BYTES };
	uint8_t g[16];
	char text[37];

	(void)state;
	assert_int_equal(sd_guid_from_text(SD_APPLY_GROUP_POLICY_GUID, g), 0);
	assert_memory_equal(g, apply, 16);
	assert_int_equal(sd_guid_from_text("EDACFD8F-FFB3-11D1-B41D-00A0C968F939", g), 0);
	assert_memory_equal(g, apply, 16);
	sd_guid_to_text(apply, text);
	assert_string_equal(text, SD_APPLY_GROUP_POLICY_GUID);
	assert_int_equal(sd_guid_from_text("{edacfd8f-ffb3-11d1-b41d-00a0c968f939}", g), -1);
	assert_int_equal(sd_guid_from_text("edacfd8f-ffb3-11d1-b41d-00a0c968f93", g), -1);
	assert_int_equal(sd_guid_from_text("edacfd8f-ffb3-11d1-b41d-00a0c968f93g", g), -1);
	assert_int_equal(sd_guid_from_text("edacfd8f-ffb311d1-b41d--00a0c968f939", g), -1);
}

/* ---- ordered evaluation ---- */

static void test_deny_before_allow(void **state)
{
	const struct test_ace deny_first[] = {
		{ 6, 0, CR, SD_APPLY_GROUP_POLICY_GUID, "S-1-5-9" },
		{ 0, 0, RP | LC | CR, NULL, "S-1-5-11" },
	};
	const struct test_ace allow_first[] = {
		{ 0, 0, RP | LC | CR, NULL, "S-1-5-11" },
		{ 6, 0, CR, SD_APPLY_GROUP_POLICY_GUID, "S-1-5-9" },
	};
	const struct test_ace deny_read[] = {
		{ 1, 0, RP, NULL, "S-1-1-0" },
		{ 0, 0, GENERIC_ALL, NULL, "S-1-5-11" },
	};
	const struct test_ace deny_other_sid[] = {
		{ 1, 0, GENERIC_ALL, NULL, "S-1-5-7" },
		{ 0, 0, GENERIC_ALL, NULL, "S-1-5-11" },
	};

	(void)state;
	check_grants(deny_first, 2, dc_token, 4, 0,
		     "ACE 1 of 2 denies Enterprise Domain Controllers (S-1-5-9) Apply Group Policy");
	check_grants(allow_first, 2, dc_token, 4, 1,
		     "ACE 1 of 2 allows Authenticated Users (S-1-5-11) Apply Group Policy; "
		     "ACE 1 of 2 allows Authenticated Users (S-1-5-11) read");
	check_grants(deny_read, 2, dc_token, 4, 0, "ACE 1 of 2 denies Everyone (S-1-1-0) read");
	check_grants(deny_other_sid, 2, dc_token, 4, 1,
		     "ACE 2 of 2 allows Authenticated Users (S-1-5-11) Apply Group Policy; "
		     "ACE 2 of 2 allows Authenticated Users (S-1-5-11) read");
}

static void test_inherit_only_ignored(void **state)
{
	const struct test_ace io_allow[] = {
		{ 0, 0x0a, GENERIC_ALL, NULL, "S-1-5-11" },
		{ 0, 0x00, RP | LC, NULL, "S-1-5-11" },
	};
	const struct test_ace io_deny[] = {
		{ 6, 0x0b, CR, SD_APPLY_GROUP_POLICY_GUID, "S-1-5-11" },
		{ 0, 0x02, GENERIC_ALL, NULL, "S-1-5-11" },
	};

	(void)state;
	check_grants(io_allow, 2, au, 1, 0, "no ACE grants Apply Group Policy to Authenticated Users (S-1-5-11)");
	check_grants(io_deny, 2, au, 1, 1,
		     "ACE 2 of 2 allows Authenticated Users (S-1-5-11) Apply Group Policy; "
		     "ACE 2 of 2 allows Authenticated Users (S-1-5-11) read");
}

static void test_object_ace_guid(void **state)
{
	const struct test_ace other[] = {
		{ 0, 0, RP | LC, NULL, "S-1-5-11" },
		{ 5, 0, CR | GENERIC_ALL, OTHER_GUID, "S-1-5-11" },
	};
	const struct test_ace other_deny[] = {
		{ 6, 0, CR, OTHER_GUID, "S-1-5-11" },
		{ 5, 0, CR, SD_APPLY_GROUP_POLICY_GUID, "S-1-5-11" },
		{ 0, 0, RP, NULL, "S-1-5-11" },
	};
	const struct test_ace all_rights[] = {
		{ 5, 0, CR | RP, NULL, "S-1-5-11" },
	};
	const struct test_ace plain_cr[] = {
		{ 0, 0, CR | GENERIC_READ, NULL, "S-1-5-11" },
	};
	const struct test_ace read_one_property[] = {
		{ 5, 0, RP, OTHER_GUID, "S-1-5-11" },
		{ 5, 0, CR, SD_APPLY_GROUP_POLICY_GUID, "S-1-5-11" },
	};

	(void)state;
	check_grants(other, 2, au, 1, 0, "no ACE grants Apply Group Policy to Authenticated Users (S-1-5-11)");
	check_grants(other_deny, 3, au, 1, 1,
		     "ACE 2 of 3 allows Authenticated Users (S-1-5-11) Apply Group Policy; "
		     "ACE 3 of 3 allows Authenticated Users (S-1-5-11) read");
	check_grants(all_rights, 1, au, 1, 1,
		     "ACE 1 of 1 allows Authenticated Users (S-1-5-11) Apply Group Policy; "
		     "ACE 1 of 1 allows Authenticated Users (S-1-5-11) read");
	check_grants(plain_cr, 1, au, 1, 1,
		     "ACE 1 of 1 allows Authenticated Users (S-1-5-11) Apply Group Policy; "
		     "ACE 1 of 1 allows Authenticated Users (S-1-5-11) read");
	/* reading one property is not reading the object */
	check_grants(read_one_property, 2, au, 1, 0, "no ACE grants read to Authenticated Users (S-1-5-11)");
}

static void test_inherited_object_type_only(void **state)
{
	/* an object ACE with only InheritedObjectType (flags 2): access checks ignore that GUID */
	uint8_t buf[256];
	struct sd sd;
	struct gt_error e = { 0 };
	const struct test_ace one[] = { { 5, 0, CR | RP, NULL, "S-1-5-11" } };
	size_t len = build_sd(buf, one, 1), ace = len - 24;
	uint8_t *obj;

	(void)state;
	/* rebuild the ACE by hand: header, mask, flags 2, the GUID, the SID */
	obj = buf + ace;
	assert_int_equal(obj[0], 5);
	memmove(obj + 28, obj + 12, 12);
	put32(obj + 8, 2);
	assert_int_equal(sd_guid_from_text(OTHER_GUID, obj + 12), 0);
	put16(obj + 2, 40);
	put16(buf + 0x30 + 2, 48);   /* the ACL after the 28-byte owner at 20 */
	len += 16;
	assert_int_equal(sd_parse(buf, len, &sd, &e), 0);
	assert_int_equal(sd.aces[0].has_object, 0);
	assert_int_equal(sd.aces[0].has_inherited_object, 1);
	assert_string_equal(sd.aces[0].sid, "S-1-5-11");
	assert_int_equal(sd_grants_apply(&sd, au, 1, NULL), 1);
	sd_release(&sd);
}

static void test_null_and_empty_dacl(void **state)
{
	uint8_t buf[256];
	struct sd sd;
	struct gt_error e = { 0 };
	struct sbuf why, out;
	size_t len;

	(void)state;
	sbuf_init(&why);
	sbuf_init(&out);
	/* no DACL at all */
	len = build_sd(buf, NULL, 0);
	assert_int_equal(sd_parse(buf, len, &sd, &e), 0);
	assert_int_equal(sd.has_dacl, 0);
	assert_int_equal(sd_grants_apply(&sd, au, 1, &why), 1);
	assert_non_null(strstr(why.buf, "no DACL"));
	assert_int_equal(sd_to_sysvol_acl_text(&sd, &out, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_int_equal(out.len, 0);
	sd_release(&sd);
	/* DACL_PRESENT with offset 0: the NULL DACL */
	gt_error_clear(&e);
	put16(buf + 2, 0x8004);
	assert_int_equal(sd_parse(buf, len, &sd, &e), 0);
	assert_int_equal(sd.has_dacl, 0);
	assert_int_equal(sd_grants_apply(&sd, au, 1, NULL), 1);
	sd_release(&sd);
	/* an empty DACL grants nothing, and gives no SYSVOL ACL */
	len = build_sd(buf, (const struct test_ace *)"", 0);
	assert_int_equal(sd_parse(buf, len, &sd, &e), 0);
	assert_int_equal(sd.has_dacl, 1);
	assert_int_equal(sd.naces, 0);
	sbuf_reset(&why);
	assert_int_equal(sd_grants_apply(&sd, dc_token, 4, &why), 0);
	assert_string_equal(why.buf, "the DACL is empty, so it grants nothing (not Apply Group Policy)");
	assert_int_equal(sd_to_sysvol_acl_text(&sd, &out, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_int_equal(out.len, 0);
	sd_release(&sd);
	sbuf_release(&why);
	sbuf_release(&out);
}

static void test_unknown_ace_types(void **state)
{
	/* a callback-allowed ACE (9) granting everything, and a label ACE (0x11): kept, never grant */
	const struct test_ace aces[] = {
		{ 9, 0, GENERIC_ALL, NULL, "S-1-5-11" },
		{ 0x11, 0, 1, NULL, "S-1-16-4096" },
	};
	struct sd sd;
	struct gt_error e = { 0 };
	struct sbuf out;

	(void)state;
	parse_built(aces, 2, &sd);
	assert_int_equal(sd.naces, 2);
	assert_int_equal(sd.aces[0].type, 9);
	assert_int_equal(sd.aces[1].type, 0x11);
	assert_int_equal(sd_grants_apply(&sd, au, 1, NULL), 0);
	sbuf_init(&out);
	assert_int_equal(sd_to_sysvol_acl_text(&sd, &out, &e), -1);
	sbuf_release(&out);
	sd_release(&sd);
}

/* ---- the SYSVOL ACL: what dsacl2fsacl does to each ACE ----
 * The masks are Samba 4.17's samba.ntacls.ldapmask2filemask of each DS mask. */

static void test_sysvol_acl_rules(void **state)
{
	const struct test_ace aces[] = {
		{ 1, 0, GENERIC_ALL, NULL, "S-1-5-11" },               /* deny: dropped */
		{ 0, 0, RP | LC, NULL, "S-1-5-32-554" },               /* Pre-Windows 2000: dropped */
		{ 0, 0x02, 0x20, NULL, "S-1-5-11" },                   /* write property */
		{ 0, 0x00, 0x01, NULL, "S-1-5-11" },                   /* create child */
		{ 0, 0x00, 0x02, NULL, "S-1-5-11" },                   /* delete child */
		{ 0, 0x00, RP, NULL, "S-1-5-11" },                     /* read without list: nothing */
		{ 0, 0x10, 0x000f0000 | RP | LC, NULL, "S-1-5-18" },   /* inherited flag kept */
		{ 0, 0x00, 0x000f00ff, NULL, "S-1-3-0" },              /* CREATOR OWNER: inherit-only */
		{ 5, 0x00, CR, OTHER_GUID, "S-1-5-9" },                /* object ACE: type 5, mask 0 */
	};
	struct sd sd;
	struct gt_error e = { 0 };
	struct sbuf out;

	(void)state;
	parse_built(aces, sizeof(aces) / sizeof(aces[0]), &sd);
	sbuf_init(&out);
	sbuf_addstr(&out, "kept>");
	assert_int_equal(sd_to_sysvol_acl_text(&sd, &out, &e), 0);
	assert_string_equal(out.buf, "kept>REVISION:1,OWNER:" DOM "-512"
				     ",ACL:S-1-5-11:0/3/1048854"    /* 0x00100116 */
				     ",ACL:S-1-5-11:0/3/6"
				     ",ACL:S-1-5-11:0/3/64"
				     ",ACL:S-1-5-11:0/3/0"
				     ",ACL:S-1-5-18:0/19/2031785"   /* 0x001f00a9 */
				     ",ACL:S-1-3-0:0/11/2032127"
				     ",ACL:S-1-5-9:5/3/0");
	assert_int_equal(sd_sysvol_dacl_control(&sd), 0);
	sbuf_release(&out);
	sd_release(&sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_sd_parses),
		cmocka_unit_test(test_real_sd_grants_apply),
		cmocka_unit_test(test_real_sd_sysvol_acl),
		cmocka_unit_test(test_real_sd_truncated),
		cmocka_unit_test(test_real_sd_damaged_bytes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_sid_text),
		cmocka_unit_test(test_guid_text),
		cmocka_unit_test(test_deny_before_allow),
		cmocka_unit_test(test_inherit_only_ignored),
		cmocka_unit_test(test_object_ace_guid),
		cmocka_unit_test(test_inherited_object_type_only),
		cmocka_unit_test(test_null_and_empty_dacl),
		cmocka_unit_test(test_unknown_ace_types),
		cmocka_unit_test(test_sysvol_acl_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
