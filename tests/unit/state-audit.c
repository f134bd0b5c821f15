/* Unit tests for audit.c: an audit line split into the text its hash covers and the hash. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "state/audit.h"

static void test_audit_line_split(void **state)
{
	const char *line = "{\"seq\":1,\"x\":\"y\",\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}";
	char hash[SHA256_HEX_LEN + 1];
	struct sbuf covered;

	(void)state;
	sbuf_init(&covered);
	assert_int_equal(audit_line_split(line, strlen(line), &covered, hash), 0);
	assert_string_equal(covered.buf, "{\"seq\":1,\"x\":\"y\"}");
	assert_string_equal(hash, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	sbuf_reset(&covered);
	assert_int_equal(audit_line_split("{}", 2, &covered, hash), -1);
	/* upper-case or short hashes are not ours */
	line = "{\"seq\":1,\"hash\":\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"}";
	assert_int_equal(audit_line_split(line, strlen(line), &covered, hash), -1);
	line = "{\"seq\":1,\"hash\":\"0011\"}";
	assert_int_equal(audit_line_split(line, strlen(line), &covered, hash), -1);
	/* exactly len bytes, no NUL after them (ASan catches a read past the end) */
	{
		const char *whole = "{\"seq\":1,\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}";
		char *exact = xmemdup(whole, strlen(whole));

		sbuf_reset(&covered);
		assert_int_equal(audit_line_split(exact, strlen(whole), &covered, hash), 0);
		assert_string_equal(covered.buf, "{\"seq\":1}");
		free(exact);
	}
	sbuf_release(&covered);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_line_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
