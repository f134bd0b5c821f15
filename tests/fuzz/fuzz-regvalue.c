/* The value-text parsers every input path shares (regvalue.h): reg_value_from_text for each
 * type a user can write, parse_u64, and the UTF-8 <-> UTF-16LE conversions whose
 * losslessness the .reg writer and the GPP code rely on. */
#include <locale.h>
#include <string.h>

#include "fuzzutil.h"
#include "reg/regvalue.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setlocale(LC_CTYPE, "C.UTF-8"); /* as main.c: name_casecmp folds all of Unicode */
	return 0;
}

static void from_text(uint32_t type, const char *text)
{
	struct reg_value v;
	struct gt_error e = { 0 };
	struct sbuf out;

	reg_value_init(&v);
	if (reg_value_from_text(type, text, &v, &e) < 0) {
		FUZZ_CHECK(e.code == GT_USAGE && v.data == NULL, "code %d", e.code);
		return;
	}
	FUZZ_CHECK(v.type == type && v.len <= REG_VALUE_MAX_BYTES, "type %u len %zu", v.type, v.len);
	if (type == RT_DWORD || type == RT_QWORD)
		FUZZ_CHECK(v.len == (type == RT_DWORD ? 4u : 8u), "len %zu", v.len);
	if (type == RT_SZ || type == RT_EXPAND_SZ)
		FUZZ_CHECK(reg_data_is_clean_string(v.data, v.len), "string data not one terminated string");
	if (type == RT_MULTI_SZ)
		FUZZ_CHECK(v.len >= 2 && v.len % 2 == 0 && !v.data[v.len - 1] && !v.data[v.len - 2], "len %zu", v.len);
	/* what users see of it: formatting must cope with whatever parsing produced */
	sbuf_init(&out);
	reg_value_format_data(&v, 1, 10, &out);
	reg_value_format_brief(&v, &out);
	sbuf_release(&out);
	reg_value_release(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t types[] = { RT_SZ, RT_EXPAND_SZ, RT_MULTI_SZ, RT_DWORD, RT_QWORD, RT_BINARY };
	char *text = fuzz_cstr(data, size);
	struct gt_error e = { 0 };
	struct sbuf u16, u8;
	uint64_t n32, n64;
	int ok32, ok64;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		from_text(types[i], text);

	/* a narrower maximum never accepts more, and never reads a different number */
	ok32 = parse_u64(text, UINT32_MAX, &n32) == 0;
	ok64 = parse_u64(text, UINT64_MAX, &n64) == 0;
	FUZZ_CHECK(!ok32 || (ok64 && n32 == n64), "'%s'", text);

	/* valid UTF-8 survives the trip through UTF-16LE byte for byte */
	sbuf_init(&u16);
	sbuf_init(&u8);
	if (utf8_to_utf16le((const char *)data, size, &u16, &e) == 0) {
		utf16le_to_utf8((const uint8_t *)u16.buf, u16.len, &u8);
		FUZZ_CHECK(u8.len == size && memcmp(u8.buf, data, size) == 0, "UTF-8 round trip changed %zu bytes", size);
	}
	/* any UTF-16LE comes out as valid UTF-8 (unpaired surrogates as U+FFFD) */
	sbuf_reset(&u8);
	sbuf_reset(&u16);
	utf16le_to_utf8(data, size, &u8);
	FUZZ_CHECK(utf8_to_utf16le(u8.buf, u8.len, &u16, &e) == 0, "utf16le_to_utf8 wrote invalid UTF-8");
	sbuf_release(&u16);
	sbuf_release(&u8);

	/* Windows name comparison is symmetric and reflexive */
	{
		size_t half = strlen(text) / 2;
		char *a = fuzz_cstr((const uint8_t *)text, half);
		int ab = name_casecmp(a, text + half), ba = name_casecmp(text + half, a);

		FUZZ_CHECK((ab > 0) - (ab < 0) == -((ba > 0) - (ba < 0)), "'%s' vs '%s': %d, %d", a, text + half, ab, ba);
		FUZZ_CHECK(name_casecmp(text, text) == 0, "'%s'", text);
		free(a);
	}
	free(text);
	return 0;
}
