#!/bin/bash
# A key or value name holding CR or LF cannot be written in a .reg file (regedit has no
# escape for it either): `hive export` refuses it with exit 3, one line naming the key with
# the break shown as \r\n, and writes nothing; the rest of the hive still exports.
. "$(dirname "$0")/test-lib.sh"

BAD=$'HKLM\\SOFTWARE\\Good\\bad\r\nname'

test_expect_success 'setup: a hive with a key whose name holds CR/LF (reglookup sees it)' '
	gpotool hive new --kind SOFTWARE h.hive >/dev/null &&
	gpotool hive set h.hive "$BAD" v REG_DWORD 1 >/dev/null &&
	gpotool hive set h.hive "HKLM\\SOFTWARE\\Other" w REG_SZ fine >/dev/null &&
	reglookup -H h.hive >rl &&
	grep -qx "/Good/bad%0D%0Aname/v,DWORD,0x00000001," rl
'

test_expect_success 'export of the whole hive: exit 3, one line naming the key, no output file' '
	test_must_fail 3 gpotool hive export h.hive --output all.reg 2>err &&
	test_one_line err "key .HKEY_LOCAL_MACHINE.SOFTWARE.Good.bad\\\\r\\\\nname. has a line break in its name" &&
	test ! -e all.reg
'

test_expect_success 'export to stdout: exit 3, nothing on stdout' '
	test_must_fail 3 gpotool hive export h.hive --utf8 >out 2>err &&
	test ! -s out &&
	test_one_line err "line break"
'

test_expect_success 'a subtree without the key still exports and imports back' '
	gpotool hive export h.hive "HKLM\\SOFTWARE\\Other" --output other.reg >/dev/null &&
	gpotool hive new --kind SOFTWARE o.hive >/dev/null &&
	gpotool hive import o.hive other.reg >/dev/null &&
	gpotool hive get o.hive "HKLM\\SOFTWARE\\Other" w >v &&
	grep -qx "\"fine\"" v
'

test_expect_success 'a value name holding LF is refused the same way, naming key and value' '
	gpotool hive new --kind SOFTWARE v.hive >/dev/null &&
	gpotool hive set v.hive "HKLM\\SOFTWARE\\K" $'"'"'two\nlines'"'"' REG_DWORD 1 >/dev/null &&
	test_must_fail 3 gpotool hive export v.hive --output v.reg 2>err &&
	test_one_line err "key .HKEY_LOCAL_MACHINE.SOFTWARE.K. value .two\\\\nlines. has a line break" &&
	test ! -e v.reg
'

test_done
