/* Unit tests for the fault point table (core/fault.c): the names the tests use, byte for
 * byte; which GPOTOOL_FAULT values name a point; kill and stop; and the note that makes a
 * misspelt point visible. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fault.h"

/* What the shell tests and TESTING.md name; a change here breaks them. */
static const char *const want_names[FAULT_NPOINTS] = {
	[FAULT_HIVE_BEFORE_RENAME] = "hive-before-rename",
	[FAULT_HIVE_AFTER_RENAME] = "hive-after-rename",
	[FAULT_GPO_BEFORE_RENAMES] = "gpo-before-renames",
	[FAULT_GPO_BETWEEN_RENAMES] = "gpo-between-renames",
	[FAULT_AUDIT_BEFORE_APPEND] = "audit-before-append",
	[FAULT_AUDIT_BEFORE_HEAD] = "audit-before-head",
	[FAULT_AUDIT_AFTER_APPEND] = "audit-after-append",
	[FAULT_RECOVER_AFTER_WRITE] = "recover-after-write",
	[FAULT_RECOVER_AFTER_MARK] = "recover-after-mark",
	[FAULT_ABANDON_AFTER_LOAD] = "abandon-after-load",
	[FAULT_JOURNAL_ENTRY_OPENED] = "journal-entry-opened",
	[FAULT_DOMAIN_JOURNALED] = "domain-journaled",
	[FAULT_DOMAIN_REGISTRY_WRITTEN] = "domain-registry-written",
	[FAULT_DOMAIN_FILES_WRITTEN] = "domain-files-written",
	[FAULT_DOMAIN_GPC_WRITTEN] = "domain-gpc-written",
	[FAULT_DOMAIN_LINK_WRITTEN] = "domain-link-written",
	[FAULT_DOMAIN_CAS_READ] = "domain-cas-read",
	[FAULT_HIVE_WRITTEN] = "hive-written-",
	[FAULT_HIVE_WRITTEN_FLIP_DATA] = "hive-written-flip-data",
	[FAULT_HIVE_WRITTEN_RETYPE] = "hive-written-retype",
	[FAULT_HIVE_WRITTEN_FLIP_OTHER] = "hive-written-flip-other",
	[FAULT_HIVE_WRITTEN_DROP_CHANGE] = "hive-written-drop-change",
	[FAULT_GPTINI_RENDERED_VERSION] = "gptini-rendered-version",
	[FAULT_GPP_APPLIED] = "gpp-applied-",
	[FAULT_GPP_APPLIED_VALUE] = "gpp-applied-value",
	[FAULT_GPP_APPLIED_OTHER] = "gpp-applied-other",
	[FAULT_GPP_APPLIED_CLSID] = "gpp-applied-clsid",
};

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < FAULT_NPOINTS; i++) {
		assert_non_null(fault_name(i));
		assert_string_equal(fault_name(i), want_names[i]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(fault_name(i), fault_name(j));
	}
}

static void test_known_values(void **state)
{
	(void)state;
	for (int i = 0; i < FAULT_NPOINTS; i++)
		assert_true(fault_value_known(fault_name(i)));
	assert_true(fault_value_known("hive-before-rename:stop"));
	assert_true(fault_value_known("abandon-after-load:stop"));
	/* a family's engine says itself that the name is none of its points */
	assert_true(fault_value_known("hive-written-nonsense"));
	assert_true(fault_value_known("gpp-applied-nonsense"));
	assert_false(fault_value_known("hive-before-renames"));
	assert_false(fault_value_known("hive-before-rename:stopp"));
	assert_false(fault_value_known("gptini-rendered-version:stop"));
	assert_false(fault_value_known("gptini-rendered-versoin"));
	assert_false(fault_value_known("hive-writen-flip-data"));
	assert_false(fault_value_known(""));
}

static void test_asked(void **state)
{
	(void)state;
	unsetenv("GPOTOOL_FAULT");
	assert_false(fault_asked(FAULT_HIVE_WRITTEN));
	setenv("GPOTOOL_FAULT", "hive-written-retype", 1);
	assert_true(fault_asked(FAULT_HIVE_WRITTEN));
	assert_true(fault_asked(FAULT_HIVE_WRITTEN_RETYPE));
	assert_false(fault_asked(FAULT_HIVE_WRITTEN_FLIP_DATA));
	assert_false(fault_asked(FAULT_GPP_APPLIED));
	setenv("GPOTOOL_FAULT", "hive-before-rename", 1);
	assert_false(fault_asked(FAULT_HIVE_BEFORE_RENAME)); /* a kill point is not a damage point */
	fault_point(FAULT_HIVE_AFTER_RENAME);                /* another point: goes on */
	unsetenv("GPOTOOL_FAULT");
	fault_point(FAULT_HIVE_BEFORE_RENAME);
}

static void test_nothing_to_damage(void **state)
{
	struct gt_error e = { 0 };

	(void)state;
	setenv("GPOTOOL_FAULT", "hive-written-nonsense", 1);
	assert_int_equal(fault_nothing_to_damage(&e), -1);
	assert_int_equal(e.code, GT_FAILED);
	assert_string_equal(e.msg, "fault point 'hive-written-nonsense' found nothing to damage");
	unsetenv("GPOTOOL_FAULT");
}

/* Runs fault_point(id) with GPOTOOL_FAULT=value in a child, its stderr into err (NUL-ended);
 * returns its wait status (WUNTRACED: a stopped child is reported, then killed). */
static int run_point(enum fault_id id, const char *value, char *err, size_t errsize)
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		setenv("GPOTOOL_FAULT", value, 1);
		fault_point(id);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	if (WIFSTOPPED(status)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	n = read(fds[0], err, errsize - 1);
	err[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	return status;
}

static void test_kill_and_stop(void **state)
{
	char err[512];
	int st;

	(void)state;
	st = run_point(FAULT_GPO_BETWEEN_RENAMES, "gpo-between-renames", err, sizeof(err));
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	st = run_point(FAULT_GPO_BETWEEN_RENAMES, "gpo-between-renames:stop", err, sizeof(err));
	assert_true(WIFSTOPPED(st));
	st = run_point(FAULT_GPO_BETWEEN_RENAMES, "gpo-before-renames", err, sizeof(err));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(err, "");
}

/* A misspelt point interrupts nothing, and the module says nothing (main notes it: t5400). */
static void test_unknown_value_silent(void **state)
{
	char err[512];
	int st;

	(void)state;
	assert_false(fault_value_known("hive-befor-rename"));
	st = run_point(FAULT_HIVE_BEFORE_RENAME, "hive-befor-rename", err, sizeof(err));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(err, "");
	st = run_point(FAULT_HIVE_BEFORE_RENAME, "hive-written-nonsense", err, sizeof(err));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(err, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_asked),
		cmocka_unit_test(test_nothing_to_damage),
		cmocka_unit_test(test_kill_and_stop),
		cmocka_unit_test(test_unknown_value_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
