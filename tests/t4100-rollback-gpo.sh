#!/bin/bash
# Rollback of GPO writes. Registry.xml gets its exact earlier bytes back, but GPT.INI's
# version goes UP again (clients only apply a higher version), and `gpo ad` then carries the
# new versionNumber. Removing a GPP item leaves its value set on every DC that applied it, so
# rollback says so and offers the real undo (--undo-on-clients=delete, or the value of the
# template that sets it otherwise).
. "$(dirname "$0")/test-lib.sh"

GUID='{6AC1786C-016F-11D2-945F-00C04FB984F9}'
G="$GUID"
RX="$G/Machine/Preferences/Registry/Registry.xml"
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement

last_entry() { ls state/journal | tail -n 1; }
gpt_version() { sed -n 's/^Version=\([0-9]*\).*/\1/p' "$G/GPT.INI" | tr -d '\r'; }
# the GPO without GPT.INI, as bytes: what a rollback must restore exactly
snap() { (cd "$G" && find . -type f ! -name GPT.INI -print0 | sort -z | xargs -0 sha256sum) >"$1"; }

cat >items.py <<'EOF'
import sys, xml.etree.ElementTree as ET
path, name = sys.argv[1:3]
for r in ET.parse(path).getroot().iter('Registry'):
    p = r.find('Properties')
    if p is not None and p.get('name', '').lower() == name.lower():
        print('|'.join([p.get('action', ''), p.get('type', ''), p.get('value', '')]))
EOF
item() { python3 items.py "$RX" "$1"; }

test_expect_success 'a new GPO, then kdc-compat staged into it' '
	gpotool gpo new . --name "KDC compat" --guid "$GUID" >/dev/null &&
	snap empty.sums &&
	gpotool --ticket CHG-7 stage kdc-compat --gpo "$G" >out 2>/dev/null &&
	last_entry >staged.id &&
	test "$(item $SCBE)" = "U|REG_DWORD|00000001" &&
	test "$(gpt_version)" = 1
'

test_expect_success 'rollback --dry-run on a GPO writes nothing' '
	snap before.sums && cp "$G/GPT.INI" gpt.before &&
	gpotool rollback "$(cat staged.id)" --dry-run >out &&
	grep -q "dry run: would remove the Machine Registry.xml" out &&
	snap after.sums && test_cmp before.sums after.sums && cmp gpt.before "$G/GPT.INI"
'

test_expect_success 'rollback: Registry.xml as before (it did not exist), version raised to 2' '
	gpotool rollback "$(cat staged.id)" >out &&
	test ! -e "$RX" &&
	snap now.sums && test_cmp empty.sums now.sums &&
	test "$(gpt_version)" = 2 &&
	grep -q "^GPT.INI: Version 1 -> 2" out &&
	last_entry >rollback.id &&
	tail -n 1 out | grep -qx "journal: $(cat rollback.id)"
'

test_expect_success 'the rollback says the value stays on DCs and offers the real undo' '
	grep -q "^note: computers that applied the removed item keep HKEY_LOCAL_MACHINE.*$SCBE" out &&
	grep -q "^note: to delete it there too, .*gpotool rollback $(cat staged.id) --undo-on-clients=delete$" out &&
	grep -q "^note: or set it to 2 there (kdc-enforce: .*--undo-on-clients=2$" out
'

test_expect_success 'gpo ad carries the raised versionNumber' '
	gpotool gpo ad "$G" --domain example.com >ldif &&
	grep -qx "versionNumber: 2" ldif
'

test_expect_success 'the rollback can be rolled back: the item returns, version 3' '
	gpotool rollback "$(cat rollback.id)" >out &&
	test "$(item $SCBE)" = "U|REG_DWORD|00000001" &&
	test "$(gpt_version)" = 3
'

test_expect_success 'with other items in Registry.xml: rollback restores its exact bytes' '
	gpotool gpo set "$G" "$KDC" CertificateBackdatingCompensation REG_DWORD 600 >/dev/null 2>&1 &&
	cp "$RX" reg.before &&
	gpotool stage kdc-enforce --gpo "$G" >/dev/null 2>&1 &&
	last_entry >enforce.id &&
	test "$(item $SCBE)" = "U|REG_DWORD|00000002" &&
	v=$(gpt_version) &&
	gpotool rollback "$(cat enforce.id)" >out &&
	cmp reg.before "$RX" &&
	test "$(gpt_version)" = $((v + 1)) &&
	! grep -q "^note: computers that applied" out
'

# The drifts below change an item's data or action, never only its "changed" stamp: GPP items
# are stamped to the second, so a drift that recreated an earlier item could, within one
# second, recreate its bytes too (and the rollback would then have nothing to refuse).
test_expect_success 'drift: Registry.xml changed since the entry: refused with the item, untouched' '
	cp "$RX" reg.pre-enforce2 &&
	gpotool stage kdc-enforce --gpo "$G" >/dev/null 2>&1 &&
	last_entry >enforce2.id &&
	gpotool gpo set "$G" "$KDC" $SCBE REG_DWORD 1 --action R >/dev/null 2>&1 &&
	cp "$RX" reg.drift && cp "$G/GPT.INI" gpt.drift &&
	! cmp -s reg.pre-enforce2 reg.drift &&
	test_must_fail 3 gpotool rollback "$(cat enforce2.id)" >out 2>err &&
	grep -q "this entry left REG_DWORD 2 (0x00000002); now REG_DWORD 1 (0x00000001), action R" out &&
	test_one_line err "changed since journal entry" &&
	cmp reg.drift "$RX" && cmp gpt.drift "$G/GPT.INI"
'

test_expect_success 'drift in other items only is named as such' '
	gpotool stage kdc-enforce --gpo "$G" >/dev/null 2>&1 &&
	sid=$(last_entry) &&
	gpotool gpo set "$G" "$KDC" SomethingElse REG_DWORD 3 >/dev/null 2>&1 &&
	test_must_fail 3 gpotool rollback "$sid" >out 2>/dev/null &&
	grep -q "$SCBE is as this entry left it; other items changed since" out &&
	gpotool rollback "$sid" --logical >/dev/null 2>&1 &&
	test "$(item $SCBE)" = "R|REG_DWORD|00000001" &&
	test "$(item SomethingElse)" = "U|REG_DWORD|00000003" &&
	gpotool gpo delete "$G" "$KDC" SomethingElse >/dev/null 2>&1
'

test_expect_success '--logical restores only that item, keeps the others, raises the version' '
	gpotool gpo set "$G" "$KDC" Unrelated REG_DWORD 5 >/dev/null 2>&1 &&
	test "$(item $SCBE)" = "R|REG_DWORD|00000001" &&
	v=$(gpt_version) &&
	gpotool rollback "$(cat enforce2.id)" --logical >out 2>err &&
	test "$(item $SCBE)" = "U|REG_DWORD|00000001" &&
	test "$(item Unrelated)" = "U|REG_DWORD|00000005" &&
	test "$(item CertificateBackdatingCompensation)" = "U|REG_DWORD|00000258" &&
	test "$(gpt_version)" = $((v + 1)) &&
	xmllint --noout --relaxng "$PROJECT_DIR/templates/gpp-registry.rng" "$RX"
'

test_expect_success '--logical twice: the second changes nothing' '
	cp "$RX" reg.now && v=$(gpt_version) &&
	gpotool rollback "$(cat enforce2.id)" --logical >out &&
	grep -q "^no change" out &&
	cmp reg.now "$RX" && test "$(gpt_version)" = "$v"
'

test_expect_success 'a second GPO for the undo on clients' '
	G2={7B2C897D-1270-42E3-956A-11D05FC095FA} &&
	gpotool gpo new . --name "undo" --guid "$G2" >/dev/null &&
	gpotool stage kdc-compat --gpo "$G2" >/dev/null 2>&1 &&
	last_entry >g2.id
'

test_expect_success '--undo-on-clients=delete: an item that deletes the value replaces the removed one' '
	G="{7B2C897D-1270-42E3-956A-11D05FC095FA}" RX="{7B2C897D-1270-42E3-956A-11D05FC095FA}/Machine/Preferences/Registry/Registry.xml" &&
	gpotool rollback "$(cat g2.id)" --undo-on-clients=delete >out &&
	test "$(python3 items.py "$RX" $SCBE | cut -d"|" -f1)" = D &&
	test "$(sed -n "s/^Version=\([0-9]*\).*/\1/p" "$G/GPT.INI" | tr -d "\r")" = 2 &&
	grep -q "^note: the item now deletes the value on every computer that applies this GPO" out
'

test_expect_success '--undo-on-clients=2: the item sets the value to 2 instead' '
	G="{7B2C897D-1270-42E3-956A-11D05FC095FA}" RX="{7B2C897D-1270-42E3-956A-11D05FC095FA}/Machine/Preferences/Registry/Registry.xml" &&
	gpotool rollback "$(last_entry)" >/dev/null &&
	test "$(python3 items.py "$RX" $SCBE)" = "U|REG_DWORD|00000001" &&
	gpotool stage kdc-compat --gpo "$G" >/dev/null 2>&1 &&
	gpotool gpo delete "$G" "$KDC" $SCBE >/dev/null 2>&1 &&
	gpotool stage kdc-compat --gpo "$G" >/dev/null 2>&1 &&
	id=$(last_entry) &&
	gpotool rollback "$id" --undo-on-clients=2 >out &&
	test "$(python3 items.py "$RX" $SCBE)" = "U|REG_DWORD|00000002"
'

test_expect_success '--undo-on-clients with data that is not the type: usage error, untouched' '
	G="{7B2C897D-1270-42E3-956A-11D05FC095FA}" RX="{7B2C897D-1270-42E3-956A-11D05FC095FA}/Machine/Preferences/Registry/Registry.xml" &&
	gpotool gpo delete "$G" "$KDC" $SCBE >/dev/null 2>&1 &&
	gpotool stage kdc-compat --gpo "$G" >/dev/null 2>&1 &&
	id=$(last_entry) && cp "$RX" reg.keep && cp "$G/GPT.INI" gpt.keep &&
	test_must_fail gpotool rollback "$id" --undo-on-clients=lots 2>err &&
	test_one_line err "undo-on-clients" &&
	cmp reg.keep "$RX" && cmp gpt.keep "$G/GPT.INI"
'

test_expect_success '--undo-on-clients when the rollback puts an earlier item back: not used, said so' '
	test "$(item $SCBE)" = "U|REG_DWORD|00000001" &&
	gpotool stage kdc-enforce --gpo "$G" >/dev/null 2>&1 &&
	gpotool rollback "$(last_entry)" --undo-on-clients=delete >out 2>err &&
	grep -q "undo-on-clients not used: this rollback puts back the earlier item" err &&
	test "$(item $SCBE)" = "U|REG_DWORD|00000001"
'

test_expect_success 'a journal whose files are not the GPO named is not followed' '
	id=$(cat enforce.id) &&
	python3 - "$TRASH" "$id" <<-\EOF &&
	import json, sys
	p = sys.argv[1] + "/state/journal/" + sys.argv[2] + "/entry.json"
	d = json.load(open(p))
	d["targets"][0]["path"] = sys.argv[1] + "/elsewhere.xml"
	json.dump(d, open(p, "w"))
	EOF
	cp "$RX" reg.keep && cp "$G/GPT.INI" gpt.keep &&
	test_must_fail 3 gpotool rollback "$id" 2>err &&
	test_one_line err "not following it" &&
	cmp reg.keep "$RX" && cmp gpt.keep "$G/GPT.INI" &&
	test ! -e elsewhere.xml
'

test_expect_success 'audit show lists these writes, refusals and records without changes included' '
	gpotool audit show >out &&
	grep -q "gpo new -> changed (exit 0)" out &&
	grep -q "rollback -> refused (exit 3)" out &&
	grep -q "rollback of  $(cat staged.id)" out &&
	gpotool audit verify >out &&
	grep -q "chain whole" out
'

test_done
