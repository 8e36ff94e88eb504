#!/usr/bin/env bash
# Lifecycle rules through the mount (DESIGN §2.2, §2.3 lifecycle.json): the
# configuration is validated as S3 validates it and read back as stored;
# transitions and expirations happen when the simulated clock passes their
# due times (the first midnight UTC after creation plus Days), in order
# within one long advance, on versioned buckets as S3 documents, and are
# billed. Every check goes through the mount with ordinary tools.
source "$(dirname "$0")/lib.sh"

KIB128=$((128 * 1024))
clock() { echo "$1" >"$MNT/.shoal/clock"; }
class_of() { getfattr --absolute-names --only-values -n user.s3.storage_class "$1" 2>/dev/null; }
is_class() {  # is_class DESCRIPTION FILE CLASS
  local got
  got=$(class_of "$2")
  if [[ $got == "$3" ]]; then pass "$1"; else fail "$1 (class '$got', expected '$3')"; fi
}
same() {  # same DESCRIPTION GOT EXPECTED
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1 (got '$2', expected '$3')"; fi
}
big() { head -c $((KIB128 + 1000)) /dev/urandom >"$1"; }
# put_rules BUCKET JSON: replaces the bucket's lifecycle configuration.
put_rules() { printf '%s' "$2" >"$WORK/rules.json" && cp "$WORK/rules.json" "$MNT/.s3/$1/lifecycle.json"; }
inventory_rows() { tail -n +2 "$MNT/.s3/$1/inventory.csv" | tr -d '\r'; }

mount_store "$STORE" "$MNT" --clock=2026-01-15T10:30:00Z --clock-rate=0 || exit 1
mkdir "$MNT/lake"

echo "== validation: S3's codes and messages, the old rules stay in force"
put_rules lake '{"Rules":[{"ID":"keep","Status":"Enabled","Filter":{},"Expiration":{"Days":400}}]}'
check "a valid configuration is accepted" test -n "$(cat "$MNT/.s3/lake/lifecycle.json")"
before=$(cat "$MNT/.s3/lake/lifecycle.json")
# Each case: description | JSON | AWS code | a piece of S3's message.
while IFS='|' read -r what json code message; do
  [[ -z $what ]] && continue
  printf '%s' "$json" >"$WORK/bad.json"
  reject "$what" "Invalid argument" "$code" /.s3/lake/lifecycle.json cp "$WORK/bad.json" "$MNT/.s3/lake/lifecycle.json"
  if grep -qF -- "$message" <(tail -n 1 "$ERRLOG"); then
    pass "$what: the message says \"$message\""
  else
    fail "$what: the message lacks \"$message\": $(tail -n 1 "$ERRLOG")"
  fi
done <<'EOF'
IA before 30 days|{"Rules":[{"ID":"r","Status":"Enabled","Filter":{},"Transitions":[{"Days":10,"StorageClass":"STANDARD_IA"}]}]}|InvalidArgument|'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'
duplicate rule IDs|{"Rules":[{"ID":"r","Status":"Enabled","Filter":{},"Expiration":{"Days":1}},{"ID":"r","Status":"Enabled","Filter":{},"Expiration":{"Days":2}}]}|InvalidArgument|Rule ID must be unique
Date not at midnight|{"Rules":[{"ID":"r","Status":"Enabled","Filter":{},"Expiration":{"Date":"2026-03-01T12:00:00Z"}}]}|InvalidArgument|'Date' must be at midnight GMT
expiration days zero|{"Rules":[{"ID":"r","Status":"Enabled","Filter":{},"Expiration":{"Days":0}}]}|InvalidArgument|'Days' for Expiration action must be a positive integer
bad Status|{"Rules":[{"ID":"r","Status":"On","Filter":{},"Expiration":{"Days":1}}]}|MalformedXML|The XML you provided was not well-formed
unknown member|{"Rules":[{"ID":"r","Status":"Enabled","Filter":{},"Expiry":{"Days":1}}]}|MalformedXML|The XML you provided was not well-formed
not JSON|{"Rules": [|MalformedJSON|not well-formed
transition to STANDARD|{"Rules":[{"ID":"r","Status":"Enabled","Filter":{},"Transitions":[{"Days":40,"StorageClass":"STANDARD"}]}]}|InvalidArgument|Storage class
EOF
same "a rejected file leaves the configuration in force" "$(cat "$MNT/.s3/lake/lifecycle.json")" "$before"
many=$(python3 -c 'import json; print(json.dumps({"Rules": [{"ID": "r%d" % i, "Status": "Enabled", "Filter": {"Prefix": "p%d/" % i}, "Expiration": {"Days": 1}} for i in range(1001)]}))')
printf '%s' "$many" >"$WORK/many.json"
reject "1001 rules" "Invalid argument" InvalidRequest /.s3/lake/lifecycle.json cp "$WORK/many.json" "$MNT/.s3/lake/lifecycle.json"
many=$(python3 -c 'import json; print(json.dumps({"Rules": [{"ID": "r%d" % i, "Status": "Enabled", "Filter": {"Prefix": "p%d/" % i}, "Expiration": {"Days": 1}} for i in range(1000)]}))')
printf '%s' "$many" >"$WORK/many.json"
check "1000 rules are accepted" cp "$WORK/many.json" "$MNT/.s3/lake/lifecycle.json"
check "and read back as 1000 rules" test "$(jq '.Rules | length' "$MNT/.s3/lake/lifecycle.json")" = 1000
check "an empty file deletes the configuration" cp /dev/null "$MNT/.s3/lake/lifecycle.json"
# The empty document applies at the last close, which the kernel sends
# after close() returns.
for _ in $(seq 1 50); do [[ -z $(cat "$MNT/.s3/lake/lifecycle.json") ]] && break; sleep 0.05; done
same "which then reads back empty" "$(cat "$MNT/.s3/lake/lifecycle.json")" ""
expect_fail "a configuration for a missing bucket" "No such file" \
  cp "$WORK/rules.json" "$MNT/.s3/nobucket/lifecycle.json"

echo "== Days round up to the next midnight UTC (created 2026-01-15T10:30Z)"
mkdir "$MNT/lake/logs" "$MNT/lake/keep"
big "$MNT/lake/logs/a.bin"
big "$MNT/lake/keep/b.bin"
echo small >"$MNT/lake/logs/small.txt"
put_rules lake '{"Rules":[{"ID":"three-step","Status":"Enabled","Filter":{"Prefix":"logs/"},
  "Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"},{"Days":90,"StorageClass":"GLACIER"}],
  "Expiration":{"Days":365}}]}'
same "the configuration reads back in S3's shape" "$(jq -r '.Rules[0].ID, .Rules[0].Transitions[1].StorageClass' "$MNT/.s3/lake/lifecycle.json" | tr '\n' ' ')" "three-step GLACIER "
same "user.s3.expiration names the date and rule" \
  "$(getfattr --absolute-names --only-values -n user.s3.expiration "$MNT/lake/logs/a.bin")" \
  'expiry-date="Sat, 16 Jan 2027 00:00:00 GMT", rule-id="three-step"'
expect_fail "an object outside the rule's prefix has no expiration" "No such attribute" \
  getfattr -n user.s3.expiration "$MNT/lake/keep/b.bin"
clock 2026-02-14T23:59:59Z
is_class "one second before the due midnight it is still STANDARD" "$MNT/lake/logs/a.bin" STANDARD
clock 2026-02-15T00:00:00Z
is_class "at 2026-02-15T00:00Z (15 Jan 10:30 + 30 d = 14 Feb 10:30, rounded up) it is STANDARD_IA" "$MNT/lake/logs/a.bin" STANDARD_IA
is_class "an object under 128 KiB is not transitioned" "$MNT/lake/logs/small.txt" STANDARD
is_class "an object outside the prefix is not transitioned" "$MNT/lake/keep/b.bin" STANDARD
check "a STANDARD_IA object still reads" cmp -s "$MNT/lake/logs/a.bin" "$MNT/lake/logs/a.bin"
same "LastModified is unchanged by a transition" "$(grep ',logs/a.bin,' <(inventory_rows lake) | cut -d, -f7)" "2026-01-15T10:30:00.000Z"
clock 2026-04-16T00:00:00Z
is_class "at 90 days (2026-04-16) it is GLACIER" "$MNT/lake/logs/a.bin" GLACIER
expect_fail "a GLACIER object refuses reads" "Permission denied" cat "$MNT/lake/logs/a.bin"
clock 2027-01-15T00:00:00Z
check "the day before its expiry it is still there" test -e "$MNT/lake/logs/a.bin"
clock 2027-01-16T00:00:00Z
check "at 365 days (2027-01-16) it is gone" test ! -e "$MNT/lake/logs/a.bin"
check "and not listed" bash -c "! ls '$MNT/lake/logs' | grep -qx a.bin"
check "the small object expired too (expiration has no size minimum)" test ! -e "$MNT/lake/logs/small.txt"
check "the object outside the prefix stays" test -e "$MNT/lake/keep/b.bin"
same "two transition requests were billed" \
  "$(jq -c '[.transitions[] | {class, count}]' "$MNT/.shoal/billing.json")" \
  '[{"class":"STANDARD_IA","count":1},{"class":"GLACIER","count":1}]'

echo "== one long advance runs chained actions in time order"
mkdir "$MNT/year"
echo "year" >"$MNT/year/note.txt"
big "$MNT/year/a.bin"
big "$MNT/year/b.bin"
put_rules year '{"Rules":[{"ID":"y","Status":"Enabled","Filter":{},
  "Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"},{"Days":90,"StorageClass":"GLACIER"}],
  "Expiration":{"Days":365}}]}'
bill_before=$(jq '[.transitions[].count] | add' "$MNT/.shoal/billing.json")
clock +200d
is_class "after +200d in one write, a.bin went IA then GLACIER" "$MNT/year/a.bin" GLACIER
same "both transitions of both objects were billed" "$(jq '[.transitions[].count] | add' "$MNT/.shoal/billing.json")" "$((bill_before + 4))"
check "GLACIER storage is on the bill" test "$(jq '[.storage[] | select(.class == "GLACIER" and .item == "data") | .objects] | add' "$MNT/.shoal/billing.json")" -ge 2
clock +200d
check "after +400d everything in the bucket has expired" test -z "$(ls -A "$MNT/year")"
same "inventory.csv lists nothing" "$(inventory_rows year)" ""
check "an empty, expired bucket can be removed" rmdir "$MNT/year"

echo "== transition dates, tag and size filters"
# Dates relative to the clock (now well into 2028): the next 1st of a month
# at least 10 days ahead.
date_ahead=$(python3 -c 'import datetime,sys; t=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00"))+datetime.timedelta(days=10); m=t.replace(day=1)+datetime.timedelta(days=32); print(m.replace(day=1).strftime("%Y-%m-%dT00:00:00Z"))' "$(cat "$MNT/.shoal/clock")")
day_before=$(python3 -c 'import datetime,sys; t=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00"))-datetime.timedelta(days=1); print(t.strftime("%Y-%m-%dT00:00:00Z"))' "$date_ahead")
mkdir "$MNT/dated"
big "$MNT/dated/old.bin"
echo tiny >"$MNT/dated/tiny.txt"
big "$MNT/dated/tagged.bin"
big "$MNT/dated/other.bin"
check "tags are set through user.s3.tagging" setfattr -n user.s3.tagging -v 'team=data&tier=cold' "$MNT/dated/tagged.bin"
same "and read back" "$(getfattr --absolute-names --only-values -n user.s3.tagging "$MNT/dated/tagged.bin")" "team=data&tier=cold"
reject "a repeated tag key" "Invalid argument" InvalidTag /dated/other.bin setfattr -n user.s3.tagging -v 'a=1&a=2' "$MNT/dated/other.bin"
put_rules dated '{"Rules":[
  {"ID":"by-date","Status":"Enabled","Filter":{"Prefix":"old"},"Transitions":[{"Date":"'"$date_ahead"'","StorageClass":"GLACIER"}]},
  {"ID":"by-tag","Status":"Enabled","Filter":{"And":{"Prefix":"","Tags":[{"Key":"tier","Value":"cold"}]}},"Transitions":[{"Days":0,"StorageClass":"DEEP_ARCHIVE"}]},
  {"ID":"small-ok","Status":"Enabled","Filter":{"ObjectSizeGreaterThan":1},"Transitions":[{"Days":40,"StorageClass":"GLACIER_IR"}]},
  {"ID":"off","Status":"Disabled","Filter":{},"Expiration":{"Days":1}}]}'
clock "$day_before"
is_class "before its Date the object is STANDARD" "$MNT/dated/old.bin" STANDARD
is_class "Days 0 moves a tagged object at the first midnight" "$MNT/dated/tagged.bin" DEEP_ARCHIVE
is_class "an untagged object is not moved by the tag rule" "$MNT/dated/other.bin" STANDARD
check "a disabled rule expires nothing" test -e "$MNT/dated/other.bin"
clock "$date_ahead"
is_class "at its Date the object is GLACIER" "$MNT/dated/old.bin" GLACIER
clock +40d
is_class "ObjectSizeGreaterThan admits an object under 128 KiB" "$MNT/dated/tiny.txt" GLACIER_IR
is_class "a GLACIER object is not moved back up to GLACIER_IR" "$MNT/dated/old.bin" GLACIER

echo "== versioned bucket: delete markers, noncurrent versions, NewerNoncurrentVersions"
mkdir "$MNT/vers"
echo Enabled >"$MNT/.s3/vers/versioning"
for i in 1 2 3 4 5; do echo "v$i" >"$MNT/vers/doc.txt"; done
put_rules vers '{"Rules":[{"ID":"nc","Status":"Enabled","Filter":{},
  "NoncurrentVersionExpiration":{"NoncurrentDays":7,"NewerNoncurrentVersions":2},
  "Expiration":{"Days":30}},
  {"ID":"markers","Status":"Enabled","Filter":{},"Expiration":{"ExpiredObjectDeleteMarker":true}}]}'
same "five versions before the clock moves" "$(inventory_rows vers | wc -l)" 5
clock +8d
same "after 8 days, the 2 newest noncurrent versions are kept (3 rows)" "$(inventory_rows vers | wc -l)" 3
same "the current version is v5" "$(cat "$MNT/vers/doc.txt")" "v5"
clock +30d
check "after 30 days the object expired" test ! -e "$MNT/vers/doc.txt"
same "a delete marker is the latest version" "$(inventory_rows vers | awk -F, '$4 == "true" {print $5}')" "true"
clock +10d
same "NewerNoncurrentVersions keeps the 2 newest noncurrent versions for good" \
  "$(inventory_rows vers | awk -F, '$5 == "false"' | cut -d, -f3 | wc -l)" 2
for f in "$MNT"/.s3/vers/versions/doc.txt@*; do
  [[ $(getfattr --absolute-names --only-values -n user.s3.delete_marker "$f") == false ]] && rm "$f"
done
same "with them deleted, only the delete marker is left" "$(inventory_rows vers | cut -d, -f5)" "true"
clock +1d
same "the expired delete marker was removed at the next midnight" "$(inventory_rows vers)" ""
check "and the bucket can be removed" rmdir "$MNT/vers"

echo "== AbortIncompleteMultipartUpload: a writer left open loses what it wrote"
mkdir "$MNT/upl"
echo committed >"$MNT/upl/part.bin"
put_rules upl '{"Rules":[{"ID":"abort-2d","Status":"Enabled","Filter":{"Prefix":""},
  "AbortIncompleteMultipartUpload":{"DaysAfterInitiation":2}}]}'
out=$(python3 - "$MNT" <<'PY'
import errno, os, sys
mnt = sys.argv[1]
fd = os.open(f"{mnt}/upl/part.bin", os.O_WRONLY | os.O_APPEND)
os.write(fd, b"uncommitted\n")
with open(f"{mnt}/.shoal/clock", "w") as c:
    c.write("+3d\n")
results = []
try:
    os.write(fd, b"more\n")
    results.append("write ok")
except OSError as e:
    results.append("write " + errno.errorcode[e.errno])
try:
    os.close(fd)
    results.append("close ok")
except OSError as e:
    results.append("close " + errno.errorcode[e.errno])
print(", ".join(results))
PY
)
same "after the deadline, write and close fail with ENOENT" "$out" "write ENOENT, close ENOENT"
same "the object keeps its committed content" "$(cat "$MNT/upl/part.bin")" "committed"
check ".shoal/errors names the rule" grep -q "NoSuchUpload: lifecycle rule \"abort-2d\"" "$ERRLOG"
echo again >"$MNT/upl/part.bin"
clock +3d
same "a writer that closed in time is not touched" "$(cat "$MNT/upl/part.bin")" "again"
# A writer already open when the rule arrives falls under it too.
cp /dev/null "$MNT/.s3/upl/lifecycle.json"
for _ in $(seq 1 50); do [[ -z $(cat "$MNT/.s3/upl/lifecycle.json") ]] && break; sleep 0.05; done
out=$(python3 - "$MNT" "$WORK/rules.json" <<'PY'
import errno, os, shutil, sys
mnt, rules = sys.argv[1], sys.argv[2]
fd = os.open(f"{mnt}/upl/early.bin", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"started before the rule\n")
shutil.copyfile(rules, f"{mnt}/.s3/upl/lifecycle.json")
with open(f"{mnt}/.shoal/clock", "w") as c:
    c.write("+3d\n")
try:
    os.close(fd)
    print("close ok")
except OSError as e:
    print("close " + errno.errorcode[e.errno])
PY
)
same "an upload open before the rule was written is aborted by it" "$out" "close ENOENT"

echo "== rules survive a remount; a running clock applies them"
mkdir "$MNT/run"
big "$MNT/run/r.bin"
put_rules run '{"Rules":[{"ID":"soon","Status":"Enabled","Filter":{},"Transitions":[{"Days":1,"StorageClass":"GLACIER"}]}]}'
umount_store "$MNT"
mount_store "$STORE" "$MNT" --clock-rate=0 || exit 1
same "the configuration survived the remount" "$(jq -r '.Rules[0].ID' "$MNT/.s3/run/lifecycle.json")" soon
clock +3d
is_class "its due item survived too" "$MNT/run/r.bin" GLACIER
big "$MNT/run/s.bin"
echo "rate 86400" >"$MNT/.shoal/clock"  # a simulated day per second
for _ in $(seq 1 50); do
  [[ $(class_of "$MNT/run/s.bin") == GLACIER ]] && break
  sleep 0.1
done
is_class "a running clock transitions without a write to the clock" "$MNT/run/s.bin" GLACIER
echo "rate 0" >"$MNT/.shoal/clock"
umount_store "$MNT"
check "fsck finds the store intact" "$SHOAL" fsck "$STORE"

finish
