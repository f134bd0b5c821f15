/* What a module has to tell the operator, without printing it: the run layer hands a module
 * a sink, and decides where each line goes (stdout unless --json; notes and warnings to
 * stderr, escaped) and where the JSON result's fields go. Modules below run/ never print. */
#ifndef GPOTOOL_REPORT_H
#define GPOTOOL_REPORT_H

struct json_object;

enum report_kind {
	REPORT_TEXT,     /* a line of the command's output, ending in "\n" */
	REPORT_NOTE,     /* worth knowing, nothing wrong */
	REPORT_WARNING,  /* something the operator must look at */
};

struct report {
	void (*emit)(void *arg, enum report_kind kind, const char *text);
	void *arg;
	struct json_object *result;  /* the command's JSON result: modules add their fields */
};

void report_text(const struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_warn(const struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_note(const struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets field of the JSON result to v (owned by the result from now on; NULL is JSON null). */
void report_field(const struct report *r, const char *field, struct json_object *v);

#endif
