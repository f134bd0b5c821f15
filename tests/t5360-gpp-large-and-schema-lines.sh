#!/bin/bash
# Registry.xml is read in one streaming pass, each item checked against the schema on its own:
# a 40,000-item file is shown and edited (only the edited item's bytes change), schema errors
# name the real line (not 0, not libxml2's 65,535 cap), items in Collections and unknown
# elements are handled as before, and the per-shape shortcut follows the schema it is given
# (an attribute a site's schema constrains is checked in every item). Nothing here is timed:
# make bench measures 200,000 items.
. "$(dirname "$0")/test-lib.sh"

GUID='{6F1A4F3C-1B2D-4E5F-8A9B-0C1D2E3F4A5B}'
RX=Machine/Preferences/Registry/Registry.xml
RCLS='{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}'
SCLS='{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}'
CCLS='{53B533F5-224C-47e3-B01B-CA3B3F3FF4BF}'

# gpo_with DIR: a GPO folder DIR with GPT.INI Version=1 and Registry.xml from stdin
gpo_with() {
	rm -rf "$1" && mkdir -p "$1/Machine/Preferences/Registry" "$1/User" &&
	printf "[General]\r\nVersion=1\r\n" >"$1/GPT.INI" && cat >"$1/$RX"
}
item() { printf '\t<Registry clsid="%s" name="%s" uid="{%s}"><Properties action="%s" hive="HKEY_LOCAL_MACHINE" key="SOFTWARE\\T" name="%s" type="REG_DWORD" value="00000001"/></Registry>\r\n' "$RCLS" "$1" "$2" "$3" "$1"; }
head_xml() { printf '<?xml version="1.0" encoding="utf-8"?>\r\n<RegistrySettings clsid="%s">\r\n' "$SCLS"; }
tail_xml() { printf '</RegistrySettings>\r\n'; }

test_expect_success '40,000 items: gpo show lists them all, gpo set changes only its item' '
	python3 "$PROJECT_DIR/tests/bench/gen-registry-xml.py" 40000 big.xml &&
	gpo_with big <big.xml &&
	gpotool gpo show big >show.out &&
	grep -q "^Machine: .*(40000 items)$" show.out &&
	test $(grep -c "^  \[U\] HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Policies\\\\Bench" show.out) = 40000 &&
	gpotool gpo set big "HKLM\\SOFTWARE\\Policies\\Bench\\Group250" Value25000 REG_DWORD 7 >set.out &&
	grep -q "REG_DWORD 25000 (0x000061a8) -> REG_DWORD 7 (0x00000007), action U" set.out &&
	{ diff big.xml big/$RX >d; test $? = 1; } &&
	test $(grep -c "^<" d) = 1 && test $(grep -c "^>" d) = 1 &&
	grep "^>" d | grep -q "name=\"Value25000\" type=\"REG_DWORD\" value=\"00000007\"" &&
	test "$(tr -d "\r" <big/GPT.INI | sed -n "s/^Version=//p")" = 2
'

test_expect_success 'a new item appended to 40,000: every other byte kept, the item last' '
	cp big/$RX before.xml &&
	gpotool gpo set big "HKLM\\SOFTWARE\\New" v REG_DWORD 1 >/dev/null &&
	test $(grep -c "<Registry " big/$RX) = 40001 &&
	tail -n 2 big/$RX | head -n 1 | grep -q "key=\"SOFTWARE\\\\New\" name=\"v\"" &&
	cmp -n $(($(wc -c <before.xml) - 23)) before.xml big/$RX
'

test_expect_success 'a schema error past line 65,535 names its real line' '
	{ head_xml; for i in $(seq 1 70000); do printf "\r\n"; done; item bad 1 X; tail_xml; } | gpo_with tall &&
	test_must_fail 3 gpotool gpo set tall "HKLM\\SOFTWARE\\T" v REG_DWORD 1 2>err &&
	test_one_line err "Registry.xml.: line 70003: does not match the Registry.xml schema"
'

test_expect_success 'a schema error libxml2 reports without a line (two Properties) names the item'"'"'s line' '
	{ head_xml; item a 1 U; printf "\t<Registry clsid=\"%s\" name=\"b\">\r\n\t\t<Properties hive=\"HKEY_LOCAL_MACHINE\" key=\"K\"/>\r\n\t\t<Properties hive=\"HKEY_LOCAL_MACHINE\" key=\"K\"/>\r\n\t</Registry>\r\n" "$RCLS"; tail_xml; } | gpo_with two &&
	test_must_fail 3 gpotool gpo show two 2>err &&
	test_one_line err "line 4: does not match the Registry.xml schema: Extra element Properties in interleave"
'

test_expect_success 'items in nested Collections and an unknown top-level element: shown, kept' '
	{ head_xml; printf "\t<Collection clsid=\"%s\" name=\"Outer\">\r\n\t<Collection clsid=\"%s\" name=\"Inner\">\r\n" "$CCLS" "$CCLS";
	  item deep 2 U; printf "\t</Collection>\r\n\t</Collection>\r\n\t<Vendor x=\"1\"><Registry clsid=\"%s\"><Properties hive=\"HKEY_LOCAL_MACHINE\" key=\"Hidden\" name=\"h\" type=\"REG_DWORD\" value=\"1\"/></Registry></Vendor>\r\n" "$RCLS";
	  item top 3 U; tail_xml; } | gpo_with coll &&
	gpotool gpo show coll >out &&
	grep -q "(2 items)" out &&
	grep -q "SOFTWARE.T.deep = REG_DWORD 00000001  in Outer.Inner$" out &&
	! grep -q Hidden out &&
	cp coll/$RX coll.before &&
	gpotool gpo set coll "HKLM\\SOFTWARE\\T" deep REG_DWORD 2 >/dev/null &&
	diff coll.before coll/$RX | grep "^>" >d &&
	test $(wc -l <d) = 1 && grep -q "name=\"deep\" type=\"REG_DWORD\" value=\"00000002\"" d &&
	grep -q "<Vendor x=\"1\">" coll/$RX
'

test_expect_success 'text where only items may stand is refused by the schema, at its line' '
	{ head_xml; item a 1 U; printf "stray text\r\n"; tail_xml; } | gpo_with text &&
	test_must_fail 3 gpotool gpo show text 2>err &&
	test_one_line err "does not match the Registry.xml schema"
'

test_expect_success 'a site schema that constrains an attribute: checked in every item of a shape' '
	cp -r "$PROJECT_DIR/templates" data &&
	python3 - data/gpp-registry.rng <<-\EOF &&
	import sys
	p = sys.argv[1]
	s = open(p).read()
	old = "<anyName><except><name>action</name><name>hive</name><name>key</name><name>type</name></except></anyName>"
	assert old in s
	s = s.replace(old, old.replace("<name>type</name>", "<name>type</name><name>name</name>"))
	s = s.replace("<ref name=\"content\"/>\n    </element>", "<optional><attribute name=\"name\"><choice><value>good</value><value>fine</value></choice></attribute></optional>\n      <ref name=\"content\"/>\n    </element>", 1)
	open(p, "w").write(s)
	EOF
	grep -q "<value>good</value>" data/gpp-registry.rng &&
	{ head_xml; item good 1 U; item fine 2 U; tail_xml; } | gpo_with site1 &&
	GPOTOOL_DATADIR=$PWD/data gpotool gpo show site1 >/dev/null &&
	{ head_xml; item good 1 U; item fine 2 U; item evil 3 U; tail_xml; } | gpo_with site2 &&
	test_must_fail 3 env GPOTOOL_DATADIR=$PWD/data "$GPOTOOL" gpo show site2 2>err &&
	test_one_line err "line 5: does not match the Registry.xml schema" &&
	gpotool gpo show site2 >/dev/null
'

test_done
