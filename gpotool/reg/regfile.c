/* .reg files: decode whatever encoding regedit (or a text editor) left, parse it line by
 * line into key and value operations, and write values back in regedit's own layout.
 * Every read is bounded by the buffer end and every refusal names the line. */
#include "reg/regfile.h"
#include "core/textesc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RF_MAX_FILE_BYTES (64u * 1024u * 1024u)
#define RF_MAX_OPS 1000000u
#define RF_MAX_KEY_CHARS 32767u /* Windows limit on a key path, in UTF-16 units */

static const char header5[] = "Windows Registry Editor Version 5.00";
static const char header4[] = "REGEDIT4";

/* ---- small text helpers ---- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

static const char *trim_blanks_end(const char *start, const char *end)
{
	while (end > start && is_blank(end[-1]))
		end--;
	return end;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the valid UTF-8 character at p, 0 if there is none (regvalue.c decodes). */
static size_t utf8_seq_len(const uint8_t *p, size_t len)
{
	uint32_t cp;

	return utf8_decode_one(p, len, &cp);
}

/* Offset of the first byte that is not valid UTF-8, or len when all of it is. */
static size_t utf8_invalid_at(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq_len(p + i, len - i);

		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

/* Windows counts name lengths in UTF-16 units; s is valid UTF-8. */
static size_t utf16_units(const char *s, size_t n)
{
	size_t units = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = (uint8_t)s[i];

		if ((b & 0xC0) != 0x80)
			units += b >= 0xF0 ? 2 : 1;
	}
	return units;
}

static void put_u16le(struct sbuf *out, uint32_t u)
{
	char b[2] = { (char)(u & 0xFF), (char)(u >> 8) };

	sbuf_add(out, b, 2);
}

/* Windows-1252 differs from Latin-1 only in 0x80-0x9F; the five bytes it leaves
 * undefined map to the same code point, as MultiByteToWideChar does. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* "ANSI" bytes to UTF-16LE, one character per byte. */
static void ansi_to_utf16le(const uint8_t *p, size_t n, struct sbuf *out)
{
	for (size_t i = 0; i < n; i++)
		put_u16le(out, p[i] >= 0x80 && p[i] <= 0x9F ? cp1252_high[p[i] - 0x80] : p[i]);
}

/* ---- errors ---- */

static int refuse(struct gt_error *e, const char *name, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(struct gt_error *e, const char *name, unsigned line, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return gt_fail(e, GT_REFUSED, "'%s' line %u: %s", name, line, reason);
}

/* 1-based line holding byte offset off, counting line ends exactly as next_line() does
 * (LF, CRLF, lone CR) so decoding errors and parse errors agree. step is 1 for 8-bit
 * text, 2 for UTF-16LE units. */
static unsigned line_at(const uint8_t *p, size_t off, size_t step)
{
	unsigned line = 1;
	int after_cr = 0;

	for (size_t i = 0; i + step <= off; i += step) {
		int c = (step == 2 && p[i + 1]) ? -1 : p[i];

		if (c == '\r' || (c == '\n' && !after_cr))
			line++;
		after_cr = c == '\r';
	}
	return line;
}

/* ---- decoding to UTF-8 ---- */

static int decode_utf16le(const uint8_t *p, size_t len, const char *name, struct sbuf *text,
			  struct gt_error *e)
{
	size_t units = len / 2;

	/* check before converting: utf16le_to_utf8 would quietly turn these into U+FFFD */
	for (size_t i = 0; i < units; i++) {
		uint32_t u = (uint32_t)p[2 * i] | ((uint32_t)p[2 * i + 1] << 8);

		if (u == 0)
			return refuse(e, name, line_at(p, 2 * i, 2), "NUL character in the text");
		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
			uint32_t lo = (uint32_t)p[2 * i + 2] | ((uint32_t)p[2 * i + 3] << 8);

			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				i++;
				continue;
			}
		}
		if (u >= 0xD800 && u <= 0xDFFF)
			return refuse(e, name, line_at(p, 2 * i, 2), "invalid UTF-16 (unpaired surrogate)");
	}
	if (len % 2)
		return refuse(e, name, line_at(p, len - 1, 2),
			      "UTF-16 text with an odd number of bytes (truncated file?)");
	utf16le_to_utf8(p, len, text);
	return 0;
}

static void decode_ansi(const uint8_t *p, size_t len, struct sbuf *text)
{
	struct sbuf u16;

	sbuf_init(&u16);
	ansi_to_utf16le(p, len, &u16);
	utf16le_to_utf8((const uint8_t *)u16.buf, u16.len, text);
	sbuf_release(&u16);
}

static int decode_8bit(const uint8_t *p, size_t len, int utf8_bom, const char *name,
		       struct sbuf *text, struct gt_error *e)
{
	const uint8_t *nul = len ? memchr(p, 0, len) : NULL;
	size_t bad;

	/* NULs mean UTF-16 without its BOM, or not text at all: either way not a .reg file */
	if (nul)
		return refuse(e, name, line_at(p, (size_t)(nul - p), 1),
			      utf8_bom ? "NUL byte in the text" :
			      "NUL byte in a file without a UTF-16 byte order mark (FF FE)");
	bad = utf8_invalid_at(p, len);
	if (bad == len) {
		sbuf_add(text, p, len);
		return 0;
	}
	if (utf8_bom)
		return refuse(e, name, line_at(p, bad, 1), "invalid UTF-8 after a UTF-8 byte order mark");
	/* no BOM and not UTF-8: what Notepad calls ANSI, i.e. Windows-1252 here */
	decode_ansi(p, len, text);
	return 0;
}

static int decode_text(const uint8_t *buf, size_t len, const char *name, struct sbuf *text,
		       struct gt_error *e)
{
	if (len >= 2 && buf[0] == 0xFF && buf[1] == 0xFE)
		return decode_utf16le(buf + 2, len - 2, name, text, e);
	if (len >= 2 && buf[0] == 0xFE && buf[1] == 0xFF)
		return refuse(e, name, 1, "UTF-16 big-endian text is not supported (regedit writes UTF-16LE)");
	if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
		return decode_8bit(buf + 3, len - 3, 1, name, text, e);
	return decode_8bit(buf, len, 0, name, text, e);
}

/* ---- the parser ---- */

struct parser {
	const char *name;        /* file name for messages */
	const char *pos, *end;   /* unread UTF-8 text */
	unsigned line;           /* number of the line last returned by next_line */
	struct regfile rf;       /* being built; handed to the caller only on success */
	size_t cap;              /* allocated entries in rf.ops */
	char *section;           /* key of the open [KEY] section (owned by its op), or NULL */
	int after_delete;        /* the last section header was [-KEY] */
	struct gt_error *e;
};

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parser *ps, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return refuse(ps->e, ps->name, ps->line, "%s", reason);
}

/* Returns the next line without its end (LF, CRLF or lone CR), or 0 at the end. Wine's
 * regedit also ends lines at a lone CR; it keeps CR out of names and data. */
static int next_line(struct parser *ps, const char **start, const char **stop)
{
	const char *p = ps->pos;

	if (p >= ps->end)
		return 0;
	*start = p;
	while (p < ps->end && *p != '\n' && *p != '\r')
		p++;
	*stop = p;
	if (p < ps->end) {
		if (*p == '\r' && p + 1 < ps->end && p[1] == '\n')
			p++;
		p++;
	}
	ps->pos = p;
	ps->line++;
	return 1;
}

static int parse_header(struct parser *ps)
{
	const char *s, *t;

	while (next_line(ps, &s, &t)) {
		size_t n;

		t = trim_blanks_end(s, t);
		if (s == t)
			continue;
		n = (size_t)(t - s);
		if (n == sizeof(header5) - 1 && memcmp(s, header5, n) == 0)
			return 0;
		if (n == sizeof(header4) - 1 && memcmp(s, header4, n) == 0) {
			ps->rf.regedit4 = 1;
			return 0;
		}
		break;
	}
	if (ps->line == 0)
		ps->line = 1;
	return perr(ps, "not a .reg file (no '%s' or '%s' header)", header5, header4);
}

/* The caller checked the op cap, so this cannot fail; the array takes over op's memory. */
static void push_op(struct parser *ps, const struct regfile_op *op)
{
	if (ps->rf.n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 64;
		ps->rf.ops = xrealloc(ps->rf.ops, ps->cap * sizeof(*ps->rf.ops));
	}
	ps->rf.ops[ps->rf.n++] = *op;
}

static int check_op_cap(struct parser *ps)
{
	if (ps->rf.n >= RF_MAX_OPS)
		return perr(ps, "more than %u keys and values in one file", RF_MAX_OPS);
	return 0;
}

/* [KEY] or [-KEY]. The last ']' closes it, as in regedit, so key names may hold ']'. */
static int parse_key(struct parser *ps, const char *s, const char *t)
{
	struct regfile_op op = { .kind = RF_KEY, .line = ps->line };
	const char *close = NULL;

	if (check_op_cap(ps) < 0)
		return -1;
	s++;
	if (s < t && *s == '-') {
		op.kind = RF_DELETE_KEY;
		s++;
	}
	for (const char *p = t; p > s; p--) {
		if (p[-1] == ']') {
			close = p - 1;
			break;
		}
	}
	if (!close)
		return perr(ps, "missing ']' at the end of the key");
	if (skip_blanks(close + 1, t) != t)
		return perr(ps, "unexpected text after ']'");
	if (close == s)
		return perr(ps, "empty key name");
	if (utf16_units(s, (size_t)(close - s)) > RF_MAX_KEY_CHARS)
		return perr(ps, "key name longer than %u characters", RF_MAX_KEY_CHARS);
	op.key = xmalloc((size_t)(close - s) + 1);
	memcpy(op.key, s, (size_t)(close - s));
	op.key[close - s] = '\0';
	push_op(ps, &op);
	ps->section = op.kind == RF_KEY ? op.key : NULL;
	ps->after_delete = op.kind == RF_DELETE_KEY;
	return 0;
}

/* A "quoted" token with the only escapes regedit writes, \\ and \". Anything else after a
 * backslash is refused: a hand-written "C:\Temp" would otherwise import as something the
 * author did not mean. *sp is at the opening quote and ends past the closing one. */
static int parse_quoted(struct parser *ps, const char **sp, const char *t, const char *what,
			struct sbuf *out)
{
	const char *p = *sp + 1;

	for (;;) {
		if (p >= t)
			return perr(ps, "unterminated %s (no closing '\"')", what);
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (p + 1 >= t)
				return perr(ps, "unterminated %s (no closing '\"')", what);
			if (p[1] != '\\' && p[1] != '"')
				return perr(ps, "unknown escape in %s (only \\\\ and \\\" are allowed)", what);
			p++;
		}
		sbuf_addch(out, *p);
		p++;
	}
	*sp = p + 1;
	return 0;
}

/* Turns UTF-8 text into REG_SZ data: UTF-16LE plus the terminator Windows stores. */
static void string_data(const char *s, size_t n, struct reg_value *v)
{
	struct sbuf b;
	struct gt_error ignored = { 0 };

	sbuf_init(&b);
	/* the whole text was validated as UTF-8 while decoding, so this cannot fail */
	utf8_to_utf16le(s, n, &b, &ignored);
	sbuf_add(&b, "\0\0", 2);
	v->type = RT_SZ;
	v->data = (uint8_t *)sbuf_detach(&b, &v->len);
	sbuf_release(&b);
}

static int expect_line_end(struct parser *ps, const char *p, const char *t, const char *after)
{
	if (skip_blanks(p, t) != t)
		return perr(ps, "unexpected text after %s", after);
	return 0;
}

static int parse_dword(struct parser *ps, const char *p, const char *t, struct sbuf *data)
{
	uint32_t n = 0;
	int digits = 0;

	while (p < t && hexval(*p) >= 0) {
		if (++digits > 8)
			break;
		n = n << 4 | (uint32_t)hexval(*p);
		p++;
	}
	if (digits == 0 || digits > 8 || skip_blanks(p, t) != t)
		return perr(ps, "dword data must be 1 to 8 hex digits and nothing else");
	for (int i = 0; i < 4; i++)
		sbuf_addch(data, (char)(n >> (8 * i)));
	return 0;
}

/* After "hex": ':' (REG_BINARY) or "(N):" with N the raw type number in hex. */
static int parse_hex_type(struct parser *ps, const char **sp, const char *t, uint32_t *type)
{
	const char *p = *sp;
	int digits = 0;

	*type = RT_BINARY;
	if (p < t && *p == '(') {
		p++;
		*type = 0;
		while (p < t && hexval(*p) >= 0 && digits < 9) {
			*type = *type << 4 | (uint32_t)hexval(*p);
			digits++;
			p++;
		}
		if (digits == 0 || digits > 8 || p >= t || *p != ')')
			return perr(ps, "bad type in hex(N): N must be 1 to 8 hex digits");
		p++;
	}
	if (p >= t || *p != ':')
		return perr(ps, "expected ':' after hex or hex(N)");
	*sp = p + 1;
	return 0;
}

/* Comma-separated byte pairs; a trailing '\' (after a comma, or right after the colon)
 * continues on the next line, whose leading blanks are skipped. A trailing comma at the
 * very end is accepted, as Wine's regedit does. */
static int parse_hex_list(struct parser *ps, const char *p, const char *t, struct sbuf *data)
{
	int after_byte = 0;

	for (;;) {
		int hi, lo;

		p = skip_blanks(p, t);
		if (p == t)
			return 0;
		if (after_byte) {
			if (*p != ',')
				return perr(ps, "expected ',' between hex bytes");
			p++;
			after_byte = 0;
			continue;
		}
		if (*p == '\\') {
			if (skip_blanks(p + 1, t) != t)
				return perr(ps, "unexpected text after '\\' in hex data");
			if (!next_line(ps, &p, &t))
				return perr(ps, "hex data continues ('\\') past the end of the file");
			p = skip_blanks(p, t);
			if (p == t || hexval(*p) < 0)
				return perr(ps, "expected hex bytes on a line continuing hex data");
			continue;
		}
		hi = hexval(*p);
		lo = p + 1 < t ? hexval(p[1]) : -1;
		if (hi < 0 || lo < 0)
			return perr(ps, "bad hex byte (expected two hex digits)");
		/* bound memory while reading, not only once the value is complete */
		if (data->len >= REG_VALUE_MAX_BYTES)
			return perr(ps, "value data over %u bytes", REG_VALUE_MAX_BYTES);
		sbuf_addch(data, (char)(hi << 4 | lo));
		p += 2;
		after_byte = 1;
	}
}

/* REGEDIT4 files hold string types as ANSI bytes; Windows stores them as UTF-16LE. */
static void regedit4_strings(struct reg_value *v, struct sbuf *data)
{
	struct sbuf wide;

	if (v->type != RT_SZ && v->type != RT_EXPAND_SZ && v->type != RT_MULTI_SZ)
		return;
	sbuf_init(&wide);
	ansi_to_utf16le((const uint8_t *)data->buf, data->len, &wide);
	sbuf_release(data);
	*data = wide;
}

/* DATA after '=': fills v (type, data) or sets *is_delete for "-". */
static int parse_data(struct parser *ps, const char *p, const char *t, struct reg_value *v,
		      int *is_delete)
{
	struct sbuf data;
	int ret;

	sbuf_init(&data);
	*is_delete = 0;
	if (p < t && *p == '"') {
		ret = parse_quoted(ps, &p, t, "string", &data);
		if (ret == 0)
			ret = expect_line_end(ps, p, t, "the closing '\"' of the string");
		if (ret == 0)
			string_data(data.buf, data.len, v);
		sbuf_release(&data);
		return ret;
	}
	if (p < t && *p == '-') {
		sbuf_release(&data);
		*is_delete = 1;
		return expect_line_end(ps, p + 1, t, "'-'");
	}
	if (t - p >= 6 && memcmp(p, "dword:", 6) == 0) {
		v->type = RT_DWORD;
		ret = parse_dword(ps, p + 6, t, &data);
	} else if (t - p >= 3 && memcmp(p, "hex", 3) == 0) {
		p += 3;
		ret = parse_hex_type(ps, &p, t, &v->type);
		if (ret == 0)
			ret = parse_hex_list(ps, p, t, &data);
		if (ret == 0 && ps->rf.regedit4)
			regedit4_strings(v, &data);
	} else {
		ret = perr(ps, "unrecognised value data (expected \"string\", dword:, hex:, hex(N): or -)");
	}
	if (ret == 0 && data.len > REG_VALUE_MAX_BYTES)
		ret = perr(ps, "value data over %u bytes", REG_VALUE_MAX_BYTES);
	if (ret == 0)
		v->data = (uint8_t *)sbuf_detach(&data, &v->len);
	sbuf_release(&data);
	return ret;
}

static int parse_value_name(struct parser *ps, const char **sp, const char *t, char **name)
{
	struct sbuf b;

	sbuf_init(&b);
	if (**sp == '@') {
		(*sp)++;
	} else if (parse_quoted(ps, sp, t, "value name", &b) < 0) {
		sbuf_release(&b);
		return -1;
	}
	if (utf16_units(b.buf, b.len) > REG_NAME_MAX_CHARS) {
		sbuf_release(&b);
		return perr(ps, "value name longer than %u characters", REG_NAME_MAX_CHARS);
	}
	*name = sbuf_detach(&b, NULL);
	sbuf_release(&b);
	return 0;
}

/* "name"=DATA or @=DATA, inside the current [KEY] section. */
static int parse_value(struct parser *ps, const char *s, const char *t)
{
	struct regfile_op op = { .kind = RF_SET_VALUE, .line = ps->line };
	int is_delete;

	if (check_op_cap(ps) < 0)
		return -1;
	if (!ps->section)
		return perr(ps, ps->after_delete ?
			    "value line in a [-KEY] deletion section (values need a [KEY] section)" :
			    "value line before any [KEY]");
	if (parse_value_name(ps, &s, t, &op.value.name) < 0)
		return -1;
	s = skip_blanks(s, t);
	if (s >= t || *s != '=') {
		reg_value_release(&op.value);
		return perr(ps, "expected '=' after the value name");
	}
	s = skip_blanks(s + 1, t);
	if (parse_data(ps, s, t, &op.value, &is_delete) < 0) {
		reg_value_release(&op.value);
		return -1;
	}
	if (is_delete)
		op.kind = RF_DELETE_VALUE;
	op.key = ps->section;
	push_op(ps, &op);
	return 0;
}

static int parse_lines(struct parser *ps)
{
	const char *s, *t;

	if (parse_header(ps) < 0)
		return -1;
	while (next_line(ps, &s, &t)) {
		int ret;

		s = skip_blanks(s, t);
		if (s == t || *s == ';')
			continue;
		if (*s == '[')
			ret = parse_key(ps, s, t);
		else if (*s == '"' || *s == '@')
			ret = parse_value(ps, s, t);
		else if (*s == '-' && s + 1 < t && s[1] == '[')
			/* regedit silently skips this line, so the author's intent would be lost */
			ret = perr(ps, "unrecognised line: a key is deleted with [-KEY], not -[KEY]");
		else
			ret = perr(ps, "unrecognised line (expected [KEY], \"name\"=, @= or a ; comment)");
		if (ret < 0)
			return -1;
	}
	return 0;
}

int regfile_parse(const uint8_t *buf, size_t len, const char *name, struct regfile *out,
		  struct gt_error *e)
{
	struct parser ps = { .name = name, .e = e };
	struct sbuf text;

	if (len > RF_MAX_FILE_BYTES)
		return gt_fail(e, GT_REFUSED, "'%s': over %u MiB, too large for a .reg file",
			       name, RF_MAX_FILE_BYTES >> 20);
	sbuf_init(&text);
	if (decode_text(buf, len, name, &text, e) < 0) {
		sbuf_release(&text);
		return -1;
	}
	ps.pos = text.buf;
	ps.end = text.buf + text.len;
	if (parse_lines(&ps) < 0) {
		regfile_release(&ps.rf);
		sbuf_release(&text);
		return -1;
	}
	sbuf_release(&text);
	*out = ps.rf;
	return 0;
}

void regfile_release(struct regfile *rf)
{
	for (size_t i = 0; i < rf->n; i++) {
		struct regfile_op *op = &rf->ops[i];

		/* value ops borrow their section's key */
		if (op->kind == RF_KEY || op->kind == RF_DELETE_KEY)
			free(op->key);
		reg_value_release(&op->value);
	}
	free(rf->ops);
	memset(rf, 0, sizeof(*rf));
}

/* ---- the writer ---- */

void regfile_write_header(struct sbuf *out)
{
	sbuf_addf(out, "%s\r\n", header5);
}

void regfile_write_key(const char *path, struct sbuf *out)
{
	sbuf_addf(out, "\r\n[%s]\r\n", path);
}

/* A REG_SZ that "quoted" text would not carry back unchanged: a line break ends the line
 * on import, and an unpaired surrogate has no UTF-8 form. */
static int sz_needs_hex(const struct reg_value *v)
{
	size_t n;

	if (v->type != RT_SZ || !reg_data_is_clean_string(v->data, v->len))
		return 0;
	n = v->len / 2 - 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t u = (uint32_t)v->data[2 * i] | ((uint32_t)v->data[2 * i + 1] << 8);

		if (u == '\r' || u == '\n')
			return 1;
		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n) {
			uint32_t lo = (uint32_t)v->data[2 * i + 2] | ((uint32_t)v->data[2 * i + 3] << 8);

			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				i++;
				continue;
			}
		}
		if (u >= 0xD800 && u <= 0xDFFF)
			return 1;
	}
	return 0;
}

static void write_sz_as_hex(const struct reg_value *v, size_t cols, struct sbuf *out)
{
	struct reg_value bin = *v;
	struct sbuf tmp;

	bin.type = RT_BINARY;
	sbuf_init(&tmp);
	/* "hex:" is 3 columns shorter than "hex(1):"; starting 3 further right puts the
	 * line breaks where they belong for hex(1) */
	reg_value_format_data(&bin, 1, cols + 3, &tmp);
	sbuf_addstr(out, "hex(1):");
	sbuf_add(out, tmp.buf + 4, tmp.len - 4);
	sbuf_release(&tmp);
}

void regfile_write_value(const struct reg_value *v, struct sbuf *out)
{
	size_t start = out->len, cols;

	reg_value_format_name(v->name, out);
	sbuf_addch(out, '=');
	/* regedit wraps by characters, not bytes */
	cols = utf16_units(out->buf + start, out->len - start);
	if (sz_needs_hex(v))
		write_sz_as_hex(v, cols, out);
	else
		reg_value_format_data(v, 1, cols, out);
	sbuf_addstr(out, "\r\n");
}

int regfile_encode(const char *text, size_t len, enum regfile_encoding enc, struct sbuf *out,
		   struct gt_error *e)
{
	size_t bad = utf8_invalid_at((const uint8_t *)text, len);
	struct gt_error conv = { 0 };
	struct sbuf wide;

	/* checked first so out is untouched on failure */
	if (bad < len)
		return gt_fail(e, GT_FAILED, "cannot encode .reg text: invalid UTF-8 at byte %zu", bad);
	if (enc == RF_UTF8) {
		sbuf_add(out, text, len);
		return 0;
	}
	sbuf_init(&wide);
	if (utf8_to_utf16le(text, len, &wide, &conv) < 0) {
		sbuf_release(&wide);
		return gt_fail(e, GT_FAILED, "cannot encode .reg text: %s", conv.msg);
	}
	sbuf_add(out, "\xFF\xFE", 2);
	sbuf_add(out, wide.buf, wide.len);
	sbuf_release(&wide);
	return 0;
}
