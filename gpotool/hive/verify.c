/* libregf behind one small interface; see verify.h. */
#include "hive/verify.h"

#include <libregf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/hive.h"
#include "core/sbuf.h"

struct regf_reader {
	libregf_file_t *file;
};

/* libregf's error is a backtrace; its first line names the failing step well enough */
static int regf_fail(struct gt_error *e, libregf_error_t *err, const char *what)
{
	char buf[512] = "unknown error";

	if (err) {
		libregf_error_sprint(err, buf, sizeof(buf));
		buf[strcspn(buf, "\n")] = '\0';
		libregf_error_free(&err);
	}
	return gt_fail(e, GT_REFUSED, "libregf %s: %s", what, buf);
}

int verify_open(const char *path, struct regf_reader **out, struct gt_error *e)
{
	libregf_error_t *err = NULL;
	libregf_file_t *file = NULL;

	*out = NULL;
	if (libregf_file_initialize(&file, &err) != 1)
		return regf_fail(e, err, "cannot start");
	if (libregf_file_open(file, path, LIBREGF_OPEN_READ, &err) != 1) {
		libregf_file_free(&file, NULL);
		return regf_fail(e, err, "cannot open it");
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->file = file;
	return 0;
}

int verify_open_fd(int fd, struct regf_reader **out, struct gt_error *e)
{
	char self[32];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return verify_open(self, out, e);
}

void verify_close(struct regf_reader *r)
{
	if (!r)
		return;
	libregf_file_close(r->file, NULL);
	libregf_file_free(&r->file, NULL);
	free(r);
}

static int read_one_value(libregf_value_t *v, struct reg_value *out, struct gt_error *e)
{
	libregf_error_t *err = NULL;
	size_t name_size = 0, data_size = 0;
	uint32_t type = 0;

	reg_value_init(out);
	if (libregf_value_get_utf8_name_size(v, &name_size, &err) != 1)
		return regf_fail(e, err, "cannot read a value name");
	out->name = xcalloc(1, name_size ? name_size : 1);
	if (name_size > 1 && libregf_value_get_utf8_name(v, (uint8_t *)out->name, name_size, &err) != 1)
		return regf_fail(e, err, "cannot read a value name");
	if (libregf_value_get_value_type(v, &type, &err) != 1)
		return regf_fail(e, err, "cannot read a value type");
	out->type = type;
	if (libregf_value_get_value_data_size(v, &data_size, &err) != 1)
		return regf_fail(e, err, "cannot read the data size");
	out->data = xmalloc(data_size ? data_size : 1);
	out->len = data_size;
	if (data_size && libregf_value_get_value_data(v, out->data, data_size, &err) != 1)
		return gt_prefix(e, "value '%s': ", out->name), regf_fail(e, err, "cannot read the data");
	return 0;
}

static int read_values(libregf_key_t *key, struct reg_value **vals, size_t *nvals, struct gt_error *e)
{
	libregf_error_t *err = NULL;
	int count = 0;

	if (libregf_key_get_number_of_values(key, &count, &err) != 1)
		return regf_fail(e, err, "cannot count values");
	*vals = xcalloc(count > 0 ? (size_t)count : 1, sizeof(**vals));
	for (int i = 0; i < count; i++) {
		libregf_value_t *v = NULL;
		int ret;

		if (libregf_key_get_value(key, i, &v, &err) != 1) {
			reg_values_free(*vals, (size_t)i);
			*vals = NULL;
			return regf_fail(e, err, "cannot read a value");
		}
		ret = read_one_value(v, &(*vals)[i], e);
		libregf_value_free(&v, NULL);
		if (ret < 0) {
			reg_values_free(*vals, (size_t)i + 1);
			*vals = NULL;
			return -1;
		}
	}
	*nvals = (size_t)count;
	return 0;
}

int verify_read_key(struct regf_reader *r, char *const *parts, size_t n,
		    struct reg_value **vals, size_t *nvals, struct gt_error *e)
{
	libregf_error_t *err = NULL;
	libregf_key_t *key = NULL;
	int ret;

	*vals = NULL;
	*nvals = 0;
	if (libregf_file_get_root_key(r->file, &key, &err) != 1)
		return regf_fail(e, err, "cannot read the root key");
	for (size_t i = 0; i < n; i++) {
		libregf_key_t *sub = NULL;

		ret = libregf_key_get_sub_key_by_utf8_name(key, (const uint8_t *)parts[i], strlen(parts[i]), &sub, &err);
		libregf_key_free(&key, NULL);
		if (ret == 0)
			return 0;
		if (ret != 1)
			return regf_fail(e, err, "cannot read subkeys");
		key = sub;
	}
	ret = read_values(key, vals, nvals, e);
	libregf_key_free(&key, NULL);
	return ret < 0 ? -1 : 1;
}
