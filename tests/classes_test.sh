#!/usr/bin/env bash
# classes_test: storage classes on the simulated clock, through a real mount
# with ordinary tools (DESIGN §2.1–§2.3, §2.9): the clock file, class
# changes, archived objects and their restores, Intelligent-Tiering over
# 200 simulated days, inventory.csv and billing.json — and every bad input.
# The clock is frozen (--clock-rate=0) except where a running clock is the
# point, so every expected time below is exact.
source "$(dirname "$0")/lib.sh"

CLOCK=$MNT/.shoal/clock

advance() { echo "$1" >"$CLOCK"; }
# inv BUCKET KEY COLUMN: one cell of the bucket's inventory.csv.
inv() {
  python3 - "$MNT/.s3/$1/inventory.csv" "$2" "$3" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
print(next((r[sys.argv[3]] for r in rows if r['Key'] == sys.argv[2]), '<no row>'))
EOF
}
# bill JQ: a figure from billing.json.
bill() { jq -r "$1" "$MNT/.shoal/billing.json"; }
# approx DESCRIPTION EXPECTED JQ [TOLERANCE]: billing.json's figure JQ is
# EXPECTED (a jq expression, computed by hand) to within the bill's rounding
# ($1e-10 per line; the default 2e-10 allows a sum of two lines).
approx() {
  local what=$1 want=$2 expr=$3 tol=${4:-2e-10} got
  got=$(jq -r "($expr) as \$g | ($want) as \$w | if \$g == null then \"missing\" elif ((\$g - \$w) | fabs) <= $tol then \"ok\" else \"\\(\$g) != \\(\$w)\" end" "$MNT/.shoal/billing.json" 2>&1)
  if [[ $got == ok ]]; then pass "$what"; else fail "$what ($got)"; fi
}
same_content() { cmp -s "$1" "$2"; }

head -c 300000 /dev/urandom >"$WORK/big.bin"   # above Intelligent-Tiering's 128 KiB
head -c 10000 /dev/urandom >"$WORK/small.bin"  # below it, and inline
START=2026-01-01T00:00:00Z

echo "== the clock: read, advance, rate, never backwards"
check "mount with a frozen clock at $START" mount_store "$STORE" "$MNT" --clock=$START --clock-rate=0
equals "cat .shoal/clock" "$START" cat "$CLOCK"
check "echo +30d > .shoal/clock" advance +30d
equals "the clock moved 30 days" 2026-01-31T00:00:00Z cat "$CLOCK"
check "+12h, +15m and +10s in one write" bash -c "printf '+12h\n+15m\n+10s\n' >'$CLOCK'"
equals "each line was applied" 2026-01-31T12:15:10Z cat "$CLOCK"
check "an absolute ISO-8601 time" advance 2026-02-01T00:00:00Z
equals "the clock is there" 2026-02-01T00:00:00Z cat "$CLOCK"
reject "a time in the past" "Invalid argument" InvalidArgument /.shoal/clock advance 2026-01-15T00:00:00Z
equals "the clock did not move back" 2026-02-01T00:00:00Z cat "$CLOCK"
reject "an unknown command" "Invalid argument" InvalidArgument /.shoal/clock advance +3 weeks
reject "a negative rate" "Invalid argument" InvalidArgument /.shoal/clock advance "rate -2"
check "rate 0 keeps it frozen" advance "rate 0"
sleep 1.1
equals "frozen means frozen" 2026-02-01T00:00:00Z cat "$CLOCK"

echo "== changing class: a copy in place into another tier"
mkdir "$MNT/lake"
cp "$WORK/big.bin" "$MNT/lake/big.bin"
cp "$WORK/small.bin" "$MNT/lake/small.bin"
etag=$(attr user.s3.etag "$MNT/lake/big.bin")
equals "new objects are STANDARD" STANDARD attr user.s3.storage_class "$MNT/lake/big.bin"
for cls in STANDARD_IA ONEZONE_IA GLACIER_IR INTELLIGENT_TIERING STANDARD; do
  check "setfattr storage_class=$cls" setfattr -n user.s3.storage_class -v $cls "$MNT/lake/big.bin"
  equals "getfattr shows $cls" $cls attr user.s3.storage_class "$MNT/lake/big.bin"
  check "content intact in $cls" same_content "$WORK/big.bin" "$MNT/lake/big.bin"
done
equals "the ETag survives class changes" "$etag" attr user.s3.etag "$MNT/lake/big.bin"
reject "an unknown class" "Invalid argument" InvalidStorageClass /lake/big.bin \
  setfattr -n user.s3.storage_class -v GLACIER_DEEP "$MNT/lake/big.bin"
reject "a class in lower case" "Invalid argument" InvalidStorageClass /lake/big.bin \
  setfattr -n user.s3.storage_class -v glacier "$MNT/lake/big.bin"
equals "a rejected class changes nothing" STANDARD attr user.s3.storage_class "$MNT/lake/big.bin"
check "setfattr GLACIER_IR on a small (inline) object" \
  setfattr -n user.s3.storage_class -v GLACIER_IR "$MNT/lake/small.bin"
check "GLACIER_IR is readable without a restore" same_content "$WORK/small.bin" "$MNT/lake/small.bin"

echo "== archived objects: reads refused, everything else works"
check "setfattr GLACIER" setfattr -n user.s3.storage_class -v GLACIER "$MNT/lake/big.bin"
reject "cat of a GLACIER object" "Permission denied" InvalidObjectState /lake/big.bin \
  cat "$MNT/lake/big.bin"
check "the error names the class" grep -q "InvalidObjectState: .*(GLACIER)" "$ERRLOG"
reject "appending to a GLACIER object (needs its content)" "Permission denied" \
  InvalidObjectState /lake/big.bin bash -c "echo more >>'$MNT/lake/big.bin'"
equals "stat still works" 300000 stat -c %s "$MNT/lake/big.bin"
check "ls still lists it" bash -c "ls '$MNT/lake' | grep -qx big.bin"
equals "xattrs still work" "$etag" attr user.s3.etag "$MNT/lake/big.bin"
check "rename still works" mv "$MNT/lake/big.bin" "$MNT/lake/cold.bin"
equals "and keeps the class" GLACIER attr user.s3.storage_class "$MNT/lake/cold.bin"
reject "a class change out of GLACIER needs a restore" "Permission denied" InvalidObjectState \
  /lake/cold.bin setfattr -n user.s3.storage_class -v STANDARD "$MNT/lake/cold.bin"
check "no restore attribute before a request" \
  bash -c "! getfattr -n user.s3.restore '$MNT/lake/cold.bin' 2>/dev/null"

echo "== restores: GLACIER Expedited (5 min), expiry at midnight UTC after completion + Days"
reject "a restore without Days" "Invalid argument" InvalidArgument /lake/cold.bin \
  setfattr -n user.s3.restore -v Tier=Bulk "$MNT/lake/cold.bin"
reject "Days=0" "Invalid argument" InvalidArgument /lake/cold.bin \
  setfattr -n user.s3.restore -v Days=0 "$MNT/lake/cold.bin"
reject "an unknown tier" "Invalid argument" InvalidArgument /lake/cold.bin \
  setfattr -n user.s3.restore -v Days=1,Tier=Fast "$MNT/lake/cold.bin"
reject "a restore of an object that is not archived (GLACIER_IR)" "Invalid argument" \
  InvalidObjectState /lake/small.bin setfattr -n user.s3.restore -v Days=1 "$MNT/lake/small.bin"
check "request Days=2,Tier=Expedited at 2026-02-01T00:00:00Z" \
  setfattr -n user.s3.restore -v Days=2,Tier=Expedited "$MNT/lake/cold.bin"
equals "user.s3.restore: ongoing" 'ongoing-request="true"' attr user.s3.restore "$MNT/lake/cold.bin"
equals "inventory: IN_PROGRESS" IN_PROGRESS inv lake cold.bin ObjectRestoreStatus
# The daemon answers EAGAIN; this kernel's FUSE hands an EAGAIN from
# setxattr to the caller as EOPNOTSUPP, so either reaches setfattr.
AGAIN="Resource temporarily unavailable\\|Operation not supported"
reject "a second request at the same tier" "$AGAIN" \
  RestoreAlreadyInProgress /lake/cold.bin \
  setfattr -n user.s3.restore -v Days=2,Tier=Expedited "$MNT/lake/cold.bin"
reject "a second request at a slower tier" "$AGAIN" \
  RestoreAlreadyInProgress /lake/cold.bin \
  setfattr -n user.s3.restore -v Days=2,Tier=Bulk "$MNT/lake/cold.bin"
expect_fail "still unreadable while ongoing" "Permission denied" cat "$MNT/lake/cold.bin"
check "advance +4m" advance +4m
equals "not done after 4 minutes" 'ongoing-request="true"' attr user.s3.restore "$MNT/lake/cold.bin"
check "advance +1m" advance +1m
equals "done after 5 minutes, expiring at midnight after 00:05 + 2 days" \
  'ongoing-request="false", expiry-date="Wed, 04 Feb 2026 00:00:00 GMT"' \
  attr user.s3.restore "$MNT/lake/cold.bin"
check "the restored object reads back bit-exact" same_content "$WORK/big.bin" "$MNT/lake/cold.bin"
equals "inventory: RESTORED" RESTORED inv lake cold.bin ObjectRestoreStatus
equals "inventory: still GLACIER" GLACIER inv lake cold.bin StorageClass
check "advance to one second before the expiry" advance 2026-02-03T23:59:59Z
check "readable until the expiry" same_content "$WORK/big.bin" "$MNT/lake/cold.bin"
check "advance +1s (the expiry)" advance +1s
reject "archived again after the expiry" "Permission denied" InvalidObjectState /lake/cold.bin \
  cat "$MNT/lake/cold.bin"
check "user.s3.restore is gone" bash -c "! getfattr -n user.s3.restore '$MNT/lake/cold.bin' 2>/dev/null"
equals "inventory: no restore status" "" inv lake cold.bin ObjectRestoreStatus

echo "== restores: DEEP_ARCHIVE, a speed upgrade, a restore that outlives a remount"
cp "$WORK/big.bin" "$MNT/lake/deep.bin"
check "setfattr DEEP_ARCHIVE" setfattr -n user.s3.storage_class -v DEEP_ARCHIVE "$MNT/lake/deep.bin"
reject "Expedited is not offered for DEEP_ARCHIVE" "Invalid argument" InvalidArgument \
  /lake/deep.bin setfattr -n user.s3.restore -v Days=1,Tier=Expedited "$MNT/lake/deep.bin"
check "a Bulk request (48 h)" setfattr -n user.s3.restore -v Days=1,Tier=Bulk "$MNT/lake/deep.bin"
check "upgraded to Standard (12 h)" \
  setfattr -n user.s3.restore -v Days=1,Tier=Standard "$MNT/lake/deep.bin"
check "unmount with the restore pending" umount_store
check "remount (the clock resumes where it was)" mount_store "$STORE" "$MNT" --clock-rate=0
equals "the clock was kept" 2026-02-04T00:00:00Z cat "$CLOCK"
check "advance +11h" advance +11h
equals "not done after 11 h" 'ongoing-request="true"' attr user.s3.restore "$MNT/lake/deep.bin"
check "advance +1h" advance +1h
check "done after 12 h: readable" same_content "$WORK/big.bin" "$MNT/lake/deep.bin"
check "a restored object can be copied out of the archive" \
  setfattr -n user.s3.storage_class -v STANDARD "$MNT/lake/deep.bin"
equals "now STANDARD" STANDARD attr user.s3.storage_class "$MNT/lake/deep.bin"
check "and stays readable after the restore would have expired" \
  bash -c "echo +10d >'$CLOCK' && cmp -s '$WORK/big.bin' '$MNT/lake/deep.bin'"

echo "== a class change of a large object does not hold up other work"
# 80 MB of compressible CSV: DEEP_ARCHIVE's level encodes it for seconds.
seq 1 2400000 | awk '{printf "%d,device-%d,%.1f,2026-01-%02d\n", $1, $1 % 97, ($1 * 7) % 400 / 10, $1 % 28 + 1}' \
  >"$WORK/large.csv"
cp "$WORK/large.csv" "$MNT/lake/large.csv"
setfattr -n user.s3.storage_class -v DEEP_ARCHIVE "$MNT/lake/large.csv" &
copier=$!
sleep 0.5
check "meanwhile another object reads back" same_content "$WORK/small.bin" "$MNT/lake/small.bin"
check "meanwhile the bucket lists" bash -c "ls -l '$MNT/lake' | grep -q large.csv"
check "meanwhile a new object is written" bash -c "echo side >'$MNT/lake/side.txt'"
check "meanwhile the clock advances" advance +1m
check "the class change was still running all that time" kill -0 "$copier"
if wait "$copier"; then pass "and then completes"; else fail "and then completes (setfattr failed)"; fi
equals "large.csv is DEEP_ARCHIVE" DEEP_ARCHIVE attr user.s3.storage_class "$MNT/lake/large.csv"
equals "its stat is unchanged" "$(stat -c %s "$WORK/large.csv")" stat -c %s "$MNT/lake/large.csv"
check "billing.json shows DEEP_ARCHIVE's compression" bash -c "jq -e '[.storage[] | select(.class == \"DEEP_ARCHIVE\" and .item == \"data\") | .compression_ratio] | .[0] > 3' '$MNT/.shoal/billing.json' >/dev/null"

echo "== the clock never goes backwards, across mounts too"
check "unmount" umount_store
refused_mount() {
  local err=$WORK/mount.err
  if "$SHOAL" mount "$STORE" "$MNT" "$@" 2>"$err"; then
    fail "mount with $* (succeeded, expected a refusal)"
  elif grep -q "never goes backwards" "$err"; then
    pass "mount with $* is refused: $(head -1 "$err" | cut -c1-100)"
  else
    fail "mount with $* (wrong message: $(cat "$err"))"
  fi
}
refused_mount --clock=$START
check "nothing was mounted" not_mounted "$MNT"
check "remount with --default-storage-class=STANDARD_IA" \
  mount_store "$STORE" "$MNT" --clock-rate=0 --default-storage-class=STANDARD_IA
echo new >"$MNT/lake/new.txt"
equals "new objects take the default class" STANDARD_IA attr user.s3.storage_class "$MNT/lake/new.txt"
check "a rewrite is a new PUT in the default class" \
  bash -c "echo again >>'$MNT/lake/small.bin' && [[ \$(getfattr --only-values -n user.s3.storage_class '$MNT/lake/small.bin') == STANDARD_IA ]]"
check "unmount" umount_store

echo "== Intelligent-Tiering over 200 simulated days"
S2=$WORK/it-store
check "mount a fresh store at $START" mount_store "$S2" "$MNT" --clock=$START --clock-rate=0
mkdir "$MNT/tiering"
for f in idle read archived watched; do cp "$WORK/big.bin" "$MNT/tiering/$f.bin"; done
cp "$WORK/small.bin" "$MNT/tiering/small.bin"
advance +1h  # so that the class change's LastModified differs from the PUT's
for f in idle read archived watched small; do
  setfattr -n user.s3.storage_class -v INTELLIGENT_TIERING "$MNT/tiering/$f.bin"
done
check "opt in: ARCHIVE_ACCESS after 100 days for prefix arch" \
  bash -c "cat >'$MNT/.s3/tiering/intelligent-tiering.json' <<'JSON'
{\"Id\":\"archive\",\"Status\":\"Enabled\",\"Filter\":{\"Prefix\":\"archived\"},
 \"Tierings\":[{\"Days\":100,\"AccessTier\":\"ARCHIVE_ACCESS\"}]}
JSON"
check "the configuration reads back" \
  bash -c "jq -e '.. | objects | select(.AccessTier? == \"ARCHIVE_ACCESS\") | .Days == 100' '$MNT/.s3/tiering/intelligent-tiering.json' >/dev/null"
echo '{"Id":"x","Status":"Enabled","Tierings":[{"Days":20,"AccessTier":"ARCHIVE_ACCESS"}]}' >"$WORK/20days.json"
echo '{oops' >"$WORK/oops.json"
# cp reports a failing close(), where the shell's redirection does not.
reject "a configuration with 20 archive days" "Invalid argument" InvalidArgument \
  /.s3/tiering/intelligent-tiering.json cp "$WORK/20days.json" "$MNT/.s3/tiering/intelligent-tiering.json"
reject "a configuration that is not JSON" "Invalid argument" MalformedJSON \
  /.s3/tiering/intelligent-tiering.json cp "$WORK/oops.json" "$MNT/.s3/tiering/intelligent-tiering.json"
check "a rejected configuration leaves the old one in force" \
  grep -q '"Days": *100' "$MNT/.s3/tiering/intelligent-tiering.json"
equals "day 0: FREQUENT" FREQUENT inv tiering idle.bin IntelligentTieringAccessTier
for day in 20 40 60 80 100 120 140 160 180 200; do
  advance +20d
  cat "$MNT/tiering/read.bin" >/dev/null  # read every 20 days: stays Frequent
  case $day in
    20) equals "day 20: idle still FREQUENT" FREQUENT inv tiering idle.bin IntelligentTieringAccessTier ;;
    40) equals "day 40: idle INFREQUENT (30 days without access)" INFREQUENT \
          inv tiering idle.bin IntelligentTieringAccessTier
        equals "day 40: under 128 KiB never moves" FREQUENT inv tiering small.bin IntelligentTieringAccessTier ;;
    100) equals "day 100: idle ARCHIVE_INSTANT_ACCESS (90 days)" ARCHIVE_INSTANT_ACCESS \
           inv tiering idle.bin IntelligentTieringAccessTier
         equals "day 100: opted-in object ARCHIVE_ACCESS (100 days)" ARCHIVE_ACCESS \
           inv tiering archived.bin IntelligentTieringAccessTier ;;
  esac
done
equals "day 200: read every 20 days, still FREQUENT" FREQUENT inv tiering read.bin IntelligentTieringAccessTier
equals "day 200: idle stays ARCHIVE_INSTANT_ACCESS (not opted in)" ARCHIVE_INSTANT_ACCESS \
  inv tiering idle.bin IntelligentTieringAccessTier
equals "day 200: small still FREQUENT" FREQUENT inv tiering small.bin IntelligentTieringAccessTier
check "ARCHIVE_INSTANT_ACCESS reads at once" same_content "$WORK/big.bin" "$MNT/tiering/idle.bin"
equals "and the read moves it back to FREQUENT" FREQUENT inv tiering idle.bin IntelligentTieringAccessTier
check "stat, xattrs and listing of an ARCHIVE_INSTANT_ACCESS object" bash -c \
  "stat '$MNT/tiering/watched.bin' >/dev/null && getfattr --absolute-names -d '$MNT/tiering/watched.bin' >/dev/null && ls -l '$MNT/tiering' >/dev/null"
equals "are not accesses: it stays there" ARCHIVE_INSTANT_ACCESS \
  inv tiering watched.bin IntelligentTieringAccessTier
reject "ARCHIVE_ACCESS needs a restore" "Permission denied" InvalidObjectState /tiering/archived.bin \
  cat "$MNT/tiering/archived.bin"
check "the error names the access tier" grep -q "(INTELLIGENT_TIERING, ARCHIVE_ACCESS)" "$ERRLOG"
reject "Days is not taken for Intelligent-Tiering" "Invalid argument" InvalidArgument \
  /tiering/archived.bin setfattr -n user.s3.restore -v Days=2 "$MNT/tiering/archived.bin"
check "restore it (Tier=Standard, 5 h)" setfattr -n user.s3.restore -v Tier=Standard "$MNT/tiering/archived.bin"
check "advance +5h" advance +5h
equals "restored into FREQUENT" FREQUENT inv tiering archived.bin IntelligentTieringAccessTier
check "and readable" same_content "$WORK/big.bin" "$MNT/tiering/archived.bin"

echo "== inventory.csv (DESIGN §2.3)"
mkdir -p "$MNT/tiering/dir/sub" && echo x >"$MNT/tiering/dir/sub/a,b \"q\".txt"
header=$(head -1 "$MNT/.s3/tiering/inventory.csv" | tr -d '\r')
equals "the header line" \
  "Bucket,Key,VersionId,IsLatest,IsDeleteMarker,Size,LastModifiedDate,ETag,StorageClass,IntelligentTieringAccessTier,EncryptionStatus,SSEKMSKeyId,ObjectRestoreStatus" \
  echo "$header"
check "a key with a comma and quotes is RFC 4180-quoted" \
  grep -qF '"dir/sub/a,b ""q"".txt"' "$MNT/.s3/tiering/inventory.csv"
equals "the directory marker is a row" 0 inv tiering dir/ Size
equals "Size" 300000 inv tiering idle.bin Size
equals "ETag (unquoted hex)" "$(md5sum <"$WORK/big.bin" | cut -d' ' -f1)" inv tiering idle.bin ETag
equals "EncryptionStatus" SSE-S3 inv tiering idle.bin EncryptionStatus
equals "LastModifiedDate: the class change (a copy, a new PUT), ms precision" 2026-01-01T01:00:00.000Z \
  inv tiering idle.bin LastModifiedDate
check "rows are in key order" bash -c "python3 - '$MNT/.s3/tiering/inventory.csv' <<'EOF'
import csv, sys
keys = [r['Key'] for r in csv.DictReader(open(sys.argv[1], newline=''))]
sys.exit(keys != sorted(keys, key=lambda k: k.encode()))
EOF"
check "inventory.csv is read-only" bash -c "! echo x >'$MNT/.s3/tiering/inventory.csv' 2>/dev/null"
check "a new bucket gets its .s3 directory" bash -c "mkdir '$MNT/late' && test -f '$MNT/.s3/late/inventory.csv'"
check "rmdir of the bucket removes it" bash -c "rmdir '$MNT/late' && test ! -e '$MNT/.s3/late'"
check "unmount" umount_store

echo "== billing.json: hand-computed figures, early deletion, prices as data"
S3=$WORK/bill-store
check "mount a fresh store at $START" mount_store "$S3" "$MNT" --clock=$START --clock-rate=0 \
  --default-storage-class=STANDARD_IA
mkdir "$MNT/billing" && head -c 1024 /dev/urandom >"$MNT/billing/one-kib"
check "advance 730 h (one billing month)" advance +730h
GIB=1073741824
# 1 KiB in STANDARD_IA is billed as 128 KiB: 131072/2^30 GB x 1 month x $0.0125.
approx "STANDARD_IA storage: the 128 KiB minimum for a month" "131072 / $GIB * 0.0125" \
  '[.storage[] | select(.class == "STANDARD_IA" and .item == "data") | .usd] | add'
approx "one PUT at STANDARD_IA's \$0.01 per 1,000" "0.01 / 1000" \
  '[.requests[] | select(.class == "STANDARD_IA" and .kind == "PUT") | .usd] | add'
cp "$WORK/small.bin" "$MNT/billing/young"
check "a new STANDARD_IA object copied to GLACIER at once" \
  setfattr -n user.s3.storage_class -v GLACIER "$MNT/billing/young"
# It left STANDARD_IA after 0 of its 30 days: 30 days (720 h) of 128 KiB.
approx "STANDARD_IA early deletion: 30 days of 128 KiB" "131072 / $GIB * 720 / 730 * 0.0125" \
  '[.early_deletion[] | select(.class == "STANDARD_IA") | .usd] | add'
check "deleted after 10 days in GLACIER" bash -c "echo +10d >'$CLOCK' && rm '$MNT/billing/young'"
# GLACIER bills size + 32 KiB at its rate; 80 of its 90 days (1920 h) remain.
approx "GLACIER early deletion: 80 days of 10000 B + 32 KiB" \
  "(10000 + 32768) / $GIB * 1920 / 730 * 0.0036" \
  '[.early_deletion[] | select(.class == "GLACIER") | .usd] | add'
approx "the total is the sum of its parts" \
  "[.storage[], .requests[], .transitions[], .retrievals[], .restores[], .early_deletion[], .monitoring | .usd] | add" \
  .total_usd 3e-9
check "physical bytes per class are reported" \
  bash -c "jq -e '[.storage[] | has(\"physical_bytes\")] | any' '$MNT/.shoal/billing.json' >/dev/null"
check "the price table used is in the bill" \
  bash -c "jq -e '.prices.s3.STANDARD' '$MNT/.shoal/billing.json' >/dev/null"
reject "prices.json that is not JSON" "Invalid argument" MalformedJSON /.shoal/prices.json \
  cp "$WORK/oops.json" "$MNT/.shoal/prices.json"
jq '.s3.STANDARD_IA.put_copy_post_list_per_1000 = -1' "$MNT/.shoal/prices.json" >"$WORK/negative.json"
reject "prices.json with a negative price" "Invalid argument" InvalidArgument /.shoal/prices.json \
  cp "$WORK/negative.json" "$MNT/.shoal/prices.json"
jq '.s3.STANDARD_IA.put_copy_post_list_per_1000 = 1' "$MNT/.shoal/prices.json" >"$WORK/dearer.json"
check "a valid price change is accepted" cp "$WORK/dearer.json" "$MNT/.shoal/prices.json"
equals "and reads back" 1 jq '.s3.STANDARD_IA.put_copy_post_list_per_1000' "$MNT/.shoal/prices.json"
echo new >"$MNT/billing/after-change"
# Two PUTs at $0.01 per 1,000 before the change, one at $1 per 1,000 after.
approx "earlier PUTs keep their price, the next pays the new one" "2 * 0.01 / 1000 + 1 / 1000" \
  '[.requests[] | select(.class == "STANDARD_IA" and .kind == "PUT") | .usd] | add'
total=$(bill .total_usd)
ia=$(bill '[.storage[] | select(.class == "STANDARD_IA" and .item == "data") | .usd] | add')
check "unmount" umount_store
check "remount" mount_store "$S3" "$MNT" --clock-rate=0
equals "the bill survives a remount" "$total" bill .total_usd
check "advance another 730 h" advance +730h
# Two STANDARD_IA objects (one-kib, after-change), each billed as 128 KiB.
approx "the remount counted each stored object once" "$ia + 2 * 131072 / $GIB * 0.0125" \
  '[.storage[] | select(.class == "STANDARD_IA" and .item == "data") | .usd] | add'
check "unmount" umount_store

echo "== a running clock runs due work in the background"
S4=$WORK/run-store
check "mount at 3600 simulated seconds per second" \
  mount_store "$S4" "$MNT" --clock=$START --clock-rate=3600
mkdir "$MNT/running" && cp "$WORK/big.bin" "$MNT/running/f"
setfattr -n user.s3.storage_class -v GLACIER "$MNT/running/f"
check "an Expedited restore (5 simulated minutes)" \
  setfattr -n user.s3.restore -v Days=1,Tier=Expedited "$MNT/running/f"
sleep 3
check "completes within a few real seconds, without a clock write" \
  same_content "$WORK/big.bin" "$MNT/running/f"
check "unmount" umount_store
check "remount with STANDARD_IA as the default, the clock running" \
  mount_store "$S4" "$MNT" --clock-rate=3600 --default-storage-class=STANDARD_IA
for f in a b c d; do cp "$WORK/small.bin" "$MNT/running/$f"; done
check "create, write and close is one PUT: no early deletion while time runs" \
  bash -c "jq -e '.early_deletion | length == 0' '$MNT/.shoal/billing.json' >/dev/null"
mv "$MNT/running/a" "$MNT/running/b"  # over an object
exec 3<"$MNT/running/c"
rm "$MNT/running/c"  # while open
exec 3<&-
truncate -s 100 "$MNT/running/d"
echo more >>"$MNT/running/d"
equals "the bill counts exactly the objects there are" "$(find "$MNT/running" -type f | wc -l)" \
  bill '[.storage[] | select(.item == "data") | .objects] | add'
check "overwriting within 30 days pays STANDARD_IA's early deletion" \
  bash -c "jq -e '[.early_deletion[] | select(.class == \"STANDARD_IA\")] | length == 1' '$MNT/.shoal/billing.json' >/dev/null"
puts() { bill '[.requests[] | select(.kind == "PUT") | .count] | add'; }
n=$(puts)
touch "$MNT/running/empty"
equals "touch of a new file is one PUT" $((n + 1)) puts
cp "$WORK/big.bin" "$MNT/running/one-put"
equals "cp of 300 KB is one PUT" $((n + 2)) puts
truncate -s 5000 "$MNT/running/sized"
equals "truncate -s of a new file is one PUT" $((n + 3)) puts
echo stamp >"$MNT/running/stamp"
stamped=$(inv running stamp LastModifiedDate)
pid=$(daemon_pid "$S4")
kill -9 "$pid"
for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.05; done
fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
check "after kill -9 of a running clock's daemon, remount" mount_store "$S4" "$MNT" --clock-rate=0
# The clock was saved up to 10 real seconds (10 simulated hours) earlier;
# it must resume no earlier than the last thing the daemon stamped.
check "the clock resumes after the last PUT ($stamped)" \
  python3 -c "import sys; sys.exit(not (sys.argv[1] >= sys.argv[2][:19] + 'Z'))" "$(cat "$CLOCK")" "$stamped"
check "unmount" umount_store
check "fsck of every store is clean" bash -c "'$SHOAL' fsck '$STORE' && '$SHOAL' fsck '$S2' && '$SHOAL' fsck '$S3' && '$SHOAL' fsck '$S4'"

finish
