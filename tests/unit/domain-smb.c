/* Unit tests for smb.c without a server: the URLs libsmbclient is given (escaping, refused
 * paths), and the connection errors decided before or without an SMB answer. The live
 * behaviour (logon, files, rename, ACLs) is tested against the test DC by the t-scripts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "domain/smb.h"

static void check_url(const char *server, const char *path, const char *want)
{
	struct gt_error e = { 0 };
	char *url = NULL;

	assert_int_equal(smb_url(server, path, &url, &e), 0);
	assert_int_equal(e.code, GT_OK);
	assert_string_equal(url, want);
	free(url);
}

static void check_refused(const char *path, int code, const char *words)
{
	struct gt_error e = { 0 };
	char *url = (char *)"untouched";

	assert_int_equal(smb_url("dc1.example.com", path, &url, &e), -1);
	assert_null(url);
	assert_int_equal(e.code, code);
	assert_non_null(strstr(e.msg, words));
}

static void test_url_escapes(void **state)
{
	(void)state;
	check_url("dc1.example.com", "sysvol", "smb://dc1.example.com/sysvol");
	check_url("dc1.example.com", "sysvol/example.com/Policies/{31B2F340-016D-11D2-945F-00C04FB984F9}/GPT.INI",
		  "smb://dc1.example.com/sysvol/example.com/Policies/%7B31B2F340-016D-11D2-945F-00C04FB984F9%7D/GPT.INI");
	check_url("dc1.example.com", "sysvol/a b", "smb://dc1.example.com/sysvol/a%20b");
	check_url("dc1.example.com", "sysvol/100%/%20", "smb://dc1.example.com/sysvol/100%25/%2520");
	check_url("dc1.example.com", "sysvol/a#b", "smb://dc1.example.com/sysvol/a%23b");
	check_url("dc1.example.com", "sysvol/Zoë", "smb://dc1.example.com/sysvol/Zo%C3%AB");
	/* what SMBC_parse_path would take for user info, options, a port or a separator */
	check_url("dc1.example.com", "sysvol/u@h;x=y&z+w,'!$()",
		  "smb://dc1.example.com/sysvol/u%40h%3Bx%3Dy%26z%2Bw%2C%27%21%24%28%29");
	check_url("dc1.example.com", "sysvol/.hidden~x_y-z.txt", "smb://dc1.example.com/sysvol/.hidden~x_y-z.txt");
}

static void test_url_servers(void **state)
{
	struct gt_error e = { 0 };
	char *url;

	(void)state;
	check_url("127.0.0.1", "sysvol", "smb://127.0.0.1/sysvol");
	check_url("::1", "sysvol", "smb://%3A%3A1/sysvol");
	check_url("fe80::1", "sysvol", "smb://fe80%3A%3A1/sysvol");
	assert_int_equal(smb_url("dc1.example.com/x", "sysvol", &url, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	gt_error_clear(&e);
	assert_int_equal(smb_url("user@dc1", "sysvol", &url, &e), -1);
	gt_error_clear(&e);
	assert_int_equal(smb_url("dc1:139", "sysvol", &url, &e), -1);
	gt_error_clear(&e);
	assert_int_equal(smb_url("", "sysvol", &url, &e), -1);
	gt_error_clear(&e);
	assert_int_equal(smb_url(NULL, "sysvol", &url, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
}

static void test_url_refuses(void **state)
{
	char long_name[300];

	(void)state;
	check_refused("", GT_REFUSED, "empty");
	check_refused("sysvol/../x", GT_REFUSED, "'..' component");
	check_refused("..", GT_REFUSED, "'..' component");
	check_refused("sysvol/x/..", GT_REFUSED, "'..' component");
	check_refused("sysvol/./x", GT_REFUSED, "'.' component");
	check_refused("sysvol//x", GT_REFUSED, "empty component");
	check_refused("/sysvol", GT_REFUSED, "empty component");
	check_refused("sysvol/", GT_REFUSED, "empty component");
	check_refused("sysvol/a\\..\\b", GT_REFUSED, "backslash");
	check_refused("sysvol/GPT.INI:evil", GT_REFUSED, "NTFS stream");
	check_refused("sysvol/*", GT_REFUSED, "wildcard");
	check_refused("sysvol/a?b", GT_REFUSED, "wildcard");
	check_refused("sysvol/a\nb", GT_REFUSED, "control character");
	check_refused("sysvol/a\x7f", GT_REFUSED, "control character");
	memset(long_name, 'a', 256);
	long_name[256] = '\0';
	check_refused(long_name, GT_REFUSED, "longer than 255");
	long_name[255] = '\0';
	{
		struct gt_error e = { 0 };
		char *url;

		assert_int_equal(smb_url("dc1", long_name, &url, &e), 0);
		free(url);
	}
}

static void test_refused_message_is_one_line(void **state)
{
	struct gt_error e = { 0 };
	char *url;

	(void)state;
	assert_int_equal(smb_url("dc1", "sysvol/a\nforged: line/..", &url, &e), -1);
	assert_null(strchr(e.msg, '\n'));
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_unreachable_fails_quickly(void **state)
{
	/* TEST-NET-1 (RFC 5737): never a host; no answer, or refused at once, within the timeout */
	struct smb_conn_opts o = { .host = "dc1.example.com", .address = "192.0.2.1", .user = "Administrator",
				   .password = "S3cret-never-shown", .timeout_s = 1 };
	struct gt_error e = { 0 };
	struct smb_conn *c = (struct smb_conn *)&o;
	double t0 = now();

	(void)state;
	assert_int_equal(smb_connect(&o, "sysvol", &c, &e), -1);
	assert_null(c);
	assert_true(now() - t0 < 5.0);
	assert_int_equal(e.code, GT_FAILED);
	assert_non_null(strstr(e.msg, "'dc1.example.com' (192.0.2.1)"));
	assert_null(strstr(e.msg, "S3cret"));
}

static void test_unresolvable_name(void **state)
{
	struct smb_conn_opts o = { .host = "no-such-dc.invalid", .user = "Administrator", .password = "pw" };
	struct gt_error e = { 0 };
	struct smb_conn *c;

	(void)state;
	assert_int_equal(smb_connect(&o, "sysvol", &c, &e), -1);
	assert_int_equal(e.code, GT_FAILED);
	assert_non_null(strstr(e.msg, "cannot resolve the DC's name 'no-such-dc.invalid'"));
}

static void test_kerberos_needs_the_name(void **state)
{
	struct smb_conn_opts by_address = { .host = "127.0.0.1", .kerberos = 1 };
	struct smb_conn_opts elsewhere = { .host = "no-such-dc.invalid", .address = "127.0.0.1", .kerberos = 1 };
	struct smb_conn_opts not_an_address = { .host = "dc1.example.com", .address = "dc2", .kerberos = 1 };
	struct gt_error e = { 0 };
	struct smb_conn *c;

	(void)state;
	assert_int_equal(smb_connect(&by_address, "sysvol", &c, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	assert_non_null(strstr(e.msg, "needs the DC's name"));
	gt_error_clear(&e);
	assert_int_equal(smb_connect(&elsewhere, "sysvol", &c, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	assert_non_null(strstr(e.msg, "SMB with Kerberos connects by name and libsmbclient cannot be told an address: "
				      "make 'no-such-dc.invalid' resolve to 127.0.0.1 (DNS or /etc/hosts), or use a "
				      "password logon"));
	gt_error_clear(&e);
	assert_int_equal(smb_connect(&not_an_address, "sysvol", &c, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	assert_non_null(strstr(e.msg, "'dc2' is not an IP address"));
}

static void test_password_logon_needs_both(void **state)
{
	struct smb_conn_opts no_password = { .host = "dc1.example.com", .user = "Administrator" };
	struct smb_conn_opts no_user = { .host = "dc1.example.com", .password = "pw" };
	char long_pw[300];
	struct smb_conn_opts too_long = { .host = "dc1.example.com", .user = "Administrator", .password = long_pw };
	struct gt_error e = { 0 };
	struct smb_conn *c;

	(void)state;
	assert_int_equal(smb_connect(&no_password, "sysvol", &c, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	gt_error_clear(&e);
	assert_int_equal(smb_connect(&no_user, "sysvol", &c, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	gt_error_clear(&e);
	memset(long_pw, 'p', 256);
	long_pw[256] = '\0';
	assert_int_equal(smb_connect(&too_long, "sysvol", &c, &e), -1);
	assert_int_equal(e.code, GT_USAGE);
	assert_null(strstr(e.msg, "pppp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_escapes),
		cmocka_unit_test(test_url_servers),
		cmocka_unit_test(test_url_refuses),
		cmocka_unit_test(test_refused_message_is_one_line),
		cmocka_unit_test(test_unreachable_fails_quickly),
		cmocka_unit_test(test_unresolvable_name),
		cmocka_unit_test(test_kerberos_needs_the_name),
		cmocka_unit_test(test_password_logon_needs_both),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
