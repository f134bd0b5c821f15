# Sourced by the live-domain tests, after test-lib.sh: a real Samba AD DC on a loopback address of
# its own, fresh for each test that asks. Provisioning takes 6-18 s, so it is done once into a shared
# template that each DC copies (0.1 s); see TESTING.md ("A real AD DC") and
# ../shared/notes/samba-test-dc.md for the facts behind the settings.
#
#   samba_dc_available      skips the whole script, saying why, unless a DC can run here
#   samba_dc_setup NAME     samba_dc_start NAME as a test of its own (ends the script if it fails)
#   samba_dc_start NAME     copies the template to $TRASH/NAME (a name new in the script), starts
#                           it, waits until it serves, exports DC_* (below), KRB5_CONFIG, KRB5CCNAME
#   samba_dc_use NAME       exports the DC_* of a DC started before (the last one started is in use)
#   samba_dc_stop [NAME]    stops it by PID (the one in use by default); every DC still running is
#                           stopped at exit, failed test or not
#   samba_dc_kinit USER PASS          a ticket from the DC's KDC into KRB5CCNAME
#   samba_dc_with_hosts CMD [ARG...]  CMD (a program or a function of the test) where dc1.example.com
#                           and example.com resolve to DC_ADDR, with a name cache of its own:
#                           Kerberos and TLS name checks need the name, and SMB refuses Kerberos
#                           to an address
#   samba_dc_processes [NAME]  the PIDs of the DC's samba, smbd and winbindd processes
#
# Exported: DC_NAME DC_ADDR DC_HOST (dc1.example.com) DC_DIR DC_SMBCONF DC_SAM (private/sam.ldb)
# DC_CA (private/tls/ca.pem) DC_USER (Administrator) DC_PASS DC_REALM (EXAMPLE.COM) DC_DNS_DOMAIN
# (example.com) DC_NETBIOS_DOMAIN (EXAMPLE) DC_DOMAIN_DN (DC=example,DC=com) DC_HOSTS (the private
# hosts file) KRB5_CONFIG (a krb5.conf naming DC_ADDR as the KDC) KRB5CCNAME (FILE:, in DC_DIR).
#
# Several DCs run at once, each on its own address 127.0.0.2-254 (all of 127/8 is loopback on Linux;
# 127.0.0.1 is left alone, a development DC may live there). What makes that work, measured with
# Samba 4.17:
# - "interfaces = ADDR/8" with "bind interfaces only": an address that is on no interface is taken
#   as given only in the ADDR/MASK form (a bare 127.0.0.2, or 127.0.0.2/32, finds no interface and
#   smbd dies); every listener (88, 135, 139, 389, 445, 464, 636, 3268/9, the RPC ports) is then
#   on ADDR alone.
# - winbindd: "winbindd socket directory" moves only winbindd's own socket. libwbclient, which the
#   DC's smbd uses to reach winbindd (and wbinfo too), always connects to /run/samba/winbindd/pipe
#   (its SELFTEST_WINBINDD_SOCKET_DIR is read only under nss_wrapper), so two DCs' smbds would share
#   one winbindd, the wrong one for all but one. Each DC therefore runs in a mount namespace of its
#   own (unshare -m) where DC_DIR/winbindd is bind-mounted on /run/samba/winbindd; its readiness
#   check runs wbinfo in that namespace (nsenter). Where unshare is refused, the tests skip.
# - Everything else the daemons open (lock, state, cache, private, pid and ncalrpc dirs, msg.sock)
#   is in DC_DIR already.
# An address is held with a flock on its lock file in $SAMBA_DC_LOCK_DIR for as long as a process of
# its DC runs (they alone hold the descriptor), and is taken only if nothing listens on it.
#
# The template also carries the DC's TLS certificates, made like Samba's own (a CA and a host
# certificate, CN=DC1.example.com, no subjectAltName) but once: Samba makes them at a DC's first
# start, 1.5-2.5 s each time.
#
# Environment: GT_SAMBA_TEMPLATE (the template folder; $PROJECT_DIR/build/samba-template by
# default), GT_SAMBA_LOCK_DIR (the address locks; /run/lock/gpotool-samba-dc by default: shared by
# every test run on the machine).

SAMBA_DC_TEMPLATE=${GT_SAMBA_TEMPLATE:-$PROJECT_DIR/build/samba-template}
SAMBA_DC_LOCK_DIR=${GT_SAMBA_LOCK_DIR:-/run/lock/gpotool-samba-dc}
SAMBA_DC_REGISTRY=$TRASH/.samba-dcs
# Raised when the template's recipe changes, so that an older template is provisioned again.
SAMBA_DC_RECIPE_VERSION=1
SAMBA_DC_READY_TRIES=300 # of 0.1 s: 30 s, plus the checks' own time
SAMBA_DC_STOP_TRIES=150  # of 0.1 s, after TERM and again after KILL

DC_HOST=dc1.example.com
DC_USER=Administrator
DC_PASS='Passw0rd!x'
DC_REALM=EXAMPLE.COM
DC_DNS_DOMAIN=example.com
DC_NETBIOS_DOMAIN=EXAMPLE
DC_DOMAIN_DN=DC=example,DC=com
export DC_HOST DC_USER DC_PASS DC_REALM DC_DNS_DOMAIN DC_NETBIOS_DOMAIN DC_DOMAIN_DN

# The Debian packages, from the Makefile's DOMAIN_TEST_PACKAGES line (make deps-domain installs them).
samba_dc_packages() {
	sed -n 's/^DOMAIN_TEST_PACKAGES[[:space:]]*:=[[:space:]]*//p' "$PROJECT_DIR/Makefile" 2>/dev/null
}

# samba_dc_skip_all REASON: the script's one result, a skip with REASON (tap-summary counts it).
samba_dc_skip_all() {
	test_skip "the tests of $(basename "$0")" "$1"
	test_done
	exit 0
}

samba_dc_available() {
	local p missing="" packages
	packages=$(samba_dc_packages)
	if [ -z "$packages" ]; then
		# a broken harness, not a missing feature of this machine: a failure
		test_expect_success 'the Makefile names the live-domain test packages' '
			echo "no DOMAIN_TEST_PACKAGES line in $PROJECT_DIR/Makefile"; false'
		test_done
		exit 1
	fi
	[ "$(id -u)" = 0 ] ||
		samba_dc_skip_all "not root: a test DC's provisioning sets file owners and ACLs, and its servers bind ports below 1024"
	for p in $packages; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] ||
		samba_dc_skip_all "missing Debian packages:$missing (make deps-domain installs them as root)"
	/usr/bin/python3 -c 'import samba' 2>/dev/null ||
		samba_dc_skip_all "/usr/bin/python3 cannot import samba (samba-tool needs Samba's Python modules)"
	unshare -m true 2>/dev/null ||
		samba_dc_skip_all "unshare -m is refused here: each test DC needs a mount namespace for its own /run/samba/winbindd"
	return 0
}

# The time since the epoch in microseconds; samba_dc_seconds START END: END - START, in seconds.
samba_dc_now() { echo "${EPOCHREALTIME/./}"; }
samba_dc_seconds() { printf '%d.%02d' $((($2 - $1) / 1000000)) $((($2 - $1) % 1000000 / 10000)); }

# The provisioning arguments for the tree DIR: the DC of the notes, with its pid, ncalrpc and
# winbindd socket directories in the tree too (the defaults are shared by every DC on the host).
samba_dc_provision_args() {
	local d=$1
	printf '%s\n' --targetdir="$d" --realm="$DC_REALM" --domain="$DC_NETBIOS_DOMAIN" \
		--adminpass="$DC_PASS" --server-role=dc --dns-backend=NONE --use-rfc2307 --host-name=dc1 \
		--option="interfaces=lo" --option="bind interfaces only=yes" \
		--option="server services=s3fs, rpc, ldap, cldap, kdc, winbindd" \
		--option="log file=$d/log.%m" --option="pid directory=$d/run" \
		--option="ncalrpc dir=$d/run/ncalrpc" --option="winbindd socket directory=$d/winbindd"
}

# What the template is made from: a template made otherwise, or by another Samba, is made again.
samba_dc_recipe() {
	echo "recipe $SAMBA_DC_RECIPE_VERSION"
	samba --version
	samba_dc_provision_args "$SAMBA_DC_TEMPLATE"
}

# samba_dc_make_certs DIR: in DIR (private/tls), what Samba makes at a DC's first start when DIR
# is empty: ca.pem, cert.pem and key.pem (0600), both CN=DC1.example.com. The CA's key is not kept.
samba_dc_make_certs() {
	local d=$1 o='/O=Samba Administration/OU=Samba - temporary autogenerated'
	mkdir -p "$d" &&
	printf '%s\n' '[req]' 'distinguished_name = dn' '[dn]' \
		'[ca]' 'basicConstraints = critical, CA:TRUE' 'keyUsage = critical, keyCertSign, cRLSign' \
		'subjectKeyIdentifier = hash' \
		'[host]' 'basicConstraints = critical, CA:FALSE' 'extendedKeyUsage = serverAuth' \
		'subjectKeyIdentifier = hash' >"$d/openssl.cnf" &&
	openssl req -x509 -new -newkey rsa:2048 -nodes -days 3650 -config "$d/openssl.cnf" \
		-extensions ca -subj "$o CA certificate/CN=DC1.$DC_DNS_DOMAIN" \
		-keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null &&
	openssl req -new -newkey rsa:2048 -nodes -config "$d/openssl.cnf" \
		-subj "$o HOST certificate/CN=DC1.$DC_DNS_DOMAIN" -keyout "$d/key.pem" -out "$d/host.csr" 2>/dev/null &&
	openssl x509 -req -in "$d/host.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -set_serial 2 \
		-days 3650 -extfile "$d/openssl.cnf" -extensions host -out "$d/cert.pem" 2>/dev/null &&
	chmod 0600 "$d/key.pem" &&
	rm -f "$d/ca-key.pem" "$d/host.csr" "$d/openssl.cnf"
}

# samba_dc_provision DIR: a fresh DC tree in DIR (whatever was there is removed), with the SPN
# ldap/dc1.example.com on DC1$ (provisioned without DNS it has only HOST/ ones, and a Kerberos
# ticket for LDAP needs it) and its TLS certificates. The log is DIR.log.
samba_dc_provision() {
	local d=$1 log=$1.log
	local -a args
	mapfile -t args < <(samba_dc_provision_args "$d")
	rm -rf "$d" &&
	samba-tool domain provision "${args[@]}" >"$log" 2>&1 &&
	samba-tool spn add "ldap/$DC_HOST" 'DC1$' -s "$d/etc/smb.conf" -H "$d/private/sam.ldb" >>"$log" 2>&1 &&
	samba_dc_make_certs "$d/private/tls" >>"$log" 2>&1 && return 0
	echo "provisioning the template DC in $d failed; the end of $log:" >&2
	tail -n 15 "$log" >&2
	return 1
}

# samba_dc_template: makes the template unless a complete one (its stamp, written last, holds the
# current recipe) is there. Test scripts run in parallel wait on its lock instead of provisioning
# twice. Sets SAMBA_DC_PROVISIONED to the seconds it took, or "reused".
samba_dc_template() {
	local fd t0 rc=0
	mkdir -p "$(dirname "$SAMBA_DC_TEMPLATE")" || return 1
	exec {fd}>"$SAMBA_DC_TEMPLATE.lock" || return 1
	if ! flock -w 600 "$fd"; then
		echo "the template $SAMBA_DC_TEMPLATE stayed locked for 10 minutes" >&2
		exec {fd}>&-
		return 1
	fi
	SAMBA_DC_PROVISIONED=reused
	if [ "$(cat "$SAMBA_DC_TEMPLATE/.harness-stamp" 2>/dev/null)" != "$(samba_dc_recipe)" ]; then
		t0=$(samba_dc_now)
		if samba_dc_provision "$SAMBA_DC_TEMPLATE"; then
			SAMBA_DC_PROVISIONED="$(samba_dc_seconds "$t0" "$(samba_dc_now)") s"
			samba_dc_recipe >"$SAMBA_DC_TEMPLATE/.harness-stamp"
		else
			rc=1
		fi
	fi
	exec {fd}>&-
	return $rc
}

# samba_dc_copy DIR: the template copied to DIR, under a shared lock (never while it is being
# made); its smb.conf's paths rewritten to DIR (sam.ldb holds none).
samba_dc_copy() {
	local d=$1 fd rc=0
	exec {fd}<"$SAMBA_DC_TEMPLATE.lock" || return 1
	flock -s -w 600 "$fd" && cp -a "$SAMBA_DC_TEMPLATE" "$d" || rc=1
	exec {fd}<&-
	[ $rc -eq 0 ] || { echo "copying the template $SAMBA_DC_TEMPLATE to $d failed" >&2; return 1; }
	rm -f "$d/.harness-stamp"
	OLD=$SAMBA_DC_TEMPLATE NEW=$d perl -pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/g' "$d/etc/smb.conf"
}

# samba_dc_address_in_use ADDR: something listens on ADDR (TCP or UDP), ours or not.
samba_dc_address_in_use() {
	[ -n "$(ss -Hltun "src $1" 2>/dev/null)" ]
}

# samba_dc_take_address: the first of 127.0.0.2-254 whose lock this shell gets and where nothing
# listens; sets DC_ADDR and SAMBA_DC_LOCK_FD, the descriptor that holds the lock (samba_dc_launch
# hands it to the DC).
samba_dc_take_address() {
	local n fd
	mkdir -p "$SAMBA_DC_LOCK_DIR" || return 1
	for n in $(seq 2 254); do
		exec {fd}>"$SAMBA_DC_LOCK_DIR/127.0.0.$n.lock" || return 1
		if flock -n "$fd" && ! samba_dc_address_in_use "127.0.0.$n"; then
			DC_ADDR=127.0.0.$n SAMBA_DC_LOCK_FD=$fd
			return 0
		fi
		exec {fd}>&-
	done
	echo "no free loopback address for a test DC: 127.0.0.2-254 are all locked or in use" >&2
	return 1
}

# samba_dc_configure DIR ADDR: the copy's smb.conf bound to ADDR alone, its krb5.conf (multi-line
# [realms]: the one-line form is not parsed) and its hosts file for samba_dc_with_hosts.
samba_dc_configure() {
	local d=$1 addr=$2
	ADDR=$addr perl -pi -e 's/^(\s*interfaces\s*=).*/$1 $ENV{ADDR}\/8/' "$d/etc/smb.conf" &&
	grep -qx "[[:space:]]*interfaces = $addr/8" "$d/etc/smb.conf" || {
		echo "could not set 'interfaces = $addr/8' in $d/etc/smb.conf" >&2
		return 1
	}
	mkdir -p "$d/run" "$d/winbindd" "$d/client-lock" && chmod 0755 "$d/winbindd" &&
	printf '%s\n' '[libdefaults]' "default_realm = $DC_REALM" 'dns_lookup_kdc = false' \
		'dns_lookup_realm = false' 'rdns = false' 'dns_canonicalize_hostname = false' \
		'[realms]' "$DC_REALM = {" "kdc = $addr" '}' \
		'[domain_realm]' ".$DC_DNS_DOMAIN = $DC_REALM" "$DC_DNS_DOMAIN = $DC_REALM" >"$d/krb5.conf" &&
	printf '127.0.0.1\tlocalhost\n%s\t%s %s\n' "$addr" "$DC_HOST" "$DC_DNS_DOMAIN" >"$d/hosts"
}

# samba_dc_launch DIR: samba in the background, in a mount namespace where DIR/winbindd is
# /run/samba/winbindd, in a session of its own (no terminal's signals), its output in
# DIR/samba.out; sets SAMBA_DC_PID. The background job is not a process group leader, so setsid
# does not fork: $! is samba's PID (checked against run/samba.pid once it serves). The address
# lock's descriptor goes to samba alone (its smbd and winbindd inherit it): the address stays
# taken exactly as long as a process of the DC runs, whichever shell stops it, or none.
samba_dc_launch() {
	local d=$1
	mkdir -p /run/samba/winbindd || return 1
	env KRB5_CONFIG="$d/krb5.conf" KRB5CCNAME="FILE:$d/run/krb5cc" \
		unshare -m -- sh -c 'mount --bind "$1/winbindd" /run/samba/winbindd &&
			exec setsid samba -s "$1/etc/smb.conf" -M single --foreground' sh "$d" \
		</dev/null >"$d/samba.out" 2>&1 &
	SAMBA_DC_PID=$!
	eval "exec $SAMBA_DC_LOCK_FD>&-"
}

# samba_dc_alive PID: PID runs (a zombie does not).
samba_dc_alive() {
	local st
	st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# samba_dc_port_open ADDR PORT: a TCP connection to it is accepted.
samba_dc_port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# samba_dc_wait_ready DIR ADDR: polls, a bounded number of times, until LDAP (389), LDAPS (636)
# and SMB (445) accept connections on ADDR and this DC's winbindd answers a ping; fails at once
# if samba exits.
samba_dc_wait_ready() {
	local d=$1 addr=$2 i
	for i in $(seq 1 "$SAMBA_DC_READY_TRIES"); do
		if ! samba_dc_alive "$SAMBA_DC_PID"; then
			echo "samba exited while starting; the end of its log $d/log.%m:" >&2
			tail -n 15 "$d/log.%m" "$d/samba.out" >&2 2>/dev/null
			return 1
		fi
		samba_dc_port_open "$addr" 389 && samba_dc_port_open "$addr" 636 &&
			samba_dc_port_open "$addr" 445 &&
			nsenter -t "$SAMBA_DC_PID" -m wbinfo -p >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "the DC in $d did not serve LDAP, LDAPS, SMB and winbindd on $addr within 30 s" >&2
	return 1
}

# samba_dc_record_pids DIR [NS]: DIR/harness.pids, what samba_dc_processes and samba_dc_stop
# read: samba's PID and (once samba serves, so is surely in it) the DC's mount namespace.
samba_dc_record_pids() {
	local d=$1 ns=${2:-}
	printf 'SAMBA_DC_PID=%s\nSAMBA_DC_MNTNS=%q\n' "$SAMBA_DC_PID" "$ns" >"$d/harness.pids"
}

# samba_dc_record DIR NAME: the namespace into harness.pids, and DIR/harness.env, the DC's
# exports (read by samba_dc_use).
samba_dc_record() {
	local d=$1 name=$2 ns
	if [ "$(cat "$d/run/samba.pid" 2>/dev/null)" != "$SAMBA_DC_PID" ]; then
		echo "samba was started as PID $SAMBA_DC_PID but $d/run/samba.pid says $(cat "$d/run/samba.pid" 2>/dev/null)" >&2
		return 1
	fi
	ns=$(readlink "/proc/$SAMBA_DC_PID/ns/mnt") || return 1
	samba_dc_record_pids "$d" "$ns"
	{
		printf 'export DC_NAME=%q DC_ADDR=%q DC_DIR=%q\n' "$name" "$DC_ADDR" "$d"
		printf 'export DC_SMBCONF=%q DC_SAM=%q DC_CA=%q DC_HOSTS=%q\n' "$d/etc/smb.conf" \
			"$d/private/sam.ldb" "$d/private/tls/ca.pem" "$d/hosts"
		printf 'export KRB5_CONFIG=%q KRB5CCNAME=%q\n' "$d/krb5.conf" "FILE:$d/krb5cc"
	} >"$d/harness.env"
}

samba_dc_start() {
	local name=$1 d="$TRASH/$1" t0 t1 t2
	[ -n "$name" ] && [ ! -e "$d" ] || { echo "samba_dc_start: '$name' is no new DC name" >&2; return 1; }
	samba_dc_template || return 1
	t0=$(samba_dc_now)
	samba_dc_copy "$d" || return 1
	t1=$(samba_dc_now)
	samba_dc_take_address || return 1
	if ! samba_dc_configure "$d" "$DC_ADDR" || ! samba_dc_launch "$d"; then
		eval "exec $SAMBA_DC_LOCK_FD>&-"
		return 1
	fi
	echo "$name" >>"$SAMBA_DC_REGISTRY"
	samba_dc_record_pids "$d"
	samba_dc_wait_ready "$d" "$DC_ADDR" && samba_dc_record "$d" "$name" || return 1
	t2=$(samba_dc_now)
	SAMBA_DC_TIMES="provisioning $SAMBA_DC_PROVISIONED, copy $(samba_dc_seconds "$t0" "$t1") s, start to ready $(samba_dc_seconds "$t1" "$t2") s"
	echo "$SAMBA_DC_TIMES" >"$d/harness.times"
	samba_dc_use "$name"
}

samba_dc_use() {
	[ -f "$TRASH/$1/harness.env" ] || { echo "no DC '$1' was started" >&2; return 1; }
	. "$TRASH/$1/harness.env"
}

# samba_dc_setup NAME: samba_dc_start NAME reported as a test, with the times in a comment; when
# it fails the script ends, since what follows needs the DC.
samba_dc_setup() {
	test_count=$((test_count + 1))
	if samba_dc_start "$1" >"$TRASH/.test-output" 2>&1; then
		echo "ok $test_count - setup: DC $1 at $DC_ADDR"
		echo "# DC $1: $SAMBA_DC_TIMES"
		return 0
	fi
	echo "not ok $test_count - setup: DC $1"
	say_fail
	test_failed=$((test_failed + 1))
	test_done
	exit 1
}

# samba_dc_processes [NAME]: the PIDs of the DC's running processes: those in the process groups
# of its samba, smbd and winbindd (the PIDs in DIR/run: they setsid() themselves) and, once it
# served, in its mount namespace, so that a PID reused by another process is not taken for theirs.
samba_dc_processes() {
	local name=${1:-$DC_NAME} f pid rest pgids SAMBA_DC_PID SAMBA_DC_MNTNS
	. "$TRASH/$name/harness.pids" 2>/dev/null || . "$TRASH/$name/harness.pids.stopped" || return 1
	pgids=" $SAMBA_DC_PID $(cat "$TRASH/$name/run/smbd.pid" "$TRASH/$name/run/winbindd.pid" 2>/dev/null | tr '\n' ' ') "
	for f in /proc/[0-9]*/stat; do
		read -r rest 2>/dev/null <"$f" || continue
		pid=${f#/proc/} pid=${pid%/stat}
		rest=${rest##*) }
		set -- $rest
		[ "$1" != Z ] && [ "$1" != X ] || continue
		case $pgids in *" $3 "*) ;; *) continue ;; esac
		[ -z "$SAMBA_DC_MNTNS" ] || [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$SAMBA_DC_MNTNS" ] || continue
		echo "$pid"
	done
}

# samba_dc_wait_gone NAME: polls until none of the DC's processes runs (bounded).
samba_dc_wait_gone() {
	local i
	for i in $(seq 1 "$SAMBA_DC_STOP_TRIES"); do
		[ -z "$(samba_dc_processes "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}

# samba_dc_stop [NAME]: TERM to samba (it ends smbd and winbindd), then KILL to each of the DC's
# processes still there 15 s later; reaps samba. The address is free once they have all ended.
samba_dc_stop() {
	local name=${1:-$DC_NAME} d pids rc=0 SAMBA_DC_PID SAMBA_DC_MNTNS
	d=$TRASH/$name
	[ -f "$d/harness.pids" ] || return 0
	. "$d/harness.pids"
	kill -TERM "$SAMBA_DC_PID" 2>/dev/null
	if ! samba_dc_wait_gone "$name"; then
		pids=$(samba_dc_processes "$name")
		echo "DC $name: still running 15 s after TERM, killed:" $pids >&2
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
		samba_dc_wait_gone "$name" || { echo "DC $name: left running:" $(samba_dc_processes "$name") >&2; rc=1; }
	fi
	wait "$SAMBA_DC_PID" 2>/dev/null
	[ $rc -ne 0 ] || mv "$d/harness.pids" "$d/harness.pids.stopped"
	return $rc
}

samba_dc_stop_all() {
	local name
	[ -f "$SAMBA_DC_REGISTRY" ] || return 0
	while read -r name; do
		samba_dc_stop "$name"
	done <"$SAMBA_DC_REGISTRY"
}

samba_dc_kinit() {
	printf '%s\n' "$2" | kinit "$1@$DC_REALM" >/dev/null
}

# samba_dc_with_hosts CMD [ARG...]: CMD in a mount namespace of its own (unshare -m makes its
# mounts private) where DC_HOSTS is /etc/hosts and DC_DIR/client-lock is /run/samba, the clients'
# lock directory: Samba's clients (smbclient, libsmbclient) keep the addresses they resolved in
# its gencache.tdb for 11 minutes, shared by all, and took dc1.example.com for another DC's address
# found there. A function CMD brings the test's functions along (their definitions, not the
# unexported variables they read). Exit 125 when a bind mount fails.
samba_dc_with_hosts() {
	local funcs=""
	! declare -F "$1" >/dev/null || funcs=$(declare -f)
	unshare -m -- bash -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /run/samba || exit 125
		eval "$3"; shift 3; "$@"' bash "$DC_HOSTS" "$DC_DIR/client-lock" "$funcs" "$@"
}

# Every DC still running is stopped when the script exits, before test-lib's trap removes $TRASH.
samba_dc_exit_trap=$(trap -p EXIT)
samba_dc_exit_trap=${samba_dc_exit_trap#trap -- }
eval "samba_dc_exit_trap=${samba_dc_exit_trap% EXIT}"
trap "samba_dc_stop_all; $samba_dc_exit_trap" EXIT
