/* Key paths as users write them: "HKLM\SYSTEM\CurrentControlSet\Services\Kdc",
 * "HKEY_LOCAL_MACHINE\SOFTWARE\...", "HKCU\...", or relative to the hive root. Parsing is
 * strict and bounded: no empty components, Windows' limits on depth and name length. */
#ifndef GPOTOOL_KEYPATH_H
#define GPOTOOL_KEYPATH_H

#include <stddef.h>

#include "core/error.h"

#define KEYPATH_MAX_DEPTH 512       /* Windows: keys nest at most 512 levels */
#define KEYPATH_MAX_NAME_CHARS 255  /* Windows: key names are at most 255 characters */

struct keypath {
	char **parts;  /* components below the hive root, owned */
	size_t n;
	char *mount;   /* hive the path names ("SYSTEM", "SOFTWARE", "NTUSER", ...), NULL if relative */
	int classes;   /* named through HKCR: parts start with the "Classes" of SOFTWARE, which a
	                * UsrClass.dat (HKCR's user half) holds at its root */
};

/* Parses text into kp (released with keypath_release; on error there is nothing to release).
 * Errors are GT_USAGE. */
int keypath_parse(const char *text, struct keypath *kp, struct gt_error *e);
void keypath_release(struct keypath *kp);
/* "A\B\C"; caller frees. */
char *keypath_join(char *const *parts, size_t n);
/* Splits "A\B\C" (as produced by keypath_join) into parts; caller frees with keypath_release. */
void keypath_split(const char *joined, struct keypath *kp);

#endif
