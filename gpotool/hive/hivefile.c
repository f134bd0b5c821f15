/* Base-block checks, the empty hive, and last-write stamps: the few places where gpotool
 * reads or writes regf bytes itself rather than through hivex. */
#include "hive/hivefile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reg/regvalue.h"
#include "core/sbuf.h"

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
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

uint32_t hivefile_checksum(const uint8_t *base_block)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < 508; i += 4)
		sum ^= get32(base_block + i);
	/* Windows never stores 0 or -1: they mean "not computed" in its own code */
	if (sum == 0)
		sum = 1;
	else if (sum == 0xFFFFFFFFu)
		sum = 0xFFFFFFFEu;
	return sum;
}

int hivefile_read_header(const uint8_t *buf, size_t len, struct hive_header *h, struct gt_error *e)
{
	struct sbuf name;
	size_t chars = 0;

	memset(h, 0, sizeof(*h));
	if (len < 4 || memcmp(buf, "regf", 4) != 0)
		return gt_fail(e, GT_REFUSED, "not a registry hive (no 'regf' signature)");
	if (len < HIVE_BASE_BLOCK_SIZE)
		return gt_fail(e, GT_REFUSED, "truncated: %zu bytes, shorter than the 4096-byte base block", len);
	h->seq1 = get32(buf + 4);
	h->seq2 = get32(buf + 8);
	h->last_written = (uint64_t)get32(buf + 12) | (uint64_t)get32(buf + 16) << 32;
	h->major = get32(buf + 20);
	h->minor = get32(buf + 24);
	h->file_type = get32(buf + 28);
	h->root_offset = get32(buf + 36);
	h->bins_size = get32(buf + 40);
	h->checksum_stored = get32(buf + 508);
	h->checksum_computed = hivefile_checksum(buf);
	while (chars < 32 && (buf[48 + 2 * chars] || buf[49 + 2 * chars]))
		chars++;
	sbuf_init(&name);
	utf16le_to_utf8(buf + 48, 2 * chars, &name);
	snprintf(h->file_name, sizeof(h->file_name), "%s", name.buf);
	sbuf_release(&name);
	return 0;
}

int hivefile_check_safe(const uint8_t *buf, size_t len, uint64_t file_size, int allow_dirty, struct gt_error *e)
{
	struct hive_header h;

	if (hivefile_read_header(buf, len, &h, e) < 0)
		return -1;
	/* a base block known to be bad says nothing the other checks could trust */
	if (h.checksum_stored != h.checksum_computed && allow_dirty == HIVEFILE_DIRTY_ANY)
		return 0;
	if (h.checksum_stored != h.checksum_computed)
		return gt_fail(e, GT_REFUSED, "bad base-block checksum (stored 0x%08x, computed 0x%08x)",
			       h.checksum_stored, h.checksum_computed);
	if (h.major != 1 || h.minor < 3 || h.minor > 5) {
		const char *why = h.major == 1 && h.minor < 3 ? "1.1 and 1.2 are Windows NT 3.x formats"
			: h.major == 1 && h.minor == 6 ? "1.6 is a differencing hive (containers, Windows Sandbox) layered on another hive"
			: "only 1.3 to 1.5 are ordinary hives";
		return gt_fail(e, GT_REFUSED, "unsupported hive format version %u.%u: %s", h.major, h.minor, why);
	}
	if (h.file_type != 0)
		return gt_fail(e, GT_REFUSED, "this is a transaction log or alternate file (type %u), not a primary hive", h.file_type);
	if (h.seq1 != h.seq2 && !allow_dirty)
		return gt_fail(e, GT_REFUSED,
			       "hive is dirty (sequence numbers %u != %u): changes its transaction logs held are not in it",
			       h.seq1, h.seq2);
	if (h.bins_size == 0 || h.bins_size % 4096 || h.bins_size > file_size - HIVE_BASE_BLOCK_SIZE)
		return gt_fail(e, GT_REFUSED, "truncated or damaged: the base block declares %u bytes of hive bins, the file holds %llu",
			       h.bins_size, (unsigned long long)(file_size - HIVE_BASE_BLOCK_SIZE));
	if (len < HIVE_BASE_BLOCK_SIZE + 4 || memcmp(buf + HIVE_BASE_BLOCK_SIZE, "hbin", 4) != 0)
		return gt_fail(e, GT_REFUSED, "damaged: no 'hbin' signature after the base block");
	if (h.root_offset >= h.bins_size)
		return gt_fail(e, GT_REFUSED, "damaged: root key offset 0x%x lies outside the hive bins", h.root_offset);
	return 0;
}

/* A self-relative security descriptor for the root key: owner Administrators, group SYSTEM,
 * DACL granting KEY_ALL_ACCESS (0xF003F) to SYSTEM and Administrators, inherited by
 * subkeys. Windows reads key security from here; hivex copies it to every new key. */
static const uint8_t root_security[] = {
	/* SECURITY_DESCRIPTOR_RELATIVE: rev 1, control SE_SELF_RELATIVE|SE_DACL_PRESENT */
	0x01, 0x00, 0x04, 0x80, 0x48, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
	/* ACL rev 2, size 52, 2 ACEs */
	0x02, 0x00, 0x34, 0x00, 0x02, 0x00, 0x00, 0x00,
	/* ACCESS_ALLOWED, CONTAINER_INHERIT, size 20, KEY_ALL_ACCESS, S-1-5-18 */
	0x00, 0x02, 0x14, 0x00, 0x3f, 0x00, 0x0f, 0x00,
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00,
	/* ACCESS_ALLOWED, CONTAINER_INHERIT, size 24, KEY_ALL_ACCESS, S-1-5-32-544 */
	0x00, 0x02, 0x18, 0x00, 0x3f, 0x00, 0x0f, 0x00,
	0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
	/* owner S-1-5-32-544 */
	0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
	/* group S-1-5-18 */
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00,
};

#define NEW_HIVE_SIZE (2 * 4096u)
#define ROOT_CELL 0x20u /* offsets below are relative to the first hbin, as in the format */
#define ROOT_NAME "ROOT"

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Cells handed out one after the other in the only hbin; each starts with its negative size. */
struct cells {
	uint8_t *bins;
	uint32_t next;
};

static uint8_t *cell_alloc(struct cells *c, size_t payload, uint32_t *off)
{
	size_t size = align8(payload + 4);

	*off = c->next;
	put32(c->bins + c->next, (uint32_t)-(int32_t)size);
	c->next += (uint32_t)size;
	return c->bins + *off;
}

/* One key record: name (ASCII), parent, subkey and value lists (0xFFFFFFFF for none) and the
 * largest name and data sizes below it, which Windows keeps in the record. */
struct nk_fields {
	const char *name;
	uint16_t flags;
	uint32_t parent, nsub, subkeys, nvalues, values, sk;
	uint32_t max_subkey_name, max_value_name, max_value_data;
};

static uint32_t write_nk(struct cells *c, const struct nk_fields *f, uint64_t filetime)
{
	uint32_t off;
	uint8_t *cell = cell_alloc(c, 0x4C + strlen(f->name), &off);

	memcpy(cell + 4, "nk", 2);
	put16(cell + 6, f->flags);
	put64(cell + 8, filetime);
	put32(cell + 0x14, f->parent);
	put32(cell + 0x18, f->nsub);
	put32(cell + 0x20, f->subkeys);
	put32(cell + 0x24, 0xFFFFFFFFu);     /* no volatile subkey list */
	put32(cell + 0x28, f->nvalues);
	put32(cell + 0x2C, f->values);
	put32(cell + 0x30, f->sk);
	put32(cell + 0x34, 0xFFFFFFFFu);     /* no class name */
	put32(cell + 0x38, f->max_subkey_name);
	put32(cell + 0x40, f->max_value_name);
	put32(cell + 0x44, f->max_value_data);
	put16(cell + 0x4C, (uint16_t)strlen(f->name));
	memcpy(cell + 0x50, f->name, strlen(f->name));
	return off;
}

static uint32_t write_sk(struct cells *c, uint32_t refs)
{
	uint32_t off;
	uint8_t *cell = cell_alloc(c, 20 + sizeof(root_security), &off);

	memcpy(cell + 4, "sk", 2);
	put32(cell + 8, off);                /* the only sk: its list links point to itself */
	put32(cell + 12, off);
	put32(cell + 16, refs);              /* every key uses it */
	put32(cell + 20, sizeof(root_security));
	memcpy(cell + 24, root_security, sizeof(root_security));
	return off;
}

/* A REG_DWORD value record, its data held in the record itself (size with the top bit set). */
static uint32_t write_dword_vk(struct cells *c, const char *name, uint32_t data)
{
	uint32_t off;
	uint8_t *cell = cell_alloc(c, 0x14 + strlen(name), &off);

	memcpy(cell + 4, "vk", 2);
	put16(cell + 6, (uint16_t)strlen(name));
	put32(cell + 8, 0x80000004u);
	put32(cell + 12, data);
	put32(cell + 16, 4);                 /* REG_DWORD */
	put16(cell + 20, 1);                 /* VALUE_COMP_NAME: the name is ASCII */
	memcpy(cell + 24, name, strlen(name));
	return off;
}

/* An lf subkey list: each entry an nk offset and the first four characters of its name. */
static uint32_t write_lf(struct cells *c, const uint32_t *nks, const char *const *names, size_t n)
{
	uint32_t off;
	uint8_t *cell = cell_alloc(c, 4 + 8 * n, &off);

	memcpy(cell + 4, "lf", 2);
	put16(cell + 6, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		put32(cell + 8 + 8 * i, nks[i]);
		memcpy(cell + 12 + 8 * i, names[i], strlen(names[i]) < 4 ? strlen(names[i]) : 4);
	}
	return off;
}

/* What an empty SYSTEM hive from Windows holds, so that CurrentControlSet resolves: Select
 * (Current = Default = LastKnownGood = 1, Failed = 0) and an empty ControlSet001 (Microsoft
 * Learn, "HKLM\SYSTEM\Select" in "CurrentControlSet": each value names a ControlSet00N). */
static const struct {
	const char *name;
	uint32_t data;
} select_values[] = { { "Current", 1 }, { "Default", 1 }, { "Failed", 0 }, { "LastKnownGood", 1 } };

static void write_system_keys(struct cells *c, uint8_t *root, uint32_t root_off, uint32_t sk, uint64_t filetime)
{
	/* subkey lists are sorted by upper-case name: CONTROLSET001 before SELECT */
	static const char *const names[] = { "ControlSet001", "Select" };
	uint32_t vals[4], vlist, nks[2], max_name = 0;
	uint8_t *list;

	for (size_t i = 0; i < 4; i++) {
		vals[i] = write_dword_vk(c, select_values[i].name, select_values[i].data);
		if (2 * strlen(select_values[i].name) > max_name)
			max_name = (uint32_t)(2 * strlen(select_values[i].name));
	}
	list = cell_alloc(c, sizeof(vals), &vlist);
	for (size_t i = 0; i < 4; i++)
		put32(list + 4 + 4 * i, vals[i]);
	nks[0] = write_nk(c, &(struct nk_fields){ .name = names[0], .flags = 0x0020, .parent = root_off,
		.subkeys = 0xFFFFFFFFu, .values = 0xFFFFFFFFu, .sk = sk }, filetime);
	nks[1] = write_nk(c, &(struct nk_fields){ .name = names[1], .flags = 0x0020, .parent = root_off,
		.subkeys = 0xFFFFFFFFu, .nvalues = 4, .values = vlist, .sk = sk, .max_value_name = max_name,
		.max_value_data = 4 }, filetime);
	put32(root + 0x18, 2);
	put32(root + 0x20, write_lf(c, nks, names, 2));
	put32(root + 0x38, (uint32_t)(2 * strlen(names[0])));
}

static void write_name_field(uint8_t *field, const char *kind)
{
	char path[64];
	size_t n;

	/* Windows stores the tail of the path it loaded the hive from; detection reads it back */
	if (strcmp(kind, "NTUSER") == 0)
		snprintf(path, sizeof(path), "\\??\\C:\\Users\\Default\\NTUSER.DAT");
	else if (strcmp(kind, "USRCLASS") == 0)
		snprintf(path, sizeof(path), "\\AppData\\Local\\Microsoft\\Windows\\UsrClass.dat");
	else
		snprintf(path, sizeof(path), "\\SystemRoot\\System32\\Config\\%s", kind);
	n = strlen(path);
	if (n > 31)
		memmove(path, path + n - 31, 32), n = 31;
	for (size_t i = 0; i < n; i++)
		put16(field + 2 * i, (uint8_t)path[i]);
}

/* Format 1.3, because hivex writes values over 16,344 bytes as one data cell: 1.3 readers
 * (Windows, libregf) accept that, while 1.4+ readers expect big-data (db) records there. */
void hivefile_new(const char *kind, uint64_t filetime, uint8_t **out, size_t *len)
{
	uint8_t *buf = xcalloc(1, NEW_HIVE_SIZE);
	struct cells c = { .bins = buf + HIVE_BASE_BLOCK_SIZE, .next = ROOT_CELL };
	int system = kind && strcmp(kind, "SYSTEM") == 0;
	uint32_t root_off, sk;
	uint8_t *root;

	memcpy(buf, "regf", 4);
	put32(buf + 4, 1);
	put32(buf + 8, 1);
	put64(buf + 12, filetime);
	put32(buf + 20, 1);
	put32(buf + 24, 3);
	put32(buf + 28, 0);          /* primary file */
	put32(buf + 32, 1);          /* direct memory load */
	put32(buf + 36, ROOT_CELL);
	put32(buf + 40, 4096);       /* hive bins data size */
	put32(buf + 44, 1);          /* clustering factor */
	if (kind)
		write_name_field(buf + 48, kind);

	memcpy(c.bins, "hbin", 4);
	put32(c.bins + 4, 0);
	put32(c.bins + 8, 4096);
	put64(c.bins + 20, filetime);
	/* the root first, at ROOT_CELL; its security cell's offset is known once that is placed */
	root_off = write_nk(&c, &(struct nk_fields){ .name = ROOT_NAME, .flags = 0x002C, /* KEY_HIVE_ENTRY |
		KEY_NO_DELETE | KEY_COMP_NAME */ .subkeys = 0xFFFFFFFFu, .values = 0xFFFFFFFFu }, filetime);
	root = c.bins + root_off;
	sk = write_sk(&c, system ? 3 : 1);
	put32(root + 0x30, sk);
	if (system)
		write_system_keys(&c, root, root_off, sk, filetime);
	put32(c.bins + c.next, 4096 - c.next); /* the rest is one free cell */
	put32(buf + 508, hivefile_checksum(buf));

	*out = buf;
	*len = NEW_HIVE_SIZE;
}

static int pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = pwrite(fd, p, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = ENOSPC; /* nothing taken and no error said: errno would be stale */
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

int hivefile_stamp(int fd, const uint64_t *nk_offsets, size_t n, uint64_t filetime, struct gt_error *e)
{
	uint8_t base[HIVE_BASE_BLOCK_SIZE], stamp[8];

	put64(stamp, filetime);
	for (size_t i = 0; i < n; i++) {
		uint8_t sig[2];

		/* only stamp what really is an nk cell: a wrong offset must not scribble */
		if (pread(fd, sig, 2, (off_t)nk_offsets[i] + 4) != 2 || memcmp(sig, "nk", 2) != 0)
			return gt_fail(e, GT_FAILED, "internal error: no key record at offset 0x%llx",
				       (unsigned long long)nk_offsets[i]);
		if (pwrite_all(fd, stamp, 8, (off_t)nk_offsets[i] + 8) < 0)
			return gt_fail(e, GT_FAILED, "unable to write: %s", strerror(errno));
	}
	if (pread(fd, base, sizeof(base), 0) != (ssize_t)sizeof(base))
		return gt_fail(e, GT_FAILED, "unable to read the base block back: %s", strerror(errno));
	put64(base + 12, filetime);
	put32(base + 508, hivefile_checksum(base));
	if (pwrite_all(fd, base, 512, 0) < 0)
		return gt_fail(e, GT_FAILED, "unable to write: %s", strerror(errno));
	return 0;
}

int hivefile_raise_sequence(int fd, uint32_t at_least, struct gt_error *e)
{
	uint8_t base[HIVE_BASE_BLOCK_SIZE];
	uint32_t seq;

	if (pread(fd, base, sizeof(base), 0) != (ssize_t)sizeof(base))
		return gt_fail(e, GT_FAILED, "unable to read the base block back: %s", strerror(errno));
	seq = get32(base + 4);
	/* modulo 2^32, as Windows compares them */
	if ((uint32_t)(at_least - seq) == 0 || (uint32_t)(at_least - seq) >= 0x80000000u)
		return 0;
	put32(base + 4, at_least);
	put32(base + 8, at_least);
	put32(base + 508, hivefile_checksum(base));
	if (pwrite_all(fd, base, 512, 0) < 0)
		return gt_fail(e, GT_FAILED, "unable to write: %s", strerror(errno));
	return 0;
}

uint64_t filetime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* 11644473600 s between 1601-01-01 and 1970-01-01 */
	return ((uint64_t)ts.tv_sec + 11644473600ull) * 10000000ull + (uint64_t)ts.tv_nsec / 100;
}
