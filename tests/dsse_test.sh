#!/usr/bin/env bash
# dsse_test: DSSE-KMS through the mount (DESIGN §2.4). A bucket whose
# encryption.json says aws:kms:dsse stores its objects in two independent
# layers: blobs of format 3, each chunk sealed under a data key from KMS and
# again under an outer key wrapped by the store's root key. One
# GenerateDataKey per PUT (S3 Bucket Keys do not apply to DSSE-KMS), a
# Decrypt per GET; a disabled key refuses reads; re-encryption into and out
# of DSSE-KMS adds or removes the layer; renames, a remount, and tampering
# with a layer (EIO, named by fsck).
source "$(dirname "$0")/lib.sh"

KEYS=$MNT/.kms/keys
AUDIT=$MNT/.shoal/audit.log
B=$MNT/dual

audit_count() {  # audit_count EVENT [CONTEXT-ARN]
  jq -c --arg e "$1" --arg c "${2:-}" \
    'select(.eventName == $e and ($c == "" or .requestParameters.encryptionContext["aws:s3:arn"] == $c))' \
    "$AUDIT" | wc -l
}
encryption() {  # encryption BUCKET ALGORITHM [KEY] [BUCKET-KEY]
  local key=${3:+,\"KMSMasterKeyID\":\"$3\"}
  echo "{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"$2\"$key},\"BucketKeyEnabled\":${4:-false}}]}" \
    >"$WORK/enc.json" && cp "$WORK/enc.json" "$MNT/.s3/$1/encryption.json"
}
blob_files() { find "$STORE/blobs" -path "$STORE/blobs/tmp" -prune -o -type f -print | sort; }
# The blob file an action made: runs it (in this shell, so not under
# check), then sets VAR to the one new blob file, or to "" if it failed.
new_blob() {  # new_blob VAR COMMAND...
  local var=$1 before
  shift
  before=$(blob_files)
  printf -v "$var" '%s' ""
  "$@" || return 0
  printf -v "$var" '%s' "$(comm -13 <(echo "$before") <(blob_files))"
}
blob_format() { od -An -tu1 -j8 -N1 "$1" | tr -d ' '; }  # the byte after "SHOALBL1"

check "mount with a frozen clock" mount_store "$STORE" "$MNT" --clock=2027-01-01T00:00:00Z --clock-rate=0
check "mkdir .kms/keys/d1" mkdir "$KEYS/d1"
check "mkdir .kms/keys/d2" mkdir "$KEYS/d2"
D1=$(jq -r .Arn "$KEYS/d1/config.json")
D2=$(jq -r .Arn "$KEYS/d2/config.json")
mkdir "$B"

# --- default encryption ---------------------------------------------------------
check "encryption.json takes aws:kms:dsse with a key and BucketKeyEnabled" \
  encryption dual aws:kms:dsse alias/d1 true
equals "and shows it back" "aws:kms:dsse" \
  jq -r '.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm' "$MNT/.s3/dual/encryption.json"

head -c 700000 /dev/urandom >"$WORK/big"
seq 1 3000 >"$WORK/small"
new_blob big_blob cp "$WORK/big" "$B/big"
check "a large object is written into one new blob file" test -f "$big_blob"
equals "that blob is dual-layer (format 3)" "3" blob_format "$big_blob"
cp "$WORK/small" "$B/small"
equals "user.s3.sse is aws:kms:dsse" "aws:kms:dsse" attr user.s3.sse "$B/big"
equals "user.s3.sse_kms_key_id is d1's ARN" "$D1" attr user.s3.sse_kms_key_id "$B/big"
equals "the small (inline) object is DSSE-KMS too" "aws:kms:dsse" attr user.s3.sse "$B/small"
check "the large one reads back" cmp "$WORK/big" "$B/big"
check "the small one reads back" cmp "$WORK/small" "$B/small"
check "its ETag is the MD5 of its content" \
  test "$(attr user.s3.etag "$B/big" | tr -d '"')" = "$(md5sum <"$WORK/big" | cut -d' ' -f1)"
equals "inventory: DSSE-KMS and d1's ARN" "DSSE-KMS,$D1" \
  bash -c "grep '^dual,big,' '$MNT/.s3/dual/inventory.csv' | cut -d, -f11,12"

# --- KMS calls: no Bucket Keys ----------------------------------------------------
for i in 1 2 3 4 5; do cp "$WORK/small" "$B/many-$i"; done
check "each PUT made its own GenerateDataKey with its object's ARN (Bucket Keys do not apply)" \
  test "$(audit_count GenerateDataKey arn:aws:s3:::dual/many-3)" = 1
check "no data key was made for the bucket's ARN" \
  test "$(audit_count GenerateDataKey arn:aws:s3:::dual)" = 0
before=$(audit_count Decrypt arn:aws:s3:::dual/many-2)
cat "$B/many-2" >/dev/null && cat "$B/many-2" >/dev/null
check "each GET is a Decrypt" test "$(audit_count Decrypt arn:aws:s3:::dual/many-2)" = $((before + 2))

# --- a streamed write, and the bucket's encryption changing under an open writer --
dd if=/dev/urandom of="$WORK/stream" bs=1M count=6 status=none
new_blob streamed dd if="$WORK/stream" of="$B/stream" bs=64k status=none
check "a 6 MiB write with dd" test -f "$streamed"
equals "streams into a dual-layer blob" "3" blob_format "$streamed"
check "and reads back" cmp "$WORK/stream" "$B/stream"

# (The commit of a close may finish after close returns: the new blob is
# looked for once the object reads back.)
before=$(blob_files)
exec 7>"$B/turning"
head -c 400000 "$WORK/big" >&7
encryption dual AES256
tail -c +400001 "$WORK/big" >&7
exec 7>&-
equals "a writer open while the bucket turned to AES256: its object takes it at close" \
  "AES256" attr user.s3.sse "$B/turning"
check "... and reads back" cmp "$WORK/big" "$B/turning"
turned=$(comm -13 <(echo "$before") <(blob_files))
equals "... in one layer (format 2)" "2" blob_format "$turned"
before=$(blob_files)
exec 7>"$B/turning-back"
head -c 400000 "$WORK/big" >&7
encryption dual aws:kms:dsse alias/d1
tail -c +400001 "$WORK/big" >&7
exec 7>&-
equals "the other way round: DSSE-KMS" "aws:kms:dsse" attr user.s3.sse "$B/turning-back"
check "... and reads back" cmp "$WORK/big" "$B/turning-back"
turned=$(comm -13 <(echo "$before") <(blob_files))
equals "... in two layers" "3" blob_format "$turned"

# --- a disabled key -------------------------------------------------------------
echo '{"Enabled": false}' >"$KEYS/d1/config.json"
reject "reading under a disabled key is EACCES" "Permission denied" KMS.DisabledException \
  /dual/big cat "$B/big"
echo '{"Enabled": true}' >"$KEYS/d1/config.json"
check "re-enabled: it reads again" cmp "$WORK/big" "$B/big"

# --- re-encryption ----------------------------------------------------------------
cp "$WORK/big" "$B/moving"
new_blob plain setfattr -n user.s3.sse -v AES256 "$B/moving"
check "setfattr user.s3.sse=AES256 takes a DSSE-KMS object out" test -f "$plain"
equals "it is SSE-S3" "AES256" attr user.s3.sse "$B/moving"
equals "in a new single-layer blob" "2" blob_format "$plain"
check "it reads back" cmp "$WORK/big" "$B/moving"
new_blob dual setfattr -n user.s3.sse -v aws:kms:dsse "$B/moving"
check "setfattr user.s3.sse=aws:kms:dsse puts it back in two layers" test -f "$dual"
equals "format 3" "3" blob_format "$dual"
equals "under the bucket's key" "$D1" attr user.s3.sse_kms_key_id "$B/moving"
check "it reads back" cmp "$WORK/big" "$B/moving"
check "user.s3.sse_kms_key_id=alias/d2 moves it to d2" \
  setfattr -n user.s3.sse_kms_key_id -v alias/d2 "$B/moving"
equals "still DSSE-KMS" "aws:kms:dsse" attr user.s3.sse "$B/moving"
equals "under d2" "$D2" attr user.s3.sse_kms_key_id "$B/moving"
check "it reads back" cmp "$WORK/big" "$B/moving"
echo '{"Enabled": false}' >"$KEYS/d2/config.json"
expect_fail "and d2's refusal now stops it" "Permission denied" cat "$B/moving"
echo '{"Enabled": true}' >"$KEYS/d2/config.json"
mkdir "$MNT/plainb"
cp "$WORK/big" "$MNT/plainb/up"
check "setfattr aws:kms:dsse on an SSE-S3 object in an SSE-S3 bucket" \
  setfattr -n user.s3.sse -v aws:kms:dsse "$MNT/plainb/up"
equals "goes under the AWS managed key" \
  "$(jq -r .Arn "$KEYS/aws/s3/config.json")" attr user.s3.sse_kms_key_id "$MNT/plainb/up"
check "and reads back" cmp "$WORK/big" "$MNT/plainb/up"

# --- rename, remount --------------------------------------------------------------
check "a DSSE-KMS object renames" mv "$B/many-1" "$B/renamed"
check "... and reads back under its new name" cmp "$WORK/small" "$B/renamed"
check "... its key re-wrapped for the new ARN" \
  test "$(audit_count GenerateDataKey arn:aws:s3:::dual/renamed)" = 1
check "unmount" umount_store
check "remount" mount_store "$STORE" "$MNT" --clock-rate=0
check "after the remount it reads back" cmp "$WORK/big" "$B/big"
check "the inline one too" cmp "$WORK/small" "$B/small"

# --- tampering with either layer ---------------------------------------------------
check "unmount" umount_store
fsck_out=$("$SHOAL" fsck "$STORE" 2>&1)
check "fsck verifies every DSSE-KMS object (exit $?)" test "$(grep -c '^DAMAGED\|^UNVERIFIED' <<<"$fsck_out")" = 0
cp "$big_blob" "$WORK/pristine"
flip_middle_byte "$big_blob"
check "remount after a byte of the blob was flipped" mount_store "$STORE" "$MNT" --clock-rate=0
reject "the object reads as EIO" "Input/output error" DataCorrupted /dual/big \
  dd if="$B/big" of=/dev/null status=none
check "its neighbours still read" cmp "$WORK/small" "$B/small"
check "unmount" umount_store
fsck_out=$("$SHOAL" fsck "$STORE" 2>&1)
check "fsck names it" grep -q "^DAMAGED /dual/big:" <<<"$fsck_out"
check "and nothing else" test "$(grep -c '^DAMAGED\|^UNVERIFIED' <<<"$fsck_out")" = 1
cp "$WORK/pristine" "$big_blob"
check "remount with the blob restored" mount_store "$STORE" "$MNT" --clock-rate=0
check "it reads again" cmp "$WORK/big" "$B/big"

finish
