/* Windows registry facts, each with its source; see winreg.h. */
#include "reg/winreg.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Mount points: Microsoft Learn, "Registry hives"
 * (learn.microsoft.com/windows/win32/sysinfo/registry-hives): HKLM\SAM, HKLM\SECURITY,
 * HKLM\SOFTWARE, HKLM\SYSTEM from %SystemRoot%\System32\Config; HKCU from NTUSER.DAT;
 * HKCU\Software\Classes from UsrClass.dat. */
static const struct {
	enum hive_kind kind;
	const char *name, *short_prefix, *reg_prefix, *mount;
} kinds[] = {
	{ HK_OTHER, "other", "", "HKEY_LOCAL_MACHINE\\OFFLINE", "OFFLINE" },
	{ HK_SYSTEM, "SYSTEM", "HKLM\\SYSTEM", "HKEY_LOCAL_MACHINE\\SYSTEM", "SYSTEM" },
	{ HK_SOFTWARE, "SOFTWARE", "HKLM\\SOFTWARE", "HKEY_LOCAL_MACHINE\\SOFTWARE", "SOFTWARE" },
	{ HK_SAM, "SAM", "HKLM\\SAM", "HKEY_LOCAL_MACHINE\\SAM", "SAM" },
	{ HK_SECURITY, "SECURITY", "HKLM\\SECURITY", "HKEY_LOCAL_MACHINE\\SECURITY", "SECURITY" },
	{ HK_NTUSER, "NTUSER", "HKCU", "HKEY_CURRENT_USER", "NTUSER" },
	{ HK_USRCLASS, "USRCLASS", "HKCU\\Software\\Classes", "HKEY_CURRENT_USER\\Software\\Classes", "USRCLASS" },
};

const char *hive_kind_name(enum hive_kind k)
{
	return kinds[k].name;
}

int hive_kind_from_name(const char *name, enum hive_kind *k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcasecmp(name, kinds[i].name) == 0) {
			*k = kinds[i].kind;
			return 1;
		}
	}
	return 0;
}

const char *hive_kind_short_prefix(enum hive_kind k)
{
	return kinds[k].short_prefix;
}

const char *hive_kind_reg_prefix(enum hive_kind k)
{
	return kinds[k].reg_prefix;
}

const char *hive_kind_mount(enum hive_kind k)
{
	return kinds[k].mount;
}

/* ProductType strings: Microsoft Learn, OSVERSIONINFOEXW wProductType
 * (learn.microsoft.com/windows/win32/api/winnt/ns-winnt-osversioninfoexw) and the
 * ProductOptions key they are read from: "WinNT" workstation (VER_NT_WORKSTATION),
 * "LanmanNT" domain controller (VER_NT_DOMAIN_CONTROLLER), "ServerNT" member or standalone
 * server (VER_NT_SERVER). Services\NTDS exists on workstations too, so it proves nothing. */
const char *product_type_role(const char *product_type)
{
	if (strcasecmp(product_type, "LanmanNT") == 0)
		return "domain controller";
	if (strcasecmp(product_type, "ServerNT") == 0)
		return "server";
	if (strcasecmp(product_type, "WinNT") == 0)
		return "workstation";
	return NULL;
}
