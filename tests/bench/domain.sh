#!/bin/bash
# domain.sh CMD [ARG...]: CMD run while one real Samba AD DC serves on loopback, for make bench's
# live-domain section. The DC comes from the tests' harness (tests/lib/samba-dc.sh: a copy of the
# provisioned template on an address of its own), is started before CMD, so its start is not in
# any timing, and is stopped by PID when this script ends. CMD sees the DC's DC_* variables and:
#   BENCH_DC_PASSWORD_FILE  a 0600 file holding DC_PASS (gpotool's --password-file)
#   BENCH_DC_TIMES          what the DC's start took (provisioning, copy, start to ready)
# Exit: CMD's status; 77 when no DC can run here (not root, packages missing), after one line
# "skip: REASON" on stdout; 1 when the DC does not start.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
TESTS_DIR=$(cd "$BENCH_DIR/.." && pwd)
PROJECT_DIR=$(cd "$TESTS_DIR/.." && pwd)
# what samba-dc.sh expects of test-lib.sh: TRASH (the DC's tree goes there) and an EXIT trap it
# extends; the TAP helpers it calls when it gives up are replaced below
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/gpotool-bench.XXXXXX")
trap 'rm -rf "$TRASH"' EXIT
cd "$TRASH" || exit 1
export LC_ALL=C.UTF-8

. "$TESTS_DIR/lib/samba-dc.sh"

samba_dc_skip_all() {
	echo "skip: $1"
	exit 77
}
# samba_dc_available's report of a Makefile without DOMAIN_TEST_PACKAGES: a broken harness
test_expect_success() {
	eval "$2" >&2
}
test_done() { :; }

samba_dc_available
samba_dc_start bench >"$TRASH/start.log" 2>&1 || {
	echo "domain.sh: the bench DC did not start:" >&2
	cat "$TRASH/start.log" >&2
	exit 1
}
printf '%s\n' "$DC_PASS" >"$TRASH/pw" && chmod 600 "$TRASH/pw" || exit 1
export BENCH_DC_PASSWORD_FILE=$TRASH/pw BENCH_DC_TIMES=$SAMBA_DC_TIMES
"$@"
