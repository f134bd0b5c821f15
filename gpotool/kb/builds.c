/* The update-build table; see builds.h. */
#include "kb/builds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg/regvalue.h"
#include "core/safefile.h"
#include "core/sbuf.h"

/* Splits a line at tabs into at most max fields; returns how many. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;

	f[n++] = line;
	for (char *tab; n < max && (tab = strchr(f[n - 1], '\t')); ) {
		*tab = '\0';
		f[n++] = tab + 1;
	}
	return strchr(f[n - 1], '\t') ? max + 1 : n;
}

static int is_date(const char *s)
{
	return strlen(s) == 10 && strspn(s, "0123456789-") == 10 && s[4] == '-' && s[7] == '-';
}

/* A UBR column: a number, or "-" (not listed: *listed = 0). */
static int parse_ubr(const char *s, uint64_t *v, int *listed)
{
	*listed = strcmp(s, "-") != 0;
	*v = 0;
	return *listed ? parse_u64(s, UINT32_MAX, v) : 0;
}

int builds_lookup(const char *datadir, uint32_t build, uint32_t ubr, struct build_status *st, struct gt_error *e)
{
	struct sbuf path;
	uint8_t *buf;
	size_t len;
	char *line, *save = NULL;
	unsigned lineno = 0;
	int ret = 0, found = 0;

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
		char *f[4];
		uint64_t b, feb, sep;
		int lfeb, lsep;

		lineno++;
		if (*line == '#')
			continue;
		if (split_tabs(line, f, 4) != 4) {
			ret = gt_fail(e, GT_FAILED, "'%s' line %u: expected four columns separated by tabs", path.buf, lineno);
			break;
		}
		if (strcmp(f[0], "product") == 0) {
			if (!is_date(f[2]) || !is_date(f[3])) {
				ret = gt_fail(e, GT_FAILED, "'%s' line %u: the header names the two updates by date (YYYY-MM-DD)",
					      path.buf, lineno);
				break;
			}
			memcpy(st->feb_date, f[2], 11);
			memcpy(st->sep_date, f[3], 11);
			continue;
		}
		if (!st->sep_date[0] || parse_u64(f[1], UINT32_MAX, &b) < 0 || parse_ubr(f[2], &feb, &lfeb) < 0 ||
		    parse_ubr(f[3], &sep, &lsep) < 0 || lfeb != lsep || (lfeb && feb >= sep)) {
			ret = gt_fail(e, GT_FAILED, "'%s' line %u: expected product, build, and both update UBRs (or '-' for both), "
				      "after the header", path.buf, lineno);
			break;
		}
		if (!st->oldest_build || b < st->oldest_build) {
			st->oldest_build = (uint32_t)b;
			snprintf(st->oldest_product, sizeof(st->oldest_product), "%s", f[0]);
		}
		if (b != build || found)
			continue;
		found = 1;
		snprintf(st->product, sizeof(st->product), "%s", f[0]);
		st->feb_ubr = (uint32_t)feb;
		st->sep_ubr = (uint32_t)sep;
		st->level = !lfeb ? PATCH_NOT_LISTED : ubr >= sep ? PATCH_SEP_2025 : ubr >= feb ? PATCH_FEB_2025 : PATCH_BEFORE_FEB_2025;
	}
	if (ret == 0 && !found && st->oldest_build && build < st->oldest_build)
		st->level = PATCH_NO_KB;
	free(buf);
	sbuf_release(&path);
	return ret;
}
