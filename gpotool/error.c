/* The one error record every module fills; see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gt_fail(struct gt_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code != GT_OK)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int gt_prefix(struct gt_error *e, const char *fmt, ...)
{
	char prefix[512], old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* truncation is acceptable for a message; the start says the most */
	memcpy(old, e->msg, sizeof(old));
	size_t plen = strnlen(prefix, sizeof(prefix) - 1);
	memcpy(e->msg, prefix, plen);
	size_t olen = strnlen(old, sizeof(e->msg) - 1 - plen);
	memcpy(e->msg + plen, old, olen);
	e->msg[plen + olen] = '\0';
	return -1;
}

void gt_error_clear(struct gt_error *e)
{
	e->code = GT_OK;
	e->msg[0] = '\0';
}
