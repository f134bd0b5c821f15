/* GPT.INI (gptini.h): read from a GPO folder, rewritten on every `gpo set` with one half of
 * Version bumped. Checked: rendering the version it read gives back the file byte for byte
 * (the header promises every other byte stays), and a bumped file parses again with the
 * bumped version, in the same encoding. */
#include <string.h>

#include "fuzzutil.h"
#include "gpo/gptini.h"

static void bump_and_reparse(const struct gptini *g, int user_half)
{
	uint32_t v = gpt_version_bump(g->version, user_half);
	struct gt_error e = { 0 };
	struct gptini back;
	struct sbuf out;

	/* a half never wraps to 0: clients read 0 as "never changed" */
	FUZZ_CHECK((v & 0xFFFF) != 0 || (g->version & 0xFFFF) == 0, "machine half %u -> %u", g->version, v);
	FUZZ_CHECK((v >> 16) != 0 || (g->version >> 16) == 0, "user half %u -> %u", g->version, v);
	sbuf_init(&out);
	gptini_render(g, v, &out);
	FUZZ_CHECK(gptini_parse((const uint8_t *)out.buf, out.len, &back, &e) == 0, "bumped file refused: %s", e.msg);
	FUZZ_CHECK(back.version == v, "wrote %u, read back %u", v, back.version);
	FUZZ_CHECK(back.utf16 == g->utf16 && back.utf8_bom == g->utf8_bom, "encoding changed");
	gptini_release(&back);
	sbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gt_error e = { 0 };
	struct gptini g;
	struct sbuf same;

	if (gptini_parse(data, size, &g, &e) < 0) {
		FUZZ_CHECK(e.code == GT_REFUSED, "code %d: %s", e.code, e.msg);
		return 0;
	}
	/* "Version=007" is rewritten as 7: compare only digits written the way render writes them */
	if (g.digits_len == 1 || g.text.buf[g.digits_at] != '0') {
		sbuf_init(&same);
		gptini_render(&g, g.version, &same);
		FUZZ_CHECK(same.len == size && memcmp(same.buf, data, size) == 0,
			   "unchanged version, yet the file changed (%zu -> %zu bytes)", size, same.len);
		sbuf_release(&same);
	}
	bump_and_reparse(&g, 0);
	bump_and_reparse(&g, 1);
	gptini_release(&g);
	return 0;
}
