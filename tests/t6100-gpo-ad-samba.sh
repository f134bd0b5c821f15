#!/bin/bash
# `gpo ad --format samba` against a real Samba AD DC (tests/lib/samba-dc.sh): the printed
# script runs as printed (credentials as its arguments, the password from $PASSWD), applies
# the compare-and-swap LDIF over LDAP and checks it; Samba's own tools read the result. A
# value changed since it was read makes the script fail and change nothing; an OU with a
# quote or a non-ASCII name, base64 in the LDIF, a lower versionNumber refused; and `gpo show`
# on a real `samba-tool gpo backup`.
. "$(dirname "$0")/test-lib.sh"
. "$TESTS_DIR/lib/samba-dc.sh"

if ! reason=$(samba_dc_available 2>&1); then
	test_skip 'gpo ad --format samba against a Samba AD DC' "${reason:-no Samba AD DC here}"
	test_done
	exit
fi
samba_dc_start t6100 || { echo "Bail out! the test DC did not start"; exit 1; }
trap 'samba_dc_stop; rm -rf "$TRASH"' EXIT

# every Samba tool takes the password from the environment, never from a command line
export PASSWD=$DC_PASS
DNS=$(echo "$DC_DOMAIN_DN" | sed 's/^DC=//; s/,DC=/./g')
LDAP=ldap://$DC_ADDR
N=h-gpoad-t6100-$$
OU="OU=O'Brien $N,$DC_DOMAIN_DN"
OU2="OU=Müller $N,$DC_DOMAIN_DN"
REG_PAIR='[{B087BE9D-ED37-454F-AF9C-04291E351182}{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}]'
IP_GROUP='[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]'

# dc_attr DN ATTR: the attribute's value as the DC holds it, read from its sam.ldb directly
# (Samba's ldbsearch, base64 and folded lines undone), "" when absent.
dc_attr() {
	ldbsearch -H "$DC_SAM" -s base -b "$1" "$2" | python3 -c '
import base64, sys
text = sys.stdin.read().replace("\n ", "")
for line in text.splitlines():
    if line.startswith(sys.argv[1] + ":: "):
        print(base64.b64decode(line.split(":: ", 1)[1]).decode())
    elif line.startswith(sys.argv[1] + ": "):
        print(line.split(": ", 1)[1])' "$2"
}
# modify LDIF-TEXT: another writer's change, over LDAP
modify() { printf "%s\n" "$1" | ldbmodify -H "$LDAP" -U Administrator >/dev/null; }
gpo_dn() { echo "CN=$GUID,CN=Policies,CN=System,$DC_DOMAIN_DN"; }

test_expect_success 'setup: a GPO made by samba-tool, two OUs, and its folder with one Machine item' '
	samba-tool gpo create "$N" -H "$LDAP" -U Administrator >create.out &&
	sed -n "s/.* created as \({[0-9A-F-]*}\)$/\1/p" create.out >guid &&
	test "$(wc -c <guid)" = 39 &&
	GUID=$(cat guid) &&
	printf "dn: %s\nobjectClass: organizationalUnit\n\ndn: %s\nobjectClass: organizationalUnit\n" "$OU" "$OU2" |
		ldbadd -H "$LDAP" -U Administrator >/dev/null &&
	test "$(dc_attr "$(gpo_dn)" versionNumber)" = 0 &&
	test -z "$(dc_attr "$(gpo_dn)" gPCMachineExtensionNames)" &&
	mkdir pol && gpotool gpo new pol --name "$N" --guid "$GUID" >/dev/null &&
	gpotool gpo set "pol/$GUID" "HKLM\\SOFTWARE\\Policies\\GpoToolTest" v REG_DWORD 1 >/dev/null
'
GUID=$(cat guid 2>/dev/null)

test_expect_success 'the samba script runs as printed: set -eu, ldap://DC, the LDIF applied and checked' '
	gpotool gpo ad "pol/$GUID" --domain "$DNS" --dc "$DC_ADDR" --format samba --link "$OU" \
		--current-version 0 --current-extensions "" >apply.sh &&
	grep -qx "set -eu" apply.sh &&
	! grep -qF "$DC_PASS" apply.sh &&
	! grep -q "sam.ldb" apply.sh &&
	sh apply.sh -U Administrator >run.out 2>run.err &&
	grep -qx "checked: versionNumber and the extension lists as written on $(gpo_dn)" run.out &&
	grep -qxF "checked: a link to this GPO on $OU" run.out
'

test_expect_success 'Samba reads what the script wrote: versionNumber, the extension list, the link' '
	test "$(dc_attr "$(gpo_dn)" versionNumber)" = 1 &&
	test "$(dc_attr "$(gpo_dn)" gPCMachineExtensionNames)" = "$REG_PAIR" &&
	samba-tool gpo getlink "$OU" -H "$LDAP" -U Administrator >getlink.out &&
	grep -q "GPO *: $GUID" getlink.out
'

test_expect_success 'run again, the script fails: the old value it swaps is gone; nothing changes' '
	test_must_fail sh apply.sh -U Administrator >run2.out 2>run2.err &&
	grep -q "No such attribute" run2.err &&
	! grep -q "^checked:" run2.out &&
	test "$(dc_attr "$(gpo_dn)" versionNumber)" = 1 &&
	test "$(dc_attr "$(gpo_dn)" gPCMachineExtensionNames)" = "$REG_PAIR"
'

test_expect_success 'another writer sets the User extension list after it was read: the whole modify fails, theirs survives' '
	gpotool gpo set "pol/$GUID" "HKCU\\Software\\Policies\\GpoToolTest" u REG_DWORD 1 --user >/dev/null &&
	gpotool gpo ad "pol/$GUID" --domain "$DNS" --dc "$DC_ADDR" --format samba \
		--current-version 1 --current-extensions "$REG_PAIR" --current-user-extensions "" >stale.sh &&
	grep -qx "add: gPCUserExtensionNames" stale.sh &&
	modify "dn: $(gpo_dn)
changetype: modify
add: gPCUserExtensionNames
gPCUserExtensionNames: $IP_GROUP
-" &&
	test_must_fail sh stale.sh -U Administrator >run3.out 2>run3.err &&
	grep -q "Attribute or value exists" run3.err &&
	test "$(dc_attr "$(gpo_dn)" gPCUserExtensionNames)" = "$IP_GROUP" &&
	test "$(dc_attr "$(gpo_dn)" versionNumber)" = 1
'

test_expect_success 'read again, run again (an authentication file this time): both groups kept, the version raised' '
	gpotool gpo ad "pol/$GUID" --domain "$DNS" --dc "$DC_ADDR" --format samba --link "$OU" \
		--current-version "$(dc_attr "$(gpo_dn)" versionNumber)" \
		--current-extensions "$(dc_attr "$(gpo_dn)" gPCMachineExtensionNames)" \
		--current-user-extensions "$(dc_attr "$(gpo_dn)" gPCUserExtensionNames)" \
		--current-gplink "$(dc_attr "$OU" gPLink)" >fresh.sh &&
	grep -q "already links this GPO" fresh.sh &&
	printf "username = Administrator\npassword = %s\n" "$DC_PASS" >auth && chmod 600 auth &&
	env -u PASSWD sh fresh.sh -A auth >run4.out &&
	test "$(dc_attr "$(gpo_dn)" versionNumber)" = 65537 &&
	test "$(dc_attr "$(gpo_dn)" gPCUserExtensionNames)" = "$IP_GROUP$REG_PAIR" &&
	test "$(dc_attr "$(gpo_dn)" gPCMachineExtensionNames)" = "$REG_PAIR"
'

test_expect_success 'a non-ASCII OU: dn:: base64 through ldbmodify over LDAP, the link swapped in' '
	gpotool gpo ad "pol/$GUID" --domain "$DNS" --dc "$DC_ADDR" --format samba --link "$OU2" --current-version 65537 \
		--current-extensions "$REG_PAIR" --current-user-extensions "$IP_GROUP$REG_PAIR" --current-gplink "" >mu.sh &&
	grep -q "^dn:: " mu.sh &&
	sh mu.sh -U Administrator >run5.out &&
	grep -qxF "checked: gPLink as written on $OU2" run5.out &&
	test "$(dc_attr "$OU2" gPLink)" = "[LDAP://cn=$GUID,cn=policies,cn=system,$DC_DOMAIN_DN;0]" &&
	test "$(dc_attr "$(gpo_dn)" versionNumber)" = 65537
'

test_expect_success 'the LDIF, applied as its header says: add: gPLink without the current value fails where the OU has one' '
	gpotool gpo ad "pol/$GUID" --domain "$DNS" --dc "$DC_ADDR" --link "$OU2" --current-version 65537 \
		--current-extensions "$REG_PAIR" --current-user-extensions "$IP_GROUP$REG_PAIR" >link.ldif &&
	grep -q "^# Apply with ldapmodify -H ldap://$DC_ADDR -f FILE .*, on a Samba DC with$" link.ldif &&
	grep -qx "add: gPLink" link.ldif &&
	before=$(dc_attr "$OU2" gPLink) &&
	test_must_fail ldbmodify -H "$LDAP" -U Administrator link.ldif >add.out 2>add.err &&
	grep -q "Attribute or value exists" add.err &&
	test "$(dc_attr "$OU2" gPLink)" = "$before"
'

test_expect_success 'a versionNumber in AD above GPT.INI is never lowered: exit 3, nothing printed, AD as it was' '
	modify "dn: $(gpo_dn)
changetype: modify
replace: versionNumber
versionNumber: 7
-" &&
	test_must_fail 3 gpotool gpo ad "pol/$GUID" --domain "$DNS" --dc "$DC_ADDR" --format samba \
		--current-version "$(dc_attr "$(gpo_dn)" versionNumber)" --current-extensions "$REG_PAIR" >low.sh 2>low.err &&
	test_one_line low.err "machine version 1 is below AD.s 7" &&
	test ! -s low.sh &&
	test "$(dc_attr "$(gpo_dn)" versionNumber)" = 7
'

test_expect_success 'gpo show reads a real samba-tool gpo backup of the GPO: its Registry.xml and extension lists' '
	smbclient "//$DC_ADDR/sysvol" -U Administrator -c "cd $DNS/Policies/$GUID; mkdir Machine/Preferences; mkdir Machine/Preferences/Registry; put pol/$GUID/Machine/Preferences/Registry/Registry.xml Machine/Preferences/Registry/Registry.xml; put pol/$GUID/GPT.INI GPT.INI" >smb.out 2>&1 &&
	mkdir bk &&
	samba-tool gpo backup "$GUID" --tmpdir="$PWD/bk" -H "$LDAP" -U Administrator >backup.out &&
	B=bk/policy/$GUID &&
	test -f "$B/Machine/Preferences/Registry/Registry.xml.SAMBABACKUP" &&
	cmp "$B/Machine/Preferences/Registry/Registry.xml.SAMBABACKUP" "pol/$GUID/Machine/Preferences/Registry/Registry.xml" &&
	gpotool gpo show "$B" >show.out &&
	grep -qx "samba-tool gpo backup .$B., GPO $GUID" show.out &&
	grep -qxF "AD when backed up: gPCMachineExtensionNames $REG_PAIR" show.out &&
	grep -qxF "AD when backed up: gPCUserExtensionNames $IP_GROUP$REG_PAIR" show.out &&
	grep -q "^Machine: .*Registry.xml.SAMBABACKUP (1 item)$" show.out &&
	grep -q "^  \[U\] HKEY_LOCAL_MACHINE.SOFTWARE.Policies.GpoToolTest.v = REG_DWORD 00000001$" show.out &&
	grep -qx "problems: none found" show.out &&
	test_must_fail 3 gpotool gpo set "$B" "HKLM\\SOFTWARE\\Policies\\GpoToolTest" y REG_DWORD 1 >out 2>err &&
	test_one_line err "is a samba-tool gpo backup"
'

test_expect_success 'cleanup: the GPO (gpo del removes its links) and the OUs leave the DC' '
	samba-tool gpo del "$GUID" -H "$LDAP" -U Administrator >/dev/null &&
	ldbdel -H "$LDAP" -U Administrator "$OU" "$OU2" >/dev/null
'

test_done
