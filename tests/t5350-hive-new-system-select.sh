#!/bin/bash
# `hive new --kind SYSTEM` writes what Windows' own empty SYSTEM hive holds: Select (Current 1,
# Default 1, Failed 0, LastKnownGood 1) and an empty ControlSet001, so that a .reg naming
# CurrentControlSet imports into it; read back by reglookup, regfinfo and hivexsh.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'hive new --kind SYSTEM: Select and ControlSet001, read by three parsers' '
	gpotool hive new --kind SYSTEM s.hive >/dev/null &&
	reglookup -H -i s.hive | cut -d, -f1-3 >rl &&
	printf "%s\n" "/,KEY," "/ControlSet001,KEY," "/Select,KEY," "/Select/Current,DWORD,0x00000001" \
		"/Select/Default,DWORD,0x00000001" "/Select/Failed,DWORD,0x00000000" \
		"/Select/LastKnownGood,DWORD,0x00000001" >expect &&
	test_cmp expect rl &&
	regfinfo s.hive >/dev/null &&
	printf "cd Select\nlsval\n" | hivexsh s.hive >hx &&
	grep -qx "\"LastKnownGood\"=dword:00000001" hx
'

test_expect_success 'hive info: detected as SYSTEM from content, CurrentControlSet is ControlSet001' '
	gpotool hive info s.hive >out &&
	grep -q "^kind  *SYSTEM (detected from content)$" out &&
	grep -q "^current control set  *ControlSet001$" out &&
	grep -q "^tree  *3 keys, 4 values, all readable$" out
'

test_expect_success 'a .reg naming CurrentControlSet imports into it (reglookup reads it back)' '
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\Kdc]\r\n\"StrongCertificateBindingEnforcement\"=dword:00000002\r\n" >kdc.reg &&
	gpotool hive import s.hive kdc.reg >out &&
	grep -q "^verified: libregf reads back" out &&
	reglookup -H -p /ControlSet001/Services/Kdc/StrongCertificateBindingEnforcement s.hive >rl &&
	grep -qx "/ControlSet001/Services/Kdc/StrongCertificateBindingEnforcement,DWORD,0x00000002," rl
'

test_expect_success 'hive set through CurrentControlSet works on a fresh one too' '
	gpotool hive new --kind SYSTEM t.hive >/dev/null &&
	gpotool hive set t.hive "HKLM\\SYSTEM\\CurrentControlSet\\Control\\ProductOptions" ProductType REG_SZ LanmanNT >/dev/null &&
	reglookup -H -p /ControlSet001/Control/ProductOptions/ProductType t.hive | grep -q ",SZ,LanmanNT,"
'

test_expect_success 'other kinds still start with a bare root' '
	for k in SOFTWARE SAM SECURITY NTUSER USRCLASS other; do
		rm -f o.hive && gpotool hive new --kind $k o.hive >/dev/null &&
		test "$(reglookup -H o.hive | cut -d, -f1-2)" = "/,KEY" || exit 1
	done
'

test_done
