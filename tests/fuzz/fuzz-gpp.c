/* GPP Registry.xml (gpp.h): untrusted XML from a SYSVOL share. gpp_load with the project's
 * RELAX NG schema; on success every item is read back, and two edits are made and verified
 * exactly as `gpo set` does (gpp_apply_set then gpp_verify): a new item appended, and, when
 * there is one, an existing value item rewritten in place; that item is then removed as
 * `gpo delete` does (gpp_apply_delete, gpp_verify with no setting). A verify failure on a
 * file gpp_load accepted means gpotool would refuse its own write: a finding. So is a set
 * that leaves a later item for the same value holding something else: clients apply items
 * in order, the later one wins (`gpo show` says so), so the change would not take. */
#include <locale.h>
#include <string.h>
#include <strings.h>

#include "fuzzutil.h"
#include "gpo/gpp.h"

#define SCHEMA FUZZ_SRCDIR "/templates/gpp-registry.rng"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setlocale(LC_CTYPE, "C.UTF-8");
	return 0;
}

/* The value the last item keyed like s holds in the file written (clients apply that one). */
static void last_item_holds(const struct sbuf *out, const struct gpp_setting *s)
{
	struct gt_error e = { 0 };
	struct gpp_doc *d;
	struct sbuf want;
	char *last = NULL;

	FUZZ_CHECK(gpp_load((const uint8_t *)out->buf, out->len, "written", SCHEMA, &d, &e) == 0, "%s", e.msg);
	for (size_t i = 0; i < gpp_item_count(d); i++) {
		struct gpp_item it;

		gpp_item_get(d, i, &it);
		if (*it.type && !strcasecmp(it.hive, s->hive) && !strcasecmp(it.key, s->key) && !strcasecmp(it.name, s->name)) {
			free(last);
			last = strdup(it.value);
		}
		gpp_item_release(&it);
	}
	sbuf_init(&want);
	gpp_value_text(&s->value, &want, &e);
	FUZZ_CHECK(last && strcmp(last, want.buf) == 0, "set %s\\%s\\%s to %s, but the last item for it holds %s",
		   s->hive, s->key, s->name, want.buf, last ? last : "(none)");
	sbuf_release(&want);
	free(last);
	gpp_free(d);
}

static void set_and_verify(const struct gpp_doc *doc, struct gpp_setting *s, const char *text)
{
	struct gt_error e = { 0 };
	struct sbuf out;

	reg_value_init(&s->value);
	FUZZ_CHECK(reg_value_from_text(RT_DWORD, text, &s->value, &e) == 0, "%s", e.msg);
	sbuf_init(&out);
	FUZZ_CHECK(gpp_apply_set(doc, s, &out, &e) == 0, "set %s\\%s\\%s: %s", s->hive, s->key, s->name, e.msg);
	FUZZ_CHECK(gpp_verify(doc, (const uint8_t *)out.buf, out.len, SCHEMA, s->hive, s->key, s->name, s, &e) == 0,
		   "set %s\\%s\\%s: %s", s->hive, s->key, s->name, e.msg);
	last_item_holds(&out, s);
	sbuf_release(&out);
	reg_value_release(&s->value);
}

static void delete_and_verify(const struct gpp_doc *doc, const struct gpp_setting *s)
{
	struct gt_error e = { 0 };
	struct sbuf out;

	sbuf_init(&out);
	FUZZ_CHECK(gpp_apply_delete(doc, s->hive, s->key, s->name, &out, &e) == 1, "delete %s\\%s\\%s: %s", s->hive,
		   s->key, s->name, e.msg);
	FUZZ_CHECK(gpp_verify(doc, (const uint8_t *)out.buf, out.len, SCHEMA, s->hive, s->key, s->name, NULL, &e) == 0,
		   "delete %s\\%s\\%s: %s", s->hive, s->key, s->name, e.msg);
	sbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gt_error e = { 0 };
	struct gpp_doc *doc;
	struct gpp_setting s = {
		.hive = "HKEY_LOCAL_MACHINE", .key = "SYSTEM\\CurrentControlSet\\Services\\Kdc",
		.name = "StrongCertificateBindingEnforcement", .action = 'U',
		.changed = "2025-01-01 00:00:00", .uid = "{01234567-89AB-4CDE-8F01-23456789ABCD}",
	};
	long edit = -1;

	if (gpp_load(data, size, "Registry.xml", SCHEMA, &doc, &e) < 0) {
		FUZZ_CHECK(e.code == GT_REFUSED, "code %d: %s", e.code, e.msg);
		return 0;
	}
	for (size_t i = 0; i < gpp_item_count(doc); i++) {
		struct gpp_item it;

		gpp_item_get(doc, i, &it);
		/* gpp_find keys on hive + key + name of value items (type not ""): the last match */
		if (*it.type) {
			long at = gpp_find(doc, it.hive, it.key, it.name);

			FUZZ_CHECK(at >= (long)i && at < (long)gpp_item_count(doc), "item %zu found at %ld", i, at);
			if (edit < 0)
				edit = at;
		}
		gpp_item_release(&it);
	}
	set_and_verify(doc, &s, "1");
	if (edit >= 0) {
		struct gpp_item it;

		gpp_item_get(doc, (size_t)edit, &it);
		s.hive = it.hive;
		s.key = it.key;
		s.name = it.name;
		s.action = 'R';
		set_and_verify(doc, &s, "0x2a");
		delete_and_verify(doc, &s);
		gpp_item_release(&it);
	}
	gpp_free(doc);
	return 0;
}
