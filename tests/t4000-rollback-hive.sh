#!/bin/bash
# Journal and rollback on hives: `journal list/show` say what each write did and where its
# target stands now; `rollback ID` puts the exact bytes back when the hive is as the write
# left it, refuses with what differs when it is not, and with --logical undoes only that
# write's changes. A rollback is journaled and audited like any write, and can be undone.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
last_entry() { ls state/journal | tail -n 1; }
entry_field() { json_field "state/journal/$1/entry.json" "$2"; }
# reglookup, not gpotool, says what the hive holds
rl() { reglookup -H -p "$2" "$1" 2>/dev/null; }

test_expect_success 'stage kdc-compat on a copy of the sample DC SYSTEM hive' '
	cp "$(sample_image dc01)/SYSTEM" SYSTEM &&
	cp SYSTEM SYSTEM.orig &&
	gpotool --ticket CHG-1 --operator alice stage kdc-compat --hive SYSTEM >out 2>err &&
	cp SYSTEM SYSTEM.staged &&
	id=$(last_entry) &&
	echo "$id" >staged.id &&
	tail -n 1 out | grep -qx "journal: $id" &&
	rl SYSTEM /ControlSet001/Services/Kdc/$SCBE | grep -q "DWORD,0x00000001"
'

test_expect_success 'journal list shows the write: status, operator, ticket, target' '
	gpotool journal list >out &&
	grep -q "^$(cat staged.id)  complete  *alice  ticket CHG-1  hive $TRASH/SYSTEM$" out &&
	gpotool --json journal list >out.json &&
	test "$(json_field out.json "d[\"entries\"][0][\"id\"]")" = "$(cat staged.id)" &&
	test "$(json_field out.json "d[\"pending\"]")" = 0
'

test_expect_success 'journal show: hashes before, after and now, and the change' '
	gpotool journal show "$(cat staged.id)" >out &&
	grep -q "^  before:   $(sha256sum <SYSTEM.orig | cut -c1-64)$" out &&
	grep -q "^  after:    $(sha256sum <SYSTEM.staged | cut -c1-64)$" out &&
	grep -q "^  now:      .* (as this change left it)$" out &&
	grep -q "set value .*Kdc\\\\$SCBE: (absent) -> REG_DWORD 1" out &&
	grep -q "^template   kdc-compat$" out
'

test_expect_success 'rollback --dry-run says what it would do and writes nothing' '
	n=$(ls state/journal | wc -l) &&
	gpotool rollback "$(cat staged.id)" --dry-run >out &&
	grep -q "^would delete value .*$SCBE" out &&
	grep -q "nothing written" out &&
	cmp SYSTEM SYSTEM.staged &&
	test "$(ls state/journal | wc -l)" = "$n"
'

test_expect_success 'rollback puts the original bytes back, verified, journaled' '
	gpotool --ticket CHG-1-BACKOUT rollback "$(cat staged.id)" >out &&
	cmp SYSTEM SYSTEM.orig &&
	grep -q "^delete value .*$SCBE: REG_DWORD 1 (0x00000001) -> (absent)" out &&
	grep -q "^verified: libregf reads back 1 change; .* is byte-for-byte as before journal entry $(cat staged.id)" out &&
	id=$(last_entry) && echo "$id" >rollback.id &&
	tail -n 1 out | grep -qx "journal: $id" &&
	test "$(entry_field $id "d[\"rollback_of\"]")" = "$(cat staged.id)" &&
	test "$(entry_field $id "d[\"status\"]")" = complete &&
	! rl SYSTEM /ControlSet001/Services/Kdc/$SCBE | grep -q DWORD &&
	! ls -A | grep -q gpotool-
'

test_expect_success 'the rollback is in the audit trail with its ticket and the entry it undid' '
	tail -n 1 state/audit.log >rec.json &&
	test "$(json_field rec.json "d[\"command\"]")" = rollback &&
	test "$(json_field rec.json "d[\"rollback_of\"]")" = "$(cat staged.id)" &&
	test "$(json_field rec.json "d[\"ticket\"]")" = CHG-1-BACKOUT &&
	test "$(json_field rec.json "d[\"files\"][0][\"sha256_after\"]")" = "$(sha256sum <SYSTEM.orig | cut -c1-64)"
'

test_expect_success 'rolling back the same entry again changes nothing and says so' '
	gpotool rollback "$(cat staged.id)" >out &&
	grep -q "^no change: .* is already byte-for-byte as it was before journal entry" out &&
	cmp SYSTEM SYSTEM.orig
'

test_expect_success 'a rollback can be rolled back: the staged hive comes back exactly' '
	gpotool rollback "$(cat rollback.id)" >out &&
	cmp SYSTEM SYSTEM.staged
'

test_expect_success 'drift: a hive changed since the entry is refused, with what differs, untouched' '
	gpotool hive set SYSTEM "$KDC" $SCBE REG_DWORD 2 >/dev/null 2>&1 &&
	cp SYSTEM SYSTEM.drifted &&
	test_must_fail 3 gpotool rollback "$(cat staged.id)" >out 2>err &&
	grep -q "Kdc\\\\$SCBE: this entry left REG_DWORD 1 (0x00000001); now REG_DWORD 2 (0x00000002)" out &&
	test_one_line err "changed since journal entry $(cat staged.id)" &&
	grep -q -- "--logical" err &&
	cmp SYSTEM SYSTEM.drifted
'

test_expect_success 'drift elsewhere in the file is named as such' '
	cp SYSTEM.staged S2 &&
	gpotool hive set S2 "$KDC" $SCBE REG_DWORD 1 >/dev/null 2>&1 &&
	cp "$(sample_image dc01)/SYSTEM" S3 &&
	gpotool stage kdc-compat --hive S3 >/dev/null 2>&1 &&
	sid=$(last_entry) &&
	gpotool hive set S3 "HKLM\\SYSTEM\\Elsewhere" X REG_SZ y >/dev/null 2>&1 &&
	cp S3 S3.drifted &&
	test_must_fail 3 gpotool rollback "$sid" >out 2>/dev/null &&
	grep -q "every value this entry changed is as it left it; the file changed elsewhere" out &&
	cmp S3 S3.drifted
'

test_expect_success '--logical undoes only the entry: its value goes, the later change stays' '
	gpotool rollback "$(last_entry)" >/dev/null 2>&1 ||
	true &&
	cp "$(sample_image dc01)/SYSTEM" L &&
	gpotool stage kdc-compat --hive L >/dev/null 2>&1 &&
	lid=$(last_entry) &&
	gpotool hive set L "$KDC" Other REG_SZ kept >/dev/null 2>&1 &&
	gpotool rollback "$lid" --logical >out 2>err &&
	grep -q "^delete value .*$SCBE: REG_DWORD 1 (0x00000001) -> (absent)" out &&
	grep -q "^verified: libregf reads back 1 change" out &&
	! rl L /ControlSet001/Services/Kdc/$SCBE | grep -q DWORD &&
	rl L /ControlSet001/Services/Kdc/Other | grep -q "SZ,kept" &&
	test "$(entry_field $(last_entry) "d[\"rollback_of\"]")" = "$lid"
'

test_expect_success '--logical puts an overwritten value back with its old type and data' '
	gpotool hive set L "$KDC" Typed REG_SZ text >/dev/null 2>&1 &&
	gpotool hive set L "$KDC" Typed REG_DWORD 7 >/dev/null 2>&1 &&
	tid=$(last_entry) &&
	gpotool hive set L "$KDC" Typed REG_DWORD 8 >/dev/null 2>&1 &&
	gpotool hive set L "$KDC" Another REG_DWORD 1 >/dev/null 2>&1 &&
	gpotool rollback "$tid" --logical >out 2>err &&
	grep -q "changed since journal entry $tid, and put back as before it all the same" err &&
	grep -q "Typed: this entry left REG_DWORD 7 (0x00000007); now REG_DWORD 8 (0x00000008)" err &&
	rl L /ControlSet001/Services/Kdc/Typed | grep -q ",SZ,text," &&
	rl L /ControlSet001/Services/Kdc/Another | grep -q "DWORD,0x00000001"
'

test_expect_success '--logical keeps a key the entry created when other values live in it now' '
	gpotool hive set L "HKLM\\SYSTEM\\NewKey\\Sub" A REG_DWORD 1 >/dev/null 2>&1 &&
	kid=$(last_entry) &&
	gpotool hive set L "HKLM\\SYSTEM\\NewKey" Later REG_DWORD 2 >/dev/null 2>&1 &&
	gpotool rollback "$kid" --logical >out 2>err &&
	grep -q "^delete value .*NewKey\\\\Sub\\\\A" out &&
	grep -q "^delete key .*NewKey\\\\Sub$" out &&
	grep -q "kept key .*NewKey.: journal entry $kid created it, but it holds keys or values added since" err &&
	rl L /NewKey/Later | grep -q "DWORD,0x00000002" &&
	! rl L /NewKey/Sub | grep -q KEY
'

test_expect_success 'a deleted subtree comes back: exactly, and --logical after drift' '
	cp "$(sample_image dc01)/SYSTEM" D &&
	gpotool hive set D "HKLM\\SYSTEM\\Tree\\A\\B" V1 REG_SZ one >/dev/null 2>&1 &&
	gpotool hive set D "HKLM\\SYSTEM\\Tree\\A" V2 REG_MULTI_SZ "x\\0y" >/dev/null 2>&1 &&
	gpotool hive export D "HKLM\\SYSTEM\\Tree" >tree.before &&
	cp D D.before &&
	gpotool hive delete D "HKLM\\SYSTEM\\Tree" >/dev/null 2>&1 &&
	did=$(last_entry) &&
	gpotool rollback "$did" >/dev/null &&
	cmp D D.before &&
	gpotool hive delete D "HKLM\\SYSTEM\\Tree" >/dev/null 2>&1 &&
	did=$(last_entry) &&
	gpotool hive set D "HKLM\\SYSTEM\\Unrelated" X REG_DWORD 1 >/dev/null 2>&1 &&
	gpotool rollback "$did" --logical >out &&
	grep -q "^add key .*Tree\\\\A\\\\B$" out &&
	gpotool hive export D "HKLM\\SYSTEM\\Tree" >tree.after &&
	test_cmp tree.before tree.after &&
	rl D /Unrelated/X | grep -q DWORD
'

test_expect_success 'the before copy: the old file itself (hard link), private once replaced' '
	cp "$(sample_image dc01)/SYSTEM" H && chmod 644 H &&
	ino=$(stat -c %i H) &&
	gpotool stage kdc-compat --hive H >/dev/null 2>&1 &&
	hid=$(last_entry) &&
	test "$(stat -c %i state/journal/$hid/before-0.bin)" = "$ino" &&
	test "$(stat -c %a state/journal/$hid/before-0.bin)" = 600 &&
	test "$(stat -c %a H)" = 644 &&
	cmp "$(sample_image dc01)/SYSTEM" state/journal/$hid/before-0.bin
'

if [ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d .)" ] && shm=$(mktemp -d /dev/shm/gpotool-t4000.XXXXXX); then
	test_expect_success 'a journal on another file system gets a copy, and rollback works from it' '
		cp "$(sample_image dc01)/SYSTEM" X &&
		gpotool --state-dir "$shm" stage kdc-compat --hive X >/dev/null 2>&1 &&
		xid=$(ls "$shm/journal" | tail -n 1) &&
		test "$(stat -c %a "$shm/journal/$xid/before-0.bin")" = 600 &&
		cmp "$(sample_image dc01)/SYSTEM" "$shm/journal/$xid/before-0.bin" &&
		test "$(ls -A "$shm/journal/$xid" | tr "\n" " ")" = "audited before-0.bin entry.json " &&
		gpotool --state-dir "$shm" rollback "$xid" >/dev/null &&
		cmp "$(sample_image dc01)/SYSTEM" X
	'
	rm_shm() { rm -rf "$shm"; }
else
	test_skip 'a journal on another file system gets a copy, and rollback works from it' 'no /dev/shm on another file system'
	rm_shm() { :; }
fi

test_expect_success 'bad IDs: malformed is a usage error, unknown is refused' '
	test_must_fail 2 gpotool rollback ../../etc/passwd 2>err &&
	test_one_line err "is not a journal entry ID" &&
	test_must_fail 3 gpotool rollback 20200101T000000.000000Z-00000000 2>err &&
	test_one_line err "no journal entry" &&
	test_must_fail 2 gpotool journal show nope 2>err &&
	test_one_line err "is not a journal entry ID"
'

test_expect_success '--undo-on-clients is for GPO entries only' '
	test_must_fail 2 gpotool rollback "$(cat staged.id)" --undo-on-clients=delete 2>err &&
	test_one_line err "is for GPO entries"
'

test_expect_success 'a journal edited to point elsewhere is not followed' '
	cp "$(sample_image dc01)/SYSTEM" E &&
	gpotool stage kdc-compat --hive E >/dev/null 2>&1 &&
	eid=$(last_entry) &&
	cp E victim && cp E E.staged &&
	python3 - "$TRASH" "$eid" <<-\EOF &&
	import json, sys
	p = sys.argv[1] + "/state/journal/" + sys.argv[2] + "/entry.json"
	d = json.load(open(p))
	d["target"]["path"] = sys.argv[1] + "/sub/../victim"
	d["targets"][0]["path"] = sys.argv[1] + "/sub/../victim"
	json.dump(d, open(p, "w"))
	EOF
	test_must_fail 3 gpotool rollback "$eid" 2>err &&
	test_one_line err "not following it" &&
	cmp victim E.staged &&
	cmp E E.staged
'

test_expect_success 'a before copy that does not match its hash is refused, target untouched' '
	cp "$(sample_image dc01)/SYSTEM" F &&
	gpotool stage kdc-compat --hive F >/dev/null 2>&1 &&
	fid=$(last_entry) &&
	cp F F.staged &&
	printf "X" | dd of=state/journal/$fid/before-0.bin bs=1 seek=5000 conv=notrunc 2>/dev/null &&
	test_must_fail 3 gpotool rollback "$fid" 2>err &&
	test_one_line err "does not match its recorded SHA-256" &&
	cmp F F.staged
'

test_expect_success 'an entry that failed changed nothing: refused' '
	python3 - "$TRASH" "$(cat staged.id)" <<-\EOF &&
	import json, sys
	p = sys.argv[1] + "/state/journal/" + sys.argv[2] + "/entry.json"
	d = json.load(open(p)); d["status"] = "failed"; d["reason"] = "disk full"
	json.dump(d, open(p, "w"))
	EOF
	cp SYSTEM SYSTEM.now &&
	test_must_fail 3 gpotool rollback "$(cat staged.id)" 2>err &&
	test_one_line err "changed nothing (it failed: disk full)" &&
	cmp SYSTEM SYSTEM.now
'

test_expect_success 'a target replaced by a symbolic link is refused' '
	cp "$(sample_image dc01)/SYSTEM" real &&
	cp "$(sample_image dc01)/SYSTEM" S &&
	gpotool stage kdc-compat --hive S >/dev/null 2>&1 &&
	sid=$(last_entry) &&
	mv S S.staged && ln -s real S &&
	test_must_fail 3 gpotool rollback "$sid" 2>err &&
	grep -q "symbolic link" err &&
	cmp real "$(sample_image dc01)/SYSTEM"
'

rm_shm
test_done
