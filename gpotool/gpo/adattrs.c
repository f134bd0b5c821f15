/* Merging AD attribute values for GPOs; see adattrs.h. */
#include "gpo/adattrs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reg/regvalue.h"

#define MAX_GROUPS 256
#define MAX_TOOLS 64

int is_braced_guid(const char *s)
{
	static const int dash_at[] = { 9, 14, 19, 24 };

	if (strlen(s) != 38 || s[0] != '{' || s[37] != '}')
		return 0;
	for (int i = 1; i < 37; i++) {
		int dash = 0;

		for (size_t d = 0; d < sizeof(dash_at) / sizeof(dash_at[0]); d++)
			dash |= dash_at[d] == i;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

struct ext_group {
	char guid[MAX_TOOLS + 1][39]; /* [0] is the CSE, then its tools */
	int n;
};

static int parse_groups(const char *s, struct ext_group *g, int *ng, struct gt_error *e)
{
	*ng = 0;
	while (*s) {
		struct ext_group *cur;

		if (*s != '[')
			return gt_fail(e, GT_USAGE, "extension list must be [{GUID}{GUID}...] groups, not '%s'", s);
		if (*ng == MAX_GROUPS)
			return gt_fail(e, GT_USAGE, "extension list has more than %d groups", MAX_GROUPS);
		cur = &g[(*ng)++];
		cur->n = 0;
		s++;
		while (*s == '{') {
			if (cur->n == MAX_TOOLS + 1 || strlen(s) < 38)
				return gt_fail(e, GT_USAGE, "malformed extension list near '%s'", s);
			memcpy(cur->guid[cur->n], s, 38);
			cur->guid[cur->n][38] = '\0';
			if (!is_braced_guid(cur->guid[cur->n]))
				return gt_fail(e, GT_USAGE, "not a GUID in the extension list: '%s'", cur->guid[cur->n]);
			cur->n++;
			s += 38;
		}
		if (*s != ']' || cur->n == 0)
			return gt_fail(e, GT_USAGE, "malformed extension list near '%s'", s);
		s++;
	}
	return 0;
}

static int cmp_guid(const void *a, const void *b)
{
	return strcasecmp(a, b);
}

static int cmp_group(const void *a, const void *b)
{
	return strcasecmp(((const struct ext_group *)a)->guid[0], ((const struct ext_group *)b)->guid[0]);
}

int extnames_merge(const char *current, const char *cse, const char *tool, struct sbuf *out, int *changed,
		   struct gt_error *e)
{
	struct ext_group *g = xcalloc(MAX_GROUPS + 1, sizeof(*g));
	int ng, found = -1;

	*changed = 0;
	if (parse_groups(current ? current : "", g, &ng, e) < 0) {
		free(g);
		return -1;
	}
	for (int i = 0; i < ng && found < 0; i++)
		if (strcasecmp(g[i].guid[0], cse) == 0)
			found = i;
	if (found < 0) {
		found = ng++;
		g[found].n = 1;
		strcpy(g[found].guid[0], cse);
		*changed = 1;
	}
	{
		struct ext_group *grp = &g[found];
		int has = 0;

		for (int t = 1; t < grp->n; t++)
			has |= strcasecmp(grp->guid[t], tool) == 0;
		if (!has) {
			if (grp->n == MAX_TOOLS + 1) {
				free(g);
				return gt_fail(e, GT_USAGE, "extension group %s has too many tools", cse);
			}
			strcpy(grp->guid[grp->n++], tool);
			*changed = 1;
		}
		qsort(grp->guid[1], (size_t)grp->n - 1, sizeof(grp->guid[0]), cmp_guid);
	}
	qsort(g, (size_t)ng, sizeof(*g), cmp_group);
	for (int i = 0; i < ng; i++) {
		sbuf_addch(out, '[');
		for (int t = 0; t < g[i].n; t++)
			sbuf_addstr(out, g[i].guid[t]);
		sbuf_addch(out, ']');
	}
	free(g);
	return 0;
}

/* Does this gPLink entry's DN name the same GPO? DNs compare case-insensitively. */
static int same_dn(const char *entry, size_t len, const char *dn)
{
	return strlen(dn) == len && strncasecmp(entry, dn, len) == 0;
}

int gplink_merge(const char *current, const char *gpo_dn, struct sbuf *out, int *changed, struct gt_error *e)
{
	const char *s = current ? current : "";
	int linked = 0;

	*changed = 0;
	if (strspn(s, " ") == strlen(s))
		s = "";
	for (const char *p = s; *p;) {
		const char *end = strchr(p, ']'), *semi;

		if (*p != '[' || !end || strncasecmp(p + 1, "LDAP://", 7) != 0)
			return gt_fail(e, GT_USAGE, "gPLink must be [LDAP://DN;OPTIONS] entries, not '%s'", p);
		semi = memchr(p, ';', (size_t)(end - p));
		if (!semi || semi + 1 == end || strspn(semi + 1, "0123456789") != (size_t)(end - semi - 1))
			return gt_fail(e, GT_USAGE, "gPLink entry without ;OPTIONS: '%.*s'", (int)(end - p + 1), p);
		linked |= same_dn(p + 8, (size_t)(semi - p - 8), gpo_dn);
		p = end + 1;
	}
	if (!linked) {
		sbuf_addf(out, "[LDAP://%s;0]", gpo_dn);
		*changed = 1;
	}
	sbuf_addstr(out, s);
	return 0;
}

int dns_to_dn(const char *dns, struct sbuf *out, struct gt_error *e)
{
	const char *p = dns;

	if (!*dns || strlen(dns) > 253)
		return gt_fail(e, GT_USAGE, "'%s' is not a DNS domain name", dns);
	while (*p) {
		size_t n = strcspn(p, ".");

		if (n == 0 || n > 63 || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") < n)
			return gt_fail(e, GT_USAGE, "'%s' is not a DNS domain name", dns);
		sbuf_addf(out, "%sDC=%.*s", p == dns ? "" : ",", (int)n, p);
		p += n;
		if (*p == '.' && !*++p)
			return gt_fail(e, GT_USAGE, "'%s' is not a DNS domain name", dns);
	}
	return 0;
}

/* Clients compare each half with the one they applied last ([MS-GPOL] 2.2.4): both must rise
 * or stay, never fall. */
int ad_version_next(uint32_t ad, uint32_t gpt, uint32_t *next, struct gt_error *e)
{
	static const char *const half_name[2] = { "machine", "user" };
	char a[12], g[12];

	*next = 0;
	for (int h = 0; h < 2; h++) {
		uint32_t ad_half = ad >> (16 * h) & 0xFFFF, gpt_half = gpt >> (16 * h) & 0xFFFF;

		if (gpt_half < ad_half)
			return gt_fail(e, GT_REFUSED,
				       "GPT.INI's %s version %u is below AD's %u (GPT.INI Version %s, versionNumber %s): "
				       "printing it would lower versionNumber, and clients apply only a higher one; stage on the "
				       "GPO as SYSVOL holds it now, or raise GPT.INI's %s version to %u (max(AD, GPT.INI) + 1)",
				       half_name[h], gpt_half, ad_half, ad_version_text(gpt, g), ad_version_text(ad, a),
				       half_name[h], ad_half + 1);
	}
	*next = gpt;
	return 0;
}

int ad_version_parse(const char *text, uint32_t *out)
{
	int negative = text[0] == '-';
	const char *digits = text + negative;
	uint64_t v;

	*out = 0;
	if (!*digits || strspn(digits, "0123456789") != strlen(digits) ||
	    parse_u64(digits, negative ? 0x80000000u : UINT32_MAX, &v) < 0)
		return -1;
	*out = negative ? (uint32_t)(0x100000000ull - v) : (uint32_t)v;
	return 0;
}

const char *ad_version_text(uint32_t v, char *buf)
{
	snprintf(buf, 12, "%ld", v > INT32_MAX ? (long)v - 0x100000000l : (long)v);
	return buf;
}

int ldif_needs_base64(const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t len = strlen(value);

	if (len && (p[0] == ' ' || p[0] == ':' || p[0] == '<' || p[len - 1] == ' '))
		return 1;
	for (; *p; p++)
		if (*p > 127 || *p == '\r' || *p == '\n')
			return 1;
	return 0;
}

static void base64_encode(struct sbuf *out, const unsigned char *p, size_t len)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		uint32_t n = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);

		sbuf_addch(out, digits[n >> 18 & 63]);
		sbuf_addch(out, digits[n >> 12 & 63]);
		sbuf_addch(out, i + 1 < len ? digits[n >> 6 & 63] : '=');
		sbuf_addch(out, i + 2 < len ? digits[n & 63] : '=');
	}
}

void ldif_line(struct sbuf *out, const char *attr, const char *value)
{
	if (ldif_needs_base64(value)) {
		sbuf_addf(out, "%s:: ", attr);
		base64_encode(out, (const unsigned char *)value, strlen(value));
		sbuf_addch(out, '\n');
	} else {
		sbuf_addf(out, "%s: %s\n", attr, value);
	}
}

void ldif_swap(struct sbuf *out, const char *attr, const char *old, const char *new_value)
{
	if (old) {
		sbuf_addf(out, "delete: %s\n", attr);
		ldif_line(out, attr, old);
		sbuf_addstr(out, "-\n");
	}
	sbuf_addf(out, "add: %s\n", attr);
	ldif_line(out, attr, new_value);
	sbuf_addstr(out, "-\n");
}
