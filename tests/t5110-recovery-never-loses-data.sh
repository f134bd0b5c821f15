#!/bin/bash
# Recovery of an interrupted write never loses data:
# - it acts only when each target is exactly as before the entry or exactly as the entry would
#   leave it (SHA-256); a target changed since (here: by a write through another state
#   directory) is refused, exit 3, naming the entry, the hashes and `gpotool journal abandon
#   ID`, with nothing written; `journal abandon` (journaled, audited) then leaves the files as
#   they are;
# - a write through another state directory leaves a pending entry's staged file alone and
#   says it is not its own;
# - a before copy is put back only when it has its recorded SHA-256 and is a sound file of its
#   kind (the Registry.xml schema here);
# - a write finished or undone by recovery gets its audit record, saying so and by which command.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
KDC_RL=/ControlSet001/Services/Kdc
GUID='{7B3D9E21-5A4C-4F6B-8E2D-1C0B9A8F7E61}'
GUID2='{7B3D9E21-5A4C-4F6B-8E2D-1C0B9A8F7E62}'
REG=Machine/Preferences/Registry/Registry.xml

status() { json_field "${2:-state}/journal/$1/entry.json" 'd["status"]'; }
newest() { ls "${1:-state}/journal" | tail -n 1; }
sha() { sha256sum "$1" | cut -d" " -f1; }
rl() { reglookup -H -p "$KDC_RL/$2" "$1" 2>/dev/null | awk -F, -v p="$KDC_RL/$2" '$1 == p { print tolower($3) }'; }
temps() { ls -A "$(dirname "$1")" | grep "^\.$(basename "$1")\.gpotool-" || true; }
# last_record EXPR: a Python expression over the audit log's last record r
last_record() { python3 -c 'import json,sys; r = json.loads(open("state/audit.log").read().splitlines()[-1]); print(eval(sys.argv[1]))' "$1"; }
# records_naming ID: how many records name journal entry ID
records_naming() { python3 -c 'import json,sys; print(sum(1 for l in open("state/audit.log") if json.loads(l).get("journal") == sys.argv[1]))' "$1"; }

test_expect_success 'setup: a SYSTEM hive' '
	gpotool hive new s.hive --kind SYSTEM >/dev/null &&
	gpotool hive import s.hive "$PROJECT_DIR/hives/dc01/SYSTEM.reg" >/dev/null
'

test_expect_success 'a write killed before its rename leaves an entry pending and its staged file' '
	cp s.hive s.before &&
	test_expect_code 137 env GPOTOOL_FAULT=hive-before-rename "$GPOTOOL" hive set s.hive "$KDC" Pending REG_DWORD 1 >/dev/null 2>&1 &&
	cmp s.before s.hive &&
	newest >pending.id &&
	test "$(status $(cat pending.id))" = pending &&
	test -n "$(temps s.hive)" && temps s.hive >staged.name
'

test_expect_success 'a write through another state directory leaves that staged file alone, and says whose it may be' '
	gpotool --state-dir other hive set s.hive "$KDC" Later REG_DWORD 2 >out 2>err &&
	test "$(rl s.hive Later)" = 0x00000002 &&
	test "$(temps s.hive)" = "$(cat staged.name)" &&
	grep -q "$(cat staged.name).* not removed: no journal entry or interrupted writer in .*other.* accounts for it" err &&
	! grep -q "killed before it journaled" err
'

test_expect_success 'the next write through the first state directory: refused (3), names entry and hashes, nothing written' '
	cp s.hive s.later &&
	id=$(cat pending.id) &&
	before=$(json_field state/journal/$id/entry.json "d[\"targets\"][0][\"sha256_before\"]") &&
	after=$(json_field state/journal/$id/entry.json "d[\"targets\"][0][\"sha256_after\"]") &&
	n=$(ls state/journal | wc -l) &&
	test_must_fail 3 gpotool hive set s.hive "$KDC" Third REG_DWORD 3 >out 2>err &&
	test_one_line err "journal entry $id was interrupted, and .*s.hive. has been changed since; nothing was written" &&
	grep -q "gpotool journal abandon $id" err &&
	grep -q "now $(sha s.later)" err && grep -q "before the entry $before" err && grep -q "leave it $after" err &&
	cmp s.later s.hive &&
	test "$(rl s.hive Later)" = 0x00000002 &&
	test "$(status $id)" = pending &&
	test "$(ls state/journal | wc -l)" = "$n" &&
	test "$(temps s.hive)" = "$(cat staged.name)" &&
	test "$(last_record "r[\"result\"]")" = refused
'

test_expect_success 'journal abandon: the entry is abandoned (who, ticket), its staged file removed, the hive untouched' '
	id=$(cat pending.id) &&
	gpotool --ticket CHG-77 --operator alice journal abandon $id >out 2>err &&
	grep -q "is left as it is: changed since" out &&
	grep -q "^journal entry $id abandoned" out &&
	test "$(status $id)" = abandoned &&
	test "$(json_field state/journal/$id/entry.json "d[\"abandoned_by\"][\"ticket\"]")" = CHG-77 &&
	test "$(json_field state/journal/$id/entry.json "d[\"abandoned_by\"][\"operator\"]")" = alice &&
	cmp s.later s.hive &&
	test -z "$(temps s.hive)" &&
	test "$(last_record "r[\"command\"]")" = "journal abandon" &&
	test "$(last_record "r[\"ticket\"]")" = CHG-77 &&
	test "$(last_record "r[\"target\"]")" = "$TRASH/s.hive" &&
	gpotool journal list --pending >p && grep -q "^no interrupted writes" p
'

test_expect_success 'then the write goes ahead on top of the later change; abandon refuses what is not pending' '
	gpotool hive set s.hive "$KDC" Third REG_DWORD 3 >out 2>err &&
	! grep -q "interrupted" err &&
	test "$(rl s.hive Later)" = 0x00000002 && test "$(rl s.hive Third)" = 0x00000003 &&
	test -z "$(rl s.hive Pending)" &&
	test_must_fail 3 gpotool journal abandon "$(cat pending.id)" 2>err && test_one_line err "not pending" &&
	test_must_fail 3 gpotool journal abandon "$(sed -n "s/^journal: //p" out)" 2>err && test_one_line err "is .complete., not pending" &&
	test_must_fail 2 gpotool journal abandon nonsense 2>err &&
	gpotool audit verify >/dev/null
'

test_expect_success 'abandon that loaded a pending entry another run then recovered: refused (3), the recovery kept' '
	test_expect_code 137 env GPOTOOL_FAULT=hive-after-rename "$GPOTOOL" hive set s.hive "$KDC" Raced REG_DWORD 4 >/dev/null 2>&1 &&
	id=$(newest) && test "$(status $id)" = pending &&
	pid= && trap "reap_stopped \$pid" EXIT &&
	{ GPOTOOL_FAULT=abandon-after-load:stop "$GPOTOOL" journal abandon $id >abandon.out 2>abandon.err & pid=$!; } &&
	wait_stopped $pid &&
	gpotool hive set s.hive "$KDC" Racer REG_DWORD 5 >out 2>err &&
	test "$(status $id)" = complete &&
	kill -CONT $pid && { wait $pid; rc=$?; } &&
	test $rc = 3 &&
	test_one_line abandon.err "journal entry $id is no longer pending: another gpotool ended it (.complete.)" &&
	test "$(status $id)" = complete &&
	test "$(json_field state/journal/$id/entry.json "\"abandoned_by\" in d")" = False &&
	json_field state/journal/$id/entry.json "d[\"recovered_by\"][\"command\"]" | grep -q Racer &&
	test "$(rl s.hive Raced)" = 0x00000004 &&
	test "$(last_record "r[\"command\"]")" = "journal abandon" && test "$(last_record "r[\"result\"]")" = refused
'

test_expect_success 'a GPO half-changed by a killed write, then changed through another state directory: refused, nothing lost' '
	gpotool gpo new . --name rec --guid "$GUID" >/dev/null &&
	gpotool gpo set "$GUID" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >/dev/null 2>&1 &&
	test_expect_code 137 env GPOTOOL_FAULT=gpo-between-renames "$GPOTOOL" gpo set "$GUID" "$KDC" Killed REG_DWORD 1 >/dev/null 2>&1 &&
	id=$(newest) && test "$(status $id)" = pending &&
	gpotool --state-dir other gpo set "$GUID" "$KDC" Other REG_DWORD 5 >out 2>err &&
	grep -q "not removed" err &&
	cp "$GUID/$REG" reg.later && cp "$GUID/GPT.INI" gpt.later &&
	test_must_fail 3 gpotool gpo set "$GUID" "$KDC" Mine REG_DWORD 6 >out 2>err &&
	test_one_line err "journal entry $id was interrupted" &&
	cmp reg.later "$GUID/$REG" && cmp gpt.later "$GUID/GPT.INI" &&
	grep -q "Other" "$GUID/$REG" &&
	gpotool journal abandon $id >/dev/null &&
	gpotool gpo set "$GUID" "$KDC" Mine REG_DWORD 6 >/dev/null 2>&1 &&
	grep -q "\"Other\"" "$GUID/$REG" && grep -q "\"Mine\"" "$GUID/$REG" &&
	! ls -a "$GUID" "$GUID/Machine/Preferences/Registry" | grep -q gpotool-
'

# A GPO write killed between its renames, with its staged GPT.INI gone: the next write must
# put Registry.xml back from the journal's before copy.
half_changed() {
	rm -rf "$GUID2" &&
	gpotool gpo new . --name rec2 --guid "$GUID2" >/dev/null &&
	gpotool gpo set "$GUID2" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >/dev/null 2>&1 &&
	cp "$GUID2/$REG" reg.orig && cp "$GUID2/GPT.INI" gpt.orig &&
	test_expect_code 137 env GPOTOOL_FAULT=gpo-between-renames "$GPOTOOL" gpo set "$GUID2" "$KDC" Killed REG_DWORD 1 >/dev/null 2>&1 &&
	newest >half.id &&
	rm "$GUID2"/.GPT.INI.gpotool-* &&
	cp "$GUID2/$REG" reg.half
}

test_expect_success 'a before copy that is not what the journal recorded (random bytes): refused, nothing written' '
	half_changed &&
	id=$(cat half.id) &&
	cp state/journal/$id/before-0.bin good.copy &&
	head -c 3000 /dev/urandom >state/journal/$id/before-0.bin &&
	test_must_fail 3 gpotool gpo set "$GUID2" "$KDC" Next REG_DWORD 7 >out 2>err &&
	test_one_line err "recovery refused, nothing was written: journal entry .$id.: the saved copy before-0.bin does not match its recorded SHA-256" &&
	cmp reg.half "$GUID2/$REG" && cmp gpt.orig "$GUID2/GPT.INI" &&
	test "$(status $id)" = pending
'

test_expect_success 'random bytes with a recorded hash edited to match: not a sound Registry.xml, refused, nothing written' '
	id=$(cat half.id) &&
	cp state/journal/$id/entry.json entry.saved &&
	python3 -c "
import hashlib, json, sys
p = sys.argv[1]
d = json.load(open(p))
d[\"targets\"][0][\"sha256_before\"] = hashlib.sha256(open(sys.argv[2], \"rb\").read()).hexdigest()
json.dump(d, open(p, \"w\"))" state/journal/$id/entry.json state/journal/$id/before-0.bin &&
	test_must_fail 3 gpotool gpo set "$GUID2" "$KDC" Next REG_DWORD 7 >out 2>err &&
	test_one_line err "journal entry $id: the saved copy of .*Registry.xml. is not a sound file; recovery refused, nothing was written" &&
	cmp reg.half "$GUID2/$REG" && cmp gpt.orig "$GUID2/GPT.INI" &&
	! ls -a "$GUID2/Machine/Preferences/Registry" | grep -q gpotool- &&
	test "$(status $id)" = pending
'

test_expect_success 'the true copy back: the next write puts Registry.xml back as it was, then makes its change' '
	id=$(cat half.id) &&
	cp entry.saved state/journal/$id/entry.json && cp good.copy state/journal/$id/before-0.bin &&
	gpotool --operator bob gpo set "$GUID2" "$KDC" Next REG_DWORD 7 >out 2>err &&
	grep -q "journal entry $id was interrupted; its targets were put back as they were before it" err &&
	test "$(status $id)" = rolled-back &&
	! grep -q "\"Killed\"" "$GUID2/$REG" && grep -q "\"Next\"" "$GUID2/$REG" &&
	grep -q "StrongCertificateBindingEnforcement" "$GUID2/$REG"
'

test_expect_success 'the entry recovery undid has its audit record: undone by recovery, by which command, before the new one' '
	id=$(cat half.id) &&
	test "$(records_naming $id)" = 1 &&
	python3 - "$id" <<-\PY &&
	import json, sys
	recs = [json.loads(l) for l in open("state/audit.log")]
	i = next(k for k, r in enumerate(recs) if r.get("journal") == sys.argv[1])
	r = recs[i]
	assert r["result"] == "undone by recovery", r["result"]
	assert r["command"] == "gpo set", r["command"]
	late = r["recorded_late"]
	assert "undone by recovery" in late["reason"], late
	assert "gpo set" in late["recovered_by"]["command"] and "Next" in late["recovered_by"]["command"], late
	assert late["recovered_by"]["operator"] == "bob", late
	assert recs[i + 1]["command"] == "gpo set" and recs[i + 1]["result"] == "changed", recs[i + 1]
	assert [f["path"] for f in r["files"]][1].endswith("GPT.INI"), r["files"]
	PY
	gpotool audit show >show && grep -q "gpo set -> undone by recovery (recorded late)" show &&
	gpotool audit verify >/dev/null
'

test_expect_success 'a hive write finished by recovery has its record: changed, recorded late, by the recovering command' '
	test_expect_code 137 env GPOTOOL_FAULT=hive-after-rename "$GPOTOOL" hive set s.hive "$KDC" After REG_DWORD 8 >/dev/null 2>&1 &&
	id=$(newest) && test "$(status $id)" = pending &&
	test "$(records_naming $id)" = 0 &&
	gpotool hive set s.hive "$KDC" Again REG_DWORD 9 >out 2>err &&
	test "$(status $id)" = complete &&
	test "$(records_naming $id)" = 1 &&
	python3 - "$id" <<-\PY &&
	import json, sys
	r = next(json.loads(l) for l in open("state/audit.log") if json.loads(l).get("journal") == sys.argv[1])
	assert r["result"] == "changed" and r["command"] == "hive set", r
	assert "finished by recovery" in r["recorded_late"]["reason"], r
	assert "Again" in r["recorded_late"]["recovered_by"]["command"], r
	assert any(c.get("name") == "After" for c in r["changes"]), r["changes"]
	PY
	gpotool audit verify >/dev/null
'

test_done
