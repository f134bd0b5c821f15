/* Test-only damage to a GPO commit's GPT.INI and Registry.xml; see gpo-fault.h. */
#include "gpo/gpo-fault.h"

#include <string.h>
#include <strings.h>

#include "core/fault.h"

/* "version" at s, ASCII (stride 1) or UTF-16LE (stride 2), any case */
static int is_version_at(const char *s, size_t left, size_t stride)
{
	static const char word[] = "version";

	if (left < (sizeof(word) - 1) * stride)
		return 0;
	for (size_t i = 0; i < sizeof(word) - 1; i++)
		if ((s[i * stride] | 0x20) != word[i] || (stride == 2 && s[i * stride + 1] != '\0'))
			return 0;
	return 1;
}

void fault_gptini_rendered(struct sbuf *gpt)
{
	size_t i;

	if (!fault_asked(FAULT_GPTINI_RENDERED_VERSION))
		return;
	for (i = 0; i < gpt->len; i++)
		if (is_version_at(gpt->buf + i, gpt->len - i, 1) || is_version_at(gpt->buf + i, gpt->len - i, 2))
			break;
	for (; i < gpt->len; i++)
		if (gpt->buf[i] >= '0' && gpt->buf[i] <= '9') {
			gpt->buf[i] = gpt->buf[i] == '9' ? '8' : (char)(gpt->buf[i] + 1);
			return;
		}
}

/* ---- Registry.xml ---- */

/* The next <Registry> item in [from, len): its start and end offsets. 0 when there is none. */
static int next_item(const struct sbuf *x, size_t from, size_t *start, size_t *end)
{
	const char *s = from < x->len ? strstr(x->buf + from, "<Registry ") : NULL;
	const char *t = s ? strstr(s, "</Registry>") : NULL;

	if (!t)
		return 0;
	*start = (size_t)(s - x->buf);
	*end = (size_t)(t - x->buf);
	return 1;
}

/* Offset of the first character after `attr` (e.g. ` value="`) in the item's Properties, 0 if none. */
static size_t props_attr(const struct sbuf *x, size_t start, size_t end, const char *attr)
{
	const char *p = strstr(x->buf + start, "<Properties");
	const char *a = p ? strstr(p, attr) : NULL;

	return a && (size_t)(a - x->buf) < end ? (size_t)(a - x->buf) + strlen(attr) : 0;
}

static int item_named(const struct sbuf *x, size_t start, size_t end, const char *name)
{
	size_t at = props_attr(x, start, end, " name=\""), n = strlen(name);

	return at && at + n < end && strncasecmp(x->buf + at, name, n) == 0 && x->buf[at + n] == '"';
}

/* Changes the character at offset at (0: none found) to another of the same kind. */
static int change_char(struct sbuf *x, size_t at, struct gt_error *e)
{
	if (!at || x->buf[at] == '"')
		return fault_nothing_to_damage(e);
	x->buf[at] = x->buf[at] == '0' ? '1' : '0';
	return 0;
}

int fault_gpp_applied(struct sbuf *xml, const char *name, struct gt_error *e)
{
	int other = fault_asked(FAULT_GPP_APPLIED_OTHER);
	size_t start, end, from = 0;

	if (!fault_asked(FAULT_GPP_APPLIED))
		return 0;
	while (next_item(xml, from, &start, &end)) {
		from = end;
		if (item_named(xml, start, end, name) == other)
			continue;
		if (fault_asked(FAULT_GPP_APPLIED_VALUE) || other)
			return change_char(xml, props_attr(xml, start, end, " value=\""), e);
		if (fault_asked(FAULT_GPP_APPLIED_CLSID))
			return change_char(xml, strncmp(xml->buf + start, "<Registry clsid=\"{", 18) == 0 ? start + 18 : 0, e);
		break;
	}
	return fault_nothing_to_damage(e);
}
