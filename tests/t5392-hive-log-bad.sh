#!/bin/bash
# Bad transaction logs: truncated (inside an entry, inside the base block), a wrong signature
# (regf, HvLE), a flipped Hash-1 or Hash-2, a sequence gap, a log of another hive (RmId), a log
# claiming a 4 GB hive (its hashes recomputed, so only the size is wrong). Made from copies of
# the corpus's NewDirtyHive (new format: LOG1 entry 2, LOG2 entries 3..5) and UsrClass.dat.
# With every log bad: `hive set` and `hive recover` exit 3 (never a crash), nothing is written
# (primary and logs byte-identical, no journal entry), the message names each log and why, and
# `hive info` says the same. With only the continuing log bad, the replay stops where the
# specification says (legitimately: the entries before a bad one are whole), and says why.
# Without the corpus: a dirty hive built here (hive new, hive set on a copy, a new-format log of
# the pages that differ, the primary's sequence number bumped) recovers to exactly the changed
# hive's reglookup dump, and the same log with a flipped hash is refused.
. "$(dirname "$0")/test-lib.sh"

# regf.py: the specification's layout, Marvin32 from its published algorithm; proven on the
# corpus's untouched entries first ("the helper's Marvin32 ...") before it reseals any.
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
        yield off, size
        off += size
def hashes_ok(log, off, size):
    h1, h2 = struct.unpack_from("<QQ", log, off + 24)
    return marvin32(bytes(log[off + 40:off + size])) == h1 and marvin32(bytes(log[off:off + 32])) == h2
def reseal(log, off):
    size, = struct.unpack_from("<I", log, off + 4)
    struct.pack_into("<Q", log, off + 24, marvin32(bytes(log[off + 40:off + size])))
    struct.pack_into("<Q", log, off + 32, marvin32(bytes(log[off:off + 32])))
def seal_base(b):
    struct.pack_into("<I", b, 508, xor32(b))
cmd, path = sys.argv[1], sys.argv[2]
log = bytearray(open(path, "rb").read())
offs = [o for o, _ in entries(log)]
if cmd == "verify":          # every entry's hashes right; prints "N entries"
    for o, s in entries(log):
        if not hashes_ok(log, o, s): sys.exit("%s: entry at %d: hashes do not verify" % (path, o))
    print("%d entries" % len(offs)); sys.exit(0)
elif cmd == "rmid":          # the GUID at base-block offset 112
    print(log[112:128].hex()); sys.exit(0)
elif cmd == "truncate": log = log[:int(sys.argv[3])]
elif cmd == "sig-regf": log[0:4] = b"xxxx"
elif cmd == "sig-hvle": log[offs[0]:offs[0] + 4] = b"XXXX"
elif cmd == "flip-hash1": log[offs[0] + 24] ^= 0x01
elif cmd == "flip-hash2": log[offs[0] + 32] ^= 0x01
elif cmd == "flip-data":  log[offs[0] + 40 + 8 * struct.unpack_from("<I", log, offs[0] + 20)[0] + 7] ^= 0x40
elif cmd == "drop-entry":    # the k-th entry spliced out (the ones after it move up)
    k = int(sys.argv[3]); o = offs[k]; s, = struct.unpack_from("<I", log, o + 4)
    log = log[:o] + log[o + s:]
elif cmd == "bins-4g":       # the first entry claims 0xFFFFF000 bytes of hive bins, hashes recomputed
    struct.pack_into("<I", log, offs[0] + 16, 0xFFFFF000); reseal(log, offs[0])
    assert hashes_ok(log, offs[0], struct.unpack_from("<I", log, offs[0] + 4)[0])
elif cmd == "bump-seq1":     # a primary made dirty: seq1 + 1, checksum resealed
    struct.pack_into("<I", log, 4, struct.unpack_from("<I", log, 4)[0] + 1); seal_base(log)
elif cmd == "mklog":         # mklog OUT.LOG CLEAN CHANGED: a new-format log taking CLEAN to CHANGED
    a, b = bytes(log), open(sys.argv[4], "rb").read()
    seq2, = struct.unpack_from("<I", a, 8)
    pages = []
    for p in range(4096, len(b), 4096):
        if b[p:p + 4096] != a[p:p + 4096]: pages.append(p)
    body = b"".join(struct.pack("<II", p - 4096, 4096) for p in pages) + b"".join(b[p:p + 4096] for p in pages)
    size = (40 + len(body) + 511) // 512 * 512
    e = bytearray(b"HvLE" + struct.pack("<IIIII", size, 0, seq2, len(b) - 4096, len(pages)) + bytes(16) + body)
    e += bytes(size - len(e))
    struct.pack_into("<Q", e, 24, marvin32(bytes(e[40:])))
    struct.pack_into("<Q", e, 32, marvin32(bytes(e[:32])))
    base = bytearray(a[:512])
    struct.pack_into("<III", base, 4, seq2, seq2, 0)
    struct.pack_into("<I", base, 28, 6)
    seal_base(base)
    open(sys.argv[3], "wb").write(bytes(base) + bytes(e))
    print("%d pages" % len(pages)); sys.exit(0)
else:
    sys.exit("unknown " + cmd)
open(path, "wb").write(log)
EOF

reg() { python3 regf.py "$@"; }
dump() { reglookup -H "$1" 2>/dev/null | LC_ALL=C sort; }
njournal() { ls state/journal 2>/dev/null | grep -vc '^\.'; }
NDH=yarp/NewDirtyHive1
UC=regipy/UsrClass.dat
have_cases() { have_corpus && [ -f "$CORPUS/hives/$NDH/NewDirtyHive.LOG2.xz" ] && [ -f "$CORPUS/hives/$UC/UsrClass.dat.LOG1.xz" ]; }
why_skip="no $CORPUS/hives/$NDH or $CORPUS/hives/$UC"

# fresh DIR: NewDirtyHive and its logs in DIR (and pristine copies in DIR.orig)
fresh() {
	rm -rf "$1" "$1.orig" && mkdir "$1" && cp nd/* "$1/" && cp -r "$1" "$1.orig"
}
same_as_orig() {
	local f
	for f in "$1.orig"/*; do cmp "$f" "$1/$(basename "$f")" || return 1; done
	test "$(ls -A "$1" | wc -l)" = "$(ls -A "$1.orig" | wc -l)" || { ls -A "$1" >&2; return 1; }
}
# refused DIR HIVE WHY1 WHY2: every write refused (exit 3, one line naming each log and why),
# nothing written; hive info says the same and reads the stale primary
refused() {
	local d=$1 h=$1/$2 n0
	n0=$(njournal)
	test_must_fail 3 gpotool hive set "$h" 'X' v REG_DWORD 1 >out 2>err &&
	test_one_line err "'$h': hive is dirty (sequence numbers [0-9]* != [0-9]*): none of its transaction logs can be replayed: " &&
	grep -qF "$2.LOG1 (" err && grep -qF -- "$3" err &&
	grep -qF "$2.LOG2 (" err && grep -qF -- "$4" err &&
	grep -q "give --ignore-logs to edit the stale primary anyway" err &&
	! test -s out &&
	test_must_fail 3 gpotool hive recover "$h" >out 2>err &&
	test_one_line err "'$h': hive is dirty (sequence numbers [0-9]* != [0-9]*): none of its transaction logs can be replayed: " &&
	! grep -q -- "--ignore-logs" err &&
	test_must_fail gpotool hive recover "$h" --ignore-logs >out 2>err2 && ! test -s out &&
	same_as_orig "$d" &&
	test "$(njournal)" = "$n0" &&
	gpotool hive info "$h" >info.txt 2>info.err &&
	grep -q "^replay  *not possible: it is dirty" info.txt &&
	grep -qF -- "$3" info.txt && grep -qF -- "$4" info.txt &&
	grep -q "so what is read here may be stale" info.err &&
	gpotool --json hive info "$h" >info.json 2>/dev/null &&
	test "$(json_field info.json 'd["transaction_logs"]["replayed"], [l["applies"] for l in d["transaction_logs"]["logs"]]')" = "(False, [False, False])" &&
	same_as_orig "$d"
}
# applied DIR EXPECT WHY2: hive info --json: the replay took EXPECT ("LOG1 2..2" style list, as
# "first..last"), LOG2's why contains WHY2; nothing written by the read
applied() {
	gpotool --json hive info "$1/NewDirtyHive" >info.json 2>/dev/null &&
	got=$(json_field info.json '" ".join("%s:%s..%s" % (l["name"][-4:], l["applied_first"], l["applied_last"]) for l in d["transaction_logs"]["logs"] if l["applies"])') &&
	test "$got" = "$2" || { echo "applied: '$got', expected '$2'" >&2; return 1; }
	json_field info.json 'd["transaction_logs"]["logs"][1]["why"]' | grep -qF -- "$3" &&
	same_as_orig "$1"
}

if have_cases; then
	test_expect_success 'setup: NewDirtyHive and UsrClass.dat with their logs; the helper Marvin32 verifies their entries' '
		mkdir nd uc &&
		for f in NewDirtyHive NewDirtyHive.LOG1 NewDirtyHive.LOG2; do unpack hives/$NDH/$f.xz nd/$f || exit 1; done &&
		for f in UsrClass.dat UsrClass.dat.LOG1 UsrClass.dat.LOG2; do unpack hives/$UC/$f.xz uc/$f || exit 1; done &&
		test "$(reg verify nd/NewDirtyHive.LOG1)" = "1 entries" &&
		test "$(reg verify nd/NewDirtyHive.LOG2)" = "3 entries" &&
		test "$(reg verify uc/UsrClass.dat.LOG1)" = "4 entries" &&
		test "$(reg verify uc/UsrClass.dat.LOG2)" = "10 entries" &&
		cp nd/NewDirtyHive.LOG2 flipped && reg flip-data flipped && test_must_fail reg verify flipped &&
		cp nd/NewDirtyHive.LOG2 resealed && reg bins-4g resealed && reg verify resealed &&
		gpotool --json hive info nd/NewDirtyHive >info.json 2>/dev/null &&
		test "$(json_field info.json "d[\"transaction_logs\"][\"first_seq\"], d[\"transaction_logs\"][\"last_seq\"]")" = "(2, 5)"
	'

	# each bad log: on both logs (all refused), and on LOG2 alone (the replay stops before it)
	bad_case() {
		local what=$1 op=$2 why=$3 why2=${4:-$3} d=b-$2${5:-}
		test_expect_success "$what in both logs: refused (exit 3), nothing written, each log and why named" "
			fresh $d && reg $op $d/NewDirtyHive.LOG1 ${5:-} && reg $op $d/NewDirtyHive.LOG2 ${5:-} &&
			cp $d/* $d.orig/ &&
			refused $d NewDirtyHive \"$why\" \"$why2\"
		"
	}
	bad_case 'a log cut inside its base block' truncate 'truncated: 300 bytes, shorter than its 512-byte base block' '' 300
	bad_case 'a log cut inside its first entry' truncate 'truncated entry at offset 512' '' 1000
	bad_case "'regf' overwritten" sig-regf "no 'regf' base block"
	bad_case "'HvLE' of the first entry overwritten" sig-hvle 'no log entries'
	bad_case 'a flipped byte in Hash-1 of the first entry' flip-hash1 'bad Hash-1 in the entry at offset 512'
	bad_case 'a flipped byte in Hash-2 of the first entry' flip-hash2 'bad Hash-2 in the entry at offset 512'
	bad_case 'a flipped byte in the first entry'"'"'s page data' flip-data 'bad Hash-1 in the entry at offset 512'
	bad_case 'an entry claiming a 4 GB hive (hashes recomputed)' bins-4g 'claims 4294963200 bytes of hive bins'

	test_expect_success 'the logs of another hive (RmId differs): refused, nothing written, both named' '
		rm -rf f f.orig && mkdir f && cp uc/UsrClass.dat f/ &&
		cp nd/NewDirtyHive.LOG1 f/UsrClass.dat.LOG1 && cp nd/NewDirtyHive.LOG2 f/UsrClass.dat.LOG2 &&
		cp -r f f.orig &&
		test "$(reg rmid f/UsrClass.dat)" != "$(reg rmid f/UsrClass.dat.LOG1)" &&
		refused f UsrClass.dat "a log of another hive: its RmId {" "differs from the primary'"'"'s {"
	'

	test_expect_success 'LOG2 cut inside its second entry: entries 2..3 replayed (whole before the cut), the cut named' '
		fresh p-cut && reg truncate p-cut/NewDirtyHive.LOG2 9000 && cp p-cut/* p-cut.orig/ &&
		applied p-cut "LOG1:2..2 LOG2:3..3" "truncated entry at offset 8192" &&
		test "$(json_field info.json "d[\"transaction_logs\"][\"entries\"], d[\"transaction_logs\"][\"sequence_after\"]")" = "(2, 4)"
	'
	test_expect_success 'a gap in LOG2 (entry 4 spliced out): replay stops at 3, the gap named, sequence above the 5 left after it' '
		fresh p-gap && reg drop-entry p-gap/NewDirtyHive.LOG2 1 && cp p-gap/* p-gap.orig/ &&
		test "$(reg verify p-gap/NewDirtyHive.LOG2)" = "2 entries" &&
		applied p-gap "LOG1:2..2 LOG2:3..3" "gap: the entry at offset 8192 has sequence number 5, 4 expected" &&
		test "$(json_field info.json "d[\"transaction_logs\"][\"sequence_after\"]")" = 6 &&
		gpotool hive recover p-gap/NewDirtyHive >out 2>err &&
		python3 -c "
import struct, sys
s1, s2 = struct.unpack_from(\"<II\", open(sys.argv[1], \"rb\").read(), 4)
assert s1 == s2 == 6, (s1, s2)" p-gap/NewDirtyHive &&
		cmp p-gap/NewDirtyHive.LOG2 p-gap.orig/NewDirtyHive.LOG2
	'
	for op in flip-hash1 bins-4g sig-hvle; do
		test_expect_success "$op in LOG2 alone: only LOG1 replayed, LOG2 said why" "
			fresh p-$op && reg $op p-$op/NewDirtyHive.LOG2 && cp p-$op/* p-$op.orig/ &&
			applied p-$op 'LOG1:2..2' '$(case $op in flip-hash1) echo 'bad Hash-1';; bins-4g) echo 'claims 4294963200 bytes';; *) echo 'no log entries';; esac)'
		"
	done
	test_expect_success '--ignore-logs on UsrClass.dat whose both logs are bad: written above their sequence numbers (291)' '
		rm -rf g && mkdir g && cp uc/* g/ && reg flip-hash1 g/UsrClass.dat.LOG1 && reg flip-hash1 g/UsrClass.dat.LOG2 &&
		gpotool hive set g/UsrClass.dat "HKCR\\Keep" X REG_DWORD 1 --ignore-logs >out 2>err &&
		python3 -c "
import struct
s1, s2 = struct.unpack_from(\"<II\", open(\"g/UsrClass.dat\", \"rb\").read(12), 4)
assert s1 == s2 == 292, (s1, s2)
"
	'
	if [ -x "$PROJECT_DIR/build/asan/gpotool" ]; then
		test_expect_success 'under ASan: every bad log read and refused without a report' '
			for d in b-*/ f/; do
				h=$(ls $d | grep -vi "\.log[12]$") &&
				ASAN_OPTIONS=detect_leaks=1:exitcode=99 "$PROJECT_DIR/build/asan/gpotool" hive info "$d$h" >/dev/null 2>asan.err
				test $? -eq 0 || { cat asan.err; exit 1; }
				ASAN_OPTIONS=detect_leaks=1:exitcode=99 "$PROJECT_DIR/build/asan/gpotool" hive set "$d$h" X v REG_DWORD 1 >/dev/null 2>asan.err
				test $? -eq 3 || { cat asan.err; exit 1; }
			done
		'
	else
		test_skip 'under ASan: every bad log read and refused without a report' "no $PROJECT_DIR/build/asan/gpotool (make asan)"
	fi
else
	test_skip 'bad logs made from the corpus NewDirtyHive and UsrClass.dat' "$why_skip"
fi

# ---------------------------------------------------------------------------------------
# without the corpus: a dirty hive and its log, built here

if command -v reglookup >/dev/null; then
	test_expect_success 'built: a clean hive, a changed copy, a new-format log of the pages that differ' '
		mkdir s &&
		gpotool hive new --kind SYSTEM s/clean >/dev/null &&
		gpotool hive set s/clean "HKLM\\SYSTEM\\Keep" Old REG_SZ before >/dev/null &&
		cp s/clean s/changed &&
		gpotool hive set s/changed "HKLM\\SYSTEM\\Keep" Old REG_SZ after >/dev/null &&
		gpotool hive set s/changed "HKLM\\SYSTEM\\Added\\Deeper" New REG_DWORD 7 >/dev/null &&
		for i in $(seq 1 40); do echo "\"V$i\"=\"$(printf "%0200d" $i)\""; done >big.body &&
		{ printf "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\Grown]\n"; cat big.body; } >grow.reg &&
		gpotool hive import s/changed grow.reg >/dev/null &&
		test "$(stat -c %s s/changed)" -ge "$(stat -c %s s/clean)" &&
		mkdir d && cp s/clean d/SYSTEM && reg bump-seq1 d/SYSTEM &&
		reg mklog d/SYSTEM d/SYSTEM.LOG1 s/changed | grep -q "^[1-9][0-9]* pages$" &&
		reg verify d/SYSTEM.LOG1 && cp -r d d.orig &&
		dump s/changed >want.txt && dump d/SYSTEM >stale.txt && ! cmp -s want.txt stale.txt
	'
	test_expect_success 'built: hive info replays it; hive recover gives exactly the changed hive'"'"'s dump' '
		gpotool --json hive info d/SYSTEM >info.json 2>info.err &&
		test "$(json_field info.json "d[\"transaction_logs\"][\"replayed\"], d[\"transaction_logs\"][\"entries\"]")" = "(True, 1)" &&
		grep -q "^gpotool: note: .d/SYSTEM. is dirty: replayed its transaction logs into a private copy: SYSTEM.LOG1 entry " info.err &&
		gpotool hive get d/SYSTEM "HKLM\\SYSTEM\\Added\\Deeper" New >got 2>/dev/null &&
		grep -q "dword:00000007" got &&
		same_as_orig d &&
		gpotool hive recover d/SYSTEM >out 2>err &&
		dump d/SYSTEM >got.txt && cmp got.txt want.txt &&
		cmp d/SYSTEM.LOG1 d.orig/SYSTEM.LOG1
	'
	test_expect_success 'built: the same log with a flipped Hash-1, or a flipped page byte: refused, nothing written' '
		for op in flip-hash1 flip-data; do
			rm -rf e e.orig && cp -r d.orig e && reg $op e/SYSTEM.LOG1 && cp -r e e.orig &&
			test_must_fail 3 gpotool hive set e/SYSTEM "HKLM\\SYSTEM\\Keep" X REG_DWORD 1 >out 2>err &&
			test_one_line err "none of its transaction logs can be replayed: SYSTEM.LOG1 ([0-9]* bytes): bad Hash-1 in the entry at offset 512" &&
			test_must_fail 3 gpotool hive recover e/SYSTEM >out 2>err &&
			same_as_orig e || exit 1
		done
	'
	newest() { ls state/journal | grep -v "^\." | sort | tail -n 1; }
	test_expect_success 'built: rollback of a replayed write refuses a log changed since (nothing written), makes a deleted one again, never blocks on a FIFO' '
		rm -rf r && cp -r d.orig r &&
		gpotool hive set r/SYSTEM "HKLM\\SYSTEM\\Keep" Z REG_DWORD 1 >out 2>err && id=$(newest) && cp r/SYSTEM r.after &&
		cp r/SYSTEM.LOG1 r.log1 && printf "NEWER" | dd of=r/SYSTEM.LOG1 bs=1 seek=600 conv=notrunc 2>/dev/null &&
		test_must_fail 3 gpotool rollback "$id" >out 2>err &&
		test_one_line err "its transaction log .*SYSTEM.LOG1. changed since journal entry $id .*saved nowhere" &&
		cmp r/SYSTEM r.after &&
		rm r/SYSTEM.LOG1 && mkfifo r/SYSTEM.LOG1 &&
		test_must_fail 3 timeout 20 "$GPOTOOL" rollback "$id" >out 2>err && cmp r/SYSTEM r.after &&
		grep -q "SYSTEM.LOG1. is not a regular file" err &&
		rm r/SYSTEM.LOG1 &&
		gpotool rollback "$id" >out 2>err &&
		cmp r/SYSTEM d.orig/SYSTEM && cmp r/SYSTEM.LOG1 d.orig/SYSTEM.LOG1 &&
		grep -q "SYSTEM.LOG1 (made again)" out
	'
	test_expect_success 'built: --ignore-logs on a hive whose logs replay: they are replayed, and the audit record says no ignore_logs' '
		rm -rf q && cp -r d.orig q &&
		gpotool hive set q/SYSTEM "HKLM\\SYSTEM\\Keep" Q REG_DWORD 1 --ignore-logs >out 2>err &&
		grep -q "^gpotool: note: .q/SYSTEM. is dirty: replayed" err &&
		python3 -c "
import json
r = json.loads(open(\"state/audit.log\").read().splitlines()[-1])
assert r[\"command\"] == \"hive set\" and \"ignore_logs\" not in r, r
assert r[\"transaction_logs\"][\"replayed\"] is True, r
"
	'
	test_expect_success 'built: --ignore-logs writes to the stale primary, and the audit record says so' '
		rm -rf e e.orig && cp -r d.orig e && reg flip-hash1 e/SYSTEM.LOG1 && cp e/SYSTEM.LOG1 e.LOG1 &&
		gpotool hive set e/SYSTEM "HKLM\\SYSTEM\\Keep" X REG_DWORD 1 --ignore-logs >out 2>err &&
		grep -q "^gpotool: warning: .e/SYSTEM. is dirty .*--ignore-logs: editing the stale primary" err &&
		cmp e/SYSTEM.LOG1 e.LOG1 &&
		python3 -c "
import json
r = json.loads(open(\"state/audit.log\").read().splitlines()[-1])
assert r[\"command\"] == \"hive set\" and r[\"exit\"] == 0, r
assert r[\"ignore_logs\"] is True, r.get(\"ignore_logs\")
t = r[\"transaction_logs\"]
assert t[\"dirty\"] is True and t[\"replayed\"] is False and t[\"stale_primary\"] is True, t
assert [l[\"name\"] for l in t[\"logs\"]] == [\"SYSTEM.LOG1\"], t[\"logs\"]
assert all(l[\"path\"].startswith(\"/\") for l in t[\"logs\"]), t[\"logs\"]
" &&
		python3 - e/SYSTEM e.LOG1 <<-\EOF
		import struct, sys
		# the stale primary written clean, above every sequence number its log holds (the
		# entries stay beside it: a bad hash ends a replay, not what Windows may find later)
		b = open(sys.argv[1], "rb").read(4096)
		s1, s2 = struct.unpack_from("<II", b, 4)
		log = open(sys.argv[2], "rb").read()
		top = struct.unpack_from("<I", log, 4)[0]
		off = 512
		while off + 40 <= len(log) and log[off:off + 4] == b"HvLE":
		    size, _, seq = struct.unpack_from("<III", log, off + 4)
		    top = max(top, seq)
		    off += max(size, 512)
		assert s1 == s2 and s1 > top, (s1, s2, top)
		EOF
	'
else
	test_skip 'built dirty hives (recover, refusal of a flipped hash, --ignore-logs)' 'no reglookup'
fi

test_done
