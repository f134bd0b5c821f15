/* Unit tests for regvalue.c: the one range-checked number parser, typed value data from
 * text and back (regedit's forms), type names, and lenient UTF-16LE to UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/sbuf.h"
#include "reg/regvalue.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_value_from_text),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_utf16_to_utf8_lenient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
