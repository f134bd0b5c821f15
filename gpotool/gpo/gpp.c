/* GPP Registry.xml: safe loading, listing, byte-preserving edits and verification; see
 * gpp.h. libxml2's streaming reader walks the file once: each item (each child of
 * RegistrySettings or of a Collection) is expanded on its own, checked against the schema
 * in its ancestors' context, recorded, and freed, so time and memory stay linear in the
 * file (a whole-document DOM and libxml2's RELAX NG over 200,000 siblings were neither). A
 * small scanner over the same bytes (proven well-formed by libxml2) finds where each
 * element starts and ends, so an edit can replace exactly one item's bytes. */
#include "gpo/gpp.h"

#include "core/safefile.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>
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

/* An item's fields, as offsets of NUL-terminated strings in the document's string arena. */
enum { GF_HIVE, GF_KEY, GF_NAME, GF_TYPE, GF_ACTION, GF_VALUE, GF_UID, GF_CHANGED, GF_COUNT };

struct item_rec {
	uint32_t f[GF_COUNT];
	size_t elem;            /* its <Registry> element's index among all elements (spans) */
	long coll;              /* index of the enclosing Collection (colls), -1 at the top */
	unsigned char disabled, is_default, has_filters;
};

/* A Collection: its name and the one enclosing it, so that an item's path costs nothing
 * until it is asked for. */
struct coll_rec {
	uint32_t name;
	long parent;
};

struct gpp_doc {
	const char *name;
	const uint8_t *bytes;  /* the file as read, BOM included (owned, or the caller's for a view) */
	uint8_t *owned;
	size_t len;
	size_t body;           /* offset past a UTF-8 BOM */
	int crlf;              /* the file's line ends are CRLF */
	struct item_rec *items;
	size_t nitems, capitems;
	struct coll_rec *colls;
	size_t ncolls, capcolls;
	struct sbuf strings;   /* the arena the records point into */
	struct elem_span *spans;
	size_t nspans, capspans;
};

/* ---- libxml2 set-up: quiet, offline, no entity loading ---- */

struct xml_errors {
	char msg[256];
	int line;
	const void *node;  /* the node a schema error names, when it names one */
	int seen;
};

static void capture_error(void *ctx, const xmlError *err)
{
	struct xml_errors *x = ctx;

	if (!x || x->seen || !err)
		return;
	x->seen = 1;
	x->line = err->line;
	x->node = err->node;
	snprintf(x->msg, sizeof(x->msg), "%s", err->message ? err->message : "unknown XML error");
	x->msg[strcspn(x->msg, "\n")] = '\0';
}

static void capture_reader_error(void *ctx, xmlErrorPtr err)
{
	capture_error(ctx, err);
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
	const uint8_t *at = p < end ? memmem(p, (size_t)(end - p), what, n) : NULL;

	return at ? at + n : NULL;
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

/* ---- the schema, one item at a time ---- */

/* Each child of RegistrySettings or of a Collection is validated on its own, in a small
 * document holding copies of its ancestors' start tags (RegistrySettings, Collections) and
 * the child: the schema's "settings" content is a zeroOrMore of independent choices, so the
 * file is valid when each child is, and libxml2 never walks 200,000 siblings at once (its
 * zeroOrMore keeps every position as a state and compares each new one with all before).
 *
 * Items mostly share one shape, so a child whose shape was already found valid is not
 * validated again. The shape is the child's subtree with the values left out of the
 * attributes the schema never constrains (those declared with no content or <text/>, like
 * key, name, uid, changed); every other value, every name and all text stay in. The list
 * comes from the schema itself, so an edited schema cannot be cheated: an attribute it
 * constrains anywhere keeps its value in every shape, and a constrained wildcard
 * attribute turns the cache off. */

#define SHAPE_CACHE_SLOTS 1024u

unsigned long gpp_schema_runs, gpp_schema_widest;

struct validator {
	xmlRelaxNGParserCtxtPtr pctxt;
	xmlRelaxNGPtr schema;
	xmlRelaxNGValidCtxtPtr vctxt;
	xmlDocPtr mini;           /* RegistrySettings -> Collection shells -> the child checked */
	xmlNodePtr tail;          /* the innermost shell: where the child goes */
	size_t chain_elem[256];   /* element index of each shell (0 is the root) */
	size_t chain_key[256];    /* length of key at each level, to pop back to */
	size_t depth;             /* shells below the root */
	struct sbuf key;          /* the shapes of the shells, then of the child */
	char **constrained;       /* attribute names whose values the schema constrains */
	size_t nconstrained;
	int cache_on;
	char *cache[SHAPE_CACHE_SLOTS];
	size_t cached;
	struct xml_errors *x;
};

static int is_rng(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       xmlStrcmp(n->ns->href, (const xmlChar *)"http://relaxng.org/ns/structure/1.0") == 0 &&
	       xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static xmlNodePtr first_element(xmlNodePtr n)
{
	for (; n && n->type != XML_ELEMENT_NODE; n = n->next)
		;
	return n;
}

static void add_constrained(struct validator *v, const char *name)
{
	v->constrained = xrealloc(v->constrained, (v->nconstrained + 1) * sizeof(*v->constrained));
	v->constrained[v->nconstrained++] = xstrdup(name);
}

/* The names an attribute pattern's name class allows: 1 specific names (added when
 * constrained), 0 a wildcard (anyName, nsName). */
static int name_class(struct validator *v, xmlNodePtr nc, int constrained)
{
	if (is_rng(nc, "name")) {
		xmlChar *t = xmlNodeGetContent(nc);
		char *s = (char *)t, *end;

		while (s && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
			s++;
		for (end = s ? s + strlen(s) : NULL; end && end > s && strchr(" \t\r\n", end[-1]); end--)
			*(end - 1) = '\0';
		if (constrained && s)
			add_constrained(v, s);
		xmlFree(t);
		return 1;
	}
	if (is_rng(nc, "choice")) {
		int all = 1;

		for (xmlNodePtr c = first_element(nc->children); c; c = first_element(c->next))
			all &= name_class(v, c, constrained);
		return all;
	}
	return 0;
}

/* Walks the schema for <attribute> patterns and collects the names whose values matter. */
static void find_constrained(struct validator *v, xmlNodePtr n)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_rng(n, "attribute")) {
			xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
			xmlNodePtr content = first_element(n->children);
			int free_text = 1, specific;

			if (!name)
				content = content ? first_element(content->next) : NULL; /* past the name class */
			for (xmlNodePtr c = content; c; c = first_element(c->next))
				free_text &= is_rng(c, "text");
			if (name) {
				if (!free_text)
					add_constrained(v, (const char *)name);
				specific = 1;
			} else {
				specific = name_class(v, first_element(n->children), !free_text);
			}
			if (!free_text && !specific)
				v->cache_on = 0;
			xmlFree(name);
		}
		find_constrained(v, n->children);
	}
}

static int is_constrained(const struct validator *v, const xmlChar *name)
{
	for (size_t i = 0; i < v->nconstrained; i++)
		if (strcmp(v->constrained[i], (const char *)name) == 0)
			return 1;
	return 0;
}

/* Back to the first n bytes (buf[len] stays '\0', as sbuf promises). */
static void key_truncate(struct sbuf *k, size_t n)
{
	k->len = n;
	k->buf[n] = '\0';
}

/* "length:bytes", so that no value can pass for another's end. Runs for every attribute
 * of every item: no printf. */
static void add_counted(struct sbuf *k, const xmlChar *s)
{
	size_t n = s ? strlen((const char *)s) : 0, m = n;
	char digits[24], *p = digits + sizeof(digits);

	*--p = ':';
	do
		*--p = (char)('0' + m % 10);
	while (m /= 10);
	sbuf_add(k, p, (size_t)(digits + sizeof(digits) - p));
	sbuf_add(k, s ? (const char *)s : "", n);
}

/* The shape of n (children too when deep): see the comment above. */
static void shape(const struct validator *v, xmlNodePtr n, int deep, struct sbuf *k)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		sbuf_addch(k, 'T');
		add_counted(k, n->content);
		return;
	}
	if (n->type != XML_ELEMENT_NODE)
		return; /* comments and processing instructions are not in the schema's view */
	sbuf_addch(k, '<');
	add_counted(k, n->ns ? n->ns->href : NULL);
	add_counted(k, n->name);
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		sbuf_addch(k, ' ');
		add_counted(k, a->ns ? a->ns->href : NULL);
		add_counted(k, a->name);
		if (is_constrained(v, a->name)) {
			xmlChar *val = xmlNodeListGetString(n->doc, a->children, 1);

			sbuf_addch(k, '=');
			add_counted(k, val);
			xmlFree(val);
		}
	}
	sbuf_addch(k, '>');
	for (xmlNodePtr c = deep ? n->children : NULL; c; c = c->next)
		shape(v, c, 1, k);
	sbuf_addch(k, '/');
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

/* 1 when the shape in v->key was found valid before; else the slot for it, or -1 when full. */
static int cache_lookup(struct validator *v, size_t *slot)
{
	size_t i = (size_t)(fnv1a(v->key.buf, v->key.len) % SHAPE_CACHE_SLOTS);

	for (size_t probes = 0; probes < SHAPE_CACHE_SLOTS; probes++, i = (i + 1) % SHAPE_CACHE_SLOTS) {
		if (!v->cache[i]) {
			*slot = i;
			return 0;
		}
		if (strcmp(v->cache[i], v->key.buf) == 0)
			return 1;
	}
	return -1;
}

static int validator_init(struct validator *v, const char *schema_path, struct xml_errors *x, struct gt_error *e)
{
	uint8_t *text = NULL;
	size_t len = 0;
	xmlDocPtr rng;

	memset(v, 0, sizeof(*v));
	sbuf_init(&v->key);
	v->x = x;
	v->cache_on = 1;
	/* read here: the entity loader refuses every file, the schema included */
	if (read_whole_file(schema_path, 1024 * 1024, &text, &len, e) < 0)
		return gt_prefix(e, "cannot load the Registry.xml schema: ");
	v->pctxt = xmlRelaxNGNewMemParserCtxt((const char *)text, (int)len);
	if (v->pctxt) {
		xmlRelaxNGSetParserStructuredErrors(v->pctxt, (xmlStructuredErrorFunc)capture_error, x);
		v->schema = xmlRelaxNGParse(v->pctxt);
	}
	rng = v->schema ? xmlReadMemory((const char *)text, (int)len, NULL, NULL, XML_PARSE_NONET) : NULL;
	if (rng)
		find_constrained(v, xmlDocGetRootElement(rng));
	else
		v->cache_on = 0;
	xmlFreeDoc(rng);
	free(text);
	if (!v->schema)
		return gt_fail(e, GT_FAILED, "cannot load the schema '%s'%s%s", schema_path, x->seen ? ": " : "", x->msg);
	x->seen = 0;
	v->vctxt = xmlRelaxNGNewValidCtxt(v->schema);
	xmlRelaxNGSetValidStructuredErrors(v->vctxt, (xmlStructuredErrorFunc)capture_error, x);
	v->mini = xmlNewDoc((const xmlChar *)"1.0");
	return 0;
}

static void validator_release(struct validator *v)
{
	xmlFreeDoc(v->mini);
	xmlRelaxNGFreeValidCtxt(v->vctxt);
	xmlRelaxNGFree(v->schema);
	xmlRelaxNGFreeParserCtxt(v->pctxt);
	for (size_t i = 0; i < SHAPE_CACHE_SLOTS; i++)
		free(v->cache[i]);
	for (size_t i = 0; i < v->nconstrained; i++)
		free(v->constrained[i]);
	free(v->constrained);
	sbuf_release(&v->key);
}

/* The line an element starts on, counted in the file's bytes (libxml2 caps its own count). */
static unsigned line_at(const struct gpp_doc *d, size_t offset)
{
	unsigned line = 1;

	for (size_t i = 0; i < offset && i < d->len; i++)
		line += d->bytes[i] == '\n';
	return line;
}

static unsigned elem_line(const struct gpp_doc *d, size_t elem)
{
	return elem < d->nspans ? line_at(d, d->spans[elem].start) : 0;
}

/* Where in the file the schema's complaint is: the element it names, found in the copy
 * checked by its position among the copy's elements, else the child itself. */
static unsigned error_line(const struct validator *v, const struct gpp_doc *d, xmlNodePtr copy, size_t elem,
			   unsigned fallback)
{
	const xmlNode *want = v->x->node;
	size_t idx = 0;

	while (want && want->type != XML_ELEMENT_NODE)
		want = want->parent;
	for (size_t i = 0; want && i <= v->depth; i++) {
		const xmlNode *shell = v->tail;

		for (size_t up = v->depth - i; up > 0 && shell; up--)
			shell = shell->parent;
		if (shell == want)
			return elem_line(d, v->chain_elem[i]);
	}
	/* preorder over the copy, as the elements of the file are counted */
	for (xmlNodePtr n = copy; want && n && copy && copy->type == XML_ELEMENT_NODE;) {
		if (n == want && elem + idx < d->nspans)
			return elem_line(d, elem + idx);
		idx++;
		if (first_element(n->children)) {
			n = first_element(n->children);
			continue;
		}
		while (n != copy && !first_element(n->next))
			n = n->parent;
		if (n == copy)
			break;
		n = first_element(n->next);
	}
	return fallback ? fallback : elem_line(d, elem);
}

/* Checks one child (an element, or text where the schema allows none) in the context of the
 * shells; deep: with its subtree (a Collection is checked as a shell, its children on their
 * own). elem: the child's element index; line: where it is when it is text (0: counted,
 * only for a message, from the element's offset). */
static int validate_child(struct validator *v, const struct gpp_doc *d, xmlNodePtr child, int deep, size_t elem,
			  unsigned line, struct gt_error *e)
{
	size_t base = v->key.len, slot = 0;
	xmlNodePtr copy;
	int hit = -1, bad;

	if (v->cache_on) {
		shape(v, child, deep, &v->key);
		hit = cache_lookup(v, &slot);
		if (hit == 1) {
			key_truncate(&v->key, base);
			return 0;
		}
	}
	copy = xmlDocCopyNode(child, v->mini, deep ? 1 : 2);
	if (!copy) {
		key_truncate(&v->key, base);
		return gt_fail(e, GT_FAILED, "out of memory");
	}
	xmlAddChild(v->tail, copy);
	v->x->seen = 0;
	v->x->node = NULL;
	gpp_schema_runs++;
	if (gpp_schema_widest < 1)
		gpp_schema_widest = 1; /* the one child: never its siblings too */
	bad = xmlRelaxNGValidateDoc(v->vctxt, v->mini) != 0;
	if (bad)
		gt_fail(e, GT_REFUSED, "line %u: does not match the Registry.xml schema: %s",
			error_line(v, d, copy, elem, line), v->x->seen ? v->x->msg : "invalid");
	xmlUnlinkNode(copy);
	xmlFreeNode(copy);
	if (!bad && hit == 0 && v->cached < SHAPE_CACHE_SLOTS / 2) {
		v->cache[slot] = xstrdup(v->key.buf);
		v->cached++;
	}
	key_truncate(&v->key, base);
	return bad ? -1 : 0;
}

/* Enters RegistrySettings or a Collection: its copy, without children, becomes the shell
 * the next children are checked in. The root is checked here too (alone it is valid). */
static int push_shell(struct validator *v, const struct gpp_doc *d, xmlNodePtr n, size_t elem, struct gt_error *e)
{
	xmlNodePtr shell;

	if (v->tail && v->depth + 1 >= sizeof(v->chain_elem) / sizeof(v->chain_elem[0]))
		return gt_fail(e, GT_REFUSED, "Collections nested deeper than %zu levels",
			       sizeof(v->chain_elem) / sizeof(v->chain_elem[0]) - 1);
	if (!v->tail) {
		shell = xmlDocCopyNode(n, v->mini, 2);
		if (!shell)
			return gt_fail(e, GT_FAILED, "out of memory");
		xmlDocSetRootElement(v->mini, shell);
		v->x->seen = 0;
		v->x->node = NULL;
		gpp_schema_runs++;
		if (xmlRelaxNGValidateDoc(v->vctxt, v->mini) != 0)
			return gt_fail(e, GT_REFUSED, "line %u: does not match the Registry.xml schema: %s",
				       elem_line(d, elem), v->x->seen ? v->x->msg : "invalid");
		v->tail = shell;
		v->chain_elem[0] = elem;
		v->chain_key[0] = 0;
		if (v->cache_on)
			shape(v, n, 0, &v->key);
		return 0;
	}
	if (validate_child(v, d, n, 0, elem, 0, e) < 0)
		return -1;
	shell = xmlDocCopyNode(n, v->mini, 2);
	if (!shell)
		return gt_fail(e, GT_FAILED, "out of memory");
	xmlAddChild(v->tail, shell);
	v->tail = shell;
	v->depth++;
	v->chain_elem[v->depth] = elem;
	v->chain_key[v->depth] = v->key.len;
	if (v->cache_on)
		shape(v, n, 0, &v->key);
	return 0;
}

static void pop_shell(struct validator *v)
{
	xmlNodePtr shell = v->tail;

	if (v->depth == 0)
		return;
	v->tail = shell->parent;
	xmlUnlinkNode(shell);
	xmlFreeNode(shell);
	key_truncate(&v->key, v->chain_key[v->depth]);
	v->depth--;
}

/* ---- loading ---- */

static int is_element(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static xmlNodePtr child_element(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (is_element(c, name))
			return c;
	return NULL;
}

/* An attribute's value into the arena ("" when absent); its offset. */
static uint32_t arena_attr(struct gpp_doc *d, xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
	uint32_t at = (uint32_t)d->strings.len;

	sbuf_addstr(&d->strings, v ? (const char *)v : "");
	sbuf_addch(&d->strings, '\0');
	xmlFree(v);
	return at;
}

static int attr_is(xmlNodePtr n, const char *name, const char *value)
{
	xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
	int same = v && strcmp((const char *)v, value) == 0;

	xmlFree(v);
	return same;
}

static void record_item(struct gpp_doc *d, xmlNodePtr n, size_t elem, long coll)
{
	xmlNodePtr props = child_element(n, "Properties");
	static const char *const pnames[] = { [GF_HIVE] = "hive", [GF_KEY] = "key", [GF_NAME] = "name",
		[GF_TYPE] = "type", [GF_ACTION] = "action", [GF_VALUE] = "value" };
	struct item_rec *it;

	if (d->nitems == d->capitems) {
		d->capitems = d->capitems ? 2 * d->capitems : 64;
		d->items = xrealloc(d->items, d->capitems * sizeof(*d->items));
	}
	it = &d->items[d->nitems++];
	memset(it, 0, sizeof(*it));
	for (int f = GF_HIVE; f <= GF_VALUE; f++)
		it->f[f] = arena_attr(d, props, pnames[f]);
	it->f[GF_UID] = arena_attr(d, n, "uid");
	it->f[GF_CHANGED] = arena_attr(d, n, "changed");
	it->elem = elem;
	it->coll = coll;
	it->disabled = (unsigned char)attr_is(n, "disabled", "1");
	it->is_default = (unsigned char)attr_is(props, "default", "1");
	it->has_filters = child_element(n, "Filters") != NULL;
}

static long record_collection(struct gpp_doc *d, xmlNodePtr n, long parent)
{
	if (d->ncolls == d->capcolls) {
		d->capcolls = d->capcolls ? 2 * d->capcolls : 16;
		d->colls = xrealloc(d->colls, d->capcolls * sizeof(*d->colls));
	}
	d->colls[d->ncolls].name = arena_attr(d, n, "name");
	d->colls[d->ncolls].parent = parent;
	return (long)d->ncolls++;
}

static size_t count_elements(xmlNodePtr n)
{
	size_t k = 0;

	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			k += 1 + count_elements(n->children);
	return k;
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

static int check_encoding(xmlTextReaderPtr r, struct gt_error *e)
{
	const char *enc = (const char *)xmlTextReaderConstEncoding(r);

	if (enc && strcasecmp(enc, "utf-8") && strcasecmp(enc, "utf8"))
		return gt_fail(e, GT_REFUSED, "declares encoding '%s'; GPMC writes Registry.xml in UTF-8", enc);
	return 0;
}

struct walk {
	struct gpp_doc *d;
	struct validator *v;
	xmlTextReaderPtr r;
	size_t elem;           /* elements seen so far, in document order */
	long coll[256];        /* the Collection records of the open shells */
	int started;           /* the root was seen */
};

static int on_element(struct walk *w, struct gt_error *e)
{
	xmlNodePtr n = xmlTextReaderCurrentNode(w->r);
	size_t depth = w->v->depth;
	long coll = w->started && depth ? w->coll[depth] : -1;
	size_t elem = w->elem;

	if (!w->started) {
		if (!is_element(n, "RegistrySettings"))
			return gt_fail(e, GT_REFUSED, "root element is <%s>, not <RegistrySettings>: not a GPP Registry.xml",
				       n ? (const char *)n->name : "(none)");
		w->started = 1;
		w->elem++;
		return push_shell(w->v, w->d, n, elem, e) < 0 ? -1 : 0;
	}
	if (is_element(n, "Collection")) {
		w->elem++;
		if (push_shell(w->v, w->d, n, elem, e) < 0)
			return -1;
		w->coll[w->v->depth] = record_collection(w->d, n, coll);
		if (xmlTextReaderIsEmptyElement(w->r))
			pop_shell(w->v);
		return 0;
	}
	n = xmlTextReaderExpand(w->r);
	if (!n)
		return gt_fail(e, GT_REFUSED, "not well-formed XML");
	w->elem = elem + 1 + count_elements(n->children); /* n and its subtree */
	if (validate_child(w->v, w->d, n, 1, elem, 0, e) < 0)
		return -1;
	if (is_element(n, "Registry"))
		record_item(w->d, n, elem, coll);
	return 1; /* skip the subtree: it is read */
}

/* One pass of the streaming reader over the file. */
static int read_items(struct gpp_doc *d, struct validator *v, struct xml_errors *x, struct gt_error *e)
{
	struct walk w = { .d = d, .v = v };
	int ret = 0, r;

	/* NONET and no NOENT/DTDLOAD/HUGE: libxml2's default limits on depth and sizes apply */
	w.r = xmlReaderForMemory((const char *)d->bytes, (int)d->len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_BIG_LINES);
	if (!w.r)
		return gt_fail(e, GT_FAILED, "out of memory");
	xmlTextReaderSetStructuredErrorHandler(w.r, capture_reader_error, x);
	r = xmlTextReaderRead(w.r);
	if (r == 1)
		ret = check_encoding(w.r, e);
	while (r == 1 && ret == 0) {
		int type = xmlTextReaderNodeType(w.r), skip = 0;

		switch (type) {
		case XML_READER_TYPE_ELEMENT:
			skip = on_element(&w, e);
			ret = skip < 0 ? -1 : 0;
			break;
		case XML_READER_TYPE_END_ELEMENT:
			pop_shell(v);
			break;
		case XML_READER_TYPE_DOCUMENT_TYPE:
			ret = gt_fail(e, GT_REFUSED, "has a DTD, which Registry.xml never has");
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
			/* text where only items may stand: the schema says what it thinks of it */
			if (w.started && !xmlIsBlankNode(xmlTextReaderCurrentNode(w.r)))
				ret = validate_child(v, d, xmlTextReaderCurrentNode(w.r), 1, w.elem,
						     (unsigned)xmlTextReaderGetParserLineNumber(w.r), e);
			break;
		default:
			break; /* blanks, comments, processing instructions */
		}
		if (ret == 0)
			r = skip ? xmlTextReaderNext(w.r) : xmlTextReaderRead(w.r);
	}
	if (ret == 0 && r < 0)
		ret = gt_fail(e, GT_REFUSED, "line %d: not well-formed XML: %s", x->line, x->seen ? x->msg : "parse error");
	if (ret == 0 && !w.started)
		ret = gt_fail(e, GT_REFUSED, "line %d: not well-formed XML: %s", x->line, x->seen ? x->msg : "no root element");
	if (ret == 0 && w.elem != d->nspans)
		ret = gt_fail(e, GT_FAILED, "internal error: '%s' has %zu elements but %zu were located", d->name, w.elem,
			      d->nspans);
	xmlFreeTextReader(w.r);
	return ret;
}

static int load(const uint8_t *buf, size_t len, const char *name, const char *schema_path, int copy,
		struct gpp_doc **out, struct gt_error *e)
{
	struct xml_errors x = { .seen = 0 };
	struct validator v;
	struct gpp_doc *d;
	int ret;

	*out = NULL;
	if (check_bytes(buf, len, e) < 0)
		return gt_prefix(e, "'%s': ", name);
	d = xcalloc(1, sizeof(*d));
	d->name = name;
	d->owned = copy ? (len ? xmemdup(buf, len) : xcalloc(1, 1)) : NULL;
	d->bytes = copy ? d->owned : buf;
	d->len = len;
	d->body = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	d->crlf = find_bytes(buf, buf + len, "\r\n") != NULL;
	sbuf_init(&d->strings);
	xml_setup(&x);
	ret = validator_init(&v, schema_path, &x, e);
	if (ret == 0) {
		struct gt_error scan = { 0 };

		/* the scanner first, for the lines in messages; bytes it cannot follow are not
		 * well-formed, and libxml2 then says why */
		if (scan_elements(d, &scan) < 0)
			d->nspans = 0;
		ret = read_items(d, &v, &x, e);
		if (ret == 0 && scan.code != GT_OK)
			ret = gt_fail(e, GT_FAILED, "%s", scan.msg);
	}
	validator_release(&v);
	/* x lives on this stack: nothing may report into it once this returns */
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (ret < 0) {
		if (e->code != GT_FAILED || !strstr(e->msg, name))
			gt_prefix(e, "'%s': ", name);
		gpp_free(d);
		return -1;
	}
	*out = d;
	return 0;
}

int gpp_load(const uint8_t *buf, size_t len, const char *name, const char *schema_path,
	     struct gpp_doc **out, struct gt_error *e)
{
	return load(buf, len, name, schema_path, 1, out, e);
}

int gpp_load_view(const uint8_t *buf, size_t len, const char *name, const char *schema_path,
		  struct gpp_doc **out, struct gt_error *e)
{
	return load(buf, len, name, schema_path, 0, out, e);
}

void gpp_free(struct gpp_doc *d)
{
	if (!d)
		return;
	free(d->owned);
	free(d->items);
	free(d->colls);
	sbuf_release(&d->strings);
	free(d->spans);
	free(d);
}

void gpp_empty_file(struct sbuf *out)
{
	sbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<RegistrySettings clsid=\"" GPP_CLSID_SETTINGS "\">\r\n</RegistrySettings>\r\n");
}

/* ---- reading items ---- */

static const char *field(const struct gpp_doc *d, size_t i, int f)
{
	return d->strings.buf + d->items[i].f[f];
}

size_t gpp_item_count(const struct gpp_doc *d)
{
	return d->nitems;
}

void gpp_item_get(const struct gpp_doc *d, size_t i, struct gpp_item *it)
{
	const struct item_rec *r = &d->items[i];
	struct sbuf coll;

	it->hive = xstrdup(field(d, i, GF_HIVE));
	it->key = xstrdup(field(d, i, GF_KEY));
	it->name = xstrdup(field(d, i, GF_NAME));
	it->type = xstrdup(field(d, i, GF_TYPE));
	it->action = xstrdup(field(d, i, GF_ACTION));
	it->value = xstrdup(field(d, i, GF_VALUE));
	it->uid = xstrdup(field(d, i, GF_UID));
	it->changed = xstrdup(field(d, i, GF_CHANGED));
	it->disabled = r->disabled;
	it->is_default = r->is_default;
	it->has_filters = r->has_filters;
	sbuf_init(&coll);
	for (long c = r->coll; c >= 0; c = d->colls[c].parent) {
		struct sbuf t;

		sbuf_init(&t);
		sbuf_addf(&t, "%s%s%s", d->strings.buf + d->colls[c].name, coll.len ? "\\" : "", coll.buf);
		sbuf_release(&coll);
		coll = t;
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

/* Item i sets or deletes the value hive\key\name (key-only items, type "", do not). */
static int item_has_key(const struct gpp_doc *d, size_t i, const char *hive, const char *key, const char *name)
{
	return *field(d, i, GF_TYPE) && strcasecmp(field(d, i, GF_HIVE), hive) == 0 &&
	       strcasecmp(field(d, i, GF_KEY), key) == 0 && strcasecmp(field(d, i, GF_NAME), name) == 0;
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
static void dump_node(const struct gpp_doc *d, xmlDocPtr doc, xmlNodePtr n, struct sbuf *out)
{
	xmlBufferPtr b = xmlBufferCreate();

	xmlNodeDump(b, doc, n, 0, 0);
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

static void append_item(const struct gpp_doc *d, xmlDocPtr doc, xmlNodePtr item, struct sbuf *out)
{
	struct sbuf text;

	sbuf_init(&text);
	dump_node(d, doc, item, &text);
	append_item_text(d, text.buf, text.len, out);
	sbuf_release(&text);
}

/* The qualified name in a start tag ("Collection", "x:Collection"), for its end tag. */
static void tag_name(const struct gpp_doc *d, const struct elem_span *sp, struct sbuf *out)
{
	size_t p = sp->start + 1;

	while (p < sp->stag_end && !strchr(" \t\r\n/>", d->bytes[p]))
		sbuf_addch(out, (char)d->bytes[p++]);
}

/* Item i parsed again from its own bytes, inside copies of its ancestors' start tags (so
 * that namespaces resolve as in the file): *item is its element in the returned document,
 * which the caller frees. Only this one item is ever built as a tree. */
static xmlDocPtr reparse_item(const struct gpp_doc *d, size_t i, xmlNodePtr *item, struct gt_error *e)
{
	const struct elem_span *sp = &d->spans[d->items[i].elem];
	struct xml_errors x = { .seen = 0 };
	struct sbuf text;
	size_t *opened = xcalloc(d->items[i].elem + 1, sizeof(*opened)), nopened = 0, depth;
	xmlDocPtr doc;
	xmlNodePtr n;

	sbuf_init(&text);
	/* the ancestors are the elements before it that enclose it, outermost first */
	for (size_t k = 0; k < d->items[i].elem; k++) {
		if (d->spans[k].empty || d->spans[k].start >= sp->start || d->spans[k].end < sp->end)
			continue;
		sbuf_add(&text, d->bytes + d->spans[k].start, d->spans[k].stag_end - d->spans[k].start);
		opened[nopened++] = k;
	}
	sbuf_add(&text, d->bytes + sp->start, sp->end - sp->start);
	depth = nopened;
	while (nopened-- > 0) {
		sbuf_addstr(&text, "</");
		tag_name(d, &d->spans[opened[nopened]], &text);
		sbuf_addch(&text, '>');
	}
	free(opened);
	xml_setup(&x);
	doc = xmlReadMemory(text.buf, (int)text.len, NULL, NULL, XML_PARSE_NONET);
	xmlSetStructuredErrorFunc(NULL, NULL);
	sbuf_release(&text);
	/* each ancestor copy holds one element: the next one down, and last the item */
	for (n = doc ? xmlDocGetRootElement(doc) : NULL; n && depth-- > 0;)
		n = first_element(n->children);
	if (!doc || !n || !is_element(n, "Registry")) {
		xmlFreeDoc(doc);
		gt_fail(e, GT_FAILED, "internal error: item %zu of '%s' does not parse on its own%s%s", i + 1, d->name,
			x.seen ? ": " : "", x.msg);
		return NULL;
	}
	*item = n;
	return doc;
}

int gpp_apply_set(const struct gpp_doc *d, const struct gpp_setting *s, struct sbuf *out, struct gt_error *e)
{
	long i = gpp_find(d, s->hive, s->key, s->name);
	xmlNodePtr item;
	xmlDocPtr doc;
	struct sbuf text;
	const struct elem_span *sp;

	if (strchr("CRUD", s->action) == NULL || s->action == '\0')
		return gt_fail(e, GT_USAGE, "action must be C, R, U or D");
	if (i < 0) {
		doc = xmlNewDoc((const xmlChar *)"1.0");
		item = new_item(doc, s, e);
		if (item)
			append_item(d, doc, item, out);
		xmlFreeNode(item);
		xmlFreeDoc(doc);
		return item ? 0 : -1;
	}
	/* rewrite the existing item in place: its uid, filters and unknown parts stay */
	doc = reparse_item(d, (size_t)i, &item, e);
	if (!doc)
		return -1;
	set_item_attrs(item, s);
	if (fill_properties(child_element(item, "Properties"), s, e) < 0) {
		xmlFreeDoc(doc);
		return -1;
	}
	add_filters(item, s);
	sp = &d->spans[d->items[i].elem];
	sbuf_init(&text);
	dump_node(d, doc, item, &text);
	splice(d, sp->start, sp->end, text.buf, text.len, out);
	sbuf_release(&text);
	xmlFreeDoc(doc);
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
		leading_space(d, d->items[i].elem, &from);
		if (from < at)
			from = at;
		if (!removed)
			sbuf_add(out, d->bytes, from);
		else
			sbuf_add(out, d->bytes + at, from - at);
		at = d->spans[d->items[i].elem].end;
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
	msp = &model->spans[model->items[mi].elem];
	if (ci >= 0) {
		const struct elem_span *csp = &cur->spans[cur->items[ci].elem];

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

static int same_bytes(const struct gpp_doc *a, size_t ia, const struct gpp_doc *b, size_t ib)
{
	const struct elem_span *x = &a->spans[a->items[ia].elem], *y = &b->spans[b->items[ib].elem];

	return x->end - x->start == y->end - y->start && memcmp(a->bytes + x->start, b->bytes + y->start, x->end - x->start) == 0;
}

/* Every item of old but the edited one is in new_doc, in order and byte for byte (which
 * is stricter than the same attributes and children). skip_old < 0 with gone_key set:
 * every old item for that value is gone (a delete). One pass over both lists. */
static int same_other_items(const struct gpp_doc *old, const struct gpp_doc *new_doc, long skip_old, long skip_new,
			    const char *const *gone_key, struct gt_error *e)
{
	size_t i = 0, j = 0, n_old = old->nitems;

	if (gone_key)
		for (size_t k = 0; k < old->nitems; k++)
			n_old -= item_has_key(old, k, gone_key[0], gone_key[1], gone_key[2]);
	else
		n_old -= skip_old >= 0;
	for (;;) {
		while (gone_key && i < old->nitems && item_has_key(old, i, gone_key[0], gone_key[1], gone_key[2]))
			i++;
		if ((long)i == skip_old)
			i++;
		if ((long)j == skip_new)
			j++;
		if (i >= old->nitems || j >= new_doc->nitems) {
			if (i < old->nitems || j < new_doc->nitems)
				return gt_fail(e, GT_FAILED, "verification failed: the written Registry.xml has %zu other items, not %zu",
					       new_doc->nitems - (skip_new >= 0), n_old);
			return 0;
		}
		if (!same_bytes(old, i, new_doc, j))
			return gt_fail(e, GT_FAILED, "verification failed: item %zu of the written Registry.xml differs from the original", i + 1);
		i++;
		j++;
	}
}

static int item_matches(const struct gpp_doc *d, long i, const struct gpp_setting *s, struct gt_error *e)
{
	struct sbuf want;
	char action[2] = { s->action, '\0' };
	int ok;

	sbuf_init(&want);
	if (s->action != 'D' && gpp_value_text(&s->value, &want, e) < 0) {
		sbuf_release(&want);
		return -1;
	}
	ok = strcmp(field(d, (size_t)i, GF_ACTION), action) == 0 && strcmp(field(d, (size_t)i, GF_TYPE), reg_type_name(s->value.type)) == 0 &&
	     strcmp(field(d, (size_t)i, GF_VALUE), want.buf) == 0 && strcmp(field(d, (size_t)i, GF_HIVE), s->hive) == 0;
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

	/* a fresh parse of the bytes about to be written, schema included */
	if (gpp_load_view(buf, len, "the written Registry.xml", schema_path, &d, e) < 0)
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

	if (gpp_load_view(buf, len, "the written Registry.xml", schema_path, &d, e) < 0)
		return gt_prefix(e, "verification failed: ");
	in_new = gpp_find(d, hive, key, name);
	if ((in_new >= 0) != (in_model >= 0))
		ret = gt_fail(e, GT_FAILED, "verification failed: the written Registry.xml %s the item",
			      in_new >= 0 ? "still has" : "lacks");
	else
		ret = same_other_items(old, d, in_old, in_new, in_model < 0 ? (const char *const[]){ hive, key, name } : NULL, e);
	if (ret == 0 && in_new >= 0 && !same_bytes(model, (size_t)in_model, d, (size_t)in_new))
		ret = gt_fail(e, GT_FAILED, "verification failed: the written item differs from the one restored");
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
