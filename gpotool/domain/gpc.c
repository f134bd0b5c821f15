/* A GPO's AD object and gPLinks; see gpc.h. */
#include "domain/gpc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "core/sbuf.h"
#include "domain/ldap.h"
#include "gpo/adattrs.h"

static const char *const gpc_attrs[] = { "cn", "displayName", "versionNumber", "gPCMachineExtensionNames",
					 "gPCUserExtensionNames", "flags", "gPCFileSysPath", "nTSecurityDescriptor", NULL };

void gpc_release(struct gpc *g)
{
	free(g->dn);
	free(g->display_name);
	free(g->version);
	free(g->machine_ext);
	free(g->user_ext);
	free(g->flags);
	free(g->file_sys_path);
	free(g->sd);
	*g = (struct gpc){ 0 };
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int fill(const struct dir_entry *en, struct gpc *g, struct gt_error *e)
{
	const char *cn = dir_entry_str(en, "cn");
	const struct dir_attr *sd = dir_entry_attr(en, "nTSecurityDescriptor");

	gpc_release(g);
	if (!cn || !is_braced_guid(cn))
		return gt_fail(e, GT_REFUSED, "'%s' is not a GPO: its cn is not a braced GUID", en->dn);
	g->dn = xstrdup(en->dn);
	snprintf(g->guid, sizeof(g->guid), "%s", cn);
	for (char *p = g->guid; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	g->display_name = dup_or_null(dir_entry_str(en, "displayName"));
	g->version = dup_or_null(dir_entry_str(en, "versionNumber"));
	g->machine_ext = dup_or_null(dir_entry_str(en, "gPCMachineExtensionNames"));
	g->user_ext = dup_or_null(dir_entry_str(en, "gPCUserExtensionNames"));
	g->flags = dup_or_null(dir_entry_str(en, "flags"));
	g->file_sys_path = dup_or_null(dir_entry_str(en, "gPCFileSysPath"));
	if (sd && sd->n) {
		g->sd = xmemdup(sd->vals[0].bytes, sd->vals[0].len);
		g->sd_len = sd->vals[0].len;
	}
	return 0;
}

static void policies_dn(const struct domain_session *s, struct sbuf *out)
{
	sbuf_addf(out, "CN=Policies,CN=System,%s", s->domain_dn);
}

static int search_gpos(struct domain_session *s, const char *name, const char *guid, struct dir_entry **en, size_t *n,
		       struct gt_error *e)
{
	struct sbuf base, filter;
	int ret;

	sbuf_init(&base);
	sbuf_init(&filter);
	policies_dn(s, &base);
	sbuf_addstr(&filter, "(&(objectClass=groupPolicyContainer)(");
	sbuf_addstr(&filter, guid ? "cn=" : "displayName=");
	dir_filter_escape(guid ? guid : name, &filter);
	sbuf_addstr(&filter, "))");
	ret = dir_search(s->ldap, base.buf, DIR_ONE, filter.buf, gpc_attrs, DIR_SD_FLAGS_NO_SACL, en, n, e);
	sbuf_release(&base);
	sbuf_release(&filter);
	return ret;
}

int gpc_find(struct domain_session *s, const char *name, const char *guid, struct gpc *out, struct gt_error *e)
{
	struct dir_entry *en = NULL;
	size_t n = 0;
	int ret;

	*out = (struct gpc){ 0 };
	if (guid && !is_braced_guid(guid))
		return gt_fail(e, GT_USAGE, "--gpo-guid takes a braced GUID {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}, not '%s'", guid);
	if (search_gpos(s, name, guid, &en, &n, e) < 0)
		return -1;
	if (n > 1) {
		struct sbuf both;

		sbuf_init(&both);
		for (size_t i = 0; i < n; i++)
			sbuf_addf(&both, "%s%s", i ? ", " : "", dir_entry_str(&en[i], "cn") ? dir_entry_str(&en[i], "cn") : en[i].dn);
		ret = gt_fail(e, GT_REFUSED, "%zu GPOs in %s are named '%s' (%s): give --gpo-guid", n, s->domain, name, both.buf);
		sbuf_release(&both);
	} else {
		ret = n == 1 ? (fill(&en[0], out, e) < 0 ? -1 : 1) : 0;
	}
	dir_entries_free(en, n);
	return ret;
}

int gpc_reload(struct domain_session *s, struct gpc *g, struct gt_error *e)
{
	struct dir_entry *en = NULL;
	size_t n = 0;
	int ret;

	if (dir_search(s->ldap, g->dn, DIR_BASE, "(objectClass=groupPolicyContainer)", gpc_attrs, DIR_SD_FLAGS_NO_SACL, &en,
		       &n, e) < 0)
		return -1;
	ret = n == 1 ? fill(&en[0], g, e) : gt_fail(e, GT_FAILED, "the GPO '%s' is gone from the directory", g->dn);
	dir_entries_free(en, n);
	return ret;
}

int gpc_version(const struct gpc *g, uint32_t *out, struct gt_error *e)
{
	char *end;
	long long v;

	*out = 0;
	if (!g->version)
		return 0;
	errno = 0;
	v = strtoll(g->version, &end, 10);
	/* AD stores versionNumber as a signed 32-bit integer: a user half >= 0x8000 reads negative */
	if (errno || end == g->version || *end || v < INT32_MIN || v > UINT32_MAX)
		return gt_fail(e, GT_REFUSED, "the GPO's versionNumber '%s' is not a number", g->version);
	*out = (uint32_t)v;
	return 0;
}

uint32_t gpc_flags(const struct gpc *g)
{
	return g->flags ? (uint32_t)strtoul(g->flags, NULL, 10) : 0;
}

/* ---- making one ---- */

static void new_guid(char out[39])
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r > 0)
			got += (size_t)r;
	}
	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* RFC 4122 version 4, as GPMC's CoCreateGuid */
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
	snprintf(out, 39, "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}", b[0], b[1], b[2], b[3], b[4],
		 b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static struct dir_value text_value(const char *s)
{
	return (struct dir_value){ .bytes = (uint8_t *)s, .len = strlen(s) };
}

static int add_container(struct domain_session *s, const char *cn, const char *parent, struct gt_error *e)
{
	struct dir_value oc = text_value("container");
	struct dir_mod m = { .attr = "objectClass", .vals = &oc, .n = 1 };
	struct sbuf dn;
	int r;

	sbuf_init(&dn);
	sbuf_addf(&dn, "CN=%s,%s", cn, parent);
	r = dir_add(s->ldap, dn.buf, &m, 1, e);
	sbuf_release(&dn);
	return r < 0 ? -1 : 0;
}

int gpc_create(struct domain_session *s, const char *name, struct gpc *out, struct gt_error *e)
{
	struct sbuf dn, unc;
	char guid[39];
	struct dir_value oc = text_value("groupPolicyContainer"), zero = text_value("0"), two = text_value("2"), dname, path;
	int r;

	*out = (struct gpc){ 0 };
	new_guid(guid);
	sbuf_init(&dn);
	sbuf_init(&unc);
	policies_dn(s, &dn);
	sbuf_addf(&unc, "\\\\%s\\SysVol\\%s\\Policies\\%s", s->domain, s->domain, guid);
	{
		struct sbuf gpo_dn;

		sbuf_init(&gpo_dn);
		sbuf_addf(&gpo_dn, "CN=%s,%s", guid, dn.buf);
		sbuf_release(&dn);
		dn = gpo_dn;
	}
	dname = text_value(name);
	path = text_value(unc.buf);
	{
		const struct dir_mod attrs[] = {
			{ .attr = "objectClass", .vals = &oc, .n = 1 },
			{ .attr = "displayName", .vals = &dname, .n = 1 },
			{ .attr = "gPCFileSysPath", .vals = &path, .n = 1 },
			{ .attr = "versionNumber", .vals = &zero, .n = 1 },
			{ .attr = "flags", .vals = &zero, .n = 1 },
			{ .attr = "gPCFunctionalityVersion", .vals = &two, .n = 1 },
		};

		r = dir_add(s->ldap, dn.buf, attrs, sizeof(attrs) / sizeof(attrs[0]), e);
	}
	if (r == 1)
		r = gt_fail(e, GT_FAILED, "a GPO with the new GUID %s exists already in %s", guid, s->domain);
	if (r == 0 && (add_container(s, "User", dn.buf, e) < 0 || add_container(s, "Machine", dn.buf, e) < 0))
		r = gt_prefix(e, "GPO %s was made in AD, but not its containers: ", guid);
	if (r == 0) {
		r = gpc_find(s, NULL, guid, out, e);
		if (r == 0)
			r = gt_fail(e, GT_FAILED, "the new GPO %s cannot be read back from %s", guid, s->dc);
		else if (r == 1)
			r = 0;
	}
	sbuf_release(&unc);
	sbuf_release(&dn);
	return r;
}

/* ---- gPLink ---- */

int gpc_read_gplink(struct domain_session *s, const char *dn, char **gplink, struct gt_error *e)
{
	static const char *const attrs[] = { "gPLink", NULL };
	struct dir_entry *en = NULL;
	size_t n = 0;
	int ret;

	*gplink = NULL;
	if (dir_search(s->ldap, dn, DIR_BASE, "(objectClass=*)", attrs, 0, &en, &n, e) < 0)
		return -1;
	if (n == 1) {
		*gplink = dup_or_null(dir_entry_str(&en[0], "gPLink"));
		ret = 1;
	} else {
		ret = gt_fail(e, GT_USAGE, "there is no '%s' in %s to link the GPO to", dn, s->domain);
	}
	dir_entries_free(en, n);
	return ret;
}

void gpc_cas(struct dir_mod *mods, size_t *n, struct dir_value *vals, const char *attr, const char *old, const char *new_value)
{
	if (old) {
		vals[0] = text_value(old);
		mods[(*n)++] = (struct dir_mod){ .op = DIR_MOD_DELETE, .attr = attr, .vals = &vals[0], .n = 1 };
	}
	if (new_value) {
		vals[1] = text_value(new_value);
		mods[(*n)++] = (struct dir_mod){ .op = DIR_MOD_ADD, .attr = attr, .vals = &vals[1], .n = 1 };
	}
}

void gplink_entries_free(struct gplink_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].dn);
	free(v);
}

/* One "[LDAP://DN;OPTIONS]" at p: its length, or 0 when malformed. */
static size_t parse_one(const char *p, struct gplink_entry *out)
{
	const char *close = strchr(p, ']'), *semi;
	char *end;
	unsigned long opt;

	if (*p != '[' || !close || strncasecmp(p + 1, "LDAP://", 7) != 0)
		return 0;
	semi = memrchr(p, ';', (size_t)(close - p));
	if (!semi || semi < p + 8)
		return 0;
	errno = 0;
	opt = strtoul(semi + 1, &end, 10);
	if (errno || end != close || end == semi + 1 || opt > 0xFFFFFFFFul)
		return 0;
	out->dn = xmemdup(p + 8, (size_t)(semi - p - 8) + 1);
	out->dn[semi - p - 8] = '\0';
	out->options = (unsigned)opt;
	return (size_t)(close - p) + 1;
}

int gplink_parse(const char *gplink, struct gplink_entry **out, size_t *n, struct gt_error *e)
{
	const char *p = gplink ? gplink : "";
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	while (*p == ' ')
		p++;
	while (*p) {
		struct gplink_entry en;
		size_t used = parse_one(p, &en);

		if (!used) {
			gplink_entries_free(*out, *n);
			*out = NULL;
			*n = 0;
			return gt_fail(e, GT_REFUSED, "the gPLink '%s' is malformed near '%s'", gplink, p);
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = en;
		p += used;
		while (*p == ' ') /* GPMC leaves " " where the last link was */
			p++;
	}
	return 0;
}

const struct gplink_entry *gplink_find(const struct gplink_entry *v, size_t n, const char *gpo_dn)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v[i].dn, gpo_dn) == 0)
			return &v[i];
	return NULL;
}

void gplink_without(const char *gplink, const char *gpo_dn, struct sbuf *out)
{
	const char *p = gplink ? gplink : "";

	while (*p) {
		struct gplink_entry en = { 0 };
		size_t used = parse_one(p, &en);

		if (!used) { /* not ours to judge: kept as it is */
			sbuf_addstr(out, p);
			return;
		}
		if (strcasecmp(en.dn, gpo_dn) != 0)
			sbuf_add(out, p, used);
		free(en.dn);
		p += used;
	}
}

/* "[{CSE}{T1}{T2}]": one group at p, its length, or 0 when malformed. */
static size_t group_len(const char *p)
{
	const char *close = strchr(p, ']');

	return *p == '[' && close ? (size_t)(close - p) + 1 : 0;
}

void extnames_without(const char *ext, const char *cse, const char *tool, struct sbuf *out)
{
	const char *p = ext ? ext : "";

	while (*p) {
		size_t n = group_len(p);

		if (!n) { /* not ours to judge: kept as it is */
			sbuf_addstr(out, p);
			return;
		}
		if (n >= 40 && strncasecmp(p + 1, cse, 38) == 0) {
			struct sbuf g;

			sbuf_init(&g);
			for (const char *q = p + 39; q + 38 <= p + n - 1; q += 38)
				if (strncasecmp(q, tool, 38) != 0)
					sbuf_add(&g, q, 38);
			if (g.len)
				sbuf_addf(out, "[%.38s%s]", p + 1, g.buf);
			sbuf_release(&g);
		} else {
			sbuf_add(out, p, n);
		}
		p += n;
	}
}
