#!/usr/bin/env bash
# corruption_test: damage a stopped store the ways a disk can, then check
# that reads fail with EIO (never wrong data), that every other object still
# reads back, that the damaged names stay listed, and that `shoal fsck` names
# exactly the damaged objects. Damage: a flipped byte and a truncation in
# blob files (large objects), a flipped byte in inline content (small
# objects, kept in LMDB) and in entry values (metadata), the last two written
# with mdb_dump/mdb_load, LMDB's own tools. An unclean remount (the orphan
# sweep) must keep the blob of an entry it cannot read.
source "$(dirname "$0")/lib.sh"

sha() { sha256sum <"$1" | cut -d' ' -f1; }
B=$MNT/bkt

check "mount" mount_store
mkdir "$B"
declare -A KEEP  # name -> sha256 of objects left intact
for i in 1 2 3; do
  head -c $((700000 * i)) /dev/urandom >"$WORK/big$i"  # blob files
  cp "$WORK/big$i" "$B/big$i"
  seq 1 $((300 * i)) >"$WORK/small$i"  # inline in LMDB
  cp "$WORK/small$i" "$B/small$i"
  KEEP[big$i]=$(sha "$WORK/big$i") KEEP[small$i]=$(sha "$WORK/small$i")
done
seq 1 400000 >"$WORK/victim"
blob=()
for v in flipped-blob cut-blob; do
  before=$(find "$STORE/blobs" -type f | sort)
  cp "$WORK/victim" "$B/$v"
  blob[${#blob[@]}]=$(comm -13 <(echo "$before") <(find "$STORE/blobs" -type f | sort))
done
seq 1 500 >"$B/flipped-inline"
echo "metadata victim" >"$B/flipped-entry"
cp "$WORK/victim" "$B/flipped-big-entry"  # its blob must outlive the damage
inline_id=$(stat -c %i "$B/flipped-inline")
# An intact object whose location record (found by id, for due work) is
# damaged: it still reads, and fsck names it.
seq 1 200 >"$WORK/relocated"
cp "$WORK/relocated" "$B/relocated"
KEEP[relocated]=$(sha "$WORK/relocated")
relocated_id=$(stat -c %i "$B/relocated")
check "the two blob victims have a blob file each" test "$(wc -w <<<"${blob[*]}")" = 2
check "unmount" umount_store

# --- damage -----------------------------------------------------------------
flip_middle_byte "${blob[0]}"
truncate -s $(($(stat -c %s "${blob[1]}") / 2)) "${blob[1]}"

# flip_value TABLE KEY-HEX-SUFFIX: flip one byte in the middle of the value
# of the record whose key ends with KEY-HEX-SUFFIX, through mdb_dump/mdb_load.
flip_value() {
  local table=$1 suffix=$2
  mdb_dump -s "$table" "$STORE/meta" >"$WORK/$table.dump" || return 1
  python3 - "$WORK/$table.dump" "$suffix" <<'EOF' || return 1
import sys
path, suffix = sys.argv[1], sys.argv[2]
lines = open(path).read().split('\n')
for i, line in enumerate(lines):
    if line.startswith(' ') and line.strip().endswith(suffix) and i + 1 < len(lines):
        value = bytearray.fromhex(lines[i + 1].strip())
        value[len(value) // 2] ^= 0x01
        lines[i + 1] = ' ' + value.hex()
        open(path, 'w').write('\n'.join(lines))
        sys.exit(0)
sys.exit('no record with key ending ' + suffix)
EOF
  mdb_load -s "$table" -f "$WORK/$table.dump" "$STORE/meta"
}
check "flip a byte of the inline content of flipped-inline" \
  flip_value contents "$(printf '%016x' "$inline_id")"
check "flip a byte of the location record of relocated" \
  flip_value locations "$(printf '%016x' "$relocated_id")"
check "flip a byte of the entry of flipped-entry" \
  flip_value entries "$(printf 'flipped-entry' | od -An -tx1 | tr -d ' \n')"
check "flip a byte of the entry of flipped-big-entry" \
  flip_value entries "$(printf 'flipped-big-entry' | od -An -tx1 | tr -d ' \n')"
# As if the last daemon had died: the next mount sweeps unreferenced blobs,
# and must keep every blob while an entry that may name one is unreadable.
blobs_before=$(find "$STORE/blobs" -type f | wc -l)
touch "$STORE/RUNNING"

# --- through the mount ------------------------------------------------------
check "remount the damaged store" mount_store
check "the orphan sweep kept every blob ($blobs_before)" \
  test "$(find "$STORE/blobs" -type f | wc -l)" = "$blobs_before"
for v in flipped-blob cut-blob flipped-inline flipped-entry flipped-big-entry; do
  expect_fail "cat $v fails with EIO" "Input/output error" cat "$B/$v"
  check ".shoal/errors names /bkt/$v (DataCorrupted)" \
    grep -q " /bkt/$v DataCorrupted:" "$MNT/.shoal/errors"
done
expect_fail "stat of the damaged entry fails with EIO" "Input/output error" stat "$B/flipped-entry"
for name in "${!KEEP[@]}"; do
  check "intact object $name reads back" test "$(sha "$B/$name")" = "${KEEP[$name]}"
done
listing=$(ls "$B" 2>&1)
check "the bucket still lists, damaged names included" \
  test "$(wc -l <<<"$listing")" = $((${#KEEP[@]} + 5))
check "ls -l lists the intact objects" bash -c "ls -l '$B' 2>/dev/null | grep -q ' big1$'"
check "new objects can still be written" bash -c "echo new >'$B/after' && grep -qx new '$B/after'"
check "unmount" umount_store

fsck_out=$("$SHOAL" fsck "$STORE" 2>&1)
fsck_rc=$?
check "fsck exits 1 on damage (got $fsck_rc)" test "$fsck_rc" = 1
for v in flipped-blob cut-blob flipped-inline; do
  check "fsck names /bkt/$v" grep -q "^DAMAGED /bkt/$v:" <<<"$fsck_out"
done
for v in flipped-entry flipped-big-entry; do
  check "fsck names the damaged entry $v" grep -q "^DAMAGED .*'$v'" <<<"$fsck_out"
done
check "fsck names the damaged location of relocated" \
  grep -q "^DAMAGED the location record of 'relocated'" <<<"$fsck_out"
check "fsck names nothing else" test "$(grep -c '^DAMAGED' <<<"$fsck_out")" = 6
[[ $fsck_rc == 1 ]] || echo "$fsck_out" | sed 's/^/       /'
echo "corruption_test: 6 corruptions injected, $(grep -c '^DAMAGED' <<<"$fsck_out") detected by fsck"

finish
