#!/usr/bin/env bash
# ssec_test: SSE-C through the mount (DESIGN §2.3 sse-c-key, §2.4). A key
# written to the write-only .s3/<bucket>/sse-c-key makes new objects there
# SSE-C; reads need that same key (EACCES without it or with another, also
# after a remount, which forgets it); the store keeps only a salted HMAC of
# it; the ETag is not the content's MD5, as on S3.
source "$(dirname "$0")/lib.sh"

B=$MNT/vault
KEYFILE=$MNT/.s3/vault/sse-c-key
etag() { attr user.s3.etag "$1" | tr -d '"'; }

check "mount" mount_store
mkdir "$B"
seq 1 5000 >"$WORK/before"
cp "$WORK/before" "$B/before-key"  # SSE-S3, written before any key

head -c 32 /dev/urandom >"$WORK/key.raw"
base64 <"$WORK/key.raw" >"$WORK/key.b64"
head -c 32 /dev/urandom >"$WORK/other.raw"
head -c 31 /dev/urandom >"$WORK/short.raw"
echo 'not base64 at all!' >"$WORK/bad.b64"
: >"$WORK/empty"

reject "a 31-byte key is refused" "Invalid argument" InvalidArgument /.s3/vault/sse-c-key \
  cp "$WORK/short.raw" "$KEYFILE"
reject "a key that is neither 32 bytes nor base64 is refused" "Invalid argument" InvalidArgument \
  /.s3/vault/sse-c-key cp "$WORK/bad.b64" "$KEYFILE"
check "a base64 key is taken" cp "$WORK/key.b64" "$KEYFILE"
expect_fail "the key file cannot be read back" "Permission denied" cat "$KEYFILE"

head -c 300000 /dev/urandom >"$WORK/big"
seq 1 3000 >"$WORK/small"
cp "$WORK/big" "$B/big" && cp "$WORK/small" "$B/small"
equals "a new object is SSE-C" "SSE-C" attr user.s3.sse "$B/big"
check "it reads back with the key present" cmp "$WORK/big" "$B/big"
check "the small one too" cmp "$WORK/small" "$B/small"
md5=$(md5sum <"$WORK/big" | cut -d' ' -f1)
check "its ETag is not the MD5 of its content (as on S3)" test "$(etag "$B/big")" != "$md5"
check "... and stays the same from read to read" test "$(etag "$B/big")" = "$(etag "$B/big")"
equals "the SSE-S3 object written before keeps its MD5 ETag" \
  "$(md5sum <"$WORK/before" | cut -d' ' -f1)" etag "$B/before-key"
equals "inventory says SSE-C" "SSE-C" \
  bash -c "grep '^vault,big,' '$MNT/.s3/vault/inventory.csv' | cut -d, -f11"
check "the store holds no copy of the key (raw or base64)" python3 - "$STORE" "$WORK/key.raw" <<'EOF'
import base64, os, sys
store, key = sys.argv[1], open(sys.argv[2], 'rb').read()
needles = [key, base64.b64encode(key)]
for root, _, files in os.walk(store):
    for f in files:
        data = open(os.path.join(root, f), 'rb').read()
        if any(n in data for n in needles):
            sys.exit('key found in ' + os.path.join(root, f))
EOF

check "another key is taken (raw bytes this time)" cp "$WORK/other.raw" "$KEYFILE"
reject "with another key, a read is EACCES" "Permission denied" AccessDenied /vault/big cat "$B/big"
check "the SSE-S3 object still reads" cmp "$WORK/before" "$B/before-key"
exec 3<"$B/small"  # an open handle: its reader stays, and the object's inode is known
check "writing an empty key file forgets the key" cp "$WORK/empty" "$KEYFILE"
check "a handle opened with the key still reads" cmp "$WORK/small" /dev/fd/3
reject "without a key, a new open is EACCES (no reader is reused)" "Permission denied" \
  AccessDenied /vault/small cat "$B/small"
exec 3<&-
cp "$WORK/small" "$B/after-forget"
equals "objects written with no key held are SSE-S3" "AES256" attr user.s3.sse "$B/after-forget"
expect_fail "a rename needs the key too (the data key is re-wrapped)" "Permission denied" \
  mv "$B/big" "$B/big-renamed"
check "the original key again" cp "$WORK/key.raw" "$KEYFILE"
check "the object reads again" cmp "$WORK/big" "$B/big"
check "with the key, a rename works" mv "$B/big" "$B/big-renamed"
check "and the renamed object reads" cmp "$WORK/big" "$B/big-renamed"
check "setfattr user.s3.sse=AES256 takes it out of SSE-C" \
  setfattr -n user.s3.sse -v AES256 "$B/small"
check "setfattr user.s3.sse=SSE-C puts an SSE-S3 object under the key" \
  setfattr -n user.s3.sse -v SSE-C "$B/before-key"
equals "it is SSE-C now" "SSE-C" attr user.s3.sse "$B/before-key"

check "unmount (the key is forgotten)" umount_store
check "remount" mount_store
expect_fail "after a remount, SSE-C objects are EACCES" "Permission denied" cat "$B/big-renamed"
check "the object taken out of SSE-C reads without a key" cmp "$WORK/small" "$B/small"
check "the key is written again" cp "$WORK/key.b64" "$KEYFILE"
check "then SSE-C objects read" cmp "$WORK/big" "$B/big-renamed"
check "every one of them" cmp "$WORK/before" "$B/before-key"
check "unmount" umount_store
fsck_out=$("$SHOAL" fsck "$STORE" 2>&1)
fsck_rc=$?
check "fsck: nothing damaged (exit $fsck_rc)" test "$fsck_rc" = 0
check "fsck lists the SSE-C objects as not verifiable (it holds no key)" \
  test "$(grep -c '^UNVERIFIED /vault/' <<<"$fsck_out")" = 2

finish
