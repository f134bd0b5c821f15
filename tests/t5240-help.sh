#!/bin/bash
# Help, as a new user asks for it: `gpotool help CMD` and `gpotool CMD --help` print that
# command's usage (exit 0, stdout, never audited, nothing opened); a group word alone
# (`gpotool hive`) lists its commands; a near miss of a command or option is a usage error that
# names the one meant, and the guess is never run.
. "$(dirname "$0")/test-lib.sh"

KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
LOG=state/audit.log

# no_trail: nothing was audited or journaled
no_trail() { ! test -e $LOG && ! test -e state/journal || { echo "audited or journaled:" >&2; cat $LOG >&2; return 1; }; }

test_expect_success 'setup: a hive' '
	cp "$(sample_image dc01)/SYSTEM" s.hive && cp s.hive s.before
'

test_expect_success 'gpotool help stage: the usage of stage, not the global one; exit 0' '
	gpotool help stage >out 2>err &&
	head -n 1 out | grep -q "^usage: gpotool stage TEMPLATE (--hive FILE | --image WINDIR | --gpo DIR | --domain DNS " &&
	grep -q -- "--dry-run" out && grep -q -- "--force" out &&
	! grep -q "^commands:" out &&
	! test -s err
'

test_expect_success 'gpotool stage --help: the same text, exit 0, not audited, nothing written' '
	gpotool help stage >expect &&
	gpotool stage --help >out 2>err &&
	test_cmp expect out && ! test -s err &&
	gpotool stage kdc-compat --hive s.hive --help >out 2>err &&
	test_cmp expect out &&
	cmp s.before s.hive &&
	no_trail
'

test_expect_success 'every command has its help: gpotool help NAME and NAME --help, exit 0' '
	gpotool help | grep "^  [a-z]" | cut -c3-17 | sed "s/ *$//" >names &&
	test "$(wc -l <names)" -ge 20 &&
	while read -r name; do
		gpotool help $name >out 2>err &&
		head -n 1 out | grep -q "^usage: gpotool $name" &&
		gpotool $name --help >out2 2>err &&
		test_cmp out out2 || { echo "no help for $name" >&2; exit 1; }
	done <names &&
	no_trail
'

test_expect_success 'gpotool hive, hive --help and help hive: the hive commands, exit 0' '
	gpotool hive >out 2>err &&
	for c in info get set delete export import new; do grep -q "^  hive $c " out || exit 1; done &&
	! grep -q "^  gpo " out &&
	gpotool hive --help >out2 && test_cmp out out2 &&
	gpotool help hive >out2 && test_cmp out out2 &&
	gpotool gpo >out && grep -q "^  gpo show " out &&
	no_trail
'

test_expect_success 'a near miss names the command meant, exit 2, and is never run' '
	test_must_fail 2 gpotool hive sett s.hive "$KDC" Probe REG_DWORD 1 >out 2>err &&
	test_one_line err "unknown command .hive sett. (did you mean .hive set.?" &&
	test_must_fail 2 gpotool stgae kdc-enforce --hive s.hive >out 2>err &&
	test_one_line err "did you mean .stage.?" &&
	test_must_fail 2 gpotool hive SET s.hive "$KDC" Probe REG_DWORD 1 >out 2>err &&
	test_one_line err "did you mean .hive set.?" &&
	cmp s.before s.hive && no_trail
'

test_expect_success 'nothing near: no guess' '
	test_must_fail 2 gpotool frobnicate >out 2>err &&
	test_one_line err "unknown command .frobnicate." &&
	! grep -q "did you mean" err &&
	test_must_fail 2 gpotool help frobnicate >out 2>err &&
	! grep -q "did you mean" err
'

test_expect_success 'a near miss of an option names the option meant; the command does not run' '
	test_must_fail 2 gpotool stage kdc-enforce --hive s.hive --dryrun >out 2>err &&
	test_one_line err "unknown option .--dryrun. for .stage. (did you mean .--dry-run.?)" &&
	test_must_fail 2 gpotool stage kdc-enforce --hive s.hive --forse >out 2>err &&
	test_one_line err "did you mean .--force.?" &&
	cmp s.before s.hive
'

test_expect_success 'after "--", --help is data, not a request for help' '
	test_expect_code 1 gpotool hive get s.hive "$KDC" -- --help >out 2>err &&
	! grep -q "^usage:" out
'

test_done
