/* Formatting for the report sink; see report.h. */
#include "core/report.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((format(printf, 3, 0)))
static void emit(const struct report *r, enum report_kind kind, const char *fmt, va_list ap)
{
	char *text = NULL;

	if (vasprintf(&text, fmt, ap) < 0) {
		r->emit(r->arg, kind, fmt); /* out of memory: the unformatted line beats none */
		return;
	}
	r->emit(r->arg, kind, text);
	free(text);
}

void report_text(const struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(r, REPORT_TEXT, fmt, ap);
	va_end(ap);
}

void report_warn(const struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(r, REPORT_WARNING, fmt, ap);
	va_end(ap);
}

void report_note(const struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(r, REPORT_NOTE, fmt, ap);
	va_end(ap);
}

void report_field(const struct report *r, const char *field, struct json_object *v)
{
	json_object_object_add(r->result, field, v);
}
