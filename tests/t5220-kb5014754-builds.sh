#!/bin/bash
# templates/update-builds.tsv lists the Windows Server builds KB5014754 shipped for (Windows
# Server 2008 SP2 and later). A DC older than all of them (Server 2003, build 3790, whose
# CurrentBuild holds "1.511.1 () (Obsolete data - do not use)" and CurrentBuildNumber the
# build) never had the setting: a DC template is refused there (exit 3, --force to stage
# anyway), saying it has no effect. A listed build without known UBRs is named and not checked;
# a build the table does not know at all is "unknown", as before.
. "$(dirname "$0")/test-lib.sh"

CV='HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
SCBE=StrongCertificateBindingEnforcement
RL_SCBE=/ControlSet001/Services/Kdc/$SCBE
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi
rl_value() { reglookup -H -p "$2" "$1" 2>/dev/null | sed -n "s|^$2,\([^,]*\),\([^,]*\),.*|\1,\2|Ip"; }
jf() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"; }

# image NAME CURRENTBUILD CURRENTBUILDNUMBER: a copy of the dc01 image with that build; prints NAME/Windows
image() {
	mkdir -p "$1/Windows/System32/config" &&
	cp "$(sample_image dc01)/SYSTEM" "$(sample_image dc01)/SOFTWARE" "$1/Windows/System32/config/" &&
	gpotool hive set "$1/Windows/System32/config/SOFTWARE" "$CV" CurrentBuild REG_SZ "$2" >/dev/null &&
	gpotool hive set "$1/Windows/System32/config/SOFTWARE" "$CV" CurrentBuildNumber REG_SZ "$3" >/dev/null &&
	echo "$1/Windows"
}

test_expect_success 'setup: a Windows Server 2003 DC image (build 3790), a 2012 R2 one (9600)' '
	image w2003 "1.511.1 () (Obsolete data - do not use)" 3790 >/dev/null &&
	image w2012r2 9600 9600 >/dev/null &&
	image num3790 3790 3790 >/dev/null
'

test_expect_success 'kdc-compat and kdc-enforce on Server 2003: exit 3, no effect on that build, nothing written' '
	for t in kdc-compat kdc-enforce; do
		cp -a w2003 snap &&
		test_must_fail 3 gpotool stage $t --image w2003/Windows >out 2>err &&
		grep -v warning err >err.main &&
		test_one_line err.main "build 3790, which KB5014754 never shipped for" &&
		grep -q "has no effect" err.main &&
		diff -r snap w2003 && rm -rf snap || exit 1
	done &&
	grep -q "^preflight: build: 3790, older than every build KB5014754 shipped for" out
'

test_expect_success 'a numeric CurrentBuild 3790 is read the same way' '
	test_must_fail 3 gpotool stage kdc-enforce --image num3790/Windows >out 2>err &&
	grep -q "never shipped for" err
'

test_expect_success '--force stages it anyway, with the reason as a warning; --json names the patch level' '
	gpotool --json stage kdc-enforce --image w2003/Windows --force >o.json 2>err &&
	grep -q "warning: --force: going on although .*has no effect" err &&
	test "$(jf o.json "d[\"patch_level\"]")" = no-kb5014754 &&
	test "$(rl_value w2003/Windows/System32/config/SYSTEM $RL_SCBE)" = DWORD,0x00000002
'

test_expect_success 'Windows Server 2012 R2 (9600): KB5014754 applies, its 2025 UBRs are not listed, not checked' '
	gpotool stage kdc-enforce --image w2012r2/Windows >out 2>err &&
	grep -q "^preflight: build: 9600\.[0-9]* (Windows Server 2012 R2; KB5014754 applies; .* not checked)" out &&
	test "$(rl_value w2012r2/Windows/System32/config/SYSTEM $RL_SCBE)" = DWORD,0x00000002
'

test_expect_success 'every build the table lists is one KB5014754 applies to, named with its source' '
	tsv=$PROJECT_DIR/templates/update-builds.tsv &&
	grep -q "^# Sources: KB5014754 \"Applies to\"" "$tsv" &&
	for b in 6003 7601 9200 9600 14393 17763 20348 25398 26100; do
		grep -q "	$b	" "$tsv" || { echo "build $b missing" >&2; exit 1; }
	done
'

test_expect_success 'a table whose header does not name the updates by date is refused (exit 4)' '
	rm -rf data && cp -R "$PROJECT_DIR/templates" data &&
	sed -i "s/^product	build	2025-02-11	2025-09-09$/product	build	feb	sep/" data/update-builds.tsv &&
	test_must_fail 4 env GPOTOOL_DATADIR=$TRASH/data "$GPOTOOL" stage kdc-enforce --image w2012r2/Windows --dry-run >out 2>err &&
	grep -q "update-builds.tsv. line [0-9]*: the header names the two updates by date" err
'

test_done
