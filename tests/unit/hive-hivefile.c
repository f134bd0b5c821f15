/* Unit tests for hivefile.c: the base block of the empty hive `hive new` writes, the checks
 * that refuse an unsafe hive before hivex sees it, and the checksum's special cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hive/hivefile.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_hive_is_safe),
		cmocka_unit_test(test_unsafe_hives),
		cmocka_unit_test(test_dirty_allowed_for_readers),
		cmocka_unit_test(test_checksum_special_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
