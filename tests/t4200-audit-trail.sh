#!/bin/bash
# The audit trail: STATE/audit.log, one hash-chained JSON line per writing command (hive
# set/delete/import/new, gpo new/set/delete, stage, rollback), whether it wrote, changed nothing,
# was refused or failed; none for read-only commands. `audit verify` names the first record that
# was edited, deleted, moved, inserted or torn, and a trail cut short at its end (through the
# journal); `audit show` filters by --since and --ticket; --audit-log FILE keeps an identical
# copy; concurrent writers (flock + O_APPEND) keep the chain whole.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
GUID='{6A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D}'
DC_CFG=$(sample_image dc01)
LOG=state/audit.log
GENESIS=0000000000000000000000000000000000000000000000000000000000000000
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d tomorrow +%F)
FIELDS="seq prev time operator uid user host ticket command command_line target template as_of expiry result exit error journal rollback_of files changes hash"

# a pyenv shim costs half a second per start; the system interpreter, when there is one, does not
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi

# nrec [LOG]: the number of lines of an audit log (0 when there is none)
nrec() { if [ -e "${1:-$LOG}" ]; then wc -l <"${1:-$LOG}"; else echo 0; fi; }

# field [-f LOG] N PATH...: fields of record N (1-based; -1 is the last) of LOG (the state dir's
# audit.log), one a line, by dotted path (files.0.path); strings print as they are, anything else
# as JSON (null, true, 8, {...})
field() {
	local log=$LOG
	if [ "$1" = -f ]; then log=$2; shift 2; fi
	python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
n = int(sys.argv[2])
rec = json.loads(lines[n - 1 if n > 0 else n])
for path in sys.argv[3:]:
    v = rec
    for p in path.split(".") if path else []:
        v = v[int(p)] if isinstance(v, list) else v[p]
    print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$log" "$@"
}

# lines ARG...: the arguments one a line (what field prints, to test_cmp against)
lines() { printf "%s\n" "$@"; }

# chain_ok [LOG]: checks the chain independently of gpotool: seq 1..N, prev the hash before (64
# zeros first), seq and prev the first fields and hash the last, and each hash the SHA-256 of the
# line with ,"hash":"..."} replaced by }; every record has every field.
chain_ok() {
	python3 -c '
import hashlib, json, sys
want = sys.argv[2].split()
prev = "0" * 64
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "the log does not end in a newline"
for n, line in enumerate(text.split("\n")[:-1], 1):
    d = json.loads(line)
    keys = list(d)
    assert keys[:2] == ["seq", "prev"] and keys[-1] == "hash", "line %d: field order %s" % (n, keys)
    assert sorted(keys) == sorted(want), "line %d: fields %s" % (n, sorted(keys))
    suffix = ",\"hash\":\"%s\"}" % d["hash"]
    assert line.endswith(suffix), "line %d does not end in its hash" % n
    covered = line[:-len(suffix)] + "}"
    assert hashlib.sha256(covered.encode()).hexdigest() == d["hash"], "line %d: hash" % n
    assert d["seq"] == n, "line %d: seq %s" % (n, d["seq"])
    assert d["prev"] == prev, "line %d: prev" % n
    prev = d["hash"]' "${1:-$LOG}" "$FIELDS"
}

# journal_id OUT: the ID of the "journal: ID" line of a write's output
journal_id() { sed -n "s/^journal: //p" "$1" | tail -n 1; }
journal_count() { ls "${1:-state}/journal" 2>/dev/null | wc -l; }

# tamper NAME PYTHON: a copy of the state dir at NAME whose audit.log lines L (a list of str,
# without newlines) the Python statements rewrite; the log is written back with a newline after
# each line unless the statements set tail (then tail is appended as is).
tamper() {
	rm -rf "$1" && cp -a state "$1" &&
	python3 -c '
import hashlib, json, sys
path = sys.argv[1] + "/audit.log"
L = open(path).read().split("\n")[:-1]
tail = ""
def rehash(line):
    d = json.loads(line); d.pop("hash")
    cov = json.dumps(d, separators=(",", ":"), ensure_ascii=False)
    return cov[:-1] + ",\"hash\":\"%s\"}" % hashlib.sha256(cov.encode()).hexdigest()
exec(sys.argv[2])
open(path, "w").write("".join(l + "\n" for l in L) + tail)' "$1" "$2"
}

# broken_at DIR LINE RECORD PATTERN: audit verify on DIR exits 1, prints nothing on stdout, and
# one line on stderr naming "line LINE (record RECORD): " and matching PATTERN
broken_at() {
	test_expect_code 1 gpotool --state-dir "$1" audit verify >out 2>err &&
	! test -s out &&
	test_one_line err "'$1/audit.log' line $2 (record $3): " &&
	grep -Eq -- "$4" err
}

# exit_3_or_4 CMD...: CMD is refused (3) or fails (4), not a crash, not a success
exit_3_or_4() {
	"$@"
	local rc=$?
	test $rc = 3 || test $rc = 4 || { echo "'$*' exited $rc, expected 3 or 4" >&2; return 1; }
}

# ---- records of the writing commands ----

test_expect_success 'setup: copies of the dc01 sample hives' '
	test -f "$DC_CFG/SYSTEM" && test -f "$DC_CFG/SOFTWARE" &&
	cp "$DC_CFG/SYSTEM" pristine.SYSTEM && cp "$DC_CFG/SOFTWARE" pristine.SOFTWARE &&
	cp pristine.SYSTEM dc.SYSTEM && cp pristine.SOFTWARE dc.SOFTWARE
'

test_expect_success 'read-only commands on a fresh state dir write no audit log' '
	gpotool templates >/dev/null &&
	gpotool templates kdc-compat >/dev/null &&
	gpotool hive info dc.SYSTEM >/dev/null &&
	gpotool hive get dc.SYSTEM "HKLM\\SYSTEM\\Select" >/dev/null &&
	gpotool hive export dc.SYSTEM "$KDC" >/dev/null &&
	test_expect_code 1 gpotool validate kdc-compat --hive dc.SYSTEM >/dev/null 2>&1 &&
	gpotool journal list >/dev/null &&
	gpotool audit show >/dev/null &&
	gpotool audit verify >out &&
	echo "'\''$TRASH/state/audit.log'\'': 0 records, chain whole; last record 0, hash $GENESIS" >expect &&
	test_cmp expect out &&
	! test -e $LOG
'

test_expect_success 'a stage that writes: one record with every field, seq 1 chained to 64 zeros' '
	gpotool --ticket CHG42 --operator alice stage kdc-compat --hive dc.SYSTEM >out 2>err &&
	id=$(journal_id out) && test -n "$id" &&
	test "$(nrec)" = 1 &&
	field 1 seq prev operator ticket uid user host command target template as_of expiry \
		result exit error journal rollback_of >actual &&
	lines 1 $GENESIS alice CHG42 "$(id -u)" "$(id -un)" "$(uname -n)" stage "$TRASH/dc.SYSTEM" kdc-compat \
		"$TODAY" "{\"date\": \"2025-09-09\", \"days\": $(( ($(date -u -d 2025-09-09 +%s) - $(date -u -d "$TODAY" +%s)) / 86400 )), \"expired\": true}" \
		changed 0 null "$id" null >expect &&
	test_cmp expect actual &&
	field 1 command_line | grep -q -- "--ticket CHG42 --operator alice stage kdc-compat --hive dc.SYSTEM$" &&
	chain_ok
'

test_expect_success 'its time is now (UTC), its files the SHA-256 before and after, its changes the value' '
	t=$(field 1 time) &&
	echo "$t" | grep -Eq "^${TODAY}T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$" &&
	t=$(date -u -d "$t" +%s) && now=$(date -u +%s) &&
	test $((now - t)) -ge 0 && test $((now - t)) -lt 600 &&
	field 1 files.0.path files.0.sha256_before files.0.sha256_after changes.0.action changes.0.name \
		changes.0.path changes.0.old changes.0.new.type changes.0.new.hex >actual &&
	lines "$TRASH/dc.SYSTEM" "$(sha256sum <pristine.SYSTEM | cut -d" " -f1)" "$(sha256sum <dc.SYSTEM | cut -d" " -f1)" \
		set-value $SCBE "HKLM\\SYSTEM\\ControlSet001\\Services\\Kdc\\$SCBE" null REG_DWORD 01000000 >expect &&
	test_cmp expect actual &&
	test "$(field 1 "files" | json_field /dev/stdin "len(d)")" = 1
'

test_expect_success 're-staging: a "no change" record, no journal, no files; operator is the user' '
	n=$(journal_count) &&
	gpotool stage kdc-compat --hive dc.SYSTEM >out 2>err &&
	grep -q "^no change" out &&
	test "$(journal_count)" = "$n" &&
	test "$(nrec)" = 2 &&
	field 2 seq result exit journal files changes operator ticket prev >actual &&
	lines 2 "no change" 0 null "[]" "[]" "$(id -un)" null "$(field 1 hash)" >expect &&
	test_cmp expect actual &&
	chain_ok
'

test_expect_success 'SUDO_USER names the operator (user stays the real one); --operator wins over it' '
	SUDO_USER=bob gpotool hive set dc.SYSTEM "$KDC" AuditA REG_DWORD 1 >out 2>err &&
	field -1 operator user command result journal >actual &&
	lines bob "$(id -un)" "hive set" changed "$(journal_id out)" >expect &&
	test_cmp expect actual &&
	SUDO_USER=bob gpotool --operator carol --ticket INC-7 hive set dc.SYSTEM "$KDC" AuditA REG_DWORD 2 >out 2>err &&
	field -1 operator ticket changes.0.old.hex changes.0.new.hex >actual &&
	lines carol INC-7 01000000 02000000 >expect &&
	test_cmp expect actual &&
	test "$(nrec)" = 4
'

test_expect_success 'a refused stage (pfx-sid where no connector is installed) is recorded: refused, exit 3, the error' '
	cp dc.SOFTWARE soft.before &&
	n=$(journal_count) &&
	test_expect_code 3 gpotool --ticket CHG43 stage pfx-sid --hive dc.SOFTWARE >out 2>err &&
	cmp soft.before dc.SOFTWARE &&
	test "$(journal_count)" = "$n" &&
	test "$(nrec)" = 5 &&
	field -1 seq command result exit ticket journal files >actual &&
	lines 5 stage refused 3 CHG43 null "[]" >expect &&
	test_cmp expect actual &&
	grep -v "warning" err | sed "s/^gpotool: //" >expect &&
	field -1 error >actual &&
	test_cmp expect actual &&
	chain_ok
'

test_expect_success 'a stage on a missing file is recorded: usage error, exit 2, the error names the file' '
	test_expect_code 2 gpotool stage kdc-enforce --hive no-such.SYSTEM >out 2>err &&
	! test -e no-such.SYSTEM &&
	test "$(nrec)" = 6 &&
	field -1 seq result exit journal >actual &&
	lines 6 "usage error" 2 null >expect &&
	test_cmp expect actual &&
	field -1 error | grep -q "no-such.SYSTEM"
'

test_expect_success 'usage error (2), dry run (0) and not as expected (1) are recorded as such' '
	test_expect_code 2 gpotool hive set dc.SYSTEM "$KDC" >out 2>err &&
	field -1 command result exit >actual &&
	lines "hive set" "usage error" 2 >expect && test_cmp expect actual &&
	field -1 error | grep -q usage &&
	test_expect_code 2 gpotool stage kdc-enforce --hive dc.SYSTEM --no-such-option >out 2>err &&
	test "$(field -1 result)" = "usage error" &&
	cp dc.SYSTEM sys.before &&
	gpotool stage kdc-enforce --hive dc.SYSTEM --dry-run >out 2>err &&
	cmp sys.before dc.SYSTEM &&
	field -1 result exit journal changes.0.new.hex >actual &&
	lines "dry run" 0 null 02000000 >expect && test_cmp expect actual &&
	test_expect_code 1 gpotool hive delete dc.SYSTEM "$KDC" NoSuchValue >out 2>err &&
	field -1 command result exit >actual &&
	lines "hive delete" "not as expected" 1 >expect && test_cmp expect actual &&
	test "$(nrec)" = 10 &&
	chain_ok
'

test_expect_success 'hive import/new/delete, gpo new/set/delete and rollback each append one record' '
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\ControlSet001\\\\Services\\\\Kdc]\r\n\"Imported\"=dword:00000007\r\n" >i.reg &&
	for cmd in "hive import dc.SYSTEM i.reg" "hive new new.hive --kind SYSTEM" \
		"hive delete dc.SYSTEM $KDC AuditA" "gpo new . --name audit --guid $GUID" \
		"gpo set $GUID $KDC $SCBE REG_DWORD 2" "gpo delete $GUID $KDC $SCBE"; do
		n=$(nrec) &&
		gpotool $cmd >out 2>err &&
		test "$(nrec)" = $((n + 1)) &&
		set -- $cmd && field -1 command result >actual &&
		lines "$1 $2" changed >expect && test_cmp expect actual || { echo "$cmd: no record" >&2; exit 1; }
	done &&
	test "$(field -1 journal)" = "$(journal_id out)" &&
	test "$(field -1 files | json_field /dev/stdin "len(d)")" = 2 &&
	del=$(journal_id out) &&
	gpotool --ticket CHG44 rollback "$del" >out 2>err &&
	test "$(nrec)" = 17 &&
	field -1 command result rollback_of journal ticket >actual &&
	lines rollback changed "$del" "$(journal_id out)" CHG44 >expect && test_cmp expect actual &&
	test "$(journal_id out)" != "$del" &&
	first=$(field 1 journal) &&
	test_expect_code 3 gpotool rollback "$first" >out 2>err &&
	test "$(nrec)" = 18 &&
	field -1 result rollback_of journal >actual &&
	lines refused "$first" null >expect && test_cmp expect actual &&
	chain_ok
'

test_expect_success 'the records of a refused stage, a failed stage and a gpo new name their target, by its absolute path' '
	field 5 command target >actual && lines stage "$TRASH/dc.SOFTWARE" >expect && test_cmp expect actual &&
	field 6 command target >actual && lines stage "$TRASH/no-such.SYSTEM" >expect && test_cmp expect actual &&
	field 14 command >actual && lines "gpo new" >expect && test_cmp expect actual &&
	field 14 target | grep -qF "$GUID"
'

test_expect_success 'read-only commands append nothing to a trail that has records' '
	cp $LOG log.before &&
	gpotool hive get dc.SYSTEM "$KDC" $SCBE >/dev/null &&
	gpotool hive info dc.SYSTEM >/dev/null &&
	gpotool hive export dc.SYSTEM "$KDC" >/dev/null &&
	gpotool validate kdc-compat --hive dc.SYSTEM >/dev/null 2>&1 &&
	test_expect_code 1 gpotool validate kdc-enforce --hive dc.SYSTEM >/dev/null 2>&1 &&
	gpotool journal list >/dev/null &&
	gpotool journal show "$(field 1 journal)" >/dev/null &&
	gpotool gpo show "$GUID" >/dev/null &&
	gpotool gpo ad "$GUID" --domain example.test >/dev/null 2>&1 &&
	gpotool templates >/dev/null &&
	gpotool audit verify >/dev/null &&
	gpotool audit verify --log $LOG >/dev/null &&
	{ gpotool audit show >/dev/null 2>&1; gpotool --json audit show >/dev/null 2>&1; true; } &&
	test_expect_code 2 gpotool audit show --since yesterday >/dev/null 2>&1 &&
	cmp log.before $LOG
'

# ---- audit verify ----

test_expect_success 'audit verify: exit 0, one line with the count and the last hash' '
	gpotool audit verify >out 2>err &&
	n=$(nrec) && test $n = 18 &&
	echo "'\''$TRASH/state/audit.log'\'': $n records, chain whole; last record $n, hash $(field -1 hash)" >expect &&
	test_cmp expect out &&
	gpotool audit verify --log $LOG >out 2>err &&
	grep -q "^'\''$LOG'\'': $n records, chain whole; last record $n, hash $(field -1 hash)$" out &&
	chain_ok
'

test_expect_success 'an edited field (result "refused" made "changed"): line 5 named, content does not match its hash' '
	tamper t-edit "L[4] = L[4].replace(\"\\\"result\\\":\\\"refused\\\"\", \"\\\"result\\\":\\\"changed\\\"\")" &&
	! cmp -s $LOG t-edit/audit.log &&
	broken_at t-edit 5 5 "does not match its hash" &&
	sed "2s/\"operator\":\"$(id -un)\"/\"operator\":\"mallory\"/" $LOG >edited.log &&
	! cmp -s $LOG edited.log &&
	test_expect_code 1 gpotool audit verify --log edited.log 2>err &&
	test_one_line err "line 2 (record 2): .*edited"
'

test_expect_success 'an edited record whose hash was recomputed: the next line does not chain' '
	tamper t-rehash "L[1] = rehash(L[1].replace(\"\\\"ticket\\\":null\", \"\\\"ticket\\\":\\\"CHG99\\\"\"))" &&
	test_expect_code 0 python3 -c "import json; assert json.loads(open(\"t-rehash/audit.log\").read().split(\"\\n\")[1])[\"ticket\"] == \"CHG99\"" &&
	broken_at t-rehash 3 3 "does not chain"
'

test_expect_success 'a deleted middle record: the line after it is named (sequence number)' '
	tamper t-del "del L[2]" &&
	test "$(nrec t-del/audit.log)" = 17 &&
	broken_at t-del 3 3 "sequence number is 4, not 3"
'

test_expect_success 'two records swapped: the first of them is named' '
	tamper t-swap "L[6], L[7] = L[7], L[6]" &&
	broken_at t-swap 7 7 "sequence number is 8, not 7"
'

test_expect_success 'a record copied after itself, or to the end: the copy is named' '
	tamper t-dup "L.insert(2, L[1])" &&
	broken_at t-dup 3 3 "sequence number is 2, not 3" &&
	tamper t-dup2 "L.append(L[-1])" &&
	broken_at t-dup2 19 19 "sequence number is 18, not 19"
'

test_expect_success 'a forged record with the right seq and its own valid hash: does not chain' '
	tamper t-forge "d = json.loads(L[-1]); d[\"seq\"] = 19; d[\"prev\"] = \"0\" * 64; d[\"operator\"] = \"mallory\"; L.append(rehash(json.dumps(d, separators=(\",\", \":\"))))" &&
	test "$(field -f t-forge/audit.log -1 seq)" = 19 &&
	broken_at t-forge 19 19 "does not chain"
'

test_expect_success 'garbage, a torn line, or a record without its hash: that line is named' '
	tamper t-garbage "L.append(\"hello, world\")" &&
	broken_at t-garbage 19 19 "not a JSON record" &&
	tamper t-torn "tail = L[-1][:len(L[-1]) // 2]" &&
	broken_at t-torn 19 19 "a torn last line .*crash or a full disk, not an edit" &&
	tamper t-nohash "L[9] = L[9][:L[9].rindex(\",\\\"hash\\\"\")] + \"}\"" &&
	broken_at t-nohash 10 10 "no hash"
'

test_expect_success 'a write after a torn last line cuts it off, says so in its record (bytes, SHA-256), and the chain is whole' '
	tamper t-torn2 "tail = L[-1][:40]" &&
	broken_at t-torn2 19 19 "a torn last line" &&
	torn_sha=$(tail -n 1 t-torn2/audit.log | head -c 40 | sha256sum | cut -d" " -f1) &&
	test "$(tail -c 40 t-torn2/audit.log)" = "$(tail -n 1 $LOG | head -c 40)" &&
	gpotool --state-dir t-torn2 hive new torn2.hive >/dev/null &&
	test "$(nrec t-torn2/audit.log)" = 19 &&
	test "$(field -f t-torn2/audit.log 19 command)" = "hive new" &&
	test "$(field -f t-torn2/audit.log 19 seq)" = 19 &&
	test "$(field -f t-torn2/audit.log 19 prev)" = "$(field -1 hash)" &&
	test "$(field -f t-torn2/audit.log 19 torn_tail_removed.bytes)" = 40 &&
	test "$(field -f t-torn2/audit.log 19 torn_tail_removed.sha256)" = "$torn_sha" &&
	test "$(json_field t-torn2/audit.log.head "d[\"seq\"]")" = 19 &&
	test "$(json_field t-torn2/audit.log.head "d[\"hash\"]")" = "$(field -f t-torn2/audit.log 19 hash)" &&
	gpotool --state-dir t-torn2 audit verify >out && grep -q "19 records, chain whole" out &&
	gpotool --state-dir t-torn2 audit show >show && grep -q "torn tail    40 bytes cut off the log before this record (SHA-256 $torn_sha)" show &&
	gpotool --state-dir t-torn2 hive new torn3.hive >/dev/null &&
	test "$(nrec t-torn2/audit.log)" = 20 &&
	! field -f t-torn2/audit.log 20 torn_tail_removed >/dev/null 2>&1
'

test_expect_success 'the last record cut off the end: the journal names the write it recorded' '
	gpotool hive set dc.SYSTEM "$KDC" AuditB REG_DWORD 3 >out 2>err &&
	id=$(journal_id out) && test -n "$id" &&
	test "$(field -1 journal)" = "$id" &&
	gpotool audit verify >/dev/null &&
	tamper t-trunc "del L[-1]" &&
	test_expect_code 1 gpotool --state-dir t-trunc audit verify >out 2>err &&
	! test -s out &&
	test_one_line err "journal entry $id finished a write but no record names it"
'

test_expect_success 'with --log FILE the chain and the head file beside it are checked, not the journal' '
	test_expect_code 1 gpotool --state-dir t-trunc audit verify --log t-trunc/audit.log >out 2>err &&
	test_one_line err "head file says the trail ends at record 19 (hash $(field -1 hash)), but it ends at record 18" &&
	mv t-trunc/audit.log.head t-trunc/head.saved &&
	gpotool --state-dir t-trunc audit verify --log t-trunc/audit.log >out 2>err &&
	grep -q "18 records, chain whole; last record 18" out &&
	mv t-trunc/head.saved t-trunc/audit.log.head
'

test_expect_success 'the whole trail removed (or emptied) while the journal holds writes: exit 1' '
	rm -rf t-gone && cp -a state t-gone && rm t-gone/audit.log &&
	test_expect_code 1 gpotool --state-dir t-gone audit verify >out 2>err &&
	test_one_line err "journal entry .* finished a write but no record names it" &&
	: >t-gone/audit.log &&
	test_expect_code 1 gpotool --state-dir t-gone audit verify >out 2>err &&
	test_one_line err "finished a write but no record names it"
'

test_expect_success 'the real trail is still whole' '
	gpotool audit verify >/dev/null && chain_ok
'

# ---- audit show ----

test_expect_success 'setup: a trail of four writes under two tickets, and a copy with other dates' '
	cp pristine.SYSTEM sh.SYSTEM &&
	gpotool --state-dir sh --ticket CHG-1 --operator alice stage kdc-compat --hive sh.SYSTEM >sh1.out 2>&1 &&
	gpotool --state-dir sh --ticket CHG-2 --operator bob hive set sh.SYSTEM "$KDC" X REG_DWORD 1 >sh2.out 2>&1 &&
	gpotool --state-dir sh --ticket CHG-1 --operator alice stage kdc-compat --hive sh.SYSTEM >sh3.out 2>&1 &&
	gpotool --state-dir sh --operator carol hive set sh.SYSTEM "$KDC" X REG_DWORD 2 >sh4.out 2>&1 &&
	test "$(nrec sh/audit.log)" = 4 &&
	python3 -c "
import sys
L = open(\"sh/audit.log\").read().split(\"\\n\")[:-1]
times = [\"2025-01-15T10:00:00Z\", \"2025-06-01T00:00:00Z\", \"2025-06-01T23:59:59Z\"]
for i, t in enumerate(times):
    L[i] = L[i].replace(L[i][L[i].index(\"\\\"time\\\":\"):L[i].index(\"\\\",\\\"operator\\\"\")], \"\\\"time\\\":\\\"\" + t)
open(\"dated.log\", \"w\").write(\"\".join(l + \"\\n\" for l in L))
" &&
	test "$(field -f dated.log 1 time)" = 2025-01-15T10:00:00Z &&
	test "$(field -f dated.log 3 time)" = 2025-06-01T23:59:59Z &&
	test "$(field -f dated.log 4 time)" = "$(field -f sh/audit.log 4 time)"
'

# shown FILE: the sequence numbers of the blocks audit show printed, on one line
shown() { sed -n "s/^#\([0-9]*\) .*/\1/p" "$1" | tr "\n" " "; }

test_expect_success 'audit show: one block per record, who, ticket, command, result, target, change, journal' '
	gpotool --state-dir sh audit show >out 2>err &&
	test "$(shown out)" = "1 2 3 4 " &&
	grep -qx "#1 $(field -f sh/audit.log 1 time) alice, ticket CHG-1: stage -> changed (exit 0)" out &&
	grep -qx "#2 $(field -f sh/audit.log 2 time) bob, ticket CHG-2: hive set -> changed (exit 0)" out &&
	grep -qx "#3 $(field -f sh/audit.log 3 time) alice, ticket CHG-1: stage -> no change (exit 0)" out &&
	grep -qx "#4 $(field -f sh/audit.log 4 time) carol: hive set -> changed (exit 0)" out &&
	grep -Eq "^ +target +$TRASH/sh.SYSTEM$" out &&
	grep -Eq "^ +template +kdc-compat$" out &&
	grep -Eq "^ +journal +$(journal_id sh1.out)$" out &&
	grep -Eq "^ +journal +$(journal_id sh4.out)$" out &&
	grep -q "Kdc.$SCBE: (absent) -> REG_DWORD 1" out &&
	grep -q "Kdc.X: REG_DWORD 1 (0x00000001) -> REG_DWORD 2" out
'

test_expect_success 'audit show --since: records from that UTC day on' '
	gpotool audit show --log dated.log --since 2025-06-01 >out 2>err &&
	test "$(shown out)" = "2 3 4 " &&
	gpotool audit show --log dated.log --since 2025-06-02 >out 2>err &&
	test "$(shown out)" = "4 " &&
	gpotool audit show --log dated.log --since 2025-01-15 >out 2>err &&
	test "$(shown out)" = "1 2 3 4 " &&
	gpotool audit show --log dated.log --since "$TODAY" >out 2>err &&
	test "$(shown out)" = "4 " &&
	gpotool audit show --log dated.log --since "$TOMORROW" >out 2>err &&
	test "$(shown out)" = "" &&
	grep -q "no audit records match" out
'

test_expect_success 'audit show --ticket, alone and with --since' '
	gpotool --state-dir sh audit show --ticket CHG-1 >out 2>err &&
	test "$(shown out)" = "1 3 " &&
	gpotool --state-dir sh audit show --ticket CHG-2 >out 2>err &&
	test "$(shown out)" = "2 " &&
	gpotool audit show --log dated.log --ticket CHG-1 --since 2025-06-01 >out 2>err &&
	test "$(shown out)" = "3 " &&
	gpotool --state-dir sh audit show --ticket CHG-3 >out 2>err &&
	test "$(shown out)" = "" &&
	grep -q "no audit records match" out
'

test_expect_success 'a bad --since is a usage error (exit 2), one line' '
	for d in yesterday 2025-13-01 2025-02-30 2025-6-1 ""; do
		test_expect_code 2 gpotool --state-dir sh audit show --since "$d" >out 2>err &&
		test_one_line err "since" || { echo "--since \"$d\"" >&2; exit 1; }
	done
'

test_expect_success '--json audit show: one object, "records" the records as written' '
	gpotool --state-dir sh --json audit show >out 2>err &&
	test "$(wc -l <out)" = 1 &&
	python3 -c "
import json
d = json.load(open(\"out\"))
want = [json.loads(l) for l in open(\"sh/audit.log\")]
assert d[\"records\"] == want, d[\"records\"]
" &&
	gpotool --state-dir sh --json audit show --ticket CHG-1 >out 2>err &&
	test "$(json_field out "[r[\"seq\"] for r in d[\"records\"]]")" = "[1, 3]" &&
	gpotool --json audit show --log dated.log --since 2025-06-02 >out 2>err &&
	test "$(json_field out "[r[\"seq\"] for r in d[\"records\"]]")" = "[4]"
'

test_expect_success 'audit show on the main trail (refused, failed, usage-error, hive new and gpo new records): every record' '
	gpotool audit show >out 2>err; rc=$?
	test $rc = 0 || { echo "audit show exited $rc:" >&2; cat err >&2; exit 1; }
	test "$(shown out)" = "$(seq 1 $(nrec) | tr "\n" " ")" &&
	grep -q "^#5 .*, ticket CHG43: stage -> refused (exit 3)$" out &&
	grep -q "^#6 .*: stage -> usage error (exit 2)$" out
'

test_expect_success '--json audit show on the main trail: every record' '
	gpotool --json audit show >out 2>err; rc=$?
	test $rc = 0 || { echo "--json audit show exited $rc:" >&2; cat err >&2; exit 1; }
	test "$(json_field out "len(d[\"records\"])")" = "$(nrec)" &&
	test "$(json_field out "d[\"records\"][4][\"result\"]")" = refused
'

# ---- --audit-log, --syslog ----

test_expect_success '--audit-log FILE: the same lines, byte for byte, as the state log; 0600; it verifies' '
	cp pristine.SYSTEM al.SYSTEM &&
	gpotool --state-dir al --audit-log copy.log --ticket CHG-5 stage kdc-enforce --hive al.SYSTEM >/dev/null 2>&1 &&
	gpotool --state-dir al --audit-log copy.log stage kdc-enforce --hive al.SYSTEM >/dev/null 2>&1 &&
	test_expect_code 3 gpotool --state-dir al --audit-log copy.log stage pfx-sid --hive dc.SOFTWARE >/dev/null 2>&1 &&
	test_expect_code 2 gpotool --state-dir al --audit-log copy.log hive set al.SYSTEM >/dev/null 2>&1 &&
	test "$(nrec al/audit.log)" = 4 &&
	cmp al/audit.log copy.log &&
	test "$(stat -c %a copy.log)" = 600 &&
	gpotool audit verify --log copy.log >out &&
	grep -q "4 records, chain whole" out
'

test_expect_success '--audit-log on a trail that has records: each new line is appended to both' '
	gpotool --audit-log mid.log hive set dc.SYSTEM "$KDC" AuditC REG_DWORD 1 >/dev/null 2>&1 &&
	gpotool --audit-log mid.log hive set dc.SYSTEM "$KDC" AuditC REG_DWORD 1 >/dev/null 2>&1 &&
	test "$(nrec mid.log)" = 2 &&
	tail -n 2 $LOG >expect &&
	test_cmp expect mid.log
'

test_expect_success '--audit-log naming a directory or a symlink: refused before anything changes' '
	mkdir copy-dir &&
	cp dc.SYSTEM sys.before && n=$(journal_count) &&
	test_must_fail gpotool --audit-log copy-dir hive set dc.SYSTEM "$KDC" AuditD REG_DWORD 1 >out 2>err &&
	test_one_line err "copy-dir" &&
	ln -s copy.log copy-link &&
	cp copy.log copy.before &&
	test_expect_code 3 gpotool --audit-log copy-link hive set dc.SYSTEM "$KDC" AuditD REG_DWORD 1 >out 2>err &&
	test_one_line err "symbolic link" &&
	cmp copy.before copy.log &&
	cmp sys.before dc.SYSTEM &&
	test "$(journal_count)" = "$n"
'

test_expect_success '--syslog with no syslog daemon: the write is done and recorded' '
	r=$(nrec) &&
	gpotool --syslog --ticket CHG-6 hive set dc.SYSTEM "$KDC" AuditE REG_DWORD 1 >out 2>err &&
	test "$(nrec)" = $((r + 1)) &&
	test "$(field -1 ticket)" = CHG-6 &&
	test "$(field -1 result)" = changed &&
	test "$(field -1 journal)" = "$(journal_id out)" &&
	gpotool hive get dc.SYSTEM "$KDC" AuditE >v && echo dword:00000001 >expect && test_cmp expect v &&
	test_expect_code 1 gpotool --syslog hive delete dc.SYSTEM "$KDC" NoSuch >/dev/null 2>&1 &&
	test "$(nrec)" = $((r + 2)) &&
	gpotool audit verify >/dev/null
'

# ---- permissions, and a trail that cannot be written ----

test_expect_success 'the audit log is 0600 and a new state dir 0700, even under umask 000' '
	test "$(stat -c %a state)" = 700 &&
	test "$(stat -c %a $LOG)" = 600 &&
	(umask 000 && gpotool --state-dir perm/sub --audit-log perm.copy hive new perm.hive >/dev/null) &&
	test "$(stat -c %a perm)" = 700 &&
	test "$(stat -c %a perm/sub)" = 700 &&
	test "$(stat -c %a perm/sub/audit.log)" = 600 &&
	test "$(stat -c %a perm.copy)" = 600
'

test_expect_success 'audit.log is a directory: a write is refused (exit 3 or 4), target and journal unchanged' '
	mkdir -p ro-dir/audit.log &&
	cp pristine.SYSTEM ro.SYSTEM &&
	exit_3_or_4 gpotool --state-dir ro-dir stage kdc-enforce --hive ro.SYSTEM >out 2>err &&
	cmp pristine.SYSTEM ro.SYSTEM &&
	test "$(journal_count ro-dir)" = 0 &&
	test_one_line err "audit log" &&
	! grep -q "^journal: " out &&
	exit_3_or_4 gpotool --state-dir ro-dir hive new ro.hive >out 2>err &&
	! test -e ro.hive
'

test_expect_success 'audit.log is a symlink (to a file, or dangling): refused, nothing changed, the link target untouched' '
	mkdir ln-dir && echo "not a trail" >elsewhere.txt && cp elsewhere.txt elsewhere.before &&
	ln -s ../elsewhere.txt ln-dir/audit.log &&
	exit_3_or_4 gpotool --state-dir ln-dir hive set ro.SYSTEM "$KDC" $SCBE REG_DWORD 2 >out 2>err &&
	test_one_line err "audit log" &&
	cmp pristine.SYSTEM ro.SYSTEM &&
	cmp elsewhere.before elsewhere.txt &&
	test "$(journal_count ln-dir)" = 0 &&
	mkdir ln2 && ln -s nowhere ln2/audit.log &&
	exit_3_or_4 gpotool --state-dir ln2 gpo new . --name nope --guid "{11111111-2222-4333-8444-555555555555}" >out 2>err &&
	! test -e "{11111111-2222-4333-8444-555555555555}" &&
	! test -e ln2/nowhere
'

# ---- concurrent writers ----

test_expect_success '8 concurrent hive set on 8 hives: 8 records, seq 1..8, every journal ID named, chain whole' '
	for i in 1 2 3 4 5 6 7 8; do cp pristine.SYSTEM par$i.SYSTEM || exit 1; done &&
	for i in 1 2 3 4 5 6 7 8; do
		"$GPOTOOL" --state-dir par hive set par$i.SYSTEM "$KDC" Par REG_DWORD $i >par$i.out 2>&1 &
	done &&
	wait &&
	test "$(nrec par/audit.log)" = 8 &&
	chain_ok par/audit.log &&
	for i in 1 2 3 4 5 6 7 8; do
		id=$(journal_id par$i.out) && test -n "$id" &&
		grep -q "\"journal\":\"$id\"" par/audit.log || { echo "no record for par$i" >&2; exit 1; }
	done &&
	gpotool --state-dir par audit verify >out &&
	grep -q "8 records, chain whole" out
'

test_expect_success '8 concurrent writers on one hive: one record each, changed or refused (locked), chain whole' '
	cp pristine.SYSTEM one.SYSTEM &&
	for i in 1 2 3 4 5 6 7 8; do
		"$GPOTOOL" --state-dir one hive set one.SYSTEM "$KDC" One$i REG_DWORD $i >/dev/null 2>&1 &
	done &&
	wait &&
	test "$(nrec one/audit.log)" = 8 &&
	chain_ok one/audit.log &&
	python3 -c "
import json
R = [json.loads(l) for l in open(\"one/audit.log\")]
assert all((r[\"result\"], r[\"exit\"]) in ((\"changed\", 0), (\"refused\", 3)) for r in R), R
assert any(r[\"result\"] == \"changed\" for r in R)
" &&
	gpotool --state-dir one audit verify >/dev/null
'

test_expect_success '32 concurrent hive new into a state dir that does not exist yet: 32 records, chain whole' '
	for i in $(seq 1 32); do
		"$GPOTOOL" --state-dir new-par/state hive new np$i.hive >/dev/null 2>&1 &
	done &&
	wait &&
	test "$(ls np*.hive | wc -l)" = 32 &&
	test "$(nrec new-par/state/audit.log)" = 32 &&
	chain_ok new-par/state/audit.log &&
	gpotool --state-dir new-par/state audit verify >out &&
	grep -q "32 records, chain whole; last record 32" out &&
	test "$(stat -c %a new-par/state)" = 700
'

# A writer held up between its two appends (as the scheduler may do to it) must not put the
# --audit-log copy out of order: A writes record 1 and waits for the copy (held here with flock),
# is stopped; B writes record 2 and waits for the copy; the copy is let go while A is stopped.
test_expect_success 'concurrent writers with --audit-log: the copy holds the same lines in the same order' '
	: >race.log || exit 1
	exec 9<race.log && flock -x 9 || exit 1
	"$GPOTOOL" --state-dir race --audit-log race.log hive new race-a.hive 9<&- >/dev/null 2>&1 &
	a=$!
	trap "kill -9 \$a \$b 2>/dev/null; kill -CONT \$a 2>/dev/null" EXIT
	b=
	wait_blocked $a race.log && test "$(nrec race/audit.log)" = 1 && kill -STOP $a || exit 1
	"$GPOTOOL" --state-dir race --audit-log race.log hive new race-b.hive 9<&- >/dev/null 2>&1 &
	b=$!
	wait_blocked $b || exit 1
	flock -u 9; exec 9<&-
	# B either finishes (its copy line first: the bug) or waits for the main log that A holds
	i=0; while kill -0 $b 2>/dev/null && ! grep -q -- "-> FLOCK .* $b [0-9a-f]*:[0-9a-f]*:$(stat -c %i race/audit.log) " /proc/locks; do
		i=$((i + 1)); test $i -lt 12000 || exit 1; sleep 0.01
	done
	kill -CONT $a || exit 1
	wait $a && wait $b && a= && b= &&
	test "$(nrec race/audit.log)" = 2 &&
	chain_ok race/audit.log &&
	cmp race/audit.log race.log &&
	gpotool audit verify --log race.log >/dev/null
'

test_expect_success 'concurrent writers with --audit-log, unforced: both logs hold the same 48 lines and verify' '
	for r in 1 2; do
		for i in $(seq 1 24); do
			"$GPOTOOL" --state-dir many --audit-log many.log hive new m$r-$i.hive >/dev/null 2>&1 &
		done
		wait
	done &&
	test "$(nrec many/audit.log)" = 48 &&
	sort many/audit.log >a.sorted && sort many.log >b.sorted && test_cmp a.sorted b.sorted &&
	gpotool --state-dir many audit verify >/dev/null &&
	cmp many/audit.log many.log &&
	gpotool audit verify --log many.log >/dev/null
'

test_done
