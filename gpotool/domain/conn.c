/* A session with one DC; see conn.h. */
#include "domain/conn.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/sbuf.h"
#include "domain/krb.h"
#include "domain/sd.h"
#include "gpo/adattrs.h"

int domain_parse_resolve(const char *text, struct domain_resolve *out, struct gt_error *e)
{
	const char *colon = strchr(text, ':');
	struct in6_addr a6;
	struct in_addr a4;
	char *addr;

	*out = (struct domain_resolve){ 0 };
	if (!colon || colon == text || !colon[1])
		return gt_fail(e, GT_USAGE, "--resolve takes HOST:ADDRESS, not '%s'", text);
	addr = xstrdup(colon + 1);
	if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') {
		memmove(addr, addr + 1, strlen(addr) - 2);
		addr[strlen(addr) - 2] = '\0';
	}
	if (inet_pton(AF_INET, addr, &a4) != 1 && inet_pton(AF_INET6, addr, &a6) != 1) {
		free(addr);
		return gt_fail(e, GT_USAGE, "--resolve '%s': '%s' is not an IP address", text, colon + 1);
	}
	out->host = xmemdup(text, (size_t)(colon - text) + 1);
	out->host[colon - text] = '\0';
	out->address = addr;
	return 0;
}

void domain_resolve_release(struct domain_resolve *r)
{
	free(r->host);
	free(r->address);
	*r = (struct domain_resolve){ 0 };
}

/* The address --resolve gives host, or NULL: DNS decides. */
static const char *resolved(const struct domain_conn_opts *o, const char *host)
{
	for (size_t i = 0; i < o->nresolve; i++)
		if (strcasecmp(o->resolve[i].host, host) == 0)
			return o->resolve[i].address;
	return NULL;
}

/* A name an unauthenticated answer gave (DNS SRV, a rootDSE) is only followed inside the
 * domain: TLS then proves the host owns that name, which must be one of the domain's. */
static int in_domain(const char *host, const char *domain)
{
	size_t n = strlen(host), m = strlen(domain);

	while (n && host[n - 1] == '.')
		n--;
	return n > m + 1 && host[n - m - 1] == '.' && strncasecmp(host + n - m, domain, m) == 0;
}

/* ---- the user, as LDAP and SMB each want it ---- */

struct logon {
	char *ldap_user;   /* "NAME@domain", "DOMAIN\NAME" or a DN, as a simple bind takes it */
	char *smb_user;    /* NAME */
	char *smb_domain;  /* DOMAIN or realm */
};

static void logon_release(struct logon *l)
{
	free(l->ldap_user);
	free(l->smb_user);
	free(l->smb_domain);
}

static void split_user(const char *user, const char *domain, struct logon *l)
{
	const char *bs = strchr(user, '\\'), *at = strrchr(user, '@');
	struct sbuf b;

	sbuf_init(&b);
	if (bs) {
		l->smb_domain = xmemdup(user, (size_t)(bs - user) + 1);
		l->smb_domain[bs - user] = '\0';
		l->smb_user = xstrdup(bs + 1);
		l->ldap_user = xstrdup(user);
	} else if (at) {
		l->smb_user = xmemdup(user, (size_t)(at - user) + 1);
		l->smb_user[at - user] = '\0';
		l->smb_domain = xstrdup(at + 1);
		l->ldap_user = xstrdup(user);
	} else {
		l->smb_user = xstrdup(user);
		l->smb_domain = xstrdup(domain);
		sbuf_addf(&b, "%s@%s", user, domain);
		l->ldap_user = sbuf_detach(&b, NULL);
	}
	sbuf_release(&b);
}

/* ---- finding the PDC emulator ---- */

/* The target of the first SRV record of name: 1 found (*out caller-freed), 0 none. DNS
 * through glibc's resolver (libresolv): the lookup is the library's, the parse of its
 * answer too (ns_initparse, ns_parserr, dn_expand). */
static int srv_lookup(const char *name, char **out)
{
	unsigned char answer[4096];
	char target[NS_MAXDNAME];
	int best_prio = 65536;
	struct __res_state rs;
	ns_msg msg;
	int len;

	*out = NULL;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0)
		return 0;
	rs.retrans = 2;
	rs.retry = 1;
	len = res_nquery(&rs, name, ns_c_in, ns_t_srv, answer, sizeof(answer));
	if (len > 0 && ns_initparse(answer, len, &msg) == 0) {
		for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
			ns_rr rr;
			const unsigned char *rd;

			if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7)
				continue;
			rd = ns_rr_rdata(rr);
			if ((int)ns_get16(rd) >= best_prio ||
			    dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, target, sizeof(target)) < 0)
				continue;
			best_prio = ns_get16(rd);
			free(*out);
			*out = xstrdup(target);
		}
	}
	res_nclose(&rs);
	return *out != NULL;
}

static void dir_opts_for(const struct domain_conn_opts *o, const char *host, const struct logon *l, struct dir_conn_opts *d)
{
	*d = (struct dir_conn_opts){
		.host = host,
		.address = resolved(o, host),
		.ca_file = o->ca_file,
		.auth = o->kerberos ? DIR_AUTH_KERBEROS : DIR_AUTH_PASSWORD,
		.user = l->ldap_user,
		.password = o->password,
		.allow_plain = o->allow_plain_ldap,
	};
	if (o->ldaps)
		d->transport = DIR_LDAPS;
	else if (o->kerberos)
		d->transport = DIR_PLAIN; /* the SASL layer signs and seals (Samba refuses it inside TLS) */
	else
		d->transport = DIR_STARTTLS; /* --allow-plain-ldap: only when the DC has no StartTLS */
}

/* The DNS name of the DC holding the PDC emulator role, as the DC the session is bound to
 * reports it: the domain object's fSMORoleOwner names that DC's NTDS Settings object, whose
 * parent (the server object) holds its dNSHostName. *out caller-freed. */
static int pdc_from_role_owner(struct domain_session *s, char **out, struct gt_error *e)
{
	static const char *const role_attrs[] = { "fSMORoleOwner", NULL }, *const host_attrs[] = { "dNSHostName", NULL };
	struct dir_entry *en = NULL, *srv = NULL;
	size_t n = 0, nsrv = 0;
	const char *owner, *parent, *host;
	int ret = -1;

	*out = NULL;
	if (dir_search(s->ldap, s->domain_dn, DIR_BASE, "(objectClass=*)", role_attrs, 0, &en, &n, e) < 0)
		return -1;
	owner = n ? dir_entry_str(&en[0], "fSMORoleOwner") : NULL;
	parent = owner ? strchr(owner, ',') : NULL;
	if (!parent) {
		gt_fail(e, GT_FAILED, "DC '%s' does not say which DC is the PDC emulator of %s (no fSMORoleOwner): give --dc", s->dc,
			s->domain);
	} else if (dir_search(s->ldap, parent + 1, DIR_BASE, "(objectClass=*)", host_attrs, 0, &srv, &nsrv, e) == 0) {
		host = nsrv ? dir_entry_str(&srv[0], "dNSHostName") : NULL;
		if (!host)
			gt_fail(e, GT_FAILED, "the PDC emulator's server object '%s' has no dNSHostName: give --dc", parent + 1);
		else {
			*out = xstrdup(host);
			ret = 0;
		}
	}
	dir_entries_free(srv, nsrv);
	dir_entries_free(en, n);
	return ret;
}

/* Which DC answers at the domain's own name (in AD it resolves to its DCs): the rootDSE's
 * dnsHostName, read without a bind and without sending anything secret. What it says is
 * only a name to connect to next, where TLS or Kerberos then proves who answers. */
static int dc_at_domain_name(const struct domain_conn_opts *o, const char *domain, char **out, struct gt_error *e)
{
	static const char *const attrs[] = { "dnsHostName", NULL };
	struct dir_conn_opts d = { .host = domain, .address = resolved(o, domain), .transport = DIR_PLAIN,
				   .auth = DIR_AUTH_ANONYMOUS };
	struct dir_conn *c = NULL;
	struct dir_entry *en = NULL;
	size_t n = 0;
	const char *host;
	int ret = -1;

	*out = NULL;
	if (dir_connect(&d, &c, e) < 0)
		return -1;
	if (dir_search(c, "", DIR_BASE, "(objectClass=*)", attrs, 0, &en, &n, e) == 0) {
		host = n ? dir_entry_str(&en[0], "dnsHostName") : NULL;
		if (host) {
			*out = xstrdup(host);
			ret = 0;
		} else {
			ret = gt_fail(e, GT_FAILED, "the DC at '%s' does not say its name (no dnsHostName in its rootDSE): give --dc",
				      domain);
		}
	}
	dir_entries_free(en, n);
	dir_close(c);
	return ret;
}

/* A DC of the domain to ask first: the PDC's SRV record when DNS has one, else the domain's
 * own name (in AD it resolves to its DCs). */
static char *first_dc(const struct domain_conn_opts *o, const char *domain, char **found_by)
{
	struct sbuf name;
	char *host = NULL;

	sbuf_init(&name);
	/* --resolve for the domain says where it is: DNS is not asked */
	if (!resolved(o, domain)) {
		sbuf_addf(&name, "_ldap._tcp.pdc._msdcs.%s", domain);
		if (srv_lookup(name.buf, &host) == 1 && !in_domain(host, domain)) {
			free(host); /* DNS is not authenticated: a name outside the domain is not followed */
			host = NULL;
		} else if (host) {
			sbuf_reset(&name);
			sbuf_addf(&name, "DNS SRV _ldap._tcp.pdc._msdcs.%s", domain);
			*found_by = sbuf_detach(&name, NULL);
			sbuf_release(&name);
			return host;
		}
	}
	sbuf_release(&name);
	*found_by = NULL;
	return xstrdup(domain);
}

/* ---- connecting ---- */

static int read_domain_sid(struct domain_session *s, struct gt_error *e)
{
	static const char *const attrs[] = { "objectSid", NULL };
	struct dir_entry *en = NULL;
	size_t n = 0, used = 0;
	const struct dir_attr *a;
	char sid[192];
	int ret = 0;

	if (dir_search(s->ldap, s->domain_dn, DIR_BASE, "(objectClass=*)", attrs, 0, &en, &n, e) < 0)
		return -1;
	a = n ? dir_entry_attr(&en[0], "objectSid") : NULL;
	if (!a || !a->n || sd_sid_to_text(a->vals[0].bytes, a->vals[0].len, &used, sid, sizeof(sid)) < 0)
		ret = gt_fail(e, GT_FAILED, "'%s' on DC %s has no readable objectSid: is %s the domain's name?", s->domain_dn, s->dc,
			      s->domain);
	else
		s->domain_sid = xstrdup(sid);
	dir_entries_free(en, n);
	return ret;
}

static int connect_ldap(struct domain_session *s, const struct logon *l, struct gt_error *e)
{
	struct dir_conn_opts d;
	struct gt_error tls = { 0 };

	dir_opts_for(s->opts, s->dc, l, &d);
	free(s->address);
	s->address = d.address ? xstrdup(d.address) : NULL;
	if (d.transport == DIR_STARTTLS && s->opts->allow_plain_ldap && !s->opts->kerberos) {
		/* --allow-plain-ldap allows clear text where StartTLS fails; a certificate that does
		 * not verify is a refusal, never a reason to send the password in clear */
		if (dir_connect(&d, &s->ldap, &tls) == 0)
			goto bound;
		if (tls.code == GT_REFUSED && strstr(tls.msg, "certificate")) {
			*e = tls;
			return -1;
		}
		d.transport = DIR_PLAIN;
	}
	if (dir_connect(&d, &s->ldap, e) < 0)
		return -1;
bound:
	free(s->bound_as);
	s->bound_as = xstrdup(dir_bound_as(s->ldap));
	return 0;
}

/* The DC the session talks to: --dc, or the PDC emulator. Connects LDAP to it. */
static int choose_dc(struct domain_session *s, const struct logon *l, struct gt_error *e)
{
	const struct domain_conn_opts *o = s->opts;
	char *pdc = NULL;

	if (o->dc) {
		s->dc = xstrdup(o->dc);
		s->found_by = xstrdup("--dc");
		return connect_ldap(s, l, e);
	}
	s->dc = first_dc(o, s->domain, &s->found_by);
	if (s->found_by)
		return connect_ldap(s, l, e);
	free(s->dc);
	s->dc = NULL;
	if (dc_at_domain_name(o, s->domain, &s->dc, e) < 0)
		return gt_prefix(e, "finding a DC of %s (or give --dc): ", s->domain);
	if (!in_domain(s->dc, s->domain))
		return gt_fail(e, GT_REFUSED, "the DC at '%s' calls itself '%s', which is not a name in %s: not followed (give --dc)",
			       s->domain, s->dc, s->domain);
	/* the domain's name reaches some DC; the one that holds the role may be another */
	if (connect_ldap(s, l, e) < 0)
		return gt_prefix(e, "finding the PDC emulator of %s (or give --dc): ", s->domain);
	if (pdc_from_role_owner(s, &pdc, e) < 0)
		return -1;
	s->found_by = xstrdup("the domain's fSMORoleOwner (PDC emulator)");
	if (strcasecmp(pdc, s->dc) == 0) {
		free(pdc);
		return 0;
	}
	dir_close(s->ldap);
	s->ldap = NULL;
	free(s->dc);
	s->dc = pdc;
	return connect_ldap(s, l, e);
}

static int connect_smb(struct domain_session *s, const struct logon *l, struct gt_error *e)
{
	struct smb_conn_opts so = {
		.host = s->dc,
		.address = s->address,
		.workgroup = l->smb_domain,
		.user = l->smb_user,
		.password = s->opts->password,
		.kerberos = s->opts->kerberos,
	};

	return smb_connect(&so, "SysVol", &s->smb, e);
}

/* --keytab: a ticket of our own, in a private cache for this run. */
static int keytab_ticket(struct domain_session *s, const char *state_dir, struct gt_error *e)
{
	struct sbuf dir;
	char *principal = NULL;
	int ret;

	sbuf_init(&dir);
	sbuf_addf(&dir, "%s/krb-XXXXXX", state_dir);
	if (!mkdtemp(dir.buf)) {
		ret = gt_fail(e, GT_FAILED, "unable to make a private ticket cache in '%s': %s", state_dir, strerror(errno));
		sbuf_release(&dir);
		return ret;
	}
	s->ccache_dir = sbuf_detach(&dir, NULL);
	sbuf_release(&dir);
	ret = krb_ticket_from_keytab(s->opts->keytab, s->opts->user, s->ccache_dir, &principal, e);
	free(principal);
	return ret;
}

static int check_credentials(struct domain_session *s, const char *state_dir, struct gt_error *e)
{
	const struct domain_conn_opts *o = s->opts;
	char *principal = NULL;
	int r;

	if (o->kerberos && o->keytab)
		return keytab_ticket(s, state_dir, e);
	if (o->kerberos) {
		r = krb_cache_principal(&principal, e);
		free(principal);
		if (r == 0)
			return gt_fail(e, GT_REFUSED, "--kerberos: no valid ticket in the cache (KRB5CCNAME): run kinit, or give --keytab");
		return r < 0 ? -1 : 0;
	}
	if (!o->user || !o->password)
		return gt_fail(e, GT_USAGE, "the domain needs credentials: --user NAME with --password-file FILE (or "
			       "GPOTOOL_PASSWORD, or a prompt), or --kerberos");
	return 0;
}

int domain_connect(const char *domain, const struct domain_conn_opts *o, const char *state_dir, struct domain_session *s,
		   struct gt_error *e)
{
	struct logon l = { 0 };
	struct sbuf dn;
	int ret;

	*s = (struct domain_session){ .opts = o };
	sbuf_init(&dn);
	s->domain = xstrdup(domain);
	for (char *p = s->domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ret = dns_to_dn(s->domain, &dn, e);
	s->domain_dn = sbuf_detach(&dn, NULL);
	sbuf_release(&dn);
	if (ret == 0)
		ret = check_credentials(s, state_dir, e);
	if (ret == 0) {
		split_user(o->user ? o->user : "", s->domain, &l);
		ret = choose_dc(s, &l, e);
	}
	if (ret == 0)
		ret = read_domain_sid(s, e);
	if (ret == 0)
		ret = connect_smb(s, &l, e);
	logon_release(&l);
	return ret;
}

void domain_session_close(struct domain_session *s)
{
	if (s->smb)
		smb_close(s->smb);
	if (s->ldap)
		dir_close(s->ldap);
	if (s->ccache_dir) {
		struct sbuf cc;

		sbuf_init(&cc);
		sbuf_addf(&cc, "%s/ccache", s->ccache_dir);
		unlink(cc.buf);
		rmdir(s->ccache_dir);
		sbuf_release(&cc);
	}
	free(s->domain);
	free(s->domain_dn);
	free(s->dc);
	free(s->address);
	free(s->found_by);
	free(s->bound_as);
	free(s->domain_sid);
	free(s->ccache_dir);
	*s = (struct domain_session){ 0 };
}

/* ---- SYSVOL paths ---- */

static int plain_component(const char *c, size_t n)
{
	return n > 0 && !(n == 1 && c[0] == '.') && !(n == 2 && c[0] == '.' && c[1] == '.');
}

int domain_sysvol_path(const char *unc, char **out, struct gt_error *e)
{
	struct sbuf p;
	const char *c;
	int part = 0;

	*out = NULL;
	if (strncmp(unc, "\\\\", 2) != 0)
		return gt_fail(e, GT_REFUSED, "the GPO's gPCFileSysPath '%s' is not a UNC path", unc);
	sbuf_init(&p);
	/* \\server\share\rest: the server is the domain (DFS) or a DC; the session's DC serves the same share */
	for (c = unc + 2; *c; part++) {
		size_t n = strcspn(c, "\\/");

		if (!plain_component(c, n)) {
			sbuf_release(&p);
			return gt_fail(e, GT_REFUSED, "the GPO's gPCFileSysPath '%s' has an empty, '.' or '..' component", unc);
		}
		if (part > 0)
			sbuf_addf(&p, "%s%.*s", part > 1 ? "/" : "", (int)n, c);
		c += n;
		if (*c)
			c++;
	}
	if (part < 3) {
		sbuf_release(&p);
		return gt_fail(e, GT_REFUSED, "the GPO's gPCFileSysPath '%s' names no folder below a share", unc);
	}
	*out = sbuf_detach(&p, NULL);
	sbuf_release(&p);
	return 0;
}
