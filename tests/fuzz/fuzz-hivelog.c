/* Transaction logs (hivelog.h): hivelog_inspect and hivelog_replay on hostile bytes.
 *
 * Input, either of:
 *   "HLFZ", then up to four parts, each a 4-byte little-endian length (cut to what is left)
 *   and that many bytes: the primary, then its logs (LOG1, LOG2, LOG), as run-fuzz packs a
 *   corpus hive with its logs;
 *   anything else: one file, inspected, replayed as the only log (and as LOG2 behind an
 *   empty LOG1) onto a small dirty hive made here, and replayed as a primary with no logs.
 * Each part is run twice: as given, and "sealed" (base-block checksums, and each entry's
 * Hash-1 and Hash-2, recomputed), since almost no mutation keeps a hash right and without
 * that every input would stop at the first check. Every part lives in a buffer of exactly
 * its size, so that a read past it is caught. */
#include <string.h>

#include "fuzzutil.h"
#include "core/error.h"
#include "hive/hivefile.h"
#include "hive/hivelog.h"

#define MAX_SIZE (16u << 20) /* the view's limit: bounds what one input may make the target allocate */

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

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (!b)
		abort();
	if (n)
		memcpy(b, p, n);
	return b;
}

/* Right base-block checksum, and right hashes for every entry at a 512-byte boundary whose
 * size fits in the file (what a log Windows wrote would have). */
static void seal(uint8_t *b, size_t n)
{
	if (n >= 512)
		put32(b + 508, hivefile_checksum(b));
	for (size_t off = 512; off + 40 <= n; off += 512) {
		uint32_t size = get32(b + off + 4);

		if (memcmp(b + off, "HvLE", 4) != 0 || size < 40 || size > n - off)
			continue;
		put64(b + off + 24, marvin32(b + off + 40, size - 40, HIVELOG_MARVIN_SEED));
		put64(b + off + 32, marvin32(b + off, 32, HIVELOG_MARVIN_SEED));
	}
}

static void check_info(const struct hivelog_info *inf, size_t len)
{
	FUZZ_CHECK(memchr(inf->why, '\0', sizeof(inf->why)) != NULL, "why not terminated");
	FUZZ_CHECK(inf->entries == 0 || inf->format == HIVELOG_NEW || inf->format == HIVELOG_OLD, "entries in a %s log",
		   hivelog_format_name(inf->format));
	FUZZ_CHECK(inf->end <= len, "end %llu past %zu", (unsigned long long)inf->end, len);
	FUZZ_CHECK(inf->applied <= inf->entries, "applied %zu of %zu", inf->applied, inf->entries);
	FUZZ_CHECK(inf->format != HIVELOG_NEW || inf->entries == 0 || inf->last_seq - inf->first_seq == inf->entries - 1,
		   "run %u..%u is not %zu entries", inf->first_seq, inf->last_seq, inf->entries);
}

static void inspect(const uint8_t *log, size_t len)
{
	struct hivelog_info inf;

	hivelog_inspect(log, len, &inf);
	check_info(&inf, len);
	FUZZ_CHECK(len != 0 || inf.format == HIVELOG_EMPTY, "an empty file is %s", hivelog_format_name(inf.format));
}

static void replay(const uint8_t *primary, size_t plen, uint8_t *const *logs, const size_t *lens, size_t n)
{
	struct hivelog_info infos[HIVELOG_MAX_FILES];
	struct hivelog_replay res;
	struct gt_error e = { 0 };
	uint8_t *view = (uint8_t *)1;
	size_t view_len = 1, sum = 0;
	int rc = hivelog_replay(primary, plen, (const uint8_t *const *)logs, lens, n, MAX_SIZE, infos, &res, &view, &view_len, &e);

	FUZZ_CHECK(rc >= -1 && rc <= 1, "rc %d", rc);
	FUZZ_CHECK(memchr(res.why, '\0', sizeof(res.why)) != NULL, "res.why not terminated");
	if (rc < 0) {
		FUZZ_CHECK(e.code == GT_REFUSED && e.msg[0], "code %d: %s", e.code, e.msg);
		FUZZ_CHECK(view == NULL && view_len == 0, "a view on failure");
		return;
	}
	FUZZ_CHECK(e.code == GT_OK, "an error left on success: %s", e.msg);
	for (size_t i = 0; i < n; i++) {
		check_info(&infos[i], lens[i]);
		sum += infos[i].applied;
		FUZZ_CHECK(!infos[i].applies == !infos[i].applied || infos[i].format == HIVELOG_OLD, "applies without entries");
	}
	if (rc == 0) {
		FUZZ_CHECK(view == NULL && view_len == 0 && !res.replayed && sum == 0, "not replayed, yet a view");
		return;
	}
	FUZZ_CHECK(res.dirty && res.replayed && res.norder >= 1 && res.norder <= n, "replayed: dirty %d, %zu logs", res.dirty,
		   res.norder);
	FUZZ_CHECK(sum == res.entries, "%zu entries applied, the logs say %zu", res.entries, sum);
	for (size_t k = 0; k < res.norder; k++)
		FUZZ_CHECK(res.order[k] < n && infos[res.order[k]].applies, "order[%zu] = %zu", k, res.order[k]);
	FUZZ_CHECK(view && view_len >= plen && view_len <= MAX_SIZE, "view of %zu bytes from %zu", view_len, plen);
	FUZZ_CHECK(get32(view + 4) == res.seq && get32(view + 8) == res.seq && get32(view + 28) == 0 &&
		   get32(view + 508) == hivefile_checksum(view), "the view's base block is not clean");
	free(view);
}

/* Each log as given and sealed; the primary as given (a dirty one with a bad checksum is a
 * case of its own) and sealed. */
static void run_set(const uint8_t *primary, size_t plen, uint8_t *const *logs, const size_t *lens, size_t n)
{
	uint8_t *sealed[HIVELOG_MAX_FILES], *p2 = dup_exact(primary, plen);

	for (size_t i = 0; i < n; i++) {
		inspect(logs[i], lens[i]);
		sealed[i] = dup_exact(logs[i], lens[i]);
		seal(sealed[i], lens[i]);
		inspect(sealed[i], lens[i]);
	}
	if (plen >= 512)
		put32(p2 + 508, hivefile_checksum(p2));
	replay(primary, plen, logs, lens, n);
	replay(p2, plen, sealed, lens, n);
	replay(primary, plen, sealed, lens, n);
	for (size_t i = 0; i < n; i++)
		free(sealed[i]);
	free(p2);
}

/* One file: the only log of a small dirty hive of the log's timestamp (so that an old-format
 * log may apply), the second behind an empty first one, and a primary of its own. */
static void run_single(const uint8_t *data, size_t size)
{
	uint8_t *hive, *log = dup_exact(data, size), *none = dup_exact(NULL, 0), *logs[2];
	size_t hlen, lens[2];

	hivefile_new(NULL, size >= 20 ? (uint64_t)get32(data + 12) | (uint64_t)get32(data + 16) << 32 : 1, &hive, &hlen);
	put32(hive + 4, size >= 8 ? get32(data + 4) + 1 : 2); /* dirty, and the log's entries not older */
	put32(hive + 8, size >= 8 ? get32(data + 4) : 1);
	put32(hive + 508, hivefile_checksum(hive));
	logs[0] = log;
	lens[0] = size;
	run_set(hive, hlen, logs, lens, 1);
	logs[0] = none;
	lens[0] = 0;
	logs[1] = log;
	lens[1] = size;
	run_set(hive, hlen, logs, lens, 2);
	replay(log, size, NULL, NULL, 0);
	free(hive);
	free(log);
	free(none);
}

static void run_packed(const uint8_t *data, size_t size)
{
	uint8_t *parts[1 + HIVELOG_MAX_FILES];
	size_t lens[1 + HIVELOG_MAX_FILES], n = 0, off = 4;

	while (n < 1 + HIVELOG_MAX_FILES && off + 4 <= size) {
		size_t len = get32(data + off);

		off += 4;
		if (len > size - off)
			len = size - off;
		parts[n] = dup_exact(data + off, len);
		lens[n++] = len;
		off += len;
	}
	if (n > 0)
		run_set(parts[0], lens[0], parts + 1, lens + 1, n - 1);
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && memcmp(data, "HLFZ", 4) == 0)
		run_packed(data, size);
	else
		run_single(data, size);
	return 0;
}
