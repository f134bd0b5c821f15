/* GPT.INI reading and version bumps; see gptini.h. */
#include "gpo/gptini.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reg/regvalue.h"

/* A version bump rewrites the whole file from the decoded text: that is byte-preserving only
 * when the UTF-16 decodes and encodes back to itself (a lone surrogate would not). */
static int utf16_round_trips(const uint8_t *buf, size_t len, const struct sbuf *text, struct gt_error *e)
{
	struct gt_error ignored = { 0 };
	struct sbuf back;
	int same;

	sbuf_init(&back);
	same = utf8_to_utf16le(text->buf, text->len, &back, &ignored) == 0 && back.len == len && memcmp(back.buf, buf, len) == 0;
	sbuf_release(&back);
	if (!same)
		return gt_fail(e, GT_REFUSED, "GPT.INI is not valid UTF-16 (an unpaired surrogate): rewriting its version "
			       "would change other bytes too");
	return 0;
}

static int decode(const uint8_t *buf, size_t len, struct gptini *g, struct gt_error *e)
{
	if (len >= 2 && buf[0] == 0xFF && buf[1] == 0xFE) {
		if (len % 2)
			return gt_fail(e, GT_REFUSED, "GPT.INI is UTF-16 with an odd number of bytes");
		g->utf16 = 1;
		utf16le_to_utf8(buf + 2, len - 2, &g->text);
		return utf16_round_trips(buf + 2, len - 2, &g->text, e);
	}
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		g->utf8_bom = 1;
		buf += 3;
		len -= 3;
	}
	if (memchr(buf, '\0', len))
		return gt_fail(e, GT_REFUSED, "GPT.INI holds NUL bytes (UTF-16 without a BOM?)");
	sbuf_add(&g->text, buf, len);
	return 0;
}

static int ini_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* [p, *end) without the blanks at both ends. */
static const char *trim(const char *p, const char **end)
{
	while (p < *end && ini_blank(*p))
		p++;
	while (*end > p && ini_blank((*end)[-1]))
		(*end)--;
	return p;
}

/* The Version value (digits, blanks and one pair of quotes trimmed, as the profile reader
 * trims them) into g; -1 when it is not a 32-bit decimal number. */
static int read_version(struct gptini *g, const char *v, const char *v_end, const char *line, size_t line_len,
			struct gt_error *e)
{
	size_t digits;
	uint64_t val;
	char num[16];

	if (v_end - v >= 2 && (*v == '"' || *v == '\'') && v_end[-1] == *v) {
		v++;
		v_end--;
	}
	digits = (size_t)(v_end - v);
	if (digits == 0 || digits > 10 || strspn(v, "0123456789") < digits)
		return gt_fail(e, GT_REFUSED, "GPT.INI Version is not a number: '%.*s'", (int)line_len, line);
	memcpy(num, v, digits);
	num[digits] = '\0';
	if (parse_u64(num, UINT32_MAX, &val) < 0)
		return gt_fail(e, GT_REFUSED, "GPT.INI Version is out of range: '%s'", num);
	g->version = (uint32_t)val;
	g->digits_at = (size_t)(v - g->text.buf);
	g->digits_len = digits;
	return 0;
}

/* Finds Version in the [General] section as Windows' profile reader (GetPrivateProfileString,
 * which Group Policy clients use) finds it: section and key names case-insensitive, blanks
 * around them and around '=' ignored ("Version = 1", as Samba writes it). A second Version
 * there is refused: the reader takes the first, a human editor may have meant the last. */
static int find_version(struct gptini *g, struct gt_error *e)
{
	const char *t = g->text.buf, *end = t + g->text.len;
	unsigned line = 0, found_line = 0;
	int in_general = 0;

	while (t < end) {
		const char *eol = memchr(t, '\n', (size_t)(end - t));
		const char *line_end = eol ? eol : end, *p = trim(t, &line_end), *eq;

		line++;
		if (p < line_end && *p == '[') {
			const char *close = memchr(p, ']', (size_t)(line_end - p));

			in_general = close && close - p == 8 && strncasecmp(p + 1, "General", 7) == 0;
		} else if (in_general && (eq = memchr(p, '=', (size_t)(line_end - p)))) {
			const char *key_end = eq, *key = trim(p, &key_end), *v_end = line_end, *v = trim(eq + 1, &v_end);

			if (key_end - key == 7 && strncasecmp(key, "Version", 7) == 0) {
				if (found_line)
					return gt_fail(e, GT_REFUSED, "GPT.INI has two Version lines in [General] (lines %u and %u): "
						       "clients read the first, and which one is meant is ambiguous", found_line, line);
				if (read_version(g, v, v_end, p, (size_t)(line_end - p), e) < 0)
					return -1;
				found_line = line;
			}
		}
		t = eol ? eol + 1 : end;
	}
	if (!found_line)
		return gt_fail(e, GT_REFUSED, "GPT.INI has no Version line in a [General] section");
	return 0;
}

int gptini_parse(const uint8_t *buf, size_t len, struct gptini *g, struct gt_error *e)
{
	memset(g, 0, sizeof(*g));
	sbuf_init(&g->text);
	if (len > GPTINI_MAX_BYTES || decode(buf, len, g, e) < 0 || find_version(g, e) < 0) {
		if (len > GPTINI_MAX_BYTES)
			gt_fail(e, GT_REFUSED, "GPT.INI is larger than %u bytes", GPTINI_MAX_BYTES);
		gptini_release(g);
		return -1;
	}
	return 0;
}

void gptini_release(struct gptini *g)
{
	sbuf_release(&g->text);
	memset(g, 0, sizeof(*g));
}

uint32_t gpt_version_bump(uint32_t version, int user_half)
{
	uint32_t user = version >> 16, machine = version & 0xFFFF;

	if (user_half)
		user = user == 0xFFFF ? 1 : user + 1;
	else
		machine = machine == 0xFFFF ? 1 : machine + 1;
	return user << 16 | machine;
}

void gptini_render(const struct gptini *g, uint32_t version, struct sbuf *out)
{
	struct sbuf t;
	char num[16];
	struct gt_error ignored = { 0 };

	sbuf_init(&t);
	snprintf(num, sizeof(num), "%u", version);
	sbuf_add(&t, g->text.buf, g->digits_at);
	sbuf_addstr(&t, num);
	sbuf_add(&t, g->text.buf + g->digits_at + g->digits_len, g->text.len - g->digits_at - g->digits_len);
	if (g->utf16) {
		sbuf_add(out, "\xFF\xFE", 2);
		/* the text came from UTF-16 through our own decoder, so it is valid UTF-8 */
		utf8_to_utf16le(t.buf, t.len, out, &ignored);
	} else {
		if (g->utf8_bom)
			sbuf_add(out, "\xEF\xBB\xBF", 3);
		sbuf_add(out, t.buf, t.len);
	}
	sbuf_release(&t);
}

void gptini_new(const char *display_name, struct sbuf *out)
{
	sbuf_addf(out, "[General]\r\nVersion=0\r\ndisplayName=%s\r\n", display_name);
}
