/* The audit trail: STATE/audit.log, JSON Lines, one record per command that wrote or refused
 * to write. Each record carries its sequence number, the hash of the record before it (the
 * first one the fixed genesis value) and its own hash, so an edited, deleted, reordered or
 * inserted record breaks the chain at a place `audit verify` can name. */
#ifndef GPOTOOL_AUDIT_H
#define GPOTOOL_AUDIT_H

#include <stddef.h>

#include "core/digest.h"
#include "core/error.h"
#include "core/sbuf.h"

/* The "prev" of the first record: 64 zeros. */
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_MAX_LINE (4u * 1024 * 1024)

struct json_object;

/* An audit log opened for appending before the command runs, so a log that cannot be
 * written stops the command before it changes anything. */
struct audit_log {
	char *path;
	int fd;
};

/* Opens (creating 0600) path for appending; refuses a symlink or a non-regular file. */
int audit_open(const char *path, struct audit_log *log, struct gt_error *e);
void audit_close(struct audit_log *log);

/* What an append did: each GT_OK, or why that part failed. */
struct audit_outcome {
	struct gt_error log;   /* the record is not in the trail */
	struct gt_error head;  /* it is, but the head file still names the record before it */
	struct gt_error copy;  /* it is, but the copy (--audit-log) lacks it */
};

/* Chains record (its fields; seq, prev and hash are added) to the log's last record and
 * appends it in one write under an exclusive lock, then fsyncs; then, under that lock, replaces
 * the head file (PATH.head: the new record's seq and hash) and appends the same line to copy
 * (--audit-log; NULL or closed for none), so the copy keeps the order. A torn last line (no
 * newline, not a record) is first cut off, and the record says so ("torn_tail_removed": bytes,
 * sha256). -1 when the record is
 * not in the trail (out->log), else 0 (out->head, out->copy say what else failed). *line
 * (optional) gets the line written, without its newline; caller frees. */
int audit_append(struct audit_log *log, struct audit_log *copy, struct json_object *record, char **line,
		 struct audit_outcome *out);
/* The head file of the log at log_path: 1 read (*seq, hash), 0 there is none, -1 unreadable
 * (GT_FAILED) or not a head record (GT_MISMATCH). */
int audit_head_read(const char *log_path, unsigned long long *seq, char hash[SHA256_HEX_LEN + 1], struct gt_error *e);

/* Splits a line into the text its hash covers and the hash: 0, or -1 when the line does
 * not end in ,"hash":"<64 hex>"}. covered is caller-released. */
int audit_line_split(const char *line, size_t len, struct sbuf *covered, char hash[SHA256_HEX_LEN + 1]);

/* Walks the log at path: calls each(record, line number, arg) for every line that parses
 * (record borrowed); a line that does not is passed as NULL. Stops when each returns
 * nonzero and returns that. Absent log: 0 lines. */
int audit_each(const char *path, int (*each)(struct json_object *record, size_t lineno, const char *line, size_t len, void *arg),
	       void *arg, struct gt_error *e);

/* The journal IDs the records at path name (sorted; absent log: none). *ids caller-freed. */
int audit_journal_ids(const char *path, char ***ids, size_t *n, struct gt_error *e);
/* 1 when id is among ids (as audit_journal_ids gives them). */
int audit_names(char *const *ids, size_t n, const char *id);

/* What audit verify found: the number of records, the last one's hash, or the first bad one. */
struct audit_verdict {
	size_t records;
	unsigned long long last_seq;
	char head[SHA256_HEX_LEN + 1];
	size_t bad_line;     /* 0 when the chain is whole */
	char why[512];
	unsigned long long anchor_seq;    /* audit_verify_probe: the record whose hash is the anchor, 0 none */
	char at_hash[SHA256_HEX_LEN + 1]; /* and the hash of record at_seq, "" when the chain ends before it */
};

/* Checks every record's own hash, sequence number and link to the one before.
 * 0 whole, 1 broken (v says where and why), -1 the log could not be read. */
int audit_verify(const char *path, struct audit_verdict *v, struct gt_error *e);
/* The same, also finding the record whose hash is anchor (NULL: none) and the hash of record
 * at_seq (0: none). */
int audit_verify_probe(const char *path, const char *anchor, unsigned long long at_seq, struct audit_verdict *v,
		       struct gt_error *e);

#endif
