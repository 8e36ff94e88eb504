#!/usr/bin/env bash
# notification_test: S3 event notifications through the mount (DESIGN §2.3,
# MNT/.s3/<bucket>/notification.json). Events of puts (cp, echo >, touch),
# renames (mv: a copy and a delete), deletes (rm) in unversioned and
# versioned buckets, filtered by prefix and suffix, read back as S3's event
# JSON from a Kinesis stream's shard and from the objects a Firehose
# delivery stream made of them; a version deleted by id; lifecycle
# transitions and expirations and a restore's request, completion and
# expiry as the clock moves; bad documents and missing targets.
source "$(dirname "$0")/lib.sh"

K=$MNT/.kinesis
N=$MNT/.s3/lake/notification.json
SHARD=shardId-000000000000
# events: "<eventName> <key> <size or ->" of each event in the stream, in order.
events() {
  jq -r '.Data | @base64d | fromjson | .Records[0] | "\(.eventName) \(.s3.object.key) \(.s3.object.size // "-")"' \
    "$K/events/shards/$SHARD" | paste -sd'|'
}
# last_event JQ: a field of the last event.
last_event() { tail -1 "$K/events/shards/$SHARD" | jq -r ".Data | @base64d | fromjson | .Records[0] | $1"; }
doc_set() { printf '%s\n' "$1" >"$WORK/n.json" && cp "$WORK/n.json" "$N"; }

check "mount" mount_store "$STORE" "$MNT" --clock=2027-01-01T10:00:00Z --clock-rate=0
mkdir "$MNT/lake" "$K/events"
equals "a bucket sends nothing by default" '{"Kinesis":[],"Firehose":[]}' jq -c . "$N"
reject "a target that does not exist is refused, as S3 validates destinations" "Invalid argument" \
  InvalidArgument /.s3/lake/notification.json \
  doc_set '{"Kinesis":[{"Stream":"nope","Events":["s3:ObjectCreated:*"]}]}'
reject "an event type S3 does not have is refused" "Invalid argument" InvalidArgument \
  /.s3/lake/notification.json doc_set '{"Kinesis":[{"Stream":"events","Events":["s3:ObjectMade:*"]}]}'
reject "a document of another shape is refused" "Invalid argument" MalformedJSON \
  /.s3/lake/notification.json doc_set '{"Kinesis":{"Stream":"events"}}'
check "created and removed .csv objects under in/ go to a Kinesis stream" doc_set \
  '{"Kinesis":[{"Id":"csv","Stream":"events","Events":["s3:ObjectCreated:*","s3:ObjectRemoved:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"in/"},{"Name":"suffix","Value":".csv"}]}}}]}'
equals "it reads back in canonical form" '{"Id":"csv","Prefix":"in/","Suffix":".csv"}' \
  jq -c '.Kinesis[0] | {Id, Prefix: .Filter.Prefix, Suffix: .Filter.Suffix}' "$N"

mkdir "$MNT/lake/in" "$MNT/lake/out"
printf 'a,b\n1,2\n' >"$MNT/lake/in/x.csv"
equals "a PUT: ObjectCreated:Put with key and size" "ObjectCreated:Put in/x.csv 8" events
equals "...S3's record: version, source, region, bucket ARN, configuration id" \
  "2.1 aws:s3 us-east-1 arn:aws:s3:::lake csv 2027-01-01T10:00:00.000Z" \
  last_event '"\(.eventVersion) \(.eventSource) \(.awsRegion) \(.s3.bucket.arn) \(.s3.configurationId) \(.eventTime)"'
equals "...its eTag is the object's" "$(md5sum <"$MNT/lake/in/x.csv" | cut -d' ' -f1)" last_event .s3.object.eTag
equals "...and no versionId in an unversioned bucket" null last_event .s3.object.versionId
echo skip >"$MNT/lake/in/notes.txt"
echo skip >"$MNT/lake/out/x.csv"
equals "keys the filter leaves out send nothing" 1 bash -c "wc -l <'$K/events/shards/$SHARD'"
touch "$MNT/lake/in/empty.csv"
mv "$MNT/lake/in/x.csv" "$MNT/lake/in/y b.csv"
rm "$MNT/lake/in/y b.csv"
equals "touch, mv (a copy, then a delete) and rm, in order; keys URL-encoded" \
  "ObjectCreated:Put in/x.csv 8|ObjectCreated:Put in/empty.csv 0|ObjectCreated:Copy in/y+b.csv 8|ObjectRemoved:Delete in/x.csv -|ObjectRemoved:Delete in/y+b.csv -" \
  events
check "sequencers grow" bash -c "jq -r '.Data | @base64d | fromjson | .Records[0].s3.object.sequencer' '$K/events/shards/$SHARD' | sort -c"

# --- a versioned bucket, and a Firehose target ---------------------------------------
mkdir "$MNT/.firehose/audit" "$MNT/logs"
echo '{"Bucket":"logs","Prefix":"s3-events/","AppendDelimiterToRecord":true}' >"$WORK/fh.json"
cp "$WORK/fh.json" "$MNT/.firehose/audit/config.json"
echo Enabled >"$MNT/.s3/lake/versioning"
check "removals of any key also go to a delivery stream" doc_set \
  '{"Kinesis":[{"Id":"csv","Stream":"events","Events":["s3:ObjectCreated:*","s3:ObjectRemoved:*"],"Filter":{"Prefix":"in/","Suffix":".csv"}}],"Firehose":[{"DeliveryStream":"audit","Events":["s3:ObjectRemoved:*"]}]}'
echo v1 >"$MNT/lake/in/v.csv"
version=$(last_event .s3.object.versionId)
check "a PUT in a versioned bucket names its versionId" test -n "$version" -a "$version" != null
rm "$MNT/lake/in/v.csv"
equals "rm in a versioned bucket: ObjectRemoved:DeleteMarkerCreated" "ObjectRemoved:DeleteMarkerCreated" \
  last_event .eventName
check "...with the marker's versionId" bash -c "[[ \$(tail -1 '$K/events/shards/$SHARD' | jq -r '.Data | @base64d | fromjson | .Records[0].s3.object.versionId') != '$version' ]]"
echo x >"$MNT/.firehose/audit/flush"
equals "the delivery stream delivered the removal's event" "ObjectRemoved:DeleteMarkerCreated lake in/v.csv" \
  bash -c "find '$MNT/logs/s3-events' -type f -exec cat {} + | jq -r '.Records[0] | \"\\(.eventName) \\(.s3.bucket.name) \\(.s3.object.key)\"'"
check "rm of one version (DeleteObject with a versionId)" rm "$MNT/.s3/lake/versions/in/v.csv@$version"
equals "...is ObjectRemoved:Delete of that version" "ObjectRemoved:Delete $version" \
  last_event '"\(.eventName) \(.s3.object.versionId)"'
rmdir "$K/events"
mark_log
echo gone >"$MNT/lake/in/w.csv"
check "a write still succeeds when a target is gone" test -f "$MNT/lake/in/w.csv"
logged "...and the lost event is reported" NoSuchKey /.s3/lake/notification.json

# --- lifecycle and restores, as the clock moves ----------------------------------------
mkdir "$MNT/cold" "$K/ops"
echo '{"RetentionPeriodHours":8760}' >"$WORK/retention.json"  # the clock moves weeks
cp "$WORK/retention.json" "$K/ops/config.json"
ops() {
  jq -r '.Data | @base64d | fromjson | .Records[0] | .eventName' "$K/ops/shards/$SHARD" | paste -sd'|'
}
ops_last() { tail -1 "$K/ops/shards/$SHARD" | jq -r ".Data | @base64d | fromjson | .Records[0] | $1"; }
printf '%s' '{"Kinesis":[{"Stream":"ops","Events":["s3:LifecycleTransition","s3:LifecycleExpiration:*","s3:ObjectRestore:*"]}]}' >"$WORK/ops.json"
check "a bucket's lifecycle and restore events go to a stream" cp "$WORK/ops.json" "$MNT/.s3/cold/notification.json"
printf '%s' '{"Rules":[{"ID":"r","Status":"Enabled","Filter":{},"Transitions":[{"Days":1,"StorageClass":"GLACIER"}],"Expiration":{"Days":30}}]}' >"$WORK/rules.json"
cp "$WORK/rules.json" "$MNT/.s3/cold/lifecycle.json"
head -c 200000 /dev/urandom >"$MNT/cold/a.txt"  # lifecycle moves objects of 128 KiB and more
equals "a PUT is not among the events it wants" "" ops
echo +2d >"$MNT/.shoal/clock"
equals "the clock passes the transition: LifecycleTransition, to GLACIER" "LifecycleTransition GLACIER 200000" \
  ops_last '"\(.eventName) \(.lifecycleEventData.transitionEventData.destinationStorageClass) \(.s3.object.size)"'
setfattr -n user.s3.restore -v Days=1,Tier=Expedited "$MNT/cold/a.txt"
equals "a restore request: ObjectRestore:Post" "ObjectRestore:Post" ops_last .eventName
echo +1h >"$MNT/.shoal/clock"
equals "...completed: ObjectRestore:Completed, with the copy's expiry and class" \
  "ObjectRestore:Completed GLACIER true" \
  ops_last '"\(.eventName) \(.glacierEventData.restoreEventData.lifecycleRestoreStorageClass) \(.glacierEventData.restoreEventData.lifecycleRestorationExpiryTime | endswith("T00:00:00.000Z"))"'
echo +3d >"$MNT/.shoal/clock"
equals "...the restored copy expires: ObjectRestore:Delete" "ObjectRestore:Delete" ops_last .eventName
echo +30d >"$MNT/.shoal/clock"
equals "the object expires: LifecycleExpiration:Delete; every event once, in order" \
  "LifecycleTransition|ObjectRestore:Post|ObjectRestore:Completed|ObjectRestore:Delete|LifecycleExpiration:Delete" ops
check "...and the object is gone" test ! -e "$MNT/cold/a.txt"

# A delivery stream that notifies itself of its own objects, at unmount.
echo '{"Firehose":[{"DeliveryStream":"audit","Events":["s3:ObjectCreated:*"]}]}' >"$WORK/loop.json"
cp "$WORK/loop.json" "$MNT/.s3/logs/notification.json"
echo '{"k":1}' >>"$MNT/.firehose/audit/records"
logs_before=$(find "$MNT/logs" -type f | wc -l)
check "unmount" umount_store
check "remount" mount_store "$STORE" "$MNT" --clock-rate=0
check "a delivery stream that notifies itself delivered at unmount, and the daemon stopped cleanly" \
  bash -c "(( \$(find '$MNT/logs' -type f | wc -l) > $logs_before )) && ! grep -q 'AddressSanitizer\|ThreadSanitizer\|terminate' '$STORE/daemon.log'"
equals "...with the event of an object it delivered at unmount, in an object it delivered after it" \
  "ObjectCreated:Put" bash -c "find '$MNT/logs/s3-events' -type f -exec cat {} + | jq -r '.Records[0].eventName' | grep -m1 ObjectCreated"
equals "the document survived" "audit" jq -r '.Firehose[0].DeliveryStream' "$N"
check "an empty document removes it" bash -c ": >'$N'"
equals "...sending nothing" '{"Kinesis":[],"Firehose":[]}' jq -c . "$N"
check "unmount again" umount_store
finish
