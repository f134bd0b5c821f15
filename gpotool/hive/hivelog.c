/* Transaction-log replay, in memory: judges each log (old "DIRT" or new "HvLE" format) and
 * applies the ones Windows would apply onto a copy of the primary, by Suhanov's regf
 * specification. Every number read from a log or the primary is checked against its buffer
 * before it is used, and the view never grows past max_size: the inputs are hostile. */
#include "hive/hivelog.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "hive/hivefile.h"

#define LOG_BASE_BLOCK 512u  /* a log keeps only the first sector of the base block */
#define ENTRY_HEADER 40u     /* of a new-format log entry, before its page references */
#define PAGE 512u
#define BIN_UNIT 4096u

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

/* ---- Marvin32 ---------------------------------------------------------------------------- */

static uint32_t rotl32(uint32_t x, unsigned r)
{
	return x << r | x >> (32 - r);
}

static void marvin_block(uint32_t *lo, uint32_t *hi)
{
	*hi ^= *lo;
	*lo = rotl32(*lo, 20) + *hi;
	*hi = rotl32(*hi, 9) ^ *lo;
	*lo = rotl32(*lo, 27) + *hi;
	*hi = rotl32(*hi, 19);
}

uint64_t marvin32(const uint8_t *data, size_t len, uint64_t seed)
{
	uint32_t lo = (uint32_t)seed, hi = (uint32_t)(seed >> 32), last = 0x80;

	for (; len >= 4; data += 4, len -= 4) {
		lo += get32(data);
		marvin_block(&lo, &hi);
	}
	/* the 0..3 bytes left, then 0x80, then zeros: always one more block, and one of zero */
	for (size_t i = len; i-- > 0;)
		last = last << 8 | data[i];
	lo += last;
	marvin_block(&lo, &hi);
	marvin_block(&lo, &hi);
	return (uint64_t)hi << 32 | lo;
}

/* ---- sequence numbers ---------------------------------------------------------------------- */

/* a comes after b, modulo 2^32 (serial-number arithmetic: Windows lets them wrap) */
static int seq_after(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

static uint32_t seq_later(uint32_t a, uint32_t b)
{
	return seq_after(a, b) ? a : b;
}

/* ---- new format: log entries --------------------------------------------------------------- */

struct entry {
	uint32_t size, flags, seq, bins_size, npages;
	int hashed; /* its size and hashes are right, whatever else is wrong: Windows wrote it */
};

enum { ENTRY_END, ENTRY_OK, ENTRY_BAD };

/* The page references of an entry whose size and hashes are right: every page inside the
 * entry and inside the hive bins the entry claims. */
static int check_refs(const uint8_t *p, const struct entry *ent, uint64_t off, char *why, size_t n)
{
	uint64_t data = ENTRY_HEADER + 8ull * ent->npages;

	for (uint32_t k = 0; k < ent->npages; k++) {
		uint32_t po = get32(p + ENTRY_HEADER + 8 * k), ps = get32(p + ENTRY_HEADER + 8 * k + 4);

		if (ps == 0 || ps % PAGE) {
			say(why, n, "page %" PRIu32 " of the entry at offset %" PRIu64 " has size %" PRIu32 " (not a multiple of 512)",
			    k, off, ps);
			return -1;
		}
		if ((uint64_t)po + ps > ent->bins_size) {
			say(why, n, "page %" PRIu32 " of the entry at offset %" PRIu64 " (%" PRIu32 " bytes at %" PRIu32
			    ") is past its %" PRIu32 " bytes of hive bins", k, off, ps, po, ent->bins_size);
			return -1;
		}
		data += ps;
		if (data > ent->size) {
			say(why, n, "the pages of the entry at offset %" PRIu64 " overrun its %" PRIu32 " bytes", off, ent->size);
			return -1;
		}
	}
	return 0;
}

/* The entry at off: ENTRY_OK with *ent filled when its size, hashes, hive-bins size and page
 * references are right; ENTRY_END where entries end (end of file, no signature: zeros or the
 * remnants of older writes); ENTRY_BAD with why. off <= len. */
static int parse_entry(const uint8_t *log, size_t len, uint64_t off, struct entry *ent, char *why, size_t n)
{
	const uint8_t *p = log + off;
	size_t left = len - off;

	ent->hashed = 0;
	if (left < 4 || memcmp(p, "HvLE", 4) != 0)
		return ENTRY_END;
	if (left < ENTRY_HEADER) {
		say(why, n, "truncated entry at offset %" PRIu64 ": %zu bytes of its 40-byte header", off, left);
		return ENTRY_BAD;
	}
	ent->size = get32(p + 4);
	ent->flags = get32(p + 8);
	ent->seq = get32(p + 12);
	ent->bins_size = get32(p + 16);
	ent->npages = get32(p + 20);
	if (ent->size < ENTRY_HEADER || ent->size % PAGE) {
		say(why, n, "bad size %" PRIu32 " in the entry at offset %" PRIu64 " (not a multiple of 512)", ent->size, off);
		return ENTRY_BAD;
	}
	if (ent->size > left) {
		say(why, n, "truncated entry at offset %" PRIu64 ": it claims %" PRIu32 " bytes, %zu are left", off, ent->size,
		    left);
		return ENTRY_BAD;
	}
	if (marvin32(p + ENTRY_HEADER, ent->size - ENTRY_HEADER, HIVELOG_MARVIN_SEED) != get64(p + 24)) {
		say(why, n, "bad Hash-1 in the entry at offset %" PRIu64, off);
		return ENTRY_BAD;
	}
	if (marvin32(p, 32, HIVELOG_MARVIN_SEED) != get64(p + 32)) {
		say(why, n, "bad Hash-2 in the entry at offset %" PRIu64, off);
		return ENTRY_BAD;
	}
	ent->hashed = 1;
	if (ent->bins_size == 0 || ent->bins_size % BIN_UNIT) {
		say(why, n, "the entry at offset %" PRIu64 " claims %" PRIu32 " bytes of hive bins (not a multiple of 4096)", off,
		    ent->bins_size);
		return ENTRY_BAD;
	}
	if (ent->npages > (ent->size - ENTRY_HEADER) / 8) {
		say(why, n, "the entry at offset %" PRIu64 " claims %" PRIu32 " dirty pages, more than its %" PRIu32
		    " bytes can reference", off, ent->npages, ent->size);
		return ENTRY_BAD;
	}
	return check_refs(p, ent, off, why, n) < 0 ? ENTRY_BAD : ENTRY_OK;
}

/* The run of consecutive valid entries from offset 512, and max_seq over every entry whose
 * hashes are right: past a gap the scan goes on (stale entries of a later write may follow),
 * past damage it cannot (the next entry's offset is unknown). */
static void scan_new(const uint8_t *log, size_t len, uint64_t max_size, struct hivelog_info *out)
{
	uint64_t off = LOG_BASE_BLOCK;
	uint32_t expect = out->seq1;
	int run = 1, r;
	struct entry ent;
	char why[HIVELOG_WHY_MAX];

	out->format = HIVELOG_NEW;
	out->end = off;
	out->max_seq = out->seq1;
	for (;;) {
		r = parse_entry(log, len, off, &ent, why, sizeof(why));
		if (r == ENTRY_END || (r == ENTRY_BAD && !ent.hashed))
			break; /* damage: where the next entry starts is unknown */
		out->max_seq = seq_later(ent.seq, out->max_seq);
		if (!run) {
			/* past the run: only looking for higher numbers */
		} else if (r == ENTRY_BAD) {
			run = 0;
			memcpy(out->why, why, sizeof(why));
		} else if (ent.seq != expect) {
			run = 0;
			if (out->entries == 0)
				say(out->why, sizeof(out->why), "its first entry (offset %" PRIu64 ") has sequence number %" PRIu32
				    ", not its base block's %" PRIu32, off, ent.seq, out->seq1);
			else
				say(out->why, sizeof(out->why), "gap: the entry at offset %" PRIu64 " has sequence number %" PRIu32
				    ", %" PRIu32 " expected", off, ent.seq, expect);
		} else if (BIN_UNIT + (uint64_t)ent.bins_size > max_size) {
			run = 0;
			say(out->why, sizeof(out->why), "the entry at offset %" PRIu64 " claims %" PRIu32
			    " bytes of hive bins, over the %" PRIu64 "-byte limit", off, ent.bins_size, max_size);
		} else {
			if (out->entries++ == 0)
				out->first_seq = ent.seq;
			out->last_seq = ent.seq;
			expect = ent.seq + 1;
			out->end = off + ent.size;
		}
		off += ent.size; /* at least 512 and within the file: the loop ends within len / 512 steps */
	}
	if (run && r == ENTRY_BAD)
		memcpy(out->why, why, sizeof(why));
	else if (run && out->entries == 0)
		say(out->why, sizeof(out->why), "no log entries");
}

/* ---- old format: dirty vector and pages ---------------------------------------------------- */

static uint64_t old_pages_offset(uint32_t bins_size)
{
	uint64_t vector = 4 + bins_size / BIN_UNIT; /* "DIRT" + one bit per 512-byte page */

	return LOG_BASE_BLOCK + (vector + PAGE - 1) / PAGE * PAGE;
}

static int bit_set(const uint8_t *bitmap, uint64_t bit)
{
	return bitmap[bit / 8] >> (bit % 8) & 1;
}

static void scan_old(const uint8_t *log, size_t len, struct hivelog_info *out)
{
	uint64_t bytes = out->bins_size / BIN_UNIT, pages = 0, need;

	if (out->bins_size == 0 || out->bins_size % BIN_UNIT) {
		say(out->why, sizeof(out->why), "its hive-bins size %" PRIu32 " is not a multiple of 4096", out->bins_size);
		return;
	}
	if (len < LOG_BASE_BLOCK + 4 || memcmp(log + LOG_BASE_BLOCK, "DIRT", 4) != 0) {
		say(out->why, sizeof(out->why), "no 'DIRT' dirty vector at offset 512");
		return;
	}
	if (LOG_BASE_BLOCK + 4 + bytes > len) {
		say(out->why, sizeof(out->why), "truncated: its dirty vector needs %" PRIu64 " bytes, the file has %zu",
		    LOG_BASE_BLOCK + 4 + bytes, len);
		return;
	}
	for (uint64_t i = 0; i < bytes; i++)
		pages += (uint64_t)__builtin_popcount(log[LOG_BASE_BLOCK + 4 + i]);
	need = old_pages_offset(out->bins_size) + pages * PAGE;
	if (need > len) {
		say(out->why, sizeof(out->why), "truncated: %" PRIu64 " dirty pages need %" PRIu64 " bytes, the file has %zu",
		    pages, need, len);
		return;
	}
	out->format = HIVELOG_OLD;
	out->entries = (size_t)pages;
	out->end = need;
	out->max_seq = out->seq1;
}

/* ---- one log ------------------------------------------------------------------------------- */

static void scan(const uint8_t *log, size_t len, uint64_t max_size, struct hivelog_info *out)
{
	uint32_t type;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		out->format = HIVELOG_EMPTY;
		return;
	}
	out->format = HIVELOG_INVALID;
	if (len < LOG_BASE_BLOCK) {
		say(out->why, sizeof(out->why), "truncated: %zu bytes, shorter than its 512-byte base block", len);
		return;
	}
	if (memcmp(log, "regf", 4) != 0) {
		say(out->why, sizeof(out->why), "no 'regf' base block");
		return;
	}
	out->seq1 = get32(log + 4);
	out->seq2 = get32(log + 8);
	out->last_written = get64(log + 12);
	out->bins_size = get32(log + 40);
	type = get32(log + 28);
	if (hivefile_checksum(log) != get32(log + 508)) {
		say(out->why, sizeof(out->why), "its base block's checksum is bad (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 ")",
		    get32(log + 508), hivefile_checksum(log));
		return;
	}
	if (out->seq1 != out->seq2) {
		say(out->why, sizeof(out->why), "sequence numbers %" PRIu32 " != %" PRIu32 " in its base block (cut while being written)",
		    out->seq1, out->seq2);
		return;
	}
	if (type == 1 || type == 2)
		scan_old(log, len, out);
	else if (type == 6)
		scan_new(log, len, max_size, out);
	else if (type == 0)
		say(out->why, sizeof(out->why), "file type 0 (a primary hive, not a log)");
	else
		say(out->why, sizeof(out->why), "file type %" PRIu32 " (not a transaction log)", type);
}

void hivelog_inspect(const uint8_t *log, size_t len, struct hivelog_info *out)
{
	scan(log, len, UINT64_MAX, out);
}

const char *hivelog_format_name(enum hivelog_format f)
{
	switch (f) {
	case HIVELOG_NEW: return "new (HvLE entries)";
	case HIVELOG_OLD: return "old (DIRT pages)";
	case HIVELOG_EMPTY: return "empty";
	case HIVELOG_INVALID: break;
	}
	return "invalid";
}

/* ---- replay -------------------------------------------------------------------------------- */

struct replay {
	const uint8_t *primary;
	size_t primary_len;
	const uint8_t *const *logs;
	const size_t *lens;
	size_t n;
	uint64_t max_size;
	struct hivelog_info *infos;
	struct hivelog_replay *res;
	struct hive_header h;
	int bb_ok;        /* the primary's base-block checksum is right */
	uint8_t *view;
	size_t view_len;
};

static void view_start(struct replay *r, const uint8_t *base_block_from)
{
	r->view = xmemdup(r->primary, r->primary_len);
	r->view_len = r->primary_len;
	if (base_block_from) {
		/* the log's sector of the base block; the rest of the 4096 bytes stays the primary's */
		memcpy(r->view, base_block_from, LOG_BASE_BLOCK);
		put32(r->view + 28, 0);
	}
}

/* Zero-filled growth to need bytes (callers keep need <= max_size); never shrinks. */
static void view_grow(struct replay *r, uint64_t need)
{
	if (need <= r->view_len)
		return;
	r->view = xrealloc(r->view, (size_t)need);
	memset(r->view + r->view_len, 0, (size_t)need - r->view_len);
	r->view_len = (size_t)need;
}

static void view_drop(struct replay *r)
{
	free(r->view);
	r->view = NULL;
	r->view_len = 0;
}

static void note_applied(struct replay *r, size_t i, size_t count, uint32_t first, uint32_t last)
{
	struct hivelog_info *inf = &r->infos[i];

	inf->applies = 1;
	inf->applied = count;
	inf->applied_first = first;
	inf->applied_last = last;
	if (r->res->norder < HIVELOG_MAX_FILES)
		r->res->order[r->res->norder++] = i;
	r->res->entries += count;
}

/* Copies the run of entries scan_new found in log i into the view; the base block gets the
 * last entry's hive-bins size and KTM flag. */
static void apply_entries(struct replay *r, size_t i)
{
	const uint8_t *log = r->logs[i];
	struct hivelog_info *inf = &r->infos[i];
	uint64_t off = LOG_BASE_BLOCK;
	struct entry ent = { 0 };
	char why[HIVELOG_WHY_MAX];
	size_t k;

	for (k = 0; k < inf->entries; k++) {
		const uint8_t *p = log + off, *page;

		if (parse_entry(log, r->lens[i], off, &ent, why, sizeof(why)) != ENTRY_OK)
			break; /* not reached: the scan accepted these very bytes */
		view_grow(r, BIN_UNIT + (uint64_t)ent.bins_size);
		page = p + ENTRY_HEADER + 8ull * ent.npages;
		for (uint32_t j = 0; j < ent.npages; j++) {
			uint32_t po = get32(p + ENTRY_HEADER + 8 * j), ps = get32(p + ENTRY_HEADER + 8 * j + 4);

			/* inside the view: po + ps <= bins_size, and the view holds 4096 + bins_size */
			memcpy(r->view + BIN_UNIT + po, page, ps);
			page += ps;
		}
		off += ent.size;
		r->res->last_seq = ent.seq;
	}
	if (k) {
		uint32_t flags = get32(r->view + 144);

		put32(r->view + 40, ent.bins_size);
		put32(r->view + 144, (flags & ~1u) | (ent.flags & 1u));
	}
	note_applied(r, i, k, inf->first_seq, k ? inf->first_seq + (uint32_t)(k - 1) : 0);
}

static void guid_text(const uint8_t *g, char *out, size_t n)
{
	snprintf(out, n, "{%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", get32(g),
		 (unsigned)(g[4] | g[5] << 8), (unsigned)(g[6] | g[7] << 8), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		 g[15]);
}

static int all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* A new-format log the replay may start from or continue with (primary base block valid):
 * entries, the same hive, and a first entry not older than the primary's secondary number. */
static int new_candidate(struct replay *r, size_t i)
{
	struct hivelog_info *inf = &r->infos[i];
	const uint8_t *rm_log = r->logs[i] + 112, *rm_pri = r->primary + 112;
	char a[40], b[40];

	if (inf->format != HIVELOG_NEW || inf->entries == 0)
		return 0;
	if (!all_zero(rm_log, 16) && !all_zero(rm_pri, 16) && memcmp(rm_log, rm_pri, 16) != 0) {
		guid_text(rm_log, a, sizeof(a));
		guid_text(rm_pri, b, sizeof(b));
		say(inf->why, sizeof(inf->why), "a log of another hive: its RmId %s differs from the primary's %s", a, b);
		return 0;
	}
	if (seq_after(r->h.seq2, inf->first_seq)) {
		if (seq_after(r->h.seq2, inf->last_seq))
			say(inf->why, sizeof(inf->why), "entries %" PRIu32 "..%" PRIu32
			    " are older than the primary (secondary sequence number %" PRIu32 ")", inf->first_seq, inf->last_seq,
			    r->h.seq2);
		else
			say(inf->why, sizeof(inf->why), "its entries start at %" PRIu32
			    ", below the primary's secondary sequence number %" PRIu32, inf->first_seq, r->h.seq2);
		return 0;
	}
	return 1;
}

/* Primary base block valid: the candidate with the earliest entries first, then each one
 * whose first entry is the last applied + 1 (spec, "Multiple transaction log files"). */
static int replay_new_chain(struct replay *r)
{
	int cand[HIVELOG_MAX_FILES] = { 0 }, used[HIVELOG_MAX_FILES] = { 0 };
	size_t first = SIZE_MAX;
	uint32_t last;

	for (size_t i = 0; i < r->n; i++) {
		cand[i] = new_candidate(r, i);
		if (cand[i] && (first == SIZE_MAX || (uint32_t)(r->infos[i].first_seq - r->h.seq2) <
							    (uint32_t)(r->infos[first].first_seq - r->h.seq2)))
			first = i;
	}
	if (first == SIZE_MAX)
		return 0;
	view_start(r, NULL);
	r->res->first_seq = r->infos[first].first_seq;
	for (size_t i = first; i != SIZE_MAX;) {
		used[i] = 1;
		apply_entries(r, i);
		last = r->res->last_seq;
		i = SIZE_MAX;
		for (size_t j = 0; j < r->n && i == SIZE_MAX; j++)
			if (cand[j] && !used[j] && r->infos[j].first_seq == last + 1)
				i = j;
	}
	for (size_t j = 0; j < r->n; j++)
		if (cand[j] && !used[j])
			say(r->infos[j].why, sizeof(r->infos[j].why), "entries %" PRIu32 "..%" PRIu32
			    " do not continue the replay (last entry applied: %" PRIu32 ")", r->infos[j].first_seq,
			    r->infos[j].last_seq, last);
	return 1;
}

/* Primary base block bad: only the log with the latest entries, its base block taken. */
static int replay_new_latest(struct replay *r)
{
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < r->n; i++)
		if (r->infos[i].format == HIVELOG_NEW && r->infos[i].entries &&
		    (best == SIZE_MAX || seq_after(r->infos[i].last_seq, r->infos[best].last_seq)))
			best = i;
	if (best == SIZE_MAX)
		return 0;
	view_start(r, r->logs[best]);
	r->res->first_seq = r->infos[best].first_seq;
	apply_entries(r, best);
	for (size_t j = 0; j < r->n; j++)
		if (j != best && r->infos[j].format == HIVELOG_NEW && r->infos[j].entries)
			say(r->infos[j].why, sizeof(r->infos[j].why), "not used: the primary's base block is bad, and another log "
			    "holds later entries (to %" PRIu32 ")", r->infos[best].last_seq);
	return 1;
}

/* 1 when every hive bin holding a page the log rewrote is sane (spec, "Dirty pages"): "hbin",
 * its own offset, a size of 4096 or more in 4096s that stays inside the hive bins. */
static int old_bins_sane(const uint8_t *bins, uint32_t bins_size, const uint8_t *bitmap, char *why, size_t n)
{
	uint64_t off = 0;

	while (off < bins_size) {
		const uint8_t *b = bins + off;
		uint32_t size = get32(b + 8);
		int sane = memcmp(b, "hbin", 4) == 0 && get32(b + 4) == off && size >= BIN_UNIT && size % BIN_UNIT == 0 &&
			   size <= bins_size - off;
		uint64_t span = sane ? size : BIN_UNIT, touched = 0;

		for (uint64_t p = off / PAGE; p < (off + span) / PAGE && !touched; p++)
			touched = (uint64_t)bit_set(bitmap, p);
		if (!sane && !touched)
			return 1; /* the primary's own damage, which the log leaves alone: the walk ends here */
		if (!sane) {
			say(why, n, "the hive bin at offset %" PRIu64 " it rewrites is not sane", BIN_UNIT + off);
			return 0;
		}
		off += size;
	}
	return 1;
}

/* An old-format log applies to the hive whose last-written timestamp is its own; with a bad
 * base block, the first hive bin's copy of it stands in (none readable: accepted). */
static int old_stamp_matches(struct replay *r, struct hivelog_info *inf)
{
	uint64_t stamp;

	if (r->bb_ok)
		stamp = r->h.last_written;
	else if (r->primary_len >= BIN_UNIT + 32 && memcmp(r->primary + BIN_UNIT, "hbin", 4) == 0)
		stamp = get64(r->primary + BIN_UNIT + 20);
	else
		return 1;
	if (inf->last_written == stamp)
		return 1;
	say(inf->why, sizeof(inf->why), "its timestamp 0x%016" PRIx64 " differs from the primary's 0x%016" PRIx64 "%s",
	    inf->last_written, stamp, r->bb_ok ? "" : " (in its first hive bin)");
	return 0;
}

/* Applies old-format log i onto a fresh view: 1, or 0 with why when its hive bins are over
 * the limit or the bins it rewrites are not sane (the view is then dropped). */
static int apply_old(struct replay *r, size_t i)
{
	struct hivelog_info *inf = &r->infos[i];
	const uint8_t *log = r->logs[i], *bitmap = log + LOG_BASE_BLOCK + 4, *page;

	if (BIN_UNIT + (uint64_t)inf->bins_size > r->max_size) {
		say(inf->why, sizeof(inf->why), "its %" PRIu32 " bytes of hive bins are over the %" PRIu64 "-byte limit",
		    inf->bins_size, r->max_size);
		return 0;
	}
	view_start(r, r->bb_ok ? NULL : log);
	view_grow(r, BIN_UNIT + (uint64_t)inf->bins_size);
	page = log + old_pages_offset(inf->bins_size);
	for (uint64_t bit = 0; bit < inf->bins_size / PAGE; bit++) {
		if (!bit_set(bitmap, bit))
			continue;
		memcpy(r->view + BIN_UNIT + bit * PAGE, page, PAGE); /* the scan counted the pages in the file */
		page += PAGE;
	}
	if (!old_bins_sane(r->view + BIN_UNIT, inf->bins_size, bitmap, inf->why, sizeof(inf->why))) {
		view_drop(r);
		return 0;
	}
	put32(r->view + 40, inf->bins_size);
	inf->why[0] = '\0';
	note_applied(r, i, inf->entries, 0, 0);
	return 1;
}

/* Old format: the first valid log (LOG1 before LOG2) whose timestamp matches. With a bad base
 * block the first hive bin's timestamp is only a preference: Windows does not keep it current
 * (yarp's BadBaseBlockHive recovers although it differs), so any valid log is tried next. */
static int replay_old(struct replay *r)
{
	size_t winner = SIZE_MAX;
	int tried[HIVELOG_MAX_FILES] = { 0 };

	for (int pass = 0; pass < (r->bb_ok ? 1 : 2) && winner == SIZE_MAX; pass++)
		for (size_t i = 0; i < r->n && winner == SIZE_MAX; i++) {
			if (r->infos[i].format != HIVELOG_OLD || tried[i] || (pass == 0 && !old_stamp_matches(r, &r->infos[i])))
				continue;
			tried[i] = 1;
			if (apply_old(r, i))
				winner = i;
		}
	for (size_t i = 0; winner != SIZE_MAX && i < r->n; i++)
		if (i != winner && r->infos[i].format == HIVELOG_OLD && !r->infos[i].why[0])
			say(r->infos[i].why, sizeof(r->infos[i].why), "not used: an earlier log was applied");
	return winner != SIZE_MAX;
}

/* Above every sequence number anything holds, so that Windows never takes a log entry for
 * one still to apply; then file type 0 and the checksum. */
static void finish_view(struct replay *r)
{
	uint32_t seq = seq_later(r->h.seq1, r->h.seq2);

	for (size_t i = 0; i < r->n; i++)
		if (r->infos[i].format == HIVELOG_NEW || r->infos[i].format == HIVELOG_OLD)
			seq = seq_later(r->infos[i].max_seq, seq);
	if (r->res->format == HIVELOG_NEW)
		seq = seq_later(r->res->last_seq, seq);
	r->res->seq = seq + 1;
	put32(r->view + 4, r->res->seq);
	put32(r->view + 8, r->res->seq);
	put32(r->view + 28, 0);
	put32(r->view + 508, hivefile_checksum(r->view));
}

static void explain_none(struct replay *r)
{
	size_t usable = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->infos[i].format == HIVELOG_NEW || r->infos[i].format == HIVELOG_OLD)
			usable++;
	say(r->res->why, sizeof(r->res->why), "%s",
	    r->n == 0 ? "no transaction log to replay" : usable ? "no log applies" : "no log is usable");
}

int hivelog_replay(const uint8_t *primary, size_t primary_len, const uint8_t *const *logs, const size_t *log_lens, size_t n,
		   uint64_t max_size, struct hivelog_info *infos, struct hivelog_replay *res, uint8_t **view, size_t *view_len,
		   struct gt_error *e)
{
	struct replay r = { .primary = primary, .primary_len = primary_len, .logs = logs, .lens = log_lens, .n = n,
			    .max_size = max_size, .infos = infos, .res = res };
	struct gt_error ignored = { 0 };

	memset(res, 0, sizeof(*res));
	*view = NULL;
	*view_len = 0;
	if (n > HIVELOG_MAX_FILES)
		return gt_fail(e, GT_FAILED, "internal error: %zu transaction logs, at most %d", n, HIVELOG_MAX_FILES);
	for (size_t i = 0; i < n; i++)
		scan(logs[i], log_lens[i], max_size, &infos[i]);
	if (hivefile_read_header(primary, primary_len, &r.h, &ignored) < 0)
		return gt_fail(e, GT_REFUSED, "%s", ignored.msg);
	if (primary_len > max_size)
		return gt_fail(e, GT_REFUSED, "the hive is %zu bytes, over the %" PRIu64 "-byte limit", primary_len, max_size);
	r.bb_ok = r.h.checksum_stored == r.h.checksum_computed;
	res->dirty = !r.bb_ok || r.h.seq1 != r.h.seq2;
	res->base_block_bad = !r.bb_ok;
	if (!res->dirty) {
		for (size_t i = 0; i < n; i++)
			if (infos[i].format == HIVELOG_NEW || infos[i].format == HIVELOG_OLD)
				say(infos[i].why, sizeof(infos[i].why), "the primary is clean: Windows ignores its logs");
		return 0;
	}
	if (r.bb_ok ? replay_new_chain(&r) : replay_new_latest(&r)) {
		res->format = HIVELOG_NEW;
		for (size_t i = 0; i < n; i++)
			if (infos[i].format == HIVELOG_OLD)
				say(infos[i].why, sizeof(infos[i].why), "not used: new-format logs were applied");
	} else if (replay_old(&r)) {
		res->format = HIVELOG_OLD;
	} else {
		explain_none(&r);
		return 0;
	}
	finish_view(&r);
	res->replayed = 1;
	*view = r.view;
	*view_len = r.view_len;
	return 1;
}
