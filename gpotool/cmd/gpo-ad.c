/* gpotool gpo ad DIR --domain DNS: what must change on the GPO's AD object (and on the OU
 * it is linked to) for clients to apply what the folder now holds. Never emits anything that
 * would drop a value already there: lists are merged with the current values given, and an
 * LDIF replace is written only when the current value is known. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpo/adattrs.h"
#include "cmd/cmd.h"
#include "gpo/gpotx.h"

struct ad_plan {
	struct sbuf domain_dn, gpo_dn;
	uint32_t version;
	int sides[2];                 /* machine, user: Registry.xml with items */
	const char *current_ext[2];   /* current gPC{Machine,User}ExtensionNames, NULL unknown */
	struct sbuf merged_ext[2];
	int ext_changed[2];
	const char *link_dn;          /* --link */
	const char *current_gplink;   /* NULL unknown */
	struct sbuf merged_gplink;
	int link_changed;
};

static const char *const ext_attr[2] = { "gPCMachineExtensionNames", "gPCUserExtensionNames" };
static const char *const ext_opt[2] = { "--current-extensions", "--current-user-extensions" };

static void ldif_body(const struct ad_plan *p, struct sbuf *out)
{
	if (p->link_dn && p->current_gplink && !p->link_changed)
		sbuf_addf(out, "# %s already links this GPO: gPLink unchanged\n", p->link_dn);
	sbuf_addf(out, "dn: %s\nchangetype: modify\nreplace: versionNumber\nversionNumber: %u\n-\n", p->gpo_dn.buf, p->version);
	for (int s = 0; s < 2; s++) {
		if (!p->sides[s] || !p->current_ext[s] || !p->ext_changed[s])
			continue;
		sbuf_addf(out, "replace: %s\n%s: %s\n-\n", ext_attr[s], ext_attr[s], p->merged_ext[s].buf);
	}
	if (p->link_dn && p->current_gplink && p->link_changed)
		sbuf_addf(out, "\ndn: %s\nchangetype: modify\nreplace: gPLink\ngPLink: %s\n-\n", p->link_dn, p->merged_gplink.buf);
}

static void unknown_notes(const struct ad_plan *p, int powershell, struct sbuf *out)
{
	for (int s = 0; s < 2; s++)
		if (p->sides[s] && !p->current_ext[s])
			sbuf_addf(out, "# %s is not written: replacing it needs its current value, or the other extensions in it\n"
				       "# would be dropped. Read it (ldapsearch -b '%s' -s base %s, or Get-ADObject ... -Properties %s)\n"
				       "# and run this again with %s 'VALUE' ('' if it is empty). It must hold [%s%s].\n",
				  ext_attr[s], p->gpo_dn.buf, ext_attr[s], ext_attr[s], ext_opt[s], GPP_REGISTRY_CSE, GPP_REGISTRY_TOOL);
	if (p->link_dn && !p->current_gplink && !powershell)
		sbuf_addf(out, "# gPLink of %s is not written as LDIF without --current-gplink: a replace holding only this link\n"
			       "# would unlink every other GPO there (the Default Domain Controllers Policy among them).\n", p->link_dn);
}

static void render_ldif(const struct ad_plan *p, struct sbuf *out)
{
	sbuf_addf(out, "# GPO %s: AD changes for GPT.INI Version %u. Apply with ldapmodify -f FILE\n# (a Samba DC: ldbmodify -H /var/lib/samba/private/sam.ldb FILE)\n",
		  p->gpo_dn.buf, p->version);
	unknown_notes(p, 0, out);
	ldif_body(p, out);
}

static void render_powershell(const struct ad_plan *p, const char *dns, const char *guid, struct sbuf *out)
{
	sbuf_addf(out, "# GPO %s: AD changes for GPT.INI Version %u (modules ActiveDirectory and GroupPolicy)\n", p->gpo_dn.buf, p->version);
	unknown_notes(p, 1, out);
	sbuf_addf(out, "Set-ADObject -Server '%s' -Identity '%s' -Replace @{ versionNumber = %u }\n", dns, p->gpo_dn.buf, p->version);
	for (int s = 0; s < 2; s++)
		if (p->sides[s] && p->current_ext[s] && p->ext_changed[s])
			sbuf_addf(out, "Set-ADObject -Server '%s' -Identity '%s' -Replace @{ %s = '%s' }\n", dns, p->gpo_dn.buf,
				  ext_attr[s], p->merged_ext[s].buf);
	if (p->link_dn && (!p->current_gplink || p->link_changed))
		/* New-GPLink adds a link beside the existing ones; it never rewrites gPLink */
		sbuf_addf(out, "New-GPLink -Domain '%s' -Guid '%.36s' -Target '%s' -LinkEnabled Yes\n", dns, guid + 1, p->link_dn);
}

static void render_samba(const struct ad_plan *p, const char *guid, struct sbuf *out)
{
	sbuf_addf(out, "# GPO %s on a Samba AD DC: GPT.INI Version %u\n", p->gpo_dn.buf, p->version);
	unknown_notes(p, 1, out);
	if (p->link_dn && (!p->current_gplink || p->link_changed))
		/* setlink adds this GPO to the OU's existing links */
		sbuf_addf(out, "samba-tool gpo setlink '%s' '%s'\n", p->link_dn, guid);
	sbuf_addstr(out, "# samba-tool has no command for versionNumber or the extension lists:\n");
	sbuf_addstr(out, "ldbmodify -H /var/lib/samba/private/sam.ldb <<'GPOTOOL_LDIF'\n");
	{
		struct ad_plan copy = *p;

		copy.link_dn = NULL; /* the link is setlink's job here */
		ldif_body(&copy, out);
	}
	sbuf_addstr(out, "GPOTOOL_LDIF\n");
}

static int count_items(const char *dir, int user, int *has, struct gt_error *e)
{
	struct gpotx tx;

	if (gpotx_open(&tx, dir, user, 0, e) < 0)
		return -1;
	*has = tx.reg_exists && gpp_item_count(tx.doc) > 0;
	gpotx_close(&tx);
	return 0;
}

static void ad_plan_init(struct ad_plan *p, const struct cmd_entry *en, const struct cmd_args *a)
{
	memset(p, 0, sizeof(*p));
	p->link_dn = cmd_opt(en, a, "link");
	p->current_gplink = cmd_opt(en, a, "current-gplink");
	p->current_ext[0] = cmd_opt(en, a, "current-extensions");
	p->current_ext[1] = cmd_opt(en, a, "current-user-extensions");
	sbuf_init(&p->domain_dn);
	sbuf_init(&p->gpo_dn);
	sbuf_init(&p->merged_gplink);
	for (int s = 0; s < 2; s++)
		sbuf_init(&p->merged_ext[s]);
}

static void ad_plan_release(struct ad_plan *p)
{
	sbuf_release(&p->domain_dn);
	sbuf_release(&p->gpo_dn);
	sbuf_release(&p->merged_gplink);
	for (int s = 0; s < 2; s++)
		sbuf_release(&p->merged_ext[s]);
}

/* What the folder says of its AD object: the GUID it is named by, its version, and which
 * sides hold items. A GPMC backup, or a folder not named by its GUID, names no AD object. */
static int read_gpo(const char *dir, struct ad_plan *p, char guid[39], struct gt_error *e)
{
	struct gpotx tx;
	int ret = 0;

	if (gpotx_open(&tx, dir, 0, 0, e) < 0)
		return -1;
	if (tx.gpo.backup || !tx.gpo.guid[0]) {
		ret = gt_fail(e, GT_USAGE, tx.gpo.backup ? "'%s' is a GPMC backup: GPMC sets the AD object when it restores it"
					       : "'%s' is not named by its GPO GUID ({XXXXXXXX-...}), so its AD object is unknown", dir);
	} else {
		memcpy(guid, tx.gpo.guid, 39);
		p->version = tx.gpt.version;
	}
	gpotx_close(&tx);
	if (ret < 0 || count_items(dir, 0, &p->sides[0], e) < 0 || count_items(dir, 1, &p->sides[1], e) < 0)
		return -1;
	return 0;
}

/* The DNs, and the lists merged with the current values given: the GPO's tools added to its
 * extension lists, its link added to the OU's gPLink, nothing already there dropped. */
static int merge_attributes(struct ad_plan *p, const char *dns, const char *guid, struct gt_error *e)
{
	struct sbuf link;
	int ret = 0;

	if (dns_to_dn(dns, &p->domain_dn, e) < 0)
		return -1;
	sbuf_addf(&p->gpo_dn, "CN=%s,CN=Policies,CN=System,%s", guid, p->domain_dn.buf);
	for (int s = 0; s < 2; s++)
		if (p->sides[s] && p->current_ext[s] &&
		    extnames_merge(p->current_ext[s], GPP_REGISTRY_CSE, GPP_REGISTRY_TOOL, &p->merged_ext[s], &p->ext_changed[s], e) < 0)
			return -1;
	/* gPLink entries name the GPO in lower case, as GPMC writes them */
	sbuf_init(&link);
	sbuf_addf(&link, "cn=%s,cn=policies,cn=system,%s", guid, p->domain_dn.buf);
	if (p->link_dn && p->current_gplink && gplink_merge(p->current_gplink, link.buf, &p->merged_gplink, &p->link_changed, e) < 0)
		ret = -1;
	sbuf_release(&link);
	return ret;
}

static void render(const struct ad_plan *p, const char *format, const char *dns, const char *guid, struct sbuf *out)
{
	if (strcmp(format, "ldif") == 0)
		render_ldif(p, out);
	else if (strcmp(format, "powershell") == 0)
		render_powershell(p, dns, guid, out);
	else
		render_samba(p, guid, out);
}

/* The --json fields: the merged values (null where the current one was not given). */
static void add_result(struct gt_ctx *ctx, const struct ad_plan *p, const char *format, const struct sbuf *out)
{
	json_object_object_add(ctx->result, "dn", json_object_new_string(p->gpo_dn.buf));
	json_object_object_add(ctx->result, "version", json_object_new_int64(p->version));
	for (int s = 0; s < 2; s++)
		json_object_object_add(ctx->result, ext_attr[s],
				       p->sides[s] && p->current_ext[s] ? json_object_new_string(p->merged_ext[s].buf) : NULL);
	json_object_object_add(ctx->result, "gPLink", p->link_dn && p->current_gplink ? json_object_new_string(p->merged_gplink.buf) : NULL);
	json_object_object_add(ctx->result, "format", json_object_new_string(format));
	json_object_object_add(ctx->result, "text", json_object_new_string(out->buf));
}

static int exec_gpo_ad(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const struct cmd_entry *en = &cmd_gpo_ad_entry;
	const char *dns = cmd_opt(en, a, "domain"), *format = cmd_opt(en, a, "format");
	struct ad_plan p;
	struct sbuf out;
	char guid[39];
	int ret = GT_OK;

	if (!dns)
		return gt_fail(e, GT_USAGE, "gpo ad needs --domain DNS (e.g. corp.example.com)");
	if (!format)
		format = "ldif";
	if (strcmp(format, "ldif") && strcmp(format, "powershell") && strcmp(format, "samba"))
		return gt_fail(e, GT_USAGE, "--format takes ldif, powershell or samba, not '%s'", format);
	ad_plan_init(&p, en, a);
	sbuf_init(&out);
	if (read_gpo(a->argv[0], &p, guid, e) < 0 || merge_attributes(&p, dns, guid, e) < 0) {
		ret = -1;
	} else {
		render(&p, format, dns, guid, &out);
		out_text(ctx, "%s", out.buf);
		add_result(ctx, &p, format, &out);
	}
	sbuf_release(&out);
	ad_plan_release(&p);
	return ret;
}

const struct cmd_entry cmd_gpo_ad_entry = {
	.name = "gpo ad",
	.args_usage = "DIR --domain DNS [--link DN] [--format ldif|powershell|samba] [--current-...]",
	.summary = "print what the GPO's AD object and the OU link need (merged, nothing dropped)",
	.options = { "domain=", "link=", "format=", "current-gplink=", "current-extensions=", "current-user-extensions=", NULL },
	.min_args = 1,
	.max_args = 1,
	.exec = exec_gpo_ad,
};
