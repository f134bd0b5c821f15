/* keypath_parse: every key path a user types (command line, templates, GPP keys) goes
 * through it. The input is a C string, as argv hands it over. */
#include <locale.h>
#include <string.h>

#include "fuzzutil.h"
#include "reg/keypath.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setlocale(LC_CTYPE, "C.UTF-8"); /* as main.c: key names compare over all of Unicode */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct gt_error e = { 0 };
	struct keypath kp;

	/* No release after a failed parse: gpotx.c, stage.c and template.c all return without
	 * one, so a failed parse must leave nothing allocated (LeakSanitizer checks it). */
	if (keypath_parse(text, &kp, &e) == 0) {
		struct keypath back;
		char *joined = keypath_join(kp.parts, kp.n);

		/* plans and journals store keys joined; splitting must give the same parts */
		FUZZ_CHECK(kp.n <= KEYPATH_MAX_DEPTH, "%zu parts", kp.n);
		keypath_split(joined, &back);
		FUZZ_CHECK(back.n == kp.n, "'%s': %zu parts, %zu after join/split", joined, kp.n, back.n);
		for (size_t i = 0; i < kp.n; i++)
			FUZZ_CHECK(*kp.parts[i] && strcmp(kp.parts[i], back.parts[i]) == 0, "part %zu", i);
		keypath_release(&back);
		free(joined);
		keypath_release(&kp);
	} else {
		FUZZ_CHECK(e.code == GT_USAGE, "error code %d: %s", e.code, e.msg);
	}
	free(text);
	return 0;
}
