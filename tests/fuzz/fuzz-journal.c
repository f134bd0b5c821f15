/* Journal entries (STATE/journal/ID/entry.json) are read back by `journal show` and
 * `rollback`; a damaged or edited one must be refused, never misread. The input goes through
 * jsonx_parse_exact, then plan_from_json on the document itself and on each
 * targets[i].changes (where rollback finds them); a plan that loads is inverted (rollback's
 * plan) and written back with plan_to_json, which must load again to the same changes. */
#include <json-c/json.h>
#include <string.h>

#include "fuzzutil.h"
#include "state/journal.h"
#include "state/plan.h"

static int same_value(const struct reg_value *a, const struct reg_value *b)
{
	return a->type == b->type && a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void check_plan(struct json_object *changes)
{
	struct gt_error e = { 0 };
	struct plan p, inv, back;
	struct json_object *arr;
	struct sbuf line;

	if (plan_from_json(changes, &p, &e) < 0) {
		FUZZ_CHECK(e.code == GT_REFUSED, "code %d: %s", e.code, e.msg);
		plan_release(&p); /* the header: released by the caller, also on error */
		return;
	}
	sbuf_init(&line);
	for (size_t i = 0; i < p.n; i++)
		change_describe(&p.v[i], "HKLM\\SYSTEM", &line);
	sbuf_release(&line);
	plan_invert(&p, &inv);
	FUZZ_CHECK(inv.n == p.n, "%zu changes, %zu inverted", p.n, inv.n);

	/* what the journal writes, it reads back the same (key changes carry no values there) */
	arr = plan_to_json(&p, "HKLM\\SYSTEM");
	FUZZ_CHECK(plan_from_json(arr, &back, &e) == 0, "plan_to_json output refused: %s", e.msg);
	FUZZ_CHECK(back.n == p.n, "%zu changes, %zu read back", p.n, back.n);
	for (size_t i = 0; i < p.n; i++) {
		const struct change *a = &p.v[i], *b = &back.v[i];
		int value = a->kind == CH_SET_VALUE || a->kind == CH_DELETE_VALUE;

		FUZZ_CHECK(a->kind == b->kind && strcmp(a->key, b->key) == 0, "change %zu", i);
		FUZZ_CHECK(!value || (strcmp(a->name, b->name) == 0 && a->had_old == b->had_old && a->has_new == b->has_new),
			   "change %zu name/presence", i);
		FUZZ_CHECK(!value || !a->had_old || same_value(&a->old, &b->old), "change %zu old value", i);
		FUZZ_CHECK(!value || !a->has_new || same_value(&a->new_value, &b->new_value), "change %zu new value", i);
	}
	json_object_put(arr);
	arr = plan_to_json(&inv, "");
	json_object_put(arr);
	plan_release(&back);
	plan_release(&inv);
	plan_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *doc = jsonx_parse_exact(data, size), *targets;

	if (!doc)
		return 0;
	check_plan(doc);
	targets = json_object_object_get(doc, "targets");
	if (json_object_is_type(targets, json_type_array))
		for (size_t i = 0; i < json_object_array_length(targets) && i < 4; i++)
			check_plan(json_object_object_get(json_object_array_get_idx(targets, i), "changes"));
	json_object_put(doc);
	return 0;
}
