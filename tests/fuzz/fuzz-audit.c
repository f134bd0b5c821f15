/* The audit trail (audit.h) is a file anyone with access to the state directory can edit;
 * `audit verify` must name the first bad record, never crash on one. The input is split
 * as one line (audit_line_split, handed a C string as both of its callers do), then put
 * in a temp file and verified whole (audit_verify: getline, JSON, hashes, chain). */
#include <string.h>

#include "state/audit.h"
#include "fuzzutil.h"

#define HASH_SUFFIX_LEN (sizeof(",\"hash\":\"\"}") - 1 + SHA256_HEX_LEN)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_cstr(data, size), hash[SHA256_HEX_LEN + 1], path[4200];
	struct audit_verdict v;
	struct gt_error e = { 0 };
	struct sbuf covered;
	int r;

	sbuf_init(&covered);
	if (audit_line_split(line, size, &covered, hash) == 0) {
		/* what the hash covers is the line without its hash field, closed again */
		FUZZ_CHECK(strlen(hash) == SHA256_HEX_LEN && covered.len == size - HASH_SUFFIX_LEN + 1 &&
			   memcmp(covered.buf, line, covered.len - 1) == 0 && covered.buf[covered.len - 1] == '}',
			   "covered %zu of %zu bytes", covered.len, size);
	}
	sbuf_release(&covered);
	free(line);

	snprintf(path, sizeof(path), "%s/audit.log", fuzz_tmpdir());
	fuzz_write_file(path, data, size);
	r = audit_verify(path, &v, &e);
	FUZZ_CHECK(r == 0 || r == 1, "audit_verify %d: %s", r, e.msg);
	FUZZ_CHECK((r == 1) == (v.bad_line != 0) && strlen(v.head) == SHA256_HEX_LEN, "verdict r=%d bad_line=%zu", r,
		   v.bad_line);
	FUZZ_CHECK(v.records == v.last_seq, "%zu records, last seq %llu", v.records, v.last_seq);
	return 0;
}
