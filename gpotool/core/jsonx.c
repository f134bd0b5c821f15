/* Small json-c helpers every reader of gpotool's own JSON uses; see jsonx.h. */
#include "core/jsonx.h"

#include <stdint.h>
#include <string.h>

const char *jsonx_str(struct json_object *obj, const char *key)
{
	struct json_object *v = json_object_object_get(obj, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A JSON document that is all of buf, nothing before or after it. Caller puts it. */
struct json_object *jsonx_parse_exact(const uint8_t *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (len > INT32_MAX || memchr(buf, '\0', len)) {
		json_tokener_free(tok);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	for (size_t i = o ? json_tokener_get_parse_end(tok) : len; i < len; i++)
		if (!strchr(" \t\r\n", buf[i])) {
			json_object_put(o);
			o = NULL;
			break;
		}
	json_tokener_free(tok);
	return o;
}
