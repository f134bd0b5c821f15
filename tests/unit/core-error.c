/* Unit tests for the error rule in core/error.h: a failure on its way up keeps its innermost
 * cause, a failure that stops somewhere is ended there, and a stale error can neither stand in
 * for a later failure nor turn a success into one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/error.h"
#include "kb/template.h"

/* a step that fails, as a module's would */
static int failing_step(const char *what, int code, struct gt_error *e)
{
	return gt_fail(e, code, "unable to %s", what);
}

static void test_innermost_cause_wins_on_the_way_up(void **state)
{
	struct gt_error e = { 0 };

	(void)state;
	assert_int_equal(failing_step("read 'SYSTEM'", GT_REFUSED, &e), -1);
	/* the caller's own message after the callee failed does not hide the cause */
	assert_int_equal(gt_fail(&e, GT_FAILED, "unable to open the hive"), -1);
	assert_int_equal(gt_prefix(&e, "'%s' left unchanged: ", "s.hive"), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_string_equal(e.msg, "'s.hive' left unchanged: unable to read 'SYSTEM'");
}

static void test_prefix_names_the_subject_once(void **state)
{
	struct gt_error e = { 0 };

	(void)state;
	failing_step("open 'SYSTEM'", GT_FAILED, &e);
	gt_prefix(&e, "'%s': ", "SYSTEM");
	assert_string_equal(e.msg, "unable to open 'SYSTEM'");
	gt_prefix(&e, "'%s': ", "SOFTWARE");
	assert_string_equal(e.msg, "'SOFTWARE': unable to open 'SYSTEM'");
}

/* A caller that goes on after a failure gives that call a scratch error: the later failure
 * through e is the one reported, with its own code. */
static void test_ignored_failure_goes_to_a_scratch_error(void **state)
{
	struct gt_error e = { 0 }, ignored = { 0 };

	(void)state;
	assert_int_equal(failing_step("read UBR", GT_REFUSED, &ignored), -1);
	assert_int_equal(e.code, GT_OK);
	failing_step("read update-builds.tsv", GT_FAILED, &e);
	assert_int_equal(e.code, GT_FAILED);
	assert_string_equal(e.msg, "unable to read update-builds.tsv");
}

/* A failure turned into a warning is ended with gt_error_clear; so is a cause replaced on
 * purpose. */
static void test_clear_ends_a_failure(void **state)
{
	struct gt_error e = { 0 };

	(void)state;
	failing_step("parse the new GPT.INI", GT_REFUSED, &e);
	gt_error_clear(&e);
	assert_int_equal(e.code, GT_OK);
	assert_string_equal(e.msg, "");
	gt_fail(&e, GT_FAILED, "verification failed");
	assert_int_equal(e.code, GT_FAILED);
	assert_string_equal(e.msg, "verification failed");
}

/* A module decides from its own steps, never from e->code: an error a caller left in e
 * (breaking the rule) does not make a template that loads fail, nor is it touched. */
static void test_stale_error_does_not_fail_a_success(void **state)
{
	struct gt_error e = { 0 };
	struct template t;

	(void)state;
	failing_step("read an earlier file", GT_MISMATCH, &e);
	assert_int_equal(template_load("templates", "kdc-compat", &t, &e), 0);
	assert_string_equal(t.name, "kdc-compat");
	template_release(&t);
	assert_int_equal(e.code, GT_MISMATCH);
	assert_string_equal(e.msg, "unable to read an earlier file");
}

static void test_fail_without_an_error_record(void **state)
{
	(void)state;
	assert_int_equal(gt_fail(NULL, GT_FAILED, "nowhere to put it"), -1);
	assert_int_equal(gt_prefix(NULL, "ctx: "), -1);
}

static void test_error_first_wins(void **state)
{
	struct gt_error e = { 0 };

	(void)state;
	assert_int_equal(gt_fail(&e, GT_REFUSED, "inner %d", 1), -1);
	gt_fail(&e, GT_FAILED, "outer");
	assert_int_equal(e.code, GT_REFUSED);
	gt_prefix(&e, "'%s': ", "f");
	assert_string_equal(e.msg, "'f': inner 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_first_wins),
		cmocka_unit_test(test_innermost_cause_wins_on_the_way_up),
		cmocka_unit_test(test_prefix_names_the_subject_once),
		cmocka_unit_test(test_ignored_failure_goes_to_a_scratch_error),
		cmocka_unit_test(test_clear_ends_a_failure),
		cmocka_unit_test(test_stale_error_does_not_fail_a_success),
		cmocka_unit_test(test_fail_without_an_error_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
