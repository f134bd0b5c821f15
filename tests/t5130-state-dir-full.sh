#!/bin/bash
# The state directory on a full disk, and the temp files beside a target:
# - a journal entry that cannot be written (ENOSPC on its before copy, through write() or
#   copy_file_range()) leaves no journal/ID/ directory behind for the next run to take for a
#   killed writer;
# - the error names the real cause: a write() or pwrite() that takes nothing (returns 0, errno
#   untouched) is a full disk, not the stale errno of an earlier call (EXDEV from link() when
#   the state directory is on another file system);
# - a temp file beside a target is removed only when this state directory accounts for it (a
#   writer through it was killed before it journaled); any other is left and reported.
# Uses build/faultshim.so (tests/fault/faultshim.c) and strace.
. "$(dirname "$0")/test-lib.sh"

SHIM=$PROJECT_DIR/build/faultshim.so
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
GUID='{4D6F8A0C-2E4A-4B6C-8D0E-1F3A5C7E9B21}'
ASAN_SHIM=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

entries() { ls state/journal 2>/dev/null | wc -l; }
temps() { ls -A "$(dirname "$1")" | grep "^\.$(basename "$1")\.gpotool-" || true; }
# shim VAR=VALUE... -- ARGS...: gpotool ARGS under the fault shim
shim() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env LD_PRELOAD="$SHIM" ASAN_OPTIONS="$ASAN_SHIM" GPOTOOL_FAULT_NOSYNC=1 "${envs[@]}" "$GPOTOOL" "$@"
}
# first_call TRACE OP PATTERN: the per-kind number of the first OP call whose path matches
first_call() { awk -v op="$2" -v pat="$3" '$1 == op && $3 ~ pat { print $2; exit }' "$1"; }
# any_index TRACE OP PATTERN: its number among the calls a full disk fails (OP=any)
any_index() { awk -v op="$2" -v pat="$3" '$1 != "unlink" && $1 != "ftruncate" { n++; if ($1 == op && $3 ~ pat) { print n; exit } }' "$1"; }

if ! [ -f "$SHIM" ]; then
	test_skip 'the state directory on a full disk' "no $SHIM (make build/faultshim.so)"
	test_done
	exit
fi

test_expect_success 'setup: a SYSTEM hive, a GPO with an item' '
	gpotool hive new s.hive --kind SYSTEM >/dev/null &&
	gpotool hive import s.hive "$PROJECT_DIR/hives/dc01/SYSTEM.reg" >/dev/null &&
	gpotool gpo new . --name full --guid "$GUID" >/dev/null &&
	gpotool gpo set "$GUID" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 2 >/dev/null 2>&1 &&
	cp -a state state.clean && cp s.hive s.clean && cp -a "$GUID" gpo.clean
'

test_expect_success 'ENOSPC writing a GPO before copy: exit 4, no journal directory left, the next run finds no debris' '
	shim GPOTOOL_FAULT_TRACE=$TRASH/gpo.trace -- gpo set "$GUID" "$KDC" T REG_DWORD 1 >/dev/null 2>&1 &&
	rm -rf state "$GUID" && cp -a state.clean state && cp -a gpo.clean "$GUID" &&
	n=$(first_call gpo.trace write "/state/journal/") && test -n "$n" &&
	e=$(entries) &&
	test_expect_code 4 shim GPOTOOL_FAULT_OP=write GPOTOOL_FAULT_NTH=$n GPOTOOL_FAULT_ERRNO=ENOSPC -- \
		gpo set "$GUID" "$KDC" T REG_DWORD 1 >out 2>err &&
	grep -q "No space left on device" err &&
	test "$(entries)" = "$e" &&
	diff -r gpo.clean "$GUID" &&
	gpotool gpo set "$GUID" "$KDC" T REG_DWORD 1 >out 2>err &&
	! grep -q "removed journal directory" err &&
	test "$(entries)" = $((e + 1))
'

test_expect_success 'a write() that takes nothing in the journal: the error is ENOSPC, not the errno left by an earlier call' '
	rm -rf state "$GUID" && cp -a state.clean state && cp -a gpo.clean "$GUID" &&
	n=$(first_call gpo.trace write "/state/journal/") &&
	e=$(entries) &&
	test_expect_code 4 shim GPOTOOL_FAULT_OP=write GPOTOOL_FAULT_NTH=$n GPOTOOL_FAULT_ZERO=1 -- \
		gpo set "$GUID" "$KDC" T REG_DWORD 1 >out 2>err &&
	test_one_line err "No space left on device" &&
	test "$(entries)" = "$e" &&
	diff -r gpo.clean "$GUID"
'

test_expect_success 'state directory on another file system (link EXDEV), copy_file_range fails: no directory left' '
	rm -rf state && cp -a state.clean state && cp s.clean s.hive &&
	shim GPOTOOL_FAULT_XDEV=1 GPOTOOL_FAULT_TRACE=$TRASH/hive.trace -- hive set s.hive "$KDC" T REG_DWORD 1 >/dev/null 2>&1 &&
	rm -rf state && cp -a state.clean state && cp s.clean s.hive &&
	n=$(first_call hive.trace copy_file_range "/state/journal/") && test -n "$n" &&
	e=$(entries) &&
	test_expect_code 4 shim GPOTOOL_FAULT_XDEV=1 GPOTOOL_FAULT_OP=copy_file_range GPOTOOL_FAULT_NTH=$n -- \
		hive set s.hive "$KDC" T REG_DWORD 1 >out 2>err &&
	test_one_line err "No space left on device" &&
	test "$(entries)" = "$e" &&
	cmp s.clean s.hive
'

test_expect_success 'there, the copy falls back to read/write, and a write that takes nothing: ENOSPC, not EXDEV' '
	rm -rf state && cp -a state.clean state && cp s.clean s.hive &&
	c=$(any_index hive.trace copy_file_range "/state/journal/") && test -n "$c" &&
	e=$(entries) &&
	test_expect_code 4 shim GPOTOOL_FAULT_XDEV=1 GPOTOOL_FAULT_OP=any GPOTOOL_FAULT_NTH=$c,$((c + 1)) GPOTOOL_FAULT_ERRNO=EXDEV \
		GPOTOOL_FAULT_ZERO=1 -- hive set s.hive "$KDC" T REG_DWORD 1 >out 2>err &&
	test_one_line err "unable to copy .* into the journal: No space left on device" &&
	! grep -q "cross-device" err &&
	test "$(entries)" = "$e" &&
	cmp s.clean s.hive
'

test_expect_success 'a pwrite() that takes nothing while stamping the new hive: the error is ENOSPC' '
	rm -rf state && cp -a state.clean state && cp s.clean s.hive &&
	shim GPOTOOL_FAULT_TRACE=$TRASH/stamp.trace -- hive set s.hive "$KDC" T REG_DWORD 1 >/dev/null 2>&1 &&
	rm -rf state && cp -a state.clean state && cp s.clean s.hive &&
	n=$(awk "\$1 == \"write\" && \$3 ~ /\/\.s\.hive\.gpotool-/ { n = \$2 } END { print n }" stamp.trace) && test -n "$n" &&
	test_expect_code 4 shim GPOTOOL_FAULT_OP=write GPOTOOL_FAULT_NTH=$n GPOTOOL_FAULT_ZERO=1 -- \
		hive set s.hive "$KDC" T REG_DWORD 1 >out 2>err &&
	test_one_line err "No space left on device" &&
	cmp s.clean s.hive && test -z "$(temps s.hive)"
'

test_expect_success 'a temp file beside the hive that this state directory does not account for: left, and said so' '
	rm -rf state && cp -a state.clean state && cp s.clean s.hive &&
	echo foreign >.s.hive.gpotool-Ab12Cd &&
	gpotool hive set s.hive "$KDC" U REG_DWORD 1 >out 2>err &&
	test_one_line err ".s.hive.gpotool-Ab12Cd. not removed: no journal entry or interrupted writer in .* accounts for it" &&
	test "$(temps s.hive)" = .s.hive.gpotool-Ab12Cd &&
	rm .s.hive.gpotool-Ab12Cd
'

if strace -o /dev/null true 2>/dev/null; then
	test_expect_success 'a writer of this state directory killed before it journaled: its temp file is removed, and said so' '
		test_expect_code 137 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o /dev/null \
			-e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=SIGKILL:when=1 \
			"$GPOTOOL" hive set s.hive "$KDC" Cut REG_DWORD 1 >/dev/null 2>&1 &&
		t=$(temps s.hive) && test -n "$t" &&
		test "$(ls state/writers | wc -l)" = 1 &&
		gpotool hive set s.hive "$KDC" V REG_DWORD 2 >out 2>err &&
		grep -q "removed .*$t., left by a gpotool killed before it journaled its write" err &&
		test -z "$(temps s.hive)" &&
		test "$(ls state/writers | wc -l)" = 0 &&
		gpotool journal list --pending >p && grep -q "^no interrupted writes" p
	'

	# A dead writer here named the same target; that must not make another state directory's
	# staged file look like its litter: only the temp files a dead writer made are swept.
	test_expect_success 'a dead writer of this state directory does not make the staged file of another journal its own' '
		temps s.hive >old &&
		test_expect_code 137 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o /dev/null \
			-e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=SIGKILL:when=1 \
			"$GPOTOOL" hive set s.hive "$KDC" Cut2 REG_DWORD 1 >/dev/null 2>&1 &&
		mine=$(temps s.hive | grep -vxFf old) && test -n "$mine" && test "$(echo "$mine" | wc -l)" = 1 &&
		test_expect_code 137 env GPOTOOL_FAULT=hive-before-rename "$GPOTOOL" --state-dir other hive set s.hive "$KDC" W REG_DWORD 3 >/dev/null 2>&1 &&
		theirs=$(temps s.hive | grep -vxFf old | grep -vx "$mine") && test -n "$theirs" &&
		gpotool hive set s.hive "$KDC" X REG_DWORD 4 >out 2>err &&
		grep -q "removed .*$mine., left by a gpotool killed before it journaled its write" err &&
		grep -q "$theirs. not removed" err &&
		test "$(temps s.hive | grep -vxFf old)" = "$theirs" &&
		test_must_fail 3 gpotool --state-dir other hive set s.hive "$KDC" Y REG_DWORD 5 2>err &&
		grep -q "has been changed since; nothing was written" err &&
		gpotool --state-dir other journal abandon "$(ls other/journal)" >/dev/null &&
		test -z "$(temps s.hive | grep -vxFf old)"
	'
else
	test_skip 'a writer of this state directory killed before it journaled: its temp file is removed, and said so' 'no usable strace'
fi

test_done
