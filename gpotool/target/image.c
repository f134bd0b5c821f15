/* The image backend: the Windows folder of an offline image (WINDIR, holding
 * System32/config/SYSTEM and SOFTWARE). It finds the hive a setting lives in and hands every
 * hive operation to the hive backend; the preflight reads each fact from the hive that holds
 * it. WIM and NTFS images wrap the hive backend the same way. */
#include "target/backend.h"
#include "target/hive.h"

#include <stdlib.h>
#include <string.h>

#include "core/dirfind.h"
#include "core/sbuf.h"

struct image_target {
	char *root;            /* the Windows folder, as given or as recorded */
	char *system_path;     /* System32/config/SYSTEM as spelled on disk, if there */
	char *software_path;   /* System32/config/SOFTWARE, if there */
	struct target hive;    /* the hive the setting lives in */
	int hive_open;
};

static struct image_target *priv(const struct target *t)
{
	return t->priv;
}

/* name in windir/System32/config, found as Windows would, whatever its case: 1, 0 absent. */
static int image_hive(const char *windir, const char *name, char **out, struct gt_error *e)
{
	char *sys32 = NULL, *config = NULL;
	int r = dir_find_ci(windir, "System32", &sys32, e);

	*out = NULL;
	if (r == 1)
		r = dir_find_ci(sys32, "config", &config, e);
	if (r == 1)
		r = dir_find_ci(config, name, out, e);
	free(sys32);
	free(config);
	return r;
}

static int find_hives(struct image_target *im, struct gt_error *e)
{
	if (image_hive(im->root, "SYSTEM", &im->system_path, e) < 0 || image_hive(im->root, "SOFTWARE", &im->software_path, e) < 0)
		return -1;
	return 0;
}

/* The journal names the hive written, and what holds it: rollback comes back here. */
static void record_container(struct target *t)
{
	t->env->meta.backend = t->ops->name;
	t->env->meta.container = priv(t)->root;
}

static int image_open(struct target *t, const struct target_request *rq, struct gt_error *e)
{
	struct image_target *im = xcalloc(1, sizeof(*im));
	enum hive_kind wants;
	const char *write_path;

	t->priv = im;
	im->root = xstrdup(rq->what);
	if (gt_check_path(rq->what, 1, "--image takes the Windows folder of an offline image", e) < 0 || find_hives(im, e) < 0)
		return -1;
	if (!rq->setting)
		return gt_fail(e, GT_USAGE, "an image target is opened for a setting: it holds several hives");
	wants = target_hive_kind_of_key(rq->setting->key);
	write_path = wants == HK_SYSTEM ? im->system_path : im->software_path;
	if (!write_path)
		return gt_fail(e, GT_NO_SUCH_PATH, "'%s' holds no System32/config/%s: --image takes the Windows folder of an "
			       "offline image", im->root, hive_kind_name(wants));
	record_container(t);
	im->hive_open = 1;
	return target_hive_open_inner(&im->hive, t, write_path, rq->setting, e);
}

/* The entry names the hive and the Windows folder it was found in: the hive must still be
 * inside that folder, reached without links (checked again when the hive is opened). */
static int image_open_recorded(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	const char *root = jsonx_str(rb->target, "container"), *hive = jsonx_str(rb->target, "path");
	struct image_target *im = xcalloc(1, sizeof(*im));
	size_t n = root ? strlen(root) : 0;

	t->priv = im;
	if (!target_path_is_plain(root) || !hive || strncmp(hive, root, n) != 0 || hive[n] != '/')
		return gt_fail(e, GT_REFUSED, "journal entry %s does not name the Windows folder that holds its hive; not following it",
			       rb->id);
	im->root = xstrdup(root);
	if (safefile_check_no_links(root, e) < 0)
		return gt_prefix(e, "journal entry %s: not following it: ", rb->id);
	record_container(t);
	im->hive_open = 1;
	return target_hive_open_inner_recorded(&im->hive, t, rb, e);
}

static void image_close(struct target *t)
{
	struct image_target *im = priv(t);

	if (!im)
		return;
	if (im->hive_open)
		target_close(&im->hive);
	free(im->root);
	free(im->system_path);
	free(im->software_path);
	free(im);
}

static const char *image_path(const struct target *t)
{
	return target_path(&priv(t)->hive);
}

static int image_begin(struct target *t, int dry_run, struct gt_error *e)
{
	return target_begin(&priv(t)->hive, dry_run, e);
}

static int image_plan(struct target *t, const struct target_change *c, struct gt_error *e)
{
	return target_plan(&priv(t)->hive, c, e);
}

static int image_show_plan(struct target *t, struct gt_error *e)
{
	return target_show_plan(&priv(t)->hive, e);
}

static int image_commit(struct target *t, struct gt_error *e)
{
	return target_commit(&priv(t)->hive, e);
}

static int image_read(struct target *t, const struct target_setting *s, struct reg_value *out, struct gt_error *e)
{
	return target_read(&priv(t)->hive, s, out, e);
}

static int image_check(struct target *t, const struct target_setting *s, const struct reg_value *want, struct gt_error *e)
{
	return target_check(&priv(t)->hive, s, want, e);
}

static int image_fact(struct target *t, enum target_fact f, struct target_fact_value *out, const char **why, struct gt_error *e)
{
	const char *path = f == TF_PRODUCT_TYPE ? priv(t)->system_path : priv(t)->software_path;

	if (!path) {
		*why = f == TF_PRODUCT_TYPE ? "the image has no SYSTEM hive"
		     : f == TF_BUILD ? "the build is in the SOFTWARE hive (give --image WINDIR to check it)"
				     : "the image has no SOFTWARE hive";
		return 0;
	}
	return target_hive_file_fact(path, f, out, e);
}

static int image_rollback(struct target *t, struct target_rollback *rb, struct gt_error *e)
{
	return target_rollback(&priv(t)->hive, rb, e);
}

const struct target_ops target_image_ops = {
	.name = "image",
	.option = "image",
	.metavar = "WINDIR",
	.reach = TARGET_HOLDS_MACHINE,
	.open = image_open,
	.open_recorded = image_open_recorded,
	.close = image_close,
	.path = image_path,
	.begin = image_begin,
	.plan = image_plan,
	.show_plan = image_show_plan,
	.commit = image_commit,
	.read = image_read,
	.check = image_check,
	.fact = image_fact,
	.rollback = image_rollback,
};
