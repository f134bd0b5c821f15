/* Unit tests for target/target.c: the table of kinds (order, names, which kind a journal
 * record or a journal file kind belongs to), the paths a journal may name, and the dispatch
 * saying clearly what a kind cannot do instead of a missing branch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "core/sbuf.h"
#include "hive/hivetx.h"
#include "target/target.h"

static void test_table(void **state)
{
	struct sbuf usage;

	(void)state;
	assert_string_equal(target_kind_name(target_kind_at(0)), "hive");
	assert_string_equal(target_kind_name(target_kind_at(1)), "image");
	assert_string_equal(target_kind_name(target_kind_at(2)), "gpo");
	assert_null(target_kind_at(3));
	assert_string_equal(target_kind_option(target_kind_at(1)), "image");
	assert_string_equal(target_kind_metavar(target_kind_at(1)), "WINDIR");
	assert_ptr_equal(target_kind_named("gpo"), target_kind_at(2));
	assert_null(target_kind_named("tape"));
	assert_null(target_kind_named(NULL));
	sbuf_init(&usage);
	target_kinds_usage(&usage);
	assert_string_equal(usage.buf, "--hive FILE, --image WINDIR or --gpo DIR");
	sbuf_release(&usage);
}

static const struct target_ops *of_record(const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	const struct target_ops *ops = target_kind_of_record(o);

	json_object_put(o);
	return ops;
}

static void test_kind_of_record(void **state)
{
	(void)state;
	/* the backend names the kind; an entry from before it was recorded names its kind */
	assert_ptr_equal(of_record("{\"backend\": \"image\", \"kind\": \"hive\"}"), target_kind_named("image"));
	assert_ptr_equal(of_record("{\"kind\": \"hive\"}"), target_kind_named("hive"));
	assert_ptr_equal(of_record("{\"kind\": \"gpo\", \"side\": \"User\"}"), target_kind_named("gpo"));
	assert_null(of_record("{\"backend\": \"tape\", \"kind\": \"hive\"}"));
	assert_null(of_record("{\"backend\": 7}"));
	assert_null(target_kind_of_record(NULL));
}

static void test_kind_of_file(void **state)
{
	struct gt_error e = { 0 };

	(void)state;
	assert_ptr_equal(target_kind_of_file("hive"), target_kind_named("hive"));
	assert_ptr_equal(target_kind_of_file("gpp-registry-xml"), target_kind_named("gpo"));
	assert_ptr_equal(target_kind_of_file("gpt-ini"), target_kind_named("gpo"));
	assert_null(target_kind_of_file("boot.ini"));
	/* recovery puts back no copy of a file kind no backend writes */
	assert_int_equal(target_check_saved_copy("boot.ini", (const uint8_t *)"x", 1, -1, "x", &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_string_equal(e.msg, "a target of kind 'boot.ini' is not one gpotool writes");
}

static void test_plain_paths(void **state)
{
	(void)state;
	assert_true(target_path_is_plain("/var/lib/gpotool"));
	assert_true(target_path_is_plain("/"));
	assert_false(target_path_is_plain(NULL));
	assert_false(target_path_is_plain("relative/path"));
	assert_false(target_path_is_plain("/a//b"));
	assert_false(target_path_is_plain("/a/./b"));
	assert_false(target_path_is_plain("/a/../b"));
	assert_false(target_path_is_plain("/a/."));
	assert_false(target_path_is_plain("/a/.."));
}

/* A GPO has no hive and no machine facts of its own: the interface says so, it does not crash. */
static void test_what_a_kind_cannot(void **state)
{
	struct target t = { .ops = target_kind_named("gpo") };
	struct target_fact_value v;
	struct gt_error e = { 0 };
	const char *why;

	(void)state;
	assert_null(target_hive(&t, &e));
	assert_int_equal(e.code, GT_USAGE);
	assert_string_equal(e.msg, "target kind 'gpo' cannot be read as one hive");
	assert_int_equal(target_fact(&t, TF_BUILD, &v, &why, &e), 0);
	assert_non_null(why);
	assert_null(v.text);
	assert_int_equal(target_reach(&t), TARGET_REACHES_BY_LINK);
	t.ops = target_kind_named("image");
	assert_int_equal(target_reach(&t), TARGET_HOLDS_MACHINE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_kind_of_record),
		cmocka_unit_test(test_kind_of_file),
		cmocka_unit_test(test_plain_paths),
		cmocka_unit_test(test_what_a_kind_cannot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
