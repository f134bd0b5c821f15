/* Unit tests for jsonx.c: a JSON document read back is exactly one document of exactly len
 * bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "core/jsonx.h"

static void test_json_parse_exact(void **state)
{
	struct json_object *o;

	(void)state;
	o = jsonx_parse_exact((const uint8_t *)"{\"a\": 1}\n", 9);
	assert_non_null(o);
	json_object_put(o);
	assert_null(jsonx_parse_exact((const uint8_t *)"{\"a\": 1} x", 10));
	assert_null(jsonx_parse_exact((const uint8_t *)"{\"a\": 1}{}", 10));
	assert_null(jsonx_parse_exact((const uint8_t *)"{\"a\": 1", 7));
	assert_null(jsonx_parse_exact((const uint8_t *)"{\"a\":\0 1}", 9));
	/* not NUL-terminated: only len bytes are read */
	o = jsonx_parse_exact((const uint8_t *)"[1]]]]", 3);
	assert_non_null(o);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_parse_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
