/* regfile_parse, the .reg importer (`hive import` reads files from anywhere). The input is
 * parsed as given (UTF-16LE with BOM, UTF-8, ANSI); then two properties are checked:
 *  - the same text encoded as regedit writes it (FF FE + UTF-16LE) parses to the same ops,
 *    or fails with the same message: both decoders feed one parser;
 *  - what parsed, written back with the project's writer, parses to the same ops again
 *    (`hive export` output must re-import exactly). */
#include <locale.h>
#include <string.h>

#include "fuzzutil.h"
#include "reg/regfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setlocale(LC_CTYPE, "C.UTF-8");
	return 0;
}

static int same_value(const struct reg_value *a, const struct reg_value *b)
{
	if ((a->name == NULL) != (b->name == NULL) || (a->name && strcmp(a->name, b->name) != 0))
		return 0;
	return a->type == b->type && a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void same_ops(const struct regfile *a, const struct regfile *b, const char *what)
{
	FUZZ_CHECK(a->n == b->n, "%s: %zu ops, then %zu", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct regfile_op *x = &a->ops[i], *y = &b->ops[i];

		FUZZ_CHECK(x->kind == y->kind && strcmp(x->key, y->key) == 0, "%s: op %zu (line %u) key '%s' vs '%s'",
			   what, i, x->line, x->key, y->key);
		FUZZ_CHECK(same_value(&x->value, &y->value), "%s: op %zu (line %u) value differs", what, i, x->line);
	}
}

/* The ops as text: regedit's layout, through the project's writer where it has one. */
static void write_back(const struct regfile *rf, struct sbuf *out)
{
	regfile_write_header(out);
	for (size_t i = 0; i < rf->n; i++) {
		const struct regfile_op *op = &rf->ops[i];

		switch (op->kind) {
		case RF_KEY:
			regfile_write_key(op->key, out);
			break;
		case RF_DELETE_KEY:
			sbuf_addf(out, "\r\n[-%s]\r\n", op->key);
			break;
		case RF_SET_VALUE:
			regfile_write_value(&op->value, out);
			break;
		case RF_DELETE_VALUE:
			reg_value_format_name(op->value.name, out);
			sbuf_addstr(out, "=-\r\n");
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct regfile rf = { 0 }, rf2 = { 0 };
	struct gt_error e = { 0 }, e2 = { 0 };
	struct sbuf wide, text, enc;
	int r = regfile_parse(data, size, "fuzz.reg", &rf, &e);
	size_t bom = size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

	FUZZ_CHECK(r == 0 || e.code == GT_REFUSED, "code %d: %s", e.code, e.msg);

	/* UTF-8 text: the UTF-16LE file regedit would have written must parse the same */
	sbuf_init(&wide);
	if (memchr(data, 0, size) == NULL &&
	    regfile_encode((const char *)data + bom, size - bom, RF_UTF16LE, &wide, &e2) == 0) {
		int r2 = regfile_parse((const uint8_t *)wide.buf, wide.len, "fuzz.reg", &rf2, &e2);

		FUZZ_CHECK(r == r2, "UTF-8 parse %d, UTF-16LE parse %d: %s%s", r, r2, e.msg, e2.msg);
		if (r == 0)
			same_ops(&rf, &rf2, "UTF-8 vs UTF-16LE");
		else
			FUZZ_CHECK(strcmp(e.msg, e2.msg) == 0, "'%s' vs '%s'", e.msg, e2.msg);
		regfile_release(&rf2);
	}
	sbuf_release(&wide);

	if (r == 0) {
		sbuf_init(&text);
		sbuf_init(&enc);
		write_back(&rf, &text);
		gt_error_clear(&e2);
		FUZZ_CHECK(regfile_encode(text.buf, text.len, RF_UTF16LE, &enc, &e2) == 0, "writer made invalid UTF-8");
		FUZZ_CHECK(regfile_parse((const uint8_t *)enc.buf, enc.len, "export.reg", &rf2, &e2) == 0,
			   "written back, it does not parse: %s", e2.msg);
		same_ops(&rf, &rf2, "parse vs write+parse");
		regfile_release(&rf2);
		sbuf_release(&enc);
		sbuf_release(&text);
		regfile_release(&rf);
	}
	return 0;
}
