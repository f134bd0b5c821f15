/* .reg files, the text regedit exports and imports: a strict parser that turns a file into
 * a list of key and value operations, and a writer that produces what regedit would write.
 * The parser's input is untrusted (it is fuzzed); it refuses rather than guesses. */
#ifndef GPOTOOL_REGFILE_H
#define GPOTOOL_REGFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "reg/regvalue.h"
#include "core/sbuf.h"

enum regfile_op_kind { RF_KEY, RF_DELETE_KEY, RF_SET_VALUE, RF_DELETE_VALUE };

struct regfile_op {
	enum regfile_op_kind kind;
	/* Key path as written, UTF-8, brackets and the leading '-' removed, e.g.
	 * "HKEY_LOCAL_MACHINE\\SYSTEM\\X". RF_KEY/RF_DELETE_KEY ops own it; value ops point
	 * at the key of the RF_KEY op that opened their section (shared, so a file of many
	 * values under one long key stays small). Only regfile_release frees it. */
	char *key;
	/* RF_SET_VALUE: name ("" = default @), type, data; RF_DELETE_VALUE: name only (data
	 * NULL, len 0); RF_KEY/RF_DELETE_KEY: all zero (name NULL). Owned by the op. */
	struct reg_value value;
	unsigned line;           /* 1-based line where the op starts */
};

struct regfile {
	struct regfile_op *ops;  /* in file order; value ops carry the key of their section */
	size_t n;
	int regedit4;            /* header was REGEDIT4 */
};

/* Parses a whole .reg file held in memory. name is used in messages. Returns 0, or -1 with
 * e->code = GT_REFUSED and a message "'NAME' line N: reason" ("'NAME': reason" for the
 * 64 MiB size cap, which is about no line). out is filled only on success; the caller
 * releases it with regfile_release. */
int regfile_parse(const uint8_t *buf, size_t len, const char *name, struct regfile *out,
		  struct gt_error *e);
/* Frees everything regfile_parse allocated and leaves rf empty. */
void regfile_release(struct regfile *rf);

/* Writer: builds the text (UTF-8, CRLF line ends) into out, which the caller owns. */
/* "Windows Registry Editor Version 5.00\r\n" */
void regfile_write_header(struct sbuf *out);
/* "\r\n[path]\r\n" (a blank line before each key, as regedit writes) */
void regfile_write_key(const char *path, struct sbuf *out);
/* "name"=data\r\n with long hex wrapped as regedit does. A REG_SZ that quoted text could
 * not carry back unchanged (line breaks, unpaired surrogates) is written as hex(1). */
void regfile_write_value(const struct reg_value *v, struct sbuf *out);

/* Encodes finished UTF-8 text: RF_UTF16LE gives the FF FE BOM + UTF-16LE (what regedit
 * writes), RF_UTF8 returns it unchanged. Appends to out (caller owns it; untouched on
 * error). Returns 0, or -1 with GT_FAILED when text is not valid UTF-8. */
enum regfile_encoding { RF_UTF16LE, RF_UTF8 };
int regfile_encode(const char *text, size_t len, enum regfile_encoding enc, struct sbuf *out,
		   struct gt_error *e);

#endif
