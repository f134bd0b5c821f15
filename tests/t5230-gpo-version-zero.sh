#!/bin/bash
# A GPO that has the template's item while GPT.INI's version of that half is 0: clients skip
# the half (gpo show says so). validate exits 1 saying why; stage raises the version (journaled,
# Registry.xml byte for byte as it was), and a dry run says it would.
. "$(dirname "$0")/test-lib.sh"

GUID='{9C8B7A6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D}'
G=$GUID
RX=$G/Machine/Preferences/Registry/Registry.xml
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi
gpt_version() { tr -d '\r' <"$G/GPT.INI" | sed -n "s/^[Vv]ersion=//p"; }
set_version() { sed -i "s/^Version=[0-9]*/Version=$1/" "$G/GPT.INI"; }
jf() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"; }

test_expect_success 'setup: a GPO with the kdc-enforce item, then its machine version set to 0' '
	gpotool gpo new . --name zero --guid "$GUID" >/dev/null &&
	gpotool stage kdc-enforce --gpo "$G" >/dev/null 2>&1 &&
	test "$(gpt_version)" = 1 &&
	set_version 0 &&
	gpotool gpo show "$G" >out && grep -q "machine version is 0" out
'

test_expect_success 'validate: exit 1, the item is there but clients skip it' '
	test_expect_code 1 gpotool validate kdc-enforce --gpo "$G" >out 2>err &&
	grep -q "GPT.INI.s machine version is 0, so clients skip it" err
'

test_expect_success 'stage --dry-run: says it would raise the version, writes nothing' '
	cp -a "$G" snap &&
	gpotool stage kdc-enforce --gpo "$G" --dry-run >out 2>err &&
	grep -q "^plan: GPT.INI version +1" out &&
	diff -r snap "$G"
'

test_expect_success 'stage: raises the version to 1, Registry.xml unchanged, journaled; validate exits 0' '
	cp "$RX" rx.before &&
	gpotool stage kdc-enforce --gpo "$G" >out 2>err &&
	grep -q "^GPT.INI: Version 0 -> 1" out &&
	id=$(sed -n "s/^journal: //p" out) && test -f "state/journal/$id/entry.json" &&
	test "$(gpt_version)" = 1 &&
	cmp rx.before "$RX" &&
	gpotool validate kdc-enforce --gpo "$G" >out 2>err
'

test_expect_success 'now in place: "no change", the version stays' '
	gpotool stage kdc-enforce --gpo "$G" >out 2>err &&
	grep -q "^no change" out &&
	test "$(gpt_version)" = 1
'

test_expect_success 'a user half that is set does not hide a machine half of 0 (Version=65536)' '
	set_version 65536 &&
	test_expect_code 1 gpotool validate kdc-enforce --gpo "$G" >out 2>err &&
	gpotool --json stage kdc-enforce --gpo "$G" >o.json 2>err &&
	test "$(jf o.json "(d[\"version_before\"], d[\"version\"], d[\"changed\"])")" = "[65536, 65537, true]" &&
	gpotool validate kdc-enforce --gpo "$G" >/dev/null 2>&1
'

test_expect_success 'the version-raising entry rolls back like any GPO entry (the version goes up again)' '
	id=$(jf o.json "d[\"journal\"]") &&
	gpotool rollback "$id" >out 2>err &&
	test "$(gpt_version)" = 65538 &&
	cmp rx.before "$RX"
'

test_done
