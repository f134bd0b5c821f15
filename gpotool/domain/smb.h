/* SYSVOL over SMB: Samba's libsmbclient behind domain/smb.c, the only file that includes
 * libsmbclient.h. Paths are "SHARE/dir/file" with '/' separators ("sysvol/example.com/Policies/
 * {GUID}/GPT.INI"); smb.c builds the URLs and escapes them. A connection authenticates with a
 * user and password (NTLMv2) or with Kerberos from the ticket cache in KRB5CCNAME, and requires
 * signing (SYSVOL is a UNC-hardened path on Windows clients for the same reason). */
#ifndef GPOTOOL_DOMAIN_SMB_H
#define GPOTOOL_DOMAIN_SMB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

struct smb_conn_opts {
	const char *host;        /* the DC's DNS name */
	const char *address;     /* --resolve: connect here. A password logon connects to the address
				  * itself. Kerberos needs the name, and libsmbclient connects only to the
				  * name in the URL (no way to give it an address in 4.17: see
				  * kerberos_by_name in smb.c), so with Kerberos host must already resolve
				  * to this address and no other, else GT_USAGE saying so */
	const char *workgroup;   /* the domain's NetBIOS name or DNS name, for a password logon */
	const char *user;        /* password logon ("user", DOMAIN\user or a UPN); with Kerberos only
				  * shown in messages (the ticket's principal logs on) */
	const char *password;    /* below 256 bytes (libsmbclient's limit); kept only while connected */
	int kerberos;            /* use the ticket cache (KRB5CCNAME); no fallback to NTLM */
	int timeout_s;           /* TCP connect and each request; 0: 15 s */
};

struct smb_conn;

/* Connects and checks that the share probe_share ("sysvol") can be listed: errors as
 * dir_connect, one line each naming host and address: unresolvable, unreachable or timed out
 * GT_FAILED; logon refused (EACCES at the first open) or no usable Kerberos ticket GT_REFUSED;
 * no such share GT_FAILED. Signing is required and SMB3 encryption used when the DC offers it;
 * SMB1 is never spoken. libsmbclient's configuration is a private smb.conf made at runtime in a
 * 0700 folder under TMPDIR (removed by the last smb_close): /etc/samba/smb.conf and ~/.smb are
 * never read. That configuration is process-wide (libsmbclient's), the same for every
 * connection; each connection has its own context and credentials. */
int smb_connect(const struct smb_conn_opts *o, const char *probe_share, struct smb_conn **out, struct gt_error *e);
void smb_close(struct smb_conn *c);

/* The URL libsmbclient is given for path ("SHARE/dir/file") on server (a name or an address):
 * each component percent-escaped (all but RFC 3986's unreserved characters). A path that is
 * empty, has an empty, "." or ".." component, or a component with a backslash, ':' (an NTFS
 * stream), a wildcard, a character NTFS refuses or a control character is GT_REFUSED. *url
 * caller-freed. Every function below builds its URLs with it: all refuse such paths alike. */
int smb_url(const char *server, const char *path, char **url, struct gt_error *e);

/* Errors of the functions below: EACCES/EPERM from the DC is GT_REFUSED "no right to read|write
 * 'PATH' on the DC", anything else GT_FAILED with the system's words for it. */

enum smb_type { SMB_FILE, SMB_DIR };

struct smb_dirent {
	char *name;
	enum smb_type type;
};

/* 1 with *type and *size, 0 absent, -1 error. */
int smb_stat(struct smb_conn *c, const char *path, enum smb_type *type, uint64_t *size, struct gt_error *e);
/* Whole file, at most max bytes (larger is GT_REFUSED): 1 read (*buf caller-freed), 0 absent, -1 error. */
int smb_read_file(struct smb_conn *c, const char *path, size_t max, uint8_t **buf, size_t *len, struct gt_error *e);
/* The entries of a folder without "." and "..": 1 listed, 0 absent, -1 error. Release with smb_dirents_free. */
int smb_list(struct smb_conn *c, const char *path, struct smb_dirent **out, size_t *n, struct gt_error *e);
void smb_dirents_free(struct smb_dirent *v, size_t n);
/* Writes bytes to a new temp file beside path (".NAME.gpotool-XXXXXX", created exclusively,
 * so the server gives it the folder's inherited ACL, which the rename keeps), reads it back
 * and compares, then renames it over path; on any failure the temp file is removed.
 * *staged (optional) is NULL on return unless a temp file was left behind (its removal
 * failed too): then it names it, caller-freed, for the journal to record. A run killed
 * mid-way may leave ".NAME.gpotool-*" beside path: recovery finds it with smb_list.
 * libsmbclient's rename over an existing file is unlink then rename (SMBC_rename_ctx tries
 * cli_rename without replace, then on EEXIST cli_unlink and cli_rename; measured on 4.17
 * with inotify on the DC: DELETE of the target, then MOVED_FROM/MOVED_TO): a reader in
 * between sees no file, never half of one, and a kill in between leaves path absent and the
 * temp file complete. libsmbclient has no flush: the bytes are on the DC when close
 * returns, as durable as the DC makes them. */
int smb_replace_file(struct smb_conn *c, const char *path, const uint8_t *bytes, size_t len, char **staged,
		     struct gt_error *e);
/* ACLs: files and folders made here (and by samba-tool gpo create, GPMC) carry the inherited
 * ACL; `samba-tool ntacl sysvolcheck` (4.17, check_dir_acl) rejects it, since it wants on every
 * file the GPO folder's explicit protected ACL that `ntacl sysvolreset` writes. libsmbclient
 * cannot write that one (cacl_set in libsmb_xattr.c sorts and dedups the ACEs, sets no
 * DACL-protected flag, and cannot parse object ACEs), so nothing here sets ACLs. */
/* Sets the NT ACL of path: owner, group and DACL, as libsmbclient's "system.nt_sec_desc.*"
 * attribute takes them (domain/sd.h sd_to_sysvol_acl_text: numeric SIDs, decimal fields). */
int smb_set_nt_acl(struct smb_conn *c, const char *path, const char *text, struct gt_error *e);
/* 1 made, 0 it was there already, -1 error. */
int smb_mkdir(struct smb_conn *c, const char *path, struct gt_error *e);
/* 1 removed, 0 absent, -1 error. */
int smb_unlink(struct smb_conn *c, const char *path, struct gt_error *e);
int smb_rmdir(struct smb_conn *c, const char *path, struct gt_error *e);

#endif
