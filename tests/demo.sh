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
dc="$work/images/dc01/Windows/System32/config"
conn="$work/images/connector01/Windows/System32/config"
KDC='HKLM\SYSTEM\CurrentControlSet\Services\Kdc'
PFX='HKLM\SOFTWARE\Microsoft\MicrosoftIntune\PFXCertificateConnector'

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step_rc() { printf '\n\033[1m$ %s\033[0m\n' "$*"; set +e; "$@"; echo "(exit $?)"; set -e; }

echo "== The domain controller's offline SYSTEM hive"
step "$G" hive info "$dc/SYSTEM"
step "$G" hive info "$dc/SOFTWARE"

echo
echo "== Stage the February 2025 compatibility-mode workaround (it expired on 2025-09-09:"
echo "   DCs with the September 9, 2025 update ignore it; the real fix is strong mapping)"
step "$G" --ticket CHG-1042 hive set "$dc/SYSTEM" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 1
step "$G" hive get "$dc/SYSTEM" "$KDC" StrongCertificateBindingEnforcement
echo "# cross-check with reglookup, a parser that is neither hivex nor libregf:"
step reglookup -H -p /ControlSet001/Services/Kdc/StrongCertificateBindingEnforcement "$dc/SYSTEM"
step "$G" hive set "$dc/SYSTEM" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 1

echo
echo "== The Intune Certificate Connector server: PKCS certificates carry the SID"
step "$G" hive info "$conn/SOFTWARE"
step "$G" --ticket CHG-1042 hive set "$conn/SOFTWARE" "$PFX" EnableSidSecurityExtension REG_DWORD 1
echo "# then restart PkiCreateConnectorSvc and PfxCreateLegacyConnectorSvc on that server"

echo
echo "== Export the Kdc key as a .reg file regedit can import"
step "$G" hive export "$dc/SYSTEM" "$KDC" --output "$work/kdc.reg"
iconv -f UTF-16LE -t UTF-8 "$work/kdc.reg" | tr -d '\r'

echo
echo "== The change-window way: a GPO linked to OU=Domain Controllers"
mkdir -p "$work/Policies"
step "$G" gpo new "$work/Policies" --name "KB5014754 certificate mapping" --guid '{8F4C2D1E-5B6A-4C3D-9E8F-7A6B5C4D3E2F}'
gpo="$work/Policies/{8F4C2D1E-5B6A-4C3D-9E8F-7A6B5C4D3E2F}"
step "$G" --ticket CHG-1042 gpo set "$gpo" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 1
echo "# the connector setting, targeted at the connector servers' group only:"
step "$G" --ticket CHG-1042 gpo set "$gpo" "$PFX" EnableSidSecurityExtension REG_DWORD 1 \
	--filter-group 'CORP\PKI Connector Servers' --filter-sid S-1-5-21-1004336348-1177238915-682003330-1137
step "$G" gpo show "$gpo"
echo "# what AD needs; the current values are merged, so the Default Domain Controllers Policy link stays:"
step "$G" gpo ad "$gpo" --domain corp.example.com --link 'OU=Domain Controllers,DC=corp,DC=example,DC=com' \
	--current-extensions '[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]' \
	--current-gplink '[LDAP://cn={6AC1786C-016F-11D2-945F-00C04fB984F9},cn=policies,cn=system,DC=corp,DC=example,DC=com;0]'

echo
echo "== Refusals leave the target untouched"
sha256sum "$dc/SYSTEM" | cut -c1-16
step_rc "$G" hive set "$dc/SYSTEM" 'HKLM\SOFTWARE\Microsoft\MicrosoftIntune\PFXCertificateConnector' EnableSidSecurityExtension REG_DWORD 1
step_rc "$G" hive set "$dc/SYSTEM" "$KDC" StrongCertificateBindingEnforcement REG_DWORD 4294967296
sha256sum "$dc/SYSTEM" | cut -c1-16

echo
echo "== Every write was journaled with the bytes it replaced"
ls -l "$GPOTOOL_STATE_DIR/journal"
