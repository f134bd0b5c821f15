#!/bin/bash
# A gpotool killed in the middle of a write: every target is whole (old or new), the journal
# entry says "pending", and the next write on the same target finishes it from the staged
# files or rolls it back from the before copies, and says which.
. "$(dirname "$0")/test-lib.sh"

GUID='{0D9D4CFB-3E51-4F58-9E0C-7E0C2F1B0A11}'
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
G="$GUID"

journal_status() { json_field "state/journal/$1/entry.json" 'd["status"]'; }
only_entry() { ls state/journal | tail -n 1; }

test_expect_success 'a GPO to work on' '
	gpotool gpo new . --name crash --guid "$GUID" >/dev/null &&
	gpotool gpo set "$G" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >/dev/null 2>&1 &&
	grep -q "^Version=1" "$G/GPT.INI"
'

test_expect_success 'killed between the Registry.xml and GPT.INI renames' '
	cp "$G/GPT.INI" gpt.before &&
	test_expect_code 137 env GPOTOOL_FAULT=gpo-between-renames "$GPOTOOL" gpo set "$G" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 1 >/dev/null 2>&1 &&
	grep -q "value=\"00000001\"" "$G/Machine/Preferences/Registry/Registry.xml" &&
	cmp gpt.before "$G/GPT.INI" &&
	test "$(journal_status $(only_entry))" = pending
'

test_expect_success 'the next write finishes the interrupted one, then makes its own' '
	id=$(only_entry) &&
	gpotool gpo set "$G" "$KDC" CertificateBackdatingCompensation REG_DWORD 600 >out 2>err &&
	grep -q "journal entry $id was interrupted; its staged files were all there and are now in place" err &&
	test "$(journal_status $id)" = complete &&
	grep -q "^Version=3" "$G/GPT.INI" &&
	! ls -a "$G" "$G/Machine/Preferences/Registry" | grep -q gpotool-
'

test_expect_success 'killed before any rename: the next write rolls it back' '
	cp "$G/GPT.INI" gpt.before &&
	cp "$G/Machine/Preferences/Registry/Registry.xml" reg.before &&
	test_expect_code 137 env GPOTOOL_FAULT=gpo-before-renames "$GPOTOOL" gpo set "$G" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >/dev/null 2>&1 &&
	cmp gpt.before "$G/GPT.INI" &&
	cmp reg.before "$G/Machine/Preferences/Registry/Registry.xml" &&
	id=$(only_entry) &&
	test "$(journal_status $id)" = pending &&
	ls -a "$G/Machine/Preferences/Registry" | grep -q gpotool- &&
	gpotool gpo show "$G" >/dev/null &&
	test "$(journal_status $id)" = pending &&
	gpotool gpo set "$G" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 1 >out 2>err &&
	grep -q "journal entry $id was interrupted; its targets were put back as they were before it" err &&
	test "$(journal_status $id)" = rolled-back &&
	grep -q "^no change" out &&
	cmp gpt.before "$G/GPT.INI" &&
	! ls -a "$G" "$G/Machine/Preferences/Registry" | grep -q gpotool-
'

test_expect_success 'a hive write killed before its rename leaves the hive as it was' '
	gpotool hive new s.hive --kind SYSTEM >/dev/null &&
	gpotool hive import s.hive "$PROJECT_DIR/hives/dc01/SYSTEM.reg" >/dev/null &&
	cp s.hive s.before &&
	test_expect_code 137 env GPOTOOL_FAULT=hive-before-rename "$GPOTOOL" hive set s.hive "$KDC" StrongCertificateBindingEnforcement REG_DWORD 1 >/dev/null 2>&1 &&
	cmp s.before s.hive &&
	id=$(only_entry) &&
	test "$(journal_status $id)" = pending &&
	ls -a | grep -q "^\.s\.hive\.gpotool-" &&
	gpotool hive set s.hive "$KDC" Other REG_DWORD 5 >out 2>err &&
	grep -q "journal entry $id was interrupted; its targets were put back as they were before it" err &&
	test "$(journal_status $id)" = rolled-back &&
	! ls -a | grep -q "^\.s\.hive\.gpotool-" &&
	test_must_fail 1 gpotool hive get s.hive "$KDC" StrongCertificateBindingEnforcement 2>/dev/null &&
	gpotool hive set s.hive "$KDC" StrongCertificateBindingEnforcement REG_DWORD 1 >/dev/null 2>&1
'

test_expect_success 'a hive write killed after its rename is recorded complete by the next write' '
	test_expect_code 137 env GPOTOOL_FAULT=hive-after-rename "$GPOTOOL" hive set s.hive "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >/dev/null 2>&1 &&
	id=$(only_entry) &&
	test "$(journal_status $id)" = pending &&
	gpotool hive get s.hive "$KDC" StrongCertificateBindingEnforcement >v &&
	echo dword:00000002 >expect && test_cmp expect v &&
	gpotool hive set s.hive "$KDC" Other REG_DWORD 6 >/dev/null 2>err &&
	test "$(journal_status $id)" = complete &&
	reglookup -H -p /ControlSet001/Services/Kdc/Other s.hive | grep -q 0x00000006
'

# A GPMC backup has no GPT.INI: its entries name Registry.xml alone, and recovery must still
# find them (it was skipped for backups, so the entry stayed pending and was never audited).
test_expect_success 'a GPMC backup killed after its Registry.xml rename: the next write finishes the entry' '
	mkdir -p bk/DomainSysvol/GPO/Machine bk/DomainSysvol/GPO/User &&
	printf "<?xml version=\"1.0\" encoding=\"utf-8\"?><GroupPolicyBackupScheme><GroupPolicyObject><GroupPolicyCoreSettings><ID><![CDATA[%s]]></ID><UserVersionNumber><![CDATA[0]]></UserVersionNumber><MachineVersionNumber><![CDATA[1]]></MachineVersionNumber></GroupPolicyCoreSettings></GroupPolicyObject></GroupPolicyBackupScheme>" "$GUID" >bk/Backup.xml &&
	mkdir -p bk/DomainSysvol/GPO/Machine/Preferences/Registry &&
	cp "$G/Machine/Preferences/Registry/Registry.xml" bk/DomainSysvol/GPO/Machine/Preferences/Registry/ &&
	test_expect_code 137 env GPOTOOL_FAULT=gpo-between-renames "$GPOTOOL" gpo set bk "$KDC" CertificateBackdatingCompensation REG_DWORD 700 >/dev/null 2>&1 &&
	id=$(only_entry) && test "$(journal_status $id)" = pending &&
	gpotool gpo set bk "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >out 2>err &&
	grep -q "journal entry $id was interrupted; its staged files were all there and are now in place" err &&
	test "$(journal_status $id)" = complete &&
	gpotool audit verify >/dev/null
'

test_done
