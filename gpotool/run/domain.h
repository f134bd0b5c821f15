/* The CONN options of the commands that reach a live domain, turned into the connection a
 * domain target gets (target_env.conn): the DC, --resolve, TLS, and the credentials — a
 * password from a file, GPOTOOL_PASSWORD or a prompt on the terminal, never the command line. */
#ifndef GPOTOOL_RUN_DOMAIN_H
#define GPOTOOL_RUN_DOMAIN_H

#include "core/error.h"
#include "run/run.h"

struct run_conn_args {
	const char *dc;
	const char *const *resolve;    /* each --resolve HOST:ADDRESS */
	size_t nresolve;
	const char *ca_file;
	const char *user;
	const char *password_file;
	int kerberos;
	const char *keytab;
	int allow_plain_ldap;
	int ldaps;
};

/* Fills ctx's connection (released at exit by run_domain_release) and points ctx->env.conn
 * at it. GT_USAGE for a bad option or a password that cannot be had. */
int run_domain_conn(struct gt_ctx *ctx, const struct run_conn_args *a, struct gt_error *e);
void run_domain_release(struct gt_ctx *ctx);

#endif
