#!/bin/bash
# The second readers must refuse what the first writer got wrong. Test-only fault points
# (GPOTOOL_FAULT, gpotool/core/fault.h and hive/hive-fault.h) damage the new file between "written" and "verified":
# a data byte or the type of the planned value (file only), a value of the same key that the
# plan does not touch (file only: only the hivex/libregf comparison of the key sees it), the
# planned change undone in hivex and the file alike (only the plan check sees it); GPT.INI's
# new version digit; the edited Registry.xml item's value, another item, the item's class ID
# (only the schema knows it). Each must be refused with its own reason, the exit code of a
# failed verification, the target byte for byte as before, no temp file, no journal entry.
# A fault point that finds nothing to damage fails with its own message, so none of these
# can pass without the damage being done. Each test starts from the same pristine hive or GPO,
# so that one that wrongly went through cannot decide the next (tests/mutation-check.sh names
# the tests that notice each check disabled).
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
GUID='{6AC1786C-016F-11D2-945F-00C04FB984F9}'
G=gpo/$GUID
entries() { ls state/journal 2>/dev/null | grep -vc '^\.'; }
temps() { ls -A "$1" | grep -c '\.gpotool-' ; }
fresh_hive() { cp SYSTEM.pristine SYSTEM; }
fresh_gpo() { rm -rf gpo && cp -a gpo.pristine gpo; }

# refused_by FAULT CODE REASON TARGET CMD...: CMD under the fault exits CODE with one
# error line holding REASON; TARGET (a file or a folder) is byte for byte as before; no
# temp file beside it; no journal entry
refused_by() {
	local fault=$1 code=$2 reason=$3 target=$4 dir n0
	shift 4
	rm -rf before && cp -a "$target" before &&
	n0=$(entries) &&
	test_expect_code "$code" env GPOTOOL_FAULT="$fault" "$GPOTOOL" "$@" >out 2>err.all || { cat err.all >&2; return 1; }
	grep -v "warning:" err.all >err
	test_one_line err "$reason" &&
	if test -d "$target"; then diff -r before "$target"; dir=$(find "$target" -type d); else cmp before "$target"; dir=$(dirname "$target"); fi &&
	for d in $dir; do test "$(temps "$d")" = 0 || { ls -A "$d" >&2; return 1; }; done &&
	test "$(entries)" = "$n0" &&
	! grep -q "^journal:" out
}

test_expect_success 'setup: the dc01 sample SYSTEM hive; a GPO with one item' '
	cp "$(sample_image dc01)/SYSTEM" SYSTEM &&
	gpotool hive get SYSTEM "$KDC" Start >/dev/null &&
	mkdir gpo && gpotool gpo new gpo --name "damage" --guid "$GUID" >/dev/null &&
	gpotool gpo set "$G" "HKLM\\SOFTWARE\\Other" Kept REG_DWORD 5 >/dev/null &&
	cp SYSTEM SYSTEM.pristine && cp -a gpo gpo.pristine
'

# ---- hives: libregf against hivex (every value of each touched key), libregf against the plan

test_expect_success 'hive: a data byte of the new value flipped in the temp file: refused' '
	fresh_hive &&
	refused_by hive-written-flip-data 4 "libregf reads the values of key .*Services.Kdc. differently from hivex" SYSTEM \
		stage kdc-compat --hive SYSTEM
'

test_expect_success 'hive: the new value given another type in the temp file: refused' '
	fresh_hive &&
	refused_by hive-written-retype 4 "libregf reads the values of key .*Services.Kdc. differently from hivex" SYSTEM \
		hive set SYSTEM "$KDC" Probe REG_DWORD 7
'

test_expect_success 'hive: a value the plan does not touch damaged in the same key: refused' '
	fresh_hive &&
	refused_by hive-written-flip-other 4 "libregf reads the values of key .*Services.Kdc. differently from hivex" SYSTEM \
		stage kdc-compat --hive SYSTEM
'

test_expect_success 'hive: the planned change missing from hivex and the file alike: refused, named' '
	fresh_hive &&
	refused_by hive-written-drop-change 4 \
		"the written hive does not hold this change: set value .*Kdc.StrongCertificateBindingEnforcement: (absent) -> REG_DWORD 1" \
		SYSTEM stage kdc-compat --hive SYSTEM
'

test_expect_success 'hive: a change of an existing value undone: refused, the old value kept' '
	fresh_hive &&
	gpotool hive set SYSTEM "$KDC" Probe REG_DWORD 7 >/dev/null &&
	refused_by hive-written-drop-change 4 "does not hold this change: set value .*Kdc.Probe: REG_DWORD 7 (0x00000007) -> REG_DWORD 8" \
		SYSTEM hive set SYSTEM "$KDC" Probe REG_DWORD 8 &&
	gpotool hive get SYSTEM "$KDC" Probe >v && echo dword:00000007 >expect && test_cmp expect v
'

test_expect_success 'hive: a .reg import of several values, one damaged: the whole import refused' '
	fresh_hive &&
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\ControlSet001\\\\Services\\\\Kdc]\r\n\"A\"=dword:00000001\r\n\"B\"=\"text\"\r\n" |
		iconv -f UTF-8 -t UTF-16 >i.reg &&
	refused_by hive-written-flip-data 4 "differently from hivex" SYSTEM hive import SYSTEM i.reg
'

test_expect_success 'a fault point with nothing to damage fails by its own message (the tests above cannot pass idly)' '
	test_expect_code 4 env GPOTOOL_FAULT=hive-written-nonsense "$GPOTOOL" hive set SYSTEM "$KDC" Probe REG_DWORD 9 2>err &&
	test_one_line err "fault point .hive-written-nonsense. found nothing to damage"
'

test_expect_success 'without a fault point the same writes go through and read back' '
	fresh_hive &&
	gpotool stage kdc-compat --hive SYSTEM >out 2>/dev/null &&
	grep -q "^verified: libregf reads back" out &&
	gpotool hive get SYSTEM "$KDC" StrongCertificateBindingEnforcement >v && echo dword:00000001 >expect && test_cmp expect v
'

# ---- GPOs: GPT.INI read back after the bump, Registry.xml checked against the old one and the schema

test_expect_success 'GPO: the new GPT.INI holds another version than the bumped one: refused' '
	fresh_gpo &&
	refused_by gptini-rendered-version 4 "verification failed: the new GPT.INI does not hold Version=2" gpo \
		stage kdc-compat --gpo "$G"
'

test_expect_success 'GPO: a UTF-16 GPT.INI whose new version is wrong: refused' '
	fresh_gpo &&
	mkdir g16 && cp -a "$G" g16/ && G16="g16/$GUID" &&
	tr -d "\r" <"$G16/GPT.INI" | sed "s/\$/\r/" | iconv -f UTF-8 -t UTF-16 >g16.ini && mv g16.ini "$G16/GPT.INI" &&
	refused_by gptini-rendered-version 4 "does not hold Version=2" g16 gpo set "$G16" "HKLM\\SOFTWARE\\T" v REG_DWORD 1 &&
	gpotool gpo set "$G16" "HKLM\\SOFTWARE\\T" v REG_DWORD 1 >out && grep -q "GPT.INI reads Version=2" out
'

test_expect_success 'GPO: the edited item holds another value than asked: refused' '
	fresh_gpo &&
	refused_by gpp-applied-value 4 "the written item does not hold the value asked for" gpo \
		stage kdc-compat --gpo "$G"
'

test_expect_success 'GPO: another item changed by the edit: refused' '
	fresh_gpo &&
	refused_by gpp-applied-other 4 "item 1 of the written Registry.xml differs from the original" gpo \
		gpo set "$G" "HKLM\\SOFTWARE\\New" v REG_DWORD 1
'

test_expect_success 'GPO: the edited item has a wrong class ID, which only the schema checks: refused' '
	fresh_gpo &&
	refused_by gpp-applied-clsid 3 "verification failed: .the written Registry.xml.: line [1-9][0-9]*: does not match the Registry.xml schema" gpo \
		stage kdc-compat --gpo "$G"
'

test_expect_success 'a GPOTOOL_FAULT that names no point interrupts nothing and says so' '
	fresh_gpo &&
	GPOTOOL_FAULT=gpo-betwen-renames gpotool stage kdc-compat --gpo "$G" >out 2>err &&
	grep -qx "gpotool: note: GPOTOOL_FAULT=.gpo-betwen-renames. names no fault point (see gpotool/core/fault.c); nothing is interrupted or damaged" err &&
	grep -q "^verified: Registry.xml parses" out
'

test_expect_success 'without a fault point the GPO writes go through' '
	fresh_gpo &&
	gpotool stage kdc-compat --gpo "$G" >out 2>/dev/null &&
	grep -q "^verified: Registry.xml parses, matches the schema and holds exactly this change; GPT.INI reads Version=2" out
'

test_done
