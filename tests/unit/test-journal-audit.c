/* Unit tests for what the journal and the audit trail read back: plans from JSON and their
 * inverse, journal IDs, exact JSON documents, and the audit line's hash split. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "state/audit.h"
#include "state/journal.h"
#include "state/plan.h"
#include "core/sbuf.h"

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

static void test_journal_ids(void **state)
{
	(void)state;
	assert_true(journal_id_valid("20261125T210758.312185Z-fe302c84"));
	assert_false(journal_id_valid(""));
	assert_false(journal_id_valid("../20261125T210758.312185Z-fe3"));
	assert_false(journal_id_valid("20261125T210758.312185Z-FE302C84"));
	assert_false(journal_id_valid("20261125T210758.312185Z-fe302c8/"));
	assert_false(journal_id_valid("20261125T210758.312185Z-fe302c844"));
	assert_false(journal_id_valid("20261125T210758-312185Z-fe302c84"));
}

static void test_json_parse_exact(void **state)
{
	struct json_object *o;

	(void)state;
	o = jsonx_parse_exact((const uint8_t *)"{\"a\": 1}\n", 9);
	assert_non_null(o);
	json_object_put(o);
	assert_null(jsonx_parse_exact((const uint8_t *)"{\"a\": 1} x", 10));
	assert_null(jsonx_parse_exact((const uint8_t *)"{\"a\": 1}{}", 10));
	assert_null(jsonx_parse_exact((const uint8_t *)"{\"a\": 1", 7));
	assert_null(jsonx_parse_exact((const uint8_t *)"{\"a\":\0 1}", 9));
	/* not NUL-terminated: only len bytes are read */
	o = jsonx_parse_exact((const uint8_t *)"[1]]]]", 3);
	assert_non_null(o);
	json_object_put(o);
}

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
		cmocka_unit_test(test_plan_round_trip),
		cmocka_unit_test(test_plan_from_bad_json),
		cmocka_unit_test(test_plan_invert),
		cmocka_unit_test(test_journal_ids),
		cmocka_unit_test(test_json_parse_exact),
		cmocka_unit_test(test_audit_line_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
