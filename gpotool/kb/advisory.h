/* Value rules: facts that belong to a registry value, whichever command writes it (stage with
 * any template, hive set, hive import, gpo set). They are data, templates/value-rules, each
 * with its source: StrongCertificateBindingEnforcement 0 is refused (Disabled mode was removed
 * on 2023-04-11), 1 expired on 2025-09-09, 2 gets a note. This module loads and judges; the
 * commands print what it finds (cmdutil.c, value_rules_judge and value_rules_report). */
#ifndef GPOTOOL_ADVISORY_H
#define GPOTOOL_ADVISORY_H

#include <stdint.h>
#include <time.h>

#include "core/error.h"
#include "reg/keypath.h"
#include "state/plan.h"
#include "core/sbuf.h"

struct json_object;

enum rule_kind {
	RULE_REFUSE,   /* never written (exit 3) */
	RULE_EXPIRES,  /* works until the date: days left, then "expired"; --strict refuses it then */
	RULE_NOTE,     /* a short note on every write */
	RULE_WARN,     /* a warning on every write */
};

enum rule_match { MATCH_EQUAL, MATCH_ANY, MATCH_BITS };

struct value_rule {
	char *key;                   /* as written: HKLM\SYSTEM\CurrentControlSet\Services\Kdc */
	struct keypath kp;           /* parsed */
	char *value;                 /* the value name, compared case-insensitively */
	enum rule_match match;
	uint32_t data;               /* the data (MATCH_EQUAL) or the bit mask (MATCH_BITS) */
	enum rule_kind kind;
	char date[11];               /* YYYY-MM-DD */
	long long day;               /* the date as UTC midnight */
	char *says;                  /* what the value is, or why it is refused */
	char *after;                 /* RULE_EXPIRES: what to say once the date has passed */
	char *source[8];
	size_t nsource;
	unsigned line;               /* in the rules file, for messages */
};

struct value_rules {
	char *file;
	struct value_rule *v;
	size_t n;
};

/* Loads datadir/value-rules; GT_FAILED when it cannot be read, GT_REFUSED naming the file
 * and line of anything malformed. r released with value_rules_release, also on error. */
int value_rules_load(const char *datadir, struct value_rules *r, struct gt_error *e);
void value_rules_release(struct value_rules *r);

/* One rule that applies to one value a write sets. */
struct rule_hit {
	const struct value_rule *rule;
	char *name;                  /* the value name as written, owned */
	uint32_t data;
	long days;                   /* signed: the rule's date minus as_of, in days (negative after it) */
};

struct advice {
	struct value_rules rules;
	struct rule_hit *hit;
	size_t n;
};

/* The rules that apply to each REG_DWORD value the plan sets (key_prefix as for display_path:
 * "HKLM\SYSTEM" for a hive, "" for a GPO, whose keys start with their hive), judged as of
 * as_of (UTC midnight). a released with advice_release, also on error. */
int advice_judge(const char *datadir, const struct plan *p, const char *key_prefix, time_t as_of, struct advice *a,
		 struct gt_error *e);
void advice_release(struct advice *a);
/* The rules of one value (key as in a template), in file order; for showing a template. */
int value_rules_for(const struct value_rules *r, const char *key, const char *name, const struct value_rule **out,
		    size_t max);

/* One line saying what the hit means (no "warning:" prefix). */
void rule_hit_text(const struct rule_hit *h, struct sbuf *out);
/* {"value", "data", "rule", "date", "days", "expired", "says", "source"}; caller owns it. */
struct json_object *rule_hit_json(const struct rule_hit *h);
/* "refuse", "expires", "note", "warn". */
const char *rule_kind_name(enum rule_kind k);

#endif
