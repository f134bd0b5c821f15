#!/bin/bash
# stage and validate check the target before anything else: a path that does not exist or is
# not a file or folder as asked, an --image without System32/config, or a hive of the wrong
# kind for the template is a usage error (exit 2, --force or not), in one line that names the
# path once, with no expiry warning before it (the warning is printed only when something will
# be staged). The hive given is used for what it is: never "no SOFTWARE hive at hand" for it.
. "$(dirname "$0")/test-lib.sh"

DC_CFG=$(sample_image dc01)
CN_CFG=$(sample_image connector01)
journal_count() { ls state/journal 2>/dev/null | wc -l; }

# usage_error CMD...: exit 2, exactly one line on stderr (no warning), nothing on stdout,
# nothing written to any file here, no journal entry
usage_error() {
	local n
	find . -path ./state -prune -o -type f -print0 | sort -z | xargs -0 sha256sum >sums.before &&
	n=$(journal_count) &&
	test_must_fail 2 "$@" >out 2>err &&
	test "$(wc -l <err)" -eq 1 && ! grep -q "warning" err && ! test -s out &&
	find . -path ./state -prune -o -type f ! -name "sums.*" ! -name out ! -name err -print0 | sort -z | xargs -0 sha256sum >sums.after &&
	grep -v " ./sums\.\| ./out$\| ./err$" sums.before | diff - sums.after &&
	test "$(journal_count)" = "$n" || { echo "stderr:" >&2; cat err >&2; echo "stdout:" >&2; cat out >&2; return 1; }
}

test_expect_success 'setup: the DC and connector hives, a file, a folder' '
	cp "$DC_CFG/SYSTEM" dc.SYSTEM && cp "$DC_CFG/SOFTWARE" dc.SOFTWARE && cp "$CN_CFG/SYSTEM" cn.SYSTEM &&
	mkdir folder && echo text >file.txt
'

test_expect_success 'a DC template on a SOFTWARE hive: exit 2 naming the kinds, also with --force' '
	for t in kdc-compat kdc-enforce "kdc-backdating --value 600"; do
		usage_error gpotool stage $t --hive dc.SOFTWARE &&
		grep -q "dc.SOFTWARE. is a SOFTWARE hive, but kdc-.* in the SYSTEM hive" err &&
		! grep -Eqi "domain controller|no SOFTWARE hive" err &&
		usage_error gpotool stage $t --hive dc.SOFTWARE --force &&
		usage_error gpotool validate $t --hive dc.SOFTWARE || exit 1
	done
'

test_expect_success 'pfx-sid on a SYSTEM hive: exit 2 too' '
	usage_error gpotool stage pfx-sid --hive cn.SYSTEM --force &&
	grep -q "is a SYSTEM hive, but pfx-sid" err
'

test_expect_success 'a missing --hive, --image or --gpo: exit 2, one line naming the path once, no expiry warning' '
	for opt in --hive --image --gpo; do
		usage_error gpotool --as-of 2026-01-01 stage kdc-compat $opt no-such-path &&
		test "$(grep -o no-such-path err | wc -l)" = 1 &&
		grep -q "does not exist" err &&
		usage_error gpotool --as-of 2026-01-01 validate kdc-compat $opt no-such-path || exit 1
	done
'

test_expect_success 'the wrong type: a folder as --hive, a file as --image or --gpo: exit 2' '
	usage_error gpotool stage kdc-compat --hive folder && grep -q "folder.*is a folder, not a file" err &&
	usage_error gpotool stage kdc-compat --image file.txt && grep -q "file.txt.*is not a folder" err &&
	usage_error gpotool stage kdc-compat --gpo file.txt && grep -q "file.txt.*is not a folder" err &&
	usage_error gpotool stage kdc-compat --image folder && grep -q "holds no System32/config/SYSTEM" err
'

test_expect_success 'the exit code of a missing path is the same for the other commands' '
	usage_error gpotool hive info no-such-path &&
	usage_error gpotool hive set no-such-path "HKLM\\SYSTEM\\X" v REG_DWORD 1 &&
	usage_error gpotool hive import dc.SYSTEM no-such-path &&
	usage_error gpotool gpo show no-such-path &&
	usage_error gpotool gpo set no-such-path "HKLM\\SYSTEM\\X" v REG_DWORD 1
'

test_expect_success 'a SYSTEM hive alone: the build is not checked, and the message says where it is' '
	gpotool stage kdc-enforce --hive dc.SYSTEM --dry-run >out 2>err &&
	grep -q "^preflight: build: not checked: the build is in the SOFTWARE hive" out
'

test_expect_success 'the expiry warning comes once, after the checks, when something is staged' '
	cp "$DC_CFG/SYSTEM" w.SYSTEM &&
	gpotool --as-of 2026-01-01 stage kdc-compat --hive w.SYSTEM >out 2>err &&
	test "$(grep -c EXPIRED err)" = 1 &&
	test "$(wc -l <err)" = 1 &&
	mkdir -p img/Windows/System32/config && cp "$CN_CFG/SYSTEM" "$CN_CFG/SOFTWARE" img/Windows/System32/config/ &&
	test_must_fail 3 gpotool --as-of 2026-01-01 stage kdc-compat --image img/Windows >out 2>err &&
	test_one_line err "not a domain controller"
'

test_done
