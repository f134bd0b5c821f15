#!/bin/bash
# A GPO in a live domain as a target, against a real Samba AD DC on loopback (tests/lib/samba-dc.sh):
# stage --create --link makes, fills and links the GPO in one journaled transaction, checked with
# Samba's own tools; validate says whether DCs will apply it; a re-run is a no-op; another writer's
# link and extension between the read and the write survive; AD's versionNumber is never lowered;
# rollback puts it back (versions rising); a deploy killed at each step is finished by the next
# run; refusals (wrong password, no rights, DC down, TLS name mismatch, plain bind) write nothing.
. "$(dirname "$0")/test-lib.sh"
. "$TESTS_DIR/lib/samba-dc.sh"

samba_dc_available
samba_dc_setup deploy

OU="OU=Domain Controllers,$DC_DOMAIN_DN"
CSE='{B087BE9D-ED37-454F-AF9C-04291E351182}'
POLICIES="$DC_DIR/state/sysvol/$DC_DNS_DOMAIN/Policies"
printf '%s\n' "$DC_PASS" >pw && chmod 600 pw
conn=(--dc "$DC_HOST" --resolve "$DC_HOST:$DC_ADDR" --ca-file "$DC_CA" --user "$DC_USER" --password-file "$PWD/pw")
dom() { gpotool "$@" "${conn[@]}"; }
# an attribute of an object, read from the DC's own database
# (LDIF folds long lines: unfolded first)
attr() { ldbsearch -H "$DC_SAM" -s base -b "$1" "$2" | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n //g' | sed -n "s/^$2: //p"; }
gpo_dn() { echo "CN=$1,CN=Policies,CN=System,$DC_DOMAIN_DN"; }
guid_in() { grep -o '{[0-9A-F]\{8\}-[0-9A-F-]\{27\}}' "$1" | head -n 1; }
gpt_version() { sed -n 's/^Version=\([0-9]*\).*/\1/p' "$POLICIES/$1/GPT.INI" | tr -d '\r'; }
reg_xml() { echo "$POLICIES/$1/Machine/Preferences/Registry/Registry.xml"; }
jf() { json_field "state/journal/$1/entry.json" "$2"; }
# a GPO of the DC's own making (samba-tool), for another writer's links and extensions
samba_gpo() { samba-tool gpo create "$1" -H "ldap://$DC_ADDR" -U"$DC_USER%$DC_PASS" | guid_in /dev/stdin; }

test_expect_success 'stage --create --link: the GPO is made, holds the setting and is linked to the OU' '
	dom stage kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" --create --link "$OU" >out 2>err &&
	guid=$(guid_in out) && test -n "$guid" && echo "$guid" >kdc.guid &&
	grep -q "^created: GPO .KDC enforcement. $guid in $DC_DNS_DOMAIN" out &&
	grep -q "^verified on $DC_HOST" out &&
	sed -n "s/^journal: //p" out >kdc.id && test -s kdc.id &&
	samba-tool gpo listall -H "$DC_SAM" -s "$DC_SMBCONF" >all && grep -q "KDC enforcement" all &&
	test "$(attr "$(gpo_dn "$guid")" versionNumber)" = 1 &&
	attr "$(gpo_dn "$guid")" gPCMachineExtensionNames | grep -qF "$CSE" &&
	test "$(gpt_version "$guid")" = 1 &&
	grep -q StrongCertificateBindingEnforcement "$(reg_xml "$guid")" &&
	samba-tool gpo getlink "$OU" -H "$DC_SAM" -s "$DC_SMBCONF" >links && grep -qi "$guid" links
'

test_expect_success 'the journal entry names the DC, the GPO and each AD value before and after' '
	id=$(cat kdc.id) guid=$(cat kdc.guid) &&
	test "$(jf "$id" "d[\"target\"][\"backend\"]")" = domain &&
	test "$(jf "$id" "d[\"target\"][\"extra\"][\"dc\"]")" = "$DC_HOST" &&
	test "$(jf "$id" "d[\"target\"][\"extra\"][\"gpo\"][\"guid\"]")" = "$guid" &&
	test "$(jf "$id" "d[\"target\"][\"extra\"][\"attributes\"][\"versionNumber\"][\"before\"]")" = 0 &&
	test "$(jf "$id" "d[\"target\"][\"extra\"][\"attributes\"][\"versionNumber\"][\"after\"]")" = 1 &&
	test "$(jf "$id" "d[\"target\"][\"extra\"][\"link\"][\"created\"]")" = True &&
	test "$(jf "$id" "d[\"status\"]")" = complete &&
	gpotool journal show "$id" >show &&
	grep -qx "dc         $DC_HOST in $DC_DNS_DOMAIN" show &&
	grep -qx "ad         versionNumber: 0 -> 1" show &&
	grep -qx "link       $OU: made by this entry" show &&
	grep -q "^  now:      on the DC" show
'

test_expect_success 'the audit record names the DC, the GPO and each AD value' '
	gpotool audit verify >verify &&
	python3 -c "import json,sys
recs=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r=[x for x in recs if x.get(\"journal\")==sys.argv[2]][0]
assert r[\"domain\"][\"dc\"]==sys.argv[3], r
assert r[\"domain\"][\"attributes\"][\"versionNumber\"]==dict(before=\"0\",after=\"1\"), r
assert r[\"target\"].startswith(\"GPO \"), r" state/audit.log "$(cat kdc.id)" "$DC_HOST"
'

test_expect_success 'validate: the GPO holds the value and DCs will apply it' '
	dom validate kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" >out 2>err &&
	grep -q "^ok: " out && grep -q "^applies: linked to $OU" out
'

test_expect_success 'validate as the first use of a state directory: it is made, not an I/O error' '
	GPOTOOL_STATE_DIR=$PWD/fresh-state dom validate kdc-enforce --domain "$DC_DNS_DOMAIN" \
		--gpo-name "KDC enforcement" >out 2>err &&
	grep -q "^ok: " out && test -d fresh-state && ! ls fresh-state | grep -q "^domain-"
'

test_expect_success 'a re-run is a no-op: nothing written, versions as they were' '
	guid=$(cat kdc.guid) &&
	dom stage kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" --link "$OU" >out 2>err &&
	grep -q "^no change: " out &&
	test "$(attr "$(gpo_dn "$guid")" versionNumber)" = 1 && test "$(gpt_version "$guid")" = 1
'

# Samba 4.17's sysvolcheck wants every file of a GPO to carry the GPO folder's own explicit ACL
# (what "ntacl sysvolreset" writes); a file made over SMB inherits its folder's instead, so it
# fails for every file written over SMB, samba-tool gpo create's own GPT.INI included, and
# libsmbclient cannot set that ACL (it sorts ACEs, drops object GUIDs and the protected flag).
# What holds: every file gpotool wrote has its NT ACL from smbd, the same samba-tool's get.
test_expect_success 'the files written over SMB have the NT ACLs smbd gives samba-tool its own' '
	guid=$(cat kdc.guid) ref=$(samba_gpo acl-reference) && test -n "$ref" &&
	# (smbd 4.17 puts a random GUID in the inherited object ACE of mask 0, which grants nothing)
	aces() { samba-tool ntacl get --as-sddl "$1" -s "$DC_SMBCONF" | sed "s/(/\n(/g; s/(OA;;;;[^;]*;/(OA;;;;;/" | sort; }
	aces "$POLICIES/$guid/GPT.INI" >ours && aces "$POLICIES/$ref/GPT.INI" >theirs &&
	test "$(wc -l <ours)" -gt 3 && test_cmp theirs ours &&
	samba-tool ntacl get --as-sddl "$(reg_xml "$guid")" -s "$DC_SMBCONF" >reg.acl && test -s reg.acl
'

test_expect_success 'validate of a GPO that is not linked: exit 1, saying so' '
	other=$(samba_gpo unlinked) && test -n "$other" &&
	dom stage kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-guid "$other" >out 2>err &&
	grep -q "not linked to .$OU." err &&
	test_expect_code 1 dom validate kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-guid "$other" >out 2>err &&
	grep -q "not linked" err
'

test_expect_success 'AD versionNumber above GPT.INI: never lowered, both agree after' '
	guid=$(cat kdc.guid) &&
	printf "dn: %s\nchangetype: modify\nreplace: versionNumber\nversionNumber: 7\n" "$(gpo_dn "$guid")" >v7.ldif &&
	ldbmodify -H "$DC_SAM" v7.ldif >/dev/null &&
	dom stage pfx-sid --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" >out 2>err &&
	sed -n "s/^journal: //p" out >pfx.id &&
	test "$(attr "$(gpo_dn "$guid")" versionNumber)" = 8 && test "$(gpt_version "$guid")" = 8
'

# another writer, while gpotool is stopped between its read and its compare-and-swap
other_writer() {
	raced=$(samba-tool gpo listall -H "$DC_SAM" -s "$DC_SMBCONF" | grep -B1 "display name : Raced" | guid_in /dev/stdin) &&
	test -n "$raced" && echo "$raced" >raced.guid &&
	samba-tool gpo setlink "$OU" "$1" -H "ldap://$DC_ADDR" -U"$DC_USER%$DC_PASS" >/dev/null &&
	printf "dn: %s\nchangetype: modify\nreplace: gPCMachineExtensionNames\ngPCMachineExtensionNames: %s\n" \
		"$(gpo_dn "$raced")" "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]" >ext.ldif &&
	ldbmodify -H "$DC_SAM" ext.ldif >/dev/null
}

test_expect_success 'AD and GPT.INI disagreeing on a GPO that has the item: stage repairs it' '
	guid=$(cat kdc.guid) &&
	printf "dn: %s\nchangetype: modify\nreplace: versionNumber\nversionNumber: 20\n" "$(gpo_dn "$guid")" >v20.ldif &&
	ldbmodify -H "$DC_SAM" v20.ldif >/dev/null &&
	test_expect_code 1 dom validate pfx-sid --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" >out 2>err &&
	grep -q "disagree" err &&
	dom stage pfx-sid --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" >out 2>err &&
	grep -q "disagree" err &&
	test "$(attr "$(gpo_dn "$guid")" versionNumber)" = 21 && test "$(gpt_version "$guid")" = 21 &&
	sed -n "s/^journal: //p" out >repair.id
'

test_expect_success '--create with an OU that is not there: exit 2, no GPO made' '
	test_expect_code 2 dom stage kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "Nowhere" --create \
		--link "OU=No Such OU,$DC_DOMAIN_DN" >out 2>err &&
	! samba-tool gpo listall -H "$DC_SAM" -s "$DC_SMBCONF" | grep -q "display name : Nowhere"
'

test_expect_success '--create again on a GPO whose SYSVOL folder was never made: finished, then staged' '
	half=$(samba_gpo half-made) && test -n "$half" && rm -rf "$POLICIES/$half" &&
	dom stage kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "half-made" --create >out 2>err &&
	grep -q "interrupted" err && test "$(gpt_version "$half")" = 1 &&
	test "$(attr "$(gpo_dn "$half")" versionNumber)" = 1
'

test_expect_success 'another link and another extension added between read and write survive' '
	guid=$(cat kdc.guid) other=$(samba_gpo neighbour) && test -n "$other" || return 1
	GPOTOOL_FAULT=domain-cas-read:stop "$GPOTOOL" stage kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "Raced" \
		--create --link "$OU" "${conn[@]}" >out9 2>err9 &
	pid=$!
	wait_stopped "$pid" && other_writer "$other"; rc=$?
	kill -CONT "$pid"; wait "$pid" && test $rc = 0 &&
	sed -n "s/^journal: //p" out9 >raced.id &&
	raced=$(cat raced.guid) &&
	grep -q "changed in AD since it was read" err9 &&
	links=$(attr "$OU" gPLink) &&
	echo "$links" | grep -qi "$other" && echo "$links" | grep -qi "$raced" && echo "$links" | grep -qi "$guid" &&
	ext=$(attr "$(gpo_dn "$raced")" gPCMachineExtensionNames) &&
	echo "$ext" | grep -qF "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}" && echo "$ext" | grep -qF "$CSE" &&
	test "$(attr "$(gpo_dn "$raced")" versionNumber)" = "$(gpt_version "$raced")"
'

test_expect_success 'gpo fetch: the GPO folder as the DC holds it, for gpo show' '
	guid=$(cat kdc.guid) &&
	dom gpo fetch --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" copy >out 2>err &&
	grep -q "^fetched: " out &&
	cmp copy/GPT.INI "$POLICIES/$guid/GPT.INI" &&
	gpotool gpo show copy >show && grep -q StrongCertificateBindingEnforcement show &&
	test_expect_code 3 dom gpo fetch --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" copy 2>err
'

test_expect_success 'rollback of the second entry: its item out, versions rise, the pair kept for the first item' '
	guid=$(cat kdc.guid) &&
	dom rollback "$(cat pfx.id)" >out 2>err &&
	grep -q "^rolled back: " out &&
	test "$(attr "$(gpo_dn "$guid")" versionNumber)" = 22 && test "$(gpt_version "$guid")" = 22 &&
	! grep -q EnableSidSecurityExtension "$(reg_xml "$guid")" &&
	grep -q StrongCertificateBindingEnforcement "$(reg_xml "$guid")" &&
	attr "$(gpo_dn "$guid")" gPCMachineExtensionNames | grep -qF "$CSE"
'

test_expect_success 'rollback of the first entry: Registry.xml gone, its link and extension pair taken out' '
	guid=$(cat kdc.guid) &&
	dom rollback "$(cat kdc.id)" >out 2>err &&
	grep -q "^rolled back: " out &&
	test ! -e "$(reg_xml "$guid")" &&
	! attr "$OU" gPLink | grep -qi "$guid" &&
	! attr "$(gpo_dn "$guid")" gPCMachineExtensionNames | grep -qF "$CSE" &&
	test "$(attr "$(gpo_dn "$guid")" versionNumber)" = 23 && test "$(gpt_version "$guid")" = 23
'

test_expect_success 'rollback --undo-on-clients=delete: a Delete item where the item was, so clients remove the value' '
	raced=$(cat raced.guid) &&
	dom rollback "$(cat raced.id)" --undo-on-clients=delete >out 2>err &&
	grep -q "^rolled back: " out &&
	grep -q "action=\"D\"" "$(reg_xml "$raced")" &&
	attr "$(gpo_dn "$raced")" gPCMachineExtensionNames | grep -qF "$CSE"
'

test_expect_success 'rollback of a GPO changed since: refused, saying what differs' '
	raced=$(cat raced.guid) &&
	test_expect_code 3 dom rollback "$(cat raced.id)" >out 2>err &&
	grep -q "changed since" err
'

test_expect_success 'the PDC emulator by default: found through the domain object' '
	gpotool gpo fetch --domain "$DC_DNS_DOMAIN" --gpo-name "Raced" pdc-copy --resolve "$DC_DNS_DOMAIN:$DC_ADDR" \
		--resolve "$DC_HOST:$DC_ADDR" --ca-file "$DC_CA" --user "$DC_USER" --password-file "$PWD/pw" >out 2>err &&
	grep -qi "^dc: $DC_HOST, found by the domain.s fSMORoleOwner" out && test -f pdc-copy/GPT.INI
'

for point in domain-journaled domain-registry-written domain-files-written domain-gpc-written domain-link-written; do
	test_expect_success "killed at $point: the next run finishes the deploy" '
		test_expect_code 137 env GPOTOOL_FAULT='"$point"' "$GPOTOOL" stage kdc-enforce --domain "$DC_DNS_DOMAIN" \
			--gpo-name "kill-'"$point"'" --create --link "$OU" "${conn[@]}" >out 2>err
		dom stage kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "kill-'"$point"'" --link "$OU" >out2 2>err2 &&
		grep -q "was interrupted" err2 &&
		dom validate kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "kill-'"$point"'" >out3 2>err3 &&
		g=$(guid_in out3) && test "$(attr "$(gpo_dn "$g")" versionNumber)" = "$(gpt_version "$g")"
	'
done

test_expect_success 'wrong password: exit 3, nothing written' '
	guid=$(cat kdc.guid) && before=$(attr "$(gpo_dn "$guid")" versionNumber) &&
	printf "wrong\n" >bad && chmod 600 bad &&
	test_expect_code 3 gpotool stage pfx-sid --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" --dc "$DC_HOST" \
		--resolve "$DC_HOST:$DC_ADDR" --ca-file "$DC_CA" --user "$DC_USER" --password-file "$PWD/bad" >out 2>err &&
	grep -qi "refused the bind" err &&
	test "$(attr "$(gpo_dn "$guid")" versionNumber)" = "$before"
'

# (on the test DC a new user may not even list SysVol: access denied there, or at the write)
test_expect_success 'no rights: exit 3, nothing written' '
	guid=$(cat kdc.guid) && before=$(attr "$(gpo_dn "$guid")" versionNumber) &&
	sha=$(sha256sum <"$POLICIES/$guid/GPT.INI") &&
	samba-tool user create hluser "Passw0rd!y" -H "ldap://$DC_ADDR" -U"$DC_USER%$DC_PASS" >/dev/null &&
	printf "Passw0rd!y\n" >hl && chmod 600 hl &&
	test_expect_code 3 gpotool stage pfx-sid --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" --dc "$DC_HOST" \
		--resolve "$DC_HOST:$DC_ADDR" --ca-file "$DC_CA" --user hluser --password-file "$PWD/hl" >out20 2>err20 &&
	grep -qi "no right\|access denied" err20 &&
	test "$(attr "$(gpo_dn "$guid")" versionNumber)" = "$before" &&
	test "$(sha256sum <"$POLICIES/$guid/GPT.INI")" = "$sha"
'

test_expect_success 'DC down: exit 4' '
	test_expect_code 4 gpotool validate kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" \
		--dc "$DC_HOST" --resolve "$DC_HOST:127.255.255.254" --ca-file "$DC_CA" --user "$DC_USER" \
		--password-file "$PWD/pw" >out 2>err &&
	grep -q "127.255.255.254" err
'

test_expect_success 'TLS name mismatch: exit 3' '
	test_expect_code 3 gpotool validate kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" \
		--dc wrong.example.com --resolve "wrong.example.com:$DC_ADDR" --ca-file "$DC_CA" --user "$DC_USER" \
		--password-file "$PWD/pw" >out 2>err &&
	grep -qi "wrong.example.com" err
'

# (gpotool's own refusal of a clear-text password bind, before anything is sent, is in the
# domain-ldap unit test; Samba 4.17 refuses one itself: "Transport encryption required")
test_expect_success '--allow-plain-ldap still uses StartTLS where the DC offers it' '
	dom validate kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" --allow-plain-ldap >out 2>err;
	grep -q "^dc: $DC_HOST, found by --dc; LDAP ldap/starttls" out
'

test_expect_success 'a password file others can read is refused' '
	chmod 644 pw &&
	test_expect_code 3 dom validate kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "KDC enforcement" 2>err; rc=$?
	chmod 600 pw && test $rc = 0 && grep -q "chmod 600" err
'

test_expect_success 'Kerberos: a ticket from the DC and SASL GSSAPI, by name' '
	samba_dc_kinit "$DC_USER" "$DC_PASS" &&
	samba_dc_with_hosts "$GPOTOOL" stage kdc-enforce --domain "$DC_DNS_DOMAIN" --gpo-name "By Kerberos" --create \
		--link "$OU" --kerberos --dc "$DC_HOST" >out 2>err &&
	grep -q "^verified on $DC_HOST" out &&
	g=$(guid_in out) && test "$(attr "$(gpo_dn "$g")" versionNumber)" = 1
'

test_expect_success 'Kerberos from a keytab: gpotool gets its own ticket, in a cache of its own' '
	samba-tool domain exportkeytab admin.keytab --principal="$DC_USER@$DC_REALM" -s "$DC_SMBCONF" >/dev/null &&
	KRB5CCNAME=FILE:$PWD/no-such-cache samba_dc_with_hosts "$GPOTOOL" validate kdc-enforce --domain "$DC_DNS_DOMAIN" \
		--gpo-name "By Kerberos" --kerberos --keytab "$PWD/admin.keytab" --user "$DC_USER@$DC_REALM" --dc "$DC_HOST" \
		>out 2>err &&
	grep -q "^ok: " out && test ! -e no-such-cache &&
	! ls state/krb-* 2>/dev/null
'

test_expect_success 'Kerberos without a ticket: exit 3, saying to kinit' '
	KRB5CCNAME=FILE:$PWD/no-such-cache test_expect_code 3 "$GPOTOOL" validate kdc-enforce --domain "$DC_DNS_DOMAIN" \
		--gpo-name "By Kerberos" --kerberos --dc "$DC_HOST" >out 2>err &&
	grep -q kinit err
'

test_done
