/* gpotool gpo ad DIR --domain DNS: what must change on the GPO's AD object (and on the OU
 * it is linked to) for clients to apply what the folder now holds, for users who apply it
 * themselves. Never emits anything that would drop a value already there: lists are merged
 * with the current values given, the LDIF swaps an exact old value for the new one (the
 * server refuses the swap when another writer changed the value since it was read), and an
 * attribute whose current value was not given is added, which fails where it is there. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpo/adattrs.h"
#include "cmd/cmd.h"
#include "core/textesc.h"
#include "gpo/gpotx.h"

struct ad_plan {
	struct sbuf domain_dn, gpo_dn;
	char guid[39];
	const char *dc;               /* --dc, else the domain's name */
	uint32_t gpt_version;         /* GPT.INI's Version */
	uint32_t version;             /* what versionNumber becomes */
	const char *current_version;  /* --current-version as given, NULL unknown */
	uint32_t ad_version;          /* its value */
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

/* ---- quoting ---- */

/* POSIX shell: single quotes, in which nothing is special (a newline neither), each ' as '\''. */
static void sh_quote(struct sbuf *out, const char *s)
{
	sbuf_addch(out, '\'');
	for (; *s; s++)
		if (*s == '\'')
			sbuf_addstr(out, "'\\''");
		else
			sbuf_addch(out, *s);
	sbuf_addch(out, '\'');
}

/* PowerShell: a single-quoted string, in which a quote is written twice. PowerShell takes the
 * typographic single quotes U+2018..U+201B for ' too, so those are doubled as well. */
static void ps_quote(struct sbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	sbuf_addch(out, '\'');
	while (*p) {
		if (*p == '\'') {
			sbuf_addstr(out, "''");
			p++;
		} else if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0x98 && p[2] <= 0x9B) {
			sbuf_add(out, p, 3);
			sbuf_add(out, p, 3);
			p += 3;
		} else {
			sbuf_addch(out, (char)*p++);
		}
	}
	sbuf_addch(out, '\'');
}

/* An LDAP filter value (RFC 4515): the characters a filter gives a meaning to, as \XX. */
static void filter_value(struct sbuf *out, const char *s)
{
	for (; *s; s++)
		if (strchr("()*\\", *s))
			sbuf_addf(out, "\\%02x", (unsigned char)*s);
		else
			sbuf_addch(out, *s);
}

/* ---- LDIF ---- */

/* The GPO object's record: versionNumber and each side's extension list, swapped where the
 * current value is known, added where it is not. 0 when nothing changes. */
static int ldif_gpo_record(const struct ad_plan *p, struct sbuf *out)
{
	char old[12], new[12];
	struct sbuf mods;
	int any;

	sbuf_init(&mods);
	if (!p->current_version || p->ad_version != p->version)
		ldif_swap(&mods, "versionNumber", p->current_version ? ad_version_text(p->ad_version, old) : NULL,
			  ad_version_text(p->version, new));
	for (int s = 0; s < 2; s++)
		if (p->sides[s] && (!p->current_ext[s] || p->ext_changed[s]))
			ldif_swap(&mods, ext_attr[s], p->current_ext[s] && *p->current_ext[s] ? p->current_ext[s] : NULL,
				  p->merged_ext[s].buf);
	any = mods.len > 0;
	if (any) {
		ldif_line(out, "dn", p->gpo_dn.buf);
		sbuf_addf(out, "changetype: modify\n%s", mods.buf);
	} else {
		sbuf_addstr(out, "# the GPO's versionNumber and extension lists already hold these values\n");
	}
	sbuf_release(&mods);
	return any;
}

/* The OU's gPLink: our link swapped in when the current value is known; else (with_add) our
 * link alone added, which fails where the OU links any GPO. */
static void ldif_link_record(const struct ad_plan *p, int with_add, int after_record, struct sbuf *out)
{
	if (!p->link_dn)
		return;
	if ((p->current_gplink && !p->link_changed) || (!p->current_gplink && !with_add))
		return;
	if (after_record)
		sbuf_addch(out, '\n');
	ldif_line(out, "dn", p->link_dn);
	sbuf_addstr(out, "changetype: modify\n");
	/* " " (no links, as GPMC leaves it) is a value: it is swapped like any other */
	ldif_swap(out, "gPLink", p->current_gplink && *p->current_gplink ? p->current_gplink : NULL, p->merged_gplink.buf);
}

static void ldif_body(const struct ad_plan *p, int link_add, struct sbuf *out)
{
	int record = ldif_gpo_record(p, out);

	ldif_link_record(p, link_add, record, out);
}

/* ---- what was not given ---- */

/* The ldapsearch that reads what is missing, in one line a shell takes as it is. */
static void read_hint(const struct ad_plan *p, const char *dn, const char *attrs, struct sbuf *out)
{
	sbuf_addf(out, "#   ldapsearch -LLL -o ldif-wrap=no -H ldap://%s -b ", p->dc);
	sh_quote(out, dn);
	sbuf_addf(out, " -s base %s\n", attrs);
}

/* Which of the GPO's values were not given: each is written as an add, and the note says what
 * that assumes and how to read the value. */
static void unknown_gpo_notes(const struct ad_plan *p, int powershell, struct sbuf *out)
{
	struct sbuf attrs, opts;

	sbuf_init(&attrs);
	sbuf_init(&opts);
	if (!p->current_version) {
		sbuf_addstr(&attrs, " versionNumber");
		sbuf_addstr(&opts, " --current-version N");
	}
	for (int s = 0; s < 2; s++)
		if (p->sides[s] && !p->current_ext[s]) {
			sbuf_addf(&attrs, " %s", ext_attr[s]);
			sbuf_addf(&opts, " %s 'VALUE'", ext_opt[s]);
		}
	if (attrs.len && !powershell) {
		sbuf_addf(out, "# Not given, so written as add:, which assumes the attribute is absent: where it is there, the\n"
			       "# modify fails and changes nothing%s:\n#  %s\n# To swap them instead, read them with\n",
			  p->current_version ? "" : " (a GPO made by GPMC or samba-tool always has a versionNumber)",
			  attrs.buf);
		read_hint(p, p->gpo_dn.buf, attrs.buf + 1, out);
		sbuf_addf(out, "# (a value printed as attr:: is base64) and run gpo ad again with%s\n# ('' for one that is absent).\n",
			  opts.buf);
	}
	for (int s = 0; powershell && s < 2; s++)
		if (p->sides[s] && !p->current_ext[s])
			sbuf_addf(out, "# %s is not written: replacing it needs its current value, or the other extensions in it\n"
				       "# would be dropped. Read it (Get-ADObject ... -Properties %s) and run this again with\n"
				       "# %s 'VALUE' ('' if it is empty). It must hold [%s%s].\n",
				  ext_attr[s], ext_attr[s], ext_opt[s], GPP_REGISTRY_CSE, GPP_REGISTRY_TOOL);
	sbuf_release(&attrs);
	sbuf_release(&opts);
}

static void link_note(const struct ad_plan *p, struct sbuf *out)
{
	if (p->link_dn && p->current_gplink && !p->link_changed)
		sbuf_addf(out, "# %s already links this GPO: gPLink unchanged\n", esc(p->link_dn));
	if (!p->link_dn || p->current_gplink)
		return;
	sbuf_addf(out, "# gPLink of %s not given: written as add: with this GPO's link alone, which assumes the OU\n"
		       "# links no GPO, and fails, changing nothing, where it links one (OU=Domain Controllers links the\n"
		       "# Default Domain Controllers Policy). To add the link beside the others, read it\n", esc(p->link_dn));
	read_hint(p, p->link_dn, "gPLink", out);
	sbuf_addstr(out, "# and run gpo ad again with --current-gplink 'VALUE'.\n");
}

/* ---- the three formats ---- */

static void render_ldif(const struct ad_plan *p, struct sbuf *out)
{
	sbuf_addf(out, "# GPO %s: AD changes for GPT.INI Version %u.\n"
		       "# Apply with ldapmodify -H ldap://%s -f FILE (with your bind options), on a Samba DC with\n"
		       "# ldbmodify -H ldap://%s -U USER FILE, or print a script for it with --format samba.\n"
		       "# Each value is swapped (delete: the old one, add: the new one): if another writer changed it\n"
		       "# since it was read, the modify fails and changes nothing; read it again and run gpo ad again.\n",
		  esc(p->gpo_dn.buf), p->gpt_version, p->dc, p->dc);
	unknown_gpo_notes(p, 0, out);
	link_note(p, out);
	ldif_body(p, 1, out);
}

static void render_powershell(const struct ad_plan *p, const char *dns, struct sbuf *out)
{
	char v[12];

	sbuf_addf(out, "# GPO %s: AD changes for GPT.INI Version %u (modules ActiveDirectory and GroupPolicy)\n",
		  esc(p->gpo_dn.buf), p->gpt_version);
	unknown_gpo_notes(p, 1, out);
	sbuf_addf(out, "Set-ADObject -Server '%s' -Identity ", dns);
	ps_quote(out, p->gpo_dn.buf);
	sbuf_addf(out, " -Replace @{ versionNumber = %s }\n", ad_version_text(p->version, v));
	for (int s = 0; s < 2; s++)
		if (p->sides[s] && p->current_ext[s] && p->ext_changed[s]) {
			sbuf_addf(out, "Set-ADObject -Server '%s' -Identity ", dns);
			ps_quote(out, p->gpo_dn.buf);
			sbuf_addf(out, " -Replace @{ %s = ", ext_attr[s]);
			ps_quote(out, p->merged_ext[s].buf);
			sbuf_addstr(out, " }\n");
		}
	if (p->link_dn && (!p->current_gplink || p->link_changed)) {
		/* New-GPLink adds a link beside the existing ones; it never rewrites gPLink */
		sbuf_addf(out, "New-GPLink -Domain '%s' -Guid '%.36s' -Target ", dns, p->guid + 1);
		ps_quote(out, p->link_dn);
		sbuf_addstr(out, " -LinkEnabled Yes\n");
	}
}

/* A step of the script that fails it unless the DC's object base matches filter. */
static void sh_check(const struct ad_plan *p, const char *base, const struct sbuf *filter, const char *what,
		     struct sbuf *out)
{
	struct sbuf msg;

	sbuf_addf(out, "n=$(ldbsearch -H 'ldap://%s' \"$@\" -s base -b ", p->dc);
	sh_quote(out, base);
	sbuf_addch(out, ' ');
	sh_quote(out, filter->buf);
	sbuf_addstr(out, " dn | sed -n 's/^# returned \\([0-9]*\\) records$/\\1/p')\nif [ \"$n\" != 1 ]; then\n\techo ");
	sbuf_init(&msg);
	sbuf_addf(&msg, "gpo ad: the DC does not hold %s on %s", what, base);
	sh_quote(out, msg.buf);
	sbuf_addstr(out, " >&2\n\texit 1\nfi\necho ");
	sbuf_reset(&msg);
	sbuf_addf(&msg, "checked: %s on %s", what, base);
	sh_quote(out, msg.buf);
	sbuf_addch(out, '\n');
	sbuf_release(&msg);
}

/* The script checks what the DC holds once it is written: versionNumber and the extension
 * lists as written, and the OU linking the GPO. */
static void sh_checks(const struct ad_plan *p, struct sbuf *out)
{
	struct sbuf f;
	char v[12];

	sbuf_init(&f);
	sbuf_addf(&f, "(&(versionNumber=%s)", ad_version_text(p->version, v));
	for (int s = 0; s < 2; s++)
		if (p->sides[s]) {
			sbuf_addf(&f, "(%s=", ext_attr[s]);
			filter_value(&f, p->merged_ext[s].buf);
			sbuf_addch(&f, ')');
		}
	sbuf_addch(&f, ')');
	sh_check(p, p->gpo_dn.buf, &f, p->sides[0] || p->sides[1] ? "versionNumber and the extension lists as written" :
		 "versionNumber as written", out);
	if (p->link_dn) {
		sbuf_reset(&f);
		if (p->current_gplink && p->link_changed) {
			sbuf_addstr(&f, "(gPLink=");
			filter_value(&f, p->merged_gplink.buf);
		} else {
			sbuf_addf(&f, "(gPLink=*%s*", p->guid);
		}
		sbuf_addch(&f, ')');
		sh_check(p, p->link_dn, &f, p->current_gplink && p->link_changed ? "gPLink as written" : "a link to this GPO", out);
	}
	sbuf_release(&f);
}

/* samba-tool gpo setlink reads gPLink itself and adds this GPO beside the others; run twice it
 * fails ("already linked"), so the script asks first. */
static void sh_setlink(const struct ad_plan *p, struct sbuf *out)
{
	struct sbuf f;

	sbuf_init(&f);
	sbuf_addf(&f, "(gPLink=*%s*)", p->guid);
	sbuf_addf(out, "if [ \"$(ldbsearch -H 'ldap://%s' \"$@\" -s base -b ", p->dc);
	sh_quote(out, p->link_dn);
	sbuf_addch(out, ' ');
	sh_quote(out, f.buf);
	sbuf_addstr(out, " dn | sed -n 's/^# returned \\([0-9]*\\) records$/\\1/p')\" != 1 ]; then\n\tsamba-tool gpo setlink ");
	sh_quote(out, p->link_dn);
	sbuf_addf(out, " '%s' -H 'ldap://%s' \"$@\"\nfi\n", p->guid, p->dc);
	sbuf_release(&f);
}

static void render_samba(const struct ad_plan *p, struct sbuf *out)
{
	struct sbuf ldif;

	sbuf_addf(out, "#!/bin/sh\n"
		       "# GPO %s on the Samba AD DC %s, over LDAP: the AD side of GPT.INI Version %u.\n"
		       "# Run it as  sh FILE -U USER  (each tool asks for the password, or reads it from $PASSWD or\n"
		       "# from the file $PASSWD_FILE names),  sh FILE -A AUTHFILE,  or  sh FILE --use-kerberos=required\n"
		       "# after kinit: the arguments are samba-tool's credential options, given to each command.\n"
		       "# The LDIF is what --format ldif prints: each value swapped, so a value another writer changed\n"
		       "# since it was read makes the modify fail and change nothing; read it again, run gpo ad again.\n",
		  esc(p->gpo_dn.buf), p->dc, p->gpt_version);
	unknown_gpo_notes(p, 0, out);
	if (p->link_dn && p->current_gplink && !p->link_changed)
		sbuf_addf(out, "# %s already links this GPO: gPLink unchanged\n", esc(p->link_dn));
	if (p->link_dn && !p->current_gplink)
		sbuf_addf(out, "# gPLink of %s not given: samba-tool gpo setlink adds the link beside the others.\n",
			  esc(p->link_dn));
	sbuf_addstr(out, "set -eu\nif [ $# -eq 0 ]; then\n"
			 "\techo 'usage: sh FILE -U USER | -A AUTHFILE | --use-kerberos=required (samba-tool credential options)' >&2\n"
			 "\texit 2\nfi\n");
	sbuf_init(&ldif);
	ldif_body(p, 0, &ldif);
	if (strstr(ldif.buf, "changetype: modify"))
		sbuf_addf(out, "ldbmodify -H 'ldap://%s' \"$@\" <<'GPOTOOL_LDIF'\n%sGPOTOOL_LDIF\n", p->dc, ldif.buf);
	else
		sbuf_addstr(out, ldif.buf);
	sbuf_release(&ldif);
	if (p->link_dn && !p->current_gplink)
		sh_setlink(p, out);
	sh_checks(p, out);
}

/* ---- the plan ---- */

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
	p->current_version = cmd_opt(en, a, "current-version");
	p->dc = cmd_opt(en, a, "dc");
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
static int read_gpo(const char *dir, struct ad_plan *p, struct gt_error *e)
{
	struct gpotx tx;
	int ret = 0;

	if (gpotx_open(&tx, dir, 0, 0, e) < 0)
		return -1;
	if (tx.gpo.backup || !tx.gpo.guid[0]) {
		ret = gt_fail(e, GT_USAGE, tx.gpo.backup ? "'%s' is a GPMC backup: GPMC sets the AD object when it restores it"
					       : "'%s' is not named by its GPO GUID ({XXXXXXXX-...}), so its AD object is unknown", dir);
	} else {
		memcpy(p->guid, tx.gpo.guid, 39);
		p->gpt_version = tx.gpt.version;
	}
	gpotx_close(&tx);
	if (ret < 0 || count_items(dir, 0, &p->sides[0], e) < 0 || count_items(dir, 1, &p->sides[1], e) < 0)
		return -1;
	return 0;
}

/* The DNs, the version, and the lists merged with the current values (none given: merged
 * with nothing): the GPO's tools added to its extension lists, its link added to the OU's
 * gPLink, nothing already there dropped. */
static int merge_attributes(struct ad_plan *p, const char *dns, struct gt_error *e)
{
	struct sbuf link;
	int ret = 0;

	if (dns_to_dn(dns, &p->domain_dn, e) < 0)
		return -1;
	sbuf_addf(&p->gpo_dn, "CN=%s,CN=Policies,CN=System,%s", p->guid, p->domain_dn.buf);
	p->version = p->gpt_version;
	if (p->current_version && ad_version_next(p->ad_version, p->gpt_version, &p->version, e) < 0)
		return -1;
	for (int s = 0; s < 2; s++)
		if (p->sides[s] &&
		    extnames_merge(p->current_ext[s], GPP_REGISTRY_CSE, GPP_REGISTRY_TOOL, &p->merged_ext[s], &p->ext_changed[s], e) < 0)
			return -1;
	/* gPLink entries name the GPO in lower case, as GPMC writes them */
	sbuf_init(&link);
	sbuf_addf(&link, "cn=%s,cn=policies,cn=system,%s", p->guid, p->domain_dn.buf);
	if (p->link_dn && gplink_merge(p->current_gplink, link.buf, &p->merged_gplink, &p->link_changed, e) < 0)
		ret = -1;
	sbuf_release(&link);
	return ret;
}

/* The command line's values that end up in a script or a query: checked before anything is
 * printed, so that none can break out of the quoting it is printed in. */
static int check_values(struct ad_plan *p, const char *dns, const char *format, struct gt_error *e)
{
	if (strcmp(format, "ldif") && strcmp(format, "powershell") && strcmp(format, "samba"))
		return gt_fail(e, GT_USAGE, "--format takes ldif, powershell or samba, not '%s'", format);
	if (!p->dc)
		p->dc = dns;
	if (!*p->dc || strlen(p->dc) > 255 ||
	    strspn(p->dc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(p->dc))
		return gt_fail(e, GT_USAGE, "--dc takes the DC's host name or address, not '%s'", esc(p->dc));
	if (p->current_version && ad_version_parse(p->current_version, &p->ad_version) < 0)
		return gt_fail(e, GT_USAGE, "--current-version takes versionNumber as ldapsearch prints it (a number), not '%s'",
			       esc(p->current_version));
	if (p->link_dn && (!*p->link_dn || !text_is_clean(p->link_dn)))
		return gt_fail(e, GT_USAGE, "--link takes the DN of the OU (UTF-8, no control characters), not '%s'",
			       esc(p->link_dn));
	return 0;
}

static void render(const struct ad_plan *p, const char *format, const char *dns, struct sbuf *out)
{
	if (strcmp(format, "ldif") == 0)
		render_ldif(p, out);
	else if (strcmp(format, "powershell") == 0)
		render_powershell(p, dns, out);
	else
		render_samba(p, out);
}

/* The --json fields: the merged values (null where the current one was not given). */
static void add_result(struct gt_ctx *ctx, const struct ad_plan *p, const char *format, const struct sbuf *out)
{
	json_object_object_add(ctx->result, "dn", json_object_new_string(p->gpo_dn.buf));
	json_object_object_add(ctx->result, "version", json_object_new_int64(p->version));
	json_object_object_add(ctx->result, "current_version", p->current_version ? json_object_new_int64(p->ad_version) : NULL);
	for (int s = 0; s < 2; s++)
		json_object_object_add(ctx->result, ext_attr[s],
				       p->sides[s] && p->current_ext[s] ? json_object_new_string(p->merged_ext[s].buf) : NULL);
	json_object_object_add(ctx->result, "gPLink", p->link_dn && p->current_gplink ? json_object_new_string(p->merged_gplink.buf) : NULL);
	json_object_object_add(ctx->result, "dc", json_object_new_string(p->dc));
	json_object_object_add(ctx->result, "format", json_object_new_string(format));
	json_object_object_add(ctx->result, "text", json_object_new_string(out->buf));
}

static int exec_gpo_ad(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const struct cmd_entry *en = &cmd_gpo_ad_entry;
	const char *dns = cmd_opt(en, a, "domain"), *format = cmd_opt(en, a, "format");
	struct ad_plan p;
	struct sbuf out;
	int ret = GT_OK;

	if (!dns)
		return gt_fail(e, GT_USAGE, "gpo ad needs --domain DNS (e.g. corp.example.com)");
	if (!format)
		format = "ldif";
	ad_plan_init(&p, en, a);
	sbuf_init(&out);
	if (check_values(&p, dns, format, e) < 0 || read_gpo(a->argv[0], &p, e) < 0 || merge_attributes(&p, dns, e) < 0) {
		ret = -1;
	} else {
		render(&p, format, dns, &out);
		out_text(ctx, "%s", out.buf);
		add_result(ctx, &p, format, &out);
	}
	sbuf_release(&out);
	ad_plan_release(&p);
	return ret;
}

const struct cmd_entry cmd_gpo_ad_entry = {
	.name = "gpo ad",
	.args_usage = "DIR --domain DNS [--link DN] [--format ldif|powershell|samba] [--dc HOST] [--current-...]",
	.summary = "print what the GPO's AD object and the OU link need (compare-and-swap, nothing dropped)",
	.options = { "domain=", "link=", "format=", "current-gplink=", "current-extensions=", "current-user-extensions=",
		     "current-version=", "dc=", NULL },
	.min_args = 1,
	.max_args = 1,
	.exec = exec_gpo_ad,
};
