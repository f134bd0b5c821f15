#!/bin/bash
# The target kinds behind one interface (gpotool/target/): every journal entry names the kind
# that wrote it ("backend") and an --image write the Windows folder it found the hive in
# ("container"); rollback reopens the target through that kind, and refuses a record that does
# not hold together. Entries written before the journal named its backend roll back by their
# kind. A pending GPO entry that recovery finishes under the rollback's lock is rolled back
# from its reloaded record (this used freed memory before: the ASan run of make check sees it).
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
GUID='{5A1B2C3D-4E5F-4A6B-9C7D-8E9F0A1B2C3D}'
entry() { echo "state/journal/$1/entry.json"; }
jf() { json_field "$(entry "$1")" "$2"; }
# edit entry.json with a python statement on d
edit_entry() { python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); exec(sys.argv[2]); json.dump(d, open(p, "w"))' "$(entry "$1")" "$2"; }

test_expect_success 'setup: a copy of the sample DC image' '
	mkdir -p img &&
	cp -a "$PROJECT_DIR/build/images/dc01/Windows" img/ &&
	cp img/Windows/System32/config/SYSTEM system.before
'

test_expect_success 'stage --image: the entry names the image kind and its Windows folder' '
	gpotool stage kdc-enforce --image img/Windows >out 2>err &&
	id=$(sed -n "s/^journal: //p" out) && echo "$id" >image.id &&
	test "$(jf "$id" "d[\"target\"][\"backend\"]")" = image &&
	test "$(jf "$id" "d[\"target\"][\"kind\"]")" = hive &&
	test "$(jf "$id" "d[\"target\"][\"container\"]")" = "$PWD/img/Windows" &&
	test "$(jf "$id" "d[\"target\"][\"path\"]")" = "$PWD/img/Windows/System32/config/SYSTEM" &&
	! cmp -s system.before img/Windows/System32/config/SYSTEM
'

test_expect_success 'journal show names the kind and the folder' '
	gpotool journal show "$(cat image.id)" >out &&
	grep -qx "target     $PWD/img/Windows/System32/config/SYSTEM (image, in $PWD/img/Windows)" out
'

test_expect_success 'a hive and a GPO entry name their kinds' '
	cp system.before s.hive &&
	gpotool hive set s.hive "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >out &&
	hid=$(sed -n "s/^journal: //p" out) && echo "$hid" >hive.id &&
	test "$(jf "$hid" "d[\"target\"][\"backend\"]")" = hive &&
	test "$(jf "$hid" "d[\"target\"].get(\"container\", \"none\")")" = none &&
	gpotool journal show "$hid" >show && grep -qx "target     $PWD/s.hive (hive)" show &&
	gpotool gpo new . --name kinds --guid "$GUID" >/dev/null &&
	gpotool stage kdc-enforce --gpo "$GUID" >out 2>/dev/null &&
	gid=$(sed -n "s/^journal: //p" out) &&
	test "$(jf "$gid" "d[\"target\"][\"backend\"]")" = gpo &&
	gpotool journal show "$gid" >show && grep -qx "target     $PWD/$GUID (gpo, Machine side)" show
'

test_expect_success 'rollback of an image entry whose hive is not in its folder: refused, nothing written' '
	id=$(cat image.id) &&
	cp "$(entry "$id")" entry.saved &&
	cp img/Windows/System32/config/SYSTEM system.staged &&
	edit_entry "$id" "d[\"target\"][\"container\"] = \"$PWD/elsewhere\"" &&
	test_expect_code 3 gpotool rollback "$id" 2>err &&
	grep -q "does not name the Windows folder that holds its hive" err &&
	edit_entry "$id" "d[\"target\"][\"container\"] = \"$PWD/img/./Windows\"" &&
	test_expect_code 3 gpotool rollback "$id" 2>err &&
	grep -q "does not name the Windows folder that holds its hive" err &&
	cmp system.staged img/Windows/System32/config/SYSTEM &&
	cp entry.saved "$(entry "$id")"
'

test_expect_success 'rollback of an image entry whose folder is now a symbolic link: refused' '
	id=$(cat image.id) &&
	mv img real-img && ln -s real-img img &&
	test_expect_code 3 gpotool rollback "$id" 2>err &&
	grep -q "not following it" err &&
	rm img && mv real-img img &&
	cmp system.staged img/Windows/System32/config/SYSTEM
'

test_expect_success 'rollback of an unknown backend: refused, naming it' '
	id=$(cat image.id) &&
	edit_entry "$id" "d[\"target\"][\"backend\"] = \"tape\"" &&
	test_expect_code 3 gpotool rollback "$id" 2>err &&
	grep -q "has a target of unknown kind .tape." err &&
	cp entry.saved "$(entry "$id")"
'

test_expect_success 'rollback of the image entry: through the image kind, byte for byte' '
	id=$(cat image.id) &&
	gpotool rollback "$id" >out 2>err &&
	grep -q "is byte-for-byte as before journal entry $id" out &&
	cmp system.before img/Windows/System32/config/SYSTEM &&
	rid=$(sed -n "s/^journal: //p" out) &&
	test "$(jf "$rid" "d[\"target\"][\"backend\"]")" = image &&
	test "$(jf "$rid" "d[\"target\"][\"container\"]")" = "$PWD/img/Windows"
'

test_expect_success 'an entry from before the journal named its backend rolls back by its kind' '
	hid=$(cat hive.id) &&
	edit_entry "$hid" "del d[\"target\"][\"backend\"]" &&
	gpotool rollback "$hid" >out 2>err &&
	cmp system.before s.hive
'

test_expect_success 'a GPO write killed between its renames, finished by recovery under the rollback, rolls back' '
	gpotool gpo new . --name pending --guid "{0B1C2D3E-4F5A-4B6C-8D7E-9F0A1B2C3D4E}" >/dev/null &&
	P="{0B1C2D3E-4F5A-4B6C-8D7E-9F0A1B2C3D4E}" &&
	cp -a "$P" pending.before &&
	test_expect_code 137 env GPOTOOL_FAULT=gpo-between-renames "$GPOTOOL" stage kdc-enforce --gpo "$P" >/dev/null 2>&1 &&
	pid=$(ls state/journal | tail -n 1) &&
	test "$(jf "$pid" "d[\"status\"]")" = pending &&
	gpotool rollback "$pid" >out 2>err &&
	grep -q "journal entry $pid was interrupted; its staged files were all there and are now in place" err &&
	test "$(jf "$pid" "d[\"status\"]")" = complete &&
	grep -q "^Machine Registry.xml: " out &&
	grep -q "^Registry.xml did not exist before journal entry $pid: removing it" out &&
	test ! -e "$P/Machine/Preferences/Registry/Registry.xml"
'

test_done
