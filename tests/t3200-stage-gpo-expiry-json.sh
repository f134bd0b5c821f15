#!/bin/bash
# gpotool stage / validate on GPO folders (--gpo DIR): the GPP Registry item written, GPT.INI
# bumped, the advice to link the GPO to OU=Domain Controllers, idempotency. Then the expiry of
# the Compatibility-mode templates (kdc-compat, kdc-backdating: 2025-09-09) as of dates before,
# on and after it, --strict, and --json (one object on stdout with a structured expiry field).
. "$(dirname "$0")/test-lib.sh"

GUID='{3A1F5E2B-7C4D-4E8F-9A0B-1C2D3E4F5A6B}'
GUID2='{7B2C9D4E-1F3A-4B5C-8D6E-0A1B2C3D4E5F}'
G=$GUID
RX=$G/Machine/Preferences/Registry/Registry.xml
KEYREL='SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
RL_SCBE=/ControlSet001/Services/Kdc/$SCBE
RNG=$PROJECT_DIR/templates/gpp-registry.rng
DC_SYSTEM=$(sample_image dc01)/SYSTEM
CN_SYSTEM=$(sample_image connector01)/SYSTEM
CN_SOFTWARE=$(sample_image connector01)/SOFTWARE

# a pyenv shim costs half a second per start; the system interpreter, when there is one, does not
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi

journal_count() { ls state/journal 2>/dev/null | wc -l; }
# journal_id OUT: the ID of the "journal: ID" line (the contract puts it last; one test checks that)
journal_id() { sed -n "s/^journal: //p" "$1" | tail -n 1; }
gpt_version() { tr -d '\r\000\357\273\277\376\377' <"$1" | sed -n "s/^[Vv]ersion=//p"; }
rl_value() { reglookup -H -p "$2" "$1" 2>/dev/null | sed -n "s|^$2,\([^,]*\),\([^,]*\),.*|\1,\2|Ip"; }

# snap PATH / same PATH: PATH (file or directory) byte-for-byte as it was, and no new journal entry
snap() { rm -rf "snap.$1" && cp -a "$1" "snap.$1" && journal_count >"snap.$1.j"; }
same() {
	if [ -d "$1" ]; then diff -r "snap.$1" "$1"; else cmp "snap.$1" "$1"; fi &&
	test "$(journal_count)" = "$(cat "snap.$1.j")" || { echo "$1 changed or journal grew" >&2; return 1; }
}

# fresh NAME: a new copy of the DC01 SYSTEM hive
fresh() { cp "$DC_SYSTEM" "$1"; }

# items FILE KEY NAME: "hive|type|value|action" of each GPP Registry item for KEY\NAME, one a line
cat >items.py <<'EOF'
import sys, xml.etree.ElementTree as ET
path, key, name = sys.argv[1:4]
for r in ET.parse(path).getroot().iter('Registry'):
    p = r.find('Properties')
    if p is not None and p.get('key', '').lower() == key.lower() and p.get('name', '').lower() == name.lower():
        print('|'.join([p.get('hive', ''), p.get('type', ''), p.get('value', ''), p.get('action', '')]))
EOF
items() { python3 items.py "$@"; }

# jf FILE EXPR: a Python expression over the parsed stdout d; strings as they are, the rest as JSON
jf() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"; }

# ---- GPO targets ----

test_expect_success 'setup: a new, empty GPO folder' '
	gpotool gpo new . --name "KDC compatibility" --guid "$GUID" >/dev/null &&
	test -f "$G/GPT.INI" && test "$(gpt_version "$G/GPT.INI")" = 0
'

test_expect_success 'validate kdc-compat on the empty GPO: exit 1' '
	test_expect_code 1 gpotool validate kdc-compat --gpo "$G" >out 2>err &&
	test -s out -o -s err
'

test_expect_success '--dry-run on the GPO writes nothing' '
	snap "$G" &&
	gpotool --as-of 2025-03-01 stage kdc-compat --gpo "$G" --dry-run >out 2>err &&
	grep -q "$SCBE" out &&
	! grep -q "^journal: " out &&
	same "$G"
'

test_expect_success 'stage kdc-compat --gpo: the GPP item, REG_DWORD 00000001, GPT.INI 0 -> 1' '
	gpotool --as-of 2025-03-01 stage kdc-compat --gpo "$G" >out 2>err &&
	cp out stage.out && cp err stage.err &&
	test -f "$RX" &&
	items "$RX" "$KEYREL" $SCBE >actual &&
	test "$(wc -l <actual)" = 1 &&
	cut -d"|" -f1-3 actual >a3 &&
	echo "HKEY_LOCAL_MACHINE|REG_DWORD|00000001" >expect &&
	test_cmp expect a3 &&
	test "$(gpt_version "$G/GPT.INI")" = 1 &&
	id=$(journal_id out) && test -n "$id" && test -f "state/journal/$id/entry.json"
'

test_expect_success 'the last stdout line of a GPO stage that wrote is "journal: ID"' '
	tail -n 1 stage.out | grep -Eq "^journal: [^ ]+$"
'

test_expect_success 'the Registry.xml written by stage is valid GPP XML' '
	xmllint --noout "$RX" &&
	xmllint --noout --relaxng "$RNG" "$RX"
'

test_expect_success 'stage on a GPO advises gpo ad and linking to OU=Domain Controllers' '
	cat stage.out stage.err | grep -q "gpo ad" &&
	cat stage.out stage.err | grep -q "OU=Domain Controllers"
'

test_expect_success 'validate --gpo: kdc-compat holds (0), kdc-enforce does not (1)' '
	test_expect_code 0 gpotool validate kdc-compat --gpo "$G" >out 2>err &&
	test_expect_code 1 gpotool validate kdc-enforce --gpo "$G" >out 2>err
'

test_expect_success 're-staging kdc-compat on the GPO: "no change", folder identical, no journal entry' '
	snap "$G" &&
	gpotool --as-of 2025-03-01 stage kdc-compat --gpo "$G" >out 2>err &&
	grep -q "^no change" out &&
	! grep -q "^journal: " out &&
	same "$G"
'

test_expect_success 'stage kdc-enforce --gpo updates the same item to 00000002, GPT.INI 1 -> 2' '
	gpotool stage kdc-enforce --gpo "$G" >out 2>err &&
	test -n "$(journal_id out)" &&
	items "$RX" "$KEYREL" $SCBE | cut -d"|" -f1-3 >actual &&
	echo "HKEY_LOCAL_MACHINE|REG_DWORD|00000002" >expect &&
	test_cmp expect actual &&
	test "$(gpt_version "$G/GPT.INI")" = 2 &&
	test_expect_code 0 gpotool validate kdc-enforce --gpo "$G" >/dev/null 2>&1 &&
	test_expect_code 1 gpotool validate kdc-compat --gpo "$G" >/dev/null 2>&1
'

test_expect_success 'stage kdc-backdating --value 600 --gpo adds a second item, 00000258' '
	gpotool --as-of 2025-03-01 stage kdc-backdating --gpo "$G" --value 600 >out 2>err &&
	items "$RX" "$KEYREL" CertificateBackdatingCompensation | cut -d"|" -f1-3 >actual &&
	echo "HKEY_LOCAL_MACHINE|REG_DWORD|00000258" >expect &&
	test_cmp expect actual &&
	items "$RX" "$KEYREL" $SCBE | cut -d"|" -f3 | grep -qx 00000002 &&
	test "$(gpt_version "$G/GPT.INI")" = 3 &&
	test_expect_code 0 gpotool validate kdc-backdating --gpo "$G" --value 600 >/dev/null 2>&1 &&
	test_expect_code 1 gpotool validate kdc-backdating --gpo "$G" --value 60 >/dev/null 2>&1
'

test_expect_success '--value 0 on a GPO is refused like on a hive: exit 3, nothing written' '
	snap "$G" &&
	test_must_fail 3 gpotool stage kdc-enforce --gpo "$G" --value 0 >out 2>err &&
	grep -Eq "April 11, 2023|2023-04-11" err &&
	same "$G"
'

test_expect_success 'schannel-mapping --value 0x1c on a GPO warns about weak methods; 0x18 does not' '
	gpotool stage schannel-mapping --gpo "$G" --value 0x1c >out 2>err &&
	grep -qi "weak" err &&
	items "$RX" "SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\Schannel" CertificateMappingMethods |
		cut -d"|" -f3 | grep -qx 0000001C &&
	gpotool stage schannel-mapping --gpo "$G" --value 0x18 >out 2>err &&
	! grep -qi "weak" err &&
	items "$RX" "SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\Schannel" CertificateMappingMethods |
		cut -d"|" -f3 | grep -qx 00000018
'

test_expect_success '--gpo on a folder that is not a GPO (no GPT.INI): refused, nothing created' '
	mkdir notgpo &&
	test_must_fail gpotool stage kdc-enforce --gpo notgpo >out 2>err &&
	test -s err &&
	test -z "$(ls -A notgpo)"
'

# ---- expiry ----

test_expect_success 'as of 2025-03-01: kdc-compat warns on stderr, 2025-09-09, 192 days left' '
	fresh a.SYSTEM &&
	gpotool --as-of 2025-03-01 stage kdc-compat --hive a.SYSTEM >out 2>err &&
	grep "2025-09-09" err | grep -q "192 days" &&
	! grep -qi "expired" err &&
	! grep -q "2025-09-09" out &&
	test "$(rl_value a.SYSTEM $RL_SCBE)" = DWORD,0x00000001
'

test_expect_success 'the warning comes on re-staging (no change) and on validate too' '
	gpotool --as-of 2025-03-01 stage kdc-compat --hive a.SYSTEM >out 2>err &&
	grep -q "^no change" out &&
	grep "2025-09-09" err | grep -q "192 days" &&
	gpotool --as-of 2025-03-01 validate kdc-compat --hive a.SYSTEM >out 2>err &&
	grep "2025-09-09" err | grep -q "192 days" &&
	test_expect_code 1 gpotool --as-of 2025-03-01 validate kdc-compat --gpo "$G" >out 2>err &&
	grep "2025-09-09" err | grep -q "192 days"
'

test_expect_success 'kdc-backdating warns the same way' '
	gpotool --as-of 2025-03-01 stage kdc-backdating --hive a.SYSTEM --value 600 >out 2>err &&
	grep "2025-09-09" err | grep -q "192 days" &&
	gpotool --as-of 2025-03-01 validate kdc-backdating --hive a.SYSTEM --value 600 >out 2>err &&
	grep "2025-09-09" err | grep -q "192 days"
'

test_expect_success 'as of 2025-09-08: one day left, not expired' '
	fresh b.SYSTEM &&
	gpotool --as-of 2025-09-08 stage kdc-compat --hive b.SYSTEM >out 2>err &&
	grep "2025-09-09" err | grep -Eq "(^|[^0-9])1 days?([^0-9a-z]|$)" &&
	! grep -qi "expired" err &&
	test "$(rl_value b.SYSTEM $RL_SCBE)" = DWORD,0x00000001
'

test_expect_success 'as of 2025-09-08 the warning says "1 day", not "1 days"' '
	gpotool --as-of 2025-09-08 validate kdc-compat --hive b.SYSTEM >out 2>err &&
	grep "2025-09-09" err | grep -Eq "(^|[^0-9])1 day([^s]|$)"
'

test_expect_success 'as of 2025-09-09 (the day): expired, with strong mapping / SID extension advice' '
	fresh c.SYSTEM &&
	gpotool --as-of 2025-09-09 stage kdc-compat --hive c.SYSTEM >out 2>err &&
	grep "2025-09-09" err | grep -qi "expired" &&
	grep -Eqi "strong|SID extension" err &&
	! grep -Eq "[0-9]+ days? left" err &&
	test "$(rl_value c.SYSTEM $RL_SCBE)" = DWORD,0x00000001
'

test_expect_success 'as of 2026-01-01 (after): expired; kdc-backdating too; validate too' '
	fresh d.SYSTEM &&
	gpotool --as-of 2026-01-01 stage kdc-compat --hive d.SYSTEM >out 2>err &&
	grep "2025-09-09" err | grep -qi "expired" &&
	grep -Eqi "strong|SID extension" err &&
	gpotool --as-of 2026-01-01 stage kdc-backdating --hive d.SYSTEM --value 600 >out 2>err &&
	grep "2025-09-09" err | grep -qi "expired" &&
	gpotool --as-of 2026-01-01 validate kdc-compat --hive d.SYSTEM >out 2>err &&
	grep "2025-09-09" err | grep -qi "expired"
'

test_expect_success 'without --as-of the date is today' '
	fresh e.SYSTEM &&
	gpotool stage kdc-compat --hive e.SYSTEM >out 2>err &&
	days=$(python3 -c "import datetime; print((datetime.date(2025,9,9) - datetime.datetime.now(datetime.timezone.utc).date()).days)") &&
	if [ "$days" -le 0 ]; then
		grep "2025-09-09" err | grep -qi "expired"
	else
		grep "2025-09-09" err | grep -q "$days day"
	fi
'

test_expect_success 'kdc-enforce, pfx-sid and schannel-mapping carry no expiry warning' '
	for d in 2025-03-01 2025-09-09 2026-01-01; do
		fresh f.SYSTEM && cp "$CN_SOFTWARE" f.SOFTWARE &&
		gpotool --as-of $d stage kdc-enforce --hive f.SYSTEM >out 2>err &&
		! grep -Eqi "2025-09-09|expire|days left" err &&
		gpotool --as-of $d validate kdc-enforce --hive f.SYSTEM >out 2>err &&
		! grep -Eqi "2025-09-09|expire|days left" err &&
		gpotool --as-of $d stage pfx-sid --hive f.SOFTWARE >out 2>err &&
		! grep -Eqi "2025-09-09|expire|days left" err &&
		gpotool --as-of $d stage schannel-mapping --hive f.SYSTEM >out 2>err &&
		! grep -Eqi "2025-09-09|expire|days left" err || { echo "as of $d:" >&2; cat err >&2; exit 1; }
	done
'

test_expect_success 'a malformed --as-of is a usage error, nothing written' '
	fresh g.SYSTEM && snap g.SYSTEM &&
	for d in 2025-13-01 2025-02-30 tomorrow 20250301 2025-3-1; do
		test_must_fail 2 gpotool --as-of $d stage kdc-compat --hive g.SYSTEM >out 2>err || exit 1
	done &&
	same g.SYSTEM
'

# ---- --strict ----

test_expect_success '--strict on the day of expiry: exit 3, nothing written, no journal entry' '
	fresh s.SYSTEM && snap s.SYSTEM &&
	test_must_fail 3 gpotool --strict --as-of 2025-09-09 stage kdc-compat --hive s.SYSTEM >out 2>err &&
	grep -Eqi "expire|2025-09-09" err &&
	! grep -q "^journal: " out &&
	same s.SYSTEM
'

test_expect_success '--strict after expiry: kdc-compat and kdc-backdating refused, on hive, image and GPO' '
	snap s.SYSTEM &&
	test_must_fail 3 gpotool --strict --as-of 2026-01-01 stage kdc-compat --hive s.SYSTEM >out 2>err &&
	test_must_fail 3 gpotool --strict --as-of 2026-01-01 stage kdc-backdating --hive s.SYSTEM --value 600 >out 2>err &&
	same s.SYSTEM &&
	mkdir -p img/Windows/System32/config &&
	cp "$DC_SYSTEM" "$(dirname "$DC_SYSTEM")/SOFTWARE" img/Windows/System32/config/ &&
	snap img &&
	test_must_fail 3 gpotool --strict --as-of 2026-01-01 stage kdc-compat --image img/Windows >out 2>err &&
	same img &&
	gpotool gpo new . --name strict --guid "$GUID2" >/dev/null &&
	snap "$GUID2" &&
	test_must_fail 3 gpotool --strict --as-of 2026-01-01 stage kdc-compat --gpo "$GUID2" >out 2>err &&
	same "$GUID2"
'

test_expect_success '--strict before the date: exit 0, written' '
	gpotool --strict --as-of 2025-09-08 stage kdc-compat --hive s.SYSTEM >out 2>err &&
	test -n "$(journal_id out)" &&
	test "$(rl_value s.SYSTEM $RL_SCBE)" = DWORD,0x00000001
'

test_expect_success '--strict does not touch templates without expiry (kdc-enforce)' '
	gpotool --strict --as-of 2026-01-01 stage kdc-enforce --hive s.SYSTEM >out 2>err &&
	test "$(rl_value s.SYSTEM $RL_SCBE)" = DWORD,0x00000002
'

# ---- --json ----

test_expect_success '--json stage: one object with command, ok, exit, template, changed, changes, journal' '
	fresh j.SYSTEM &&
	gpotool --json --as-of 2025-03-01 stage kdc-compat --hive j.SYSTEM >out.json 2>err &&
	test "$(jf out.json "d[\"command\"]")" = stage &&
	test "$(jf out.json "(d[\"ok\"], d[\"exit\"], d[\"changed\"])")" = "[true, 0, true]" &&
	test "$(jf out.json "d[\"template\"]")" = kdc-compat &&
	test "$(jf out.json "type(d[\"changes\"]).__name__")" = list &&
	test "$(jf out.json "len(d[\"changes\"]) >= 1")" = true &&
	jf out.json "d[\"changes\"]" | grep -q "$SCBE" &&
	id=$(jf out.json "d[\"journal\"]") &&
	test -f "state/journal/$id/entry.json" &&
	test "$(rl_value j.SYSTEM $RL_SCBE)" = DWORD,0x00000001
'

test_expect_success '--json: expiry {date, days: 192, expired: false} as of 2025-03-01' '
	test "$(jf out.json "d[\"expiry\"][\"date\"]")" = 2025-09-09 &&
	test "$(jf out.json "d[\"expiry\"][\"days\"]")" = 192 &&
	test "$(jf out.json "d[\"expiry\"][\"expired\"]")" = false
'

test_expect_success '--json: 1 day as of 2025-09-08; expired as of 2025-09-09 and 2026-01-01' '
	fresh k.SYSTEM &&
	gpotool --json --as-of 2025-09-08 stage kdc-compat --hive k.SYSTEM --dry-run >o1.json 2>/dev/null &&
	test "$(jf o1.json "(d[\"expiry\"][\"date\"], d[\"expiry\"][\"days\"], d[\"expiry\"][\"expired\"])")" = "[\"2025-09-09\", 1, false]" &&
	gpotool --json --as-of 2025-09-09 stage kdc-compat --hive k.SYSTEM >o2.json 2>/dev/null &&
	test "$(jf o2.json "(d[\"expiry\"][\"date\"], d[\"expiry\"][\"expired\"])")" = "[\"2025-09-09\", true]" &&
	gpotool --json --as-of 2026-01-01 validate kdc-compat --hive k.SYSTEM >o3.json 2>/dev/null &&
	test "$(jf o3.json "(d[\"expiry\"][\"date\"], d[\"expiry\"][\"expired\"])")" = "[\"2025-09-09\", true]"
'

test_expect_success '--json: kdc-enforce and pfx-sid have no expiry' '
	fresh m.SYSTEM && cp "$CN_SOFTWARE" m.SOFTWARE &&
	gpotool --json --as-of 2026-01-01 stage kdc-enforce --hive m.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"ok\"], d[\"template\"], bool(d.get(\"expiry\")))")" = "[true, \"kdc-enforce\", false]" &&
	gpotool --json --as-of 2026-01-01 stage pfx-sid --hive m.SOFTWARE >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"ok\"], d[\"template\"], bool(d.get(\"expiry\")))")" = "[true, \"pfx-sid\", false]"
'

test_expect_success '--json re-stage: changed false, no journal, exit 0' '
	snap j.SYSTEM &&
	gpotool --json --as-of 2025-03-01 stage kdc-compat --hive j.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"ok\"], d[\"exit\"], d[\"changed\"], bool(d.get(\"journal\")), len(d[\"changes\"]))")" = "[true, 0, false, false, 0]" &&
	same j.SYSTEM
'

test_expect_success '--json --dry-run: no journal, nothing written' '
	fresh n.SYSTEM && snap n.SYSTEM &&
	gpotool --json --as-of 2025-03-01 stage kdc-compat --hive n.SYSTEM --dry-run >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"ok\"], d[\"exit\"], bool(d.get(\"journal\")))")" = "[true, 0, false]" &&
	jf o.json "d[\"changes\"]" | grep -q "$SCBE" &&
	same n.SYSTEM
'

test_expect_success '--json --strict refusal: ok false, exit 3, nothing written' '
	fresh p.SYSTEM && snap p.SYSTEM &&
	test_must_fail 3 gpotool --json --strict --as-of 2026-01-01 stage kdc-compat --hive p.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"ok\"], d[\"exit\"])")" = "[false, 3]" &&
	same p.SYSTEM
'

test_expect_success '--json preflight refusal (ServerNT): ok false, exit 3, the reason in the object' '
	cp "$CN_SYSTEM" q.SYSTEM && snap q.SYSTEM &&
	test_must_fail 3 gpotool --json stage kdc-enforce --hive q.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"ok\"], d[\"exit\"])")" = "[false, 3]" &&
	grep -q ServerNT o.json &&
	same q.SYSTEM
'

test_expect_success '--json validate: command validate, exit 1 when absent, 0 when present' '
	fresh r.SYSTEM &&
	test_expect_code 1 gpotool --json validate kdc-enforce --hive r.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"command\"], d[\"exit\"])")" = "[\"validate\", 1]" &&
	gpotool stage kdc-enforce --hive r.SYSTEM >/dev/null 2>&1 &&
	gpotool --json validate kdc-enforce --hive r.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"command\"], d[\"exit\"], d[\"ok\"])")" = "[\"validate\", 0, true]"
'

test_expect_success '--json stage on a GPO: the item and the journal' '
	gpotool gpo new . --name json --guid "{0C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F}" >/dev/null &&
	gpotool --json --as-of 2025-03-01 stage kdc-compat --gpo "{0C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F}" >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"ok\"], d[\"changed\"], d[\"expiry\"][\"days\"])")" = "[true, true, 192]" &&
	id=$(jf o.json "d[\"journal\"]") && test -f "state/journal/$id/entry.json" &&
	jf o.json "d[\"changes\"]" | grep -q "$SCBE"
'

test_done
