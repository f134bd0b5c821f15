#!/bin/bash
# Dirty hives of the shared corpus, replayed with their transaction logs, against the results
# of an independent implementation (corpus/expected/log-replay/, made with yarp; README.md
# there). For every NAME.expected: `hive info --json` reports the entries, sequence range and
# logs that the reference applied; `hive recover` writes a primary whose sorted reglookup dump
# equals NAME.dump.txt exactly, whose base block is clean (sequence numbers equal and above
# every one the logs hold, checksum right), with the logs untouched; `journal show` lists the
# logs; `rollback` puts back the primary and the logs byte for byte. Logs the reference
# rejects are refused (exit 3, nothing written, the log and the reason named); a clean hive's
# stale log is not applied. Then writes (`hive set`) on two dirty hives: the dump is the
# expected one plus the new value, and reads (`hive get`) see keys that only the logs hold.
# Every case skips, with the reason, when the corpus is absent.
. "$(dirname "$0")/test-lib.sh"

E=$CORPUS/expected/log-replay

# regf.py: the base block and the logs, read from the specification's layout. The Marvin32 here
# is proven on the corpus logs' own hashes (the test "the helper's Marvin32 ...").
cat >regf.py <<'EOF'
import struct, sys
import os
sys.path.insert(0, os.path.join(os.environ["PROJECT_DIR"], "tests", "lib"))
from regflog import SEED, marvin32, xor32
def entries(log):
    """(offset, bytes, hashes good) of each HvLE entry from 512 on, while the layout holds"""
    off = 512
    while off + 40 <= len(log) and log[off:off + 4] == b"HvLE":
        size = struct.unpack_from("<I", log, off + 4)[0]
        if size < 40 or size % 512 or off + size > len(log): break
        e = log[off:off + size]
        h1, h2 = struct.unpack_from("<QQ", e, 24)
        yield off, e, marvin32(e[40:]) == h1 and marvin32(e[:32]) == h2
        off += size
def max_seq(paths):
    m = 0
    for p in paths:
        log = open(p, "rb").read()
        if len(log) >= 512 and log[:4] == b"regf":
            m = max(m, *struct.unpack_from("<II", log, 4))
            for _, e, good in entries(log):
                if good: m = max(m, struct.unpack_from("<I", e, 12)[0])
    return m
cmd = sys.argv[1]
if cmd == "verify-hashes":     # every entry of every log given: both hashes right; prints the count
    n = 0
    for p in sys.argv[2:]:
        for off, e, good in entries(open(p, "rb").read()):
            if not good: sys.exit("%s: entry at %d: hashes do not verify" % (p, off))
            n += 1
    print(n)
elif cmd == "clean-above":     # HIVE LOG...: base block clean, checksum right, sequence above the logs'
    h = open(sys.argv[2], "rb").read()
    s1, s2 = struct.unpack_from("<II", h, 4)
    ftype, = struct.unpack_from("<I", h, 28)
    ck, = struct.unpack_from("<I", h, 508)
    m = max_seq(sys.argv[3:])
    bad = []
    if h[:4] != b"regf": bad.append("no regf signature")
    if s1 != s2: bad.append("sequence numbers %d != %d" % (s1, s2))
    if ftype != 0: bad.append("file type %d" % ftype)
    if ck != xor32(h): bad.append("checksum 0x%08x, computed 0x%08x" % (ck, xor32(h)))
    if s1 <= m: bad.append("sequence %d not above %d, the highest in the logs" % (s1, m))
    if bad: sys.exit("; ".join(bad))
    print("%d/%d above %d" % (s1, s2, m))
elif cmd == "seq":             # HIVE: "S1/S2"
    h = open(sys.argv[2], "rb").read()
    print("%d/%d" % struct.unpack_from("<II", h, 4))
EOF

# check_info.py EXPECTED INFO.json: the replay hive info reports is the reference's
cat >check_info.py <<'EOF'
import json, re, sys
exp = {}
for line in open(sys.argv[1]):
    k, sep, v = line.rstrip("\n").partition(": ")
    if sep and k not in exp: exp[k] = v
t = json.load(open(sys.argv[2]))["transaction_logs"]
logs = {l["name"].rsplit(".", 1)[1].lower(): l for l in t["logs"]}
bad = []
def want(what, got, expected):
    if got != expected: bad.append("%s: %r, the reference says %r" % (what, got, expected))
want("replayed", t["replayed"], True)
want("dirty", t["dirty"], True)
want("entries", t.get("entries"), int(exp["entries"].split()[0]))
order = [x.strip() for x in exp["logs_applied"].split("then")]
want("applied", [n.rsplit(".", 1)[1].lower() for n in t.get("applied", [])], order)
want("base_block_from_log", t.get("base_block_from_log"), "checksum=BAD" in exp["primary_baseblock"])
if exp["format"].startswith("new"):
    want("format", t.get("format"), "new")
    a, b = exp["seq_range"].split("..")
    want("first_seq..last_seq", (t.get("first_seq"), t.get("last_seq")), (int(a), int(b)))
    for name in order:
        m = re.match(r"(\d+) \(seq (\d+)\.\.(\d+)\)", exp["entries_" + name])
        l = logs.get(name, {})
        want(name + " applied", (l.get("applies"), l.get("applied"), l.get("applied_first"), l.get("applied_last")),
             (True, int(m.group(1)), int(m.group(2)), int(m.group(3))))
else:
    want("format", t.get("format"), "old")
    want(order[0] + " applied", (logs[order[0]].get("applies"), logs[order[0]].get("applied")), (True, t.get("entries")))
for name, l in logs.items():
    if name not in order: want(name + " applies", l.get("applies"), False)
if bad: sys.exit("\n".join(bad))
EOF

# exp_field NAME KEY: a field of NAME.expected
exp_field() { sed -n "s/^$2: //p" "$E/$1.expected" | head -n 1; }
# exp_input NAME KEY: a corpus input of NAME.expected, relative to the corpus
exp_input() { exp_field "$1" "$2" | sed 's/ (.*//; s,^shared/corpus/,,'; }
# expected_dump NAME OUT: the reference dump, decompressed
expected_dump() { if [ -f "$E/$1.dump.txt.xz" ]; then xz -dc "$E/$1.dump.txt.xz" >"$2"; else cp "$E/$1.dump.txt" "$2"; fi; }
dump() { reglookup -H "$1" 2>/dev/null | LC_ALL=C sort; }
newest() { ls "$GPOTOOL_STATE_DIR/journal" | grep -v '^\.' | sort | tail -n 1; }

# setup_case NAME DIR: the hive and its logs (as decompressed) in DIR, a pristine copy in DIR.orig;
# prints nothing; sets P (the primary's path) and LOGS (the logs' paths)
setup_case() {
	local n=$1 d=$2 k f
	mkdir -p "$d" "$d.orig" || return 1
	f=$(exp_input "$n" input_primary) && P=$d/$(basename "$f" .xz) && unpack "$f" "$P" || return 1
	LOGS=
	for k in input_log input_log1 input_log2; do
		f=$(exp_input "$n" $k)
		[ -n "$f" ] || continue
		unpack "$f" "$d/$(basename "$f" .xz)" || return 1
		LOGS="$LOGS $d/$(basename "$f" .xz)"
	done
	cp "$d"/* "$d.orig/"
}
# same_as_orig DIR: every file of DIR is byte-identical to its copy in DIR.orig, none added
same_as_orig() {
	local f
	for f in "$1.orig"/*; do cmp "$f" "$1/$(basename "$f")" || return 1; done
	test "$(ls -A "$1" | grep -v "^\.$" | wc -l)" = "$(ls -A "$1.orig" | wc -l)" || { ls -A "$1" >&2; return 1; }
}
# case_vars DIR: P and LOGS again, for a test after the one that made DIR
case_vars() {
	P=$1/$(ls "$1.orig" | grep -vi '\.log[12]*$') && LOGS=$(ls -d "$1"/* | grep -i '\.log[12]*$')
}
logs_as_orig() {
	local l
	for l in $LOGS; do cmp "$l" "${l%/*}.orig/${l##*/}" || return 1; done
}

have_cases() { have_corpus && [ -d "$E" ] && command -v reglookup >/dev/null; }
why_skip="no $E (or no reglookup)"

if have_cases; then
	test_expect_success "the helper's Marvin32 verifies the hashes of every corpus log entry" '
		n=0 &&
		for x in "$E"/*.expected; do
			name=$(basename "$x" .expected) &&
			for k in input_log input_log1 input_log2; do
				f=$(exp_input $name $k) && [ -n "$f" ] || continue
				unpack "$f" m.log && c=$(python3 regf.py verify-hashes m.log) || exit 1
				n=$((n + c))
			done
		done &&
		echo "$n entries" && test $n -ge 40 &&
		unpack "$(exp_input yarp_NewDirtyHive1 input_log2)" m.log &&
		printf "\\377" | dd of=m.log bs=1 seek=600 conv=notrunc 2>/dev/null &&
		test_must_fail python3 regf.py verify-hashes m.log
	'
else
	test_skip "the helper's Marvin32 verifies the hashes of every corpus log entry" "$why_skip"
fi

# ---------------------------------------------------------------------------------------
# 1. every case of the reference

# recovered_case NAME: the reference replayed NAME's logs
recovered_case() {
	local n=$1 d=c/$1
	test_expect_success "$n: hive info --json reports the replay the reference made" "
		export GPOTOOL_STATE_DIR=$TRASH/state-$n && setup_case $n $d &&
		gpotool --json hive info \$P >info.json 2>info.err &&
		python3 check_info.py '$E/$n.expected' info.json &&
		grep -q \"^gpotool: note: '\$P' is dirty: replayed its transaction logs into a private copy: \" info.err &&
		same_as_orig $d
	"
	test_expect_success "$n: hive recover writes the reference's dump, a clean base block above the logs, logs untouched" "
		export GPOTOOL_STATE_DIR=$TRASH/state-$n && case_vars $d &&
		gpotool hive recover \$P >rec.out 2>rec.err &&
		grep -q \"^verified: libregf reads back [0-9]* changes* in '\$P', now clean (sequence numbers \" rec.out &&
		grep -q '^journal: ' rec.out &&
		expected_dump $n want.txt && dump \$P >got.txt &&
		cmp got.txt want.txt &&
		python3 regf.py clean-above \$P \$LOGS &&
		logs_as_orig &&
		seq=\$(python3 regf.py seq \$P) &&
		grep -q \"now clean (sequence numbers \$seq,\" rec.out &&
		gpotool hive info \$P >after.txt 2>after.err && ! test -s after.err &&
		grep -q '^state  *clean' after.txt && ! grep -q '; applied' after.txt &&
		grep -q 'not applied (the primary is clean: Windows ignores its logs)' after.txt
	"
	test_expect_success "$n: the recover is in the audit trail (its entry, the logs it replayed), nothing owed" "
		export GPOTOOL_STATE_DIR=$TRASH/state-$n && case_vars $d &&
		python3 -c '
import json, os, sys
r = json.loads(open(os.environ[\"GPOTOOL_STATE_DIR\"] + \"/audit.log\").read().splitlines()[-1])
assert r[\"command\"] == \"hive recover\" and r[\"journal\"] == sys.argv[1], (r[\"command\"], r[\"journal\"], sys.argv[1])
assert r[\"transaction_logs\"][\"replayed\"] is True, r[\"transaction_logs\"]
' \$(newest) &&
		gpotool audit verify >vout 2>verr && ! test -s verr
	"
	test_expect_success "$n: journal show lists the primary and each log" "
		export GPOTOOL_STATE_DIR=$TRASH/state-$n && case_vars $d &&
		gpotool journal show \$(newest) >show.out &&
		for l in \$LOGS; do
			grep -q \"^file  *\$TRASH/\$l (hive-log, \${l##*/})\$\" show.out || { cat show.out; exit 1; }
		done &&
		grep -q \"^file  *\$TRASH/\$P (hive\" show.out
	"
	test_expect_success "$n: rollback of the recover puts back the primary and the logs byte for byte" "
		export GPOTOOL_STATE_DIR=$TRASH/state-$n && case_vars $d &&
		gpotool rollback \$(newest) >rb.out 2>rb.err &&
		same_as_orig $d &&
		gpotool hive info \$P 2>/dev/null | grep -q '^state  *dirty'
	"
}

unusable_case() {
	local n=$1 d=c/$1
	test_expect_success "$n: logs the reference rejects: recover and hive set exit 3, nothing written, the log and why named" "
		setup_case $n $d &&
		n0=\$(ls state/journal 2>/dev/null | wc -l) &&
		test_must_fail 3 gpotool hive recover \$P >out 2>err &&
		test_one_line err \"none of its transaction logs can be replayed: \" &&
		grep -q \"BadLogHive.LOG1 ([0-9]* bytes): its base block's checksum is bad\" err &&
		test_must_fail 3 gpotool hive set \$P 'X' v REG_DWORD 1 >out 2>err &&
		test_one_line err \"BadLogHive.LOG1 ([0-9]* bytes): its base block's checksum is bad\" &&
		grep -q 'BadLogHive.LOG2 (empty)' err &&
		! test -s out &&
		same_as_orig $d &&
		test \"\$(ls state/journal 2>/dev/null | wc -l)\" = \$n0 &&
		gpotool --json hive info \$P >info.json 2>/dev/null &&
		test \"\$(json_field info.json 'd[\"transaction_logs\"][\"replayed\"], d[\"transaction_logs\"][\"stale_primary\"]')\" = '(False, True)'
	"
}

clean_case() {
	local n=$1 d=c/$1
	test_expect_success "$n: a clean hive: its stale log is not applied, recover says no change, the dump is as it is" "
		setup_case $n $d &&
		gpotool --json hive info \$P >info.json 2>info.err &&
		! test -s info.err &&
		test \"\$(json_field info.json 'd[\"transaction_logs\"][\"dirty\"], d[\"transaction_logs\"][\"replayed\"]')\" = '(False, False)' &&
		test \"\$(json_field info.json '[l[\"applies\"] for l in d[\"transaction_logs\"][\"logs\"]]')\" = '[False]' &&
		gpotool hive info \$P >info.txt &&
		grep -q '^transaction logs  *NTUSER.DAT.LOG: new (HvLE entries), 12288 bytes, sequence 131, entries 131..131; not applied' info.txt &&
		gpotool hive recover \$P >out 2>err &&
		grep -q \"^no change: '\$P' is clean (sequence numbers 132/132)\" out &&
		same_as_orig $d &&
		expected_dump $n want.txt && dump \$P >got.txt && cmp got.txt want.txt
	"
}

if have_cases; then
	for x in "$E"/*.expected; do
		name=$(basename "$x" .expected)
		case $(exp_field $name yarp_verdict) in
		recovered*) recovered_case $name ;;
		"logs unusable"*) unusable_case $name ;;
		"no recovery needed"*) clean_case $name ;;
		*) test_expect_success "$name: a verdict this test knows" "echo '$(exp_field $name yarp_verdict)'; false" ;;
		esac
	done
else
	test_skip "every case of corpus/expected/log-replay (info, recover, dump, rollback)" "$why_skip"
fi

# ---------------------------------------------------------------------------------------
# 2. a write to a dirty hive, and a read of what only the logs hold

# write_case NAME KEY RLKEY: hive set of a new REG_SZ in the existing key KEY (its reglookup path RLKEY)
write_case() {
	local n=$1 key=$2 rl=$3 d=w/$1
	test_expect_success "$n: hive set on the dirty hive: clean, above the logs, the dump is the reference's plus the value" "
		setup_case $n $d &&
		gpotool hive set \$P '$key' GpotoolNew REG_SZ hello >out 2>err &&
		grep -q \"^gpotool: note: '\$P' is dirty: replayed its transaction logs into a private copy: .*; the change is made there and the primary written clean\" err &&
		grep -q '^set value .*GpotoolNew: (absent) -> REG_SZ \"hello\"' out &&
		python3 regf.py clean-above \$P \$LOGS &&
		logs_as_orig &&
		expected_dump $n want.txt && dump \$P >got.txt &&
		comm -23 want.txt got.txt >gone && comm -13 want.txt got.txt >new &&
		grep -q '^$rl,KEY,,' gone && test \$(wc -l <gone) = 1 &&
		grep -q '^$rl,KEY,,' new && grep -qx '$rl/GpotoolNew,SZ,hello,' new && test \$(wc -l <new) = 2
	"
	test_expect_success "$n: the journal holds the logs, the audit record says they were replayed; rollback is byte-identical" "
		case_vars $d &&
		id=\$(newest) &&
		python3 -c '
import json, sys
d = json.load(open(\"state/journal/\" + sys.argv[1] + \"/entry.json\"))
kinds = [t[\"kind\"] for t in d[\"targets\"]]
assert kinds == [\"hive\", \"hive-log\", \"hive-log\"], kinds
assert all(t[\"sha256_before\"] == t[\"sha256_after\"] for t in d[\"targets\"][1:])
r = json.loads(open(\"state/audit.log\").read().splitlines()[-1])
assert r[\"journal\"] == sys.argv[1], r[\"journal\"]
assert r[\"transaction_logs\"][\"replayed\"] is True and len(r[\"transaction_logs\"][\"applied\"]) == 2, r[\"transaction_logs\"]
assert \"ignore_logs\" not in r
' \$id &&
		gpotool rollback \$id >rb.out 2>rb.err &&
		grep -q '^transaction logs byte-for-byte as before journal entry ' rb.out &&
		same_as_orig $d &&
		gpotool hive info \$P 2>/dev/null | grep -q '^state  *dirty'
	"
}

if have_cases && [ -f "$E/regipy_UsrClass.dat.expected" ]; then
	write_case regipy_UsrClass.dat 'Local Settings' '/Local Settings'
else
	test_skip "regipy_UsrClass.dat: hive set on the dirty hive" "$why_skip"
fi
if have_cases && [ -f "$E/regipy_SYSTEM_B.expected" ]; then
	write_case regipy_SYSTEM_B 'HKLM\SYSTEM\Select' '/Select'
else
	test_skip "regipy_SYSTEM_B: hive set on the dirty hive" "$why_skip"
fi

# read_case NAME: a key only the replayed dump holds (not the stale primary's), read with hive get
read_case() {
	local n=$1 d=r/$1
	test_expect_success "$n: hive get of a key only the logs hold reads it from the replayed view, and says so" "
		setup_case $n $d &&
		expected_dump $n want.txt && dump \$P >stale.txt &&
		grep ',KEY,' stale.txt | cut -d, -f1 >stale.keys && grep ',KEY,' want.txt | cut -d, -f1 >want.keys &&
		comm -13 stale.keys want.keys | grep -v '%' | grep '^/.' | head -n 1 >k &&
		test -s k && rk=\$(sed 's,^/,,; s,/,\\\\,g' k) && echo \"key: \$rk\" &&
		gpotool hive get \$P \"\$rk\" >got 2>err &&
		test_one_line err \"^gpotool: note: '\$P' is dirty: replayed its transaction logs into a private copy: .*what is read here comes from that copy, not the stale primary\" &&
		head -n 1 got | grep -qF \"\$rk]\" &&
		same_as_orig $d &&
		mkdir $d-alone && cp \$P $d-alone/ &&
		test_must_fail gpotool hive get $d-alone/\${P##*/} \"\$rk\" >/dev/null 2>err2 &&
		grep -q 'no transaction log' err2
	"
}
if have_cases; then
	read_case yarp_NewDirtyHive1
	read_case regipy_UsrClass.dat
else
	test_skip "hive get of a key only the logs hold" "$why_skip"
fi

if have_cases; then
	test_expect_success "yarp_BadBaseBlockHive: hive info shows the base block taken from LOG1, not the bad one" "
		setup_case yarp_BadBaseBlockHive r/bb &&
		gpotool hive info \$P >info.txt 2>/dev/null &&
		grep -q '^format  *regf 1.3$' info.txt &&
		grep -q '^checksum  *bad (the base block was recovered from a transaction log)$' info.txt &&
		grep -q '^replay  *.*its bad base block was taken from BadBaseBlockHive.LOG1' info.txt
	"
else
	test_skip "yarp_BadBaseBlockHive: hive info shows the base block taken from LOG1" "$why_skip"
fi

test_done
