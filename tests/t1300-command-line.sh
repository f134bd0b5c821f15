#!/bin/bash
# Bad command lines: each must exit with its documented code, say so in exactly one line on
# stderr, print nothing on stdout, and leave the target hive byte-for-byte as it was (and
# write no journal entry). Then --json on failure, the HKCR/HKCU mappings, and
# CurrentControlSet in SYSTEM hives whose Select\Current cannot name a control set.
. "$(dirname "$0")/test-lib.sh"

journal_count() { ls state/journal 2>/dev/null | wc -l; }

# refused CODE PATTERN HIVE CMD...: CMD exits CODE with one stderr line holding PATTERN,
# an empty stdout, HIVE unchanged and no new journal entry.
refused() {
	local code=$1 pattern=$2 hive=$3 n1 n2
	shift 3
	cp "$hive" "$hive.before" &&
	n1=$(journal_count) &&
	test_must_fail "$code" "$@" >out 2>err &&
	test_one_line err "$pattern" &&
	{ ! test -s out || { echo "unexpected stdout:" >&2; cat out >&2; false; }; } &&
	cmp "$hive" "$hive.before" &&
	n2=$(journal_count) &&
	test "$n1" = "$n2"
}

SET="gpotool hive set s.hive"

test_expect_success 'setup: a SYSTEM hive with a control set, and a control command that works' '
	gpotool hive new s.hive --kind SYSTEM >/dev/null &&
	gpotool hive set s.hive "HKLM\\SYSTEM\\Select" Current REG_DWORD 1 >/dev/null &&
	gpotool hive set s.hive "HKLM\\SYSTEM\\ControlSet001\\Control" Probe REG_DWORD 1 >/dev/null &&
	cp s.hive good.hive &&
	gpotool hive set good.hive "HKLM\\SYSTEM\\CurrentControlSet\\Control" Probe REG_DWORD 2 >out &&
	grep -q "REG_DWORD 1 (0x00000001) -> REG_DWORD 2 (0x00000002)" out &&
	! cmp -s s.hive good.hive
'

# ---- commands ----

test_expect_success 'an unknown command: exit 2, one line, hive unchanged' '
	refused 2 "unknown command .hive frobnicate." s.hive gpotool hive frobnicate s.hive K n REG_SZ x &&
	grep -q -- "--help" err &&
	refused 2 "unknown command .frobnicate" s.hive gpotool frobnicate s.hive
'

test_expect_success 'a prefix of a command is not that command ("hive se")' '
	refused 2 "unknown command .hive se." s.hive gpotool hive se s.hive K n REG_SZ x &&
	refused 2 "unknown command" s.hive gpotool hive SET s.hive K n REG_SZ x
'

test_expect_success 'missing arguments for each hive command: exit 2 with its usage line' '
	refused 2 "usage: gpotool hive info HIVE" s.hive gpotool hive info &&
	refused 2 "usage: gpotool hive get HIVE KEY \[NAME\]" s.hive gpotool hive get s.hive &&
	refused 2 "usage: gpotool hive set HIVE KEY NAME TYPE DATA" s.hive gpotool hive set s.hive &&
	refused 2 "usage: gpotool hive set HIVE KEY NAME TYPE DATA" s.hive gpotool hive set s.hive K n REG_SZ &&
	refused 2 "usage: gpotool hive delete HIVE KEY \[NAME\]" s.hive gpotool hive delete s.hive &&
	refused 2 "usage: gpotool hive export HIVE" s.hive gpotool hive export &&
	refused 2 "usage: gpotool hive import HIVE REGFILE" s.hive gpotool hive import s.hive &&
	refused 2 "usage: gpotool hive new HIVE" s.hive gpotool hive new
'

test_expect_success 'too many arguments: exit 2 with the usage line' '
	refused 2 "usage: gpotool hive set HIVE KEY NAME TYPE DATA" s.hive $SET K n REG_SZ x extra &&
	refused 2 "usage: gpotool hive delete HIVE KEY \[NAME\]" s.hive gpotool hive delete s.hive K n extra &&
	refused 2 "usage: gpotool hive get HIVE KEY \[NAME\]" s.hive gpotool hive get s.hive K n extra &&
	refused 2 "usage: gpotool hive new HIVE" s.hive gpotool hive new a.hive b.hive &&
	! test -e a.hive && ! test -e b.hive
'

# ---- value types and data ----

test_expect_success 'an unknown type (REG_FOO): exit 2, unchanged' '
	refused 2 "unknown value type .REG_FOO." s.hive $SET K n REG_FOO x
'

test_expect_success 'REG_NONE and REG_LINK cannot be written: exit 2, unchanged' '
	refused 2 "REG_NONE" s.hive $SET K n REG_NONE x &&
	refused 2 "REG_LINK" s.hive $SET K n REG_LINK x
'

test_expect_success 'DWORD out of range or malformed: exit 2, unchanged' '
	refused 2 "4294967296" s.hive $SET K n REG_DWORD 4294967296 &&
	refused 2 "0x" s.hive $SET K n REG_DWORD 0x &&
	refused 2 "12abc" s.hive $SET K n REG_DWORD 12abc &&
	refused 2 "REG_DWORD data must be" s.hive $SET K n REG_DWORD " 1" &&
	refused 2 "REG_DWORD data must be" s.hive $SET K n REG_DWORD "" &&
	refused 2 "REG_DWORD data must be .*-1" s.hive $SET K n REG_DWORD -- -1 &&
	refused 2 "unknown option .-1." s.hive $SET K n REG_DWORD -1
'

test_expect_success 'DWORD limits that are valid are accepted' '
	cp s.hive ok.hive &&
	gpotool hive set ok.hive K n REG_DWORD 4294967295 >/dev/null &&
	gpotool hive get ok.hive K n >out && echo "dword:ffffffff" >expect && test_cmp expect out &&
	gpotool hive set ok.hive K n REG_DWORD 0x0 >/dev/null &&
	gpotool hive get ok.hive K n >out && echo "dword:00000000" >expect && test_cmp expect out
'

test_expect_success 'QWORD out of range: exit 2, unchanged; the maximum is accepted' '
	refused 2 "18446744073709551616" s.hive $SET K n REG_QWORD 18446744073709551616 &&
	refused 2 "REG_QWORD data must be" s.hive $SET K n REG_QWORD 0x10000000000000000 &&
	refused 2 "REG_QWORD data must be" s.hive $SET K n REG_QWORD -- -1 &&
	cp s.hive ok.hive &&
	gpotool hive set ok.hive K n REG_QWORD 18446744073709551615 >/dev/null &&
	gpotool hive get ok.hive K n >out && echo "hex(b):ff,ff,ff,ff,ff,ff,ff,ff" >expect && test_cmp expect out
'

test_expect_success 'binary data with an odd number of hex digits: exit 2, unchanged' '
	refused 2 "binary data must be hex byte pairs" s.hive $SET K n REG_BINARY abc &&
	refused 2 "binary data must be hex byte pairs" s.hive $SET K n REG_BINARY de,ad,b &&
	refused 2 "binary data must be hex byte pairs" s.hive $SET K n REG_BINARY 1 &&
	refused 2 "binary data must be hex byte pairs" s.hive $SET K n REG_BINARY zz
'

test_expect_success 'MULTI_SZ with an empty string in the middle: exit 2, unchanged' '
	refused 2 "REG_MULTI_SZ cannot hold an empty string" s.hive $SET K n REG_MULTI_SZ "a\\0\\0b" &&
	cp s.hive ok.hive &&
	gpotool hive set ok.hive K n REG_MULTI_SZ "a\\0b" >/dev/null &&
	gpotool hive get ok.hive K n >out && echo "hex(7):61,00,00,00,62,00,00,00,00,00" >expect && test_cmp expect out
'

# ---- key paths ----

test_expect_success 'a path into another hive: exit 2, unchanged' '
	refused 2 "is in the SOFTWARE hive, but .s.hive. is a SYSTEM hive" s.hive $SET "HKLM\\SOFTWARE\\X" n REG_SZ x &&
	refused 2 "is in the NTUSER hive, but .s.hive. is a SYSTEM hive" s.hive $SET "HKCU\\X" n REG_SZ x &&
	refused 2 "is in the SOFTWARE hive" s.hive $SET "HKCR\\X" n REG_SZ x &&
	refused 2 "is in the SOFTWARE hive" s.hive gpotool hive delete s.hive "HKLM\\SOFTWARE\\X"
'

test_expect_success 'HKLM alone names no hive: exit 2, unchanged' '
	refused 2 "names no hive" s.hive $SET HKLM n REG_SZ x &&
	refused 2 "names no hive" s.hive $SET "HKEY_LOCAL_MACHINE\\" n REG_SZ x
'

test_expect_success 'an empty key name component (A\\B): exit 2, unchanged' '
	refused 2 "empty key name" s.hive $SET "A\\\\B" n REG_SZ x &&
	refused 2 "empty key name" s.hive $SET "HKLM\\SYSTEM\\\\A" n REG_SZ x
'

test_expect_success 'a key name of 256 characters: exit 2, unchanged; 255 is accepted' '
	k255=$(printf "k%.0s" $(seq 255)) &&
	refused 2 "longer than 255 characters" s.hive $SET "A\\${k255}x" n REG_SZ x &&
	cp s.hive ok.hive &&
	gpotool hive set ok.hive "A\\$k255" n REG_SZ x >/dev/null &&
	reglookup -H -p "/A/$k255/n" ok.hive | grep -q ",SZ,x,"
'

# ---- options ----

test_expect_success 'an unknown option: exit 2, unchanged' '
	refused 2 "unknown option .--bogus. for .hive set." s.hive $SET K n REG_SZ x --bogus &&
	refused 2 "unknown option .--bogus. for .hive set." s.hive gpotool hive set --bogus s.hive K n REG_SZ x
'

test_expect_success 'an unknown global option: exit 2, unchanged' '
	refused 2 "unknown global option .--bogus." s.hive gpotool --bogus hive set s.hive K n REG_SZ x &&
	refused 2 "needs a value" s.hive gpotool --state-dir
'

test_expect_success '--kind with an unknown kind: exit 2, nothing created or changed' '
	refused 2 "unknown hive kind .FOO." s.hive gpotool hive new new.hive --kind FOO &&
	! test -e new.hive &&
	refused 2 "unknown hive kind .FOO." s.hive $SET K n REG_SZ x --kind FOO &&
	refused 2 "needs a value" s.hive gpotool hive new new.hive --kind &&
	! test -e new.hive
'

# ---- the hive file itself ----

test_expect_success 'a missing hive file: exit 2 (the user'"'"'s mistake), named once, not created' '
	refused 2 "^gpotool: .nosuch.hive. does not exist" s.hive gpotool hive set nosuch.hive K n REG_SZ x &&
	test "$(grep -o nosuch.hive err | wc -l)" = 1 &&
	! test -e nosuch.hive &&
	refused 2 "nosuch.hive" s.hive gpotool hive get nosuch.hive K &&
	refused 2 "nosuch.hive" s.hive gpotool hive info nosuch.hive &&
	printf "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\X]\n\"v\"=dword:00000001\n" >x.reg &&
	refused 2 "nosuch.hive" s.hive gpotool hive import nosuch.hive x.reg &&
	refused 2 "nosuch.reg. does not exist" s.hive gpotool hive import s.hive nosuch.reg &&
	! test -e nosuch.hive
'

test_expect_success 'a directory as the hive: exit 2 like a missing file, named in the message' '
	mkdir dir.hive &&
	refused 2 "dir.hive.*folder, not a file" s.hive gpotool hive set dir.hive K n REG_SZ x &&
	refused 2 "dir.hive.*folder, not a file" s.hive gpotool hive info dir.hive &&
	test -d dir.hive && test -z "$(ls -A dir.hive)"
'

test_expect_success 'a missing or wrong-type GPO folder: exit 2 too' '
	refused 2 "nosuch.gpo" s.hive gpotool gpo show nosuch.gpo &&
	refused 2 "x.reg. is not a folder" s.hive gpotool gpo show x.reg
'

test_expect_success 'a symlink to a hive given to hive set: refused (exit 3), the target unchanged' '
	ln -s s.hive link.hive &&
	refused 3 "link.hive.*symbolic link" s.hive gpotool hive set link.hive K n REG_SZ x &&
	test -L link.hive &&
	refused 3 "symbolic link" s.hive gpotool hive delete link.hive "HKLM\\SYSTEM\\ControlSet001\\Control" Probe &&
	refused 3 "symbolic link" s.hive gpotool hive import link.hive x.reg &&
	test -L link.hive
'

test_expect_success 'a hive locked by another process: exit 3 "locked", unchanged; works once released' '
	exec 8<s.hive && flock -x 8 &&
	test_must_fail 1 flock -n s.hive true || exit 1
	refused 3 "locked" s.hive $SET K n REG_SZ x 8<&-
	rc=$?
	exec 8<&-
	test $rc = 0 &&
	grep -q "s.hive" err &&
	gpotool hive set s.hive K n REG_SZ x >/dev/null &&
	gpotool hive get s.hive K n >out && echo "\"x\"" >expect && test_cmp expect out
'

test_expect_success 'hive export --output naming the hive itself is refused (exit 2 or 3), the hive unchanged' '
	cp s.hive self.hive &&
	cp self.hive self.before &&
	for target in self.hive ./self.hive "$PWD/self.hive"; do
		gpotool hive export self.hive --output "$target" >out 2>err
		rc=$?
		cmp self.hive self.before &&
		{ test $rc = 2 || test $rc = 3; } &&
		test_one_line err "self.hive" || exit 1
	done &&
	gpotool hive info self.hive >/dev/null
'

# ---- --json ----

test_expect_success '--json on a failing command: one JSON object with ok=false, exit and error' '
	cp s.hive s.before &&
	test_expect_code 2 gpotool --json hive set s.hive K n REG_FOO x >out 2>err &&
	test "$(wc -l <out)" -eq 1 &&
	test "$(json_field out "d[\"ok\"]")" = False &&
	test "$(json_field out "d[\"exit\"]")" = 2 &&
	test "$(json_field out "type(d[\"error\"]).__name__")" = str &&
	json_field out "d[\"error\"]" | grep -q "REG_FOO" &&
	test_one_line err "REG_FOO" &&
	cmp s.hive s.before
'

test_expect_success '--json carries exit 2, 3 and 4 too' '
	test_expect_code 3 gpotool --json hive set link.hive K n REG_SZ x >out 2>err &&
	test "$(wc -l <out)" -eq 1 &&
	test "$(json_field out "(d[\"ok\"], d[\"exit\"])")" = "(False, 3)" &&
	json_field out "d[\"error\"]" | grep -q "symbolic link" &&
	test_expect_code 2 gpotool --json hive get nosuch.hive K >out 2>err &&
	test "$(json_field out "(d[\"ok\"], d[\"exit\"])")" = "(False, 2)" &&
	json_field out "d[\"error\"]" | grep -q "nosuch.hive" &&
	: >not-a-dir &&
	test_expect_code 4 gpotool --json --state-dir not-a-dir/state hive set s.hive K n REG_SZ x >out 2>err &&
	test "$(json_field out "(d[\"ok\"], d[\"exit\"])")" = "(False, 4)" &&
	test_expect_code 2 gpotool --json hive frobnicate >out 2>err &&
	test "$(json_field out "(d[\"ok\"], d[\"exit\"])")" = "(False, 2)"
'

# ---- HKCR, HKCU ----

test_expect_success 'HKCR\X is SOFTWARE\Classes\X in a SOFTWARE hive' '
	gpotool hive new sw.hive --kind SOFTWARE >/dev/null &&
	gpotool hive set sw.hive "HKCR\\.gpotest" "" REG_SZ gpotestfile >out &&
	grep -q "HKLM\\\\SOFTWARE\\\\Classes\\\\.gpotest" out &&
	reglookup -H sw.hive >rl &&
	grep -qx "/Classes/.gpotest/,SZ,gpotestfile," rl &&
	! grep -q "^/.gpotest" rl &&
	gpotool hive get sw.hive "HKLM\\SOFTWARE\\Classes\\.gpotest" "" >out &&
	echo "\"gpotestfile\"" >expect && test_cmp expect out &&
	gpotool hive get sw.hive "HKEY_CLASSES_ROOT\\.gpotest" "" >out && test_cmp expect out
'

test_expect_success 'HKCU\X is X at the root of an NTUSER hive' '
	gpotool hive new nu.hive --kind NTUSER >/dev/null &&
	gpotool hive set --kind NTUSER nu.hive "HKCU\\Software\\GpoTest" v REG_DWORD 3 >/dev/null &&
	gpotool hive set --kind NTUSER nu.hive "HKEY_CURRENT_USER\\Environment" TEMP REG_SZ x >/dev/null &&
	reglookup -H nu.hive >rl &&
	grep -qx "/Software/GpoTest/v,DWORD,0x00000003," rl &&
	grep -qx "/Environment/TEMP,SZ,x," rl &&
	! grep -q "HKCU" rl &&
	gpotool hive info nu.hive >info &&
	grep -q "^kind  *NTUSER (detected from content)" info &&
	gpotool hive get nu.hive "HKCU\\Software\\GpoTest" v >out &&
	echo "dword:00000003" >expect && test_cmp expect out &&
	refused 2 "is in the SOFTWARE hive" nu.hive gpotool hive set nu.hive "HKCR\\X" n REG_SZ x
'

test_expect_success 'hive new --kind NTUSER writes a hive that is recognised as NTUSER' '
	gpotool hive new nu2.hive --kind NTUSER >/dev/null &&
	gpotool hive info nu2.hive >info &&
	grep -q "^kind  *NTUSER" info &&
	gpotool hive set nu2.hive "HKCU\\Software\\GpoTest" v REG_DWORD 3 >/dev/null &&
	reglookup -H -p /Software/GpoTest/v nu2.hive | grep -qx "/Software/GpoTest/v,DWORD,0x00000003,"
'

# ---- CurrentControlSet in broken SYSTEM hives ----

CCS="HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc"

test_expect_success 'setup: SYSTEM hives whose Select\Current is missing, a REG_SZ, 0, or names no control set' '
	for h in missing sz zero absent; do
		gpotool hive new ccs-$h.hive --kind SYSTEM >/dev/null &&
		gpotool hive delete ccs-$h.hive "HKLM\\SYSTEM\\Select" >/dev/null &&
		gpotool hive set ccs-$h.hive "HKLM\\SYSTEM\\ControlSet001\\Control" x REG_DWORD 1 >/dev/null || exit 1
	done &&
	gpotool hive set ccs-missing.hive "HKLM\\SYSTEM\\Select" Default REG_DWORD 1 >/dev/null &&
	gpotool hive set ccs-sz.hive "HKLM\\SYSTEM\\Select" Current REG_SZ 1 >/dev/null &&
	gpotool hive set ccs-zero.hive "HKLM\\SYSTEM\\Select" Current REG_DWORD 0 >/dev/null &&
	gpotool hive set ccs-absent.hive "HKLM\\SYSTEM\\Select" Current REG_DWORD 2 >/dev/null &&
	gpotool hive get ccs-sz.hive "HKLM\\SYSTEM\\Select" Current >out && echo "\"1\"" >expect && test_cmp expect out
'

test_expect_success 'CurrentControlSet with Select\Current missing: exit 3, unchanged' '
	refused 3 "CurrentControlSet.*Select.Current is missing" ccs-missing.hive gpotool hive set ccs-missing.hive "$CCS" v REG_DWORD 1
'

test_expect_success 'CurrentControlSet with Select\Current a REG_SZ: exit 3, unchanged' '
	refused 3 "CurrentControlSet.*REG_DWORD" ccs-sz.hive gpotool hive set ccs-sz.hive "$CCS" v REG_DWORD 1
'

test_expect_success 'CurrentControlSet with Select\Current 0: exit 3, unchanged' '
	refused 3 "CurrentControlSet.*Select.Current is 0" ccs-zero.hive gpotool hive set ccs-zero.hive "$CCS" v REG_DWORD 1
'

test_expect_success 'CurrentControlSet naming a control set that does not exist: exit 3, unchanged' '
	refused 3 "CurrentControlSet.*ControlSet002.*does not exist" ccs-absent.hive gpotool hive set ccs-absent.hive "$CCS" v REG_DWORD 1 &&
	refused 3 "ControlSet002" ccs-absent.hive gpotool hive delete ccs-absent.hive "$CCS"
'

test_expect_success 'CurrentControlSet in a SYSTEM hive without a Select key: exit 3, unchanged' '
	gpotool hive new ccs-nosel.hive --kind SYSTEM >/dev/null &&
	gpotool hive delete ccs-nosel.hive "HKLM\\SYSTEM\\Select" >/dev/null &&
	refused 3 "CurrentControlSet.*no Select key" ccs-nosel.hive gpotool hive set ccs-nosel.hive "$CCS" v REG_DWORD 1
'

test_expect_success 'the same hives take a write through ControlSet001 by name' '
	gpotool hive set ccs-absent.hive "HKLM\\SYSTEM\\ControlSet001\\Services\\Kdc" v REG_DWORD 1 >/dev/null &&
	reglookup -H -p /ControlSet001/Services/Kdc/v ccs-absent.hive | grep -qx "/ControlSet001/Services/Kdc/v,DWORD,0x00000001,"
'

test_expect_success 'no temp file is left beside the hives' '
	! ls -a | grep -q "gpotool-"
'

test_done
