# Sourced by every tests/tNNNN-*.sh: git-style helpers that print TAP for prove.
# Each script runs in its own temp directory with its own state dir; tests in a script
# run in order and may build on each other, like git's t/ scripts.
# Environment: GPOTOOL (the binary under test, absolute), CORPUS (../shared/corpus).

set -u
: "${GPOTOOL:?set GPOTOOL to the gpotool binary under test}"
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
PROJECT_DIR=$(cd "$TESTS_DIR/.." && pwd)
export PROJECT_DIR # the tests' python helpers import tests/lib from it
CORPUS=${CORPUS:-$(cd "$PROJECT_DIR/../shared/corpus" 2>/dev/null && pwd || echo "$PROJECT_DIR/../shared/corpus")}
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/gpotool-test.XXXXXX")
# TEST_KEEP=1 keeps the temp directory (its path on stderr) to look at what a test left
trap '[ -n "${TEST_KEEP:-}" ] && echo "kept $TRASH" >&2 || rm -rf "$TRASH"' EXIT
cd "$TRASH" || exit 1
export GPOTOOL_STATE_DIR="$TRASH/state"
export LC_ALL=C.UTF-8
unset GPOTOOL_OPERATOR SUDO_USER

test_count=0
test_failed=0

gpotool() { "$GPOTOOL" "$@"; }

say_fail() { sed 's/^/# /' "$TRASH/.test-output"; }

test_expect_success() {
	local title=$1 body=$2
	test_count=$((test_count + 1))
	# TEST_TRACE=1: each failing test shows the commands it ran (set -x)
	if ( [ -z "${TEST_TRACE:-}" ] || set -x; eval "$body" ) >"$TRASH/.test-output" 2>&1; then
		echo "ok $test_count - $title"
	else
		echo "not ok $test_count - $title"
		say_fail
		test_failed=$((test_failed + 1))
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# test_must_fail [CODE] CMD...: CMD must exit non-zero (CODE if given), and never by a signal:
# a crash is not an expected failure.
test_must_fail() {
	local want=""
	case "$1" in [0-9]*) want=$1; shift ;; esac
	"$@"
	local rc=$?
	if [ $rc -eq 0 ]; then
		echo "test_must_fail: '$*' succeeded" >&2; return 1
	elif [ $rc -gt 128 ]; then
		echo "test_must_fail: '$*' died by signal $((rc - 128))" >&2; return 1
	elif [ -n "$want" ] && [ $rc -ne "$want" ]; then
		echo "test_must_fail: '$*' exited $rc, expected $want" >&2; return 1
	fi
	return 0
}

# test_expect_code CODE CMD...: exactly CODE (0 included).
test_expect_code() {
	local want=$1; shift
	"$@"
	local rc=$?
	[ $rc -eq "$want" ] && return 0
	echo "test_expect_code: '$*' exited $rc, expected $want" >&2
	return 1
}

test_cmp() { diff -u "$1" "$2"; }

# A file of exactly one line that contains the pattern (one clear message).
test_one_line() {
	local file=$1 pattern=$2
	[ "$(wc -l <"$file")" -eq 1 ] || { echo "expected one line in $file, got:" >&2; cat "$file" >&2; return 1; }
	grep -q -- "$pattern" "$file" || { echo "'$pattern' not in: $(cat "$file")" >&2; return 1; }
}

# json_field FILE EXPR: evaluates a Python expression over the parsed JSON document d.
json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

have_corpus() { [ -d "$CORPUS/hives" ]; }

# unpack CORPUS_RELATIVE_PATH DEST: decompress a corpus file (xz or gz) to DEST.
unpack() {
	case "$1" in
	*.xz) xz -dc "$CORPUS/$1" >"$2" ;;
	*.gz) gzip -dc "$CORPUS/$1" >"$2" ;;
	*) cp "$CORPUS/$1" "$2" ;;
	esac
}

sample_image() { echo "$PROJECT_DIR/build/images/$1/Windows/System32/config"; }

# wait_stopped PID: until PID has stopped itself at a fault point (GPOTOOL_FAULT=NAME:stop),
# seen as state T in /proc/PID/stat; a condition, polled, never a guess at how long it takes.
# Fails when PID ends first, or after 120 s.
wait_stopped() {
	local i st
	for i in $(seq 1 12000); do
		st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
		case $st in
		T|t) return 0 ;;
		""|Z|X) echo "process $1 ended before its stop point" >&2; return 1 ;;
		esac
		sleep 0.01
	done
	echo "process $1 never reached its stop point" >&2
	return 1
}

# wait_blocked PID [FILE]: until PID waits for a flock (on FILE, when given), as /proc/locks
# shows it ("-> FLOCK ... PID dev:inode"). Fails when PID ends first, or after 120 s.
wait_blocked() {
	local i pat="-> FLOCK .* $1 [0-9a-f]*:[0-9a-f]*:"
	[ $# -lt 2 ] || pat="$pat$(stat -c %i "$2") "
	for i in $(seq 1 12000); do
		grep -q -- "$pat" /proc/locks && return 0
		kill -0 "$1" 2>/dev/null || { echo "process $1 ended before it waited for a lock" >&2; return 1; }
		sleep 0.01
	done
	echo "process $1 never waited for a lock${2:+ on $2}" >&2
	return 1
}

# reap_stopped PID...: for an EXIT trap: kills what a failed step left stopped (by PID).
reap_stopped() {
	local p
	for p in "$@"; do
		kill -9 "$p" 2>/dev/null && kill -CONT "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	return 0
}

test_done() {
	echo "1..$test_count"
	[ $test_failed -eq 0 ]
}
