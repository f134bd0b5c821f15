#!/bin/bash
# kill -9 during a write to a dirty hive, its logs included. The writer stops itself at each
# kill point of a hive write (GPOTOOL_FAULT=NAME:stop, core/fault.c: journal-entry-opened,
# hive-before-rename, hive-after-rename, audit-before-append, audit-before-head,
# audit-after-append; and recover-after-write, recover-after-mark in the next writer's
# recovery of a pending entry), the test waits for /proc/PID/stat to say so (no sleep as
# synchronisation), kills it -9, and checks: the primary is byte-identical to the dirty file
# before or to its journal entry's sha256_after, the logs are unchanged; the next write
# finishes or rolls back the pending entry and says so; then the hive reads back with what
# only the logs held, the new value, clean and above the logs' sequence numbers. A damaged
# write (hive-written-flip-data) is refused with nothing written. Then a short loop of kills
# at random moments (random on purpose: every outcome is checked, none is required). The
# subject is the corpus's dirty UsrClass.dat, or a dirty hive built here without it.
. "$(dirname "$0")/test-lib.sh"

cat >regf.py <<'EOF'
import struct, sys
import os
sys.path.insert(0, os.path.join(os.environ["PROJECT_DIR"], "tests", "lib"))
from regflog import SEED, marvin32, xor32
def entries(log):
    off = 512
    while off + 40 <= len(log) and log[off:off + 4] == b"HvLE":
        size = struct.unpack_from("<I", log, off + 4)[0]
        if size < 40 or size % 512 or off + size > len(log): break
        e = log[off:off + size]
        h1, h2 = struct.unpack_from("<QQ", e, 24)
        yield e, marvin32(e[40:]) == h1 and marvin32(e[:32]) == h2
        off += size
cmd = sys.argv[1]
if cmd == "clean-above":     # HIVE LOG...: clean, checksum right, sequence above every one the logs hold
    h = open(sys.argv[2], "rb").read()
    s1, s2 = struct.unpack_from("<II", h, 4)
    m = 0
    for p in sys.argv[3:]:
        log = open(p, "rb").read()
        if len(log) >= 512 and log[:4] == b"regf":
            m = max(m, *struct.unpack_from("<II", log, 4))
            m = max([m] + [struct.unpack_from("<I", e, 12)[0] for e, good in entries(log) if good])
    ok = s1 == s2 and s1 > m and struct.unpack_from("<I", h, 508)[0] == xor32(h)
    if not ok: sys.exit("base block %d/%d, checksum %s, highest in the logs %d" % (s1, s2, struct.unpack_from("<I", h, 508)[0] == xor32(h), m))
elif cmd == "dirty":         # HIVE: 0 when its sequence numbers differ
    s1, s2 = struct.unpack_from("<II", open(sys.argv[2], "rb").read(), 4)
    sys.exit(0 if s1 != s2 else "clean: %d/%d" % (s1, s2))
elif cmd == "bump-seq1":
    b = bytearray(open(sys.argv[2], "rb").read())
    struct.pack_into("<I", b, 4, struct.unpack_from("<I", b, 4)[0] + 1)
    struct.pack_into("<I", b, 508, xor32(b))
    open(sys.argv[2], "wb").write(b)
elif cmd == "mklog":         # mklog CLEAN OUT.LOG CHANGED: a new-format log taking CLEAN to CHANGED
    a, b = open(sys.argv[2], "rb").read(), open(sys.argv[4], "rb").read()
    seq2, = struct.unpack_from("<I", a, 8)
    pages = [p for p in range(4096, len(b), 4096) if b[p:p + 4096] != a[p:p + 4096]]
    body = b"".join(struct.pack("<II", p - 4096, 4096) for p in pages) + b"".join(b[p:p + 4096] for p in pages)
    size = (40 + len(body) + 511) // 512 * 512
    e = bytearray(b"HvLE" + struct.pack("<IIIII", size, 0, seq2, len(b) - 4096, len(pages)) + bytes(16) + body)
    e += bytes(size - len(e))
    struct.pack_into("<Q", e, 24, marvin32(bytes(e[40:])))
    struct.pack_into("<Q", e, 32, marvin32(bytes(e[:32])))
    base = bytearray(a[:512])
    struct.pack_into("<III", base, 4, seq2, seq2, 0)
    struct.pack_into("<I", base, 28, 6)
    struct.pack_into("<I", base, 508, xor32(base))
    open(sys.argv[3], "wb").write(bytes(base) + bytes(e))
EOF

sha() { sha256sum "$1" | cut -d" " -f1; }
newest() { ls state/journal 2>/dev/null | grep -v '^\.' | sort | tail -n 1; }
status() { json_field "state/journal/$1/entry.json" 'd["status"]'; }
entry_after() { json_field "state/journal/$1/entry.json" 'd["targets"][0]["sha256_after"]'; }
rand_sleep() { awk -v m="$1" -v r="$RANDOM" 'BEGIN { printf "%.3f", m * r / 32767 }'; }
litter() { ls -A "$(dirname "$1")" | grep "^\.$(basename "$1")\.gpotool-" || true; }

UC=regipy/UsrClass.dat
if have_corpus && [ -f "$CORPUS/hives/$UC/UsrClass.dat.LOG2.xz" ]; then
	SUBJECT="the corpus's dirty UsrClass.dat"
	H=UsrClass.dat
	WKEY='Local Settings'
	# a value only the logs hold (absent from the stale primary)
	RKEY='Local Settings\Software\Microsoft\Windows\Shell\BagMRU\10\0\0' RVAL=NodeSlot
	make_subject() {
		mkdir -p "$1" &&
		for f in UsrClass.dat UsrClass.dat.LOG1 UsrClass.dat.LOG2; do unpack hives/$UC/$f.xz "$1/$f" || return 1; done
	}
else
	SUBJECT="a dirty SYSTEM hive built here (no $CORPUS/hives/$UC)"
	H=SYSTEM
	WKEY='HKLM\SYSTEM\Keep'
	RKEY='HKLM\SYSTEM\Added\Deeper' RVAL=New
	make_subject() {
		mkdir -p "$1" && cp built/SYSTEM built/SYSTEM.LOG1 "$1/"
	}
fi
echo "# subject: $SUBJECT"

# fresh DIR: the subject in DIR, the pristine copy in DIR.orig
fresh() { rm -rf "$1" "$1.orig" && make_subject "$1" && cp -r "$1" "$1.orig"; }
logs_unchanged() {
	local f
	for f in "$1.orig/$H".*; do cmp "$f" "$1/${f##*/}" || return 1; done
}
# as_before_or_after DIR: the primary is the dirty file before, or the newest entry's after
as_before_or_after() {
	local now id
	now=$(sha "$1/$H")
	test "$now" = "$(sha "$1.orig/$H")" && { echo before; return 0; }
	id=$(newest)
	test -n "$id" && test "$now" = "$(entry_after $id)" && { echo after; return 0; }
	echo "the primary is neither as before nor as entry ${id:-(none)} wrote it" >&2
	return 1
}
# reads_back DIR VALUE...: sound, clean above the logs, the logs' data there, each VALUE set in WKEY
reads_back() {
	local d=$1 v
	shift
	gpotool hive info "$d/$H" >info.out 2>info.err || { cat info.out info.err >&2; return 1; }
	grep -q "all readable$" info.out && grep -q "^state  *clean" info.out || { cat info.out >&2; return 1; }
	python3 regf.py clean-above "$d/$H" "$d/$H".* &&
	gpotool hive get "$d/$H" "$RKEY" "$RVAL" >/dev/null &&
	for v in "$@"; do gpotool hive get "$d/$H" "$WKEY" "$v" >/dev/null || return 1; done &&
	logs_unchanged "$d" &&
	test -z "$(litter "$d/$H")"
}

test_expect_success "setup: $SUBJECT is dirty, its logs replay, a value only they hold" '
	if [ "$H" = SYSTEM ]; then
		mkdir built &&
		gpotool hive new --kind SYSTEM built/clean >/dev/null &&
		gpotool hive set built/clean "HKLM\\SYSTEM\\Keep" Old REG_SZ before >/dev/null &&
		cp built/clean built/changed &&
		gpotool hive set built/changed "HKLM\\SYSTEM\\Added\\Deeper" New REG_DWORD 7 >/dev/null &&
		cp built/clean built/SYSTEM && python3 regf.py bump-seq1 built/SYSTEM &&
		python3 regf.py mklog built/SYSTEM built/SYSTEM.LOG1 built/changed
	fi &&
	fresh s && python3 regf.py dirty s/$H &&
	gpotool --json hive info s/$H >info.json 2>/dev/null &&
	test "$(json_field info.json "d[\"transaction_logs\"][\"replayed\"]")" = True &&
	gpotool hive get s/$H "$RKEY" "$RVAL" >/dev/null 2>&1 &&
	mkdir alone && cp s/$H alone/ &&
	test_must_fail gpotool hive get alone/$H "$RKEY" "$RVAL" >/dev/null 2>&1
'

# ---------------------------------------------------------------------------------------
# 1. each kill point of the write

# stop_kill POINT DIR VALUE: hive set of VALUE stopped at POINT, then killed -9
stop_kill() {
	GPOTOOL_FAULT=$1:stop "$GPOTOOL" hive set "$2/$H" "$WKEY" "$3" REG_DWORD 1 >kill.out 2>kill.err &
	pid=$!
	wait_stopped $pid || { cat kill.err >&2; return 1; }
	kill -9 $pid; kill -CONT $pid 2>/dev/null
	wait $pid 2>/dev/null
	test $? = 137 || { echo "the writer stopped at $1 did not die by the kill" >&2; return 1; }
	pid=
}

# kill_case POINT WHERE STATUS SAYS: killed at POINT, the primary is WHERE (before/after), the
# entry ends STATUS after the next write, whose stderr says SAYS (a grep pattern; "" for none)
kill_case() {
	local p=$1 where=$2 st=$3 says=$4 d=k-$1
	test_expect_success "killed -9 at $p: the primary $where, the logs unchanged; the next write ends it ($st)" "
		pid= && trap 'reap_stopped \$pid' EXIT &&
		fresh $d && n0=\$(ls state/journal 2>/dev/null | wc -l) &&
		stop_kill $p $d Killed &&
		got=\$(as_before_or_after $d) && test \"\$got\" = $where &&
		logs_unchanged $d &&
		id=\$(newest) &&
		gpotool hive set $d/\$H \"\$WKEY\" Next REG_DWORD 2 >next.out 2>next.err &&
		{ test -z \"$says\" || grep -q \"$says\" next.err || { cat next.err; exit 1; }; } &&
		if [ $p != journal-entry-opened ]; then test \"\$(status \$id)\" = $st; fi &&
		if [ $where = after ]; then reads_back $d Killed Next; else reads_back $d Next &&
			test_must_fail gpotool hive get $d/\$H \"\$WKEY\" Killed >/dev/null 2>&1; fi
	"
}

kill_case journal-entry-opened before - ''
kill_case hive-before-rename before rolled-back 'journal entry .* was interrupted; its targets were put back as they were before it'
kill_case hive-after-rename after complete 'journal entry .* was interrupted; '
kill_case audit-before-append after complete 'had no audit record (its writer was killed after the write, before it appended this record): appended it now'
kill_case audit-before-head after complete ''
kill_case audit-after-append after complete ''

test_expect_success 'the records of the killed writes: one each, the logs in them, and the chain whole' '
	gpotool audit verify >vout 2>verr && grep -q "chain whole" vout &&
	python3 -c "
import json
recs = [json.loads(l) for l in open(\"state/audit.log\")]
sets = [r for r in recs if r[\"command\"] == \"hive set\" and r.get(\"journal\")]
assert sets, \"no hive set record\"
for r in sets:
    e = json.load(open(\"state/journal/\" + r[\"journal\"] + \"/entry.json\"))
    logs = [x[\"path\"] for x in e[\"targets\"] if x[\"kind\"] == \"hive-log\"]
    t = r.get(\"transaction_logs\")
    # a write to the dirty hive journals its logs and its record says how they were replayed
    # (a write to a hive an earlier one made clean has neither)
    assert bool(logs) == bool(t), (r[\"journal\"], logs, t)
    if t:
        assert t[\"replayed\"] is True and sorted(l[\"name\"] for l in t[\"logs\"]) == sorted(p.rsplit(\"/\", 1)[1] for p in logs), (r[\"journal\"], t)
ids = [r[\"journal\"] for r in recs if r.get(\"journal\")]
dup = set(i for i in ids if ids.count(i) > 1)
assert not dup, dup
"
'

# a pending entry (killed before its rename), then the writer recovering it is killed too
recover_kill_case() {
	local p=$1 d=r-$1
	test_expect_success "the next writer killed -9 at $p while it recovers: the primary before or after, logs unchanged; a third write ends it" "
		pid= && trap 'reap_stopped \$pid' EXIT &&
		fresh $d &&
		test_expect_code 137 env GPOTOOL_FAULT=hive-before-rename \"\$GPOTOOL\" hive set $d/\$H \"\$WKEY\" First REG_DWORD 1 >/dev/null 2>&1 &&
		id=\$(newest) && test \"\$(status \$id)\" = pending &&
		stop_kill $p $d Second &&
		as_before_or_after $d && logs_unchanged $d &&
		gpotool hive set $d/\$H \"\$WKEY\" Third REG_DWORD 3 >next.out 2>next.err &&
		test \"\$(status \$id)\" = rolled-back &&
		reads_back $d Third &&
		test_must_fail gpotool hive get $d/\$H \"\$WKEY\" First >/dev/null 2>&1
	"
}
recover_kill_case recover-after-write
recover_kill_case recover-after-mark

test_expect_success 'a write damaged after it was written (hive-written-flip-data): refused, primary and logs as they were' '
	fresh dmg &&
	test_must_fail env GPOTOOL_FAULT=hive-written-flip-data "$GPOTOOL" hive set dmg/$H "$WKEY" Damaged REG_SZ hello >out 2>err &&
	grep -q "verification failed" err &&
	cmp dmg/$H dmg.orig/$H && logs_unchanged dmg &&
	test -z "$(litter dmg/$H)"
'

# ---------------------------------------------------------------------------------------
# 2. kills at random moments

KILLS=${T5370_KILLS:-6}
test_expect_success "$KILLS kills -9 at random moments: each leaves before or after, logs unchanged; the next write ends it" '
	fresh rk &&
	t0=$(date +%s.%N) && gpotool hive set rk/$H "$WKEY" Timing REG_DWORD 1 >/dev/null 2>&1 &&
	t=$(awk -v a=$t0 -v b=$(date +%s.%N) "BEGIN { printf \"%.3f\", (b - a) * 1.2 }") &&
	echo "one write: $t s" &&
	: >outcomes &&
	for k in $(seq 1 $KILLS); do
		fresh rk &&
		{ "$GPOTOOL" hive set rk/$H "$WKEY" Random$k REG_DWORD $k >/dev/null 2>&1 & } &&
		pid=$! &&
		sleep "$(rand_sleep "$t")" &&
		{ kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; rc=$?; } &&
		{ test $rc = 137 || test $rc = 0 || { echo "kill $k: the writer exited $rc"; exit 1; }; } &&
		logs_unchanged rk &&
		w=$(as_before_or_after rk) &&
		echo "$k rc=$rc $w" >>outcomes &&
		gpotool hive set rk/$H "$WKEY" After$k REG_DWORD $k >out 2>err &&
		if [ $w = after ]; then reads_back rk Random$k After$k; else reads_back rk After$k; fi || { cat outcomes err; exit 1; }
	done &&
	cat outcomes &&
	gpotool --json journal list >jl.json && test "$(json_field jl.json "d[\"pending\"]")" = 0
'
echo "# random kills (kill rc where): $(tr '\n' ';' <outcomes 2>/dev/null)"

test_done
