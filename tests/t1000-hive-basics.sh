#!/bin/bash
# hive new / set / get / delete / export on hives gpotool writes itself: every write read
# back by libregf inside gpotool and by reglookup here (a third parser).
. "$(dirname "$0")/test-lib.sh"

DC=HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc

test_expect_success 'hive new writes an empty hive that three parsers open' '
	gpotool hive new s.hive --kind SYSTEM >out &&
	grep -q "created empty SYSTEM hive" out &&
	reglookup s.hive >/dev/null &&
	regfinfo s.hive >/dev/null &&
	hivexsh s.hive </dev/null
'

test_expect_success 'hive new refuses to overwrite an existing file' '
	cp s.hive before &&
	test_must_fail 3 gpotool hive new s.hive 2>err &&
	test_one_line err "already exists" &&
	cmp s.hive before
'

test_expect_success 'import the sample DC SYSTEM source' '
	gpotool hive import s.hive "$PROJECT_DIR/hives/dc01/SYSTEM.reg" >out &&
	grep -q "^set value    HKLM\\\\SYSTEM\\\\ControlSet001\\\\Control\\\\ProductOptions\\\\ProductType: (absent) -> REG_SZ \"LanmanNT\"" out &&
	tail -n 1 out | grep -q "^journal: "
'

test_expect_success 'hive info reads role and control set' '
	gpotool hive info s.hive >out &&
	grep -q "^kind  *SYSTEM (detected from content)" out &&
	grep -q "^current control set  *ControlSet001" out &&
	grep -q "^role  *domain controller" out &&
	grep -q "^state  *clean" out
'

test_expect_success 'set through CurrentControlSet lands in ControlSet001, read back by reglookup' '
	gpotool hive set s.hive "$DC" StrongCertificateBindingEnforcement REG_DWORD 1 >out &&
	grep -q "StrongCertificateBindingEnforcement: (absent) -> REG_DWORD 1 (0x00000001)" out &&
	reglookup -H -p /ControlSet001/Services/Kdc/StrongCertificateBindingEnforcement s.hive >rl &&
	grep -q "^/ControlSet001/Services/Kdc/StrongCertificateBindingEnforcement,DWORD,0x00000001," rl
'

test_expect_success 'hive get prints .reg notation; absent value exits 1' '
	gpotool hive get s.hive "$DC" strongcertificatebindingenforcement >out &&
	echo "dword:00000001" >expect && test_cmp expect out &&
	test_must_fail 1 gpotool hive get s.hive "$DC" NoSuchValue 2>err &&
	test_one_line err "not found"
'

test_expect_success 're-setting the same value changes nothing and writes no journal' '
	cp s.hive before &&
	ls state/journal | wc -l >n1 &&
	gpotool hive set s.hive "$DC" StrongCertificateBindingEnforcement REG_DWORD 0x1 >out &&
	grep -q "^no change" out &&
	cmp s.hive before &&
	ls state/journal | wc -l >n2 && test_cmp n1 n2
'

test_expect_success 'the modified key gets a new last-write time' '
	reglookup -H -t KEY -p /ControlSet001/Services/Kdc s.hive | head -n 1 >k &&
	grep -q "^/ControlSet001/Services/Kdc,KEY,,$(date -u +%Y-%m-%d)" k
'

test_expect_success 'every value type round-trips through set and get' '
	gpotool hive set s.hive T sz REG_SZ "a \"quoted\" \\ value" &&
	gpotool hive set s.hive T exp REG_EXPAND_SZ "%SystemRoot%\\x" &&
	gpotool hive set s.hive T multi REG_MULTI_SZ "one\\0two" &&
	gpotool hive set s.hive T q REG_QWORD 18446744073709551615 &&
	gpotool hive set s.hive T bin REG_BINARY "de,ad,be,ef" &&
	gpotool hive set s.hive T "" REG_SZ default &&
	gpotool hive get s.hive T q >out && echo "hex(b):ff,ff,ff,ff,ff,ff,ff,ff" >expect && test_cmp expect out &&
	gpotool hive get s.hive T bin >out && echo "hex:de,ad,be,ef" >expect && test_cmp expect out &&
	gpotool hive get s.hive T multi >out &&
	echo "hex(7):6f,00,6e,00,65,00,00,00,74,00,77,00,6f,00,00,00,00,00" >expect && test_cmp expect out &&
	gpotool hive get s.hive T "" >out && echo "\"default\"" >expect && test_cmp expect out &&
	reglookup -H -p /T s.hive >rl &&
	grep -q "^/T/multi,MULTI_SZ,one|two," rl &&
	grep -q "^/T/q,QWORD,0xFFFFFFFFFFFFFFFF," rl
'

test_expect_success 'a full reglookup dump differs only by the change made' '
	reglookup -H s.hive | grep -v ",KEY," | sort >before.txt &&
	gpotool hive set s.hive "HKLM\\SYSTEM\\ControlSet001\\Control" NewValue REG_DWORD 7 &&
	reglookup -H s.hive | grep -v ",KEY," | sort >after.txt &&
	{ diff before.txt after.txt >diff.out; test $? = 1; } &&
	grep "^[<>]" diff.out >d &&
	echo "> /ControlSet001/Control/NewValue,DWORD,0x00000007," >expect &&
	test_cmp expect d
'

test_expect_success 'delete a value, then a key with its subtree' '
	gpotool hive delete s.hive "HKLM\\SYSTEM\\ControlSet001\\Control" NewValue >out &&
	grep -q "^delete value HKLM\\\\SYSTEM\\\\ControlSet001\\\\Control\\\\NewValue: REG_DWORD 7 (0x00000007) -> (absent)" out &&
	gpotool hive delete s.hive T >out &&
	grep -q "^delete key   HKLM\\\\SYSTEM\\\\T$" out &&
	test_must_fail 1 gpotool hive get s.hive T 2>err &&
	! reglookup -H -p /T s.hive | grep -q .
'

test_expect_success 'deleting what is not there exits 1 and writes nothing' '
	cp s.hive before &&
	test_must_fail 1 gpotool hive delete s.hive "$DC" NoSuchValue 2>err &&
	test_one_line err "nothing changed" &&
	cmp s.hive before
'

test_expect_success 'export is a UTF-16LE regedit file that imports back to the same values' '
	gpotool hive export s.hive "HKLM\\SYSTEM\\ControlSet001" --output cs.reg >out &&
	grep -q "^exported" out &&
	head -c 2 cs.reg | od -An -tx1 | grep -q "ff fe" &&
	gpotool hive new copy.hive --kind SYSTEM &&
	gpotool hive import copy.hive cs.reg >/dev/null &&
	reglookup -H -t SZ s.hive >/dev/null &&
	(reglookup -H -p /ControlSet001 s.hive | grep -v ",KEY," | sort) >a &&
	(reglookup -H -p /ControlSet001 copy.hive | grep -v ",KEY," | sort) >b &&
	test_cmp a b
'

test_expect_success 'the journal holds the before-state of each write, private to the user' '
	id=$(ls state/journal | head -n 1) &&
	test "$(stat -c %a state)" = 700 &&
	test "$(stat -c %a state/journal/$id/entry.json)" = 600 &&
	test "$(stat -c %a state/journal/$id/before-0.bin)" = 600 &&
	test "$(json_field state/journal/$id/entry.json "d[\"status\"]")" = complete
'

test_expect_success 'the journal copy is byte-for-byte the file before the change' '
	cp s.hive before &&
	gpotool hive set s.hive "$DC" StrongCertificateBindingEnforcement REG_DWORD 2 >out &&
	id=$(tail -n 1 out | sed "s/^journal: //") &&
	cmp before state/journal/$id/before-0.bin &&
	sha256sum s.hive | cut -d" " -f1 >expect &&
	json_field state/journal/$id/entry.json "d[\"targets\"][0][\"sha256_after\"]" >actual &&
	test_cmp expect actual
'

test_expect_success 'the file keeps its mode' '
	chmod 640 s.hive &&
	gpotool hive set s.hive "$DC" StrongCertificateBindingEnforcement REG_DWORD 1 >/dev/null &&
	test "$(stat -c %a s.hive)" = 640
'

test_expect_success 'no temp file is left beside the hive' '
	! ls -a | grep -q "gpotool-"
'

test_done
