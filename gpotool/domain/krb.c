/* Kerberos tickets for --keytab and the caller's cache; see krb.h. The only file that includes
 * krb5.h. libldap's GSSAPI and libsmbclient find the ticket through KRB5CCNAME, so getting one
 * is: the keytab's key, a TGT from the KDC, a private cache file, the variable pointed at it. */
#include "domain/krb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <krb5.h>

#include "core/sbuf.h"
#include "core/textesc.h"

/* krb5's message for code, as one printable line. */
static int krb_failed(krb5_context ctx, krb5_error_code code, struct gt_error *e, int gt_code, const char *what)
{
	const char *m = krb5_get_error_message(ctx, code);

	gt_fail(e, gt_code, "%s: %s", what, esc(m));
	krb5_free_error_message(ctx, m);
	return -1;
}

static int open_context(krb5_context *ctx, struct gt_error *e)
{
	krb5_error_code code = krb5_init_context(ctx);

	if (code)
		return gt_fail(e, GT_FAILED, "unable to start Kerberos (krb5.conf or KRB5_CONFIG): %s", strerror(code));
	return 0;
}

/* A keytab path as krb5 names it: "FILE:path" unless it already says its type ("FILE:",
 * "WRFILE:", "MEMORY:"). */
static char *keytab_name(const char *keytab)
{
	struct sbuf sb;
	size_t n = strspn(keytab, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

	sbuf_init(&sb);
	if (n == 0 || keytab[n] != ':')
		sbuf_addstr(&sb, "FILE:");
	sbuf_addstr(&sb, keytab);
	return sbuf_detach(&sb, NULL);
}

/* The principal of the keytab's first entry (krb5-freed). */
static int first_principal(krb5_context ctx, krb5_keytab kt, const char *keytab, krb5_principal *out,
			   struct gt_error *e)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_error_code code = krb5_kt_start_seq_get(ctx, kt, &cur);
	char what[600];

	snprintf(what, sizeof(what), "unable to read the keytab '%s'", esc(keytab));
	if (code)
		return krb_failed(ctx, code, e, GT_USAGE, what);
	code = krb5_kt_next_entry(ctx, kt, &ent, &cur);
	if (code) {
		krb5_kt_end_seq_get(ctx, kt, &cur);
		if (code == KRB5_KT_END)
			return gt_fail(e, GT_USAGE, "the keytab '%s' holds no key", esc(keytab));
		return krb_failed(ctx, code, e, GT_USAGE, what);
	}
	code = krb5_copy_principal(ctx, ent.principal, out);
	krb5_free_keytab_entry_contents(ctx, &ent);
	krb5_kt_end_seq_get(ctx, kt, &cur);
	if (code)
		return krb_failed(ctx, code, e, GT_FAILED, what);
	return 0;
}

/* Which exit code a failed krb5_get_init_creds_keytab earns: the KDC out of reach is a
 * failure, the keytab not fitting the principal the user's mistake, a KDC's no a refusal. */
static int init_creds_code(krb5_error_code code)
{
	switch (code) {
	case KRB5_KDC_UNREACH:
	case KRB5_REALM_CANT_RESOLVE:
	case KRB5_REALM_UNKNOWN:
	case KRB5_CONFIG_NODEFREALM:
		return GT_FAILED;
	case KRB5_KT_NOTFOUND:
	case KRB5_KT_END:
	case KRB5_KT_BADNAME:
	case KRB5_KT_UNKNOWN_TYPE:
	case KRB5_KT_FORMAT:
	case ENOENT:
	case EACCES:
		return GT_USAGE;
	default:
		/* the KDC's own errors (the protocol's codes, 0 to 127 of krb5's table), a wrong key
		 * (preauth failed, integrity) */
		if ((code >= KRB5KDC_ERR_NONE && code < KRB5KDC_ERR_NONE + 128) || code == KRB5_PREAUTH_FAILED)
			return GT_REFUSED;
		return GT_FAILED;
	}
}

/* Writes creds into a new cache file ccache_dir/ccache (krb5 creates it 0600) and names it in
 * KRB5CCNAME. */
static int store_cache(krb5_context ctx, krb5_principal princ, krb5_creds *creds, const char *ccache_dir,
		       struct gt_error *e)
{
	struct sbuf name;
	krb5_ccache cc;
	krb5_error_code code;
	struct stat st;
	int rc = -1;

	sbuf_init(&name);
	sbuf_addf(&name, "FILE:%s/ccache", ccache_dir);
	code = krb5_cc_resolve(ctx, name.buf, &cc);
	if (code) {
		krb_failed(ctx, code, e, GT_FAILED, "unable to create the ticket cache");
		goto out;
	}
	code = krb5_cc_initialize(ctx, cc, princ);
	if (!code)
		code = krb5_cc_store_cred(ctx, cc, creds);
	krb5_cc_close(ctx, cc);
	if (code) {
		krb_failed(ctx, code, e, GT_FAILED, "unable to write the ticket cache");
		goto out;
	}
	/* it holds a TGT: nobody else may read it, whatever umask krb5 ran under */
	if (stat(name.buf + 5, &st) < 0 || ((st.st_mode & 077) && chmod(name.buf + 5, 0600) < 0)) {
		gt_fail(e, GT_FAILED, "unable to protect the ticket cache '%s': %s", esc(name.buf + 5), strerror(errno));
		goto out;
	}
	if (setenv("KRB5CCNAME", name.buf, 1) < 0) {
		gt_fail(e, GT_FAILED, "unable to set KRB5CCNAME: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sbuf_release(&name);
	return rc;
}

static int name_of(krb5_context ctx, krb5_principal p, char **out, struct gt_error *e)
{
	char *s = NULL;
	krb5_error_code code = krb5_unparse_name(ctx, p, &s);

	if (code)
		return krb_failed(ctx, code, e, GT_FAILED, "unable to name the principal");
	*out = xstrdup(s);
	krb5_free_unparsed_name(ctx, s);
	return 0;
}

/* The principal to get a ticket for: the one named, or the keytab's first. */
static int pick_principal(krb5_context ctx, krb5_keytab kt, const char *keytab, const char *principal,
			  krb5_principal *out, struct gt_error *e)
{
	krb5_error_code code;

	if (!principal)
		return first_principal(ctx, kt, keytab, out, e);
	code = krb5_parse_name(ctx, principal, out);
	if (code) {
		char what[600];

		snprintf(what, sizeof(what), "'%s' is not a Kerberos principal", esc(principal));
		return krb_failed(ctx, code, e, GT_USAGE, what);
	}
	return 0;
}

int krb_ticket_from_keytab(const char *keytab, const char *principal, const char *ccache_dir, char **principal_out,
			   struct gt_error *e)
{
	krb5_context ctx;
	krb5_keytab kt = NULL;
	krb5_principal princ = NULL;
	krb5_get_init_creds_opt *opts = NULL;
	krb5_creds creds;
	krb5_error_code code;
	char *ktname = NULL, *pname = NULL, what[700];
	int have_creds = 0, rc = -1;

	*principal_out = NULL;
	if (gt_check_path(keytab, 0, "--keytab takes a keytab file", e) < 0)
		return -1;
	if (open_context(&ctx, e) < 0)
		return -1;
	ktname = keytab_name(keytab);
	code = krb5_kt_resolve(ctx, ktname, &kt);
	if (code) {
		snprintf(what, sizeof(what), "unable to open the keytab '%s'", esc(keytab));
		krb_failed(ctx, code, e, GT_USAGE, what);
		goto out;
	}
	if (pick_principal(ctx, kt, keytab, principal, &princ, e) < 0 || name_of(ctx, princ, &pname, e) < 0)
		goto out;
	code = krb5_get_init_creds_opt_alloc(ctx, &opts);
	if (code) {
		krb_failed(ctx, code, e, GT_FAILED, "unable to ask for a ticket");
		goto out;
	}
	memset(&creds, 0, sizeof(creds));
	code = krb5_get_init_creds_keytab(ctx, &creds, princ, kt, 0, NULL, opts);
	if (code) {
		snprintf(what, sizeof(what), "no Kerberos ticket for '%s' with the keytab '%s'", esc(pname), esc(keytab));
		krb_failed(ctx, code, e, init_creds_code(code), what);
		goto out;
	}
	have_creds = 1;
	if (store_cache(ctx, princ, &creds, ccache_dir, e) < 0)
		goto out;
	*principal_out = pname;
	pname = NULL;
	rc = 0;
out:
	if (have_creds)
		krb5_free_cred_contents(ctx, &creds);
	if (opts)
		krb5_get_init_creds_opt_free(ctx, opts);
	if (princ)
		krb5_free_principal(ctx, princ);
	if (kt)
		krb5_kt_close(ctx, kt);
	free(ktname);
	free(pname);
	krb5_free_context(ctx);
	return rc;
}

/* 1 when the cache holds a TGT of the client's own realm that has not expired. */
static int has_live_tgt(krb5_context ctx, krb5_ccache cc, krb5_principal client)
{
	krb5_cc_cursor cur;
	krb5_creds c;
	time_t now = time(NULL);
	int found = 0;

	if (krb5_cc_start_seq_get(ctx, cc, &cur))
		return 0;
	while (!found && krb5_cc_next_cred(ctx, cc, &cur, &c) == 0) {
		const krb5_data *realm = krb5_princ_realm(ctx, client);

		found = krb5_princ_size(ctx, c.server) == 2 && krb5_princ_component(ctx, c.server, 0)->length == 6 &&
			memcmp(krb5_princ_component(ctx, c.server, 0)->data, "krbtgt", 6) == 0 &&
			krb5_princ_component(ctx, c.server, 1)->length == realm->length &&
			memcmp(krb5_princ_component(ctx, c.server, 1)->data, realm->data, realm->length) == 0 &&
			(time_t)c.times.endtime > now;
		krb5_free_cred_contents(ctx, &c);
	}
	krb5_cc_end_seq_get(ctx, cc, &cur);
	return found;
}

int krb_cache_principal(char **out, struct gt_error *e)
{
	krb5_context ctx;
	krb5_ccache cc = NULL;
	krb5_principal princ = NULL;
	krb5_error_code code;
	int rc = 0;

	*out = NULL;
	if (open_context(&ctx, e) < 0)
		return -1;
	code = krb5_cc_default(ctx, &cc);
	if (code) {
		rc = krb_failed(ctx, code, e, GT_FAILED, "unable to open the Kerberos ticket cache (KRB5CCNAME)");
		goto out;
	}
	/* no cache, an empty one or one of another format: no ticket, which the caller reports */
	if (krb5_cc_get_principal(ctx, cc, &princ) != 0)
		goto out;
	if (!has_live_tgt(ctx, cc, princ))
		goto out;
	rc = name_of(ctx, princ, out, e) < 0 ? -1 : 1;
out:
	if (princ)
		krb5_free_principal(ctx, princ);
	if (cc)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
	return rc;
}
