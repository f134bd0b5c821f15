/* json-c helpers for gpotool's own documents (journal entries, audit records), prefixed so
 * that they stay out of json-c's json_ namespace. */
#ifndef GPOTOOL_JSONX_H
#define GPOTOOL_JSONX_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* A JSON document that is exactly buf (trailing blanks allowed), or NULL. Caller puts it. */
struct json_object *jsonx_parse_exact(const uint8_t *buf, size_t len);
/* A JSON string field of obj, or NULL. */
const char *jsonx_str(struct json_object *obj, const char *key);

#endif
