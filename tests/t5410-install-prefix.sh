#!/bin/bash
# Where an installed gpotool finds its data (templates/, the schemas, update-builds.tsv):
# GPOTOOL_DATADIR; the build tree when run from it; PREFIX/share/gpotool/templates beside
# PREFIX/bin/gpotool, whatever PREFIX or DESTDIR it was installed with; the compiled-in
# PREFIX last, which `make install PREFIX=...` rebuilds when PREFIX changed since the
# build. Each check puts a probe template into the installed data only, so that a copy of
# the data found anywhere else cannot make it pass.
# T5410_SRC: the source tree whose Makefile is tried (this one by default).
. "$(dirname "$0")/test-lib.sh"

SRC=${T5410_SRC:-$PROJECT_DIR}

# add_probe DIR: a site template only DIR has (kdc-enforce under another name)
add_probe() {
	sed "s/^name: .*/name: t5410-probe/" "$1/kdc-enforce.template" >"$1/t5410-probe.template" &&
	grep -q "^name: t5410-probe" "$1/t5410-probe.template"
}

test_expect_success 'a gpotool copied to PREFIX/bin finds PREFIX/share/gpotool/templates' '
	mkdir -p reloc/opt/gt/bin reloc/opt/gt/share/gpotool &&
	cp "$GPOTOOL" reloc/opt/gt/bin/gpotool &&
	cp -R "$PROJECT_DIR/templates" reloc/opt/gt/share/gpotool/templates &&
	add_probe reloc/opt/gt/share/gpotool/templates &&
	env -u GPOTOOL_DATADIR reloc/opt/gt/bin/gpotool templates >out 2>err &&
	grep -q "^t5410-probe " out &&
	grep -q "^kdc-compat " out &&
	env -u GPOTOOL_DATADIR reloc/opt/gt/bin/gpotool --state-dir st validate t5410-probe --hive "$(sample_image dc01)/SYSTEM" >v.out 2>v.err
	test $? -le 1 || { cat v.err; false; }
'

test_expect_success 'GPOTOOL_DATADIR overrides every other place' '
	mkdir data && cp -R "$PROJECT_DIR/templates/." data/ &&
	sed "s/^name: .*/name: t5410-env/" data/kdc-enforce.template >data/t5410-env.template &&
	GPOTOOL_DATADIR=$PWD/data reloc/opt/gt/bin/gpotool templates >out &&
	grep -q "^t5410-env " out && ! grep -q "^t5410-probe " out
'

test_expect_success 'without its data beside it, the copy says which folder it looked in' '
	mkdir -p bare/bin && cp "$GPOTOOL" bare/bin/gpotool &&
	test_must_fail env -u GPOTOOL_DATADIR bare/bin/gpotool templates >out 2>err &&
	test_one_line err "templates"
'

# make install from a copy of the tree (sources and the objects of its default build), so
# that the build tree under test is not rebuilt for another PREFIX behind the suite's back
if command -v make >/dev/null && test -f "$SRC/build/gpotool" && test -d "$SRC/build/obj"; then
	test_expect_success 'make install PREFIX=/usr DESTDIR=... after a default build: the data path follows PREFIX' '
		mkdir tree &&
		(cd "$SRC" && cp -a Makefile gpotool templates "$TRASH/tree/") &&
		mkdir -p tree/tests/fuzz tree/tests/fault tree/build &&
		cp -a "$SRC/tests/fuzz/fuzz.mk" tree/tests/fuzz/ && cp -a "$SRC/tests/fault/fault.mk" tree/tests/fault/ &&
		cp -a "$SRC/build/obj" "$SRC/build/gpotool" tree/build/ &&
		if test -f "$SRC/build/prefix"; then cp -a "$SRC/build/prefix" tree/build/; fi &&
		make -C tree build/gpotool >make1.out 2>&1 &&
		strings tree/build/gpotool | grep -qx /usr/local/share/gpotool/templates &&
		make -C tree install PREFIX=/usr DESTDIR="$TRASH/root" >make2.out 2>&1 &&
		test -x root/usr/bin/gpotool &&
		test -f root/usr/share/gpotool/templates/kdc-compat.template &&
		test -f root/usr/share/man/man1/gpotool.1 &&
		strings root/usr/bin/gpotool | grep -qx /usr/share/gpotool/templates &&
		! strings root/usr/bin/gpotool | grep -q /usr/local/share/gpotool &&
		add_probe root/usr/share/gpotool/templates &&
		env -u GPOTOOL_DATADIR root/usr/bin/gpotool templates >out 2>err &&
		grep -q "^t5410-probe " out
	' 
else
	test_skip 'make install PREFIX=/usr DESTDIR=... after a default build: the data path follows PREFIX' \
		"no make, or no default build in $SRC/build"
fi

test_done
