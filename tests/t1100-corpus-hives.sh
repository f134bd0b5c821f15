#!/bin/bash
# Real hives from the shared corpus (../shared/corpus/hives, described in its MANIFEST.md):
# hive info on every clean hive, set/get/delete round trips on two real SYSTEM hives checked by
# reglookup (a third parser), refusal of every malformed, dirty, truncated, wrong-format and
# wrong-version file with nothing written, odd-but-readable hives, and the big-data guard.
# Each corpus file is decompressed into its own directory under the trash directory (the corpus
# itself is never written), with a pristine copy kept outside that directory: a refusal must leave
# the file byte-for-byte unchanged and the directory holding nothing but the hive.
# Without the corpus (a clone without ../shared) every test is reported as skipped but two made
# from the sample dc01 SYSTEM hive: one whose only fault is its checksum, and one made dirty.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
KDC1='HKLM\SYSTEM\ControlSet001\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
RL_SCBE=/ControlSet001/Services/Kdc/$SCBE

corpus_test() {
	if have_corpus; then
		test_expect_success "$1" "$2"
	else
		test_skip "$1" "no corpus at $CORPUS"
	fi
}

# hive_at REL: for corpus file hives/REL sets D (its own directory), H (the working copy in D) and
# P (the pristine copy, outside D): yarp/X.xz -> w/yarp_X/X and p/yarp_X. No forks: the machine
# runs ~150 tests, several with the ASan build.
hive_at() {
	local r=${1%.xz}
	r=${r%.gz}
	D=w/${r//\//_}
	H=$D/${r##*/}
	P=p/${r//\//_}
}

# fetch REL: hive_at, and decompress it the first time
fetch() {
	hive_at "$1"
	[ -f "$H" ] && return 0
	mkdir -p "$D" p && unpack "hives/$1" "$H" && cp "$H" "$P"
}

# refetch REL: a fresh copy, dropping what earlier tests wrote into it
refetch() { hive_at "$1" && rm -rf "$D" && fetch "$1"; }

unchanged() { cmp "$H" "$P"; }

# nothing but the hive in its directory: no temp file, no stray output
no_litter() {
	local f
	shopt -s nullglob dotglob
	f=("$D"/*)
	[ ${#f[@]} = 1 ] && [ "${f[0]}" = "$H" ] && return 0
	echo "left beside the hive: ${f[*]}" >&2
	return 1
}

journal_count() {
	local j
	shopt -s nullglob
	j=(state/journal/*)
	echo ${#j[@]}
}

# the message names the file it is about
names_file() { grep -qF "$H" "$1" || { echo "the message does not name '$H': $(cat "$1")" >&2; return 1; }; }

# says ERRFILE PATTERN: one line, naming the problem (PATTERN) even with the file name taken out
# (corpus names such as corrupted_system_hive would match on their own)
says() {
	local msg
	test_one_line "$1" . || return 1
	msg=$(cat "$1")
	msg=${msg//"$H"/}
	grep -q -- "$2" <<<"$msg" || { echo "'$2' not in: $(cat "$1")" >&2; return 1; }
}

# reglookup dump without key lines (their last-write times change), sorted
rl_dump() { reglookup -H "$1" 2>/dev/null >"$2.raw" && grep -v ",KEY," "$2.raw" | sort >"$2"; }

# ---------------------------------------------------------------------------------------------
# 1. hive info on every clean, well-formed hive (MANIFEST: sequence numbers equal, checksum ok,
#    hivexml and regfinfo open it): format, sequence numbers, root key and kind.
#    REL|format|seq|kind|root key (prefix: MANIFEST cuts root names at 40 characters)
clean_hives='
EricZimmerman-Registry/BCD.xz|1.3|354|other|System
EricZimmerman-Registry/NTUSER1.DAT.xz|1.3|973|NTUSER|CsiTool-CreateHive-{00000000-0000-0000-0
EricZimmerman-Registry/SAM.xz|1.3|61|SAM|CsiTool-CreateHive-{00000000-0000-0000-0
EricZimmerman-Registry/SAM_DUPENAME.xz|1.3|20665|SAM|SAM
EricZimmerman-Registry/SECURITYNoRoot.xz|1.5|1|other|ROOT
EricZimmerman-Registry/UsrClassDeletedBags.dat.xz|1.3|21|USRCLASS|S-1-5-21-146151751-63468248-1215037915-1
bitcurator/NTUSER.DAT.xz|1.3|3545|NTUSER|$$$PROTO.HIV
bitcurator/SAM.xz|1.3|191|SAM|SAM
dfwinreg/NTUSER.DAT/NTUSER.DAT.xz|1.3|132|NTUSER|CsiTool-CreateHive-{00000000-0000-0000-0
dfwinreg/SECURITY.xz|1.3|183|SECURITY|CsiTool-CreateHive-{00000000-0000-0000-0
dissect.regf/SYSTEM.gz|1.5|228|SYSTEM|ROOT
hivex/minimal.xz|1.5|256|other|$$$PROTO.HIV
hivex/special.xz|1.5|262|other|$$$PROTO.HIV
notatin/NTUSER.DAT.xz|1.5|287|NTUSER|CsiTool-CreateHive-{00000000-0000-0000-0
python-registry/REORGANIZED_VALUES_TESTS.xz|1.3|2|other|UNICODE_TESTS
python-registry/UNICODE_TESTS.xz|1.3|1|other|UNICODE_TESTS
regipy/BCD.xz|1.3|34|other|NewStoreRoot
regipy/NTUSER.DAT.xz|1.3|749|NTUSER|CMI-CreateHive{6A1C4018-979D-4291-A7DC-7
regipy/SAM.xz|1.3|96|SAM|CMI-CreateHive{899121E8-11D8-44B6-ACEB-3
regipy/SYSTEM.xz|1.5|13983|SYSTEM|CMI-CreateHive{F10156BE-0E87-4EFB-969E-5
regipy/ntuser_software_partial.xz|1.3|1|other|Software
yarp/BigDataHive.xz|1.5|4|other|{49ede77f-4b2f-45b8-b1f8-5bc740182bdf}
yarp/CompHive.xz|1.3|8|other|{e8e31c0a-29b1-4906-a573-deeb3813d89a}
yarp/DeletedDataHive.xz|1.3|3|other|{d4dfedc6-ee82-4f58-8e03-9c31b6a21aa9}
yarp/DeletedTreeHive.xz|1.3|4|other|{d253c44d-aea4-4117-bb6c-34bb4803b13e}
yarp/DeletedTreePartialPathHive.xz|1.3|4|other|{d253c44d-aea4-4117-bb6c-34bb4803b13e}
yarp/DuplicateSubkeysHive.xz|1.3|4|other|{6214ff27-7b1b-41a3-9ae4-5fb851ffed63}
yarp/EmptyHive.xz|1.3|2|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/HealedHive.xz|1.3|6|other|{a1c3317d-5e37-4a97-9c38-476347d6668a}
yarp/InvalidParentHive.xz|1.3|4|other|{6214ff27-7b1b-41a3-9ae4-5fb851ffed63}
yarp/ManySubkeysHive.xz|1.3|4|other|{6214ff27-7b1b-41a3-9ae4-5fb851ffed63}
yarp/MultiSzHive.xz|1.3|3|other|{53a28f14-e85a-41f0-b475-d0ad8005af74}
yarp/NewDirtyHive1/RecoveredHive_Windows10.xz|1.3|6|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/OffHive.xz|1.5|2|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/OldDirtyHive/RecoveredHive_Windows7.xz|1.3|7|other|{6214ff27-7b1b-41a3-9ae4-5fb851ffed63}
yarp/ReallocValueDataHive.xz|1.3|4|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/ReallocValueHive.xz|1.3|4|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/RemnantData.xz|1.3|5|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/RemnantsHive.xz|1.3|2|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/SlackHive.xz|1.3|4|other|{6214ff27-7b1b-41a3-9ae4-5fb851ffed63}
yarp/SqliteHive.xz|1.3|4|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/StringValuesHive.xz|1.3|3|other|{6a22328e-3f35-4009-9de6-75dfed7506fe}
yarp/TwoOwnersHive.xz|1.3|9|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/UnicodeHive.xz|1.3|3|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
yarp/ValuesOrderHive.xz|1.3|3|other|{dedef10d-30ff-45b5-9d44-b3fa249ecd49}
'
# regipy/ntuser_software_partial holds only a user's Software subtree (root key "Software", with
# Microsoft and Policies below it): MANIFEST says it is NOT a machine SOFTWARE hive, so its kind is
# "other" - taking it for SOFTWARE lets HKLM\SOFTWARE paths be written into a user's hive.

check_info_clean() {
	local rel=$1 fmt=$2 seq=$3 kind=$4 root=$5 got
	fetch "$rel" &&
	gpotool hive info "$H" >"$D.info" 2>"$D.info-err" || { cat "$D.info-err" >&2; return 1; }
	got=$(sed -n "s/^root key  *//p" "$D.info")
	grep -q "^file  *$H$" "$D.info" &&
	grep -q "^format  *regf $fmt$" "$D.info" &&
	grep -q "^state  *clean (sequence numbers $seq/$seq)$" "$D.info" &&
	grep -q "^checksum  *ok$" "$D.info" &&
	case "$got" in "$root"*) ;; *) echo "root key '$got', expected '$root...'" >&2; false ;; esac &&
	grep -q "^kind  *$kind (detected from content)$" "$D.info" ||
		{ echo "--- hive info printed:" >&2; cat "$D.info" >&2; return 1; }
	# a clean hive draws no warning, and reading writes nothing
	test ! -s "$D.info-err" && unchanged && no_litter
}

while IFS='|' read -r rel fmt seq kind root; do
	[ -n "$rel" ] || continue
	corpus_test "hive info $rel: regf $fmt, clean, kind $kind" '
		check_info_clean "$rel" "$fmt" "$seq" "$kind" "$root"
	'
done <<EOF
$clean_hives
EOF

corpus_test 'hive info regipy/SYSTEM.xz: ControlSet001, WKS-WIN732BITA, WinNT is a workstation' '
	hive_at regipy/SYSTEM.xz &&
	grep -q "^current control set  *ControlSet001$" "$D.info" &&
	grep -q "^computer name  *WKS-WIN732BITA$" "$D.info" &&
	grep -q "^product type  *WinNT$" "$D.info" &&
	grep -q "^role  *workstation$" "$D.info"
'

corpus_test 'hive info dissect.regf/SYSTEM.gz: ControlSet001, DESKTOP-M3OSHQU, WinNT is a workstation' '
	hive_at dissect.regf/SYSTEM.gz &&
	grep -q "^current control set  *ControlSet001$" "$D.info" &&
	grep -q "^computer name  *DESKTOP-M3OSHQU$" "$D.info" &&
	grep -q "^product type  *WinNT$" "$D.info" &&
	grep -q "^role  *workstation$" "$D.info"
'

corpus_test 'hive info --json on a real SYSTEM hive is one object with the same facts' '
	fetch regipy/SYSTEM.xz &&
	gpotool --json hive info "$H" >info.json &&
	python3 - info.json <<-\PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	want = {"command": "hive info", "ok": True, "exit": 0, "kind": "SYSTEM", "dirty": False,
	        "format": "regf 1.5", "current_control_set": "ControlSet001",
	        "computer_name": "WKS-WIN732BITA", "product_type": "WinNT", "role": "workstation"}
	bad = {k: d.get(k) for k in want if d.get(k) != want[k]}
	sys.exit("unexpected: %r" % bad if bad else 0)
	PY
'

corpus_test 'a user Software subtree is not taken for the machine SOFTWARE hive: HKLM\SOFTWARE paths are refused' '
	fetch regipy/ntuser_software_partial.xz &&
	test_must_fail 2 gpotool hive set "$H" "HKLM\\SOFTWARE\\Policies\\Gpotool" Val REG_DWORD 1 2>err &&
	test_one_line err "SOFTWARE" &&
	unchanged
'

# ---------------------------------------------------------------------------------------------
# 2. set/get/delete round trips on the two real SYSTEM hives. Services\Kdc is absent in both
#    (MANIFEST), so hive set creates the key; reglookup is the independent check.
for rel in regipy/SYSTEM.xz dissect.regf/SYSTEM.gz; do
	corpus_test "$rel: Services\\Kdc is absent before; baseline reglookup dump" '
		fetch "$rel" &&
		test_must_fail 1 gpotool hive get "$H" "$KDC" 2>err &&
		test_one_line err "not found" &&
		! reglookup -H -p /ControlSet001/Services/Kdc "$H" 2>/dev/null | grep -q . &&
		rl_dump "$H" "$D.before" &&
		test "$(wc -l <"$D.before")" -gt 10000
	'

	corpus_test "$rel: hive set through CurrentControlSet creates Services\\Kdc\\$SCBE" '
		hive_at "$rel" &&
		gpotool hive set "$H" "$KDC" $SCBE REG_DWORD 1 >out &&
		grep -i "^add key " out | grep -qiF "$KDC1" &&
		grep -i "^set value " out | grep -qiF "$KDC1\\$SCBE: (absent) -> REG_DWORD 1 (0x00000001)" &&
		grep -q "^verified: libregf reads back 2 changes" out &&
		tail -n 1 out | grep -q "^journal: " &&
		gpotool hive get "$H" "$KDC" $SCBE >got &&
		echo "dword:00000001" >expect && test_cmp expect got &&
		reglookup -H -p $RL_SCBE "$H" 2>/dev/null >rl &&
		test "$(wc -l <rl)" = 1 &&
		grep -qix -F "$RL_SCBE,DWORD,0x00000001," rl
	'

	corpus_test "$rel: the full reglookup dump differs only by the value added" '
		hive_at "$rel" &&
		rl_dump "$H" "$D.after" &&
		{ diff "$D.before" "$D.after" | grep "^[<>]" >d || true; } &&
		test "$(wc -l <d)" = 1 &&
		grep -qix -F "> $RL_SCBE,DWORD,0x00000001," d
	'

	corpus_test "$rel: hivexsh, regfinfo and hive info still read the result" '
		hive_at "$rel" &&
		printf "cd \\\\ControlSet001\\\\Services\\\\Kdc\\nlsval\\n" | hivexsh "$H" >hx &&
		echo "\"$SCBE\"=dword:00000001" >expect && test_cmp expect hx &&
		regfinfo "$H" >/dev/null &&
		gpotool hive info "$H" >info &&
		grep -q "^kind  *SYSTEM (detected from content)$" info &&
		grep -q "^state  *clean" info &&
		grep -q "^current control set  *ControlSet001$" info &&
		no_litter
	'

	corpus_test "$rel: hive delete removes the value and the dump equals the original again" '
		hive_at "$rel" &&
		gpotool hive delete "$H" "$KDC" $SCBE >out &&
		grep -i "^delete value " out | grep -qiF "$KDC1\\$SCBE: REG_DWORD 1 (0x00000001) -> (absent)" &&
		test_must_fail 1 gpotool hive get "$H" "$KDC" $SCBE 2>err &&
		rl_dump "$H" "$D.deleted" &&
		test_cmp "$D.before" "$D.deleted" &&
		printf "cd \\\\ControlSet001\\\\Services\\\\Kdc\\nlsval\\n" | hivexsh "$H" >hx &&
		test ! -s hx &&
		no_litter
	'
done

# ---------------------------------------------------------------------------------------------
# 3. Every malformed, dirty, truncated, wrong-format and wrong-version file, and transaction logs
#    given as the hive: hive set exits 3 with one line naming the file and the problem, writes
#    nothing (file byte-for-byte unchanged, no temp file, no journal entry, nothing on stdout).
#    hive info reads dirty hives (exit 0, "dirty", one warning line) and refuses the rest (exit 3).
#    REL;what the one line must say (grep pattern);info: "refuse" or "dirty KIND [COMPUTER NAME]"
refused_files='
EricZimmerman-Registry/NotAHive.xz;not a registry hive;refuse
dfwinreg/SYSTEM.DAT.xz;not a registry hive;refuse
yarp/TruncatedHiveBin.xz;not a registry hive;refuse
EricZimmerman-Registry/SAMBadHBinHeader.xz;damaged\|corrupt\|hbin;refuse
regipy/corrupted_system_hive.xz;damaged\|corrupt\|hbin;refuse
yarp/TruncatedHive.xz;truncated;refuse
yarp/TruncatedPairHive.xz;damaged\|corrupt\|[Ii]nvalid\|truncated;refuse
yarp/TruncatedDirtyHive.xz;dirty\|truncated;refuse
yarp/BadBaseBlockHive/BadBaseBlockHive.xz;checksum\|version;refuse
regipy/SECURITY.xz;dirty;dirty SECURITY
regipy/SYSTEM_B/SYSTEM_B.xz;dirty;dirty SYSTEM DESKTOP-PM6C56D
regipy/SYSTEM_WIN_10_1709.xz;dirty;dirty SYSTEM DESKTOP-2KGM189
regipy/UsrClass.dat/UsrClass.dat.xz;dirty;dirty USRCLASS
regipy/amcache.hve.xz;dirty;dirty other
yarp/OldDirtyHive/OldDirtyHive.xz;dirty;dirty other
yarp/NewDirtyHive1/NewDirtyHive.xz;dirty;dirty other
yarp/BadLogHive1/BadLogHive.xz;dirty;dirty other
regipy/SYSTEM_B/SYSTEM_B.LOG1.xz;transaction log;refuse
regipy/SYSTEM_B/SYSTEM_B.LOG2.xz;transaction log;refuse
regipy/UsrClass.dat/UsrClass.dat.LOG1.xz;transaction log;refuse
regipy/UsrClass.dat/UsrClass.dat.LOG2.xz;transaction log;refuse
yarp/NewDirtyHive1/NewDirtyHive.LOG1.xz;transaction log;refuse
yarp/NewDirtyHive1/NewDirtyHive.LOG2.xz;transaction log;refuse
yarp/OldDirtyHive/OldDirtyHive.LOG1.xz;transaction log;refuse
yarp/BadBaseBlockHive/BadBaseBlockHive.LOG1.xz;transaction log;refuse
dfwinreg/NTUSER.DAT/NTUSER.DAT.LOG.xz;transaction log;refuse
yarp/BadLogHive1/BadLogHive.LOG1.xz;checksum\|transaction log;refuse
yarp/OldDirtyHive/OldDirtyHive.LOG2.xz;not a registry hive\|empty;refuse
yarp/BadBaseBlockHive/BadBaseBlockHive.LOG2.xz;not a registry hive\|empty;refuse
yarp/BadLogHive1/BadLogHive.LOG2.xz;not a registry hive\|empty;refuse
'

check_set_refused() {
	local rel=$1 pattern=$2 n
	fetch "$rel" &&
	n=$(journal_count) &&
	{ test_must_fail 3 gpotool hive set "$H" GpotoolTest Val REG_DWORD 1 >"$D.out" 2>"$D.err" ||
		{ cat "$D.err" >&2; false; }; } &&
	says "$D.err" "$pattern" &&
	names_file "$D.err" &&
	test ! -s "$D.out" &&
	unchanged &&
	no_litter &&
	test "$(journal_count)" = "$n"
}

check_info_refused() {
	local rel=$1 pattern=$2 info=$3 kind name
	fetch "$rel" || return 1
	case "$info" in
	refuse)
		{ test_must_fail 3 gpotool hive info "$H" >"$D.out" 2>"$D.err" ||
			{ cat "$D.err" >&2; false; }; } &&
		says "$D.err" "$pattern" &&
		names_file "$D.err" &&
		test ! -s "$D.out"
		;;
	dirty\ *)
		set -- $info
		kind=$2 name=${3-}
		gpotool hive info "$H" >"$D.out" 2>"$D.err" &&
		grep -q "^state  *dirty (sequence numbers " "$D.out" &&
		grep -q "^kind  *$kind (detected from content)$" "$D.out" &&
		{ [ -z "$name" ] || grep -q "^computer name  *$name$" "$D.out"; } &&
		says "$D.err" "warning: .*dirty" &&
		names_file "$D.err"
		;;
	esac &&
	unchanged &&
	no_litter
}

while IFS=';' read -r rel pattern info; do
	[ -n "$rel" ] || continue
	corpus_test "hive set refuses $rel: exit 3, one line ($pattern), nothing written" '
		check_set_refused "$rel" "$pattern"
	'
	case "$info" in
	refuse) title="hive info refuses $rel: exit 3, one line" ;;
	*) title="hive info reads $rel ($info) with one warning line" ;;
	esac
	corpus_test "$title" '
		check_info_refused "$rel" "$pattern" "$info"
	'
done <<EOF
$refused_files
EOF

# TruncatedPairHive: the third subkey of the root has a name ending in half a UTF-16 surrogate
# pair (libregf and regfinfo fail on it, reglookup warns). The base block is sane, so only a walk
# of the keys finds it. A write that avoids that key (ss1 is listed before it) is still a write
# into a malformed hive; the readers must say which file they cannot read.
corpus_test 'TruncatedPairHive: hive set into ss1, avoiding the damaged key, is refused too' '
	refetch yarp/TruncatedPairHive.xz &&
	{ test_must_fail 3 gpotool hive set "$H" ss1 Val REG_DWORD 1 >"$D.out" 2>"$D.err" ||
		{ cat "$D.out" "$D.err" >&2; false; }; } &&
	names_file "$D.err" &&
	unchanged &&
	no_litter
'

corpus_test 'TruncatedPairHive: hive get and hive export fail with one line naming the file' '
	refetch yarp/TruncatedPairHive.xz &&
	test_must_fail 3 gpotool hive get "$H" GpotoolTest 2>err &&
	test_one_line err . && names_file err &&
	test_must_fail 3 gpotool hive export "$H" --output x.reg 2>err &&
	test_one_line err . && names_file err &&
	unchanged &&
	no_litter
'

# Wrong format versions, made from a real hive (hivex/minimal) with a valid checksum, so that
# only the version is wrong: 1.1 (NT 3.x), 1.6 (differencing hive), 2.5.
corpus_test 'hive set and hive info refuse wrong format versions (1.1, 1.6, 2.5) with a valid checksum' '
	fetch hivex/minimal.xz &&
	for v in 1.1 1.6 2.5; do
		mkdir -p "v$v" &&
		python3 - "$H" "v$v/hive" "${v%.*}" "${v#*.}" <<-\PY &&
		import struct, sys
		b = bytearray(open(sys.argv[1], "rb").read())
		struct.pack_into("<II", b, 20, int(sys.argv[3]), int(sys.argv[4]))
		s = 0
		for i in range(0, 508, 4):
		    s ^= struct.unpack_from("<I", b, i)[0]
		s = 1 if s == 0 else 0xFFFFFFFE if s == 0xFFFFFFFF else s
		struct.pack_into("<I", b, 508, s)
		open(sys.argv[2], "wb").write(b)
		PY
		cp "v$v/hive" "v$v.orig" &&
		test_must_fail 3 gpotool hive set "v$v/hive" GpotoolTest Val REG_DWORD 1 2>err &&
		test_one_line err "version $v" &&
		grep -qF "v$v/hive" err &&
		cmp "v$v/hive" "v$v.orig" &&
		test "$(ls -A "v$v")" = hive &&
		test_must_fail 3 gpotool hive info "v$v/hive" 2>err &&
		test_one_line err "version $v" || exit 1
	done
'

# A hive whose only fault is its base-block checksum (BadBaseBlockHive above is format 1.1 and
# dirty too, so it is refused even without the checksum check): the dc01 sample SYSTEM hive,
# clean and well-formed, with one bit of the stored checksum flipped. hivex and libregf would
# refuse it later for their own reasons; gpotool's reason must be the checksum, with both sums.
test_expect_success 'a hive whose only fault is its base-block checksum: refused for the checksum, nothing written' '
	mkdir ck && cp "$(sample_image dc01)/SYSTEM" ck/SYSTEM &&
	gpotool hive info ck/SYSTEM >info.out && grep -q "^checksum  *ok$" info.out &&
	python3 -c "import sys; b = bytearray(open(sys.argv[1], \"rb\").read()); b[508] ^= 1; open(sys.argv[1], \"wb\").write(b)" ck/SYSTEM &&
	cp ck/SYSTEM ck.orig &&
	for cmd in "hive set ck/SYSTEM GpotoolTest Val REG_DWORD 1" "stage kdc-compat --hive ck/SYSTEM" "hive info ck/SYSTEM"; do
		test_must_fail 3 gpotool $cmd >out 2>err.all &&
		grep -v "warning:" err.all >err &&
		test_one_line err "ck/SYSTEM.*bad base-block checksum (stored 0x[0-9a-f]\{8\}, computed 0x[0-9a-f]\{8\})" &&
		! grep -q "^verified\|^journal:" out &&
		cmp ck/SYSTEM ck.orig &&
		test "$(ls -A ck)" = SYSTEM || { echo "$cmd:"; cat err.all; exit 1; }
	done
'

# A dirty hive without the corpus: the sample SYSTEM hive with its second sequence number
# behind the first (as Windows leaves a hive whose logs hold newer data), checksum valid.
# Writes are refused (exit 3, "dirty"), nothing written; hive info reads it with a warning.
test_expect_success 'a hive made dirty (sequence numbers differ, checksum valid): writes refused, info warns' '
	mkdir dy && cp "$(sample_image dc01)/SYSTEM" dy/SYSTEM &&
	python3 - dy/SYSTEM <<-\PY &&
	import struct, sys
	b = bytearray(open(sys.argv[1], "rb").read())
	s1, s2 = struct.unpack_from("<II", b, 4)
	struct.pack_into("<I", b, 8, s1 - 1)
	s = 0
	for i in range(0, 508, 4):
	    s ^= struct.unpack_from("<I", b, i)[0]
	s = 1 if s == 0 else 0xFFFFFFFE if s == 0xFFFFFFFF else s
	struct.pack_into("<I", b, 508, s)
	open(sys.argv[1], "wb").write(b)
	PY
	cp dy/SYSTEM dy.orig &&
	for cmd in "hive set dy/SYSTEM GpotoolTest Val REG_DWORD 1" "stage kdc-compat --hive dy/SYSTEM"; do
		test_must_fail 3 gpotool $cmd >out 2>err.all &&
		grep -v "warning: .*expire\|warning: .*2025" err.all >err &&
		test_one_line err "dy/SYSTEM.*dirty" &&
		! grep -q "^verified\|^journal:" out &&
		cmp dy/SYSTEM dy.orig &&
		test "$(ls -A dy)" = SYSTEM || { echo "$cmd:"; cat err.all; exit 1; }
	done &&
	gpotool hive info dy/SYSTEM >out 2>err &&
	grep -q "^state  *dirty" out &&
	test_one_line err "warning: .*dirty"
'

# ---------------------------------------------------------------------------------------------
# 4. Odd hives that hivex opens (some of which libregf or reglookup read differently): whatever
#    hive set does, it either succeeds and reglookup reads the change, or refuses with exit 3/4
#    and one line, leaving the file byte-for-byte unchanged. Never a signal, never another code.
set_ok_or_refused() {
	local rel=$1 key=$2 rlkey=$3 rc
	fetch "$rel" && cp "$H" "$D.before" || return 1
	gpotool hive set "$H" "$key" Val REG_DWORD 7 >"$D.out" 2>"$D.err"
	rc=$?
	case $rc in
	0)
		reglookup -H "$H" 2>/dev/null | grep -qxF "$rlkey/Val,DWORD,0x00000007," ||
			{ echo "hive set exited 0, but reglookup does not read $rlkey/Val:" >&2; reglookup -H "$H" >&2; return 1; }
		;;
	3|4)
		test_one_line "$D.err" . && cmp "$H" "$D.before" || return 1
		;;
	*)
		echo "hive set exited $rc: neither done (0) nor refused (3/4)" >&2; cat "$D.err" >&2; return 1
		;;
	esac
	no_litter
}

# Outcomes recorded on the corpus (gpotool at the time of writing):
#  yarp/BadSubkeyHive (keys 2 and 3 both list the same "subkey" cell; hivexml fails):
#     GpotoolTest -> exit 0, reglookup reads it; 2\subkey -> exit 0, seen under 2\ and 3\ (one cell)
#  yarp/DeletedDataHiveTruncated (key 123 has a value-list offset outside the hive bins; hivexml
#     fails, reglookup reads nothing below the root, even in the original):
#     GpotoolTest -> exit 0, libregf/hivex/regfinfo read it, reglookup cannot: this test FAILS
#  yarp/InvalidParentHive (key 4900's parent offset points at the root): both -> exit 0, reglookup ok
#  yarp/DuplicateSubkeysHive (two subkeys named 4500): both -> exit 0, reglookup ok
#  EricZimmerman-Registry/SECURITYNoRoot (root cell not flagged as root): exit 0, reglookup ok
#  hivex/special: GpotoolTest and abcd_äöüß -> exit 0, reglookup ok; zero (stored "zero\0key")
#     -> exit 4 "verification failed: libregf does not find key 'zero'", file unchanged
#  yarp/UnicodeHive: GpotoolTest and Привет\Ключ -> exit 0, reglookup ok
#  yarp/BigDataHive: GpotoolTest -> exit 0, reglookup ok
odd_sets='
yarp/BadSubkeyHive.xz|GpotoolTest|/GpotoolTest
yarp/BadSubkeyHive.xz|2\subkey|/2/subkey
yarp/DeletedDataHiveTruncated.xz|GpotoolTest|/GpotoolTest
yarp/InvalidParentHive.xz|GpotoolTest|/GpotoolTest
yarp/InvalidParentHive.xz|key_with_many_subkeys\4900|/key_with_many_subkeys/4900
yarp/DuplicateSubkeysHive.xz|GpotoolTest|/GpotoolTest
yarp/DuplicateSubkeysHive.xz|key_with_many_subkeys\4500|/key_with_many_subkeys/4500
EricZimmerman-Registry/SECURITYNoRoot.xz|GpotoolTest|/GpotoolTest
hivex/special.xz|GpotoolTest|/GpotoolTest
hivex/special.xz|abcd_äöüß|/abcd_%E4%F6%FC%DF
hivex/special.xz|zero|/zero
yarp/UnicodeHive.xz|GpotoolTest|/GpotoolTest
yarp/UnicodeHive.xz|Привет\Ключ|/%1F%04@%048%042%045%04B%04/%1A%04;%04N%04G%04
yarp/BigDataHive.xz|GpotoolTest|/GpotoolTest
'

while IFS='|' read -r rel key rlkey; do
	[ -n "$rel" ] || continue
	corpus_test "hive set $key in $rel: done and read by reglookup, or refused with the file unchanged" '
		set_ok_or_refused "$rel" "$key" "$rlkey"
	'
done <<EOF
$odd_sets
EOF

corpus_test 'special: the key stored as "zero\0key" is not touched by a write to "zero"' '
	hive_at hivex/special.xz &&
	reglookup -H "$H" 2>/dev/null | grep "^/zero" >rl &&
	printf "%s\n" "/zero,KEY,,2014-01-10 21:06:02" "/zero/zero,DWORD,0x00000000," >expect &&
	test_cmp expect rl
'

# Windows compares key names case-insensitively over all of Unicode (RtlUpcaseUnicodeChar), so
# ПРИВЕТ and Привет are one key, as are ABCD_ÄÖÜß and abcd_äöüß: hive set must write into the
# existing key (or refuse), never add a second subkey whose name Windows holds equal.
corpus_test 'UnicodeHive: hive set ПРИВЕТ writes into the existing key Привет, never a second one' '
	refetch yarp/UnicodeHive.xz &&
	gpotool hive set "$H" "ПРИВЕТ" Upper REG_DWORD 9 >out 2>err
	rc=$?
	printf "ls\n" | hivexsh "$H" >kids &&
	echo "Привет" >expect && test_cmp expect kids &&
	case $rc in
	0) reglookup -H "$H" 2>/dev/null | grep -qxF "/%1F%04@%048%042%045%04B%04/Upper,DWORD,0x00000009," ;;
	3|4) unchanged ;;
	*) false ;;
	esac
'

corpus_test 'special: hive set ABCD_ÄÖÜß writes into the existing key abcd_äöüß, never a second one' '
	refetch hivex/special.xz &&
	gpotool hive set "$H" "ABCD_ÄÖÜß" Upper REG_DWORD 9 >out 2>err
	rc=$?
	printf "ls\n" | hivexsh "$H" >kids &&
	printf "%s\n" "abcd_äöüß" "weird™" "zero" >expect && test_cmp expect kids &&
	case $rc in
	0) reglookup -H "$H" 2>/dev/null | grep -qxF "/abcd_%E4%F6%FC%DF/Upper,DWORD,0x00000009," ;;
	3|4) unchanged ;;
	*) false ;;
	esac
'

# BadSubkeyHive: keys 2 and 3 both list the one nk cell "subkey" (its parent field says 3).
# Deleting 2 must not free a cell that 3 still lists: either refused with nothing written, or
# 3\subkey is still there for hivex (gpotool itself), libregf and reglookup.
corpus_test 'BadSubkeyHive: hive delete of key 2 leaves key 3 and its subkey readable, or is refused' '
	refetch yarp/BadSubkeyHive.xz &&
	gpotool hive delete "$H" 2 >out 2>err
	rc=$?
	case $rc in
	0)
		test_must_fail 1 gpotool hive get "$H" 2 2>/dev/null &&
		gpotool hive get "$H" "3\\subkey" >got &&
		printf "cd 3\nls\n" | hivexsh "$H" >kids && echo subkey >expect && test_cmp expect kids &&
		reglookup -H "$H" 2>/dev/null | grep -qx "/3/subkey,KEY,.*" &&
		regfinfo "$H" >/dev/null
		;;
	3|4) test_one_line err . && unchanged ;;
	*) false ;;
	esac &&
	no_litter
'

# Outcomes recorded: both exit 4 "unable to delete key: Operation not supported", file unchanged.
corpus_test 'InvalidParentHive: hive delete of the key with the bad parent offset is done or refused cleanly' '
	refetch yarp/InvalidParentHive.xz &&
	gpotool hive delete "$H" "key_with_many_subkeys\\4900" >out 2>err
	rc=$?
	case $rc in
	0) reglookup -H "$H" 2>/dev/null | grep "^/key_with_many_subkeys/" >rl &&
	   ! grep -q "^/key_with_many_subkeys/4900," rl && test "$(wc -l <rl)" = 4999 ;;
	3|4) test_one_line err . && unchanged ;;
	*) false ;;
	esac &&
	no_litter
'

corpus_test 'DuplicateSubkeysHive: hive delete of a duplicated name is done or refused cleanly' '
	refetch yarp/DuplicateSubkeysHive.xz &&
	gpotool hive delete "$H" "key_with_many_subkeys\\4500" >out 2>err
	rc=$?
	case $rc in
	0) reglookup -H "$H" 2>/dev/null | grep "^/key_with_many_subkeys/" >rl &&
	   test "$(grep -c "^/key_with_many_subkeys/4500," rl)" = 1 && test "$(wc -l <rl)" = 4999 ;;
	3|4) test_one_line err . && unchanged ;;
	*) false ;;
	esac &&
	no_litter
'

# ---------------------------------------------------------------------------------------------
# 5. The big-data guard. BigDataHive is format 1.5; key_with_bigdata holds a 16,345-byte default
#    value and an 81,725-byte "v", both in big-data (db) records. hivex rewrites every value of a
#    key it edits and would write these as single cells, which 1.4+ readers cannot read.
corpus_test 'BigDataHive: a new value in the key holding the big values is refused, file unchanged' '
	refetch yarp/BigDataHive.xz &&
	rl_dump "$H" big.before &&
	grep -q "^/key_with_bigdata/,BINARY," big.before &&
	grep -q "^/key_with_bigdata/v,BINARY," big.before &&
	gpotool hive get "$H" key_with_bigdata v >v.before &&
	n=$(journal_count) &&
	test_must_fail 3 gpotool hive set "$H" key_with_bigdata New REG_DWORD 1 >out 2>err &&
	test_one_line err "big-data" &&
	test ! -s out &&
	unchanged &&
	no_litter &&
	test "$(journal_count)" = "$n"
'

corpus_test 'BigDataHive: the big-data refusal names the file' '
	hive_at yarp/BigDataHive.xz &&
	test_must_fail 3 gpotool hive set "$H" key_with_bigdata New REG_DWORD 1 2>err &&
	test_one_line err "big-data" &&
	names_file err
'

corpus_test 'BigDataHive: deleting the other value of that key (a rewrite of the big one) is refused too' '
	hive_at yarp/BigDataHive.xz &&
	test_must_fail 3 gpotool hive delete "$H" key_with_bigdata v 2>err &&
	test_one_line err "big-data" &&
	unchanged &&
	no_litter
'

corpus_test 'BigDataHive: a value in another key is written, and reglookup still reads the big values' '
	hive_at yarp/BigDataHive.xz &&
	gpotool hive set "$H" other New REG_DWORD 1 >out &&
	grep -q "^verified: libregf reads back 2 changes" out &&
	rl_dump "$H" big.after &&
	{ diff big.before big.after | grep "^[<>]" >d || true; } &&
	echo "> /other/New,DWORD,0x00000001," >expect && test_cmp expect d &&
	gpotool hive get "$H" key_with_bigdata v >v.after &&
	test_cmp v.before v.after &&
	regfinfo "$H" >/dev/null &&
	no_litter
'

# ---------------------------------------------------------------------------------------------
corpus_test 'every file under the corpus hives/ is covered by a test here' '
	(cd "$CORPUS/hives" && find . -type f | sed "s|^\./||" | sort) >all &&
	printf "%s\n" "$clean_hives" "$refused_files" "$odd_sets" | sed "s/[|;].*//" | grep . | sort -u >covered &&
	comm -23 all covered >missing &&
	{ test ! -s missing || { echo "not covered:" >&2; cat missing >&2; false; }; }
'

test_done
