#!/bin/bash
# .reg round trips: every corpus .reg (UTF-16LE with BOM, ANSI, REGEDIT4, hex(2)/hex(7)/hex(b),
# long continuation lines, a 578 KB export) is imported into an empty hive of its kind,
# the hive is exported, the export is imported into a second empty hive, and both hives
# must hold the same values (reglookup dumps, an independent parser) - and exactly the
# values of the source file (regvals.py below, a second independent .reg reader). Then
# deletions, REGEDIT4 string widening, and .reg files that must be refused untouched.
. "$(dirname "$0")/test-lib.sh"

# ---- helpers ----

# regvals.py: a small .reg reader written for these tests (not gpotool's parser).
#   norm FILE...      the values the files leave behind: "key<TAB>name<TAB>type<TAB>hex", keys
#                     relative to the hive root (CurrentControlSet read as ControlSet001), lower-case
#   raw FILE KEY NAME the data of one value exactly as written, continuation lines joined
cat >regvals.py <<'PYEOF'
import sys

CP1252 = {0x80: 0x20AC, 0x82: 0x201A, 0x83: 0x0192, 0x84: 0x201E, 0x85: 0x2026, 0x86: 0x2020,
          0x87: 0x2021, 0x88: 0x02C6, 0x89: 0x2030, 0x8A: 0x0160, 0x8B: 0x2039, 0x8C: 0x0152,
          0x8E: 0x017D, 0x91: 0x2018, 0x92: 0x2019, 0x93: 0x201C, 0x94: 0x201D, 0x95: 0x2022,
          0x96: 0x2013, 0x97: 0x2014, 0x98: 0x02DC, 0x99: 0x2122, 0x9A: 0x0161, 0x9B: 0x203A,
          0x9C: 0x0153, 0x9E: 0x017E, 0x9F: 0x0178}

def ansi(b):
    return ''.join(chr(CP1252.get(c, c)) for c in b)

def decode(raw):
    if raw[:2] == b'\xff\xfe':
        return raw[2:].decode('utf-16-le')
    if raw[:3] == b'\xef\xbb\xbf':
        return raw[3:].decode('utf-8')
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return ansi(raw)

def logical_lines(text):
    out, cur = [], None
    for line in text.replace('\r\n', '\n').replace('\r', '\n').split('\n'):
        if cur is not None:
            line = cur + line.lstrip(' \t')
            cur = None
        s = line.rstrip(' \t')
        if s.endswith('\\') and not s.lstrip().startswith('[') and '=hex' in s:
            cur = s[:-1]
            continue
        out.append(s)
    return out

def unquote(s, i):
    assert s[i] == '"', s
    i += 1
    r = []
    while s[i] != '"':
        if s[i] == '\\':
            i += 1
        r.append(s[i])
        i += 1
    return ''.join(r), i + 1

def parse(path):
    text = decode(open(path, 'rb').read())
    lines = logical_lines(text)
    head = [l for l in lines if l.strip()][0].lstrip('\ufeff').strip()
    r4 = head == 'REGEDIT4'
    key = None
    for l in lines:
        s = l.strip().lstrip('\ufeff')
        if not s or s.startswith(';') or s == head:
            continue
        if s.startswith('[-'):
            key = None
            yield ('delkey', s[2:s.rindex(']')], None, None, None, None)
        elif s.startswith('['):
            key = s[1:s.rindex(']')]
            yield ('key', key, None, None, None, None)
        else:
            if s.startswith('@'):
                name, i = '', 1
            else:
                name, i = unquote(s, 0)
            assert s[i] == '=', s
            d = s[i + 1:]
            if d == '-':
                yield ('delval', key, name, None, None, d)
            elif d.startswith('"'):
                v, _ = unquote(d, 0)
                yield ('val', key, name, 1, (v + '\0').encode('utf-16-le', 'surrogatepass'), d)
            elif d.startswith('dword:'):
                yield ('val', key, name, 4, int(d[6:], 16).to_bytes(4, 'little'), d)
            else:
                t, rest = d.split(':', 1)
                t = 3 if t == 'hex' else int(t[4:-1], 16)
                b = bytes(int(x, 16) for x in rest.split(',') if x.strip())
                if r4 and t in (1, 2, 7):
                    b = ansi(b).encode('utf-16-le')
                yield ('val', key, name, t, b, d)

def relkey(k):
    parts = k.split('\\')
    root = parts[0].upper()
    if root in ('HKEY_LOCAL_MACHINE', 'HKLM', 'HKEY_USERS', 'HKU'):
        parts = parts[2:]
    elif root in ('HKEY_CURRENT_USER', 'HKCU'):
        parts = parts[1:]
    elif root in ('HKEY_CLASSES_ROOT', 'HKCR'):
        parts = ['Classes'] + parts[1:]
    if parts and parts[0].lower() == 'currentcontrolset':
        parts[0] = 'ControlSet001'
    return '\\'.join(parts).lower()

def norm(paths):
    vals = {}
    for p in paths:
        for kind, key, name, t, b, _ in parse(p):
            if kind == 'delkey':
                k = relkey(key)
                for kk in [x for x in vals if x[0] == k or x[0].startswith(k + '\\')]:
                    del vals[kk]
            elif kind == 'delval':
                vals.pop((relkey(key), name.lower()), None)
            elif kind == 'val':
                vals[(relkey(key), name.lower())] = (t, b)
    for (k, n), (t, b) in sorted(vals.items()):
        sys.stdout.buffer.write(('%s\t%s\t%d\t%s\n' % (k, n, t, b.hex())).encode('utf-8', 'surrogatepass'))

def raw(path, key, name):
    found = None
    for kind, k, n, t, b, d in parse(path):
        if kind == 'val' and k.lower() == key.lower() and n.lower() == name.lower():
            found = d
    if found is None:
        sys.exit('%s: no value %s\\%s' % (path, key, name))
    print(found)

if sys.argv[1] == 'norm':
    norm(sys.argv[2:])
else:
    raw(*sys.argv[2:5])
PYEOF
# The interpreter itself, not a version-manager shim that costs half a second per call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
regvals() { "$PYTHON" "$TRASH/regvals.py" "$@"; }

# reglookup's view (a third parser): values only, and key paths without their timestamps.
dump_values() { reglookup -H "$1" 2>/dev/null | grep -v ",KEY," | sort; }
dump_keys() { reglookup -H -t KEY "$1" 2>/dev/null | cut -d, -f1 | sort; }

# A SYSTEM hive needs Select\Current and its control set before .reg files naming
# CurrentControlSet can go in: what `hive new --kind SYSTEM` writes, as Windows' own empty
# SYSTEM hive has it (importing it changes nothing; the expected values include it).
cat >base-system.reg <<'EOF'
Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\SYSTEM\Select]
"Current"=dword:00000001
"Default"=dword:00000001
"Failed"=dword:00000000
"LastKnownGood"=dword:00000001

[HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001]
EOF

# new_hive FILE KIND: an empty hive of that kind (SYSTEM with the base above).
new_hive() {
	gpotool hive new "$1" --kind "$2" >/dev/null &&
	if [ "$2" = SYSTEM ]; then gpotool hive import "$1" base-system.reg >/dev/null; fi
}

# `hive new --kind NTUSER` writes a hive that gpotool does not detect as NTUSER (see the
# test 'an HKCU .reg imports into a hive new --kind NTUSER hive without --kind' below), so
# the NTUSER round trips name the kind on every command; the round trip is what they test.
kind_opts() { if [ "$1" = NTUSER ]; then echo "--kind NTUSER"; fi; }

# roundtrip NAME KIND SRC: SRC into an empty NAME.hive, exported (UTF-16LE, as regedit) to
# NAME.export.reg, that into NAME.copy; both hives hold the same keys and values, exactly
# the values of SRC; exporting the copy gives the same bytes; re-importing changes nothing.
roundtrip() {
	local name=$1 kind=$2 src=$3 base="" ko
	ko=$(kind_opts "$kind")
	[ "$kind" = SYSTEM ] && base=base-system.reg
	new_hive "$name.hive" "$kind" &&
	gpotool hive import $ko "$name.hive" "$src" >"$name.import.out" &&
	grep -q "^verified: libregf reads back" "$name.import.out" &&
	gpotool hive export $ko "$name.hive" --output "$name.export.reg" >"$name.export.out" &&
	grep -q "^exported" "$name.export.out" &&
	head -c 2 "$name.export.reg" | od -An -tx1 | grep -q "ff fe" &&
	gpotool hive new "$name.copy" --kind "$kind" >/dev/null &&
	gpotool hive import $ko "$name.copy" "$name.export.reg" >/dev/null &&
	dump_values "$name.hive" >"$name.values" &&
	dump_values "$name.copy" >"$name.copy.values" &&
	test -s "$name.values" &&
	test_cmp "$name.values" "$name.copy.values" &&
	dump_keys "$name.hive" >"$name.keys" &&
	dump_keys "$name.copy" >"$name.copy.keys" &&
	test_cmp "$name.keys" "$name.copy.keys" &&
	regvals norm $base "$src" >"$name.expect" &&
	regvals norm "$name.export.reg" >"$name.actual" &&
	test -s "$name.expect" &&
	test_cmp "$name.expect" "$name.actual" &&
	gpotool hive export $ko "$name.copy" --output "$name.copy.reg" >/dev/null &&
	cmp "$name.export.reg" "$name.copy.reg" &&
	cp "$name.hive" "$name.before" &&
	gpotool hive import $ko "$name.hive" "$name.export.reg" >"$name.again.out" &&
	grep -q "^no change" "$name.again.out" &&
	cmp "$name.hive" "$name.before"
}

# get_is HIVE KEY NAME EXPECTED [OPTS]: hive get prints exactly EXPECTED
get_is() {
	gpotool hive get ${5-} "$1" "$2" "$3" >get.out &&
	echo "$4" >get.expect &&
	test_cmp get.expect get.out
}

# get_as_source HIVE GETKEY SRC SRCKEY NAME [OPTS]: hive get prints the value exactly as
# the source file writes it (continuation lines joined)
get_as_source() {
	regvals raw "$3" "$4" "$5" >src.expect &&
	gpotool hive get ${6-} "$1" "$2" "$5" >get.out &&
	test_cmp src.expect get.out
}

# refused_import CODE PATTERN HIVE REGFILE [OPTS]: import exits CODE, one stderr line with
# PATTERN, nothing on stdout, the hive byte-for-byte unchanged and no journal entry
refused_import() {
	local n1 n2
	cp "$3" "$3.before" &&
	n1=$(ls state/journal 2>/dev/null | wc -l) &&
	test_must_fail $1 gpotool hive import ${5-} "$3" "$4" >out 2>err &&
	test_one_line err "$2" &&
	! test -s out &&
	cmp "$3" "$3.before" &&
	n2=$(ls state/journal 2>/dev/null | wc -l) &&
	test "$n1" = "$n2"
}

# ---- corpus .reg files ----

R=reg
if have_corpus; then

test_expect_success 'esysc_startupGpo (UTF-16LE, hex(b) QWORDs) round-trips through a SOFTWARE hive' '
	roundtrip gpo SOFTWARE "$CORPUS/$R/esysc_startupGpo.reg"
'

test_expect_success 'esysc_startupGpo: spot checks with hive get and reglookup' '
	K="HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\Scripts\\Startup\\0" &&
	get_is gpo.hive "$K\\0" ExecTime "hex(b):00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00" &&
	get_is gpo.hive "$K" PSScriptOrder "dword:00000001" &&
	get_is gpo.hive "$K" FileSysPath "\"C:\\\\Windows\\\\System32\\\\GroupPolicy\\\\Machine\"" &&
	get_is gpo.hive "HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\Scripts\\Startup\\0\\1" Script "\"C:\\\\bginfo\\\\bginfo.bat\"" &&
	get_is gpo.hive "$K\\1" Parameters "\"\"" &&
	P="/Microsoft/Windows/CurrentVersion/Group Policy/Scripts/Startup/0" &&
	reglookup -H -p "$P" gpo.hive >rl &&
	grep -qx "$P/PSScriptOrder,DWORD,0x00000001," rl &&
	grep -qF "$P/FileSysPath,SZ,C:\\Windows\\System32\\GroupPolicy\\Machine," rl &&
	grep -qx "$P/0/ExecTime,QWORD,0x0000000000000000," rl &&
	grep -qx "$P/1/IsPowershell,DWORD,0x00000000," rl
'

test_expect_success 'esysc_startmenu (UTF-16LE, hex(2)) round-trips through a SOFTWARE hive' '
	roundtrip startmenu SOFTWARE "$CORPUS/$R/esysc_startmenu.reg" &&
	get_as_source startmenu.hive "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\Explorer" \
		"$CORPUS/$R/esysc_startmenu.reg" "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\Explorer" StartLayoutFile &&
	grep -q "^hex(2):43,00,3a,00,5c,00,55,00" get.out &&
	get_is startmenu.hive "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\Explorer" LockedStartLayout "dword:00000001" &&
	reglookup -H -p /Policies/Microsoft/Windows/Explorer startmenu.hive >rl &&
	grep -qF "/Policies/Microsoft/Windows/Explorer/StartLayoutFile,EXPAND_SZ,C:\\Users\\Default\\AppData\\Local\\Microsoft\\Windows\\Shell\\LayoutModification.xml," rl
'

test_expect_success 'detectionlab_TaskManager (ANSI, 3800-byte hex over 100 continuation lines) round-trips through an NTUSER hive' '
	roundtrip taskmgr NTUSER "$CORPUS/$R/detectionlab_TaskManager.reg" &&
	get_as_source taskmgr.hive "HKCU\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\TaskManager" \
		"$CORPUS/$R/detectionlab_TaskManager.reg" "HKEY_CURRENT_USER\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\TaskManager" Preferences --kind=NTUSER &&
	test $(($(wc -c <get.out) - 5)) -eq $((3800 * 3 - 1)) &&
	grep -q "^hex:0c,00,00,00,60,00,00,00,60,00" get.out &&
	reglookup -H -p /SOFTWARE/Microsoft/Windows/CurrentVersion/TaskManager/Preferences taskmgr.hive >rl &&
	grep -q "^/SOFTWARE/Microsoft/Windows/CurrentVersion/TaskManager/Preferences,BINARY,%0C%00%00%00\`%00" rl
'

test_expect_success 'vadmium_putty (REGEDIT4, CRLF) round-trips through an NTUSER hive' '
	roundtrip putty NTUSER "$CORPUS/$R/vadmium_putty_REGEDIT4.reg" &&
	K="HKCU\\Software\\SimonTatham\\PuTTY\\Sessions\\Default%20Settings" &&
	get_is putty.hive "$K" FontHeight "dword:00000008" --kind=NTUSER &&
	get_is putty.hive "$K" ScrollbackLines "dword:00001388" --kind=NTUSER &&
	get_is putty.hive "$K" TerminalType "\"linux\"" --kind=NTUSER &&
	get_is putty.hive "$K" Font "\"DejaVu Sans Mono\"" --kind=NTUSER &&
	reglookup -H -p "/Software/SimonTatham/PuTTY/Sessions/Default%20Settings" putty.hive >rl &&
	grep -qx "/Software/SimonTatham/PuTTY/Sessions/Default%2520Settings/LineCodePage,SZ,UTF-8," rl &&
	grep -qx "/Software/SimonTatham/PuTTY/Sessions/Default%2520Settings/ScrollbackLines,DWORD,0x00001388," rl &&
	test $(grep -vc ",KEY," rl) -eq $(wc -l <putty.expect) &&
	test $(wc -l <putty.expect) -eq 15
'

test_expect_success 'pakinwu_processor_power (xz, UTF-16LE, 578 KB, 967 values under CurrentControlSet) round-trips through a SYSTEM hive' '
	unpack "$R/pakinwu_processor_power.reg.xz" power.reg &&
	head -c 2 power.reg | od -An -tx1 | grep -q "ff fe" &&
	roundtrip power SYSTEM power.reg &&
	test $(wc -l <power.values) -eq 971 && # 967, and the 4 of Select
	PS="PowerSettings\\54533251-82be-4824-96c1-47b60b740d00" &&
	get_as_source power.hive "HKLM\\SYSTEM\\ControlSet001\\Control\\Power\\$PS" power.reg \
		"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Power\\$PS" FriendlyName &&
	get_is power.hive "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Power\\$PS\\fddc842b-8364-4edc-94cf-c17f60de1c80\\DefaultPowerSchemeValues\\a1841308-3541-4fab-bc81-f71556f20b4a" \
		DcSettingIndex "dword:00000064" &&
	get_is power.hive "HKLM\\SYSTEM\\ControlSet001\\Control\\Power\\$PS\\06cadf0e-64ed-448a-8927-ce7bf90eb35d" ValueMax "dword:00000064" &&
	reglookup -H -p "/ControlSet001/Control/Power/PowerSettings/54533251-82be-4824-96c1-47b60b740d00/FriendlyName" power.hive >rl &&
	grep -qx "/ControlSet001/Control/Power/PowerSettings/54533251-82be-4824-96c1-47b60b740d00/FriendlyName,EXPAND_SZ,@%25SystemRoot%25\\\\system32\\\\powrprof.dll%2C-351%2CProcessor power settings," rl &&
	! reglookup -H -p /CurrentControlSet power.hive 2>/dev/null | grep -q .
'

# Files that mix hives: kristiandupont_settings (HKCU and HKLM\SYSTEM) and bean6754_ncsi
# (HKLM\SOFTWARE and HKLM\SYSTEM, and -[KEY] lines that regedit would skip silently).
test_expect_success 'kristiandupont_settings mixes HKCU and HKLM\SYSTEM: refused into either hive, unchanged' '
	gpotool hive new kd-user.hive --kind NTUSER >/dev/null &&
	new_hive kd-sys.hive SYSTEM &&
	iconv -f UTF-16LE -t UTF-8 "$CORPUS/$R/kristiandupont_settings.reg" | tr -d "\r" >kd.txt &&
	sys_line=$(grep -n "^\[HKEY_LOCAL_MACHINE" kd.txt | cut -d: -f1) &&
	user_line=$(grep -n "^\[HKEY_CURRENT_USER" kd.txt | head -n 1 | cut -d: -f1) &&
	refused_import 2 "line $sys_line: .*is in the SYSTEM hive" kd-user.hive "$CORPUS/$R/kristiandupont_settings.reg" --kind=NTUSER &&
	grep -q "kristiandupont_settings.reg" err &&
	refused_import 2 "line $user_line: .*is in the NTUSER hive" kd-sys.hive "$CORPUS/$R/kristiandupont_settings.reg"
'

test_expect_success 'kristiandupont_settings: its HKCU part round-trips; the commented-out key stays out' '
	iconv -f UTF-16LE -t UTF-8 "$CORPUS/$R/kristiandupont_settings.reg" | tr -d "\r" >kd.txt &&
	awk "/^\\[/ { keep = (\$0 ~ /^\\[HKEY_CURRENT_USER/) } NR == 1 || keep" kd.txt >kd-user.reg &&
	test $(grep -c "^\[" kd-user.reg) -eq 3 &&
	roundtrip kduser NTUSER kd-user.reg &&
	get_is kduser.hive "HKCU\\Software\\Apple Inc.\\Trackpad" Mode "dword:00000048" --kind=NTUSER &&
	get_is kduser.hive "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced" HideFileExt "dword:00000000" --kind=NTUSER &&
	get_is kduser.hive "HKCU\\Software\\Microsoft\\CTF\\LangBar" ShowStatus "dword:00000003" --kind=NTUSER &&
	test_must_fail 1 gpotool hive get --kind NTUSER kduser.hive "HKCU\\Software\\Microsoft\\Windows\\DWM" 2>err &&
	reglookup -H kduser.hive >rl &&
	grep -qx "/Software/Apple Inc./Trackpad/Mode,DWORD,0x00000048," rl &&
	! grep -q "DWM" rl
'

test_expect_success 'bean6754_ncsi (-[KEY] lines, SOFTWARE and SYSTEM mixed): refused at line 4 into any hive, unchanged' '
	grep -v "^-\[" "$CORPUS/$R/bean6754_ncsi.reg" >bean-nodash.reg &&
	test $(($(wc -l <"$CORPUS/$R/bean6754_ncsi.reg") - $(wc -l <bean-nodash.reg))) -eq 2 &&
	new_hive bean-sw.hive SOFTWARE &&
	new_hive bean-sys.hive SYSTEM &&
	refused_import 3 "bean6754_ncsi.reg.* line 4: .*\[-KEY\]" bean-sw.hive "$CORPUS/$R/bean6754_ncsi.reg" &&
	refused_import 3 "bean6754_ncsi.reg.* line 4: .*\[-KEY\]" bean-sys.hive "$CORPUS/$R/bean6754_ncsi.reg" &&
	first_sys=$(grep -n "^\[HKEY_LOCAL_MACHINE\\\\SYSTEM" bean-nodash.reg | head -n 1 | cut -d: -f1) &&
	refused_import 2 "line $first_sys: .*is in the SYSTEM hive" bean-sw.hive bean-nodash.reg &&
	first_sw=$(grep -n "^\[HKEY_LOCAL_MACHINE\\\\SOFTWARE" bean-nodash.reg | head -n 1 | cut -d: -f1) &&
	refused_import 2 "line $first_sw: .*is in the SOFTWARE hive" bean-sys.hive bean-nodash.reg
'

test_expect_success 'bean6754_ncsi: its SYSTEM part (ANSI, hex(2), hex(7), long hex) round-trips' '
	grep -v "^-\[" "$CORPUS/$R/bean6754_ncsi.reg" >bean-nodash.reg &&
	awk "/^\\[/ { keep = (\$0 ~ /^\\[HKEY_LOCAL_MACHINE\\\\SYSTEM/) } NR == 1 || keep" bean-nodash.reg >bean-sys.reg &&
	test $(grep -c "^\[" bean-sys.reg) -eq 7 &&
	roundtrip beansys SYSTEM bean-sys.reg &&
	SRC="HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\NlaSvc" &&
	K="HKLM\\SYSTEM\\ControlSet001\\Services\\NlaSvc" &&
	get_as_source beansys.hive "$K" bean-sys.reg "$SRC" DependOnService &&
	get_as_source beansys.hive "$K" bean-sys.reg "$SRC" ImagePath &&
	get_as_source beansys.hive "$K\\Parameters" bean-sys.reg "$SRC\\Parameters" ServiceDll &&
	get_as_source beansys.hive "$K\\Security" bean-sys.reg "$SRC\\Security" Security &&
	get_is beansys.hive "$K" ObjectName "\"NT AUTHORITY\\\\NetworkService\"" &&
	get_is beansys.hive "$K\\Parameters\\Internet\\ManualProxies" "" "\"\"" &&
	get_is beansys.hive "$K\\Parameters\\Internet" ActiveDnsProbeContentV6 "\"2001:4860:4860::8844\"" &&
	reglookup -H -p /ControlSet001/Services/NlaSvc beansys.hive >rl &&
	grep -qx "/ControlSet001/Services/NlaSvc/DependOnService,MULTI_SZ,NSI|RpcSs|TcpIp|Dhcp|Eventlog," rl &&
	grep -qx "/ControlSet001/Services/NlaSvc/ImagePath,EXPAND_SZ,%25SystemRoot%25\\\\System32\\\\svchost.exe -k NetworkService -p," rl &&
	grep -qx "/ControlSet001/Services/NlaSvc/RequiredPrivileges,MULTI_SZ,SeCreateGlobalPrivilege|SeImpersonatePrivilege|SeAuditPrivilege," rl &&
	grep -qx "/ControlSet001/Services/NlaSvc/Parameters/Internet/CaptivePortalTimerMaxInSeconds,DWORD,0x0000001E," rl
'

test_expect_success 'bean6754_ncsi: its SOFTWARE part round-trips' '
	grep -v "^-\[" "$CORPUS/$R/bean6754_ncsi.reg" >bean-nodash.reg &&
	awk "/^\\[/ { keep = (\$0 ~ /^\\[HKEY_LOCAL_MACHINE\\\\SOFTWARE/) } NR == 1 || keep" bean-nodash.reg >bean-sw.reg &&
	roundtrip beansw SOFTWARE bean-sw.reg &&
	K="HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\NetworkConnectivityStatusIndicator" &&
	get_is beansw.hive "$K" UseGlobalDns "dword:00000001" &&
	get_is beansw.hive "$K" NoActiveProbe "dword:00000000" &&
	get_is beansw.hive "$K" "" "\"\"" &&
	reglookup -H -p /Policies/Microsoft/Windows/NetworkConnectivityStatusIndicator beansw.hive >rl &&
	test $(grep -vc ",KEY," rl) -eq 3
'

else
	for t in esysc_startupGpo esysc_startmenu detectionlab_TaskManager vadmium_putty_REGEDIT4 \
		pakinwu_processor_power kristiandupont_settings bean6754_ncsi; do
		test_skip "corpus .reg round trip: $t" "no corpus at $CORPUS"
	done
fi

# ---- the project's own sample sources ----

test_expect_success 'the sample sources in hives/*/*.reg import cleanly and round-trip' '
	n=0 &&
	for f in "$PROJECT_DIR"/hives/*/*.reg; do
		host=$(basename "$(dirname "$f")") && kind=$(basename "$f" .reg) &&
		gpotool hive new "sample-$host-$kind.hive" --kind "$kind" >/dev/null &&
		gpotool hive import "sample-$host-$kind.hive" "$f" >out &&
		grep -q "^verified: libregf" out &&
		gpotool hive export "sample-$host-$kind.hive" --output "sample-$host-$kind.reg" >/dev/null &&
		regvals norm "$f" >expect && regvals norm "sample-$host-$kind.reg" >actual &&
		test -s expect && test_cmp expect actual &&
		gpotool hive info "sample-$host-$kind.hive" >info &&
		grep -q "^kind  *$kind (detected from content)" info || exit 1
		n=$((n + 1))
	done &&
	test $n -ge 4
'

# ---- hand-written files ----

test_expect_success 'REGEDIT4 string types (hex(2), hex(7), hex(1)) are stored as UTF-16LE; hex: is not' '
	printf "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\R4]\r\n" >r4.reg &&
	printf "\"Path\"=hex(2):25,53,79,73,74,65,6d,52,6f,6f,74,25,00\r\n" >>r4.reg &&
	printf "\"Euro\"=hex(2):80,25,00\r\n" >>r4.reg &&
	printf "\"Multi\"=hex(7):61,00,62,63,00,00\r\n" >>r4.reg &&
	printf "\"Sz\"=hex(1):41,42,00\r\n" >>r4.reg &&
	printf "\"Bin\"=hex:61,00,62,00\r\n" >>r4.reg &&
	printf "\"D\"=dword:0000002a\r\n" >>r4.reg &&
	gpotool hive new r4.hive --kind SOFTWARE >/dev/null &&
	gpotool hive import r4.hive r4.reg >/dev/null &&
	K="HKLM\\SOFTWARE\\R4" &&
	get_is r4.hive "$K" Path "hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,00,00,00" &&
	get_is r4.hive "$K" Euro "hex(2):ac,20,25,00,00,00" &&
	get_is r4.hive "$K" Multi "hex(7):61,00,00,00,62,00,63,00,00,00,00,00" &&
	get_is r4.hive "$K" Sz "\"AB\"" &&
	get_is r4.hive "$K" Bin "hex:61,00,62,00" &&
	get_is r4.hive "$K" D "dword:0000002a" &&
	reglookup -H -p /R4 r4.hive >rl 2>/dev/null &&
	grep -qx "/R4/Path,EXPAND_SZ,%25SystemRoot%25," rl &&
	grep -qx "/R4/Multi,MULTI_SZ,a|bc," rl &&
	grep -qx "/R4/Sz,SZ,AB," rl &&
	test "$(hivexget r4.hive "\\R4" Euro)" = "€%"
'

test_expect_success 'an ANSI (Windows-1252) 5.00 file: strings become the right UTF-16' '
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Ansi]\r\n\"caf\\xe9\"=\"\\x80 \\xe9t\\xe9\"\r\n" >ansi.reg &&
	gpotool hive new ansi.hive --kind SOFTWARE >/dev/null &&
	gpotool hive import ansi.hive ansi.reg >/dev/null &&
	get_is ansi.hive "HKLM\\SOFTWARE\\Ansi" "café" "\"€ été\"" &&
	test "$(hivexget ansi.hive "\\Ansi" "café")" = "€ été"
'

# Hard cases, written here as UTF-8 with LF line ends.
cat >hard.reg <<'EOF'
Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\SOFTWARE\Hard\Café 日本]
@="default é€"
"quote\"d \\ name"="a \"b\" \\ c"
"empty"=""
"none"=hex(0):
"none2"=hex(0):01,02,03,04,05
"custom"=hex(12345678):aa,bb,cc,dd,ee
"be"=hex(5):00,00,00,01
"multi"=hex(7):61,00,00,00,62,00,00,00,00,00
"nl"=hex(1):61,00,0d,00,0a,00,62,00,00,00
"q"=hex(b):ff,ff,ff,ff,ff,ff,ff,7f
"emoji"="😀"

[HKEY_LOCAL_MACHINE\SOFTWARE\Hard\brack]et]]
"v"=dword:0000000A

[HKEY_LOCAL_MACHINE\SOFTWARE\Hard\Empty]

[HKEY_LOCAL_MACHINE\SOFTWARE\Hard\Big]
EOF
python3 -c 'print("\"big\"=hex:" + ",".join("%02x" % (i % 256) for i in range(20000)))' >>hard.reg

test_expect_success 'hard cases round-trip: Unicode names, escapes, default value, hex(0), hex(N), 20 KB value, CR/LF in a REG_SZ, "]" in a key' '
	roundtrip hard SOFTWARE hard.reg &&
	K="HKLM\\SOFTWARE\\Hard\\Café 日本" &&
	get_is hard.hive "$K" "" "\"default é€\"" &&
	get_is hard.hive "$K" "quote\"d \\ name" "\"a \\\"b\\\" \\\\ c\"" &&
	get_is hard.hive "$K" empty "\"\"" &&
	get_is hard.hive "$K" none "hex(0):" &&
	get_is hard.hive "$K" custom "hex(12345678):aa,bb,cc,dd,ee" &&
	get_is hard.hive "$K" q "hex(b):ff,ff,ff,ff,ff,ff,ff,7f" &&
	get_is hard.hive "$K" emoji "\"😀\"" &&
	get_is hard.hive "HKLM\\SOFTWARE\\Hard\\brack]et]" v "dword:0000000a" &&
	gpotool hive get hard.hive "HKLM\\SOFTWARE\\Hard\\Big" big >get.out &&
	test $(($(wc -c <get.out) - 5)) -eq $((20000 * 3 - 1)) &&
	regvals raw hard.reg "HKEY_LOCAL_MACHINE\\SOFTWARE\\Hard\\Big" big >expect && test_cmp expect get.out &&
	reglookup -H -p /Hard/Empty hard.hive >rl && grep -q "^/Hard/Empty,KEY," rl &&
	reglookup -H -p "/Hard/brack]et]/v" hard.hive >rl && grep -qx "/Hard/brack]et]/v,DWORD,0x0000000A," rl &&
	reglookup -H -p /Hard hard.hive 2>/dev/null | grep -q "/q,QWORD,0x7FFFFFFFFFFFFFFF,$"
'

test_expect_success 'hive get prints a REG_SZ holding CR/LF in .reg notation (hex(1), one line), as export does' '
	iconv -f UTF-16LE -t UTF-8 hard.export.reg | tr -d "\r" | grep -q "^\"nl\"=hex(1):61,00,0d,00,0a,00,62,00,00,00" &&
	get_is hard.hive "HKLM\\SOFTWARE\\Hard\\Café 日本" nl "hex(1):61,00,0d,00,0a,00,62,00,00,00"
'

test_expect_success 'export --utf8 writes UTF-8 without a BOM that imports to the same values' '
	gpotool hive export hard.hive --utf8 --output hard8.reg >/dev/null &&
	head -n 1 hard8.reg | tr -d "\r" >first && echo "Windows Registry Editor Version 5.00" >expect && test_cmp expect first &&
	iconv -f UTF-8 -t UTF-8 hard8.reg >/dev/null &&
	grep -q "^\[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Hard\\\\Café 日本\]" hard8.reg &&
	regvals norm hard8.reg >a && regvals norm hard.export.reg >b && test_cmp a b &&
	gpotool hive new hard8.hive --kind SOFTWARE >/dev/null &&
	gpotool hive import hard8.hive hard8.reg >/dev/null &&
	dump_values hard8.hive >v && test_cmp hard.values v
'

test_expect_success 'export of one key holds that subtree and nothing else' '
	gpotool hive export --utf8 hard.hive "HKLM\\SOFTWARE\\Hard\\brack]et]" --output sub.reg >/dev/null &&
	tr -d "\r" <sub.reg | grep "^\[" >keys &&
	echo "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Hard\\brack]et]]" >expect && test_cmp expect keys &&
	regvals norm sub.reg >vals && test $(wc -l <vals) -eq 1 &&
	grep -q "^hard\\\\brack\]et\]	v	4	0a000000$" vals
'

test_expect_success '[-KEY] and "name"=- delete exactly the key subtree and the value' '
	cat >del-setup.reg <<-\EOF &&
	Windows Registry Editor Version 5.00

	[HKEY_LOCAL_MACHINE\SOFTWARE\T\Keep]
	"a"=dword:00000001
	"b"="two"
	"c"=hex:01,02,03,04

	[HKEY_LOCAL_MACHINE\SOFTWARE\T\Gone]
	"x"=dword:00000005

	[HKEY_LOCAL_MACHINE\SOFTWARE\T\Gone\Child]
	"y"="deep"

	[HKEY_LOCAL_MACHINE\SOFTWARE\T\Gone2]
	"z"=dword:00000007
	EOF
	cat >del.reg <<-\EOF &&
	Windows Registry Editor Version 5.00

	[-HKEY_LOCAL_MACHINE\SOFTWARE\T\Gone]

	[HKEY_LOCAL_MACHINE\SOFTWARE\T\Keep]
	"b"=-
	EOF
	gpotool hive new del.hive --kind SOFTWARE >/dev/null &&
	gpotool hive import del.hive del-setup.reg >/dev/null &&
	reglookup -H del.hive | cut -d, -f1-3 | sort >before &&
	gpotool hive import del.hive del.reg >out &&
	grep -q "^delete key   HKLM\\\\SOFTWARE\\\\T\\\\Gone$" out &&
	grep -q "^delete value HKLM\\\\SOFTWARE\\\\T\\\\Keep\\\\b: REG_SZ \"two\" -> (absent)" out &&
	reglookup -H del.hive | cut -d, -f1-3 | sort >after &&
	comm -23 before after >removed &&
	cat >expect <<-\EOF &&
	/T/Gone,KEY,
	/T/Gone/Child,KEY,
	/T/Gone/Child/y,SZ,deep
	/T/Gone/x,DWORD,0x00000005
	/T/Keep/b,SZ,two
	EOF
	test_cmp expect removed &&
	comm -13 before after >added && ! test -s added &&
	test_must_fail 1 gpotool hive get del.hive "HKLM\\SOFTWARE\\T\\Gone" 2>err &&
	get_is del.hive "HKLM\\SOFTWARE\\T\\Gone2" z "dword:00000007"
'

test_expect_success 'deleting what is not there is no change; the same file again changes nothing' '
	cp del.hive before.hive &&
	gpotool hive import del.hive del.reg >out &&
	grep -q "^no change" out &&
	cmp del.hive before.hive
'

test_expect_success 'a bad line 5 is refused (exit 3): one line naming the file and line 5, hive unchanged' '
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\T\\\\New]\r\n\"ok\"=dword:00000001\r\n\"x\"=dword:123456789\r\n\"after\"=dword:00000002\r\n" >bad5.reg &&
	refused_import 3 "bad5.reg.* line 5: " del.hive bad5.reg &&
	grep -q "dword" err &&
	test_must_fail 1 gpotool hive get del.hive "HKLM\\SOFTWARE\\T\\New" 2>/dev/null
'

test_expect_success 'the same bad line 5 in a UTF-16LE file is reported at line 5 too' '
	{ printf "\377\376" && tr -d "\r" <bad5.reg | sed "s/\$/\r/" | iconv -f UTF-8 -t UTF-16LE; } >bad5-16.reg &&
	head -c 2 bad5-16.reg | od -An -tx1 | grep -q "ff fe" &&
	refused_import 3 "bad5-16.reg.* line 5: " del.hive bad5-16.reg
'

test_expect_success 'HKLM\SOFTWARE keys into a SYSTEM hive: exit 2, unchanged, even after valid SYSTEM lines' '
	new_hive wrong.hive SYSTEM &&
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\ControlSet001\\\\Services\\\\Fine]\r\n\"ok\"=dword:00000001\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Foo]\r\n\"y\"=dword:00000001\r\n" >other-hive.reg &&
	refused_import 2 "other-hive.reg.* line 6: .*SOFTWARE" wrong.hive other-hive.reg &&
	test_must_fail 1 gpotool hive get wrong.hive "HKLM\\SYSTEM\\ControlSet001\\Services\\Fine" 2>/dev/null
'

test_expect_success 'a .reg without its header is refused (exit 3), unchanged' '
	printf "[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\T\\\\New]\r\n\"ok\"=dword:00000001\r\n" >nohdr.reg &&
	refused_import 3 "nohdr.reg.* line 1: .*header" del.hive nohdr.reg
'

test_expect_success 'a binary file is refused (exit 3), unchanged' '
	head -c 4096 "$GPOTOOL" >binary.reg &&
	refused_import 3 "binary.reg" del.hive binary.reg &&
	cp del.hive binary.hive.reg &&
	refused_import 3 "binary.hive.reg" del.hive binary.hive.reg
'

test_expect_success 'an empty file is refused (exit 3), unchanged' '
	: >empty.reg &&
	refused_import 3 "empty.reg.*header" del.hive empty.reg
'

test_expect_success 'REG_BINARY values of 1 to 3 bytes import and read back' '
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Small]\r\n\"one\"=hex:61\r\n\"two\"=hex:61,62\r\n\"three\"=hex:61,62,63\r\n" >small.reg &&
	gpotool hive new small.hive --kind SOFTWARE >/dev/null &&
	gpotool hive import small.hive small.reg >out &&
	get_is small.hive "HKLM\\SOFTWARE\\Small" one "hex:61" &&
	get_is small.hive "HKLM\\SOFTWARE\\Small" two "hex:61,62" &&
	get_is small.hive "HKLM\\SOFTWARE\\Small" three "hex:61,62,63" &&
	reglookup -H -p /Small/two small.hive >rl && grep -qx "/Small/two,BINARY,ab," rl
'

test_expect_success 'an HKCU .reg imports into a "hive new --kind NTUSER" hive without --kind' '
	printf "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\\\Software\\\\X]\r\n\"v\"=dword:00000003\r\n" >user.reg &&
	gpotool hive new user.hive --kind NTUSER >/dev/null &&
	gpotool hive import user.hive user.reg >out &&
	reglookup -H -p /Software/X/v user.hive >rl &&
	grep -qx "/Software/X/v,DWORD,0x00000003," rl
'

test_expect_success 'no temp file is left beside the hives' '
	! ls -a | grep -q "gpotool-"
'

test_done
