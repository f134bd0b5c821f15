#!/bin/bash
# The live-domain harness itself (tests/lib/samba-dc.sh): a DC copied from the template serves
# LDAP with StartTLS (its certificate verified by name, refused by address), SMB (password and
# Kerberos), Kerberos and the two default GPOs; several run at once, each on its own address with
# its own winbindd; each start is a fresh copy; a stop, an exit without one and a TERM to the
# script leave none of its processes. The setup lines' comments give the measured times.
. "$(dirname "$0")/test-lib.sh"
. "$TESTS_DIR/lib/samba-dc.sh"

samba_dc_available

DEFAULT_GPOS='{31B2F340-016D-11D2-945F-00C04FB984F9} {6AC1786C-016F-11D2-945F-00C04FB984F9}'
export POLICIES="CN=Policies,CN=System,$DC_DOMAIN_DN"

# ldap_search_policies URL [ldapsearch options...]: a simple bind as Administrator, the base entry
# of the Policies container, with the DC's CA the only one trusted and the certificate demanded.
ldap_search_policies() {
	local url=$1
	shift
	LDAPTLS_CACERT=$DC_CA LDAPTLS_REQCERT=demand ldapsearch -LLL -o ldif-wrap=no -x -H "$url" "$@" \
		-D "$DC_USER@$DC_DNS_DOMAIN" -w "$DC_PASS" -b "$POLICIES" -s base dn
}

# gpo_guids DC_URL_OR_SAM: the GUIDs samba-tool gpo listall finds, sorted, on one line.
gpo_guids() {
	samba-tool gpo listall -s "$DC_SMBCONF" -H "$1" -U"$DC_USER%$DC_PASS" |
		sed -n 's/^GPO *: //p' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

# running_with CONF: the PIDs of the processes whose command line names CONF (read here in
# bash, so that no grep finds itself)
running_with() {
	local f a
	for f in /proc/[0-9]*/cmdline; do
		mapfile -d "" a 2>/dev/null <"$f" || continue
		case " ${a[*]} " in *"$1"*) f=${f#/proc/}; echo "${f%/cmdline}" ;; esac
	done
}

# the files of the template, with their checksums (the DCs must never change it)
template_sums() { (cd "$SAMBA_DC_TEMPLATE" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum); }

samba_dc_setup one
template_sums >template.before

test_expect_success 'the DC listens on its own address only, and serves LDAP, LDAPS, SMB and Kerberos there' '
	pids=" $(samba_dc_processes | tr "\n" " ") " &&
	ss -Hltunp >listeners &&
	grep -o "[^ ]*:[0-9]* .*pid=[0-9]*" listeners | while read -r addr rest; do
		pid=${rest##*pid=}
		case $pids in *" $pid "*) echo "$addr" ;; esac
	done | sort -u >ours &&
	test -s ours &&
	! grep -v "^$DC_ADDR:" ours &&
	for port in 88 389 445 636; do grep -qx "$DC_ADDR:$port" ours || { echo "nothing on $DC_ADDR:$port"; exit 1; }; done
'

test_expect_success 'StartTLS, the certificate verified by name against the DC CA: a simple bind finds the Policies container' '
	samba_dc_with_hosts ldap_search_policies "ldap://$DC_HOST" -ZZ >out &&
	grep -qx "dn: $POLICIES" out
'

test_expect_success 'StartTLS by address: the same certificate is refused, its name (DC1.example.com) does not match' '
	test_must_fail ldap_search_policies "ldap://$DC_ADDR" -ZZ 2>err &&
	grep -q "ldap_start_tls: Connect error" err &&
	LDAPTLS_REQCERT=never ldapsearch -LLL -x -ZZ -H "ldap://$DC_ADDR" -D "$DC_USER@$DC_DNS_DOMAIN" -w "$DC_PASS" \
		-b "$POLICIES" -s base dn >out &&
	grep -qx "dn: $POLICIES" out
'

test_expect_success 'a simple bind without TLS is refused by the DC: strong authentication required (8)' '
	test_expect_code 8 ldap_search_policies "ldap://$DC_ADDR" >out 2>err &&
	grep -q "Strong(er) authentication required" err
'

test_expect_success 'samba-tool gpo listall over LDAP lists the two default GPOs' '
	test "$(gpo_guids "ldap://$DC_ADDR")" = "$DEFAULT_GPOS"
'

test_expect_success 'smbclient with a password lists SYSVOL and the default GPOs folders' '
	smbclient "//$DC_ADDR/sysvol" -U"$DC_USER%$DC_PASS" -c "ls $DC_DNS_DOMAIN/Policies/*" >out 2>err &&
	for g in $DEFAULT_GPOS; do grep -q "^  $g  *D" out || { cat out; exit 1; }; done
'

test_expect_success 'kinit against the DC KDC, and a ticket for ldap/dc1.example.com (the SPN the template adds)' '
	samba_dc_kinit "$DC_USER" "$DC_PASS" &&
	klist >out && grep -q "krbtgt/$DC_REALM@$DC_REALM" out &&
	kvno "ldap/$DC_HOST" >out && grep -q "kvno = " out &&
	test_must_fail samba_dc_kinit "$DC_USER" wrong-password 2>err &&
	grep -q "Password incorrect" err
'

test_expect_success 'Kerberos by name: smbclient lists SYSVOL, ldapsearch binds with GSSAPI' '
	samba_dc_with_hosts smbclient "//$DC_HOST/sysvol" --use-kerberos=required -c ls </dev/null >out 2>err &&
	grep -q "^  $DC_DNS_DOMAIN  *D" out &&
	samba_dc_with_hosts ldapsearch -LLL -Y GSSAPI -H "ldap://$DC_HOST" -b "$POLICIES" -s base dn >out 2>err &&
	grep -qx "dn: $POLICIES" out &&
	grep -q "SASL username: $DC_USER@$DC_REALM" err
'

samba_dc_setup two

test_expect_success 'two DCs at once, each on its own address with its own winbindd' '
	samba_dc_use one && one=$DC_ADDR && one_pid=$(samba_dc_processes | head -n 1) &&
	samba_dc_use two && test "$DC_ADDR" != "$one" &&
	for dc in one two; do
		samba_dc_use $dc &&
		. "$DC_DIR/harness.pids" &&
		test "$(nsenter -t "$SAMBA_DC_PID" -m stat -c %i /run/samba/winbindd/pipe)" = \
			"$(stat -c %i "$DC_DIR/winbindd/pipe")" &&
		smbclient "//$DC_ADDR/sysvol" -U"$DC_USER%$DC_PASS" -c ls >out 2>err &&
		grep -q "^  $DC_DNS_DOMAIN  *D" out || exit 1
	done
'

test_expect_success 'a GPO made in one DC is in neither the other DC nor the template' '
	samba_dc_use one &&
	samba-tool gpo create h-harness-one -s "$DC_SMBCONF" -H "ldap://$DC_ADDR" -U"$DC_USER%$DC_PASS" >out 2>err &&
	guid=$(sed -n "s/^GPO .h-harness-one. created as //p" out) && test -n "$guid" &&
	test "$(gpo_guids "ldap://$DC_ADDR")" = "$(printf "%s\n" $DEFAULT_GPOS "$guid" | LC_ALL=C sort | tr "\n" " " | sed "s/ $//")" &&
	test -d "$DC_DIR/state/sysvol/$DC_DNS_DOMAIN/Policies/$guid" &&
	test ! -e "$SAMBA_DC_TEMPLATE/state/sysvol/$DC_DNS_DOMAIN/Policies/$guid" &&
	samba_dc_use two &&
	test "$(gpo_guids "ldap://$DC_ADDR")" = "$DEFAULT_GPOS"
'

test_expect_success 'samba_dc_stop: none of the DC processes is left, its address is free again' '
	samba_dc_use one &&
	before=$(samba_dc_processes | wc -l) && test "$before" -ge 5 &&
	test_must_fail flock -n "$SAMBA_DC_LOCK_DIR/$DC_ADDR.lock" true &&
	t0=$(samba_dc_now) &&
	samba_dc_stop one &&
	echo "$(samba_dc_seconds "$t0" "$(samba_dc_now)")" >stop.seconds &&
	test -z "$(samba_dc_processes one)" &&
	test -z "$(running_with "$DC_SMBCONF")" &&
	! samba_dc_address_in_use "$DC_ADDR" &&
	flock -n "$SAMBA_DC_LOCK_DIR/$DC_ADDR.lock" true
'
echo "# samba_dc_stop took $(cat stop.seconds 2>/dev/null) s"

samba_dc_setup three

test_expect_success 'a DC started after the change is a fresh copy: only the default GPOs' '
	test "$(gpo_guids "ldap://$DC_ADDR")" = "$DEFAULT_GPOS"
'

# child_script FILE EXIT: a test script that starts a DC, says so in FILE.started (its DC_DIR),
# then exits with EXIT without stopping it ("wait": waits up to 60 s for a TERM instead).
child_script() {
	cat >"$1" <<-EOF
		. "$TESTS_DIR/test-lib.sh"
		. "$TESTS_DIR/lib/samba-dc.sh"
		samba_dc_start child >"$1.out" 2>&1 || exit 9
		echo "\$DC_DIR" >"$1.started"
		case $2 in
		wait) for i in \$(seq 1 600); do sleep 0.1; done ;;
		*) exit $2 ;;
		esac
	EOF
}

test_expect_success 'a script that exits (failing) without samba_dc_stop leaves no DC process' '
	child_script "$PWD/child1.sh" 3 &&
	test_expect_code 3 env GT_SAMBA_TEMPLATE="$SAMBA_DC_TEMPLATE" bash child1.sh &&
	dir=$(cat child1.sh.started) &&
	test -z "$(running_with "$dir/etc/smb.conf")" &&
	test ! -e "$dir"
'

test_expect_success 'a script killed by TERM leaves no DC process' '
	child_script "$PWD/child2.sh" wait &&
	{ env GT_SAMBA_TEMPLATE="$SAMBA_DC_TEMPLATE" bash child2.sh & } &&
	child=$! &&
	for i in $(seq 1 300); do test -s child2.sh.started && break; kill -0 $child || break; sleep 0.1; done &&
	dir=$(cat child2.sh.started) &&
	test -n "$(running_with "$dir/etc/smb.conf")" &&
	kill -TERM $child &&
	{ wait $child; true; } &&
	test -z "$(running_with "$dir/etc/smb.conf")" &&
	test ! -e "$dir"
'

test_expect_success 'the template is as it was made: no DC changed a file of it' '
	template_sums >template.after &&
	test_cmp template.before template.after
'

test_done
