/* Registry value types, the number parser, UTF-8/UTF-16LE conversion and .reg notation.
 * Hand-written because it is the project's own contract: exact sizes (a REG_DWORD is 4
 * bytes), strict decoding of input, lossless formatting of output. */
#include "reg/regvalue.h"
#include "core/textesc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

static const struct {
	const char *name;
	uint32_t type;
} type_names[] = {
	{ "REG_NONE", RT_NONE },
	{ "REG_SZ", RT_SZ },
	{ "REG_EXPAND_SZ", RT_EXPAND_SZ },
	{ "REG_BINARY", RT_BINARY },
	{ "REG_DWORD", RT_DWORD },
	{ "REG_DWORD_BIG_ENDIAN", RT_DWORD_BIG_ENDIAN },
	{ "REG_LINK", RT_LINK },
	{ "REG_MULTI_SZ", RT_MULTI_SZ },
	{ "REG_RESOURCE_LIST", RT_RESOURCE_LIST },
	{ "REG_FULL_RESOURCE_DESCRIPTOR", RT_FULL_RESOURCE_DESCRIPTOR },
	{ "REG_RESOURCE_REQUIREMENTS_LIST", RT_RESOURCE_REQUIREMENTS_LIST },
	{ "REG_QWORD", RT_QWORD },
};

void reg_value_init(struct reg_value *v)
{
	memset(v, 0, sizeof(*v));
}

void reg_value_release(struct reg_value *v)
{
	free(v->name);
	free(v->data);
	reg_value_init(v);
}

void reg_value_copy(struct reg_value *dst, const struct reg_value *src)
{
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->type = src->type;
	dst->len = src->len;
	dst->data = xmemdup(src->data ? (const void *)src->data : "", src->len);
}

int reg_value_equal_data(const struct reg_value *a, const struct reg_value *b)
{
	return a->type == b->type && a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int reg_type_from_name(const char *name, uint32_t *type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcasecmp(name, type_names[i].name) == 0) {
			*type = type_names[i].type;
			return 1;
		}
	}
	return 0;
}

const char *reg_type_name(uint32_t type)
{
	static char unknown[16];

	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	snprintf(unknown, sizeof(unknown), "0x%x", type);
	return unknown;
}

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	*out = 0;
	if (!s || !*s)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* strtoull accepts blanks, signs and a second "0x"; the format here allows only digits */
	if (!*s || strspn(s, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static void put_u16le(struct sbuf *out, uint32_t u)
{
	char b[2] = { (char)(u & 0xFF), (char)(u >> 8) };

	sbuf_add(out, b, 2);
}

int utf8_to_utf16le(const char *s, size_t len, struct sbuf *out, struct gt_error *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode_one(p + i, len - i, &cp);

		if (n == 0)
			return gt_fail(e, GT_USAGE, "invalid UTF-8 at byte %zu", i);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			put_u16le(out, 0xD800 | (cp >> 10));
			put_u16le(out, 0xDC00 | (cp & 0x3FF));
		} else {
			put_u16le(out, cp);
		}
		i += n;
	}
	return 0;
}

static void put_utf8(struct sbuf *out, uint32_t cp)
{
	char b[4];

	if (cp < 0x80) {
		b[0] = (char)cp;
		sbuf_add(out, b, 1);
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		sbuf_add(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		sbuf_add(out, b, 3);
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		sbuf_add(out, b, 4);
	}
}

void utf16le_to_utf8(const uint8_t *p, size_t nbytes, struct sbuf *out)
{
	size_t n = nbytes / 2;

	for (size_t i = 0; i < n; i++) {
		uint32_t u = (uint32_t)p[2 * i] | ((uint32_t)p[2 * i + 1] << 8);

		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n) {
			uint32_t lo = (uint32_t)p[2 * i + 2] | ((uint32_t)p[2 * i + 3] << 8);

			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
				i++;
				continue;
			}
		}
		put_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int binary_from_text(const char *text, struct sbuf *out, struct gt_error *e)
{
	const char *p = text;

	while (*p) {
		int hi, lo;
		char byte;

		if (*p == ',' || *p == ' ' || *p == ':') {
			p++;
			continue;
		}
		hi = hexval((unsigned char)p[0]);
		lo = hi < 0 ? -1 : hexval((unsigned char)p[1]);
		if (hi < 0 || lo < 0)
			return gt_fail(e, GT_USAGE, "binary data must be hex byte pairs, not '%s'", text);
		byte = (char)(hi << 4 | lo);
		sbuf_add(out, &byte, 1);
		p += 2;
		if (out->len > REG_VALUE_MAX_BYTES)
			return gt_fail(e, GT_USAGE, "binary data over %u bytes", REG_VALUE_MAX_BYTES);
	}
	return 0;
}

static int multi_sz_from_text(const char *text, struct sbuf *out, struct gt_error *e)
{
	const char *p = text;

	for (;;) {
		const char *sep = strstr(p, "\\0");
		size_t n = sep ? (size_t)(sep - p) : strlen(p);

		if (n == 0 && (sep || p != text))
			return gt_fail(e, GT_USAGE, "REG_MULTI_SZ cannot hold an empty string: '%s'", text);
		if (utf8_to_utf16le(p, n, out, e) < 0)
			return -1;
		if (n)
			sbuf_add(out, "\0\0", 2);
		if (!sep)
			break;
		p = sep + 2;
	}
	sbuf_add(out, "\0\0", 2);
	return 0;
}

int reg_value_from_text(uint32_t type, const char *text, struct reg_value *v, struct gt_error *e)
{
	struct sbuf b;
	uint64_t n;
	uint8_t le[8];
	int ret = 0;

	sbuf_init(&b);
	switch (type) {
	case RT_DWORD:
	case RT_QWORD: {
		uint64_t max = type == RT_DWORD ? UINT32_MAX : UINT64_MAX;
		size_t width = type == RT_DWORD ? 4 : 8;

		if (parse_u64(text, max, &n) < 0) {
			ret = gt_fail(e, GT_USAGE, "%s data must be a number from 0 to %llu (decimal or 0x-hex), not '%s'",
				      reg_type_name(type), (unsigned long long)max, text);
			break;
		}
		for (size_t i = 0; i < width; i++)
			le[i] = (uint8_t)(n >> (8 * i));
		sbuf_add(&b, le, width);
		break;
	}
	case RT_SZ:
	case RT_EXPAND_SZ:
		if (utf8_to_utf16le(text, strlen(text), &b, e) < 0) {
			ret = -1;
			break;
		}
		sbuf_add(&b, "\0\0", 2);
		break;
	case RT_MULTI_SZ:
		ret = multi_sz_from_text(text, &b, e);
		break;
	case RT_BINARY:
		ret = binary_from_text(text, &b, e);
		break;
	default:
		ret = gt_fail(e, GT_USAGE, "cannot write values of type %s (supported: REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY)",
			      reg_type_name(type));
	}
	if (ret == 0 && b.len > REG_VALUE_MAX_BYTES)
		ret = gt_fail(e, GT_USAGE, "value data over %u bytes", REG_VALUE_MAX_BYTES);
	if (ret < 0) {
		sbuf_release(&b);
		return -1;
	}
	free(v->data);
	v->type = type;
	v->data = (uint8_t *)sbuf_detach(&b, &v->len);
	sbuf_release(&b);
	return 0;
}

int reg_data_is_clean_string(const uint8_t *data, size_t len)
{
	if (len < 2 || len % 2)
		return 0;
	if (data[len - 2] || data[len - 1])
		return 0;
	for (size_t i = 0; i + 2 < len; i += 2)
		if (!data[i] && !data[i + 1])
			return 0;
	return 1;
}

static void format_quoted(const char *s, size_t n, struct sbuf *out)
{
	sbuf_addch(out, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			sbuf_addch(out, '\\');
		sbuf_addch(out, s[i]);
	}
	sbuf_addch(out, '"');
}

void reg_value_format_name(const char *name, struct sbuf *out)
{
	if (!name || !*name)
		sbuf_addch(out, '@');
	else
		format_quoted(name, strlen(name), out);
}

/* regedit keeps exported lines within 80 columns: "xx," per byte, "\" at the break, and
 * two blanks to start each continuation line. */
static void format_hex(const uint8_t *d, size_t len, int wrap, size_t col, struct sbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		sbuf_addf(out, "%02x", d[i]);
		col += 2;
		if (i + 1 < len) {
			sbuf_addch(out, ',');
			col++;
			if (wrap && col > 76) {
				sbuf_addstr(out, "\\\r\n  ");
				col = 2;
			}
		}
	}
}

/* A quoted .reg string cannot carry a line break (regedit would read two lines). */
static int has_line_break(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		if ((data[i] == '\r' || data[i] == '\n') && data[i + 1] == 0)
			return 1;
	return 0;
}

void reg_value_format_data(const struct reg_value *v, int wrap, size_t prefix_len, struct sbuf *out)
{
	size_t start = out->len;

	if (v->type == RT_SZ && reg_data_is_clean_string(v->data, v->len) && !has_line_break(v->data, v->len)) {
		struct sbuf s;

		sbuf_init(&s);
		utf16le_to_utf8(v->data, v->len - 2, &s);
		format_quoted(s.buf, s.len, out);
		sbuf_release(&s);
		return;
	}
	if (v->type == RT_DWORD && v->len == 4) {
		sbuf_addf(out, "dword:%08x",
			  (unsigned)v->data[0] | (unsigned)v->data[1] << 8 |
			  (unsigned)v->data[2] << 16 | (unsigned)v->data[3] << 24);
		return;
	}
	if (v->type == RT_BINARY)
		sbuf_addstr(out, "hex:");
	else
		sbuf_addf(out, "hex(%x):", v->type);
	format_hex(v->data, v->len, wrap, prefix_len + (out->len - start), out);
}

static uint64_t le_number(const uint8_t *d, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | d[i];
	return v;
}

void reg_value_format_brief(const struct reg_value *v, struct sbuf *out)
{
	if (v->type == RT_DWORD && v->len == 4) {
		uint64_t n = le_number(v->data, 4);

		sbuf_addf(out, "REG_DWORD %llu (0x%08llx)", (unsigned long long)n, (unsigned long long)n);
	} else if (v->type == RT_QWORD && v->len == 8) {
		uint64_t n = le_number(v->data, 8);

		sbuf_addf(out, "REG_QWORD %llu (0x%016llx)", (unsigned long long)n, (unsigned long long)n);
	} else if ((v->type == RT_SZ || v->type == RT_EXPAND_SZ) &&
		   reg_data_is_clean_string(v->data, v->len) && v->len <= 512) {
		struct sbuf s;

		sbuf_init(&s);
		utf16le_to_utf8(v->data, v->len - 2, &s);
		sbuf_addf(out, "%s ", reg_type_name(v->type));
		format_quoted(s.buf, s.len, out);
		sbuf_release(&s);
	} else if (v->len <= 32) {
		sbuf_addf(out, "%s ", reg_type_name(v->type));
		reg_value_format_data(v, 0, 0, out);
	} else {
		sbuf_addf(out, "%s (%zu bytes)", reg_type_name(v->type), v->len);
	}
}

int name_casecmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

	while (*p && *q) {
		uint32_t cp, cq;
		/* a character is at most 4 bytes: the whole rest's strlen at each one made every
		 * comparison quadratic in the name's length */
		size_t np = utf8_decode_one(p, strnlen((const char *)p, 4), &cp);
		size_t nq = utf8_decode_one(q, strnlen((const char *)q, 4), &cq);

		/* bytes that are not UTF-8 compare as themselves */
		if (!np)
			cp = *p, np = 1;
		if (!nq)
			cq = *q, nq = 1;
		if (cp != cq && towupper((wint_t)cp) != towupper((wint_t)cq))
			return towupper((wint_t)cp) < towupper((wint_t)cq) ? -1 : 1;
		p += np;
		q += nq;
	}
	return *p == *q ? 0 : (*p ? 1 : -1);
}
