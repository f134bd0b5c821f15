/* The directory over LDAP; see ldap.h. The only file that includes libldap, liblber and Cyrus
 * SASL. The socket is ours (connect to the address, name the host), libldap does the protocol,
 * TLS and SASL on it, and every failure becomes one line an AD admin can act on. */
#include "domain/ldap.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>
#include <openldap.h>
#include <sasl/sasl.h>

#include "core/sbuf.h"
#include "core/textesc.h"

#define DEFAULT_TIMEOUT_S 15
/* The SASL security layer a Kerberos bind without TLS must have: 56 and more is a
 * confidentiality (seal) layer in Cyrus' GSSAPI plugin, 1 would be integrity only. */
#define SEAL_MIN_SSF 56
/* The SD flags control: read nTSecurityDescriptor without SeSecurityPrivilege. */
#define SD_FLAGS_OID "1.2.840.113556.1.4.801"
/* LDAP_DEBUG_TRACE of OpenLDAP's ldap_log.h, which is not installed: the level whose log holds
 * the reason of a failed TLS handshake (see handshake_logged). */
#define TRACE_LOG_LEVEL 1

struct dir_conn {
	LDAP *ld;
	char where[512];     /* "DC 'dc1.example.com' (127.0.0.1)": how messages name it */
	char security[64];   /* dir_security */
	char *bound_as;      /* dir_bound_as, "" when whoami did not answer */
	int lost;            /* the connection broke or timed out: never used again */
};

/* The server's diagnostic message of the last operation on ld, escaped to one line, or "".
 * Static: valid until the next call. */
static const char *diag_of(LDAP *ld)
{
	static char buf[512];
	char *msg = NULL;
	size_t n;

	buf[0] = '\0';
	if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) != LDAP_OPT_SUCCESS || !msg)
		return buf;
	/* AD ends its messages with a newline or spaces: nothing to show */
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	snprintf(buf, sizeof(buf), "%s", esc(msg));
	ldap_memfree(msg);
	return buf;
}

/* Forgets the last diagnostic message: libldap keeps it across operations, and a stale one
 * (a refused whoami) would be shown as the reason of the next failure. */
static void clear_diag(LDAP *ld)
{
	ldap_set_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, NULL);
}

/* After a broken or timed-out connection libldap would open a new one by itself, to the
 * host of the URL (not the address, and without StartTLS or the bind): c refuses every
 * operation from then on instead. */
static int note_lost(struct dir_conn *c, int rc)
{
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR)
		c->lost = 1;
	return rc;
}

static int check_alive(const struct dir_conn *c, struct gt_error *e)
{
	if (c->lost)
		return gt_fail(e, GT_FAILED, "the connection to the %s was lost", c->where);
	return 0;
}

/* "libldap's words for rc" and, when the server said more, "(its diagnostic)". */
static void describe_rc(LDAP *ld, int rc, char *out, size_t len)
{
	const char *d = diag_of(ld);

	if (*d)
		snprintf(out, len, "%s (%s)", ldap_err2string(rc), d);
	else
		snprintf(out, len, "%s", ldap_err2string(rc));
}

/* A write on a connection the DC closed raises SIGPIPE, which would end the process without a
 * word (libldap writes with write(), not send(MSG_NOSIGNAL)): ignored while libldap talks to
 * the DC, and put back after, as curl does. */
static void sigpipe_ignore(struct sigaction *old)
{
	struct sigaction ign;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, old);
}

static void sigpipe_restore(const struct sigaction *old)
{
	sigaction(SIGPIPE, old, NULL);
}

/* ---- the socket ---------------------------------------------------------------------------- */

static int valid_host(const char *h)
{
	if (!h || !*h || strlen(h) > 253)
		return 0;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '-' || *p == ':' || *p == '_'))
			return 0;
	return 1;
}

static int set_blocking(int fd, int blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
}

/* One connect with a deadline; 0 connected, else -1 with errno (ETIMEDOUT on the deadline). */
static int connect_one(const struct addrinfo *ai, int timeout_s, int *fd_out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int err = 0;
	socklen_t elen = sizeof(err);
	struct pollfd p;

	if (fd < 0)
		return -1;
	if (set_blocking(fd, 0) < 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		p.fd = fd;
		p.events = POLLOUT;
		for (;;) {
			int r = poll(&p, 1, timeout_s * 1000);

			if (r > 0)
				break;
			if (r == 0) {
				errno = ETIMEDOUT;
				goto fail;
			}
			if (errno != EINTR)
				goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			goto fail;
		if (err) {
			errno = err;
			goto fail;
		}
	}
	if (set_blocking(fd, 1) < 0)
		goto fail;
	*fd_out = fd;
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* A blocking read or write on the socket gives up after timeout_s (EAGAIN): libldap 2.5's TLS
 * handshake has no deadline of its own on a blocking socket, and this is what bounds it. */
static int bound_io(int fd, int timeout_s)
{
	struct timeval tv = { .tv_sec = timeout_s, .tv_usec = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	return 0;
}

/* The TCP connection to address (or host), each address getaddrinfo gives in turn. */
static int open_socket(const struct dir_conn *c, const char *target, int port, int timeout_s, int *fd,
		       struct gt_error *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC }, *res = NULL;
	char portstr[16];
	int rc, err = 0;

	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(target, portstr, &hints, &res);
	if (rc != 0)
		return gt_fail(e, GT_FAILED, "unable to find the %s: '%s': %s", c->where, esc(target),
			       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (connect_one(ai, timeout_s, fd) == 0) {
			freeaddrinfo(res);
			if (bound_io(*fd, timeout_s) < 0) {
				err = errno;
				close(*fd);
				return gt_fail(e, GT_FAILED, "unable to set the socket timeouts: %s", strerror(err));
			}
			return 0;
		}
		err = errno;
	}
	freeaddrinfo(res);
	if (err == ETIMEDOUT)
		return gt_fail(e, GT_FAILED, "unable to connect to the %s port %d: no answer in %d s", c->where, port,
			       timeout_s);
	return gt_fail(e, GT_FAILED, "unable to connect to the %s port %d: %s", c->where, port, strerror(err));
}

/* ---- the LDAP handle --------------------------------------------------------------------------- */

static int set_opt(struct dir_conn *c, int opt, const void *val, const char *what, struct gt_error *e)
{
	if (ldap_set_option(c->ld, opt, val) != LDAP_OPT_SUCCESS)
		return gt_fail(e, GT_FAILED, "libldap refused the option %s", what);
	return 0;
}

/* LDAPv3, no referrals chased, the names we give used as given, every operation bounded. */
static int set_handle_options(struct dir_conn *c, int timeout_s, struct gt_error *e)
{
	int v3 = LDAP_VERSION3;
	struct timeval tv = { .tv_sec = timeout_s, .tv_usec = 0 };

	if (set_opt(c, LDAP_OPT_PROTOCOL_VERSION, &v3, "protocol version 3", e) < 0 ||
	    set_opt(c, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals off", e) < 0 ||
	    set_opt(c, LDAP_OPT_RESTART, LDAP_OPT_ON, "restart", e) < 0 ||
	    set_opt(c, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON, "SASL no canonicalisation", e) < 0 ||
	    set_opt(c, LDAP_OPT_TIMEOUT, &tv, "timeout", e) < 0 ||
	    /* With the network timeout, 2.5's handshake polls for its deadline only when "async"
	     * is set; the socket stays blocking (SO_RCVTIMEO ends a stalled read). */
	    set_opt(c, LDAP_OPT_NETWORK_TIMEOUT, &tv, "network timeout", e) < 0 ||
	    set_opt(c, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON, "asynchronous handshake", e) < 0)
		return -1;
	return 0;
}

/* The TLS context of this handle alone: the certificate always verified, against ca_file or
 * the system store. */
static int set_tls_options(struct dir_conn *c, const char *ca_file, struct gt_error *e)
{
	int hard = LDAP_OPT_X_TLS_HARD, client = 0;

	if (ca_file && set_opt(c, LDAP_OPT_X_TLS_CACERTFILE, ca_file, "CA file", e) < 0)
		return -1;
	if (set_opt(c, LDAP_OPT_X_TLS_REQUIRE_CERT, &hard, "certificate required", e) < 0)
		return -1;
	if (ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &client) != LDAP_OPT_SUCCESS) {
		if (ca_file)
			return gt_fail(e, GT_USAGE, "unable to load the CA certificates in '%s' (--ca-file takes a PEM file)",
				       esc(ca_file));
		return gt_fail(e, GT_FAILED, "unable to set up TLS with the system's CA certificates");
	}
	return 0;
}

/* Why a handshake failed. libldap built with GnuTLS (Debian's) replaces its own reason with
 * gnutls_strerror() of a libldap code, "(unknown error code)", for an untrusted certificate
 * and a name mismatch alike; the reason ("TLS: hostname (X) does not match common name in
 * certificate (Y)", "TLS: peer cert untrusted or revoked (0x42)") is only in its debug log. So
 * the log is read for the length of the handshake: its "TLS: " lines, into tls_log. */
static struct sbuf *tls_log;

static void collect_tls_log(const char *line)
{
	size_t n;

	if (!tls_log || strncmp(line, "TLS: ", 5) != 0 || strncmp(line, "TLS: can't connect", 18) == 0)
		return;
	n = strcspn(line, "\n");
	while (n > 0 && (line[n - 1] == '.' || line[n - 1] == ' '))
		n--;
	if (tls_log->len)
		sbuf_addstr(tls_log, "; ");
	sbuf_add(tls_log, line, n);
}

/* Runs the handshake (StartTLS when starttls, else TLS on the open socket) with libldap's
 * trace log going to log; the process's log level and printer are put back after. */
static int handshake_logged(LDAP *ld, int starttls, struct sbuf *log)
{
	BER_LOG_PRINT_FN old_fn = NULL;
	int old_level = 0, trace = TRACE_LOG_LEVEL, rc;

	ber_get_option(NULL, LBER_OPT_LOG_PRINT_FN, &old_fn);
	ldap_get_option(NULL, LDAP_OPT_DEBUG_LEVEL, &old_level);
	tls_log = log;
	ber_set_option(NULL, LBER_OPT_LOG_PRINT_FN, (void *)collect_tls_log);
	ldap_set_option(NULL, LDAP_OPT_DEBUG_LEVEL, &trace);
	rc = starttls ? ldap_start_tls_s(ld, NULL, NULL) : ldap_install_tls(ld);
	ldap_set_option(NULL, LDAP_OPT_DEBUG_LEVEL, &old_level);
	ber_set_option(NULL, LBER_OPT_LOG_PRINT_FN, (void *)old_fn);
	tls_log = NULL;
	return rc;
}

/* A failed handshake in words: whose certificate, and why it was not accepted. */
static int tls_failed(struct dir_conn *c, int rc, const char *host, const char *how, const char *log,
		      struct gt_error *e)
{
	const char *d = diag_of(c->ld);
	char why[900];

	if (rc == LDAP_TIMEOUT || rc == LDAP_X_CONNECTING)
		return gt_fail(e, GT_FAILED, "the %s did not complete %s in time", c->where, how);
	if (rc == LDAP_SERVER_DOWN)
		return gt_fail(e, GT_FAILED, "the %s closed the connection during %s", c->where, how);
	/* the log when it says something, else libldap's message (OpenSSL builds say it there) */
	if (*log)
		snprintf(why, sizeof(why), "%s", esc(log));
	else
		snprintf(why, sizeof(why), "%s", *d && strcmp(d, "(unknown error code)") ? d : ldap_err2string(rc));
	if (strstr(why, "does not match") || strstr(why, "unable to get CN"))
		return gt_fail(e, GT_REFUSED, "the certificate of the %s is not for the name '%s': the name did not match (%s)",
			       c->where, host, why);
	if (strstr(why, "untrusted") || strstr(why, "verify failed") || strstr(why, "expired") ||
	    strstr(why, "not yet active") || strstr(why, "not trusted"))
		return gt_fail(e, GT_REFUSED,
			       "the certificate of the %s is not trusted (%s): give the CA that signed it with --ca-file",
			       c->where, why);
	return gt_fail(e, GT_REFUSED, "%s with the %s failed: %s", how, c->where, why);
}

static int start_tls(struct dir_conn *c, const char *host, struct gt_error *e)
{
	struct sbuf log;
	int rc, ret = 0;

	sbuf_init(&log);
	rc = handshake_logged(c->ld, 1, &log);
	if (rc > 0) {
		/* the server answered the extended operation, and no */
		char why[700];

		describe_rc(c->ld, rc, why, sizeof(why));
		ret = gt_fail(e, GT_REFUSED, "the %s refused StartTLS: %s", c->where, why);
	} else if (rc != LDAP_SUCCESS) {
		ret = tls_failed(c, rc, host, "StartTLS", log.buf, e);
	}
	sbuf_release(&log);
	return ret;
}

static int install_tls(struct dir_conn *c, const char *host, struct gt_error *e)
{
	struct sbuf log;
	int rc, ret = 0;

	sbuf_init(&log);
	rc = handshake_logged(c->ld, 0, &log);
	if (rc != LDAP_SUCCESS)
		ret = tls_failed(c, rc, host, "the LDAPS handshake", log.buf, e);
	sbuf_release(&log);
	return ret;
}

/* ---- the bind ------------------------------------------------------------------------------- */

/* What AD's "data XXX" in a refused bind means (the Win32 error of the logon). */
static const char *ad_data_words(const char *code)
{
	static const struct {
		const char *code, *words;
	} table[] = {
		{ "525", "no such user" },
		{ "52e", "wrong password or unknown user" },
		{ "530", "logon not permitted at this time" },
		{ "531", "logon not permitted from this workstation" },
		{ "532", "password expired" },
		{ "533", "account disabled" },
		{ "568", "too many security IDs in the token" },
		{ "701", "account expired" },
		{ "773", "the user must change the password" },
		{ "775", "account locked out" },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(code, table[i].code) == 0)
			return table[i].words;
	return NULL;
}

/* " (AD data 52e: wrong password or unknown user)" from AD's diagnostic when its "data XXX"
 * is a logon error we can name, else "". */
static void ad_data(const char *diag, char *out, size_t len)
{
	const char *p = strstr(diag, "data ");
	char code[9];
	size_t n = 0;
	const char *words;

	out[0] = '\0';
	if (!p)
		return;
	p += 5;
	while (n < sizeof(code) - 1 && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f') ||
					(p[n] >= 'A' && p[n] <= 'F'))) {
		code[n] = p[n];
		n++;
	}
	code[n] = '\0';
	words = n ? ad_data_words(code) : NULL;
	if (words)
		snprintf(out, len, " (AD data %s: %s)", code, words);
}

static int bind_refused(struct dir_conn *c, int rc, const char *as, struct gt_error *e)
{
	const char *d = diag_of(c->ld);
	char data[96];

	if (rc == LDAP_TIMEOUT || rc == LDAP_SERVER_DOWN)
		return gt_fail(e, GT_FAILED, "the %s did not answer the bind as '%s': %s", c->where, as, ldap_err2string(rc));
	if (rc == LDAP_STRONG_AUTH_REQUIRED)
		return gt_fail(e, GT_REFUSED,
			       "the %s refused the bind as '%s': it requires a protected connection (%s%s%s); use StartTLS, "
			       "LDAPS or Kerberos",
			       c->where, as, ldap_err2string(rc), *d ? ": " : "", d);
	ad_data(d, data, sizeof(data));
	if (*data)
		return gt_fail(e, GT_REFUSED, "the %s refused the bind as '%s': %s%s", c->where, as, ldap_err2string(rc),
			       data);
	return gt_fail(e, GT_REFUSED, "the %s refused the bind as '%s': %s%s%s", c->where, as, ldap_err2string(rc),
		       *d ? ": " : "", d);
}

static int bind_password(struct dir_conn *c, const struct dir_conn_opts *o, struct gt_error *e)
{
	struct berval cred;
	int rc;

	cred.bv_val = (char *)o->password;
	cred.bv_len = strlen(o->password);
	rc = ldap_sasl_bind_s(c->ld, o->user, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		return bind_refused(c, rc, esc(o->user), e);
	return 0;
}

/* Cyrus SASL asks for what GSSAPI might want (an authorization identity): its defaults, or
 * nothing. Never a prompt. */
static int sasl_defaults(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	sasl_interact_t *it = in;

	(void)ld;
	(void)flags;
	(void)defaults;
	for (; it->id != SASL_CB_LIST_END; it++) {
		it->result = it->defresult ? it->defresult : "";
		it->len = (unsigned)strlen(it->result);
	}
	return LDAP_SUCCESS;
}

/* What to do about a GSSAPI failure, from the minor status text Cyrus passes on. */
static const char *gssapi_hint(const char *d)
{
	if (strstr(d, "No Kerberos credentials") || strstr(d, "not found (filename") ||
	    strstr(d, "credentials cache") || strstr(d, "No credentials"))
		return "; run kinit or give --keytab";
	if (strstr(d, "expired"))
		return "; the ticket expired: run kinit again or give --keytab";
	if (strstr(d, "not found in Kerberos database"))
		return "; the DC has no service principal ldap/ for this name (use its DNS name, as in setspn -L)";
	if (strstr(d, "Clock skew"))
		return "; the clocks of this machine and the DC differ by more than 5 minutes";
	if (strstr(d, "Cannot find KDC") || strstr(d, "Cannot contact any KDC"))
		return "; check the realm's KDC in krb5.conf (KRB5_CONFIG)";
	return "";
}

static int bind_kerberos(struct dir_conn *c, const struct dir_conn_opts *o, const char *host, struct gt_error *e)
{
	/* Over TLS the transport protects the session, and both Windows and Samba refuse a SASL
	 * layer inside TLS; without TLS the SASL layer must seal. */
	ber_len_t min = o->transport == DIR_PLAIN ? SEAL_MIN_SSF : 0;
	ber_len_t max = o->transport == DIR_PLAIN ? 256 : 0, ssf = 0;
	int rc;

	if (set_opt(c, LDAP_OPT_X_SASL_SSF_MIN, &min, "SASL minimum strength", e) < 0 ||
	    set_opt(c, LDAP_OPT_X_SASL_SSF_MAX, &max, "SASL maximum strength", e) < 0)
		return -1;
	rc = ldap_sasl_interactive_bind_s(c->ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET, sasl_defaults, NULL);
	if (rc == LDAP_NOT_SUPPORTED || rc == LDAP_AUTH_UNKNOWN)
		return gt_fail(e, GT_FAILED, "no SASL GSSAPI for the bind to the %s: %s (%s; install libsasl2-modules-gssapi-mit)",
			       c->where, ldap_err2string(rc), diag_of(c->ld));
	if (rc == LDAP_LOCAL_ERROR || rc == LDAP_PARAM_ERROR) {
		const char *d = diag_of(c->ld);

		return gt_fail(e, GT_REFUSED, "the Kerberos (GSSAPI) bind to the %s as ldap/%s failed: %s%s", c->where, host,
			       *d ? d : ldap_err2string(rc), gssapi_hint(d));
	}
	if (rc == LDAP_STRONG_AUTH_REQUIRED && o->transport != DIR_PLAIN)
		/* Samba's default (ldap server require strong auth = yes) wants a SASL layer, which
		 * it refuses over TLS: Kerberos to it goes without TLS, sealed by SASL */
		return gt_fail(e, GT_REFUSED,
			       "the %s refused a Kerberos bind over TLS: it requires the SASL sign/seal layer, which it "
			       "does not allow with TLS (%s); bind with Kerberos without StartTLS or LDAPS",
			       c->where, diag_of(c->ld));
	if (rc != LDAP_SUCCESS)
		return bind_refused(c, rc, "your Kerberos ticket", e);
	if (o->transport == DIR_PLAIN) {
		if (ldap_get_option(c->ld, LDAP_OPT_X_SASL_SSF, &ssf) != LDAP_OPT_SUCCESS || ssf < SEAL_MIN_SSF)
			return gt_fail(e, GT_REFUSED, "the %s gave the Kerberos bind no sealed SASL layer (ssf %lu): refused",
				       c->where, (unsigned long)ssf);
		snprintf(c->security, sizeof(c->security), "ldap/gssapi (sasl ssf %lu)", (unsigned long)ssf);
	}
	return 0;
}

/* The identity the DC sees: "u:EXAMPLE\Administrator", or "" when it does not say. */
static void ask_whoami(struct dir_conn *c)
{
	struct berval *id = NULL;

	if (ldap_whoami_s(c->ld, &id, NULL, NULL) == LDAP_SUCCESS && id && id->bv_val) {
		struct sbuf sb;

		sbuf_init(&sb);
		sbuf_add(&sb, id->bv_val, id->bv_len);
		c->bound_as = xstrdup(esc(sb.buf));
		sbuf_release(&sb);
	}
	if (id)
		ber_bvfree(id);
	if (!c->bound_as)
		c->bound_as = xstrdup("");
	clear_diag(c->ld);
}

/* ---- connect ---------------------------------------------------------------------------------- */

/* Refusals that need no network: a clear-text password, an unnamed DC, an anonymous bind. */
static int check_opts(const struct dir_conn_opts *o, struct gt_error *e)
{
	if (!valid_host(o->host))
		return gt_fail(e, GT_USAGE, "'%s' is not a DC name (a DNS name such as dc1.example.com)",
			       o->host ? esc(o->host) : "");
	if (o->address && !*o->address)
		return gt_fail(e, GT_USAGE, "an empty address for the DC '%s'", o->host);
	if (o->port < 0 || o->port > 65535)
		return gt_fail(e, GT_USAGE, "port %d is not a TCP port", o->port);
	if (o->timeout_s < 0)
		return gt_fail(e, GT_USAGE, "a negative timeout (%d s)", o->timeout_s);
	if (o->transport != DIR_PLAIN && o->ca_file && gt_check_path(o->ca_file, 0, "--ca-file takes a PEM file", e) < 0)
		return -1;
	if (o->auth == DIR_AUTH_PASSWORD) {
		if (!o->user || !*o->user)
			return gt_fail(e, GT_USAGE, "a password bind needs a user name");
		/* an empty password is an unauthenticated bind (RFC 4513 5.1.2): it succeeds as nobody */
		if (!o->password || !*o->password)
			return gt_fail(e, GT_REFUSED, "refusing an empty password for '%s': the DC would bind it as anonymous",
				       esc(o->user));
		if (o->transport == DIR_PLAIN && !o->allow_plain)
			return gt_fail(e, GT_REFUSED,
				       "refusing to send the password of '%s' to the DC '%s' in clear text: use StartTLS or LDAPS, "
				       "Kerberos, or --allow-plain-ldap",
				       esc(o->user), o->host);
	}
	return 0;
}

static void name_dc(struct dir_conn *c, const struct dir_conn_opts *o)
{
	if (o->address && strcasecmp(o->address, o->host) != 0)
		snprintf(c->where, sizeof(c->where), "DC '%s' (%s)", o->host, esc(o->address));
	else
		snprintf(c->where, sizeof(c->where), "DC '%s'", o->host);
}

/* The socket handed to libldap under the DC's name, so that TLS and SASL see the name. */
static int open_handle(struct dir_conn *c, const struct dir_conn_opts *o, int port, int timeout_s, struct gt_error *e)
{
	char url[300];
	int fd = -1, rc;

	if (strchr(o->host, ':'))
		snprintf(url, sizeof(url), "%s://[%s]:%d", o->transport == DIR_LDAPS ? "ldaps" : "ldap", o->host, port);
	else
		snprintf(url, sizeof(url), "%s://%s:%d", o->transport == DIR_LDAPS ? "ldaps" : "ldap", o->host, port);
	if (open_socket(c, o->address ? o->address : o->host, port, timeout_s, &fd, e) < 0)
		return -1;
	rc = ldap_init_fd(fd, LDAP_PROTO_TCP, url, &c->ld);
	if (rc != LDAP_SUCCESS) {
		close(fd);
		c->ld = NULL;
		return gt_fail(e, GT_FAILED, "libldap cannot take the connection to the %s: %s", c->where, ldap_err2string(rc));
	}
	/* from here the socket is libldap's: ldap_unbind closes it */
	return set_handle_options(c, timeout_s, e);
}

static int connect_and_bind(const struct dir_conn_opts *o, struct dir_conn **out, struct gt_error *e)
{
	struct dir_conn *c;
	int timeout_s = o->timeout_s ? o->timeout_s : DEFAULT_TIMEOUT_S;
	int port = o->port ? o->port : o->transport == DIR_LDAPS ? 636 : 389;

	*out = NULL;
	if (check_opts(o, e) < 0)
		return -1;
	c = xcalloc(1, sizeof(*c));
	name_dc(c, o);
	if (open_handle(c, o, port, timeout_s, e) < 0)
		goto fail;
	if (o->transport != DIR_PLAIN && set_tls_options(c, o->ca_file, e) < 0)
		goto fail;
	if (o->transport == DIR_STARTTLS && start_tls(c, o->host, e) < 0)
		goto fail;
	if (o->transport == DIR_LDAPS && install_tls(c, o->host, e) < 0)
		goto fail;
	snprintf(c->security, sizeof(c->security), "%s",
		 o->transport == DIR_LDAPS ? "ldaps" : o->transport == DIR_STARTTLS ? "ldap/starttls" : "ldap (plain)");
	if (o->auth == DIR_AUTH_ANONYMOUS)
		snprintf(c->security, sizeof(c->security), "ldap (anonymous, rootDSE)");
	else if (o->auth == DIR_AUTH_KERBEROS ? bind_kerberos(c, o, o->host, e) < 0 : bind_password(c, o, e) < 0)
		goto fail;
	if (o->auth != DIR_AUTH_ANONYMOUS)
		ask_whoami(c);
	*out = c;
	return 0;
fail:
	dir_close(c);
	return -1;
}

int dir_connect(const struct dir_conn_opts *o, struct dir_conn **out, struct gt_error *e)
{
	struct sigaction old;
	int rc;

	sigpipe_ignore(&old);
	rc = connect_and_bind(o, out, e);
	sigpipe_restore(&old);
	return rc;
}

void dir_close(struct dir_conn *c)
{
	struct sigaction old;

	if (!c)
		return;
	if (c->ld) {
		sigpipe_ignore(&old);
		ldap_unbind_ext_s(c->ld, NULL, NULL);
		sigpipe_restore(&old);
	}
	free(c->bound_as);
	free(c);
}

const char *dir_security(const struct dir_conn *c)
{
	return c->security;
}

const char *dir_bound_as(const struct dir_conn *c)
{
	return c->bound_as ? c->bound_as : "";
}

/* ---- search ----------------------------------------------------------------------------------- */

static void copy_values(LDAP *ld, LDAPMessage *m, const char *name, struct dir_attr *a)
{
	struct berval **v = ldap_get_values_len(ld, m, name);
	size_t n = v ? (size_t)ldap_count_values_len(v) : 0;

	a->name = xstrdup(name);
	a->vals = xcalloc(n ? n : 1, sizeof(*a->vals));
	a->n = n;
	for (size_t i = 0; i < n; i++) {
		a->vals[i].bytes = xmalloc(v[i]->bv_len + 1);
		memcpy(a->vals[i].bytes, v[i]->bv_val, v[i]->bv_len);
		a->vals[i].bytes[v[i]->bv_len] = '\0';
		a->vals[i].len = v[i]->bv_len;
	}
	ldap_value_free_len(v);
}

static void copy_entry(LDAP *ld, LDAPMessage *m, struct dir_entry *en)
{
	BerElement *ber = NULL;
	char *dn = ldap_get_dn(ld, m);
	size_t cap = 8;

	en->dn = xstrdup(dn ? dn : "");
	ldap_memfree(dn);
	en->attrs = xcalloc(cap, sizeof(*en->attrs));
	en->nattrs = 0;
	for (char *a = ldap_first_attribute(ld, m, &ber); a; a = ldap_next_attribute(ld, m, ber)) {
		if (en->nattrs == cap) {
			cap *= 2;
			en->attrs = xrealloc(en->attrs, cap * sizeof(*en->attrs));
		}
		copy_values(ld, m, a, &en->attrs[en->nattrs++]);
		ldap_memfree(a);
	}
	if (ber)
		ber_free(ber, 0);
}

/* The entries of a result, continuation references (other naming contexts) left out. */
static void copy_entries(LDAP *ld, LDAPMessage *res, struct dir_entry **out, size_t *n)
{
	int count = ldap_count_entries(ld, res);
	size_t i = 0;

	*out = xcalloc(count > 0 ? (size_t)count : 1, sizeof(**out));
	for (LDAPMessage *m = ldap_first_entry(ld, res); m && i < (size_t)count; m = ldap_next_entry(ld, m))
		copy_entry(ld, m, &(*out)[i++]);
	*n = i;
}

/* The BER value of the SD flags control: SEQUENCE { INTEGER flags }. */
static int sd_flags_control(int flags, LDAPControl *ctrl, struct berval **val, struct gt_error *e)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);

	*val = NULL;
	if (!ber || ber_printf(ber, "{i}", (ber_int_t)flags) < 0 || ber_flatten(ber, val) < 0) {
		if (ber)
			ber_free(ber, 1);
		return gt_fail(e, GT_FAILED, "unable to encode the SD flags control");
	}
	ber_free(ber, 1);
	ctrl->ldctl_oid = (char *)SD_FLAGS_OID;
	ctrl->ldctl_value = **val;
	ctrl->ldctl_iscritical = 1;
	return 0;
}

static int search_failed(struct dir_conn *c, int rc, const char *base, struct gt_error *e)
{
	char why[700];

	describe_rc(c->ld, rc, why, sizeof(why));
	if (rc == LDAP_SIZELIMIT_EXCEEDED)
		return gt_fail(e, GT_FAILED, "the search below '%s' on the %s matched more entries than the DC returns at once: %s",
			       esc(base), c->where, why);
	if (rc == LDAP_REFERRAL)
		return gt_fail(e, GT_FAILED, "'%s' is not held by the %s (it sent a referral): %s", esc(base), c->where, why);
	if (rc == LDAP_INSUFFICIENT_ACCESS)
		return gt_fail(e, GT_REFUSED, "no right to read '%s' on the %s: %s", esc(base), c->where, why);
	return gt_fail(e, GT_FAILED, "the search of '%s' on the %s failed: %s", esc(base), c->where, why);
}

int dir_search(struct dir_conn *c, const char *base, enum dir_scope scope, const char *filter, const char *const *attrs,
	       int sd_flags, struct dir_entry **out, size_t *n, struct gt_error *e)
{
	static const int scopes[] = { [DIR_BASE] = LDAP_SCOPE_BASE, [DIR_ONE] = LDAP_SCOPE_ONELEVEL,
				      [DIR_SUBTREE] = LDAP_SCOPE_SUBTREE };
	LDAPControl ctrl, *ctrls[2] = { NULL, NULL };
	struct berval *ctrl_val = NULL;
	LDAPMessage *res = NULL;
	struct sigaction old;
	int rc;

	*out = NULL;
	*n = 0;
	if (check_alive(c, e) < 0)
		return -1;
	if (sd_flags) {
		if (sd_flags_control(sd_flags, &ctrl, &ctrl_val, e) < 0)
			return -1;
		ctrls[0] = &ctrl;
	}
	clear_diag(c->ld);
	sigpipe_ignore(&old);
	rc = note_lost(c, ldap_search_ext_s(c->ld, base, scopes[scope], filter && *filter ? filter : "(objectClass=*)",
					    (char **)attrs, 0, sd_flags ? ctrls : NULL, NULL, NULL, LDAP_NO_LIMIT, &res));
	sigpipe_restore(&old);
	if (ctrl_val)
		ber_bvfree(ctrl_val);
	if (rc == LDAP_SUCCESS)
		copy_entries(c->ld, res, out, n);
	if (res)
		ldap_msgfree(res);
	if (rc == LDAP_SUCCESS)
		return 0;
	if (rc == LDAP_NO_SUCH_OBJECT) {
		*out = xcalloc(1, sizeof(**out));
		return 0;
	}
	return search_failed(c, rc, base, e);
}

void dir_entries_free(struct dir_entry *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t a = 0; a < v[i].nattrs; a++) {
			for (size_t k = 0; k < v[i].attrs[a].n; k++)
				free(v[i].attrs[a].vals[k].bytes);
			free(v[i].attrs[a].vals);
			free(v[i].attrs[a].name);
		}
		free(v[i].attrs);
		free(v[i].dn);
	}
	free(v);
}

const struct dir_attr *dir_entry_attr(const struct dir_entry *en, const char *name)
{
	for (size_t i = 0; i < en->nattrs; i++)
		if (strcasecmp(en->attrs[i].name, name) == 0)
			return &en->attrs[i];
	return NULL;
}

const char *dir_entry_str(const struct dir_entry *en, const char *name)
{
	const struct dir_attr *a = dir_entry_attr(en, name);

	return a && a->n ? (const char *)a->vals[0].bytes : NULL;
}

/* ---- writes ----------------------------------------------------------------------------------- */

/* The LDAPMod array for mods: one allocation of pointers, mods and bervals, pointing at the
 * caller's bytes (freed with one free). */
static LDAPMod **build_mods(const struct dir_mod *mods, size_t n, int for_add)
{
	size_t nvals = 0;
	LDAPMod **list, *m;
	struct berval **bvp, *bv;

	for (size_t i = 0; i < n; i++)
		nvals += mods[i].n + 1;
	list = xcalloc(1, (n + 1) * sizeof(*list) + n * sizeof(*m) + nvals * (sizeof(*bvp) + sizeof(*bv)));
	m = (LDAPMod *)(list + n + 1);
	bvp = (struct berval **)(m + n);
	bv = (struct berval *)(bvp + nvals);
	for (size_t i = 0; i < n; i++) {
		int op = for_add || mods[i].op == DIR_MOD_ADD ? LDAP_MOD_ADD
			 : mods[i].op == DIR_MOD_DELETE       ? LDAP_MOD_DELETE
							      : LDAP_MOD_REPLACE;

		m[i].mod_op = op | LDAP_MOD_BVALUES;
		m[i].mod_type = (char *)mods[i].attr;
		/* a delete of no values deletes the attribute: no value set at all */
		m[i].mod_bvalues = mods[i].n || op != LDAP_MOD_DELETE ? bvp : NULL;
		for (size_t k = 0; k < mods[i].n; k++) {
			bv->bv_val = (char *)mods[i].vals[k].bytes;
			bv->bv_len = mods[i].vals[k].len;
			*bvp++ = bv++;
		}
		*bvp++ = NULL;
		list[i] = &m[i];
	}
	list[n] = NULL;
	return list;
}

/* A write the server refused: no right is GT_REFUSED, the rest GT_FAILED, with its words. */
static int write_failed(struct dir_conn *c, int rc, const char *verb, const char *dn, struct gt_error *e)
{
	char why[700];

	describe_rc(c->ld, rc, why, sizeof(why));
	if (rc == LDAP_INSUFFICIENT_ACCESS)
		return gt_fail(e, GT_REFUSED, "no right to %s '%s' on the %s: %s", verb, esc(dn), c->where, why);
	return gt_fail(e, GT_FAILED, "unable to %s '%s' on the %s: %s", verb, esc(dn), c->where, why);
}

int dir_modify(struct dir_conn *c, const char *dn, const struct dir_mod *mods, size_t n, struct gt_error *e)
{
	LDAPMod **list;
	struct sigaction old;
	int rc;

	if (check_alive(c, e) < 0)
		return -1;
	list = build_mods(mods, n, 0);
	clear_diag(c->ld);
	sigpipe_ignore(&old);
	rc = note_lost(c, ldap_modify_ext_s(c->ld, dn, list, NULL, NULL));
	sigpipe_restore(&old);
	free(list);
	if (rc == LDAP_SUCCESS)
		return 0;
	/* Samba answers noSuchAttribute for an attribute the schema does not have: a mistake, not
	 * another writer */
	if (rc == LDAP_NO_SUCH_ATTRIBUTE && strstr(diag_of(c->ld), "not found in the schema"))
		return write_failed(c, rc, "modify", dn, e);
	if (rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_TYPE_OR_VALUE_EXISTS)
		return 1;
	return write_failed(c, rc, "modify", dn, e);
}

int dir_add(struct dir_conn *c, const char *dn, const struct dir_mod *attrs, size_t n, struct gt_error *e)
{
	LDAPMod **list;
	struct sigaction old;
	int rc;

	if (check_alive(c, e) < 0)
		return -1;
	list = build_mods(attrs, n, 1);
	clear_diag(c->ld);
	sigpipe_ignore(&old);
	rc = note_lost(c, ldap_add_ext_s(c->ld, dn, list, NULL, NULL));
	sigpipe_restore(&old);
	free(list);
	if (rc == LDAP_SUCCESS)
		return 0;
	if (rc == LDAP_ALREADY_EXISTS)
		return 1;
	return write_failed(c, rc, "add", dn, e);
}

int dir_delete(struct dir_conn *c, const char *dn, struct gt_error *e)
{
	struct sigaction old;
	int rc;

	if (check_alive(c, e) < 0)
		return -1;
	clear_diag(c->ld);
	sigpipe_ignore(&old);
	rc = note_lost(c, ldap_delete_ext_s(c->ld, dn, NULL, NULL));
	sigpipe_restore(&old);
	if (rc == LDAP_SUCCESS)
		return 0;
	if (rc == LDAP_NO_SUCH_OBJECT)
		return 1;
	return write_failed(c, rc, "delete", dn, e);
}

/* ---- filters ---------------------------------------------------------------------------------- */

void dir_filter_escape(const char *value, struct sbuf *out)
{
	/* RFC 4515 3: '*', '(', ')', '\' and NUL must be escaped; control characters and bytes
	 * above 0x7f are too, so that what reaches the server is plain ASCII whatever the value. */
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '*' || *p == '(' || *p == ')' || *p == '\\' || *p < 0x20 || *p >= 0x7f)
			sbuf_addf(out, "\\%02x", *p);
		else
			sbuf_addch(out, (char)*p);
	}
}
