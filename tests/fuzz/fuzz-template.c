/* Setting templates: a site drops NAME.template files into the templates folder, and
 * template_load checks them against template.schema. There is no parse-from-memory entry
 * point (parse_template is static), so the input is written as DIR/NAME.template beside a
 * copy of templates/template.schema, with NAME taken from the input's own "name:" line when
 * it is a valid one (so that a template can load at all), else "fuzz". */
#include <ctype.h>
#include <locale.h>
#include <string.h>

#include "fuzzutil.h"
#include "kb/template.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *schema = fuzz_read_file(FUZZ_SRCDIR "/templates/template.schema", &len);
	char path[4200];

	(void)argc;
	(void)argv;
	setlocale(LC_CTYPE, "C.UTF-8");
	snprintf(path, sizeof(path), "%s/template.schema", fuzz_tmpdir());
	fuzz_write_file(path, schema, len);
	free(schema);
	return 0;
}

/* The value of the first "name:" line, if it is a valid template name. */
static void pick_name(const uint8_t *data, size_t size, char name[65])
{
	strcpy(name, "fuzz");
	for (size_t i = 0; i + 5 <= size; i++) {
		if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, "name:", 5) == 0) {
			size_t p = i + 5, n = 0;

			while (p < size && (data[p] == ' ' || data[p] == '\t'))
				p++;
			while (p + n < size && n < 64 && (islower(data[p + n]) || isdigit(data[p + n]) || data[p + n] == '-'))
				n++;
			if (n && (p + n == size || data[p + n] == '\r' || data[p + n] == '\n')) {
				memcpy(name, data + p, n);
				name[n] = '\0';
			}
			return;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_tmpdir();
	struct gt_error e = { 0 };
	struct template t;
	char name[65], path[4200];

	pick_name(data, size, name);
	snprintf(path, sizeof(path), "%s/%s.template", dir, name);
	fuzz_write_file(path, data, size);
	if (template_load(dir, name, &t, &e) == 0) {
		/* what stage relies on without checking again */
		FUZZ_CHECK(strcmp(t.name, name) == 0 && t.key && t.value && t.summary && t.purpose, "%s", name);
		FUZZ_CHECK(t.allowed_min <= t.allowed_max, "allowed %u-%u", t.allowed_min, t.allowed_max);
		FUZZ_CHECK(!t.has_data || (t.data >= t.allowed_min && t.data <= t.allowed_max), "data %u", t.data);
		FUZZ_CHECK(t.nsource >= 1 && t.nsource <= TEMPLATE_MAX_LIST && t.nfollowup <= TEMPLATE_MAX_LIST, "lists");
		if (t.min_connector)
			FUZZ_CHECK(version_compare(t.min_connector, t.min_connector) == 0, "'%s'", t.min_connector);
		template_release(&t);
	} else {
		FUZZ_CHECK(e.code == GT_REFUSED, "code %d: %s", e.code, e.msg);
	}
	unlink(path);
	return 0;
}
