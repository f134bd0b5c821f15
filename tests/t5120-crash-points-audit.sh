#!/bin/bash
# A gpotool killed at any point of a write leaves a state that the next run repairs, and
# that `audit verify` reports truthfully: a record a crash left owed is not a cut trail. Each
# kill point (GPOTOOL_FAULT, gpotool/core/fault.c) in turn: in the commit (hive-before-rename,
# hive-after-rename, gpo-before-renames, gpo-between-renames), between the journal's complete
# mark and the audit record (audit-before-append; and a SIGKILL by strace at the audit log's
# write), between the record and its head file (audit-before-head), between the record and the
# journal's note that it is there (audit-after-append), and inside recovery (recover-after-write,
# recover-after-mark; a rollback killed after its write no longer carries an audited note). After each: verify exits 0 (a warning names a record owed), the next
# write appends what is owed once, flagged "recorded_late", and verify exits 0 again.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
GUID='{2E4F6A8C-1B3D-4E5F-9A7B-6C8D0E2F4A61}'

newest() { ls state/journal | tail -n 1; }
status() { json_field "state/journal/$1/entry.json" 'd["status"]'; }
# records_naming ID: how many records name journal entry ID
records_naming() { python3 -c 'import json,sys; print(sum(1 for l in open("state/audit.log") if json.loads(l).get("journal") == sys.argv[1]))' "$1"; }
# late_reason ID: the recorded_late reason of the record naming ID ("-" when it is not late)
late_reason() { python3 -c '
import json, sys
r = [json.loads(l) for l in open("state/audit.log") if json.loads(l).get("journal") == sys.argv[1]][-1]
print((r.get("recorded_late") or {}).get("reason", "-"))' "$1"; }
nrec() { wc -l <state/audit.log; }
head_seq() { json_field state/audit.log.head 'd["seq"]'; }
# crash POINT ARGS...: gpotool ARGS killed at POINT (exit 137)
crash() { local p=$1; shift; test_expect_code 137 env GPOTOOL_FAULT=$p "$GPOTOOL" "$@" >/dev/null 2>&1; }
# verify_owed ID: audit verify exits 0 and warns that entry ID's record is owed
verify_owed() {
	gpotool audit verify >vout 2>verr &&
	grep -q "chain whole" vout &&
	grep -q "journal entry $1 has no audit record yet" verr
}
# verify_clean: audit verify exits 0 without a warning
verify_clean() { gpotool audit verify >vout 2>verr && grep -q "chain whole" vout && ! test -s verr; }

test_expect_success 'setup: a SYSTEM hive and a GPO, one write each' '
	gpotool hive new s.hive --kind SYSTEM >/dev/null &&
	gpotool hive import s.hive "$PROJECT_DIR/hives/dc01/SYSTEM.reg" >/dev/null &&
	gpotool gpo new . --name crash --guid "$GUID" >/dev/null &&
	gpotool gpo set "$GUID" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >/dev/null 2>&1 &&
	verify_clean
'

test_expect_success 'killed between the complete mark and the audit record: owed, not cut; the next write appends it late' '
	crash audit-before-append hive set s.hive "$KDC" A1 REG_DWORD 1 &&
	id=$(newest) && test "$(status $id)" = complete &&
	test "$(records_naming $id)" = 0 &&
	verify_owed $id &&
	gpotool hive set s.hive "$KDC" A2 REG_DWORD 2 >out 2>err &&
	grep -q "journal entry $id had no audit record (its writer was killed after the write, before it appended this record): appended it now" err &&
	test "$(records_naming $id)" = 1 &&
	late_reason $id | grep -q "killed after the write" &&
	verify_clean
'

if strace -o /dev/null true 2>/dev/null; then
	test_expect_success 'the same at the audit log write itself (SIGKILL by strace): the next write repairs it' '
		n=$(nrec) &&
		test_expect_code 137 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o /dev/null \
			-P "$TRASH/state/audit.log" -e trace=write -e inject=write:signal=SIGKILL:when=1 \
			"$GPOTOOL" hive set s.hive "$KDC" S1 REG_DWORD 1 >/dev/null 2>&1 &&
		id=$(newest) && test "$(status $id)" = complete &&
		test "$(nrec)" = "$n" &&
		verify_owed $id &&
		gpotool hive set s.hive "$KDC" S2 REG_DWORD 2 >out 2>err &&
		test "$(records_naming $id)" = 1 &&
		verify_clean
	'
else
	test_skip 'the same at the audit log write itself (SIGKILL by strace): the next write repairs it' 'no usable strace'
fi

test_expect_success 'killed after the record, before the journal notes it: the next write finds it, no second record' '
	crash audit-after-append hive set s.hive "$KDC" B1 REG_DWORD 1 &&
	id=$(newest) && test "$(records_naming $id)" = 1 &&
	! test -e state/journal/$id/audited &&
	verify_clean &&
	gpotool hive set s.hive "$KDC" B2 REG_DWORD 2 >out 2>err &&
	! grep -q "had no audit record" err &&
	test "$(records_naming $id)" = 1 &&
	test -e state/journal/$id/audited &&
	verify_clean
'

test_expect_success 'killed between the record and its head file: the head lags, verify accepts it, the next write updates it' '
	crash audit-before-head hive set s.hive "$KDC" C1 REG_DWORD 1 &&
	test "$(head_seq)" = $(( $(nrec) - 1 )) &&
	verify_clean &&
	gpotool hive set s.hive "$KDC" C2 REG_DWORD 2 >/dev/null 2>&1 &&
	test "$(head_seq)" = "$(nrec)" &&
	test "$(records_naming $(newest))" = 1 &&
	verify_clean
'

test_expect_success 'killed before the hive rename: verify is whole; the next write undoes it and records that, late' '
	crash hive-before-rename hive set s.hive "$KDC" D1 REG_DWORD 1 &&
	id=$(newest) && test "$(status $id)" = pending &&
	verify_clean &&
	gpotool hive set s.hive "$KDC" D2 REG_DWORD 2 >/dev/null 2>&1 &&
	test "$(status $id)" = rolled-back &&
	test "$(records_naming $id)" = 1 &&
	late_reason $id | grep -q "undone by recovery" &&
	verify_clean
'

test_expect_success 'killed after the hive rename: the next write finishes it and records that, late' '
	crash hive-after-rename hive set s.hive "$KDC" E1 REG_DWORD 1 &&
	id=$(newest) && test "$(status $id)" = pending &&
	verify_clean &&
	gpotool hive set s.hive "$KDC" E2 REG_DWORD 2 >/dev/null 2>&1 &&
	test "$(status $id)" = complete &&
	test "$(records_naming $id)" = 1 &&
	late_reason $id | grep -q "finished by recovery" &&
	verify_clean
'

test_expect_success 'a GPO killed before its renames, or between them: undone, or finished, and recorded' '
	crash gpo-before-renames gpo set "$GUID" "$KDC" F1 REG_DWORD 1 &&
	id1=$(newest) &&
	gpotool gpo set "$GUID" "$KDC" F2 REG_DWORD 2 >/dev/null 2>&1 &&
	test "$(status $id1)" = rolled-back && test "$(records_naming $id1)" = 1 &&
	crash gpo-between-renames gpo set "$GUID" "$KDC" F3 REG_DWORD 3 &&
	id2=$(newest) &&
	verify_clean &&
	gpotool gpo set "$GUID" "$KDC" F4 REG_DWORD 4 >/dev/null 2>&1 &&
	test "$(status $id2)" = complete && test "$(records_naming $id2)" = 1 &&
	late_reason $id2 | grep -q "finished by recovery" &&
	verify_clean
'

test_expect_success 'recovery killed after it put the files in place, before it marked the entry: the next write ends it' '
	crash gpo-between-renames gpo set "$GUID" "$KDC" G1 REG_DWORD 1 &&
	id=$(newest) &&
	crash recover-after-write gpo set "$GUID" "$KDC" G2 REG_DWORD 2 &&
	test "$(status $id)" = pending &&
	ls -a "$GUID" | grep -q "^\.GPT\.INI\.gpotool-" &&
	verify_clean &&
	gpotool gpo set "$GUID" "$KDC" G3 REG_DWORD 3 >/dev/null 2>err &&
	test "$(status $id)" = complete &&
	test "$(records_naming $id)" = 1 &&
	! ls -a "$GUID" | grep -q gpotool- &&
	verify_clean
'

# An entry whose record was appended and noted (its complete mark had failed: simulated by
# the note alone), rolled back by recovery that is killed after the write: the note must be
# gone already, or the trail keeps saying the change landed.
test_expect_success 'a rollback killed after it put the before copies back: the audited note is gone, the undo is recorded' '
	crash gpo-between-renames gpo set "$GUID" "$KDC" R1 REG_DWORD 1 &&
	id=$(newest) && test "$(status $id)" = pending &&
	rm "$GUID"/.GPT.INI.gpotool-* &&
	: >state/journal/$id/audited &&
	crash recover-after-write gpo set "$GUID" "$KDC" R2 REG_DWORD 2 &&
	test "$(status $id)" = pending &&
	! grep -q "\"R1\"" "$GUID/Machine/Preferences/Registry/Registry.xml" &&
	! test -e state/journal/$id/audited &&
	gpotool gpo set "$GUID" "$KDC" R3 REG_DWORD 3 >/dev/null 2>&1 &&
	test "$(status $id)" = rolled-back &&
	test "$(records_naming $id)" = 1 &&
	late_reason $id | grep -q "undone by recovery" &&
	verify_clean
'

test_expect_success 'recovery killed after it marked the entry, before its record: owed; the next write appends it' '
	crash gpo-between-renames gpo set "$GUID" "$KDC" H1 REG_DWORD 1 &&
	id=$(newest) &&
	crash recover-after-mark gpo set "$GUID" "$KDC" H2 REG_DWORD 2 &&
	test "$(status $id)" = complete &&
	test "$(records_naming $id)" = 0 &&
	verify_owed $id &&
	gpotool gpo set "$GUID" "$KDC" H3 REG_DWORD 3 >/dev/null 2>&1 &&
	test "$(records_naming $id)" = 1 &&
	late_reason $id | grep -q "finished by recovery" &&
	verify_clean
'

test_expect_success 'a refused command killed before its record leaves nothing to repair' '
	n=$(nrec) &&
	crash audit-before-append stage kdc-compat --hive "$GUID/GPT.INI" &&
	test "$(nrec)" = "$n" &&
	verify_clean
'

test_expect_success 'in the end: every finished entry is named by exactly one record, and the chain is whole' '
	for e in $(ls state/journal); do
		s=$(status $e) &&
		case $s in
		complete|rolled-back) test "$(records_naming $e)" = 1 || { echo "$e ($s): $(records_naming $e) records"; exit 1; } ;;
		esac || exit 1
	done &&
	verify_clean &&
	test "$(head_seq)" = "$(nrec)"
'

test_done
