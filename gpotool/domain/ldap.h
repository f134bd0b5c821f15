/* The directory over LDAP: OpenLDAP's libldap (with Cyrus SASL for GSSAPI) behind domain/ldap.c,
 * the only file that includes ldap.h. A connection is to one DC, opened on a socket of our own
 * (so that --resolve can connect to an address while the name is what TLS verifies and what
 * Kerberos asks a ticket for), protected by StartTLS or LDAPS, or by the SASL security layer of
 * a Kerberos bind. A password bind in clear text is refused unless allow_plain is set. */
#ifndef GPOTOOL_DOMAIN_LDAP_H
#define GPOTOOL_DOMAIN_LDAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum dir_auth {
	DIR_AUTH_PASSWORD,   /* simple bind: user (a UPN, DOMAIN\user or a DN) and password */
	DIR_AUTH_KERBEROS,   /* SASL GSSAPI with the ticket cache in KRB5CCNAME */
	DIR_AUTH_ANONYMOUS,  /* no bind: the rootDSE, which AD serves to anyone (which DC this is) */
};

enum dir_transport {
	DIR_STARTTLS,        /* port 389, StartTLS before the bind (the default) */
	DIR_LDAPS,           /* port 636, TLS from the first byte */
	DIR_PLAIN,           /* port 389, no TLS: Kerberos binds (SASL signs and seals), or allow_plain */
};

struct dir_conn_opts {
	const char *host;       /* the DC's DNS name: TLS verifies it, GSSAPI asks for ldap/HOST */
	const char *address;    /* connect here instead of resolving host (--resolve), or NULL */
	int port;               /* 0: 389, or 636 for DIR_LDAPS */
	enum dir_transport transport;
	const char *ca_file;    /* PEM of the CA(s) that sign the DC's certificate, or NULL: system store */
	enum dir_auth auth;
	const char *user;       /* DIR_AUTH_PASSWORD */
	const char *password;
	int allow_plain;        /* a password bind without TLS is allowed (--allow-plain-ldap) */
	int timeout_s;          /* connect and per-operation timeout; 0: 15 s */
};

struct dir_conn;

/* Connects, secures and binds. Errors (each one line, naming host and address):
 * unreachable or timed out GT_FAILED; TLS failure, certificate not verified or name mismatch
 * GT_REFUSED; refused bind (bad password, no ticket, unknown user) GT_REFUSED; a password
 * bind without TLS and without allow_plain GT_REFUSED before anything is sent. */
int dir_connect(const struct dir_conn_opts *o, struct dir_conn **out, struct gt_error *e);
void dir_close(struct dir_conn *c);
/* After a connection broke or timed out, every later operation on it fails (GT_FAILED, "the
 * connection to the DC ... was lost"): libldap would otherwise reconnect by itself to the
 * host's DNS address, unprotected and unbound. */

/* What the connection is: "ldap/starttls", "ldaps", "ldap/gssapi (sasl ssf 256)". Static to c.
 * Also "ldap (plain)" (a password bind allowed by allow_plain); a Kerberos bind over TLS is
 * "ldap/starttls" or "ldaps" (no SASL layer inside TLS: Windows and Samba refuse one; Samba
 * 4.17 with its default "ldap server require strong auth = yes" also refuses a Kerberos bind
 * without one, so against it Kerberos works over DIR_PLAIN, sealed, only). */
const char *dir_security(const struct dir_conn *c);
/* The identity bound as (LDAP whoami, "u:EXAMPLE\Administrator"), or "" when not known.
 * Samba 4.17 has no whoami ("Extended Operation(1.3.6.1.4.1.4203.1.11.3) not supported"): "". */
const char *dir_bound_as(const struct dir_conn *c);

struct dir_value {
	uint8_t *bytes;          /* exactly as the server sent them, NUL-terminated for convenience */
	size_t len;
};

struct dir_attr {
	char *name;              /* as the server spells it */
	struct dir_value *vals;
	size_t n;
};

struct dir_entry {
	char *dn;
	struct dir_attr *attrs;
	size_t nattrs;
};

enum dir_scope { DIR_BASE, DIR_ONE, DIR_SUBTREE };

/* SD flags control (1.2.840.113556.1.4.801) value for reading nTSecurityDescriptor without
 * the SACL: OWNER|GROUP|DACL. 0 sends no control. */
#define DIR_SD_FLAGS_NO_SACL 7

/* Searches; *out gets the entries (none is not an error: *n = 0). attrs NULL-terminated
 * (NULL: all user attributes); filter NULL or "": (objectClass=*).
 * A base that does not exist is 0 entries too (noSuchObject). Referrals are not chased.
 * Release with dir_entries_free. */
int dir_search(struct dir_conn *c, const char *base, enum dir_scope scope, const char *filter, const char *const *attrs,
	       int sd_flags, struct dir_entry **out, size_t *n, struct gt_error *e);
void dir_entries_free(struct dir_entry *v, size_t n);
/* The attribute of en named name (case-insensitive), or NULL. */
const struct dir_attr *dir_entry_attr(const struct dir_entry *en, const char *name);
/* Its first value as text, or NULL. */
const char *dir_entry_str(const struct dir_entry *en, const char *name);

enum dir_mod_op { DIR_MOD_ADD, DIR_MOD_DELETE, DIR_MOD_REPLACE };

struct dir_mod {
	enum dir_mod_op op;
	const char *attr;
	const struct dir_value *vals;   /* DIR_MOD_DELETE with n == 0 deletes every value */
	size_t n;
};

/* One modify request: the server applies all mods or none. 0 done; 1 a compare-and-swap lost:
 * a value to delete is not there (noSuchAttribute) or a value to add already is
 * (attributeOrValueExists), so another writer changed it; -1 other errors (insufficient
 * access GT_REFUSED naming dn, others GT_FAILED with the server's diagnostic). */
int dir_modify(struct dir_conn *c, const char *dn, const struct dir_mod *mods, size_t n, struct gt_error *e);
/* Adds an entry with these attributes (op ignored). 1 when it exists already. */
int dir_add(struct dir_conn *c, const char *dn, const struct dir_mod *attrs, size_t n, struct gt_error *e);
/* Deletes a leaf entry. 1 when it is not there. */
int dir_delete(struct dir_conn *c, const char *dn, struct gt_error *e);

/* RFC 4515 escaping of a value for a search filter, appended to out. */
struct sbuf;
void dir_filter_escape(const char *value, struct sbuf *out);

#endif
