/* Unit tests for domain/ldap.c, without a directory: the RFC 4515 escaping of filter values,
 * the refusals dir_connect makes before it sends anything (a clear-text password first of
 * all), an address nobody listens on, and the entry accessors. 127.0.0.1 port 1 is closed:
 * a connect there fails at once, so a refusal that comes back instead proves it came first. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/sbuf.h"
#include "domain/ldap.h"

static void check_escape(const char *in, const char *want)
{
	struct sbuf sb;

	sbuf_init(&sb);
	dir_filter_escape(in, &sb);
	assert_string_equal(sb.buf, want);
	sbuf_release(&sb);
}

/* The examples of RFC 4515 section 4, then what gpotool puts in its filters. */
static void test_filter_escape_rfc4515(void **state)
{
	(void)state;
	check_escape("Parens R Us (for all your parenthetical needs)", "Parens R Us \\28for all your parenthetical needs\\29");
	check_escape("*", "\\2a");
	check_escape("C:\\MyFile", "C:\\5cMyFile");
	check_escape("Lu\xc4\x8di\xc4\x87", "Lu\\c4\\8di\\c4\\87");
	check_escape("", "");
	check_escape("h-ldap-1", "h-ldap-1");
	check_escape("{31B2F340-016D-11D2-945F-00C04FB984F9}", "{31B2F340-016D-11D2-945F-00C04FB984F9}");
	check_escape("a)(objectClass=*", "a\\29\\28objectClass=\\2a");
	check_escape("tab\there\x7f", "tab\\09here\\7f");
}

static void test_filter_escape_appends(void **state)
{
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	sbuf_addstr(&sb, "(displayName=");
	dir_filter_escape("O'Brien (HR)", &sb);
	sbuf_addch(&sb, ')');
	assert_string_equal(sb.buf, "(displayName=O'Brien \\28HR\\29)");
	sbuf_release(&sb);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Options for the closed port: a password bind without TLS, refused unless allowed. */
static struct dir_conn_opts closed_port(enum dir_transport t, enum dir_auth auth)
{
	struct dir_conn_opts o = {
		.host = "dc1.example.com",
		.address = "127.0.0.1",
		.port = 1,
		.transport = t,
		.auth = auth,
		.user = "Administrator@example.com",
		.password = "Passw0rd!x",
		.timeout_s = 5,
	};

	return o;
}

static void connect_fails(const struct dir_conn_opts *o, int code, const char *says)
{
	struct gt_error e = { 0 };
	struct dir_conn *c = (struct dir_conn *)&e; /* must be reset to NULL */
	int fds = open_fds();

	assert_int_equal(dir_connect(o, &c, &e), -1);
	assert_null(c);
	assert_int_equal(e.code, code);
	if (!strstr(e.msg, says))
		fail_msg("'%s' does not say '%s'", e.msg, says);
	assert_int_equal(open_fds(), fds);
}

static void test_plain_password_refused_before_connecting(void **state)
{
	struct dir_conn_opts o = closed_port(DIR_PLAIN, DIR_AUTH_PASSWORD);

	(void)state;
	/* refused: the closed port was never tried, or this would be GT_FAILED */
	connect_fails(&o, GT_REFUSED, "clear text");
	/* allowed: now the connect happens, and fails */
	o.allow_plain = 1;
	connect_fails(&o, GT_FAILED, "unable to connect");
}

static void test_empty_password_refused(void **state)
{
	struct dir_conn_opts o = closed_port(DIR_STARTTLS, DIR_AUTH_PASSWORD);

	(void)state;
	o.password = "";
	connect_fails(&o, GT_REFUSED, "anonymous");
	o.password = NULL;
	connect_fails(&o, GT_REFUSED, "anonymous");
	o.password = "x";
	o.user = "";
	connect_fails(&o, GT_USAGE, "user name");
}

static void test_bad_options_before_connecting(void **state)
{
	struct dir_conn_opts o = closed_port(DIR_STARTTLS, DIR_AUTH_PASSWORD);

	(void)state;
	o.host = NULL;
	connect_fails(&o, GT_USAGE, "not a DC name");
	o.host = "dc1.example.com/evil";
	connect_fails(&o, GT_USAGE, "not a DC name");
	o.host = "dc1.example.com";
	o.ca_file = "/nonexistent/ca.pem";
	connect_fails(&o, GT_USAGE, "--ca-file");
}

static void test_unreachable_is_failed(void **state)
{
	struct dir_conn_opts o = closed_port(DIR_STARTTLS, DIR_AUTH_PASSWORD);

	(void)state;
	connect_fails(&o, GT_FAILED, "DC 'dc1.example.com' (127.0.0.1) port 1");
	o.transport = DIR_LDAPS;
	connect_fails(&o, GT_FAILED, "port 1");
	/* a Kerberos bind may go without TLS (SASL seals it): nothing to refuse, so it connects */
	o = closed_port(DIR_PLAIN, DIR_AUTH_KERBEROS);
	connect_fails(&o, GT_FAILED, "port 1");
	/* the address named alone when it is the host */
	o = closed_port(DIR_STARTTLS, DIR_AUTH_PASSWORD);
	o.host = "127.0.0.1";
	o.address = NULL;
	connect_fails(&o, GT_FAILED, "DC '127.0.0.1' port 1");
}

static void test_entry_accessors(void **state)
{
	uint8_t v7[] = "7", ext[] = "[{A}{B}]";
	struct dir_value vn[] = { { v7, 1 } }, ve[] = { { ext, 8 } };
	struct dir_attr attrs[] = { { "versionNumber", vn, 1 }, { "gPCMachineExtensionNames", ve, 1 }, { "flags", NULL, 0 } };
	struct dir_entry en = { "CN={X},CN=Policies", attrs, 3 };

	(void)state;
	assert_ptr_equal(dir_entry_attr(&en, "VERSIONNUMBER"), &attrs[0]);
	assert_string_equal(dir_entry_str(&en, "versionnumber"), "7");
	assert_string_equal(dir_entry_str(&en, "gPCMachineExtensionNames"), "[{A}{B}]");
	assert_null(dir_entry_str(&en, "flags"));
	assert_null(dir_entry_attr(&en, "gPLink"));
	dir_entries_free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_escape_rfc4515),
		cmocka_unit_test(test_filter_escape_appends),
		cmocka_unit_test(test_plain_password_refused_before_connecting),
		cmocka_unit_test(test_empty_password_refused),
		cmocka_unit_test(test_bad_options_before_connecting),
		cmocka_unit_test(test_unreachable_is_failed),
		cmocka_unit_test(test_entry_accessors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
