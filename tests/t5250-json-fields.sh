#!/bin/bash
# --json carries what the text says: the expiry's days signed (0 on the deadline, negative
# after it), every value rule met in "advisories", the template's then: lines in "followups",
# and validate's target and value (what it wanted, what it found).
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
GUID='{4D3C2B1A-6F5E-4D7C-9B8A-0F1E2D3C4B5A}'
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi
jf() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"; }
fresh() { cp "$(sample_image dc01)/SYSTEM" "$1"; }

test_expect_success 'expiry days: 192 before, 0 on the day, -450 450 days after' '
	fresh a.SYSTEM &&
	for d in "2025-03-01 192 false" "2025-09-09 0 true" "2026-12-03 -450 true"; do
		set -- $d &&
		gpotool --json --as-of $1 stage kdc-compat --hive a.SYSTEM --dry-run >o.json 2>/dev/null &&
		test "$(jf o.json "(d[\"expiry\"][\"days\"], d[\"expiry\"][\"expired\"])")" = "[$2, $3]" &&
		test_expect_code 1 gpotool --json --as-of $1 validate kdc-compat --hive a.SYSTEM >o.json 2>/dev/null &&
		test "$(jf o.json "d[\"expiry\"][\"days\"]")" = "$2" || { echo "as of $1" >&2; exit 1; }
	done
'

test_expect_success 'stage --json: advisories hold the rule the text warned about, followups the then: lines' '
	fresh b.SYSTEM &&
	gpotool --as-of 2026-12-03 stage kdc-compat --hive b.SYSTEM >text.out 2>text.err &&
	fresh b.SYSTEM &&
	gpotool --json --as-of 2026-12-03 stage kdc-compat --hive b.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "[(a[\"value\"], a[\"data\"], a[\"rule\"], a[\"date\"], a[\"days\"]) for a in d[\"advisories\"]]")" = \
		"[[\"$SCBE\", 1, \"expires\", \"2025-09-09\", -450]]" &&
	jf o.json "d[\"advisories\"][0][\"text\"]" >adv &&
	sed "s/^gpotool: warning: //" text.err >warned &&
	test_cmp warned adv &&
	sed -n "s/^then: //p" text.out >expect &&
	test "$(wc -l <expect)" = 3 &&
	jf o.json "\"\\n\".join(d[\"followups\"])" >actual &&
	test_cmp expect actual
'

test_expect_success 'kdc-enforce --json: the note in advisories; pfx-sid: none' '
	fresh c.SYSTEM &&
	gpotool --json stage kdc-enforce --hive c.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "[(a[\"rule\"], a[\"data\"]) for a in d[\"advisories\"]]")" = "[[\"note\", 2]]" &&
	cp "$(sample_image connector01)/SOFTWARE" c.SOFTWARE &&
	gpotool --json stage pfx-sid --hive c.SOFTWARE >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"advisories\"], len(d[\"followups\"]))")" = "[[], 2]"
'

test_expect_success 'validate --json on a hive: target, and the value wanted and found' '
	gpotool --json validate kdc-enforce --hive c.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"target\"], d[\"holds\"], d[\"value\"][\"name\"], d[\"value\"][\"key\"])")" = \
		"[\"c.SYSTEM\", true, \"$SCBE\", \"HKLM\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\Kdc\"]" &&
	test "$(jf o.json "(d[\"value\"][\"want\"][\"hex\"], d[\"value\"][\"have\"][\"hex\"])")" = "[\"02000000\", \"02000000\"]" &&
	test_expect_code 1 gpotool --json validate kdc-compat --hive c.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"holds\"], d[\"value\"][\"want\"][\"hex\"], d[\"value\"][\"have\"][\"hex\"])")" = "[false, \"01000000\", \"02000000\"]" &&
	fresh d.SYSTEM &&
	test_expect_code 1 gpotool --json validate kdc-enforce --hive d.SYSTEM >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"target\"], d[\"value\"][\"have\"])")" = "[\"d.SYSTEM\", null]"
'

test_expect_success 'validate --json on a GPO: the folder, and the item found' '
	gpotool gpo new . --name j --guid "$GUID" >/dev/null &&
	gpotool stage kdc-enforce --gpo "$GUID" >/dev/null 2>&1 &&
	gpotool --json validate kdc-enforce --gpo "$GUID" >o.json 2>/dev/null &&
	test "$(jf o.json "(d[\"target\"], d[\"holds\"], d[\"value\"][\"have\"][\"text\"])")" = "[\"$GUID\", true, \"REG_DWORD 2 (0x00000002)\"]"
'

test_expect_success 'hive set --json: advisories with signed days too' '
	fresh e.SYSTEM &&
	gpotool --json --as-of 2026-12-03 hive set e.SYSTEM "$KDC" $SCBE REG_DWORD 1 >o.json 2>/dev/null &&
	test "$(jf o.json "[(a[\"days\"], a[\"expired\"]) for a in d[\"advisories\"]]")" = "[[-450, true]]"
'

test_done
