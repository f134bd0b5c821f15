/* Unit tests for keypath.c: key paths as the user types them (HKLM\\..., hive-relative),
 * the mount each names, and the limits on name length and depth. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "reg/keypath.h"

static void check_path(const char *text, const char *mount, const char *joined)
{
	struct gt_error e = { 0 };
	struct keypath kp;
	char *j;

	assert_int_equal(keypath_parse(text, &kp, &e), 0);
	if (mount)
		assert_string_equal(kp.mount, mount);
	else
		assert_null(kp.mount);
	j = keypath_join(kp.parts, kp.n);
	assert_string_equal(j, joined);
	free(j);
	keypath_release(&kp);
}

static void check_bad_path(const char *text)
{
	struct gt_error e = { 0 };
	struct keypath kp;

	assert_int_equal(keypath_parse(text, &kp, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
}

static void test_keypath(void **state)
{
	char name[300];

	(void)state;
	check_path("HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc", "SYSTEM", "CurrentControlSet\\Services\\Kdc");
	check_path("hkey_local_machine\\SOFTWARE\\Microsoft", "SOFTWARE", "Microsoft");
	check_path("HKLM\\SOFTWARE", "SOFTWARE", "");
	check_path("HKCU\\Software\\x", "NTUSER", "Software\\x");
	check_path("HKCR\\.txt", "SOFTWARE", "Classes\\.txt");
	check_path("ControlSet001\\Services\\Kdc\\", NULL, "ControlSet001\\Services\\Kdc");
	check_path("\\Select", NULL, "Select");
	check_path("", NULL, "");
	check_bad_path("HKLM");
	check_bad_path("A\\\\B");
	check_bad_path("A\\B\\\\");
	memset(name, 'k', 256);
	name[256] = '\0';
	check_bad_path(name);
	name[255] = '\0';
	check_path(name, NULL, name);
}

static void test_keypath_depth(void **state)
{
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	for (int i = 0; i < KEYPATH_MAX_DEPTH; i++)
		sbuf_addstr(&sb, i ? "\\k" : "k");
	check_path(sb.buf, NULL, sb.buf);
	sbuf_addstr(&sb, "\\k");
	check_bad_path(sb.buf);
	sbuf_release(&sb);
	/* at the limit, HKCC's own prefix (3 levels) pushes it over: refused, nothing leaked
	 * (found by fuzz-keypath, tests/fuzz/regressions/keypath-too-deep-leak) */
	sbuf_init(&sb);
	sbuf_addstr(&sb, "HKCC");
	for (int i = 0; i < KEYPATH_MAX_DEPTH - 1; i++)
		sbuf_addstr(&sb, "\\k");
	check_bad_path(sb.buf);
	sbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keypath),
		cmocka_unit_test(test_keypath_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
