#!/bin/bash
# The source layout of gpotool/README.md, read from the sources themselves: includes run only
# downward through the layers, commands and run/ see targets only through target/target.h,
# each library is included by one file, modules below run/ never print or exit, and every
# source sits in a layer folder. Each check prints what breaks its rule, one line each.
# T0100_SRC: the source folder checked (this tree's gpotool/ by default).
. "$(dirname "$0")/test-lib.sh"

SRC=${T0100_SRC:-$PROJECT_DIR/gpotool}

# The layers, lowest first; folders with the same rank are siblings that must not include
# each other (hive and gpo: neither engine knows the other).
LAYERS="core:0 reg:1 state:2 hive:3 gpo:3 kb:4 domain:4 target:5 run:6 cmd:7"

rank_of() {
	local pair
	for pair in $LAYERS; do
		[ "${pair%%:*}" = "$1" ] && { echo "${pair#*:}"; return 0; }
	done
	return 1
}

# Every source and header below $SRC, as FOLDER/FILE paths, sorted.
sources() { (cd "$SRC" && find . -name '*.[ch]' | sed 's|^\./||' | LC_ALL=C sort); }

# code_only FILE: FILE with comments, string and character literals blanked (their line
# breaks kept, so line numbers still match), so that a word in a message or a comment is
# never taken for a call.
code_only() {
	perl -0777 -pe '
		s{/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'\''(?:\\.|[^'\''\\\n])*'\''}
		 {(my $m = $&) =~ s/[^\n]//g; $m}gse' "$1"
}

# none_in FILE: passes when FILE is empty, else shows its lines (the violations) and fails.
none_in() {
	test -s "$1" || return 0
	cat "$1"
	return 1
}

test_expect_success 'the sources are where this test looks for them' '
	test -d "$SRC/core" && test -d "$SRC/cmd" &&
	sources | grep -q "^cmd/main\.c$"
'

# Includes of gpotool's own headers are "folder/file.h" (-Igpotool), so the folder names the
# layer; an include of another form would hide its layer and is a violation as well.
include_violations() {
	local f dir r line n inc idir ir
	sources | while read -r f; do
		dir=${f%%/*}
		r=$(rank_of "$dir") || continue # reported by the folder check
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$SRC/$f" |
		while IFS= read -r line; do
			n=${line%%:*}
			inc=$(printf '%s\n' "${line#*:}" | sed 's/^[^"]*"\([^"]*\)".*/\1/')
			idir=${inc%%/*}
			if [ "$idir" = "$inc" ] || ! ir=$(rank_of "$idir"); then
				echo "$f:$n: includes \"$inc\", not \"folder/file.h\" with a folder of the layers"
			elif [ "$ir" -gt "$r" ]; then
				echo "$f:$n: includes $inc: $dir is below $idir"
			elif [ "$ir" -eq "$r" ] && [ "$idir" != "$dir" ]; then
				echo "$f:$n: includes $inc: $dir and $idir are siblings, neither includes the other"
			fi
		done
	done
}

test_expect_success 'no include runs from a lower layer to a higher one' '
	include_violations >violations &&
	none_in violations
'

# target/backend.h and each backend's header are for target/ itself: the commands (and the
# run layer they stand on) drive every kind through target/target.h and never name one.
test_expect_success 'commands and the run layer see targets only through target/target.h' '
	sources | grep -E "^(cmd|run)/" | while read -r f; do
		grep -n "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"target/" "$SRC/$f" |
		grep -v "\"target/target\.h\"" | sed "s|^|$f:|"
	done >violations &&
	none_in violations
'

# library_in NAME PATTERN FILE: the files that include a header matching PATTERN (an ERE on
# what is between the angle brackets) are exactly FILE; NAME is the library in the message.
library_in() {
	sources | while read -r f; do
		grep -Eq "^[[:space:]]*#[[:space:]]*include[[:space:]]*<($2)>" "$SRC/$f" && echo "$f"
	done >includers
	echo "$3" >expect
	cmp -s expect includers && return 0
	local by
	by=$(tr "\n" " " <includers)
	echo "$1 must be included by $3 alone; included by: ${by:-no file}"
	return 1
}

test_expect_success 'hivex.h is included by hive/hive.c alone' '
	library_in hivex.h "hivex\.h" hive/hive.c
'

test_expect_success 'libregf.h is included by hive/verify.c alone' '
	library_in libregf.h "libregf\.h" hive/verify.c
'

test_expect_success 'libxml2 is included by gpo/gpp.c alone' '
	library_in libxml2 "libxml/[^>]*" gpo/gpp.c
'

test_expect_success 'libldap and SASL are included by domain/ldap.c alone' '
	library_in libldap "ldap\.h|lber\.h|sasl/[^>]*" domain/ldap.c
'

test_expect_success 'libsmbclient.h is included by domain/smb.c alone' '
	library_in libsmbclient.h "libsmbclient\.h" domain/smb.c
'

test_expect_success 'krb5.h is included by domain/krb.c alone' '
	library_in krb5.h "krb5\.h|krb5/[^>]*|gssapi[^>]*" domain/krb.c
'

# Calls that print or end the process. snprintf, vsnprintf and asprintf format into memory
# and are fine (the character before "printf" keeps them out); so is write() to a file the
# module opened; writes to descriptors 1 and 2 are not.
PRINT_OR_EXIT='(^|[^A-Za-z0-9_.>])(printf|vprintf|fprintf|vfprintf|dprintf|vdprintf|puts|fputs|putchar|putc|fputc|perror|exit|_exit|_Exit|quick_exit|abort|err|errx|verr|verrx|warn|warnx|vwarn|vwarnx|assert|raise|kill|syslog)[[:space:]]*\(|[^A-Za-z0-9_]write[[:space:]]*\([[:space:]]*(1|2|STDOUT_FILENO|STDERR_FILENO)[[:space:]]*,|[^A-Za-z0-9_](stdout|stderr)[^A-Za-z0-9_]'

# The exceptions, each FILE and an ERE on the line's code (comments and strings blanked):
#   core/sbuf.c  out_of_memory: xmalloc and its kin never return NULL, so that no caller
#                carries an error path for allocation (git's xmalloc does the same); when
#                memory runs out there is no error to carry up, only a last message and exit 4.
#   core/fault.c the test-only kill and stop points (GPOTOOL_FAULT=NAME:kill|stop): a
#                SIGKILL stands for a power cut, a SIGSTOP lets a test act mid-write.
ALLOWED='core/sbuf.c	^[[:space:]]*fprintf\(stderr, , n\);$
core/sbuf.c	^[[:space:]]*exit\(4\);$
core/fault.c	^[[:space:]]*raise\(SIGKILL\);$
core/fault.c	^[[:space:]]*raise\(SIGSTOP\);$'

allowed() {
	local file code
	while IFS="	" read -r file code; do
		[ "$file" = "$1" ] && printf "%s\n" "$2" | grep -Eq -- "$code" && return 0
	done <<<"$ALLOWED"
	return 1
}

print_exit_violations() {
	local f line n
	sources | grep -E "^(core|reg|state|hive|gpo|kb|target)/" | while read -r f; do
		code_only "$SRC/$f" | grep -nE -- "$PRINT_OR_EXIT" | while IFS= read -r line; do
			n=${line%%:*}
			allowed "$f" "${line#*:}" && continue
			echo "$f:$n: $(sed -n "${n}p" "$SRC/$f" | sed "s/^[[:space:]]*//")"
		done
	done
}

test_expect_success 'modules below run/ never print or exit' '
	print_exit_violations >violations &&
	none_in violations
'

test_expect_success 'every exception to that rule still exists (none is stale)' '
	while IFS="	" read -r file code; do
		code_only "$SRC/$file" | grep -Eq -- "$code" || echo "$file: no line matches $code"
	done <<<"$ALLOWED" >stale &&
	none_in stale
'

# The Makefile builds gpotool/*/*.c: a source at the top, or one folder deeper, would not
# be built, and one in a folder outside the layers would have no place in them.
test_expect_success 'every source is in one of the layer folders' '
	sources | while read -r f; do
		case $f in
		*/*/*) echo "$f: nested below a layer folder (the Makefile builds gpotool/*/*.c)" ;;
		*/*) rank_of "${f%%/*}" >/dev/null || echo "$f: ${f%%/*}/ is not one of the layers ($LAYERS)" ;;
		*) echo "$f: at the top of gpotool/, not in a layer folder" ;;
		esac
	done >violations &&
	none_in violations
'

test_done
