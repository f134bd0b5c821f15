/* Unit tests for gpp.c: Registry.xml loading stays linear (the schema runs once per item
 * shape), and a bad item is still refused at its own line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/sbuf.h"
#include "gpo/gpp.h"

/* ---- Registry.xml: linear loading ---- */

#define RNG "templates/gpp-registry.rng"
#define BIG_ITEMS 20000

/* n items as GPMC writes them, one per line after two header lines; item bad (1-based, 0
 * for none) gets action="X", which the schema refuses. */
static void big_registry_xml(size_t n, size_t bad, struct sbuf *out)
{
	sbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<RegistrySettings clsid=\"" GPP_CLSID_SETTINGS "\">\r\n");
	for (size_t i = 1; i <= n; i++)
		sbuf_addf(out, "\t<Registry clsid=\"" GPP_CLSID_REGISTRY "\" name=\"V%zu\" status=\"V%zu\" image=\"12\" "
			  "changed=\"2025-02-11 10:00:00\" uid=\"{00000000-0000-0000-0000-%012zX}\"%s><Properties action=\"%s\" "
			  "displayDecimal=\"1\" default=\"0\" hive=\"HKEY_LOCAL_MACHINE\" key=\"SOFTWARE\\G%zu\" name=\"V%zu\" "
			  "type=\"REG_DWORD\" value=\"%08zX\"/></Registry>\r\n", i, i, i, i % 2 ? " disabled=\"0\"" : "",
			  i == bad ? "X" : "U", i / 100, i, i);
	sbuf_addstr(out, "</RegistrySettings>\r\n");
}

/* Each item is checked against the schema on its own, and items of one shape only once:
 * 20,000 items of two shapes (with and without disabled="0") cost the root and two runs,
 * not one run over 20,000 siblings (libxml2's zeroOrMore compares every position with all
 * before it: quadratic). Every item is still read, each value kept. */
static void test_gpp_load_runs_per_shape(void **state)
{
	struct gt_error e = { 0 };
	struct gpp_doc *d;
	struct gpp_item it;
	struct sbuf x;
	unsigned long before = gpp_schema_runs;

	(void)state;
	sbuf_init(&x);
	big_registry_xml(BIG_ITEMS, 0, &x);
	assert_int_equal(gpp_load((const uint8_t *)x.buf, x.len, "big", RNG, &d, &e), 0);
	assert_int_equal(gpp_item_count(d), BIG_ITEMS);
	assert_true(gpp_schema_runs - before <= 3);
	assert_int_equal(gpp_schema_widest, 1);
	gpp_item_get(d, BIG_ITEMS - 1, &it);
	assert_string_equal(it.name, "V20000");
	assert_string_equal(it.value, "00004E20");
	assert_string_equal(it.key, "SOFTWARE\\G200");
	gpp_item_release(&it);
	assert_int_equal(gpp_find(d, "HKEY_LOCAL_MACHINE", "software\\g150", "v15000"), 14999);
	gpp_free(d);
	sbuf_release(&x);
}

/* The shape cache does not hide a bad item: one among 20,000 is refused, at its own line,
 * past the 65,535 lines libxml2 counts to on its own. */
static void test_gpp_load_bad_item_line(void **state)
{
	struct gt_error e = { 0 };
	struct gpp_doc *d;
	struct sbuf x;
	char want[64];

	(void)state;
	sbuf_init(&x);
	big_registry_xml(BIG_ITEMS, 15000, &x);
	assert_int_equal(gpp_load((const uint8_t *)x.buf, x.len, "big", RNG, &d, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	snprintf(want, sizeof(want), "line %d: does not match the Registry.xml schema", 15000 + 2);
	if (!strstr(e.msg, want))
		fail_msg("'%s' not in '%s'", want, e.msg);
	sbuf_release(&x);
	/* past line 65,535 */
	gt_error_clear(&e);
	sbuf_init(&x);
	sbuf_addstr(&x, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<RegistrySettings clsid=\"" GPP_CLSID_SETTINGS "\">");
	for (int i = 0; i < 70000; i++)
		sbuf_addstr(&x, "\r\n");
	sbuf_addstr(&x, "<Registry clsid=\"" GPP_CLSID_REGISTRY "\"><Properties hive=\"HKLM\" key=\"K\"/></Registry>\r\n</RegistrySettings>\r\n");
	assert_int_equal(gpp_load((const uint8_t *)x.buf, x.len, "tall", RNG, &d, &e), -1);
	if (!strstr(e.msg, "line 70002: does not match"))
		fail_msg("'line 70002' not in '%s'", e.msg);
	sbuf_release(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpp_load_runs_per_shape),
		cmocka_unit_test(test_gpp_load_bad_item_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
