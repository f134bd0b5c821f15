/* Unit tests for adattrs.c: the AD attribute merges (gPC*ExtensionNames, gPLink), DNS names
 * to DNs, braced GUIDs, versionNumber (never lower, signed text) and LDIF lines (RFC 2849). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/sbuf.h"
#include "gpo/adattrs.h"

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

static void test_gplink_spaces_hold_no_link(void **state)
{
	(void)state;
	/* what an OU keeps once GPMC removed its last link */
	check_link(" ", "[LDAP://" GPO_DN ";0]", 1);
	check_link("   ", "[LDAP://" GPO_DN ";0]", 1);
	check_link_bad(" " DDCP_LINK);
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

/* ---- versionNumber ---- */

static void check_next(uint32_t ad, uint32_t gpt)
{
	struct gt_error e = { 0 };
	uint32_t next = 7;

	assert_int_equal(ad_version_next(ad, gpt, &next, &e), 0);
	assert_int_equal(e.code, GT_OK);
	assert_int_equal(next, gpt);
}

static void check_next_refused(uint32_t ad, uint32_t gpt, const char *half)
{
	struct gt_error e = { 0 };
	uint32_t next = 7;

	assert_int_equal(ad_version_next(ad, gpt, &next, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_non_null(strstr(e.msg, half));
	assert_non_null(strstr(e.msg, "max(AD, GPT.INI) + 1"));
	assert_null(strchr(e.msg, '\n'));
}

static void test_version_never_lower(void **state)
{
	(void)state;
	check_next(0, 0);
	check_next(0, 1);
	check_next(7, 8);
	check_next(7, 7);
	check_next(0x00010007, 0x00020007);
	check_next(0xFFFFFFFF, 0xFFFFFFFF);
	/* the case the check against Samba found: AD 7, the folder 1 */
	check_next_refused(7, 1, "machine version 1 is below AD's 7");
	check_next_refused(7, 1, "to 8 (");
	/* each half on its own: a higher total hides a lower machine half */
	check_next_refused(0x00000002, 0x00010001, "machine version 1 is below AD's 2");
	check_next_refused(0x00020000, 0x00010005, "user version 1 is below AD's 2");
}

static void check_version_text(const char *text, uint32_t want, const char *printed)
{
	uint32_t v = 1;
	char buf[12];

	assert_int_equal(ad_version_parse(text, &v), 0);
	assert_int_equal(v, want);
	assert_string_equal(ad_version_text(v, buf), printed);
}

static void test_version_text(void **state)
{
	uint32_t v;

	(void)state;
	check_version_text("0", 0, "0");
	check_version_text("65537", 65537, "65537");
	check_version_text("2147483647", 0x7FFFFFFF, "2147483647");
	/* AD holds a signed integer: a user half from 0x8000 up is negative there */
	check_version_text("2147549185", 0x80010001, "-2147418111");
	check_version_text("-2147418111", 0x80010001, "-2147418111");
	check_version_text("-1", 0xFFFFFFFF, "-1");
	check_version_text("4294967295", 0xFFFFFFFF, "-1");
	check_version_text("-2147483648", 0x80000000, "-2147483648");
	assert_int_equal(ad_version_parse("", &v), -1);
	assert_int_equal(ad_version_parse("-", &v), -1);
	assert_int_equal(ad_version_parse("+1", &v), -1);
	assert_int_equal(ad_version_parse(" 1", &v), -1);
	assert_int_equal(ad_version_parse("1 ", &v), -1);
	assert_int_equal(ad_version_parse("0x10", &v), -1);
	assert_int_equal(ad_version_parse("--1", &v), -1);
	assert_int_equal(ad_version_parse("4294967296", &v), -1);
	assert_int_equal(ad_version_parse("-2147483649", &v), -1);
}

/* ---- LDIF ---- */

static void check_line(const char *value, const char *want)
{
	struct sbuf out;

	sbuf_init(&out);
	ldif_line(&out, "gPLink", value);
	assert_string_equal(out.buf, want);
	sbuf_release(&out);
}

static void test_ldif_base64(void **state)
{
	(void)state;
	check_line(DDCP_LINK, "gPLink: " DDCP_LINK "\n");
	check_line("a:b<c", "gPLink: a:b<c\n");
	check_line("O'Brien", "gPLink: O'Brien\n");
	/* RFC 2849: not SAFE-INIT-CHAR, not SAFE-CHAR, and a trailing space */
	check_line(" ", "gPLink:: IA==\n");
	check_line(":x", "gPLink:: Ong=\n");
	check_line("<x", "gPLink:: PHg=\n");
	check_line("a\nb", "gPLink:: YQpi\n");
	check_line("a\rb", "gPLink:: YQ1i\n");
	check_line("ab ", "gPLink:: YWIg\n");
	check_line("OU=M\xc3\xbcller", "gPLink:: T1U9TcO8bGxlcg==\n");
	assert_false(ldif_needs_base64(""));
	assert_false(ldif_needs_base64("a b"));
	assert_true(ldif_needs_base64("\x7f\x80"));
	assert_false(ldif_needs_base64("\x7f"));
}

static void test_ldif_swap(void **state)
{
	struct sbuf out;

	(void)state;
	sbuf_init(&out);
	ldif_swap(&out, "versionNumber", "7", "8");
	assert_string_equal(out.buf, "delete: versionNumber\nversionNumber: 7\n-\nadd: versionNumber\nversionNumber: 8\n-\n");
	sbuf_reset(&out);
	/* absent: the add alone, which fails where the attribute is there */
	ldif_swap(&out, "gPLink", NULL, "[LDAP://x;0]");
	assert_string_equal(out.buf, "add: gPLink\ngPLink: [LDAP://x;0]\n-\n");
	sbuf_reset(&out);
	ldif_swap(&out, "gPLink", " ", "[LDAP://x;0]");
	assert_string_equal(out.buf, "delete: gPLink\ngPLink:: IA==\n-\nadd: gPLink\ngPLink: [LDAP://x;0]\n-\n");
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extnames_empty),
		cmocka_unit_test(test_extnames_existing_group_without_tool),
		cmocka_unit_test(test_extnames_already_present),
		cmocka_unit_test(test_extnames_sorting),
		cmocka_unit_test(test_extnames_malformed),
		cmocka_unit_test(test_gplink_empty),
		cmocka_unit_test(test_gplink_others_kept),
		cmocka_unit_test(test_gplink_already_linked),
		cmocka_unit_test(test_gplink_spaces_hold_no_link),
		cmocka_unit_test(test_gplink_malformed),
		cmocka_unit_test(test_dns_to_dn),
		cmocka_unit_test(test_is_braced_guid),
		cmocka_unit_test(test_version_never_lower),
		cmocka_unit_test(test_version_text),
		cmocka_unit_test(test_ldif_base64),
		cmocka_unit_test(test_ldif_swap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
