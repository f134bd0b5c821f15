/* Escaping and UTF-8 repair of text from outside; see textesc.h. */
#include "core/textesc.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_decode_one(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 2; c &= 0x1F; min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3; c &= 0x0F; min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* Characters that move the cursor, start a terminal sequence, end a line for some reader, or
 * reorder what is shown (bidirectional controls: "Trojan Source"). */
static int is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0, n; i < len; i += n)
		if ((n = utf8_decode_one(p + i, len - i, &cp)) == 0)
			return 0;
	return 1;
}

int text_is_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	uint32_t cp;

	for (size_t i = 0, n; i < len; i += n)
		if ((n = utf8_decode_one(p + i, len - i, &cp)) == 0 || is_control(cp))
			return 0;
	return 1;
}

void text_escape(struct sbuf *out, const char *s, int keep_newlines)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	uint32_t cp;

	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_decode_one(p + i, len - i, &cp);
		if (n == 0) {
			sbuf_addf(out, "\\x%02x", p[i]);
			n = 1;
		} else if (!is_control(cp) || (keep_newlines && cp == '\n')) {
			sbuf_add(out, p + i, n);
		} else if (cp == '\n' || cp == '\r' || cp == '\t' || cp == 0x1b) {
			sbuf_addstr(out, cp == '\n' ? "\\n" : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : "\\e");
		} else if (cp < 0x80) {
			sbuf_addf(out, "\\x%02x", (unsigned)cp);
		} else {
			sbuf_addf(out, "\\u{%04x}", (unsigned)cp);
		}
	}
}

const char *esc(const char *s)
{
	static char *ring[8];
	static unsigned next;
	struct sbuf sb;
	unsigned at;

	if (!s)
		return NULL;
	at = next++ % 8;
	sbuf_init(&sb);
	text_escape(&sb, s, 0);
	free(ring[at]);
	ring[at] = sbuf_detach(&sb, NULL);
	return ring[at];
}

void text_utf8_repair(struct sbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_decode_one(p + i, len - i, &cp);
		if (n == 0) {
			sbuf_addf(out, "\\x%02x", p[i]);
			n = 1;
		} else {
			sbuf_add(out, p + i, n);
		}
	}
}

void json_utf8_repair(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string: {
		const char *s = json_object_get_string(o);
		size_t len = (size_t)json_object_get_string_len(o);
		struct sbuf sb;

		if (text_utf8_valid(s, len))
			return;
		sbuf_init(&sb);
		text_utf8_repair(&sb, s, len);
		json_object_set_string_len(o, sb.buf, (int)sb.len);
		sbuf_release(&sb);
		return;
	}
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			json_utf8_repair(v);
		}
		return;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_utf8_repair(json_object_array_get_idx(o, i));
		return;
	default:
		return;
	}
}

/* Bytes a shell takes as they are, outside quotes. */
static int shell_plain(const char *a)
{
	return *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == strlen(a);
}

void shell_quote(struct sbuf *out, const char *a)
{
	const unsigned char *p = (const unsigned char *)a;
	size_t len = strlen(a);
	uint32_t cp;

	if (shell_plain(a)) {
		sbuf_addstr(out, a);
		return;
	}
	if (text_is_clean(a)) {
		sbuf_addch(out, '\'');
		for (; *a; a++)
			sbuf_addstr(out, *a == '\'' ? "'\\''" : (char[]){ *a, 0 });
		sbuf_addch(out, '\'');
		return;
	}
	/* $'...': every byte of a control character or of invalid UTF-8 as \xNN */
	sbuf_addstr(out, "$'");
	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_decode_one(p + i, len - i, &cp);
		if (n == 0 || is_control(cp)) {
			n = n ? n : 1;
			for (size_t k = 0; k < n; k++)
				sbuf_addf(out, "\\x%02x", p[i + k]);
		} else if (cp == '\'' || cp == '\\') {
			sbuf_addch(out, '\\');
			sbuf_addch(out, (char)cp);
		} else {
			sbuf_add(out, p + i, n);
		}
	}
	sbuf_addch(out, '\'');
}
