#!/usr/bin/env bash
# firehose_test: Firehose delivery streams through the mount (DESIGN §2.6).
# Delivery streams made with mkdir and steered through config.json; records
# written with echo >> and cat >>; objects delivered by size, by the
# simulated clock passing the buffer interval, by flush and at unmount;
# Firehose's object names and default prefix, prefix expressions, GZIP and
# ZSTD objects read back with zcat and zstdcat; a transform command that
# transforms, drops and fails records, crashes, hangs, answers with wrong
# ids or not in JSON; dynamic partitioning by jq queries, read back with
# DuckDB through the mount; billing; bad configurations and records; a
# missing bucket retried; a restart; a Kinesis stream as the source, across
# a clean restart and a kill -9.
source "$(dirname "$0")/lib.sh"

F=$MNT/.firehose
LAKE=$MNT/lake

# config_set NAME JSON: replace the delivery stream's config.json.
config_set() { printf '%s\n' "$2" >"$WORK/config.json" && cp "$WORK/config.json" "$F/$1/config.json"; }
# objects: the delivered objects under lake/, sorted, relative to it.
objects() { (cd "$LAKE" && find . -type f | sed 's|^\./||' | sort); }
# count: how many objects are delivered.
count() { objects | grep -c . || true; }
# newest: the last object delivered (names sort by their time).
newest() { objects | tail -1; }

check "mount with a frozen clock" mount_store "$STORE" "$MNT" --clock=2027-01-01T10:00:00Z --clock-rate=0
check "mkdir makes a delivery stream" mkdir "$F/orders"
equals "it holds its control files" "config.json flush metrics.json records" \
  bash -c "ls '$F/orders' | paste -sd' '"
equals "Firehose's defaults: DirectPut, 5 MiB, 300 s, uncompressed, no delimiter" \
  "DirectPut 5 300 UNCOMPRESSED false" \
  jq -r '[.Source, .BufferingHints.SizeInMBs, .BufferingHints.IntervalInSeconds, .CompressionFormat, .AppendDelimiterToRecord] | join(" ")' \
  "$F/orders/config.json"
equals "version 1" 1 jq -r .VersionId "$F/orders/metrics.json"
reject "a record with no bucket configured is refused" "Invalid argument" InvalidArgument \
  /.firehose/orders/records bash -c "echo x >>'$F/orders/records'"

mkdir "$LAKE"
check "a configuration names the bucket" \
  config_set orders '{"Bucket":"lake","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60},"AppendDelimiterToRecord":true}'
equals "each change raises the version" 2 jq -r .VersionId "$F/orders/metrics.json"

# --- by interval -------------------------------------------------------------------
for i in 1 2 3; do echo "{\"order\":$i}" >>"$F/orders/records"; done
equals "records wait in the buffer" 0 count
echo +59s >"$MNT/.shoal/clock"
equals "...until the interval has passed since the oldest" 0 count
echo +1s >"$MNT/.shoal/clock"
equals "then one object" 1 count
check "named <prefix><stream>-<version>-<time of the oldest record>-<uuid>, under yyyy/MM/dd/HH/" \
  bash -c "newest_name=\$(cd '$LAKE' && find . -type f | sed 's|^\./||'); [[ \$newest_name =~ ^2027/01/01/10/orders-2-2027-01-01-10-00-00-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\$ ]]"
equals "it holds the records, one per line" "1 2 3" bash -c "jq -r .order '$LAKE/$(newest)' | paste -sd' '"
equals "metrics count what came in and what went out" "3 3 1" \
  jq -r '[.IncomingRecords, ."DeliveryToS3.Records", ."DeliveryToS3.Objects"] | join(" ")' "$F/orders/metrics.json"

# --- by size -----------------------------------------------------------------------
awk 'BEGIN { for (i = 1; i <= 12000; i++) printf "{\"order\":%d,\"pad\":\"%080d\"}\n", i, 0 }' >"$WORK/big"
cat "$WORK/big" >>"$F/orders/records"
# Delivery runs beside the writer: the objects follow within moments, with
# no clock advance and no flush.
check "a buffer that reaches 1 MiB is delivered without waiting for the interval" \
  bash -c "for i in \$(seq 100); do [[ \$(find '$LAKE' -type f | wc -l) -ge 2 ]] && exit 0; sleep 0.1; done; exit 1"
echo x >"$F/orders/flush"
equals "flush delivers the rest; every record arrived once" 12003 \
  bash -c "find '$LAKE' -type f -exec cat {} + | wc -l"
equals "billing.json bills each record ingested as 5 KB" "12003 $((12003 * 5120)) true" \
  jq -r '"\(.firehose.records) \(.firehose.ingested_bytes) \(.firehose.usd > 0)"' "$MNT/.shoal/billing.json"

# --- compression -------------------------------------------------------------------
check "GZIP" config_set orders '{"CompressionFormat":"GZIP"}'
printf '{"c":"gz1"}\n{"c":"gz2"}\n' >>"$F/orders/records"
echo x >"$F/orders/flush"
check "...delivers .gz objects" bash -c "[[ \$(cd '$LAKE' && find . -name '*.gz' | wc -l) == 1 ]]"
equals "...that zcat reads" "gz1 gz2" bash -c "zcat \$(find '$LAKE' -name '*.gz') | jq -r .c | paste -sd' '"
check "ZSTD" config_set orders '{"CompressionFormat":"ZSTD"}'
printf '{"c":"zs1"}\n' >>"$F/orders/records"
echo x >"$F/orders/flush"
equals "...delivers .zst objects that zstdcat reads" "zs1" \
  bash -c "zstdcat \$(find '$LAKE' -name '*.zst') | jq -r .c"

# --- prefixes ----------------------------------------------------------------------
check "a prefix with expressions and an error prefix" config_set orders \
  '{"CompressionFormat":"UNCOMPRESSED","Prefix":"year=!{timestamp:yyyy}/hour=!{timestamp:HH}/","ErrorOutputPrefix":"errors/!{firehose:error-output-type}/"}'
echo '{"p":1}' >>"$F/orders/records"
echo x >"$F/orders/flush"
check "...renders from the oldest record's time" \
  bash -c "ls '$LAKE/year=2027/hour=10/' | grep -q '^orders-'"
reject "a prefix with expressions needs an error prefix" "Invalid argument" InvalidArgument \
  /.firehose/orders/config.json config_set orders '{"Prefix":"!{timestamp:yyyy}/","ErrorOutputPrefix":""}'
check "...in Firehose's words" \
  bash -c "tail -1 '$MNT/.shoal/errors' | grep -q 'Ths supplied prefix(es) do not satisfy the following constraint'"
reject "SizeInMBs above 128 is refused" "Invalid argument" InvalidArgument \
  /.firehose/orders/config.json config_set orders '{"BufferingHints":{"SizeInMBs":129,"IntervalInSeconds":60}}'
reject "an unknown compression is refused" "Invalid argument" InvalidArgument \
  /.firehose/orders/config.json config_set orders '{"CompressionFormat":"ZIP"}'
reject "an unknown member is refused" "Invalid argument" MalformedJSON \
  /.firehose/orders/config.json config_set orders '{"Buffer":1}'
reject "a transform's partition keys are refused, not ignored: not supported yet" \
  "Operation not supported" NotImplemented /.firehose/orders/config.json config_set orders \
  '{"Prefix":"!{partitionKeyFromLambda:k}/","ErrorOutputPrefix":"e/!{firehose:error-output-type}/"}'
equals "refused documents changed nothing" "lake 1 60 UNCOMPRESSED" \
  jq -r '[.Bucket, .BufferingHints.SizeInMBs, .BufferingHints.IntervalInSeconds, .CompressionFormat] | join(" ")' \
  "$F/orders/config.json"

# --- transform ---------------------------------------------------------------------
# A transform in jq, as a Lambda function would be: it upper-cases the "k" of
# each record, drops the "drop" ones and fails the "fail" ones.
cat >"$WORK/transform.sh" <<'EOF2'
#!/bin/sh
exec jq -c '{records: [.records[] | (.data | @base64d | fromjson) as $d | {recordId,
  result: (if $d.k == "drop" then "Dropped" elif $d.k == "fail" then "ProcessingFailed" else "Ok" end),
  data: ($d | .k |= ascii_upcase | tojson | @base64)}]}'
EOF2
chmod +x "$WORK/transform.sh"
TX_ERRORS=$LAKE/tx-errors/processing-failed
# tx_errors CODE: "<attemptsMade> <n>" of each error record with CODE.
tx_errors() {
  cat "$TX_ERRORS"/* | jq -r --arg c "$1" \
    'select(.errorCode == $c) | "\(.attemptsMade) \(.rawData | @base64d | fromjson | .n)"' | paste -sd' '
}
check "a stream with a transform" mkdir "$F/tx"
check "...configured with its command" config_set tx \
  "{\"Bucket\":\"lake\",\"Prefix\":\"tx/\",\"ErrorOutputPrefix\":\"tx-errors/!{firehose:error-output-type}/\",\"AppendDelimiterToRecord\":true,\"Transform\":{\"Command\":[\"$WORK/transform.sh\"]}}"
printf '{"k":"keep","n":1}\n{"k":"drop","n":2}\n{"k":"fail","n":3}\n{"k":"keep","n":4}\n' >>"$F/tx/records"
echo x >"$F/tx/flush"
equals "Ok records are delivered as the transform gave them" "KEEP 1 KEEP 4" \
  bash -c "cat '$LAKE'/tx/2027/01/01/*/* | jq -r '\"\(.k) \(.n)\"' | paste -sd' '"
equals "a ProcessingFailed record goes to the error prefix's processing-failed/" "1 3" \
  tx_errors Lambda.ProcessingFailedStatus
check "...in Firehose's error record format, times in ms of the clock (10:01)" jq -e \
  '(keys == ["arrivalTimestamp","attemptEndingTimestamp","attemptsMade","errorCode","errorMessage","lambdaArn","rawData"]) and (.lambdaArn | endswith(":function:transform.sh")) and .arrivalTimestamp == 1798797660000 and .attemptEndingTimestamp == 1798797660000' \
  "$TX_ERRORS"/*
equals "metrics count what the transform did" "2 1 1 1 1" \
  jq -r '[."SucceedProcessing.Records", ."DroppedProcessing.Records", ."FailedProcessing.Records", ."ExecuteProcessing.Invocations", ."ExecuteProcessing.Success"] | join(" ")' \
  "$F/tx/metrics.json"
config_set tx '{"Transform":{"Command":["sh","-c","echo boom >&2; exit 3"],"NumberOfRetries":1}}'
mark_log
echo '{"n":5}' >>"$F/tx/records"
echo x >"$F/tx/flush"
logged "a transform that fails is reported" InvalidArgument /.firehose/tx
check "...with its exit status and what it said" \
  bash -c "tail -1 '$MNT/.shoal/errors' | grep -q 'Lambda.FunctionError: exit status 3: boom'"
equals "...and, retried once, its records go to the error output" "2 5" tx_errors Lambda.FunctionError
config_set tx '{"Transform":{"Command":["sleep","30"],"TimeoutSeconds":1,"NumberOfRetries":0}}'
echo '{"n":6}' >>"$F/tx/records"
echo x >"$F/tx/flush"
equals "a transform past TimeoutSeconds is killed: Lambda.FunctionTimedOut" "1 6" \
  tx_errors Lambda.FunctionTimedOut
config_set tx '{"Transform":{"Command":["jq","-c","{records: [.records[] | {recordId: (.recordId + \"x\"), result: \"Dropped\"}]}"]}}'
echo '{"n":7}' >>"$F/tx/records"
echo x >"$F/tx/flush"
equals "an answer with other record ids: Lambda.MissingRecordId" "4 7" tx_errors Lambda.MissingRecordId
config_set tx '{"Transform":{"Command":["echo","not json"]}}'
echo '{"n":8}' >>"$F/tx/records"
echo x >"$F/tx/flush"
equals "an answer that is not the status model: Lambda.JsonProcessingException" "4 8" \
  tx_errors Lambda.JsonProcessingException
config_set tx '{"Transform":{"Command":["/nonexistent/transform"],"NumberOfRetries":0}}'
echo '{"n":9}' >>"$F/tx/records"
echo x >"$F/tx/flush"
equals "a command that cannot start: Lambda.FunctionError" "2 5 1 9" tx_errors Lambda.FunctionError
reject "a Command that is not a list of words is refused" "Invalid argument" MalformedJSON \
  /.firehose/tx/config.json config_set tx '{"Transform":{"Command":"cat"}}'
reject "TimeoutSeconds above 900 is refused" "Invalid argument" InvalidArgument \
  /.firehose/tx/config.json config_set tx '{"Transform":{"Command":["cat"],"TimeoutSeconds":901}}'
equals "no record was lost: 2 delivered, 1 dropped, 6 failed" "9" \
  bash -c "echo \$(( \$(cat '$LAKE'/tx/2027/01/01/*/* | wc -l) + 1 + \$(cat '$TX_ERRORS'/* | wc -l) ))"
check "rmdir the transform's stream" rmdir "$F/tx"

# --- dynamic partitioning, read back by DuckDB ------------------------------------
# DuckDB's Node.js client (tests/package.json), into build/test-npm, again
# whenever tests/package.json changes.
NPM_DIR=$(cd "$(dirname "$0")/.." && pwd)/build/test-npm
if ! cmp -s "$(dirname "$0")/package.json" "$NPM_DIR/package.json" ||
  [[ ! -d $NPM_DIR/node_modules/@duckdb/node-api ]]; then
  mkdir -p "$NPM_DIR"
  cp "$(dirname "$0")/package.json" "$NPM_DIR/package.json"
  (cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error) >"$WORK/npm.log" 2>&1 ||
    cat "$WORK/npm.log"
fi
cp "$(dirname "$0")/duckdb_query.mjs" "$NPM_DIR/"
duckdb() { node "$NPM_DIR/duckdb_query.mjs" "$1"; }
DP=$LAKE/dp
check "a partitioned stream" mkdir "$F/dp"
check "...keyed by a jq query, GZIP, its error output aside" config_set dp \
  '{"Bucket":"lake","Prefix":"dp/cust=!{partitionKeyFromQuery:customer}/year=!{timestamp:yyyy}/","ErrorOutputPrefix":"dp-errors/!{firehose:error-output-type}/","BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60},"CompressionFormat":"GZIP","AppendDelimiterToRecord":true,"DynamicPartitioning":{"Keys":{"customer":".customer.id"}}}'
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "{\"customer\":{\"id\":\"c%d\"},\"amount\":%d}\n", i % 5, i }' >"$WORK/dp.jsonl"
printf 'not json\n{"customer":{}}\n' >>"$WORK/dp.jsonl"
cat "$WORK/dp.jsonl" >>"$F/dp/records"
equals "records wait for the interval" 0 bash -c "find '$LAKE' -path '*dp*' -type f | wc -l"
echo +60s >"$MNT/.shoal/clock"
equals "a folder per key value, under the rendered prefix" \
  "cust=c0 cust=c1 cust=c2 cust=c3 cust=c4" bash -c "ls '$DP' | paste -sd' '"
equals "each holds its customer's records only" "c3 600" \
  bash -c "zcat '$DP'/cust=c3/year=2027/*.gz | jq -r .customer.id | uniq -c | awk '{print \$2, \$1}'"
equals "records without a key go to partitioning-failed, in Firehose's words" \
  "Non JSON record provided|partitionKeys values must not be null or empty" \
  bash -c "zcat '$LAKE'/dp-errors/partitioning-failed/*.gz | jq -r .errorMessage | paste -sd'|'"
equals "...with their bytes" "not json" \
  bash -c "zcat '$LAKE'/dp-errors/partitioning-failed/*.gz | head -1 | jq -r '.rawData | @base64d'"
equals "metrics count them" "2 3002" \
  jq -r '[."PartitioningFailed.Records", .IncomingRecords] | join(" ")' "$F/dp/metrics.json"
# What DuckDB must find: per customer, the records written and their amounts.
dp_expected=$(jq -rs 'map(select(.customer.id?)) | group_by(.customer.id)[] | "\(.[0].customer.id) \(length) \(map(.amount) | add)"' \
  <(head -3000 "$WORK/dp.jsonl") | paste -sd' ')
equals "DuckDB reads the partitioned objects through the mount: every record, by hive partition" \
  "$dp_expected" \
  bash -c "$(declare -f duckdb); NPM_DIR='$NPM_DIR' duckdb \"select cust, count(*) as n, sum(amount) as s from read_json_auto('$DP/**/*.gz', hive_partitioning=true) group by cust order by cust\" | jq -r '\"\\(.cust) \\(.n) \\(.s)\"' | paste -sd' '"
equals "...and each hive partition matches its records' key" 0 \
  bash -c "$(declare -f duckdb); NPM_DIR='$NPM_DIR' duckdb \"select count(*) as bad from read_json_auto('$DP/**/*.gz', hive_partitioning=true) where cust <> customer.id or year <> '2027'\" | jq -r .bad"
reject "a key whose jq query does not compile is refused" "Invalid argument" InvalidArgument \
  /.firehose/dp/config.json config_set dp '{"DynamicPartitioning":{"Keys":{"customer":".customer |"}}}'
reject "dynamic partitioning needs 64 MiB buffers" "Invalid argument" InvalidArgument \
  /.firehose/dp/config.json config_set dp '{"BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":60}}'
check "rmdir the partitioned stream" rmdir "$F/dp"

config_set orders "{\"Prefix\":\"$(printf 'p%.0s' {1..600})\"}"
echo '{"long":1}' >>"$F/orders/records"
mark_log
echo x >"$F/orders/flush"
logged "records whose prefix renders past 512 characters are reported lost" InvalidArgument \
  /.firehose/orders
check "...with how many" bash -c "tail -1 '$MNT/.shoal/errors' | grep -q '1 records not delivered'"
config_set orders '{"Prefix":""}'

# --- bad records -------------------------------------------------------------------
head -c $((1000 * 1024 + 1)) /dev/zero | tr '\0' 'x' >"$WORK/huge"
echo >>"$WORK/huge"
reject "a record over 1,000 KiB fails the write" "Message too long" ValidationException \
  /.firehose/orders/records bash -c "cat '$WORK/huge' >>'$F/orders/records'"

# --- a missing bucket --------------------------------------------------------------
check "a stream into another bucket" mkdir "$F/gone" "$MNT/gone"
config_set gone '{"Bucket":"gone"}'
echo '{"g":1}' >>"$F/gone/records"
rmdir "$MNT/gone"
mark_log
echo x >"$F/gone/flush"
logged "a delivery into a missing bucket fails" NoSuchBucket /.firehose/gone
mkdir "$MNT/gone"
echo x >"$F/gone/flush"
equals "...and is retried, delivered once the bucket is back" 1 \
  bash -c "find '$MNT/gone' -type f | wc -l"

# --- unmount and restart -----------------------------------------------------------
echo '{"last":1}' >>"$F/orders/records"
before=$(find "$LAKE" -type f | wc -l)
check "unmount" umount_store
check "remount" mount_store "$STORE" "$MNT" --clock-rate=0
equals "unmount delivered what was buffered" "$((before + 1))" bash -c "find '$LAKE' -type f | wc -l"
equals "the configuration and its version survived" "lake 7" \
  bash -c "echo \$(jq -r .Bucket '$F/orders/config.json') \$(jq -r .VersionId '$F/orders/metrics.json')"
check "rmdir deletes the delivery stream" rmdir "$F/orders"
check "...and it is gone" test ! -e "$F/orders"
# --- a Kinesis stream as the source -------------------------------------------------
K=$MNT/.kinesis
# ks_records: the "k" of every record delivered under lake/ks/, in order.
ks_records() { find "$LAKE/ks" -type f -exec cat {} + | jq -r .k | sort -n | paste -sd' '; }
# ks_incoming N: waits (up to 10 s) until the stream has taken N records.
ks_incoming() {
  local i
  for ((i = 0; i < 100; i++)); do
    [[ $(jq -r .IncomingRecords "$F/ks/metrics.json") == "$1" ]] && return 0
    sleep 0.1
  done
  return 1
}
mkdir "$K/iot"
printf '{"k":-2}\n{"k":-1}\n' >>"$K/iot/records"
check "a stream that reads a Kinesis stream" mkdir "$F/ks"
check "...attached to it" config_set ks \
  '{"Bucket":"lake","Prefix":"ks/","AppendDelimiterToRecord":true,"Source":{"KinesisStream":"iot"}}'
reject "a Kinesis stream that does not exist cannot be the source" "Invalid argument" \
  InvalidArgument /.firehose/ks/config.json config_set ks '{"Source":{"KinesisStream":"nope"}}'
for i in 1 2 3 4 5; do echo "{\"k\":$i}" >>"$K/iot/records"; done
echo x >"$F/ks/flush"
equals "flush delivers what arrived after it was attached (LATEST), not before" "1 2 3 4 5" ks_records
reject "DirectPut into it is refused" "Invalid argument" InvalidArgument /.firehose/ks/records \
  bash -c "echo '{\"k\":0}' >>'$F/ks/records'"
for i in 6 7 8; do echo "{\"k\":$i}" >>"$K/iot/records"; done
check "the stream reads new records by itself" ks_incoming 8
check "unmount with them buffered" umount_store
check "remount" mount_store "$STORE" "$MNT" --clock-rate=0
equals "unmount delivered them, and nothing is read twice after the restart" "1 2 3 4 5 6 7 8" \
  bash -c "echo x >'$F/ks/flush'; $(declare -f ks_records); LAKE='$LAKE' ks_records"
for i in 9 10; do echo "{\"k\":$i}" >>"$K/iot/records"; done
check "read, not yet delivered" ks_incoming 2
pid=$(daemon_pid)
kill -9 "$pid"
for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.05; done
fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
check "remount after kill -9" mount_store "$STORE" "$MNT" --clock-rate=0
echo x >"$F/ks/flush"
equals "records read but not delivered before the crash are read again: none lost" \
  "1 2 3 4 5 6 7 8 9 10" ks_records
rmdir "$K/iot"
mark_log
echo x >"$F/ks/flush"
logged "a source that is gone is reported" NoSuchKey /.firehose/ks
check "rmdir the Kinesis-sourced stream" rmdir "$F/ks"
check "unmount again" umount_store

# --- concurrent load, and the daemon under ThreadSanitizer ---------------------------
# Four writers into one delivery stream while the clock advances and flush
# is written, beside a Kinesis-sourced stream whose source is being
# written: every record is delivered once. Run against SHOAL_BIN, and again
# against SHOAL_TSAN_BIN (the daemon built with -fsanitize=thread) when set,
# whose daemon.log must hold no race report.
firehose_load() {
  local bin=$1 label=$2 store=$WORK/store-$2 mnt=$WORK/mnt-$2 pids=() w j
  mkdir -p "$mnt"
  check "$label: mount" "$bin" mount "$store" "$mnt" --clock=2027-01-01T10:00:00Z --clock-rate=0
  mkdir "$mnt/lake" "$mnt/.firehose/load" "$mnt/.firehose/src" "$mnt/.kinesis/feed"
  echo '{"Throttle":"off"}' >"$WORK/feed.json"
  cp "$WORK/feed.json" "$mnt/.kinesis/feed/config.json"
  echo '{"Bucket":"lake","Prefix":"load/","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60},"CompressionFormat":"GZIP","AppendDelimiterToRecord":true}' >"$WORK/load.json"
  cp "$WORK/load.json" "$mnt/.firehose/load/config.json"
  echo '{"Bucket":"lake","Prefix":"src/","CompressionFormat":"ZSTD","AppendDelimiterToRecord":true,"Source":{"KinesisStream":"feed"}}' >"$WORK/src.json"
  cp "$WORK/src.json" "$mnt/.firehose/src/config.json"
  for w in 1 2 3 4; do
    seq 1 5000 | sed "s/.*/{\"w\":$w,\"n\":&,\"pad\":\"$(printf '%0100d' 0)\"}/" >>"$mnt/.firehose/load/records" &
    pids+=($!)
  done
  seq 1 3000 | sed 's/.*/{"f":&}/' >>"$mnt/.kinesis/feed/records" &
  pids+=($!)
  (for ((j = 0; j < 10; j++)); do
    echo +30s >"$mnt/.shoal/clock"
    echo x >"$mnt/.firehose/load/flush"
  done) &
  pids+=($!)
  wait "${pids[@]}"
  echo x >"$mnt/.firehose/load/flush"
  echo x >"$mnt/.firehose/src/flush"
  equals "$label: 4 writers, clock advances and flushes: every record delivered once" \
    "20000 20000" bash -c "find '$mnt/lake/load' -type f -exec zcat {} + | jq -r '\"\\(.w) \\(.n)\"' | sort -u | wc -l | tr '\\n' ' '; find '$mnt/lake/load' -type f -exec zcat {} + | wc -l"
  equals "$label: the Kinesis-sourced stream delivered every record of its source" 3000 \
    bash -c "find '$mnt/lake/src' -type f -exec zstdcat {} + | wc -l"
  check "$label: unmount" "$bin" umount "$mnt"
  no_race_reports "$label" "$store"
}
firehose_load "$SHOAL" load
if [[ -n ${SHOAL_TSAN_BIN:-} ]]; then
  export TSAN_OPTIONS="second_deadlock_stack=1"
  firehose_load "$SHOAL_TSAN_BIN" tsan
fi

finish
