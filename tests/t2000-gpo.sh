#!/bin/bash
# gpo new / set / delete / show / ad on GPO folders the test builds itself (no corpus):
# the GPT.INI and Registry.xml bytes written, GPMC's attribute order, byte-preserving edits,
# version bumps and wraps, GPT.INI encodings kept, the journal, symbolic links, locks, and
# the AD side (extension lists and gPLink merged, never dropped).
. "$(dirname "$0")/test-lib.sh"

GUID='{6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B}'
G=$GUID
RX=$G/Machine/Preferences/Registry/Registry.xml
UX=$G/User/Preferences/Registry/Registry.xml
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
T='HKLM\SOFTWARE\Policies\GpoToolTest'
RNG=$PROJECT_DIR/templates/gpp-registry.rng
DDCP_LINK='[LDAP://cn={6AC1786C-016F-11D2-945F-00C04fB984F9},cn=policies,cn=system,DC=corp,DC=example,DC=com;0]'
OUR_LINK="[LDAP://cn=$GUID,cn=policies,cn=system,DC=corp,DC=example,DC=com;0]"
OU='OU=Domain Controllers,DC=corp,DC=example,DC=com'
REG_PAIR='[{B087BE9D-ED37-454F-AF9C-04291E351182}{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}]'
SEC_GROUP='[{827D319E-6EAC-11D2-A4EA-00C04F79F83A}{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}]'
IP_GROUP='[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]'
AUDIT_GROUP='[{F3CCC681-B74C-4060-9F26-CD84525DCA2A}{0F3F3735-573D-9804-99E4-AB2A69BA5FD4}]'

# a pyenv shim costs half a second per start; the system interpreter, when there is one, does not
PYTHON=python3
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; python3() { /usr/bin/python3 "$@"; }; fi

journal_count() { ls state/journal 2>/dev/null | wc -l; }
last_journal() { tail -n 1 "$1" | sed -n "s/^journal: //p"; }
gpt_version() { tr -d '\r\000\357\273\277\376\377' <"$1" | sed -n "s/^[Vv]ersion=//p"; }

# snapshot DIR / unchanged DIR: every file under DIR byte-for-byte as it was (and no new files).
snapshot() { rm -rf "snap.$1" && cp -a "$1" "snap.$1" && journal_count >"snap.$1.journal"; }
unchanged() {
	diff -r "snap.$1" "$1" &&
	test "$(journal_count)" = "$(cat "snap.$1.journal")"
}

# newgpo DIR GPTINI_BYTES(printf format): a GPO folder with a hand-written GPT.INI.
newgpo() { rm -rf "$1" && mkdir -p "$1/Machine" "$1/User" && printf "$2" >"$1/GPT.INI"; }

cat >chk.py <<'EOF'
# Registry.xml checks: python3 chk.py FUNC ARGS...
import json, re, sys
import xml.etree.ElementTree as ET

def items(path):
    return list(ET.parse(path).getroot().iter('Registry'))

def find(path, key, name):
    for r in items(path):
        p = r.find('Properties')
        if p.get('key') == key and p.get('name') == name:
            yield r

def describe(r):
    p = r.find('Properties')
    d = {'attrs': list(r.attrib.keys()), 'a': dict(r.attrib),
         'pattrs': list(p.attrib.keys()), 'p': dict(p.attrib)}
    vals = p.find('Values')
    d['values'] = None if vals is None else [v.text or '' for v in vals.findall('Value')]
    f = r.find('Filters')
    d['filters'] = None if f is None else [[c.tag, list(c.attrib.keys()), dict(c.attrib)] for c in f]
    return d

def count(path):
    print(len(items(path)))

def item(path, key, name):
    found = list(find(path, key, name))
    assert len(found) == 1, '%d items for %s\\%s' % (len(found), key, name)
    print(json.dumps(describe(found[0])))

def serial(path):
    for r in items(path):
        r.tail = None
        print(ET.tostring(r).decode())

def inserted(old, new):
    # new == old[:i] + X + old[i:]: prints X
    a, b = open(old, 'rb').read(), open(new, 'rb').read()
    assert len(b) > len(a), 'nothing inserted'
    p = 0
    while p < len(a) and a[p] == b[p]:
        p += 1
    assert b[len(b) - (len(a) - p):] == a[p:], 'bytes outside one inserted run changed'
    sys.stdout.buffer.write(b[p:len(b) - (len(a) - p)])

def removed(old, new):
    inserted(new, old)

def crlf(path):
    b = open(path, 'rb').read()
    b.decode('utf-8')
    assert b'\r\n' in b, 'no CRLF'
    assert b.count(b'\n') == b.count(b'\r\n'), 'a bare LF'
    assert b.count(b'\r') == b.count(b'\r\n'), 'a bare CR'

def sorted_groups(value):
    groups = re.findall(r'\[([^\]]*)\]', value)
    assert '[' + ']['.join(groups) + ']' == value, 'not [..][..] groups: ' + value
    cses = [g[:38].upper() for g in groups]
    assert cses == sorted(cses), 'groups not sorted by CSE: ' + value
    print('\n'.join(groups))

globals()[sys.argv[1]](*sys.argv[2:])
EOF

# field JSON EXPR: a Python expression over d, the item description chk.py item prints.
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"; }

# ---- gpo new ----

test_expect_success 'gpo new lays out {GUID}/GPT.INI, Machine/ and User/' '
	gpotool gpo new . --name "Tier 0 KDC" --guid "$GUID" >out &&
	grep -q "created GPO folder" out &&
	test -d "$G/Machine" && test -d "$G/User" &&
	(cd "$G" && find . | sort) >actual &&
	printf "%s\n" . ./GPT.INI ./Machine ./User >expect &&
	test_cmp expect actual &&
	printf "[General]\r\nVersion=0\r\ndisplayName=Tier 0 KDC\r\n" >expect &&
	cmp expect "$G/GPT.INI"
'

test_expect_success 'gpo new without --guid picks a random braced upper-case GUID' '
	mkdir rnd &&
	gpotool --json gpo new rnd --name Random >out.json &&
	guid=$(json_field out.json "d[\"guid\"]") &&
	echo "$guid" | grep -Eq "^\{[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}\}$" &&
	test -f "rnd/$guid/GPT.INI" &&
	test "$(ls rnd | wc -l)" = 1
'

test_expect_success 'gpo new refuses an existing GUID folder with exit 3 (in any case)' '
	snapshot "$G" &&
	test_must_fail 3 gpotool gpo new . --name Other --guid "$GUID" >out 2>err &&
	test_one_line err "exists" &&
	lower=$(echo "$GUID" | tr A-F a-f) &&
	test_must_fail 3 gpotool gpo new . --name Other --guid "$lower" 2>err &&
	test_one_line err "exists" &&
	unchanged "$G"
'

test_expect_success 'gpo new: a bad --guid or no --name is a usage error' '
	test_must_fail 2 gpotool gpo new . --name X --guid 6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B 2>err &&
	test_one_line err "guid" &&
	test_must_fail 2 gpotool gpo new . 2>err &&
	test_one_line err "name" &&
	test "$(ls -d {* 2>/dev/null | wc -l)" = 1
'

# ---- gpo set: the first item ----

test_expect_success 'gpo set writes the KDC item and bumps GPT.INI 0 -> 1' '
	cp "$G/GPT.INI" gpt.before &&
	gpotool gpo set "$G" "$KDC" $SCBE REG_DWORD 1 >out 2>err &&
	cp out set1.out && cp err set1.err &&
	test -f "$RX" &&
	! test -e "$UX" &&
	grep -q "^GPT.INI: Version 0 -> 1" out &&
	printf "[General]\r\nVersion=1\r\ndisplayName=Tier 0 KDC\r\n" >expect &&
	cmp expect "$G/GPT.INI" &&
	test_expect_code 1 cmp -l gpt.before "$G/GPT.INI" >diffs &&
	test "$(wc -l <diffs)" = 1
'

test_expect_success 'the Registry.xml is well-formed, valid, UTF-8 with CRLF line ends' '
	xmllint --noout "$RX" &&
	xmllint --noout --relaxng "$RNG" "$RX" &&
	python3 chk.py crlf "$RX" &&
	head -c 38 "$RX" >actual &&
	printf "<?xml version=\"1.0\" encoding=\"utf-8\"?>" >expect &&
	test_cmp expect actual &&
	python3 -c "import sys,xml.etree.ElementTree as ET; r=ET.parse(sys.argv[1]).getroot(); assert r.tag==\"RegistrySettings\", r.tag; print(r.get(\"clsid\"))" "$RX" >actual &&
	echo "{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}" >expect &&
	test_cmp expect actual &&
	test "$(python3 chk.py count "$RX")" = 1
'

test_expect_success 'the item has GPMC attributes, in GPMC order, with GPMC values' '
	python3 chk.py item "$RX" "SYSTEM\\CurrentControlSet\\Services\\Kdc" $SCBE >it.json &&
	test "$(field it.json "d[\"a\"][\"clsid\"]")" = "{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}" &&
	test "$(field it.json "\",\".join(d[\"attrs\"])")" = "clsid,name,status,image,changed,uid" &&
	test "$(field it.json "\",\".join(d[\"pattrs\"])")" = "action,displayDecimal,default,hive,key,name,type,value" &&
	test "$(field it.json "d[\"a\"][\"name\"]")" = $SCBE &&
	test "$(field it.json "d[\"p\"][\"hive\"]")" = HKEY_LOCAL_MACHINE &&
	test "$(field it.json "d[\"p\"][\"key\"]")" = "SYSTEM\\CurrentControlSet\\Services\\Kdc" &&
	test "$(field it.json "d[\"p\"][\"type\"]")" = REG_DWORD &&
	test "$(field it.json "d[\"p\"][\"value\"]")" = 00000001 &&
	test "$(field it.json "d[\"p\"][\"action\"]")" = U &&
	test "$(field it.json "d[\"p\"][\"default\"]")" = 0 &&
	field it.json "d[\"a\"][\"changed\"]" | grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$" &&
	field it.json "abs(__import__(\"calendar\").timegm(__import__(\"time\").strptime(d[\"a\"][\"changed\"], \"%Y-%m-%d %H:%M:%S\")) - __import__(\"time\").time()) < 600" | grep -qx true &&
	field it.json "d[\"a\"][\"uid\"]" | grep -Eq "^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$" &&
	grep -q "key=\"SYSTEM\\\\CurrentControlSet\\\\Services\\\\Kdc\"" "$RX"
'

test_expect_success 'the KB5014754 expiry warning goes to stderr and names 2025-09-09' '
	grep -q "^gpotool: warning: .*$SCBE.*2025-09-09" set1.err &&
	! grep -q "2025-09-09" set1.out
'

test_expect_success 'the journal entry holds both targets; a new Registry.xml has existed=false' '
	id=$(last_journal set1.out) && test -n "$id" &&
	e=state/journal/$id/entry.json &&
	test "$(json_field $e "len(d[\"targets\"])")" = 2 &&
	test "$(json_field $e "d[\"status\"]")" = complete &&
	test "$(json_field $e "d[\"targets\"][0][\"existed\"]")" = False &&
	test "$(json_field $e "d[\"targets\"][0][\"before_copy\"]")" = None &&
	! test -e state/journal/$id/before-0.bin &&
	test "$(json_field $e "d[\"targets\"][1][\"existed\"]")" = True &&
	json_field $e "d[\"targets\"][1][\"path\"]" | grep -q "GPT.INI$" &&
	cmp gpt.before state/journal/$id/$(json_field $e "d[\"targets\"][1][\"before_copy\"]")
'

test_expect_success 'the same set again changes nothing: "no change", exit 0, no journal entry' '
	snapshot "$G" &&
	gpotool gpo set "$G" "$KDC" $SCBE REG_DWORD 0x1 >out &&
	grep -q "^no change" out &&
	unchanged "$G"
'

test_expect_success 'another value updates the same item in place (same uid), version 1 -> 2' '
	python3 chk.py item "$RX" "SYSTEM\\CurrentControlSet\\Services\\Kdc" $SCBE >it1.json &&
	cp "$RX" rx.before && cp "$G/GPT.INI" gpt.before &&
	gpotool gpo set "$G" "$KDC" $SCBE REG_DWORD 2 >out 2>err &&
	cp out set2.out &&
	test "$(python3 chk.py count "$RX")" = 1 &&
	python3 chk.py item "$RX" "SYSTEM\\CurrentControlSet\\Services\\Kdc" $SCBE >it2.json &&
	test "$(field it2.json "d[\"p\"][\"value\"]")" = 00000002 &&
	test "$(field it1.json "d[\"a\"][\"uid\"]")" = "$(field it2.json "d[\"a\"][\"uid\"]")" &&
	test "$(field it2.json "\",\".join(d[\"attrs\"])")" = "clsid,name,status,image,changed,uid" &&
	test "$(gpt_version "$G/GPT.INI")" = 2 &&
	! grep -q "2025-09-09" err
'

test_expect_success 'the journal copies of an update are byte-for-byte the files before it' '
	id=$(last_journal set2.out) && test -n "$id" &&
	e=state/journal/$id/entry.json &&
	test "$(json_field $e "len(d[\"targets\"])")" = 2 &&
	test "$(json_field $e "d[\"targets\"][0][\"existed\"]")" = True &&
	test "$(json_field $e "d[\"targets\"][0][\"kind\"]")" = gpp-registry-xml &&
	cmp rx.before state/journal/$id/before-0.bin &&
	cmp gpt.before state/journal/$id/before-1.bin &&
	sha256sum <"$RX" | cut -d" " -f1 >expect &&
	json_field $e "d[\"targets\"][0][\"sha256_after\"]" >actual &&
	test_cmp expect actual
'

test_expect_success 'the key is stored without hive or backslashes at either end' '
	gpotool gpo set "$G" "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Trail\\" v REG_DWORD 1 >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\Trail" v >it.json &&
	test "$(field it.json "d[\"p\"][\"hive\"]")" = HKEY_LOCAL_MACHINE &&
	gpotool gpo delete "$G" "HKLM\\SOFTWARE\\Policies\\Trail" v >/dev/null 2>&1 &&
	test "$(python3 chk.py count "$RX")" = 1 &&
	! grep -q "key=\"HK" "$RX" &&
	! grep -q "key=\"[^\"]*\\\\\"" "$RX" &&
	! grep -q "key=\"\\\\" "$RX"
'

# ---- value types ----

test_expect_success 'REG_QWORD is written as 16 upper-case hex digits' '
	gpotool gpo set "$G" "$T" q REG_QWORD 0x00000001000000ab >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" q >it.json &&
	test "$(field it.json "d[\"p\"][\"value\"]")" = 00000001000000AB &&
	test "$(field it.json "d[\"p\"][\"type\"]")" = REG_QWORD &&
	gpotool gpo set "$G" "$T" q2 REG_QWORD 18446744073709551615 >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" q2 >it.json &&
	test "$(field it.json "d[\"p\"][\"value\"]")" = FFFFFFFFFFFFFFFF
'

test_expect_success 'REG_DWORD is 8 upper-case hex digits' '
	gpotool gpo set "$G" "$T" d REG_DWORD 0xabcdef >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" d >it.json &&
	test "$(field it.json "d[\"p\"][\"value\"]")" = 00ABCDEF
'

test_expect_success 'REG_BINARY is written as hex pairs' '
	gpotool gpo set "$G" "$T" b REG_BINARY "de,ad,be,ef,00,01" >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" b >it.json &&
	test "$(field it.json "d[\"p\"][\"value\"]")" = DEADBEEF0001 &&
	test "$(field it.json "d[\"p\"][\"type\"]")" = REG_BINARY
'

test_expect_success 'REG_MULTI_SZ gets <Values><Value>..</Value></Values>' '
	gpotool gpo set "$G" "$T" m REG_MULTI_SZ "one\\0two words\\0three" >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" m >it.json &&
	test "$(field it.json "d[\"values\"]")" = "[\"one\", \"two words\", \"three\"]" &&
	test "$(field it.json "d[\"p\"][\"type\"]")" = REG_MULTI_SZ &&
	grep -q "<Values><Value>one</Value><Value>two words</Value><Value>three</Value></Values>" "$RX" &&
	xmllint --noout --relaxng "$RNG" "$RX"
'

test_expect_success 'REG_SZ with & < > " is escaped in the file and reads back exactly' '
	val="a&b<c>d\"e'"'"'f &amp; g" &&
	gpotool gpo set "$G" "$T" s REG_SZ "$val" >/dev/null &&
	xmllint --noout "$RX" &&
	grep -q "value=\"a&amp;b&lt;c&gt;d&quot;e" "$RX" &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" s >it.json &&
	test "$(field it.json "d[\"p\"][\"value\"]")" = "$val" &&
	gpotool --json gpo show "$G" >show.json &&
	test "$(json_field show.json "[i[\"value\"] for i in d[\"machine\"][\"items\"] if i[\"name\"]==\"s\"][0]")" = "$val" &&
	snapshot "$G" &&
	gpotool gpo set "$G" "$T" s REG_SZ "$val" >out &&
	grep -q "^no change" out &&
	unchanged "$G"
'

test_expect_success 'REG_EXPAND_SZ keeps %variables% as text' '
	gpotool gpo set "$G" "$T" x REG_EXPAND_SZ "%SystemRoot%\\System32" >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" x >it.json &&
	test "$(field it.json "d[\"p\"][\"value\"]")" = "%SystemRoot%\\System32" &&
	test "$(field it.json "d[\"p\"][\"type\"]")" = REG_EXPAND_SZ
'

test_expect_success 'every write so far validates, keeps CRLF and GPMC attribute order' '
	xmllint --noout --relaxng "$RNG" "$RX" &&
	python3 chk.py crlf "$RX" &&
	python3 -c "
import sys, xml.etree.ElementTree as ET
for r in ET.parse(sys.argv[1]).getroot().iter(\"Registry\"):
    assert list(r.attrib) == [\"clsid\",\"name\",\"status\",\"image\",\"changed\",\"uid\"], list(r.attrib)
    assert list(r.find(\"Properties\").attrib) == [\"action\",\"displayDecimal\",\"default\",\"hive\",\"key\",\"name\",\"type\",\"value\"]
" "$RX" &&
	test "$(gpt_version "$G/GPT.INI")" = 11
'

# ---- the User side ----

test_expect_success '--user writes User/.../Registry.xml with HKEY_CURRENT_USER; version +65536' '
	cp "$RX" rx.before &&
	v=$(gpt_version "$G/GPT.INI") &&
	gpotool gpo set "$G" "HKCU\\Software\\Policies\\GpoToolTest" u REG_DWORD 1 --user >out &&
	test -f "$UX" &&
	cmp rx.before "$RX" &&
	xmllint --noout --relaxng "$RNG" "$UX" &&
	python3 chk.py item "$UX" "Software\\Policies\\GpoToolTest" u >it.json &&
	test "$(field it.json "d[\"p\"][\"hive\"]")" = HKEY_CURRENT_USER &&
	test "$(gpt_version "$G/GPT.INI")" = $((v + 65536)) &&
	gpotool gpo set "$G" "HKCU\\Software\\Policies\\GpoToolTest" u REG_DWORD 2 --user >out &&
	test "$(gpt_version "$G/GPT.INI")" = $((v + 131072)) &&
	grep -q "(user 2, machine $v)" out
'

test_expect_success 'HKCU without --user is a usage error; nothing is written' '
	snapshot "$G" &&
	test_must_fail 2 gpotool gpo set "$G" "HKCU\\Software\\X" v REG_DWORD 1 >out 2>err &&
	test_one_line err "user" &&
	test_must_fail 2 gpotool gpo delete "$G" "HKCU\\Software\\Policies\\GpoToolTest" u 2>err &&
	test_one_line err "user" &&
	unchanged "$G"
'

test_expect_success 'bad command lines for gpo set are usage errors; nothing is written' '
	snapshot "$G" &&
	test_must_fail 2 gpotool gpo set "$G" "$T" v REG_FROB 1 2>err && test_one_line err "type" &&
	test_must_fail 2 gpotool gpo set "$G" "$T" v REG_DWORD 4294967296 2>err && test_one_line err . &&
	test_must_fail 2 gpotool gpo set "$G" "SOFTWARE\\X" v REG_DWORD 1 2>err && test_one_line err "root key" &&
	test_must_fail 2 gpotool gpo set "$G" "HKLM" v REG_DWORD 1 2>err && test_one_line err "root key" &&
	test_must_fail 2 gpotool gpo set "$G" "$T" v REG_DWORD 1 --action X 2>err && test_one_line err "action" &&
	test_must_fail 2 gpotool gpo set "$G" "$T" v REG_NONE "" 2>err && test_one_line err . &&
	unchanged "$G"
'

# ---- item-level targeting ----

test_expect_success 'filters: FilterGroup, FilterComputer (NETBIOS) and FilterOrgUnit' '
	gpotool gpo set "$G" "$KDC" CertificateBackdatingCompensation REG_DWORD 0x1ffffff \
		--filter-group "CORP\\Domain Controllers" --filter-sid S-1-5-21-1004336348-1177238915-682003330-516 \
		--filter-computer DC01 --filter-ou "$OU" >out 2>err &&
	xmllint --noout --relaxng "$RNG" "$RX" &&
	python3 chk.py item "$RX" "SYSTEM\\CurrentControlSet\\Services\\Kdc" CertificateBackdatingCompensation >it.json &&
	test "$(field it.json "[f[0] for f in d[\"filters\"]]")" = "[\"FilterGroup\", \"FilterComputer\", \"FilterOrgUnit\"]" &&
	test "$(field it.json "d[\"filters\"][0][1][:5]")" = "[\"bool\", \"not\", \"name\", \"sid\", \"userContext\"]" &&
	test "$(field it.json "d[\"filters\"][0][2][\"bool\"]")" = AND &&
	test "$(field it.json "d[\"filters\"][0][2][\"not\"]")" = 0 &&
	test "$(field it.json "d[\"filters\"][0][2][\"name\"]")" = "CORP\\Domain Controllers" &&
	test "$(field it.json "d[\"filters\"][0][2][\"sid\"]")" = S-1-5-21-1004336348-1177238915-682003330-516 &&
	test "$(field it.json "d[\"filters\"][0][2][\"userContext\"]")" = 0 &&
	test "$(field it.json "d[\"filters\"][1][2][\"type\"]")" = NETBIOS &&
	test "$(field it.json "d[\"filters\"][1][2][\"name\"]")" = DC01 &&
	test "$(field it.json "d[\"filters\"][1][2][\"bool\"]")" = AND &&
	test "$(field it.json "d[\"filters\"][2][2][\"name\"]")" = "$OU" &&
	test "$(field it.json "d[\"filters\"][2][2][\"not\"]")" = 0 &&
	test "$(field it.json "d[\"p\"][\"value\"]")" = 01FFFFFF &&
	gpotool --json gpo show "$G" >show.json &&
	test "$(json_field show.json "[i[\"filtered\"] for i in d[\"machine\"][\"items\"] if i[\"name\"]==\"CertificateBackdatingCompensation\"][0]")" = True
'

test_expect_success 'a dotted --filter-computer is a DNS name; a group without SID has sid=""' '
	gpotool gpo set "$G" "$T" f2 REG_DWORD 1 --filter-computer dc01.corp.example.com --filter-group "CORP\\Tier0" >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" f2 >it.json &&
	test "$(field it.json "d[\"filters\"][1][2][\"type\"]")" = DNS &&
	test "$(field it.json "d[\"filters\"][1][2][\"name\"]")" = dc01.corp.example.com &&
	test "$(field it.json "d[\"filters\"][0][2][\"sid\"]")" = ""
'

test_expect_success 'updating a filtered item keeps its filters unless new ones are given' '
	gpotool gpo set "$G" "$T" f2 REG_DWORD 2 >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" f2 >it.json &&
	test "$(field it.json "[f[0] for f in d[\"filters\"]]")" = "[\"FilterGroup\", \"FilterComputer\"]" &&
	gpotool gpo set "$G" "$T" f2 REG_DWORD 2 --filter-computer DC02 >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" f2 >it.json &&
	test "$(field it.json "d[\"filters\"]")" = "[[\"FilterComputer\", [\"bool\", \"not\", \"type\", \"name\"], {\"bool\": \"AND\", \"not\": \"0\", \"type\": \"NETBIOS\", \"name\": \"DC02\"}]]"
'

test_expect_success 'filter options that do not fit are usage errors; nothing is written' '
	snapshot "$G" &&
	test_must_fail 2 gpotool gpo set "$G" "$T" f3 REG_DWORD 1 --filter-sid S-1-5-21-1-2-3-516 2>err &&
	test_one_line err "filter-group" &&
	test_must_fail 2 gpotool gpo set "$G" "$T" f3 REG_DWORD 1 --filter-group NoDomain 2>err &&
	test_one_line err "filter-group" &&
	test_must_fail 2 gpotool gpo set "$G" "$T" f3 REG_DWORD 1 --filter-group "CORP\\G" --filter-sid X-1 2>err &&
	test_one_line err "filter-sid" &&
	test_must_fail 2 gpotool gpo set "$G" "$T" f3 REG_DWORD 1 --filter-ou "Domain Controllers" 2>err &&
	test_one_line err "filter-ou" &&
	unchanged "$G"
'

test_expect_success '--action D writes action="D"; C and R are kept as given' '
	gpotool gpo set "$G" "$T" gone REG_DWORD 0 --action D >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" gone >it.json &&
	test "$(field it.json "d[\"p\"][\"action\"]")" = D &&
	gpotool gpo set "$G" "$T" cr REG_SZ x --action C >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" cr >it.json &&
	test "$(field it.json "d[\"p\"][\"action\"]")" = C &&
	gpotool gpo set "$G" "$T" cr REG_SZ x --action R >/dev/null &&
	python3 chk.py item "$RX" "SOFTWARE\\Policies\\GpoToolTest" cr >it.json &&
	test "$(field it.json "d[\"p\"][\"action\"]")" = R &&
	xmllint --noout --relaxng "$RNG" "$RX"
'

test_expect_success 'gpo set on a disabled item enables it (and a second set is "no change")' '
	newgpo dis "[General]\r\nVersion=1\r\n" &&
	mkdir -p dis/Machine/Preferences/Registry &&
	printf "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<RegistrySettings clsid=\"{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}\"><Registry clsid=\"{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}\" name=\"v\" status=\"v\" image=\"12\" changed=\"2024-01-01 00:00:00\" uid=\"{11111111-1111-4111-8111-111111111111}\" disabled=\"1\"><Properties action=\"U\" displayDecimal=\"0\" default=\"0\" hive=\"HKEY_LOCAL_MACHINE\" key=\"SOFTWARE\\\\T\" name=\"v\" type=\"REG_DWORD\" value=\"00000001\"/></Registry></RegistrySettings>\r\n" >dis/Machine/Preferences/Registry/Registry.xml &&
	xmllint --noout --relaxng "$RNG" dis/Machine/Preferences/Registry/Registry.xml &&
	gpotool --json gpo show dis >show.json &&
	test "$(json_field show.json "d[\"machine\"][\"items\"][0][\"disabled\"]")" = True &&
	gpotool gpo set dis "HKLM\\SOFTWARE\\T" v REG_DWORD 1 >out &&
	python3 chk.py item dis/Machine/Preferences/Registry/Registry.xml "SOFTWARE\\T" v >it.json &&
	test "$(field it.json "d[\"a\"].get(\"disabled\", \"0\")")" = 0 &&
	test "$(field it.json "d[\"a\"][\"uid\"]")" = "{11111111-1111-4111-8111-111111111111}" &&
	snapshot dis &&
	gpotool gpo set dis "HKLM\\SOFTWARE\\T" v REG_DWORD 1 >out &&
	grep -q "^no change" out &&
	unchanged dis
'

test_expect_success 'a new item is one inserted run: every other byte of the file is kept' '
	cp "$RX" rx.before &&
	python3 chk.py serial "$RX" >items.before &&
	gpotool gpo set "$G" "$T" appended REG_DWORD 7 >/dev/null &&
	python3 chk.py inserted rx.before "$RX" >run &&
	grep -q "name=\"appended\"" run &&
	test "$(grep -c "<Registry " run)" = 1 &&
	python3 chk.py serial "$RX" | head -n $(wc -l <items.before) >items.after &&
	test_cmp items.before items.after
'

# ---- gpo delete ----

test_expect_success 'gpo delete removes exactly that item and bumps the version' '
	cp "$RX" rx.before && cp "$G/GPT.INI" gpt.before &&
	v=$(gpt_version "$G/GPT.INI") &&
	python3 chk.py serial "$RX" | grep -v "name=\"d\"" >items.expect &&
	n=$(python3 chk.py count "$RX") &&
	gpotool gpo delete "$G" "$T" d >out 2>err &&
	grep -q "^journal: " out &&
	test "$(python3 chk.py count "$RX")" = $((n - 1)) &&
	python3 chk.py serial "$RX" >items.after &&
	test_cmp items.expect items.after &&
	python3 chk.py removed rx.before "$RX" >run &&
	grep -q "name=\"d\"" run &&
	test "$(grep -c "<Registry " run)" = 1 &&
	test "$(gpt_version "$G/GPT.INI")" = $((v + 1)) &&
	xmllint --noout --relaxng "$RNG" "$RX" &&
	id=$(last_journal out) &&
	cmp rx.before state/journal/$id/before-0.bin &&
	cmp gpt.before state/journal/$id/before-1.bin
'

test_expect_success 'gpo delete of a missing item exits 1 and writes nothing' '
	snapshot "$G" &&
	test_must_fail 1 gpotool gpo delete "$G" "$T" d >out 2>err &&
	test_one_line err "nothing changed" &&
	test_must_fail 1 gpotool gpo delete "$G" "HKCU\\Software\\Nope" v --user 2>err &&
	test_one_line err "nothing changed" &&
	unchanged "$G"
'

test_expect_success 'gpo delete --user removes a User item and bumps the user half' '
	v=$(gpt_version "$G/GPT.INI") &&
	cp "$RX" rx.before &&
	gpotool gpo delete "$G" "HKCU\\Software\\Policies\\GpoToolTest" u --user >out 2>/dev/null &&
	test "$(python3 chk.py count "$UX")" = 0 &&
	xmllint --noout --relaxng "$RNG" "$UX" &&
	cmp rx.before "$RX" &&
	test "$(gpt_version "$G/GPT.INI")" = $((v + 65536))
'

# ---- version halves and wraps ----

test_expect_success 'the machine half wraps 0xFFFF -> 1, never 0' '
	newgpo w1 "[General]\r\nVersion=65535\r\n" &&
	gpotool gpo set w1 "$T" v REG_DWORD 1 >out &&
	printf "[General]\r\nVersion=1\r\n" >expect && cmp expect w1/GPT.INI &&
	newgpo w2 "[General]\r\nVersion=131071\r\n" &&
	gpotool gpo set w2 "$T" v REG_DWORD 1 >out &&
	printf "[General]\r\nVersion=65537\r\n" >expect && cmp expect w2/GPT.INI &&
	grep -q "Version 131071 -> 65537 (user 1, machine 1)" out
'

test_expect_success 'the user half wraps 0xFFFF -> 1 and leaves the machine half alone' '
	newgpo w3 "[General]\r\nVersion=4294901765\r\n" &&
	gpotool gpo set w3 "HKCU\\Software\\X" v REG_DWORD 1 --user >out &&
	printf "[General]\r\nVersion=65541\r\n" >expect && cmp expect w3/GPT.INI &&
	newgpo w4 "[General]\r\nVersion=4294967295\r\n" &&
	gpotool gpo set w4 "$T" v REG_DWORD 1 >out &&
	printf "[General]\r\nVersion=4294901761\r\n" >expect && cmp expect w4/GPT.INI
'

# ---- GPT.INI encodings ----

test_expect_success 'a UTF-8 BOM GPT.INI keeps its BOM; only the digits change' '
	newgpo e1 "\357\273\277[General]\r\ndisplayName=B\303\266m\r\nVersion=9\r\n" &&
	gpotool gpo set e1 "$T" v REG_DWORD 1 >/dev/null &&
	printf "\357\273\277[General]\r\ndisplayName=B\303\266m\r\nVersion=10\r\n" >expect &&
	cmp expect e1/GPT.INI
'

test_expect_success 'an LF-only GPT.INI stays LF-only' '
	newgpo e2 "[General]\nVersion=5\ndisplayName=LF\n" &&
	gpotool gpo set e2 "$T" v REG_DWORD 1 >/dev/null &&
	printf "[General]\nVersion=6\ndisplayName=LF\n" >expect &&
	cmp expect e2/GPT.INI
'

test_expect_success 'a UTF-16LE GPT.INI with BOM stays UTF-16LE; other lines byte-identical' '
	rm -rf e3 && mkdir -p e3/Machine e3/User &&
	{ printf "\377\376"; printf "[General]\r\nVersion=99\r\ndisplayName=Wide \303\251\r\n" | iconv -f UTF-8 -t UTF-16LE; } >e3/GPT.INI &&
	gpotool gpo set e3 "$T" v REG_DWORD 1 >out &&
	grep -q "Version 99 -> 100" out &&
	{ printf "\377\376"; printf "[General]\r\nVersion=100\r\ndisplayName=Wide \303\251\r\n" | iconv -f UTF-8 -t UTF-16LE; } >expect &&
	cmp expect e3/GPT.INI
'

test_expect_success 'GPT.INI: other sections and a lower-case version key are kept' '
	newgpo e4 "[Other]\r\nVersion=77\r\n[General]\r\nversion=3\r\ndisplayName=x\r\n" &&
	gpotool gpo set e4 "$T" v REG_DWORD 1 >/dev/null &&
	printf "[Other]\r\nVersion=77\r\n[General]\r\nversion=4\r\ndisplayName=x\r\n" >expect &&
	cmp expect e4/GPT.INI
'

test_expect_success 'a GPT.INI without a usable Version is refused; nothing is written' '
	newgpo e5 "[General]\r\ndisplayName=x\r\n" &&
	newgpo e6 "[General]\r\nVersion=12abc\r\n" &&
	newgpo e7 "[General]\r\nVersion=4294967296\r\n" &&
	for d in e5 e6 e7; do
		snapshot $d &&
		test_must_fail 3 gpotool gpo set $d "$T" v REG_DWORD 1 2>err &&
		test_one_line err "GPT.INI" &&
		unchanged $d || exit 1
	done
'

# ---- gpo show ----

test_expect_success 'gpo show lists the versions and every item' '
	gpotool gpo show "$G" >out &&
	grep -q "^GPT.INI: Version $(gpt_version "$G/GPT.INI") " out &&
	grep -q "\[U\] HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\Kdc\\\\$SCBE = REG_DWORD 00000002" out &&
	grep -q "item-level targeting" out &&
	grep -q "^problems: none found" out &&
	gpotool --json gpo show "$G" >show.json &&
	test "$(json_field show.json "len(d[\"machine\"][\"items\"])")" = "$(python3 chk.py count "$RX")" &&
	test "$(json_field show.json "d[\"version\"]")" = "$(gpt_version "$G/GPT.INI")" &&
	test "$(json_field show.json "d[\"guid\"]")" = "$GUID" &&
	test "$(json_field show.json "d[\"problems\"]")" = "[]"
'

write_dup_xml() {
	printf '<?xml version="1.0" encoding="utf-8"?>\r\n<RegistrySettings clsid="{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}">\r\n' >"$1"
	for v in 00000001 00000002; do
		printf '\t<Registry clsid="{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}" name="%s" status="%s" image="12" changed="2024-01-01 00:00:00" uid="{0000000%s-0000-4000-8000-000000000000}"><Properties action="U" displayDecimal="0" default="0" hive="HKEY_LOCAL_MACHINE" key="SYSTEM\\CurrentControlSet\\Services\\Kdc" name="%s" type="REG_DWORD" value="%s"/></Registry>\r\n' \
			$SCBE $SCBE ${v#0000000} $SCBE $v >>"$1"
	done
	printf '</RegistrySettings>\r\n' >>"$1"
}

test_expect_success 'gpo show reports two items for the same value as a problem' '
	newgpo dup "[General]\r\nVersion=4\r\n" &&
	mkdir -p dup/Machine/Preferences/Registry &&
	write_dup_xml dup/Machine/Preferences/Registry/Registry.xml &&
	xmllint --noout --relaxng "$RNG" dup/Machine/Preferences/Registry/Registry.xml &&
	gpotool gpo show dup >out &&
	grep -q "items 1 and 2 both set" out &&
	gpotool --json gpo show dup >show.json &&
	test "$(json_field show.json "len(d[\"problems\"])")" = 1 &&
	json_field show.json "d[\"problems\"][0]" | grep -q "$SCBE"
'

test_expect_success 'gpo show reports a machine version 0 with items as a problem' '
	newgpo v0 "[General]\r\nVersion=0\r\n" &&
	mkdir -p v0/Machine/Preferences/Registry &&
	cp "$RX" v0/Machine/Preferences/Registry/Registry.xml &&
	gpotool --json gpo show v0 >show.json &&
	json_field show.json "d[\"problems\"]" | grep -q "version is 0" &&
	gpotool gpo show v0 >out &&
	grep -q "machine version is 0" out
'

test_expect_success 'gpo show does not write anything' '
	snapshot "$G" &&
	gpotool gpo show "$G" >/dev/null &&
	unchanged "$G"
'

# ---- symbolic links ----

test_expect_success 'a Machine folder that is a symbolic link is refused; nothing written outside' '
	newgpo sl1 "[General]\r\nVersion=1\r\n" &&
	rmdir sl1/Machine &&
	mkdir outside1 && ln -s ../outside1 sl1/Machine &&
	snapshot outside1 && cp sl1/GPT.INI gpt.before &&
	test_must_fail 3 gpotool gpo set sl1 "$T" v REG_DWORD 1 >out 2>err &&
	test_one_line err "symbolic link" &&
	unchanged outside1 &&
	test "$(ls -A outside1 | wc -l)" = 0 &&
	cmp gpt.before sl1/GPT.INI
'

test_expect_success 'a Registry.xml (or Preferences) that is a symbolic link is refused' '
	newgpo sl2 "[General]\r\nVersion=1\r\n" &&
	mkdir -p sl2/Machine/Preferences/Registry outside2 &&
	cp "$RX" outside2/Registry.xml &&
	ln -s ../../../../outside2/Registry.xml sl2/Machine/Preferences/Registry/Registry.xml &&
	snapshot outside2 && cp sl2/GPT.INI gpt.before &&
	test_must_fail 3 gpotool gpo set sl2 "$T" v REG_DWORD 1 2>err &&
	test_one_line err "symbolic link" &&
	test_must_fail 3 gpotool gpo delete sl2 "$KDC" $SCBE 2>err &&
	test_one_line err "symbolic link" &&
	unchanged outside2 && cmp gpt.before sl2/GPT.INI &&
	newgpo sl3 "[General]\r\nVersion=1\r\n" &&
	mkdir outside3 && ln -s ../../outside3 sl3/User/Preferences &&
	test_must_fail 3 gpotool gpo set sl3 "HKCU\\Software\\X" v REG_DWORD 1 --user 2>err &&
	test_one_line err "symbolic link" &&
	test "$(ls -A outside3 | wc -l)" = 0
'

test_expect_success 'a GPT.INI that is a symbolic link is refused' '
	newgpo sl4 "[General]\r\nVersion=1\r\n" &&
	mv sl4/GPT.INI outside4.ini && ln -s ../outside4.ini sl4/GPT.INI &&
	cp outside4.ini gpt.before &&
	test_must_fail 3 gpotool gpo set sl4 "$T" v REG_DWORD 1 2>err &&
	test_one_line err "symbolic link" &&
	cmp gpt.before outside4.ini &&
	! test -e sl4/Machine/Preferences
'

test_expect_success 'gpo show refuses a symbolic link too, in one line, exit 3' '
	test_must_fail 3 gpotool gpo show sl1 >out 2>err &&
	test_one_line err "symbolic link" &&
	test_must_fail 3 gpotool gpo show sl2 >out 2>err &&
	test_one_line err "symbolic link"
'

# ---- locking ----

test_expect_success 'a locked GPT.INI makes gpo set exit 3 "locked"; nothing is written' '
	snapshot "$G" &&
	exec 8<"$G/GPT.INI" && flock -x 8 &&
	test_must_fail 1 flock -n "$G/GPT.INI" true &&
	test_must_fail 3 gpotool gpo set "$G" "$T" locked REG_DWORD 1 >out 2>err 8<&-
	rc=$?
	exec 8<&-
	test $rc = 0 &&
	test_one_line err "locked" &&
	unchanged "$G" &&
	gpotool gpo set "$G" "$T" locked REG_DWORD 1 >/dev/null
'

# ---- gpo ad ----

test_expect_success 'setup: a fresh GPO with one Machine item' '
	mkdir ad &&
	gpotool gpo new ad --name "AD test" --guid "$GUID" >/dev/null &&
	gpotool gpo set "ad/$GUID" "$KDC" $SCBE REG_DWORD 2 >/dev/null
'

AD="ad/$GUID"
DOM="--domain corp.example.com"
GPO_DN="CN=$GUID,CN=Policies,CN=System,DC=corp,DC=example,DC=com"

# ldif_value OP ATTR FILE: the values written under "OP: ATTR" (OP add, delete or replace).
ldif_value() {
	awk -v op="$1: $2" -v a="$2: " '$0 == op { want = 1; next } want && index($0, a) == 1 { print substr($0, length(a) + 1); next } { want = 0 }' "$3"
}
# no_replace FILE: compare-and-swap only, never a replace that would drop a value written since it was read
no_replace() { ! grep -q "^replace:" "$1"; }

test_expect_success 'gpo ad LDIF, no current value given: each attribute added (fails where present), none replaced' '
	gpotool gpo ad "$AD" $DOM --current-extensions "" >out &&
	grep -q "^dn: $GPO_DN$" out &&
	grep -q "^changetype: modify$" out &&
	no_replace out && ! grep -q "^delete:" out &&
	test "$(ldif_value add versionNumber out)" = "$(gpt_version "$AD/GPT.INI")" &&
	test "$(ldif_value add gPCMachineExtensionNames out)" = "$REG_PAIR" &&
	grep -q "^# Not given, so written as add:, which assumes the attribute is absent" out &&
	grep -q "^#  *versionNumber$" out &&
	grep -q "^#.*--current-version N" out &&
	! grep -q "gPCUserExtensionNames" out &&
	! grep -q "gPLink" out
'

test_expect_success 'gpo ad LDIF with current values: delete the old value, add the new one (compare-and-swap)' '
	gpotool gpo ad "$AD" $DOM --current-version 0 --current-extensions "$SEC_GROUP" >out &&
	no_replace out &&
	test "$(ldif_value delete versionNumber out)" = 0 &&
	test "$(ldif_value add versionNumber out)" = 1 &&
	test "$(ldif_value delete gPCMachineExtensionNames out)" = "$SEC_GROUP" &&
	test "$(ldif_value add gPCMachineExtensionNames out)" = "$SEC_GROUP$REG_PAIR" &&
	! grep -q "^# Not given" out &&
	gpotool --json gpo ad "$AD" $DOM --current-version 0 --current-extensions "$SEC_GROUP" >out.json &&
	test "$(json_field out.json "d[\"current_version\"], d[\"version\"]")" = "(0, 1)"
'

test_expect_success 'gpo ad keeps every existing extension group, sorted by CSE GUID' '
	gpotool gpo ad "$AD" $DOM --current-extensions "$IP_GROUP$SEC_GROUP$AUDIT_GROUP" >out &&
	ldif_value add gPCMachineExtensionNames out >actual &&
	echo "$IP_GROUP$SEC_GROUP$REG_PAIR$AUDIT_GROUP" >expect &&
	test_cmp expect actual &&
	test "$(ldif_value delete gPCMachineExtensionNames out)" = "$IP_GROUP$SEC_GROUP$AUDIT_GROUP" &&
	gpotool --json gpo ad "$AD" $DOM --current-extensions "$AUDIT_GROUP$IP_GROUP$SEC_GROUP" >out.json &&
	v=$(json_field out.json "d[\"gPCMachineExtensionNames\"]") &&
	python3 chk.py sorted_groups "$v" >groups &&
	test "$(wc -l <groups)" = 4 &&
	for g in "$IP_GROUP" "$SEC_GROUP" "$AUDIT_GROUP" "$REG_PAIR"; do
		case "$v" in *"$g"*) ;; *) echo "lost $g" >&2; exit 1 ;; esac
	done
'

test_expect_success 'gpo ad adds the tool to an existing GPP Registry group, tools sorted' '
	gpotool gpo ad "$AD" $DOM --current-extensions "$SEC_GROUP[{B087BE9D-ED37-454F-AF9C-04291E351182}{CCCCCCCC-0000-0000-0000-000000000000}]" >out &&
	ldif_value add gPCMachineExtensionNames out >actual &&
	echo "$SEC_GROUP[{B087BE9D-ED37-454F-AF9C-04291E351182}{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}{CCCCCCCC-0000-0000-0000-000000000000}]" >expect &&
	test_cmp expect actual
'

test_expect_success 'gpo ad with the pair already present adds nothing' '
	gpotool gpo ad "$AD" $DOM --current-extensions "$SEC_GROUP$REG_PAIR" >out &&
	! grep -q "gPCMachineExtensionNames:" out &&
	grep -q "^versionNumber: " out &&
	lower=$(echo "$REG_PAIR" | tr A-F a-f) &&
	gpotool --json gpo ad "$AD" $DOM --current-extensions "$lower" >out.json &&
	test "$(json_field out.json "d[\"gPCMachineExtensionNames\"]")" = "$lower" &&
	! json_field out.json "d[\"text\"]" | grep -q "gPCMachineExtensionNames:"
'

test_expect_success 'gpo ad with every current value already right writes no record' '
	gpotool gpo ad "$AD" $DOM --current-version 1 --current-extensions "$REG_PAIR" >out &&
	! grep -q "^dn:" out &&
	grep -q "^# the GPO.s versionNumber and extension lists already hold these values" out
'

test_expect_success 'gpo ad without --current-extensions adds the pair and says how to read the value' '
	gpotool gpo ad "$AD" $DOM >out &&
	no_replace out &&
	test "$(ldif_value add gPCMachineExtensionNames out)" = "$REG_PAIR" &&
	grep -q "^#  *versionNumber gPCMachineExtensionNames$" out &&
	grep -q "^#.*--current-extensions" out &&
	grep -qxF "#   ldapsearch -LLL -o ldif-wrap=no -H ldap://corp.example.com -b '"'"'$GPO_DN'"'"' -s base versionNumber gPCMachineExtensionNames" out &&
	grep -q "^versionNumber: $(gpt_version "$AD/GPT.INI")$" out
'

test_expect_success 'gpo ad --link with --current-gplink keeps the DDCP link and adds ours (swap)' '
	gpotool gpo ad "$AD" $DOM --link "$OU" --current-gplink "$DDCP_LINK" >out &&
	grep -q "^dn: $OU$" out &&
	no_replace out &&
	test "$(ldif_value delete gPLink out)" = "$DDCP_LINK" &&
	ldif_value add gPLink out >actual &&
	echo "$OUR_LINK$DDCP_LINK" >expect &&
	test_cmp expect actual
'

test_expect_success 'gpo ad --link when the OU already links the GPO (any case): gPLink unchanged' '
	upper=$(echo "$OUR_LINK" | tr a-z A-Z) &&
	gpotool gpo ad "$AD" $DOM --link "$OU" --current-gplink "$DDCP_LINK$upper" >out &&
	! grep -q "gPLink:" out &&
	grep -q "already links" out &&
	lower=$(echo "$OUR_LINK" | tr A-Z a-z) &&
	gpotool gpo ad "$AD" $DOM --link "$OU" --current-gplink "$lower$DDCP_LINK" >out &&
	! grep -q "gPLink:" out &&
	grep -q "already links" out
'

test_expect_success 'gpo ad --link without --current-gplink adds our link alone, which fails where one is there (DDCP safe)' '
	gpotool gpo ad "$AD" $DOM --link "$OU" --current-extensions "" >out &&
	no_replace out &&
	! grep -q "^delete: gPLink" out &&
	test "$(ldif_value add gPLink out)" = "$OUR_LINK" &&
	grep -q "^#.*--current-gplink" out &&
	grep -q "^# links no GPO, and fails, changing nothing, where it links one" out &&
	grep -q "^add: versionNumber$" out
'

test_expect_success 'gpo ad --format powershell: Set-ADObject and New-GPLink' '
	gpotool gpo ad "$AD" $DOM --link "$OU" --format powershell --current-extensions "$SEC_GROUP" >out &&
	grep -q "^Set-ADObject .*-Identity .$GPO_DN. -Replace @{ versionNumber = $(gpt_version "$AD/GPT.INI") }" out &&
	grep -F -- "gPCMachineExtensionNames = '"'"'$SEC_GROUP$REG_PAIR'"'"' }" out | grep -q "^Set-ADObject " &&
	grep -q "^New-GPLink .*-Target .$OU." out &&
	! grep -q "replace: gPLink" out
'

# Stand-ins for ldbmodify, ldbsearch and samba-tool that record their arguments (one per
# line) and ldbmodify's input; ldbsearch finds one record, except for the first search when
# FAKE_UNLINKED is set (the OU does not link the GPO yet).
test_expect_success 'setup: stand-ins for the Samba tools' '
	mkdir fakebin &&
	for t in ldbmodify ldbsearch samba-tool; do
		printf "#!/bin/sh\n{ echo \"== %s\"; printf \"%%s\\\\n\" \"\$@\"; } >>\"\$FAKE_LOG\"\n" $t >fakebin/$t || exit 1
	done &&
	echo "cat >>\"\$FAKE_LOG.ldif\"" >>fakebin/ldbmodify &&
	cat >>fakebin/ldbsearch <<-\EOF &&
	if [ "$(grep -c "^== ldbsearch" "$FAKE_LOG")" = 1 ] && [ -n "${FAKE_UNLINKED:-}" ]; then
		echo "# returned 0 records"
	else
		echo "# returned 1 records"
	fi
	EOF
	chmod +x fakebin/*
'

# run_fake SCRIPT ARGS...: runs the printed script with the stand-ins; fake.log holds what they got.
run_fake() {
	local script=$1; shift
	rm -f fake.log fake.log.ldif &&
	FAKE_LOG=$PWD/fake.log PATH=$PWD/fakebin:$PATH sh "$script" "$@"
}
# calls TOOL: each call of TOOL in fake.log, its arguments on one line, separated by |
calls() { awk -v t="== $1" '/^== / { if (on) print line; line = ""; on = ($0 == t); next } on { line = line "|" $0 } END { if (on) print line }' fake.log; }

test_expect_success 'gpo ad --format samba: a set -eu script that talks to the DC over LDAP, credentials as arguments' '
	gpotool gpo ad "$AD" $DOM --link "$OU" --format samba --current-extensions "" --current-version 0 >out &&
	head -n 1 out | grep -qx "#!/bin/sh" &&
	grep -qx "set -eu" out &&
	! grep -q "sam.ldb" out &&
	! grep -q "Passw" out &&
	grep -q "^ldbmodify -H .ldap://corp.example.com. \"\$@\" <<.GPOTOOL_LDIF.$" out &&
	sh -n out &&
	test_expect_code 2 sh out </dev/null 2>err &&
	grep -q "^usage: sh FILE -U USER" err &&
	FAKE_UNLINKED=1 run_fake out -U Administrator >run.out &&
	calls ldbmodify >ldbmodify.calls &&
	echo "|-H|ldap://corp.example.com|-U|Administrator" >expect &&
	test_cmp expect ldbmodify.calls &&
	calls samba-tool >setlink.calls &&
	echo "|gpo|setlink|$OU|$GUID|-H|ldap://corp.example.com|-U|Administrator" >expect &&
	test_cmp expect setlink.calls &&
	test "$(calls ldbsearch | wc -l)" = 3 &&
	grep -q "^checked: versionNumber and the extension lists as written on $GPO_DN$" run.out &&
	grep -q "^checked: a link to this GPO on $OU$" run.out
'

test_expect_success 'gpo ad --format samba: ldbmodify gets the LDIF --format ldif prints; --dc names the DC' '
	opts="--link $OU --current-gplink $DDCP_LINK --current-extensions $SEC_GROUP --current-version 0" &&
	gpotool gpo ad "$AD" $DOM --link "$OU" --current-gplink "$DDCP_LINK" --current-extensions "$SEC_GROUP" --current-version 0 \
		--format samba --dc dc1.corp.example.com >out &&
	gpotool gpo ad "$AD" $DOM --link "$OU" --current-gplink "$DDCP_LINK" --current-extensions "$SEC_GROUP" --current-version 0 >ldif &&
	! grep -q "samba-tool gpo setlink" out &&
	run_fake out -A /dev/null >run.out &&
	grep -v "^#" ldif >expect &&
	test_cmp expect fake.log.ldif &&
	echo "|-H|ldap://dc1.corp.example.com|-A|/dev/null" >expect &&
	calls ldbmodify >actual && test_cmp expect actual &&
	grep -q "^checked: gPLink as written on $OU$" run.out
'

test_expect_success 'gpo ad --format samba: a check the DC fails makes the script fail, naming it' '
	gpotool gpo ad "$AD" $DOM --format samba --current-extensions "" --current-version 0 >out &&
	cp fakebin/ldbsearch ldbsearch.saved &&
	printf "#!/bin/sh\necho \"# returned 0 records\"\n" >fakebin/ldbsearch &&
	test_expect_code 1 run_fake out -U Administrator >run.out 2>run.err &&
	cp ldbsearch.saved fakebin/ldbsearch &&
	grep -q "^gpo ad: the DC does not hold versionNumber and the extension lists as written on $GPO_DN$" run.err
'

# OU=O'Brien, and as a shell and PowerShell must be given it
QDN="OU=O'Brien,DC=corp,DC=example,DC=com"
QDN_SH="'OU=O'\\''Brien,DC=corp,DC=example,DC=com'"
QDN_PS="'OU=O''Brien,DC=corp,DC=example,DC=com'"
QDN2="OU=O’Brien,DC=corp,DC=example,DC=com"
QDN2_PS="'OU=O’’Brien,DC=corp,DC=example,DC=com'"

test_expect_success 'a single quote in a DN (OU=O'"'"'Brien): the samba script passes it to each tool as it is' '
	gpotool gpo ad "$AD" $DOM --link "$QDN" --format samba --current-extensions "" --current-version 0 >out &&
	sh -n out &&
	grep -qF "samba-tool gpo setlink $QDN_SH " out &&
	FAKE_UNLINKED=1 run_fake out -U Administrator >run.out &&
	echo "|gpo|setlink|$QDN|$GUID|-H|ldap://corp.example.com|-U|Administrator" >expect &&
	calls samba-tool >actual && test_cmp expect actual &&
	calls ldbsearch | sed -n 1p | grep -qF "|-b|$QDN|" &&
	grep -qxF "checked: a link to this GPO on $QDN" run.out
'

test_expect_success 'a single quote in a DN: PowerShell strings double it (and the typographic quotes PowerShell takes)' '
	gpotool gpo ad "$AD" $DOM --link "$QDN" --format powershell >out &&
	grep -qF -- "-Target $QDN_PS -LinkEnabled Yes" out &&
	gpotool gpo ad "$AD" $DOM --link "$QDN2" --format powershell >out &&
	grep -qF -- "-Target $QDN2_PS -LinkEnabled Yes" out
'

test_expect_success 'a single quote in a DN: LDIF takes it as it is, the read hint quotes it for the shell' '
	gpotool gpo ad "$AD" $DOM --link "$QDN" >out &&
	grep -qxF "dn: $QDN" out &&
	grep -qxF "#   ldapsearch -LLL -o ldif-wrap=no -H ldap://corp.example.com -b $QDN_SH -s base gPLink" out
'

test_expect_success 'gpo ad refuses to print a versionNumber lower than AD has (exit 3, one line, nothing printed)' '
	test_must_fail 3 gpotool gpo ad "$AD" $DOM --current-version 7 >out 2>err &&
	test_one_line err "GPT.INI.s machine version 1 is below AD.s 7 (GPT.INI Version 1, versionNumber 7): printing it would lower versionNumber" &&
	grep -q "raise GPT.INI.s machine version to 8 (max(AD, GPT.INI) + 1)" err &&
	test ! -s out &&
	for f in ldif powershell samba; do
		test_must_fail 3 gpotool gpo ad "$AD" $DOM --current-version 2 --format $f >out 2>err &&
		test_one_line err "below AD" && test ! -s out || exit 1
	done &&
	gpotool gpo ad "$AD" $DOM --current-version 1 >out &&
	! grep -q "versionNumber:" out
'

test_expect_success 'gpo ad: --current-version as ldapsearch prints it (signed), malformed ones are usage errors' '
	for x in "" x 1x -x 0x10 " 1" 4294967296 -2147483649; do
		test_must_fail 2 gpotool gpo ad "$AD" $DOM --current-version "$x" >out 2>err &&
		test_one_line err "current-version" || exit 1
	done &&
	test_must_fail 3 gpotool gpo ad "$AD" $DOM --current-version -2147483647 >out 2>err &&
	test_one_line err "user version 0 is below AD.s 32768"
'

test_expect_success 'gpo ad LDIF: a non-ASCII DN and a value starting with a space are base64 (RFC 2849)' '
	m="OU=Müller,DC=corp,DC=example,DC=com" &&
	gpotool gpo ad "$AD" $DOM --link "$m" --current-gplink " " >out &&
	! grep -q "^dn: OU=M" out &&
	test "$(sed -n "s/^dn:: //p" out | base64 -d)" = "$m" &&
	grep -A1 -x "delete: gPLink" out | grep -qx "gPLink:: IA==" &&
	test "$(ldif_value add gPLink out)" = "$OUR_LINK" &&
	c="OU=:colon,DC=corp,DC=example,DC=com" &&
	gpotool gpo ad "$AD" $DOM --link "$c" --current-gplink "" >out &&
	grep -qx "dn: $c" out &&
	test "$(LC_ALL=C grep -c "[^ -~]" out)" = 0
'

test_expect_success 'gpo ad: --dc and --link that would break the printed script are usage errors' '
	for x in "" "dc1 x" "dc1;rm" "dc1\$(x)" "a/b"; do
		test_must_fail 2 gpotool gpo ad "$AD" $DOM --dc "$x" --format samba >out 2>err &&
		test_one_line err "\-\-dc" || exit 1
	done &&
	test_must_fail 2 gpotool gpo ad "$AD" $DOM --link "$(printf "OU=a\nb,DC=corp")" >out 2>err &&
	test_one_line err "\-\-link"
'

test_expect_success 'gpo ad: the User side uses --current-user-extensions' '
	gpotool gpo set "$AD" "HKCU\\Software\\Policies\\X" v REG_DWORD 1 --user >/dev/null &&
	gpotool gpo ad "$AD" $DOM --current-extensions "$REG_PAIR" --current-user-extensions "$SEC_GROUP" >out &&
	test "$(ldif_value delete gPCUserExtensionNames out)" = "$SEC_GROUP" &&
	test "$(ldif_value add gPCUserExtensionNames out)" = "$SEC_GROUP$REG_PAIR" &&
	! grep -q "gPCMachineExtensionNames:" out &&
	test "$(ldif_value add versionNumber out)" = "$(gpt_version "$AD/GPT.INI")" &&
	test "$(gpt_version "$AD/GPT.INI")" = 65537
'

test_expect_success 'gpo ad: versionNumber is compared half by half (a lower machine half under a higher user half)' '
	test_must_fail 3 gpotool gpo ad "$AD" $DOM --current-version 2 >out 2>err &&
	test_one_line err "GPT.INI.s machine version 1 is below AD.s 2 (GPT.INI Version 65537, versionNumber 2)" &&
	gpotool gpo ad "$AD" $DOM --current-version 65536 --current-extensions "$REG_PAIR" --current-user-extensions "$REG_PAIR" >out &&
	test "$(ldif_value delete versionNumber out)" = 65536 &&
	test "$(ldif_value add versionNumber out)" = 65537
'

test_expect_success 'gpo ad: malformed --current-extensions, --current-gplink, --domain are usage errors' '
	for x in "garbage" "[{B087BE9D}]" "${IP_GROUP%]}" "[]" "$IP_GROUP junk" "[{B087BE9D-ED37-454F-AF9C-04291E35118Z}]"; do
		test_must_fail 2 gpotool gpo ad "$AD" $DOM --current-extensions "$x" >out 2>err &&
		test_one_line err . || exit 1
	done &&
	for x in "LDAP://x;0" "[LDAP://OU=x]" "[LDAP://OU=x;]" "[LDAP://OU=x;0" "[LDAP://OU=x;zero]" "[ldap:/x;0]" "$DDCP_LINK junk"; do
		test_must_fail 2 gpotool gpo ad "$AD" $DOM --link "$OU" --current-gplink "$x" >out 2>err &&
		test_one_line err . || exit 1
	done &&
	for x in "" "corp..example.com" ".corp.com" "corp.com." "bad_name.com" "corp example.com" "$(printf "%070d" 0).com"; do
		test_must_fail 2 gpotool gpo ad "$AD" --domain "$x" >out 2>err &&
		test_one_line err . || exit 1
	done &&
	test_must_fail 2 gpotool gpo ad "$AD" >out 2>err && test_one_line err "domain" &&
	test_must_fail 2 gpotool gpo ad "$AD" $DOM --format xml >out 2>err && test_one_line err "format"
'

test_expect_success 'gpo ad on a GPMC backup folder is a usage error' '
	mkdir -p bk/DomainSysvol/GPO/Machine &&
	printf "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<GroupPolicyBackupScheme><GroupPolicyObject><GroupPolicyCoreSettings><ID><![CDATA[%s]]></ID></GroupPolicyCoreSettings></GroupPolicyObject></GroupPolicyBackupScheme>\r\n" "$GUID" >bk/Backup.xml &&
	gpotool gpo show bk >out &&
	grep -q "GPMC backup" out &&
	test_must_fail 2 gpotool gpo ad bk $DOM >out 2>err &&
	test_one_line err "backup"
'

test_expect_success 'gpo ad on a folder not named by a GUID is a usage error' '
	test_must_fail 2 gpotool gpo ad e1 $DOM >out 2>err &&
	test_one_line err "GUID"
'

test_expect_success 'a GPMC backup without a Machine Registry.xml refuses gpo set (exit 3)' '
	snapshot bk &&
	test_must_fail 3 gpotool gpo set bk "$T" v REG_DWORD 1 >out 2>err &&
	test_one_line err "backup" &&
	unchanged bk
'

test_expect_success 'no temp file is left in any GPO folder' '
	! find . -path ./state -prune -o -name "*gpotool*" -print | grep -q . &&
	! find "$G" -name ".*" | grep -q .
'

test_expect_success 'two items for one value: gpo set updates the last, the one clients apply' '
	DG={5E1D0A11-3C2B-4A59-8E6F-7D8C9B0A1F2E} &&
	gpotool gpo new . --name dup --guid "$DG" >/dev/null &&
	mkdir -p "$DG/Machine/Preferences/Registry" &&
	cp "$PROJECT_DIR/tests/fuzz/regressions/gpp-duplicate-items-set-misses-last" "$DG/Machine/Preferences/Registry/Registry.xml" &&
	gpotool gpo set "$DG" "HKLM\\SOFTWARE\\X" V REG_DWORD 5 >/dev/null 2>&1 &&
	python3 -c "import sys, xml.etree.ElementTree as ET
for r in ET.parse(sys.argv[1]).getroot().iter(\"Registry\"):
    print(r.get(\"uid\")[-2], r.find(\"Properties\").get(\"value\"))" "$DG/Machine/Preferences/Registry/Registry.xml" >actual &&
	printf "1 00000001\n2 00000005\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'gpo delete removes every item for the value, not only the last' '
	DG={5E1D0A11-3C2B-4A59-8E6F-7D8C9B0A1F2E} &&
	grep -c "name=\"V\"" "$DG/Machine/Preferences/Registry/Registry.xml" | grep -qx 2 &&
	gpotool gpo delete "$DG" "HKLM\\SOFTWARE\\X" V >/dev/null 2>&1 &&
	! grep -q "name=\"V\"" "$DG/Machine/Preferences/Registry/Registry.xml" &&
	xmllint --noout "$DG/Machine/Preferences/Registry/Registry.xml"
'

test_done
