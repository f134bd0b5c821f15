/* Unit tests for core/sbuf.c: a buffer handed away with sbuf_detach is empty and usable again
 * (it hung, doubling a capacity of 0, when the domain backend reused one). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"

static void test_detached_buffer_is_usable_again(void **state)
{
	struct sbuf sb;
	char *first, *second;
	size_t len = 0;

	(void)state;
	sbuf_init(&sb);
	sbuf_addf(&sb, "%s/%s", "state", "domain-XXXXXX");
	first = sbuf_detach(&sb, &len);
	assert_int_equal(len, strlen("state/domain-XXXXXX"));
	sbuf_addf(&sb, "%s/%s", first, "{GUID}");
	second = sbuf_detach(&sb, NULL);
	assert_string_equal(second, "state/domain-XXXXXX/{GUID}");
	sbuf_addch(&sb, 'x');
	assert_int_equal(sb.len, 1);
	assert_int_equal(sb.buf[0], 'x');
	sbuf_release(&sb);
	free(first);
	free(second);
}

static void test_growth_keeps_the_text(void **state)
{
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	for (int i = 0; i < 1000; i++)
		sbuf_addch(&sb, (char)('a' + i % 26));
	assert_int_equal(sb.len, 1000);
	assert_int_equal(sb.buf[1000], '\0');
	assert_int_equal(sb.buf[27], 'b');
	sbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detached_buffer_is_usable_again),
		cmocka_unit_test(test_growth_keeps_the_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
