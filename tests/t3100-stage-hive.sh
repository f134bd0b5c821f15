#!/bin/bash
# gpotool stage / validate on offline hives (--hive FILE) and Windows images (--image WINDIR):
# what is written (checked by reglookup, a third parser), the journal, idempotency, dry runs,
# and every preflight refusal (role, build past the September 9, 2025 update, connector
# version, removed or out-of-range values), each leaving the files byte-for-byte as they were
# and the journal without a new entry. The sample images come from `make`
# (build/images/{dc01,connector01}); they are always copied here before anything writes.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
CV='HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
UNINST='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{5E4A3C1B-9D2F-4E7A-8B6C-1F0E2D3C4B5A}'
SCBE=StrongCertificateBindingEnforcement
RL_SCBE=/ControlSet001/Services/Kdc/$SCBE
RL_BACK=/ControlSet001/Services/Kdc/CertificateBackdatingCompensation
RL_PFX=/Microsoft/MicrosoftIntune/PFXCertificateConnector/EnableSidSecurityExtension
RL_SCH=/ControlSet001/Control/SecurityProviders/Schannel/CertificateMappingMethods
DC_CFG=$(sample_image dc01)
CN_CFG=$(sample_image connector01)
BUILDS=$PROJECT_DIR/templates/update-builds.tsv

# a pyenv shim costs half a second per start; the system interpreter, when there is one, does not
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi

corpus_test() {
	if have_corpus; then
		test_expect_success "$1" "$2"
	else
		test_skip "$1" "no corpus at $CORPUS"
	fi
}

journal_count() { ls state/journal 2>/dev/null | wc -l; }
# journal_id OUT: the ID of the "journal: ID" line of a stage output (the contract puts it last;
# one test below checks that, the others only need the ID)
journal_id() { sed -n "s/^journal: //p" "$1" | tail -n 1; }

# image SAMPLE DEST: a copy of a sample image at DEST/Windows/System32/config; prints DEST/Windows
image() {
	rm -rf "$2" && mkdir -p "$2/Windows/System32/config" &&
	cp "$(sample_image "$1")/SYSTEM" "$(sample_image "$1")/SOFTWARE" "$2/Windows/System32/config/" &&
	echo "$2/Windows"
}

# rl_value FILE PATH: "TYPE,DATA" of one value as reglookup reads it (empty when absent); key
# names compare case-insensitively, as in Windows (the corpus hives have ControlSet001\services)
rl_value() { reglookup -H -p "$2" "$1" 2>/dev/null | sed -n "s|^$2,\([^,]*\),\([^,]*\),.*|\1,\2|Ip"; }

# snap PATH / same PATH: PATH (file or directory) byte-for-byte as it was, and no new journal entry
snap() { rm -rf "snap.$1" && mkdir -p "$(dirname "snap.$1")" && cp -a "$1" "snap.$1" && journal_count >"snap.$1.j"; }
same() {
	if [ -d "$1" ]; then diff -r "snap.$1" "$1"; else cmp "snap.$1" "$1"; fi &&
	test "$(journal_count)" = "$(cat "snap.$1.j")" || { echo "$1 changed or journal grew" >&2; return 1; }
}

# refused CODE PATTERN PATH CMD...: CMD exits CODE, PATH unchanged, no journal entry, and stderr,
# apart from warning lines (the expiry warning of kdc-compat and kdc-backdating), is one line
# matching PATTERN (grep -E, case-insensitive).
refused() {
	local code=$1 pattern=$2 path=$3
	shift 3
	snap "$path" &&
	test_must_fail "$code" "$@" >out 2>err &&
	same "$path" &&
	{ grep -vi "warning" err >err.main || true; } &&
	test "$(wc -l <err.main)" -eq 1 &&
	grep -Eqi -- "$pattern" err.main || { echo "stderr was:" >&2; cat err >&2; return 1; }
}

# rejected PATH CMD...: CMD exits 2 or 3 (not 0, not a crash), says something on stderr, and
# leaves PATH unchanged with no journal entry (for values out of range: usage error or refusal).
rejected() {
	local path=$1 rc
	shift
	snap "$path" || return 1
	"$@" >out 2>err
	rc=$?
	{ test $rc = 2 || test $rc = 3; } && test -s err && same "$path" ||
	{ echo "'$*' exited $rc (expected 2 or 3):" >&2; cat err >&2; return 1; }
}

# wrote OUT FILE: OUT ends with "journal: ID", the entry exists and holds FILE's after-hash
wrote() {
	local id
	id=$(journal_id "$1") && test -n "$id" &&
	test -f "state/journal/$id/entry.json" &&
	sha256sum <"$2" | cut -d" " -f1 >sha.expect &&
	json_field "state/journal/$id/entry.json" "[t[\"sha256_after\"] for t in d[\"targets\"]]" | grep -qf sha.expect ||
	{ echo "no journal entry for the write to $2:" >&2; cat "$1" >&2; return 1; }
}

# ---- command lines ----

test_expect_success 'setup: copies of the two sample images, and pristine copies' '
	test -f "$DC_CFG/SYSTEM" && test -f "$CN_CFG/SOFTWARE" &&
	test "$(image dc01 dc)" = dc/Windows &&
	image connector01 cn >/dev/null &&
	mkdir pristine && cp dc/Windows/System32/config/SYSTEM pristine/dc.SYSTEM &&
	cp dc/Windows/System32/config/SOFTWARE pristine/dc.SOFTWARE &&
	cp cn/Windows/System32/config/SYSTEM pristine/cn.SYSTEM &&
	cp cn/Windows/System32/config/SOFTWARE pristine/cn.SOFTWARE &&
	cp pristine/dc.SYSTEM dc.SYSTEM && cp pristine/cn.SOFTWARE cn.SOFTWARE &&
	test -z "$(rl_value dc.SYSTEM $RL_SCBE)"
'

test_expect_success 'no target, or two targets: exit 2, nothing written' '
	refused 2 . dc.SYSTEM gpotool stage kdc-compat &&
	refused 2 . dc.SYSTEM gpotool stage kdc-compat --hive dc.SYSTEM --image dc/Windows &&
	refused 2 . dc.SYSTEM gpotool stage kdc-compat --hive dc.SYSTEM --gpo dc &&
	refused 2 . dc.SYSTEM gpotool validate kdc-compat &&
	refused 2 . dc.SYSTEM gpotool validate kdc-compat --hive dc.SYSTEM --image dc/Windows
'

test_expect_success 'one target option given twice (--hive A --hive B) is two targets: exit 2, neither written' '
	mkdir twice && cp pristine/dc.SYSTEM twice/A && cp pristine/dc.SYSTEM twice/B &&
	refused 2 . twice gpotool stage kdc-enforce --hive twice/A --hive twice/B &&
	refused 2 . twice gpotool stage kdc-enforce --hive twice/A --hive twice/A &&
	refused 2 . twice gpotool validate kdc-enforce --hive twice/A --hive twice/B
'

test_expect_success 'no template, or an unknown one: refused, nothing written' '
	refused 2 . dc.SYSTEM gpotool stage --hive dc.SYSTEM &&
	snap dc.SYSTEM &&
	test_must_fail gpotool stage no-such-template --hive dc.SYSTEM >out 2>err &&
	grep -q "no-such-template" err &&
	test_must_fail gpotool validate no-such-template --hive dc.SYSTEM >out 2>err &&
	same dc.SYSTEM
'

# ---- kdc-compat on the DC SYSTEM hive ----

test_expect_success 'validate before staging: exit 1 and says why' '
	test_expect_code 1 gpotool validate kdc-compat --hive dc.SYSTEM >out 2>err &&
	cat out err | grep -q "$SCBE" &&
	test_expect_code 1 gpotool validate kdc-enforce --hive dc.SYSTEM >out 2>err &&
	test -s out -o -s err
'

test_expect_success 'stage kdc-compat --hive: the value is 1, journaled, read back by reglookup' '
	gpotool stage kdc-compat --hive dc.SYSTEM >out 2>err &&
	cp out compat.out &&
	grep -q "$SCBE" out &&
	wrote out dc.SYSTEM &&
	test "$(rl_value dc.SYSTEM $RL_SCBE)" = DWORD,0x00000001 &&
	id=$(journal_id out) &&
	cmp pristine/dc.SYSTEM state/journal/$id/before-0.bin
'

test_expect_success 'the last stdout line of a stage that wrote is "journal: ID"' '
	tail -n 1 compat.out | grep -Eq "^journal: [^ ]+$"
'

test_expect_success 'a full reglookup dump differs only by the staged value' '
	reglookup -H pristine/dc.SYSTEM | grep -v ",KEY," | sort >before.txt &&
	reglookup -H dc.SYSTEM | grep -v ",KEY," | sort >after.txt &&
	{ diff before.txt after.txt | grep "^[<>]" >d || true; } &&
	echo "> $RL_SCBE,DWORD,0x00000001," >expect &&
	test_cmp expect d
'

test_expect_success 'validate: kdc-compat holds (0), kdc-enforce does not (1)' '
	test_expect_code 0 gpotool validate kdc-compat --hive dc.SYSTEM >out 2>err &&
	test_expect_code 1 gpotool validate kdc-enforce --hive dc.SYSTEM >out 2>err &&
	test -s out -o -s err
'

test_expect_success 'validate writes nothing' '
	snap dc.SYSTEM &&
	gpotool validate kdc-compat --hive dc.SYSTEM >/dev/null 2>&1 &&
	test_must_fail 1 gpotool validate kdc-enforce --hive dc.SYSTEM >/dev/null 2>&1 &&
	same dc.SYSTEM
'

test_expect_success 're-staging what is in place: "no change", exit 0, file identical, no journal entry' '
	snap dc.SYSTEM &&
	gpotool stage kdc-compat --hive dc.SYSTEM >out 2>err &&
	grep -q "^no change" out &&
	! grep -q "^journal: " out &&
	same dc.SYSTEM
'

test_expect_success '--dry-run prints the plan, writes nothing, exit 0' '
	snap dc.SYSTEM &&
	gpotool stage kdc-enforce --hive dc.SYSTEM --dry-run >out 2>err &&
	grep -q "$SCBE" out &&
	! grep -q "^journal: " out &&
	same dc.SYSTEM &&
	test "$(rl_value dc.SYSTEM $RL_SCBE)" = DWORD,0x00000001
'

test_expect_success '--dry-run on a pristine hive also writes nothing' '
	cp pristine/dc.SYSTEM dry.SYSTEM &&
	snap dry.SYSTEM &&
	gpotool stage kdc-compat --hive dry.SYSTEM --dry-run >out 2>err &&
	grep -q "$SCBE" out &&
	same dry.SYSTEM &&
	test_expect_code 1 gpotool validate kdc-compat --hive dry.SYSTEM >/dev/null 2>&1
'

test_expect_success 'stage kdc-enforce over kdc-compat: 1 -> 2; validate follows' '
	gpotool stage kdc-enforce --hive dc.SYSTEM >out 2>err &&
	wrote out dc.SYSTEM &&
	test "$(rl_value dc.SYSTEM $RL_SCBE)" = DWORD,0x00000002 &&
	test_expect_code 0 gpotool validate kdc-enforce --hive dc.SYSTEM >/dev/null 2>&1 &&
	test_expect_code 1 gpotool validate kdc-compat --hive dc.SYSTEM >/dev/null 2>&1
'

test_expect_success 'the journal records --ticket and --operator; --state-dir moves it' '
	cp pristine/dc.SYSTEM t.SYSTEM &&
	gpotool --ticket CHG-3100 --operator alice stage kdc-enforce --hive t.SYSTEM >out 2>err &&
	id=$(journal_id out) && test -n "$id" &&
	test "$(json_field state/journal/$id/entry.json "d[\"ticket\"]")" = CHG-3100 &&
	test "$(json_field state/journal/$id/entry.json "d[\"operator\"]")" = alice &&
	cp pristine/dc.SYSTEM u.SYSTEM &&
	n=$(journal_count) &&
	gpotool --state-dir other stage kdc-enforce --hive u.SYSTEM >out 2>err &&
	id=$(journal_id out) && test -n "$id" &&
	test -f other/journal/$id/entry.json &&
	test "$(journal_count)" = "$n"
'

# ---- values ----

test_expect_success '--value 0 for kdc-compat and kdc-enforce: exit 3, Disabled mode removed April 11, 2023' '
	for t in kdc-compat kdc-enforce; do
		refused 3 "April 11, 2023|2023-04-11" dc.SYSTEM gpotool stage $t --hive dc.SYSTEM --value 0 &&
		grep -qi "disabled" err.main &&
		grep -qi "removed" err.main || exit 1
	done
'

test_expect_success 'values outside the allowed range are refused, nothing written' '
	for args in "kdc-compat --value 3" "kdc-enforce --value 4294967295" "kdc-compat --value -1" \
		"kdc-compat --value abc" "kdc-backdating --value 0" "kdc-backdating --value 4294967296" \
		"schannel-mapping --value 32" "schannel-mapping --value 0x100"; do
		rejected dc.SYSTEM gpotool stage $args --hive dc.SYSTEM || exit 1
	done &&
	test "$(rl_value dc.SYSTEM $RL_SCBE)" = DWORD,0x00000002
'

test_expect_success 'kdc-backdating without --value: exit 2, nothing written' '
	refused 2 . dc.SYSTEM gpotool stage kdc-backdating --hive dc.SYSTEM
'

test_expect_success 'kdc-backdating --value 600 writes 600; validate compares the value given' '
	gpotool stage kdc-backdating --hive dc.SYSTEM --value 600 >out 2>err &&
	wrote out dc.SYSTEM &&
	test "$(rl_value dc.SYSTEM $RL_BACK)" = DWORD,0x00000258 &&
	test_expect_code 0 gpotool validate kdc-backdating --hive dc.SYSTEM --value 600 >/dev/null 2>&1 &&
	test_expect_code 1 gpotool validate kdc-backdating --hive dc.SYSTEM --value 601 >/dev/null 2>&1 &&
	gpotool stage kdc-backdating --hive dc.SYSTEM --value 1576800000 >out 2>err &&
	test "$(rl_value dc.SYSTEM $RL_BACK)" = DWORD,0x5DFC0F00
'

test_expect_success 'schannel-mapping: 0x18 by default, without a weak-mapping warning' '
	cp pristine/dc.SYSTEM sch.SYSTEM &&
	gpotool stage schannel-mapping --hive sch.SYSTEM >out 2>err &&
	wrote out sch.SYSTEM &&
	test "$(rl_value sch.SYSTEM $RL_SCH)" = DWORD,0x00000018 &&
	! grep -qi "weak" err &&
	test_expect_code 0 gpotool validate schannel-mapping --hive sch.SYSTEM >/dev/null 2>&1
'

test_expect_success 'schannel-mapping --value 0x1c (bit 0x4) warns about weak mapping methods' '
	gpotool stage schannel-mapping --hive sch.SYSTEM --value 0x1c >out 2>err &&
	grep -qi "weak" err &&
	test "$(rl_value sch.SYSTEM $RL_SCH)" = DWORD,0x0000001C &&
	test_expect_code 1 gpotool validate schannel-mapping --hive sch.SYSTEM >/dev/null 2>&1 &&
	test_expect_code 0 gpotool validate schannel-mapping --hive sch.SYSTEM --value 28 >/dev/null 2>&1
'

test_expect_success 'schannel-mapping --value 0x18 again: no weak warning' '
	gpotool stage schannel-mapping --hive sch.SYSTEM --value 0x18 >out 2>err &&
	! grep -qi "weak" err &&
	test "$(rl_value sch.SYSTEM $RL_SCH)" = DWORD,0x00000018
'

test_expect_success 'schannel-mapping has no role: it stages on the connector (ServerNT) too' '
	cp pristine/cn.SYSTEM sch2.SYSTEM &&
	gpotool stage schannel-mapping --hive sch2.SYSTEM >out 2>err &&
	test "$(rl_value sch2.SYSTEM $RL_SCH)" = DWORD,0x00000018
'

# ---- the wrong hive ----

test_expect_success 'a template on the other kind of hive is refused, nothing written' '
	cp pristine/dc.SOFTWARE w.SOFTWARE && cp pristine/cn.SYSTEM w.SYSTEM &&
	snap w.SOFTWARE && snap w.SYSTEM &&
	test_must_fail gpotool stage kdc-enforce --hive w.SOFTWARE >out 2>err &&
	test -s err && same w.SOFTWARE &&
	test_must_fail gpotool stage pfx-sid --hive w.SYSTEM >out 2>err &&
	test -s err && same w.SYSTEM
'

# ---- role: DC templates on machines that are not DCs ----

test_expect_success 'DC templates on the connector SYSTEM hive (ServerNT): exit 3 naming ServerNT' '
	cp pristine/cn.SYSTEM cn.SYSTEM &&
	refused 3 ServerNT cn.SYSTEM gpotool stage kdc-compat --hive cn.SYSTEM &&
	refused 3 ServerNT cn.SYSTEM gpotool stage kdc-enforce --hive cn.SYSTEM &&
	refused 3 ServerNT cn.SYSTEM gpotool stage kdc-backdating --hive cn.SYSTEM --value 600
'

test_expect_success '--force overrides the role check: exit 0, written' '
	gpotool stage kdc-enforce --hive cn.SYSTEM --force >out 2>err &&
	wrote out cn.SYSTEM &&
	test "$(rl_value cn.SYSTEM $RL_SCBE)" = DWORD,0x00000002
'

test_expect_success 'DC template on the connector image: exit 3 naming ServerNT, both hives unchanged' '
	refused 3 ServerNT cn gpotool stage kdc-compat --image cn/Windows &&
	refused 3 ServerNT cn gpotool stage kdc-enforce --image cn/Windows
'

corpus_test 'DC templates on the corpus workstation hive (regipy SYSTEM, WinNT): exit 3 naming WinNT' '
	unpack hives/regipy/SYSTEM.xz ws.SYSTEM &&
	cp ws.SYSTEM ws.pristine &&
	refused 3 WinNT ws.SYSTEM gpotool stage kdc-compat --hive ws.SYSTEM &&
	refused 3 WinNT ws.SYSTEM gpotool stage kdc-enforce --hive ws.SYSTEM &&
	refused 3 WinNT ws.SYSTEM gpotool stage kdc-backdating --hive ws.SYSTEM --value 600
'

corpus_test '--force on the workstation hive writes the value, reglookup reads it back' '
	gpotool stage kdc-compat --hive ws.SYSTEM --force >out 2>err &&
	wrote out ws.SYSTEM &&
	test "$(rl_value ws.SYSTEM $RL_SCBE)" = DWORD,0x00000001 &&
	test_expect_code 0 gpotool validate kdc-compat --hive ws.SYSTEM >/dev/null 2>&1 &&
	id=$(journal_id out) &&
	cmp ws.pristine state/journal/$id/before-0.bin
'

corpus_test 'schannel-mapping (any role) stages on the workstation hive without --force' '
	cp ws.pristine ws2.SYSTEM &&
	gpotool stage schannel-mapping --hive ws2.SYSTEM >out 2>err &&
	test "$(rl_value ws2.SYSTEM $RL_SCH)" = DWORD,0x00000018
'

corpus_test 'DC templates on dissect.regf SYSTEM (WinNT): exit 3 naming WinNT' '
	unpack hives/dissect.regf/SYSTEM.gz ds.SYSTEM &&
	refused 3 WinNT ds.SYSTEM gpotool stage kdc-compat --hive ds.SYSTEM &&
	refused 3 WinNT ds.SYSTEM gpotool stage kdc-enforce --hive ds.SYSTEM &&
	gpotool stage kdc-enforce --hive ds.SYSTEM --force >out 2>err &&
	test "$(rl_value ds.SYSTEM $RL_SCBE)" = DWORD,0x00000002
'

# ---- --image: the DC image, its build, and the September 2025 update ----

test_expect_success 'stage kdc-compat --image on dc01 (February 2025 build): SYSTEM written, SOFTWARE not' '
	gpotool stage kdc-compat --image dc/Windows >out 2>err &&
	wrote out dc/Windows/System32/config/SYSTEM &&
	test "$(rl_value dc/Windows/System32/config/SYSTEM $RL_SCBE)" = DWORD,0x00000001 &&
	cmp pristine/dc.SOFTWARE dc/Windows/System32/config/SOFTWARE &&
	test "$(ls dc/Windows/System32/config | tr "\n" " ")" = "SOFTWARE SYSTEM " &&
	test_expect_code 0 gpotool validate kdc-compat --image dc/Windows >/dev/null 2>&1 &&
	test_expect_code 1 gpotool validate kdc-enforce --image dc/Windows >/dev/null 2>&1
'

test_expect_success 're-staging on the image: no change' '
	snap dc &&
	gpotool stage kdc-compat --image dc/Windows >out 2>err &&
	grep -q "^no change" out &&
	same dc
'

test_expect_success 'a DC patched with the September 2025 update (UBR 4171): kdc-compat refused, exit 3' '
	image dc01 p >/dev/null &&
	gpotool hive set p/Windows/System32/config/SOFTWARE "$CV" UBR REG_DWORD 4171 >/dev/null &&
	refused 3 "$SCBE" p gpotool stage kdc-compat --image p/Windows &&
	grep -qi "ignore" err.main &&
	grep -Eqi "September|2025-09-09" err.main
'

test_expect_success 'kdc-backdating on the patched DC: refused too, exit 3' '
	refused 3 "ignore" p gpotool stage kdc-backdating --image p/Windows --value 600
'

test_expect_success 'kdc-enforce on the patched DC is fine' '
	gpotool stage kdc-enforce --image p/Windows >out 2>err &&
	wrote out p/Windows/System32/config/SYSTEM &&
	test "$(rl_value p/Windows/System32/config/SYSTEM $RL_SCBE)" = DWORD,0x00000002
'

test_expect_success 'UBR 4170 (before the September build) is accepted; 5000 is refused' '
	image dc01 q >/dev/null &&
	gpotool hive set q/Windows/System32/config/SOFTWARE "$CV" UBR REG_DWORD 4170 >/dev/null &&
	gpotool stage kdc-compat --image q/Windows >out 2>err &&
	test "$(rl_value q/Windows/System32/config/SYSTEM $RL_SCBE)" = DWORD,0x00000001 &&
	image dc01 r >/dev/null &&
	gpotool hive set r/Windows/System32/config/SOFTWARE "$CV" UBR REG_DWORD 5000 >/dev/null &&
	refused 3 "ignore" r gpotool stage kdc-compat --image r/Windows
'

test_expect_success 'every row of update-builds.tsv: the September UBR is refused, the one before accepted' '
	test "$(grep -v "^#" "$BUILDS" | sed 1d | wc -l)" -ge 5 &&
	grep -v "^#" "$BUILDS" | sed 1d | while IFS="	" read -r product build feb sep; do
		test -n "$sep" && test "$sep" != - || continue
		image dc01 b$build >/dev/null &&
		gpotool hive set b$build/Windows/System32/config/SOFTWARE "$CV" CurrentBuild REG_SZ $build >/dev/null &&
		gpotool hive set b$build/Windows/System32/config/SOFTWARE "$CV" CurrentBuildNumber REG_SZ $build >/dev/null &&
		gpotool hive set b$build/Windows/System32/config/SOFTWARE "$CV" UBR REG_DWORD $sep >/dev/null &&
		refused 3 "ignore" b$build gpotool stage kdc-compat --image b$build/Windows &&
		gpotool hive set b$build/Windows/System32/config/SOFTWARE "$CV" UBR REG_DWORD $((sep - 1)) >/dev/null &&
		gpotool stage kdc-compat --image b$build/Windows >out 2>err &&
		test "$(rl_value b$build/Windows/System32/config/SYSTEM $RL_SCBE)" = DWORD,0x00000001 ||
		{ echo "$product ($build.$sep) went wrong" >&2; exit 1; }
	done
'

test_expect_success 'an unknown build (CurrentBuild 99999): says so and goes on, exit 0' '
	image dc01 u >/dev/null &&
	gpotool hive set u/Windows/System32/config/SOFTWARE "$CV" CurrentBuild REG_SZ 99999 >/dev/null &&
	gpotool hive set u/Windows/System32/config/SOFTWARE "$CV" CurrentBuildNumber REG_SZ 99999 >/dev/null &&
	gpotool stage kdc-compat --image u/Windows >out 2>err &&
	cat out err | grep -Eqi "unknown|not known|not in|not listed|cannot tell|can.t tell" &&
	wrote out u/Windows/System32/config/SYSTEM &&
	test "$(rl_value u/Windows/System32/config/SYSTEM $RL_SCBE)" = DWORD,0x00000001
'

test_expect_success '--image with odd case (windows/system32/CONFIG/system) writes the file that is there' '
	mkdir -p odd/windows/system32/CONFIG &&
	cp pristine/dc.SYSTEM odd/windows/system32/CONFIG/system &&
	cp pristine/dc.SOFTWARE odd/windows/system32/CONFIG/Software &&
	gpotool stage kdc-compat --image odd/windows >out 2>err &&
	wrote out odd/windows/system32/CONFIG/system &&
	test "$(rl_value odd/windows/system32/CONFIG/system $RL_SCBE)" = DWORD,0x00000001 &&
	cmp pristine/dc.SOFTWARE odd/windows/system32/CONFIG/Software &&
	(cd odd && find . | sort) >actual &&
	printf "%s\n" . ./windows ./windows/system32 ./windows/system32/CONFIG \
		./windows/system32/CONFIG/Software ./windows/system32/CONFIG/system >expect &&
	test_cmp expect actual &&
	test_expect_code 0 gpotool validate kdc-compat --image odd/windows >/dev/null 2>&1
'

test_expect_success '--image with odd case reads the build from the odd-case SOFTWARE too' '
	gpotool hive set odd/windows/system32/CONFIG/Software "$CV" UBR REG_DWORD 4171 >/dev/null &&
	cp pristine/dc.SYSTEM odd/windows/system32/CONFIG/system &&
	refused 3 "ignore" odd gpotool stage kdc-compat --image odd/windows
'

test_expect_success '--image on a folder without System32/config: refused, nothing created' '
	mkdir -p empty/Windows &&
	test_must_fail gpotool stage kdc-enforce --image empty/Windows >out 2>err &&
	test -s err &&
	test "$(find empty | wc -l)" = 2 &&
	test_must_fail gpotool stage kdc-enforce --image no-such-dir >out 2>err &&
	! test -e no-such-dir
'

# ---- pfx-sid on the connector ----

test_expect_success 'pfx-sid --hive on the connector SOFTWARE: 1, and the services to restart' '
	gpotool stage pfx-sid --hive cn.SOFTWARE >out 2>err &&
	wrote out cn.SOFTWARE &&
	test "$(rl_value cn.SOFTWARE $RL_PFX)" = DWORD,0x00000001 &&
	cat out err | grep -q PkiCreateConnectorSvc &&
	cat out err | grep -q PfxCreateLegacyConnectorSvc &&
	! grep -q "2025-09-09" err &&
	test_expect_code 0 gpotool validate pfx-sid --hive cn.SOFTWARE >/dev/null 2>&1 &&
	test_expect_code 1 gpotool validate pfx-sid --hive pristine/cn.SOFTWARE >/dev/null 2>&1
'

test_expect_success 'pfx-sid --image on connector01: SOFTWARE written, SYSTEM not, follow-up printed' '
	gpotool stage pfx-sid --image cn/Windows >out 2>err &&
	wrote out cn/Windows/System32/config/SOFTWARE &&
	test "$(rl_value cn/Windows/System32/config/SOFTWARE $RL_PFX)" = DWORD,0x00000001 &&
	cmp pristine/cn.SYSTEM cn/Windows/System32/config/SYSTEM &&
	cat out err | grep -q PkiCreateConnectorSvc &&
	cat out err | grep -q PfxCreateLegacyConnectorSvc &&
	snap cn &&
	gpotool stage pfx-sid --image cn/Windows >out 2>err &&
	grep -q "^no change" out &&
	same cn
'

test_expect_success 'pfx-sid --value 0 is allowed, 2 is not' '
	cp pristine/cn.SOFTWARE v.SOFTWARE &&
	gpotool stage pfx-sid --hive v.SOFTWARE --value 0 >out 2>err &&
	test "$(rl_value v.SOFTWARE $RL_PFX)" = DWORD,0x00000000 &&
	test_expect_code 1 gpotool validate pfx-sid --hive v.SOFTWARE >/dev/null 2>&1 &&
	rejected v.SOFTWARE gpotool stage pfx-sid --hive v.SOFTWARE --value 2
'

test_expect_success 'pfx-sid where the connector is not installed (dc01 SOFTWARE): exit 3' '
	cp pristine/dc.SOFTWARE nc.SOFTWARE &&
	refused 3 "not installed|Certificate Connector" nc.SOFTWARE gpotool stage pfx-sid --hive nc.SOFTWARE &&
	refused 3 "not installed|Certificate Connector" dc gpotool stage pfx-sid --image dc/Windows
'

test_expect_success 'pfx-sid where the connector Uninstall key was deleted: exit 3' '
	cp pristine/cn.SOFTWARE del.SOFTWARE &&
	gpotool hive delete del.SOFTWARE "$UNINST" >/dev/null &&
	refused 3 "not installed|Certificate Connector" del.SOFTWARE gpotool stage pfx-sid --hive del.SOFTWARE
'

test_expect_success 'pfx-sid with a connector older than 6.2406.0.1001: exit 3 naming both versions' '
	for v in 6.2405.0.1 6.2406.0.999 6.2406.0.1000 6.999.0.5000 5.9999.9999.9999; do
		cp pristine/cn.SOFTWARE old.SOFTWARE &&
		gpotool hive set old.SOFTWARE "$UNINST" DisplayVersion REG_SZ $v >/dev/null &&
		refused 3 "6\\.2406\\.0\\.1001" old.SOFTWARE gpotool stage pfx-sid --hive old.SOFTWARE &&
		grep -qF "$v" err.main || { echo "version $v not refused as too old" >&2; exit 1; }
	done
'

test_expect_success 'pfx-sid with 6.2406.0.1001 or newer (numeric, part by part): written' '
	for v in 6.2406.0.1001 6.2406.0.1002 6.2406.1.0 6.10000.0.0 7.0; do
		cp pristine/cn.SOFTWARE new.SOFTWARE &&
		gpotool hive set new.SOFTWARE "$UNINST" DisplayVersion REG_SZ $v >/dev/null &&
		gpotool stage pfx-sid --hive new.SOFTWARE >out 2>err &&
		test "$(rl_value new.SOFTWARE $RL_PFX)" = DWORD,0x00000001 ||
		{ echo "version $v: exit or value wrong" >&2; cat err >&2; exit 1; }
	done
'

test_expect_success 'pfx-sid with an old connector: --force overrides' '
	cp pristine/cn.SOFTWARE f.SOFTWARE &&
	gpotool hive set f.SOFTWARE "$UNINST" DisplayVersion REG_SZ 6.2405.0.1 >/dev/null &&
	gpotool stage pfx-sid --hive f.SOFTWARE --force >out 2>err &&
	test "$(rl_value f.SOFTWARE $RL_PFX)" = DWORD,0x00000001
'

test_expect_success 'no temp file is left beside the hives or in the images' '
	! ls -a . dc/Windows/System32/config cn/Windows/System32/config odd/windows/system32/CONFIG | grep -q "gpotool-"
'

test_done
