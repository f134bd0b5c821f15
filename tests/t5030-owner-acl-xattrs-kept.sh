#!/bin/bash
# Replacing a file keeps what it carried: owner and group (3000000:100, as on a Samba SYSVOL),
# mode, the POSIX ACL (system.posix_acl_access) and every extended attribute (user.DOSATTRIB,
# security.NTACL, trusted.*), for a hive (stage, rollback) and a GPO's Registry.xml and
# GPT.INI (gpo set, rollback). What cannot be kept is refused (exit 3) before anything is
# replaced. A Registry.xml gpotool creates in a GPO whose GPT.INI carries security.NTACL gets
# none: a warning says so and names the fix, samba-tool ntacl sysvolreset.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
entry_of() { sed -n "s/^journal: //p" "$1"; }

# meta FILE: owner, group, mode, ACL and every extended attribute, one per line
meta() {
	stat -c 'owner %u:%g mode %a' "$1" &&
	getfacl -cp "$1" 2>/dev/null | sed 's/^/acl /' &&
	getfattr -d -m - -e hex "$1" 2>/dev/null | grep -v '^#' | grep -v '^security.selinux=' | grep . | sort
}
# dress FILE: the attributes a file on a Samba SYSVOL carries (NTACL, or trusted.* where the
# file system will not take security.*); the ACL mask makes the mode 0660
dress() {
	chown 3000000:100 "$1" && chmod 0640 "$1" &&
	setfacl -m u:1234:rw,g:3000000:r "$1" &&
	setfattr -n user.DOSATTRIB -v 0x000004000400000011000000200000000000 "$1" &&
	{ setfattr -n security.NTACL -v 0x0400040000000200040002000100 "$1" 2>/dev/null ||
	  setfattr -n trusted.NTACL -v 0x0400040000000200040002000100 "$1"; } &&
	setfattr -n trusted.gpotool-test -v 0x2a "$1"
}

if ! command -v setfacl >/dev/null || ! command -v getfattr >/dev/null; then
	test_skip 'owner, ACL and xattrs kept' 'setfacl/getfattr missing: the Debian packages acl and attr (make deps installs them)'
	test_done
	exit
fi

if [ -f "$(sample_image dc01)/SYSTEM" ]; then
	test_expect_success 'setup: a DC SYSTEM hive dressed as a SYSVOL file: 3000000:100, 0640, an ACL, three xattrs' '
		cp "$(sample_image dc01)/SYSTEM" SYSTEM && dress SYSTEM && meta SYSTEM >hive.meta &&
		grep -q "^owner 3000000:100 mode 660" hive.meta && grep -q "^acl user:1234:rw-" hive.meta &&
		grep -q "^user.DOSATTRIB=" hive.meta && grep -q "^trusted.gpotool-test=0x2a" hive.meta &&
		cp SYSTEM hive.orig
	'

	test_expect_success 'stage kdc-compat --hive: the new hive has the same owner, group, mode, ACL and xattrs' '
		gpotool stage kdc-compat --hive SYSTEM >out 2>err && entry_of out >stage.id && test -s stage.id &&
		! cmp -s hive.orig SYSTEM &&
		meta SYSTEM >now.meta && test_cmp hive.meta now.meta
	'

	test_expect_success 'rollback: the original bytes, and still the same owner, group, mode, ACL and xattrs' '
		gpotool rollback "$(cat stage.id)" >out 2>err &&
		cmp hive.orig SYSTEM &&
		meta SYSTEM >now.meta && test_cmp hive.meta now.meta
	'
else
	test_skip 'stage and rollback keep a hive'"'"'s owner, ACL and xattrs' 'no sample images (make samples builds them)'
fi

test_expect_success 'setup: a GPO with a Registry.xml; both files dressed' '
	gpotool gpo new . --name keep >/dev/null && G=$(ls -d {*}) && echo "$G" >gpo.name &&
	gpotool gpo set "$G" "$KDC" $SCBE REG_DWORD 1 >/dev/null &&
	R=$G/Machine/Preferences/Registry/Registry.xml &&
	dress "$R" && dress "$G/GPT.INI" &&
	meta "$R" >reg.meta && meta "$G/GPT.INI" >gpt.meta &&
	grep -q "^owner 3000000:100" reg.meta && cp "$R" reg.orig
'

test_expect_success 'gpo set: Registry.xml and GPT.INI keep owner, group, mode, ACL and xattrs' '
	G=$(cat gpo.name) && R=$G/Machine/Preferences/Registry/Registry.xml &&
	gpotool gpo set "$G" "$KDC" $SCBE REG_DWORD 2 >out 2>err && entry_of out >gpo.id &&
	grep -q "value=\"00000002\"" "$R" &&
	meta "$R" >now.meta && test_cmp reg.meta now.meta &&
	meta "$G/GPT.INI" >now.meta && test_cmp gpt.meta now.meta &&
	! grep -q "security.NTACL" err
'

test_expect_success 'rollback of the GPO: Registry.xml back byte for byte; both files keep all of it' '
	G=$(cat gpo.name) && R=$G/Machine/Preferences/Registry/Registry.xml &&
	gpotool rollback "$(cat gpo.id)" >out 2>err &&
	cmp reg.orig "$R" &&
	meta "$R" >now.meta && test_cmp reg.meta now.meta &&
	meta "$G/GPT.INI" >now.meta && test_cmp gpt.meta now.meta
'

test_expect_success 'a new Registry.xml where GPT.INI has security.NTACL: a warning, and the fix command' '
	gpotool gpo new . --name fresh >/dev/null && F=$(ls -d {*} | grep -v "$(cat gpo.name)") &&
	if setfattr -n security.NTACL -v 0x04000400 "$F/GPT.INI" 2>/dev/null; then
		gpotool gpo set "$F" "$KDC" $SCBE REG_DWORD 2 >out 2>err &&
		grep -q "^gpotool: warning: .$F/Machine/Preferences/Registry/Registry.xml. is new and has no security.NTACL (nor has any folder made for it), while the GPO.s GPT.INI has one" err &&
		grep -q "on the DC run: samba-tool ntacl sysvolreset" err &&
		gpotool gpo set "$F" "$KDC" $SCBE REG_DWORD 1 >out 2>err &&
		! grep -q NTACL err
	else
		echo "# this file system refuses security.* xattrs; nothing to check" >&2
	fi
'

test_expect_success 'setup: an unprivileged user (nobody) who can write a hive it does not own' '
	chmod 0711 "$TRASH" && mkdir nob && chown 65534 nob &&
	gpotool hive new nob.new >/dev/null && cp nob.new nob/h && chown 0:0 nob/h && chmod 0666 nob/h && cp nob/h nob.before &&
	mkdir nobstate && chown 65534 nobstate
'

test_expect_success 'an owner that cannot be kept (nobody replacing root'"'"'s file): refused, exit 3, nothing replaced' '
	test_expect_code 3 setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent \
		"$GPOTOOL" --allow-shared-dir --state-dir "$TRASH/nobstate/s" hive set nob/h "Software\\X" v REG_DWORD 1 >out 2>err &&
	test_one_line err "unable to keep the owner and group of .nob/h. on the file that replaces it (Operation not permitted); nothing replaced" &&
	cmp nob.before nob/h && test "$(stat -c %u nob/h)" = 0 && ! ls -A nob | grep -q gpotool-
'

test_done
