/* Unit tests for journal.c: the journal IDs it accepts (an ID names a folder: nothing else
 * may pass). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "state/journal.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
