#!/usr/bin/env python3
"""Writes a `wire` input (selector 0: an `Open` body) whose chain makes `Chain::verify`
quadratic before any signature but the sender's own is checked.

Certificate 0 is signed by a key of the sender's (so its signature verifies) and holds N
rules `Exact(academy)`; certificate 1 names that key as its subject (so the link holds),
is never checked (its signature comes later) and holds M-1 rules `School(0290001A)` then
`All`. `Scope::is_within` then scans M rules for each of the N: N*M comparisons. An `Open`
body may be 8 MiB (`MAX_OPEN_BYTES`) and is decoded by serde, not `Chain::from_bytes`.

    python3 scripts/craft_slow_open.py 10000 10000 > regressions/wire/slow-quadratic-scope
Needs the `cryptography` package (Ed25519).
"""
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def text(s):
    return varint(len(s)) + s.encode()


def grant(role, rules, subject_key, issuer_key):
    # version, serial, subject, subject_key, role, scope, issuer_key, not_before, not_after
    return (bytes([1]) + bytes(16) + bytes(16) + subject_key + varint(role) + varint(len(rules))
            + b"".join(rules) + issuer_key + varint(0) + varint(2**64 - 1))


n, m = int(sys.argv[1]), int(sys.argv[2])
key = Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32)
public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
g0 = grant(2, [varint(2) + text("academy")] * n, bytes(32), public)
g1 = grant(1, [varint(1) + text("0290001A")] * (m - 1) + [varint(0)], public, bytes(32))
chain = varint(2) + g0 + varint(64) + key.sign(g0) + g1 + varint(64) + bytes(64)
sys.stdout.buffer.write(bytes([0]) + chain + varint(0))
