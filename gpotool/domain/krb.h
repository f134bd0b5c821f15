/* Kerberos tickets for --keytab: MIT krb5 behind domain/krb.c, the only file that includes
 * krb5.h. libldap's GSSAPI and libsmbclient both take their tickets from the cache named by
 * KRB5CCNAME: with a keytab, gpotool gets a TGT into a private cache of its own (a file, mode
 * 0600, in a 0700 folder) and points KRB5CCNAME at it for the rest of the run. */
#ifndef GPOTOOL_DOMAIN_KRB_H
#define GPOTOOL_DOMAIN_KRB_H

#include "core/error.h"

/* principal NULL: the keytab's first entry. ccache_dir: a private folder for the cache (the
 * caller made it 0700 and removes it). Sets KRB5CCNAME. Errors: unreadable keytab GT_USAGE,
 * KDC unreachable GT_FAILED, refused (bad key, unknown principal) GT_REFUSED. *principal_out
 * caller-freed, the principal that got the ticket. */
int krb_ticket_from_keytab(const char *keytab, const char *principal, const char *ccache_dir, char **principal_out,
			   struct gt_error *e);
/* The default principal of the cache KRB5CCNAME names (the caller's kinit), for messages and
 * the audit: 1 found (*out caller-freed), 0 no usable ticket, -1 error. */
int krb_cache_principal(char **out, struct gt_error *e);

#endif
