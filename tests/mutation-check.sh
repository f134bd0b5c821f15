#!/bin/bash
# tests/mutation-check.sh [MUTANT...]: does every safety check have a test that notices when it
# is gone? Each mutant below disables one check with a small sed on a copy of the tree; the
# copy is rebuilt (one object) and the test scripts named for that mutant are run against it.
# A mutant is "killed" when at least one of those tests fails, as it must; "SURVIVED" means no
# test noticed the check was gone. Prints one line per mutant with the tests that killed it,
# and exits 1 when a mutant survived, did not apply (the code it edits has changed: update the
# sed) or did not build. Run on demand (not by make check): each mutant costs a rebuild and a
# few scripts. Needs a built tree (make build/gpotool samples). MUTANT names pick a subset;
# MUTATION_TESTS="t1000 t2200 ..." runs those scripts for every mutant instead.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/gpotool-mutants.XXXXXX")
trap 'rm -rf "$work"' EXIT

# NAME#FILE#SED SCRIPT#TEST SCRIPTS (tests/tNNNN prefixes, space separated)
mutants='
check_plan#hive/hivetx.c#s/^\t\tif (!ok) {$/\t\tif (!ok \&\& 0) {/#t5400
cross_check_key#hive/hivetx.c#s/else if (!same_values(hv_vals, hv_n, rf_vals, rf_n))/else if (!same_values(hv_vals, hv_n, rf_vals, rf_n) \&\& 0)/#t5400
base_block_checksum#hive/hivefile.c#s/if (h.checksum_stored != h.checksum_computed)/if (h.checksum_stored != h.checksum_computed \&\& 0)/#t1100
dtd_refusal#gpo/gpp.c#s/if (find_bytes(buf, buf + len, "<!DOCTYPE") || /if (0 \&\& /#t2200
dirty_check#hive/hivefile.c#s/if (h.seq1 != h.seq2 && !allow_dirty)/if (h.seq1 != h.seq2 \&\& !allow_dirty \&\& 0)/#t1100
gptini_read_back#gpo/gpotx.c#s/ok = check.version == tx->new_version;/ok = check.version == tx->new_version || 1;/#t5400
schema_check#gpo/gpp.c#s/|| validate_schema(d->doc, schema_path, &x, e) < 0)/|| (0 \&\& validate_schema(d->doc, schema_path, \&x, e) < 0))/#t5400 t2200
lock#core/safefile.c#s/while (flock(fd, LOCK_EX | LOCK_NB) < 0) {/while (0 \&\& flock(fd, LOCK_EX | LOCK_NB) < 0) {/#t1300 t2000
gpp_item_value#gpo/gpp.c#/^static int item_matches/,/^}/s/^\tif (!ok)$/\tif (!ok \&\& 0)/#t5400
temp_identity#core/safefile.c#s/if (fstatat(dirfd, tmp_name, &there, AT_SYMLINK_NOFOLLOW) < 0 || !same_inode(&mine, &there))$/if (0)/#t5000
gpp_other_items#gpo/gpp.c#/^static int same_other_items/,/^}/s/if (strcmp(a.buf, b.buf) != 0)$/if (strcmp(a.buf, b.buf) != 0 \&\& 0)/#t5400
'

want=" $* "
# the copy: sources, tests, and the objects and sample images of the build, so that a mutant
# rebuilds one object; ../shared (corpus, hive generator) seen through a link, as from the tree
mkdir "$work/tree" "$work/tree/build"
(cd "$src" && cp -a Makefile gpotool templates hives tests "$work/tree/") &&
	cp -a "$src/build/obj" "$src/build/gpotool" "$src/build/images" "$work/tree/build/" || exit 1
[ -f "$src/build/prefix" ] && cp -a "$src/build/prefix" "$work/tree/build/"
[ -d "$src/../shared" ] && ln -s "$(cd "$src/../shared" && pwd)" "$work/shared"
tree=$work/tree

# run_tests TAG PREFIXES: runs the scripts; prints the failed tests ("tNNNN: not ok N - title")
run_tests() {
	local tag=$1 p s
	shift
	for p in $*; do
		for s in "$tree"/tests/$p-*.sh; do
			GPOTOOL=$tree/build/gpotool T4300_KILLS=2 prove -v "$s" >"$work/$tag.$p.log" 2>&1 ||
				grep "^not ok" "$work/$tag.$p.log" | grep -v "# TODO" | sed "s/^/$p: /"
		done
	done
}

build() { make -C "$tree" build/gpotool >"$work/build.log" 2>&1; }

all_tests=$(while IFS='#' read -r name file sed tests; do
	[ -n "$name" ] && { [ "$want" = "  " ] || [[ $want == *" $name "* ]]; } && echo ${MUTATION_TESTS:-$tests}
done <<<"$mutants" | tr ' ' '\n' | sort -u | tr '\n' ' ')
build || { echo "the unmutated copy does not build; see the tree's own make output"; exit 1; }
control=$(run_tests control $all_tests)
if [ -n "$control" ]; then
	echo "these tests fail without any mutant, so a kill would mean nothing:"
	echo "$control"
	exit 1
fi
echo "control: $all_tests pass on the unmutated tree"

bad=0
while IFS='#' read -r name file sed tests; do
	[ -n "$name" ] || continue
	[ "$want" = "  " ] || [[ $want == *" $name "* ]] || continue
	f=$tree/gpotool/$file
	cp -p "$f" "$work/orig"
	sed -i -e "$sed" "$f"
	if cmp -s "$f" "$work/orig"; then
		printf '%-22s NOT APPLIED (gpotool/%s no longer has the code this sed edits)\n' "$name" "$file"
		bad=1
	elif ! touch "$f" || ! build; then
		printf '%-22s DID NOT BUILD\n' "$name"
		sed 's/^/    /' "$work/build.log" | tail -n 5
		bad=1
	else
		killed=$(run_tests "$name" ${MUTATION_TESTS:-$tests})
		if [ -n "$killed" ]; then
			printf '%-22s killed by %s:\n' "$name" "$(echo "$killed" | cut -d: -f1 | sort -u | tr '\n' ' ')"
			echo "$killed" | sed 's/^/    /'
		else
			printf '%-22s SURVIVED %s\n' "$name" "${MUTATION_TESTS:-$tests}"
			bad=1
		fi
	fi
	cp -p "$work/orig" "$f" && touch "$f"
done <<<"$mutants"
exit $bad
