#!/bin/bash
# The audit trail's end and its copies:
# - every cut of the tail is detected, records of refused and failed commands included (they
#   name no journal entry): STATE/audit.log.head holds the seq and hash of the last record;
# - `audit verify --anchor HASH` proves the trail still holds a hash kept elsewhere (exit 1
#   when no record has it, e.g. after the chain was rewritten from an earlier record on);
# - `audit verify --log FILE` on a file that does not exist is exit 1, not "0 records";
# - `--audit-log FILE` that cannot take the record after the change: exit 4, saying the change
#   is in place and the copy lacks its record (the state's trail has it);
# - records name the target by its absolute path (the command line keeps it as typed).
. "$(dirname "$0")/test-lib.sh"

SHIM=$PROJECT_DIR/build/faultshim.so
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
LOG=state/audit.log
ASAN_SHIM=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

nrec() { wc -l <"${1:-$LOG}"; }
# field N KEY [LOG]: a field of record N (1-based; -1 the last)
field() { python3 -c 'import json,sys; r = json.loads(open(sys.argv[3]).read().splitlines()[int(sys.argv[1]) - (int(sys.argv[1]) > 0)]); v = r[sys.argv[2]]; print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2" "${3:-$LOG}"; }
# cut DIR N: a copy of the state dir at DIR whose audit.log lost its last N lines
cut_tail() { rm -rf "$1" && cp -a state "$1" && head -n -"$2" state/audit.log >"$1/audit.log"; }
# rewrite DIR FROM: a copy of the state dir at DIR whose chain is rewritten from record FROM
# on (its ticket changed, every hash after recomputed), as someone who can write it could
rewrite() {
	rm -rf "$1" && cp -a state "$1" &&
	python3 - "$1/audit.log" "$2" <<-\PY
	import hashlib, json, sys
	path, start = sys.argv[1], int(sys.argv[2])
	out, prev = [], None
	for n, line in enumerate(open(path).read().splitlines(), 1):
	    d = json.loads(line)
	    if n >= start:
	        if n == start:
	            d["ticket"] = "FORGED"
	        d["prev"] = prev
	        d.pop("hash")
	        cov = json.dumps(d, separators=(",", ":"), ensure_ascii=False)
	        line = cov[:-1] + ",\"hash\":\"%s\"}" % hashlib.sha256(cov.encode()).hexdigest()
	    prev = json.loads(line)["hash"]
	    out.append(line)
	open(path, "w").write("".join(l + "\n" for l in out))
	PY
}

test_expect_success 'setup: writes, then refused and failed commands (records that name no journal entry)' '
	gpotool hive new s.hive --kind SYSTEM >/dev/null &&
	gpotool --ticket CHG-1 hive import s.hive "$PROJECT_DIR/hives/dc01/SYSTEM.reg" >/dev/null &&
	gpotool hive set s.hive "$KDC" A REG_DWORD 1 >/dev/null &&
	test_must_fail 3 gpotool stage kdc-compat --hive "$PROJECT_DIR/templates/kdc-compat.template" 2>/dev/null &&
	test_must_fail 2 gpotool stage kdc-compat --hive no-such.hive 2>/dev/null &&
	test_must_fail 2 gpotool hive set s.hive 2>/dev/null &&
	test "$(nrec)" = 6 &&
	test "$(field -1 journal)" = null && test "$(field -2 journal)" = null && test "$(field -3 journal)" = null &&
	test "$(json_field state/audit.log.head "d[\"seq\"]")" = 6 &&
	test "$(json_field state/audit.log.head "d[\"hash\"]")" = "$(field -1 hash)" &&
	gpotool audit verify >out && grep -q "6 records, chain whole" out
'

test_expect_success 'the last record (a usage error) cut off the end: exit 1, the head says where the trail ended' '
	cut_tail t1 1 &&
	test_expect_code 1 gpotool --state-dir t1 audit verify >out 2>err &&
	! test -s out &&
	test_one_line err "the head file says the trail ends at record 6 (hash $(field -1 hash)), but it ends at record 5: records were cut from its end"
'

test_expect_success 'the three records of refused and failed commands cut off: exit 1' '
	cut_tail t3 3 &&
	test_expect_code 1 gpotool --state-dir t3 audit verify >out 2>err &&
	test_one_line err "ends at record 6 .*, but it ends at record 3"
'

test_expect_success 'every cut of the tail, down to nothing, is exit 1' '
	for k in 1 2 3 4 5 6; do
		cut_tail tk $k &&
		test_expect_code 1 gpotool --state-dir tk audit verify >/dev/null 2>err || { echo "cut $k:"; cat err; exit 1; }
	done &&
	rm tk/audit.log &&
	test_expect_code 1 gpotool --state-dir tk audit verify >/dev/null 2>err && grep -q "record 6" err
'

test_expect_success 'the head file removed as well: exit 1, a trail with records must have one' '
	cut_tail th 2 && rm th/audit.log.head &&
	test_expect_code 1 gpotool --state-dir th audit verify >out 2>err &&
	test_one_line err "there is no head file"
'

test_expect_success 'the tail rewritten (hashes recomputed) and cut: the head names a record that is not there' '
	rewrite tr 5 && head -n -1 tr/audit.log >tr/a && mv tr/a tr/audit.log &&
	test_expect_code 1 gpotool --state-dir tr audit verify --log tr/audit.log >out 2>err &&
	test_one_line err "ends at record 6" &&
	rewrite tr2 3 &&
	test_expect_code 1 gpotool --state-dir tr2 audit verify >out 2>err &&
	test_one_line err "record 6 is not the one the head file names"
'

test_expect_success 'audit verify --anchor HASH: exit 0 naming the record that holds it' '
	a=$(field 3 hash) &&
	gpotool audit verify --anchor "$a" >out 2>err &&
	grep -q "6 records, chain whole; last record 6, hash $(field -1 hash); anchor is record 3$" out &&
	gpotool audit verify --anchor "$(echo "$a" | tr a-f A-F)" >out && grep -q "anchor is record 3$" out &&
	gpotool --json audit verify --anchor "$a" >j && test "$(json_field j "d[\"anchor_seq\"]")" = 3
'

test_expect_success '--anchor on a trail rewritten from before it (head and all): exit 1' '
	a=$(field 3 hash) &&
	rewrite tw 2 &&
	python3 -c "import json; L = open(\"tw/audit.log\").read().splitlines(); r = json.loads(L[-1]); open(\"tw/audit.log.head\", \"w\").write(json.dumps({\"seq\": r[\"seq\"], \"hash\": r[\"hash\"]}) + \"\\n\")" &&
	gpotool --state-dir tw audit verify >/dev/null &&
	test_expect_code 1 gpotool --state-dir tw audit verify --anchor "$a" >out 2>err &&
	test_one_line err "no record.s hash is $a: the trail does not hold that anchor"
'

test_expect_success '--anchor that is not a hash: usage error (2)' '
	test_must_fail 2 gpotool audit verify --anchor 1234 2>err && test_one_line err "64 hex digits" &&
	test_must_fail 2 gpotool audit verify --anchor "$(printf "%064d" 0 | tr 0 g)" 2>err
'

test_expect_success 'audit verify --log FILE that does not exist: exit 1, not "0 records"' '
	test_must_fail 1 gpotool audit verify --log "$TRASH/nonexistent.log" >out 2>err &&
	! test -s out &&
	test_one_line err "nonexistent.log. does not exist: there is no audit trail there to verify"
'

test_expect_success 'a fresh state directory has no trail yet: 0 records (no head, no journal)' '
	gpotool --state-dir fresh audit verify >out &&
	grep -q "0 records, chain whole" out && ! test -e fresh/audit.log
'

test_expect_success 'records name the target by its absolute path; the command line keeps it as typed' '
	mkdir -p sub && cd sub &&
	gpotool hive set ../s.hive "$KDC" B REG_DWORD 2 >out &&
	cd .. &&
	test "$(field -1 target)" = "$TRASH/s.hive" &&
	test "$(field -1 files | python3 -c "import json,sys; print(json.load(sys.stdin)[0][\"path\"])")" = "$TRASH/s.hive" &&
	field -1 command_line | grep -q "hive set ../s.hive " &&
	cd sub && test_must_fail 3 gpotool stage kdc-compat --hive ../s.hive.nope >/dev/null 2>&1; cd .. &&
	test "$(field -1 target)" = "$TRASH/s.hive.nope"
'

if [ -f "$SHIM" ]; then
	test_expect_success '--audit-log FILE whose write fails after the change: exit 4, the change in place, the copy lacks it' '
		cp s.hive s.before &&
		env LD_PRELOAD="$SHIM" ASAN_OPTIONS="$ASAN_SHIM" GPOTOOL_FAULT_NOSYNC=1 GPOTOOL_FAULT_TRACE=$TRASH/copy.trace \
			"$GPOTOOL" --state-dir tracing --audit-log "$TRASH/tcopy.log" hive set s.before "$KDC" C REG_DWORD 3 >/dev/null 2>&1 &&
		n=$(awk -v p="$TRASH/tcopy.log" "\$1 == \"write\" && \$3 == p { print \$2; exit }" copy.trace) && test -n "$n" &&
		cp s.hive s.before &&
		r=$(nrec) &&
		test_expect_code 4 env LD_PRELOAD="$SHIM" ASAN_OPTIONS="$ASAN_SHIM" GPOTOOL_FAULT_NOSYNC=1 GPOTOOL_FAULT_OP=write \
			GPOTOOL_FAULT_NTH=$n GPOTOOL_FAULT_ERRNO=ENOSPC "$GPOTOOL" --audit-log "$TRASH/copy.log" \
			hive set s.hive "$KDC" C REG_DWORD 3 >out 2>err &&
		id=$(sed -n "s/^journal: //p" out) && test -n "$id" &&
		test_one_line err "the change is in place (journal entry $id) and recorded in .*audit.log., but the audit copy .*copy.log. lacks its record: .*No space left on device" &&
		! cmp -s s.before s.hive &&
		test "$(nrec)" = $((r + 1)) && test "$(field -1 journal)" = "$id" &&
		! grep -q "$id" copy.log &&
		test "$(json_field state/journal/$id/entry.json "d[\"status\"]")" = complete &&
		gpotool audit verify >/dev/null
	'
else
	test_skip '--audit-log FILE whose write fails after the change: exit 4, the change in place, the copy lacks it' "no $SHIM"
fi

test_expect_success '--audit-log FILE that cannot be opened: refused before anything changes' '
	cp s.hive s.before && n=$(ls state/journal | wc -l) &&
	test_must_fail gpotool --audit-log "$TRASH/no-such-dir/copy.log" hive set s.hive "$KDC" D REG_DWORD 4 >out 2>err &&
	test_one_line err "nothing changed: unable to open the audit log" &&
	cmp s.before s.hive && test "$(ls state/journal | wc -l)" = "$n"
'

test_expect_success '--audit-log FILE that another user owns, or others can write: refused before anything changes' '
	cp s.hive s.before && n=$(ls state/journal | wc -l) &&
	: >theirs.log && chown 65534 theirs.log &&
	test_must_fail 3 gpotool --audit-log "$TRASH/theirs.log" hive set s.hive "$KDC" E REG_DWORD 5 >out 2>err &&
	test_one_line err "audit log .*theirs.log. (owner 65534, mode 0644) can be written by users other than root" &&
	: >open.log && chmod 0666 open.log &&
	test_must_fail 3 gpotool --audit-log "$TRASH/open.log" hive set s.hive "$KDC" E REG_DWORD 5 2>err &&
	grep -q "mode 0666" err && ! test -s theirs.log && ! test -s open.log &&
	cmp s.before s.hive && test "$(ls state/journal | wc -l)" = "$n"
'

test_done
