#!/bin/bash
# make demo as a new user reads it (tests/demo.sh, run here into GPOTOOL_DEMO_DIR): the expiry
# warning once; no terminal escapes when the output is not a terminal, none with NO_COLOR;
# every echoed command names the binary by a path that exists and reads back, shell-quoted, as
# the arguments it ran with; the work folder is kept and said; "a day before the deadline" is
# 2025-09-08; the connector item is in a GPO linked where the connector servers are.
. "$(dirname "$0")/test-lib.sh"

DEMO=$PROJECT_DIR/tests/demo.sh

if ! command -v reglookup >/dev/null || ! test -f "$(sample_image dc01)/SYSTEM"; then
	test_skip 'the demo runs' "needs reglookup and the sample images (make)"
	test_done
	exit
fi

# tty_test TITLE BODY: a test that needs script(1) for a terminal
tty_test() {
	if command -v script >/dev/null; then test_expect_success "$1" "$2"; else test_skip "$1" "no script(1) for a terminal"; fi
}

test_expect_success 'the demo runs to the end (exit 0), output not a terminal' '
	GPOTOOL_DEMO_DIR=$TRASH/demo "$DEMO" "$GPOTOOL" >demo.out 2>&1 &&
	tail -n 1 demo.out | grep -q "^== Everything above is still there: $TRASH/demo"
'

test_expect_success 'the expiry warning is printed once' '
	test "$(grep -c "EXPIRED" demo.out)" = 1
'

test_expect_success 'no escape sequences when the output is not a terminal' '
	! grep -q "$(printf "\\033")" demo.out
'

tty_test 'none on a terminal with NO_COLOR set' '
	NO_COLOR=1 script -qec "GPOTOOL_DEMO_DIR=$TRASH/demo2 $DEMO $GPOTOOL" /dev/null >tty.out 2>&1 &&
	! grep -q "$(printf "\\033\\[1m")" tty.out
'

tty_test 'on a terminal, the commands are bold' '
	script -qec "GPOTOOL_DEMO_DIR=$TRASH/demo3 $DEMO $GPOTOOL" /dev/null >tty.out 2>&1 &&
	grep -q "$(printf "\\033\\[1m")\\$ " tty.out
'

test_expect_success 'each echoed command names a binary that exists and parses back as shell words' '
	grep "^\\$ " demo.out >cmds &&
	test "$(wc -l <cmds)" -ge 30 &&
	(
		cd "$PROJECT_DIR" &&
		while IFS= read -r line; do
			eval "set -- ${line#\$ }" || exit 1
			test -x "$1" || { echo "not a binary: $1" >&2; exit 1; }
			shift
			for a in "$@"; do case "$a" in *\\\\\\\\*) echo "doubled backslash in: $a" >&2; exit 1 ;; esac; done
		done <"$TRASH/cmds"
	) &&
	grep -qF "'"'"'HKLM\\SYSTEM\\CurrentControlSet\\Services\\Kdc'"'"'" cmds &&
	grep -qF "'"'"'KB5014754 DC certificate mapping'"'"'" cmds
'

test_expect_success 'the work folder is kept: the paths it printed can be opened' '
	test -f "$TRASH/demo/kdc.reg" &&
	test -f "$TRASH/demo/images/dc01/Windows/System32/config/SYSTEM" &&
	test -f "$TRASH/demo/state/audit.log" &&
	ls "$TRASH"/demo/Policies/*/GPT.INI >/dev/null
'

test_expect_success '"a day before the deadline" is 2025-09-08, and says 1 day left' '
	grep -A2 "a day before the deadline" demo.out | grep -q -- "--as-of 2025-09-08 " &&
	grep -q "works only until the 2025-09-09 .*: 1 day left" demo.out
'

test_expect_success 'the connector item is in its own GPO, linked to the servers OU, not the DC one' '
	conn=$(grep -l EnableSidSecurityExtension "$TRASH"/demo/Policies/*/Machine/Preferences/Registry/Registry.xml) &&
	test "$(echo "$conn" | wc -l)" = 1 &&
	! grep -q CertificateMappingMethods "$conn" &&
	guid=$(echo "$conn" | sed "s|.*/Policies/\({[^}]*}\)/.*|\1|") &&
	grep "^\$ .* gpo ad .*$guid" demo.out | grep -q -- "--link OU=Servers," &&
	! grep "^\$ .* gpo ad .*$guid" demo.out | grep -q "OU=Domain Controllers"
'

test_done
