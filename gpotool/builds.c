/* The update-build table; see builds.h. */
#include "builds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regvalue.h"
#include "safefile.h"
#include "sbuf.h"

int builds_lookup(const char *datadir, uint32_t build, uint32_t ubr, struct build_status *st, struct gt_error *e)
{
	struct sbuf path;
	uint8_t *buf;
	size_t len;
	char *line, *save = NULL;
	unsigned lineno = 0;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	sbuf_init(&path);
	sbuf_addf(&path, "%s/update-builds.tsv", datadir);
	if (read_whole_file(path.buf, 64 * 1024, &buf, &len, e) < 0) {
		sbuf_release(&path);
		return -1;
	}
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	for (line = strtok_r((char *)buf, "\n", &save); line && ret == 0; line = strtok_r(NULL, "\n", &save)) {
		char *f[4], *tab, *p = line;
		uint64_t b, feb, sep;
		int n = 0;

		lineno++;
		if (*line == '#' || strncmp(line, "product\t", 8) == 0)
			continue;
		while (n < 4 && (tab = strchr(p, '\t'))) {
			*tab = '\0';
			f[n++] = p;
			p = tab + 1;
		}
		if (n == 3)
			f[n++] = p;
		if (n != 4 || parse_u64(f[1], UINT32_MAX, &b) < 0 || parse_u64(f[2], UINT32_MAX, &feb) < 0 ||
		    parse_u64(f[3], UINT32_MAX, &sep) < 0 || feb >= sep) {
			ret = gt_fail(e, GT_FAILED, "'%s' line %u: expected product, build, February and September UBR", path.buf, lineno);
			break;
		}
		if (b != build)
			continue;
		snprintf(st->product, sizeof(st->product), "%s", f[0]);
		st->feb_ubr = (uint32_t)feb;
		st->sep_ubr = (uint32_t)sep;
		st->level = ubr >= sep ? PATCH_SEP_2025 : ubr >= feb ? PATCH_FEB_2025 : PATCH_BEFORE_FEB_2025;
	}
	free(buf);
	sbuf_release(&path);
	return ret;
}
