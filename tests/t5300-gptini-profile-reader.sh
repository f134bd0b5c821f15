#!/bin/bash
# GPT.INI read as Windows' profile reader (GetPrivateProfileString) reads it: Samba's
# "Version = 1" with LF line ends, blanks and case in names; only the version digits change
# on a bump; two Version lines in [General] are refused as ambiguous (exit 3, nothing written).
. "$(dirname "$0")/test-lib.sh"

T='HKLM\SOFTWARE\Policies\GpoToolTest'

# newgpo DIR GPTINI_BYTES(printf format): a GPO folder with a hand-written GPT.INI.
newgpo() { rm -rf "$1" && mkdir -p "$1/Machine" "$1/User" && printf "$2" >"$1/GPT.INI"; }

test_expect_success 'Samba form "Version = 1" (LF): gpo set bumps it, only the digits change' '
	newgpo s1 "[General]\nVersion = 1\ndisplayName = Samba GPO\n" &&
	gpotool gpo set s1 "$T" v REG_DWORD 1 >out &&
	grep -q "^GPT.INI: Version 1 -> 2" out &&
	printf "[General]\nVersion = 2\ndisplayName = Samba GPO\n" >expect &&
	cmp expect s1/GPT.INI
'

test_expect_success 'gpo show reads the Samba form' '
	gpotool gpo show s1 >out &&
	grep -q "^GPT.INI: Version 2 (user 0, machine 2)" out
'

test_expect_success 'blanks and case as the profile reader ignores them; bytes kept' '
	newgpo s2 " [general] \r\n\tVERSION\t=\t65543  \r\n" &&
	gpotool gpo set s2 "$T" v REG_DWORD 1 >out &&
	grep -q "Version 65543 -> 65544" out &&
	printf " [general] \r\n\tVERSION\t=\t65544  \r\n" >expect &&
	cmp expect s2/GPT.INI
'

test_expect_success 'the user half of a Samba GPT.INI is bumped the same way' '
	newgpo s3 "[General]\nVersion = 5\n" &&
	gpotool gpo set s3 "HKCU\\Software\\Policies\\X" v REG_DWORD 1 --user >out &&
	printf "[General]\nVersion = 65541\n" >expect &&
	cmp expect s3/GPT.INI
'

test_expect_success 'two Version lines in [General] are refused (exit 3), nothing written' '
	newgpo d1 "[General]\r\nVersion=1\r\nversion = 7\r\n" &&
	cp -a d1 d1.before && ls state/journal >journal.before &&
	test_must_fail 3 gpotool gpo set d1 "$T" v REG_DWORD 1 2>err &&
	test_one_line err "two Version lines in \[General\] (lines 2 and 3)" &&
	diff -r d1.before d1 &&
	ls state/journal | test_cmp journal.before -
'

test_expect_success 'a second [General] section with its own Version is refused too' '
	newgpo d2 "[General]\nVersion=1\n[Other]\nVersion=9\n[GENERAL]\nVersion=3\n" &&
	test_must_fail 3 gpotool gpo show d2 2>err &&
	test_one_line err "two Version lines"
'

test_expect_success 'a Version in another section is not counted' '
	newgpo o1 "[Other]\nVersion=9\n[General]\nVersion = 4\n" &&
	gpotool gpo set o1 "$T" v REG_DWORD 1 >/dev/null &&
	printf "[Other]\nVersion=9\n[General]\nVersion = 5\n" >expect &&
	cmp expect o1/GPT.INI
'

SAMBA=gpt/samba_alpha13_DefaultDomainPolicy_GPT.INI
if [ -f "$CORPUS/$SAMBA" ]; then
	test_expect_success 'a Samba-provisioned GPT.INI (LF, no final newline) from the corpus' '
		rm -rf c1 && mkdir -p c1/Machine c1/User && cp "$CORPUS/$SAMBA" c1/GPT.INI &&
		v=$(sed -n "s/^Version *= *//p" c1/GPT.INI) &&
		gpotool gpo set c1 "$T" v REG_DWORD 1 >out &&
		sed "s/^Version\( *= *\)$v/Version\1$((v + 1))/" "$CORPUS/$SAMBA" >expect &&
		cmp expect c1/GPT.INI
	'
else
	test_skip 'a Samba-provisioned GPT.INI from the corpus' "no $CORPUS/$SAMBA"
fi

test_done
