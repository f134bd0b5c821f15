#!/bin/bash
# StrictModes, as OpenSSH has it: gpotool writes no file whose folder, or a folder above it,
# can be written by a user other than root and the file's owner (its owner can chmod it; its
# group or other write bits, or a POSIX ACL's mask, let others in), unless the folder is
# sticky. The refusal is exit 3 and one line naming the folder, its owner, group and mode,
# and the option that allows it; --allow-shared-dir does, and the audit record says so. A
# Samba SYSVOL on the DC is group-writable by the domain's administrators (gid 3000000 here).
. "$(dirname "$0")/test-lib.sh"

KEY='Software\Test'
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
last_record() { tail -n 1 state/audit.log; }
no_temps() { ! ls -A "$1" | grep -q '\.gpotool-'; }

test_expect_success 'setup: a small hive and a GPO' '
	gpotool hive new base.hive >/dev/null &&
	gpotool hive set base.hive "$KEY" v REG_DWORD 1 >/dev/null &&
	gpotool gpo new . --name shared-test >out &&
	G=$(ls -d {*}) && test -f "$G/GPT.INI" && echo "$G" >gpo.name
'

test_expect_success 'a folder anyone can write (0777): refused, exit 3, one line naming it, owner and mode, and the option' '
	mkdir open && chmod 0777 open && cp base.hive open/h && cp open/h h.before &&
	test_must_fail 3 gpotool hive set open/h "$KEY" v REG_DWORD 2 >out 2>err &&
	test_one_line err "folder .$TRASH/open. (owner 0, group 0, mode 0777) can be written by users other than root and the file.s owner" &&
	grep -q -- "--allow-shared-dir" err &&
	cmp h.before open/h && no_temps open && test ! -s out &&
	grep -q "\"result\": *\"refused\"" state/audit.log
'

test_expect_success 'a folder above the file, writable by all, is refused too (it is named)' '
	mkdir -p up/inner && chmod 0777 up && cp base.hive up/inner/h &&
	test_must_fail 3 gpotool hive set up/inner/h "$KEY" v REG_DWORD 2 2>err &&
	test_one_line err "folder .$TRASH/up. (owner 0, group 0, mode 0777)" &&
	cmp base.hive up/inner/h
'

test_expect_success 'a folder owned by another user (0755) holding a root-owned hive: refused, the owner named' '
	mkdir theirs && cp base.hive theirs/h && chown 65534 theirs &&
	test_must_fail 3 gpotool hive set theirs/h "$KEY" v REG_DWORD 2 2>err &&
	test_one_line err "folder .$TRASH/theirs. (owner 65534, group 0, mode 0755)" &&
	cmp base.hive theirs/h
'

if command -v setfacl >/dev/null; then
	test_expect_success 'a write bit given by a POSIX ACL (its mask) is seen: refused' '
		mkdir acl && cp base.hive acl/h && setfacl -m u:65534:rwx acl &&
		test_must_fail 3 gpotool hive set acl/h "$KEY" v REG_DWORD 2 2>err &&
		test_one_line err "folder .$TRASH/acl. (owner 0, group 0, mode 0775)" &&
		cmp base.hive acl/h
	'
else
	test_skip 'a write bit given by a POSIX ACL (its mask) is seen: refused' 'no setfacl (Debian package acl; make deps installs it)'
fi

test_expect_success 'the file owner'"'"'s own folder (file and folder owned by 65534, 0755) is fine' '
	mkdir own && cp base.hive own/h && chown 65534 own own/h &&
	gpotool hive set own/h "$KEY" v REG_DWORD 3 >out 2>err &&
	grep -q "^verified: " out && test "$(stat -c %u own/h)" = 65534 &&
	test "$(gpotool hive get own/h "$KEY" v)" = "dword:00000003"
'

test_expect_success 'a sticky world-writable folder (1777, like /tmp) is fine without the option' '
	mkdir sticky && chmod 1777 sticky && cp base.hive sticky/h &&
	gpotool hive set sticky/h "$KEY" v REG_DWORD 4 >out 2>err &&
	grep -q "^verified: " out && test ! -s err &&
	! last_record | grep -q allow_shared_dir
'

test_expect_success 'new files (hive new) in a folder anyone can write: refused too, nothing created' '
	test_must_fail 3 gpotool hive new open/new.hive 2>err &&
	test_one_line err "folder .$TRASH/open. (owner 0, group 0, mode 0777)" &&
	test ! -e open/new.hive && no_temps open
'

test_expect_success 'a new file in a folder another user owns is refused too (it would be ours, not theirs)' '
	test_must_fail 3 gpotool hive new theirs/new.hive 2>err &&
	test_one_line err "folder .$TRASH/theirs. (owner 65534, group 0, mode 0755)" &&
	test ! -e theirs/new.hive && no_temps theirs &&
	G=$(cat gpo.name) && cp -a "$G" owned-gpo && chown 65534 owned-gpo/Machine && cp owned-gpo/GPT.INI gpt.before &&
	test_must_fail 3 gpotool gpo set owned-gpo "$KDC" $SCBE REG_DWORD 2 2>err &&
	grep -q "folder .$TRASH/owned-gpo/Machine. (owner 65534" err &&
	test ! -e owned-gpo/Machine/Preferences/Registry/Registry.xml && cmp gpt.before owned-gpo/GPT.INI
'

test_expect_success 'a SYSVOL-like GPO folder, group 3000000 with g+w: refused, the message names the option' '
	mkdir -p sysvol/Policies && cp -a "$(cat gpo.name)" sysvol/Policies/ &&
	G=sysvol/Policies/$(cat gpo.name) &&
	chgrp -R 3000000 sysvol && chmod -R g+w sysvol && chmod g+s sysvol/Policies "$G" &&
	cp "$G/GPT.INI" gpt.before &&
	test_must_fail 3 gpotool gpo set "$G" "$KDC" $SCBE REG_DWORD 2 >out 2>err &&
	test_one_line err "folder .$TRASH/$G. (owner 0, group 3000000, mode 2775) can be written by users other than root" &&
	grep -q -- "give --allow-shared-dir if they are all trusted (a Samba SYSVOL is group-writable by the domain.s administrators)" err &&
	cmp gpt.before "$G/GPT.INI" && test ! -e "$G/Machine/Preferences"
'

test_expect_success '--allow-shared-dir writes it, and the audit record says the check was off' '
	G=sysvol/Policies/$(cat gpo.name) &&
	gpotool --allow-shared-dir gpo set "$G" "$KDC" $SCBE REG_DWORD 2 >out 2>err &&
	grep -q "^verified: Registry.xml parses" out &&
	grep -q "^Version=1" "$G/GPT.INI" &&
	last_record | grep -q "\"allow_shared_dir\": *true" &&
	gpotool --allow-shared-dir hive set open/h "$KEY" v REG_DWORD 5 >out &&
	test "$(gpotool hive get open/h "$KEY" v)" = "dword:00000005" &&
	last_record | grep -q "\"allow_shared_dir\": *true" &&
	gpotool --help | grep -q -- "--allow-shared-dir"
'

test_done
