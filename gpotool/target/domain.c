/* The domain backend: a GPO in a live domain, its files in SYSVOL over SMB and its AD object
 * over LDAP, on one DC (domain/conn.h). The GPO's folder is fetched into a private mirror in
 * the state directory and handed to the GPO backend, so every check of an offline GPO runs on
 * exactly the bytes the DC holds; what that backend would write is then put on the DC as one
 * journaled transaction (deploy below): Registry.xml, then GPT.INI (each a temp file renamed
 * over the old), then the AD object and the OU's gPLink, each a compare-and-swap, then
 * everything read back. The machines it reaches are those of the OUs it is linked to. */
#include "target/backend.h"
#include "target/gpo.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "core/datadir.h"
#include "core/digest.h"
#include "core/fault.h"
#include "core/sbuf.h"
#include "domain/conn.h"
#include "domain/gpc.h"
#include "domain/ldap.h"
#include "domain/sd.h"
#include "domain/smb.h"
#include "gpo/adattrs.h"
#include "gpo/gpp.h"
#include "gpo/gptini.h"
#include "state/statedir.h"

/* A GPO folder is small; one that is not is not fetched whole into the state directory. */
#define MIRROR_MAX_FILES 4096
#define MIRROR_MAX_BYTES (64u * 1024 * 1024)
#define MIRROR_MAX_DEPTH 16
/* A compare-and-swap lost to another writer is re-read and tried again this many times. */
#define CAS_TRIES 5

struct domain_target {
	char *domain;
	char *gpo_name, *gpo_guid, *link_dn;
	int create;
	int user;
	const struct target_setting *setting;
	struct domain_session s;
	int connected;
	struct gpc gpc;
	int have_gpc;
	int create_pending;          /* --create, and there is no such GPO yet */
	int created;                 /* this run made it */
	char *sysvol;                /* the GPO folder on the DC: "SysVol/example.com/Policies/{GUID}" */
	char *mirror_root;           /* STATE/domain-XXXXXX, private */
	char *mirror;                /* mirror_root/{GUID} */
	struct target inner;         /* the GPO backend on the mirror */
	int inner_open;
	struct target_env inner_env;
	struct json_object *inner_result;
	int dry_run;
	char *label;                 /* "GPO 'NAME' {GUID} in example.com" */
	char *link_ou;               /* the OU the setting must reach by a link, or NULL */
	char *journal_id;
	struct domain_conn_opts *conn_copy; /* a rollback's options, with the recorded DC */
	char *undo_hive;             /* --undo-on-clients: the item's hive, which the GPO backend keeps */
};

static struct domain_target *priv(const struct target *t)
{
	return t->priv;
}

static const struct report *rep(const struct target *t)
{
	return &t->env->rep;
}

static const char *side_name(int user)
{
	return user ? "User" : "Machine";
}

static const char *ext_attr(int user)
{
	return user ? "gPCUserExtensionNames" : "gPCMachineExtensionNames";
}

static const char *side_ext(const struct gpc *g, int user)
{
	return user ? g->user_ext : g->machine_ext;
}

static void set_label(struct domain_target *d)
{
	struct sbuf l;

	sbuf_init(&l);
	if (d->have_gpc)
		sbuf_addf(&l, "GPO '%s' %s in %s", d->gpc.display_name ? d->gpc.display_name : "", d->gpc.guid, d->s.domain);
	else
		sbuf_addf(&l, "GPO '%s' in %s", d->gpo_name ? d->gpo_name : d->gpo_guid, d->domain);
	free(d->label);
	d->label = sbuf_detach(&l, NULL);
	sbuf_release(&l);
}

/* ---- the mirror ---- */

static void quiet_emit(void *arg, enum report_kind kind, const char *text)
{
	(void)arg;
	(void)kind;
	(void)text;
}

static int make_mirror(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct sbuf p;

	/* a read (validate, gpo fetch) may be the first use of the state directory: made as the
	 * journal makes it, with the same checks */
	if (statedir_prepare(t->env->state_dir, e) < 0)
		return -1;
	sbuf_init(&p);
	sbuf_addf(&p, "%s/domain-XXXXXX", t->env->state_dir);
	if (!mkdtemp(p.buf)) {
		int err = errno;

		sbuf_release(&p);
		return gt_fail(e, GT_FAILED, "unable to make a private folder in '%s': %s", t->env->state_dir, strerror(err));
	}
	d->mirror_root = sbuf_detach(&p, NULL);
	sbuf_addf(&p, "%s/%s", d->mirror_root, d->have_gpc ? d->gpc.guid : "new");
	d->mirror = sbuf_detach(&p, NULL);
	sbuf_release(&p);
	if (mkdir(d->mirror, 0700) < 0)
		return gt_fail(e, GT_FAILED, "unable to make '%s': %s", d->mirror, strerror(errno));
	return 0;
}

static int write_local(const char *path, const uint8_t *buf, size_t len, struct gt_error *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return gt_fail(e, GT_FAILED, "unable to create '%s': %s", path, strerror(errno));
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = errno;

			close(fd);
			return gt_fail(e, GT_FAILED, "unable to write '%s': %s", path, strerror(err));
		}
		done += (size_t)w;
	}
	return close(fd) < 0 ? gt_fail(e, GT_FAILED, "unable to write '%s': %s", path, strerror(errno)) : 0;
}

struct fetch_budget {
	size_t files;
	size_t bytes;
};

/* A name from the DC becomes one component of a local path: nothing that could climb out. */
static int plain_name(const char *n)
{
	return *n && strcmp(n, ".") != 0 && strcmp(n, "..") != 0 && !strchr(n, '/') && !strchr(n, '\\');
}

/* remote folder -> local folder, recursively, within the budget. */
static int fetch_tree(struct smb_conn *c, const char *remote, const char *local, int depth, struct fetch_budget *b,
		      struct gt_error *e)
{
	struct smb_dirent *ents = NULL;
	size_t n = 0;
	struct sbuf rp, lp;
	int r = smb_list(c, remote, &ents, &n, e), ret = 0;

	if (r <= 0)
		return r < 0 ? -1 : gt_fail(e, GT_REFUSED, "'%s' is not on the DC", remote);
	if (depth > MIRROR_MAX_DEPTH)
		ret = gt_fail(e, GT_REFUSED, "'%s' is nested deeper than %d folders: not a GPO folder gpotool fetches", remote,
			      MIRROR_MAX_DEPTH);
	sbuf_init(&rp);
	sbuf_init(&lp);
	for (size_t i = 0; i < n && ret == 0; i++) {
		sbuf_reset(&rp);
		sbuf_reset(&lp);
		if (!plain_name(ents[i].name)) {
			ret = gt_fail(e, GT_REFUSED, "'%s' holds an entry named '%s': not fetched", remote, ents[i].name);
			break;
		}
		sbuf_addf(&rp, "%s/%s", remote, ents[i].name);
		sbuf_addf(&lp, "%s/%s", local, ents[i].name);
		if (++b->files > MIRROR_MAX_FILES) {
			ret = gt_fail(e, GT_REFUSED, "the GPO folder holds more than %d entries: not fetched", MIRROR_MAX_FILES);
		} else if (ents[i].type == SMB_DIR) {
			if (mkdir(lp.buf, 0700) < 0)
				ret = gt_fail(e, GT_FAILED, "unable to make '%s': %s", lp.buf, strerror(errno));
			else
				ret = fetch_tree(c, rp.buf, lp.buf, depth + 1, b, e);
		} else {
			uint8_t *buf = NULL;
			size_t len = 0;

			r = smb_read_file(c, rp.buf, MIRROR_MAX_BYTES - b->bytes, &buf, &len, e);
			if (r == 1) {
				b->bytes += len;
				ret = write_local(lp.buf, buf, len, e);
			} else if (r < 0) {
				ret = -1;
			} /* 0: gone while listed; fetched as it is now */
			free(buf);
		}
	}
	sbuf_release(&rp);
	sbuf_release(&lp);
	smb_dirents_free(ents, n);
	return ret;
}

/* A GPO's SYSVOL half as GPMC makes it: GPT.INI (Version 0), Machine/, User/. */
static int new_gpo_tree(const char *dir, const char *name, struct gt_error *e)
{
	struct sbuf p, ini;
	int ret;

	sbuf_init(&p);
	sbuf_init(&ini);
	gptini_new(name, &ini);
	sbuf_addf(&p, "%s/GPT.INI", dir);
	ret = write_local(p.buf, (const uint8_t *)ini.buf, ini.len, e);
	for (int i = 0; i < 2 && ret == 0; i++) {
		sbuf_reset(&p);
		sbuf_addf(&p, "%s/%s", dir, i ? "User" : "Machine");
		if (mkdir(p.buf, 0700) < 0)
			ret = gt_fail(e, GT_FAILED, "unable to make '%s': %s", p.buf, strerror(errno));
	}
	sbuf_release(&p);
	sbuf_release(&ini);
	return ret;
}

static void remove_tree(const char *path)
{
	struct sbuf cmdless;
	DIR *dir = opendir(path);
	struct dirent *de;

	if (!dir) {
		unlink(path);
		return;
	}
	sbuf_init(&cmdless);
	while ((de = readdir(dir))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sbuf_reset(&cmdless);
		sbuf_addf(&cmdless, "%s/%s", path, de->d_name);
		if (lstat(cmdless.buf, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(cmdless.buf);
		else
			unlink(cmdless.buf);
	}
	closedir(dir);
	sbuf_release(&cmdless);
	rmdir(path);
}

static void close_inner(struct domain_target *d)
{
	if (d->inner_open)
		target_close(&d->inner);
	d->inner_open = 0;
}

static void drop_mirror(struct domain_target *d)
{
	close_inner(d);
	if (d->mirror_root)
		remove_tree(d->mirror_root);
	free(d->mirror_root);
	free(d->mirror);
	d->mirror_root = d->mirror = NULL;
}

static int open_inner(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct target_request rq = { .what = d->mirror, .user_side = d->user, .setting = d->setting };

	if (!d->inner_result)
		d->inner_result = json_object_new_object();
	d->inner_env = *t->env;
	d->inner_env.rep = (struct report){ .emit = quiet_emit, .result = d->inner_result };
	d->inner_env.judge = NULL;
	d->inner_env.writing = NULL;
	d->inner_env.journaled = NULL;
	d->inner_env.conn = NULL;
	d->inner_open = 1;
	return target_open(&d->inner, &target_gpo_ops, &d->inner_env, &rq, e);
}

/* The GPO's folder from the DC into a fresh mirror, opened by the GPO backend. */
static int refetch(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct fetch_budget b = { 0 };

	drop_mirror(d);
	if (make_mirror(t, e) < 0)
		return -1;
	if (d->have_gpc) {
		if (fetch_tree(d->s.smb, d->sysvol, d->mirror, 0, &b, e) < 0)
			return gt_prefix(e, "%s: fetching its SYSVOL folder from %s: ", d->label, d->s.dc);
	} else if (new_gpo_tree(d->mirror, d->gpo_name, e) < 0) {
		return -1;
	}
	return open_inner(t, e);
}

/* ---- opening ---- */

static int link_ou_of(struct domain_target *d, struct gt_error *e)
{
	struct sbuf ou;

	if (d->link_dn) {
		d->link_ou = xstrdup(d->link_dn);
		return 0;
	}
	if (!d->setting || !d->setting->link)
		return 0;
	sbuf_init(&ou);
	sbuf_addf(&ou, "%s,%s", d->setting->link, d->s.domain_dn);
	d->link_ou = sbuf_detach(&ou, NULL);
	sbuf_release(&ou);
	(void)e;
	return 0;
}

static int locate_gpo(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);

	free(d->sysvol);
	d->sysvol = NULL;
	if (!d->gpc.file_sys_path)
		return gt_fail(e, GT_REFUSED, "%s has no gPCFileSysPath: its SYSVOL half is unknown", d->label);
	return domain_sysvol_path(d->gpc.file_sys_path, &d->sysvol, e);
}

static int check_request(const struct target_request *rq, struct gt_error *e)
{
	const struct target_domain_request *dr = rq->domain;

	if (!dr || !dr->gpo_name == !dr->gpo_guid)
		return gt_fail(e, GT_USAGE, "--domain needs the GPO: --gpo-name NAME or --gpo-guid GUID (one of them)");
	if (dr->create && !dr->gpo_name)
		return gt_fail(e, GT_USAGE, "--create needs --gpo-name: the new GPO's display name");
	return 0;
}

/* --link names an OU that must be there before anything is made or written. */
static int check_link_ou(struct domain_target *d, struct gt_error *e)
{
	char *gplink = NULL;
	int r = gpc_read_gplink(&d->s, d->link_dn, &gplink, e);

	free(gplink);
	return r < 0 ? -1 : 0;
}

static int complete_sysvol(struct target *t, struct gt_error *e);

/* --create again on a GPO whose SYSVOL half a killed run did not finish (its AD object made,
 * versionNumber 0, no GPT.INI): the folder is finished as --create makes it. */
static int finish_half_made(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	enum smb_type type;
	uint64_t size;
	struct sbuf p;
	uint32_t v = 0;
	int r;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/GPT.INI", d->sysvol);
	r = smb_stat(d->s.smb, p.buf, &type, &size, e);
	sbuf_release(&p);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (gpc_version(&d->gpc, &v, e) < 0)
		return -1;
	if (v != 0)
		return gt_fail(e, GT_REFUSED, "%s has no GPT.INI on %s but versionNumber %u: not a GPO gpotool was making; "
			       "look at it with GPMC", d->label, d->s.dc, v);
	report_warn(rep(t), "%s has its AD object but not its SYSVOL folder (a --create was interrupted): finishing it",
		    d->label);
	return complete_sysvol(t, e);
}

static int domain_open(struct target *t, const struct target_request *rq, struct gt_error *e)
{
	struct domain_target *d = xcalloc(1, sizeof(*d));
	int r;

	t->priv = d;
	if (check_request(rq, e) < 0)
		return -1;
	if (!t->env->conn)
		return gt_fail(e, GT_FAILED, "internal error: a domain target without connection options");
	d->domain = xstrdup(rq->what);
	d->gpo_name = rq->domain->gpo_name ? xstrdup(rq->domain->gpo_name) : NULL;
	d->gpo_guid = rq->domain->gpo_guid ? xstrdup(rq->domain->gpo_guid) : NULL;
	d->link_dn = rq->domain->link_dn ? xstrdup(rq->domain->link_dn) : NULL;
	d->create = rq->domain->create;
	d->user = rq->user_side;
	d->setting = rq->setting;
	set_label(d);
	d->connected = 1; /* a half-made session is released by domain_session_close too */
	if (domain_connect(d->domain, t->env->conn, t->env->state_dir, &d->s, e) < 0)
		return -1;
	report_text(rep(t), "dc: %s, found by %s; LDAP %s as %s\n", d->s.dc, d->s.found_by, dir_security(d->s.ldap),
		    d->s.bound_as && *d->s.bound_as ? d->s.bound_as : t->env->conn->user ? t->env->conn->user : "(Kerberos ticket)");
	link_ou_of(d, e);
	r = gpc_find(&d->s, d->gpo_name, d->gpo_guid, &d->gpc, e);
	if (r < 0)
		return -1;
	if (r == 0 && !d->create)
		return gt_fail(e, GT_NO_SUCH_PATH, "there is no %s (asked DC %s)%s", d->label, d->s.dc,
			       d->gpo_name ? ": --create makes it" : "");
	d->have_gpc = r == 1;
	d->create_pending = r == 0;
	set_label(d);
	if (d->link_dn && check_link_ou(d, e) < 0)
		return -1;
	if (d->have_gpc && (locate_gpo(t, e) < 0 || (d->create && finish_half_made(t, e) < 0)))
		return -1;
	return refetch(t, e);
}

static void domain_close(struct target *t)
{
	struct domain_target *d = priv(t);

	if (!d)
		return;
	drop_mirror(d);
	json_object_put(d->inner_result);
	gpc_release(&d->gpc);
	if (d->connected)
		domain_session_close(&d->s);
	free(d->domain);
	free(d->gpo_name);
	free(d->gpo_guid);
	free(d->link_dn);
	free(d->sysvol);
	free(d->label);
	free(d->link_ou);
	free(d->journal_id);
	free(d->conn_copy);
	free(d->undo_hive);
	free(d);
}

static const char *domain_path(const struct target *t)
{
	return priv(t)->label;
}

static const char *domain_locate(struct target *t, const char *key)
{
	(void)key;
	return priv(t)->label;
}

/* ---- making a GPO (--create) ---- */

/* The SYSVOL half of a GPO whose AD object exists: its folder with the ACL its AD object
 * implies (as GPMC and samba-tool set it, so that sysvolcheck agrees), Machine/, User/ and
 * GPT.INI. What is there already is kept: a run killed half-way is finished by the next. */
static int complete_sysvol(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct sbuf p, acl, ini;
	struct sd sd = { 0 };
	uint8_t *old = NULL;
	size_t old_len = 0;
	int r, ret = 0;

	sbuf_init(&p);
	sbuf_init(&acl);
	sbuf_init(&ini);
	r = smb_mkdir(d->s.smb, d->sysvol, e);
	if (r == 1) {
		if (!d->gpc.sd)
			ret = gt_fail(e, GT_REFUSED, "%s: its security descriptor is not readable, so its SYSVOL folder's ACL is unknown",
				      d->label);
		else if (sd_parse(d->gpc.sd, d->gpc.sd_len, &sd, e) < 0 || sd_to_sysvol_acl_text(&sd, &acl, e) < 0 ||
			 smb_set_nt_acl(d->s.smb, d->sysvol, acl.buf, e) < 0)
			ret = -1;
	} else if (r < 0) {
		ret = -1;
	}
	for (int i = 0; i < 2 && ret == 0; i++) {
		sbuf_reset(&p);
		sbuf_addf(&p, "%s/%s", d->sysvol, i ? "User" : "Machine");
		ret = smb_mkdir(d->s.smb, p.buf, e) < 0 ? -1 : 0;
	}
	if (ret == 0) {
		sbuf_reset(&p);
		sbuf_addf(&p, "%s/GPT.INI", d->sysvol);
		r = smb_read_file(d->s.smb, p.buf, GPTINI_MAX_BYTES, &old, &old_len, e);
		gptini_new(d->gpc.display_name ? d->gpc.display_name : d->gpo_name, &ini);
		if (r == 0)
			ret = smb_replace_file(d->s.smb, p.buf, (const uint8_t *)ini.buf, ini.len, NULL, e);
		else if (r < 0)
			ret = -1;
	}
	free(old);
	sd_release(&sd);
	sbuf_release(&p);
	sbuf_release(&acl);
	sbuf_release(&ini);
	return ret < 0 ? gt_prefix(e, "%s: making its SYSVOL folder on %s: ", d->label, d->s.dc) : 0;
}

static int create_gpo(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);

	if (gpc_create(&d->s, d->gpo_name, &d->gpc, e) < 0)
		return -1;
	d->have_gpc = 1;
	d->created = 1;
	d->create_pending = 0;
	set_label(d);
	if (locate_gpo(t, e) < 0 || complete_sysvol(t, e) < 0)
		return -1;
	report_text(rep(t), "created: %s (its AD object with Machine and User, its SYSVOL folder with GPT.INI, as GPMC makes them)\n",
		    d->label);
	report_field(rep(t), "created_gpo", json_object_new_string(d->gpc.guid));
	return refetch(t, e);
}

/* ---- versions, extension names, links ---- */

static uint32_t half_of(uint32_t v, int user)
{
	return user ? v >> 16 : v & 0xFFFF;
}

/* [MS-GPOL] 2.2.4: user half << 16 | machine half. Each half is the larger of AD's and
 * GPT.INI's, so that neither is ever lowered, and the changed half one more (a half that
 * would wrap goes to 1: 0 means "never changed" to a client). */
static uint32_t next_version(uint32_t ad, uint32_t gpt, int user)
{
	uint32_t m = half_of(ad, 0) > half_of(gpt, 0) ? half_of(ad, 0) : half_of(gpt, 0);
	uint32_t u = half_of(ad, 1) > half_of(gpt, 1) ? half_of(ad, 1) : half_of(gpt, 1);

	if (user)
		u = u >= 0xFFFF ? 1 : u + 1;
	else
		m = m >= 0xFFFF ? 1 : m + 1;
	return u << 16 | m;
}

/* AD keeps versionNumber as a signed 32-bit integer. */
static char *version_text(uint32_t v)
{
	struct sbuf s;

	sbuf_init(&s);
	sbuf_addf(&s, "%d", (int32_t)v);
	return sbuf_detach(&s, NULL);
}

static int streq_or_both_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The extension names of one side after the change: the GPP Registry pair added (+1), taken
 * out (-1), or as they are. NULL: the attribute has no value. */
static int ext_after(const char *cur, int how, char **out, struct gt_error *e)
{
	struct sbuf s;
	int changed = 0;

	*out = NULL;
	sbuf_init(&s);
	if (how > 0) {
		if (extnames_merge(cur ? cur : "", GPP_REGISTRY_CSE, GPP_REGISTRY_TOOL, &s, &changed, e) < 0) {
			sbuf_release(&s);
			return gt_prefix(e, "the GPO's extension names: ");
		}
	} else if (how < 0) {
		extnames_without(cur ? cur : "", GPP_REGISTRY_CSE, GPP_REGISTRY_TOOL, &s);
		changed = !streq_or_both_null(s.len ? s.buf : NULL, cur);
	}
	if (changed && s.len)
		*out = sbuf_detach(&s, NULL);
	else if (!changed && cur)
		*out = xstrdup(cur);
	sbuf_release(&s);
	return 0;
}

/* The OU's gPLink after linking the GPO (+1, at the lowest precedence: first, where a new
 * link goes) or removing its link (-1); every other link and its options exactly as they are. */
static char *gplink_after(const char *cur, const char *gpo_dn, int how, int *changed)
{
	struct gplink_entry *v = NULL;
	size_t n = 0;
	struct gt_error ignored = { 0 };
	struct sbuf s;
	int linked;

	*changed = 0;
	if (cur && !cur[strspn(cur, " ")])
		cur = NULL; /* only blanks: no link (GPMC leaves " " behind) */
	if (gplink_parse(cur, &v, &n, &ignored) < 0)
		return cur ? xstrdup(cur) : NULL; /* refused earlier; kept */
	linked = gplink_find(v, n, gpo_dn) != NULL;
	gplink_entries_free(v, n);
	sbuf_init(&s);
	if (how > 0 && !linked) {
		sbuf_addf(&s, "[LDAP://%s;0]%s", gpo_dn, cur ? cur : "");
		*changed = 1;
	} else if (how < 0 && linked) {
		gplink_without(cur, gpo_dn, &s);
		*changed = 1;
	} else if (cur) {
		sbuf_addstr(&s, cur);
	}
	if (!s.len) {
		sbuf_release(&s);
		return NULL;
	}
	return sbuf_detach(&s, NULL);
}

/* ---- the deploy: one transaction on the DC ---- */

struct deploy {
	/* what to put in place */
	const uint8_t *reg;            /* the side's Registry.xml, or NULL with reg_remove */
	size_t reg_len;
	int reg_remove;
	const uint8_t *reg_before;
	size_t reg_before_len;
	int reg_existed;
	char *reg_rel;                 /* below the GPO folder */
	struct gptini *gpt;            /* GPT.INI as read */
	const uint8_t *gpt_before;
	size_t gpt_before_len;
	int link_only;                 /* the files and the AD object stay as they are: only a link */
	int ext;                       /* +1 add the GPP Registry pair, -1 take it out, 0 leave */
	int link;                      /* +1 link link_ou, -1 remove the GPO's link from link_ou, 0 leave */
	const char *link_ou;
	const struct plan *plan;
	const char *rollback_of;
	/* what it comes to */
	uint32_t gpt_version_before, ad_version_before, version;
	struct sbuf gpt_bytes;
	struct sbuf gpt_written;       /* the GPT.INI this write put on the DC */
	char *version_before_text, *version_after_text;
	char *ext_before, *ext_after_text;
	char *gplink_before, *gplink_after_text;
	int link_changed, link_created;
	char **made_dirs;              /* folders made for Registry.xml (SMB paths) */
	size_t nmade;
	struct journal_entry *j;
	int written;                   /* something on the DC changed */
};

static void deploy_release(struct deploy *dp)
{
	sbuf_release(&dp->gpt_bytes);
	sbuf_release(&dp->gpt_written);
	free(dp->reg_rel);
	free(dp->version_before_text);
	free(dp->version_after_text);
	free(dp->ext_before);
	free(dp->ext_after_text);
	free(dp->gplink_before);
	free(dp->gplink_after_text);
	for (size_t i = 0; i < dp->nmade; i++)
		free(dp->made_dirs[i]);
	free(dp->made_dirs);
	journal_free(dp->j);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void smb_path_of(const struct domain_target *d, const char *rel, struct sbuf *out)
{
	sbuf_addf(out, "%s/%s", d->sysvol, rel);
}

/* The journal's name for a file on the DC. */
static void remote_name(const struct domain_target *d, const char *rel, struct sbuf *out)
{
	sbuf_addf(out, "smb://%s/%s/%s", d->s.dc, d->sysvol, rel);
}

/* From what the DC holds now: the versions, the extension names and the gPLink after. */
static int compute(struct target *t, struct deploy *dp, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	uint32_t ad;

	if (gpc_version(&d->gpc, &ad, e) < 0)
		return -1;
	dp->ad_version_before = ad;
	dp->gpt_version_before = dp->gpt->version;
	dp->version = dp->link_only ? dp->gpt->version : next_version(ad, dp->gpt->version, d->user);
	free(dp->version_before_text);
	free(dp->version_after_text);
	dp->version_before_text = dup_or_null(d->gpc.version);
	dp->version_after_text = dp->link_only ? dup_or_null(d->gpc.version) : version_text(dp->version);
	sbuf_reset(&dp->gpt_bytes);
	if (dp->link_only)
		sbuf_add(&dp->gpt_bytes, dp->gpt_before, dp->gpt_before_len);
	else
		gptini_render(dp->gpt, dp->version, &dp->gpt_bytes);
	free(dp->ext_before);
	free(dp->ext_after_text);
	dp->ext_before = dup_or_null(side_ext(&d->gpc, d->user));
	if (ext_after(dp->ext_before, dp->link_only ? 0 : dp->ext, &dp->ext_after_text, e) < 0)
		return -1;
	if (dp->link && dp->link_ou) {
		struct gplink_entry *v = NULL;
		size_t n = 0;

		free(dp->gplink_before);
		free(dp->gplink_after_text);
		dp->gplink_before = NULL;
		if (gpc_read_gplink(&d->s, dp->link_ou, &dp->gplink_before, e) < 0 ||
		    gplink_parse(dp->gplink_before, &v, &n, e) < 0)
			return gt_prefix(e, "'%s': ", dp->link_ou);
		gplink_entries_free(v, n);
		dp->gplink_after_text = gplink_after(dp->gplink_before, d->gpc.dn, dp->link, &dp->link_changed);
	}
	return 0;
}

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *before_after(const char *before, const char *after)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "before", jstr_or_null(before));
	json_object_object_add(o, "after", jstr_or_null(after));
	return o;
}

/* What the entry records besides the files: where, which GPO, and each AD value before and
 * after, exactly as read and written. */
static struct json_object *deploy_extra(const struct domain_target *d, const struct deploy *dp)
{
	struct json_object *x = json_object_new_object(), *gpo = json_object_new_object(), *attrs = json_object_new_object();

	json_object_object_add(x, "domain", json_object_new_string(d->s.domain));
	json_object_object_add(x, "dc", json_object_new_string(d->s.dc));
	json_object_object_add(x, "dc_found_by", jstr_or_null(d->s.found_by));
	json_object_object_add(x, "bound_as", jstr_or_null(d->s.bound_as));
	json_object_object_add(gpo, "dn", json_object_new_string(d->gpc.dn));
	json_object_object_add(gpo, "guid", json_object_new_string(d->gpc.guid));
	json_object_object_add(gpo, "name", jstr_or_null(d->gpc.display_name));
	json_object_object_add(gpo, "sysvol", json_object_new_string(d->sysvol));
	json_object_object_add(gpo, "created", json_object_new_boolean(d->created));
	json_object_object_add(x, "gpo", gpo);
	json_object_object_add(x, "side", json_object_new_string(side_name(d->user)));
	json_object_object_add(x, "registry_xml", json_object_new_string(dp->reg_rel));
	json_object_object_add(attrs, "versionNumber", before_after(dp->version_before_text, dp->version_after_text));
	json_object_object_add(attrs, ext_attr(d->user), before_after(dp->ext_before, dp->ext_after_text));
	json_object_object_add(x, "attributes", attrs);
	if (dp->link && dp->link_ou) {
		struct json_object *l = before_after(dp->gplink_before, dp->gplink_after_text);

		json_object_object_add(l, "ou", json_object_new_string(dp->link_ou));
		json_object_object_add(l, "created", json_object_new_boolean(dp->link > 0 && dp->link_changed));
		json_object_object_add(l, "removed", json_object_new_boolean(dp->link < 0 && dp->link_changed));
		json_object_object_add(x, "link", l);
	}
	return x;
}

static int begin_entry(struct target *t, struct deploy *dp, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct journal_meta meta;
	struct journal_target jt[2];
	struct sbuf n0, n1;
	char after[2][SHA256_HEX_LEN + 1];
	struct json_object *extra = deploy_extra(d, dp);
	int ret;

	sbuf_init(&n0);
	sbuf_init(&n1);
	remote_name(d, dp->reg_rel, &n0);
	remote_name(d, "GPT.INI", &n1);
	if (dp->reg_remove)
		after[0][0] = '\0';
	else
		sha256_hex(dp->reg, dp->reg_len, after[0]);
	sha256_hex((const uint8_t *)dp->gpt_bytes.buf, dp->gpt_bytes.len, after[1]);
	jt[0] = (struct journal_target){ .path = n0.buf, .remote = 1, .existed = dp->reg_existed, .kind = "sysvol-registry-xml",
		.detail = side_name(d->user), .key_prefix = "", .before = dp->reg_before, .before_len = dp->reg_before_len,
		.plan = dp->plan, .after_sha256 = after[0], .after = dp->reg_remove ? NULL : dp->reg, .after_len = dp->reg_len };
	jt[1] = (struct journal_target){ .path = n1.buf, .remote = 1, .existed = 1, .kind = "sysvol-gpt-ini", .detail = d->gpc.guid,
		.key_prefix = "", .before = dp->gpt_before, .before_len = dp->gpt_before_len, .after_sha256 = after[1],
		.after = (const uint8_t *)dp->gpt_bytes.buf, .after_len = dp->gpt_bytes.len };
	target_journal_meta(t, &meta);
	meta.target_kind = "domain-gpo";
	meta.target_path = d->label;
	meta.side = side_name(d->user);
	meta.remote = 1;
	meta.extra = extra;
	if (dp->rollback_of)
		meta.rollback_of = dp->rollback_of;
	ret = journal_begin(t->env->state_dir, &meta, jt, 2, &dp->j, e);
	json_object_put(extra);
	sbuf_release(&n0);
	sbuf_release(&n1);
	return ret;
}

/* The folders on the way to rel below the GPO folder, made when missing; each made one is
 * appended to made (when not NULL), outermost first, for a rollback to take out again. */
static int make_dirs_for(struct domain_target *d, const char *rel, char ***made, size_t *nmade, struct gt_error *e)
{
	struct sbuf p;
	const char *at = rel, *slash;
	int ret = 0;

	sbuf_init(&p);
	while (ret == 0 && (slash = strchr(at, '/'))) {
		int r;

		sbuf_reset(&p);
		smb_path_of(d, "", &p);
		sbuf_add(&p, rel, (size_t)(slash - rel));
		r = smb_mkdir(d->s.smb, p.buf, e);
		if (r < 0) {
			ret = -1;
		} else if (r == 1 && made) {
			*made = xrealloc(*made, (*nmade + 1) * sizeof(**made));
			(*made)[(*nmade)++] = xstrdup(p.buf);
		}
		at = slash + 1;
	}
	sbuf_release(&p);
	return ret;
}

static int make_reg_dirs(struct domain_target *d, struct deploy *dp, struct gt_error *e)
{
	return make_dirs_for(d, dp->reg_rel, &dp->made_dirs, &dp->nmade, e);
}

static int put_gptini(struct domain_target *d, const struct sbuf *bytes, struct gt_error *e)
{
	struct sbuf p;
	int ret;

	sbuf_init(&p);
	smb_path_of(d, "GPT.INI", &p);
	ret = smb_replace_file(d->s.smb, p.buf, (const uint8_t *)bytes->buf, bytes->len, NULL, e);
	sbuf_release(&p);
	return ret;
}

/* The hash of a file on the DC now ("" when absent): 0, or -1 on error. */
static int remote_sha(struct domain_target *d, const char *rel, char out[SHA256_HEX_LEN + 1], struct gt_error *e)
{
	struct sbuf p;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	out[0] = '\0';
	sbuf_init(&p);
	smb_path_of(d, rel, &p);
	r = smb_read_file(d->s.smb, p.buf, MIRROR_MAX_BYTES, &buf, &len, e);
	if (r == 1)
		sha256_hex(buf, len, out);
	free(buf);
	sbuf_release(&p);
	return r < 0 ? -1 : 0;
}

static int same_as(const char *now, const uint8_t *bytes, size_t len, int exists)
{
	char want[SHA256_HEX_LEN + 1] = "";

	if (exists)
		sha256_hex(bytes, len, want);
	return strcmp(now, want) == 0;
}

/* The SYSVOL files are not under AD's compare-and-swap: just before they are written, they
 * must still be what was read (another admin's GPMC edit or gpotool run in between would
 * otherwise be lost). GT_REFUSED, nothing written, when they are not. */
static int files_unchanged_since_read(struct domain_target *d, struct deploy *dp, struct gt_error *e)
{
	char reg[SHA256_HEX_LEN + 1], gpt[SHA256_HEX_LEN + 1];

	if (remote_sha(d, dp->reg_rel, reg, e) < 0 || remote_sha(d, "GPT.INI", gpt, e) < 0)
		return -1;
	if (!same_as(reg, dp->reg_before, dp->reg_before_len, dp->reg_existed) ||
	    !same_as(gpt, dp->gpt_before, dp->gpt_before_len, 1))
		return gt_fail(e, GT_REFUSED, "another writer changed %s's files on %s since gpotool read them: nothing "
			       "overwritten; run again to work from what it holds now", d->label, d->s.dc);
	return 0;
}

/* After a lost compare-and-swap: the files must still be the ones this write put there. */
static int files_still_ours(struct domain_target *d, struct deploy *dp, struct gt_error *e)
{
	char reg[SHA256_HEX_LEN + 1], gpt[SHA256_HEX_LEN + 1];

	if (remote_sha(d, dp->reg_rel, reg, e) < 0 || remote_sha(d, "GPT.INI", gpt, e) < 0)
		return -1;
	if (!same_as(reg, dp->reg, dp->reg_len, !dp->reg_remove) ||
	    !same_as(gpt, (const uint8_t *)dp->gpt_written.buf, dp->gpt_written.len, 1))
		return gt_fail(e, GT_REFUSED, "another writer changed %s's files on %s while this write was under way: "
			       "not overwritten", d->label, d->s.dc);
	return 0;
}

/* Registry.xml, then GPT.INI: until GPT.INI's version rises, clients do not read the new
 * Registry.xml. */
static int write_files(struct domain_target *d, struct deploy *dp, struct gt_error *e)
{
	struct sbuf p;
	int ret = 0;

	if (files_unchanged_since_read(d, dp, e) < 0)
		return -1;
	sbuf_init(&p);
	smb_path_of(d, dp->reg_rel, &p);
	if (dp->reg_remove)
		ret = smb_unlink(d->s.smb, p.buf, e) < 0 ? -1 : 0;
	else if (make_reg_dirs(d, dp, e) < 0 || smb_replace_file(d->s.smb, p.buf, dp->reg, dp->reg_len, NULL, e) < 0)
		ret = -1;
	sbuf_release(&p);
	if (ret < 0)
		return -1;
	dp->written = 1;
	fault_point(FAULT_DOMAIN_REGISTRY_WRITTEN);
	if (put_gptini(d, &dp->gpt_bytes, e) < 0)
		return -1;
	sbuf_reset(&dp->gpt_written);
	sbuf_add(&dp->gpt_written, dp->gpt_bytes.buf, dp->gpt_bytes.len);
	fault_point(FAULT_DOMAIN_FILES_WRITTEN);
	return 0;
}

/* Another writer changed the GPO's AD object since it was read: read it again and work out
 * the change anew; a version that moves moves GPT.INI with it (journaled first). */
static int rebase_gpc(struct target *t, struct deploy *dp, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	uint32_t old_version = dp->version;
	struct json_object *extra;
	int ret;

	if (gpc_reload(&d->s, &d->gpc, e) < 0 || compute(t, dp, e) < 0)
		return -1;
	extra = deploy_extra(d, dp);
	/* the new GPT.INI and the AD values it goes with, in one save of the entry */
	ret = dp->version != old_version
		? journal_update_after(dp->j, 1, (const uint8_t *)dp->gpt_bytes.buf, dp->gpt_bytes.len, extra, e)
		: journal_update_extra(dp->j, extra, e);
	json_object_put(extra);
	if (ret == 0 && dp->version != old_version && files_still_ours(d, dp, e) < 0)
		ret = -1;
	if (ret == 0 && dp->version != old_version)
		ret = put_gptini(d, &dp->gpt_bytes, e);
	if (ret == 0)
		report_warn(rep(t), "%s changed in AD since it was read (another writer): read again; versionNumber now %s -> %s",
			    d->label, dp->version_before_text ? dp->version_before_text : "(none)", dp->version_after_text);
	return ret;
}

/* versionNumber and the side's extension names, in one modify, as compare-and-swap. */
static int write_gpc(struct target *t, struct deploy *dp, struct gt_error *e)
{
	struct domain_target *d = priv(t);

	for (int tries = 0; tries < CAS_TRIES; tries++) {
		struct dir_mod mods[4];
		struct dir_value vals[4];
		size_t n = 0;
		int r;

		gpc_cas(mods, &n, vals, "versionNumber", dp->version_before_text, dp->version_after_text);
		if (!streq_or_both_null(dp->ext_before, dp->ext_after_text))
			gpc_cas(mods, &n, vals + 2, ext_attr(d->user), dp->ext_before, dp->ext_after_text);
		if (tries == 0) /* the first read only: a test changes the values under it once */
			fault_point(FAULT_DOMAIN_CAS_READ);
		r = dir_modify(d->s.ldap, d->gpc.dn, mods, n, e);
		if (r <= 0)
			return r;
		if (rebase_gpc(t, dp, e) < 0)
			return -1;
	}
	return gt_fail(e, GT_FAILED, "%s kept changing in AD under this write (%d tries): another writer is at work; "
		       "nothing of it was overwritten", d->label, CAS_TRIES);
}

static int rebase_link(struct target *t, struct deploy *dp, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct json_object *extra;
	int ret;

	if (compute(t, dp, e) < 0)
		return -1;
	extra = deploy_extra(d, dp);
	ret = journal_update_extra(dp->j, extra, e);
	json_object_put(extra);
	if (ret == 0)
		report_warn(rep(t), "the gPLink of '%s' changed since it was read (another writer): read again, its links kept",
			    dp->link_ou);
	return ret;
}

static int write_link(struct target *t, struct deploy *dp, struct gt_error *e)
{
	struct domain_target *d = priv(t);

	for (int tries = 0; tries < CAS_TRIES; tries++) {
		struct dir_mod mods[2];
		struct dir_value vals[2];
		size_t n = 0;
		int r;

		if (!dp->link || !dp->link_ou || !dp->link_changed)
			return 0;
		gpc_cas(mods, &n, vals, "gPLink", dp->gplink_before, dp->gplink_after_text);
		r = dir_modify(d->s.ldap, dp->link_ou, mods, n, e);
		if (r <= 0) {
			dp->link_created = r == 0 && dp->link > 0;
			return r;
		}
		if (rebase_link(t, dp, e) < 0)
			return -1;
	}
	return gt_fail(e, GT_FAILED, "the gPLink of '%s' kept changing under this write (%d tries): another writer is at work; "
		       "nothing of it was overwritten", dp->link_ou, CAS_TRIES);
}

/* Read back from the DC: the files' bytes, the attributes as written, the link. */
static int verify_on_dc(struct target *t, struct deploy *dp, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct sbuf p;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r, ret = 0;

	sbuf_init(&p);
	smb_path_of(d, dp->reg_rel, &p);
	r = smb_read_file(d->s.smb, p.buf, MIRROR_MAX_BYTES, &buf, &len, e);
	if (r < 0)
		ret = -1;
	else if (dp->reg_remove ? r != 0 : r != 1 || len != dp->reg_len || memcmp(buf, dp->reg, len) != 0)
		ret = gt_fail(e, GT_FAILED, "verification failed: %s on %s is not what was written", dp->reg_rel, d->s.dc);
	free(buf);
	buf = NULL;
	sbuf_reset(&p);
	smb_path_of(d, "GPT.INI", &p);
	if (ret == 0) {
		r = smb_read_file(d->s.smb, p.buf, GPTINI_MAX_BYTES, &buf, &len, e);
		if (r < 0)
			ret = -1;
		else if (r != 1 || len != dp->gpt_bytes.len || memcmp(buf, dp->gpt_bytes.buf, len) != 0)
			ret = gt_fail(e, GT_FAILED, "verification failed: GPT.INI on %s is not what was written", d->s.dc);
	}
	free(buf);
	sbuf_release(&p);
	if (ret == 0 && gpc_reload(&d->s, &d->gpc, e) < 0)
		ret = -1;
	if (ret == 0 && (!streq_or_both_null(d->gpc.version, dp->version_after_text) ||
			 !streq_or_both_null(side_ext(&d->gpc, d->user), dp->ext_after_text)))
		ret = gt_fail(e, GT_FAILED, "verification failed: %s's versionNumber or %s in AD is not what was written", d->label,
			      ext_attr(d->user));
	if (ret == 0 && dp->link && dp->link_ou && dp->link_changed) {
		char *now = NULL;

		if (gpc_read_gplink(&d->s, dp->link_ou, &now, e) < 0)
			ret = -1;
		else if (!streq_or_both_null(now, dp->gplink_after_text))
			ret = gt_fail(e, GT_FAILED, "verification failed: the gPLink of '%s' is not what was written", dp->link_ou);
		free(now);
	}
	return ret;
}

/* The AD write failed after the files were written: put them back, so the GPO is whole
 * again (its versions as AD still has them). 1 put back. */
static int put_files_back(struct domain_target *d, struct deploy *dp)
{
	struct gt_error ignored = { 0 };
	struct sbuf p, g;
	int ok;

	if (files_still_ours(d, dp, &ignored) < 0)
		return 0; /* not ours to put back: the entry stays pending and says so */
	sbuf_init(&p);
	sbuf_init(&g);
	smb_path_of(d, dp->reg_rel, &p);
	ok = (dp->reg_existed ? smb_replace_file(d->s.smb, p.buf, dp->reg_before, dp->reg_before_len, NULL, &ignored)
			      : smb_unlink(d->s.smb, p.buf, &ignored) < 0 ? -1 : 0) == 0;
	sbuf_add(&g, dp->gpt_before, dp->gpt_before_len);
	ok = ok && put_gptini(d, &g, &ignored) == 0;
	for (size_t i = dp->nmade; ok && i-- > 0;)
		smb_rmdir(d->s.smb, dp->made_dirs[i], &ignored);
	sbuf_release(&p);
	sbuf_release(&g);
	return ok;
}

static int fail_after_write(struct target *t, struct deploy *dp, struct gt_error *e)
{
	struct domain_target *d = priv(t);

	if (!dp->written) {
		journal_abandon(dp->j, e->msg);
		return gt_prefix(e, "%s left unchanged: ", d->label);
	}
	if (put_files_back(d, dp)) {
		journal_abandon(dp->j, e->msg);
		return gt_prefix(e, "%s left unchanged (its files put back on %s): ", d->label, d->s.dc);
	}
	return gt_prefix(e, "%s is half-changed on %s; journal entry %s stays pending and the next gpotool run on this GPO "
			 "finishes it (or 'gpotool journal abandon %s'): ", d->label, d->s.dc, journal_id(dp->j), journal_id(dp->j));
}

static int deploy_run(struct target *t, struct deploy *dp, struct gt_error *e)
{
	if (compute(t, dp, e) < 0 || begin_entry(t, dp, e) < 0)
		return -1;
	fault_point(FAULT_DOMAIN_JOURNALED);
	if (!dp->link_only && (write_files(priv(t), dp, e) < 0 || write_gpc(t, dp, e) < 0))
		return fail_after_write(t, dp, e);
	fault_point(FAULT_DOMAIN_GPC_WRITTEN);
	if (write_link(t, dp, e) < 0)
		return gt_prefix(e, "the GPO's files and AD object are written, its link is not; journal entry %s stays "
				 "pending: the next run on this GPO finishes it ('gpotool journal abandon %s' to leave it so): ",
				 journal_id(dp->j), journal_id(dp->j));
	fault_point(FAULT_DOMAIN_LINK_WRITTEN);
	if (verify_on_dc(t, dp, e) < 0)
		return gt_prefix(e, "journal entry %s stays pending: ", journal_id(dp->j));
	free(priv(t)->journal_id);
	priv(t)->journal_id = xstrdup(journal_id(dp->j));
	if (journal_complete(dp->j, e) < 0)
		return gt_prefix(e, "the change is in place but its journal entry %s cannot be marked complete: ", journal_id(dp->j));
	return 0;
}

/* ---- will the DCs apply it ---- */

/* A DC's token, as far as a GPO's security filtering sees it. */
static void dc_token(const struct domain_target *d, const char **token, char *dcs, size_t dcs_len)
{
	token[0] = "S-1-1-0";  /* Everyone */
	token[1] = "S-1-5-11"; /* Authenticated Users */
	token[2] = "S-1-5-9";  /* Enterprise Domain Controllers */
	token[3] = dcs;        /* DOMAIN\Domain Controllers: only for a GPO linked to their OU */
	snprintf(dcs, dcs_len, "%s-516", d->s.domain_sid ? d->s.domain_sid : "S-1-5-21-0-0-0");
}

/* Each reason the machines of the setting's OU would not apply the GPO, as a line in why:
 * no link or a disabled one, the side disabled in flags, security filtering. 1 all well. */
static int will_apply(struct target *t, struct sbuf *why, struct json_object *out, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	uint32_t flags = gpc_flags(&d->gpc);
	const char *token[4];
	char dcs[200];
	struct sd sd = { 0 };
	struct sbuf sdwhy;
	int ok = 1;
	/* a DC's token holds the DC groups; another OU's computers are known only as authenticated */
	int for_dcs = !d->link_ou || strncasecmp(d->link_ou, "OU=Domain Controllers,", 22) == 0;

	if (d->link_ou) {
		char *gplink = NULL;
		struct gplink_entry *v = NULL;
		size_t n = 0;
		const struct gplink_entry *mine;

		if (gpc_read_gplink(&d->s, d->link_ou, &gplink, e) < 0 || gplink_parse(gplink, &v, &n, e) < 0) {
			free(gplink);
			return -1;
		}
		mine = gplink_find(v, n, d->gpc.dn);
		if (!mine)
			sbuf_addf(why, "not linked to '%s': its machines do not apply it (give --link '%s')\n", d->link_ou, d->link_ou), ok = 0;
		else if (mine->options & 1)
			sbuf_addf(why, "its link on '%s' is disabled (gPLink options %u)\n", d->link_ou, mine->options), ok = 0;
		json_object_object_add(out, "linked", json_object_new_boolean(mine && !(mine->options & 1)));
		json_object_object_add(out, "link_ou", json_object_new_string(d->link_ou));
		gplink_entries_free(v, n);
		free(gplink);
	}
	if (flags & (d->user ? 1u : 2u))
		sbuf_addf(why, "its %s settings are disabled (flags %u)\n", d->user ? "user" : "computer", flags), ok = 0;
	sbuf_init(&sdwhy);
	dc_token(d, token, dcs, sizeof(dcs));
	if (!d->gpc.sd) {
		sbuf_addf(why, "its security descriptor is not readable: who may apply it is unknown\n");
		ok = 0;
	} else if (sd_parse(d->gpc.sd, d->gpc.sd_len, &sd, e) < 0) {
		sbuf_release(&sdwhy);
		return -1;
	} else if (!sd_grants_apply(&sd, token, for_dcs ? 4 : 2, &sdwhy)) {
		sbuf_addf(why, "security filtering: %s may not apply it (%s)\n",
			  for_dcs ? "Domain Controllers" : "Authenticated Users (its computers)", sdwhy.buf);
		ok = 0;
	}
	json_object_object_add(out, "applies", json_object_new_boolean(ok));
	sd_release(&sd);
	sbuf_release(&sdwhy);
	return ok;
}

static void report_apply(struct target *t, int ok, const struct sbuf *why)
{
	struct domain_target *d = priv(t);

	if (ok) {
		report_text(rep(t), "applies: %s%s%s, its %s settings enabled, Domain Controllers may read and apply it\n",
			    d->link_ou ? "linked to " : "", d->link_ou ? d->link_ou : "no link checked",
			    d->link_ou ? " (enabled)" : "", d->user ? "user" : "computer");
		return;
	}
	for (const char *p = why->buf; p && *p;) {
		size_t n = strcspn(p, "\n");

		report_warn(rep(t), "%s: %.*s", d->label, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* ---- recovery: a deploy killed mid-way is finished by the next run ---- */

/* The only files a domain entry writes: a side's Registry.xml (any case, as SYSVOL spells it). */
static int recorded_reg_path_ok(const char *rel)
{
	return rel && (strcasecmp(rel, "Machine/Preferences/Registry/Registry.xml") == 0 ||
		       strcasecmp(rel, "User/Preferences/Registry/Registry.xml") == 0);
}

/* An OU from a journal entry is only written when it is in the session's domain. */
static int ou_in_domain(const struct domain_target *d, const char *ou)
{
	size_t n = ou ? strlen(ou) : 0, m = strlen(d->s.domain_dn);

	return n > m + 1 && ou[n - m - 1] == ',' && strcasecmp(ou + n - m, d->s.domain_dn) == 0;
}

/* Where a value the entry recorded stands now: 1 as it left it, 0 as before, -1 neither. */
static int value_state(const char *now, struct json_object *ba)
{
	const char *before = jsonx_str(ba, "before"), *after = jsonx_str(ba, "after");

	if (streq_or_both_null(now, after))
		return 1;
	return streq_or_both_null(now, before) ? 0 : -1;
}

static int refuse_moved(const struct domain_target *d, const char *id, const char *what, struct gt_error *e)
{
	return gt_fail(e, GT_REFUSED, "journal entry %s (pending) was interrupted on %s, and %s is neither as before it nor as "
		       "it would leave it: another writer changed it since; look, then 'gpotool journal abandon %s'", id, d->label,
		       what, id);
}

/* One file of the entry on the DC: as left, or put in place from the entry's copy of what it
 * was to become when it is still as before. */
static int finish_file(struct domain_target *d, struct journal_entry *j, size_t i, const char *rel, struct gt_error *e)
{
	struct json_object *jt = json_object_array_get_idx(json_object_object_get(journal_doc(j), "targets"), i);
	const char *after = jsonx_str(jt, "sha256_after"), *before = jsonx_str(jt, "sha256_before");
	int existed = json_object_get_boolean(json_object_object_get(jt, "existed"));
	char now[SHA256_HEX_LEN + 1] = "";
	uint8_t *buf = NULL, *want = NULL;

	if (!after)
		return gt_fail(e, GT_REFUSED, "journal entry %s is damaged: target %zu has no hash after", journal_id(j), i + 1);
	size_t len = 0, want_len = 0;
	struct sbuf p;
	int r, ret;

	sbuf_init(&p);
	smb_path_of(d, rel, &p);
	r = smb_read_file(d->s.smb, p.buf, MIRROR_MAX_BYTES, &buf, &len, e);
	if (r == 1)
		sha256_hex(buf, len, now);
	free(buf);
	if (r < 0)
		ret = -1;
	else if (after && strcmp(now, after) == 0)
		ret = 0;
	else if (!(existed ? before && strcmp(now, before) == 0 : r == 0) && !(r == 0 && !after[0]))
		ret = refuse_moved(d, journal_id(j), rel, e);
	else if (after && !after[0])
		ret = smb_unlink(d->s.smb, p.buf, e) < 0 ? -1 : 0;
	else
		ret = journal_read_after(j, i, &want, &want_len, e) < 0 || make_dirs_for(d, rel, NULL, NULL, e) < 0 ? -1
		    : smb_replace_file(d->s.smb, p.buf, want, want_len, NULL, e);
	free(want);
	sbuf_release(&p);
	return ret;
}

static int finish_attr(struct domain_target *d, const char *dn, const char *attr, const char *now, struct json_object *ba,
		       const char *id, struct gt_error *e)
{
	struct dir_mod mods[2];
	struct dir_value vals[2];
	size_t n = 0;
	int st = value_state(now, ba), r;

	/* a value the entry did not change (a link that was there, a link-only versionNumber) is
	 * not the entry's to judge: another writer may have changed it since, rightly */
	if (st == 1 || streq_or_both_null(jsonx_str(ba, "before"), jsonx_str(ba, "after")))
		return 0;
	if (st < 0)
		return refuse_moved(d, id, attr, e);
	gpc_cas(mods, &n, vals, attr, jsonx_str(ba, "before"), jsonx_str(ba, "after"));
	r = dir_modify(d->s.ldap, dn, mods, n, e);
	return r == 1 ? refuse_moved(d, id, attr, e) : r;
}

static int finish_entry(struct target *t, struct journal_entry *j, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct json_object *x = json_object_object_get(json_object_object_get(journal_doc(j), "target"), "extra");
	struct json_object *attrs = json_object_object_get(x, "attributes"), *link = json_object_object_get(x, "link");
	const char *rel = jsonx_str(x, "registry_xml"), *side = jsonx_str(x, "side");
	int user = side && strcmp(side, "User") == 0;
	char *gplink = NULL;
	int ret;

	if (!recorded_reg_path_ok(rel) || !attrs || (link && !ou_in_domain(d, jsonx_str(link, "ou"))))
		return gt_fail(e, GT_REFUSED, "journal entry %s is damaged: it does not say what it wrote", journal_id(j));
	ret = finish_file(d, j, 0, rel, e) < 0 || finish_file(d, j, 1, "GPT.INI", e) < 0 ? -1 : 0;
	if (ret == 0)
		ret = finish_attr(d, d->gpc.dn, "versionNumber", d->gpc.version, json_object_object_get(attrs, "versionNumber"),
				  journal_id(j), e);
	if (ret == 0 && gpc_reload(&d->s, &d->gpc, e) == 0)
		ret = finish_attr(d, d->gpc.dn, ext_attr(user), side_ext(&d->gpc, user), json_object_object_get(attrs, ext_attr(user)),
				  journal_id(j), e);
	else if (ret == 0)
		ret = -1;
	if (ret == 0 && link && jsonx_str(link, "ou")) {
		ret = gpc_read_gplink(&d->s, jsonx_str(link, "ou"), &gplink, e) < 0 ? -1
		    : finish_attr(d, jsonx_str(link, "ou"), "gPLink", gplink, link, journal_id(j), e);
		free(gplink);
	}
	if (ret == 0)
		ret = gpc_reload(&d->s, &d->gpc, e);
	if (ret == 0)
		ret = journal_finish_recovered(j, "complete", "finished by a later gpotool run: its files and AD values put in place",
					       &t->env->recovery, e);
	if (ret == 0)
		report_warn(rep(t), "journal entry %s was interrupted on %s; it is finished now: its files, AD values and link are "
			    "in place", journal_id(j), d->label);
	return ret;
}

/* Pending entries of this GPO whose writer is gone. */
static int recover_pending(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	char **ids = NULL;
	size_t n = 0;
	int ret = 0, any = 0;

	if (journal_list_ids(t->env->state_dir, &ids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct gt_error ignored = { 0 };
		struct journal_entry *j = NULL;
		struct json_object *target, *x;

		if (journal_load(t->env->state_dir, ids[i], &j, &ignored) < 0)
			continue;
		target = json_object_object_get(journal_doc(j), "target");
		x = json_object_object_get(target, "extra");
		if (strcmp(jsonx_str(journal_doc(j), "status"), "pending") == 0 && jsonx_str(target, "backend") &&
		    strcmp(jsonx_str(target, "backend"), "domain") == 0 && jsonx_str(x, "domain") &&
		    strcmp(jsonx_str(x, "domain"), d->s.domain) == 0 &&
		    jsonx_str(json_object_object_get(x, "gpo"), "guid") &&
		    strcasecmp(jsonx_str(json_object_object_get(x, "gpo"), "guid"), d->gpc.guid) == 0) {
			journal_free(j);
			j = NULL;
			if (journal_claim_pending(t->env->state_dir, ids[i], &j, e) < 0)
				ret = -1;
			else if (j) {
				ret = finish_entry(t, j, e);
				any = 1;
			}
		}
		journal_free(j);
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (ret == 0 && any)
		ret = refetch(t, e);
	return ret;
}

/* ---- the life of a write ---- */

static int domain_begin(struct target *t, int dry_run, struct gt_error *e)
{
	struct domain_target *d = priv(t);

	d->dry_run = dry_run;
	if (!dry_run && t->env->writing)
		t->env->writing(t->env->arg, d->label);
	if (!dry_run && d->create_pending && create_gpo(t, e) < 0)
		return -1;
	if (!dry_run && d->have_gpc && recover_pending(t, e) < 0)
		return -1;
	return target_begin(&d->inner, 0, e);
}

static int domain_plan(struct target *t, const struct target_change *c, struct gt_error *e)
{
	return target_plan(&priv(t)->inner, c, e);
}

static int staged_of(struct target *t, struct gpo_staged *st, struct plan *plan, struct gt_error *e)
{
	plan_init(plan);
	return target_gpo_staged(&priv(t)->inner, st, plan, e);
}

static void deploy_from_staged(struct domain_target *d, const struct gpo_staged *st, const struct plan *plan, struct deploy *dp)
{
	*dp = (struct deploy){
		.reg = st->reg, .reg_len = st->reg_len, .reg_before = st->reg_before, .reg_before_len = st->reg_before_len,
		.reg_existed = st->reg_existed, .reg_rel = xstrdup(st->reg_rel), .gpt = (struct gptini *)st->gpt,
		.gpt_before = st->gpt_before, .gpt_before_len = st->gpt_before_len, .ext = 1, .link = d->link_dn ? 1 : 0,
		.link_ou = d->link_dn, .plan = plan,
	};
	sbuf_init(&dp->gpt_bytes);
	sbuf_init(&dp->gpt_written);
}

static void describe_ad(struct target *t, const struct deploy *dp, const char *lead)
{
	struct domain_target *d = priv(t);

	if (!dp->link_only)
		report_text(rep(t), "%sGPT.INI: Version %u -> %u; AD versionNumber %s -> %s (user %u, machine %u)\n", lead,
		    dp->gpt_version_before, dp->version, dp->version_before_text ? dp->version_before_text : "(none)",
		    dp->version_after_text, dp->version >> 16, dp->version & 0xFFFF);
	if (!streq_or_both_null(dp->ext_before, dp->ext_after_text))
		report_text(rep(t), "%s%s: %s -> %s\n", lead, ext_attr(d->user), dp->ext_before ? dp->ext_before : "(none)",
			    dp->ext_after_text ? dp->ext_after_text : "(none)");
	if (dp->link && dp->link_ou && dp->link_changed)
		report_text(rep(t), "%s%s on '%s' (other links kept as they are)\n", lead, dp->link > 0 ? "link" : "unlink", dp->link_ou);
	else if (dp->link > 0 && dp->link_ou)
		report_text(rep(t), "link: already linked to '%s'\n", dp->link_ou);
}

/* --link asks for a link the OU has already (enabled or not: its options are not ours). */
static int already_linked(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct gplink_entry *v = NULL;
	size_t n = 0;
	char *gplink = NULL;
	int r;

	if (!d->link_dn || !d->have_gpc)
		return d->link_dn ? 0 : 1;
	if (gpc_read_gplink(&d->s, d->link_dn, &gplink, e) < 0 || gplink_parse(gplink, &v, &n, e) < 0) {
		free(gplink);
		return -1;
	}
	r = gplink_find(v, n, d->gpc.dn) != NULL;
	gplink_entries_free(v, n);
	free(gplink);
	return r;
}

static int say_unchanged(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct sbuf why;
	int ok;

	sbuf_init(&why);
	report_text(rep(t), "no change: %s already has this item (DC %s)\n", d->label, d->s.dc);
	report_field(rep(t), "changed", json_object_new_boolean(0));
	ok = will_apply(t, &why, rep(t)->result, e);
	if (ok >= 0)
		report_apply(t, ok, &why);
	sbuf_release(&why);
	return ok < 0 ? -1 : 0;
}

static int domain_show_plan(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct gpo_staged st;
	struct plan plan;
	struct deploy dp;
	struct sbuf line;
	int ret = staged_of(t, &st, &plan, e), linked = ret < 0 ? -1 : already_linked(t, e);

	if (linked < 0)
		ret = -1;
	if (ret == 0 && st.step == GPO_STAGED_NOTHING && linked) {
		plan_release(&plan);
		return say_unchanged(t, e);
	}
	sbuf_init(&line);
	if (ret == 0) {
		deploy_from_staged(d, &st, &plan, &dp);
		dp.link_only = st.step == GPO_STAGED_NOTHING;
		if (d->create_pending)
			report_text(rep(t), "plan: create %s (AD object and SYSVOL folder, as GPMC makes them)\n", d->label);
		for (size_t i = 0; i < plan.n; i++) {
			sbuf_reset(&line);
			change_describe(&plan.v[i], "", &line);
			report_text(rep(t), "plan: %s: %s\n", st.reg_rel, line.buf);
		}
		ret = d->have_gpc ? compute(t, &dp, e) : 0;
		if (ret == 0 && d->have_gpc)
			describe_ad(t, &dp, "plan: ");
		report_text(rep(t), "dry run: nothing written (DC %s)\n", d->s.dc);
		deploy_release(&dp);
	}
	sbuf_release(&line);
	plan_release(&plan);
	return ret;
}

static void report_deploy(struct target *t, const struct deploy *dp, const struct plan *plan)
{
	struct domain_target *d = priv(t);
	struct sbuf line;

	sbuf_init(&line);
	for (size_t i = 0; i < plan->n; i++) {
		sbuf_reset(&line);
		change_describe(&plan->v[i], "", &line);
		report_text(rep(t), "%s: %s\n", dp->reg_rel, line.buf);
	}
	describe_ad(t, dp, "");
	report_text(rep(t), "verified on %s: %s and GPT.INI read back byte for byte; versionNumber, %s%s read back as written\n",
		    d->s.dc, dp->reg_rel, ext_attr(d->user), dp->link_changed ? " and the gPLink" : "");
	report_field(rep(t), "target", json_object_new_string(d->label));
	report_field(rep(t), "dc", json_object_new_string(d->s.dc));
	report_field(rep(t), "gpo_dn", json_object_new_string(d->gpc.dn));
	report_field(rep(t), "gpo_guid", json_object_new_string(d->gpc.guid));
	report_field(rep(t), "changed", json_object_new_boolean(1));
	report_field(rep(t), "changes", plan_to_json(plan, ""));
	report_field(rep(t), "version_before", json_object_new_int64(dp->gpt_version_before));
	report_field(rep(t), "version", json_object_new_int64(dp->version));
	report_field(rep(t), "journal", json_object_new_string(d->journal_id));
	sbuf_release(&line);
}

/* The item is there, but clients would skip it: AD and GPT.INI disagree on the version, or
 * the side's extension names lack the GPP Registry extension. */
static int needs_repair(struct domain_target *d, const struct gpo_staged *st)
{
	struct gt_error ignored = { 0 };
	const char *ext = side_ext(&d->gpc, d->user);
	uint32_t ad = 0;

	if (gpc_version(&d->gpc, &ad, &ignored) < 0)
		return 0;
	return ad != st->gpt->version || !ext || !strcasestr(ext, GPP_REGISTRY_CSE);
}

static int domain_commit(struct target *t, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct gpo_staged st;
	struct plan plan;
	struct deploy dp;
	struct sbuf why;
	int ret = staged_of(t, &st, &plan, e), ok, linked = ret < 0 ? -1 : already_linked(t, e);
	int repair = ret == 0 && st.step == GPO_STAGED_NOTHING && needs_repair(d, &st);

	if (ret == 0 && linked >= 0 && st.step == GPO_STAGED_NOTHING && linked && !repair) {
		plan_release(&plan);
		return say_unchanged(t, e);
	}
	if (ret < 0 || linked < 0) {
		plan_release(&plan);
		return -1;
	}
	deploy_from_staged(d, &st, &plan, &dp);
	dp.link_only = st.step == GPO_STAGED_NOTHING && !repair;
	if (repair)
		report_warn(rep(t), "%s has the item, but AD's versionNumber and GPT.INI disagree or the GPP Registry "
			    "extension is not named: raising the version and naming it", d->label);
	ret = t->env->judge ? t->env->judge(t->env->arg, &plan, "", d->label, e) : 0;
	if (ret == 0)
		ret = deploy_run(t, &dp, e);
	if (ret == 0) {
		report_deploy(t, &dp, &plan);
		target_journaled(t, d->journal_id);
		sbuf_init(&why);
		ok = will_apply(t, &why, rep(t)->result, e);
		if (ok >= 0)
			report_apply(t, ok, &why);
		else
			ret = gt_prefix(e, "the change is in place (journal %s), but checking that DCs apply it failed: ",
					d->journal_id);
		sbuf_release(&why);
	}
	deploy_release(&dp);
	plan_release(&plan);
	return ret;
}

/* ---- validate ---- */

static int domain_read(struct target *t, const struct target_setting *s, struct reg_value *out, struct gt_error *e)
{
	return target_read(&priv(t)->inner, s, out, e);
}

static int domain_check(struct target *t, const struct target_setting *s, const struct reg_value *want, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct gt_error inner = { 0 };
	struct gpo_current cur;
	struct sbuf why;
	uint32_t ad = 0;
	int r = target_check(&d->inner, s, want, &inner), ok;

	if (r < 0 && inner.code != GT_MISMATCH) {
		*e = inner;
		return -1;
	}
	report_field(rep(t), "value", json_object_get(json_object_object_get(d->inner_result, "value")));
	report_field(rep(t), "target", json_object_new_string(d->label));
	report_field(rep(t), "dc", json_object_new_string(d->s.dc));
	if (r < 0)
		return gt_fail(e, GT_MISMATCH, "%s (DC %s): its %s Registry.xml does not set %s\\%s to the template's value: %s",
			       d->label, d->s.dc, side_name(d->user), s->key, s->name,
			       strstr(inner.msg, "GPT.INI") ? "GPT.INI's version of that half is 0" : "no such Update item");
	report_text(rep(t), "ok: %s sets %s\\%s (%s) in its %s Registry.xml (DC %s)\n", d->label, s->key, s->name, s->label,
		    side_name(d->user), d->s.dc);
	if (gpc_version(&d->gpc, &ad, e) < 0 || target_gpo_current(&d->inner, &cur, e) < 0)
		return -1;
	sbuf_init(&why);
	if (cur.gpt->version != ad)
		sbuf_addf(&why, "GPT.INI's Version %u and AD's versionNumber %u disagree: clients may skip it (stage again to make "
			  "them agree)\n", cur.gpt->version, ad);
	if (!side_ext(&d->gpc, d->user) || !strcasestr(side_ext(&d->gpc, d->user), GPP_REGISTRY_CSE))
		sbuf_addf(&why, "%s does not name the GPP Registry extension %s: clients skip its Registry.xml\n", ext_attr(d->user),
			  GPP_REGISTRY_CSE);
	ok = will_apply(t, &why, rep(t)->result, e);
	if (ok < 0) {
		sbuf_release(&why);
		return -1;
	}
	if (why.len) {
		report_apply(t, 0, &why);
		r = gt_fail(e, GT_MISMATCH, "%s holds the value, but DCs will not apply it: %.*s", d->label,
			    (int)strcspn(why.buf, "\n"), why.buf);
	} else {
		report_apply(t, 1, &why);
		r = 1;
	}
	sbuf_release(&why);
	return r;
}

static int domain_fact(struct target *t, enum target_fact f, struct target_fact_value *out, const char **why, struct gt_error *e)
{
	(void)t;
	(void)f;
	(void)out;
	(void)e;
	*why = "a GPO in a domain reaches its machines by a link: their facts are not read here";
	return 0;
}

/* ---- rollback ---- */

static struct json_object *entry_extra(const struct target_rollback *rb)
{
	return json_object_object_get(rb->target, "extra");
}

/* The entry names its domain, DC and GPO: the DC it wrote to is asked again unless --dc names
 * another (the PDC emulator may have moved). */
static int domain_open_recorded(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	struct json_object *x = entry_extra(rb), *gpo = json_object_object_get(x, "gpo");
	const char *domain = jsonx_str(x, "domain"), *guid = jsonx_str(gpo, "guid"), *side = jsonx_str(x, "side");
	struct domain_target *d = xcalloc(1, sizeof(*d));
	struct domain_conn_opts *o;
	int r;

	t->priv = d;
	if (!domain || !guid || !is_braced_guid(guid) || !jsonx_str(x, "dc") || !recorded_reg_path_ok(jsonx_str(x, "registry_xml")))
		return gt_fail(e, GT_REFUSED, "journal entry %s does not name its domain, DC, GPO and Registry.xml as gpotool "
			       "writes them; not following it", rb->id);
	if (!t->env->conn)
		return gt_fail(e, GT_USAGE, "journal entry %s wrote to %s: give the connection options (--user NAME "
			       "--password-file FILE, or --kerberos)", rb->id, domain);
	o = xmalloc(sizeof(*o));
	*o = *t->env->conn;
	if (!o->dc)
		o->dc = jsonx_str(x, "dc");
	d->domain = xstrdup(domain);
	d->gpo_guid = xstrdup(guid);
	d->user = side && strcmp(side, "User") == 0;
	set_label(d);
	d->connected = 1;
	r = domain_connect(d->domain, o, t->env->state_dir, &d->s, e);
	if (r == 0) {
		r = gpc_find(&d->s, NULL, guid, &d->gpc, e);
		if (r == 0)
			r = gt_fail(e, GT_REFUSED, "journal entry %s wrote GPO %s, which is no longer in %s", rb->id, guid, domain);
	}
	/* the session keeps a pointer to its options: they live as long as it does */
	d->conn_copy = o;
	if (r < 0)
		return -1;
	d->have_gpc = 1;
	set_label(d);
	return locate_gpo(t, e) < 0 ? -1 : refetch(t, e);
}

/* The items of one side a Registry.xml holds: the GPP Registry pair is taken out of the
 * extension names only when none is left. */
static size_t items_in(const uint8_t *reg, size_t len)
{
	struct gt_error ignored = { 0 };
	struct gpp_doc *doc = NULL;
	size_t n;

	if (!reg)
		return 0;
	if (gpp_load(reg, len, "Registry.xml", gpotool_data_file("gpp-registry.rng"), &doc, &ignored) < 0)
		return 1; /* unreadable: assume something needs it */
	n = gpp_item_count(doc);
	gpp_free(doc);
	return n;
}

/* Where the entry's Registry.xml stands on the DC: 1 as the entry left it, 0 as before it,
 * -1 changed since. */
static int reg_state(const struct target_rollback *rb, const struct gpo_current *cur)
{
	const char *after = jsonx_str(rb->file, "sha256_after"), *before = jsonx_str(rb->file, "sha256_before");
	int existed = json_object_get_boolean(json_object_object_get(rb->file, "existed"));
	char now[SHA256_HEX_LEN + 1] = "";

	if (cur->reg_exists)
		sha256_hex(cur->reg, cur->reg_len, now);
	if (after && strcmp(now, after) == 0)
		return 1;
	if (existed ? before && strcmp(now, before) == 0 : !cur->reg_exists)
		return 0;
	return -1;
}

/* --undo-on-clients: in place of taking the item out (GPP Update items stay on clients that
 * applied them), an item that deletes the value (delete) or sets the given data on clients. */
static int plan_client_undo(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	const struct change *c = rb->plan.n ? &rb->plan.v[0] : NULL;
	struct gpp_setting s;
	struct target_change tc;
	const char *cut;
	char *hive = NULL;
	int ret;

	if (!c || !(cut = strchr(c->key, '\\')))
		return gt_fail(e, GT_REFUSED, "journal entry %s records no item to undo on clients", rb->id);
	hive = xmemdup(c->key, (size_t)(cut - c->key) + 1);
	hive[cut - c->key] = '\0';
	free(d->undo_hive);
	d->undo_hive = hive; /* the GPO backend keeps a shallow copy of the item until close */
	s = (struct gpp_setting){ .hive = hive, .key = cut + 1, .name = c->name };
	reg_value_init(&s.value);
	if (strcmp(rb->o->undo_on_clients, "delete") == 0) {
		s.action = 'D';
		reg_value_copy(&s.value, &c->new_value);
	} else {
		s.action = 'U';
		ret = reg_value_from_text(c->new_value.type, rb->o->undo_on_clients, &s.value, e);
		if (ret < 0)
			return gt_prefix(e, "--undo-on-clients: ");
		s.value.name = xstrdup(c->name);
	}
	tc = (struct target_change){ .kind = TC_SET_VALUE, .key = c->key, .item = &s };
	ret = target_begin(&d->inner, 0, e) < 0 ? -1 : target_plan(&d->inner, &tc, e) < 0 ? -1 : 0;
	reg_value_release(&s.value);
	return ret;
}

static int rollback_deploy(struct target *t, struct target_rollback *rb, struct deploy *dp, uint8_t *before, size_t before_len,
			   struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct json_object *link = json_object_object_get(entry_extra(rb), "link");
	int ret;

	dp->rollback_of = rb->id;
	/* --undo-on-clients: the Delete item must still reach the OU's machines, so the link stays */
	if (!rb->o->undo_on_clients && json_object_get_boolean(json_object_object_get(link, "created"))) {
		dp->link = -1;
		dp->link_ou = jsonx_str(link, "ou");
		if (!ou_in_domain(d, dp->link_ou))
			return gt_fail(e, GT_REFUSED, "journal entry %s names a link outside %s; not following it", rb->id,
				       d->s.domain);
	}
	dp->ext = items_in(dp->reg_remove ? NULL : dp->reg, dp->reg_len) ? 0 : -1;
	(void)before;
	(void)before_len;
	if (rb->o->dry_run) {
		ret = compute(t, dp, e);
		if (ret == 0) {
			report_text(rep(t), "would put back %s on %s as it was before journal entry %s\n", dp->reg_rel, d->s.dc, rb->id);
			describe_ad(t, dp, "would: ");
			report_text(rep(t), "dry run: nothing written\n");
		}
		return ret;
	}
	ret = deploy_run(t, dp, e);
	if (ret == 0) {
		report_text(rep(t), "rolled back: %s on %s is as before journal entry %s%s\n", dp->reg_rel, d->label, rb->id,
			    dp->reg_remove ? " (removed: it did not exist)" : "");
		describe_ad(t, dp, "");
		report_text(rep(t), "verified on %s: files read back byte for byte, AD values as written\n", d->s.dc);
		if (json_object_get_boolean(json_object_object_get(json_object_object_get(entry_extra(rb), "gpo"), "created")))
			report_text(rep(t), "note: journal entry %s created %s; it stays, unlinked by this rollback: delete it with GPMC "
				    "or 'samba-tool gpo del %s' when no longer wanted\n", rb->id, d->label, d->gpc.guid);
		target_journaled(t, d->journal_id);
		target_rollback_result(t, rb, d->label);
	}
	return ret;
}

static int domain_rollback(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct gpo_current cur;
	struct deploy dp = { 0 };
	struct gpo_staged st;
	struct plan plan;
	uint8_t *before = NULL;
	size_t before_len = 0;
	int st_now, ret;

	plan_init(&plan);
	if ((!rb->o->dry_run && recover_pending(t, e) < 0) || (rb->reload_if_pending && rb->reload_if_pending(rb, e) < 0) ||
	    target_gpo_current(&d->inner, &cur, e) < 0)
		return -1;
	if (!rb->o->dry_run && t->env->writing)
		t->env->writing(t->env->arg, d->label);
	st_now = reg_state(rb, &cur);
	if (rb->o->undo_on_clients) {
		if (plan_client_undo(t, rb, e) < 0 || staged_of(t, &st, &plan, e) < 0) {
			plan_release(&plan);
			return -1;
		}
		deploy_from_staged(d, &st, &plan, &dp);
		dp.link = 0;
	} else if (st_now == 0) {
		plan_release(&plan);
		return target_already_before(t, rb, d->label);
	} else if (st_now < 0) {
		plan_release(&plan);
		return gt_fail(e, GT_REFUSED, "%s on %s changed since journal entry %s wrote it: not rolled back over it (give "
			       "--undo-on-clients=delete|DATA to replace the entry's item on what it holds now)", cur.reg_rel, d->label,
			       rb->id);
	} else {
		int existed = json_object_get_boolean(json_object_object_get(rb->file, "existed"));

		if (existed && journal_read_before(rb->j, 0, &before, &before_len, e) < 0)
			return -1;
		dp = (struct deploy){ .reg = before, .reg_len = before_len, .reg_remove = !existed, .reg_before = cur.reg,
			.reg_before_len = cur.reg_len, .reg_existed = cur.reg_exists, .reg_rel = xstrdup(cur.reg_rel),
			.gpt = (struct gptini *)cur.gpt, .gpt_before = cur.gpt_bytes, .gpt_before_len = cur.gpt_len,
			.plan = &rb->plan };
		sbuf_init(&dp.gpt_bytes);
		sbuf_init(&dp.gpt_written);
	}
	ret = rollback_deploy(t, rb, &dp, before, before_len, e);
	deploy_release(&dp);
	plan_release(&plan);
	free(before);
	return ret;
}

/* ---- gpo fetch ---- */

static int domain_fetch(struct target *t, const char *dir, struct gt_error *e)
{
	struct domain_target *d = priv(t);
	struct fetch_budget b = { 0 };

	if (!d->have_gpc)
		return gt_fail(e, GT_NO_SUCH_PATH, "there is no %s", d->label);
	if (mkdir(dir, 0755) < 0)
		return gt_fail(e, errno == EEXIST ? GT_REFUSED : gt_path_errno_code(errno), "unable to make '%s': %s%s", dir,
			       strerror(errno), errno == EEXIST ? " (gpo fetch writes a new folder)" : "");
	if (fetch_tree(d->s.smb, d->sysvol, dir, 0, &b, e) < 0)
		return gt_prefix(e, "%s: fetching its SYSVOL folder from %s into '%s' (left there, incomplete): ", d->label, d->s.dc,
				 dir);
	report_text(rep(t), "fetched: %s from %s into '%s' (%zu entries, %zu bytes)\n", d->label, d->s.dc, dir, b.files, b.bytes);
	report_text(rep(t), "AD object: %s\n", d->gpc.dn);
	report_text(rep(t), "  versionNumber: %s\n", d->gpc.version ? d->gpc.version : "(none)");
	report_text(rep(t), "  gPCMachineExtensionNames: %s\n", d->gpc.machine_ext ? d->gpc.machine_ext : "(none)");
	report_text(rep(t), "  gPCUserExtensionNames: %s\n", d->gpc.user_ext ? d->gpc.user_ext : "(none)");
	report_text(rep(t), "  flags: %s\n", d->gpc.flags ? d->gpc.flags : "(none)");
	report_text(rep(t), "  gPCFileSysPath: %s\n", d->gpc.file_sys_path);
	report_field(rep(t), "dir", json_object_new_string(dir));
	report_field(rep(t), "dc", json_object_new_string(d->s.dc));
	report_field(rep(t), "gpo_dn", json_object_new_string(d->gpc.dn));
	report_field(rep(t), "gpo_guid", json_object_new_string(d->gpc.guid));
	report_field(rep(t), "versionNumber", jstr_or_null(d->gpc.version));
	report_field(rep(t), "gPCMachineExtensionNames", jstr_or_null(d->gpc.machine_ext));
	report_field(rep(t), "gPCUserExtensionNames", jstr_or_null(d->gpc.user_ext));
	report_field(rep(t), "flags", jstr_or_null(d->gpc.flags));
	return 0;
}

const struct target_ops target_domain_ops = {
	.name = "domain",
	.option = "domain",
	.metavar = "DNS",
	.reach = TARGET_REACHES_BY_LINK,
	.open = domain_open,
	.open_recorded = domain_open_recorded,
	.close = domain_close,
	.path = domain_path,
	.locate = domain_locate,
	.begin = domain_begin,
	.plan = domain_plan,
	.show_plan = domain_show_plan,
	.commit = domain_commit,
	.read = domain_read,
	.check = domain_check,
	.fact = domain_fact,
	.rollback = domain_rollback,
	.fetch = domain_fetch,
};
