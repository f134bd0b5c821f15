/* Unit tests for target/target.c: the table of kinds (order, names, which kind a journal
 * record or a journal file kind belongs to), the paths a journal may name, and the dispatch
 * saying clearly what a kind cannot do instead of a missing branch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/sbuf.h"
#include "gpo/gpp.h"
#include "gpo/gptini.h"
#include "hive/hivetx.h"
#include "target/target.h"

static void test_table(void **state)
{
	struct sbuf usage;

	(void)state;
	assert_string_equal(target_kind_name(target_kind_at(0)), "hive");
	assert_string_equal(target_kind_name(target_kind_at(1)), "image");
	assert_string_equal(target_kind_name(target_kind_at(2)), "gpo");
	assert_string_equal(target_kind_name(target_kind_at(3)), "domain");
	assert_null(target_kind_at(4));
	assert_string_equal(target_kind_option(target_kind_at(1)), "image");
	assert_ptr_equal(target_kind_named("gpo"), target_kind_at(2));
	assert_null(target_kind_named("tape"));
	assert_null(target_kind_named(NULL));
	sbuf_init(&usage);
	target_kinds_usage(&usage);
	assert_string_equal(usage.buf, "--hive FILE, --image WINDIR, --gpo DIR or --domain DNS");
	sbuf_release(&usage);
}

static const struct target_ops *of_record(const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	const struct target_ops *ops = target_kind_of_record(o);

	json_object_put(o);
	return ops;
}

static void test_kind_of_record(void **state)
{
	(void)state;
	/* the backend names the kind; an entry from before it was recorded names its kind */
	assert_ptr_equal(of_record("{\"backend\": \"image\", \"kind\": \"hive\"}"), target_kind_named("image"));
	assert_ptr_equal(of_record("{\"kind\": \"hive\"}"), target_kind_named("hive"));
	assert_ptr_equal(of_record("{\"kind\": \"gpo\", \"side\": \"User\"}"), target_kind_named("gpo"));
	assert_null(of_record("{\"backend\": \"tape\", \"kind\": \"hive\"}"));
	assert_null(of_record("{\"backend\": 7}"));
	assert_null(target_kind_of_record(NULL));
}

static void test_kind_of_file(void **state)
{
	struct gt_error e = { 0 };

	(void)state;
	assert_ptr_equal(target_kind_of_file("hive"), target_kind_named("hive"));
	assert_ptr_equal(target_kind_of_file("gpp-registry-xml"), target_kind_named("gpo"));
	assert_ptr_equal(target_kind_of_file("gpt-ini"), target_kind_named("gpo"));
	assert_null(target_kind_of_file("boot.ini"));
	/* recovery puts back no copy of a file kind no backend writes */
	assert_int_equal(target_check_saved_copy("boot.ini", (const uint8_t *)"x", 1, -1, "x", &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_string_equal(e.msg, "a target of kind 'boot.ini' is not one gpotool writes");
}

static void test_plain_paths(void **state)
{
	(void)state;
	assert_true(target_path_is_plain("/var/lib/gpotool"));
	assert_true(target_path_is_plain("/"));
	assert_false(target_path_is_plain(NULL));
	assert_false(target_path_is_plain("relative/path"));
	assert_false(target_path_is_plain("/a//b"));
	assert_false(target_path_is_plain("/a/./b"));
	assert_false(target_path_is_plain("/a/../b"));
	assert_false(target_path_is_plain("/a/."));
	assert_false(target_path_is_plain("/a/.."));
}

/* A GPO has no hive and no machine facts of its own: the interface says so, it does not crash. */
static void test_what_a_kind_cannot(void **state)
{
	struct target t = { .ops = target_kind_named("gpo") };
	struct target_fact_value v;
	struct gt_error e = { 0 };
	const char *why;

	(void)state;
	assert_null(target_hive(&t, &e));
	assert_int_equal(e.code, GT_USAGE);
	assert_string_equal(e.msg, "target kind 'gpo' cannot be read as one hive");
	assert_int_equal(target_fact(&t, TF_BUILD, &v, &why, &e), 0);
	assert_non_null(why);
	assert_null(v.text);
	assert_int_equal(target_reach(&t), TARGET_REACHES_BY_LINK);
	t.ops = target_kind_named("image");
	assert_int_equal(target_reach(&t), TARGET_HOLDS_MACHINE);
}

static void save(const char *path, const struct sbuf *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text->buf, 1, text->len, f), text->len);
	assert_int_equal(fclose(f), 0);
}

/* A GPO folder whose Machine side sets Kdc\StrongCertificateBindingEnforcement to 2. */
static void make_gpo(const char *dir)
{
	struct gpp_setting s = { .hive = "HKEY_LOCAL_MACHINE", .key = "SYSTEM\\CurrentControlSet\\Services\\Kdc",
				 .name = "StrongCertificateBindingEnforcement", .action = 'U', .changed = "2026-12-03 10:00:00",
				 .uid = "{8C4D6A2E-1F3B-4C5D-9E7F-0A1B2C3D4E5F}" };
	static const uint8_t two[4] = { 2, 0, 0, 0 };
	struct gt_error e = { 0 };
	struct gpp_doc *doc;
	struct sbuf path, text, xml;

	sbuf_init(&path);
	sbuf_init(&text);
	sbuf_init(&xml);
	gptini_new("unit", &text);
	sbuf_addf(&path, "%s/GPT.INI", dir);
	save(path.buf, &text);
	for (const char *sub = "/Machine\0/Machine/Preferences\0/Machine/Preferences/Registry\0"; *sub; sub += strlen(sub) + 1) {
		sbuf_reset(&path);
		sbuf_addf(&path, "%s%s", dir, sub);
		assert_int_equal(mkdir(path.buf, 0755), 0);
	}
	sbuf_reset(&text);
	gpp_empty_file(&text);
	assert_int_equal(gpp_load((const uint8_t *)text.buf, text.len, "empty", "templates/gpp-registry.rng", &doc, &e), 0);
	s.value = (struct reg_value){ .type = RT_DWORD, .data = (uint8_t *)two, .len = 4 };
	assert_int_equal(gpp_apply_set(doc, &s, &xml, &e), 0);
	gpp_free(doc);
	sbuf_addstr(&path, "/Registry.xml");
	save(path.buf, &xml);
	sbuf_release(&path);
	sbuf_release(&text);
	sbuf_release(&xml);
}

static void drop(void *arg, enum report_kind kind, const char *text)
{
	(void)arg;
	(void)kind;
	(void)text;
}

/* Reading a setting through the interface, from a GPO: the item's data, or absent. */
static void test_read_from_gpo(void **state)
{
	char dir[] = "/tmp/gpotool-unit-target-XXXXXX";
	struct target_setting kdc = { .key = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc",
				      .name = "StrongCertificateBindingEnforcement", .type = RT_DWORD, .label = "unit" };
	struct target_setting other = kdc;
	struct json_object *result = json_object_new_object();
	struct target_env env = { .rep = { .emit = drop, .result = result } };
	struct gt_error e = { 0 };
	struct reg_value v;
	struct target t;
	char cmd[96];

	(void)state;
	setenv("GPOTOOL_DATADIR", "templates", 1);
	assert_non_null(mkdtemp(dir));
	make_gpo(dir);
	assert_int_equal(target_open(&t, target_kind_named("gpo"), &env, &(struct target_request){ .what = dir }, &e), 0);
	assert_int_equal(target_read(&t, &kdc, &v, &e), 1);
	assert_int_equal(v.type, RT_DWORD);
	assert_int_equal(v.len, 4);
	assert_int_equal(v.data[0], 2);
	reg_value_release(&v);
	other.name = "CertificateBackdatingCompensation";
	assert_int_equal(target_read(&t, &other, &v, &e), 0);
	reg_value_release(&v);
	target_close(&t);
	json_object_put(result);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_kind_of_record),
		cmocka_unit_test(test_kind_of_file),
		cmocka_unit_test(test_plain_paths),
		cmocka_unit_test(test_what_a_kind_cannot),
		cmocka_unit_test(test_read_from_gpo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
