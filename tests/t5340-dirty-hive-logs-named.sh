#!/bin/bash
# A dirty hive whose logs cannot be replayed: the message says which transaction logs lie
# beside it (NAME.LOG1, .LOG2, .LOG in any case) and why each was rejected, or that there are
# none and the newest data is lost with them. Writers refuse (exit 3), readers warn, both with
# the same reason; --ignore-logs edits the stale primary anyway, and the audit record says so.
# Dirty hives are made here (no corpus needed); the corpus's dirty hive with its logs (which
# replay: t5350) and without them is checked when present.
. "$(dirname "$0")/test-lib.sh"

# dirty HIVE: bump the primary sequence number and reseal the base-block checksum
cat >dirty.py <<'EOF'
import struct, sys
h = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<I", h, 4, struct.unpack_from("<I", h, 4)[0] + 1)
c = 0
for (d,) in struct.iter_unpack("<I", bytes(h[:508])):
    c ^= d
c = 1 if c == 0 else 0xFFFFFFFE if c == 0xFFFFFFFF else c
struct.pack_into("<I", h, 508, c)
open(sys.argv[1], "wb").write(h)
EOF

NONE="no transaction log (.LOG, .LOG1, .LOG2) is beside it: its newest changes were in the logs and are lost with them"

test_expect_success 'setup: a dirty hive alone in its folder' '
	mkdir alone && gpotool hive new --kind SYSTEM alone/SYSTEM >/dev/null &&
	python3 dirty.py alone/SYSTEM && cp alone/SYSTEM alone.pristine
'

test_expect_success 'no logs: the write refusal says none were found and the data is lost' '
	test_must_fail 3 gpotool hive set alone/SYSTEM "HKLM\\SYSTEM\\X" v REG_DWORD 1 2>err &&
	test_one_line err "is dirty (sequence numbers 2 != 1) and $NONE; copy its logs along with it" &&
	! grep -q "hold" err &&
	cmp alone/SYSTEM alone.pristine
'

test_expect_success 'no logs: a reader warns with the same reason' '
	gpotool hive info alone/SYSTEM >out 2>err &&
	test_one_line err "warning: .alone/SYSTEM. is dirty (sequence numbers 2 != 1) and $NONE, so what is read here may be stale"
'

test_expect_success 'logs in any case are named, in replay order, each with why it cannot be used' '
	mkdir logs && cp alone.pristine logs/SYSTEM &&
	printf "x%.0s" $(seq 512) >logs/system.log1 && : >logs/SYSTEM.LOG2 && : >logs/System.Log &&
	: >logs/SYSTEM.LOG3 && : >logs/OTHER.LOG1 &&
	test_must_fail 3 gpotool hive set logs/SYSTEM "HKLM\\SYSTEM\\X" v REG_DWORD 1 2>err &&
	test_one_line err "none of its transaction logs can be replayed: system.log1 (512 bytes): no .regf. base block; SYSTEM.LOG2 (empty); System.Log (empty); replace them with good copies" &&
	! grep -q "LOG3\|OTHER" err &&
	cmp logs/SYSTEM alone.pristine &&
	gpotool hive get logs/SYSTEM "" >/dev/null 2>err &&
	test_one_line err "system.log1 (512 bytes): no .regf. base block; SYSTEM.LOG2 (empty); System.Log (empty), so what is read here may be stale" &&
	gpotool hive info logs/SYSTEM >out 2>/dev/null &&
	grep -q "^transaction logs  *system.log1: invalid, 512 bytes; not applied (no .regf. base block)$" out &&
	grep -q "^replay  *not possible: " out
'

test_expect_success '--ignore-logs edits the stale primary, says so, and the audit record carries it' '
	cp alone.pristine logs/SYSTEM &&
	gpotool hive set --ignore-logs logs/SYSTEM "HKLM\\SYSTEM\\X" v REG_DWORD 1 >out 2>err &&
	grep -q "^gpotool: warning: .logs/SYSTEM. is dirty (sequence numbers 2 != 1): none of its transaction logs can be replayed: .*; --ignore-logs: editing the stale primary" err &&
	grep -q "^verified: libregf reads back 2 changes" out &&
	tail -n 1 "$GPOTOOL_STATE_DIR/audit.log" >rec.json &&
	json_field rec.json "d[\"ignore_logs\"]" >v && test "$(cat v)" = True &&
	json_field rec.json "d[\"transaction_logs\"][\"stale_primary\"]" >v && test "$(cat v)" = True &&
	json_field rec.json "d[\"transaction_logs\"][\"logs\"][0][\"why\"]" >v && grep -q "no .regf. base block" v &&
	python3 -c "import struct,sys; b=open(\"logs/SYSTEM\",\"rb\").read(12); a,c=struct.unpack_from(\"<II\",b,4); sys.exit(a!=c)"
'

newest_entry() { ls "$GPOTOOL_STATE_DIR/journal" | grep -v "^\." | sort | tail -n 1; }

test_expect_success '--ignore-logs write, its rollback, and the rollback of that: each byte for byte (logs bad)' '
	cp alone.pristine logs/SYSTEM && cp logs/system.log1 log1.pristine &&
	gpotool hive set --ignore-logs logs/SYSTEM "HKLM\\SYSTEM\\Y" v REG_DWORD 1 >out 2>err &&
	cp logs/SYSTEM after.copy && id=$(newest_entry) &&
	gpotool rollback "$id" >out 2>err && cmp logs/SYSTEM alone.pristine && cmp logs/system.log1 log1.pristine &&
	id2=$(newest_entry) && test "$id2" != "$id" &&
	gpotool rollback "$id2" >out 2>err && cmp logs/SYSTEM after.copy &&
	grep -q "^gpotool: note: .*none of its transaction logs can be replayed.*; the rollback replaces it whole" err
'

test_expect_success '--ignore-logs write to a dirty hive with no log at all, then rollback: byte for byte' '
	rm -rf lone && mkdir lone && cp alone.pristine lone/SYSTEM &&
	gpotool hive set --ignore-logs lone/SYSTEM "HKLM\\SYSTEM\\Y" v REG_DWORD 1 >out 2>err &&
	gpotool rollback "$(newest_entry)" >out 2>err && cmp lone/SYSTEM alone.pristine || { cat out err; false; }
'

test_expect_success 'logs found beside a hive are never followed: a symbolic link, a folder, a FIFO are listed as rejected' '
	rm -rf sl && mkdir sl && cp alone.pristine sl/SYSTEM &&
	printf "secret, 29 bytes long ......" >secret && chmod 600 secret &&
	ln -s ../secret sl/SYSTEM.LOG1 && mkdir sl/SYSTEM.LOG2 && mkfifo sl/SYSTEM.LOG &&
	gpotool hive info sl/SYSTEM >out 2>err &&
	grep -q "^transaction logs  *SYSTEM.LOG1: invalid; not applied (a symbolic link, not followed: name the file itself with --log)$" out &&
	grep -q "SYSTEM.LOG2: invalid; not applied (not a regular file)" out &&
	grep -q "SYSTEM.LOG: invalid; not applied (not a regular file)" out &&
	! grep -q "29 bytes" out err &&
	test_must_fail 3 gpotool hive set sl/SYSTEM "HKLM\\SYSTEM\\X" v REG_DWORD 1 2>err &&
	test_one_line err "SYSTEM.LOG1: a symbolic link, not followed: name the file itself with --log" &&
	cmp sl/SYSTEM alone.pristine &&
	rm -rf cl && mkdir cl && gpotool hive new --kind SYSTEM cl/SYSTEM >/dev/null && mkdir cl/SYSTEM.LOG1 &&
	gpotool hive info cl/SYSTEM >out 2>err && grep -q "SYSTEM.LOG1: invalid; not applied (not a regular file)" out
'

test_expect_success 'a hive given by a bare name in the current folder finds its logs too' '
	cp alone.pristine logs/SYSTEM &&
	(cd logs && gpotool hive info SYSTEM >/dev/null 2>../err) &&
	grep -q "SYSTEM.LOG2 (empty)" err
'

NDH=yarp/NewDirtyHive1
if have_corpus && [ -f "$CORPUS/hives/$NDH/NewDirtyHive.xz" ]; then
	test_expect_success 'corpus NewDirtyHive: with its .LOG1/.LOG2 it is edited; without them refused' '
		mkdir -p c1 c2 &&
		unpack hives/$NDH/NewDirtyHive.xz c1/NewDirtyHive &&
		unpack hives/$NDH/NewDirtyHive.LOG1.xz c1/NewDirtyHive.LOG1 &&
		unpack hives/$NDH/NewDirtyHive.LOG2.xz c1/NewDirtyHive.LOG2 &&
		cp c1/NewDirtyHive c2/ && cp c1/NewDirtyHive ndh.pristine &&
		gpotool hive set c1/NewDirtyHive X v REG_DWORD 1 >out 2>err &&
		grep -q "^gpotool: note: .c1/NewDirtyHive. is dirty: replayed its transaction logs into a private copy: NewDirtyHive.LOG1 entry 2, NewDirtyHive.LOG2 entries 3..5 (4 entries)" err &&
		test_must_fail 3 gpotool hive set c2/NewDirtyHive X v REG_DWORD 1 2>err &&
		test_one_line err "$NONE" &&
		cmp c2/NewDirtyHive ndh.pristine && ! cmp -s c1/NewDirtyHive ndh.pristine
	'
else
	test_skip 'corpus NewDirtyHive: with its .LOG1/.LOG2 it is edited; without them refused' "no $CORPUS/hives/$NDH"
fi

test_done
