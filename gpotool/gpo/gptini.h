/* GPT.INI, the file in a GPO folder whose Version clients compare with the AD object's
 * versionNumber ([MS-GPOL] 2.2.4: Version = user << 16 | machine). Edits touch only the
 * digits of Version; the encoding (ANSI/UTF-8, with or without BOM, or UTF-16LE), the line
 * ends and every other line stay byte-for-byte as they were. */
#ifndef GPOTOOL_GPTINI_H
#define GPOTOOL_GPTINI_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/sbuf.h"

#define GPTINI_MAX_BYTES (64u * 1024)

struct gptini {
	struct sbuf text;     /* the file as UTF-8 (BOM removed) */
	int utf16;            /* the file was UTF-16LE with a BOM */
	int utf8_bom;         /* the file started with a UTF-8 BOM */
	size_t digits_at;     /* where Version's digits start in text, and how many there are */
	size_t digits_len;
	uint32_t version;
};

/* Parses a GPT.INI; -1 with GT_REFUSED naming the problem ("no Version line in [General]").
 * g is released with gptini_release. */
int gptini_parse(const uint8_t *buf, size_t len, struct gptini *g, struct gt_error *e);
void gptini_release(struct gptini *g);

/* The version after one change to one half: a half that would wrap goes to 1, not 0, so
 * that it never looks like "never changed" to a client. */
uint32_t gpt_version_bump(uint32_t version, int user_half);

/* The file's bytes, in its own encoding, with Version set to version. Appends to out. */
void gptini_render(const struct gptini *g, uint32_t version, struct sbuf *out);

/* A new GPT.INI as GPMC writes it: [General], Version=0, displayName; CRLF. */
void gptini_new(const char *display_name, struct sbuf *out);

#endif
