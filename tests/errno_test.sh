#!/usr/bin/env bash
# errno_test: every row of the errno table (DESIGN §2.10) that the core can
# produce, through a real mount with ordinary tools. Each rejection must fail
# with the right errno and, where the request reaches the daemon, append a
# line "<time> <path> <AwsCode>: <message>" to MNT/.shoal/errors. Stored data
# must be untouched by every rejection.
source "$(dirname "$0")/lib.sh"

# snapshot DIR: type, mode, size, mtime, sha256 and user xattrs of every entry.
snapshot() {
  python3 - "$1" <<'EOF'
import hashlib, os, stat, sys
root = sys.argv[1]
for dirpath, dirs, files in os.walk(root):
    dirs.sort()
    for name in sorted(dirs + files):
        p = os.path.join(dirpath, name)
        st = os.lstat(p)
        line = [os.path.relpath(p, root), oct(st.st_mode), str(st.st_mtime_ns)]
        if stat.S_ISREG(st.st_mode):
            h = hashlib.sha256()
            with open(p, 'rb') as f:
                for block in iter(lambda: f.read(1 << 20), b''):
                    h.update(block)
            line += [str(st.st_size), h.hexdigest()]
            for x in sorted(os.listxattr(p)):
                line.append(x + '=' + os.getxattr(p, x).decode(errors='replace'))
        elif stat.S_ISLNK(st.st_mode):
            line.append(os.readlink(p))
        print(' '.join(line))
EOF
}

BEFORE=$WORK/data.before
untouched() {  # untouched WHEN: bucket "data" is exactly as snapshotted
  local now=$WORK/data.now
  snapshot "$MNT/data" >"$now"
  if cmp -s "$BEFORE" "$now"; then
    pass "stored data untouched after $1"
  else
    fail "stored data changed after $1:"
    diff "$BEFORE" "$now" | head -10 | sed 's/^/       /'
  fi
}

long() { printf "%${2}s" '' | tr ' ' "$1"; }  # long CHAR N

echo "== setup"
check "mount a fresh store" mount_store
check "create bucket data" mkdir "$MNT/data"
check "create bucket work" mkdir "$MNT/work"
mkdir -p "$MNT/data/dir/sub"
echo "hello, shoal" >"$MNT/data/f"
head -c 3000000 /dev/urandom >"$MNT/data/dir/random.bin"
seq 1 200000 >"$MNT/data/dir/sub/numbers.txt"
: >"$MNT/data/empty"
ln -s dir/sub/numbers.txt "$MNT/data/link"
setfattr -n user.s3.meta.color -v blue "$MNT/data/f"
setfattr -n user.note -v kept "$MNT/data/dir/random.bin"
snapshot "$MNT/data" >"$BEFORE"
check "snapshot of the data bucket taken" test -s "$BEFORE"

echo "== ENOENT (NoSuchBucket, NoSuchKey)"
# Lookups of missing names are not logged (shells probe constantly). The
# kernel looks a name up before unlink/rmdir and answers ENOENT itself when
# the lookup misses, so rm of a missing key never reaches the daemon either:
# errno only.
expect_fail "cat of a missing key" "No such file or directory" cat "$MNT/data/missing"
expect_fail "cat in a missing bucket" "No such file or directory" cat "$MNT/nobucket/key"
expect_fail "rm of a missing key" "No such file or directory" rm "$MNT/data/missing"
expect_fail "rmdir of a missing directory" "No such file or directory" rmdir "$MNT/data/nodir"
expect_fail "ls of a missing bucket" "No such file or directory" ls "$MNT/nobucket"
untouched "ENOENT"

echo "== EINVAL (InvalidBucketName, InvalidArgument)"
reject "mkdir bucket with uppercase and '_'" "Invalid argument" InvalidBucketName /Bad_Name \
  mkdir "$MNT/Bad_Name"
reject "mkdir bucket of 2 characters" "Invalid argument" InvalidBucketName /ab mkdir "$MNT/ab"
reject "mkdir bucket named like an IP address" "Invalid argument" InvalidBucketName /192.168.1.1 \
  mkdir "$MNT/192.168.1.1"
name64=$(long x 64)
reject "mkdir bucket of 64 characters" "Invalid argument" InvalidBucketName "/$name64" \
  mkdir "$MNT/$name64"
reject "mkdir bucket starting with '-'" "Invalid argument" InvalidBucketName /-abc mkdir -- "$MNT/-abc"
check "no invalid bucket appeared" bash -c "! ls -a '$MNT' | grep -qx -e Bad_Name -e ab -e 192.168.1.1 -e -abc"
reject "setfattr user.s3.etag (read-only)" "Invalid argument" InvalidArgument /data/f \
  setfattr -n user.s3.etag -v '"0123"' "$MNT/data/f"
reject "setfattr user.s3.storage_class=BOGUS" "Invalid argument" InvalidStorageClass /data/f \
  setfattr -n user.s3.storage_class -v BOGUS "$MNT/data/f"
reject "setfattr user.s3.storage_class=standard (wrong case)" "Invalid argument" InvalidStorageClass \
  /data/f setfattr -n user.s3.storage_class -v standard "$MNT/data/f"
check "storage class still STANDARD" \
  bash -c "[[ \$(getfattr --only-values -n user.s3.storage_class '$MNT/data/f') == STANDARD ]]"
untouched "EINVAL"

echo "== ENOTEMPTY (BucketNotEmpty, DirectoryNotEmpty)"
reject "rmdir of a non-empty bucket" "Directory not empty" BucketNotEmpty /data rmdir "$MNT/data"
reject "rmdir of a non-empty directory" "Directory not empty" DirectoryNotEmpty /data/dir \
  rmdir "$MNT/data/dir"
mkdir -p "$MNT/work/d1" "$MNT/work/d2"
echo x >"$MNT/work/d2/x"
reject "rename a directory onto a non-empty one" "Directory not empty" DirectoryNotEmpty /work/d1 \
  python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$MNT/work/d1" "$MNT/work/d2"
check "both directories still there" test -d "$MNT/work/d1" -a -f "$MNT/work/d2/x"
untouched "ENOTEMPTY"

echo "== EEXIST (BucketAlreadyExists)"
# The kernel looks the name up before mkdir and answers EEXIST itself when it
# exists; the daemon never sees the request, so there is no log line: errno only.
expect_fail "mkdir of an existing bucket" "File exists" mkdir "$MNT/data"
expect_fail "mkdir of .shoal" "File exists" mkdir "$MNT/.shoal"
expect_fail "mkdir of an existing directory" "File exists" mkdir "$MNT/data/dir"
untouched "EEXIST"

echo "== ENAMETOOLONG (KeyTooLongError)"
A=$(long a 250) B=$(long b 250) C=$(long c 250) D=$(long d 250) E=$(long e 250)
deep=$MNT/work/$A/$B/$C/$D   # key "A/B/C/D/" is 4*251 = 1004 bytes
check "a key of 1004 bytes (four 250-byte components) is fine" mkdir -p "$deep"
check "a key of exactly 1024 bytes is fine" touch "$deep/$(long k 20)"
reject "create a key of 1025 bytes" "File name too long" KeyTooLongError \
  "/work/$A/$B/$C/$D/$(long k 21)" touch "$deep/$(long k 21)"
reject "create a key of 1254 bytes" "File name too long" KeyTooLongError "/work/$A/$B/$C/$D/$E" \
  touch "$deep/$E"
reject "mkdir a key of 1255 bytes" "File name too long" KeyTooLongError "/work/$A/$B/$C/$D/$E" \
  mkdir "$deep/$E"
echo short >"$MNT/work/short"
reject "rename to a key of 1254 bytes" "File name too long" KeyTooLongError /work/short \
  mv "$MNT/work/short" "$deep/$E"
check "the renamed-from key is still there" test -f "$MNT/work/short"
check "a 255-byte name is fine" touch "$MNT/work/$(long n 255)"
expect_fail "create a 256-byte name" "File name too long" touch "$MNT/work/$(long n 256)"
expect_fail "mkdir a 300-byte name" "File name too long" mkdir "$MNT/work/$(long n 300)"
expect_fail "cat a missing 300-byte name" "File name too long" cat "$MNT/work/$(long n 300)"
untouched "ENAMETOOLONG"

echo "== EFBIG (EntityTooLarge, 5 TiB)"
reject "truncate -s 6T" "File too large" EntityTooLarge /data/f timeout 30 truncate -s 6T "$MNT/data/f"
# (Not "a write straddling 5 TiB": the kernel may accept its first bytes as a
# short write, leaving a legal 5 TiB object to encode.)
reject "pwrite at offset 5 TiB" "File too large" EntityTooLarge /data/f timeout 30 python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.pwrite(fd, b"x", 5 << 40)
except OSError as e:
    sys.exit(e.strerror)
finally:
    os.close(fd)' "$MNT/data/f"
check "the file kept its size" bash -c "[[ \$(stat -c %s '$MNT/data/f') == 13 ]]"
untouched "EFBIG"

echo "== EPERM (OperationNotPermitted)"
reject "hard link" "Operation not permitted" OperationNotPermitted /data/g ln "$MNT/data/f" "$MNT/data/g"
check "create bucket bkt-one" mkdir "$MNT/bkt-one"
reject "rename a bucket" "Operation not permitted" OperationNotPermitted /bkt-one \
  mv "$MNT/bkt-one" "$MNT/bkt-two"
check "bucket bkt-one still there, bkt-two absent" test -d "$MNT/bkt-one" -a ! -e "$MNT/bkt-two"
untouched "EPERM"

echo "== ENOTSUP (NotImplemented), ENODATA"
# cp -a and rsync probe other namespaces (ACLs, SELinux) and expect ENOTSUP:
# the daemon does not log those probes, so errno only.
expect_fail "setfattr trusted.*" "Operation not supported" setfattr -n trusted.x -v 1 "$MNT/data/f"
expect_fail "setfattr security.*" "Operation not supported" setfattr -n security.x -v 1 "$MNT/data/f"
expect_fail "getfattr security.selinux" "Operation not supported" \
  getfattr -n security.selinux "$MNT/data/f"
expect_fail "getfattr system.posix_acl_access" "Operation not supported" \
  getfattr -n system.posix_acl_access "$MNT/data/f"
# ls -l stops probing a device once it answers ENOTSUP: one probe per kind,
# not one per entry (which would double the requests of a listing).
probes=$(strace -f -e trace=getxattr,lgetxattr ls -l "$MNT/data" 2>&1 >/dev/null | grep -c xattr)
check "ls -l probes xattrs at most 4 times (got $probes)" test "$probes" -le 4
check "user xattrs still work after ENOTSUP" setfattr -n user.after -v 1 "$MNT/work/short"
# An absent attribute is an everyday answer (ls and cp probe for them), so
# it is not logged: errno only.
expect_fail "getfattr of a missing user xattr" "No such attribute" getfattr -n user.nope "$MNT/data/f"
expect_fail "removexattr of a missing user xattr" "No such attribute" setfattr -x user.nope "$MNT/data/f"
untouched "ENOTSUP/ENODATA"

echo "== EACCES (AccessDenied)"
reject "write to read-only .shoal/errors" "Permission denied" AccessDenied /.shoal/errors \
  bash -c "echo x >'$MNT/.shoal/errors'"
reject "truncate read-only .shoal/errors" "Permission denied" AccessDenied /.shoal/errors \
  truncate -s 0 "$MNT/.shoal/errors"
untouched "EACCES"

echo "== data survives a remount"
check "unmount" umount_store
check "remount" mount_store
untouched "remount"

echo "== EIO (DataCorrupted)"
S2=$WORK/store-eio M2=$WORK/mnt-eio
mkdir -p "$M2"
check "mount a second store" mount_store "$S2" "$M2"
mkdir "$M2/bkt"
head -c 1500000 /dev/urandom >"$WORK/good1"
cp "$WORK/good1" "$M2/bkt/good1"
echo "a small good object" >"$M2/bkt/good2"
seq 1 300000 >"$WORK/victim"
new_blob() {  # new_blob FILE-IN-MOUNT SOURCE: copy, print the one new blob file
  local before after
  before=$(find "$S2/blobs" -type f | sort)
  cp "$2" "$1"
  after=$(find "$S2/blobs" -type f | sort)
  comm -13 <(echo "$before") <(echo "$after")
}
blob1=$(new_blob "$M2/bkt/victim" "$WORK/victim")
blob2=$(new_blob "$M2/bkt/dir-victim" "$WORK/victim")
check "each victim has exactly one new blob" test "$(wc -w <<<"$blob1 $blob2")" = 2
check "unmount the second store" umount_store "$M2"
flip_middle_byte "$blob1"
truncate -s $(($(stat -c %s "$blob2") / 2)) "$blob2"
check "remount the tampered store" mount_store "$S2" "$M2"
ERRLOG_MAIN=$ERRLOG ERRLOG=$M2/.shoal/errors
reject "cat of an object with a flipped byte" "Input/output error" DataCorrupted /bkt/victim \
  cat "$M2/bkt/victim"
reject "cat of an object with a truncated blob" "Input/output error" DataCorrupted /bkt/dir-victim \
  cat "$M2/bkt/dir-victim"
check "other objects still read fine (1)" cmp "$WORK/good1" "$M2/bkt/good1"
check "other objects still read fine (2)" grep -qx "a small good object" "$M2/bkt/good2"
check "the daemon still lists the bucket" bash -c "ls '$M2/bkt' | grep -qx victim"
ERRLOG=$ERRLOG_MAIN
check "unmount the tampered store" umount_store "$M2"
fsck_out=$("$SHOAL" fsck "$S2" 2>&1)
fsck_rc=$?
check "fsck exits 1 on damage (got $fsck_rc)" test "$fsck_rc" = 1
check "fsck names /bkt/victim" grep -q "^DAMAGED /bkt/victim:" <<<"$fsck_out"
check "fsck names /bkt/dir-victim" grep -q "^DAMAGED /bkt/dir-victim:" <<<"$fsck_out"
check "fsck names nothing else" test "$(grep -c '^DAMAGED' <<<"$fsck_out")" = 2
[[ $fsck_rc == 1 ]] || echo "$fsck_out" | sed 's/^/       /'

echo "== ENOSPC (store full)"
S3=$WORK/small/store M3=$WORK/mnt-full
mkdir -p "$WORK/small" "$M3"
if ! mount -t tmpfs -o size=20m tmpfs "$WORK/small"; then
  fail "cannot mount a 20 MB tmpfs (needs root)"
else
  check "mount a store on a 20 MB tmpfs" mount_store "$S3" "$M3"
  mkdir "$M3/bkt"
  head -c 3000000 /dev/urandom >"$WORK/pre1"
  cp "$WORK/pre1" "$M3/bkt/pre1"
  dd if=/dev/urandom of="$M3/bkt/pre2" bs=64k count=8 conv=fsync status=none
  sha_pre=$(cd "$M3/bkt" && sha256sum pre1 pre2)
  ERRLOG=$M3/.shoal/errors
  reject "write 40 MB into a 20 MB store" "No space left on device" StoreFull /bkt/big \
    dd if=/dev/urandom of="$M3/bkt/big" bs=1M count=40 status=none
  check "the daemon keeps serving: write a small file" bash -c "echo after >'$M3/bkt/after'"
  check "the daemon keeps serving: read it back" grep -qx after "$M3/bkt/after"
  check "files committed before are intact" \
    bash -c "[[ \"\$(cd '$M3/bkt' && sha256sum pre1 pre2)\" == '$sha_pre' ]]"
  # The failed write's staging copy is freed when the kernel's (asynchronous)
  # release arrives: wait for it, or it frees space after the filler below.
  for ((i = 0; i < 100; i++)); do
    grep -q '"objects_open_for_writing": 0' "$M3/.shoal/stats.json" && break
    sleep 0.1
  done
  # Now fill the file system from outside, so metadata commits fail too.
  # LMDB may still have free pages in its file: create until one fails.
  dd if=/dev/zero of="$WORK/small/filler" bs=1M count=64 status=none 2>/dev/null
  full_err=$WORK/full.err
  fill_until_full() {  # fill_until_full COMMAND PREFIX: run COMMAND PREFIX$i until it fails
    local i
    for ((i = 0; i < 300; i++)); do
      "$1" "$2$i" 2>"$full_err" || { echo "$i"; return; }
    done
    echo none
  }
  mark_log
  n=$(fill_until_full mkdir "$M3/bkt/dir")
  expect_fail "mkdir when the store is full (attempt $n)" "No space left on device" \
    bash -c "cat '$full_err'; false"
  logged "mkdir when the store is full" StoreFull "/bkt/dir$n"
  mark_log
  n=$(fill_until_full touch "$M3/bkt/new")
  expect_fail "create when the store is full (attempt $n)" "No space left on device" \
    bash -c "cat '$full_err'; false"
  logged "create when the store is full" StoreFull "/bkt/new$n"
  reject "overwrite in place when the store is full" "No space left on device" StoreFull /bkt/pre2 \
    dd if=/dev/urandom of="$M3/bkt/pre2" bs=64k count=4 conv=notrunc status=none
  check "the daemon keeps serving when full: list" bash -c "ls '$M3/bkt' | grep -qx pre1"
  check "the daemon keeps serving when full: read" \
    bash -c "[[ \"\$(cd '$M3/bkt' && sha256sum pre1 pre2)\" == '$sha_pre' ]]"
  rm -f "$WORK/small/filler"
  check "after freeing space, mkdir works again" mkdir "$M3/bkt/newdir"
  check "after freeing space, the failed overwrite left the object as it was" \
    bash -c "[[ \"\$(cd '$M3/bkt' && sha256sum pre1 pre2)\" == '$sha_pre' ]]"
  check "after freeing space, writes work again" bash -c "echo again >'$M3/bkt/again'"
  ERRLOG=$ERRLOG_MAIN
  check "unmount the full store" umount_store "$M3"
  check "fsck of the store that was full is clean" "$SHOAL" fsck "$S3"
  check "unmount the tmpfs" umount "$WORK/small"
fi

echo "== the main store after all rejections"
untouched "all rejections"
check "unmount the main store" umount_store
check "fsck of the main store is clean" "$SHOAL" fsck "$STORE"

finish
