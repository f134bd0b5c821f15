/* gpotool gpo new DIR --name NAME: a new GPO folder DIR/{GUID} with GPT.INI, Machine/ and
 * User/, as GPMC lays one out in SYSVOL; never over an existing folder. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpo/adattrs.h"
#include "cmd/cmd.h"
#include "gpo/gpp.h"
#include "gpo/gptini.h"
#include "core/sbuf.h"

/* DIR is where the GPO folder goes (a domain's SYSVOL Policies folder), not the GPO folder:
 * a missing one is most likely a typo, so it is named and not created. */
static int check_policies_dir(const char *dir, struct gt_error *e)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno == ENOENT)
			return gt_fail(e, GT_USAGE, "'%s' does not exist: DIR is the Policies folder the GPO folder DIR/{GUID} "
				       "is made in (e.g. .../SYSVOL/<domain>/Policies); create it first", dir);
		return gt_fail(e, GT_FAILED, "unable to read '%s': %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return gt_fail(e, GT_USAGE, "'%s' is not a folder: DIR is the Policies folder the GPO folder DIR/{GUID} "
			       "is made in (e.g. .../SYSVOL/<domain>/Policies)", dir);
	return 0;
}

static int exec_gpo_new(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const char *name = cmd_opt(&cmd_gpo_new_entry, a, "name"), *given = cmd_opt(&cmd_gpo_new_entry, a, "guid");
	struct sbuf dir, path, ini;
	char guid[39];
	int ret = 0;

	if (!name || !*name || strpbrk(name, "\r\n"))
		return gt_fail(e, GT_USAGE, "gpo new needs --name NAME (one line)");
	if (given && !is_braced_guid(given))
		return gt_fail(e, GT_USAGE, "--guid takes a braced GUID {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}, not '%s'", given);
	if (given)
		for (size_t i = 0; i < sizeof(guid); i++)
			guid[i] = (char)(given[i] >= 'a' && given[i] <= 'f' ? given[i] - 32 : given[i]);
	else
		gpp_new_guid(guid);
	sbuf_init(&dir);
	sbuf_init(&path);
	sbuf_init(&ini);
	sbuf_addf(&dir, "%s/%s", a->argv[0], guid);
	ctx_set_target(ctx, dir.buf);
	if (check_policies_dir(a->argv[0], e) < 0) {
		ret = -1;
		goto out;
	}
	if (mkdir(dir.buf, 0755) < 0) {
		ret = gt_fail(e, errno == EEXIST ? GT_REFUSED : GT_FAILED, "unable to create '%s': %s", dir.buf, strerror(errno));
		goto out;
	}
	gptini_new(name, &ini);
	sbuf_addf(&path, "%s/Machine", dir.buf);
	if (mkdir(path.buf, 0755) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to create '%s': %s", path.buf, strerror(errno));
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/User", dir.buf);
	if (ret == 0 && mkdir(path.buf, 0755) < 0)
		ret = gt_fail(e, GT_FAILED, "unable to create '%s': %s", path.buf, strerror(errno));
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/GPT.INI", dir.buf);
	if (ret == 0)
		ret = write_file_new(path.buf, ini.buf, ini.len, 0644, e);
	if (ret == 0) {
		out_text(ctx, "created GPO folder '%s' (GUID %s, \"%s\", Version 0)\n", dir.buf, guid, name);
		out_text(ctx, "next: create the GPO object in AD with this GUID (or copy the folder into an existing GPO), then 'gpotool gpo ad'\n");
		json_object_object_add(ctx->result, "path", json_object_new_string(dir.buf));
		json_object_object_add(ctx->result, "guid", json_object_new_string(guid));
	}
out:
	sbuf_release(&dir);
	sbuf_release(&path);
	sbuf_release(&ini);
	return ret;
}

const struct cmd_entry cmd_gpo_new_entry = {
	.name = "gpo new",
	.args_usage = "DIR --name NAME [--guid GUID]",
	.summary = "create a GPO folder DIR/{GUID} (GPT.INI, Machine/, User/)",
	.options = { "name=", "guid=", NULL },
	.min_args = 1,
	.max_args = 1,
	.audited = 1,
	.exec = exec_gpo_new,
};
