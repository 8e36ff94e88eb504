#!/usr/bin/env bash
# kinesis_test: Kinesis data streams through the mount (DESIGN §2.5). Streams
# made with mkdir and steered through config.json; records written with
# echo >>, cat >>, printf in pieces and keys/<key>; many writer processes at
# once; shards read with cat, tail -f and the shard iterator names
# (shards/<id>@LATEST, ...); readers' lag in metrics.json; record size
# limits, throttling in each mode, resharding mid-stream, on-demand
# scaling, retention over clock advances, the bill, a stream deleted under
# a writer, a restart, kill -9 of the daemon, bad input of every kind, and
# fsck.
source "$(dirname "$0")/lib.sh"

K=$MNT/.kinesis
SHARD0=shardId-000000000000

# data_of FILE: the Data of each line of a shard file, decoded, one per line.
data_of() { jq -r '.Data | @base64d' "$1"; }
# keys_of FILE: the PartitionKey of each line.
keys_of() { jq -r '.PartitionKey' "$1"; }
# lines FILE: how many records a shard file holds.
lines() { wc -l <"$1"; }
# config_set STREAM JSON: replace the stream's config.json.
config_set() { printf '%s\n' "$2" >"$WORK/config.json" && cp "$WORK/config.json" "$K/$1/config.json"; }
# increasing FILE: the sequence numbers of FILE's lines strictly increase
# (equal-length decimal strings compare as numbers).
increasing() { jq -r .SequenceNumber "$1" | LC_ALL=C sort -c -u; }
# all_lines STREAM: every record of every shard of STREAM.
all_lines() { cat "$K/$1"/shards/shardId-* 2>/dev/null; }
# wait_for N COMMAND...: retries COMMAND for up to N seconds.
wait_for() {
  local n=$1
  shift
  for ((i = 0; i < n * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
count_is() { [[ $(wc -l <"$1") -eq $2 ]]; }

check "mount with a frozen clock" mount_store "$STORE" "$MNT" --clock=2027-01-01T00:00:00Z --clock-rate=0

# --- streams ----------------------------------------------------------------
check "mkdir .kinesis/iot creates a stream" mkdir "$K/iot"
equals "it holds its control files" "config.json description.json keys metrics.json records shards" \
  bash -c "ls '$K/iot' | tr '\n' ' ' | sed 's/ $//'"
equals "provisioned, one shard, 24 h, block, 1 MiB" "PROVISIONED 1 24 block 1024" \
  jq -r '[.StreamMode, .ShardCount, .RetentionPeriodHours, .Throttle, .MaxRecordSizeKiB] | join(" ")' "$K/iot/config.json"
equals "description.json: ACTIVE with one shard over the whole hash key range" \
  "ACTIVE 1 0 340282366920938463463374607431768211455" \
  jq -r '.StreamDescription | [.StreamStatus, (.Shards | length), .Shards[0].HashKeyRange.StartingHashKey, .Shards[0].HashKeyRange.EndingHashKey] | join(" ")' \
  "$K/iot/description.json"
equals "shards/ lists the shard" "$SHARD0" ls "$K/iot/shards"
expect_fail "mkdir of an existing stream fails" "File exists" mkdir "$K/iot"
reject "a name with a colon is refused" "Invalid argument" InvalidArgument "/.kinesis/bad:name" \
  mkdir "$K/bad:name"
reject "a 129-character name is refused" "Invalid argument" InvalidArgument \
  "/.kinesis/$(printf 'a%.0s' {1..129})" mkdir "$K/$(printf 'a%.0s' {1..129})"
check "a 128-character name of every allowed character class is fine" \
  mkdir "$K/A-z_0.9$(printf 'a%.0s' {1..121})"
check "rmdir deletes it" rmdir "$K/A-z_0.9$(printf 'a%.0s' {1..121})"
expect_fail "files cannot be made in .kinesis" "Operation not permitted\|Permission denied" \
  touch "$K/file"
expect_fail "mkdir inside a stream is refused" "Operation not permitted" mkdir "$K/iot/sub"
expect_fail "records is write-only" "Permission denied" cat "$K/iot/records"
expect_fail "shards are read-only" "Permission denied" bash -c "echo x >>'$K/iot/shards/$SHARD0'"

# --- writing ------------------------------------------------------------------
S=$K/iot/shards/$SHARD0
printf 'one\ntwo\nthree\n' >>"$K/iot/records"
equals "three lines, three records" "3" lines "$S"
equals "each record's Data is its line without the newline" "one two three" \
  bash -c "jq -r '.Data | @base64d' '$S' | tr '\n' ' ' | sed 's/ $//'"
check "sequence numbers are 56-digit decimal strings" \
  bash -c "jq -r .SequenceNumber '$S' | grep -Evq '^[0-9]{56}$' && exit 1 || exit 0"
check "and strictly increasing" increasing "$S"
check "lines have GetRecords' shape" \
  bash -c "jq -e 'keys == [\"ApproximateArrivalTimestamp\",\"Data\",\"PartitionKey\",\"SequenceNumber\"]' '$S' | grep -vq true && exit 1 || exit 0"
equals "arrival times are the simulated clock's" "2027-01-01T00:00:00.000Z" \
  bash -c "jq -r .ApproximateArrivalTimestamp '$S' | sort -u"
check "random partition keys without PartitionKey (32 hex digits)" \
  bash -c "keys=\$(jq -r .PartitionKey '$S'); [[ \$(grep -Ec '^[0-9a-f]{32}$' <<<\"\$keys\") == 3 ]]"
(
  exec 3>>"$K/iot/records"
  printf 'par' >&3
  printf 'tial\nsecond ' >&3
  printf 'half\nno newline at the end' >&3
)
# Each printf above closed a duplicate of the descriptor: only the last
# close of the open ends the partial line.
equals "partial lines are joined within one open; a last line becomes a record at the last close" \
  "partial|second half|no newline at the end" bash -c "jq -r '.Data | @base64d' '$S' | tail -3 | paste -sd'|'"
echo '{"device":"d7","temp":21.5}' >>"$K/iot/keys/sensor-7"
equals "keys/<key> appends with that partition key" "sensor-7" bash -c "tail -1 '$S' | jq -r .PartitionKey"
check "keys/ takes any valid partition key, unicode too" bash -c "echo x >>'$K/iot/keys/clé ünï'"
equals "...verbatim" "clé ünï" bash -c "tail -1 '$S' | jq -r .PartitionKey"
equals "keys/ lists no names: they exist when used" "" ls -A "$K/iot/keys"
# Each open of a sink is an inode of its own, so writers that opened it
# separately do not queue on one kernel inode lock.
check "each lookup of records is an inode of its own" \
  test "$(stat -c %i "$K/iot/records")" != "$(stat -c %i "$K/iot/records")"
equals "metrics.json counts what came in" "8" jq -r .IncomingRecords "$K/iot/metrics.json"

check "PartitionKey can name a JSON field" config_set iot '{"PartitionKey":"$.device"}'
for d in d1 d2 d1; do echo "{\"device\":\"$d\",\"t\":1}" >>"$K/iot/records"; done
echo 'not json' >>"$K/iot/records"
equals "records get that field as their key" "d1 d2 d1" \
  bash -c "tail -4 '$S' | head -3 | jq -r .PartitionKey | paste -sd' '"
check "a line without the field gets a random key" \
  bash -c "tail -1 '$S' | jq -r .PartitionKey | grep -Eq '^[0-9a-f]{32}$'"

seq 1 20000 >"$WORK/numbers"
config_set iot '{"Throttle":"off"}'  # pacing has its own tests below
before=$(lines "$S")
cat "$WORK/numbers" >>"$K/iot/records"
equals "cat of 20,000 lines appends 20,000 records" "$((before + 20000))" lines "$S"
check "in order, intact" cmp <(data_of "$S" | tail -20000) "$WORK/numbers"
check "tail reads the end of a shard file" cmp <(tail -5 "$S" | jq -r '.Data | @base64d') <(seq 19996 20000)
check "stat's size is the content's size" \
  test "$(stat -c %s "$S")" = "$(cat "$S" | wc -c)"
# Reads of any size see the same bytes: small ones resume inside a batch
# and a line that the last read split, large ones render lines in place.
cat "$S" >"$WORK/shard.cat"
check "dd bs=1 reads the same bytes as cat (the first 20,000)" \
  cmp <(dd if="$S" bs=1 count=20000 status=none) <(head -c 20000 "$WORK/shard.cat")
for bs in 333 4096 65536 1048576; do
  check "dd bs=$bs reads the same bytes as cat" \
    cmp <(dd if="$S" bs="$bs" status=none) "$WORK/shard.cat"
done
check "reads from the middle of a line on" \
  cmp <(dd if="$S" bs=777 skip=101 status=none) <(tail -c +$((777 * 101 + 1)) "$WORK/shard.cat")

# Names made per lookup are freed when the kernel forgets them.
for i in $(seq 1 300); do echo "$i" >>"$K/iot/keys/k$i"; done
lookup_ids() { jq -r .control_lookup_ids "$MNT/.shoal/stats.json"; }
check "300 keys/<key> names are held while the kernel remembers them" test "$(lookup_ids)" -ge 300
if [[ $(id -u) -eq 0 ]]; then  # dropping the kernel's caches needs root
  exec 3>>"$K/iot/records"
  sync && echo 2 >/proc/sys/vm/drop_caches
  check "names the kernel forgot are freed; an open descriptor keeps its one" \
    wait_for 5 bash -c "[[ \$(jq -r .control_lookup_ids '$MNT/.shoal/stats.json') == 1 ]]"
  check "...and still writes" bash -c "echo kept >&3"
  exec 3>&-
  equals "...as a record" kept bash -c "tail -1 '$S' | jq -r '.Data | @base64d'"
else
  echo "kinesis_test: not root, so the kernel's caches cannot be dropped: lookup ids not checked"
fi

# --- many writers at once -------------------------------------------------------
mkdir "$K/par" && config_set par '{"ShardCount":2,"PartitionKey":"$.w","Throttle":"off"}'
# 20,000 records per writer: cat writes them 128 KiB at a time, lines split
# across writes, so the six writers' writes overlap in the daemon.
for w in 1 2 3 4 5 6; do
  awk -v w="w$w" 'BEGIN { for (i = 1; i <= 20000; i++) printf "{\"w\":\"%s\",\"i\":%d}\n", w, i }' \
    >"$WORK/writer$w"
done
for w in 1 2 3 4 5 6; do cat "$WORK/writer$w" >>"$K/par/records" & done
wait
cat "$K/par/shards/"shardId-* | jq -r '.Data | @base64d | fromjson | "\(.w) \(.i)"' >"$WORK/par.out"
equals "six writer processes: every record arrived, none torn" 120000 lines "$WORK/par.out"
check "per partition key, all 20,000 in order" bash -c "
  for w in 1 2 3 4 5 6; do
    awk '\$1 == \"w'\$w'\" { print \$2 }' '$WORK/par.out' | cmp -s - <(seq 1 20000) || exit 1
  done"
for w in 1 2 3; do
  (for i in $(seq 1 500); do echo "k$w-$i"; done | cat >>"$K/par/keys/shared") &
done
wait
check "three processes on one keys/<key> file: all 1500 arrive, each writer's in order" bash -c "
  cat '$K/par/shards/'shardId-* | jq -r 'select(.PartitionKey == \"shared\") | .Data | @base64d' >'$WORK/shared.out'
  [[ \$(wc -l <'$WORK/shared.out') == 1500 ]] || exit 1
  for w in 1 2 3; do
    grep \"^k\$w-\" '$WORK/shared.out' | cmp -s - <(seq -f \"k\$w-%g\" 1 500) || exit 1
  done"
check "each key stays on one shard (MD5 routing)" bash -c "
  for f in '$K/par/shards/'shardId-*; do jq -r .PartitionKey \"\$f\" | sort -u; done | sort | uniq -d | grep -q . && exit 1 || exit 0"
equals "the resharded stream has the closed parent and two children" \
  "shardId-000000000000 shardId-000000000001 shardId-000000000002" bash -c "ls '$K/par/shards' | paste -sd' '"
check "both children got keys, the parent none" bash -c "
  [[ -s '$K/par/shards/shardId-000000000001' && -s '$K/par/shards/shardId-000000000002' &&
     ! -s '$K/par/shards/$SHARD0' ]]"

# --- reading: tail -f and shard iterators ----------------------------------------
mkdir "$K/feed"
F=$K/feed/shards/$SHARD0
echo first >>"$K/feed/records"
tail -n +1 -f "$F" >"$WORK/tail.out" 2>"$WORK/tail.err" &
TAIL=$!
check "tail -f shows what is there" wait_for 10 count_is "$WORK/tail.out" 1
echo second >>"$K/feed/records"
echo third >>"$K/feed/records"
check "tail -f follows new records" wait_for 10 count_is "$WORK/tail.out" 3
equals "in order" "first second third" bash -c "jq -r '.Data | @base64d' '$WORK/tail.out' | paste -sd' '"
kill $TAIL
check "tail -f complained of nothing" test ! -s "$WORK/tail.err"
equals "metrics.json: the shard's reader has caught up" "0 0" \
  jq -r ".Shards[\"$SHARD0\"] | \"\\(.RecordsBehind) \\(.IteratorAgeMilliseconds)\"" "$K/feed/metrics.json"

check "iterator names are not listed" test "$(ls "$K/feed/shards")" = "$SHARD0"
check "@TRIM_HORIZON reads the retained records, then waits (head ends it)" \
  cmp <(head -n 3 "$F@TRIM_HORIZON") "$F"
head -n 2 "$F@LATEST" >"$WORK/latest.out" &
HEAD=$!
sleep 0.5
check "@LATEST waits for new records" alive $HEAD
echo fourth >>"$K/feed/records"
echo fifth >>"$K/feed/records"
check "and returns them as they arrive" wait_for 10 bash -c "! kill -0 $HEAD 2>/dev/null"
wait $HEAD
equals "only the records after the open" "fourth fifth" \
  bash -c "jq -r '.Data | @base64d' '$WORK/latest.out' | paste -sd' '"
SEQ2=$(sed -n 2p "$F" | jq -r .SequenceNumber)
equals "@AT_SEQUENCE_NUMBER starts at that record" "second" \
  bash -c "head -n 1 '$F@AT_SEQUENCE_NUMBER=$SEQ2' | jq -r '.Data | @base64d'"
equals "@AFTER_SEQUENCE_NUMBER starts after it" "third" \
  bash -c "head -n 1 '$F@AFTER_SEQUENCE_NUMBER=$SEQ2' | jq -r '.Data | @base64d'"
echo '+2h' >"$MNT/.shoal/clock"
echo later >>"$K/feed/records"
equals "metrics.json: one record behind, the last read 2 h old" "1 7200000" \
  jq -r ".Shards[\"$SHARD0\"] | \"\\(.RecordsBehind) \\(.IteratorAgeMilliseconds)\"" "$K/feed/metrics.json"
equals "@AT_TIMESTAMP (ISO-8601) starts at the first record at or after it" "later" \
  bash -c "head -n 1 '$F@AT_TIMESTAMP=2027-01-01T01:00:00Z' | jq -r '.Data | @base64d'"
equals "@AT_TIMESTAMP takes epoch seconds too" "later" \
  bash -c "head -n 1 '$F@AT_TIMESTAMP=$(date -d 2027-01-01T01:00:00Z +%s)' | jq -r '.Data | @base64d'"
timeout 1 cat "$F@LATEST" >"$WORK/none.out"
equals "a follower interrupted by a signal ends quietly (timeout's TERM)" "124" echo $?
reject "an unknown iterator type does not exist" "No such file" InvalidArgument \
  "/.kinesis/feed/shards/$SHARD0@NEWEST" cat "$F@NEWEST"
expect_fail "a sequence number of another shard is refused" "Invalid argument" \
  cat "$F@AT_SEQUENCE_NUMBER=$(jq -r .SequenceNumber <"$K/par/shards/shardId-000000000001" | head -1)"
expect_fail "a malformed sequence number is refused" "Invalid argument" cat "$F@AT_SEQUENCE_NUMBER=12x"
expect_fail "an iterator on an unknown shard does not exist" "No such file" \
  cat "$K/feed/shards/shardId-000000000009@LATEST"
check "GetRecords metrics count what readers took" \
  test "$(jq -r '."GetRecords.Records"' "$K/feed/metrics.json")" -gt 0

# --- record size ------------------------------------------------------------------
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' 'x' >"$WORK/big"
before=$(lines "$S")
{ echo kept; cat "$WORK/big"; echo; echo after; } >"$WORK/with-big"
reject "a record over 1 MiB fails the write with EMSGSIZE" "Message too long" ValidationException \
  /.kinesis/iot/records bash -c "cat '$WORK/with-big' >>'$K/iot/records'"
equals "the record before it in the same write was kept, nothing else" "$((before + 1)) kept" \
  bash -c "echo \$(wc -l <'$S') \$(tail -1 '$S' | jq -r '.Data | @base64d')"
check "MaxRecordSizeKiB 2048 admits it" config_set iot '{"MaxRecordSizeKiB":2048}'
check "...and the same write now succeeds" bash -c "cat '$WORK/with-big' >>'$K/iot/records'"
equals "all three records" "$((before + 4))" lines "$S"
config_set iot '{"MaxRecordSizeKiB":1024}'

# --- throttling -------------------------------------------------------------------
mkdir "$K/thr"
seq 1 3000 | sed 's/^/r/' >"$WORK/3000"
check "Throttle reject is accepted" config_set thr '{"Throttle":"reject"}'
reject "reject: a burst over 1000 records/s fails with EAGAIN" "Resource temporarily unavailable" \
  ProvisionedThroughputExceededException /.kinesis/thr/records \
  bash -c "cat '$WORK/3000' >>'$K/thr/records'"
stored=$(lines "$K/thr/shards/$SHARD0")
check "...after accepting what fitted (about one second's worth, got $stored)" \
  test "$stored" -ge 900 -a "$stored" -le 2000
check "...a prefix of the input, in order" cmp <(data_of "$K/thr/shards/$SHARD0") <(head -n "$stored" "$WORK/3000")
check "WriteProvisionedThroughputExceeded counts the refused records" \
  test "$(jq -r .WriteProvisionedThroughputExceeded "$K/thr/metrics.json")" -gt 0
sleep 1.2
config_set thr '{"Throttle":"block"}'
start=$(date +%s%N)
check "block: 3000 records in one write succeed" bash -c "cat '$WORK/3000' >>'$K/thr/records'"
took=$((($(date +%s%N) - start) / 1000000))
check "...paced to 1000 records/s (took ${took} ms; at least 1.9 s for the 2000 beyond the burst)" \
  test "$took" -ge 1900
equals "...all stored" "$((stored + 3000))" lines "$K/thr/shards/$SHARD0"
config_set thr '{"Throttle":"off"}'
t_before=$(jq -r .WriteProvisionedThroughputExceeded "$K/thr/metrics.json")
seq 1 20000 >>"$K/thr/records"
equals "off: no limit, nothing throttled" "$t_before" jq -r .WriteProvisionedThroughputExceeded "$K/thr/metrics.json"

# --- resharding ---------------------------------------------------------------------
mkdir "$K/rs"
config_set rs '{"PartitionKey":"$.k"}'
for i in $(seq 1 50); do echo "{\"k\":\"k$i\",\"phase\":1}"; done >>"$K/rs/records"
check "ShardCount 1 -> 2 is UpdateShardCount" config_set rs '{"ShardCount":2}'
equals "three shards: the parent closed, two children" "3" \
  jq '.StreamDescription.Shards | length' "$K/rs/description.json"
check "the parent has an EndingSequenceNumber" \
  jq -e '.StreamDescription.Shards[0].SequenceNumberRange.EndingSequenceNumber | length == 56' "$K/rs/description.json"
check "the children name it as ParentShardId" \
  jq -e "[.StreamDescription.Shards[1:][].ParentShardId] == [\"$SHARD0\",\"$SHARD0\"]" "$K/rs/description.json"
equals "config.json says 2" "2" jq .ShardCount "$K/rs/config.json"
for i in $(seq 1 50); do echo "{\"k\":\"k$i\",\"phase\":2}"; done >>"$K/rs/records"
equals "the closed parent stays readable with its 50 records" "50" lines "$K/rs/shards/$SHARD0"
equals "new records go to the children only" "50 0" bash -c "
  echo \$(cat '$K/rs/shards/shardId-000000000001' '$K/rs/shards/shardId-000000000002' | wc -l) \
       \$(jq -r '.Data | @base64d' '$K/rs/shards/$SHARD0' | grep -c '\"phase\":2')"
check "an iterator on the closed parent ends after its last record" \
  bash -c "timeout 5 cat '$K/rs/shards/$SHARD0@TRIM_HORIZON' | wc -l | grep -qx 50"
reject "ShardCount 2 -> 5 (over twice) is refused" "Invalid argument" InvalidRequest \
  /.kinesis/rs/config.json config_set rs '{"ShardCount":5}'
check "ShardCount 2 -> 1 merges" config_set rs '{"ShardCount":1}'
equals "one open shard" "1" \
  jq '[.StreamDescription.Shards[] | select(.SequenceNumberRange.EndingSequenceNumber == null)] | length' "$K/rs/description.json"

# --- on-demand scaling ---------------------------------------------------------------
open_of() {
  jq '[.StreamDescription.Shards[] | select(.SequenceNumberRange.EndingSequenceNumber == null)] | length' \
    "$K/$1/description.json"
}
mkdir "$K/od"
check "StreamMode ON_DEMAND is accepted" config_set od '{"StreamMode":"ON_DEMAND","Throttle":"off"}'
equals "config.json says so" "ON_DEMAND" jq -r .StreamMode "$K/od/config.json"
reject "ShardCount cannot be set in on-demand mode" "Invalid argument" InvalidArgument \
  /.kinesis/od/config.json config_set od '{"ShardCount":2}'
# A stream switched to on-demand keeps its shard and grows to the initial 4
# shards' worth; about 3000 records/s for a few seconds wants twice that: 6.
(for i in $(seq 1 6); do seq 1 3000 | sed "s/^/od-$i-/" >>"$K/od/records"; sleep 1; done) &
FEEDER=$!
check "traffic makes the stream split: 6 shards carry twice 3000 records/s (within 15 s)" \
  wait_for 15 bash -c "(( \$(jq '[.StreamDescription.Shards[] | select(.SequenceNumberRange.EndingSequenceNumber == null)] | length' '$K/od/description.json') >= 6 ))"
wait $FEEDER
check "split children name their parents" \
  jq -e '[.StreamDescription.Shards[] | select(.ParentShardId != null)] | length >= 4' "$K/od/description.json"
equals "no record was lost while shards split" "18000" bash -c "cat '$K/od/shards/'* | wc -l"
equals "config.json's ShardCount follows the open shards" "$(open_of od)" jq .ShardCount "$K/od/config.json"

# --- bad configuration ----------------------------------------------------------------
printf '{"ShardCount": 1,' >"$WORK/bad.json"
reject "malformed config.json is refused" "Invalid argument" MalformedJSON /.kinesis/iot/config.json \
  cp "$WORK/bad.json" "$K/iot/config.json"
reject "an unknown member is refused" "Invalid argument" MalformedJSON /.kinesis/iot/config.json \
  config_set iot '{"Shards": 2}'
reject "RetentionPeriodHours 23 is refused" "Invalid argument" InvalidArgument /.kinesis/iot/config.json \
  config_set iot '{"RetentionPeriodHours": 23}'
reject "RetentionPeriodHours 8761 is refused" "Invalid argument" InvalidArgument /.kinesis/iot/config.json \
  config_set iot '{"RetentionPeriodHours": 8761}'
reject "Throttle must be block, reject or off" "Invalid argument" InvalidArgument /.kinesis/iot/config.json \
  config_set iot '{"Throttle": "sometimes"}'
equals "refused documents changed nothing" "1 24 off" \
  jq -r '[.ShardCount, .RetentionPeriodHours, .Throttle] | join(" ")' "$K/iot/config.json"

# --- retention ---------------------------------------------------------------------------
mkdir "$K/ret"
echo old >>"$K/ret/records"
echo '+23h' >"$MNT/.shoal/clock"
echo newer >>"$K/ret/records"
equals "within 24 h both records are there" "2" lines "$K/ret/shards/$SHARD0"
echo '+2h' >"$MNT/.shoal/clock"
equals "25 h after it, the first record is gone" "newer" data_of "$K/ret/shards/$SHARD0"
check "RetentionPeriodHours 48 is accepted" config_set ret '{"RetentionPeriodHours":48}'
echo '+40h' >"$MNT/.shoal/clock"
equals "48 h retention keeps the second" "newer" data_of "$K/ret/shards/$SHARD0"
echo '+10h' >"$MNT/.shoal/clock"
equals "and drops it once 48 h passed" "0" lines "$K/ret/shards/$SHARD0"

# --- the bill -------------------------------------------------------------------------
open_shards() {
  cat "$K"/*/description.json |
    jq -s '[.[].StreamDescription.Shards[] | select(.SequenceNumberRange.EndingSequenceNumber == null)] | length'
}
equals "billing.json counts the open shards of every stream" "$(open_shards)" \
  jq .kinesis.open_shards "$MNT/.shoal/billing.json"
check "shard-hours accrued over the clock's advances, and are charged" \
  jq -e '.kinesis.shard_hours > 77 and .kinesis.shard_hours_usd > 0' "$MNT/.shoal/billing.json"
check "every accepted record is at least one PUT payload unit" bash -c "
  records=\$(cat '$K'/*/metrics.json | jq -s 'map(.IncomingRecords) | add')
  units=\$(jq .kinesis.put_payload_units '$MNT/.shoal/billing.json')
  (( units >= records && records > 0 ))"
units_before=$(jq .kinesis.put_payload_units "$MNT/.shoal/billing.json")
head -c $((60 * 1024)) /dev/zero | tr '\0' 'y' >"$WORK/60k"
echo >>"$WORK/60k"
cat "$WORK/60k" >>"$K/iot/records"
equals "a 60 KiB record is three 25 KB units" "$((units_before + 3))" \
  jq .kinesis.put_payload_units "$MNT/.shoal/billing.json"
shards_before=$(jq .kinesis.open_shards "$MNT/.shoal/billing.json")
mkdir "$K/billed"
equals "a new stream's shard is billed from its creation" "$((shards_before + 1))" \
  jq .kinesis.open_shards "$MNT/.shoal/billing.json"
rmdir "$K/billed"
equals "and no more once deleted" "$shards_before" jq .kinesis.open_shards "$MNT/.shoal/billing.json"

# --- a stream deleted under an open writer --------------------------------------------
mkdir "$K/gone"
exec 3>>"$K/gone/records"
echo before >&3
check "rmdir deletes a stream with records" rmdir "$K/gone"
check "it is gone" test ! -e "$K/gone"
mark_log
expect_fail "a write through a descriptor opened before fails with ENOENT" "No such file" \
  bash -c "echo after >&3"
exec 3>&-
expect_fail "rmdir of a missing stream fails" "No such file" rmdir "$K/gone"

# --- restart --------------------------------------------------------------------------
last=$(tail -1 "$S" | jq -r .SequenceNumber)
count=$(lines "$S")
echo durable >>"$K/iot/records"
check "fsync of records makes them durable" python3 -c "
import os; fd = os.open('$K/iot/records', os.O_WRONLY); os.write(fd, b'synced\n'); os.fsync(fd); os.close(fd)"
check "unmount" umount_store
check "remount" mount_store "$STORE" "$MNT" --clock-rate=0
equals "every record survived" "$((count + 2))" lines "$S"
echo after-restart >>"$K/iot/records"
check "sequence numbers continue past those before the restart" \
  bash -c "[[ \$(tail -1 '$S' | jq -r .SequenceNumber) > '$last' ]]"
check "...and all of the shard's stay increasing" increasing "$S"
equals "config survived" "2" jq .ShardCount "$K/par/config.json"

# --- kill -9 -------------------------------------------------------------------------
mkdir "$K/crash"
seq 1 5000 | sed 's/^/c/' >>"$K/crash/records"
python3 -c "
import os; fd = os.open('$K/crash/records', os.O_WRONLY); os.write(fd, b'c-synced\\n'); os.fsync(fd); os.close(fd)"
crash_last=$(tail -1 "$K/crash/shards/$SHARD0" | jq -r .SequenceNumber)
pid=$(daemon_pid)
kill -9 "$pid"
for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.05; done
check "the daemon is dead after kill -9" bash -c "! kill -0 $pid 2>/dev/null || [[ \$(ps -o stat= -p $pid) == Z* ]]"
fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
check "fsck of the store the crash left: 0 damaged" bash -c "'$SHOAL' fsck '$STORE' | grep -q ' 0 damaged'"
check "remount after the crash" mount_store "$STORE" "$MNT" --clock-rate=0
equals "every record up to the fsync survived, in order" "$(seq 1 5000 | sed 's/^/c/'; echo c-synced)" \
  data_of "$K/crash/shards/$SHARD0"
echo after-crash >>"$K/crash/records"
check "sequence numbers continue after the crash" \
  bash -c "[[ \$(tail -1 '$K/crash/shards/$SHARD0' | jq -r .SequenceNumber) > '$crash_last' ]]"
check "unmount again" umount_store
check "shoal fsck passes with the streams" "$SHOAL" fsck "$STORE"
seg=$(find "$STORE/streams/iot.stream/$SHARD0" -name '*.log' | head -1)
flip_middle_byte "$seg"
expect_fail "fsck finds a damaged segment and names the stream" "iot" "$SHOAL" fsck "$STORE"

finish
