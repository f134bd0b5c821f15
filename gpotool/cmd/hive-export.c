/* gpotool hive export HIVE [KEY]: a key and its subtree as a .reg file regedit can import
 * ("Windows Registry Editor Version 5.00", UTF-16LE with BOM and CRLF, as regedit writes;
 * --utf8 for a text-friendly copy). Written atomically with --output, else to stdout. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "hive/hivetx.h"
#include "reg/regfile.h"
#include "core/sbuf.h"

struct export_state {
	struct hivetx *tx;
	struct sbuf text;
	size_t keys, values;
};

/* s with CR and LF written as \r and \n, for a one-line message. Appends to out. */
static void escape_breaks(const char *s, struct sbuf *out)
{
	for (; *s; s++) {
		if (*s == '\r')
			sbuf_addstr(out, "\\r");
		else if (*s == '\n')
			sbuf_addstr(out, "\\n");
		else
			sbuf_addch(out, *s);
	}
}

/* A .reg file has no way to write a line break in a key name (inside [...]) or a value
 * name, and regedit has none either: such a hive cannot be exported so that it imports
 * back, so it is refused rather than written broken. */
static int check_no_break(const char *path, const char *value_name, struct gt_error *e)
{
	struct sbuf what;
	int bad = strpbrk(path, "\r\n") || (value_name && strpbrk(value_name, "\r\n"));

	if (!bad)
		return 0;
	sbuf_init(&what);
	escape_breaks(path, &what);
	if (value_name && strpbrk(value_name, "\r\n")) {
		sbuf_addstr(&what, "' value '");
		escape_breaks(value_name, &what);
	}
	gt_fail(e, GT_REFUSED, "key '%s' has a line break in its name, which a .reg file cannot carry (regedit cannot "
		"either): nothing exported", what.buf);
	sbuf_release(&what);
	return -1;
}

static int export_key(struct export_state *st, hive_key k, const char *path, unsigned depth, struct gt_error *e)
{
	struct reg_value *vals;
	hive_key *kids;
	size_t nvals, nkids;
	int ret = 0;

	if (depth > KEYPATH_MAX_DEPTH)
		return gt_fail(e, GT_REFUSED, "key tree deeper than %u levels at '%s'", KEYPATH_MAX_DEPTH, path);
	if (check_no_break(path, NULL, e) < 0)
		return -1;
	regfile_write_key(path, &st->text);
	if (hive_values(st->tx->hive, k, &vals, &nvals, e) < 0)
		return -1;
	for (size_t i = 0; i < nvals; i++) {
		if (check_no_break(path, vals[i].name, e) < 0) {
			reg_values_free(vals, nvals);
			return -1;
		}
		regfile_write_value(&vals[i], &st->text);
	}
	st->keys++;
	st->values += nvals;
	reg_values_free(vals, nvals);
	if (hive_subkeys(st->tx->hive, k, &kids, &nkids, e) < 0)
		return -1;
	for (size_t i = 0; i < nkids && ret == 0; i++) {
		char *name = hive_key_name(st->tx->hive, kids[i], e);
		struct sbuf child;

		if (!name) {
			ret = -1;
			break;
		}
		sbuf_init(&child);
		sbuf_addf(&child, "%s\\%s", path, name);
		ret = export_key(st, kids[i], child.buf, depth + 1, e);
		sbuf_release(&child);
		free(name);
	}
	free(kids);
	return ret;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int write_output(const char *output, const struct sbuf *bytes, struct gt_error *e)
{
	size_t off = 0;

	if (output)
		return write_file_atomic(output, bytes->buf, bytes->len, 0644, e);
	while (off < bytes->len) {
		size_t n = fwrite(bytes->buf + off, 1, bytes->len - off, stdout);

		if (n == 0)
			return gt_fail(e, GT_FAILED, "unable to write to standard output");
		off += n;
	}
	return 0;
}

static int exec_hive_export(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const char *output = cmd_opt(&cmd_hive_export_entry, a, "output");
	int utf8 = cmd_opt(&cmd_hive_export_entry, a, "utf8") != NULL;
	struct export_state st = { 0 };
	struct keypath kp = { 0 };
	struct sbuf path, bytes;
	struct target t = { 0 };
	struct hivetx *tx;
	char *stored = NULL;
	hive_key k;
	int r;

	if (ctx->json && !output)
		return gt_fail(e, GT_USAGE, "--json needs --output FILE for 'hive export' (stdout carries the JSON)");
	if (output && same_file(output, a->argv[0]))
		return gt_fail(e, GT_USAGE, "refusing to export into '%s': it is the hive being exported", output);
	if (!(tx = cmd_target_read_hive(ctx, &cmd_hive_export_entry, a, &t, e))) {
		target_close(&t);
		return -1;
	}
	sbuf_init(&path);
	sbuf_init(&bytes);
	sbuf_init(&st.text);
	st.tx = tx;
	r = a->argc == 2 ? hivetx_resolve(tx, a->argv[1], &kp, e) : 0;
	if (r == 0)
		r = hivetx_find(tx, &kp, &k, &stored, e);
	if (r == 0)
		r = gt_fail(e, GT_MISMATCH, "key '%s' not found in '%s'", a->argv[1], a->argv[0]);
	if (r == 1) {
		display_path(hive_kind_reg_prefix(tx->kind), stored, NULL, &path);
		regfile_write_header(&st.text);
		r = export_key(&st, k, path.buf, 0, e);
		sbuf_addstr(&st.text, "\r\n"); /* regedit ends its files with a blank line */
	}
	if (r == 0)
		r = regfile_encode(st.text.buf, st.text.len, utf8 ? RF_UTF8 : RF_UTF16LE, &bytes, e);
	if (r == 0)
		r = write_output(output, &bytes, e);
	if (r == 0 && output) {
		out_text(ctx, "exported %zu keys and %zu values under '%s' to '%s'\n", st.keys, st.values, path.buf, output);
		json_object_object_add(ctx->result, "output", json_object_new_string(output));
		json_object_object_add(ctx->result, "keys", json_object_new_int64((int64_t)st.keys));
		json_object_object_add(ctx->result, "values", json_object_new_int64((int64_t)st.values));
	}
	free(stored);
	keypath_release(&kp);
	sbuf_release(&st.text);
	sbuf_release(&path);
	sbuf_release(&bytes);
	if (e->code != GT_OK && e->code != GT_USAGE && e->code != GT_MISMATCH && !strstr(e->msg, a->argv[0]))
		gt_prefix(e, "'%s': ", a->argv[0]);
	target_close(&t);
	return r < 0 ? -1 : GT_OK;
}

const struct cmd_entry cmd_hive_export_entry = {
	.name = "hive export",
	.args_usage = "HIVE [KEY] [--output FILE] [--utf8]",
	.summary = "export a key's subtree as a regedit .reg file",
	.options = { "kind=", "output=", "utf8", "log=*", NULL },
	.min_args = 1,
	.max_args = 2,
	.exec = exec_hive_export,
};
