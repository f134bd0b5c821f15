/* The CONN options; see domain.h. */
#include "run/domain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/sbuf.h"
#include "domain/conn.h"

#define PASSWORD_MAX 1024

/* A password file holds a secret: refused when others may read it or change it, as ssh
 * refuses a private key others can read. The first line is the password. */
static int password_from_file(const char *path, char **out, struct gt_error *e)
{
	/* O_NONBLOCK: a FIFO must not hold the open; it is refused as not a regular file */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char buf[PASSWORD_MAX + 2];
	ssize_t n;

	*out = NULL;
	if (fd < 0)
		return gt_fail(e, gt_path_errno_code(errno), "unable to open --password-file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return gt_fail(e, GT_USAGE, "--password-file '%s' is not a regular file", path);
	}
	if (st.st_mode & 077 || (st.st_uid != geteuid() && st.st_uid != 0)) {
		close(fd);
		return gt_fail(e, GT_REFUSED, "--password-file '%s' may be read or changed by others (mode %04o, owner %u): "
			       "chmod 600 it", path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return gt_fail(e, GT_FAILED, "unable to read --password-file '%s': %s", path, strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) > PASSWORD_MAX || !buf[0]) {
		explicit_bzero(buf, sizeof(buf));
		return gt_fail(e, GT_USAGE, "--password-file '%s' holds no password on its first line", path);
	}
	*out = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* Asked on the terminal, not echoed; never from a pipe on stdin (that is the env or a file). */
static int password_from_prompt(const char *user, char **out, struct gt_error *e)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios old, quiet;
	char buf[PASSWORD_MAX + 2];
	struct sbuf prompt;
	ssize_t n;

	*out = NULL;
	if (fd < 0 || tcgetattr(fd, &old) < 0) {
		if (fd >= 0)
			close(fd);
		return gt_fail(e, GT_USAGE, "a password is needed for '%s' and there is no terminal to ask on: give "
			       "--password-file FILE or GPOTOOL_PASSWORD, or --kerberos", user);
	}
	sbuf_init(&prompt);
	sbuf_addf(&prompt, "password for %s: ", user);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	(void)!write(fd, prompt.buf, prompt.len);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	n = read(fd, buf, sizeof(buf) - 1);
	tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	sbuf_release(&prompt);
	if (n <= 0)
		return gt_fail(e, GT_USAGE, "no password given for '%s'", user);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int get_password(const struct run_conn_args *a, char **out, struct gt_error *e)
{
	const char *env = getenv("GPOTOOL_PASSWORD");

	if (a->password_file)
		return password_from_file(a->password_file, out, e);
	if (env && *env) {
		*out = xstrdup(env);
		unsetenv("GPOTOOL_PASSWORD"); /* not passed on to anything this process starts */
		return 0;
	}
	return password_from_prompt(a->user, out, e);
}

static int check_combination(const struct run_conn_args *a, struct gt_error *e)
{
	if (a->kerberos && a->password_file)
		return gt_fail(e, GT_USAGE, "--kerberos and --password-file: give one way to authenticate");
	if (a->keytab && !a->kerberos)
		return gt_fail(e, GT_USAGE, "--keytab goes with --kerberos");
	if (!a->kerberos && !a->user)
		return gt_fail(e, GT_USAGE, "the domain needs credentials: --user NAME (with --password-file FILE, "
			       "GPOTOOL_PASSWORD or a prompt) or --kerberos [--keytab FILE]");
	if (a->ca_file && access(a->ca_file, R_OK) < 0)
		return gt_fail(e, gt_path_errno_code(errno), "unable to read --ca-file '%s': %s", a->ca_file, strerror(errno));
	return 0;
}

int run_domain_conn(struct gt_ctx *ctx, const struct run_conn_args *a, struct gt_error *e)
{
	struct domain_conn_opts *o;

	if (check_combination(a, e) < 0)
		return -1;
	o = xcalloc(1, sizeof(*o));
	ctx->conn = o;
	o->resolve = xcalloc(a->nresolve ? a->nresolve : 1, sizeof(*o->resolve));
	for (size_t i = 0; i < a->nresolve; i++) {
		if (domain_parse_resolve(a->resolve[i], &o->resolve[i], e) < 0)
			return -1;
		o->nresolve++;
	}
	o->dc = a->dc;
	o->ca_file = a->ca_file;
	o->user = a->user;
	o->kerberos = a->kerberos;
	o->keytab = a->keytab;
	o->allow_plain_ldap = a->allow_plain_ldap;
	o->ldaps = a->ldaps;
	if (!a->kerberos && get_password(a, &ctx->password, e) < 0)
		return -1;
	o->password = ctx->password;
	ctx->env.conn = o;
	return 0;
}

void run_domain_release(struct gt_ctx *ctx)
{
	struct domain_conn_opts *o = ctx->conn;

	if (ctx->password) {
		explicit_bzero(ctx->password, strlen(ctx->password));
		free(ctx->password);
		ctx->password = NULL;
	}
	if (!o)
		return;
	for (size_t i = 0; i < o->nresolve; i++)
		domain_resolve_release(&o->resolve[i]);
	free(o->resolve);
	free(o);
	ctx->conn = NULL;
}
