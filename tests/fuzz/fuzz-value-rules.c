/* Value rules (templates/value-rules): a site edits them, and every writer of a value trusts
 * what value_rules_load returns. The input is written as DIR/value-rules; a rules file that
 * loads must hold only whole rules (a parsed key with its hive, a value name, a date, a text,
 * a source, "after" exactly with "expires"), and judging a plan against it must not crash. */
#include <json-c/json.h>
#include <locale.h>
#include <string.h>

#include "kb/advisory.h"
#include "fuzzutil.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setlocale(LC_CTYPE, "C.UTF-8");
	return 0;
}

/* A plan that sets each rule's own value, under a ControlSet00N, to the rule's data. */
static void judge_each(const char *dir, const struct value_rules *r)
{
	struct gt_error e = { 0 };
	struct advice a;
	struct plan p;

	plan_init(&p);
	for (size_t i = 0; i < r->n; i++) {
		struct change *c = plan_add(&p, CH_SET_VALUE, "ControlSet001\\Services\\Kdc", r->v[i].value);

		c->has_new = 1;
		c->new_value.type = RT_DWORD;
		c->new_value.len = 4;
		c->new_value.data = malloc(4);
		memcpy(c->new_value.data, &r->v[i].data, 4);
	}
	if (advice_judge(dir, &p, "HKLM\\SYSTEM", 0, &a, &e) == 0) {
		for (size_t i = 0; i < a.n; i++) {
			struct sbuf text;

			sbuf_init(&text);
			rule_hit_text(&a.hit[i], &text);
			FUZZ_CHECK(text.len > 0, "empty text");
			sbuf_release(&text);
			json_object_put(rule_hit_json(&a.hit[i]));
		}
	}
	advice_release(&a);
	plan_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_tmpdir();
	struct gt_error e = { 0 };
	struct value_rules r;
	char path[4200];

	snprintf(path, sizeof(path), "%s/value-rules", dir);
	fuzz_write_file(path, data, size);
	if (value_rules_load(dir, &r, &e) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			const struct value_rule *x = &r.v[i];

			FUZZ_CHECK(x->key && x->kp.mount && x->value && x->says && x->nsource >= 1 && strlen(x->date) == 10,
				   "rule %zu is not whole", i);
			FUZZ_CHECK((x->kind == RULE_EXPIRES) == !!x->after, "rule %zu: after", i);
		}
		judge_each(dir, &r);
	} else {
		FUZZ_CHECK(e.code == GT_REFUSED || e.code == GT_FAILED, "code %d: %s", e.code, e.msg);
	}
	value_rules_release(&r);
	return 0;
}
