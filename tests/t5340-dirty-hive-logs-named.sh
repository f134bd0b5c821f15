#!/bin/bash
# A dirty hive's message says which transaction logs lie beside it (NAME.LOG, .LOG1, .LOG2 in
# any case) and what that means: none found, the newest data is lost with them; found, they
# hold changes not yet in the primary file, which gpotool does not replay. Writers refuse
# (exit 3), readers warn, both with the same reason. Dirty hives are made here (no corpus
# needed); the corpus's dirty hives with and without their logs are checked when present.
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

test_expect_success 'logs in any case are named, with their sizes, and said to hold newer changes' '
	mkdir logs && cp alone.pristine logs/SYSTEM &&
	printf "x%.0s" $(seq 512) >logs/system.log1 && : >logs/SYSTEM.LOG2 && : >logs/System.Log &&
	: >logs/SYSTEM.LOG3 && : >logs/OTHER.LOG1 &&
	test_must_fail 3 gpotool hive set logs/SYSTEM "HKLM\\SYSTEM\\X" v REG_DWORD 1 2>err &&
	test_one_line err "its transaction logs SYSTEM.LOG2 (empty), System.Log (empty), system.log1 (512 bytes) beside it hold changes not yet in it, which gpotool does not replay yet; load it once on Windows" &&
	! grep -q "LOG3\|OTHER" err &&
	gpotool hive get logs/SYSTEM "" >/dev/null 2>err &&
	test_one_line err "system.log1 (512 bytes) beside it hold changes not yet in it, which gpotool does not replay yet, so what is read here may be stale"
'

test_expect_success 'a hive given by a bare name in the current folder finds its logs too' '
	(cd logs && gpotool hive info SYSTEM >/dev/null 2>../err) &&
	grep -q "SYSTEM.LOG2 (empty)" err
'

NDH=yarp/NewDirtyHive1
if have_corpus && [ -f "$CORPUS/hives/$NDH/NewDirtyHive.xz" ]; then
	test_expect_success 'corpus NewDirtyHive: with its .LOG1/.LOG2 and without them' '
		mkdir -p c1 c2 &&
		unpack hives/$NDH/NewDirtyHive.xz c1/NewDirtyHive &&
		unpack hives/$NDH/NewDirtyHive.LOG1.xz c1/NewDirtyHive.LOG1 &&
		unpack hives/$NDH/NewDirtyHive.LOG2.xz c1/NewDirtyHive.LOG2 &&
		cp c1/NewDirtyHive c2/ &&
		test_must_fail 3 gpotool hive set c1/NewDirtyHive X v REG_DWORD 1 2>err &&
		test_one_line err "logs NewDirtyHive.LOG1 (24576 bytes), NewDirtyHive.LOG2 (65536 bytes) beside it hold changes" &&
		test_must_fail 3 gpotool hive set c2/NewDirtyHive X v REG_DWORD 1 2>err &&
		test_one_line err "$NONE"
	'
else
	test_skip 'corpus NewDirtyHive: with its .LOG1/.LOG2 and without them' "no $CORPUS/hives/$NDH"
fi

test_done
