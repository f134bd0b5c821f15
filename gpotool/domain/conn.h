/* A session with one DC of a domain: LDAP (domain/ldap.h) and SMB to its SYSVOL
 * (domain/smb.h), both to the same DC, both authenticated as the same user. Which DC: --dc,
 * or the domain's PDC emulator (where GPMC writes, so that a change is not overtaken by
 * replication from another DC): DNS SRV _ldap._tcp.pdc._msdcs.DOMAIN, else the domain
 * object's fSMORoleOwner as a DC of the domain reports it. */
#ifndef GPOTOOL_DOMAIN_CONN_H
#define GPOTOOL_DOMAIN_CONN_H

#include <stddef.h>

#include "core/error.h"
#include "domain/ldap.h"
#include "domain/smb.h"

/* --resolve HOST:ADDRESS, as curl's: connect to ADDRESS while naming HOST. */
struct domain_resolve {
	char *host;
	char *address;
};

struct domain_conn_opts {
	const char *dc;                      /* --dc HOST, or NULL: the PDC emulator */
	struct domain_resolve *resolve;      /* owned by whoever filled it (the run layer) */
	size_t nresolve;
	const char *ca_file;
	const char *user;                    /* password logon: "NAME", "NAME@REALM" or "DOMAIN\NAME" */
	const char *password;
	int kerberos;                        /* the caller's ticket cache, or keytab's */
	const char *keytab;
	int allow_plain_ldap;
	int ldaps;                           /* LDAPS on 636 rather than StartTLS on 389 */
};

struct domain_session {
	char *domain;          /* "example.com", as given, lower case */
	char *domain_dn;       /* "DC=example,DC=com" */
	char *dc;              /* the DC's DNS name */
	char *address;         /* the address connected to when --resolve named one, else NULL */
	char *found_by;        /* "--dc", "DNS SRV ...", "fSMORoleOwner" */
	char *bound_as;        /* who the DC says we are */
	char *domain_sid;      /* the domain's SID, "S-1-5-21-..." (its Domain Controllers group is -516) */
	struct dir_conn *ldap;
	struct smb_conn *smb;
	char *ccache_dir;      /* the private ticket cache of --keytab, removed at close */
	const struct domain_conn_opts *opts;
};

/* Parses "HOST:ADDRESS" (ADDRESS an IPv4 or a bracketed or bare IPv6 address). */
int domain_parse_resolve(const char *text, struct domain_resolve *out, struct gt_error *e);
void domain_resolve_release(struct domain_resolve *r);

/* Finds the DC, connects LDAP and SMB, binds. state_dir: where a keytab's private ticket
 * cache is made. Errors as dir_connect and smb_connect, one line each. */
int domain_connect(const char *domain, const struct domain_conn_opts *o, const char *state_dir, struct domain_session *s,
		   struct gt_error *e);
void domain_session_close(struct domain_session *s);

/* "\\example.com\SysVol\example.com\Policies\{GUID}" (a gPCFileSysPath) -> the SMB path on
 * the session's DC, "SysVol/example.com/Policies/{GUID}"; GT_REFUSED when it is not a UNC
 * path below a share, or has "." or ".." components. *out caller-freed. */
int domain_sysvol_path(const char *unc, char **out, struct gt_error *e);

#endif
