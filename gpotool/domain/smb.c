/* SYSVOL over SMB with Samba's libsmbclient (see smb.h). Everything here works around three
 * facts of libsmbclient 4.17: its configuration is process-global and read from ~/.smb/smb.conf
 * or /etc/samba/smb.conf at every smbc_new_context, it logs to stdout by default, and it
 * connects only to the server named in the URL (no separate address, see kerberos_by_name). */
#include "domain/smb.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libsmbclient.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/sbuf.h"
#include "core/textesc.h"

#define SMB_PORT 445
#define SMB_DEFAULT_TIMEOUT_S 15
#define SMB_CHUNK 65536
#define SMB_MAX_ENTRIES 100000  /* a GPO folder holds tens; a cap keeps a hostile server bounded */
#define SMB_MAX_COMPONENT 255   /* NTFS and SMB2 name limit, in bytes here (UTF-8 is longer: still safe) */
#define SMB_MAX_PATH 2048
#define SMB_AUTH_FIELD 256      /* SMBC_call_auth_fn hands the callback fstrings of 256 bytes */
#define SMB_TEMP_TAG ".gpotool-"
#define SMB_TEMP_TRIES 8

struct smb_conn {
	SMBCCTX *ctx;
	char *server;    /* what the URLs name: the host, or the address for a password logon to one */
	char *where;     /* "'HOST'" or "'HOST' (ADDRESS)", for messages */
	char *user;      /* as the auth callback gives it; for Kerberos a placeholder (see auth_fn) */
	char *workgroup;
	char *password;  /* NULL with Kerberos; wiped before it is freed */
	size_t password_len;
	int kerberos;
	int holds_private; /* counted in priv.users */
};

/* ---- URLs ---- */

static int unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
	       ch == '.' || ch == '_' || ch == '~';
}

/* Every byte but RFC 3986's unreserved ones as %XX: SMBC_parse_path splits on '@' (user
 * info), ':' (port), the last '?' (options) and '/', and url-decodes each part afterwards. */
static void add_escaped(struct sbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (unreserved(ch)) {
			sbuf_addch(sb, (char)ch);
		} else {
			sbuf_addch(sb, '%');
			sbuf_addch(sb, hex[ch >> 4]);
			sbuf_addch(sb, hex[ch & 15]);
		}
	}
}

/* What a component must not hold: '\' is the server's separator (libsmbclient turns '/' into
 * '\' before it decodes, so an escaped one would split the name there), ':' names an NTFS
 * stream, the rest are wildcards or characters NTFS refuses, and control characters. */
static const char *bad_char(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			return "a control character";
		if (ch == '\\')
			return "a backslash";
		if (ch == ':')
			return "a ':' (an NTFS stream)";
		if (strchr("*?<>|\"", ch))
			return "a wildcard or a character Windows refuses in names";
	}
	return NULL;
}

static int check_component(const char *path, const char *s, size_t n, struct gt_error *e)
{
	const char *bad;

	if (n == 0)
		return gt_fail(e, GT_REFUSED, "SMB path '%s' has an empty component", esc(path));
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return gt_fail(e, GT_REFUSED, "SMB path '%s' has a '%.*s' component", esc(path), (int)n, s);
	if (n > SMB_MAX_COMPONENT)
		return gt_fail(e, GT_REFUSED, "SMB path '%s' has a component longer than %d bytes", esc(path),
			       SMB_MAX_COMPONENT);
	bad = bad_char(s, n);
	if (bad)
		return gt_fail(e, GT_REFUSED, "SMB path '%s' has %s", esc(path), bad);
	return 0;
}

static int numeric_address(const char *s, char out[NI_MAXHOST]);

/* A DNS name (letters, digits, '-', '_', '.') or an IP address; an IPv6 address reaches
 * libsmbclient as %3A-escaped, which it decodes after it looked for a port (measured: ::1). */
static int server_ok(const char *server)
{
	char numeric[NI_MAXHOST];

	if (!server || !*server || strlen(server) > 255)
		return 0;
	if (numeric_address(server, numeric) == 0)
		return 1;
	for (const char *p = server; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			return 0;
	return 1;
}

int smb_url(const char *server, const char *path, char **url, struct gt_error *e)
{
	struct sbuf sb;
	const char *p;

	*url = NULL;
	if (!server_ok(server))
		return gt_fail(e, GT_USAGE, "'%s' is not a server name or address", esc(server ? server : ""));
	if (!path || !*path)
		return gt_fail(e, GT_REFUSED, "SMB path is empty: it starts with a share");
	if (strlen(path) > SMB_MAX_PATH)
		return gt_fail(e, GT_REFUSED, "SMB path '%.64s...' is longer than %d bytes", esc(path), SMB_MAX_PATH);
	for (p = path;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (check_component(path, p, n, e) < 0)
			return -1;
		if (!slash)
			break;
		p = slash + 1;
	}
	sbuf_init(&sb);
	sbuf_addstr(&sb, "smb://");
	add_escaped(&sb, server, strlen(server));
	for (p = path;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		sbuf_addch(&sb, '/');
		add_escaped(&sb, p, n);
		if (!slash)
			break;
		p = slash + 1;
	}
	*url = sbuf_detach(&sb, NULL);
	return 0;
}

/* ---- the private configuration ---- */

/* One folder per process while a connection is open: libsmbclient's configuration (and the
 * name cache, gencache.tdb, in its "cache directory") is global to the process, so all
 * connections share it; the last smb_close removes it. */
static struct {
	char dir[PATH_MAX];
	int users;
} priv;

/* "client signing = required" and the encryption level REQUEST (set on the context) each
 * require signing; SMB3 encryption is used when the server offers it. SMB1 is out. Nothing of
 * the system's smb.conf is read (see new_context), and every folder Samba may write is ours. */
static const char private_conf[] =
	"[global]\n"
	"\tclient min protocol = SMB2_10\n"
	"\tclient max protocol = SMB3\n"
	"\tclient signing = required\n"
	"\tclient ipc signing = required\n"
	"\tclient smb encrypt = desired\n"
	"\tname resolve order = host\n"
	"\tdisable netbios = yes\n"
	"\tunix charset = UTF-8\n"
	"\tlog level = 0\n"
	"\tcache directory = %1$s\n"
	"\tlock directory = %1$s\n"
	"\tstate directory = %1$s\n"
	"\tprivate dir = %1$s\n"
	"\tncalrpc dir = %1$s\n"
	"\twinbindd socket directory = %1$s\n";

static int write_private_conf(const char *dir, struct gt_error *e)
{
	char path[PATH_MAX + 32];
	struct sbuf sb;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/.smb", dir);
	if (mkdir(path, 0700) < 0)
		return gt_fail(e, GT_FAILED, "cannot make '%s': %s", esc(path), strerror(errno));
	snprintf(path, sizeof(path), "%s/.smb/smb.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return gt_fail(e, GT_FAILED, "cannot create '%s': %s", esc(path), strerror(errno));
	sbuf_init(&sb);
	sbuf_addf(&sb, private_conf, dir);
	for (size_t off = 0; off < sb.len && rc == 0;) {
		ssize_t w = write(fd, sb.buf + off, sb.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = gt_fail(e, GT_FAILED, "cannot write '%s': %s", esc(path), strerror(w < 0 ? errno : ENOSPC));
		else
			off += (size_t)w;
	}
	sbuf_release(&sb);
	if (close(fd) < 0 && rc == 0)
		rc = gt_fail(e, GT_FAILED, "cannot write '%s': %s", esc(path), strerror(errno));
	return rc;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static int private_acquire(struct gt_error *e)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-";
	const char *tmp = getenv("TMPDIR");

	if (priv.users > 0) {
		priv.users++;
		return 0;
	}
	/* The folder is written into smb.conf, whose parser trims spaces, ends values at a newline
	 * and expands %-variables in paths: a TMPDIR with anything but these characters is not used. */
	if (!tmp || *tmp != '/' || strspn(tmp, plain) != strlen(tmp) || strlen(tmp) > PATH_MAX - 64)
		tmp = "/tmp";
	snprintf(priv.dir, sizeof(priv.dir), "%s/gpotool-smb-XXXXXX", tmp);
	if (!mkdtemp(priv.dir)) /* 0700 */
		return gt_fail(e, GT_FAILED, "cannot make a private folder in '%s': %s", esc(tmp), strerror(errno));
	if (write_private_conf(priv.dir, e) < 0) {
		nftw(priv.dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
		return -1;
	}
	priv.users = 1;
	return 0;
}

static void private_release(void)
{
	if (priv.users == 0 || --priv.users > 0)
		return;
	nftw(priv.dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	priv.dir[0] = '\0';
}

/* Samba's debug messages go here, not to stdout: smb.c says what failed. */
static void discard_log(void *private_ptr, int level, const char *msg)
{
	(void)private_ptr;
	(void)level;
	(void)msg;
}

/* smbc_new_context runs SMBC_module_init each time (libsmb_context.c: without thread functions
 * SMB_THREAD_ONCE always calls it), which loads $HOME/.smb/smb.conf, else
 * /etc/samba/smb.conf and then $HOME/.smb/smb.conf.append, resetting the global configuration.
 * With HOME at the private folder for that call it loads our file and no other. */
static SMBCCTX *new_context(void)
{
	const char *home = getenv("HOME");
	char *saved = home ? xstrdup(home) : NULL;
	SMBCCTX *ctx;

	setenv("HOME", priv.dir, 1);
	ctx = smbc_new_context();
	if (saved)
		setenv("HOME", saved, 1);
	else
		unsetenv("HOME");
	free(saved);
	return ctx;
}

/* ---- addresses ---- */

static int numeric_address(const char *s, char out[NI_MAXHOST])
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM }, *ai;
	int rc;

	if (getaddrinfo(s, NULL, &hints, &ai) != 0)
		return -1;
	rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, out, NI_MAXHOST, NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(ai);
	return rc == 0 ? 0 : -1;
}

/* As Samba's resolve_hosts (namequery.c) asks: SOCK_STREAM, AI_ADDRCONFIG. */
static int resolve_host(const char *host, struct addrinfo **ai, struct gt_error *e)
{
	struct addrinfo hints = { .ai_flags = AI_ADDRCONFIG, .ai_socktype = SOCK_STREAM };
	int rc = getaddrinfo(host, NULL, &hints, ai);

	if (rc != 0)
		return gt_fail(e, GT_FAILED, "cannot resolve the DC's name '%s': %s", esc(host),
			       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	return 0;
}

/* libsmbclient connects to the name in the URL and nothing else: SMBC_server_internal
 * (libsmb_server.c) calls cli_connect_nb(server, NULL, ...) with no address, and
 * cli_connect_sock_send (cliconnect.c) resolves the name with resolve_name_list; in
 * internal_resolve_name (namequery.c) a name with a dot skips lmhosts, WINS and broadcast
 * (filter_out_nbt_lookup), and the lmhosts path is compiled in (get_dyn_LMHOSTSFILE), so
 * only the system's resolver is left. Kerberos needs that name (cli_session_creds_prepare_krb5
 * refuses an IP address). So --resolve with Kerberos is accepted only when the name already
 * resolves to the address, and to no other (Samba would try every address it gets). */
#define KERBEROS_BY_NAME_ONLY                                                                      \
	"SMB with Kerberos connects by name and libsmbclient cannot be told an address: make '%s' " \
	"resolve to %s (DNS or /etc/hosts), or use a password logon (%s)"

static int kerberos_by_name(const char *host, const char *address, struct gt_error *e)
{
	char want[NI_MAXHOST], got[NI_MAXHOST];
	struct addrinfo hints = { .ai_flags = AI_ADDRCONFIG, .ai_socktype = SOCK_STREAM }, *ai, *a;
	struct sbuf other;
	int rc, match = 0;

	if (numeric_address(address, want) < 0)
		return gt_fail(e, GT_USAGE, "'%s' is not an IP address", esc(address));
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0)
		return gt_fail(e, GT_USAGE, KERBEROS_BY_NAME_ONLY, esc(host), want,
			       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	sbuf_init(&other);
	for (a = ai; a; a = a->ai_next) {
		if (getnameinfo(a->ai_addr, a->ai_addrlen, got, sizeof(got), NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		if (strcmp(got, want) == 0) {
			match = 1;
		} else if (!strstr(other.buf, got)) {
			sbuf_addstr(&other, other.len ? ", " : "");
			sbuf_addstr(&other, got);
		}
	}
	freeaddrinfo(ai);
	if (!match || other.len) {
		char detail[600];

		snprintf(detail, sizeof(detail), "it resolves to %s", other.len ? other.buf : "no address");
		sbuf_release(&other);
		return gt_fail(e, GT_USAGE, KERBEROS_BY_NAME_ONLY, esc(host), want, detail);
	}
	sbuf_release(&other);
	return 0;
}

/* A TCP connection to port 445 first, bounded by the timeout: libsmbclient's own connect waits
 * up to 20 s whatever the timeout (cli_connect_nb), and its errno does not say which address. */
static int tcp_try(const struct sockaddr *sa, socklen_t len, int timeout_s)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t elen = sizeof(err);
	struct pollfd pfd;

	if (fd < 0)
		return errno;
	if (connect(fd, sa, len) == 0)
		goto done;
	if (errno != EINPROGRESS) {
		err = errno;
		goto done;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	for (;;) {
		int r = poll(&pfd, 1, timeout_s * 1000);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			err = ETIMEDOUT;
		else if (r < 0)
			err = errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		break;
	}
done:
	close(fd);
	return err;
}

static int tcp_probe(const char *host, const char *address, const char *where, int timeout_s, struct gt_error *e)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM }, *ai, *a;
	int err = EHOSTUNREACH;

	if (address) {
		if (getaddrinfo(address, NULL, &hints, &ai) != 0)
			return gt_fail(e, GT_USAGE, "'%s' is not an IP address", esc(address));
	} else if (resolve_host(host, &ai, e) < 0) {
		return -1;
	}
	for (a = ai; a; a = a->ai_next) {
		if (a->ai_family == AF_INET)
			((struct sockaddr_in *)a->ai_addr)->sin_port = htons(SMB_PORT);
		else if (a->ai_family == AF_INET6)
			((struct sockaddr_in6 *)a->ai_addr)->sin6_port = htons(SMB_PORT);
		else
			continue;
		err = tcp_try(a->ai_addr, a->ai_addrlen, timeout_s);
		if (err == 0)
			break;
	}
	freeaddrinfo(ai);
	if (err == ETIMEDOUT)
		return gt_fail(e, GT_FAILED, "cannot reach the DC %s on port %d: no answer in %d s", where, SMB_PORT,
			       timeout_s);
	if (err)
		return gt_fail(e, GT_FAILED, "cannot reach the DC %s on port %d: %s", where, SMB_PORT, strerror(err));
	return 0;
}

/* ---- the connection ---- */

static void auth_fn(SMBCCTX *ctx, const char *srv, const char *shr, char *wg, int wglen, char *un, int unlen,
		    char *pw, int pwlen)
{
	struct smb_conn *c = smbc_getOptionUserData(ctx);

	(void)srv;
	(void)shr;
	snprintf(wg, (size_t)wglen, "%s", c->workgroup);
	snprintf(un, (size_t)unlen, "%s", c->user);
	snprintf(pw, (size_t)pwlen, "%s", c->password ? c->password : "");
}

static void conn_free(struct smb_conn *c)
{
	if (!c)
		return;
	if (c->ctx)
		smbc_free_context(c->ctx, 1);
	if (c->password) {
		explicit_bzero(c->password, c->password_len);
		free(c->password);
	}
	free(c->server);
	free(c->where);
	free(c->user);
	free(c->workgroup);
	if (c->holds_private)
		private_release();
	free(c);
}

static int check_opts(const struct smb_conn_opts *o, struct gt_error *e)
{
	char numeric[NI_MAXHOST];

	if (!o->host || !*o->host)
		return gt_fail(e, GT_USAGE, "SMB needs the DC's name");
	if (o->kerberos && numeric_address(o->host, numeric) == 0)
		return gt_fail(e, GT_USAGE, "SMB with Kerberos needs the DC's name, not the address '%s'", esc(o->host));
	if (!o->kerberos && (!o->user || !*o->user || !o->password))
		return gt_fail(e, GT_USAGE, "an SMB password logon needs a user and a password");
	if ((o->user && strlen(o->user) >= SMB_AUTH_FIELD) ||
	    (o->workgroup && strlen(o->workgroup) >= SMB_AUTH_FIELD))
		return gt_fail(e, GT_USAGE, "the SMB user or domain is longer than %d bytes", SMB_AUTH_FIELD - 1);
	if (!o->kerberos && strlen(o->password) >= SMB_AUTH_FIELD)
		return gt_fail(e, GT_USAGE, "the password is longer than libsmbclient takes (%d bytes)", SMB_AUTH_FIELD - 1);
	return 0;
}

/* With Kerberos libsmbclient builds a principal "USER@DOMAIN" and gives up when it has no
 * domain ("Kerberos auth with '(null)' ... not possible", cli_session_creds_prepare_krb5);
 * the ticket cache's own principal is what logs on (measured: any user works), so the DNS
 * domain of the DC's name will do when none was given. */
static const char *host_domain(const char *host)
{
	const char *dot = strchr(host, '.');

	return dot && dot[1] ? dot + 1 : host;
}

static struct smb_conn *conn_new(const struct smb_conn_opts *o)
{
	struct smb_conn *c = xcalloc(1, sizeof(*c));
	struct sbuf sb;

	/* a password logon goes to the address itself; Kerberos needs the name (kerberos_by_name) */
	c->server = xstrdup(o->address && !o->kerberos ? o->address : o->host);
	sbuf_init(&sb);
	sbuf_addf(&sb, "'%s'", esc(o->host));
	if (o->address)
		sbuf_addf(&sb, " (%s)", esc(o->address));
	c->where = sbuf_detach(&sb, NULL);
	/* With Kerberos the ticket cache's principal logs on; libsmbclient still wants a user name,
	 * else it logs on anonymously (cli_session_creds_init with an empty user). */
	c->user = xstrdup(o->user && *o->user ? o->user : "kerberos-ccache");
	c->workgroup = xstrdup(o->workgroup ? o->workgroup : o->kerberos ? host_domain(o->host) : "");
	if (!o->kerberos) {
		c->password_len = strlen(o->password);
		c->password = xmemdup(o->password, c->password_len + 1);
	}
	c->kerberos = o->kerberos;
	return c;
}

static int context_setup(struct smb_conn *c, int timeout_s, struct gt_error *e)
{
	char conf[PATH_MAX + 32];

	c->ctx = new_context();
	if (!c->ctx)
		return gt_fail(e, GT_FAILED, "cannot start libsmbclient: %s", strerror(errno));
	smbc_setLogCallback(c->ctx, NULL, discard_log);
	smbc_setDebug(c->ctx, 0);
	smbc_setOptionUserData(c->ctx, c);
	smbc_setFunctionAuthDataWithContext(c->ctx, auth_fn);
	smbc_setUser(c->ctx, c->user);
	smbc_setWorkgroup(c->ctx, c->workgroup);
	if (!smbc_init_context(c->ctx)) {
		/* Not freed: smbc_free_context counts every context it frees as an initialised one,
		 * and the count reaching 0 frees the global configuration under any other open
		 * connection (SMBC_module_terminate). init fails only without memory. */
		c->ctx = NULL;
		return gt_fail(e, GT_FAILED, "cannot start libsmbclient: %s", strerror(errno));
	}
	/* when another library registered thread functions, module init ran only once: load our
	 * file on top (smbc_setConfiguration does not reset what was loaded before) */
	snprintf(conf, sizeof(conf), "%s/.smb/smb.conf", priv.dir);
	if (smbc_setConfiguration(c->ctx, conf) != 0)
		return gt_fail(e, GT_FAILED, "libsmbclient cannot load its private configuration '%s'", esc(conf));
	smbc_setPort(c->ctx, SMB_PORT);
	smbc_setTimeout(c->ctx, timeout_s * 1000);
	/* a refused logon must not become an anonymous one (SMBC_server_internal tries it) */
	smbc_setOptionNoAutoAnonymousLogin(c->ctx, 1);
	/* > NONE makes SMBC_server_internal require signing; REQUEST encrypts when offered */
	smbc_setOptionSmbEncryptionLevel(c->ctx, SMBC_ENCRYPTLEVEL_REQUEST);
	smbc_setOptionUseKerberos(c->ctx, c->kerberos);
	smbc_setOptionFallbackAfterKerberos(c->ctx, 0);
	/* with Kerberos and no password the ticket comes from KRB5CCNAME; UseCCache adds winbind's
	 * NTLM cache, which a password logon must not fall back to */
	smbc_setOptionUseCCache(c->ctx, c->kerberos);
	smbc_setOptionUrlEncodeReaddirEntries(c->ctx, 0);
	return 0;
}

static int connect_error(const struct smb_conn *c, const char *share, int err, struct gt_error *e)
{
	if (err == EACCES || err == EPERM) {
		if (c->kerberos)
			return gt_fail(e, GT_REFUSED, "the DC %s refused the SMB logon with the Kerberos ticket in KRB5CCNAME, "
				       "or its share '%s' to that user (access denied)", c->where, share);
		/* libsmbclient says EACCES for both: a refused logon, and a share the user may not list */
		return gt_fail(e, GT_REFUSED, "the DC %s refused the SMB logon as '%s', or its share '%s' to that user "
			       "(access denied)", c->where, esc(c->user), share);
	}
	if (err == EINVAL && c->kerberos)
		return gt_fail(e, GT_REFUSED,
			       "the SMB logon to %s with Kerberos failed: no usable ticket for cifs/%s in the cache KRB5CCNAME names",
			       c->where, esc(c->server));
	if (err == ENOENT)
		return gt_fail(e, GT_FAILED, "the DC %s has no share '%s'", c->where, esc(share));
	if (err == ETIMEDOUT)
		return gt_fail(e, GT_FAILED, "the DC %s did not answer over SMB", c->where);
	return gt_fail(e, GT_FAILED, "SMB connection to the DC %s failed: %s", c->where, strerror(err));
}

int smb_connect(const struct smb_conn_opts *o, const char *probe_share, struct smb_conn **out, struct gt_error *e)
{
	int timeout_s = o->timeout_s > 0 ? o->timeout_s : SMB_DEFAULT_TIMEOUT_S;
	struct smb_conn *c;
	SMBCFILE *dir;
	char *url;

	*out = NULL;
	if (check_opts(o, e) < 0)
		return -1;
	if (o->address && o->kerberos && kerberos_by_name(o->host, o->address, e) < 0)
		return -1;
	if (smb_url(o->address && !o->kerberos ? o->address : o->host, probe_share, &url, e) < 0)
		return -1;
	c = conn_new(o);
	if (tcp_probe(o->host, o->address, c->where, timeout_s, e) < 0 || private_acquire(e) < 0)
		goto fail;
	c->holds_private = 1;
	if (context_setup(c, timeout_s, e) < 0)
		goto fail;
	dir = smbc_getFunctionOpendir(c->ctx)(c->ctx, url);
	if (!dir) {
		connect_error(c, probe_share, errno, e);
		goto fail;
	}
	smbc_getFunctionClosedir(c->ctx)(c->ctx, dir);
	free(url);
	*out = c;
	return 0;
fail:
	free(url);
	conn_free(c);
	return -1;
}

void smb_close(struct smb_conn *c)
{
	conn_free(c);
}

/* ---- operations ---- */

/* ENOENT is "absent" (0) for the callers that have one; a refusal names the right missing. */
enum smb_access { SMB_READING, SMB_WRITING };

static int op_error(enum smb_access how, const char *verb, const char *path, int err, struct gt_error *e)
{
	if (err == EACCES || err == EPERM)
		return gt_fail(e, GT_REFUSED, "no right to %s '%s' on the DC", how == SMB_READING ? "read" : "write",
			       esc(path));
	return gt_fail(e, GT_FAILED, "cannot %s '%s' on the DC: %s", verb, esc(path), strerror(err));
}

int smb_stat(struct smb_conn *c, const char *path, enum smb_type *type, uint64_t *size, struct gt_error *e)
{
	struct stat st;
	char *url;
	int rc;

	if (smb_url(c->server, path, &url, e) < 0)
		return -1;
	rc = smbc_getFunctionStat(c->ctx)(c->ctx, url, &st);
	free(url);
	if (rc < 0)
		return errno == ENOENT ? 0 : op_error(SMB_READING, "read", path, errno, e);
	*type = S_ISDIR(st.st_mode) ? SMB_DIR : SMB_FILE;
	*size = st.st_size < 0 ? 0 : (uint64_t)st.st_size;
	return 1;
}

/* Reads until end of file, at most max bytes: more is GT_REFUSED. */
static int read_open(struct smb_conn *c, SMBCFILE *f, const char *path, size_t max, uint8_t **buf, size_t *len,
		     struct gt_error *e)
{
	smbc_read_fn rd = smbc_getFunctionRead(c->ctx);
	struct sbuf sb;

	sbuf_init(&sb);
	for (;;) {
		ssize_t n;

		sbuf_grow(&sb, SMB_CHUNK);
		n = rd(c->ctx, f, sb.buf + sb.len, SMB_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sbuf_release(&sb);
			return op_error(SMB_READING, "read", path, errno, e);
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
		sb.buf[sb.len] = '\0';
		if (sb.len > max) {
			sbuf_release(&sb);
			return gt_fail(e, GT_REFUSED, "'%s' on the DC is larger than %zu bytes", esc(path), max);
		}
	}
	*buf = (uint8_t *)sbuf_detach(&sb, len);
	return 0;
}

int smb_read_file(struct smb_conn *c, const char *path, size_t max, uint8_t **buf, size_t *len, struct gt_error *e)
{
	SMBCFILE *f;
	char *url;
	int rc;

	*buf = NULL;
	*len = 0;
	if (smb_url(c->server, path, &url, e) < 0)
		return -1;
	f = smbc_getFunctionOpen(c->ctx)(c->ctx, url, O_RDONLY, 0);
	free(url);
	if (!f)
		return errno == ENOENT ? 0 : op_error(SMB_READING, "read", path, errno, e);
	rc = read_open(c, f, path, max, buf, len, e);
	smbc_getFunctionClose(c->ctx)(c->ctx, f);
	return rc < 0 ? -1 : 1;
}

void smb_dirents_free(struct smb_dirent *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static int add_dirent(const char *path, const struct smbc_dirent *d, struct smb_dirent **v, size_t *n, size_t *cap,
		      struct gt_error *e)
{
	if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0)
		return 0;
	if (d->smbc_type != SMBC_DIR && d->smbc_type != SMBC_FILE)
		return gt_fail(e, GT_FAILED, "'%s/%s' on the DC is neither a file nor a folder (type %u)", esc(path),
			       esc(d->name), d->smbc_type);
	if (*n == SMB_MAX_ENTRIES)
		return gt_fail(e, GT_REFUSED, "'%s' on the DC has more than %d entries", esc(path), SMB_MAX_ENTRIES);
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[*n].name = xstrdup(d->name);
	(*v)[*n].type = d->smbc_type == SMBC_DIR ? SMB_DIR : SMB_FILE;
	(*n)++;
	return 0;
}

int smb_list(struct smb_conn *c, const char *path, struct smb_dirent **out, size_t *n, struct gt_error *e)
{
	struct smb_dirent *v = NULL;
	size_t cap = 0, count = 0;
	struct smbc_dirent *d;
	SMBCFILE *dir;
	char *url;
	int rc = 1;

	*out = NULL;
	*n = 0;
	if (smb_url(c->server, path, &url, e) < 0)
		return -1;
	dir = smbc_getFunctionOpendir(c->ctx)(c->ctx, url);
	free(url);
	if (!dir)
		return errno == ENOENT ? 0 : op_error(SMB_READING, "list", path, errno, e);
	errno = 0;
	while ((d = smbc_getFunctionReaddir(c->ctx)(c->ctx, dir)) != NULL) {
		if (add_dirent(path, d, &v, &count, &cap, e) < 0) {
			rc = -1;
			break;
		}
		errno = 0;
	}
	if (rc == 1 && errno != 0)
		rc = op_error(SMB_READING, "list", path, errno, e);
	smbc_getFunctionClosedir(c->ctx)(c->ctx, dir);
	if (rc < 0) {
		smb_dirents_free(v, count);
		return -1;
	}
	*out = v;
	*n = count;
	return 1;
}

int smb_mkdir(struct smb_conn *c, const char *path, struct gt_error *e)
{
	enum smb_type type;
	uint64_t size;
	char *url;
	int rc, err;

	if (smb_url(c->server, path, &url, e) < 0)
		return -1;
	rc = smbc_getFunctionMkdir(c->ctx)(c->ctx, url, 0755);
	err = errno;
	free(url);
	if (rc == 0)
		return 1;
	if (err != EEXIST)
		return op_error(SMB_WRITING, "make the folder", path, err, e);
	rc = smb_stat(c, path, &type, &size, e);
	if (rc < 0)
		return -1;
	if (rc == 0 || type != SMB_DIR)
		return gt_fail(e, GT_FAILED, "cannot make the folder '%s' on the DC: a file is in the way", esc(path));
	return 0;
}

static int remove_path(struct smb_conn *c, const char *path, int folder, struct gt_error *e)
{
	char *url;
	int rc, err;

	if (smb_url(c->server, path, &url, e) < 0)
		return -1;
	rc = folder ? smbc_getFunctionRmdir(c->ctx)(c->ctx, url) : smbc_getFunctionUnlink(c->ctx)(c->ctx, url);
	err = errno;
	free(url);
	if (rc == 0)
		return 1;
	if (err == ENOENT)
		return 0;
	if (err == ENOTEMPTY)
		return gt_fail(e, GT_FAILED, "cannot remove the folder '%s' on the DC: it is not empty", esc(path));
	return op_error(SMB_WRITING, folder ? "remove the folder" : "remove", path, err, e);
}

int smb_unlink(struct smb_conn *c, const char *path, struct gt_error *e)
{
	return remove_path(c, path, 0, e);
}

int smb_rmdir(struct smb_conn *c, const char *path, struct gt_error *e)
{
	return remove_path(c, path, 1, e);
}

/* ---- replacing a file ---- */

/* "DIR/.NAME.gpotool-XXXXXX" beside path, 6 random letters and digits. */
static char *temp_name(const char *path)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const char *slash = strrchr(path, '/');
	unsigned char rnd[6];
	struct sbuf sb;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* not for secrecy, only to miss another writer's name: the clock will do */
		unsigned long t = (unsigned long)time(NULL) ^ (unsigned long)getpid() ^ (unsigned long)clock();

		for (size_t i = 0; i < sizeof(rnd); i++, t >>= 5)
			rnd[i] = (unsigned char)t;
	}
	sbuf_init(&sb);
	sbuf_add(&sb, path, (size_t)(slash - path + 1));
	sbuf_addf(&sb, ".%s" SMB_TEMP_TAG, slash + 1);
	for (size_t i = 0; i < sizeof(rnd); i++)
		sbuf_addch(&sb, set[rnd[i] % (sizeof(set) - 1)]);
	return sbuf_detach(&sb, NULL);
}

static int write_all(struct smb_conn *c, SMBCFILE *f, const char *path, const uint8_t *bytes, size_t len,
		     struct gt_error *e)
{
	smbc_write_fn wr = smbc_getFunctionWrite(c->ctx);

	while (len) {
		ssize_t w = wr(c->ctx, f, bytes, len < SMB_CHUNK ? len : SMB_CHUNK);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return op_error(SMB_WRITING, "write", path, w < 0 ? errno : ENOSPC, e);
		bytes += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Creates the temp file exclusively (a name taken by someone else is tried again) and writes
 * bytes into it; *tmp names it once it exists. */
static int write_temp(struct smb_conn *c, const char *path, const uint8_t *bytes, size_t len, char **tmp,
		      struct gt_error *e)
{
	SMBCFILE *f = NULL;
	int rc;

	for (int i = 0; i < SMB_TEMP_TRIES && !f; i++) {
		char *url;
		int err;

		*tmp = temp_name(path);
		if (smb_url(c->server, *tmp, &url, e) < 0)
			break;
		f = smbc_getFunctionOpen(c->ctx)(c->ctx, url, O_CREAT | O_EXCL | O_WRONLY, 0644);
		err = errno;
		free(url);
		if (!f) {
			char *name = *tmp;

			*tmp = NULL;
			if (err != EEXIST) {
				op_error(SMB_WRITING, "write", path, err, e);
				free(name);
				return -1;
			}
			free(name);
		}
	}
	if (!f) {
		free(*tmp);
		*tmp = NULL;
		return gt_fail(e, GT_FAILED, "cannot create a temporary file beside '%s' on the DC: every name tried exists",
			       esc(path));
	}
	rc = write_all(c, f, path, bytes, len, e);
	if (smbc_getFunctionClose(c->ctx)(c->ctx, f) < 0 && rc == 0)
		rc = op_error(SMB_WRITING, "write", path, errno, e);
	return rc;
}

/* Errors name path, the file the caller asked for; the temp file is its detail. */
static int read_back(struct smb_conn *c, const char *path, const char *tmp, const uint8_t *bytes, size_t len,
		     struct gt_error *e)
{
	struct gt_error inner = { 0 };
	uint8_t *got;
	size_t got_len;
	int rc = smb_read_file(c, tmp, len, &got, &got_len, &inner);

	if (rc < 0)
		return gt_fail(e, inner.code, "%s", inner.msg);
	if (rc == 0)
		return gt_fail(e, GT_FAILED, "the temporary file '%s' for '%s' vanished on the DC", esc(tmp), esc(path));
	rc = got_len == len && memcmp(got, bytes, len) == 0 ? 0 : -1;
	free(got);
	if (rc < 0)
		return gt_fail(e, GT_FAILED, "'%s' does not read back from the DC as written (temporary file '%s')",
			       esc(path), esc(tmp));
	return 0;
}

static int rename_over(struct smb_conn *c, const char *tmp, const char *path, struct gt_error *e)
{
	char *from, *to;
	int rc, err;

	if (smb_url(c->server, tmp, &from, e) < 0)
		return -1;
	if (smb_url(c->server, path, &to, e) < 0) {
		free(from);
		return -1;
	}
	rc = smbc_getFunctionRename(c->ctx)(c->ctx, from, c->ctx, to);
	err = errno;
	free(from);
	free(to);
	if (rc == 0)
		return 0;
	if (err == EEXIST) { /* the unlink of SMBC_rename_ctx failed: a folder is in the way */
		struct gt_error ignored = { 0 };
		enum smb_type type;
		uint64_t size;

		if (smb_stat(c, path, &type, &size, &ignored) > 0 && type == SMB_DIR)
			return gt_fail(e, GT_FAILED, "cannot replace '%s' on the DC: it is a folder", esc(path));
	}
	return op_error(SMB_WRITING, "replace", path, err, e);
}

int smb_replace_file(struct smb_conn *c, const char *path, const uint8_t *bytes, size_t len, char **staged,
		     struct gt_error *e)
{
	char *tmp = NULL, *check;
	struct gt_error ignored = { 0 };

	if (staged)
		*staged = NULL;
	if (smb_url(c->server, path, &check, e) < 0)
		return -1;
	free(check);
	if (!strchr(path, '/'))
		return gt_fail(e, GT_REFUSED, "SMB path '%s' names a share, not a file", esc(path));
	if (write_temp(c, path, bytes, len, &tmp, e) == 0 && read_back(c, path, tmp, bytes, len, e) == 0 &&
	    rename_over(c, tmp, path, e) == 0) {
		free(tmp);
		return 0;
	}
	if (tmp && smb_unlink(c, tmp, &ignored) >= 0) {
		free(tmp);
		tmp = NULL;
	}
	if (staged)
		*staged = tmp;
	else
		free(tmp);
	return -1;
}

int smb_set_nt_acl(struct smb_conn *c, const char *path, const char *text, struct gt_error *e)
{
	char *url;
	int rc, err;

	if (smb_url(c->server, path, &url, e) < 0)
		return -1;
	/* "*" (not "*+"): the SIDs are numeric, and "*+" would look them up as names */
	rc = smbc_getFunctionSetxattr(c->ctx)(c->ctx, url, "system.nt_sec_desc.*", text, strlen(text), 0);
	err = errno;
	free(url);
	return rc == 0 ? 0 : op_error(SMB_WRITING, "set the ACL of", path, err, e);
}
