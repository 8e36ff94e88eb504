#!/usr/bin/env bash
# cse_test: `shoal cse encrypt|decrypt` (client-side encryption in the S3
# Encryption Client's V2 format, crypto/CSE_FORMAT.md) through a real mount:
# the metadata lands as the object's user metadata (user.s3.meta.x-amz-*),
# the object is opaque to shoal, it decrypts back after travelling with its
# xattrs, and a wrong key, tampering or a bad key file is refused without
# leaving an OUT behind. Where OUT's file system refuses user xattrs (ramfs),
# the metadata goes to an instruction file.
source "$(dirname "$0")/lib.sh"

LAKE=$MNT/lake
MARKER="PLAINTEXT-MARKER-$$-do-not-leak"

# fails_with DESCRIPTION MESSAGE COMMAND...: the command exits 1 with exactly
# one line on stderr, "shoal: ..." containing MESSAGE.
fails_with() {
  local what=$1 message=$2 rc err
  shift 2
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  if ((rc != 1)); then
    fail "$what (exit $rc, want 1; stderr: $err)"
  elif [[ $(wc -l <<<"$err") -ne 1 || $err != "shoal: "* ]]; then
    fail "$what (want one 'shoal: ' line, got: $err)"
  elif ! grep -qF -- "$message" <<<"$err"; then
    fail "$what (want '$message' in: $err)"
  else
    pass "$what"
  fi
}
absent() { [[ ! -e $1 ]]; }
# no_temps DIR: no temporary file of shoal cse is left in DIR.
no_temps() {
  local f
  for f in "$1"/.*.shoal-cse.*; do
    [[ -e $f ]] && return 1
  done
  return 0
}
# meta NAME FILE: one x-amz-* value of FILE's user metadata.
meta() { attr "user.s3.meta.$1" "$2"; }
b64len() { base64 -d <<<"$1" | wc -c; }

head -c 32 /dev/urandom | base64 >"$WORK/k1"
head -c 32 /dev/urandom >"$WORK/k2"
chmod 600 "$WORK/k1" "$WORK/k2"
{
  echo "$MARKER"
  head -c 2500000 /dev/urandom  # crosses the 1 MiB streaming chunks
  echo "$MARKER"
} >"$WORK/plain.bin"
SIZE=$(stat -c %s "$WORK/plain.bin")
mkdir -p "$WORK/local"

echo "== encrypt into a bucket: the envelope is the object's user metadata"
check "mount" mount_store "$STORE" "$MNT" --clock-rate=0
check "mkdir a bucket" mkdir "$LAKE"
check "shoal cse encrypt into the mount" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$LAKE/secret.bin"
equals "x-amz-cek-alg" "AES/GCM/NoPadding" meta x-amz-cek-alg "$LAKE/secret.bin"
equals "x-amz-wrap-alg" "AES/GCM" meta x-amz-wrap-alg "$LAKE/secret.bin"
equals "x-amz-tag-len" "128" meta x-amz-tag-len "$LAKE/secret.bin"
equals "x-amz-matdesc" "{}" meta x-amz-matdesc "$LAKE/secret.bin"
equals "x-amz-unencrypted-content-length" "$SIZE" meta x-amz-unencrypted-content-length "$LAKE/secret.bin"
equals "x-amz-iv is the base64 of 12 bytes" 12 b64len "$(meta x-amz-iv "$LAKE/secret.bin")"
equals "x-amz-key-v2 is the base64 of 60 bytes (nonce, key, tag)" 60 b64len "$(meta x-amz-key-v2 "$LAKE/secret.bin")"
equals "getfattr -d -m user.s3.meta lists the seven x-amz-* names" \
  "x-amz-cek-alg x-amz-iv x-amz-key-v2 x-amz-matdesc x-amz-tag-len x-amz-unencrypted-content-length x-amz-wrap-alg" \
  bash -c "getfattr --absolute-names -d -m user.s3.meta '$LAKE/secret.bin' | sed -n 's/^user\.s3\.meta\.\([^=]*\)=.*/\1/p' | sort | xargs"
equals "the object is the plaintext's size plus the 16-byte tag" $((SIZE + 16)) stat -c %s "$LAKE/secret.bin"
check "the object is an ordinary S3 object (it has an ETag)" attr user.s3.etag "$LAKE/secret.bin"
check "cat of the object is not the plaintext" bash -c "! cmp -s '$WORK/plain.bin' <(cat '$LAKE/secret.bin')"
check "and does not contain the plaintext's marker" bash -c "! grep -qaF '$MARKER' '$LAKE/secret.bin'"
check "no temporary file is left in the bucket" no_temps "$LAKE"
equals "the bucket holds just the object" "secret.bin" ls -A "$LAKE"

echo "== decrypt it back out"
check "shoal cse decrypt out of the mount" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$LAKE/secret.bin" "$WORK/local/out.bin"
check "the plaintext comes back byte for byte" cmp "$WORK/plain.bin" "$WORK/local/out.bin"
equals "the decrypted file is private (0600)" 600 stat -c %a "$WORK/local/out.bin"
check "--key-file=K works too" "$SHOAL" cse decrypt --key-file="$WORK/k1" "$LAKE/secret.bin" "$WORK/local/out2.bin"
check "the raw-bytes key file form works" bash -c "'$SHOAL' cse encrypt --key-file '$WORK/k2' '$WORK/plain.bin' '$LAKE/raw-key.bin' && '$SHOAL' cse decrypt --key-file '$WORK/k2' '$LAKE/raw-key.bin' '$WORK/local/raw.out' && cmp '$WORK/plain.bin' '$WORK/local/raw.out'"
: >"$WORK/empty"
check "an empty file round-trips" bash -c "'$SHOAL' cse encrypt --key-file '$WORK/k1' '$WORK/empty' '$LAKE/empty' && [[ \$(stat -c %s '$LAKE/empty') == 16 ]] && '$SHOAL' cse decrypt --key-file '$WORK/k1' '$LAKE/empty' '$WORK/local/empty.out' && cmp '$WORK/empty' '$WORK/local/empty.out'"
check "encrypting over an existing object replaces it" bash -c "echo other >'$WORK/other' && '$SHOAL' cse encrypt --key-file '$WORK/k1' '$WORK/other' '$LAKE/empty' && '$SHOAL' cse decrypt --key-file '$WORK/k1' '$LAKE/empty' '$WORK/local/other.out' && cmp '$WORK/other' '$WORK/local/other.out'"

echo "== a wrong key is refused and leaves no OUT"
fails_with "decrypt with another key" "does not decrypt" "$SHOAL" cse decrypt --key-file "$WORK/k2" "$LAKE/secret.bin" "$WORK/local/wrong.bin"
check "no OUT after the wrong key" absent "$WORK/local/wrong.bin"
check "no temporary file left after the wrong key" no_temps "$WORK/local"
fails_with "a wrong key into the mount" "does not decrypt" "$SHOAL" cse decrypt --key-file "$WORK/k2" "$LAKE/secret.bin" "$LAKE/wrong.bin"
check "no OUT in the bucket" absent "$LAKE/wrong.bin"
check "and no temporary object" no_temps "$LAKE"

echo "== tampering is refused and leaves no OUT"
check "encrypt a second object" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$LAKE/tampered.bin"
check "overwrite one byte through the mount (dd conv=notrunc)" \
  bash -c "printf 'X' | dd of='$LAKE/tampered.bin' bs=1 seek=1000000 count=1 conv=notrunc status=none"
fails_with "a tampered object" "tampered or damaged" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$LAKE/tampered.bin" "$WORK/local/t.bin"
check "no OUT after tampering" absent "$WORK/local/t.bin"
check "no temporary file (no unverified plaintext) left" no_temps "$WORK/local"
check "a damaged tag is refused too" bash -c "'$SHOAL' cse encrypt --key-file '$WORK/k1' '$WORK/plain.bin' '$LAKE/tag.bin' && printf 'Z' | dd of='$LAKE/tag.bin' bs=1 seek=$((SIZE + 10)) count=1 conv=notrunc status=none && ! '$SHOAL' cse decrypt --key-file '$WORK/k1' '$LAKE/tag.bin' '$WORK/local/tag.out' 2>/dev/null && [[ ! -e '$WORK/local/tag.out' ]]"
check "encrypt a third object" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$LAKE/meta.bin"
check "replace its x-amz-iv" setfattr -n user.s3.meta.x-amz-iv -v AAAAAAAAAAAAAAAA "$LAKE/meta.bin"
fails_with "a changed IV" "tampered or damaged" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$LAKE/meta.bin" "$WORK/local/m.bin"
check "replace its x-amz-key-v2 with another object's" \
  setfattr -n user.s3.meta.x-amz-key-v2 -v "$(meta x-amz-key-v2 "$LAKE/secret.bin")" "$LAKE/meta.bin"
# Wrapped under the same key, it unwraps: to the wrong data key for this
# content, which then fails authentication.
fails_with "a swapped wrapped key" "tampered or damaged" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$LAKE/meta.bin" "$WORK/local/m.bin"
key_v2=$(meta x-amz-key-v2 "$LAKE/secret.bin")
if [[ ${key_v2:20:1} == A ]]; then c=B; else c=A; fi
check "damage one character of an x-amz-key-v2" \
  bash -c "cp --preserve=xattr '$LAKE/secret.bin' '$WORK/local/badkey.bin' && setfattr -n user.s3.meta.x-amz-key-v2 -v '${key_v2:0:20}$c${key_v2:21}' '$WORK/local/badkey.bin'"
fails_with "a damaged wrapped key" "does not decrypt" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$WORK/local/badkey.bin" "$WORK/local/m.bin"
check "replace its x-amz-unencrypted-content-length" bash -c "'$SHOAL' cse encrypt --key-file '$WORK/k1' '$WORK/plain.bin' '$LAKE/len.bin' && setfattr -n user.s3.meta.x-amz-unencrypted-content-length -v 5 '$LAKE/len.bin'"
fails_with "a wrong length" "x-amz-unencrypted-content-length" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$LAKE/len.bin" "$WORK/local/m.bin"
check "replace its x-amz-wrap-alg with kms+context" bash -c "'$SHOAL' cse encrypt --key-file '$WORK/k1' '$WORK/plain.bin' '$LAKE/kms.bin' && setfattr -n user.s3.meta.x-amz-wrap-alg -v kms+context '$LAKE/kms.bin'"
fails_with "a KMS-wrapped object is named as such" "not KMS" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$LAKE/kms.bin" "$WORK/local/m.bin"
check "no OUT after any of these" absent "$WORK/local/m.bin"

echo "== the object travels with its xattrs"
check "cp --preserve=xattr out of the mount to ext4" cp --preserve=xattr "$LAKE/secret.bin" "$WORK/local/copy.bin"
check "the copy decrypts" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$WORK/local/copy.bin" "$WORK/local/copy.out"
check "to the plaintext" cmp "$WORK/plain.bin" "$WORK/local/copy.out"
check "encrypt outside the mount (ext4 stores user xattrs)" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$WORK/local/ext4.bin"
check "no instruction file on ext4" absent "$WORK/local/ext4.bin.instruction"
check "cp --preserve=xattr into the mount" cp --preserve=xattr "$WORK/local/ext4.bin" "$LAKE/from-ext4.bin"
equals "the metadata arrived as user metadata" "AES/GCM" meta x-amz-wrap-alg "$LAKE/from-ext4.bin"
check "and the object decrypts" bash -c "'$SHOAL' cse decrypt --key-file '$WORK/k1' '$LAKE/from-ext4.bin' '$WORK/local/from.out' && cmp '$WORK/plain.bin' '$WORK/local/from.out'"
check "a plain cp loses the metadata" cp "$LAKE/secret.bin" "$WORK/local/bare.bin"
fails_with "so its decrypt says what is missing" "no client-side encryption metadata" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$WORK/local/bare.bin" "$WORK/local/bare.out"
fails_with "a file that was never encrypted" "no client-side encryption metadata" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$WORK/local/never.out"

echo "== instruction file where OUT's file system refuses user xattrs"
# ramfs has no xattr support at all (tmpfs stores user xattrs since Linux 6.6).
RAM=$WORK/ramfs
mkdir -p "$RAM"
if mount -t ramfs shoal-cse-test "$RAM" 2>/dev/null; then
  err=$("$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$RAM/obj.bin" 2>&1)
  rc=$?
  if ((rc == 0)) && grep -qF "instruction file" <<<"$err"; then
    pass "encrypt onto ramfs succeeds and says it wrote an instruction file"
  else
    fail "encrypt onto ramfs (exit $rc: $err)"
  fi
  equals "the instruction file holds the seven names" \
    "x-amz-cek-alg x-amz-iv x-amz-key-v2 x-amz-matdesc x-amz-tag-len x-amz-unencrypted-content-length x-amz-wrap-alg" \
    bash -c "jq -r 'keys[]' '$RAM/obj.bin.instruction' | xargs"
  equals "with the constant values" "AES/GCM/NoPadding AES/GCM 128 {}" \
    jq -r '[."x-amz-cek-alg", ."x-amz-wrap-alg", ."x-amz-tag-len", ."x-amz-matdesc"] | join(" ")' "$RAM/obj.bin.instruction"
  check "decrypt reads IN.instruction" bash -c "'$SHOAL' cse decrypt --key-file '$WORK/k1' '$RAM/obj.bin' '$WORK/local/ram.out' 2>&1 && cmp '$WORK/plain.bin' '$WORK/local/ram.out'"
  fails_with "a wrong key with an instruction file" "does not decrypt" "$SHOAL" cse decrypt --key-file "$WORK/k2" "$RAM/obj.bin" "$RAM/wrong.out"
  check "no OUT on ramfs after the wrong key" absent "$RAM/wrong.out"
  check "and no temporary file" no_temps "$RAM"
  check "object and instruction file copied into the mount" cp "$RAM/obj.bin" "$RAM/obj.bin.instruction" "$LAKE/"
  check "decrypt there from the instruction object" bash -c "'$SHOAL' cse decrypt --key-file '$WORK/k1' '$LAKE/obj.bin' '$WORK/local/ri.out' && cmp '$WORK/plain.bin' '$WORK/local/ri.out'"
  echo '{"x-amz-key-v2": 5}' >"$WORK/local/badjson.bin.instruction"
  cp "$WORK/local/bare.bin" "$WORK/local/badjson.bin"
  fails_with "a malformed instruction file" "is not a string" "$SHOAL" cse decrypt --key-file "$WORK/k1" "$WORK/local/badjson.bin" "$WORK/local/bj.out"
  umount "$RAM"
else
  # Mounting ramfs needs root (CAP_SYS_ADMIN); without it there is no file
  # system at hand that refuses user xattrs (ext4 and tmpfs store them).
  echo "  skip instruction-file fallback: cannot mount ramfs (not root?)"
fi

echo "== bad key files and bad command lines"
head -c 31 /dev/urandom >"$WORK/short"
echo "this is not a key" >"$WORK/junk"
head -c 32 /dev/urandom | base64 >"$WORK/loose"
chmod 600 "$WORK/short" "$WORK/junk"
chmod 644 "$WORK/loose"
fails_with "a missing key file" "No such file" "$SHOAL" cse encrypt --key-file "$WORK/nokey" "$WORK/plain.bin" "$WORK/local/x"
fails_with "a 31-byte key file" "32 raw bytes or their base64" "$SHOAL" cse encrypt --key-file "$WORK/short" "$WORK/plain.bin" "$WORK/local/x"
fails_with "a key file of text" "32 raw bytes or their base64" "$SHOAL" cse decrypt --key-file "$WORK/junk" "$LAKE/secret.bin" "$WORK/local/x"
fails_with "a key file readable by others" "chmod 600" "$SHOAL" cse encrypt --key-file "$WORK/loose" "$WORK/plain.bin" "$WORK/local/x"
fails_with "a directory as key file" "is a directory" "$SHOAL" cse encrypt --key-file "$WORK" "$WORK/plain.bin" "$WORK/local/x"
check "a key from a pipe (<(...)) is accepted" bash -c "'$SHOAL' cse decrypt --key-file <(cat '$WORK/k1') '$LAKE/secret.bin' '$WORK/local/pipe.out'"
fails_with "no --key-file" "needs --key-file" "$SHOAL" cse encrypt "$WORK/plain.bin" "$WORK/local/x"
fails_with "an unknown verb" "encrypt or decrypt" "$SHOAL" cse rot13 --key-file "$WORK/k1" "$WORK/plain.bin" "$WORK/local/x"
fails_with "missing OUT" "needs IN and OUT" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin"
fails_with "an unknown option" "unknown option --force" "$SHOAL" cse encrypt --force --key-file "$WORK/k1" "$WORK/plain.bin" "$WORK/local/x"
fails_with "a missing IN" "cannot open" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/none" "$WORK/local/x"
fails_with "OUT a directory" "is a directory" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$WORK/local"
fails_with "IN and OUT the same" "same file" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$WORK/plain.bin"
fails_with "OUT in a missing directory" "cannot create a temporary file" "$SHOAL" cse encrypt --key-file "$WORK/k1" "$WORK/plain.bin" "$WORK/nodir/x"
check "none of them wrote OUT" absent "$WORK/local/x"
check "shoal --help lists cse" bash -c "'$SHOAL' --help | grep -q 'shoal cse encrypt --key-file K IN OUT'"

echo "== the store is sound"
check "umount" umount_store "$MNT"
check "shoal fsck verifies every object, encrypted ones included" "$SHOAL" fsck "$STORE"

finish
