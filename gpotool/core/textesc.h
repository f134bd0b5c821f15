/* Text that came from a user or from a file, made safe to print and to store. A newline or a
 * terminal escape in an operator name, a ticket or a file name must not forge a line of
 * `journal list` or `audit show`, nor drive the terminal; and the journal and the audit trail
 * are JSON, which must be valid UTF-8 to be read by anything else. */
#ifndef GPOTOOL_TEXTESC_H
#define GPOTOOL_TEXTESC_H

#include <stddef.h>
#include <stdint.h>

#include "core/sbuf.h"

struct json_object;

/* 1 when s[0..len) is valid UTF-8 (shortest form, no surrogates). */
int text_utf8_valid(const char *s, size_t len);
/* 1 when s is valid UTF-8 and holds no control character (C0, DEL, C1, line and paragraph
 * separators, bidirectional overrides): what --operator and --ticket must be. */
int text_is_clean(const char *s);

/* Appends s, printable: control characters as \n, \r, \t, \e or \xNN (\u{XXXX} above
 * U+007F), bytes that are not UTF-8 as \xNN. keep_newlines leaves '\n' as it is (text of
 * several lines built by gpotool itself). */
void text_escape(struct sbuf *out, const char *s, int keep_newlines);
/* s escaped for one printf argument: a string owned by a small ring of buffers, valid until
 * eight more calls. NULL stays NULL. */
const char *esc(const char *s);

/* Appends s with every byte that is not part of valid UTF-8 written as the text \xNN; all
 * else (control characters included, which JSON escapes) unchanged. */
void text_utf8_repair(struct sbuf *out, const char *s, size_t len);
/* Repairs, as text_utf8_repair, every string in a JSON tree, in place: what gpotool stores
 * is valid UTF-8 whatever bytes the command line or a file name held. */
void json_utf8_repair(struct json_object *o);

/* Appends arg quoted for a POSIX shell; as bash's $'...' (\xNN escapes) when it holds control
 * characters or bytes that are not UTF-8, so the result is printable UTF-8 and still the
 * command that was run. */
void shell_quote(struct sbuf *out, const char *arg);

/* Decodes one UTF-8 character: its length in bytes, or 0 when s does not start with a valid,
 * shortest-form, non-surrogate one within len bytes. */
size_t utf8_decode_one(const unsigned char *s, size_t len, uint32_t *cp);

#endif
