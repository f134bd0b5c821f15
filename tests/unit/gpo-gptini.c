/* Unit tests for gptini.c: GPT.INI Version bumps, and GPT.INI parsing and rendering in each
 * encoding Windows writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/error.h"
#include "core/sbuf.h"
#include "gpo/gptini.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gptini_utf16_lone_surrogate),
		cmocka_unit_test(test_gpt_version_bump),
		cmocka_unit_test(test_gptini_crlf),
		cmocka_unit_test(test_gptini_lf),
		cmocka_unit_test(test_gptini_utf8_bom),
		cmocka_unit_test(test_gptini_utf16le),
		cmocka_unit_test(test_gptini_names),
		cmocka_unit_test(test_gptini_profile_reader),
		cmocka_unit_test(test_gptini_two_versions),
		cmocka_unit_test(test_gptini_refused),
		cmocka_unit_test(test_gptini_new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
