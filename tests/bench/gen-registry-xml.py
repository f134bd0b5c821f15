#!/usr/bin/env python3
"""Writes a GPP Registry.xml of N items as GPMC writes them (UTF-8, CRLF, the class IDs of
[MS-GPPREF] 2.2.1.1): the benchmark's large GPO. Usage: gen-registry-xml.py N OUT."""
import sys
import uuid

SETTINGS = "{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}"
REGISTRY = "{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}"


def item(i):
    key = "SOFTWARE\\Policies\\Bench\\Group%03d" % (i // 100)
    name = "Value%05d" % i
    uid = "{%s}" % str(uuid.UUID(int=i + 1)).upper()
    return ('\t<Registry clsid="%s" name="%s" status="%s" image="12" changed="2025-02-11 10:00:00" uid="%s">'
            '<Properties action="U" displayDecimal="1" default="0" hive="HKEY_LOCAL_MACHINE" key="%s" '
            'name="%s" type="REG_DWORD" value="%08X"/></Registry>' % (REGISTRY, name, name, uid, key, name, i))


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<RegistrySettings clsid="%s">' % SETTINGS]
    lines += [item(i) for i in range(n)]
    lines.append("</RegistrySettings>")
    with open(out, "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n").encode("utf-8"))


if __name__ == "__main__":
    main()
