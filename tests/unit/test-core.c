/* Unit tests for the parsers the project owns: numbers, typed value data, UTF-8/UTF-16LE,
 * key paths, the base block checks and the command-line parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "hive/hivefile.h"
#include "reg/keypath.h"
#include "reg/regvalue.h"
#include "core/sbuf.h"
#include "kb/template.h"

static void test_parse_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_u64("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("4294967295", UINT32_MAX, &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(parse_u64("0xFFFFFFFF", UINT32_MAX, &v), 0);
	assert_int_equal(v, 0xFFFFFFFFu);
	assert_int_equal(parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_int_equal(parse_u64("4294967296", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
	assert_int_equal(parse_u64("-1", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64("+1", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64(" 1", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64("1 ", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64("0x", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64("0x0x1", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64("12abc", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64("", UINT32_MAX, &v), -1);
	assert_int_equal(parse_u64("ff", UINT32_MAX, &v), -1);
}

static void check_text(uint32_t type, const char *text, const uint8_t *want, size_t want_len)
{
	struct gt_error e = { 0 };
	struct reg_value v;

	reg_value_init(&v);
	assert_int_equal(reg_value_from_text(type, text, &v, &e), 0);
	assert_int_equal(v.type, type);
	assert_int_equal(v.len, want_len);
	assert_memory_equal(v.data, want, want_len);
	reg_value_release(&v);
}

static void check_bad_text(uint32_t type, const char *text)
{
	struct gt_error e = { 0 };
	struct reg_value v;

	reg_value_init(&v);
	assert_int_equal(reg_value_from_text(type, text, &v, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	assert_true(strlen(e.msg) > 0);
	assert_null(strchr(e.msg, '\n'));
	reg_value_release(&v);
}

static void test_value_from_text(void **state)
{
	(void)state;
	check_text(RT_DWORD, "1", (const uint8_t *)"\x01\x00\x00\x00", 4);
	check_text(RT_DWORD, "0x18", (const uint8_t *)"\x18\x00\x00\x00", 4);
	check_text(RT_QWORD, "0x0102030405060708", (const uint8_t *)"\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	check_text(RT_SZ, "ab", (const uint8_t *)"a\0b\0\0\0", 6);
	check_text(RT_SZ, "", (const uint8_t *)"\0\0", 2);
	check_text(RT_MULTI_SZ, "a\\0b", (const uint8_t *)"a\0\0\0b\0\0\0\0\0", 10);
	check_text(RT_BINARY, "de,ad be:ef", (const uint8_t *)"\xde\xad\xbe\xef", 4);
	check_text(RT_BINARY, "", (const uint8_t *)"", 0);
	/* U+1F600 needs a surrogate pair */
	check_text(RT_SZ, "\xf0\x9f\x98\x80", (const uint8_t *)"\x3d\xd8\x00\xde\0\0", 6);
	check_bad_text(RT_DWORD, "4294967296");
	check_bad_text(RT_DWORD, "-1");
	check_bad_text(RT_QWORD, "18446744073709551616");
	check_bad_text(RT_BINARY, "abc");
	check_bad_text(RT_BINARY, "zz");
	check_bad_text(RT_MULTI_SZ, "a\\0\\0b");
	check_bad_text(RT_SZ, "\xc3\x28");      /* invalid UTF-8 */
	check_bad_text(RT_SZ, "\xed\xa0\x80");  /* an encoded surrogate */
	check_bad_text(RT_NONE, "");
	check_bad_text(RT_LINK, "x");
}

static void test_type_names(void **state)
{
	uint32_t t;

	(void)state;
	assert_int_equal(reg_type_from_name("reg_dword", &t), 1);
	assert_int_equal(t, RT_DWORD);
	assert_int_equal(reg_type_from_name("DWORD", &t), 0);
	assert_string_equal(reg_type_name(RT_QWORD), "REG_QWORD");
	assert_string_equal(reg_type_name(0x1234), "0x1234");
}

static void check_format(uint32_t type, const void *data, size_t len, const char *want)
{
	struct reg_value v = { .name = "", .type = type, .data = (uint8_t *)data, .len = len };
	struct sbuf sb;

	sbuf_init(&sb);
	reg_value_format_data(&v, 0, 0, &sb);
	assert_string_equal(sb.buf, want);
	sbuf_release(&sb);
}

static void test_format(void **state)
{
	(void)state;
	check_format(RT_DWORD, "\x01\0\0\0", 4, "dword:00000001");
	check_format(RT_DWORD, "\x01\0\0", 3, "hex(4):01,00,00");          /* not 4 bytes: no dword: */
	check_format(RT_SZ, "a\0\"\0\\\0\0\0", 8, "\"a\\\"\\\\\"");
	check_format(RT_SZ, "a\0\0\0b\0\0\0", 8, "hex(1):61,00,00,00,62,00,00,00"); /* embedded NUL */
	check_format(RT_SZ, "a\0", 2, "hex(1):61,00");                     /* no terminator */
	check_format(RT_QWORD, "\1\0\0\0\0\0\0\0", 8, "hex(b):01,00,00,00,00,00,00,00");
	check_format(RT_BINARY, "", 0, "hex:");
	check_format(0x12345, "\xff", 1, "hex(12345):ff");
}

static void test_utf16_to_utf8_lenient(void **state)
{
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	utf16le_to_utf8((const uint8_t *)"\x00\xd8" "a\0", 4, &sb); /* lone high surrogate */
	assert_string_equal(sb.buf, "\xef\xbf\xbd" "a");
	sbuf_reset(&sb);
	utf16le_to_utf8((const uint8_t *)"\x3d\xd8\x00\xde", 4, &sb);
	assert_string_equal(sb.buf, "\xf0\x9f\x98\x80");
	sbuf_release(&sb);
}

static void check_path(const char *text, const char *mount, const char *joined)
{
	struct gt_error e = { 0 };
	struct keypath kp;
	char *j;

	assert_int_equal(keypath_parse(text, &kp, &e), 0);
	if (mount)
		assert_string_equal(kp.mount, mount);
	else
		assert_null(kp.mount);
	j = keypath_join(kp.parts, kp.n);
	assert_string_equal(j, joined);
	free(j);
	keypath_release(&kp);
}

static void check_bad_path(const char *text)
{
	struct gt_error e = { 0 };
	struct keypath kp;

	assert_int_equal(keypath_parse(text, &kp, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
}

static void test_keypath(void **state)
{
	char name[300];

	(void)state;
	check_path("HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc", "SYSTEM", "CurrentControlSet\\Services\\Kdc");
	check_path("hkey_local_machine\\SOFTWARE\\Microsoft", "SOFTWARE", "Microsoft");
	check_path("HKLM\\SOFTWARE", "SOFTWARE", "");
	check_path("HKCU\\Software\\x", "NTUSER", "Software\\x");
	check_path("HKCR\\.txt", "SOFTWARE", "Classes\\.txt");
	check_path("ControlSet001\\Services\\Kdc\\", NULL, "ControlSet001\\Services\\Kdc");
	check_path("\\Select", NULL, "Select");
	check_path("", NULL, "");
	check_bad_path("HKLM");
	check_bad_path("A\\\\B");
	check_bad_path("A\\B\\\\");
	memset(name, 'k', 256);
	name[256] = '\0';
	check_bad_path(name);
	name[255] = '\0';
	check_path(name, NULL, name);
}

static void test_keypath_depth(void **state)
{
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	for (int i = 0; i < KEYPATH_MAX_DEPTH; i++)
		sbuf_addstr(&sb, i ? "\\k" : "k");
	check_path(sb.buf, NULL, sb.buf);
	sbuf_addstr(&sb, "\\k");
	check_bad_path(sb.buf);
	sbuf_release(&sb);
	/* at the limit, HKCC's own prefix (3 levels) pushes it over: refused, nothing leaked
	 * (found by fuzz-keypath, tests/fuzz/regressions/keypath-too-deep-leak) */
	sbuf_init(&sb);
	sbuf_addstr(&sb, "HKCC");
	for (int i = 0; i < KEYPATH_MAX_DEPTH - 1; i++)
		sbuf_addstr(&sb, "\\k");
	check_bad_path(sb.buf);
	sbuf_release(&sb);
}

/* A malformed tail is malformed even when the first part already decides the order
 * (found by fuzz-template: "min-connector: 6.x" was accepted). */
static void test_version_compare(void **state)
{
	(void)state;
	assert_int_equal(version_compare("6.2406.0.1001", "6.2406.0.1001"), 0);
	assert_int_equal(version_compare("6.2406.0.1000", "6.2406.0.1001"), -1);
	assert_int_equal(version_compare("6.2406.1", "6.2406.0.1001"), 1);
	assert_int_equal(version_compare("7", "6.2406.0.1001"), 1);
	assert_int_equal(version_compare("6.x", "0"), -2);
	assert_int_equal(version_compare("7.", "6"), -2);
	assert_int_equal(version_compare("7..1", "6"), -2);
	assert_int_equal(version_compare("", "6"), -2);
	assert_int_equal(version_compare("1234567890", "6"), -2);
}

static void test_new_hive_is_safe(void **state)
{
	struct gt_error e = { 0 };
	struct hive_header h;
	uint8_t *buf;
	size_t len;

	(void)state;
	hivefile_new("SYSTEM", 133000000000000000ull, &buf, &len);
	assert_int_equal(len, 8192);
	assert_int_equal(hivefile_check_safe(buf, len, len, 0, &e), 0);
	assert_int_equal(hivefile_read_header(buf, len, &h, &e), 0);
	assert_int_equal(h.minor, 3);
	assert_int_equal(h.checksum_stored, h.checksum_computed);
	assert_non_null(strstr(h.file_name, "Config\\SYSTEM"));
	free(buf);
}

static void check_unsafe(void (*damage)(uint8_t *buf, size_t *len), const char *want)
{
	struct gt_error e = { 0 };
	uint8_t *buf;
	size_t len;

	hivefile_new(NULL, 1, &buf, &len);
	damage(buf, &len);
	assert_int_equal(hivefile_check_safe(buf, len, len, 0, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	if (!strstr(e.msg, want))
		fail_msg("'%s' not in '%s'", want, e.msg);
	free(buf);
}

static void reseal(uint8_t *buf)
{
	uint32_t sum = hivefile_checksum(buf);

	memcpy(buf + 508, &sum, 4);
}

static void damage_magic(uint8_t *b, size_t *n) { (void)n; b[0] = 'X'; }
static void damage_short(uint8_t *b, size_t *n) { (void)b; *n = 100; }
static void damage_checksum(uint8_t *b, size_t *n) { (void)n; b[508] ^= 1; }
static void damage_dirty(uint8_t *b, size_t *n) { (void)n; b[4] = 9; reseal(b); }
static void damage_v11(uint8_t *b, size_t *n) { (void)n; b[24] = 1; reseal(b); }
static void damage_v16(uint8_t *b, size_t *n) { (void)n; b[24] = 6; reseal(b); }
static void damage_log(uint8_t *b, size_t *n) { (void)n; b[28] = 1; reseal(b); }
static void damage_trunc(uint8_t *b, size_t *n) { (void)b; *n = 4096 + 2048; }
static void damage_hbin(uint8_t *b, size_t *n) { (void)n; b[4096] = 'x'; }
static void damage_bins(uint8_t *b, size_t *n) { (void)n; b[41] = 0x20; reseal(b); }

static void test_unsafe_hives(void **state)
{
	(void)state;
	check_unsafe(damage_magic, "not a registry hive");
	check_unsafe(damage_short, "truncated");
	check_unsafe(damage_checksum, "checksum");
	check_unsafe(damage_dirty, "dirty");
	check_unsafe(damage_v11, "1.1");
	check_unsafe(damage_v16, "differencing");
	check_unsafe(damage_log, "transaction log");
	check_unsafe(damage_trunc, "truncated");
	check_unsafe(damage_hbin, "hbin");
	check_unsafe(damage_bins, "truncated");
}

static void test_dirty_allowed_for_readers(void **state)
{
	struct gt_error e = { 0 };
	uint8_t *buf;
	size_t len;

	(void)state;
	hivefile_new(NULL, 1, &buf, &len);
	damage_dirty(buf, &len);
	assert_int_equal(hivefile_check_safe(buf, len, len, 1, &e), 0);
	free(buf);
}

static void test_checksum_special_cases(void **state)
{
	uint8_t block[512] = { 0 };

	(void)state;
	assert_int_equal(hivefile_checksum(block), 1);          /* 0 is stored as 1 */
	memset(block, 0xff, 4);
	assert_int_equal(hivefile_checksum(block), 0xFFFFFFFEu); /* -1 is stored as -2 */
}

static int parse(const char *const *words, int n, struct cmd_args *a, struct gt_error *e, const struct cmd_entry **entry)
{
	static char *argv[16];
	int used;

	for (int i = 0; i < n; i++)
		argv[i] = (char *)words[i];
	*entry = cmd_find(n, argv, &used);
	if (!*entry)
		return 1;
	return cmd_parse(*entry, n - used, argv + used, a, e);
}

static void test_cmd_parser(void **state)
{
	const char *ok[] = { "hive", "export", "H", "--utf8", "--output", "out.reg", "KEY" };
	const char *eq[] = { "hive", "export", "H", "--output=x.reg" };
	const char *prefix[] = { "hive", "se", "H" };
	const char *unknown[] = { "hive", "set", "H", "K", "N", "REG_SZ", "v", "--bogus" };
	const char *dash[] = { "hive", "set", "H", "K", "N", "REG_SZ", "-x" };
	const char *dashdash[] = { "hive", "set", "H", "K", "N", "REG_SZ", "--", "-x" };
	const char *few[] = { "hive", "set", "H", "K" };
	const struct cmd_entry *entry;
	struct gt_error e = { 0 };
	struct cmd_args a;

	(void)state;
	assert_int_equal(parse(ok, 7, &a, &e, &entry), 0);
	assert_string_equal(entry->name, "hive export");
	assert_int_equal(a.argc, 2);
	assert_string_equal(cmd_opt(entry, &a, "output"), "out.reg");
	assert_string_equal(cmd_opt(entry, &a, "utf8"), "");
	assert_null(cmd_opt(entry, &a, "kind"));
	assert_int_equal(parse(eq, 4, &a, &e, &entry), 0);
	assert_string_equal(cmd_opt(entry, &a, "output"), "x.reg");
	assert_int_equal(parse(prefix, 3, &a, &e, &entry), 1);
	gt_error_clear(&e);
	assert_int_equal(parse(unknown, 8, &a, &e, &entry), -1);
	assert_int_equal(e.code, GT_USAGE);
	gt_error_clear(&e);
	assert_int_equal(parse(dash, 7, &a, &e, &entry), -1);
	gt_error_clear(&e);
	assert_int_equal(parse(dashdash, 8, &a, &e, &entry), 0);
	assert_string_equal(a.argv[4], "-x");
	assert_int_equal(parse(few, 4, &a, &e, &entry), -1);
	assert_non_null(strstr(e.msg, "usage: gpotool hive set"));
}

static void test_error_first_wins(void **state)
{
	struct gt_error e = { 0 };

	(void)state;
	assert_int_equal(gt_fail(&e, GT_REFUSED, "inner %d", 1), -1);
	gt_fail(&e, GT_FAILED, "outer");
	assert_int_equal(e.code, GT_REFUSED);
	gt_prefix(&e, "'%s': ", "f");
	assert_string_equal(e.msg, "'f': inner 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_value_from_text),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_utf16_to_utf8_lenient),
		cmocka_unit_test(test_keypath),
		cmocka_unit_test(test_keypath_depth),
		cmocka_unit_test(test_version_compare),
		cmocka_unit_test(test_new_hive_is_safe),
		cmocka_unit_test(test_unsafe_hives),
		cmocka_unit_test(test_dirty_allowed_for_readers),
		cmocka_unit_test(test_checksum_special_cases),
		cmocka_unit_test(test_cmd_parser),
		cmocka_unit_test(test_error_first_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
