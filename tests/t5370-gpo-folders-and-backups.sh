#!/bin/bash
# GPO folders: `gpo new DIR` with a missing DIR names it as the Policies folder (exit 2,
# nothing made); rolling back the entry that created Registry.xml removes the folders that
# entry made (journaled as created_dirs), only while empty, never ones that were there
# before; `gpo show` on a GPMC backup prints the versions Backup.xml records, and on a
# samba-tool gpo backup (laid out as Samba 4.17 writes one) the GPO it holds; every write
# refuses a samba-tool backup, saying what it is.
. "$(dirname "$0")/test-lib.sh"

GUID='{11111111-2222-3333-4444-555555555555}'
T='HKLM\SOFTWARE\Policies\GpoToolTest'
last_journal() { sed -n "s/^journal: //p" "$1" | tail -n 1; }

test_expect_success 'gpo new with a missing DIR: exit 2, one line naming it as the Policies folder' '
	test_must_fail 2 gpotool gpo new nowhere/Policies --name x 2>err &&
	test_one_line err "nowhere/Policies. does not exist: DIR is the Policies folder the GPO folder DIR/{GUID} is made in" &&
	test ! -e nowhere
'

test_expect_success 'gpo new with a file as DIR: exit 2, says it is not a folder' '
	: >afile &&
	test_must_fail 2 gpotool gpo new afile --name x 2>err &&
	test_one_line err "afile. is not a folder: DIR is the Policies folder"
'

test_expect_success 'setup: a new GPO (Machine/ and User/ only)' '
	mkdir pol && gpotool gpo new pol --name x --guid "$GUID" >/dev/null &&
	G=pol/$GUID && test -d $G/Machine && test ! -e $G/Machine/Preferences
'

test_expect_success 'the entry that creates Registry.xml journals the folders it made' '
	G=pol/$GUID &&
	gpotool gpo set $G "$T" v REG_DWORD 1 >set.out &&
	id=$(last_journal set.out) &&
	json_field state/journal/$id/entry.json "\"\\n\".join(x for t in d[\"targets\"] for x in t.get(\"created_dirs\", []))" >dirs &&
	printf "%s\n" "$(pwd -P)/$G/Machine/Preferences" "$(pwd -P)/$G/Machine/Preferences/Registry" >expect &&
	test_cmp expect dirs
'

test_expect_success 'rolling it back removes Registry.xml and those folders; Machine stays' '
	G=pol/$GUID && id=$(last_journal set.out) &&
	gpotool rollback $id >rb.out &&
	grep -q "^removed the empty folders journal entry $id created: Machine/Preferences/Registry, Machine/Preferences$" rb.out &&
	test ! -e $G/Machine/Preferences && test -d $G/Machine && test -d $G/User &&
	test "$(last_journal rb.out)" != "$id"
'

test_expect_success 'rolling back the rollback makes them again, with Registry.xml' '
	G=pol/$GUID &&
	gpotool rollback $(last_journal rb.out) >rb2.out &&
	test -f $G/Machine/Preferences/Registry/Registry.xml &&
	grep -q "name=\"v\"" $G/Machine/Preferences/Registry/Registry.xml
'

test_expect_success 'a Preferences folder that was there before is kept (and so is one not empty)' '
	rm -rf pol2 && mkdir pol2 && gpotool gpo new pol2 --name y --guid "$GUID" >/dev/null &&
	G=pol2/$GUID && mkdir -p $G/Machine/Preferences/Groups &&
	gpotool gpo set $G "$T" v REG_DWORD 1 >set2.out &&
	gpotool rollback $(last_journal set2.out) >rb3.out &&
	grep -q "^removed the empty folders .* created: Machine/Preferences/Registry$" rb3.out &&
	test -d $G/Machine/Preferences/Groups && test ! -e $G/Machine/Preferences/Registry
'

test_expect_success 'a Registry folder that holds something else by then is kept' '
	rm -rf pol3 && mkdir pol3 && gpotool gpo new pol3 --name z --guid "$GUID" >/dev/null &&
	G=pol3/$GUID &&
	gpotool gpo set $G "$T" v REG_DWORD 1 >set3.out &&
	echo note >$G/Machine/Preferences/Registry/notes.txt &&
	gpotool rollback $(last_journal set3.out) >rb4.out &&
	! grep -q "removed the empty folders" rb4.out &&
	test -f $G/Machine/Preferences/Registry/notes.txt &&
	test ! -e $G/Machine/Preferences/Registry/Registry.xml
'

# a GPMC backup folder: Backup.xml with the GPO ID and both sides' versions
backup() {
	rm -rf "$1" && mkdir -p "$1/DomainSysvol/GPO/Machine" "$1/DomainSysvol/GPO/User" &&
	printf '<?xml version="1.0" encoding="utf-8"?><GroupPolicyBackupScheme><GroupPolicyObject><GroupPolicyCoreSettings><ID><![CDATA[%s]]></ID><UserVersionNumber><![CDATA[%s]]></UserVersionNumber><MachineVersionNumber><![CDATA[%s]]></MachineVersionNumber></GroupPolicyCoreSettings></GroupPolicyObject></GroupPolicyBackupScheme>' \
		"$GUID" "$2" "$3" >"$1/Backup.xml"
}

test_expect_success 'gpo show on a GPMC backup prints the versions Backup.xml records' '
	backup bk 131074 393222 &&
	gpotool gpo show bk >out &&
	grep -qx "Backup.xml: Version 131078 (user 2, machine 6; in AD user 2, machine 6)" out &&
	grep -q "^problems: none found" out &&
	gpotool --json gpo show bk >show.json &&
	test "$(json_field show.json "d[\"version\"], d[\"ad_version\"]")" = "(131078, 131078)"
'

test_expect_success 'a backup whose AD and SYSVOL versions differ: both printed, and a problem' '
	backup bk2 65537 196609 &&
	gpotool gpo show bk2 >out &&
	grep -qx "Backup.xml: Version 65537 (user 1, machine 1; in AD user 1, machine 3)" out &&
	grep -q "the machine side.s AD version (3) and SYSVOL version (1) differ" out
'

test_expect_success 'a gpt.ini inside the backup is read too' '
	backup bk3 65537 65537 &&
	printf "[General]\r\nVersion=65537\r\n" >bk3/DomainSysvol/GPO/gpt.ini &&
	gpotool gpo show bk3 >out &&
	grep -qx "GPT.INI (in the backup): Version 65537 (user 1, machine 1)" out
'

# samba_backup GPO DEST: DEST laid out as `samba-tool gpo backup` (Samba 4.17) leaves a GPO in
# TMPDIR/policy/{GUID}: every file as NAME.SAMBABACKUP (its bytes) beside NAME.xml (Samba's
# parse; <UnknownFile/> for a Registry.xml), and the AD extension lists as *.SAMBAEXT.
samba_backup() {
	rm -rf "$2" && mkdir -p "$(dirname "$2")" && cp -a "$1" "$2" &&
	find "$2" -type f | while read -r f; do
		mv "$f" "$f.SAMBABACKUP" &&
		printf '<?xml version="1.0" encoding="utf-8"?><UnknownFile/>' >"$f.xml" || exit 1
	done
}

test_expect_success 'setup: a samba-tool backup of a GPO with a Machine and a User item' '
	rm -rf sgpo && mkdir sgpo && gpotool gpo new sgpo --name s --guid "$GUID" >/dev/null &&
	gpotool gpo set sgpo/$GUID "$T" v REG_DWORD 1 >/dev/null &&
	gpotool gpo set sgpo/$GUID "HKCU\\Software\\Policies\\X" u REG_SZ "Grüße" --user >/dev/null &&
	samba_backup sgpo/$GUID sbk/policy/$GUID &&
	printf "%s" "[{B087BE9D-ED37-454F-AF9C-04291E351182}{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}]" \
		>sbk/policy/$GUID/gPCMachineExtensionNames.SAMBAEXT &&
	test -f sbk/policy/$GUID/Machine/Preferences/Registry/Registry.xml.SAMBABACKUP &&
	test ! -e sbk/policy/$GUID/GPT.INI
'

test_expect_success 'gpo show reads a samba-tool backup: GPT.INI and Registry.xml from their .SAMBABACKUP copies' '
	B=sbk/policy/$GUID &&
	gpotool gpo show $B >out &&
	grep -qx "samba-tool gpo backup .$B., GPO $GUID" out &&
	grep -qx "GPT.INI (GPT.INI.SAMBABACKUP): Version 65537 (user 1, machine 1)" out &&
	grep -qx "AD when backed up: gPCMachineExtensionNames \[{B087BE9D-ED37-454F-AF9C-04291E351182}{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}\]" out &&
	grep -qx "AD when backed up: gPCUserExtensionNames (absent)" out &&
	grep -qx "Machine: $B/Machine/Preferences/Registry/Registry.xml.SAMBABACKUP (1 item)" out &&
	grep -qx "  \[U\] HKEY_LOCAL_MACHINE.SOFTWARE.Policies.GpoToolTest.v = REG_DWORD 00000001" out &&
	grep -qx "  \[U\] HKEY_CURRENT_USER.Software.Policies.X.u = REG_SZ Grüße" out &&
	grep -q "^note: samba-tool gpo restore makes a new GPO .*without --restore-metadata its Version stays 0" out &&
	gpotool --json gpo show $B >show.json &&
	test "$(json_field show.json "d[\"samba_backup\"], d[\"backup\"], d[\"version\"], d[\"guid\"]")" = "(True, False, 65537, '"'"'$GUID'"'"')" &&
	test "$(json_field show.json "len(d[\"machine\"][\"items\"]), len(d[\"user\"][\"items\"]), d[\"gPCUserExtensionNames\"]")" = "(1, 1, None)"
'

test_expect_success 'gpo show on a samba-tool backup: items on a side whose extension list lacks the GPP Registry CSE' '
	gpotool gpo show sbk/policy/$GUID >out &&
	grep -q "^  - User Registry.xml has items, but the gPCUserExtensionNames the backup kept has no GPP Registry extension" out &&
	! grep -q "^  - Machine Registry.xml has items" out
'

test_expect_success 'every write refuses a samba-tool backup (exit 3, one line saying what it is), nothing written' '
	B=sbk/policy/$GUID &&
	cp -a sbk sbk.before &&
	test_must_fail 3 gpotool gpo set $B "$T" w REG_DWORD 1 >out 2>err &&
	test_one_line err "is a samba-tool gpo backup (GPT.INI.SAMBABACKUP): gpo show reads it" &&
	test_must_fail 3 gpotool stage kdc-enforce --gpo $B >out 2>err &&
	grep -q "is a samba-tool gpo backup" err &&
	test_must_fail 3 gpotool gpo ad $B --domain example.com >out 2>err &&
	test_one_line err "is a samba-tool gpo backup" &&
	diff -r sbk.before sbk
'

test_expect_success 'the --tmpdir a samba-tool backup was made in: the message names policy/{GUID}' '
	test_must_fail 3 gpotool gpo show sbk >out 2>err &&
	test_one_line err "give its policy/{GUID} folder"
'

test_expect_success 'a samba-tool backup whose Registry.xml.SAMBABACKUP is a symbolic link is refused' '
	rm -rf sbk2 && cp -a sbk sbk2 &&
	R=sbk2/policy/$GUID/Machine/Preferences/Registry &&
	mv $R/Registry.xml.SAMBABACKUP elsewhere.xml && ln -s "$PWD/elsewhere.xml" $R/Registry.xml.SAMBABACKUP &&
	test_must_fail 3 gpotool gpo show sbk2/policy/$GUID >out 2>err &&
	test_one_line err "symbolic link"
'

B=gpt/gpmc_backups/detectionlab_wef_configuration/{1C916D7C-52F4-4EB4-8EA7-081349532B3C}
if [ -f "$CORPUS/$B/Backup.xml" ]; then
	test_expect_success 'a GPMC-written backup from the corpus: its versions' '
		gpotool gpo show "$CORPUS/$B" >out &&
		grep -qx "Backup.xml: Version 65563 (user 1, machine 27; in AD user 1, machine 27)" out
	'
else
	test_skip 'a GPMC-written backup from the corpus: its versions' "no $CORPUS/$B"
fi

test_done
