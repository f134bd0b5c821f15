#!/bin/bash
# A site can add templates without rebuilding; a broken one is refused with one line that
# names the file and the line, and nothing is staged from it.
. "$(dirname "$0")/test-lib.sh"

export GPOTOOL_DATADIR="$TRASH/data"

# bad NAME LINE-MATCH CONTENT...: a copy of kdc-enforce with one line changed
bad() {
	rm -rf data && cp -R "$PROJECT_DIR/templates" data &&
	sed "$2" "$PROJECT_DIR/templates/kdc-enforce.template" >data/kdc-enforce.template
}

refused_with() {
	cp "$(sample_image dc01)/SYSTEM" s.hive && cp s.hive s.before &&
	test_must_fail 3 gpotool stage kdc-enforce --hive s.hive >out 2>err &&
	test_one_line err "$1" &&
	grep -q "kdc-enforce.template" err &&
	cmp s.before s.hive &&
	test ! -d state/journal -o -z "$(ls -A state/journal 2>/dev/null)"
}

test_expect_success 'the shipped templates load from a copied data folder' '
	rm -rf data && cp -R "$PROJECT_DIR/templates" data &&
	gpotool templates kdc-enforce >out && grep -q "^kdc-enforce:" out
'

test_expect_success 'an unknown field: refused, naming the file and line' '
	bad x "s/^purpose:/porpoise:/" &&
	refused_with "line [0-9]*: unknown field .porpoise."
'

test_expect_success 'a field given twice' '
	bad x "s/^type: REG_DWORD/type: REG_DWORD\ntype: REG_DWORD/" &&
	refused_with "field .type. given twice"
'

test_expect_success 'a required field missing' '
	bad x "/^value:/d" &&
	refused_with "required field .value. is missing"
'

test_expect_success 'a rule about the value (expires) is not a template field: it belongs in value-rules' '
	bad x "s/^role:/expires: 2025-09-09\nrole:/" &&
	refused_with "line [0-9]*: unknown field .expires."
'

test_expect_success 'data outside the allowed range' '
	bad x "s/^data: 2/data: 9/" &&
	refused_with "data 9 is outside allowed"
'

test_expect_success 'a line without a colon' '
	bad x "s/^role: domain-controller/role domain-controller/" &&
	refused_with "expected .field: value."
'

test_expect_success 'a template whose name field disagrees with its file name' '
	bad x "s/^name: kdc-enforce/name: kdc-other/" &&
	refused_with "says its name is .kdc-other."
'

test_done
