/* gpotool hive info HIVE: what a hive file is and whether it is safe to edit, and for
 * SYSTEM and SOFTWARE hives the facts an administrator checks before a change. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cmd/cmd.h"
#include "hive/hivetx.h"
#include "hive/hivefile.h"
#include "core/sbuf.h"

static void filetime_text(uint64_t ft, char *buf, size_t n)
{
	time_t t = (time_t)(ft / 10000000ull) - (time_t)11644473600ll;
	struct tm tm;

	if (ft == 0 || !gmtime_r(&t, &tm))
		snprintf(buf, n, "unknown");
	else
		strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void field(struct gt_ctx *ctx, const char *label, const char *json_name, const char *value)
{
	out_text(ctx, "%-20s %s\n", label, value ? value : "(absent)");
	json_object_object_add(ctx->result, json_name, value ? json_object_new_string(value) : NULL);
}

static int read_dword(struct hivetx *tx, const char *key, const char *name, uint32_t *out, struct gt_error *e)
{
	struct reg_value v;
	int r = hivetx_read_value(tx, key, name, &v, e);

	if (r == 1 && (v.type != RT_DWORD || v.len != 4))
		r = 0;
	if (r == 1)
		*out = (uint32_t)v.data[0] | (uint32_t)v.data[1] << 8 | (uint32_t)v.data[2] << 16 | (uint32_t)v.data[3] << 24;
	reg_value_release(&v);
	return r;
}

static int system_facts(struct gt_ctx *ctx, struct hivetx *tx, struct gt_error *e)
{
	char cs_name[32], *name = NULL, *ptype = NULL;
	struct sbuf key;
	const char *role;
	unsigned cs;
	int r = hivetx_current_control_set(tx, &cs, e);

	if (r <= 0) {
		field(ctx, "current control set", "current_control_set", NULL);
		return r;
	}
	snprintf(cs_name, sizeof(cs_name), "ControlSet%03u", cs);
	field(ctx, "current control set", "current_control_set", cs_name);
	sbuf_init(&key);
	sbuf_addf(&key, "%s\\%s", cs_name, WINREG_COMPUTER_NAME_KEY);
	if (hivetx_read_string(tx, key.buf, WINREG_COMPUTER_NAME, &name, e) < 0)
		goto fail;
	field(ctx, "computer name", "computer_name", name);
	sbuf_reset(&key);
	sbuf_addf(&key, "%s\\%s", cs_name, WINREG_PRODUCT_OPTIONS_KEY);
	if (hivetx_read_string(tx, key.buf, WINREG_PRODUCT_TYPE, &ptype, e) < 0)
		goto fail;
	role = ptype ? product_type_role(ptype) : NULL;
	field(ctx, "product type", "product_type", ptype);
	out_text(ctx, "%-20s %s\n", "role", role ? role : ptype ? "unknown ProductType" : "unknown (no ProductType)");
	json_object_object_add(ctx->result, "role", role ? json_object_new_string(role) : NULL);
	r = 0;
	goto out;
fail:
	r = -1;
out:
	free(name);
	free(ptype);
	sbuf_release(&key);
	return r;
}

static int software_facts(struct gt_ctx *ctx, struct hivetx *tx, struct gt_error *e)
{
	char *product = NULL, *build = NULL, *install = NULL, buf[64];
	uint32_t ubr = 0;
	int r;

	if (hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, "ProductName", &product, e) < 0 ||
	    hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, "CurrentBuild", &build, e) < 0 ||
	    hivetx_read_string(tx, WINREG_CURRENT_VERSION_KEY, "InstallationType", &install, e) < 0 ||
	    (r = read_dword(tx, WINREG_CURRENT_VERSION_KEY, "UBR", &ubr, e)) < 0) {
		r = -1;
		goto out;
	}
	field(ctx, "product name", "product_name", product);
	if (build && r == 1)
		snprintf(buf, sizeof(buf), "%s.%u", build, ubr);
	else if (build)
		snprintf(buf, sizeof(buf), "%s (no UBR)", build);
	field(ctx, "build", "build", build ? buf : NULL);
	field(ctx, "installation type", "installation_type", install);
	r = 0;
out:
	free(product);
	free(build);
	free(install);
	return r;
}

/* Which logs lie beside the hive (or were named), what each holds, and what became of them. */
static int show_logs(struct gt_ctx *ctx, struct hivetx *tx, struct gt_error *e)
{
	struct sbuf line;

	if (hivetx_load_logs(tx, &ctx->hive_logs, e) < 0)
		return -1;
	sbuf_init(&line);
	if (tx->nlogs == 0)
		out_text(ctx, "%-20s %s\n", "transaction logs", "none beside it (.LOG, .LOG1, .LOG2)");
	for (size_t i = 0; i < tx->nlogs; i++) {
		const struct hivelog_info *in = &tx->logs[i].info;

		sbuf_reset(&line);
		sbuf_addf(&line, "%s: %s", tx->logs[i].name, hivelog_format_name(in->format));
		if (in->format != HIVELOG_EMPTY && !tx->logs[i].skipped)
			sbuf_addf(&line, ", %zu bytes", tx->logs[i].file.len);
		if (in->format == HIVELOG_NEW)
			sbuf_addf(&line, in->entries ? ", sequence %u, entries %u..%u" : ", sequence %u, no entry", in->seq1,
				  in->first_seq, in->last_seq);
		else if (in->format == HIVELOG_OLD)
			sbuf_addf(&line, ", sequence %u, %zu dirty pages", in->seq1, in->entries);
		if (in->applies && in->format == HIVELOG_NEW)
			sbuf_addf(&line, "; applied %u..%u", in->applied_first, in->applied_last);
		else if (in->applies)
			sbuf_addf(&line, "; applied");
		else if (in->format != HIVELOG_EMPTY)
			sbuf_addstr(&line, "; not applied");
		if (in->why[0])
			sbuf_addf(&line, " (%s)", in->why);
		out_text(ctx, "%-20s %s\n", i ? "" : "transaction logs", line.buf);
	}
	if (tx->replayed) {
		sbuf_reset(&line);
		hivetx_replay_summary(tx, &line);
		out_text(ctx, "%-20s %s; what follows is read from it (sequence numbers %u/%u)\n", "replay", line.buf,
			 tx->replay.seq, tx->replay.seq);
	} else if (tx->dirty) {
		sbuf_reset(&line);
		hivetx_dirty_reason(tx, 0, &line);
		out_text(ctx, "%-20s not possible: it %s; what follows is the stale primary\n", "replay", line.buf);
	}
	sbuf_release(&line);
	json_object_object_add(ctx->result, "transaction_logs", hivetx_logs_json(tx));
	return 0;
}

static int exec_hive_info(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const struct hive_header *h;
	struct target t = { 0 };
	struct hivetx *tx;
	char buf[160], *root;
	size_t nkeys, nvalues;
	int ret = GT_OK;

	/* the open walks the whole tree and refuses a damaged one, as for every command */
	if (!(tx = cmd_target_read_hive(ctx, &cmd_hive_info_entry, a, &t, e))) {
		target_close(&t);
		return -1;
	}
	nkeys = tx->tree_keys;
	nvalues = tx->tree_values;
	h = &tx->hdr;
	field(ctx, "file", "file", tx->file.path);
	snprintf(buf, sizeof(buf), "%lld bytes", (long long)tx->file.st.st_size);
	out_text(ctx, "%-20s %s\n", "size", buf);
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)tx->file.st.st_size));
	/* format, time and name from the base block read: the replayed copy's, when there is one */
	snprintf(buf, sizeof(buf), "regf %u.%u", tx->replayed ? tx->view_hdr.major : h->major,
		 tx->replayed ? tx->view_hdr.minor : h->minor);
	field(ctx, "format", "format", buf);
	snprintf(buf, sizeof(buf), "%s (sequence numbers %u/%u)", tx->dirty ? "dirty" : "clean", h->seq1, h->seq2);
	out_text(ctx, "%-20s %s\n", "state", buf);
	json_object_object_add(ctx->result, "dirty", json_object_new_boolean(tx->dirty));
	json_object_object_add(ctx->result, "sequence1", json_object_new_int64(h->seq1));
	json_object_object_add(ctx->result, "sequence2", json_object_new_int64(h->seq2));
	field(ctx, "checksum", "checksum", h->checksum_stored == h->checksum_computed ? "ok"
	      : "bad (the base block was recovered from a transaction log)");
	if (show_logs(ctx, tx, e) < 0) {
		target_close(&t);
		return -1;
	}
	filetime_text(tx->replayed ? tx->view_hdr.last_written : h->last_written, buf, sizeof(buf));
	field(ctx, "last written", "last_written", buf);
	field(ctx, "name in base block", "base_block_name", tx->replayed ? tx->view_hdr.file_name : h->file_name);
	root = hive_key_name(tx->hive, hive_root(tx->hive), e);
	if (!root) {
		target_close(&t);
		return -1;
	}
	field(ctx, "root key", "root_key", root);
	snprintf(buf, sizeof(buf), "%zu keys, %zu values, all readable", nkeys, nvalues);
	out_text(ctx, "%-20s %s\n", "tree", buf);
	json_object_object_add(ctx->result, "keys", json_object_new_int64((int64_t)nkeys));
	json_object_object_add(ctx->result, "values", json_object_new_int64((int64_t)nvalues));
	free(root);
	snprintf(buf, sizeof(buf), "%s (%s)", hive_kind_name(tx->kind), tx->kind_detected ? "detected from content" : "as given");
	out_text(ctx, "%-20s %s\n", "kind", buf);
	json_object_object_add(ctx->result, "kind", json_object_new_string(hive_kind_name(tx->kind)));
	if (tx->kind == HK_SYSTEM && system_facts(ctx, tx, e) < 0)
		ret = -1;
	else if (tx->kind == HK_SOFTWARE && software_facts(ctx, tx, e) < 0)
		ret = -1;
	target_close(&t);
	return ret;
}

const struct cmd_entry cmd_hive_info_entry = {
	.name = "hive info",
	.args_usage = "HIVE [--kind KIND] [--log FILE]...",
	.summary = "format, clean or dirty (and its logs), kind, and for SYSTEM/SOFTWARE the role and build",
	.options = { "kind=", "log=*", NULL },
	.min_args = 1,
	.max_args = 1,
	.exec = exec_hive_info,
};
