"""What the dirty-hive tests (t5390, t5392, t5394) need of the regf layout, written from
Suhanov's "Windows registry file format specification" (github.com/msuhanov/regf), not from
gpotool's code: Marvin32 (from its published algorithm; each script proves it on the corpus
logs' own hashes before it trusts it) and the base block's XOR-32 checksum."""
import struct

M = 0xFFFFFFFF
SEED = 0x82EF4D887A4E55C5  # of both hashes of a new-format log entry


def rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & M


def mix(lo, hi):
    hi ^= lo; lo = rotl(lo, 20); lo = (lo + hi) & M; hi = rotl(hi, 9)
    hi ^= lo; lo = rotl(lo, 27); lo = (lo + hi) & M; hi = rotl(hi, 19)
    return lo, hi


def marvin32(data, seed=SEED):
    lo, hi = seed & M, seed >> 32
    i = 0
    while len(data) - i >= 4:
        lo = (lo + struct.unpack_from("<I", data, i)[0]) & M
        lo, hi = mix(lo, hi); i += 4
    lo = (lo + int.from_bytes(bytes(data[i:]) + b"\x80", "little")) & M
    lo, hi = mix(lo, hi); lo, hi = mix(lo, hi)
    return (hi << 32) | lo


def xor32(b):
    """The checksum of a base block's first 508 bytes, with Windows' two special cases."""
    c = 0
    for (d,) in struct.iter_unpack("<I", bytes(b[:508])):
        c ^= d
    return 1 if c == 0 else 0xFFFFFFFE if c == 0xFFFFFFFF else c
