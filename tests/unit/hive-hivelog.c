/* Unit tests for hivelog.c: Marvin32 against published vectors, the judgement of one log
 * (base block, entries, dirty vector), the replay rules on small hives and logs built here,
 * and the shared corpus's dirty hives (skipped when ../shared/corpus, or $CORPUS, is absent). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "hive/hivefile.h"
#include "hive/hivelog.h"

#define LIMIT (64ull << 20)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void reseal(uint8_t *b)
{
	put32(b + 508, hivefile_checksum(b));
}

static void assert_has(const char *s, const char *want)
{
	if (!strstr(s, want))
		fail_msg("'%s' not in '%s'", want, s);
}

/* ---- Marvin32 ---------------------------------------------------------------------------- */

/* The vectors of Microsoft's Marvin tests, as in Azure/azure-functions-host
 * test/WebJobs.Script.Tests/Security/MarvinTests.cs (MIT; they come from
 * github.com/skeeto/marvin32 marvin32.c and agree with .NET's Marvin.cs), plus SymCrypt's
 * own test (lib/marvin32.c: seed 0xd53cd9cecd0893b7, "abc"). */
static void test_marvin_vectors(void **state)
{
	static const struct {
		uint64_t seed;
		const char *data;
		size_t len;
		uint64_t want;
	} v[] = {
		{ 0x004fb61a001bdbccull, "", 0, 0x30ed35c100cd3c7dull },
		{ 0x004fb61a001bdbccull, "\xaf", 1, 0x48e73fc77d75ddc1ull },
		{ 0x004fb61a001bdbccull, "\xe7\x0f", 2, 0xb5f6e1fc485dbff8ull },
		{ 0x004fb61a001bdbccull, "\x37\xf4\x95", 3, 0xf0b07c789b8cf7e8ull },
		{ 0x004fb61a001bdbccull, "\x86\x42\xdc\x59", 4, 0x7008f2e87e9cf556ull },
		{ 0x004fb61a001bdbccull, "\x15\x3f\xb7\x98\x26", 5, 0xe6c08c6da2afa997ull },
		{ 0x004fb61a001bdbccull, "\x09\x32\xe6\x24\x6c\x47", 6, 0x6f04bf1a5ea24060ull },
		{ 0x004fb61a001bdbccull, "\xab\x42\x7e\xa8\xd1\x0f\xc7", 7, 0xe11847e4f0678c41ull },
		{ 0x804fb61a001bdbccull, "", 0, 0x10a9d5d3996fd65dull },
		{ 0x804fb61a001bdbccull, "\xaf", 1, 0x68201f91960ebf91ull },
		{ 0x804fb61a001bdbccull, "\x86\x42\xdc\x59", 4, 0x36289d9654fb49f6ull },
		{ 0x804fb61a001bdbccull, "\xab\x42\x7e\xa8\xd1\x0f\xc7", 7, 0xe203987dba252fb3ull },
		{ 0x804fb61a801bdbccull, "\x00", 1, 0xa37fb0da2ecae06cull },
		{ 0x804fb61a801bdbccull, "\xff\x00\xff", 3, 0x9d8577c0fe0d30bfull },
		{ 0x804fb61a801bdbccull, "\x00\xff\x00\xff\x00\xff", 6, 0xec21276a17e821a5ull },
		{ 0x804fb61a801bdbccull, "\x00\xff\x00\xff\x00\xff\x00", 7, 0x71876f2efb1b0ee8ull },
		{ 0xd53cd9cecd0893b7ull, "abc", 3, 0x22c74339492769bfull },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (marvin32((const uint8_t *)v[i].data, v[i].len, v[i].seed) != v[i].want)
			fail_msg("vector %zu: 0x%016llx, want 0x%016llx", i,
				 (unsigned long long)marvin32((const uint8_t *)v[i].data, v[i].len, v[i].seed),
				 (unsigned long long)v[i].want);
}

/* ---- builders ---------------------------------------------------------------------------- */

/* The empty hive of `hive new` (8192 bytes: base block + one 4096-byte bin), seq1/seq2. */
static uint8_t *make_primary(uint32_t seq1, uint32_t seq2, size_t *len)
{
	uint8_t *p;

	hivefile_new("SOFTWARE", 132000000000000000ull, &p, len);
	put32(p + 4, seq1);
	put32(p + 8, seq2);
	reseal(p);
	return p;
}

/* A log's base block: the primary's first sector with seq/seq, the file type, resealed. */
static void log_start(struct sbuf *log, const uint8_t *primary, uint32_t seq, uint32_t type)
{
	uint8_t bb[512];

	memcpy(bb, primary, 512);
	put32(bb + 4, seq);
	put32(bb + 8, seq);
	put32(bb + 28, type);
	reseal(bb);
	sbuf_init(log);
	sbuf_add(log, bb, 512);
}

struct page {
	uint32_t off, size;
	const uint8_t *data; /* NULL: filled with fill */
	uint8_t fill;
};

/* Appends an HvLE entry with right Hash-1 and Hash-2; returns its offset in the log. */
static size_t add_entry(struct sbuf *log, uint32_t seq, uint32_t bins, uint32_t flags, const struct page *pages, size_t n)
{
	size_t size = 40 + 8 * n, at = 40 + 8 * n, off = log->len;
	uint8_t *e;

	for (size_t i = 0; i < n; i++)
		size += pages[i].size;
	size = (size + 511) / 512 * 512;
	e = xcalloc(1, size);
	memcpy(e, "HvLE", 4);
	put32(e + 4, (uint32_t)size);
	put32(e + 8, flags);
	put32(e + 12, seq);
	put32(e + 16, bins);
	put32(e + 20, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put32(e + 40 + 8 * i, pages[i].off);
		put32(e + 44 + 8 * i, pages[i].size);
		if (pages[i].data)
			memcpy(e + at, pages[i].data, pages[i].size);
		else
			memset(e + at, pages[i].fill, pages[i].size);
		at += pages[i].size;
	}
	put64(e + 24, marvin32(e + 40, size - 40, HIVELOG_MARVIN_SEED));
	put64(e + 32, marvin32(e, 32, HIVELOG_MARVIN_SEED));
	sbuf_add(log, e, size);
	free(e);
	return off;
}

/* An entry of one 512-byte page at offset 0 of a 4096-byte hive, filled with fill. */
static size_t add_simple(struct sbuf *log, uint32_t seq, uint8_t fill)
{
	struct page pg = { .off = 512, .size = 512, .fill = fill };

	return add_entry(log, seq, 4096, 0, &pg, 1);
}

/* A new-format log whose entries are first..first+count-1 (modulo 2^32), one page each. */
static void new_log(struct sbuf *log, const uint8_t *primary, uint32_t first, uint32_t count)
{
	log_start(log, primary, first, 6);
	for (uint32_t k = 0; k < count; k++)
		add_simple(log, first + k, (uint8_t)(0x10 + k));
}

static const uint8_t *u8(const struct sbuf *sb)
{
	return (const uint8_t *)sb->buf;
}

struct run {
	struct hivelog_info infos[HIVELOG_MAX_FILES];
	struct hivelog_replay res;
	uint8_t *view;
	size_t view_len;
	struct gt_error e;
	int rc;
};

static void replay(struct run *r, const uint8_t *primary, size_t plen, struct sbuf *logs, size_t n, uint64_t max_size)
{
	const uint8_t *bufs[HIVELOG_MAX_FILES];
	size_t lens[HIVELOG_MAX_FILES];

	for (size_t i = 0; i < n; i++) {
		bufs[i] = u8(&logs[i]);
		lens[i] = logs[i].len;
	}
	memset(r, 0, sizeof(*r));
	r->rc = hivelog_replay(primary, plen, bufs, lens, n, max_size, r->infos, &r->res, &r->view, &r->view_len, &r->e);
}

/* A replayed view is a clean primary: type 0, both sequence numbers res.seq, right checksum. */
static void assert_view_clean(const struct run *r)
{
	assert_int_equal(r->rc, 1);
	assert_non_null(r->view);
	assert_int_equal(get32(r->view + 4), r->res.seq);
	assert_int_equal(get32(r->view + 8), r->res.seq);
	assert_int_equal(get32(r->view + 28), 0);
	assert_int_equal(get32(r->view + 508), hivefile_checksum(r->view));
}

static void release(struct sbuf *logs, size_t n, uint8_t *primary, struct run *r)
{
	for (size_t i = 0; i < n; i++)
		sbuf_release(&logs[i]);
	free(primary);
	free(r->view);
}

/* ---- one log ----------------------------------------------------------------------------- */

static void inspect_sb(const struct sbuf *sb, struct hivelog_info *inf)
{
	hivelog_inspect(u8(sb), sb->len, inf);
}

static void test_inspect_base_block(void **state)
{
	struct hivelog_info inf;
	struct sbuf log;
	uint8_t *p;
	size_t plen;

	(void)state;
	p = make_primary(3, 2, &plen);
	hivelog_inspect(NULL, 0, &inf);
	assert_int_equal(inf.format, HIVELOG_EMPTY);
	hivelog_inspect(p, 100, &inf);
	assert_int_equal(inf.format, HIVELOG_INVALID);
	assert_has(inf.why, "truncated: 100 bytes");

	new_log(&log, p, 2, 1);
	log.buf[0] = 'x';
	inspect_sb(&log, &inf);
	assert_has(inf.why, "no 'regf' base block");
	log.buf[0] = 'r';
	log.buf[100] ^= 1;
	inspect_sb(&log, &inf);
	assert_int_equal(inf.format, HIVELOG_INVALID);
	assert_has(inf.why, "its base block's checksum is bad");
	log.buf[100] ^= 1;
	put32((uint8_t *)log.buf + 4, 5);
	put32((uint8_t *)log.buf + 8, 4);
	reseal((uint8_t *)log.buf);
	inspect_sb(&log, &inf);
	assert_has(inf.why, "sequence numbers 5 != 4 in its base block (cut while being written)");
	assert_int_equal(inf.seq1, 5);

	put32(p + 8, 3);
	reseal(p);
	hivelog_inspect(p, plen, &inf); /* the (clean) primary itself */
	assert_int_equal(inf.format, HIVELOG_INVALID);
	assert_has(inf.why, "file type 0 (a primary hive, not a log)");
	put32((uint8_t *)log.buf + 8, 5);
	put32((uint8_t *)log.buf + 28, 9);
	reseal((uint8_t *)log.buf);
	inspect_sb(&log, &inf);
	assert_has(inf.why, "file type 9");
	assert_string_equal(hivelog_format_name(HIVELOG_NEW), "new (HvLE entries)");
	assert_string_equal(hivelog_format_name(HIVELOG_INVALID), "invalid");
	sbuf_release(&log);
	free(p);
}

static void test_inspect_entries(void **state)
{
	struct hivelog_info inf;
	struct sbuf log;
	uint8_t *p;
	size_t plen;

	(void)state;
	p = make_primary(3, 2, &plen);
	new_log(&log, p, 7, 3);
	inspect_sb(&log, &inf);
	assert_int_equal(inf.format, HIVELOG_NEW);
	assert_int_equal(inf.entries, 3);
	assert_int_equal(inf.first_seq, 7);
	assert_int_equal(inf.last_seq, 9);
	assert_int_equal(inf.max_seq, 9);
	assert_int_equal(inf.end, log.len);
	assert_string_equal(inf.why, "");

	/* zeros after the last entry end the run without a complaint */
	sbuf_add(&log, (char[1024]){ 0 }, 1024);
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 3);
	assert_int_equal(inf.end, log.len - 1024);
	assert_string_equal(inf.why, "");
	sbuf_release(&log);

	/* no entries at all */
	log_start(&log, p, 7, 6);
	inspect_sb(&log, &inf);
	assert_int_equal(inf.format, HIVELOG_NEW);
	assert_int_equal(inf.entries, 0);
	assert_has(inf.why, "no log entries");
	sbuf_release(&log);
	free(p);
}

static void test_inspect_bad_hashes(void **state)
{
	struct hivelog_info inf;
	struct sbuf log;
	size_t plen, second;
	uint8_t *p;
	char want[80];

	(void)state;
	p = make_primary(3, 2, &plen);
	log_start(&log, p, 2, 6);
	add_simple(&log, 2, 1);
	second = add_simple(&log, 3, 2);
	add_simple(&log, 4, 3);
	log.buf[second + 600] ^= 1; /* a page byte: Hash-1 */
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 1);
	assert_int_equal(inf.end, second);
	snprintf(want, sizeof(want), "bad Hash-1 in the entry at offset %zu", second);
	assert_string_equal(inf.why, want);
	assert_int_equal(inf.max_seq, 2); /* nothing after damage counts */
	log.buf[second + 600] ^= 1;
	log.buf[second + 8] ^= 1; /* flags: Hash-2 */
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 1);
	snprintf(want, sizeof(want), "bad Hash-2 in the entry at offset %zu", second);
	assert_string_equal(inf.why, want);
	sbuf_release(&log);
	free(p);
}

static void test_inspect_gap_and_stale_entries(void **state)
{
	struct hivelog_info inf;
	struct sbuf log;
	size_t plen, third;
	uint8_t *p;
	char want[120];

	(void)state;
	p = make_primary(3, 2, &plen);
	log_start(&log, p, 5, 6);
	add_simple(&log, 5, 1);
	add_simple(&log, 6, 2);
	third = add_simple(&log, 9, 3);
	add_simple(&log, 12, 4);
	add_simple(&log, 3, 5);
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 2);
	assert_int_equal(inf.last_seq, 6);
	assert_int_equal(inf.end, third);
	snprintf(want, sizeof(want), "gap: the entry at offset %zu has sequence number 9, 7 expected", third);
	assert_string_equal(inf.why, want);
	assert_int_equal(inf.max_seq, 12); /* stale, but higher: a clean primary must be above it */
	sbuf_release(&log);

	/* the first entry is not the base block's number */
	log_start(&log, p, 5, 6);
	add_simple(&log, 7, 1);
	inspect_sb(&log, &inf);
	assert_int_equal(inf.format, HIVELOG_NEW);
	assert_int_equal(inf.entries, 0);
	assert_has(inf.why, "has sequence number 7, not its base block's 5");
	assert_int_equal(inf.max_seq, 7);
	sbuf_release(&log);
	free(p);
}

static void test_inspect_bad_entries(void **state)
{
	struct hivelog_info inf;
	struct sbuf log;
	size_t plen, second;
	uint8_t *p;
	struct page past = { .off = 4096, .size = 512, .fill = 1 }, odd = { .off = 0, .size = 100, .fill = 1 };

	(void)state;
	p = make_primary(3, 2, &plen);

	/* truncated: the file ends inside the second entry */
	new_log(&log, p, 2, 2);
	log.len -= 100;
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 1);
	assert_has(inf.why, "truncated entry at offset 1536");
	sbuf_release(&log);

	/* a size not a multiple of 512 */
	new_log(&log, p, 2, 2);
	put32((uint8_t *)log.buf + 1536 + 4, 1000);
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 1);
	assert_has(inf.why, "bad size 1000 in the entry at offset 1536");
	sbuf_release(&log);

	/* hive bins not in 4096s, with right hashes */
	log_start(&log, p, 2, 6);
	add_simple(&log, 2, 1);
	second = add_entry(&log, 3, 5000, 0, &past, 0);
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 1);
	assert_int_equal(second, 1536);
	assert_has(inf.why, "claims 5000 bytes of hive bins (not a multiple of 4096)");
	sbuf_release(&log);

	/* a page past the hive bins; a page not in 512s */
	log_start(&log, p, 2, 6);
	add_entry(&log, 2, 4096, 0, &past, 1);
	add_simple(&log, 9, 1); /* its hashes are right: the scan goes on past the bad one */
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 0);
	assert_has(inf.why, "is past its 4096 bytes of hive bins");
	assert_int_equal(inf.max_seq, 9);
	sbuf_release(&log);
	log_start(&log, p, 2, 6);
	add_entry(&log, 2, 4096, 0, &odd, 1);
	inspect_sb(&log, &inf);
	assert_has(inf.why, "has size 100 (not a multiple of 512)");
	sbuf_release(&log);

	/* more page references than the entry holds */
	new_log(&log, p, 2, 1);
	put32((uint8_t *)log.buf + 512 + 20, 0x40000000);
	put64((uint8_t *)log.buf + 512 + 32, marvin32(u8(&log) + 512, 32, HIVELOG_MARVIN_SEED));
	inspect_sb(&log, &inf);
	assert_int_equal(inf.entries, 0);
	assert_has(inf.why, "dirty pages, more than");
	sbuf_release(&log);
	free(p);
}

/* ---- replay, new format ------------------------------------------------------------------ */

/* Entry 2 rewrites the hive bin (its header's timestamp changed), entry 3 adds a second
 * 4096-byte bin holding one free cell and sets the KTM flag: the view is a valid hive of
 * 8192 bytes of bins, as hivefile_check_safe judges it. */
static void test_replay_new_grows_the_hive(void **state)
{
	struct sbuf logs[1];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(3, 2, &plen), bin0[4096], bin1[4096] = { 0 };
	struct page pg0 = { .off = 0, .size = 4096, .data = bin0 }, pg1 = { .off = 4096, .size = 4096, .data = bin1 };
	struct gt_error e = { 0 };

	(void)state;
	memcpy(bin0, p + 4096, 4096);
	put64(bin0 + 20, 0x1122334455667788ull);
	memcpy(bin1, "hbin", 4);
	put32(bin1 + 4, 4096);
	put32(bin1 + 8, 4096);
	put32(bin1 + 32, 4064); /* a free cell: positive size */
	log_start(&logs[0], p, 2, 6);
	add_entry(&logs[0], 2, 4096, 0, &pg0, 1);
	add_entry(&logs[0], 3, 8192, 1, &pg1, 1);
	replay(&r, p, plen, logs, 1, LIMIT);
	assert_view_clean(&r);
	assert_int_equal(r.res.dirty, 1);
	assert_int_equal(r.res.base_block_bad, 0);
	assert_int_equal(r.res.replayed, 1);
	assert_int_equal(r.res.format, HIVELOG_NEW);
	assert_int_equal(r.res.entries, 2);
	assert_int_equal(r.res.first_seq, 2);
	assert_int_equal(r.res.last_seq, 3);
	assert_int_equal(r.res.seq, 4); /* above the primary's 3 and the entries' 3 */
	assert_int_equal(r.res.norder, 1);
	assert_int_equal(r.infos[0].applies, 1);
	assert_int_equal(r.infos[0].applied, 2);
	assert_int_equal(r.infos[0].applied_first, 2);
	assert_int_equal(r.infos[0].applied_last, 3);
	assert_int_equal(r.view_len, 4096 + 8192);
	assert_int_equal(get32(r.view + 40), 8192);
	assert_int_equal(get32(r.view + 144) & 1, 1);
	assert_memory_equal(r.view + 4096, bin0, 4096);
	assert_memory_equal(r.view + 8192, bin1, 4096);
	if (hivefile_check_safe(r.view, r.view_len, r.view_len, 0, &e) != 0)
		fail_msg("%s", e.msg);
	release(logs, 1, p, &r);
}

/* LOG1 holds the later entries: the replay starts with LOG2 (spec: "the first transaction
 * log file isn't guaranteed to contain earlier log entries"). */
static void test_replay_earliest_log_first(void **state)
{
	struct sbuf logs[2];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(3, 2, &plen);

	(void)state;
	new_log(&logs[0], p, 4, 2);
	new_log(&logs[1], p, 2, 2);
	replay(&r, p, plen, logs, 2, LIMIT);
	assert_view_clean(&r);
	assert_int_equal(r.res.norder, 2);
	assert_int_equal(r.res.order[0], 1);
	assert_int_equal(r.res.order[1], 0);
	assert_int_equal(r.res.entries, 4);
	assert_int_equal(r.res.first_seq, 2);
	assert_int_equal(r.res.last_seq, 5);
	assert_int_equal(r.res.seq, 6);
	assert_int_equal(r.view[4096 + 512], 0x11); /* LOG1's last entry wrote last */
	release(logs, 2, p, &r);
}

static void test_replay_stops_where_the_next_log_does_not_follow(void **state)
{
	struct sbuf logs[2];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(3, 2, &plen);

	(void)state;
	new_log(&logs[0], p, 2, 2);
	new_log(&logs[1], p, 5, 2);
	replay(&r, p, plen, logs, 2, LIMIT);
	assert_view_clean(&r);
	assert_int_equal(r.res.entries, 2);
	assert_int_equal(r.res.last_seq, 3);
	assert_int_equal(r.infos[1].applies, 0);
	assert_has(r.infos[1].why, "entries 5..6 do not continue the replay (last entry applied: 3)");
	assert_int_equal(r.res.seq, 7); /* above LOG2's 6, which was not applied */
	release(logs, 2, p, &r);
}

/* Sequence numbers wrap: 0xFFFFFFFE, 0xFFFFFFFF in one log, 0, 1 in the other. */
static void test_replay_wraps_around(void **state)
{
	struct sbuf logs[2];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(0xFFFFFFFFu, 0xFFFFFFFEu, &plen);

	(void)state;
	new_log(&logs[0], p, 0, 2);
	new_log(&logs[1], p, 0xFFFFFFFEu, 2);
	replay(&r, p, plen, logs, 2, LIMIT);
	assert_view_clean(&r);
	assert_int_equal(r.res.entries, 4);
	assert_int_equal(r.res.order[0], 1);
	assert_int_equal(r.res.order[1], 0);
	assert_int_equal(r.res.first_seq, 0xFFFFFFFEu);
	assert_int_equal(r.res.last_seq, 1);
	assert_int_equal(r.res.seq, 2);
	release(logs, 2, p, &r);
}

static void test_replay_ignores_older_entries(void **state)
{
	struct sbuf logs[1];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(10, 9, &plen);

	(void)state;
	new_log(&logs[0], p, 5, 2);
	replay(&r, p, plen, logs, 1, LIMIT);
	assert_int_equal(r.rc, 0);
	assert_null(r.view);
	assert_int_equal(r.res.dirty, 1);
	assert_int_equal(r.res.replayed, 0);
	assert_string_equal(r.infos[0].why, "entries 5..6 are older than the primary (secondary sequence number 9)");
	assert_string_equal(r.res.why, "no log applies");
	release(logs, 1, p, &r);
}

static void test_replay_refuses_another_hives_log(void **state)
{
	struct sbuf logs[1];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(3, 2, &plen);

	(void)state;
	memset(p + 112, 0xAA, 16);
	reseal(p);
	new_log(&logs[0], p, 2, 1);
	memset(logs[0].buf + 112, 0xBB, 16);
	reseal((uint8_t *)logs[0].buf);
	replay(&r, p, plen, logs, 1, LIMIT);
	assert_int_equal(r.rc, 0);
	assert_has(r.infos[0].why, "a log of another hive: its RmId {bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb} differs from the primary's");
	/* a null RmId on either side is no evidence */
	memset(logs[0].buf + 112, 0, 16);
	reseal((uint8_t *)logs[0].buf);
	free(r.view);
	replay(&r, p, plen, logs, 1, LIMIT);
	assert_int_equal(r.rc, 1);
	release(logs, 1, p, &r);
}

/* An entry with right hashes that claims 4 GB of hive bins stops the run before it: nothing
 * near that size is ever allocated. */
static void test_replay_stops_at_a_huge_claim(void **state)
{
	struct sbuf logs[1];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(3, 2, &plen);
	const uint64_t limit = 2147487744ull;

	(void)state;
	log_start(&logs[0], p, 2, 6);
	add_simple(&logs[0], 2, 1);
	add_entry(&logs[0], 3, 0xFFFFF000u, 0, NULL, 0);
	replay(&r, p, plen, logs, 1, limit);
	assert_view_clean(&r);
	assert_int_equal(r.res.entries, 1);
	assert_int_equal(r.view_len, plen);
	assert_string_equal(r.infos[0].why,
			    "the entry at offset 1536 claims 4294963200 bytes of hive bins, over the 2147487744-byte limit");
	assert_int_equal(r.res.seq, 4); /* the stale claim's 3 counts */
	release(logs, 1, p, &r);
}

static void test_replay_clean_primary_ignores_logs(void **state)
{
	struct sbuf logs[2];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(132, 132, &plen);

	(void)state;
	new_log(&logs[0], p, 131, 1);
	sbuf_init(&logs[1]);
	replay(&r, p, plen, logs, 2, LIMIT);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.res.dirty, 0);
	assert_null(r.view);
	assert_int_equal(r.infos[0].format, HIVELOG_NEW);
	assert_int_equal(r.infos[0].entries, 1);
	assert_string_equal(r.infos[0].why, "the primary is clean: Windows ignores its logs");
	assert_int_equal(r.infos[1].format, HIVELOG_EMPTY);
	release(logs, 2, p, &r);
}

static void test_replay_refuses_a_non_hive(void **state)
{
	struct sbuf logs[1];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(3, 2, &plen);

	(void)state;
	new_log(&logs[0], p, 2, 1);
	replay(&r, (const uint8_t *)"junk", 4, logs, 1, LIMIT);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.e.code, GT_REFUSED);
	assert_null(r.view);
	replay(&r, p, 2000, logs, 1, LIMIT);
	assert_int_equal(r.rc, -1);
	assert_has(r.e.msg, "truncated");
	replay(&r, p, plen, logs, 1, 4096);
	assert_int_equal(r.rc, -1);
	assert_has(r.e.msg, "over the 4096-byte limit");
	release(logs, 1, p, &r);
}

/* Bad primary checksum: only the log with the latest entries, and its base block. */
static void test_replay_bad_base_block_new(void **state)
{
	struct sbuf logs[2];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(3, 2, &plen);

	(void)state;
	new_log(&logs[0], p, 2, 2);
	new_log(&logs[1], p, 4, 3);
	memcpy(logs[1].buf + 48, "L\0O\0G\0", 6); /* tells whose base block the view got */
	reseal((uint8_t *)logs[1].buf);
	p[508] ^= 1;
	replay(&r, p, plen, logs, 2, LIMIT);
	assert_view_clean(&r);
	assert_int_equal(r.res.base_block_bad, 1);
	assert_int_equal(r.res.norder, 1);
	assert_int_equal(r.res.order[0], 1);
	assert_int_equal(r.res.entries, 3);
	assert_int_equal(r.res.first_seq, 4);
	assert_int_equal(r.res.last_seq, 6);
	assert_memory_equal(r.view + 48, "L\0O\0G\0", 6);
	assert_memory_equal(r.view + 512, p + 512, 4096 - 512);
	assert_has(r.infos[0].why, "not used: the primary's base block is bad");
	release(logs, 2, p, &r);
}

/* ---- replay, old format ------------------------------------------------------------------ */

/* An old-format log of the primary's hive: pages 0 and 3 of its 4096 bytes of bins, page 0
 * being the primary's own first 512 bytes of bins with the bin's timestamp changed. */
static void old_log(struct sbuf *log, const uint8_t *primary, uint8_t bitmap)
{
	uint8_t vec[512] = { 0 }, page[512];

	log_start(log, primary, get32(primary + 4), 1);
	memcpy(vec, "DIRT", 4);
	vec[4] = bitmap;
	sbuf_add(log, vec, 512);
	for (int bit = 0; bit < 8; bit++) {
		if (!(bitmap >> bit & 1))
			continue;
		if (bit == 0) {
			memcpy(page, primary + 4096, 512);
			put64(page + 20, 0x0102030405060708ull);
		} else {
			memset(page, 0x40 + bit, 512);
		}
		sbuf_add(log, page, 512);
	}
}

static void test_replay_old_format(void **state)
{
	struct sbuf logs[2];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(5, 4, &plen);
	struct gt_error e = { 0 };

	(void)state;
	sbuf_init(&logs[0]);
	old_log(&logs[1], p, 0x09);
	replay(&r, p, plen, logs, 2, LIMIT);
	assert_view_clean(&r);
	assert_int_equal(r.res.format, HIVELOG_OLD);
	assert_int_equal(r.res.entries, 2);
	assert_int_equal(r.res.order[0], 1);
	assert_int_equal(r.infos[1].format, HIVELOG_OLD);
	assert_int_equal(r.infos[1].entries, 2);
	assert_int_equal(r.infos[1].applied, 2);
	assert_int_equal(r.res.seq, 6);
	assert_int_equal(r.view[4096 + 20], 0x08);
	assert_int_equal(r.view[4096 + 3 * 512], 0x43);
	if (hivefile_check_safe(r.view, r.view_len, r.view_len, 0, &e) != 0)
		fail_msg("%s", e.msg);
	release(logs, 2, p, &r);
}

static void test_replay_old_format_refusals(void **state)
{
	struct sbuf logs[1];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(5, 4, &plen);

	(void)state;
	/* a log of another write: its timestamp differs */
	old_log(&logs[0], p, 0x01);
	put32((uint8_t *)logs[0].buf + 12, 7);
	reseal((uint8_t *)logs[0].buf);
	replay(&r, p, plen, logs, 1, LIMIT);
	assert_int_equal(r.rc, 0);
	assert_has(r.infos[0].why, "its timestamp 0x");
	assert_string_equal(r.res.why, "no log applies");
	sbuf_release(&logs[0]);

	/* its page 0 breaks the hive bin's header */
	old_log(&logs[0], p, 0x01);
	memcpy(logs[0].buf + 1024, "hbix", 4);
	replay(&r, p, plen, logs, 1, LIMIT);
	assert_int_equal(r.rc, 0);
	assert_null(r.view);
	assert_has(r.infos[0].why, "the hive bin at offset 4096 it rewrites is not sane");
	sbuf_release(&logs[0]);

	/* a page missing at the end */
	old_log(&logs[0], p, 0x03);
	logs[0].len -= 512;
	replay(&r, p, plen, logs, 1, LIMIT);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.infos[0].format, HIVELOG_INVALID);
	assert_has(r.infos[0].why, "truncated: 2 dirty pages need 2048 bytes, the file has 1536");
	assert_string_equal(r.res.why, "no log is usable");
	sbuf_release(&logs[0]);
	free(p);
}

/* Bad primary checksum: the base block comes from the log (yarp's BadBaseBlockHive). */
static void test_replay_old_format_bad_base_block(void **state)
{
	struct sbuf logs[1];
	struct run r;
	size_t plen;
	uint8_t *p = make_primary(5, 4, &plen);

	(void)state;
	old_log(&logs[0], p, 0x01);
	memcpy(logs[0].buf + 48, "L\0O\0G\0", 6);
	reseal((uint8_t *)logs[0].buf);
	p[300] ^= 0x55;
	replay(&r, p, plen, logs, 1, LIMIT);
	assert_view_clean(&r);
	assert_int_equal(r.res.base_block_bad, 1);
	assert_int_equal(r.res.format, HIVELOG_OLD);
	assert_memory_equal(r.view + 48, "L\0O\0G\0", 6);
	assert_int_equal(r.view[300], 0); /* the log's sector, not the damaged one */
	release(logs, 1, p, &r);
}

/* ---- the shared corpus ------------------------------------------------------------------- */

static const char *corpus_dir(void)
{
	const char *dir = getenv("CORPUS");

	return dir && *dir ? dir : "../shared/corpus";
}

/* DIR/hives/rel decompressed (xz) into sb; 0 when the file is absent. */
static int load_xz(const char *rel, struct sbuf *sb)
{
	char path[4096], cmd[8300], buf[65536];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/hives/%s.xz", corpus_dir(), rel);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	fclose(f);
	snprintf(cmd, sizeof(cmd), "xz -dc '%s'", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	sbuf_init(sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sbuf_add(sb, buf, n);
	assert_int_equal(pclose(f), 0);
	return 1;
}

struct corpus_case {
	const char *primary, *logs[HIVELOG_MAX_FILES];
	int rc;
	enum hivelog_format format;
	size_t entries;
	uint32_t first, last;
	size_t applied[HIVELOG_MAX_FILES];
};

static void run_corpus(const struct corpus_case *c)
{
	struct sbuf primary, logs[HIVELOG_MAX_FILES];
	struct run r;
	size_t n = 0;

	if (!load_xz(c->primary, &primary)) {
		print_message("corpus hive %s/hives/%s.xz not found (%s): skipped\n", corpus_dir(), c->primary, strerror(errno));
		skip();
	}
	while (n < HIVELOG_MAX_FILES && c->logs[n]) {
		assert_true(load_xz(c->logs[n], &logs[n]));
		n++;
	}
	replay(&r, u8(&primary), primary.len, logs, n, 1ull << 31);
	for (size_t i = 0; i < n; i++)
		print_message("# %s: %s, %zu entries %u..%u, applied %zu%s%s\n", c->logs[i], hivelog_format_name(r.infos[i].format),
			      r.infos[i].entries, r.infos[i].first_seq, r.infos[i].last_seq, r.infos[i].applied,
			      r.infos[i].why[0] ? ": " : "", r.infos[i].why);
	assert_int_equal(r.rc, c->rc);
	if (c->rc == 1) {
		assert_view_clean(&r);
		assert_int_equal(r.res.format, c->format);
		assert_int_equal(r.res.entries, c->entries);
		assert_int_equal(r.view_len, primary.len);
		if (c->format == HIVELOG_NEW) {
			assert_int_equal(r.res.first_seq, c->first);
			assert_int_equal(r.res.last_seq, c->last);
			assert_int_equal(r.res.seq, c->last + 1);
		}
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r.infos[i].applied, c->applied[i]);
	sbuf_release(&primary);
	release(logs, n, NULL, &r);
}

/* Expected numbers: ../shared/corpus/expected/log-replay/NAME.expected (yarp's results). */
static void test_corpus_new_dirty_hive(void **state)
{
	(void)state;
	run_corpus(&(struct corpus_case){ "yarp/NewDirtyHive1/NewDirtyHive",
		{ "yarp/NewDirtyHive1/NewDirtyHive.LOG1", "yarp/NewDirtyHive1/NewDirtyHive.LOG2" },
		1, HIVELOG_NEW, 4, 2, 5, { 1, 3 } });
}

static void test_corpus_usrclass(void **state)
{
	(void)state;
	run_corpus(&(struct corpus_case){ "regipy/UsrClass.dat/UsrClass.dat",
		{ "regipy/UsrClass.dat/UsrClass.dat.LOG1", "regipy/UsrClass.dat/UsrClass.dat.LOG2" },
		1, HIVELOG_NEW, 14, 287, 300, { 4, 10 } });
}

static void test_corpus_system_b(void **state)
{
	(void)state;
	run_corpus(&(struct corpus_case){ "regipy/SYSTEM_B/SYSTEM_B",
		{ "regipy/SYSTEM_B/SYSTEM_B.LOG1", "regipy/SYSTEM_B/SYSTEM_B.LOG2" },
		1, HIVELOG_NEW, 24, 2107, 2130, { 4, 20 } });
}

static void test_corpus_old_dirty_hive(void **state)
{
	(void)state;
	run_corpus(&(struct corpus_case){ "yarp/OldDirtyHive/OldDirtyHive",
		{ "yarp/OldDirtyHive/OldDirtyHive.LOG1", "yarp/OldDirtyHive/OldDirtyHive.LOG2" },
		1, HIVELOG_OLD, 64, 0, 0, { 64, 0 } });
}

static void test_corpus_bad_base_block_hive(void **state)
{
	(void)state;
	run_corpus(&(struct corpus_case){ "yarp/BadBaseBlockHive/BadBaseBlockHive",
		{ "yarp/BadBaseBlockHive/BadBaseBlockHive.LOG1", "yarp/BadBaseBlockHive/BadBaseBlockHive.LOG2" },
		1, HIVELOG_OLD, 64, 0, 0, { 64, 0 } });
}

static void test_corpus_bad_log_hive(void **state)
{
	(void)state;
	run_corpus(&(struct corpus_case){ "yarp/BadLogHive1/BadLogHive",
		{ "yarp/BadLogHive1/BadLogHive.LOG1", "yarp/BadLogHive1/BadLogHive.LOG2" }, 0, 0, 0, 0, 0, { 0, 0 } });
}

static void test_corpus_clean_ntuser(void **state)
{
	(void)state;
	run_corpus(&(struct corpus_case){ "dfwinreg/NTUSER.DAT/NTUSER.DAT", { "dfwinreg/NTUSER.DAT/NTUSER.DAT.LOG" }, 0, 0, 0,
		0, 0, { 0 } });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marvin_vectors),
		cmocka_unit_test(test_inspect_base_block),
		cmocka_unit_test(test_inspect_entries),
		cmocka_unit_test(test_inspect_bad_hashes),
		cmocka_unit_test(test_inspect_gap_and_stale_entries),
		cmocka_unit_test(test_inspect_bad_entries),
		cmocka_unit_test(test_replay_new_grows_the_hive),
		cmocka_unit_test(test_replay_earliest_log_first),
		cmocka_unit_test(test_replay_stops_where_the_next_log_does_not_follow),
		cmocka_unit_test(test_replay_wraps_around),
		cmocka_unit_test(test_replay_ignores_older_entries),
		cmocka_unit_test(test_replay_refuses_another_hives_log),
		cmocka_unit_test(test_replay_stops_at_a_huge_claim),
		cmocka_unit_test(test_replay_clean_primary_ignores_logs),
		cmocka_unit_test(test_replay_refuses_a_non_hive),
		cmocka_unit_test(test_replay_bad_base_block_new),
		cmocka_unit_test(test_replay_old_format),
		cmocka_unit_test(test_replay_old_format_refusals),
		cmocka_unit_test(test_replay_old_format_bad_base_block),
		cmocka_unit_test(test_corpus_new_dirty_hive),
		cmocka_unit_test(test_corpus_usrclass),
		cmocka_unit_test(test_corpus_system_b),
		cmocka_unit_test(test_corpus_old_dirty_hive),
		cmocka_unit_test(test_corpus_bad_base_block_hive),
		cmocka_unit_test(test_corpus_bad_log_hive),
		cmocka_unit_test(test_corpus_clean_ntuser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
