/* Parsing of user-written key paths; see keypath.h. */
#include "reg/keypath.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sbuf.h"

static void push(struct keypath *kp, const char *s, size_t n)
{
	kp->parts = xrealloc(kp->parts, (kp->n + 1) * sizeof(*kp->parts));
	kp->parts[kp->n] = xmalloc(n + 1);
	memcpy(kp->parts[kp->n], s, n);
	kp->parts[kp->n][n] = '\0';
	kp->n++;
}

void keypath_release(struct keypath *kp)
{
	for (size_t i = 0; i < kp->n; i++)
		free(kp->parts[i]);
	free(kp->parts);
	free(kp->mount);
	memset(kp, 0, sizeof(*kp));
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t chars = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	return chars;
}

static int split(const char *text, struct keypath *kp, struct gt_error *e)
{
	const char *p = text;

	while (*p) {
		const char *end = strchr(p, '\\');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0)
			return gt_fail(e, GT_USAGE, "empty key name in '%s'", text);
		if (utf8_chars(p, n) > KEYPATH_MAX_NAME_CHARS)
			return gt_fail(e, GT_USAGE, "key name longer than %u characters in '%s'", KEYPATH_MAX_NAME_CHARS, text);
		if (kp->n >= KEYPATH_MAX_DEPTH)
			return gt_fail(e, GT_USAGE, "key path deeper than %u levels", KEYPATH_MAX_DEPTH);
		push(kp, p, n);
		if (!end)
			break;
		p = end + 1;
		if (!*p)
			break; /* one trailing backslash is harmless */
	}
	return 0;
}

/* Root keys and what they mean for an offline hive. HKCR is a merged view whose machine
 * half is SOFTWARE\Classes; HKCC is SYSTEM\CurrentControlSet\Hardware Profiles\Current
 * (Microsoft Learn, "Predefined Keys", learn.microsoft.com/windows/win32/sysinfo/predefined-keys). */
static const struct {
	const char *name, *alias, *mount, *prefix;
	int mount_follows; /* the next component names the hive */
} roots[] = {
	{ "HKEY_LOCAL_MACHINE", "HKLM", NULL, NULL, 1 },
	{ "HKEY_CURRENT_USER", "HKCU", "NTUSER", NULL, 0 },
	{ "HKEY_USERS", "HKU", "NTUSER", NULL, 1 },
	{ "HKEY_CLASSES_ROOT", "HKCR", "SOFTWARE", "Classes", 0 },
	{ "HKEY_CURRENT_CONFIG", "HKCC", "SYSTEM", "CurrentControlSet\\Hardware Profiles\\Current", 0 },
};

int keypath_parse(const char *text, struct keypath *kp, struct gt_error *e)
{
	struct keypath raw = { 0 };
	size_t first = 0;

	memset(kp, 0, sizeof(*kp));
	if (text[0] == '\\')
		text++;
	if (split(text, &raw, e) < 0) {
		keypath_release(&raw);
		return -1;
	}
	for (size_t i = 0; raw.n && i < sizeof(roots) / sizeof(roots[0]); i++) {
		if (strcasecmp(raw.parts[0], roots[i].name) && strcasecmp(raw.parts[0], roots[i].alias))
			continue;
		first = 1;
		if (roots[i].mount_follows) {
			if (raw.n < 2) {
				keypath_release(&raw);
				return gt_fail(e, GT_USAGE, "'%s' names no hive: write e.g. 'HKLM\\SYSTEM\\...'", text);
			}
			first = 2;
		}
		kp->mount = xstrdup(roots[i].mount ? roots[i].mount : raw.parts[1]);
		kp->classes = strcmp(roots[i].alias, "HKCR") == 0;
		if (roots[i].prefix && split(roots[i].prefix, kp, e) < 0) {
			keypath_release(&raw);
			keypath_release(kp);
			return -1;
		}
		break;
	}
	for (size_t i = first; i < raw.n; i++)
		push(kp, raw.parts[i], strlen(raw.parts[i]));
	keypath_release(&raw);
	if (kp->n > KEYPATH_MAX_DEPTH) {
		/* a mount prefix (HKCC's) can push a path at the limit over it */
		keypath_release(kp);
		return gt_fail(e, GT_USAGE, "key path deeper than %u levels", KEYPATH_MAX_DEPTH);
	}
	return 0;
}

char *keypath_join(char *const *parts, size_t n)
{
	struct sbuf sb;

	sbuf_init(&sb);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_addch(&sb, '\\');
		sbuf_addstr(&sb, parts[i]);
	}
	return sbuf_detach(&sb, NULL);
}

void keypath_split(const char *joined, struct keypath *kp)
{
	const char *p = joined;

	memset(kp, 0, sizeof(*kp));
	while (*p) {
		const char *end = strchr(p, '\\');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		push(kp, p, n);
		if (!end)
			break;
		p = end + 1;
	}
}
