#!/bin/bash
# One verdict on a damaged hive: a key linked from two parents (cross-linked subkey lists)
# is refused with exit 3 by every command that opens it, reads as well as writes (hive info,
# get, export, validate; set, delete, import), with one line naming the damage and nothing
# written. The cross-linked hive is built here from one gpotool wrote (no corpus needed).
. "$(dirname "$0")/test-lib.sh"

cat >crosslink.py <<'EOF'
# crosslink.py HIVE A B: root's subkey B gets A's subkey list, so A's subkeys are linked
# from two parents (the two nk records point at one list). Base block untouched.
import struct, sys
path, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
h = bytearray(open(path, "rb").read())
u32 = lambda o: struct.unpack_from("<I", h, o)[0]
def nk(off):
    r = 4096 + off + 4
    assert h[r:r + 2] == b"nk", h[r:r + 2]
    return r
def name(r):
    n = struct.unpack_from("<H", h, r + 0x48)[0]
    return h[r + 0x4C:r + 0x4C + n].decode("latin-1")
root = nk(u32(0x24))
lst = 4096 + u32(root + 0x1C) + 4
assert h[lst:lst + 2] in (b"lf", b"lh"), h[lst:lst + 2]
n = struct.unpack_from("<H", h, lst + 2)[0]
kids = {name(nk(u32(lst + 4 + 8 * i))): nk(u32(lst + 4 + 8 * i)) for i in range(n)}
struct.pack_into("<I", h, kids[b] + 0x14, u32(kids[a] + 0x14))
struct.pack_into("<I", h, kids[b] + 0x1C, u32(kids[a] + 0x1C))
open(path, "wb").write(h)
EOF

DAMAGE="damaged: a key record is linked from two places"

test_expect_success 'setup: A\C and B\D, then B cross-linked to A'"'"'s subkeys (reglookup sees C twice)' '
	gpotool hive new --kind SYSTEM x.hive >/dev/null &&
	gpotool hive set x.hive "HKLM\\SYSTEM\\A\\C" v REG_DWORD 1 >/dev/null &&
	gpotool hive set x.hive "HKLM\\SYSTEM\\B\\D" w REG_DWORD 2 >/dev/null &&
	python3 crosslink.py x.hive A B &&
	reglookup -H x.hive >rl &&
	grep -qx "/A/C/v,DWORD,0x00000001," rl &&
	grep -qx "/B/C/v,DWORD,0x00000001," rl &&
	cp x.hive x.pristine
'

test_expect_success 'hive info: exit 3, one line naming the damage' '
	test_must_fail 3 gpotool hive info x.hive >out 2>err &&
	test_one_line err "$DAMAGE"
'

test_expect_success 'hive export: exit 3, the same line; nothing on stdout, no --output file' '
	test_must_fail 3 gpotool hive export x.hive --utf8 >out 2>err &&
	test ! -s out &&
	test_one_line err "$DAMAGE" &&
	test_must_fail 3 gpotool hive export x.hive "HKLM\\SYSTEM\\Select" --output s.reg 2>err &&
	test_one_line err "$DAMAGE" &&
	test ! -e s.reg
'

test_expect_success 'hive get: exit 3 for the cross-linked key and for a sound one alike' '
	test_must_fail 3 gpotool hive get x.hive "HKLM\\SYSTEM\\B\\C" v 2>err &&
	test_one_line err "$DAMAGE" &&
	test_must_fail 3 gpotool hive get x.hive "HKLM\\SYSTEM\\Select" 2>err &&
	test_one_line err "$DAMAGE"
'

test_expect_success 'validate: exit 3 with the same reason' '
	test_must_fail 3 gpotool validate kdc-enforce --hive x.hive 2>err &&
	grep -q "$DAMAGE" err
'

test_expect_success 'writers refuse it too (set, delete, import); the file is unchanged' '
	test_must_fail 3 gpotool hive set x.hive "HKLM\\SYSTEM\\E" v REG_DWORD 1 2>err &&
	test_one_line err "$DAMAGE" &&
	test_must_fail 3 gpotool hive delete x.hive "HKLM\\SYSTEM\\B" 2>err &&
	test_one_line err "$DAMAGE" &&
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\E]\r\n" >e.reg &&
	test_must_fail 3 gpotool hive import x.hive e.reg 2>err &&
	test_one_line err "$DAMAGE" &&
	cmp x.hive x.pristine
'

test_done
