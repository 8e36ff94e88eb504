#!/usr/bin/env python3
"""Edits object entries of a stopped store, as an attacker with write access
to STORE/meta could: through mdb_dump and mdb_load (LMDB's own tools), with
the entry's CRC-32 recomputed so that only the cryptographic checks stand in
the way. Entries are found by object name (the last part of the key, which
must be unique in the store). crypto/FORMAT.md gives the entry layout: the key
envelope is the last field before the CRC.

  entry_edit.py META transplant X Y BLOB_X BLOB_Y
      X's entry takes Y's blob id (hex BLOB_Y in place of BLOB_X; for inline
      content give '-' for both) and Y's key envelope: X then names Y's
      content and Y's wrapped key, and differs from Y only in where it is.
  entry_edit.py META swap-envelopes X Y
  entry_edit.py META flip-envelope X      one bit of X's wrapped key
"""
import subprocess
import sys
import zlib

ENVELOPE_BYTES = 62


def dump(meta):
    out = subprocess.run(['mdb_dump', '-s', 'entries', meta], check=True,
                         capture_output=True, text=True).stdout
    return out.split('\n')


def load(meta, lines):
    subprocess.run(['mdb_load', '-s', 'entries', meta], check=True,
                   input='\n'.join(lines), text=True)


def find(lines, name):
    """Index of the value line of the entry whose key ends with name."""
    suffix = name.encode().hex()
    hits = [i + 1 for i, line in enumerate(lines)
            if line.startswith(' ') and line.strip().endswith(suffix) and i + 1 < len(lines)]
    if len(hits) != 1:
        sys.exit(f'{len(hits)} entries end with {name!r}')
    return hits[0]


def value(lines, at):
    return bytearray.fromhex(lines[at].strip())


def store(lines, at, v):
    v[-4:] = zlib.crc32(bytes(v[:-4])).to_bytes(4, 'little')
    lines[at] = ' ' + v.hex()


def envelope_span(v):
    start = len(v) - 4 - ENVELOPE_BYTES
    if v[start - 1] != ENVELOPE_BYTES:
        sys.exit('entry has no key envelope')
    return start, len(v) - 4


def main():
    meta, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    lines = dump(meta)
    if command == 'transplant':
        x, y, blob_x, blob_y = args
        ax, ay = find(lines, x), find(lines, y)
        vx, vy = value(lines, ax), value(lines, ay)
        if blob_x != '-':
            old, new = bytes.fromhex(blob_x), bytes.fromhex(blob_y)
            if vx.count(old) != 1:
                sys.exit('blob id of X not found once in its entry')
            i = vx.index(old)
            vx[i:i + len(old)] = new
        sx, ex = envelope_span(vx)
        sy, ey = envelope_span(vy)
        vx[sx:ex] = vy[sy:ey]
        store(lines, ax, vx)
    elif command == 'swap-envelopes':
        x, y = args
        ax, ay = find(lines, x), find(lines, y)
        vx, vy = value(lines, ax), value(lines, ay)
        sx, ex = envelope_span(vx)
        sy, ey = envelope_span(vy)
        vx[sx:ex], vy[sy:ey] = vy[sy:ey], vx[sx:ex]
        store(lines, ax, vx)
        store(lines, ay, vy)
    elif command == 'flip-envelope':
        (x,) = args
        ax = find(lines, x)
        vx = value(lines, ax)
        sx, _ = envelope_span(vx)
        vx[sx + 20] ^= 0x04  # inside the encrypted data key
        store(lines, ax, vx)
    else:
        sys.exit('unknown command ' + command)
    load(meta, lines)


main()
