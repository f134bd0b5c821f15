/* Unit tests for plan.c: plans written to JSON and read back, refused when malformed, and
 * their inverse (what a rollback applies). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "core/sbuf.h"
#include "state/plan.h"

static void add_value(struct change *c, int old, uint32_t type, const char *text)
{
	struct gt_error e = { 0 };
	struct reg_value *v = old ? &c->old : &c->new_value;

	reg_value_init(v);
	v->name = xstrdup(c->name);
	assert_int_equal(reg_value_from_text(type, text, v, &e), 0);
	if (old)
		c->had_old = 1;
	else
		c->has_new = 1;
}

/* A plan written to JSON and read back is the same plan, unnamed types included. */
static void test_plan_round_trip(void **state)
{
	struct gt_error e = { 0 };
	struct json_object *j;
	struct plan p, back;
	struct change *c;

	(void)state;
	plan_init(&p);
	plan_add(&p, CH_ADD_KEY, "A\\B", NULL);
	c = plan_add(&p, CH_SET_VALUE, "A\\B", "V");
	add_value(c, 1, RT_SZ, "old");
	add_value(c, 0, RT_DWORD, "7");
	c = plan_add(&p, CH_SET_VALUE, "A", "");
	add_value(c, 0, RT_BINARY, "");
	c->new_value.type = 0x1234; /* a type with no name: written as 0x1234 */
	j = plan_to_json(&p, "HKLM\\SYSTEM");
	assert_int_equal(plan_from_json(j, &back, &e), 0);
	assert_int_equal(back.n, 3);
	assert_int_equal(back.v[0].kind, CH_ADD_KEY);
	assert_null(back.v[0].name);
	assert_true(back.v[1].had_old && back.v[1].has_new);
	assert_int_equal(back.v[1].old.type, RT_SZ);
	assert_true(reg_value_equal_data(&back.v[1].old, &p.v[1].old));
	assert_true(reg_value_equal_data(&back.v[1].new_value, &p.v[1].new_value));
	assert_string_equal(back.v[2].name, "");
	assert_false(back.v[2].had_old);
	assert_int_equal(back.v[2].new_value.type, 0x1234);
	assert_int_equal(back.v[2].new_value.len, 0);
	json_object_put(j);
	plan_release(&back);
	plan_release(&p);
}

static void check_bad_changes(const char *text)
{
	struct json_object *j = json_tokener_parse(text);
	struct gt_error e = { 0 };
	struct plan p;

	assert_int_equal(plan_from_json(j, &p, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	plan_release(&p);
	json_object_put(j);
}

static void test_plan_from_bad_json(void **state)
{
	(void)state;
	check_bad_changes("{}");
	check_bad_changes("[{\"action\": \"explode\", \"key\": \"A\"}]");
	check_bad_changes("[{\"action\": \"set-value\", \"key\": \"A\"}]");          /* no name */
	check_bad_changes("[{\"action\": \"add-key\", \"key\": \"A\", \"name\": \"x\"}]");
	check_bad_changes("[{\"action\": \"set-value\", \"key\": \"A\", \"name\": \"x\", \"new\": {\"type\": \"REG_DWORD\", \"hex\": \"0\"}}]");
	check_bad_changes("[{\"action\": \"set-value\", \"key\": \"A\", \"name\": \"x\", \"new\": {\"type\": \"REG_DWORD\", \"hex\": \"zz\"}}]");
	check_bad_changes("[{\"action\": \"set-value\", \"key\": \"A\", \"name\": \"x\", \"new\": {\"type\": \"REG_NOPE\", \"hex\": \"00\"}}]");
	check_bad_changes("[{\"action\": \"set-value\", \"key\": \"A\", \"name\": \"x\", \"new\": {\"type\": \"0x1ffffffff\", \"hex\": \"00\"}}]");
}

/* The inverse runs last change first, swaps old and new, and turns key adds into deletes. */
static void test_plan_invert(void **state)
{
	struct plan p, inv;
	struct change *c;

	(void)state;
	plan_init(&p);
	plan_add(&p, CH_ADD_KEY, "K", NULL);
	c = plan_add(&p, CH_SET_VALUE, "K", "new");
	add_value(c, 0, RT_DWORD, "1");
	c = plan_add(&p, CH_SET_VALUE, "K", "changed");
	add_value(c, 1, RT_SZ, "was");
	add_value(c, 0, RT_DWORD, "2");
	c = plan_add(&p, CH_DELETE_VALUE, "K", "gone");
	add_value(c, 1, RT_DWORD, "3");
	plan_add(&p, CH_DELETE_KEY, "Old", NULL);
	plan_invert(&p, &inv);
	assert_int_equal(inv.n, 5);
	assert_int_equal(inv.v[0].kind, CH_ADD_KEY);
	assert_string_equal(inv.v[0].key, "Old");
	assert_int_equal(inv.v[1].kind, CH_SET_VALUE);          /* the deleted value comes back */
	assert_string_equal(inv.v[1].name, "gone");
	assert_true(inv.v[1].has_new && !inv.v[1].had_old);
	assert_int_equal(inv.v[2].kind, CH_SET_VALUE);          /* the overwritten one gets its old type */
	assert_int_equal(inv.v[2].new_value.type, RT_SZ);
	assert_int_equal(inv.v[2].old.type, RT_DWORD);
	assert_int_equal(inv.v[3].kind, CH_DELETE_VALUE);       /* the created one goes */
	assert_string_equal(inv.v[3].name, "new");
	assert_true(inv.v[3].had_old && !inv.v[3].has_new);
	assert_int_equal(inv.v[4].kind, CH_DELETE_KEY);
	assert_string_equal(inv.v[4].key, "K");
	plan_release(&inv);
	plan_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_round_trip),
		cmocka_unit_test(test_plan_from_bad_json),
		cmocka_unit_test(test_plan_invert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
