/* Hive files (hivefile.h, hivetx.h): the bytes of an offline hive as `hive info/get` and
 * `stage`'s pre-checks meet them. The base-block checks run on the bytes as given; then the
 * base-block checksum is fixed up (almost no mutation keeps it valid, and with it invalid
 * every input stopped at the checksum, before the parsers), the checks run again, and a file
 * that passes them is opened read-only through hivetx_open (hivex underneath), its tree
 * walked with hive_check_tree, and the values gpotool itself reads looked up. */
#include <locale.h>
#include <string.h>

#include "fuzzutil.h"
#include "hive/hivetx.h"
#include "reg/winreg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setlocale(LC_CTYPE, "C.UTF-8"); /* as main.c: lookups fold all of Unicode */
	return 0;
}

static void read_one(struct hivetx *tx, const char *key, const char *name)
{
	struct gt_error e = { 0 };
	struct reg_value v;
	char *s = NULL;

	if (hivetx_read_value(tx, key, name, &v, &e) == 1) {
		struct sbuf out;

		sbuf_init(&out);
		reg_value_format_brief(&v, &out);
		sbuf_release(&out);
	}
	reg_value_release(&v);
	gt_error_clear(&e);
	hivetx_read_string(tx, key, name, &s, &e);
	free(s);
}

/* The base-block checks on data's head, as gpotool hands it to them (safefile_open_head):
 * in a buffer of exactly that size, so that a read past it is caught here too. 0 passed. */
static int check_head(const uint8_t *data, size_t size, struct hive_header *h)
{
	struct gt_error e = { 0 };
	size_t head_len = size < HIVEFILE_HEAD_BYTES ? size : HIVEFILE_HEAD_BYTES;
	uint8_t *head = malloc(head_len ? head_len : 1);
	int hdr, safe;

	memcpy(head, data, head_len);
	hdr = hivefile_read_header(head, head_len, h, &e);
	gt_error_clear(&e);
	safe = hivefile_check_safe(head, head_len, size, 1, &e);
	free(head);
	if (safe < 0) {
		FUZZ_CHECK(e.code == GT_REFUSED, "code %d: %s", e.code, e.msg);
		return -1;
	}
	FUZZ_CHECK(hdr == 0 && h->checksum_stored == h->checksum_computed, "check_safe passed a bad base block");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hive_header h;
	struct gt_error e = { 0 };
	struct hivetx tx;
	char path[4200];
	uint8_t *fixed;
	unsigned cs;
	int ok;

	check_head(data, size, &h);
	/* the same bytes with a valid checksum, so that mutations reach the parsers */
	fixed = malloc(size ? size : 1);
	memcpy(fixed, data, size);
	if (size >= HIVE_BASE_BLOCK_SIZE) {
		uint32_t sum = hivefile_checksum(fixed);

		fixed[508] = (uint8_t)sum;
		fixed[509] = (uint8_t)(sum >> 8);
		fixed[510] = (uint8_t)(sum >> 16);
		fixed[511] = (uint8_t)(sum >> 24);
	}
	ok = check_head(fixed, size, &h) == 0;
	if (ok) {
		snprintf(path, sizeof(path), "%s/hive", fuzz_tmpdir());
		fuzz_write_file(path, fixed, size);
	}
	free(fixed);
	if (!ok)
		return 0;
	if (hivetx_open(&tx, path, 0, NULL, &e) < 0) {
		FUZZ_CHECK(e.code == GT_REFUSED || e.code == GT_FAILED, "code %d: %s", e.code, e.msg);
		return 0;
	}
	FUZZ_CHECK(tx.dirty == (h.seq1 != h.seq2), "dirty flag");
	hive_check_tree(tx.hive, NULL, NULL, &e);
	gt_error_clear(&e);
	/* what hive info and stage read: Select\Current, ProductType, the Windows version */
	if (hivetx_current_control_set(&tx, &cs, &e) == 1) {
		char key[64];

		FUZZ_CHECK(cs >= 1 && cs <= 999, "control set %u", cs);
		snprintf(key, sizeof(key), "ControlSet%03u\\" WINREG_PRODUCT_OPTIONS_KEY, cs);
		read_one(&tx, key, WINREG_PRODUCT_TYPE);
	}
	read_one(&tx, WINREG_CURRENT_VERSION_KEY, "CurrentBuild");
	read_one(&tx, "", "");
	hivetx_close(&tx);
	return 0;
}
