#!/bin/bash
# What is renamed over a target is exactly the file gpotool wrote and verified. A racing
# process under another user (nobody) watches the folder and renames its own file, or a
# symbolic link, over every ".NAME.gpotool-XXXXXX" temp file the moment inotify shows it:
# - in a sticky world-writable folder (1777, allowed without --allow-shared-dir) it cannot
#   touch root's temp files, and every one of 200 writes succeeds with gpotool's content;
# - in a folder nobody can write (0777, with --allow-shared-dir) it swaps temp files often;
#   after each of 200 writes the hive holds gpotool's verified content (exit 0) or gpotool
#   failed, saying another process replaced its temp file, with the hive unchanged (exit 4);
# - the same for a GPO (Registry.xml and GPT.INI);
# - the instant between the last check and the rename, made certain with an LD_PRELOAD shim
#   that renames a decoy over the temp file inside renameat: in a folder others can write,
#   gpotool renames through a private folder of its own, so the decoy is caught there and
#   the target left as it was (exit 4); in a folder only root can write (where only root
#   could do this), the check after the rename sees it: exit 4, never "verified".
# The racer is a background process stopped by PID in a trap; nothing waits by sleeping.
. "$(dirname "$0")/test-lib.sh"

TRIES=${T5000_TRIES:-200}
GPO_TRIES=${T5000_GPO_TRIES:-50}
KEY='Software\Race'
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
# the racer's PID is kept in a file: tests run in subshells, and the trap must find it
stop_racer() {
	local pid
	pid=$(cat "$TRASH/racer.pid" 2>/dev/null) || return 0
	rm -f "$TRASH/racer.pid"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do :; done  # not our child (a test's subshell started it)
}
trap 'stop_racer; rm -rf "$TRASH"' EXIT
# nobody must reach the folders under test (it can still write none of the others)
chmod 0711 "$TRASH"
# an interpreter nobody can run (a pyenv shim under /root is not one)
PY=/usr/bin/python3

# entry_after STATE ID: the first target's sha256_after in that journal entry
entry_after() { sed -n 's/^ *"sha256_after": "\([0-9a-f]*\)",*$/\1/p' "$1/journal/$2/entry.json" | head -n 1; }
sha() { sha256sum "$1" | cut -d" " -f1; }

cat >racer.py <<'EOF'
# racer.py DIR NAMES EVIL READY: renames its own file (odd tries) or a symbolic link to EVIL
# (even tries) over every temp file of NAMES (comma-separated) that appears in DIR, the
# moment inotify reports it, until killed; then prints how many of gpotool's temp files it
# replaced and how many renames were refused.
import ctypes, os, signal, struct, sys
d, names, evil, ready = sys.argv[1], sys.argv[2].split(','), sys.argv[3], sys.argv[4]
prefixes = ['.%s.gpotool-' % n for n in names]
data = open(evil, 'rb').read()
own = os.path.join(d, '.racer-%d' % os.getpid())
counts = {'swapped': 0, 'refused': 0}
def done(*_):
    print('swapped %d refused %d' % (counts['swapped'], counts['refused']), flush=True)
    os._exit(0)
signal.signal(signal.SIGTERM, done)
libc = ctypes.CDLL(None, use_errno=True)
ino = libc.inotify_init1(0)
IN_CREATE, IN_MOVED_TO = 0x100, 0x80
if ino < 0 or libc.inotify_add_watch(ino, d.encode(), IN_CREATE | IN_MOVED_TO) < 0:
    print('no inotify: errno %d' % ctypes.get_errno(), flush=True)
    sys.exit(1)
open(ready, 'w').close()
i = 0
def attack(name):
    global i
    target = os.path.join(d, name)
    try:
        if os.lstat(target).st_uid == os.getuid():
            return  # one of its own files, left at a temp name
        i += 1
        try:
            os.unlink(own)
        except FileNotFoundError:
            pass
        if i % 2:
            with open(own, 'wb') as f:
                f.write(data)
        else:
            os.symlink(evil, own)
        os.rename(own, target)
        counts['swapped'] += 1
    except OSError:
        counts['refused'] += 1
while True:
    buf = os.read(ino, 65536)
    at = 0
    while at + 16 <= len(buf):
        wd, mask, cookie, n = struct.unpack_from('iIII', buf, at)
        name = buf[at + 16:at + 16 + n].split(b'\0', 1)[0].decode('utf-8', 'replace')
        at += 16 + n
        if any(name.startswith(p) and len(name) == len(p) + 6 for p in prefixes):
            attack(name)
EOF

cat >swapshim.c <<'EOF'
/* LD_PRELOAD: in renameat, before the real one, rename SWAPSHIM_DECOY's copy over the temp
 * file (its name starting with SWAPSHIM_MATCH) that is about to be renamed, the first
 * SWAPSHIM_TIMES times: as a racer that wins the last instant would. SWAPSHIM_NOSYNC=1:
 * fsync and fdatasync return 0 at once (as eatmydata does), so the race loops stay fast. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

static int done;

/* SWAPSHIM_AT=fstatat swaps at gpotool's last look at the temp name before its rename
 * (its identity check) instead of inside the rename itself. */
static void swap_in(int olddirfd, const char *oldpath, const char *at)
{
	const char *decoy = getenv("SWAPSHIM_DECOY"), *times = getenv("SWAPSHIM_TIMES"), *match = getenv("SWAPSHIM_MATCH");
	const char *when = getenv("SWAPSHIM_AT") ? getenv("SWAPSHIM_AT") : "renameat";
	static int (*real)(int, const char *, int, const char *);
	char copy[64];

	if (!real)
		real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	if (strcmp(when, at) == 0 && decoy && times && match && done < atoi(times) && strncmp(oldpath, match, strlen(match)) == 0) {
		int in = open(decoy, O_RDONLY), out;
		char buf[65536];
		ssize_t n;

		snprintf(copy, sizeof(copy), ".decoy-%d", done);
		out = openat(olddirfd, copy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				break;
		close(in);
		close(out);
		real(olddirfd, copy, olddirfd, oldpath);
		done++;
	}
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	static int (*real)(int, const char *, int, const char *);

	if (!real)
		real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	swap_in(olddirfd, oldpath, "renameat");
	return real(olddirfd, oldpath, newdirfd, newpath);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	static int (*real)(int, const char *, struct stat *, int);

	if (!real)
		real = (int (*)(int, const char *, struct stat *, int))dlsym(RTLD_NEXT, "fstatat");
	swap_in(dirfd, path, "fstatat");
	return real(dirfd, path, st, flags);
}

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

int fsync(int fd)
{
	if (getenv("SWAPSHIM_NOSYNC"))
		return 0;
	if (!real_fsync)
		real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	if (getenv("SWAPSHIM_NOSYNC"))
		return 0;
	if (!real_fdatasync)
		real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return real_fdatasync(fd);
}
EOF
SHIM=
SHIM_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
cc -shared -fPIC -o swapshim.so swapshim.c -ldl 2>cc.err && SHIM=$TRASH/swapshim.so
# the race loops make hundreds of writes: without the shim, each waits for its fsyncs
racing() {
	if [ -n "$SHIM" ]; then
		env LD_PRELOAD="$SHIM" ASAN_OPTIONS="$SHIM_ASAN" SWAPSHIM_NOSYNC=1 "$GPOTOOL" "$@"
	else
		"$GPOTOOL" "$@"
	fi
}

# start_racer DIR NAMES EVIL: the racer as nobody, running once it has said so
start_racer() {
	rm -f racer/ready racer/out
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" racer.py "$1" "$2" "$3" racer/ready >racer/out 2>&1 &
	echo $! >"$TRASH/racer.pid"
	for i in $(seq 1 100000); do
		test -e racer/ready && return 0
		kill -0 "$(cat racer.pid)" 2>/dev/null || break
	done
	echo "the racer did not start: $(cat racer/out)" >&2
	return 1
}
racer_count() { stop_racer; sed -n "s/^swapped \([0-9]*\) refused \([0-9]*\)$/\\$1/p" racer/out; }

# one_try DIR N [GLOBAL-OPTION]: hive set DIR/h; exit 0 with gpotool's content, or exit 4
# (another process replaced the temp file) with the hive unchanged; counts in race.*.
# Few processes per try: hundreds of tries.
one_try() {
	local dir=$1 n=$2 rc id= line sum
	# a fresh state directory every 25 writes: each write reads every journal entry there
	export GPOTOOL_STATE_DIR=$TRASH/state-race.$dir.$((n / 25))
	cp "$dir/h" h.before
	racing ${3:-} hive set "$dir/h" "$KEY" v REG_DWORD "$n" >out 2>err
	rc=$?
	case $rc in
	0)
		while read -r line; do case $line in "journal: "*) id=${line#journal: } ;; esac; done <out
		read -r sum line < <(sha256sum "$dir/h")
		# the journal's after-hash is what libregf verified; the last value is read back at the end
		test -n "$id" && grep -q "\"sha256_after\": \"$sum\"" "$GPOTOOL_STATE_DIR/journal/$id/entry.json" &&
		test ! -L "$dir/h" && test "$(stat -c %u:%g:%a "$dir/h")" = 0:0:644 && echo "$n" >last.ok || {
			echo "try $n: exit 0, but '$dir/h' is not gpotool's verified file" >&2; cat out err >&2; return 1; }
		echo >>race.ok ;;
	4)
		cmp h.before "$dir/h" && grep -Eq "another process (replaced|removed) '.h.gpotool-.*', the temp file gpotool wrote and verified" err &&
		! grep -q "^verified" out || { echo "try $n: exit 4, but not with the hive unchanged" >&2; cat out err >&2; return 1; }
		echo >>race.failed ;;
	*)
		echo "try $n: exit $rc" >&2; cat out err >&2; return 1 ;;
	esac
}

test_expect_success 'setup: a small hive, the racer'"'"'s own files' '
	test -x "$PY" &&
	gpotool hive new base.hive >/dev/null &&
	gpotool hive set base.hive "$KEY" v REG_DWORD 0 >/dev/null &&
	cp base.hive evil && gpotool hive set evil "$KEY" evil REG_DWORD 666 >/dev/null &&
	mkdir racer && mv evil racer/evil && chown -R 65534 racer && chmod 644 base.hive
'

test_expect_success "sticky world-writable folder (allowed as it is): the racer loses all $TRIES writes" '
	mkdir sticky && chmod 1777 sticky && cp -p base.hive sticky/h &&
	rm -f race.ok race.failed && : >race.ok &&
	start_racer "$TRASH/sticky" h "$TRASH/racer/evil" &&
	for n in $(seq 1 $TRIES); do one_try sticky $n || break; done &&
	swapped=$(racer_count 1) && refused=$(racer_count 2) &&
	echo "sticky folder: $(wc -l <race.ok) of $TRIES written; the racer made $swapped renames, $refused were refused" >>stats &&
	test "$(wc -l <race.ok)" = $TRIES && test "$refused" -gt 0 &&
	test "$(gpotool hive get sticky/h "$KEY" v)" = "dword:$(printf %08x $TRIES)"
'

test_expect_success "a folder nobody can write, with --allow-shared-dir: the racer loses all $TRIES writes" '
	mkdir open && chmod 0777 open && cp -p base.hive open/h &&
	rm -f race.ok race.failed last.ok && : >race.ok && : >race.failed &&
	start_racer "$TRASH/open" h "$TRASH/racer/evil" &&
	for n in $(seq 1 $TRIES); do one_try open $n --allow-shared-dir || break; done &&
	swapped=$(racer_count 1) &&
	echo "open folder: $(wc -l <race.ok) of $TRIES written, $(wc -l <race.failed) failed unchanged; the racer swapped $swapped temp files" >>stats &&
	test $(( $(wc -l <race.ok) + $(wc -l <race.failed) )) = $TRIES &&
	test "$swapped" -gt 0 && test "$(wc -l <race.failed)" -gt 0 &&
	if [ -s last.ok ]; then test "$(gpotool hive get open/h "$KEY" v)" = "dword:$(printf %08x "$(cat last.ok)")"; fi
'

test_expect_success 'the same folder without --allow-shared-dir: refused, exit 3, the hive unchanged' '
	cp open/h h.before &&
	test_must_fail 3 gpotool hive set open/h "$KEY" v REG_DWORD 1 2>err &&
	test_one_line err "folder .$TRASH/open. (owner 0, group 0, mode 0777) can be written by users other than root" &&
	cmp h.before open/h
'

test_expect_success "a GPO in a folder nobody can write: Registry.xml and GPT.INI are gpotool's or unchanged, $GPO_TRIES writes" '
	mkdir gpo && chmod 0777 gpo && gpotool --allow-shared-dir gpo new gpo --name race >/dev/null &&
	G=$(ls -d gpo/{*}) && chmod -R a+rwX "$G" && mkdir -p "$G/Machine/Preferences/Registry" &&
	chmod 0777 "$G/Machine/Preferences/Registry" &&
	gpotool --allow-shared-dir gpo set "$G" "$KDC" $SCBE REG_DWORD 2 >/dev/null &&
	R=$G/Machine/Preferences/Registry/Registry.xml &&
	printf "<evil/>\r\n" >racer/evil.xml && chown 65534 racer/evil.xml &&
	start_racer "$TRASH/$G/Machine/Preferences/Registry" Registry.xml "$TRASH/racer/evil.xml" &&
	ok=0 failed=0 &&
	for n in $(seq 1 $GPO_TRIES); do
		export GPOTOOL_STATE_DIR=$TRASH/state-race.gpo.$((n / 25)) &&
		cp "$R" reg.before && cp "$G/GPT.INI" gpt.before &&
		racing --allow-shared-dir gpo set "$G" "$KDC" $SCBE REG_DWORD $((n + 2)) >out 2>err
		rc=$?
		if [ $rc = 0 ]; then
			grep -q "value=\"$(printf %08X $((n + 2)))\"" "$R" && ! grep -q evil "$R" &&
			grep -q "^verified: Registry.xml parses" out && ok=$((ok + 1)) || { cat out err; break; }
		elif [ $rc = 4 ]; then
			cmp reg.before "$R" && cmp gpt.before "$G/GPT.INI" && grep -Eq "another process (replaced|removed)" err &&
			failed=$((failed + 1)) || { cat out err; break; }
		else
			echo "exit $rc"; cat out err; break
		fi
	done &&
	swapped=$(racer_count 1) &&
	echo "GPO: $ok of $GPO_TRIES written, $failed failed unchanged; the racer swapped $swapped temp files" >>stats &&
	test $((ok + failed)) = $GPO_TRIES && test "$swapped" -gt 0
'

# ---- the instant between the check and the rename, made certain ----


if [ -n "$SHIM" ]; then

	test_expect_success 'a swap in the last instant, in a folder others can write: caught in the private folder, hive unchanged' '
		mkdir inst && chmod 0777 inst && cp -p base.hive inst/h && cp inst/h h.before &&
		test_expect_code 4 env LD_PRELOAD=$TRASH/swapshim.so ASAN_OPTIONS=$SHIM_ASAN SWAPSHIM_DECOY=$TRASH/racer/evil \
			SWAPSHIM_MATCH=.h.gpotool- SWAPSHIM_TIMES=1 "$GPOTOOL" --allow-shared-dir hive set inst/h "$KEY" v REG_DWORD 7 >out 2>err &&
		test_one_line err "another process replaced .\.h\.gpotool-.*, the temp file gpotool wrote and verified for .inst/h., before the rename" &&
		grep -q "nothing replaced" err && ! grep -q "^verified" out &&
		cmp h.before inst/h && test "$(ls -A inst | grep -c gpotool-)" = 1 &&
		gpotool --allow-shared-dir hive set inst/h "$KEY" v REG_DWORD 7 >out 2>err &&
		test "$(gpotool hive get inst/h "$KEY" v)" = "dword:00000007" &&
		test "$(ls -A inst | grep -c gpotool-)" = 0
	'

	test_expect_success 'a swap in the last instant in a root-only folder: seen after the rename, exit 4, never "verified"' '
		mkdir safe && cp -p base.hive safe/h &&
		test_expect_code 4 env LD_PRELOAD=$TRASH/swapshim.so ASAN_OPTIONS=$SHIM_ASAN SWAPSHIM_DECOY=$TRASH/racer/evil \
			SWAPSHIM_MATCH=.h.gpotool- SWAPSHIM_TIMES=1 "$GPOTOOL" hive set safe/h "$KEY" v REG_DWORD 8 >out 2>err &&
		! grep -q "^verified" out &&
		test_one_line err "safe/h. now holds a file gpotool did not write: another process put it there in the instant of the rename" &&
		grep -q "journal entry .* (pending) keeps .safe/h. as it was before" err &&
		cmp racer/evil safe/h && ! grep -q "left unchanged" err
	'

	test_expect_success 'a swap just before the identity check in a root-only folder: caught, nothing replaced' '
		mkdir safe2 && cp -p base.hive safe2/h && cp safe2/h h.before &&
		test_expect_code 4 env LD_PRELOAD=$TRASH/swapshim.so ASAN_OPTIONS=$SHIM_ASAN SWAPSHIM_DECOY=$TRASH/racer/evil \
			SWAPSHIM_AT=fstatat SWAPSHIM_MATCH=.h.gpotool- SWAPSHIM_TIMES=1 "$GPOTOOL" hive set safe2/h "$KEY" v REG_DWORD 9 >out 2>err &&
		test_one_line err "another process replaced or removed .\.h\.gpotool-.*, the temp file gpotool wrote and verified for .safe2/h., before the rename" &&
		grep -q "nothing replaced" err && ! grep -q "^verified" out && cmp h.before safe2/h
	'

	test_expect_success 'a GPO whose Registry.xml is swapped in the last instant (shared folder): the GPO unchanged' '
		newg=$(ls -d gpo/{*}) && R=$newg/Machine/Preferences/Registry/Registry.xml &&
		cp "$R" reg.before && cp "$newg/GPT.INI" gpt.before &&
		test_expect_code 4 env LD_PRELOAD=$TRASH/swapshim.so ASAN_OPTIONS=$SHIM_ASAN SWAPSHIM_DECOY=$TRASH/racer/evil.xml \
			SWAPSHIM_MATCH=.Registry.xml.gpotool- SWAPSHIM_TIMES=1 \
			"$GPOTOOL" --allow-shared-dir gpo set "$newg" "$KDC" $SCBE REG_DWORD 1 >out 2>err &&
		grep -q "another process replaced .\.Registry\.xml\.gpotool-.*nothing replaced" err &&
		cmp reg.before "$R" && cmp gpt.before "$newg/GPT.INI"
	'
else
	test_skip 'a swap in the last instant, in a folder others can write' "no C compiler for the shim: $(head -n 1 cc.err)"
	test_skip 'a swap in the last instant in a root-only folder' "no C compiler for the shim"
	test_skip 'a swap just before the identity check in a root-only folder' "no C compiler for the shim"
	test_skip 'a GPO whose Registry.xml is swapped in the last instant' "no C compiler for the shim"
fi

# Killed between the two renames through the private folder (entry.json's is the first
# rename, the temp file into the private folder the second): the hive is untouched, and the
# next write removes the private folder with the staged file in it and goes through.
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	test_expect_success 'killed between the private folder'"'"'s two renames: hive unchanged; the next write clears it' '
		export GPOTOOL_STATE_DIR=$TRASH/state-kill &&
		mkdir killed && chmod 0777 killed && cp -p base.hive killed/h && cp killed/h h.before &&
		test_expect_code 137 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -o /dev/null \
			-e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=SIGKILL:when=3 \
			"$GPOTOOL" --allow-shared-dir hive set killed/h "$KEY" v REG_DWORD 11 >/dev/null 2>&1 &&
		cmp h.before killed/h && test -d "killed/$(ls -A killed | grep "^\.h\.gpotool-")" &&
		gpotool --allow-shared-dir hive set killed/h "$KEY" v REG_DWORD 12 >out 2>err &&
		grep -q "the private folder of a gpotool killed while renaming its write" err &&
		test "$(gpotool hive get killed/h "$KEY" v)" = "dword:0000000c" &&
		test -z "$(ls -A killed | grep gpotool-)"
	'
else
	test_skip 'killed between the private folder'"'"'s two renames' 'no usable strace'
fi

test -f stats && sed 's/^/# /' stats
test_done
