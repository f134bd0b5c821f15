#!/bin/bash
# gpo show / set on every real Registry.xml of the corpus (gpp/*.xml and the ones inside the
# GPMC backups), each placed in a GPO folder in the trash directory: every item is listed,
# a new item is one inserted run of bytes (everything else kept, every old item identical),
# the new item looks like a GPMC-written one, and an update rewrites exactly one item.
# Then gpo set straight on copies of the GPMC backup folders, and the Registry Wizard file
# (osdeploy_win10, type="" key-only items). The corpus itself is never written.
. "$(dirname "$0")/test-lib.sh"

if ! have_corpus; then
	test_skip 'corpus Registry.xml files' "no corpus at $CORPUS"
	test_done
	exit
fi

PYTHON=python3
# a pyenv shim costs half a second per start; the system interpreter, when there is one, does not
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; python3() { /usr/bin/python3 "$@"; }; fi

RNG=$PROJECT_DIR/templates/gpp-registry.rng
BACKUPS=$CORPUS/gpt/gpmc_backups
journal_count() { ls state/journal 2>/dev/null | wc -l; }
last_journal() { tail -n 1 "$1" | sed -n "s/^journal: //p"; }
gpt_version() { tr -d '\r' <"$1" | sed -n "s/^Version=//p"; }

cat >corpus.py <<'EOF'
# python3 corpus.py FUNC ARGS...: checks over a Registry.xml before (OLD) and after (NEW) an edit.
import json, sys
import xml.etree.ElementTree as ET

GPMC_ITEM = ['clsid', 'name', 'status', 'image', 'changed', 'uid']
GPMC_PROPS = ['action', 'displayDecimal', 'default', 'hive', 'key', 'name', 'type', 'value']

def items(path):
    return list(ET.parse(path).getroot().iter('Registry'))

def ser(r):
    r.tail = None
    return ET.tostring(r)

def props(r):
    p = r.find('Properties')
    return {k: p.get(k) for k in ('hive', 'key', 'name', 'type', 'value', 'default')}

def count(path):
    print(len(items(path)))

def common(a, b):
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    return p, s

def check_new(old, new, hive, key, name):
    """NEW = OLD with one inserted run holding exactly the new item; old items identical."""
    a, b = open(old, 'rb').read(), open(new, 'rb').read()
    p, _ = common(a, b)
    assert b[len(b) - (len(a) - p):] == a[p:], 'bytes outside one inserted run changed'
    run = b[p:len(b) - (len(a) - p)]
    assert run.count(b'<Registry ') == 1, 'the inserted run holds %d items' % run.count(b'<Registry ')
    before, after = items(old), items(new)
    assert len(after) == len(before) + 1, (len(before), len(after))
    added = [r for r in after if props(r)['key'] == key and props(r)['name'] == name]
    assert len(added) == 1, 'the new item is there %d times' % len(added)
    kept = [ser(r) for r in after if r is not added[0]]
    assert kept == [ser(r) for r in before], 'a pre-existing item changed'
    n = added[0]
    assert list(n.attrib) == GPMC_ITEM, 'item attributes %s' % list(n.attrib)
    assert list(n.find('Properties').attrib) == GPMC_PROPS, 'Properties attributes %s' % list(n.find('Properties').attrib)
    assert n.get('clsid') == '{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}'
    assert props(n)['hive'] == hive, props(n)

def pick(path, side):
    """The first item with a non-empty name, of type REG_DWORD or REG_SZ, on a hive this side takes."""
    for i, r in enumerate(items(path)):
        p = props(r)
        if p['type'] in ('REG_DWORD', 'REG_SZ') and p['name'] and (side == 'User' or p['hive'] != 'HKEY_CURRENT_USER'):
            if p['type'] == 'REG_DWORD':
                v = '0x%08X' % ((int(p['value'] or '0', 16) + 1) & 0xFFFFFFFF)
            else:
                v = (p['value'] or '') + ' (gpotool)'
            print(json.dumps({'index': i, 'key': p['hive'] + '\\' + p['key'], 'name': p['name'],
                              'type': p['type'], 'value': v, 'uid': r.get('uid')}))
            return
    print('{}')

def check_existing(old, new, plan):
    """NEW = OLD with item INDEX rewritten in place: same count, same uid, others identical, and
    no byte outside that item's span changed."""
    plan = json.load(open(plan))
    i = plan['index']
    a, b = open(old, 'rb').read(), open(new, 'rb').read()
    before, after = items(old), items(new)
    assert len(after) == len(before), (len(before), len(after))
    assert after[i].get('uid') == before[i].get('uid'), 'uid changed'
    pa = props(after[i])
    want = plan['value']
    if plan['type'] == 'REG_DWORD':
        want = want[2:]
    assert pa['value'] == want and pa['type'] == plan['type'], (pa, want)
    assert [ser(r) for k, r in enumerate(after) if k != i] == [ser(r) for k, r in enumerate(before) if k != i], \
        'another item changed'
    p, s = common(a, b)
    start = a.rfind(b'<Registry ', 0, p + 1)
    end = a.find(b'</Registry>', start) + len(b'</Registry>')
    assert start >= 0 and end > start and len(a) - s <= end, 'bytes outside the item changed (%d..%d vs %d..%d)' % (p, len(a) - s, start, end)
    assert a[start:end].count(b'<Registry ') == 1

globals()[sys.argv[1]](*sys.argv[2:])
EOF

# corpus_case N FILE SIDE: a GPO folder {..N} holding FILE as SIDE's Registry.xml; show, add, update.
corpus_case() {
	local n=$1 file=$2 side=$3 dir reg hive key user="" v0 step
	dir=$(printf "{00000000-0000-4000-8000-%012d}" "$n")
	reg=$dir/$side/Preferences/Registry/Registry.xml
	mkdir -p "$dir/Machine" "$dir/User" "$dir/$side/Preferences/Registry" &&
	printf "[General]\r\nVersion=65537\r\n" >"$dir/GPT.INI" &&
	cp "$file" "$reg" && chmod u+w "$reg" &&
	cmp "$file" "$reg" || return 1
	if [ "$side" = User ]; then hive=HKEY_CURRENT_USER key='HKCU\Software\GpoToolCorpusTest' user=--user step=65536
	else hive=HKEY_LOCAL_MACHINE key='HKLM\SOFTWARE\GpoToolCorpusTest' step=1
	fi
	# every item listed
	gpotool --json gpo show "$dir" >show.json &&
	test "$(json_field show.json "len(d[\"${side,,}\"][\"items\"])")" = "$(python3 corpus.py count "$reg")" &&
	test "$(json_field show.json "d[\"${side,,}\"][\"registry_xml\"] is not None")" = True || return 1
	# a new item: one inserted run, old items identical, GPMC attribute order
	cp "$reg" old.xml && v0=$(gpt_version "$dir/GPT.INI") &&
	gpotool gpo set "$dir" "$key" NewValue REG_DWORD 42 $user >out 2>err &&
	xmllint --noout --relaxng "$RNG" "$reg" 2>/dev/null &&
	python3 corpus.py check_new old.xml "$reg" "$hive" "${key#*\\}" NewValue &&
	test "$(gpt_version "$dir/GPT.INI")" = $((v0 + step)) &&
	id=$(last_journal out) && cmp old.xml "state/journal/$id/before-0.bin" || return 1
	# an existing item: rewritten in place
	cp "$reg" old.xml &&
	python3 corpus.py pick "$reg" "$side" >plan.json || return 1
	# files with no named REG_DWORD/REG_SZ item (MULTI_SZ/QWORD only, key-only items) stop here
	test "$(json_field plan.json "len(d)")" = 0 && return 0
	gpotool gpo set "$dir" "$(json_field plan.json "d[\"key\"]")" "$(json_field plan.json "d[\"name\"]")" \
		"$(json_field plan.json "d[\"type\"]")" "$(json_field plan.json "d[\"value\"]")" $user >out 2>err &&
	xmllint --noout --relaxng "$RNG" "$reg" 2>/dev/null &&
	python3 corpus.py check_existing old.xml "$reg" plan.json &&
	test "$(gpt_version "$dir/GPT.INI")" = $((v0 + 2 * step))
}

n=0 n_gpp=0 n_gpmc=0 n_backups=0
for f in "$CORPUS"/gpp/*.xml; do
	n=$((n + 1)) n_gpp=$((n_gpp + 1))
	side=Machine
	case "$(basename "$f")" in *_User_*) side=User ;; esac
	test_expect_success "gpp/$(basename "$f"): listed, a new item inserted, an item updated ($side)" "
		corpus_case $n '$f' $side
	"
done

for f in "$BACKUPS"/*/{*}/DomainSysvol/GPO/*/Preferences/Registry/Registry.xml; do
	test -f "$f" || continue
	n=$((n + 1)) n_gpmc=$((n_gpmc + 1))
	side=${f%/Preferences/Registry/Registry.xml}
	side=${side##*/}
	rel=${f#"$BACKUPS"/}
	test_expect_success "gpmc_backups/${rel%%/*}/.../$side Registry.xml: listed, inserted, updated" "
		corpus_case $n '$f' $side
	"
done

# ---- gpo set straight on copies of the GPMC backup folders ----

for b in "$BACKUPS"/*/{*}; do
	test -f "$b/Backup.xml" || continue
	n_backups=$((n_backups + 1))
	name=$(basename "$(dirname "$b")")/$(basename "$b")
	if [ -f "$b/DomainSysvol/GPO/Machine/Preferences/Registry/Registry.xml" ]; then
		test_expect_success "backup $name: gpo set edits its Registry.xml; Backup.xml untouched; rollback restores it" "
			rm -rf bk && cp -R '$b' bk && chmod -R u+w bk &&
			reg=bk/DomainSysvol/GPO/Machine/Preferences/Registry/Registry.xml &&
			gpotool --json gpo show bk >show.json &&
			test \"\$(json_field show.json 'd[\"backup\"]')\" = True &&
			test \"\$(json_field show.json 'len(d[\"machine\"][\"items\"])')\" = \"\$(python3 corpus.py count \"\$reg\")\" &&
			gpotool gpo set bk 'HKLM\\SOFTWARE\\GpoToolBackupTest' NewValue REG_DWORD 7 >out 2>err &&
			grep -q 'GPMC backup has no GPT.INI' out &&
			cmp '$b/Backup.xml' bk/Backup.xml &&
			! test -e bk/GPT.INI && ! test -e bk/DomainSysvol/GPO/GPT.INI &&
			python3 corpus.py check_new '$b/DomainSysvol/GPO/Machine/Preferences/Registry/Registry.xml' \"\$reg\" HKEY_LOCAL_MACHINE 'SOFTWARE\\GpoToolBackupTest' NewValue &&
			xmllint --noout --relaxng '$RNG' \"\$reg\" 2>/dev/null &&
			id=\$(last_journal out) &&
			test \"\$(json_field state/journal/\$id/entry.json 'len(d[\"targets\"])')\" = 1 &&
			cmp '$b/DomainSysvol/GPO/Machine/Preferences/Registry/Registry.xml' state/journal/\$id/before-0.bin &&
			diff -r -x Registry.xml '$b' bk &&
			gpotool rollback \$id >out &&
			grep -q 'no GPT.INI' out &&
			diff -r '$b' bk
		"
	else
		test_expect_success "backup $name without a Machine Registry.xml: gpo set refused (exit 3)" "
			rm -rf bk && cp -R '$b' bk && chmod -R u+w bk &&
			n1=\$(journal_count) &&
			test_must_fail 3 gpotool gpo set bk 'HKLM\\SOFTWARE\\GpoToolBackupTest' NewValue REG_DWORD 7 >out 2>err &&
			test_one_line err 'backup' &&
			diff -r '$b' bk &&
			test \"\$(journal_count)\" = \"\$n1\"
		"
	fi
done

# The loops above would pass on no file at all: they must have seen each file the corpus lists
# (MANIFEST.md), or at least one of each kind where a corpus comes without that list.
manifest_count() { grep -c -- "$1" "$CORPUS/MANIFEST.md"; }
test_expect_success "the loops saw every corpus file: $n_gpp gpp/*.xml, $n_gpmc Registry.xml in GPMC backups, $n_backups backups" '
	if test -f "$CORPUS/MANIFEST.md"; then
		test "$n_gpp" = "$(manifest_count "^| gpp/[^/ |]*\.xml |")" &&
		test "$n_gpmc" = "$(manifest_count "^| gpt/gpmc_backups/[^ |]*/Preferences/Registry/Registry\.xml |")" &&
		test "$n_backups" = "$(manifest_count "^| gpt/gpmc_backups/[^/ ]*/{[^/ ]*}/Backup\.xml |")"
	else
		test "$n_gpp" -ge 1 && test "$n_gpmc" -ge 1 && test "$n_backups" -ge 1
	fi
'

test_expect_success 'a backup with a User Registry.xml takes a --user set; Backup.xml untouched' '
	b=$(ls -d "$BACKUPS"/*/{*}/DomainSysvol/GPO/User/Preferences/Registry/Registry.xml | head -n 1) &&
	b=${b%/DomainSysvol/*} &&
	rm -rf bku && cp -R "$b" bku && chmod -R u+w bku &&
	gpotool gpo set bku "HKCU\\Software\\GpoToolBackupTest" v REG_SZ x --user >out &&
	cmp "$b/Backup.xml" bku/Backup.xml &&
	diff -r -x Registry.xml "$b" bku &&
	diff -r "$b/DomainSysvol/GPO/Machine" bku/DomainSysvol/GPO/Machine &&
	python3 corpus.py check_new "$b/DomainSysvol/GPO/User/Preferences/Registry/Registry.xml" bku/DomainSysvol/GPO/User/Preferences/Registry/Registry.xml HKEY_CURRENT_USER "Software\\GpoToolBackupTest" v
'

test_expect_success 'the corpus was not written' '
	! find "$CORPUS/gpp" "$BACKUPS" -newer corpus.py | grep -q .
'

# ---- the Registry Wizard file: key-only items (type="") ----

W=$CORPUS/gpp/osdeploy_win10_Machine_Registry.xml
WD='{00000000-0000-4000-8000-0000000000FF}'
WX=$WD/Machine/Preferences/Registry/Registry.xml
# each test starts from the corpus file again, so that one failure does not hide the next
fresh_wizard() {
	rm -rf "$WD" && mkdir -p "$WD/User" "$WD/Machine/Preferences/Registry" &&
	printf "[General]\r\nVersion=1\r\n" >"$WD/GPT.INI" &&
	cp "$W" "$WX" && chmod u+w "$WX"
}

test_expect_success 'osdeploy_win10: 130 items, 35 of them key-only (type="")' '
	fresh_wizard &&
	gpotool --json gpo show "$WD" >show.json &&
	test "$(json_field show.json "len(d[\"machine\"][\"items\"])")" = 130 &&
	test "$(json_field show.json "len([i for i in d[\"machine\"][\"items\"] if i[\"type\"] == \"\"])")" = 35 &&
	gpotool gpo show "$WD" >out &&
	test "$(grep -c "(key only)" out)" = 35
'

test_expect_success 'osdeploy_win10: a key-only item next to the key'"'"'s (Default) item is no duplicate' '
	fresh_wizard &&
	gpotool --json gpo show "$WD" >show.json &&
	json_field show.json "\"\\n\".join(d[\"problems\"])" >problems &&
	! grep -q "PhotoViewer" problems
'

test_expect_success 'osdeploy_win10: setting a (Default) value edits the default="1" item, not the key-only one' '
	fresh_wizard &&
	cp "$WX" old.xml &&
	gpotool gpo set "$WD" "HKLM\\SOFTWARE\\Classes\\PhotoViewer.FileAssoc.Bitmap" "" REG_SZ "Photo Viewer Bitmap" >out &&
	python3 -c "
import sys, xml.etree.ElementTree as ET
def sel(path):
    out = []
    for r in ET.parse(path).getroot().iter(\"Registry\"):
        p = r.find(\"Properties\")
        if p.get(\"key\") == \"SOFTWARE\\\\Classes\\\\PhotoViewer.FileAssoc.Bitmap\" and p.get(\"name\") == \"\":
            r.tail = None
            out.append((p.get(\"type\"), p.get(\"default\"), p.get(\"value\"), ET.tostring(r)))
    return out
old, new = sel(sys.argv[1]), sel(sys.argv[2])
assert len(old) == 2 and len(new) == 2, (len(old), len(new))
keyonly_old = [o for o in old if o[0] == \"\"]
keyonly_new = [o for o in new if o[0] == \"\"]
assert keyonly_new == keyonly_old, \"the key-only item was rewritten: %r\" % (new,)
dflt = [o for o in new if o[1] == \"1\"]
assert len(dflt) == 1 and dflt[0][2] == \"Photo Viewer Bitmap\", \"the (Default) item does not hold the value: %r\" % (new,)
" old.xml "$WX"
'

test_expect_success 'osdeploy_win10: a Wizard item (no uid, no changed) is updated in place' '
	fresh_wizard &&
	cp "$WX" old.xml &&
	gpotool gpo set "$WD" "HKLM\\SYSTEM\\ControlSet001\\Control\\CrashControl" AutoReboot REG_DWORD 1 >out &&
	echo "{\"index\": $(python3 -c "
import sys, xml.etree.ElementTree as ET
for i, r in enumerate(ET.parse(sys.argv[1]).getroot().iter(\"Registry\")):
    if r.find(\"Properties\").get(\"name\") == \"AutoReboot\": print(i); break
" old.xml), \"type\": \"REG_DWORD\", \"value\": \"0x00000001\"}" >plan.json &&
	python3 corpus.py check_existing old.xml "$WX" plan.json &&
	xmllint --noout --relaxng "$RNG" "$WX" 2>/dev/null
'

test_expect_success 'osdeploy_win10: deleting a value item leaves the key-only items byte-identical' '
	fresh_wizard &&
	cp "$WX" old.xml &&
	gpotool gpo delete "$WD" "HKLM\\SOFTWARE\\Classes\\PhotoViewer.FileAssoc.Bitmap" ImageOptionFlags >out 2>/dev/null &&
	test "$(python3 corpus.py count "$WX")" = 129 &&
	grep -o "<Registry [^>]*><Properties [^>]*type=\"\"[^>]*>" old.xml >k1 &&
	grep -o "<Registry [^>]*><Properties [^>]*type=\"\"[^>]*>" "$WX" >k2 &&
	test "$(wc -l <k1)" = 35 &&
	test_cmp k1 k2
'

test_done
