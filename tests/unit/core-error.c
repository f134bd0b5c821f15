/* Unit tests for error.c: struct gt_error keeps the first failure, and prefixes add the
 * subject in front of it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/error.h"

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
		cmocka_unit_test(test_error_first_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
