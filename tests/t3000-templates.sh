#!/bin/bash
# gpotool templates [NAME]: the list of setting templates shipped in templates/, and the
# details of one (key, value, type, allowed values, role, expiry, follow-ups, sources), read
# from the .template files at run time. An unknown name is a usage error.
. "$(dirname "$0")/test-lib.sh"

TPL=$PROJECT_DIR/templates
ALL="kdc-backdating kdc-compat kdc-enforce pfx-sid schannel-mapping"

# a pyenv shim costs half a second per start; the system interpreter, when there is one, does not
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi

# tfield FILE FIELD: the values of FIELD: lines in a .template file, one a line
tfield() { sed -n "s/^$2: *//p" "$TPL/$1.template"; }

test_expect_success 'templates lists the five templates, one a line, name first' '
	gpotool templates >out 2>err &&
	test "$(wc -l <out)" -eq 5 &&
	cut -d" " -f1 out | sed "s/[[:space:]].*//" | sort >actual &&
	printf "%s\n" $ALL >expect &&
	test_cmp expect actual &&
	! test -s err
'

test_expect_success 'each line of the list carries the template summary after the name' '
	gpotool templates >out &&
	for t in $ALL; do
		line=$(grep "^$t[[:space:]]" out) &&
		echo "$line" | grep -qF "$(tfield $t summary | cut -c1-30)" || {
			echo "no summary for $t in: $line" >&2; exit 1; }
	done
'

test_expect_success 'templates kdc-compat: key, value, type, allowed, role, expiry' '
	gpotool templates kdc-compat >out 2>err &&
	grep -qF "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc" out &&
	grep -q "StrongCertificateBindingEnforcement" out &&
	grep -q "REG_DWORD" out &&
	grep -Eq "allowed.*1( to |-|\.\.)2" out &&
	grep -Eqi "domain.controller" out &&
	grep -q "2025-09-09" out
'

test_expect_success 'templates kdc-compat: every follow-up and every source of the file' '
	gpotool templates kdc-compat >out &&
	grep -q "no restart is needed" out &&
	grep -q "events 39, 40 and 41" out &&
	grep -q "stage kdc-enforce" out &&
	tfield kdc-compat source | grep -o "https://[^ ]*" >urls &&
	test -s urls &&
	while read -r u; do grep -qF "$u" out || { echo "source $u missing" >&2; exit 1; }; done <urls
'

test_expect_success 'templates NAME shows each template its own key, value and sources' '
	for t in $ALL; do
		gpotool templates $t >out.$t 2>/dev/null || { echo "templates $t failed" >&2; exit 1; }
		grep -qF "$(tfield $t key)" out.$t &&
		grep -qF "$(tfield $t value)" out.$t &&
		grep -qF "$(tfield $t type)" out.$t &&
		tfield $t source | grep -o "https://[^ ]*" >urls &&
		while read -r u; do grep -qF "$u" out.$t || { echo "$t: source $u missing" >&2; exit 1; }; done <urls ||
		{ echo "templates $t lacks a field:" >&2; cat out.$t >&2; exit 1; }
	done
'

test_expect_success 'pfx-sid: the SOFTWARE key, the connector role, its follow-up naming both services' '
	gpotool templates pfx-sid >out &&
	grep -qF "HKLM\\SOFTWARE\\Microsoft\\MicrosoftIntune\\PFXCertificateConnector" out &&
	grep -q "EnableSidSecurityExtension" out &&
	grep -Eqi "connector" out &&
	grep -Eq "allowed.*0( to |-|\.\.)1([^0-9]|$)" out &&
	grep -q "PkiCreateConnectorSvc" out &&
	grep -q "PfxCreateLegacyConnectorSvc" out
'

test_expect_success 'kdc-backdating expires on 2025-09-09; kdc-enforce, pfx-sid, schannel-mapping do not expire' '
	gpotool templates kdc-backdating >out && grep -q "2025-09-09" out &&
	grep -q "CertificateBackdatingCompensation" out &&
	grep -Eq "allowed.*1( to |-|\.\.)4294967295" out &&
	for t in kdc-enforce pfx-sid schannel-mapping; do
		gpotool templates $t >out &&
		! grep -q "2025-09-09" out || { echo "$t shows an expiry" >&2; exit 1; }
	done
'

test_expect_success 'schannel-mapping: allowed 0-31, default 0x18' '
	gpotool templates schannel-mapping >out &&
	grep -q "CertificateMappingMethods" out &&
	grep -qF "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\Schannel" out &&
	grep -Eq "allowed.*0( to |-|\.\.)31" out &&
	grep -Eqi "0x18|24" out
'

test_expect_success 'kdc-enforce explains that 0 (Disabled mode) is refused' '
	gpotool templates kdc-enforce >out &&
	grep -q "Disabled" out &&
	grep -q "April 11, 2023" out
'

test_expect_success 'an unknown template name: exit 2, one line on stderr naming it' '
	test_must_fail 2 gpotool templates no-such-template >out 2>err &&
	grep -q "no-such-template" err &&
	test "$(wc -l <err)" -eq 1 &&
	! test -s out
'

test_expect_success 'template names are not matched by prefix or with a path' '
	test_must_fail 2 gpotool templates kdc >/dev/null 2>err &&
	test_must_fail 2 gpotool templates kdc-compat.template >/dev/null 2>err &&
	test_must_fail 2 gpotool templates ../templates/kdc-compat >/dev/null 2>err
'

test_expect_success 'templates --json: one JSON object naming the five templates' '
	gpotool --json templates >out.json 2>err &&
	test "$(wc -l <out.json)" -eq 1 &&
	json_field out.json "type(d).__name__" | grep -qx dict &&
	for t in $ALL; do grep -q "\"$t\"" out.json || { echo "$t not in JSON" >&2; exit 1; }; done
'

test_done
