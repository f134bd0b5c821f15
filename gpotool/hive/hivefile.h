/* The regf base block and the bytes the project writes itself: checks that decide whether a
 * hive is safe to touch, the empty hive of `hive new`, and the last-write stamps hivex does
 * not maintain. Layout: Suhanov, "Windows registry file format specification"
 * (github.com/msuhanov/regf, Windows registry file format specification.md). */
#ifndef GPOTOOL_HIVEFILE_H
#define GPOTOOL_HIVEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define HIVE_BASE_BLOCK_SIZE 4096u
#define HIVE_BIG_DATA_THRESHOLD 16344u /* over this, 1.4+ hives store data in db records */

struct hive_header {
	uint32_t seq1, seq2;      /* primary / secondary sequence numbers: differ = dirty */
	uint64_t last_written;    /* FILETIME */
	uint32_t major, minor;
	uint32_t file_type;       /* 0 primary, 1/2/6 logs */
	uint32_t root_offset;
	uint32_t bins_size;
	uint32_t checksum_stored, checksum_computed;
	char file_name[128];      /* UTF-8 of the 64-byte UTF-16LE name field (tail of the path Windows loaded it from) */
};

/* Decodes the base block; -1 with GT_REFUSED when there is not even a "regf" base block. */
int hivefile_read_header(const uint8_t *buf, size_t len, struct hive_header *h, struct gt_error *e);

/* Everything that makes a file unsafe to edit: signature, size, checksum, version, log
 * file, dirty (unless allow_dirty: readers may look at one), truncated. buf holds the
 * file's first len bytes (at least the base block and the first hbin header, or all of a
 * shorter file); file_size is the whole file's. -1 with GT_REFUSED and one line naming the problem. */
#define HIVEFILE_HEAD_BYTES (HIVE_BASE_BLOCK_SIZE + 4096)
/* allow_dirty: HIVEFILE_DIRTY_OK a dirty hive (sequence numbers differ); HIVEFILE_DIRTY_ANY
 * also one whose base-block checksum is bad (a journal's copy of a hive that was so, going back
 * with its logs). */
#define HIVEFILE_DIRTY_OK 1
#define HIVEFILE_DIRTY_ANY 2
int hivefile_check_safe(const uint8_t *buf, size_t len, uint64_t file_size, int allow_dirty, struct gt_error *e);

/* The XOR checksum of the first 508 bytes, with Windows' two special cases. */
uint32_t hivefile_checksum(const uint8_t *base_block);

/* Builds an empty, valid hive (format 1.3; see hivefile.c for why) whose base-block file
 * name field says kind (e.g. "SYSTEM"; NULL for none). *out is malloc'd, caller frees. */
void hivefile_new(const char *kind, uint64_t filetime, uint8_t **out, size_t *len);

/* Sets the last-write time of the nk cells at the given file offsets and of the base block,
 * then recomputes the checksum. Works on an open file descriptor of a hive just written. */
int hivefile_stamp(int fd, const uint64_t *nk_offsets, size_t n, uint64_t filetime, struct gt_error *e);

/* Raises both sequence numbers of the hive written on fd to at_least when they are below it
 * (modulo 2^32), and reseals the checksum: a primary edited beside logs it did not replay must
 * still be above every entry they hold. */
int hivefile_raise_sequence(int fd, uint32_t at_least, struct gt_error *e);

/* Now, as a Windows FILETIME (100 ns ticks since 1601-01-01 UTC). */
uint64_t filetime_now(void);

#endif
