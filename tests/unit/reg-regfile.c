/* Unit tests for regfile.c: parsing what regedit writes (and what people hand-edit), the
 * refusals with their line numbers, the writer's regedit layout, and the real .reg files
 * of the shared corpus (GT_REG_CORPUS overrides ../shared/corpus/reg). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg/regfile.h"

#define HDR "Windows Registry Editor Version 5.00\r\n"

/* ---- helpers ---- */

static void parse_ok(const void *buf, size_t len, struct regfile *rf)
{
	struct gt_error e = { 0 };
	int ret = regfile_parse(buf, len, "t.reg", rf, &e);

	if (ret != 0)
		print_error("unexpected refusal: %s\n", e.msg);
	assert_int_equal(ret, 0);
	assert_int_equal(e.code, GT_OK);
}

static void parse_text(const char *text, struct regfile *rf)
{
	parse_ok(text, strlen(text), rf);
}

/* Refused with GT_REFUSED, the message naming line `line` and containing `part`. */
static void assert_refused_buf(const void *buf, size_t len, unsigned line, const char *part)
{
	struct gt_error e = { 0 };
	struct regfile rf = { 0 };
	char prefix[64];

	assert_int_equal(regfile_parse(buf, len, "t.reg", &rf, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	snprintf(prefix, sizeof(prefix), "'t.reg' line %u: ", line);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0 || !strstr(e.msg, part))
		print_error("message '%s', wanted prefix '%s' and '%s'\n", e.msg, prefix, part);
	assert_memory_equal(e.msg, prefix, strlen(prefix));
	assert_non_null(strstr(e.msg, part));
	/* out is untouched on failure */
	assert_null(rf.ops);
	assert_int_equal(rf.n, 0);
}

static void assert_refused(const char *text, unsigned line, const char *part)
{
	assert_refused_buf(text, strlen(text), line, part);
}

/* FF FE + UTF-16LE of UTF-8 text, as regedit saves a file. */
static void to_utf16(const char *text, size_t len, struct sbuf *out)
{
	struct gt_error e = { 0 };

	sbuf_add(out, "\xFF\xFE", 2);
	assert_int_equal(utf8_to_utf16le(text, len, out, &e), 0);
}

static void assert_sz(const struct reg_value *v, uint32_t type, const char *utf8)
{
	struct sbuf want;
	struct gt_error e = { 0 };

	sbuf_init(&want);
	assert_int_equal(utf8_to_utf16le(utf8, strlen(utf8), &want, &e), 0);
	sbuf_add(&want, "\0\0", 2);
	assert_int_equal(v->type, type);
	assert_int_equal(v->len, want.len);
	assert_memory_equal(v->data, want.buf, want.len);
	sbuf_release(&want);
}

static void assert_bytes(const struct reg_value *v, uint32_t type, const void *bytes, size_t len)
{
	assert_int_equal(v->type, type);
	assert_int_equal(v->len, len);
	if (len)
		assert_memory_equal(v->data, bytes, len);
}

static uint32_t dword_of(const struct reg_value *v)
{
	assert_int_equal(v->type, RT_DWORD);
	assert_int_equal(v->len, 4);
	return (uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 |
	       (uint32_t)v->data[2] << 16 | (uint32_t)v->data[3] << 24;
}

static const struct regfile_op *find_value(const struct regfile *rf, const char *key,
					   const char *name)
{
	for (size_t i = 0; i < rf->n; i++) {
		const struct regfile_op *op = &rf->ops[i];

		if ((op->kind == RF_SET_VALUE || op->kind == RF_DELETE_VALUE) &&
		    strcmp(op->key, key) == 0 && strcmp(op->value.name, name) == 0)
			return op;
	}
	fail_msg("no value '%s' under '%s'", name, key);
	return NULL;
}

static size_t count_kind(const struct regfile *rf, enum regfile_op_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < rf->n; i++)
		n += rf->ops[i].kind == kind;
	return n;
}

/* ---- encodings ---- */

static void test_utf16_bom_crlf(void **state)
{
	const char *text = HDR "\r\n"
		"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Test]\r\n"
		"\"Name\"=\"Välue €\"\r\n"
		"\"Count\"=dword:0000002a\r\n";
	struct sbuf file;
	struct regfile rf;

	(void)state;
	sbuf_init(&file);
	to_utf16(text, strlen(text), &file);
	parse_ok(file.buf, file.len, &rf);
	assert_int_equal(rf.regedit4, 0);
	assert_int_equal(rf.n, 3);
	assert_int_equal(rf.ops[0].kind, RF_KEY);
	assert_string_equal(rf.ops[0].key, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Test");
	assert_int_equal(rf.ops[0].line, 3);
	assert_int_equal(rf.ops[1].kind, RF_SET_VALUE);
	assert_string_equal(rf.ops[1].key, rf.ops[0].key);
	assert_string_equal(rf.ops[1].value.name, "Name");
	assert_sz(&rf.ops[1].value, RT_SZ, "Välue €");
	assert_int_equal(rf.ops[1].line, 4);
	assert_int_equal(dword_of(&rf.ops[2].value), 42);
	assert_int_equal(rf.ops[2].line, 5);
	regfile_release(&rf);
	assert_null(rf.ops);
	sbuf_release(&file);
}

static void test_utf8(void **state)
{
	const char *body = HDR "\n[HKEY_CURRENT_USER\\Software\\Café]\n\"ü\"=\"grüße\"\n";
	struct sbuf bom;
	struct regfile rf;

	(void)state;
	parse_text(body, &rf);
	assert_int_equal(rf.n, 2);
	assert_string_equal(rf.ops[0].key, "HKEY_CURRENT_USER\\Software\\Café");
	assert_string_equal(rf.ops[1].value.name, "ü");
	assert_sz(&rf.ops[1].value, RT_SZ, "grüße");
	regfile_release(&rf);

	/* the same with a UTF-8 BOM */
	sbuf_init(&bom);
	sbuf_addstr(&bom, "\xEF\xBB\xBF");
	sbuf_addstr(&bom, body);
	parse_ok(bom.buf, bom.len, &rf);
	assert_int_equal(rf.n, 2);
	assert_sz(&rf.ops[1].value, RT_SZ, "grüße");
	assert_int_equal(rf.ops[1].line, 4);
	regfile_release(&rf);
	sbuf_release(&bom);
}

static void test_ansi(void **state)
{
	/* not valid UTF-8: Windows-1252, where 0x80 is the euro sign */
	const char *text = HDR "\r\n[HKEY_CURRENT_USER\\X\xE9]\r\n\"a\"=\"\x80 \xE9\"\r\n";
	struct regfile rf;

	(void)state;
	parse_text(text, &rf);
	assert_string_equal(rf.ops[0].key, "HKEY_CURRENT_USER\\Xé");
	assert_sz(&rf.ops[1].value, RT_SZ, "€ é");
	regfile_release(&rf);
}

static void test_regedit4_ansi_strings(void **state)
{
	const char *text = "REGEDIT4\r\n\r\n"
		"[HKEY_LOCAL_MACHINE\\SYSTEM\\X]\r\n"
		"\"Path\"=hex(2):25,53,79,73,25,5c,80,00\r\n"
		"\"Multi\"=hex(7):61,00,62,63,00,00\r\n"
		"\"Sz\"=hex(1):e9,00\r\n"
		"\"Bin\"=hex:80,e9\r\n"
		"\"Str\"=\"x\"\r\n";
	static const uint8_t path[] = { '%', 0, 'S', 0, 'y', 0, 's', 0, '%', 0, '\\', 0,
					0xAC, 0x20, 0, 0 };
	static const uint8_t multi[] = { 'a', 0, 0, 0, 'b', 0, 'c', 0, 0, 0, 0, 0 };
	static const uint8_t sz[] = { 0xE9, 0, 0, 0 };
	static const uint8_t bin[] = { 0x80, 0xE9 };
	struct regfile rf;

	(void)state;
	parse_text(text, &rf);
	assert_int_equal(rf.regedit4, 1);
	assert_bytes(&rf.ops[1].value, RT_EXPAND_SZ, path, sizeof(path));
	assert_bytes(&rf.ops[2].value, RT_MULTI_SZ, multi, sizeof(multi));
	assert_bytes(&rf.ops[3].value, RT_SZ, sz, sizeof(sz));
	/* binary data is bytes, not text: unchanged */
	assert_bytes(&rf.ops[4].value, RT_BINARY, bin, sizeof(bin));
	assert_sz(&rf.ops[5].value, RT_SZ, "x");
	regfile_release(&rf);
}

/* ---- value forms ---- */

static void test_value_forms(void **state)
{
	const char *text = HDR "\r\n"
		"; a comment before the first key\r\n"
		"  ; an indented one\r\n"
		"[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Gone]\r\n"               /* 5 */
		"\r\n"
		"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Here]   \r\n"             /* 7 */
		"@=\"default\"\r\n"                                      /* 8 */
		"\"dw\"=dword:DEADbeef\r\n"
		"\"short\" = dword:1   \r\n"                              /* 10 */
		"\"bin\"=hex:01,02,\\\r\n"                                /* 11 */
		"  03,04,\\\r\n"
		"\t05\r\n"
		"\"qw\"=hex(b):08,07,06,05,04,03,02,01\r\n"               /* 14 */
		"\"ms\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n"
		"\"none\"=hex(0):\r\n"                                    /* 16 */
		"\"empty\"=hex:\r\n"
		"\"big\"=hex(ffffffff):ff\r\n"                             /* 18 */
		"\"old\"=-\r\n"
		"\"esc\\\\ape \\\"q\\\"\"=\"C:\\\\Dir \\\"x\\\"\"\r\n"   /* 20 */
		"\"\"=\"empty name\"\r\n"
		"@=-\r\n";                                               /* 22 */
	static const uint8_t bin[] = { 1, 2, 3, 4, 5 };
	static const uint8_t qw[] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	static const uint8_t ms[] = { 'a', 0, 0, 0, 'b', 0, 0, 0, 0, 0 };
	static const uint8_t ff[] = { 0xFF };
	const char *key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Here";
	const struct regfile_op *op;
	struct regfile rf;

	(void)state;
	parse_text(text, &rf);
	assert_int_equal(rf.n, 15);
	assert_int_equal(rf.ops[0].kind, RF_DELETE_KEY);
	assert_string_equal(rf.ops[0].key, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Gone");
	assert_null(rf.ops[0].value.name);
	assert_int_equal(rf.ops[0].line, 5);
	assert_int_equal(rf.ops[1].kind, RF_KEY);
	assert_string_equal(rf.ops[1].key, key);
	assert_int_equal(rf.ops[1].line, 7);

	assert_int_equal(rf.ops[2].kind, RF_SET_VALUE);
	assert_string_equal(rf.ops[2].value.name, "");
	assert_sz(&rf.ops[2].value, RT_SZ, "default");
	assert_int_equal(rf.ops[2].line, 8);
	assert_int_equal(dword_of(&find_value(&rf, key, "dw")->value), 0xdeadbeef);
	op = find_value(&rf, key, "short");
	assert_int_equal(dword_of(&op->value), 1);
	assert_int_equal(op->line, 10);
	op = find_value(&rf, key, "bin");
	assert_bytes(&op->value, RT_BINARY, bin, sizeof(bin));
	assert_int_equal(op->line, 11);
	op = find_value(&rf, key, "qw");
	assert_bytes(&op->value, RT_QWORD, qw, sizeof(qw));
	assert_int_equal(op->line, 14);
	assert_bytes(&find_value(&rf, key, "ms")->value, RT_MULTI_SZ, ms, sizeof(ms));
	assert_bytes(&find_value(&rf, key, "none")->value, RT_NONE, NULL, 0);
	assert_bytes(&find_value(&rf, key, "empty")->value, RT_BINARY, NULL, 0);
	assert_bytes(&find_value(&rf, key, "big")->value, 0xffffffffu, ff, 1);

	op = find_value(&rf, key, "old");
	assert_int_equal(op->kind, RF_DELETE_VALUE);
	assert_null(op->value.data);
	assert_int_equal(op->value.len, 0);
	op = find_value(&rf, key, "esc\\ape \"q\"");
	assert_sz(&op->value, RT_SZ, "C:\\Dir \"x\"");
	assert_int_equal(op->line, 20);
	assert_sz(&find_value(&rf, key, "")->value, RT_SZ, "default");
	op = &rf.ops[rf.n - 2];
	assert_string_equal(op->value.name, "");
	assert_sz(&op->value, RT_SZ, "empty name");
	op = &rf.ops[rf.n - 1];
	assert_int_equal(op->kind, RF_DELETE_VALUE);
	assert_string_equal(op->value.name, "");
	assert_int_equal(op->line, 22);
	regfile_release(&rf);
}

static void test_line_ends(void **state)
{
	/* LF only, a lone CR, CR CR LF, trailing blanks on the header, no final line end */
	const char *text = "Windows Registry Editor Version 5.00  \n"
		"\n"
		"[HKEY_CURRENT_USER\\A]\r"
		"\"a\"=dword:1\r\r\n"
		"\"b\"=hex:01,\\\n"
		"02";
	static const uint8_t b[] = { 1, 2 };
	struct regfile rf;

	(void)state;
	parse_text(text, &rf);
	assert_int_equal(rf.n, 3);
	assert_int_equal(rf.ops[0].line, 3);
	assert_int_equal(rf.ops[1].line, 4);
	assert_int_equal(rf.ops[2].line, 6);
	assert_bytes(&rf.ops[2].value, RT_BINARY, b, sizeof(b));
	regfile_release(&rf);

	parse_text("REGEDIT4", &rf);
	assert_int_equal(rf.n, 0);
	assert_int_equal(rf.regedit4, 1);
	regfile_release(&rf);
}

static void test_key_limits(void **state)
{
	struct sbuf text;
	struct regfile rf;

	(void)state;
	sbuf_init(&text);
	sbuf_addstr(&text, HDR "[");
	for (int i = 0; i < 32767; i++)
		sbuf_addch(&text, 'k');
	sbuf_addstr(&text, "]\r\n");
	parse_ok(text.buf, text.len, &rf);
	assert_int_equal(strlen(rf.ops[0].key), 32767);
	regfile_release(&rf);

	sbuf_reset(&text);
	sbuf_addstr(&text, HDR "[");
	for (int i = 0; i < 32768; i++)
		sbuf_addch(&text, 'k');
	sbuf_addstr(&text, "]\r\n");
	assert_refused_buf(text.buf, text.len, 2, "longer than 32767");

	/* a ']' inside the name is kept: the last one closes the key, as in regedit */
	parse_text(HDR "[HKEY_CURRENT_USER\\a]b]\r\n", &rf);
	assert_string_equal(rf.ops[0].key, "HKEY_CURRENT_USER\\a]b");
	regfile_release(&rf);
	sbuf_release(&text);
}

/* ---- refusals ---- */

static void test_bad_header(void **state)
{
	(void)state;
	assert_refused("[HKEY_CURRENT_USER\\X]\r\n", 1, "not a .reg file");
	assert_refused("\r\n  \r\nREGEDIT5\r\n", 3, "not a .reg file");
	assert_refused("; comment\r\n" HDR, 1, "not a .reg file");
	assert_refused("", 1, "no 'Windows Registry Editor Version 5.00' or 'REGEDIT4' header");
	assert_refused("\n\n", 2, "not a .reg file");
	assert_refused(" REGEDIT4\r\n", 1, "not a .reg file");
}

static void test_bad_lines(void **state)
{
	(void)state;
	assert_refused(HDR "\r\n\"a\"=dword:1\r\n", 3, "value line before any [KEY]");
	assert_refused(HDR "[-HKEY_CURRENT_USER\\X]\r\n@=\"v\"\r\n", 3, "[-KEY] deletion section");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\r\n\"a\"=dword:123456789\r\n", 4, "1 to 8 hex digits");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\r\n\"a\"=dword:xyz\r\n", 4, "1 to 8 hex digits");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=dword:\r\n", 3, "1 to 8 hex digits");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=dword:1 2\r\n", 3, "1 to 8 hex digits");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\r\n\"a\"=hex:01,0g\r\n", 4, "bad hex byte");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:01,\\\r\n  02,\\\r\n  zz\r\n", 5,
		       "expected hex bytes");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:01,\\\r\n  02,1\r\n", 4, "bad hex byte");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:01 02\r\n", 3, "expected ','");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:123\r\n", 3, "expected ','");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:01,\\\r\n", 3, "past the end of the file");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:01,\\\r\n\r\n\"b\"=hex:02\r\n", 4,
		       "expected hex bytes");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:01,\\ x\r\n", 3, "after '\\'");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex(2:00\r\n", 3, "hex(N)");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex():00\r\n", 3, "hex(N)");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex(100000000):00\r\n", 3, "hex(N)");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex 00\r\n", 3, "expected ':'");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\r\n\"a\"=\"abc\r\n", 4, "unterminated string");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=\"abc\\\"\r\n", 3, "unterminated string");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"abc=dword:1\r\n", 3, "unterminated value name");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=\"C:\\Temp\"\r\n", 3, "unknown escape");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\\n\"=\"x\"\r\n", 3, "unknown escape in value name");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=\"x\" y\r\n", 3, "after the closing");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\" \"x\"\r\n", 3, "expected '='");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=-1\r\n", 3, "after '-'");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=DWORD:1\r\n", 3, "unrecognised value data");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=\r\n", 3, "unrecognised value data");
	assert_refused(HDR "\r\n[HKEY_CURRENT_USER\\X\r\n", 3, "missing ']'");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X] x\r\n", 2, "after ']'");
	assert_refused(HDR "[]\r\n", 2, "empty key name");
	assert_refused(HDR "[-]\r\n", 2, "empty key name");
	assert_refused(HDR "\r\n-[HKEY_CURRENT_USER\\X]\r\n", 3, "[-KEY], not -[KEY]");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n# not a comment\r\n", 3, "unrecognised line");
	assert_refused(HDR "[HKEY_CURRENT_USER\\X]\r\n" HDR, 3, "unrecognised line");
}

static void test_bad_encoding(void **state)
{
	static const char nul[] = HDR "\r\n[HKEY_\0CURRENT_USER]\r\n";
	static const char bad_utf8[] = "\xEF\xBB\xBF" HDR "\r\n[HKEY_CURRENT_USER\\\xC3]\r\n";
	static const char bom_nul[] = "\xEF\xBB\xBF" HDR "\0";
	const char *text = HDR "\r\n[HKEY_CURRENT_USER\\X]";
	struct sbuf u16;

	(void)state;
	assert_refused_buf(nul, sizeof(nul) - 1, 3, "NUL byte in a file without a UTF-16 byte order mark");
	assert_refused_buf(bad_utf8, sizeof(bad_utf8) - 1, 3, "invalid UTF-8");
	assert_refused_buf(bom_nul, sizeof(bom_nul) - 1, 2, "NUL byte");

	sbuf_init(&u16);
	to_utf16(text, strlen(text), &u16);
	/* truncated: an odd byte count */
	assert_refused_buf(u16.buf, u16.len - 1, 3, "odd number of bytes");
	/* UTF-16 that lost its BOM is full of NULs */
	assert_refused_buf(u16.buf + 2, u16.len - 2, 1, "NUL byte");
	/* big-endian */
	assert_refused_buf("\xFE\xFF\0W", 4, 1, "big-endian");
	/* an unpaired surrogate on line 2 and a NUL character on line 3 */
	sbuf_reset(&u16);
	to_utf16(HDR "[", strlen(HDR "["), &u16);
	sbuf_add(&u16, "\x00\xD8" "]\0", 4);
	assert_refused_buf(u16.buf, u16.len, 2, "unpaired surrogate");
	sbuf_reset(&u16);
	to_utf16(HDR "\r\n[", strlen(HDR "\r\n["), &u16);
	sbuf_add(&u16, "\0\0]\0", 4);
	assert_refused_buf(u16.buf, u16.len, 3, "NUL character");
	sbuf_release(&u16);
}

static void test_caps(void **state)
{
	struct gt_error e = { 0 };
	struct regfile rf = { 0 };
	struct sbuf text;
	uint8_t *huge;

	(void)state;
	/* the size cap is checked before any byte is read */
	huge = calloc(64u * 1024 * 1024 + 1, 1);
	assert_non_null(huge);
	assert_int_equal(regfile_parse(huge, 64u * 1024 * 1024 + 1, "t.reg", &rf, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_string_equal(e.msg, "'t.reg': over 64 MiB, too large for a .reg file");
	free(huge);

	/* a value one byte over REG_VALUE_MAX_BYTES, spread over continuation lines */
	sbuf_init(&text);
	sbuf_addstr(&text, HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:");
	for (unsigned i = 0; i <= REG_VALUE_MAX_BYTES; i++)
		sbuf_addstr(&text, i % 25 == 24 ? "00,\\\r\n  " : "00,");
	sbuf_addstr(&text, "00\r\n");
	assert_refused_buf(text.buf, text.len, 3 + REG_VALUE_MAX_BYTES / 25, "value data over");

	/* exactly at the cap is fine */
	sbuf_reset(&text);
	sbuf_addstr(&text, HDR "[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex:00");
	for (unsigned i = 1; i < REG_VALUE_MAX_BYTES; i++)
		sbuf_addstr(&text, ",00");
	sbuf_addstr(&text, "\r\n");
	parse_ok(text.buf, text.len, &rf);
	assert_int_equal(rf.ops[1].value.len, REG_VALUE_MAX_BYTES);
	regfile_release(&rf);

	/* REGEDIT4 strings double in size when widened */
	sbuf_reset(&text);
	sbuf_addstr(&text, "REGEDIT4\r\n[HKEY_CURRENT_USER\\X]\r\n\"a\"=hex(2):41");
	for (unsigned i = 1; i < REG_VALUE_MAX_BYTES / 2 + 1; i++)
		sbuf_addstr(&text, ",41");
	sbuf_addstr(&text, "\r\n");
	assert_refused_buf(text.buf, text.len, 3, "value data over");

	/* one operation too many: the key plus 1,000,000 values */
	sbuf_reset(&text);
	sbuf_addstr(&text, HDR "[HKEY_CURRENT_USER\\X]\n");
	for (unsigned i = 0; i < 1000000; i++)
		sbuf_addstr(&text, "@=-\n");
	assert_refused_buf(text.buf, text.len, 2 + 1000000, "more than 1000000");
	sbuf_release(&text);
}

/* Every prefix and many single-byte changes of a small file: each must parse or be
 * refused cleanly (ASan/UBSan catch the rest). */
static void parse_mangled(const uint8_t *src, size_t len)
{
	struct gt_error e = { 0 };
	struct regfile rf = { 0 };
	/* an exact-size heap copy lets ASan see any read past the end */
	uint8_t *copy = xmemdup(src, len);

	if (regfile_parse(copy, len, "f.reg", &rf, &e) == 0) {
		regfile_release(&rf);
	} else {
		assert_int_equal(e.code, GT_REFUSED);
		assert_memory_equal(e.msg, "'f.reg' line ", 13);
	}
	free(copy);
}

static void test_mangled_inputs(void **state)
{
	const char *text = HDR "\r\n[HKEY_LOCAL_MACHINE\\S]\r\n@=\"d\\\\\"\r\n"
		"\"a\"=hex(7):61,00,00,00,\\\r\n  00,00\r\n\"b\"=dword:1\r\n\"c\"=-\r\n[-X]\r\n";
	static const uint8_t repl[] = { 0, '\r', '\n', '\\', '"', '[', ']', ',', ':', '-', 0x80, 0xC3 };
	size_t len = strlen(text);
	uint8_t *buf = xmemdup(text, len);
	struct sbuf u16;

	(void)state;
	sbuf_init(&u16);
	to_utf16(text, len, &u16);
	for (size_t cut = 0; cut <= len; cut++)
		parse_mangled((const uint8_t *)text, cut);
	for (size_t cut = 0; cut <= u16.len; cut++)
		parse_mangled((const uint8_t *)u16.buf, cut);
	for (size_t i = 0; i < len; i++) {
		for (size_t r = 0; r < sizeof(repl); r++) {
			buf[i] = repl[r];
			parse_mangled(buf, len);
		}
		buf[i] = (uint8_t)text[i];
	}
	free(buf);
	sbuf_release(&u16);
}

/* ---- the writer ---- */

static void set_value(struct reg_value *v, const char *name, uint32_t type, const void *data,
		      size_t len)
{
	reg_value_init(v);
	v->name = xstrdup(name);
	v->type = type;
	v->data = xmemdup(data ? data : "", len);
	v->len = len;
}

static void set_text(struct reg_value *v, const char *name, uint32_t type, const char *text)
{
	struct gt_error e = { 0 };

	reg_value_init(v);
	v->name = xstrdup(name);
	assert_int_equal(reg_value_from_text(type, text, v, &e), 0);
}

static void test_writer_layout(void **state)
{
	struct reg_value v;
	struct sbuf out;
	uint8_t bytes[40];

	(void)state;
	sbuf_init(&out);
	regfile_write_header(&out);
	regfile_write_key("HKEY_CURRENT_USER\\X", &out);
	set_text(&v, "a", RT_DWORD, "1");
	regfile_write_value(&v, &out);
	reg_value_release(&v);
	set_text(&v, "", RT_SZ, "q\"\\");
	regfile_write_value(&v, &out);
	reg_value_release(&v);
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	set_value(&v, "FailureActions", RT_BINARY, bytes, sizeof(bytes));
	regfile_write_value(&v, &out);
	reg_value_release(&v);
	assert_string_equal(out.buf,
		"Windows Registry Editor Version 5.00\r\n"
		"\r\n[HKEY_CURRENT_USER\\X]\r\n"
		"\"a\"=dword:00000001\r\n"
		"@=\"q\\\"\\\\\"\r\n"
		"\"FailureActions\"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,\\\r\n"
		"  13,14,15,16,17,18,19,1a,1b,1c,1d,1e,1f,20,21,22,23,24,25,26,27\r\n");

	/* a string with a line break cannot be quoted: it goes out as hex(1) */
	sbuf_reset(&out);
	set_text(&v, "nl", RT_SZ, "a\r\nb");
	regfile_write_value(&v, &out);
	reg_value_release(&v);
	assert_string_equal(out.buf, "\"nl\"=hex(1):61,00,0d,00,0a,00,62,00,00,00\r\n");
	sbuf_release(&out);
}

static void test_writer_round_trip(void **state)
{
	static const uint8_t multi[] = { 'a', 0, 0, 0, 'b', 0, 'c', 0, 0, 0, 0, 0 };
	static const uint8_t odd[] = { 1, 2, 3 };
	static const uint8_t lone[] = { 'x', 0, 0x00, 0xD8, 0, 0 };
	struct reg_value vals[14];
	uint8_t bin[300];
	char longname[120];
	size_t nv = 0;
	struct sbuf text, file;
	struct gt_error e = { 0 };
	struct regfile rf;

	(void)state;
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	memset(longname, 'N', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	set_text(&vals[nv++], "plain", RT_SZ, "hello");
	set_text(&vals[nv++], "we\"ird\\name", RT_SZ, "C:\\Path \"q\"");
	set_text(&vals[nv++], "", RT_SZ, "");
	set_text(&vals[nv++], "ünï €", RT_SZ, "Grüße € 𝄞");
	set_text(&vals[nv++], "dw", RT_DWORD, "0xdeadbeef");
	set_text(&vals[nv++], "qw", RT_QWORD, "0x0102030405060708");
	set_value(&vals[nv++], "bin", RT_BINARY, bin, sizeof(bin));
	set_value(&vals[nv++], "multi", RT_MULTI_SZ, multi, sizeof(multi));
	set_text(&vals[nv++], "exp", RT_EXPAND_SZ, "%SystemRoot%\\x");
	set_text(&vals[nv++], "nl", RT_SZ, "line1\r\nline2");
	set_value(&vals[nv++], "none", RT_NONE, NULL, 0);
	set_value(&vals[nv++], longname, RT_BINARY, bin, 50);
	set_value(&vals[nv++], "custom", 0x12345678, odd, sizeof(odd));
	set_value(&vals[nv++], "lone", RT_SZ, lone, sizeof(lone));

	sbuf_init(&text);
	regfile_write_header(&text);
	regfile_write_key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Test", &text);
	for (size_t i = 0; i < nv - 1; i++)
		regfile_write_value(&vals[i], &text);
	regfile_write_key("HKEY_CURRENT_USER\\Ü", &text);
	regfile_write_value(&vals[nv - 1], &text);

	/* continuation lines stay within regedit's 80 columns */
	for (const char *l = text.buf; (l = strstr(l, "\r\n  ")); l += 2) {
		const char *end = strstr(l + 2, "\r\n");

		assert_non_null(end);
		assert_true(end - (l + 2) <= 80);
	}

	for (int enc = 0; enc < 2; enc++) {
		sbuf_init(&file);
		assert_int_equal(regfile_encode(text.buf, text.len, enc ? RF_UTF8 : RF_UTF16LE, &file, &e), 0);
		if (enc == 0) {
			assert_memory_equal(file.buf, "\xFF\xFE" "W\0i\0", 6);
		} else {
			assert_int_equal(file.len, text.len);
			assert_memory_equal(file.buf, text.buf, text.len);
		}
		parse_ok(file.buf, file.len, &rf);
		assert_int_equal(rf.n, nv + 2);
		assert_int_equal(rf.ops[0].kind, RF_KEY);
		assert_string_equal(rf.ops[0].key, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Test");
		assert_int_equal(rf.ops[nv].kind, RF_KEY);
		assert_string_equal(rf.ops[nv].key, "HKEY_CURRENT_USER\\Ü");
		for (size_t i = 0; i < nv; i++) {
			const struct regfile_op *op = &rf.ops[i < nv - 1 ? i + 1 : nv + 1];

			assert_int_equal(op->kind, RF_SET_VALUE);
			assert_string_equal(op->value.name, vals[i].name);
			if (!reg_value_equal_data(&op->value, &vals[i]))
				fail_msg("value '%s' changed in the round trip", vals[i].name);
		}
		regfile_release(&rf);
		sbuf_release(&file);
	}
	for (size_t i = 0; i < nv; i++)
		reg_value_release(&vals[i]);
	sbuf_release(&text);
}

static void test_encode_invalid(void **state)
{
	struct gt_error e = { 0 };
	struct sbuf out;

	(void)state;
	sbuf_init(&out);
	sbuf_addstr(&out, "keep");
	assert_int_equal(regfile_encode("ab\xC3(", 4, RF_UTF16LE, &out, &e), -1);
	assert_int_equal(e.code, GT_FAILED);
	assert_string_equal(out.buf, "keep");
	gt_error_clear(&e);
	assert_int_equal(regfile_encode("\xED\xA0\x80", 3, RF_UTF8, &out, &e), -1);
	assert_int_equal(e.code, GT_FAILED);
	assert_int_equal(out.len, 4);
	sbuf_release(&out);
}

/* ---- the shared corpus ---- */

static const char *corpus_dir(void)
{
	const char *dir = getenv("GT_REG_CORPUS");

	return dir && *dir ? dir : "../shared/corpus/reg";
}

/* Reads DIR/name into a heap buffer of exactly its size; skips the test when absent. */
static uint8_t *load_corpus(const char *name, size_t *len)
{
	char path[4096];
	uint8_t *buf;
	FILE *f;
	long size;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir(), name);
	f = fopen(path, "rb");
	if (!f) {
		print_message("corpus file %s not found (%s): skipped\n", path, strerror(errno));
		skip();
	}
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	buf = malloc(size ? (size_t)size : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void parse_corpus(const char *name, struct regfile *rf, uint8_t **buf, size_t *len)
{
	struct gt_error e = { 0 };

	*buf = load_corpus(name, len);
	if (regfile_parse(*buf, *len, name, rf, &e) != 0)
		fail_msg("%s", e.msg);
}

/* The file writes "-[KEY]" (twice), which regedit silently ignores instead of deleting
 * the key; it is refused. Written properly as "[-KEY]" it parses. */
static void test_corpus_bean6754_ncsi(void **state)
{
	const char *name = "bean6754_ncsi.reg";
	struct gt_error e = { 0 };
	struct regfile rf = { 0 };
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = load_corpus(name, &len);
	assert_int_equal(regfile_parse(buf, len, name, &rf, &e), -1);
	assert_int_equal(e.code, GT_REFUSED);
	assert_memory_equal(e.msg, "'bean6754_ncsi.reg' line 4: ", 28);
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == '-' && buf[i + 1] == '[') {
			buf[i] = '[';
			buf[i + 1] = '-';
		}
	}
	gt_error_clear(&e);
	assert_int_equal(regfile_parse(buf, len, name, &rf, &e), 0);
	assert_int_equal(count_kind(&rf, RF_DELETE_KEY), 2);
	assert_int_equal(count_kind(&rf, RF_KEY), 8);
	assert_int_equal(count_kind(&rf, RF_SET_VALUE), 38);
	assert_int_equal(rf.ops[0].line, 4);
	assert_sz(&find_value(&rf, "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\NlaSvc",
			      "ImagePath")->value, RT_EXPAND_SZ,
		  "%SystemRoot%\\System32\\svchost.exe -k NetworkService -p");
	assert_int_equal(find_value(&rf, "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\NlaSvc",
				    "DependOnService")->value.type, RT_MULTI_SZ);
	regfile_release(&rf);
	free(buf);
}

/* LF line ends (a git checkout), one 3800-byte binary value; the writer reproduces it. */
static void test_corpus_detectionlab(void **state)
{
	const char *key = "HKEY_CURRENT_USER\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\TaskManager";
	struct regfile rf;
	struct sbuf out, lf;
	uint8_t *buf;
	size_t len;

	(void)state;
	parse_corpus("detectionlab_TaskManager.reg", &rf, &buf, &len);
	assert_int_equal(rf.n, 2);
	assert_int_equal(rf.ops[1].value.type, RT_BINARY);
	assert_int_equal(rf.ops[1].value.len, 3800);
	assert_string_equal(rf.ops[1].key, key);

	sbuf_init(&out);
	regfile_write_header(&out);
	regfile_write_key(key, &out);
	regfile_write_value(&rf.ops[1].value, &out);
	sbuf_init(&lf);
	for (size_t i = 0; i < out.len; i++)
		if (out.buf[i] != '\r')
			sbuf_addch(&lf, out.buf[i]);
	assert_true(lf.len <= len);
	assert_memory_equal(buf, lf.buf, lf.len);
	sbuf_release(&lf);
	sbuf_release(&out);
	regfile_release(&rf);
	free(buf);
}

/* Writes every op of rf back and checks the encoded result starts the original file. */
static void assert_rewrites_to(const struct regfile *rf, const uint8_t *buf, size_t len)
{
	struct gt_error e = { 0 };
	struct sbuf text, file;

	sbuf_init(&text);
	sbuf_init(&file);
	regfile_write_header(&text);
	for (size_t i = 0; i < rf->n; i++) {
		if (rf->ops[i].kind == RF_KEY)
			regfile_write_key(rf->ops[i].key, &text);
		else
			regfile_write_value(&rf->ops[i].value, &text);
	}
	assert_int_equal(regfile_encode(text.buf, text.len, RF_UTF16LE, &file, &e), 0);
	assert_true(file.len <= len);
	assert_memory_equal(buf, file.buf, file.len);
	sbuf_release(&file);
	sbuf_release(&text);
}

static void test_corpus_esysc_startmenu(void **state)
{
	struct regfile rf;
	uint8_t *buf;
	size_t len;

	(void)state;
	parse_corpus("esysc_startmenu.reg", &rf, &buf, &len);
	assert_int_equal(rf.n, 3);
	assert_int_equal(dword_of(&rf.ops[1].value), 1);
	assert_string_equal(rf.ops[2].value.name, "StartLayoutFile");
	assert_sz(&rf.ops[2].value, RT_EXPAND_SZ,
		  "C:\\Users\\Default\\AppData\\Local\\Microsoft\\Windows\\Shell\\LayoutModification.xml");
	assert_rewrites_to(&rf, buf, len);
	regfile_release(&rf);
	free(buf);
}

/* "ExecTime" is hex(b) but 16 bytes long (a SYSTEMTIME, not a QWORD): the parser keeps
 * the type number and the bytes exactly as written. */
static void test_corpus_esysc_startup_gpo(void **state)
{
	static const uint8_t zero[16] = { 0 };
	size_t qwords = 0;
	struct regfile rf;
	uint8_t *buf;
	size_t len;

	(void)state;
	parse_corpus("esysc_startupGpo.reg", &rf, &buf, &len);
	assert_int_equal(count_kind(&rf, RF_KEY), 12);
	assert_int_equal(count_kind(&rf, RF_SET_VALUE), 52);
	for (size_t i = 0; i < rf.n; i++) {
		if (rf.ops[i].kind == RF_SET_VALUE && rf.ops[i].value.type == RT_QWORD) {
			assert_string_equal(rf.ops[i].value.name, "ExecTime");
			assert_bytes(&rf.ops[i].value, RT_QWORD, zero, 16);
			qwords++;
		}
	}
	assert_int_equal(qwords, 8);
	assert_sz(&find_value(&rf, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\Scripts\\Startup\\0",
			      "FileSysPath")->value, RT_SZ, "C:\\Windows\\System32\\GroupPolicy\\Machine");
	assert_rewrites_to(&rf, buf, len);
	regfile_release(&rf);
	free(buf);
}

/* UTF-16 with comments, commented-out keys, and two lines that end in LF alone. */
static void test_corpus_kristiandupont(void **state)
{
	struct regfile rf;
	uint8_t *buf;
	size_t len;
	const struct regfile_op *op;

	(void)state;
	parse_corpus("kristiandupont_settings.reg", &rf, &buf, &len);
	/* four keys, four values: the DWM key and value are commented out */
	assert_int_equal(rf.n, 8);
	assert_int_equal(count_kind(&rf, RF_KEY), 4);
	for (size_t i = 0; i < rf.n; i++)
		if (rf.ops[i].kind == RF_SET_VALUE)
			assert_int_equal(rf.ops[i].value.type, RT_DWORD);
	op = find_value(&rf, "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced",
			"HideFileExt");
	assert_int_equal(op->line, 16);
	assert_int_equal(dword_of(&op->value), 0);
	assert_int_equal(dword_of(&find_value(&rf, "HKEY_CURRENT_USER\\Software\\Apple Inc.\\Trackpad",
					      "Mode")->value), 0x48);
	regfile_release(&rf);
	free(buf);
}

static void test_corpus_vadmium_putty(void **state)
{
	const char *key = "HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY\\Sessions\\Default%20Settings";
	size_t dwords = 0, strings = 0;
	struct regfile rf;
	uint8_t *buf;
	size_t len;

	(void)state;
	parse_corpus("vadmium_putty_REGEDIT4.reg", &rf, &buf, &len);
	assert_int_equal(rf.regedit4, 1);
	for (size_t i = 0; i < rf.n; i++) {
		dwords += rf.ops[i].kind == RF_SET_VALUE && rf.ops[i].value.type == RT_DWORD;
		strings += rf.ops[i].kind == RF_SET_VALUE && rf.ops[i].value.type == RT_SZ;
	}
	assert_int_equal(dwords, 12);
	assert_int_equal(strings, 3);
	assert_int_equal(dword_of(&find_value(&rf, key, "ScrollbackLines")->value), 5000);
	assert_sz(&find_value(&rf, key, "Font")->value, RT_SZ, "DejaVu Sans Mono");
	regfile_release(&rf);
	free(buf);
}

/* How many .reg files the corpus lists ("| reg/NAME.reg |" rows of MANIFEST.md beside the
 * folder); -1 when there is no such list. */
static long manifest_reg_count(void)
{
	char path[4096], line[8192];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/../MANIFEST.md", corpus_dir());
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *end;

		if (strncmp(line, "| reg/", 6) != 0 || !(end = strstr(line + 6, " |")))
			continue;
		n += end - line >= 10 && memcmp(end - 4, ".reg", 4) == 0 && !memchr(line + 6, '/', (size_t)(end - line - 6));
	}
	fclose(f);
	return n;
}

/* Every .reg file there, known or not (a held-out set may sit in its place): each parses,
 * or is refused with a message naming the file and the line. A loop that saw no file, or
 * fewer than the corpus lists, would pass without checking anything: it must see them all. */
static void test_corpus_all(void **state)
{
	DIR *dir = opendir(corpus_dir());
	struct dirent *de;
	size_t seen = 0;
	long listed;

	(void)state;
	if (!dir) {
		print_message("corpus %s not found (%s): skipped\n", corpus_dir(), strerror(errno));
		skip();
	}
	while ((de = readdir(dir))) {
		struct gt_error e = { 0 };
		struct regfile rf = { 0 };
		size_t n = strlen(de->d_name), len;
		char prefix[300];
		uint8_t *buf;

		if (n < 4 || strcmp(de->d_name + n - 4, ".reg") != 0)
			continue;
		buf = load_corpus(de->d_name, &len);
		if (regfile_parse(buf, len, de->d_name, &rf, &e) == 0) {
			assert_true(rf.n > 0);
			regfile_release(&rf);
		} else {
			print_message("%s\n", e.msg);
			assert_int_equal(e.code, GT_REFUSED);
			snprintf(prefix, sizeof(prefix), "'%s' line ", de->d_name);
			assert_memory_equal(e.msg, prefix, strlen(prefix));
		}
		free(buf);
		seen++;
	}
	closedir(dir);
	print_message("%zu .reg files checked\n", seen);
	listed = manifest_reg_count();
	if (listed >= 0)
		assert_int_equal(seen, (size_t)listed);
	assert_true(seen > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf16_bom_crlf),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_ansi),
		cmocka_unit_test(test_regedit4_ansi_strings),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_key_limits),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_bad_encoding),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_mangled_inputs),
		cmocka_unit_test(test_writer_layout),
		cmocka_unit_test(test_writer_round_trip),
		cmocka_unit_test(test_encode_invalid),
		cmocka_unit_test(test_corpus_bean6754_ncsi),
		cmocka_unit_test(test_corpus_detectionlab),
		cmocka_unit_test(test_corpus_esysc_startmenu),
		cmocka_unit_test(test_corpus_esysc_startup_gpo),
		cmocka_unit_test(test_corpus_kristiandupont),
		cmocka_unit_test(test_corpus_vadmium_putty),
		cmocka_unit_test(test_corpus_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
