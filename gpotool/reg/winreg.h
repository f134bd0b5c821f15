/* Facts about where Windows keeps things in its hives: hive kinds and how each is mounted,
 * and the values `hive info` reads. Each fact carries its source in winreg.c. */
#ifndef GPOTOOL_WINREG_H
#define GPOTOOL_WINREG_H

enum hive_kind { HK_OTHER, HK_SYSTEM, HK_SOFTWARE, HK_SAM, HK_SECURITY, HK_NTUSER, HK_USRCLASS };

const char *hive_kind_name(enum hive_kind k);
/* 1 known ("SYSTEM", "software", ...), 0 unknown. */
int hive_kind_from_name(const char *name, enum hive_kind *k);
/* How keys of this kind are shown ("HKLM\SYSTEM") and exported ("HKEY_LOCAL_MACHINE\SYSTEM"). */
const char *hive_kind_short_prefix(enum hive_kind k);
const char *hive_kind_reg_prefix(enum hive_kind k);
/* The mount name a key path names for this kind ("SYSTEM", "NTUSER" for HKCU ...). */
const char *hive_kind_mount(enum hive_kind k);

/* The meaning of Control\ProductOptions\ProductType, or NULL for an unknown string. */
const char *product_type_role(const char *product_type);

/* Paths of the facts `hive info` reports (below the hive root; SYSTEM paths below the
 * resolved control set). */
#define WINREG_SELECT_KEY "Select"
#define WINREG_SELECT_CURRENT "Current"
#define WINREG_PRODUCT_OPTIONS_KEY "Control\\ProductOptions"
#define WINREG_PRODUCT_TYPE "ProductType"
#define WINREG_COMPUTER_NAME_KEY "Control\\ComputerName\\ComputerName"
#define WINREG_COMPUTER_NAME "ComputerName"
#define WINREG_CURRENT_VERSION_KEY "Microsoft\\Windows NT\\CurrentVersion"

/* Display name of the Intune Certificate Connector's Uninstall entry (KB5014754 Intune
 * guidance; the connector's installer writes it). */
#define WINREG_CONNECTOR_DISPLAY_NAME "Certificate Connector for Microsoft Intune"

#endif
