/* Unit tests for template.c: the dotted version comparison that min-connector and the
 * update builds use, which refuses a malformed tail. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kb/template.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
