#!/bin/bash
# A writer resolves every folder of a target's path without following a symbolic link (an
# openat walk with O_NOFOLLOW) and holds the folder by descriptor. So a journal path whose
# folder part has become a symbolic link since is refused on rollback (exit 3, nothing
# written anywhere), dry run included; and a path typed with a symbolic link to a folder in
# it is refused for writing too (give the real path), while relative paths and paths under
# /tmp work as ever. Reading through such a path (hive get, gpo show) still works.
. "$(dirname "$0")/test-lib.sh"

KEY='Software\Test'
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
SCBE=StrongCertificateBindingEnforcement
entry_of() { sed -n "s/^journal: //p" "$1"; }

test_expect_success 'setup: a hive and a GPO, each written once (journaled by absolute path)' '
	gpotool hive new base.hive >/dev/null &&
	mkdir -p real/dir && cp base.hive real/dir/h &&
	gpotool hive set real/dir/h "$KEY" v REG_DWORD 1 >out && entry_of out >hive.id &&
	grep -q "\"path\": \"$TRASH/real/dir/h\"" state/journal/$(cat hive.id)/entry.json &&
	mkdir -p pol && gpotool gpo new pol --name sym >/dev/null && G=$(ls -d pol/{*}) && echo "$G" >gpo.name &&
	gpotool gpo set "$G" "$KDC" $SCBE REG_DWORD 2 >out && entry_of out >gpo.id
'

test_expect_success 'the hive'"'"'s folder replaced by a symbolic link: rollback refused (exit 3), nothing written' '
	mv real/dir real/dir.moved && mkdir elsewhere && cp real/dir.moved/h elsewhere/h && ln -s ../elsewhere real/dir &&
	cp elsewhere/h else.before && cp real/dir.moved/h moved.before &&
	test_must_fail 3 gpotool rollback "$(cat hive.id)" >out 2>err &&
	test_one_line err "journal entry $(cat hive.id): not following it: .$TRASH/real/dir. is a symbolic link to a folder" &&
	cmp else.before elsewhere/h && cmp moved.before real/dir.moved/h &&
	! ls -A elsewhere | grep -q gpotool-
'

test_expect_success 'the same with --dry-run, and with a folder higher up made a link' '
	test_must_fail 3 gpotool rollback "$(cat hive.id)" --dry-run 2>err &&
	test_one_line err "is a symbolic link to a folder" &&
	rm real/dir && mv real/dir.moved real/dir && mv real real.moved && ln -s real.moved real &&
	test_must_fail 3 gpotool rollback "$(cat hive.id)" 2>err &&
	test_one_line err "not following it: .$TRASH/real. is a symbolic link to a folder" &&
	cmp moved.before real.moved/dir/h &&
	rm real && mv real.moved real &&
	gpotool rollback "$(cat hive.id)" >out 2>err &&
	cmp base.hive real/dir/h
'

test_expect_success 'a GPO whose Policies folder became a symbolic link: rollback refused, both copies untouched' '
	G=$(cat gpo.name) &&
	mv pol pol.moved && cp -a pol.moved pol.copy && ln -s pol.copy pol &&
	snap() { find "$1" -type f -exec sha256sum {} + | sed "s| $1/| |" | sort; } &&
	snap pol.copy >copy.before && snap pol.moved >moved.before &&
	test_must_fail 3 gpotool rollback "$(cat gpo.id)" 2>err &&
	test_one_line err "journal entry $(cat gpo.id): not following it: .$TRASH/pol. is a symbolic link to a folder" &&
	test_must_fail 3 gpotool rollback "$(cat gpo.id)" --dry-run 2>err &&
	test_one_line err "is a symbolic link to a folder" &&
	snap pol.copy >copy.after && snap pol.moved >moved.after &&
	test_cmp copy.before copy.after && test_cmp moved.before moved.after &&
	rm pol && mv pol.moved pol
'

test_expect_success 'a typed path through a symbolic link to a folder: writes refused (exit 3), reads work' '
	ln -s real/dir linked && cp real/dir/h h.before &&
	test_must_fail 3 gpotool hive set linked/h "$KEY" v REG_DWORD 5 2>err &&
	test_one_line err "^gpotool: .linked. is a symbolic link to a folder; gpotool writes only through real folders (give the real path of .linked/h., as realpath prints it)" &&
	cmp h.before real/dir/h &&
	gpotool hive info linked/h >/dev/null &&
	ln -s "$(cat gpo.name)" gpolink &&
	test_must_fail 3 gpotool gpo set gpolink "$KDC" $SCBE REG_DWORD 1 2>err &&
	grep -q "symbolic link" err &&
	gpotool gpo show gpolink >/dev/null
'

test_expect_success 'a link planted for a folder a new Registry.xml needs: refused (exit 3), nothing made where it points' '
	gpotool gpo new pol --name planted >/dev/null && P=$(ls -d pol/{*} | grep -v "$(cat gpo.name)") &&
	mkdir target.dir && ln -s "$TRASH/target.dir" "$P/Machine/Preferences" &&
	cp "$P/GPT.INI" gpt.before &&
	test_must_fail 3 gpotool gpo set "$P" "$KDC" $SCBE REG_DWORD 2 2>err &&
	grep -q "symbolic link" err &&
	test -z "$(ls -A target.dir)" && cmp gpt.before "$P/GPT.INI"
'

test_expect_success 'relative paths, ./ and .. in them, and absolute paths under /tmp keep working' '
	mkdir -p a/b && cp base.hive a/b/h &&
	gpotool hive set ./a/b/h "$KEY" v REG_DWORD 6 >/dev/null &&
	(cd a/b && gpotool hive set h "$KEY" v REG_DWORD 7 >/dev/null && gpotool hive set ../b/./h "$KEY" w REG_DWORD 8 >/dev/null) &&
	gpotool hive set "$TRASH/a/b/h" "$KEY" x REG_DWORD 9 >/dev/null &&
	test "$(gpotool hive get a/b/h "$KEY" v)" = "dword:00000007" &&
	test "$(gpotool hive get a/b/h "$KEY" x)" = "dword:00000009"
'

test_done
