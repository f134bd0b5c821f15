#!/bin/bash
# Fault injection at every write step: build/faultshim.so (tests/fault/faultshim.c, loaded with
# LD_PRELOAD) fails the Nth write, fsync, rename, link, copy_file_range or unlink of gpotool
# with ENOSPC or EIO, as a full or failing disk would. For each command below, one clean run
# under the shim first counts and traces every such call; then, for EVERY call of every kind
# and each errno, the command runs from the same starting state with that one call failing:
#   hive-stage         stage kdc-compat --hive SYSTEM (a copy of the sample DC hive)
#   gpo-stage-new      stage kdc-compat --gpo DIR, a GPO from `gpo new` (no Registry.xml)
#   gpo-stage-existing the same on a GPO whose Registry.xml already holds an item
#   hive-rollback      rollback ID of a hive-stage entry
#   gpo-rollback-existing / gpo-rollback-new  rollback ID of a GPO stage (Registry.xml put
#                      back / removed, GPT.INI's version raised again)
# and after each faulted run:
#   - the exit code is 4, except where the failed call comes after the change is in place
#     (see the classes below): then 0 with a warning;
#   - exit 4: every target (the hive; Registry.xml and GPT.INI) is byte-for-byte the original;
#     exit 0: every target is the complete new content (byte-for-byte the clean run's result
#     where that is deterministic: rollbacks, GPT.INI; else the SHA-256 its journal entry
#     recorded as after, and `validate` agrees after the next run);
#   - no temp file (.NAME.gpotool-XXXXXX) beside any target, none inside the journal entry;
#   - at most one new journal entry: "failed" or "pending" with the targets original (exit 4),
#     "complete" with them new (or "pending", said in a warning, when the fault hit its
#     complete-mark); each target's sha256_before is the original's, a complete entry's
#     sha256_after the target's; a directory without entry.json only after exit 4;
#   - audit.log has no torn line, and one record more (none when its append was the fault);
#   - the next normal run of the same command exits 0 (finishing or rolling back what the
#     faulted run left pending, sweeping a half-made entry directory), after which the targets
#     hold the new content, no entry is pending, and `audit verify` exits 0.
# Classes of fault point, from the clean run's trace, relative to the commit: the rename that
# puts the last target in place (the hive; GPT.INI, which a GPO writes after Registry.xml):
#   before-commit    any call before the commit, the commit rename included: exit 4
#   journal-link     the link() that makes the journal's before copy of a hive: gpotool copies
#                    the file instead (copy_file_range), so exit 0 and the write is complete
#   commit-dirsync   the fsync of the target's directory just after the commit rename: the new
#                    file is in place, so exit 0 (complete) or exit 4 with the original put
#                    back; never exit 4 with the new file in place
#   journal-complete a call of the journal's "complete" mark (temp entry.json write, fsync,
#                    rename, directory fsync): exit 0 with a warning; the entry is "pending" (or
#                    "complete" when only the directory fsync failed); the next run finishes it
#   audit            the audit record's write or fsync: exit 0 with a warning; no torn line
# Modes: "one" fails one call; "xdev" repeats the hive commands with link() failing EXDEV
# throughout (a state directory on another file system), so the before copy is made with
# copy_file_range, whose faults are then injected too; "short" makes the Nth write return half
# its bytes and the descriptor's later writes fail (ENOSPC as it usually arrives); "sticky"
# fails every call from the Nth on, of any kind that a full disk fails (write, fsync, rename,
# link, copy_file_range); "double" fails GPT.INI's rename and then each later call in turn
# (Registry.xml's put-back, the "failed" mark, the audit record). Only when the put-back
# itself fails (sticky, double) may a GPO be left half-changed at exit 4, and then gpotool must
# say so and leave the entry "pending", so that the next run finishes or undoes it.
# Totals (fault points per command, mode and kind) are printed as TAP comments. T4400_ERRNOS
# overrides the errno list of the one-call modes ("ENOSPC EIO"); T4400_SYNC=1 lets the fsyncs
# of the runs that are not failed reach the disk (by default the shim returns at once).
. "$(dirname "$0")/test-lib.sh"

SHIM=$PROJECT_DIR/build/faultshim.so
GUID='{5C8A1F0E-2B7D-4E39-A6C1-9F04D2E8B713}'
G=$GUID
REG=$G/Machine/Preferences/Registry/Registry.xml
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
RUN=$TRASH/run
ERRNOS=${T4400_ERRNOS:-ENOSPC EIO}
OPS="write fsync rename link copy_file_range unlink"
SCENARIOS="hive-stage gpo-stage-new gpo-stage-existing hive-rollback gpo-rollback-existing gpo-rollback-new"
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)
# an ASan build wants its runtime first in the library list; the shim goes before it
ASAN_SHIM_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

if ! [ -f "$SHIM" ]; then
	test_skip 'fault injection' "no $SHIM (make build/faultshim.so)"
	test_done
	exit
fi
if ! [ -f "$(sample_image dc01)/SYSTEM" ]; then
	test_skip 'fault injection' "no sample hive $(sample_image dc01)/SYSTEM (make samples)"
	test_done
	exit
fi

# faultcheck.py TRASH SCENARIO MODE OP ERRNO: runs the command of SCENARIO once for each call
# N = 1..count of kind OP with that call failing (ERRNO), then the next normal run, and prints
# one "FAIL ..." paragraph per fault point where something is wrong, and a summary line.
# One process per test: python3 starts once, gpotool is the only thing run per fault point.
cat >"$TRASH/faultcheck.py" <<'PYEOF'
import hashlib, json, os, re, shutil, subprocess, sys

TRASH, SC, MODE, OP, ERRNO = sys.argv[1:6]
CONF = json.load(open(os.path.join(TRASH, 'conf-%s.json' % SC)))
RUN = CONF['run']
SNAP = os.path.join(TRASH, 'snap-' + SC)
REF = os.path.join(TRASH, 'ref-' + SC)
BASE = 'xdev' if MODE == 'xdev' else 'one'
TRACE = os.path.join(TRASH, 'trace-%s-%s' % (SC, BASE))
CMD = open(os.path.join(TRASH, 'cmd-' + SC)).read().splitlines()
FILES = CONF['files']          # [[relative path, "det" | "sha"], ...]
GPOTOOL, SHIM = os.environ['GPOTOOL'], CONF['shim']
MODE_ENV = {'xdev': {'GPOTOOL_FAULT_XDEV': '1'}, 'short': {'GPOTOOL_FAULT_SHORT': '1'},
            'sticky': {'GPOTOOL_FAULT_STICKY': '1'}}.get(MODE, {})
ID_RE = re.compile(r'^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}$')
TEMP_RE = re.compile(r'^\..+\.gpotool-[A-Za-z0-9]{6}$')


def counts():
    with open(os.path.join(TRASH, 'count-%s-%s' % (SC, BASE))) as f:
        return {k: int(v) for k, v in (l.split() for l in f if l.strip())}


def gpotool(args, fault=None):
    """gpotool in RUN; with fault, under the shim failing that call. Unless T4400_SYNC=1 every
    run goes through the shim with GPOTOOL_FAULT_NOSYNC (fsync returns at once: gpotool sees
    the same, and hundreds of runs do not wait for the disk)."""
    env = dict(os.environ, GPOTOOL_STATE_DIR=os.path.join(RUN, 'state'))
    if fault or os.environ.get('T4400_SYNC') != '1':
        env.update(LD_PRELOAD=SHIM, ASAN_OPTIONS=CONF['asan_options'])
        if os.environ.get('T4400_SYNC') != '1':
            env['GPOTOOL_FAULT_NOSYNC'] = '1'
    if fault:
        env.update(**MODE_ENV, **fault)
    p = subprocess.run([GPOTOOL] + args, cwd=RUN, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')


def read(p):
    try:
        with open(p, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return None


def sha(b):
    return hashlib.sha256(b).hexdigest() if b is not None else ''


def abspath(p):
    return os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))


def restore():
    shutil.rmtree(RUN, ignore_errors=True)
    subprocess.run(['cp', '-a', SNAP, RUN], check=True)


def load_trace():
    calls = []
    for l in open(TRACE):
        if not l.strip():
            continue
        kind, num, rest = l.rstrip('\n').split(' ', 2)
        src, _, dst = rest.partition(' -> ')
        calls.append((kind, int(num), os.path.normpath(src), os.path.normpath(dst) if dst else ''))
    return calls


def classify(calls, n):
    """Where fault point n of kind OP sits in the clean run (see the header of the .sh)."""
    target = os.path.normpath(CONF['commit_target'])
    commit = max((i for i, c in enumerate(calls) if c[0] == 'rename' and c[3] == target), default=None)
    if OP == 'any':
        full_disk = [i for i, c in enumerate(calls) if c[0] not in ('unlink', 'ftruncate')]
        i = full_disk[n - 1] if n <= len(full_disk) else None
    else:
        i = next((i for i, c in enumerate(calls) if c[0] == OP and c[1] == n), None)
    if commit is None or i is None:
        return 'unknown', '?'
    kind, _, src, dst = calls[i]
    what = '%s %s%s' % (kind, os.path.relpath(src, RUN), ' -> ' + os.path.relpath(dst, RUN) if dst else '')
    if src.endswith('/state/audit.log'):
        return 'audit', what
    # the directory fsync just after an earlier target's rename (a GPO's Registry.xml): that
    # file is in place for every reader, so gpotool goes on, warns, and completes the write
    if (kind == 'fsync' and i > 0 and calls[i - 1][0] in ('rename', 'unlink') and '/state/' not in calls[i - 1][2] + calls[i - 1][3]
            and src == os.path.dirname(calls[i - 1][3] or calls[i - 1][2])):
        return 'commit-dirsync', what
    if i <= commit:
        if kind == 'link' and '/state/journal/' in dst:
            return 'journal-link', what
        return 'before-commit', what
    if i == commit + 1 and kind == 'fsync' and src == os.path.dirname(target):
        return 'commit-dirsync', what
    if '/state/journal/' in src:
        return 'journal-complete', what
    return 'after-commit', what


def entries(root):
    d = os.path.join(root, 'state', 'journal')
    out, orphans = {}, []
    if os.path.isdir(d):
        for name in sorted(os.listdir(d)):
            if not ID_RE.match(name):
                continue
            p = os.path.join(d, name, 'entry.json')
            if not os.path.exists(p):
                orphans.append(name)
                continue
            try:
                out[name] = json.load(open(p))
            except Exception as e:
                out[name] = {'status': 'UNREADABLE (%s)' % e, 'targets': []}
    return out, orphans


def audit_records(root, problems, when):
    data = read(os.path.join(root, 'state', 'audit.log')) or b''
    if data and not data.endswith(b'\n'):
        problems.append('%s: audit.log ends in a torn line: %r' % (when, data[-60:]))
    lines = data.split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()
    for k, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
            assert isinstance(rec, dict) and 'hash' in rec
        except Exception:
            problems.append('%s: audit.log line %d is not a whole record: %r' % (when, k, line[:60]))
    return len(lines)


SNAP_ENTRIES, _ = entries(SNAP)
SNAP_RECORDS = audit_records(SNAP, [], 'snap')


def inspect(problems, when):
    """The targets' state ('original', 'new', 'mixed', 'damaged'), the run's entries, orphans."""
    ents, orphans = entries(RUN)
    new_ids = [i for i in ents if i not in SNAP_ENTRIES]

    def state_of(f, det):
        cur, orig = read(os.path.join(RUN, f)), read(os.path.join(SNAP, f))
        if cur == orig:
            return 'original'
        if det == 'det':
            return 'new' if cur == read(os.path.join(REF, f)) else 'damaged'
        path = abspath(os.path.join(RUN, f))
        for i in new_ids:
            for t in ents[i].get('targets') or []:
                if t.get('path') == path and (t.get('sha256_after') or '') == sha(cur):
                    return 'new'
        return 'damaged'

    states = {f: state_of(f, det) for f, det in FILES}
    kinds = set(states.values())
    overall = kinds.pop() if len(kinds) == 1 else 'mixed'
    desc = ', '.join('%s %s' % (os.path.basename(f), s) for f, s in states.items())
    for d in sorted({os.path.dirname(os.path.join(RUN, f)) for f, _ in FILES}):
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if TEMP_RE.match(name):
                problems.append('%s: temp file left beside the target: %s' % (when, os.path.relpath(os.path.join(d, name), RUN)))
    for i in new_ids:
        for name in sorted(os.listdir(os.path.join(RUN, 'state', 'journal', i))):
            if name.startswith('.') or re.match(r'^before-\d+\.bin\..{6}$', name):
                problems.append('%s: temp file left in journal entry %s: %s' % (when, i, name))
    return overall, desc, ents, new_ids, orphans


def warnings_in(err):
    return [l for l in err.splitlines() if 'warning:' in l and 'EXPIRED' not in l and 'left before' not in l]


def check_point(n, calls, nth=None, cls=None, what=None):
    if cls is None:
        cls, what = classify(calls, n)
    problems = []
    restore()
    rc, out, err = gpotool(CMD, {'GPOTOOL_FAULT_OP': OP, 'GPOTOOL_FAULT_NTH': nth or str(n), 'GPOTOOL_FAULT_ERRNO': ERRNO})
    overall, desc, ents, new_ids, orphans = inspect(problems, 'faulted run')
    warnings = warnings_in(err)
    # when the disk also refuses to put Registry.xml back (sticky, double), a GPO is left
    # half-changed: acceptable only when gpotool says so and leaves the entry pending, so
    # that the next run finishes or undoes it
    half = (rc == 4 and overall == 'mixed' and MODE in ('sticky', 'double') and 'half-changed' in err and
            new_ids and all(ents[i].get('status') == 'pending' for i in new_ids))
    if half:
        # the staged GPT.INI is what the next run finishes the change from: it must stay
        problems[:] = [p for p in problems if not ('temp file left beside the target' in p and '.GPT.INI.gpotool-' in p)]

    allowed = {'before-commit': {4}, 'journal-link': {0}, 'commit-dirsync': {0, 4}, 'journal-complete': {0},
               'audit': {0}, 'after-commit': {0}}.get(cls, {0, 4})
    if MODE == 'sticky' and cls == 'journal-link':
        allowed = {4}          # the copy it falls back to fails too
    if rc < 0:
        problems.append('killed by signal %d' % -rc)
    elif rc not in allowed:
        problems.append('exit %d, expected %s for a %s fault' % (rc, ' or '.join(map(str, sorted(allowed))), cls))
    if rc == 4 and overall != 'original' and not half:
        problems.append('exit 4 but not every target is the original: %s' % desc)
    elif rc == 0 and overall != 'new':
        problems.append('exit 0 but not every target is the complete new content: %s' % desc)
    elif overall not in ('original', 'new') and not half:
        problems.append('the targets are neither all original nor all new: %s' % desc)
    if len(new_ids) > 1:
        problems.append('%d new journal entries: %s' % (len(new_ids), ' '.join(new_ids)))
    if rc == 0 and len(new_ids) != 1:
        problems.append('exit 0 but %d new journal entries' % len(new_ids))
    if rc == 0 and orphans:
        problems.append('exit 0 but journal directories without entry.json: %s' % ' '.join(orphans))
    pending_ok = cls in ('journal-complete', 'commit-dirsync') or (MODE == 'sticky' and cls != 'before-commit')
    for i in new_ids:
        e = ents[i]
        s = e.get('status')
        if rc == 4 and s not in ('failed', 'pending'):
            problems.append('exit 4 but journal entry %s is "%s" (expected failed, or pending for recovery)' % (i, s))
        if rc == 0 and s != 'complete' and not (s == 'pending' and pending_ok):
            problems.append('exit 0 but journal entry %s is "%s" (expected complete)' % (i, s))
        if s == 'failed' and overall != 'original':
            problems.append('journal entry %s says "failed", but the targets are: %s' % (i, desc))
        if s == 'complete' and overall != 'new':
            problems.append('journal entry %s says "complete", but the targets are: %s' % (i, desc))
        if s == 'pending' and rc == 0 and not warnings:
            problems.append('exit 0 and journal entry %s stays "pending", but no warning says so' % i)
        for t in e.get('targets') or []:
            f = next((f for f, _ in FILES if abspath(os.path.join(RUN, f)) == t.get('path')), None)
            if f is None:
                problems.append('journal entry %s names an unexpected target %s' % (i, t.get('path')))
                continue
            orig = read(os.path.join(SNAP, f))
            if t.get('existed') != (orig is not None) or (orig is not None and t.get('sha256_before') != sha(orig)):
                problems.append('journal entry %s: the recorded before-state of %s is not the original' % (i, f))
            if s == 'complete' and (t.get('sha256_after') or '') != sha(read(os.path.join(RUN, f))):
                problems.append('journal entry %s is complete, but %s is not its sha256_after' % (i, f))
    if rc == 0 and cls in ('journal-complete', 'audit') and not warnings:
        problems.append('exit 0 after a failed %s step, and no warning' % cls)
    records = audit_records(RUN, problems, 'faulted run')
    if not (records == SNAP_RECORDS + 1 or (records == SNAP_RECORDS and (cls == 'audit' or MODE in ('sticky', 'double')))):
        problems.append('audit.log holds %d records, %d before the run' % (records, SNAP_RECORDS))
    # (audit verify runs once, after the next run: a torn line or a broken link would still be there)
    faulted = {i: ents[i].get('status') for i in new_ids}
    faulted_targets = overall

    # the next normal run finishes what is left, or does the write
    nrc, nout, nerr = gpotool(CMD)
    if nrc != 0:
        problems.append('the next normal run exits %d: %s' % (nrc, ' '.join(l for l in nerr.splitlines() if 'EXPIRED' not in l)))
    else:
        overall, desc, ents, new_ids, orphans = inspect(problems, 'next run')
        if overall != 'new':
            problems.append('after the next run, the targets are not the new content: %s' % desc)
        for i, e in sorted(ents.items()):
            if e.get('status') not in ('complete', 'failed', 'rolled-back'):
                problems.append('after the next run, journal entry %s is "%s"' % (i, e.get('status')))
        if orphans:
            problems.append('after the next run, journal directories without entry.json remain: %s' % ' '.join(orphans))
        for i, s in faulted.items():
            now = ents.get(i, {}).get('status')
            want = {('pending', 'original'): ['rolled-back'], ('pending', 'new'): ['complete'],
                    ('pending', 'mixed'): ['complete', 'rolled-back']}.get((s, faulted_targets), [s])
            if now not in want:
                problems.append('journal entry %s of the faulted run was "%s" (targets %s), then "%s" after the next run, '
                                'not "%s"' % (i, s, faulted_targets, now, '" or "'.join(want)))
        audit_records(RUN, problems, 'next run')
        vrc, vout, verr = gpotool(['audit', 'verify'])
        # a full disk took the audit record and the journal's note of its loss: the gap is real,
        # and verify must name exactly it
        if vrc == 1 and MODE == 'sticky' and any(i in verr for i in faulted) and 'no record names it' in verr:
            vrc = 0
        if vrc != 0:
            problems.append('audit verify after the next run exits %d: %s' % (vrc, verr.strip()))
        if CONF['validate'] and gpotool(CONF['validate'])[0] != 0:
            problems.append('after the next run, "gpotool %s" fails' % ' '.join(CONF['validate']))
    if problems:
        print('FAIL %s [%s] %s #%s %s: %s (%s): exit %d; stderr: %s' % (
            SC, MODE, OP, nth or n, ERRNO, what, cls, rc,
            ' | '.join(l for l in err.splitlines() if 'EXPIRED' not in l) or '(none)'))
        for p in problems:
            print('    ' + p)
    return cls, not problems


def double_points(calls):
    """GPT.INI's rename fails, and then each later call in turn: the put-back of Registry.xml,
    the journal's "failed" mark, the audit record. Returns (k, [m...]) as 'any' indexes."""
    full_disk = [c for c in calls if c[0] not in ('unlink', 'ftruncate')]
    target = os.path.normpath(CONF['commit_target'])
    k = next(i for i, c in enumerate(full_disk, 1) if c[0] == 'rename' and c[3] == target)
    trace = os.path.join(TRASH, 'double.trace')
    if os.path.exists(trace):
        os.unlink(trace)
    restore()
    gpotool(CMD, {'GPOTOOL_FAULT_OP': 'any', 'GPOTOOL_FAULT_NTH': str(k), 'GPOTOOL_FAULT_ERRNO': ERRNO,
                  'GPOTOOL_FAULT_TRACE': trace})
    after = [l.split()[0] for l in open(trace) if l.strip()]
    total = sum(1 for kind in after if kind not in ('unlink', 'ftruncate'))
    return k, list(range(k + 1, total + 1))


def main():
    calls = load_trace()
    bad, classes = 0, {}
    if MODE == 'double':
        k, later = double_points(calls)
        total = len(later)
        for m in later:
            cls, ok = check_point(m, calls, nth='%d,%d' % (k, m), cls='before-commit',
                                  what='rename of GPT.INI (#%d), then call #%d' % (k, m))
            classes[cls] = classes.get(cls, 0) + 1
            bad += not ok
    else:
        total = counts().get(OP, 0)
    for n in range(1, total + 1) if MODE != 'double' else []:
        cls, ok = check_point(n, calls)
        classes[cls] = classes.get(cls, 0) + 1
        bad += not ok
    with open(os.path.join(TRASH, 'totals'), 'a') as t:
        t.write('%s %s %s %s %d %d\n' % (SC, MODE, OP, ERRNO, total, bad))
    print('%d fault points (%s), %d failed' % (total, ', '.join('%s %d' % kv for kv in sorted(classes.items())), bad))
    sys.exit(1 if bad else 0)


main()
PYEOF

restore() { rm -rf "$RUN" && cp -a "$TRASH/snap-$1" "$RUN"; }
# the targets of a scenario (relative to $RUN), each with how its new content is recognised:
# det, the clean run's bytes; sha, the sha256_after of the run's journal entry (plus validate)
files_json() {
	case $1 in
	hive-stage) echo '[["SYSTEM", "sha"]]' ;;
	hive-rollback) echo '[["SYSTEM", "det"]]' ;;
	gpo-stage-*) echo "[[\"$REG\", \"sha\"], [\"$G/GPT.INI\", \"det\"]]" ;;
	gpo-rollback-*) echo "[[\"$REG\", \"det\"], [\"$G/GPT.INI\", \"det\"]]" ;;
	esac
}
write_conf() {
	local sc=$1 commit validate=null
	case $sc in
	hive-*) commit=$RUN/SYSTEM ;;
	*) commit=$RUN/$G/GPT.INI ;;
	esac
	case $sc in
	hive-stage) validate='["validate", "kdc-compat", "--hive", "SYSTEM"]' ;;
	gpo-stage-*) validate="[\"validate\", \"kdc-compat\", \"--gpo\", \"$G\"]" ;;
	esac
	cat >"$TRASH/conf-$sc.json" <<-EOF
	{"run": "$RUN", "shim": "$SHIM", "asan_options": "$ASAN_SHIM_OPTIONS", "commit_target": "$commit",
	 "files": $(files_json "$sc"), "validate": $validate}
	EOF
}
mode_env() {
	case $1 in
	xdev) echo GPOTOOL_FAULT_XDEV=1 ;;
	esac
}
count_of() { awk -v op="$3" '$1 == op { print $2 }' "$TRASH/count-$1-$2" 2>/dev/null; }

# Makes $RUN the starting state of a scenario, snapshots it (snap-SC), records its command
# (cmd-SC, one word a line) and keeps the state before any of it (pre-SC).
setup_scenario() {
	local sc=$1 id
	rm -rf "$RUN" && mkdir "$RUN" && cd "$RUN" || return 1
	export GPOTOOL_STATE_DIR=$RUN/state
	case $sc in
	hive-*)
		cp "$(sample_image dc01)/SYSTEM" SYSTEM && chmod 644 SYSTEM || return 1 ;;
	gpo-*)
		gpotool gpo new . --name fault --guid "$GUID" >/dev/null || return 1 ;;
	esac
	case $sc in
	gpo-stage-existing | gpo-rollback-existing)
		gpotool gpo set "$G" "$KDC" CertificateBackdatingCompensation REG_DWORD 600 >/dev/null 2>&1 || return 1 ;;
	esac
	rm -rf "$TRASH/pre-$sc" && cp -a "$RUN" "$TRASH/pre-$sc" || return 1
	case $sc in
	hive-stage) printf '%s\n' stage kdc-compat --hive SYSTEM ;;
	gpo-stage-*) printf '%s\n' stage kdc-compat --gpo "$G" ;;
	hive-rollback)
		gpotool stage kdc-compat --hive SYSTEM >out 2>/dev/null || return 1
		id=$(sed -n 's/^journal: //p' out) && rm out && printf '%s\n' rollback "$id" ;;
	gpo-rollback-*)
		gpotool stage kdc-compat --gpo "$G" >out 2>/dev/null || return 1
		id=$(sed -n 's/^journal: //p' out) && rm out && printf '%s\n' rollback "$id" ;;
	esac >"$TRASH/cmd-$sc" || return 1
	cd "$TRASH" && rm -rf "snap-$sc" && cp -a "$RUN" "snap-$sc" && write_conf "$sc"
}

# The clean run under the shim: counts and traces every call (count-SC-MODE, trace-SC-MODE);
# its targets are the reference new content (ref-SC).
count_scenario() {
	local sc=$1 mode=$2 f
	local -a cmd
	mapfile -t cmd <"$TRASH/cmd-$sc"
	restore "$sc"
	rm -f "$TRASH/trace-$sc-$mode"
	(cd "$RUN" && env GPOTOOL_STATE_DIR="$RUN/state" LD_PRELOAD="$SHIM" ASAN_OPTIONS="$ASAN_SHIM_OPTIONS" \
		$(mode_env "$mode") GPOTOOL_FAULT_COUNT="$TRASH/count-$sc-$mode" GPOTOOL_FAULT_TRACE="$TRASH/trace-$sc-$mode" \
		"$GPOTOOL" "${cmd[@]}") >"$TRASH/clean.out" 2>"$TRASH/clean.err" ||
		{ cat "$TRASH/clean.out" "$TRASH/clean.err"; return 1; }
	[ -s "$TRASH/count-$sc-$mode" ] || { echo "the shim wrote no counts" >&2; return 1; }
	[ "$(count_of "$sc" "$mode" any)" -gt 0 ] || { echo "the shim saw no write" >&2; return 1; }
	if [ "$mode" = one ]; then
		rm -rf "$TRASH/ref-$sc" && mkdir "$TRASH/ref-$sc" || return 1
		for f in SYSTEM "$REG" "$G/GPT.INI"; do
			if [ -e "$RUN/$f" ]; then mkdir -p "$TRASH/ref-$sc/$(dirname "$f")" && cp "$RUN/$f" "$TRASH/ref-$sc/$f" || return 1; fi
		done
	fi
	sed "s/^/$mode: /" "$TRASH/count-$sc-$mode"
}

all_points() { "$PY" "$TRASH/faultcheck.py" "$TRASH" "$@"; }

START=$(date +%s)
: >"$TRASH/totals"

for sc in $SCENARIOS; do
	test_expect_success "$sc: starting state, and a clean run under the shim counts its write steps" "
		setup_scenario $sc &&
		count_scenario $sc one &&
		case $sc in hive-*) count_scenario $sc xdev ;; esac &&
		case $sc in
		hive-rollback) cmp \"\$TRASH/pre-$sc/SYSTEM\" \"\$TRASH/ref-$sc/SYSTEM\" ;;
		gpo-rollback-existing) cmp \"\$TRASH/pre-$sc/\$REG\" \"\$TRASH/ref-$sc/\$REG\" ;;
		gpo-rollback-new) ! test -e \"\$TRASH/ref-$sc/\$REG\" ;;
		esac
	"
	[ -f "$TRASH/count-$sc-one" ] || continue
	for mode in one xdev; do
		case $mode/$sc in xdev/gpo-*) continue ;; esac
		for op in $OPS; do
			[ "$(count_of "$sc" "$mode" "$op")" -gt 0 ] 2>/dev/null || continue
			for err in $ERRNOS; do
				label=$sc; [ $mode = xdev ] && label="$sc (link EXDEV)"
				test_expect_success "$label: $op fails with $err, at each call" "
					all_points $sc $mode $op $err
				"
			done
		done
	done
	test_expect_success "$sc: every write is short (half written, then ENOSPC), at each call" "
		all_points $sc short write ENOSPC
	"
	test_expect_success "$sc: the disk fills up (ENOSPC from the Nth call of any kind on), at each call" "
		all_points $sc sticky any ENOSPC
	"
	case $sc in gpo-*)
		test_expect_success "$sc: GPT.INI cannot be replaced, and then each later call fails too (EIO)" "
			all_points $sc double any EIO
		" ;;
	esac
done

# The totals, as TAP comments.
awk -v secs=$(($(date +%s) - START)) '
	{ key = $1; points[key] += $5; bad[key] += $6; total += $5; totalbad += $6
	  kinds[key] = kinds[key] sprintf(" %s%s/%s=%d", ($2 == "one" ? "" : $2 ":"), $3, $4, $5) }
	END {
		for (k in points) printf "# %s: %d fault points (%d failed):%s\n", k, points[k], bad[k], kinds[k]
		printf "# all commands: %d fault points, %d failed, %d s\n", total, totalbad, secs
	}' "$TRASH/totals" | sort

test_done
