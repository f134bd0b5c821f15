#!/bin/bash
# Building the sample images (the Makefile's sample rule: `hive new`, then `hive import`) and
# running the demo use their own state directories: as root, with GPOTOOL_STATE_DIR unset and
# a HOME and XDG_STATE_HOME of their own, neither ever opens, creates or stats anything under
# /var/lib/gpotool, the real audit trail. Checked with strace on a copy of the build rules and
# sample sources; any call on /var/lib/gpotool is made to fail, so a build that still reaches
# for it cannot change the real trail while this test says so.
. "$(dirname "$0")/test-lib.sh"

REAL=/var/lib/gpotool

if ! strace -o /dev/null true 2>/dev/null; then
	test_skip 'the sample build and the demo keep out of /var/lib/gpotool' 'no usable strace'
	test_done
	exit
fi
if ! command -v make >/dev/null; then
	test_skip 'the sample build and the demo keep out of /var/lib/gpotool' 'no make'
	test_done
	exit
fi

# traced OUT CMD...: CMD run as the build runs it (no GPOTOOL_STATE_DIR, a HOME of its own).
# Every call it or a child makes on the real state directory or a file in it is written to
# OUT.trace, and fails (EACCES, injected by strace): a build step that reaches for it is seen,
# and cannot change it.
traced() {
	local out=$1 p
	local paths=()
	shift
	for p in "" /audit.log /audit.log.head /journal /writers; do paths+=(-P "$REAL$p"); done
	env -u GPOTOOL_STATE_DIR HOME="$TRASH/home" XDG_STATE_HOME="$TRASH/xdg" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -o "$out.trace" "${paths[@]}" -e trace=all -e signal=none -e inject=all:error=EACCES "$@"
}
# untouched TRACE: no call reached the real state directory
untouched() {
	! test -s "$1" || { echo "calls on $REAL:" >&2; cat "$1" >&2; return 1; }
}

test_expect_success 'setup: a copy of the build rules, the sample sources, the templates and the demo, with the gpotool under test' '
	mkdir -p proj/build proj/tests/fuzz proj/tests/fault home xdg &&
	cp "$PROJECT_DIR/Makefile" proj/ &&
	cp -R "$PROJECT_DIR/hives" "$PROJECT_DIR/templates" proj/ &&
	cp "$PROJECT_DIR/tests/fuzz/fuzz.mk" proj/tests/fuzz/ &&
	cp "$PROJECT_DIR/tests/fault/fault.mk" proj/tests/fault/ &&
	cp "$PROJECT_DIR/tests/demo.sh" proj/tests/ &&
	cp "$GPOTOOL" proj/build/gpotool &&
	test "$(id -u)" = 0 || echo "# not root: the default state directory would not be $REAL anyway"
'

test_expect_success 'make samples: the images are built, and nothing under /var/lib/gpotool is touched' '
	traced make make -C proj -o build/gpotool samples >make.out 2>&1 &&
	test -f proj/build/images/dc01/Windows/System32/config/SYSTEM &&
	test -f proj/build/images/connector01/Windows/System32/config/SOFTWARE &&
	untouched make.trace &&
	test "$(wc -l <proj/build/state-samples/audit.log)" = $((2 * $(ls proj/hives/*/*.reg | wc -l))) &&
	gpotool --state-dir proj/build/state-samples audit verify >/dev/null
'

test_expect_success 'the demo: its own state directory, nothing under /var/lib/gpotool' '
	(cd proj && traced ../demo tests/demo.sh build/gpotool) >demo.out 2>&1 &&
	grep -q "chain whole" demo.out &&
	untouched demo.trace
'


test_done
