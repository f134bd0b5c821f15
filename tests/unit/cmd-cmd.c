/* Unit tests for cmd.c: the command table found by exact names only, and the option and
 * positional parser every command goes through. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cmd/cmd.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
