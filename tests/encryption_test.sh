#!/usr/bin/env bash
# encryption_test: encryption at rest (crypto/FORMAT.md) through the mount.
# Part 1: no plaintext reaches the disk, and every object keeps reading as
# it moves: renamed files, renamed directory trees, versions in a versioned
# bucket, across a remount, with fsck clean. Part 2: with the store stopped,
# an attacker's edits that keep every checksum valid: blob files swapped
# between two objects of identical content, one object's entry pointed at
# the other's blob and key envelope, envelopes swapped, a bit of a wrapped
# key flipped. Each must read as EIO (never as data), be named in
# .shoal/errors and by fsck, and leave every other object readable.
source "$(dirname "$0")/lib.sh"

sha() { sha256sum <"$1" | cut -d' ' -f1; }
HERE=$(dirname "$0")
edit() { python3 "$HERE/entry_edit.py" "$@"; }
B=$MNT/vault
V=$MNT/history

# new_blob CMD...: runs CMD and prints the blob file it added to the store.
new_blob() {
  local before
  before=$(find "$STORE/blobs" -type f | sort)
  "$@" || return 1
  comm -13 <(echo "$before") <(find "$STORE/blobs" -type f | sort)
}

check "mount" mount_store
mkdir "$B" "$V"
MARKER=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
declare -A SUM  # path below MNT -> sha256

# --- part 1: objects move and keep reading ------------------------------------
{ head -c 300000 /dev/urandom; echo "$MARKER"; head -c 300000 /dev/urandom; } >"$WORK/big"
{ seq 1 500; echo "$MARKER"; } >"$WORK/small"
cp "$WORK/big" "$B/big" && cp "$WORK/small" "$B/small"
check "a large and a small object are written" cmp "$WORK/big" "$B/big"
check "the root key is 32 bytes of mode 0600" \
  test "$(stat -c '%s %a' "$STORE/root.key")" = "32 600"
check "no plaintext on disk: the marker is in no file of the store" \
  bash -c "! grep -rqa '$MARKER' '$STORE'"

mkdir -p "$B/tree/a/b"
for i in $(seq 1 20); do
  head -c $((i * 3000)) /dev/urandom >"$WORK/t$i"  # inline up to 16 KiB, then blob files
  cp "$WORK/t$i" "$B/tree/a/b/t$i"
  SUM[vault/moved/a/b/t$i]=$(sha "$WORK/t$i")
done
cp "$WORK/big" "$B/tree/a/bigger"
SUM[vault/moved/a/bigger]=$(sha "$WORK/big")
check "mv renames a directory tree" mv "$B/tree" "$B/moved"
mv "$B/big" "$B/moved/a/big-renamed"
mv "$B/small" "$B/moved/small-renamed"
SUM[vault/moved/a/big-renamed]=$(sha "$WORK/big")
SUM[vault/moved/small-renamed]=$(sha "$WORK/small")
bad=0
for p in "${!SUM[@]}"; do [[ $(sha "$MNT/$p") == "${SUM[$p]}" ]] || bad=$((bad + 1)); done
check "every moved object reads back (${#SUM[@]} objects)" test "$bad" = 0
check "a directory tree moves again, into another directory" mv "$B/moved/a" "$B/moved/again"
for p in "${!SUM[@]}"; do
  [[ $p == vault/moved/a/* ]] || continue
  SUM[vault/moved/again/${p#vault/moved/a/}]=${SUM[$p]}
  unset "SUM[$p]"
done

echo Enabled >"$MNT/.s3/history/versioning"
cp "$WORK/big" "$V/doc" && seq 1 100000 >"$V/doc"
current_id=$(attr user.s3.version_id "$V/doc")
old_id=$(find "$MNT/.s3/history/versions/" -name 'doc@*' -printf '%f\n' | sed 's/^doc@//' |
  grep -vx "$current_id")
check "the overwritten version is kept" test -n "$old_id"
mv "$V/doc" "$V/doc-renamed"
SUM[history/doc-renamed]=$(seq 1 100000 | sha256sum | cut -d' ' -f1)
check "the old version of a renamed object reads from versions/" \
  cmp "$WORK/big" "$MNT/.s3/history/versions/doc@$old_id"

check "unmount" umount_store
check "remount" mount_store
bad=0
for p in "${!SUM[@]}"; do [[ $(sha "$MNT/$p") == "${SUM[$p]}" ]] || bad=$((bad + 1)); done
check "after a remount every object reads back (${#SUM[@]} objects)" test "$bad" = 0
check "after a remount the old version reads back" \
  cmp "$WORK/big" "$MNT/.s3/history/versions/doc@$old_id"
check "unmount" umount_store
fsck_out=$("$SHOAL" fsck "$STORE" 2>&1)
check "fsck finds nothing damaged" grep -q "; 0 damaged" <<<"$fsck_out"

# --- part 2: edits that keep every checksum valid -----------------------------
check "mount" mount_store
mkdir "$MNT/lab"
L=$MNT/lab
head -c 200000 /dev/urandom >"$WORK/same"
seq 1 800 >"$WORK/tiny"
blob_a=$(new_blob cp "$WORK/same" "$L/swap-a")
blob_b=$(new_blob cp "$WORK/same" "$L/swap-b")
blob_x=$(new_blob cp "$WORK/same" "$L/transplant-x")
blob_y=$(new_blob cp "$WORK/same" "$L/transplant-y")
for n in envelope-a envelope-b flipped-key; do cp "$WORK/tiny" "$L/$n"; done
cp "$WORK/same" "$L/intact-big" && cp "$WORK/tiny" "$L/intact-small"
check "four blob files, one per large object" \
  test "$(wc -w <<<"$blob_a $blob_b $blob_x $blob_y")" = 4
check "unmount" umount_store

tmp=$WORK/swap.tmp
mv "$blob_a" "$tmp" && mv "$blob_b" "$blob_a" && mv "$tmp" "$blob_b"
check "transplant: transplant-x names transplant-y's blob and key envelope" \
  edit "$STORE/meta" transplant transplant-x transplant-y \
  "$(basename "$blob_x")" "$(basename "$blob_y")"
check "swap the key envelopes of envelope-a and envelope-b" \
  edit "$STORE/meta" swap-envelopes envelope-a envelope-b
check "flip a bit of flipped-key's wrapped data key" edit "$STORE/meta" flip-envelope flipped-key

check "remount the edited store" mount_store
damaged=(swap-a swap-b transplant-x envelope-a envelope-b flipped-key)
for v in "${damaged[@]}"; do
  reject "cat $v fails with EIO" "Input/output error" DataCorrupted "/lab/$v" cat "$L/$v"
done
check "transplant-y, whose blob and envelope were copied, still reads" cmp "$WORK/same" "$L/transplant-y"
check "intact-big reads" cmp "$WORK/same" "$L/intact-big"
check "intact-small reads" cmp "$WORK/tiny" "$L/intact-small"
check "unmount" umount_store

fsck_out=$("$SHOAL" fsck "$STORE" 2>&1)
for v in "${damaged[@]}"; do
  check "fsck names /lab/$v" grep -q "^DAMAGED /lab/$v:" <<<"$fsck_out"
done
check "fsck names nothing else" test "$(grep -c '^DAMAGED' <<<"$fsck_out")" = "${#damaged[@]}"
grep '^DAMAGED' <<<"$fsck_out" | cut -c1-160 | sed 's/^/       /'

finish
