#!/bin/bash
# make demo: the main job on the bundled sample images (built from hives/*/*.reg), on
# copies in a temp dir so the demo can be run again and again.
set -euo pipefail
G=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/gpotool-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GPOTOOL_STATE_DIR="$work/state"
cp -R "$root/build/images" "$work/images"
dc="$work/images/dc01/Windows"
conn="$work/images/connector01/Windows"
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'

step() { printf '\n\033[1m$ gpotool %s\033[0m\n' "$*"; "$G" "$@"; }
step_rc() { printf '\n\033[1m$ gpotool %s\033[0m\n' "$*"; set +e; "$G" "$@"; echo "(exit $?)"; set -e; }

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
step --as-of 2025-03-01 validate kdc-compat --image "$dc"

echo
echo "== The Intune Certificate Connector server: PKCS certificates carry the SID"
step --ticket CHG-1042 stage pfx-sid --image "$conn"
step validate pfx-sid --image "$conn"

echo
echo "== The change-window way: a GPO linked to OU=Domain Controllers"
mkdir -p "$work/Policies"
step gpo new "$work/Policies" --name "KB5014754 certificate mapping" --guid '{8F4C2D1E-5B6A-4C3D-9E8F-7A6B5C4D3E2F}'
gpo="$work/Policies/{8F4C2D1E-5B6A-4C3D-9E8F-7A6B5C4D3E2F}"
step --ticket CHG-1042 stage kdc-compat --gpo "$gpo"
step validate kdc-compat --gpo "$gpo"
echo "# the connector setting, targeted at the connector servers' group only:"
step --ticket CHG-1042 gpo set "$gpo" 'HKLM\SOFTWARE\Microsoft\MicrosoftIntune\PFXCertificateConnector' \
	EnableSidSecurityExtension REG_DWORD 1 --filter-group 'CORP\PKI Connector Servers' \
	--filter-sid S-1-5-21-1004336348-1177238915-682003330-1137
step gpo show "$gpo"
echo "# what AD needs; the current values are merged, so the Default Domain Controllers Policy link stays:"
step gpo ad "$gpo" --domain corp.example.com --link 'OU=Domain Controllers,DC=corp,DC=example,DC=com' \
	--current-extensions '[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]' \
	--current-gplink '[LDAP://cn={6AC1786C-016F-11D2-945F-00C04fB984F9},cn=policies,cn=system,DC=corp,DC=example,DC=com;0]'

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
cmp "$root/build/images/dc01/Windows/System32/config/SYSTEM" "$dc/System32/config/SYSTEM" &&
	echo "# SYSTEM is byte-for-byte the original image's again"
echo "# the GPO's kdc-compat item: the connector item was added after it, so the exact bytes cannot go back"
gpo_entry=$(ls "$GPOTOOL_STATE_DIR/journal" | sed -n 3p)
step_rc --ticket CHG-1043 rollback "$gpo_entry"
echo "# --logical takes out that item alone; GPT.INI's version goes up (clients only apply a higher one)"
step --ticket CHG-1043 rollback "$gpo_entry" --logical

echo
echo "== Who changed what, when, under which ticket; and proof the record was not edited"
step audit show --ticket CHG-1043
step audit verify
