/* Unit tests for textesc.c: what is printed of outside text (escaped, one line), what is
 * stored (valid UTF-8), and the command line quoted so a shell reads back the same words. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "core/textesc.h"

static void check_escape(const char *in, int keep_nl, const char *want)
{
	struct sbuf sb;

	sbuf_init(&sb);
	text_escape(&sb, in, keep_nl);
	assert_string_equal(sb.buf, want);
	sbuf_release(&sb);
}

static void test_escape(void **state)
{
	(void)state;
	check_escape("plain HKLM\\SYSTEM Zoë", 0, "plain HKLM\\SYSTEM Zoë");
	check_escape("a\nb\rc\td\x1b[2Je", 0, "a\\nb\\rc\\td\\e[2Je");
	check_escape("a\nb", 1, "a\nb");
	check_escape("\x7f\x01", 0, "\\x7f\\x01");
	check_escape("\xc2\x9b" "31m", 0, "\\u{009b}31m");            /* C1 CSI */
	check_escape("x\xe2\x80\xaey", 0, "x\\u{202e}y");             /* right-to-left override */
	check_escape("\xff\xc3\x28", 0, "\\xff\\xc3(");               /* invalid UTF-8 */
	check_escape("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");           /* a surrogate */
	assert_string_equal(esc("a\nb"), "a\\nb");
	assert_null(esc(NULL));
}

static void test_clean_and_valid(void **state)
{
	(void)state;
	assert_true(text_is_clean("CHG-42 (ünïcode)"));
	assert_false(text_is_clean("eve\nforged"));
	assert_false(text_is_clean("x\x1b[31m"));
	assert_false(text_is_clean("\xff"));
	assert_false(text_is_clean("a\xe2\x80\xa8z"));               /* line separator */
	assert_true(text_utf8_valid("Zoë", strlen("Zoë")));
	assert_false(text_utf8_valid("\xc0\x80", 2));               /* overlong */
	assert_true(text_utf8_valid("a\nb", 3));
}

static void test_repair(void **state)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	text_utf8_repair(&sb, "ok\n\xff!", 5);
	assert_string_equal(sb.buf, "ok\n\\xff!");
	sbuf_release(&sb);
	json_object_array_add(arr, json_object_new_string("in\xfe" "array"));
	json_object_object_add(o, "a", arr);
	json_object_object_add(o, "s", json_object_new_string("good"));
	json_object_object_add(o, "b", json_object_new_string("bad\xc3"));
	json_utf8_repair(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "b")), "bad\\xc3");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(arr, 0)), "in\\xfearray");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "s")), "good");
	json_object_put(o);
}

static void check_quote(const char *in, const char *want)
{
	struct sbuf sb;

	sbuf_init(&sb);
	shell_quote(&sb, in);
	assert_string_equal(sb.buf, want);
	sbuf_release(&sb);
}

static void test_shell_quote(void **state)
{
	(void)state;
	check_quote("hive", "hive");
	check_quote("HKLM\\SYSTEM", "'HKLM\\SYSTEM'");
	check_quote("it's", "'it'\\''s'");
	check_quote("", "''");
	check_quote("Zoë", "'Zoë'");
	check_quote("a\nb", "$'a\\x0ab'");
	check_quote("\xff'\\", "$'\\xff\\'\\\\'");
	check_quote("\xc2\x9b", "$'\\xc2\\x9b'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_clean_and_valid),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_shell_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
