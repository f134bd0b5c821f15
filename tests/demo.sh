#!/bin/bash
# make demo: the main job on the bundled sample images (built by `make` from hives/*/*.reg into
# build/images), run on copies under build/demo so that every path it prints can be opened
# afterwards. Each run starts build/demo afresh. Commands are echoed shell-quoted, with the
# binary's real path, so that they can be pasted (from the project folder).
set -euo pipefail
G=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# the binary as a user would type it from here: build/gpotool, or its full path elsewhere
case "$G" in "$root"/*) shown=${G#"$root"/} ;; *) shown=$G ;; esac
work=${GPOTOOL_DEMO_DIR:-build/demo}   # tests run it elsewhere
rm -rf "$work"
mkdir -p "$work"
export GPOTOOL_STATE_DIR="$work/state"
cp -R build/images "$work/images"
dc="$work/images/dc01/Windows"
conn="$work/images/connector01/Windows"
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'

# bold only on a terminal, and never with NO_COLOR set (https://no-color.org)
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi

# The expiry warning comes with every command that stages or checks an expired value; the
# demo shows it once, where it first matters, and drops its repeats.
seen=$(mktemp "${TMPDIR:-/tmp}/gpotool-demo-seen.XXXXXX")
trap 'rm -f "$seen"' EXIT
once() {
	while IFS= read -r line; do
		case "$line" in
		*"gpotool: warning: "*EXPIRED*)
			if grep -qxF -- "$line" "$seen"; then continue; fi
			printf '%s\n' "$line" >>"$seen"
			printf '%s\n' "$line" "# (this warning comes with every command that stages or checks that value; shown once here)"
			;;
		*) printf '%s\n' "$line" ;;
		esac
	done
}

# q ARG: ARG as a shell reads it back: bare when it is plain, else in single quotes
q() {
	case "$1" in
	'' | *[!A-Za-z0-9_./=:,+@%-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
	*) printf '%s' "$1" ;;
	esac
}
# show CMD...: the command as typed, shell-quoted
show() {
	printf '\n%s$ %s' "$B" "$shown"
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	printf '%s\n' "$N"
}
# stdout and stderr through one pipe, in the order written: stdbuf makes stdout line-buffered
# (not with an ASan build, whose runtime must come first: there the order may differ)
if stdbuf -oL "$G" --version >/dev/null 2>&1; then LINEBUF=(stdbuf -oL -eL); else LINEBUF=(); fi
run() { "${LINEBUF[@]}" "$G" "$@" 2>&1 | once; return "${PIPESTATUS[0]}"; }
step() { show "$@"; run "$@"; }
step_rc() { show "$@"; set +e; run "$@"; echo "(exit $?)"; set -e; }

echo "== gpotool demo: copies of the sample images in $work/images, journal and audit trail in $work/state"
echo "   (the commands below run with GPOTOOL_STATE_DIR=$work/state; without it, root's state is /var/lib/gpotool)"
echo
echo "== The domain controller's offline image (SYSTEM and SOFTWARE hives)"
step hive info "$dc/System32/config/SYSTEM"
step hive info "$dc/System32/config/SOFTWARE"
step templates

echo
echo "== Stage the February 2025 compatibility-mode workaround on the DC image"
echo "   (as of today it has expired: it helps only DCs without the September 9, 2025 update)"
step --ticket CHG-1042 stage kdc-compat --image "$dc"
step validate kdc-compat --image "$dc"
echo "# read back by reglookup, a parser that is neither hivex nor libregf:"
reglookup -H -p /ControlSet001/Services/Kdc/StrongCertificateBindingEnforcement "$dc/System32/config/SYSTEM"
step stage kdc-compat --image "$dc"
echo "# the same, as of a day before the deadline:"
step --as-of 2025-09-08 validate kdc-compat --image "$dc"

echo
echo "== The Intune Certificate Connector server: PKCS certificates carry the SID"
step --ticket CHG-1042 stage pfx-sid --image "$conn"
step validate pfx-sid --image "$conn"

echo
echo "== The change-window way: GPOs, each linked where its machines are"
mkdir -p "$work/Policies"
echo "# one for the domain controllers, linked to OU=Domain Controllers:"
step gpo new "$work/Policies" --name "KB5014754 DC certificate mapping" --guid '{8F4C2D1E-5B6A-4C3D-9E8F-7A6B5C4D3E2F}'
gpo="$work/Policies/{8F4C2D1E-5B6A-4C3D-9E8F-7A6B5C4D3E2F}"
step --ticket CHG-1042 stage kdc-compat --gpo "$gpo"
step validate kdc-compat --gpo "$gpo"
step --ticket CHG-1042 stage schannel-mapping --gpo "$gpo"
step gpo show "$gpo"
echo "# what AD needs; the current values are merged, so the Default Domain Controllers Policy link stays:"
step gpo ad "$gpo" --domain corp.example.com --link 'OU=Domain Controllers,DC=corp,DC=example,DC=com' \
	--current-extensions '[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]' \
	--current-gplink '[LDAP://cn={6AC1786C-016F-11D2-945F-00C04fB984F9},cn=policies,cn=system,DC=corp,DC=example,DC=com;0]'
echo "# one for the connector servers, linked to the OU they are in (OU=Servers); item-level targeting"
echo "# narrows it to the servers of the PKI Connector Servers group there:"
step gpo new "$work/Policies" --name "KB5014754 connector SID extension" --guid '{2B7E9A41-C3D5-4F60-8A1B-9C0D1E2F3A4B}'
cgpo="$work/Policies/{2B7E9A41-C3D5-4F60-8A1B-9C0D1E2F3A4B}"
step --ticket CHG-1042 gpo set "$cgpo" 'HKLM\SOFTWARE\Microsoft\MicrosoftIntune\PFXCertificateConnector' \
	EnableSidSecurityExtension REG_DWORD 1 --filter-group 'CORP\PKI Connector Servers' \
	--filter-sid S-1-5-21-1004336348-1177238915-682003330-1137
step gpo show "$cgpo"
echo "# (here OU=Servers links no GPO yet and the GPO has no extension list: both current values are empty)"
step gpo ad "$cgpo" --domain corp.example.com --link 'OU=Servers,DC=corp,DC=example,DC=com' \
	--current-extensions '' --current-gplink ''

echo
echo "== Export the Kdc key as a .reg file regedit can import"
step hive export "$dc/System32/config/SYSTEM" "$KDC" --output "$work/kdc.reg"
iconv -f UTF-16LE -t UTF-8 "$work/kdc.reg" | tr -d '\r'

echo
echo "== Refusals leave the target untouched"
before=$(sha256sum "$conn/System32/config/SYSTEM" | cut -c1-16)
step_rc stage kdc-compat --image "$conn"
step_rc stage kdc-enforce --hive "$dc/System32/config/SYSTEM" --value 0
step_rc --strict stage kdc-compat --image "$dc"
echo "connector SYSTEM before: $before  after: $(sha256sum "$conn/System32/config/SYSTEM" | cut -c1-16)"

echo
echo "== Every write was journaled with the bytes it replaced"
step journal list
first=$(ls "$GPOTOOL_STATE_DIR/journal" | head -n 1)
step journal show "$first"

echo
echo "== Audited rollback of the workaround: the DC image gets its exact bytes back"
step --ticket CHG-1043 rollback "$first"
cmp build/images/dc01/Windows/System32/config/SYSTEM "$dc/System32/config/SYSTEM" &&
	echo "# SYSTEM is byte-for-byte the original image's again"
echo "# the DC GPO's kdc-compat item: the schannel-mapping item was added after it, so the exact bytes cannot go back"
gpo_entry=$(ls "$GPOTOOL_STATE_DIR/journal" | sed -n 3p)
step_rc --ticket CHG-1043 rollback "$gpo_entry"
echo "# --logical takes out that item alone; GPT.INI's version goes up (clients only apply a higher one)"
step --ticket CHG-1043 rollback "$gpo_entry" --logical

echo
echo "== Who changed what, when, under which ticket; and proof the record was not edited"
step audit show --ticket CHG-1043
step audit verify
echo
echo "== Everything above is still there: $work (images, Policies, kdc.reg, state/journal, state/audit.log)"
