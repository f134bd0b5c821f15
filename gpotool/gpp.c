/* GPP Registry.xml: safe loading, listing, byte-preserving edits and verification; see
 * gpp.h. libxml2 builds the tree we reason about; a small scanner over the same bytes
 * (already proven well-formed by libxml2) finds where each element starts and ends, so an
 * edit can replace exactly one item's bytes. */
#include "gpp.h"

#include "safefile.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

struct elem_span {
	size_t start;      /* '<' of the start tag */
	size_t stag_end;   /* just past the start tag's '>' */
	size_t end;        /* just past the end tag (for an empty element, stag_end) */
	int empty;         /* written <name .../> */
};

struct gpp_doc {
	size_t capspans;
	const char *name;
	uint8_t *bytes;    /* the file as read, BOM included */
	size_t len;
	size_t body;       /* offset past a UTF-8 BOM */
	int crlf;          /* the file's line ends are CRLF */
	xmlDocPtr doc;
	xmlNodePtr *items; /* Registry elements in document order */
	size_t *item_elem; /* each item's index among all elements, in document order */
	size_t nitems;
	struct elem_span *spans;
	size_t nspans;
};

/* ---- libxml2 set-up: quiet, offline, no entity loading ---- */

struct xml_errors {
	char msg[256];
	int line;
	int seen;
};

static void capture_error(void *ctx, const xmlError *err)
{
	struct xml_errors *x = ctx;

	if (!x || x->seen || !err)
		return;
	x->seen = 1;
	x->line = err->line;
	snprintf(x->msg, sizeof(x->msg), "%s", err->message ? err->message : "unknown XML error");
	x->msg[strcspn(x->msg, "\n")] = '\0';
}

static void ignore_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* Nothing is ever fetched: external DTDs and entities resolve to nothing at all. */
static xmlParserInputPtr deny_external(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

static void xml_setup(struct xml_errors *x)
{
	xmlSetGenericErrorFunc(NULL, ignore_generic);
	xmlSetStructuredErrorFunc(x, (xmlStructuredErrorFunc)capture_error);
	xmlSetExternalEntityLoader(deny_external);
}

/* ---- the byte scanner ---- */

static const uint8_t *find_bytes(const uint8_t *p, const uint8_t *end, const char *what)
{
	size_t n = strlen(what);

	for (; p + n <= end; p++)
		if (memcmp(p, what, n) == 0)
			return p + n;
	return NULL;
}

static int scan_elements(struct gpp_doc *d, struct gt_error *e)
{
	const uint8_t *base = d->bytes, *p = d->bytes + d->body, *end = d->bytes + d->len;
	size_t *stack = NULL, depth = 0, cap = 0;

	while (p < end) {
		const uint8_t *next;

		if (*p != '<') {
			p++;
			continue;
		}
		if (end - p >= 4 && memcmp(p, "<!--", 4) == 0)
			next = find_bytes(p + 4, end, "-->");
		else if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
			next = find_bytes(p + 9, end, "]]>");
		else if (end - p >= 2 && p[1] == '?')
			next = find_bytes(p + 2, end, "?>");
		else if (end - p >= 2 && p[1] == '/') {
			next = find_bytes(p, end, ">");
			if (next && depth)
				d->spans[stack[--depth]].end = (size_t)(next - base);
		} else if (end - p >= 2 && p[1] == '!') {
			next = NULL;
		} else {
			char quote = 0;
			const uint8_t *q = p + 1;

			for (; q < end; q++) {
				if (quote) {
					if (*q == quote)
						quote = 0;
				} else if (*q == '"' || *q == '\'') {
					quote = (char)*q;
				} else if (*q == '>') {
					break;
				}
			}
			next = q < end ? q + 1 : NULL;
			if (next) {
				if (d->nspans == d->capspans) {
					d->capspans = d->capspans ? 2 * d->capspans : 256;
					d->spans = xrealloc(d->spans, d->capspans * sizeof(*d->spans));
				}
				d->spans[d->nspans].start = (size_t)(p - base);
				d->spans[d->nspans].stag_end = d->spans[d->nspans].end = (size_t)(next - base);
				d->spans[d->nspans].empty = q[-1] == '/';
				if (!d->spans[d->nspans].empty) {
					if (depth == cap) {
						cap = cap ? 2 * cap : 64;
						stack = xrealloc(stack, cap * sizeof(*stack));
					}
					stack[depth++] = d->nspans;
				}
				d->nspans++;
			}
		}
		if (!next) {
			free(stack);
			return gt_fail(e, GT_FAILED, "internal error: cannot locate elements in '%s'", d->name);
		}
		p = next;
	}
	free(stack);
	return 0;
}

/* ---- loading ---- */

static int is_element(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static void collect_items(struct gpp_doc *d, xmlNodePtr n, size_t *elem_index)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(n, "Registry")) {
			/* doubling: a 10,000-item file must not cost 10,000 copies */
			if ((d->nitems & (d->nitems - 1)) == 0) {
				size_t cap = d->nitems ? 2 * d->nitems : 1;

				d->items = xrealloc(d->items, cap * sizeof(*d->items));
				d->item_elem = xrealloc(d->item_elem, cap * sizeof(*d->item_elem));
			}
			d->items[d->nitems] = n;
			d->item_elem[d->nitems] = *elem_index;
			d->nitems++;
		}
		(*elem_index)++;
		collect_items(d, n->children, elem_index);
	}
}

static int validate_schema(xmlDocPtr doc, const char *schema_path, struct xml_errors *x, struct gt_error *e)
{
	xmlRelaxNGParserCtxtPtr pctxt = NULL;
	xmlRelaxNGValidCtxtPtr vctxt = NULL;
	xmlRelaxNGPtr schema = NULL;
	uint8_t *text = NULL;
	size_t len = 0;
	int ret = 0;

	/* read here: the entity loader refuses every file, the schema included */
	if (read_whole_file(schema_path, 1024 * 1024, &text, &len, e) < 0)
		return gt_prefix(e, "cannot load the Registry.xml schema: ");
	pctxt = xmlRelaxNGNewMemParserCtxt((const char *)text, (int)len);
	if (pctxt) {
		xmlRelaxNGSetParserStructuredErrors(pctxt, (xmlStructuredErrorFunc)capture_error, x);
		schema = xmlRelaxNGParse(pctxt);
	}
	if (!schema) {
		ret = gt_fail(e, GT_FAILED, "cannot load the schema '%s'%s%s", schema_path, x->seen ? ": " : "", x->msg);
		goto out;
	}
	x->seen = 0;
	vctxt = xmlRelaxNGNewValidCtxt(schema);
	xmlRelaxNGSetValidStructuredErrors(vctxt, (xmlStructuredErrorFunc)capture_error, x);
	if (xmlRelaxNGValidateDoc(vctxt, doc) != 0)
		ret = gt_fail(e, GT_REFUSED, "line %d: does not match the Registry.xml schema: %s", x->line,
			      x->seen ? x->msg : "invalid");
out:
	xmlRelaxNGFreeValidCtxt(vctxt);
	xmlRelaxNGFree(schema);
	xmlRelaxNGFreeParserCtxt(pctxt);
	free(text);
	return ret;
}

static int check_bytes(const uint8_t *buf, size_t len, struct gt_error *e)
{
	if (len > GPP_MAX_BYTES)
		return gt_fail(e, GT_REFUSED, "larger than %u bytes", GPP_MAX_BYTES);
	if (len >= 2 && ((buf[0] == 0xFF && buf[1] == 0xFE) || (buf[0] == 0xFE && buf[1] == 0xFF)))
		return gt_fail(e, GT_REFUSED, "UTF-16; GPMC writes Registry.xml in UTF-8");
	if (memchr(buf, '\0', len))
		return gt_fail(e, GT_REFUSED, "holds NUL bytes");
	/* no DTD at all: it is how entity expansion (billion laughs) and XXE get in */
	if (find_bytes(buf, buf + len, "<!DOCTYPE") || find_bytes(buf, buf + len, "<!ENTITY"))
		return gt_fail(e, GT_REFUSED, "has a DTD or entity declaration, which Registry.xml never has");
	return 0;
}

static int parse_doc(struct gpp_doc *d, struct xml_errors *x, struct gt_error *e)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	xmlNodePtr root;

	if (!ctxt)
		return gt_fail(e, GT_FAILED, "out of memory");
	/* NONET and no NOENT/DTDLOAD/HUGE: libxml2's default limits on depth and sizes apply */
	d->doc = xmlCtxtReadMemory(ctxt, (const char *)d->bytes, (int)d->len, NULL, NULL, XML_PARSE_NONET);
	xmlFreeParserCtxt(ctxt);
	if (!d->doc)
		return gt_fail(e, GT_REFUSED, "line %d: not well-formed XML: %s", x->line, x->seen ? x->msg : "parse error");
	if (d->doc->intSubset || d->doc->extSubset)
		return gt_fail(e, GT_REFUSED, "has a DTD, which Registry.xml never has");
	if (d->doc->encoding && strcasecmp((const char *)d->doc->encoding, "utf-8") && strcasecmp((const char *)d->doc->encoding, "utf8"))
		return gt_fail(e, GT_REFUSED, "declares encoding '%s'; GPMC writes Registry.xml in UTF-8", d->doc->encoding);
	root = xmlDocGetRootElement(d->doc);
	if (!is_element(root, "RegistrySettings"))
		return gt_fail(e, GT_REFUSED, "root element is <%s>, not <RegistrySettings>: not a GPP Registry.xml",
			       root ? (const char *)root->name : "(none)");
	return 0;
}

int gpp_load(const uint8_t *buf, size_t len, const char *name, const char *schema_path,
	     struct gpp_doc **out, struct gt_error *e)
{
	struct xml_errors x = { .seen = 0 };
	struct gpp_doc *d;
	size_t elems = 0;

	*out = NULL;
	if (check_bytes(buf, len, e) < 0)
		return gt_prefix(e, "'%s': ", name);
	d = xcalloc(1, sizeof(*d));
	d->name = name;
	d->bytes = xmemdup(buf, len);
	d->len = len;
	d->body = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	d->crlf = find_bytes(buf, buf + len, "\r\n") != NULL;
	xml_setup(&x);
	if (parse_doc(d, &x, e) < 0 || validate_schema(d->doc, schema_path, &x, e) < 0) {
		gt_prefix(e, "'%s': ", name);
		gpp_free(d);
		return -1;
	}
	collect_items(d, xmlDocGetRootElement(d->doc), &elems);
	if (scan_elements(d, e) < 0 || d->nspans != elems) {
		gt_fail(e, GT_FAILED, "internal error: '%s' has %zu elements but %zu were located", name, elems, d->nspans);
		gpp_free(d);
		return -1;
	}
	*out = d;
	return 0;
}

void gpp_free(struct gpp_doc *d)
{
	if (!d)
		return;
	xmlFreeDoc(d->doc);
	free(d->bytes);
	free(d->items);
	free(d->item_elem);
	free(d->spans);
	free(d);
}

void gpp_empty_file(struct sbuf *out)
{
	sbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<RegistrySettings clsid=\"" GPP_CLSID_SETTINGS "\">\r\n</RegistrySettings>\r\n");
}

/* ---- reading items ---- */

static xmlNodePtr child_element(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (is_element(c, name))
			return c;
	return NULL;
}

static char *attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
	char *s = xstrdup(v ? (const char *)v : "");

	xmlFree(v);
	return s;
}

size_t gpp_item_count(const struct gpp_doc *d)
{
	return d->nitems;
}

void gpp_item_get(const struct gpp_doc *d, size_t i, struct gpp_item *it)
{
	xmlNodePtr n = d->items[i], props = child_element(n, "Properties");
	struct sbuf coll;
	char *flag;

	it->hive = attr(props, "hive");
	it->key = attr(props, "key");
	it->name = attr(props, "name");
	it->type = attr(props, "type");
	it->action = attr(props, "action");
	it->value = attr(props, "value");
	it->uid = attr(n, "uid");
	it->changed = attr(n, "changed");
	flag = attr(n, "disabled");
	it->disabled = strcmp(flag, "1") == 0;
	free(flag);
	flag = attr(props, "default");
	it->is_default = strcmp(flag, "1") == 0;
	free(flag);
	it->has_filters = child_element(n, "Filters") != NULL;
	sbuf_init(&coll);
	for (xmlNodePtr p = n->parent; p && is_element(p, "Collection"); p = p->parent) {
		char *name = attr(p, "name");
		struct sbuf t;

		sbuf_init(&t);
		sbuf_addf(&t, "%s%s%s", name, coll.len ? "\\" : "", coll.buf);
		sbuf_release(&coll);
		coll = t;
		free(name);
	}
	it->collection = sbuf_detach(&coll, NULL);
}

void gpp_item_release(struct gpp_item *it)
{
	free(it->hive);
	free(it->key);
	free(it->name);
	free(it->type);
	free(it->action);
	free(it->value);
	free(it->uid);
	free(it->changed);
	free(it->collection);
	memset(it, 0, sizeof(*it));
}

/* A value item, not one of the Registry Wizard's key-only items (type=""), which create
 * a key and share the empty name with the key's default value. */
/* Item i sets or deletes the value hive\key\name (key-only items, type "", do not). */
static int item_has_key(const struct gpp_doc *d, size_t i, const char *hive, const char *key, const char *name)
{
	xmlNodePtr props = child_element(d->items[i], "Properties");
	char *h = attr(props, "hive"), *k = attr(props, "key"), *nm = attr(props, "name"), *t = attr(props, "type");
	int match = *t && strcasecmp(h, hive) == 0 && strcasecmp(k, key) == 0 && strcasecmp(nm, name) == 0;

	free(h);
	free(k);
	free(nm);
	free(t);
	return match;
}

long gpp_find(const struct gpp_doc *d, const char *hive, const char *key, const char *name)
{
	/* from the end: clients apply the items in order, so of two for one value the last wins */
	for (size_t i = d->nitems; i-- > 0;)
		if (item_has_key(d, i, hive, key, name))
			return (long)i;
	return -1;
}

/* ---- writing ---- */

int gpp_value_text(const struct reg_value *v, struct sbuf *out, struct gt_error *e)
{
	switch (v->type) {
	case RT_DWORD:
		if (v->len != 4)
			return gt_fail(e, GT_USAGE, "a REG_DWORD is 4 bytes");
		sbuf_addf(out, "%02X%02X%02X%02X", v->data[3], v->data[2], v->data[1], v->data[0]);
		return 0;
	case RT_QWORD:
		if (v->len != 8)
			return gt_fail(e, GT_USAGE, "a REG_QWORD is 8 bytes");
		for (size_t i = 8; i-- > 0;)
			sbuf_addf(out, "%02X", v->data[i]);
		return 0;
	case RT_BINARY:
		for (size_t i = 0; i < v->len; i++)
			sbuf_addf(out, "%02X", v->data[i]);
		return 0;
	case RT_SZ:
	case RT_EXPAND_SZ:
		utf16le_to_utf8(v->data, v->len >= 2 ? v->len - 2 : 0, out);
		return 0;
	case RT_MULTI_SZ: {
		/* parts are NUL-terminated UTF-16 strings, the list ends with an empty one */
		size_t i = 0;
		int first = 1;

		while (i + 1 < v->len) {
			size_t j = i;

			while (j + 1 < v->len && (v->data[j] || v->data[j + 1]))
				j += 2;
			if (j == i)
				break;
			if (!first)
				sbuf_addch(out, ' ');
			utf16le_to_utf8(v->data + i, j - i, out);
			first = 0;
			i = j + 2;
		}
		return 0;
	}
	default:
		return gt_fail(e, GT_USAGE, "Group Policy Preferences cannot carry %s values", reg_type_name(v->type));
	}
}

static void multi_sz_parts(const struct reg_value *v, xmlNodePtr values, xmlNsPtr ns)
{
	size_t i = 0;

	while (i + 1 < v->len) {
		size_t j = i;
		struct sbuf part;

		while (j + 1 < v->len && (v->data[j] || v->data[j + 1]))
			j += 2;
		if (j == i)
			break;
		sbuf_init(&part);
		utf16le_to_utf8(v->data + i, j - i, &part);
		xmlNewTextChild(values, ns, (const xmlChar *)"Value", (const xmlChar *)part.buf);
		sbuf_release(&part);
		i = j + 2;
	}
}

static int is_string_type(uint32_t type)
{
	return type == RT_SZ || type == RT_EXPAND_SZ || type == RT_MULTI_SZ;
}

/* GPMC's item icon: 0-3 for string values and 10-13 for DWORD/QWORD/BINARY by action
 * C/R/U/D, 5 more for a key's default value (observed in every GPMC-written file of the
 * corpus: gpp/detectionlab_*, gpp/group3r_*, gpp/osdeploy_*). */
static int item_image(const struct gpp_setting *s)
{
	static const char actions[] = "CRUD";
	int base = is_string_type(s->value.type) ? 0 : 10;

	if (!*s->name)
		base += 5;
	return base + (int)(strchr(actions, s->action) - actions);
}

static void set_attr(xmlNodePtr n, const char *name, const char *value)
{
	xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

static const char *last_component(const char *key)
{
	const char *s = strrchr(key, '\\');

	return s ? s + 1 : key;
}

static void add_filters(xmlNodePtr item, const struct gpp_setting *s)
{
	xmlNodePtr old = child_element(item, "Filters"), f, c;

	if (!s->filter_group && !s->filter_computer && !s->filter_ou)
		return;
	if (old) {
		xmlUnlinkNode(old);
		xmlFreeNode(old);
	}
	f = xmlNewChild(item, NULL, (const xmlChar *)"Filters", NULL);
	/* attribute order as GPMC writes them (corpus gpp/ilt/) */
	if (s->filter_group) {
		c = xmlNewChild(f, NULL, (const xmlChar *)"FilterGroup", NULL);
		set_attr(c, "bool", "AND");
		set_attr(c, "not", "0");
		set_attr(c, "name", s->filter_group);
		set_attr(c, "sid", s->filter_sid ? s->filter_sid : "");
		set_attr(c, "userContext", "0");
		set_attr(c, "primaryGroup", "0");
		set_attr(c, "localGroup", "0");
	}
	if (s->filter_computer) {
		c = xmlNewChild(f, NULL, (const xmlChar *)"FilterComputer", NULL);
		set_attr(c, "bool", "AND");
		set_attr(c, "not", "0");
		set_attr(c, "type", strchr(s->filter_computer, '.') ? "DNS" : "NETBIOS");
		set_attr(c, "name", s->filter_computer);
	}
	if (s->filter_ou) {
		c = xmlNewChild(f, NULL, (const xmlChar *)"FilterOrgUnit", NULL);
		set_attr(c, "bool", "AND");
		set_attr(c, "not", "0");
		set_attr(c, "name", s->filter_ou);
		set_attr(c, "userContext", "0");
		set_attr(c, "directMember", "0");
	}
}

/* Sets the Properties of an item (new or existing) to what s asks; other attributes stay. */
static int fill_properties(xmlNodePtr props, const struct gpp_setting *s, struct gt_error *e)
{
	char action[2] = { s->action, '\0' };
	xmlNodePtr values = child_element(props, "Values");
	struct sbuf value;

	if (values) {
		xmlUnlinkNode(values);
		xmlFreeNode(values);
	}
	sbuf_init(&value);
	if (s->action != 'D' && gpp_value_text(&s->value, &value, e) < 0) {
		sbuf_release(&value);
		return -1;
	}
	set_attr(props, "action", action);
	if (!xmlHasProp(props, (const xmlChar *)"displayDecimal"))
		set_attr(props, "displayDecimal", "0");
	set_attr(props, "default", *s->name ? "0" : "1");
	set_attr(props, "hive", s->hive);
	set_attr(props, "key", s->key);
	set_attr(props, "name", s->name);
	set_attr(props, "type", reg_type_name(s->value.type));
	set_attr(props, "value", value.buf);
	if (s->value.type == RT_MULTI_SZ && s->action != 'D')
		multi_sz_parts(&s->value, xmlNewChild(props, NULL, (const xmlChar *)"Values", NULL), NULL);
	sbuf_release(&value);
	return 0;
}

static void set_item_attrs(xmlNodePtr item, const struct gpp_setting *s)
{
	char image[8];

	snprintf(image, sizeof(image), "%d", item_image(s));
	set_attr(item, "name", *s->name ? s->name : last_component(s->key));
	set_attr(item, "status", *s->name ? s->name : "(Default)");
	set_attr(item, "image", image);
	set_attr(item, "changed", s->changed);
	/* setting an item means wanting it applied: a disabled one is enabled, in place */
	if (xmlHasProp(item, (const xmlChar *)"disabled"))
		set_attr(item, "disabled", "0");
}

static xmlNodePtr new_item(xmlDocPtr doc, const struct gpp_setting *s, struct gt_error *e)
{
	xmlNodePtr item = xmlNewDocNode(doc, NULL, (const xmlChar *)"Registry", NULL);

	/* GPMC's order: clsid, name, status, image, changed, uid */
	set_attr(item, "clsid", GPP_CLSID_REGISTRY);
	set_item_attrs(item, s);
	set_attr(item, "uid", s->uid);
	if (fill_properties(xmlNewChild(item, NULL, (const xmlChar *)"Properties", NULL), s, e) < 0) {
		xmlFreeNode(item);
		return NULL;
	}
	add_filters(item, s);
	return item;
}

/* libxml2 writes an element back exactly from the tree; line ends follow the file's own. */
static void dump_node(const struct gpp_doc *d, xmlNodePtr n, struct sbuf *out)
{
	xmlBufferPtr b = xmlBufferCreate();

	xmlNodeDump(b, d->doc, n, 0, 0);
	for (const xmlChar *p = xmlBufferContent(b); *p; p++) {
		if (*p == '\n' && d->crlf)
			sbuf_addch(out, '\r');
		sbuf_addch(out, (char)*p);
	}
	xmlBufferFree(b);
}

/* Where the run of whitespace just before element i begins. */
static void leading_space(const struct gpp_doc *d, size_t elem, size_t *from)
{
	size_t p = d->spans[elem].start;

	while (p > d->body && strchr(" \t\r\n", d->bytes[p - 1]))
		p--;
	*from = p;
}

static void splice(const struct gpp_doc *d, size_t from, size_t to, const char *text, size_t n, struct sbuf *out)
{
	sbuf_add(out, d->bytes, from);
	sbuf_add(out, text, n);
	sbuf_add(out, d->bytes + to, d->len - to);
}

/* Inserts an item's text as the root's last child: after the last child element, with the
 * same whitespace that stands before it; in an empty root, right after its start tag. */
static void append_item_text(const struct gpp_doc *d, const char *item, size_t n, struct sbuf *out)
{
	const struct elem_span *root = &d->spans[0];
	const char *eol = d->crlf ? "\r\n" : "\n";
	size_t last = 0, ws_from, insert_at, resume_at;
	struct sbuf text;

	/* the root's children are the elements that start where the previous one ended */
	for (size_t i = 1; i < d->nspans; i++)
		if (d->spans[i].start < root->end && (last == 0 || d->spans[i].start >= d->spans[last].end))
			last = i;
	sbuf_init(&text);
	if (last) {
		leading_space(d, last, &ws_from);
		sbuf_add(&text, d->bytes + ws_from, d->spans[last].start - ws_from);
		insert_at = resume_at = d->spans[last].end;
		sbuf_add(&text, item, n);
	} else if (root->empty) {
		/* <RegistrySettings .../>: open it up around the item */
		insert_at = root->stag_end - 2;
		resume_at = root->stag_end;
		sbuf_addch(&text, '>');
		sbuf_add(&text, item, n);
		sbuf_addf(&text, "%s</RegistrySettings>", eol);
	} else {
		insert_at = resume_at = root->stag_end;
		sbuf_add(&text, item, n);
	}
	sbuf_add(out, d->bytes, insert_at);
	sbuf_add(out, text.buf, text.len);
	sbuf_add(out, d->bytes + resume_at, d->len - resume_at);
	sbuf_release(&text);
}

static void append_item(const struct gpp_doc *d, xmlNodePtr item, struct sbuf *out)
{
	struct sbuf text;

	sbuf_init(&text);
	dump_node(d, item, &text);
	append_item_text(d, text.buf, text.len, out);
	sbuf_release(&text);
}

int gpp_apply_set(const struct gpp_doc *d, const struct gpp_setting *s, struct sbuf *out, struct gt_error *e)
{
	long i = gpp_find(d, s->hive, s->key, s->name);
	xmlNodePtr item;

	if (strchr("CRUD", s->action) == NULL || s->action == '\0')
		return gt_fail(e, GT_USAGE, "action must be C, R, U or D");
	if (i < 0) {
		item = new_item(d->doc, s, e);
		if (!item)
			return -1;
		append_item(d, item, out);
		xmlFreeNode(item);
		return 0;
	}
	/* rewrite a copy of the existing item: its uid, filters and unknown parts stay */
	item = xmlDocCopyNode(d->items[i], d->doc, 1);
	set_item_attrs(item, s);
	if (fill_properties(child_element(item, "Properties"), s, e) < 0) {
		xmlFreeNode(item);
		return -1;
	}
	add_filters(item, s);
	{
		struct sbuf text;
		const struct elem_span *sp = &d->spans[d->item_elem[i]];

		sbuf_init(&text);
		dump_node(d, item, &text);
		splice(d, sp->start, sp->end, text.buf, text.len, out);
		sbuf_release(&text);
	}
	xmlFreeNode(item);
	return 0;
}

int gpp_apply_delete(const struct gpp_doc *d, const char *hive, const char *key, const char *name,
		     struct sbuf *out, struct gt_error *e)
{
	size_t at = 0, from;
	int removed = 0;

	(void)e;
	/* every item for the value: one left behind would still be applied */
	for (size_t i = 0; i < d->nitems; i++) {
		if (!item_has_key(d, i, hive, key, name))
			continue;
		leading_space(d, d->item_elem[i], &from);
		if (from < at)
			from = at;
		if (!removed)
			sbuf_add(out, d->bytes, from);
		else
			sbuf_add(out, d->bytes + at, from - at);
		at = d->spans[d->item_elem[i]].end;
		removed = 1;
	}
	if (removed)
		sbuf_add(out, d->bytes + at, d->len - at);
	return removed;
}

int gpp_apply_restore(const struct gpp_doc *cur, const struct gpp_doc *model, const char *hive, const char *key,
		      const char *name, struct sbuf *out, struct gt_error *e)
{
	long ci = gpp_find(cur, hive, key, name), mi = gpp_find(model, hive, key, name);
	const struct elem_span *msp;

	if (mi < 0)
		return gpp_apply_delete(cur, hive, key, name, out, e);
	/* the model's own bytes: uid, filters, comments and quoting exactly as they were */
	msp = &model->spans[model->item_elem[mi]];
	if (ci >= 0) {
		const struct elem_span *csp = &cur->spans[cur->item_elem[ci]];

		if (csp->end - csp->start == msp->end - msp->start &&
		    memcmp(cur->bytes + csp->start, model->bytes + msp->start, csp->end - csp->start) == 0)
			return 0;
		splice(cur, csp->start, csp->end, (const char *)model->bytes + msp->start, msp->end - msp->start, out);
	} else {
		append_item_text(cur, (const char *)model->bytes + msp->start, msp->end - msp->start, out);
	}
	return 1;
}

/* ---- verification ---- */

static void dump_plain(xmlDocPtr doc, xmlNodePtr n, struct sbuf *out)
{
	xmlBufferPtr b = xmlBufferCreate();

	xmlNodeDump(b, doc, n, 0, 0);
	sbuf_addstr(out, (const char *)xmlBufferContent(b));
	xmlBufferFree(b);
}

/* skip_old < 0 with gone_key set: every old item for that value is gone (a delete). */
static int same_other_items(const struct gpp_doc *old, const struct gpp_doc *new_doc, long skip_old, long skip_new,
			    const char *const *gone_key, struct gt_error *e)
{
	size_t i = 0, j = 0, n_old = old->nitems;
	struct sbuf a, b;
	int ret = 0;

	if (gone_key)
		for (size_t k = 0; k < old->nitems; k++)
			n_old -= item_has_key(old, k, gone_key[0], gone_key[1], gone_key[2]);
	else
		n_old -= skip_old >= 0;
	sbuf_init(&a);
	sbuf_init(&b);
	while (ret == 0) {
		while (gone_key && i < old->nitems && item_has_key(old, i, gone_key[0], gone_key[1], gone_key[2]))
			i++;
		if ((long)i == skip_old)
			i++;
		if ((long)j == skip_new)
			j++;
		if (i >= old->nitems || j >= new_doc->nitems) {
			if (i < old->nitems || j < new_doc->nitems)
				ret = gt_fail(e, GT_FAILED, "verification failed: the written Registry.xml has %zu other items, not %zu",
					      new_doc->nitems - (skip_new >= 0), n_old);
			break;
		}
		sbuf_reset(&a);
		sbuf_reset(&b);
		dump_plain(old->doc, old->items[i], &a);
		dump_plain(new_doc->doc, new_doc->items[j], &b);
		if (strcmp(a.buf, b.buf) != 0)
			ret = gt_fail(e, GT_FAILED, "verification failed: item %zu of the written Registry.xml differs from the original", i + 1);
		i++;
		j++;
	}
	sbuf_release(&a);
	sbuf_release(&b);
	return ret;
}

static int item_matches(const struct gpp_doc *d, long i, const struct gpp_setting *s, struct gt_error *e)
{
	struct gpp_item it;
	struct sbuf want;
	char action[2] = { s->action, '\0' };
	int ok;

	sbuf_init(&want);
	if (s->action != 'D' && gpp_value_text(&s->value, &want, e) < 0) {
		sbuf_release(&want);
		return -1;
	}
	gpp_item_get(d, (size_t)i, &it);
	ok = strcmp(it.action, action) == 0 && strcmp(it.type, reg_type_name(s->value.type)) == 0 &&
	     strcmp(it.value, want.buf) == 0 && strcmp(it.hive, s->hive) == 0;
	gpp_item_release(&it);
	sbuf_release(&want);
	if (!ok)
		return gt_fail(e, GT_FAILED, "verification failed: the written item does not hold the value asked for");
	return 0;
}

int gpp_verify(const struct gpp_doc *old, const uint8_t *buf, size_t len, const char *schema_path,
	       const char *hive, const char *key, const char *name, const struct gpp_setting *s,
	       struct gt_error *e)
{
	struct gpp_doc *d;
	long in_old = gpp_find(old, hive, key, name), in_new;
	int ret;

	if (gpp_load(buf, len, "the written Registry.xml", schema_path, &d, e) < 0)
		return gt_prefix(e, "verification failed: ");
	in_new = gpp_find(d, hive, key, name);
	if (s && in_new < 0)
		ret = gt_fail(e, GT_FAILED, "verification failed: the written Registry.xml lacks the item");
	else if (!s && in_new >= 0)
		ret = gt_fail(e, GT_FAILED, "verification failed: the written Registry.xml still has the item");
	else
		ret = same_other_items(old, d, s ? in_old : -1, in_new, s ? NULL : (const char *const[]){ hive, key, name }, e);
	if (ret == 0 && s)
		ret = item_matches(d, in_new, s, e);
	gpp_free(d);
	return ret;
}

int gpp_verify_restored(const struct gpp_doc *old, const uint8_t *buf, size_t len, const char *schema_path,
			const char *hive, const char *key, const char *name, const struct gpp_doc *model,
			struct gt_error *e)
{
	long in_old = gpp_find(old, hive, key, name), in_new, in_model = gpp_find(model, hive, key, name);
	struct gpp_doc *d;
	int ret;

	if (gpp_load(buf, len, "the written Registry.xml", schema_path, &d, e) < 0)
		return gt_prefix(e, "verification failed: ");
	in_new = gpp_find(d, hive, key, name);
	if ((in_new >= 0) != (in_model >= 0))
		ret = gt_fail(e, GT_FAILED, "verification failed: the written Registry.xml %s the item",
			      in_new >= 0 ? "still has" : "lacks");
	else
		ret = same_other_items(old, d, in_old, in_new, in_model < 0 ? (const char *const[]){ hive, key, name } : NULL, e);
	if (ret == 0 && in_new >= 0) {
		struct sbuf a, b;

		sbuf_init(&a);
		sbuf_init(&b);
		dump_plain(model->doc, model->items[in_model], &a);
		dump_plain(d->doc, d->items[in_new], &b);
		if (strcmp(a.buf, b.buf) != 0)
			ret = gt_fail(e, GT_FAILED, "verification failed: the written item differs from the one restored");
		sbuf_release(&a);
		sbuf_release(&b);
	}
	gpp_free(d);
	return ret;
}

void gpp_new_guid(char out[39])
{
	unsigned char r[16] = { 0 };

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)rand();
	r[6] = (r[6] & 0x0F) | 0x40; /* version 4 */
	r[8] = (r[8] & 0x3F) | 0x80; /* RFC 4122 variant */
	snprintf(out, 39, "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}
