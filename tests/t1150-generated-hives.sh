#!/bin/bash
# A realistic domain-controller SYSTEM hive the project did not write: ../shared/tools/gen_hives.py
# (see ../shared/tools/README.md) builds ~10 MB with 40k keys, Select, ControlSet001,
# Services\Kdc, ProductType LanmanNT, and a 41 KB ProductPolicy stored in big-data (db) records.
# Checks hive info, a set through CurrentControlSet read back by reglookup, the big-data guard on
# ProductOptions (the documented hivex failure) and the --json output. Without the generator (a
# clone without ../shared) every test is reported as skipped.
. "$(dirname "$0")/test-lib.sh"

GEN=$PROJECT_DIR/../shared/tools/gen_hives.py
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
KDC1='HKLM\SYSTEM\ControlSet001\Services\Kdc'
PO='HKLM\SYSTEM\ControlSet001\Control\ProductOptions'
SCBE=StrongCertificateBindingEnforcement
H=gen/SYSTEM.hive

gen_test() {
	if [ -f "$GEN" ]; then
		test_expect_success "$1" "$2"
	else
		test_skip "$1" "no $GEN"
	fi
}

journal_count() {
	local j
	shopt -s nullglob
	j=(state/journal/*)
	echo ${#j[@]}
}

# nothing but the hive in its directory: no temp file left by a write or a refusal
no_litter() { test "$(ls -A gen)" = SYSTEM.hive || { echo "left beside the hive: $(ls -A gen)" >&2; return 1; }; }

gen_test 'gen_hives.py writes a SYSTEM hive' '
	python3 "$GEN" --only SYSTEM gen >gen.log &&
	test -f $H &&
	test "$(stat -c %s $H)" -gt 5000000 &&
	no_litter
'

gen_test 'hive info: SYSTEM, ControlSet001, LanmanNT is a domain controller' '
	gpotool hive info $H >info 2>err &&
	grep -q "^format  *regf 1.5$" info &&
	grep -q "^state  *clean" info &&
	grep -q "^kind  *SYSTEM (detected from content)$" info &&
	grep -q "^current control set  *ControlSet001$" info &&
	grep -q "^product type  *LanmanNT$" info &&
	grep -q "^role  *domain controller$" info &&
	test ! -s err
'

gen_test 'hive info --json: kind SYSTEM, role domain controller' '
	gpotool --json hive info $H >info.json &&
	test "$(json_field info.json "(d[\"kind\"], d[\"role\"], d[\"product_type\"], d[\"dirty\"], d[\"ok\"])")" = \
		"('"'"'SYSTEM'"'"', '"'"'domain controller'"'"', '"'"'LanmanNT'"'"', False, True)"
'

gen_test 'baseline: Kdc exists without StrongCertificateBindingEnforcement; ProductPolicy is 41 KB' '
	cp $H pristine.hive &&
	gpotool hive get $H "$KDC" >kdc &&
	grep -q "^\"ImagePath\"=" kdc &&
	! grep -qi "$SCBE" kdc &&
	test_must_fail 1 gpotool hive get $H "$KDC" $SCBE 2>err &&
	reglookup -H $H 2>/dev/null >rl.raw &&
	grep -v ",KEY," rl.raw | sort >before &&
	grep -q "^/ControlSet001/Control/ProductOptions/ProductPolicy,BINARY," before &&
	gpotool hive get $H "$PO" ProductPolicy >pp.before &&
	test "$(sed "s/^hex://" pp.before | tr -cd , | wc -c)" = 41233
'

gen_test 'hive set through CurrentControlSet lands in ControlSet001, read back by reglookup' '
	gpotool hive set $H "$KDC" $SCBE REG_DWORD 1 >out &&
	grep -qxF "set value    $KDC1\\$SCBE: (absent) -> REG_DWORD 1 (0x00000001)" out &&
	! grep -q "^add key" out &&
	grep -q "^verified: libregf reads back 1 change in" out &&
	tail -n 1 out | grep -q "^journal: " &&
	reglookup -H -p /ControlSet001/Services/Kdc/$SCBE $H 2>/dev/null >rl &&
	echo "/ControlSet001/Services/Kdc/$SCBE,DWORD,0x00000001," >expect &&
	test_cmp expect rl &&
	gpotool hive get $H "$KDC" $SCBE >got &&
	echo "dword:00000001" >expect && test_cmp expect got &&
	no_litter
'

gen_test 'the full reglookup dump differs only by that value; ProductPolicy still reads the same' '
	reglookup -H $H 2>/dev/null | grep -v ",KEY," | sort >after &&
	{ diff before after | grep "^[<>]" >d || true; } &&
	echo "> /ControlSet001/Services/Kdc/$SCBE,DWORD,0x00000001," >expect &&
	test_cmp expect d &&
	gpotool hive get $H "$PO" ProductPolicy >pp.after &&
	test_cmp pp.before pp.after &&
	regfinfo $H >/dev/null &&
	hivexsh $H </dev/null
'

gen_test 'a value set in ProductOptions (holds the 41 KB ProductPolicy) is refused, file unchanged' '
	cp $H before.hive &&
	n=$(journal_count) &&
	test_must_fail 3 gpotool hive set $H "$PO" Gpotool REG_DWORD 1 >out 2>err &&
	test_one_line err "ProductPolicy" &&
	grep -q "big-data" err &&
	test ! -s out &&
	cmp $H before.hive &&
	test "$(journal_count)" = "$n" &&
	no_litter
'

gen_test 'changing or deleting ProductType (a rewrite of ProductPolicy) is refused too' '
	test_must_fail 3 gpotool hive set $H "$PO" ProductType REG_SZ ServerNT 2>err &&
	test_one_line err "ProductPolicy" &&
	test_must_fail 3 gpotool hive delete $H "$PO" ProductType 2>err &&
	test_one_line err "ProductPolicy" &&
	cmp $H before.hive &&
	gpotool hive get $H "$PO" ProductType >pt &&
	echo "\"LanmanNT\"" >expect && test_cmp expect pt &&
	no_litter
'

gen_test 'hive set --json: one JSON object with command, ok, exit, changed, changes and journal' '
	gpotool --json hive set $H "$KDC" $SCBE REG_DWORD 2 >set.json 2>err &&
	python3 - set.json <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))  # the whole of stdout is one document
	assert d["command"] == "hive set", d
	assert d["ok"] is True and d["exit"] == 0 and d["changed"] is True, d
	assert len(d["changes"]) == 1, d["changes"]
	c = d["changes"][0]
	assert c["action"] == "set-value", c
	assert c["path"] == "HKLM\\SYSTEM\\ControlSet001\\Services\\Kdc\\StrongCertificateBindingEnforcement", c
	assert c["old"]["type"] == "REG_DWORD" and c["old"]["hex"] == "01000000", c
	assert c["new"]["type"] == "REG_DWORD" and c["new"]["hex"] == "02000000", c
	assert isinstance(d["journal"], str) and d["journal"], d
	PY
	id=$(json_field set.json "d[\"journal\"]") &&
	test -f "state/journal/$id/entry.json" &&
	cmp before.hive "state/journal/$id/before-0.bin" &&
	reglookup -H -p /ControlSet001/Services/Kdc/$SCBE $H 2>/dev/null | grep -qx "/ControlSet001/Services/Kdc/$SCBE,DWORD,0x00000002,"
'

gen_test 'hive set --json on the ProductOptions refusal: one object, ok false, exit 3' '
	test_must_fail 3 gpotool --json hive set $H "$PO" Gpotool REG_DWORD 1 >refused.json 2>err &&
	test "$(json_field refused.json "(d[\"command\"], d[\"ok\"], d[\"exit\"])")" = "('"'"'hive set'"'"', False, 3)" &&
	json_field refused.json "d[\"error\"]" | grep -q "ProductPolicy"
'

test_done
