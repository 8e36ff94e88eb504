#!/usr/bin/env bash
# kms_test: SSE-KMS through the mount (DESIGN §2.3, §2.4). KMS keys made with
# mkdir and steered through config.json; a bucket's default encryption;
# every GenerateDataKey and Decrypt in .shoal/audit.log with the object's ARN
# as encryption context, and on the bill; a disabled, pending-deletion and
# deleted key refusing reads (EACCES, KMS.* lines in .shoal/errors) until
# enabled again; re-encryption through user.s3.sse and user.s3.sse_kms_key_id;
# the AWS managed key aws/s3; S3 Bucket Keys cutting the KMS calls; yearly
# rotation; the request quota in both modes; renames; a remount; fsck.
source "$(dirname "$0")/lib.sh"

KEYS=$MNT/.kms/keys
AUDIT=$MNT/.shoal/audit.log
ARN_RE='^arn:aws:kms:us-east-1:000000000000:key/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# audit_count EVENT [CONTEXT-ARN]: how many audit lines of that event (for
# that encryption context) the log holds.
audit_count() {
  jq -c --arg e "$1" --arg c "${2:-}" \
    'select(.eventName == $e and ($c == "" or .requestParameters.encryptionContext["aws:s3:arn"] == $c))' \
    "$AUDIT" | wc -l
}
config() { jq -r ".$2" "$KEYS/$1/config.json"; }
sse_default() {  # sse_default BUCKET ALGORITHM [KEY] [BUCKET-KEY]
  local key=${3:+,\"KMSMasterKeyID\":\"$3\"}
  echo "{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"$2\"$key},\"BucketKeyEnabled\":${4:-false}}]}" \
    >"$MNT/.s3/$1/encryption.json"
}

check "mount with a frozen clock" mount_store "$STORE" "$MNT" --clock=2027-01-01T00:00:00Z --clock-rate=0

# --- keys ---------------------------------------------------------------------
check "mkdir .kms/keys/k1 creates a key" mkdir "$KEYS/k1"
check "its ARN has KMS's form" grep -Eq "$ARN_RE" <<<"$(config k1 Arn)"
equals "its alias is alias/k1" "alias/k1" config k1 AliasName
equals "it is enabled" "Enabled" config k1 KeyState
equals "it is customer managed" "CUSTOMER" config k1 KeyManager
K1=$(config k1 Arn)
expect_fail "mkdir of a taken name fails" "File exists" mkdir "$KEYS/k1"
reject "mkdir .kms/keys/aws is refused (AWS's prefix)" "Invalid argument" InvalidArgument \
  /.kms/keys/aws mkdir "$KEYS/aws"
expect_fail "rmdir of a key is refused: KMS only schedules deletion" "Operation not permitted" \
  rmdir "$KEYS/k1"
check "the key is still there" test -d "$KEYS/k1"
check "a CreateKey line is in the audit log" test "$(audit_count CreateKey)" = 1
echo '{"Enabled": "yes"}' >"$WORK/bad.json"
reject "config.json with a non-boolean Enabled is refused" "Invalid argument" MalformedJSON \
  /.kms/keys/k1/config.json cp "$WORK/bad.json" "$KEYS/k1/config.json"
echo '{"PendingDeletionDays": 5}' >"$WORK/bad.json"
mark_log
expect_fail "a 5-day deletion window is refused" "Invalid argument" cp "$WORK/bad.json" "$KEYS/k1/config.json"
check ".shoal/errors says the window must be at least 7" grep -q "greater than or equal to 7" \
  <(tail -n +$((MARK + 1)) "$MNT/.shoal/errors")
equals "the refused documents changed nothing" "Enabled" config k1 KeyState

# --- bucket default encryption ------------------------------------------------
mkdir "$MNT/lake"
equals "a bucket without encryption.json reports SSE-S3 (AES256)" "AES256" \
  jq -r '.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm' "$MNT/.s3/lake/encryption.json"
echo '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256","KMSMasterKeyID":"alias/k1"}}]}' \
  >"$WORK/bad.json"
reject "KMSMasterKeyID with AES256 is refused" "Invalid argument" InvalidArgument \
  /.s3/lake/encryption.json cp "$WORK/bad.json" "$MNT/.s3/lake/encryption.json"
check "encryption.json takes aws:kms with alias/k1" sse_default lake aws:kms alias/k1
seq 1 200000 >"$WORK/data"
cp "$WORK/data" "$MNT/lake/report.csv"
equals "a new object is SSE-KMS" "aws:kms" attr user.s3.sse "$MNT/lake/report.csv"
equals "under k1" "$K1" attr user.s3.sse_kms_key_id "$MNT/lake/report.csv"
check "its PUT made one GenerateDataKey with the object's ARN as context" \
  test "$(audit_count GenerateDataKey arn:aws:s3:::lake/report.csv)" = 1
check "it reads back" cmp "$WORK/data" "$MNT/lake/report.csv"
check "each read is a Decrypt with the same context" \
  test "$(audit_count Decrypt arn:aws:s3:::lake/report.csv)" -ge 1
before=$(audit_count Decrypt arn:aws:s3:::lake/report.csv)
cat "$MNT/lake/report.csv" >/dev/null && cat "$MNT/lake/report.csv" >/dev/null
check "two more opens, two more Decrypts (as two GETs)" \
  test "$(audit_count Decrypt arn:aws:s3:::lake/report.csv)" = $((before + 2))
check "audit lines carry eventTime, keyId and the caller's uid" \
  test "$(jq -r 'select(.eventName=="GenerateDataKey") | [.eventTime, .requestParameters.keyId, .userIdentity.uid] | @tsv' "$AUDIT")" \
  = "2027-01-01T00:00:00Z	$K1	$(id -u)"
equals "inventory: SSE-KMS and the key's ARN" "SSE-KMS,$K1" \
  bash -c "grep '^lake,report.csv,' '$MNT/.s3/lake/inventory.csv' | cut -d, -f11,12"
billable=$(jq -c 'select(.eventName=="GenerateDataKey" or .eventName=="Decrypt")' "$AUDIT" | wc -l)
equals "the bill counts every GenerateDataKey and Decrypt" "$billable" jq '.kms.requests' "$MNT/.shoal/billing.json"
equals "and one customer managed key" "1" jq '.kms.keys' "$MNT/.shoal/billing.json"

# --- disabled, pending deletion, deleted ----------------------------------------
echo '{"Enabled": false}' >"$KEYS/k1/config.json"
equals "k1 is disabled" "Disabled" config k1 KeyState
reject "reading under a disabled key is EACCES" "Permission denied" KMS.DisabledException \
  /lake/report.csv cat "$MNT/lake/report.csv"
expect_fail "writing under a disabled key fails too" "Permission denied" \
  cp "$WORK/data" "$MNT/lake/new.csv"
check "DisableKey is audited" test "$(audit_count DisableKey)" = 1
echo '{"Enabled": true}' >"$KEYS/k1/config.json"
check "re-enabled: it reads again" cmp "$WORK/data" "$MNT/lake/report.csv"

echo '{"PendingDeletionDays": 7}' >"$KEYS/k1/config.json"
equals "k1 is pending deletion" "PendingDeletion" config k1 KeyState
equals "its deletion date is 7 days on" "2027-01-08T00:00:00Z" config k1 DeletionDate
reject "reading under a key pending deletion is EACCES" "Permission denied" \
  KMS.KMSInvalidStateException /lake/report.csv cat "$MNT/lake/report.csv"
equals "keys pending deletion are not billed" "0" jq '.kms.keys' "$MNT/.shoal/billing.json"
echo '{"PendingDeletionDays": 0}' >"$KEYS/k1/config.json"
equals "a cancelled deletion leaves the key disabled" "Disabled" config k1 KeyState
echo '{"Enabled": true}' >"$KEYS/k1/config.json"
check "enabled again, it reads" cmp "$WORK/data" "$MNT/lake/report.csv"

# A second key for the rest; k1 goes for good.
mkdir "$KEYS/k2"
K2=$(config k2 Arn)
check "setfattr user.s3.sse_kms_key_id=alias/k2 re-encrypts under k2" \
  setfattr -n user.s3.sse_kms_key_id -v alias/k2 "$MNT/lake/report.csv"
equals "the object is under k2 now" "$K2" attr user.s3.sse_kms_key_id "$MNT/lake/report.csv"
cp "$WORK/data" "$MNT/lake/stays-k1.csv"
mkdir "$MNT/lake/mixed"
cp "$WORK/data" "$MNT/lake/mixed/dead-key.csv"
cp "$WORK/data" "$MNT/lake/mixed/live.csv"
setfattr -n user.s3.sse_kms_key_id -v alias/k2 "$MNT/lake/mixed/live.csv"
echo '{"PendingDeletionDays": 7}' >"$KEYS/k1/config.json"
echo +6d >"$MNT/.shoal/clock"
check "six days on, k1 is still there" test -d "$KEYS/k1"
echo +1d >"$MNT/.shoal/clock"
check "seven days on, k1 is deleted and gone from .kms/keys" test ! -e "$KEYS/k1"
check "DeleteKey is audited" test "$(audit_count DeleteKey)" = 1
reject "an object under the deleted key is EACCES for good" "Permission denied" \
  KMS.NotFoundException /lake/stays-k1.csv cat "$MNT/lake/stays-k1.csv"
check "the object moved to k2 before still reads" cmp "$WORK/data" "$MNT/lake/report.csv"
reject "alias/k1 is no more: naming it is a bad argument" "Invalid argument" InvalidArgument \
  /lake/report.csv setfattr -n user.s3.sse_kms_key_id -v alias/k1 "$MNT/lake/report.csv"
check "a directory holding an object under the deleted key still renames" \
  mv "$MNT/lake/mixed" "$MNT/lake/mixed2"
check "its live object reads under its new name" cmp "$WORK/data" "$MNT/lake/mixed2/live.csv"
expect_fail "the dead one stays unreadable" "Permission denied" cat "$MNT/lake/mixed2/dead-key.csv"

# --- re-encryption in place and the AWS managed key ------------------------------
mkdir "$MNT/plain"
cp "$WORK/data" "$MNT/plain/doc"
equals "a bucket without a default: SSE-S3" "AES256" attr user.s3.sse "$MNT/plain/doc"
check "no aws/s3 key yet" test ! -e "$KEYS/aws"
check "setfattr user.s3.sse=aws:kms re-encrypts" setfattr -n user.s3.sse -v aws:kms "$MNT/plain/doc"
check "under the AWS managed key, made on first use" test -f "$KEYS/aws/s3/config.json"
equals "aws/s3 is AWS managed" "AWS" config aws/s3 KeyManager
equals "the object names it" "$(config aws/s3 Arn)" attr user.s3.sse_kms_key_id "$MNT/plain/doc"
check "it reads back" cmp "$WORK/data" "$MNT/plain/doc"
echo '{"Enabled": false}' >"$WORK/off.json"
expect_fail "an AWS managed key cannot be changed" "Invalid argument" \
  cp "$WORK/off.json" "$KEYS/aws/s3/config.json"
check "setfattr user.s3.sse=AES256 goes back to SSE-S3" setfattr -n user.s3.sse -v AES256 "$MNT/plain/doc"
expect_fail "no KMS key is named then" "No such attribute" \
  getfattr -n user.s3.sse_kms_key_id "$MNT/plain/doc"
check "and it still reads" cmp "$WORK/data" "$MNT/plain/doc"
reject "an unknown sse value is refused" "Invalid argument" InvalidArgument /plain/doc \
  setfattr -n user.s3.sse -v aws:nope "$MNT/plain/doc"

# --- renames -------------------------------------------------------------------
sse_default plain aws:kms alias/k2
mkdir -p "$MNT/plain/dir/sub"
for i in 1 2 3; do seq 1 $((i * 20000)) >"$MNT/plain/dir/sub/f$i"; done
mv "$MNT/plain/dir/sub/f1" "$MNT/plain/dir/f1-moved"
check "a renamed SSE-KMS object reads" cmp <(seq 1 20000) "$MNT/plain/dir/f1-moved"
check "its key was made again for its new ARN" \
  test "$(audit_count GenerateDataKey arn:aws:s3:::plain/dir/f1-moved)" = 1
mv "$MNT/plain/dir" "$MNT/plain/dir2"
check "objects below a renamed directory read" cmp <(seq 1 60000) "$MNT/plain/dir2/sub/f3"
check "... under their new ARNs" test "$(audit_count GenerateDataKey arn:aws:s3:::plain/dir2/sub/f3)" = 1

# --- Bucket Keys ---------------------------------------------------------------
mkdir "$MNT/perobj" "$MNT/bktkey"
sse_default perobj aws:kms alias/k2 false
sse_default bktkey aws:kms alias/k2 true
gen0=$(audit_count GenerateDataKey)
for i in $(seq 1 20); do echo "row $i" >"$MNT/perobj/o$i"; done
gen1=$(audit_count GenerateDataKey)
for i in $(seq 1 20); do echo "row $i" >"$MNT/bktkey/o$i"; done
gen2=$(audit_count GenerateDataKey)
check "20 PUTs without a Bucket Key: 20 GenerateDataKey calls" test $((gen1 - gen0)) = 20
check "20 PUTs with a Bucket Key: 1 GenerateDataKey call, for the bucket's ARN" \
  test "$((gen2 - gen1)) $(audit_count GenerateDataKey arn:aws:s3:::bktkey)" = "1 1"
dec0=$(audit_count Decrypt)
cat "$MNT"/bktkey/o* >/dev/null
dec1=$(audit_count Decrypt)
cat "$MNT"/perobj/o* >/dev/null
dec2=$(audit_count Decrypt)
check "reading 20 Bucket Key objects: no Decrypt (the key is cached)" test $((dec1 - dec0)) = 0
check "reading 20 per-object objects: 20 Decrypt calls" test $((dec2 - dec1)) = 20
echo '{"Enabled": false}' >"$KEYS/k2/config.json"
expect_fail "disabling the key stops Bucket Key reads at once" "Permission denied" cat "$MNT/bktkey/o1"
echo '{"Enabled": true}' >"$KEYS/k2/config.json"
check "enabled again, Bucket Key objects read" test "$(cat "$MNT/bktkey/o7")" = "row 7"
exec 3>>"$MNT/perobj/o2"  # a writer holds o2 open
echo '{"Enabled": false}' >"$KEYS/k2/config.json"
expect_fail "a second writer joining an open SSE-KMS object under a disabled key is refused" \
  "Permission denied" bash -c "exec 4>>'$MNT/perobj/o2'"
echo '{"Enabled": true}' >"$KEYS/k2/config.json"
exec 3>&-
check "the object is as it was" test "$(cat "$MNT/perobj/o2")" = "row 2"

# --- rotation ------------------------------------------------------------------
echo '{"KeyRotationEnabled": true}' >"$KEYS/k2/config.json"
equals "rotation is on" "true" config k2 KeyRotationEnabled
echo +366d >"$MNT/.shoal/clock"
check "a year on, KMS rotated k2" test "$(audit_count RotateKey)" -ge 1
check "objects written before the rotation read" cmp "$WORK/data" "$MNT/lake/report.csv"
echo fresh >"$MNT/perobj/after-rotation"
check "objects written after it read" test "$(cat "$MNT/perobj/after-rotation")" = fresh

# --- quota ---------------------------------------------------------------------
echo '{"RequestsPerSecond": 2, "Mode": "reject"}' >"$MNT/.kms/quota.json"
equals "quota.json reads back" "2 reject" jq -r '"\(.RequestsPerSecond) \(.Mode)"' "$MNT/.kms/quota.json"
sleep 1.1
failed=0
mark_log
for i in $(seq 1 6); do cat "$MNT/perobj/o$i" >/dev/null 2>&1 || failed=$((failed + 1)); done
check "over the quota in reject mode, reads fail (failed: $failed of 6)" test "$failed" -ge 3
check ".shoal/errors says KMS.ThrottlingException" \
  grep -q "KMS.ThrottlingException: Rate exceeded" <(tail -n +$((MARK + 1)) "$MNT/.shoal/errors")
check "throttled calls are audited with their error" \
  test "$(jq -c 'select(.errorCode == "ThrottlingException")' "$AUDIT" | wc -l)" -ge 3
expect_fail "a throttled read is EAGAIN" "Resource temporarily unavailable" \
  bash -c "for i in 1 2 3 4 5 6; do cat '$MNT/perobj/o1' >/dev/null || exit 1; done"
echo '{"RequestsPerSecond": 4, "Mode": "pace"}' >"$MNT/.kms/quota.json"
sleep 1.1
start=$(date +%s%N)
ok=0
for i in $(seq 1 12); do cat "$MNT/perobj/o$i" >/dev/null && ok=$((ok + 1)); done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "in pace mode every read succeeds (12 of 12)" test "$ok" = 12
check "... paced to the quota: 12 reads at 4/s take at least 1.5 s (took ${elapsed_ms} ms)" \
  test "$elapsed_ms" -ge 1500
# A rename's KMS calls come before its metadata transaction: under a paced
# quota, other writers go on while it waits.
mkdir "$MNT/perobj/tree" "$MNT/sidewalk"
for i in 1 2 3 4 5 6; do echo "leaf $i" >"$MNT/perobj/tree/l$i"; done
echo '{"RequestsPerSecond": 2, "Mode": "pace"}' >"$MNT/.kms/quota.json"
sleep 1.1
mv "$MNT/perobj/tree" "$MNT/perobj/tree2" &
mv_pid=$!
rename_started() {
  jq -e -s 'any(.[]; .eventName == "Decrypt" and
    (.requestParameters.encryptionContext["aws:s3:arn"] // "" | startswith("arn:aws:s3:::perobj/tree/")))' \
    "$AUDIT" >/dev/null
}
for _ in $(seq 1 100); do rename_started && break; sleep 0.1; done
check "the paced directory rename has begun its KMS calls" rename_started
cp "$WORK/data" "$MNT/sidewalk/during"
made=$(jq -c 'select(.eventName == "GenerateDataKey" and
  (.requestParameters.encryptionContext["aws:s3:arn"] // "" | startswith("arn:aws:s3:::perobj/tree2/")))' \
  "$AUDIT" | wc -l)
check "a write elsewhere completes while the rename still waits for KMS ($made of 6 keys made)" \
  test "$made" -lt 6
check "... and the rename is still running" alive "$mv_pid"
wait "$mv_pid"
mv_rc=$?
check "the rename completes (exit $mv_rc)" test "$mv_rc" = 0
check "the moved objects read" cmp <(echo "leaf 6") "$MNT/perobj/tree2/l6"
check "... under their new ARNs" test "$(audit_count GenerateDataKey arn:aws:s3:::perobj/tree2/l6)" = 1
check "the write made meanwhile reads" cmp "$WORK/data" "$MNT/sidewalk/during"
echo '{"Mode": "fast"}' >"$WORK/bad.json"
reject "a bad quota is refused" "Invalid argument" InvalidArgument /.kms/quota.json \
  cp "$WORK/bad.json" "$MNT/.kms/quota.json"
echo '{"RequestsPerSecond": 50000, "Mode": "pace"}' >"$MNT/.kms/quota.json"

# --- remount and fsck ----------------------------------------------------------
lines=$(wc -l <"$AUDIT")
check "unmount" umount_store
check "remount" mount_store "$STORE" "$MNT" --clock-rate=0
check "keys survive a remount" test -d "$KEYS/k2"
equals "so does their state" "true" config k2 KeyRotationEnabled
check "SSE-KMS objects read after a remount" cmp "$WORK/data" "$MNT/lake/report.csv"
check "Bucket Key objects too" test "$(cat "$MNT/bktkey/o20")" = "row 20"
check "the audit log keeps its lines and grows" test "$(wc -l <"$AUDIT")" -gt "$lines"
check "every audit line is JSON" jq -e . "$AUDIT"
check "unmount" umount_store
fsck_out=$("$SHOAL" fsck "$STORE" 2>&1)
fsck_rc=$?
check "fsck finds nothing damaged (exit $fsck_rc)" test "$fsck_rc" = 0
check "fsck cannot verify the object under the deleted key, and says so" \
  grep -q "^UNVERIFIED /lake/stays-k1.csv: KMS.NotFoundException" <<<"$fsck_out"
check "nor the moved one under the deleted key" \
  grep -q "^UNVERIFIED /lake/mixed2/dead-key.csv: KMS.NotFoundException" <<<"$fsck_out"
check "fsck names nothing else" test "$(grep -c '^DAMAGED\|^UNVERIFIED' <<<"$fsck_out")" = 2

# --- a damaged encryption.json refuses PUTs rather than choosing for the bucket --
check "damage every stored encryption.json (mdb_dump, mdb_load)" python3 - "$STORE/meta" <<'EOF'
import subprocess, sys
meta = sys.argv[1]
lines = subprocess.run(['mdb_dump', '-s', 'configs', meta], check=True, capture_output=True,
                       text=True).stdout.split('\n')
hits = 0
for i, line in enumerate(lines):
    if line.startswith(' ') and line.strip().endswith(b'encryption.json'.hex()):
        lines[i + 1] = ' ' + b'{"Rules": [ damaged'.hex()
        hits += 1
subprocess.run(['mdb_load', '-s', 'configs', meta], check=True, input='\n'.join(lines), text=True)
sys.exit(0 if hits > 0 else 'no encryption.json stored')
EOF
check "remount" mount_store "$STORE" "$MNT" --clock-rate=0
echo x >"$WORK/x"
reject "a PUT into a bucket whose encryption.json is damaged fails with EIO" "Input/output error" \
  DataCorrupted /perobj/refused cp "$WORK/x" "$MNT/perobj/refused"
check "existing objects still read" test "$(cat "$MNT/perobj/o3")" = "row 3"
check "writing encryption.json again mends it" sse_default perobj aws:kms alias/k2
check "and PUTs work again" bash -c "echo y >'$MNT/perobj/accepted' && grep -qx y '$MNT/perobj/accepted'"
check "unmount" umount_store

finish
