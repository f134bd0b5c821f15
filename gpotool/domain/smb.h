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
	const char *address;     /* --resolve: connect here. With Kerberos the name must resolve to it
				  * (libsmbclient connects by name; Kerberos needs the name): see smb.c */
	const char *workgroup;   /* the domain's NetBIOS name or DNS name, for a password logon */
	const char *user;        /* password logon */
	const char *password;
	int kerberos;            /* use the ticket cache (KRB5CCNAME); no fallback to NTLM */
	int timeout_s;           /* 0: 15 s */
};

struct smb_conn;

/* Connects and checks that the share of probe_path ("sysvol") can be listed: errors as
 * dir_connect (unreachable GT_FAILED, logon refused GT_REFUSED), one line each. */
int smb_connect(const struct smb_conn_opts *o, const char *probe_share, struct smb_conn **out, struct gt_error *e);
void smb_close(struct smb_conn *c);

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
 * so the server gives it the folder's inherited ACL), reads it back and compares, then
 * renames it over path. *staged (caller-freed, optional) names the temp file while it exists:
 * the journal records it. libsmbclient's rename over an existing file is unlink then rename
 * (SMBC_rename_ctx): a reader in between sees no file, never half of one. */
int smb_replace_file(struct smb_conn *c, const char *path, const uint8_t *bytes, size_t len, char **staged,
		     struct gt_error *e);
/* Sets the NT ACL of path: text as libsmbclient's "system.nt_sec_desc.*+" takes it
 * (domain/sd.h sd_to_sysvol_acl_text): owner, group and DACL, the DACL protected. */
int smb_set_nt_acl(struct smb_conn *c, const char *path, const char *text, struct gt_error *e);
/* 1 made, 0 it was there already, -1 error. */
int smb_mkdir(struct smb_conn *c, const char *path, struct gt_error *e);
/* 1 removed, 0 absent, -1 error. */
int smb_unlink(struct smb_conn *c, const char *path, struct gt_error *e);
int smb_rmdir(struct smb_conn *c, const char *path, struct gt_error *e);

#endif
