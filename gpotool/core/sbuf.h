/* A growable byte buffer, git's strbuf in small.
 * Invariants: buf is never NULL between sbuf_init and sbuf_release/sbuf_detach; buf[len] == '\0' always, so text can be
 * used as a C string; len < cap. Allocation failure aborts: every caller would only
 * turn it into "out of memory" and exit, and a half-built buffer is never useful. */
#ifndef GPOTOOL_SBUF_H
#define GPOTOOL_SBUF_H

#include <stddef.h>
#include <stdint.h>

struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
};

void sbuf_init(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);
void sbuf_grow(struct sbuf *sb, size_t extra);
void sbuf_add(struct sbuf *sb, const void *data, size_t len);
void sbuf_addstr(struct sbuf *sb, const char *s);
void sbuf_addch(struct sbuf *sb, char c);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_reset(struct sbuf *sb);
/* Hands the buffer to the caller, who frees it; sb is left released (sbuf_init before reuse). */
char *sbuf_detach(struct sbuf *sb, size_t *len);

/* Allocation that cannot return NULL (same reasoning as above). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void *xmemdup(const void *p, size_t n);

#endif
