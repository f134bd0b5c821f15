/* Registry values as the hive stores them: a type and raw bytes (strings are UTF-16LE with
 * their terminator). Every input path (command line, .reg file, GPP XML) converts into this
 * one form and every output path formats from it, so the checks are written once. */
#ifndef GPOTOOL_REGVALUE_H
#define GPOTOOL_REGVALUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/sbuf.h"

/* Value types ([MS-RRP] 2.2.1 / winnt.h REG_* constants). */
enum reg_type {
	RT_NONE = 0,
	RT_SZ = 1,
	RT_EXPAND_SZ = 2,
	RT_BINARY = 3,
	RT_DWORD = 4,
	RT_DWORD_BIG_ENDIAN = 5,
	RT_LINK = 6,
	RT_MULTI_SZ = 7,
	RT_RESOURCE_LIST = 8,
	RT_FULL_RESOURCE_DESCRIPTOR = 9,
	RT_RESOURCE_REQUIREMENTS_LIST = 10,
	RT_QWORD = 11,
};

/* Hard caps: a value larger than this is not something this tool writes or prints. */
#define REG_VALUE_MAX_BYTES (1024u * 1024u)
#define REG_NAME_MAX_CHARS 16383u /* Windows limit on value names */

struct reg_value {
	char *name;     /* UTF-8; "" is the key's default value "@" */
	uint32_t type;  /* enum reg_type, or any other number read from a hive */
	uint8_t *data;  /* raw bytes, owned */
	size_t len;
};

void reg_value_init(struct reg_value *v);
void reg_value_release(struct reg_value *v);
/* Deep copy into dst (initialised or released first by the caller). */
void reg_value_copy(struct reg_value *dst, const struct reg_value *src);
int reg_value_equal_data(const struct reg_value *a, const struct reg_value *b);

/* "REG_DWORD" etc.; case-insensitive, the "REG_" prefix required. 1 found, 0 unknown. */
int reg_type_from_name(const char *name, uint32_t *type);
/* Name for a type; numbers without a name come back as "0x%x" in a static buffer. */
const char *reg_type_name(uint32_t type);

/* The one number parser: decimal or 0x-hex, no sign, no blanks, at most max. 0 ok, -1 bad. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);


/* Strict UTF-8 -> UTF-16LE (no terminator added). Rejects invalid UTF-8. */
int utf8_to_utf16le(const char *s, size_t len, struct sbuf *out, struct gt_error *e);
/* UTF-16LE -> UTF-8, for display; unpaired surrogates become U+FFFD. Appends to out. */
void utf16le_to_utf8(const uint8_t *p, size_t nbytes, struct sbuf *out);

/* Builds a value from command-line text: DWORD/QWORD numbers, strings (MULTI_SZ split on
 * the two characters "\0", as reg.exe does), BINARY as hex pairs with optional commas or
 * blanks. Fills v->type/data/len; v->name untouched. Errors are GT_USAGE. */
int reg_value_from_text(uint32_t type, const char *text, struct reg_value *v, struct gt_error *e);

/* Appends the .reg notation of v's data: "text", dword:00000001, hex(b):..., hex:...
 * wrap != 0 breaks long hex lines as regedit does (prefix_len = columns already used). */
void reg_value_format_data(const struct reg_value *v, int wrap, size_t prefix_len, struct sbuf *out);
/* Appends the value name as a .reg token: @ or "escaped name". */
void reg_value_format_name(const char *name, struct sbuf *out);
/* Appends a short human form for messages and plans: dword:00000001 (1), "text", hex: 12 bytes. */
void reg_value_format_brief(const struct reg_value *v, struct sbuf *out);

/* Compares two UTF-8 names as Windows compares registry names: case-insensitively over all
 * of Unicode, not only ASCII (needs an LC_CTYPE of C.UTF-8; main sets it). 0 when equal. */
int name_casecmp(const char *a, const char *b);

/* 1 when data is exactly one UTF-16LE string with a single terminator and no other NUL. */
int reg_data_is_clean_string(const uint8_t *data, size_t len);

#endif
