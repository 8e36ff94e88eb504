#!/usr/bin/env bash
# versioning_test: S3 bucket versioning through a real mount with ordinary
# tools (DESIGN §2.1, §2.3): the versioning file and its bad values, version
# ids on every PUT, delete markers, Suspended and its null versions, the
# read-only versions/ tree (listing, reading, xattrs, deleting one version,
# undeleting), rename, inventory.csv, concurrent PUTs to one key, rmdir of a
# bucket that still holds versions, billing of noncurrent bytes, and versions
# surviving a remount, fsck and kill -9. The clock is frozen
# (--clock-rate=0) so every LastModified below is exact.
source "$(dirname "$0")/lib.sh"

CLOCK=$MNT/.shoal/clock
START=2026-01-01T00:00:00Z
START_EPOCH=1767225600 # date -u -d $START +%s
DAY=86400
DENIED="Permission denied\\|Operation not permitted"

advance() { echo "$1" >"$CLOCK"; }
vdir() { echo "$MNT/.s3/$1/versions"; } # vdir BUCKET
# vids BUCKET KEY: the version ids versions/ lists for KEY, sorted. A key's
# files are "<basename>@<id>" and ids never contain '@', so "x@y.txt@id"
# belongs to x@y.txt and not to x.
vids() {
  local dir base
  dir=$(dirname "$2")
  base=$(basename "$2")
  [[ $dir == . ]] && dir= || dir=/$dir
  ls -A "$(vdir "$1")$dir" | python3 -c '
import re, sys
base = sys.argv[1]
for name in sys.stdin.read().split("\n"):
    if name.startswith(base + "@") and "@" not in name[len(base) + 1:]:
        print(name[len(base) + 1:])' "$base" | LC_ALL=C sort
}
nvids() { vids "$@" | wc -l; } # nvids BUCKET KEY: how many versions versions/ lists
vfile() { echo "$(vdir "$1")/$2@$3"; } # vfile BUCKET KEY ID
# invq BUCKET KEY COLUMN: the column of every inventory row of KEY, in order.
invq() {
  python3 - "$MNT/.s3/$1/inventory.csv" "$2" "$3" <<'EOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], newline='')):
    if r['Key'] == sys.argv[2]:
        print(r[sys.argv[3]])
EOF
}
dead() { ! alive "$1"; }
valid_id() { [[ $1 =~ ^[A-Za-z0-9._]{32}$ ]]; }
md5() { md5sum | cut -d' ' -f1; }
# standard_bytes: the STANDARD data bytes billing.json counts as stored.
standard_bytes() {
  jq -r '[.storage[] | select(.class == "STANDARD" and .item == "data") | .logical_bytes] | add' \
    "$MNT/.shoal/billing.json"
}
# snapshot: every version file of every bucket with its size, latest and
# marker flags and a checksum of its content (or "-" for a delete marker).
snapshot() {
  local f sum
  (cd "$MNT/.s3" && find . -path '*/versions/*' -type f | LC_ALL=C sort) | while read -r f; do
    if [[ $(attr user.s3.delete_marker "$MNT/.s3/$f") == true ]]; then sum=-; else
      sum=$(md5 <"$MNT/.s3/$f")
    fi
    echo "$f $(stat -c %s "$MNT/.s3/$f") $(attr user.s3.is_latest "$MNT/.s3/$f") $sum"
  done
}
# noncurrent_count: inventory rows of all buckets that are noncurrent
# versions with content (not delete markers).
noncurrent_count() {
  cat "$MNT"/.s3/*/inventory.csv | awk -F, '$4 == "false" && $5 == "false"' | wc -l
}

# For the checks that run a pipeline in `bash -c`.
export MNT
export -f vdir vids nvids invq attr md5 snapshot

check "mount with a frozen clock at $START" mount_store "$STORE" "$MNT" --clock=$START --clock-rate=0

echo "== the versioning file: never enabled, Enabled, Suspended, and bad values"
mkdir "$MNT/lake"
echo before >"$MNT/lake/pre.txt"
equals "a new bucket's versioning reads empty" "" cat "$MNT/.s3/lake/versioning"
equals "an object in a never-versioned bucket has version id null" null attr user.s3.version_id "$MNT/lake/pre.txt"
equals "versions/ lists its one null version" "null" vids lake pre.txt
equals "inventory: VersionId empty for the null version" "" invq lake pre.txt VersionId
check "echo Enabled > versioning" bash -c "echo Enabled >'$MNT/.s3/lake/versioning'"
equals "reads back Enabled" "Enabled" cat "$MNT/.s3/lake/versioning"
check "exactly 'Enabled\\n'" cmp <(echo Enabled) "$MNT/.s3/lake/versioning"
printf 'enabled\n' >"$WORK/lower"
printf 'Disabled\n' >"$WORK/disabled"
printf '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>\n' >"$WORK/xml"
printf '\n' >"$WORK/newline"
: >"$WORK/empty"
# cp reports a failing close(), where the shell's redirection does not.
reject "versioning 'enabled' (wrong case)" "Invalid argument" MalformedXML /.s3/lake/versioning \
  cp "$WORK/lower" "$MNT/.s3/lake/versioning"
reject "versioning 'Disabled'" "Invalid argument" MalformedXML /.s3/lake/versioning \
  cp "$WORK/disabled" "$MNT/.s3/lake/versioning"
reject "versioning as XML" "Invalid argument" MalformedXML /.s3/lake/versioning \
  cp "$WORK/xml" "$MNT/.s3/lake/versioning"
reject "versioning that is only a newline" "Invalid argument" MalformedXML /.s3/lake/versioning \
  cp "$WORK/newline" "$MNT/.s3/lake/versioning"
# An empty document is applied at the last close (a shell's `> f` closes a
# first descriptor before it writes), which reaches the daemon after
# close() returned: the refusal shows in the log only.
mark_log
cp "$WORK/empty" "$MNT/.s3/lake/versioning"
for _ in $(seq 1 50); do grep -q 'versioning MalformedXML' <(tail -n +$((MARK + 1)) "$ERRLOG") && break; sleep 0.05; done
logged "versioning that is empty (cp /dev/null)" MalformedXML /.s3/lake/versioning
equals "rejected values leave Enabled in force" "Enabled" cat "$MNT/.s3/lake/versioning"
check "'  Suspended  ' (whitespace trimmed)" bash -c "printf '  Suspended \\n\\n' >'$MNT/.s3/lake/versioning'"
equals "reads back Suspended" "Suspended" cat "$MNT/.s3/lake/versioning"
check "and Enabled again" bash -c "echo Enabled >'$MNT/.s3/lake/versioning'"
expect_fail "versioning of a missing bucket: cat" "No such file or directory" cat "$MNT/.s3/nosuch/versioning"
expect_fail "versioning of a missing bucket: write" "No such file or directory" \
  cp "$WORK/lower" "$MNT/.s3/nosuch/versioning"
expect_fail "versions/ of a missing bucket" "No such file or directory" ls "$MNT/.s3/nosuch/versions"
check "no bucket appeared" test ! -e "$MNT/nosuch"

echo "== Enabled: every PUT is a new version"
echo one >"$MNT/lake/f"
v1=$(attr user.s3.version_id "$MNT/lake/f")
check "the first PUT gets a 32-character id from [A-Za-z0-9._] ($v1)" valid_id "$v1"
equals "versions/ lists exactly that version" "$v1" vids lake f
advance +1d
echo two >"$MNT/lake/f"
v2=$(attr user.s3.version_id "$MNT/lake/f")
check "an overwrite gets another valid id ($v2)" bash -c "[[ '$v2' =~ ^[A-Za-z0-9._]{32}\$ && '$v2' != '$v1' ]]"
equals "the old version is kept: two versions" 2 nvids lake f
equals "cat of the noncurrent version gives its bytes" one cat "$(vfile lake f "$v1")"
equals "cat of the current version gives its bytes" two cat "$(vfile lake f "$v2")"
check "cp of an old version out of versions/" \
  bash -c "cp '$(vfile lake f "$v1")' '$WORK/restored' && [[ \$(cat '$WORK/restored') == one ]]"
check "ls -l shows each version's size and LastModified" bash -c \
  "ls -l --time-style=+%FT%T '$(vdir lake)' | grep -q ' 4 2026-01-01T00:00:00 f@$v1\$'"
equals "ls -l: the old version's size" 4 stat -c %s "$(vfile lake f "$v1")"
equals "ls -l: the old version's mtime is its LastModified" $START_EPOCH stat -c %Y "$(vfile lake f "$v1")"
equals "ls -l: the new version's mtime is a day later" $((START_EPOCH + DAY)) stat -c %Y "$(vfile lake f "$v2")"
equals "xattr version_id of a version file" "$v1" attr user.s3.version_id "$(vfile lake f "$v1")"
equals "xattr is_latest: old false" false attr user.s3.is_latest "$(vfile lake f "$v1")"
equals "xattr is_latest: current true" true attr user.s3.is_latest "$(vfile lake f "$v2")"
equals "xattr delete_marker false" false attr user.s3.delete_marker "$(vfile lake f "$v1")"
equals "xattr etag: the old content's MD5, quoted" "\"$(echo one | md5)\"" attr user.s3.etag "$(vfile lake f "$v1")"
equals "the current version's etag is the object's" "$(attr user.s3.etag "$MNT/lake/f")" \
  attr user.s3.etag "$(vfile lake f "$v2")"
equals "xattr storage_class" STANDARD attr user.s3.storage_class "$(vfile lake f "$v1")"
echo after >"$MNT/lake/pre.txt"
pv=$(attr user.s3.version_id "$MNT/lake/pre.txt")
check "overwriting a pre-versioning object: a real id ($pv)" valid_id "$pv"
equals "and its null version is kept" "$(printf '%s\n' "$pv" null | LC_ALL=C sort)" vids lake pre.txt
equals "the null version keeps its content" before cat "$(vfile lake pre.txt null)"
equals "inventory: the new version has an id, the null one none" "$pv|" \
  bash -c "invq lake pre.txt VersionId | paste -sd'|'"
n=$(nvids lake f)
python3 - "$MNT/lake/f" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
for part in (b'three ', b'in ', b'four ', b'writes\n'):
    os.write(fd, part)
os.close(fd)
EOF
equals "open, four write()s, close: one PUT" $((n + 1)) nvids lake f
python3 - "$MNT/lake/g" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b'created ')
os.write(fd, b'and filled\n')
os.close(fd)
EOF
equals "create, write, write, close: one version" 1 nvids lake g
head -c 300000 /dev/urandom >"$WORK/big.bin"
cp "$WORK/big.bin" "$MNT/lake/big.bin"
equals "cp of 300 KB: one version" 1 nvids lake big.bin
check "which reads back bit-exact from versions/" \
  cmp "$WORK/big.bin" "$(vfile lake big.bin "$(attr user.s3.version_id "$MNT/lake/big.bin")")"

echo "== rm: a delete marker becomes the latest version"
vf=$(attr user.s3.version_id "$MNT/lake/f")
check "rm f" rm "$MNT/lake/f"
check "f is gone from the bucket" bash -c "! ls -A '$MNT/lake' | grep -qx f"
expect_fail "cat of the deleted f" "No such file or directory" cat "$MNT/lake/f"
equals "versions/ now lists 4 (3 versions and a marker)" 4 nvids lake f
dm=$(comm -13 <(printf '%s\n' "$v1" "$v2" "$vf" | LC_ALL=C sort) <(vids lake f))
check "the marker has a valid id of its own ($dm)" valid_id "$dm"
equals "marker: delete_marker true" true attr user.s3.delete_marker "$(vfile lake f "$dm")"
equals "marker: is_latest true" true attr user.s3.is_latest "$(vfile lake f "$dm")"
equals "marker: version_id" "$dm" attr user.s3.version_id "$(vfile lake f "$dm")"
equals "the former current version: is_latest false" false attr user.s3.is_latest "$(vfile lake f "$vf")"
check "marker: no etag and no storage class" bash -c \
  "! getfattr -n user.s3.etag '$(vfile lake f "$dm")' 2>/dev/null && ! getfattr -n user.s3.storage_class '$(vfile lake f "$dm")' 2>/dev/null"
equals "marker: size 0" 0 stat -c %s "$(vfile lake f "$dm")"
expect_fail "cat of a delete marker" "No such file or directory" cat "$(vfile lake f "$dm")"
expect_fail "cp of a delete marker" "No such file or directory" cp "$(vfile lake f "$dm")" "$WORK/dm"
equals "the deleted content is still there" "three in four writes" cat "$(vfile lake f "$vf")"

echo "== inventory.csv: one row per version and marker, newest first"
equals "the header line" \
  "Bucket,Key,VersionId,IsLatest,IsDeleteMarker,Size,LastModifiedDate,ETag,StorageClass,IntelligentTieringAccessTier,EncryptionStatus,SSEKMSKeyId,ObjectRestoreStatus" \
  bash -c "head -1 '$MNT/.s3/lake/inventory.csv' | tr -d '\\r'"
equals "f's rows, newest first: marker, then the last PUT, then the first two" \
  "$dm $vf $v2 $v1" bash -c "invq lake f VersionId | paste -sd' '"
equals "IsLatest per row" "true false false false" bash -c "invq lake f IsLatest | paste -sd' '"
equals "IsDeleteMarker per row" "true false false false" bash -c "invq lake f IsDeleteMarker | paste -sd' '"
equals "the marker row has empty Size, ETag, StorageClass and EncryptionStatus" "|||" bash -c \
  "paste -d'|' <(invq lake f Size) <(invq lake f ETag) <(invq lake f StorageClass) <(invq lake f EncryptionStatus) | head -1"
equals "the version rows: Size" "21 4 4" bash -c "invq lake f Size | tail -3 | paste -sd' '"
equals "the version rows: ETag of the first" "$(echo one | md5)" bash -c "invq lake f ETag | tail -1"
equals "the version rows: LastModifiedDate of the first" 2026-01-01T00:00:00.000Z \
  bash -c "invq lake f LastModifiedDate | tail -1"
check "rows are in key order" bash -c "python3 - '$MNT/.s3/lake/inventory.csv' <<'EOF'
import csv, sys
keys = [r['Key'] for r in csv.DictReader(open(sys.argv[1], newline=''))]
sys.exit(keys != sorted(keys, key=lambda k: k.encode()))
EOF"
equals "one row per file in versions/" "$(find "$(vdir lake)" -type f | wc -l)" \
  bash -c "tail -n +2 '$MNT/.s3/lake/inventory.csv' | wc -l"

echo "== deleting one version: rm versions/<key>@<id>"
# The kernel looks the name up before unlink and answers ENOENT itself when
# there is no such version file: errno only, no log line.
expect_fail "rm of an unknown version id" "No such file or directory" \
  rm "$(vfile lake f "$(printf 'x%.0s' {1..32})")"
expect_fail "rm of a version of a missing key" "No such file or directory" rm "$(vfile lake nokey "$v1")"
expect_fail "rm of a name without '@'" "No such file or directory" rm "$(vdir lake)/f"
check "rm the delete marker (undelete)" rm "$(vfile lake f "$dm")"
equals "f is back with the newest content" "three in four writes" cat "$MNT/lake/f"
equals "and the newest version id" "$vf" attr user.s3.version_id "$MNT/lake/f"
equals "the marker is gone for good" 3 nvids lake f
check "rm the current version" rm "$(vfile lake f "$vf")"
equals "the next newest is current again" two cat "$MNT/lake/f"
equals "with its own version id" "$v2" attr user.s3.version_id "$MNT/lake/f"
equals "and is_latest" true attr user.s3.is_latest "$(vfile lake f "$v2")"
check "rm a noncurrent version" rm "$(vfile lake f "$v1")"
equals "only the current one is left" "$v2" vids lake f
equals "the object is untouched" two cat "$MNT/lake/f"
expect_fail "rm of the same version again" "No such file or directory" rm "$(vfile lake f "$v1")"
# A marker between two versions: removing the version above it leaves the key deleted.
rm "$MNT/lake/f"
echo five >"$MNT/lake/f"
v5=$(attr user.s3.version_id "$MNT/lake/f")
equals "PUT over a delete marker: version, marker, version" 3 nvids lake f
check "rm the current version whose next newest is a delete marker" rm "$(vfile lake f "$v5")"
check "f stays deleted" test ! -e "$MNT/lake/f"
equals "inventory: f's first row is the latest delete marker" "true,true" \
  bash -c "paste -d, <(invq lake f IsLatest) <(invq lake f IsDeleteMarker) | head -1"

echo "== versions/ is read-only"
ro=$(vfile lake f "$v2")
expect_fail "echo into a version file" "$DENIED" bash -c "echo x >'$ro'"
expect_fail "cp over a version file" "$DENIED" cp "$WORK/lower" "$ro"
expect_fail "truncate a version file" "$DENIED" truncate -s 0 "$ro"
equals "the version is unchanged" two cat "$ro"
expect_fail "create a file in versions/" "$DENIED" bash -c "echo x >'$(vdir lake)/new@abc'"
expect_fail "cp a file into versions/" "$DENIED" cp "$WORK/lower" "$(vdir lake)/lower"
expect_fail "touch a new file in versions/" "$DENIED" touch "$(vdir lake)/touched"
expect_fail "mkdir in versions/" "$DENIED" mkdir "$(vdir lake)/dir"
expect_fail "ln -s in versions/" "$DENIED" ln -s f "$(vdir lake)/link"
expect_fail "mv a version file" "$DENIED" mv "$ro" "$(vdir lake)/f@renamed"
expect_fail "chmod a version file" "$DENIED" chmod 777 "$ro"
expect_fail "setfattr storage_class on a version file" "$DENIED\\|Operation not supported" \
  setfattr -n user.s3.storage_class -v GLACIER "$ro"
check "nothing new appeared in versions/" bash -c \
  "! ls -A '$(vdir lake)' | grep -qx -e 'new@abc' -e lower -e touched -e dir -e link -e 'f@renamed'"
check "and nothing new in the bucket" bash -c "! ls -A '$MNT/lake' | grep -qx -e lower -e touched"

echo "== Suspended: null versions replace each other"
mkdir "$MNT/susp"
echo Enabled >"$MNT/.s3/susp/versioning"
echo real >"$MNT/susp/k"
vr=$(attr user.s3.version_id "$MNT/susp/k")
echo Suspended >"$MNT/.s3/susp/versioning"
echo null-1 >"$MNT/susp/k"
equals "a PUT under Suspended has version id null" null attr user.s3.version_id "$MNT/susp/k"
equals "versions: the null one and the earlier real one" "$(printf '%s\n' "$vr" null | LC_ALL=C sort)" vids susp k
echo null-two >"$MNT/susp/k"
equals "another PUT replaces the null version: still two" 2 nvids susp k
equals "the null version holds the newest content" null-two cat "$(vfile susp k null)"
check "the first null version's content is gone for good" bash -c \
  "! grep -rqx null-1 '$(vdir susp)'"
equals "the real version stays" real cat "$(vfile susp k "$vr")"
check "rm under Suspended" rm "$MNT/susp/k"
equals "a null delete marker replaces the null version" 2 nvids susp k
equals "k@null is now a delete marker" true attr user.s3.delete_marker "$(vfile susp k null)"
equals "and the latest" true attr user.s3.is_latest "$(vfile susp k null)"
equals "the real version still stays" real cat "$(vfile susp k "$vr")"
equals "inventory: marker row with empty VersionId first" ",true" \
  bash -c "paste -d, <(invq susp k VersionId) <(invq susp k IsDeleteMarker) | head -1"
echo Enabled >"$MNT/.s3/susp/versioning"
echo again >"$MNT/susp/k"
va=$(attr user.s3.version_id "$MNT/susp/k")
check "re-enabled: a real id again ($va)" valid_id "$va"
equals "the null marker is kept as noncurrent" "false" attr user.s3.is_latest "$(vfile susp k null)"
equals "three versions: again, the null marker, real" 3 nvids susp k

echo "== 300 versions of one key: the oldest, deep in the list, reads and deletes"
mkdir "$MNT/deepv"
echo Enabled >"$MNT/.s3/deepv/versioning"
echo "first" >"$MNT/deepv/key"
oldest=$(attr user.s3.version_id "$MNT/deepv/key")
for i in $(seq 1 299); do echo "gen $i" >"$MNT/deepv/key"; done
equals "300 versions listed" 300 nvids deepv key
equals "the oldest reads back" first cat "$(vdir deepv)/key@$oldest"
check "the oldest can be deleted" rm "$(vdir deepv)/key@$oldest"
equals "299 versions are left" 299 nvids deepv key
equals "the current version is untouched" "gen 299" cat "$MNT/deepv/key"

echo "== 20 overwrites: 21 versions, each with its own content"
mkdir "$MNT/many"
echo Enabled >"$MNT/.s3/many/versioning"
for i in $(seq 0 20); do echo "generation $i" >"$MNT/many/key"; done
equals "21 versions listed" 21 nvids many key
equals "21 distinct ids" 21 bash -c "vids many key | sort -u | wc -l"
check "every id is valid" bash -c "! vids many key | grep -Evq '^[A-Za-z0-9._]{32}\$'"
equals "each version holds one generation, all 21 present" "$(seq 0 20 | sed 's/^/generation /')" \
  bash -c "for v in \$(vids many key); do cat \"$(vdir many)/key@\$v\"; done | sort -t' ' -k2n"
equals "inventory: 21 rows for key, exactly one latest" "21 1" \
  bash -c "echo \$(invq many key IsLatest | wc -l) \$(invq many key IsLatest | grep -c true)"
equals "the latest is the last PUT" "generation 20" \
  cat "$(vfile many key "$(attr user.s3.version_id "$MNT/many/key")")"

echo "== keys in directories, and a key with '@'"
mkdir -p "$MNT/many/a/b"
echo c1 >"$MNT/many/a/b/c.txt"
echo c2 >"$MNT/many/a/b/c.txt"
c2=$(attr user.s3.version_id "$MNT/many/a/b/c.txt")
check "versions/ mirrors the prefixes as directories" test -d "$(vdir many)/a/b"
equals "versions/a/b lists c.txt's two versions" 2 nvids many a/b/c.txt
equals "cat of versions/a/b/c.txt@<current>" c2 cat "$(vfile many a/b/c.txt "$c2")"
check "rm the file and its directories" bash -c \
  "rm '$MNT/many/a/b/c.txt' && rmdir '$MNT/many/a/b' '$MNT/many/a'"
check "a/ is gone from the bucket" test ! -e "$MNT/many/a"
equals "versions/a/b still has both versions and the marker" 3 nvids many a/b/c.txt
cdm=$(invq many a/b/c.txt VersionId | head -1)
check "rm the marker (undelete)" rm "$(vfile many a/b/c.txt "$cdm")"
equals "a/b/c.txt is back, with its directories" c2 cat "$MNT/many/a/b/c.txt"
check "ls of the bucket shows a again" bash -c "ls '$MNT/many' | grep -qx a"
echo at1 >"$MNT/many/x@y.txt"
echo at2 >"$MNT/many/x@y.txt"
echo plain >"$MNT/many/x"
at2=$(attr user.s3.version_id "$MNT/many/x@y.txt")
equals "key 'x@y.txt': two versions" 2 nvids many x@y.txt
equals "key 'x' has only its own version" 1 nvids many x
equals "cat of x@y.txt@<id>" at2 cat "$(vfile many x@y.txt "$at2")"
equals "its version_id xattr" "$at2" attr user.s3.version_id "$(vfile many x@y.txt "$at2")"
check "rm x@y.txt@<current>" rm "$(vfile many x@y.txt "$at2")"
equals "x@y.txt reverts to its first version" at1 cat "$MNT/many/x@y.txt"
equals "x is untouched" plain cat "$MNT/many/x"

echo "== mv inside a versioned bucket: a new version of b, a delete marker on a"
echo A >"$MNT/many/mv-a"
echo B >"$MNT/many/mv-b"
mva=$(attr user.s3.version_id "$MNT/many/mv-a")
mvb=$(attr user.s3.version_id "$MNT/many/mv-b")
check "mv mv-a mv-b" mv "$MNT/many/mv-a" "$MNT/many/mv-b"
equals "mv-b holds A" A cat "$MNT/many/mv-b"
nb=$(attr user.s3.version_id "$MNT/many/mv-b")
check "mv-b has a new version id ($nb)" bash -c "[[ '$nb' =~ ^[A-Za-z0-9._]{32}\$ && '$nb' != '$mvb' && '$nb' != '$mva' ]]"
equals "the old mv-b stays as noncurrent" B cat "$(vfile many mv-b "$mvb")"
equals "mv-b: two versions" 2 nvids many mv-b
check "mv-a is gone" test ! -e "$MNT/many/mv-a"
equals "mv-a's latest is a delete marker" "true,true" \
  bash -c "paste -d, <(invq many mv-a IsLatest) <(invq many mv-a IsDeleteMarker) | head -1"
# shoal's rename moves the current version to the new key (S3 has no
# rename; a copy there would leave it under the old key too).
equals "mv-a's current version moved: only its delete marker stays" 1 nvids many mv-a
expect_fail "so A's old id is not under mv-a" "No such file" cat "$(vdir many)/mv-a@$mva"

echo "== concurrency: 4 writers, 25 PUTs each, to one key"
echo base >"$MNT/many/hot"
for w in 1 2 3 4; do
  (for i in $(seq -w 1 25); do echo "w$w-$i" >"$MNT/many/hot"; done) &
done
wait
# The writers share one file, as POSIX says: an O_TRUNC open empties what
# another writer has not closed yet, and a close commits the file as it is
# then (so a PUT may be empty, and one close may commit another's line).
# What must hold: every PUT is a version with its own id, none mixes lines.
n=$(nvids many hot)
check "at least 25 and at most 101 versions ($n)" test "$n" -ge 25 -a "$n" -le 101
equals "with distinct ids" "$n" bash -c "vids many hot | sort -u | wc -l"
equals "inventory agrees" "$n" bash -c "invq many hot VersionId | sort -u | wc -l"
(echo base; for w in 1 2 3 4; do seq -w 1 25 | sed "s/^/w$w-/"; done) | sort >"$WORK/hot.want"
for v in $(vids many hot); do
  c=$(cat "$(vfile many hot "$v")")
  echo "${c:-<empty>}"
done | sort >"$WORK/hot.got"
equals "every version is empty or one whole line that was written" "" \
  bash -c "comm -13 '$WORK/hot.want' '$WORK/hot.got' | grep -vx '<empty>' | sort | uniq -c | sed 's/^ *//' | paste -sd' '"
check "the current content is one line that was written" grep -qxFf "$WORK/hot.want" "$MNT/many/hot"

echo "== billing.json keeps noncurrent bytes until a version is deleted"
mkdir "$MNT/bill"
echo Enabled >"$MNT/.s3/bill/versioning"
head -c 100000 /dev/urandom >"$WORK/b1"
head -c 100000 /dev/urandom >"$WORK/b2"
cp "$WORK/b1" "$MNT/bill/obj"
bv1=$(attr user.s3.version_id "$MNT/bill/obj")
s0=$(standard_bytes)
cp "$WORK/b2" "$MNT/bill/obj"
s1=$(standard_bytes)
check "an overwrite adds the new bytes and drops none ($s0 -> $s1)" test "$s1" -ge $((s0 + 100000))
rm "$MNT/bill/obj"
s2=$(standard_bytes)
check "rm (a delete marker) drops no bytes ($s1 -> $s2)" test "$s2" -ge "$s1"
check "rm of a noncurrent version" rm "$(vfile bill obj "$bv1")"
s3=$(standard_bytes)
check "drops its bytes ($s2 -> $s3)" test "$s3" -le $((s2 - 100000))
mkdir "$MNT/flat"
cp "$WORK/b1" "$MNT/flat/obj"
s4=$(standard_bytes)
cp "$WORK/b2" "$MNT/flat/obj"
equals "in an unversioned bucket an overwrite replaces the bytes" "$s4" standard_bytes

echo "== versions survive unmount, fsck and remount"
advance +1d
before=$(snapshot)
expect_nc=$(noncurrent_count)
expect_nc_all=$(cat "$MNT"/.s3/*/inventory.csv | awk -F, '$4 == "false"' | wc -l)
check "unmount" umount_store
fsck_out=$("$SHOAL" fsck "$STORE" 2>&1)
check "fsck: 0 damaged" grep -q " 0 damaged" <<<"$fsck_out"
# Noncurrent delete markers have no content: fsck may count them or not,
# but every noncurrent version with content must be counted.
got_nc=$(grep -o '[0-9]\+ noncurrent versions' <<<"$fsck_out" | cut -d' ' -f1)
check "fsck counts the $expect_nc noncurrent versions (got: ${got_nc:-none} in: $fsck_out)" \
  test "${got_nc:-x}" = "$expect_nc" -o "${got_nc:-x}" = "$expect_nc_all"
check "remount (the clock resumes where it was)" mount_store "$STORE" "$MNT" --clock-rate=0
equals "the clock was kept" 2026-01-03T00:00:00Z cat "$CLOCK"
after=$(snapshot)
check "every version file is back: $(wc -l <<<"$before") files, sizes, flags, contents" \
  test "$before" == "$after"
equals "the versioning states survived" "Enabled Enabled Enabled" \
  bash -c "echo \$(cat '$MNT/.s3/lake/versioning' '$MNT/.s3/susp/versioning' '$MNT/.s3/many/versioning')"
n=$(nvids many key)
echo remounted >"$MNT/many/key"
equals "PUTs keep adding versions after a remount" $((n + 1)) nvids many key

echo "== versions survive kill -9 of the daemon"
mkdir "$MNT/crash"
echo Enabled >"$MNT/.s3/crash/versioning"
for i in 1 2 3 4 5; do echo "crash $i" >"$MNT/crash/k"; done
rm "$MNT/crash/k"
crash_before=$(invq crash k VersionId)
others=$(snapshot)
pid=$(daemon_pid)
kill -9 "$pid"
for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.05; done
check "daemon $pid is dead after kill -9" dead "$pid"
fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
check "fsck of the store the crash left: 0 damaged" bash -c "'$SHOAL' fsck '$STORE' | grep -q ' 0 damaged'"
check "remount after the crash" mount_store "$STORE" "$MNT" --clock-rate=0
equals "all 5 versions and the marker are back, in order" "$crash_before" invq crash k VersionId
equals "each with its content" "$(printf 'crash %d\n' 5 4 3 2 1)" bash -c \
  "for v in \$(invq crash k VersionId | tail -5); do cat \"$(vdir crash)/k@\$v\"; done"
check "k is still deleted" test ! -e "$MNT/crash/k"
equals "the other buckets' versions too" "$(grep -v '^./crash/' <<<"$others")" \
  bash -c "snapshot | grep -v '^./crash/'"

echo "== rmdir of a bucket that holds only versions"
mkdir "$MNT/gone"
echo Enabled >"$MNT/.s3/gone/versioning"
echo 1 >"$MNT/gone/p" && echo 2 >"$MNT/gone/p" && echo q >"$MNT/gone/q"
rm "$MNT/gone/p" "$MNT/gone/q"
equals "the bucket lists nothing" "" ls -A "$MNT/gone"
reject "rmdir with versions and markers left" "Directory not empty" BucketNotEmpty /gone rmdir "$MNT/gone"
check "the bucket is still there" test -d "$MNT/gone"
for v in $(invq gone p VersionId); do rm "$(vfile gone p "$v")"; done
for v in $(invq gone q VersionId | tail -n +2); do rm "$(vfile gone q "$v")"; done
reject "rmdir with only a delete marker left" "Directory not empty" BucketNotEmpty /gone rmdir "$MNT/gone"
rm "$(vfile gone q "$(invq gone q VersionId)")"
equals "no version is left" "" bash -c "find '$(vdir gone)' -type f"
check "now rmdir succeeds" rmdir "$MNT/gone"
check "and .s3/gone went with it" test ! -e "$MNT/.s3/gone"
# The same with a key below directories, its versions removed newest first
# as `aws s3api list-object-versions` lists them: removing the marker first
# brings the key and its directories back, removing the last version takes
# the key away again, and the bucket is then empty.
mkdir "$MNT/deep"
echo Enabled >"$MNT/.s3/deep/versioning"
mkdir -p "$MNT/deep/d/e"
echo 1 >"$MNT/deep/d/e/f" && echo 2 >"$MNT/deep/d/e/f"
rm "$MNT/deep/d/e/f" && rmdir "$MNT/deep/d/e" "$MNT/deep/d"
reject "rmdir of deep with versions left" "Directory not empty" BucketNotEmpty /deep rmdir "$MNT/deep"
for v in $(invq deep d/e/f VersionId); do rm "$(vfile deep d/e/f "$v")"; done
equals "no version is left in deep" "" bash -c "find '$(vdir deep)' -type f; tail -n +2 '$MNT/.s3/deep/inventory.csv'"
equals "the bucket lists nothing" "" ls -A "$MNT/deep"
check "rmdir of deep succeeds" rmdir "$MNT/deep"

check "unmount" umount_store
check "fsck is clean at the end" bash -c "'$SHOAL' fsck '$STORE' | grep -q ' 0 damaged'"

finish
