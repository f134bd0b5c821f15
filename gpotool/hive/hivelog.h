/* A hive's transaction logs (NAME.LOG, NAME.LOG1, NAME.LOG2) and their replay onto the primary
 * file, as Windows does when it loads a dirty hive. No library reads them (hivex and libregf
 * do not), so this is the project's own code, written from Suhanov's "Windows registry file
 * format specification" (github.com/msuhanov/regf), sections "Format of transaction log
 * files", "Dirty state of a hive" and "Multiple transaction log files". Works on bytes in
 * memory; finding, locking and reading the files is the caller's. */
#ifndef GPOTOOL_HIVELOG_H
#define GPOTOOL_HIVELOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define HIVELOG_MAX_FILES 3
#define HIVELOG_WHY_MAX 200
/* The seed of both hashes of a new-format log entry (spec, "Log entries", note 3). */
#define HIVELOG_MARVIN_SEED 0x82EF4D887A4E55C5ull

/* Marvin32 (the hash of Microsoft's Marvin family, as .NET and the registry use it) of
 * data[0..len) with a 64-bit seed. */
uint64_t marvin32(const uint8_t *data, size_t len, uint64_t seed);

enum hivelog_format {
	HIVELOG_EMPTY,   /* 0 bytes (Windows keeps an unused .LOG1/.LOG2 empty) */
	HIVELOG_OLD,     /* "DIRT" dirty vector + 512-byte pages (before Windows 8.1) */
	HIVELOG_NEW,     /* "HvLE" log entries (Windows 8.1 and later) */
	HIVELOG_INVALID, /* neither: why says what is wrong */
};

/* One log as it is, and what the replay made of it. */
struct hivelog_info {
	enum hivelog_format format;
	uint32_t seq1, seq2;       /* its base block's sequence numbers */
	uint32_t bins_size;        /* its base block's hive-bins size */
	uint64_t last_written;     /* its base block's timestamp (old format: must equal the primary's) */
	/* new format: the run of consecutive valid entries from offset 512 (entries > 0 when
	 * first_seq..last_seq means anything); old format: entries = dirty 512-byte pages */
	size_t entries;
	uint32_t first_seq, last_seq;
	uint64_t end;              /* offset where that run ends (what follows is stale or damaged) */
	uint32_t max_seq;          /* highest sequence number of its base block and of any entry with
				    * valid hashes, run or not: a clean primary must be above it */
	int applies;               /* 1 when the replay used it */
	size_t applied;            /* entries (old format: pages) the replay took from it */
	uint32_t applied_first, applied_last;
	char why[HIVELOG_WHY_MAX]; /* INVALID: what is wrong ("bad Hash-1 in the entry at offset 8192");
				    * valid but not applied: why not ("entries 131..131 are older than the
				    * primary (secondary sequence number 132)"); applied and stopped early:
				    * why it stopped ("gap: entry 7 follows 5 at offset 40960") */
};

/* Judges one log on its own: format, base block, entries. len 0 is HIVELOG_EMPTY. */
void hivelog_inspect(const uint8_t *log, size_t len, struct hivelog_info *out);

struct hivelog_replay {
	int dirty;               /* the primary needs recovery: sequence numbers differ or its base-block checksum is bad */
	int base_block_bad;      /* its checksum is bad: the base block was taken from a log */
	int replayed;            /* the view holds the primary with the logs applied */
	enum hivelog_format format; /* of the logs applied */
	size_t order[HIVELOG_MAX_FILES]; /* indexes of the logs applied, in the order applied */
	size_t norder;
	size_t entries;          /* entries (old format: pages) applied in all */
	uint32_t first_seq, last_seq; /* new format: first and last entry applied */
	uint32_t seq;            /* the view's sequence numbers (both): above every number any log holds,
				    * so that Windows never takes a log entry for one still to apply */
	char why[2 * HIVELOG_WHY_MAX]; /* dirty and not replayed: why ("no log is usable") */
};

/* Replays logs[0..n) (bytes and lengths; an empty file is len 0) onto the primary, by the
 * specification's rules: nothing when the primary is clean (a clean primary's logs are never
 * applied, whatever they hold); new format: from the log whose first entry's sequence number
 * is the earliest not below the primary's secondary one (modulo 2^32), continuing into the
 * other log only at last + 1, stopping at the first gap, bad hash or bad size, growing the
 * hive bins to each entry's size; old format: the valid log (LOG1 first) whose timestamp
 * matches the primary's, its dirty pages copied in; a bad base block is recovered from a log.
 * infos[i] gets each log's judgement (applies, applied, why).
 * 1: replayed; *view (malloc'd, caller frees; *view_len bytes) is the recovered hive with file
 *    type 0, both sequence numbers res->seq and a right checksum.
 * 0: not replayed: the primary is clean (res->dirty 0), or no log applies (res->why says why).
 * -1: GT_REFUSED when the primary is not even a base block, or a replay would exceed
 *    max_size bytes (the view is never larger). */
int hivelog_replay(const uint8_t *primary, size_t primary_len, const uint8_t *const *logs, const size_t *log_lens, size_t n,
		   uint64_t max_size, struct hivelog_info *infos, struct hivelog_replay *res, uint8_t **view, size_t *view_len,
		   struct gt_error *e);

/* "new (HvLE entries)", "old (DIRT pages)", "empty", "invalid". */
const char *hivelog_format_name(enum hivelog_format f);

#endif
