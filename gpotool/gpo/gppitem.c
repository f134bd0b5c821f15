/* GPP items read as registry values; see gppitem.h. */
#include "gpo/gppitem.h"

#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"

/* The value an existing GPP item carries, as registry data (MULTI_SZ parts come from the
 * blank-joined value attribute, so a part with a blank in it is split: shown, not restored). */
void gpp_item_value(const struct gpp_item *it, struct reg_value *v)
{
	struct gt_error ignored = { 0 };
	uint32_t type = RT_NONE;
	struct sbuf text;

	sbuf_init(&text);
	reg_type_from_name(it->type, &type);
	if (type == RT_DWORD || type == RT_QWORD)
		sbuf_addf(&text, "0x%s", it->value);
	else if (type == RT_MULTI_SZ)
		for (const char *p = it->value; *p; p++)
			sbuf_addstr(&text, *p == ' ' ? "\\0" : (char[]){ *p, 0 });
	else
		sbuf_addstr(&text, it->value);
	if (reg_value_from_text(type, text.buf, v, &ignored) < 0) {
		/* not parseable as its type: keep the text, typed REG_NONE, so nothing is lost */
		free(v->data);
		v->type = RT_NONE;
		v->data = (uint8_t *)xstrdup(it->value);
		v->len = strlen(it->value);
	}
	sbuf_release(&text);
}
