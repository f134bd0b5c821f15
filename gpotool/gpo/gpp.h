/* Group Policy Preferences Registry.xml ([MS-GPPREF] 2.2.1.1); gpp.c is the only file that
 * includes libxml2, callers see struct gpp_doc. Parsing is for untrusted input: no DTD, no
 * entities, no network, bounded size and depth. Edits are byte-preserving: the file is
 * rewritten only where the edited item stands; every other byte (other items, Collections,
 * comments, whitespace, attribute order and quoting) is copied through unchanged. */
#ifndef GPOTOOL_GPP_H
#define GPOTOOL_GPP_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "reg/regvalue.h"
#include "core/sbuf.h"

#define GPP_MAX_BYTES (128u * 1024 * 1024) /* 200,000 GPMC-written items are 74 MB */

/* Class IDs, exactly as GPMC writes them ([MS-GPPREF] 2.2.1.1; corpus gpp/). */
#define GPP_CLSID_SETTINGS "{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}"
#define GPP_CLSID_REGISTRY "{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}"
#define GPP_CLSID_COLLECTION "{53B533F5-224C-47e3-B01B-CA3B3F3FF4BF}"

struct gpp_doc;

/* One Registry item as read from the file (strings owned by the item). */
struct gpp_item {
	char *hive, *key, *name, *type, *action, *value, *uid, *changed;
	char *collection;   /* "A\B" of enclosing Collection names, "" at the top */
	int disabled;       /* disabled="1" */
	int has_filters;
	int is_default;     /* default="1": the key's default value */
};

/* What `gpo set` asks for. */
struct gpp_setting {
	const char *hive;            /* "HKEY_LOCAL_MACHINE" */
	const char *key;             /* below the hive, no leading/trailing backslash */
	const char *name;            /* "" = the default value */
	char action;                 /* C, R, U or D */
	struct reg_value value;      /* type and data (ignored data for D) */
	const char *changed;         /* "YYYY-MM-DD HH:MM:SS", UTC */
	const char *uid;             /* braced upper-case GUID for a new item */
	const char *filter_group, *filter_sid, *filter_computer, *filter_ou;
};

/* Parses and validates (schema_path: the RELAX NG schema), in time and memory linear in
 * the file. *out freed with gpp_free. */
int gpp_load(const uint8_t *buf, size_t len, const char *name, const char *schema_path,
	     struct gpp_doc **out, struct gt_error *e);
/* The same without a copy of buf: *out reads buf, which must outlive it (a large
 * Registry.xml is then held once, not twice). */
int gpp_load_view(const uint8_t *buf, size_t len, const char *name, const char *schema_path,
		  struct gpp_doc **out, struct gt_error *e);
void gpp_free(struct gpp_doc *doc);
/* RELAX NG runs so far, and the most items one run saw: each run checks one item or one
 * shell on its own, never the whole file (items of a shape already found valid are not run
 * again). For tests. */
extern unsigned long gpp_schema_runs, gpp_schema_widest;
/* An empty Registry.xml as GPMC writes one: BOM-less UTF-8, CRLF. */
void gpp_empty_file(struct sbuf *out);

size_t gpp_item_count(const struct gpp_doc *doc);
/* Copies item i; release with gpp_item_release. */
void gpp_item_get(const struct gpp_doc *doc, size_t i, struct gpp_item *out);
void gpp_item_release(struct gpp_item *it);
/* Index of the item keyed on hive + key + name (case-insensitive), or -1; of several, the
 * last, which is the one clients end up applying. */
long gpp_find(const struct gpp_doc *doc, const char *hive, const char *key, const char *name);

/* The item's value as GPP writes it: DWORD 8 upper-case hex digits, QWORD 16, BINARY hex
 * pairs, strings as text, MULTI_SZ parts joined by a blank. Appends to out. */
int gpp_value_text(const struct reg_value *v, struct sbuf *out, struct gt_error *e);

/* The new file with the item added (appended at the end) or, when it exists, rewritten in
 * place with its uid and everything it carries that the setting does not name. */
int gpp_apply_set(const struct gpp_doc *doc, const struct gpp_setting *s, struct sbuf *out, struct gt_error *e);
/* The new file without the item: every item for the value, as one left would still be
 * applied. 1 removed, 0 absent (out untouched). */
int gpp_apply_delete(const struct gpp_doc *doc, const char *hive, const char *key, const char *name,
		     struct sbuf *out, struct gt_error *e);

/* The new file with the item keyed by (hive, key, name) exactly as it stands in model: its
 * bytes spliced in place of the current one (or appended), or the item removed when model
 * lacks it. 1 changed, 0 already so (out untouched). */
int gpp_apply_restore(const struct gpp_doc *cur, const struct gpp_doc *model, const char *hive, const char *key,
		      const char *name, struct sbuf *out, struct gt_error *e);
/* After a restore: as gpp_verify, with the item as model has it (or absent as there). */
int gpp_verify_restored(const struct gpp_doc *old, const uint8_t *buf, size_t len, const char *schema_path,
			const char *hive, const char *key, const char *name, const struct gpp_doc *model,
			struct gt_error *e);
/* After a write: the new bytes parse and validate, every item of old other than the one
 * keyed by (hive, key, name) is present and identical (attributes and children), and that
 * item is as s says (s NULL: absent). */
int gpp_verify(const struct gpp_doc *old, const uint8_t *buf, size_t len, const char *schema_path,
	       const char *hive, const char *key, const char *name, const struct gpp_setting *s,
	       struct gt_error *e);

/* A new random GUID, braced and upper-case, as GPMC writes uids. */
void gpp_new_guid(char out[39]);

#endif
