#!/bin/bash
# gpotool.1 renders as written: backslashes in macro arguments (DOMAIN\Group) survive groff, and
# every command the program knows has its entry in COMMANDS.
. "$(dirname "$0")/test-lib.sh"

MAN=$PROJECT_DIR/gpotool/gpotool.1

if ! command -v groff >/dev/null; then
	test_skip 'the man page renders' "no groff"
	test_done
	exit
fi

test_expect_success 'the man page renders without warnings' '
	groff -man -Tutf8 -ww "$MAN" >man.txt 2>err &&
	! test -s err &&
	test -s man.txt
'

test_expect_success 'DOMAIN\Group and the key paths keep their backslashes' '
	sed "s/.\x08//g" man.txt >plain.txt &&
	grep -qF "DOMAIN\\Group" plain.txt &&
	! grep -q "DOMAINGroup" plain.txt &&
	grep -qF "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc" plain.txt
'

test_expect_success 'every command of gpotool help has an entry in COMMANDS' '
	gpotool help | grep "^  [a-z]" | cut -c3-17 | sed "s/ *$//" >names &&
	test "$(wc -l <names)" -ge 20 &&
	while read -r name; do
		grep -q "^\\.B $name\\( \\|$\\)" "$MAN" || { echo "no entry for $name" >&2; exit 1; }
	done <names &&
	grep -q "^\\.B help " "$MAN"
'

test_done
