#!/bin/bash
# Every key path gpotool prints is accepted back: a UsrClass.dat's keys are printed as
# HKCU\Software\Classes\... and are taken as that or as HKCR\...; `hive export` followed by
# `hive import` of its own output works on every clean hive kind in the corpus (and on hives
# the test writes), checked by exporting again and by reglookup (a third parser).
. "$(dirname "$0")/test-lib.sh"

UC='HKCU\Software\Classes'

# utf8reg FILE LINES...: a regedit 5.00 file in UTF-8, CRLF
utf8reg() {
	local f=$1
	shift
	{ printf 'Windows Registry Editor Version 5.00\r\n'; for l in "$@"; do printf '%s\r\n' "$l"; done; } >"$f"
}

test_expect_success 'a new USRCLASS hive takes HKCR\... and HKCU\Software\Classes\... keys' '
	gpotool hive new --kind USRCLASS u.dat >/dev/null &&
	utf8reg in.reg "" "[HKEY_CLASSES_ROOT\\.gpt]" "@=\"gpofile\"" "" \
		"[HKEY_CURRENT_USER\\Software\\Classes\\gpofile\\shell\\open]" "\"n\"=dword:00000007" &&
	gpotool hive import u.dat in.reg >out &&
	grep -qF "set value    $UC\\.gpt\\(default)" out &&
	reglookup -H -p /gpofile/shell/open/n u.dat | grep -q "DWORD,0x00000007"
'

test_expect_success 'hive get: both spellings find the key, and the printed path is taken back' '
	gpotool hive get u.dat "HKCR\\gpofile\\shell" >a &&
	gpotool hive get u.dat "$UC\\gpofile\\shell" >b &&
	test_cmp a b &&
	printed=$(sed -n "2s/^\[\(.*\)\]$/\1/p" a) &&
	test "$printed" = "$UC\\gpofile\\shell\\open" &&
	gpotool hive get u.dat "$printed" n >v &&
	grep -qx "dword:00000007" v
'

test_expect_success 'hive export of a USRCLASS hive imports back (into a new one): same export' '
	gpotool hive export u.dat --output u.reg >/dev/null &&
	iconv -f UTF-16LE -t UTF-8 u.reg | grep -q "^\[HKEY_CURRENT_USER\\\\Software\\\\Classes\\\\gpofile\\\\shell\\\\open\]" &&
	gpotool hive new --kind USRCLASS u2.dat >/dev/null &&
	gpotool hive import u2.dat u.reg >/dev/null &&
	gpotool hive export u2.dat --output u2.reg >/dev/null &&
	cmp u.reg u2.reg
'

test_expect_success 'a path into another hive is still refused on a USRCLASS hive, naming both spellings' '
	test_must_fail 2 gpotool hive get u.dat "HKLM\\SOFTWARE\\Classes\\gpofile" 2>err &&
	test_one_line err "is a USRCLASS hive (its keys are HKCU.Software.Classes.... or HKCR....)" &&
	test_must_fail 2 gpotool hive get u.dat "HKCU\\Software\\Other" 2>err &&
	test_one_line err "USRCLASS"
'

test_expect_success 'every other kind: its printed prefix is taken back (hive new, import, export, import)' '
	for k in SYSTEM SOFTWARE SAM SECURITY NTUSER other; do
		rm -f k.hive k2.hive k.reg k2.reg &&
		gpotool hive new --kind $k k.hive >/dev/null &&
		gpotool hive get k.hive "" >root.out &&
		prefix=$(sed -n "1s/^\[\(.*\)\]$/\1/p" root.out) &&
		utf8reg in.reg "" "[${prefix:+$prefix\\}GpoToolProbe\\Sub]" "\"v\"=\"x\"" &&
		gpotool hive import k.hive in.reg >/dev/null &&
		gpotool hive export k.hive --output k.reg >/dev/null &&
		gpotool hive new --kind $k k2.hive >/dev/null &&
		gpotool hive import k2.hive k.reg >/dev/null &&
		gpotool hive export k2.hive --output k2.reg >/dev/null &&
		cmp k.reg k2.reg &&
		reglookup -H -p /GpoToolProbe/Sub/v k2.hive | grep -q "SZ,x," || { echo "kind $k failed" >&2; exit 1; }
	done
'

# The corpus: one clean hive of each kind (a subtree of the 11 MB SYSTEM hive, to stay quick).
# REL;KIND;KEY to export ("" = the whole hive)
corpus_hives='dissect.regf/SYSTEM.gz;SYSTEM;HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions
EricZimmerman-Registry/NTUSER1.DAT.xz;NTUSER;
EricZimmerman-Registry/SAM.xz;SAM;
dfwinreg/SECURITY.xz;SECURITY;
EricZimmerman-Registry/UsrClassDeletedBags.dat.xz;USRCLASS;
EricZimmerman-Registry/BCD.xz;other;'

if have_corpus; then
	test_expect_success 'corpus: export -> import on a clean hive of every kind; the new key lands (reglookup)' '
		seen=0 &&
		while IFS=";" read -r rel kind key; do
			n=c$seen && mkdir -p $n &&
			unpack "hives/$rel" $n/hive &&
			gpotool --json hive info $n/hive >$n/info.json &&
			test "$(json_field $n/info.json "d[\"kind\"] + \" \" + str(d[\"dirty\"])")" = "$kind False" &&
			gpotool hive export $n/hive ${key:+"$key"} --output $n/a.reg >/dev/null &&
			cp $n/hive $n/copy &&
			gpotool hive import $n/copy $n/a.reg >$n/out &&
			grep -q "^no change:" $n/out &&
			cmp $n/hive $n/copy &&
			first=$(iconv -f UTF-16LE -t UTF-8 $n/a.reg | tr -d "\r" | sed -n "s/^\[\(.*\)\]$/\1/p" | head -n 1) &&
			utf8reg $n/add.reg "" "[$first\\GpoToolProbe]" "\"probe\"=dword:00000001" &&
			gpotool hive import $n/copy $n/add.reg >$n/out2 &&
			grep -q "^verified: libregf reads back" $n/out2 &&
			gpotool hive export $n/copy ${key:+"$key"} --output $n/b.reg >/dev/null &&
			iconv -f UTF-16LE -t UTF-8 $n/b.reg | tr -d "\r" | grep -qxF "[$first\\GpoToolProbe]" &&
			gpotool hive get $n/copy "$first\\GpoToolProbe" probe | grep -qx "dword:00000001" &&
			reglookup -H -t DWORD $n/copy | grep -q "/GpoToolProbe/probe,DWORD,0x00000001," || {
				echo "failed on $rel ($kind)" >&2; exit 1; }
			seen=$((seen + 1))
		done <<<"$corpus_hives" &&
		test $seen = 6
	'
else
	test_skip 'corpus: export -> import on a clean hive of every kind' "no corpus at $CORPUS"
fi

test_done
