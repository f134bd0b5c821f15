/* Unit tests for the GPO engine's small parsers: the AD attribute merges (gPC*ExtensionNames,
 * gPLink), DNS names to DNs, braced GUIDs, GPT.INI Version bumps and GPT.INI parsing and
 * rendering in each encoding Windows writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpo/adattrs.h"
#include "core/error.h"
#include "gpo/gpp.h"
#include "gpo/gptini.h"
#include "core/sbuf.h"

#define REG_CSE "{B087BE9D-ED37-454F-AF9C-04291E351182}"
#define REG_TOOL "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}"
#define REG_PAIR "[" REG_CSE REG_TOOL "]"
#define IP_GROUP "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]"
#define SEC_GROUP "[{827D319E-6EAC-11D2-A4EA-00C04F79F83A}{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}]"
#define AUDIT_GROUP "[{F3CCC681-B74C-4060-9F26-CD84525DCA2A}{0F3F3735-573D-9804-99E4-AB2A69BA5FD4}]"

#define DOMAIN_DN "DC=corp,DC=example,DC=com"
#define GPO_DN "cn={6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B},cn=policies,cn=system," DOMAIN_DN
#define DDCP_LINK "[LDAP://cn={6AC1786C-016F-11D2-945F-00C04fB984F9},cn=policies,cn=system," DOMAIN_DN ";0]"

/* ---- gPC*ExtensionNames ---- */

static void check_merge(const char *current, const char *want, int want_changed)
{
	struct gt_error e = { 0 };
	struct sbuf out;
	int changed = -1;

	sbuf_init(&out);
	assert_int_equal(extnames_merge(current, REG_CSE, REG_TOOL, &out, &changed, &e), 0);
	assert_int_equal(e.code, GT_OK);
	assert_string_equal(out.buf, want);
	assert_int_equal(changed, want_changed);
	sbuf_release(&out);
}

static void check_merge_bad(const char *current)
{
	struct gt_error e = { 0 };
	struct sbuf out;
	int changed = 0;

	sbuf_init(&out);
	assert_int_equal(extnames_merge(current, REG_CSE, REG_TOOL, &out, &changed, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	assert_true(strlen(e.msg) > 0);
	assert_null(strchr(e.msg, '\n'));
	sbuf_release(&out);
}

static void test_extnames_empty(void **state)
{
	(void)state;
	check_merge("", REG_PAIR, 1);
	check_merge(NULL, REG_PAIR, 1);
}

static void test_extnames_existing_group_without_tool(void **state)
{
	(void)state;
	/* the CSE is there with another tool: ours joins it, tools sorted */
	check_merge("[" REG_CSE "{CCCCCCCC-0000-0000-0000-000000000000}]",
		    "[" REG_CSE REG_TOOL "{CCCCCCCC-0000-0000-0000-000000000000}]", 1);
	check_merge("[" REG_CSE "{0E28E245-9368-4853-AD84-6DA3BA35BB75}]",
		    "[" REG_CSE "{0E28E245-9368-4853-AD84-6DA3BA35BB75}" REG_TOOL "]", 1);
	/* the CSE alone, no tool */
	check_merge("[" REG_CSE "]", REG_PAIR, 1);
	/* other groups are kept whole */
	check_merge(SEC_GROUP "[" REG_CSE "{CCCCCCCC-0000-0000-0000-000000000000}]",
		    SEC_GROUP "[" REG_CSE REG_TOOL "{CCCCCCCC-0000-0000-0000-000000000000}]", 1);
}

static void test_extnames_already_present(void **state)
{
	(void)state;
	check_merge(REG_PAIR, REG_PAIR, 0);
	check_merge(IP_GROUP SEC_GROUP REG_PAIR AUDIT_GROUP, IP_GROUP SEC_GROUP REG_PAIR AUDIT_GROUP, 0);
	/* GUIDs compare case-insensitively */
	check_merge("[{b087be9d-ed37-454f-af9c-04291e351182}{bee07a6a-ec9f-4659-b8c9-0b1937907c83}]",
		    "[{b087be9d-ed37-454f-af9c-04291e351182}{bee07a6a-ec9f-4659-b8c9-0b1937907c83}]", 0);
	check_merge("[{b087be9d-ed37-454f-af9c-04291e351182}]",
		    "[{b087be9d-ed37-454f-af9c-04291e351182}" REG_TOOL "]", 1);
}

static void test_extnames_sorting(void **state)
{
	(void)state;
	/* a new group lands in CSE order: before one that sorts after B087..., after the others */
	check_merge(IP_GROUP SEC_GROUP, IP_GROUP SEC_GROUP REG_PAIR, 1);
	check_merge(IP_GROUP SEC_GROUP AUDIT_GROUP, IP_GROUP SEC_GROUP REG_PAIR AUDIT_GROUP, 1);
	check_merge(AUDIT_GROUP, REG_PAIR AUDIT_GROUP, 1);
	/* a list out of order comes back sorted, every group kept */
	check_merge(AUDIT_GROUP IP_GROUP SEC_GROUP, IP_GROUP SEC_GROUP REG_PAIR AUDIT_GROUP, 1);
	/* sorting ignores case: {a...} sorts after {9...} and before {B087...} */
	check_merge("[{aaaaaaaa-0000-0000-0000-000000000000}{BBBBBBBB-0000-0000-0000-000000000000}]",
		    "[{aaaaaaaa-0000-0000-0000-000000000000}{BBBBBBBB-0000-0000-0000-000000000000}]" REG_PAIR, 1);
	check_merge("[{cccccccc-0000-0000-0000-000000000000}{BBBBBBBB-0000-0000-0000-000000000000}]",
		    REG_PAIR "[{cccccccc-0000-0000-0000-000000000000}{BBBBBBBB-0000-0000-0000-000000000000}]", 1);
}

static void test_extnames_malformed(void **state)
{
	struct sbuf many;

	(void)state;
	check_merge_bad("garbage");
	check_merge_bad("[");
	check_merge_bad("[]");
	check_merge_bad("[x]");
	check_merge_bad("[{B087BE9D}]");
	check_merge_bad("[" REG_CSE);
	check_merge_bad(REG_CSE REG_TOOL);
	check_merge_bad(REG_PAIR "x");
	check_merge_bad(REG_PAIR " ");
	check_merge_bad(" " REG_PAIR);
	check_merge_bad(REG_PAIR "[");
	check_merge_bad("[{B087BE9D-ED37-454F-AF9C-04291E35118G}]");
	check_merge_bad("[{B087BE9D_ED37-454F-AF9C-04291E351182}]");
	check_merge_bad("[B087BE9D-ED37-454F-AF9C-04291E351182]");
	check_merge_bad("[" REG_CSE "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83]");
	check_merge_bad("[" REG_CSE "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}}]");
	/* more groups than any real GPO has */
	sbuf_init(&many);
	for (int i = 0; i < 300; i++)
		sbuf_addf(&many, "[{%08X-0000-0000-0000-000000000000}{BBBBBBBB-0000-0000-0000-000000000000}]", i);
	check_merge_bad(many.buf);
	sbuf_release(&many);
	/* more tools in our group than fit */
	sbuf_init(&many);
	sbuf_addstr(&many, "[" REG_CSE);
	for (int i = 0; i < 100; i++)
		sbuf_addf(&many, "{%08X-0000-0000-0000-000000000000}", i);
	sbuf_addch(&many, ']');
	check_merge_bad(many.buf);
	sbuf_release(&many);
}

/* ---- gPLink ---- */

static void check_link(const char *current, const char *want, int want_changed)
{
	struct gt_error e = { 0 };
	struct sbuf out;
	int changed = -1;

	sbuf_init(&out);
	assert_int_equal(gplink_merge(current, GPO_DN, &out, &changed, &e), 0);
	assert_string_equal(out.buf, want);
	assert_int_equal(changed, want_changed);
	sbuf_release(&out);
}

static void check_link_bad(const char *current)
{
	struct gt_error e = { 0 };
	struct sbuf out;
	int changed = 0;

	sbuf_init(&out);
	assert_int_equal(gplink_merge(current, GPO_DN, &out, &changed, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	assert_true(strlen(e.msg) > 0);
	assert_null(strchr(e.msg, '\n'));
	sbuf_release(&out);
}

static void test_gplink_empty(void **state)
{
	(void)state;
	check_link("", "[LDAP://" GPO_DN ";0]", 1);
	check_link(NULL, "[LDAP://" GPO_DN ";0]", 1);
}

static void test_gplink_others_kept(void **state)
{
	(void)state;
	check_link(DDCP_LINK, "[LDAP://" GPO_DN ";0]" DDCP_LINK, 1);
	check_link(DDCP_LINK "[LDAP://cn={11111111-2222-3333-4444-555555555555},cn=policies,cn=system," DOMAIN_DN ";2]",
		   "[LDAP://" GPO_DN ";0]" DDCP_LINK
		   "[LDAP://cn={11111111-2222-3333-4444-555555555555},cn=policies,cn=system," DOMAIN_DN ";2]", 1);
	/* a DN that only starts like ours is another GPO's */
	check_link("[LDAP://" GPO_DN ",DC=other;0]", "[LDAP://" GPO_DN ";0][LDAP://" GPO_DN ",DC=other;0]", 1);
}

static void test_gplink_already_linked(void **state)
{
	(void)state;
	check_link("[LDAP://" GPO_DN ";0]", "[LDAP://" GPO_DN ";0]", 0);
	check_link(DDCP_LINK "[LDAP://" GPO_DN ";0]", DDCP_LINK "[LDAP://" GPO_DN ";0]", 0);
	/* DNs compare case-insensitively, and a disabled or enforced link is still a link */
	check_link("[LDAP://CN={6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B},CN=Policies,CN=System,DC=CORP,DC=EXAMPLE,DC=COM;1]",
		   "[LDAP://CN={6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B},CN=Policies,CN=System,DC=CORP,DC=EXAMPLE,DC=COM;1]", 0);
	check_link("[ldap://cn={6f1a4f3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b},cn=policies,cn=system,dc=corp,dc=example,dc=com;2]",
		   "[ldap://cn={6f1a4f3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b},cn=policies,cn=system,dc=corp,dc=example,dc=com;2]", 0);
}

static void test_gplink_malformed(void **state)
{
	(void)state;
	check_link_bad("x");
	check_link_bad("LDAP://" GPO_DN ";0");
	check_link_bad("[LDAP://" GPO_DN ";0");
	check_link_bad("[LDAP://" GPO_DN "]");
	check_link_bad("[LDAP://" GPO_DN ";]");
	check_link_bad("[LDAP://" GPO_DN ";x]");
	check_link_bad("[LDAP://" GPO_DN ";-1]");
	check_link_bad("[LDAP://" GPO_DN ";0 ]");
	check_link_bad("[FILE://" GPO_DN ";0]");
	check_link_bad(DDCP_LINK "junk");
	check_link_bad(DDCP_LINK " ");
	check_link_bad(DDCP_LINK "[");
}

/* ---- DNS names ---- */

static void check_dn(const char *dns, const char *want)
{
	struct gt_error e = { 0 };
	struct sbuf out;

	sbuf_init(&out);
	assert_int_equal(dns_to_dn(dns, &out, &e), 0);
	assert_string_equal(out.buf, want);
	sbuf_release(&out);
}

static void check_dn_bad(const char *dns)
{
	struct gt_error e = { 0 };
	struct sbuf out;

	sbuf_init(&out);
	assert_int_equal(dns_to_dn(dns, &out, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	assert_null(strchr(e.msg, '\n'));
	sbuf_release(&out);
}

static void test_dns_to_dn(void **state)
{
	char label[80], name[300];

	(void)state;
	check_dn("corp.example.com", "DC=corp,DC=example,DC=com");
	check_dn("CORP", "DC=CORP");
	check_dn("ad-01.example.org", "DC=ad-01,DC=example,DC=org");
	check_dn("x1.y2", "DC=x1,DC=y2");
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(name, sizeof(name), "%s.com", label);
	check_dn(name, "DC=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,DC=com");

	check_dn_bad("");
	check_dn_bad(".");
	check_dn_bad("corp..example.com");
	check_dn_bad(".corp.com");
	check_dn_bad("corp.com.");
	check_dn_bad("corp_x.com");
	check_dn_bad("corp example.com");
	check_dn_bad("corp,DC=evil");
	check_dn_bad("corp=x.com");
	check_dn_bad("k\xc3\xb6ln.de");
	label[63] = 'a';
	label[64] = '\0';
	snprintf(name, sizeof(name), "%s.com", label);
	check_dn_bad(name);
	/* 254 characters in all */
	memset(name, 0, sizeof(name));
	for (int i = 0; i < 127; i++)
		memcpy(name + 2 * i, "a.", 2);
	name[253] = 'a';
	assert_int_equal(strlen(name), 254);
	check_dn_bad(name);
}

/* ---- braced GUIDs ---- */

static void test_is_braced_guid(void **state)
{
	(void)state;
	assert_true(is_braced_guid("{6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B}"));
	assert_true(is_braced_guid("{6f1a4f3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b}"));
	assert_true(is_braced_guid("{00000000-0000-0000-0000-000000000000}"));
	assert_false(is_braced_guid(""));
	assert_false(is_braced_guid("{}"));
	assert_false(is_braced_guid("6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B"));
	assert_false(is_braced_guid("{6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B"));
	assert_false(is_braced_guid("6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B}"));
	assert_false(is_braced_guid("(6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B)"));
	assert_false(is_braced_guid("{6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B}x"));
	assert_false(is_braced_guid("{6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5}"));
	assert_false(is_braced_guid("{6F1A4F3C1-B2D-4E5F-8A9B-0C1D2E3F4A5B}"));
	assert_false(is_braced_guid("{6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5G}"));
	assert_false(is_braced_guid("{6F1A4F3C-1B2D-4E5F-8A9B+0C1D2E3F4A5B}"));
	assert_false(is_braced_guid("{6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A-B}"));
	assert_false(is_braced_guid("{ 6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5}"));
}

/* ---- GPT.INI versions ---- */

static void test_gpt_version_bump(void **state)
{
	(void)state;
	/* the machine half */
	assert_int_equal(gpt_version_bump(0, 0), 1);
	assert_int_equal(gpt_version_bump(5, 0), 6);
	assert_int_equal(gpt_version_bump(0xFFFE, 0), 0xFFFF);
	assert_int_equal(gpt_version_bump(0xFFFF, 0), 1);
	assert_int_equal(gpt_version_bump(0x1FFFF, 0), 0x10001);
	assert_int_equal(gpt_version_bump(0xFFFFFFFFu, 0), 0xFFFF0001u);
	assert_int_equal(gpt_version_bump(0x00070003, 0), 0x00070004);
	/* the user half */
	assert_int_equal(gpt_version_bump(0, 1), 0x10000);
	assert_int_equal(gpt_version_bump(0x00070003, 1), 0x00080003);
	assert_int_equal(gpt_version_bump(0xFFFE0000u, 1), 0xFFFF0000u);
	assert_int_equal(gpt_version_bump(0xFFFF0000u, 1), 0x10000);
	assert_int_equal(gpt_version_bump(0xFFFF0005u, 1), 0x10005);
	assert_int_equal(gpt_version_bump(0xFFFFFFFFu, 1), 0x1FFFF);
	assert_int_equal(gpt_version_bump(0xFFFF, 1), 0x1FFFF);
}

/* ---- GPT.INI parse and render ---- */

static void parse_ok(const void *buf, size_t len, struct gptini *g, uint32_t want)
{
	struct gt_error e = { 0 };

	assert_int_equal(gptini_parse(buf, len, g, &e), 0);
	assert_int_equal(g->version, want);
}

static void check_parse_bad(const void *buf, size_t len)
{
	struct gt_error e = { 0 };
	struct gptini g;

	assert_int_equal(gptini_parse(buf, len, &g, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_true(strlen(e.msg) > 0);
	assert_null(strchr(e.msg, '\n'));
}

/* An unpaired surrogate would come back as U+FFFD: the bump would change other bytes
 * (found by fuzz-gptini, tests/fuzz/regressions/gptini-utf16-lone-surrogate-rewritten). */
static void test_gptini_utf16_lone_surrogate(void **state)
{
	static const uint8_t lone[] = { 0xFF, 0xFE, '[', 0, 'G', 0, 'e', 0, 'n', 0, 'e', 0, 'r', 0, 'a', 0, 'l', 0, ']', 0,
					'\r', 0, '\n', 0, 'V', 0, 'e', 0, 'r', 0, 's', 0, 'i', 0, 'o', 0, 'n', 0, '=', 0,
					'1', 0, '\r', 0, '\n', 0, 'x', 0, '=', 0, 0x00, 0xDC, '\r', 0, '\n', 0 };

	(void)state;
	check_parse_bad(lone, sizeof(lone));
}

/* render(g, version) must be exactly want (want_len bytes). */
static void check_render(const struct gptini *g, uint32_t version, const void *want, size_t want_len)
{
	struct sbuf out;

	sbuf_init(&out);
	gptini_render(g, version, &out);
	assert_int_equal(out.len, want_len);
	assert_memory_equal(out.buf, want, want_len);
	sbuf_release(&out);
}

#define S(lit) lit, sizeof(lit) - 1

static void test_gptini_crlf(void **state)
{
	struct gptini g;

	(void)state;
	parse_ok(S("[General]\r\nVersion=5\r\ndisplayName=Tier 0\r\n"), &g, 5);
	assert_false(g.utf16);
	assert_false(g.utf8_bom);
	check_render(&g, 6, S("[General]\r\nVersion=6\r\ndisplayName=Tier 0\r\n"));
	check_render(&g, 65537, S("[General]\r\nVersion=65537\r\ndisplayName=Tier 0\r\n"));
	check_render(&g, 0, S("[General]\r\nVersion=0\r\ndisplayName=Tier 0\r\n"));
	gptini_release(&g);

	/* no final line end, Version last */
	parse_ok(S("[General]\r\ndisplayName=x\r\nVersion=131082"), &g, 131082);
	check_render(&g, 131083, S("[General]\r\ndisplayName=x\r\nVersion=131083"));
	gptini_release(&g);
}

static void test_gptini_lf(void **state)
{
	struct gptini g;

	(void)state;
	parse_ok(S("[General]\nVersion=9\ndisplayName=LF\n"), &g, 9);
	check_render(&g, 10, S("[General]\nVersion=10\ndisplayName=LF\n"));
	gptini_release(&g);
}

static void test_gptini_utf8_bom(void **state)
{
	struct gptini g;

	(void)state;
	parse_ok(S("\xEF\xBB\xBF[General]\r\nVersion=131082\r\n"), &g, 131082);
	assert_true(g.utf8_bom);
	assert_false(g.utf16);
	check_render(&g, 131083, S("\xEF\xBB\xBF[General]\r\nVersion=131083\r\n"));
	gptini_release(&g);
}

static void test_gptini_utf16le(void **state)
{
	static const char text[] = "[General]\r\nVersion=99\r\ndisplayName=Wide \xC3\xA9\r\n";
	static const char text2[] = "[General]\r\nVersion=100\r\ndisplayName=Wide \xC3\xA9\r\n";
	uint8_t in[256], want[256];
	size_t n = 2, m = 2;
	struct gptini g;

	(void)state;
	/* hand-made UTF-16LE: every character here is one code unit */
	in[0] = want[0] = 0xFF;
	in[1] = want[1] = 0xFE;
	for (const char *p = text; *p; p++) {
		if ((unsigned char)*p == 0xC3) { /* U+00E9 */
			in[n++] = 0xE9;
			in[n++] = 0;
			p++;
			continue;
		}
		in[n++] = (uint8_t)*p;
		in[n++] = 0;
	}
	for (const char *p = text2; *p; p++) {
		if ((unsigned char)*p == 0xC3) {
			want[m++] = 0xE9;
			want[m++] = 0;
			p++;
			continue;
		}
		want[m++] = (uint8_t)*p;
		want[m++] = 0;
	}
	parse_ok(in, n, &g, 99);
	assert_true(g.utf16);
	check_render(&g, 100, want, m);
	check_render(&g, 99, in, n);
	gptini_release(&g);

	/* an odd number of bytes is no UTF-16 */
	check_parse_bad(in, n - 1);
}

static void test_gptini_names(void **state)
{
	struct gptini g;

	(void)state;
	/* Windows' INI functions read names case-insensitively */
	parse_ok(S("[General]\r\nversion=3\r\n"), &g, 3);
	check_render(&g, 4, S("[General]\r\nversion=4\r\n"));
	gptini_release(&g);
	parse_ok(S("[general]\r\nVERSION=3\r\n"), &g, 3);
	gptini_release(&g);
	/* other sections, and a Version in one of them, stay as they are */
	parse_ok(S("[Other]\r\nVersion=77\r\n[General]\r\nVersion=3\r\n[Tail]\r\nVersion=1\r\n"), &g, 3);
	check_render(&g, 4, S("[Other]\r\nVersion=77\r\n[General]\r\nVersion=4\r\n[Tail]\r\nVersion=1\r\n"));
	gptini_release(&g);
	parse_ok(S("[General]\r\nVersion=4294967295\r\n"), &g, 4294967295u);
	gptini_release(&g);
}

/* What Windows' profile reader accepts: Samba writes "Version = 1" with LF line ends;
 * blanks around the section, the key, '=' and the value, and one pair of quotes. Only the
 * digits change on a bump. */
static void test_gptini_profile_reader(void **state)
{
	struct gptini g;

	(void)state;
	parse_ok(S("[General]\nVersion = 1\n"), &g, 1);
	check_render(&g, 2, S("[General]\nVersion = 2\n"));
	gptini_release(&g);
	parse_ok(S("  [general]  \n\tversion\t=\t65543 \ndisplayName = x\n"), &g, 65543);
	check_render(&g, 65544, S("  [general]  \n\tversion\t=\t65544 \ndisplayName = x\n"));
	gptini_release(&g);
	parse_ok(S("[General] ; comment\r\nVersion=\"7\"\r\n"), &g, 7);
	check_render(&g, 8, S("[General] ; comment\r\nVersion=\"8\"\r\n"));
	gptini_release(&g);
	/* a Version outside [General] does not count, a Versions key is another key */
	parse_ok(S("[General]\nVersions=4\nVersion=5\n[Other]\nVersion=6\n"), &g, 5);
	gptini_release(&g);
}

static void test_gptini_two_versions(void **state)
{
	static const char two[] = "[General]\r\nVersion=1\r\nVersion=2\r\n";
	struct gt_error e = { 0 };
	struct gptini g;

	(void)state;
	/* which one a human meant is unknown; a bump of the first would leave the second */
	assert_int_equal(gptini_parse((const uint8_t *)two, sizeof(two) - 1, &g, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_non_null(strstr(e.msg, "two Version lines"));
	check_parse_bad(S("[General]\nVersion = 1\nversion=1\n"));
	check_parse_bad(S("[General]\nVersion=1\n[Other]\nx=1\n[GENERAL]\nVersion=3\n"));
}

static void test_gptini_refused(void **state)
{
	uint8_t big[GPTINI_MAX_BYTES + 64];

	(void)state;
	check_parse_bad(S(""));
	check_parse_bad(S("[General]\r\ndisplayName=x\r\n"));
	check_parse_bad(S("[Other]\r\nVersion=5\r\n"));
	check_parse_bad(S("Version=5\r\n"));
	check_parse_bad(S("[General]\r\nVersion=12abc\r\n"));
	check_parse_bad(S("[General]\r\nVersion=\r\n"));
	check_parse_bad(S("[General]\r\nVersion=-1\r\n"));
	check_parse_bad(S("[General]\r\nVersion=0x10\r\n"));
	check_parse_bad(S("[General]\r\nVersion=4294967296\r\n"));
	check_parse_bad(S("[General]\r\nVersion=99999999999\r\n"));
	check_parse_bad(S("[General]\r\nVersion=1 2\r\n"));
	/* UTF-16 without a BOM: NUL bytes */
	check_parse_bad(S("[\0G\0e\0n\0e\0r\0a\0l\0]\0\r\0\n\0V\0e\0r\0s\0i\0o\0n\0=\0\x31\0"));
	/* larger than any GPT.INI */
	memset(big, ' ', sizeof(big));
	memcpy(big, "[General]\r\nVersion=1\r\n", 22);
	check_parse_bad(big, sizeof(big));
}

static void test_gptini_new(void **state)
{
	struct sbuf out;
	struct gptini g;

	(void)state;
	sbuf_init(&out);
	gptini_new("Tier 0 KDC", &out);
	assert_string_equal(out.buf, "[General]\r\nVersion=0\r\ndisplayName=Tier 0 KDC\r\n");
	parse_ok((const uint8_t *)out.buf, out.len, &g, 0);
	gptini_release(&g);
	sbuf_release(&out);
}

/* ---- Registry.xml: linear loading ---- */

#define RNG "templates/gpp-registry.rng"
#define BIG_ITEMS 20000

/* n items as GPMC writes them, one per line after two header lines; item bad (1-based, 0
 * for none) gets action="X", which the schema refuses. */
static void big_registry_xml(size_t n, size_t bad, struct sbuf *out)
{
	sbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<RegistrySettings clsid=\"" GPP_CLSID_SETTINGS "\">\r\n");
	for (size_t i = 1; i <= n; i++)
		sbuf_addf(out, "\t<Registry clsid=\"" GPP_CLSID_REGISTRY "\" name=\"V%zu\" status=\"V%zu\" image=\"12\" "
			  "changed=\"2025-02-11 10:00:00\" uid=\"{00000000-0000-0000-0000-%012zX}\"%s><Properties action=\"%s\" "
			  "displayDecimal=\"1\" default=\"0\" hive=\"HKEY_LOCAL_MACHINE\" key=\"SOFTWARE\\G%zu\" name=\"V%zu\" "
			  "type=\"REG_DWORD\" value=\"%08zX\"/></Registry>\r\n", i, i, i, i % 2 ? " disabled=\"0\"" : "",
			  i == bad ? "X" : "U", i / 100, i, i);
	sbuf_addstr(out, "</RegistrySettings>\r\n");
}

/* Each item is checked against the schema on its own, and items of one shape only once:
 * 20,000 items of two shapes (with and without disabled="0") cost the root and two runs,
 * not one run over 20,000 siblings (libxml2's zeroOrMore compares every position with all
 * before it: quadratic). Every item is still read, each value kept. */
static void test_gpp_load_runs_per_shape(void **state)
{
	struct gt_error e = { 0 };
	struct gpp_doc *d;
	struct gpp_item it;
	struct sbuf x;
	unsigned long before = gpp_schema_runs;

	(void)state;
	sbuf_init(&x);
	big_registry_xml(BIG_ITEMS, 0, &x);
	assert_int_equal(gpp_load((const uint8_t *)x.buf, x.len, "big", RNG, &d, &e), 0);
	assert_int_equal(gpp_item_count(d), BIG_ITEMS);
	assert_true(gpp_schema_runs - before <= 3);
	assert_int_equal(gpp_schema_widest, 1);
	gpp_item_get(d, BIG_ITEMS - 1, &it);
	assert_string_equal(it.name, "V20000");
	assert_string_equal(it.value, "00004E20");
	assert_string_equal(it.key, "SOFTWARE\\G200");
	gpp_item_release(&it);
	assert_int_equal(gpp_find(d, "HKEY_LOCAL_MACHINE", "software\\g150", "v15000"), 14999);
	gpp_free(d);
	sbuf_release(&x);
}

/* The shape cache does not hide a bad item: one among 20,000 is refused, at its own line,
 * past the 65,535 lines libxml2 counts to on its own. */
static void test_gpp_load_bad_item_line(void **state)
{
	struct gt_error e = { 0 };
	struct gpp_doc *d;
	struct sbuf x;
	char want[64];

	(void)state;
	sbuf_init(&x);
	big_registry_xml(BIG_ITEMS, 15000, &x);
	assert_int_equal(gpp_load((const uint8_t *)x.buf, x.len, "big", RNG, &d, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	snprintf(want, sizeof(want), "line %d: does not match the Registry.xml schema", 15000 + 2);
	if (!strstr(e.msg, want))
		fail_msg("'%s' not in '%s'", want, e.msg);
	sbuf_release(&x);
	/* past line 65,535 */
	gt_error_clear(&e);
	sbuf_init(&x);
	sbuf_addstr(&x, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<RegistrySettings clsid=\"" GPP_CLSID_SETTINGS "\">");
	for (int i = 0; i < 70000; i++)
		sbuf_addstr(&x, "\r\n");
	sbuf_addstr(&x, "<Registry clsid=\"" GPP_CLSID_REGISTRY "\"><Properties hive=\"HKLM\" key=\"K\"/></Registry>\r\n</RegistrySettings>\r\n");
	assert_int_equal(gpp_load((const uint8_t *)x.buf, x.len, "tall", RNG, &d, &e), -1);
	if (!strstr(e.msg, "line 70002: does not match"))
		fail_msg("'line 70002' not in '%s'", e.msg);
	sbuf_release(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gptini_utf16_lone_surrogate),
		cmocka_unit_test(test_extnames_empty),
		cmocka_unit_test(test_extnames_existing_group_without_tool),
		cmocka_unit_test(test_extnames_already_present),
		cmocka_unit_test(test_extnames_sorting),
		cmocka_unit_test(test_extnames_malformed),
		cmocka_unit_test(test_gplink_empty),
		cmocka_unit_test(test_gplink_others_kept),
		cmocka_unit_test(test_gplink_already_linked),
		cmocka_unit_test(test_gplink_malformed),
		cmocka_unit_test(test_dns_to_dn),
		cmocka_unit_test(test_is_braced_guid),
		cmocka_unit_test(test_gpt_version_bump),
		cmocka_unit_test(test_gptini_crlf),
		cmocka_unit_test(test_gptini_lf),
		cmocka_unit_test(test_gptini_utf8_bom),
		cmocka_unit_test(test_gptini_utf16le),
		cmocka_unit_test(test_gptini_names),
		cmocka_unit_test(test_gptini_profile_reader),
		cmocka_unit_test(test_gpp_load_runs_per_shape),
		cmocka_unit_test(test_gpp_load_bad_item_line),
		cmocka_unit_test(test_gptini_two_versions),
		cmocka_unit_test(test_gptini_refused),
		cmocka_unit_test(test_gptini_new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
