#!/bin/bash
# Rules that belong to a value (templates/value-rules), applied by every writer before anything
# is written: StrongCertificateBindingEnforcement 0 refused, 1 expiring (2025-09-09; --strict
# refuses it then), 2 a note; CertificateMappingMethods' weak bits a warning. stage with any
# template, hive set, hive import and gpo set all meet them; kdc-enforce writes 2 only; a
# rollback reports them and is never refused. The rules file is checked when loaded.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCH='HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\Schannel'
SCBE=StrongCertificateBindingEnforcement
RL_SCBE=/ControlSet001/Services/Kdc/$SCBE
DC_SYSTEM=$(sample_image dc01)/SYSTEM
GUID='{5A2B3C4D-1E2F-4A5B-8C9D-0E1F2A3B4C5D}'

if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi

journal_count() { ls state/journal 2>/dev/null | wc -l; }
rl_value() { reglookup -H -p "$2" "$1" 2>/dev/null | sed -n "s|^$2,\([^,]*\),\([^,]*\),.*|\1,\2|Ip"; }
jf() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"; }

# untouched CODE FILE CMD...: CMD exits CODE, FILE (or folder) byte-for-byte as before, no journal entry
untouched() {
	local code=$1 f=$2 n
	shift 2
	rm -rf snap && cp -a "$f" snap && n=$(journal_count) &&
	test_must_fail "$code" "$@" >out 2>err &&
	if [ -d "$f" ]; then diff -r snap "$f"; else cmp snap "$f"; fi &&
	test "$(journal_count)" = "$n" || { echo "stderr:" >&2; cat err >&2; return 1; }
}

test_expect_success 'setup: a DC SYSTEM hive and a GPO' '
	cp "$DC_SYSTEM" dc.SYSTEM &&
	gpotool gpo new . --name rules --guid "$GUID" >/dev/null
'

test_expect_success 'stage kdc-enforce --value 1 is refused (kdc-enforce writes 2 only), also as a dry run' '
	untouched 3 dc.SYSTEM gpotool stage kdc-enforce --hive dc.SYSTEM --value 1 &&
	test_one_line err "writes 2 only" &&
	untouched 3 dc.SYSTEM gpotool stage kdc-enforce --hive dc.SYSTEM --value 1 --dry-run &&
	untouched 3 "$GUID" gpotool stage kdc-enforce --gpo "$GUID" --value 1 &&
	test -z "$(rl_value dc.SYSTEM $RL_SCBE)"
'

test_expect_success 'value 0 is refused by hive set too: exit 3, Disabled mode removed April 11, 2023' '
	untouched 3 dc.SYSTEM gpotool hive set dc.SYSTEM "$KDC" $SCBE REG_DWORD 0 &&
	test_one_line err "April 11, 2023" &&
	grep -q "dc.SYSTEM" err
'

test_expect_success 'value 0 is refused by hive import, and nothing of the .reg is written' '
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\Kdc]\r\n\"Other\"=dword:00000005\r\n\"$SCBE\"=dword:00000000\r\n" >zero.reg &&
	untouched 3 dc.SYSTEM gpotool hive import dc.SYSTEM zero.reg &&
	grep -q "Disabled mode" err
'

test_expect_success 'value 0 is refused by gpo set: the GPO unchanged' '
	untouched 3 "$GUID" gpotool gpo set "$GUID" "$KDC" $SCBE REG_DWORD 0 &&
	grep -q "April 11, 2023" err
'

test_expect_success 'hive set of 1 warns once about 2025-09-09 (days left, then expired); --strict refuses it then' '
	cp dc.SYSTEM a.SYSTEM &&
	gpotool --as-of 2025-03-01 hive set a.SYSTEM "$KDC" $SCBE REG_DWORD 1 >out 2>err &&
	test "$(grep -c "192 days left" err)" = 1 &&
	test "$(rl_value a.SYSTEM $RL_SCBE)" = DWORD,0x00000001 &&
	cp dc.SYSTEM b.SYSTEM &&
	gpotool --as-of 2026-01-01 hive set b.SYSTEM "$KDC" $SCBE REG_DWORD 1 >out 2>err &&
	test "$(grep -c "EXPIRED on 2025-09-09" err)" = 1 &&
	cp dc.SYSTEM c.SYSTEM &&
	untouched 3 c.SYSTEM gpotool --strict --as-of 2026-01-01 hive set c.SYSTEM "$KDC" $SCBE REG_DWORD 1 &&
	test_one_line err "refused (--strict)"
'

test_expect_success 'gpo set of 1 warns the same way, with the days in --json advisories' '
	gpotool --json --as-of 2025-03-01 gpo set "$GUID" "$KDC" $SCBE REG_DWORD 1 >o.json 2>err &&
	grep -q "192 days left" err &&
	test "$(jf o.json "[(a[\"rule\"], a[\"days\"], a[\"expired\"]) for a in d[\"advisories\"]]")" = "[[\"expires\", 192, false]]"
'

test_expect_success 'value 2, by stage or hive set: a note (Full Enforcement; check strong mapping first), no warning' '
	cp dc.SYSTEM n.SYSTEM &&
	gpotool hive set n.SYSTEM "$KDC" $SCBE REG_DWORD 2 >out 2>err &&
	test_one_line err "^gpotool: note: $SCBE = 2: Full Enforcement" &&
	grep -q "strongly mapped" err &&
	cp dc.SYSTEM m.SYSTEM &&
	gpotool stage kdc-enforce --hive m.SYSTEM >out 2>err &&
	test_one_line err "^gpotool: note: .*Full Enforcement" &&
	test "$(rl_value m.SYSTEM $RL_SCBE)" = DWORD,0x00000002
'

test_expect_success 'CertificateMappingMethods with a weak bit warns through hive set too; 0x18 does not' '
	gpotool hive set dc.SYSTEM "$SCH" CertificateMappingMethods REG_DWORD 0x1c >out 2>err &&
	test_one_line err "0x1c: .*weak mapping methods" &&
	gpotool hive set dc.SYSTEM "$SCH" CertificateMappingMethods REG_DWORD 0x18 >out 2>err &&
	! test -s err
'

test_expect_success 'the rules match the value, not a look-alike: another key or another name is written silently' '
	gpotool hive set dc.SYSTEM "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc2" $SCBE REG_DWORD 0 >out 2>err &&
	gpotool hive set dc.SYSTEM "$KDC" ${SCBE}X REG_DWORD 0 >out 2>>err &&
	! test -s err
'

test_expect_success 'a rollback that puts 0 back is never refused: exact, and --logical (which says so)' '
	rm -rf data && cp -R "$PROJECT_DIR/templates" data &&
	python3 -c "
import re, sys
t = open(\"data/value-rules\").read()
open(\"data/value-rules\", \"w\").write(re.sub(r\"\\nkey: [^\\n]*\\nvalue: $SCBE\\ndata: 0\\n(?:[^\\n]+\\n)*\", \"\\n\", t))" &&
	! grep -q "^data: 0$" data/value-rules &&
	cp dc.SYSTEM z.SYSTEM &&
	GPOTOOL_DATADIR=$TRASH/data gpotool hive set z.SYSTEM "$KDC" $SCBE REG_DWORD 0 >/dev/null 2>&1 &&
	cp z.SYSTEM z.zero &&
	gpotool hive set z.SYSTEM "$KDC" $SCBE REG_DWORD 2 >out 2>err &&
	id=$(sed -n "s/^journal: //p" out) &&
	gpotool rollback "$id" >out 2>err &&
	cmp z.zero z.SYSTEM &&
	gpotool hive set z.SYSTEM "$KDC" $SCBE REG_DWORD 2 >out 2>err &&
	id=$(sed -n "s/^journal: //p" out) &&
	gpotool rollback "$id" --logical >out 2>err &&
	grep -q "warning: this puts back $SCBE = 0" err &&
	test "$(rl_value z.SYSTEM $RL_SCBE)" = DWORD,0x00000000
'

test_expect_success 'rollback --undo-on-clients=0 writes new data: refused like any write of 0' '
	G2={6B5A4C3D-2E1F-4A0B-9C8D-7E6F5A4B3C2D} &&
	gpotool gpo new . --name undo --guid "$G2" >/dev/null &&
	gpotool stage kdc-enforce --gpo "$G2" >out 2>err &&
	id=$(sed -n "s/^journal: //p" out) &&
	untouched 3 "$G2" gpotool rollback "$id" --undo-on-clients=0 &&
	grep -q "refusing $SCBE = 0" err &&
	gpotool rollback "$id" --undo-on-clients=delete >out 2>err
'

# ---- the rules file ----

# broken SED PATTERN: a copy of the data folder whose value-rules is edited by SED; a write of a
# value then fails with one line naming the file, the line and PATTERN, and writes nothing
broken() {
	rm -rf data && cp -R "$PROJECT_DIR/templates" data && sed -i "$1" data/value-rules &&
	cp dc.SYSTEM r.SYSTEM &&
	GPOTOOL_DATADIR=$TRASH/data untouched 3 r.SYSTEM gpotool stage kdc-enforce --hive r.SYSTEM &&
	test_one_line err "value-rules. line [0-9]*: $2"
}

test_expect_success 'value-rules: a date that does not exist is refused, naming the file and line' '
	broken "s/^date: 2025-09-09/date: 2025-02-30/" "date must be a date"
'

test_expect_success 'value-rules: an unknown field, a bad rule kind, bad data, a rule without a source' '
	broken "s/^says:/sez:/" "unknown field .sez." &&
	broken "s/^rule: note/rule: nag/" "rule must be refuse, expires, note or warn" &&
	broken "s/^data: 2$/data: two/" "data must be a number" &&
	broken "/^source: .*timeline: February 11, 2025/d" "the rule lacks .source." &&
	broken "s/^rule: note/rule: expires/" ".after. goes with .rule: expires."
'

test_expect_success 'a data folder without value-rules: a write of any value fails (exit 4), nothing written' '
	rm -rf data && cp -R "$PROJECT_DIR/templates" data && rm data/value-rules &&
	cp dc.SYSTEM r.SYSTEM &&
	GPOTOOL_DATADIR=$TRASH/data untouched 4 r.SYSTEM gpotool hive set r.SYSTEM "$KDC" Probe REG_DWORD 1 &&
	grep -q "value-rules" err
'

test_expect_success 'templates NAME shows the rules its value meets, with their dates' '
	gpotool templates kdc-enforce >out &&
	grep -q "^  refused:  0: Disabled mode" out &&
	grep -q "^  note:     2: Full Enforcement" out &&
	! grep -q "expires:" out &&
	gpotool templates kdc-compat >out &&
	grep -q "^  expires:  2025-09-09, for 1" out &&
	gpotool --json templates schannel-mapping >o.json &&
	test "$(jf o.json "[(r[\"rule\"], r[\"data\"]) for r in d[\"rules\"]]")" = "[[\"warn\", \"bits 0x7\"]]"
'

test_done
