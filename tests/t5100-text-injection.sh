#!/bin/bash
# Text from outside (--operator, --ticket, SUDO_USER, file names, any argument) can neither
# forge a line of `journal list`, `journal show` or `audit show`, nor reach the terminal as a
# control sequence, nor make audit.log or entry.json anything but valid UTF-8 JSON:
# - --operator and --ticket holding a control character or bytes that are not UTF-8 are
#   refused (exit 2) before anything is written;
# - every text output escapes control characters (\n, \e, \xNN) and bytes that are not UTF-8;
# - the command line is stored shell-quoted with $'\xNN' for such bytes; every other string is
#   stored with its invalid bytes as the text \xNN;
# - a journaled write to a target whose path is not UTF-8 is refused (exit 2).
. "$(dirname "$0")/test-lib.sh"

KEY='HKLM\SYSTEM\Select'
NL=$'\n'
ESC=$'\e'
FORGED='20990101T000000.000000Z-deadbeef  complete    root  hive /etc/shadow'

# utf8_json FILE...: every line of a JSON Lines file (or the whole of a JSON file) parses
# as strict UTF-8
utf8_jsonl() { python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1], encoding="utf-8", errors="strict")]' "$1"; }
utf8_json() { python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))' "$1"; }
# no_raw FILE: no ESC byte, no byte that is not UTF-8
no_raw() {
	! grep -q "$ESC" "$1" || { echo "raw ESC in $1" >&2; return 1; }
	python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$1" || { echo "$1 is not UTF-8" >&2; return 1; }
}
entries() { ls state/journal 2>/dev/null | wc -l; }
records() { if [ -f state/audit.log ]; then wc -l <state/audit.log; else echo 0; fi; }

test_expect_success 'setup: a SYSTEM hive' '
	gpotool hive new s.hive --kind SYSTEM >/dev/null &&
	gpotool hive set s.hive "$KEY" Current REG_DWORD 1 >/dev/null &&
	cp s.hive s.before
'

test_expect_success '--operator with a newline: exit 2, one line, nothing written or journaled' '
	n=$(entries) &&
	test_must_fail 2 gpotool --operator "eve${NL}${FORGED}" hive set s.hive "$KEY" Default REG_DWORD 1 >out 2>err &&
	test_one_line err "operator" &&
	cmp s.before s.hive &&
	test "$(entries)" = "$n" &&
	gpotool journal list >list &&
	! grep -q "^2099" list
'

test_expect_success '--ticket with a terminal escape, or bytes that are not UTF-8: exit 2' '
	test_must_fail 2 gpotool --ticket "CHG-1${ESC}[2J${ESC}]0;pwned${ESC}\\" hive set s.hive "$KEY" Default REG_DWORD 1 >out 2>err &&
	test_one_line err "ticket" && no_raw err &&
	test_must_fail 2 gpotool --ticket $'"'"'CHG-\xff\xfe'"'"' hive set s.hive "$KEY" Default REG_DWORD 1 >out 2>err &&
	test_one_line err "not UTF-8" && no_raw err &&
	test_must_fail 2 gpotool --operator $'"'"'\xc3\x28'"'"' hive set s.hive "$KEY" Default REG_DWORD 1 2>err &&
	no_raw err &&
	cmp s.before s.hive
'

test_expect_success 'plain UTF-8 names are kept as given' '
	gpotool --operator "Zoë Ångström" --ticket "CHG-42 (ünïcode)" hive set s.hive "$KEY" Named REG_DWORD 1 >out &&
	id=$(sed -n "s/^journal: //p" out) &&
	gpotool journal list >list &&
	grep -q "^$id  complete    Zoë Ångström  ticket CHG-42 (ünïcode)  hive " list &&
	test "$(json_field state/journal/$id/entry.json "d[\"operator\"]")" = "Zoë Ångström"
'

test_expect_success 'SUDO_USER with a newline and an escape: journal list and audit show print one escaped line' '
	cp s.hive u.hive &&
	SUDO_USER="mallory${NL}${FORGED}${ESC}[31m" gpotool hive set u.hive "$KEY" Default REG_DWORD 2 >out 2>err &&
	id=$(sed -n "s/^journal: //p" out) &&
	gpotool journal list >list &&
	no_raw list &&
	test "$(wc -l <list)" = "$(entries)" &&
	! grep -q "^2099" list &&
	grep -q "^$id  complete    mallory\\\\n2099.*\\\\e\[31m  hive " list &&
	gpotool journal show "$id" >show && no_raw show &&
	grep -q "^operator   mallory\\\\n2099" show &&
	! grep -q "^2099" show &&
	gpotool audit show >as && no_raw as &&
	! grep -q "^2099" as &&
	grep -q "^#[0-9]* .* mallory\\\\n2099" as
'

test_expect_success 'a hive whose file name holds a newline and an escape: every listing stays one line per item' '
	f="x${NL}20990101T000000.000000Z-deadbeef  complete    root  hive ${ESC}[8m.hive" &&
	cp s.hive "$f" &&
	gpotool hive set "$f" "$KEY" Default REG_DWORD 3 >out 2>err &&
	id=$(sed -n "s/^journal: //p" out) &&
	gpotool journal list >list && no_raw list &&
	test "$(wc -l <list)" = "$(entries)" &&
	! grep -q "^2099" list &&
	grep -q "^$id .*/x\\\\n2099.*\\\\e\[8m\.hive$" list &&
	gpotool journal show "$id" >show && no_raw show &&
	test "$(grep -c "^file " show)" = 1 && ! grep -q "^2099" show &&
	gpotool audit show >as && no_raw as && ! grep -q "^2099" as &&
	grep -q "^    target       .*x\\\\n2099" as
'

test_expect_success 'an error that quotes an argument is one line, escaped' '
	test_must_fail gpotool hive get "no${NL}gpotool: forged${ESC}[2J" "$KEY" >out 2>err &&
	test_one_line err "no\\\\ngpotool: forged\\\\e\[2J" && no_raw err
'

test_expect_success 'bytes that are not UTF-8 in an argument: audit.log and entry.json stay UTF-8 JSON' '
	bad=$'"'"'imp\xff\xc0\x80'"'"'.reg &&
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\Select]\r\n\"Failed\"=dword:00000007\r\n" >"$bad" &&
	gpotool hive import s.hive "$bad" >out 2>err &&
	id=$(sed -n "s/^journal: //p" out) &&
	utf8_json state/journal/$id/entry.json &&
	json_field state/journal/$id/entry.json "d[\"command\"]" >cmd &&
	grep -qF "\$'"'"'imp\\xff\\xc0\\x80.reg'"'"'" cmd &&
	test_must_fail gpotool hive import s.hive "${bad}x" 2>err &&
	utf8_jsonl state/audit.log &&
	python3 -c "import json; r = json.loads(open(\"state/audit.log\", encoding=\"utf-8\").read().splitlines()[-1]); print(r[\"error\"])" >error &&
	grep -qF "imp\\xff\\xc0\\x80.regx" error &&
	gpotool audit verify >/dev/null &&
	# and bash reads the stored command line back as the same arguments
	eval "set -- $(cat cmd)" &&
	test "$3" = import && test "$4" = s.hive && test "$5" = "$bad"
'

test_expect_success 'a journaled write to a hive whose path is not UTF-8: refused, exit 2, nothing changed' '
	cp s.hive $'"'"'bad\xff.hive'"'"' &&
	cp s.hive bad.before &&
	n=$(entries) &&
	test_must_fail 2 gpotool hive set $'"'"'bad\xff.hive'"'"' "$KEY" Default REG_DWORD 9 >out 2>err &&
	test_one_line err "not valid UTF-8" && no_raw err &&
	cmp bad.before $'"'"'bad\xff.hive'"'"' &&
	test "$(entries)" = "$n" &&
	utf8_jsonl state/audit.log
'

test_expect_success '--json output is UTF-8 JSON when the error quotes bytes that are not UTF-8' '
	test_must_fail gpotool --json hive get $'"'"'\xff\xfe'"'"' "$KEY" >j 2>/dev/null &&
	utf8_json j
'

test_expect_success 'every record and entry written here is UTF-8 JSON, and the chain is whole' '
	utf8_jsonl state/audit.log &&
	for e in state/journal/*/entry.json; do utf8_json "$e" || exit 1; done &&
	gpotool audit verify >/dev/null
'

test_done
