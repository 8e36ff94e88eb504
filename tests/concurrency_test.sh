#!/usr/bin/env bash
# concurrency_test: several processes writing, renaming, reading and deleting
# in the same directories at once, then dbench's file-server load. Each writer owns its file names and
# checks its own content after every step, so any cross-talk or torn commit
# shows; afterwards the tree is compared across a remount and fsck is clean.
# Runs against SHOAL_BIN, and again against SHOAL_TSAN_BIN (the daemon built
# with ThreadSanitizer) when that is set, failing on any race report.
source "$(dirname "$0")/lib.sh"

WORKERS=6
ROUNDS=150
DBENCH_SECONDS=8

# worker DIR ID: create, overwrite, append, rename across two directories,
# read back and verify, unlink; prints one line per mismatch.
worker() {
  local dir=$1 id=$2 i name other want got
  for ((i = 0; i < ROUNDS; i++)); do
    name=$dir/a/w$id-$((i % 7))
    other=$dir/b/w$id-$((i % 7))
    want="worker $id round $i $(head -c $((RANDOM % 3000)) /dev/zero | tr '\0' x)"
    printf '%s' "$want" >"$name.tmp" || echo "write failed: $name.tmp"
    mv "$name.tmp" "$name" || echo "rename failed: $name"
    printf '+' >>"$name" || echo "append failed: $name"
    got=$(cat "$name") || echo "read failed: $name"
    [[ $got == "$want+" ]] || echo "content differs: $name: want ${#want}+1 bytes '${want:0:20}', got ${#got} '${got:0:20}'"
    if ((i % 3 == 0)); then
      mv "$name" "$other" || echo "cross-directory rename failed: $name"
      [[ $(cat "$other") == "$want+" ]] || echo "content differs after move: $other"
    fi
    if ((i % 5 == 0)); then
      rm -f "$other" || echo "unlink failed: $other"
    fi
    # (ls -l would race with the other workers' renames, as on any file
    # system; the names alone must always list.)
    ls -f "$dir/a" "$dir/b" >/dev/null || echo "listing failed"
  done
}

# run_load BIN LABEL: one mount, WORKERS workers, plus a reader that lists
# and stats everything while they run.
run_load() {
  local bin=$1 label=$2
  local store=$WORK/store-$label mnt=$WORK/mnt-$label out=$WORK/out-$label
  mkdir -p "$mnt"
  if ! SHOAL_BIN=$bin "$bin" mount "$store" "$mnt"; then
    fail "$label: mount"
    return
  fi
  mkdir -p "$mnt/conc/a" "$mnt/conc/b"
  local pids=() w
  for ((w = 0; w < WORKERS; w++)); do
    worker "$mnt/conc" "$w" >"$out.$w" 2>&1 &
    pids+=($!)
  done
  (for ((i = 0; i < 100; i++)); do find "$mnt/conc" -type f -exec stat -c %s {} + >/dev/null 2>&1; done) &
  pids+=($!)
  wait "${pids[@]}"
  # dbench (Debian): a file-server load of 4 clients (create, write,
  # rename, unlink, lock, find) after our own; any failed call is an ERROR.
  mkdir -p "$mnt/conc/dbench"
  if dbench -D "$mnt/conc/dbench" -t "$DBENCH_SECONDS" 4 >"$out.dbench" 2>&1 &&
    ! grep -qi "error" "$out.dbench"; then
    pass "$label: dbench, 4 clients, ${DBENCH_SECONDS}s: no errors ($(grep -o 'Throughput [0-9.]* MB/sec' "$out.dbench"))"
  else
    fail "$label: dbench reported errors"
    grep -i -m 10 "error" "$out.dbench" | sed 's/^/       /'
    tail -5 "$out.dbench" | sed 's/^/       /'
  fi
  rm -rf "$mnt/conc/dbench"
  local problems
  problems=$(cat "$out".[0-9]* | head -20)
  check "$label: $WORKERS workers x $ROUNDS rounds saw only their own content" test -z "$problems"
  [[ -z $problems ]] || echo "$problems" | sed 's/^/       /'

  find "$mnt/conc" -type f -printf '%P %s\n' | sort >"$out.before"
  (cd "$mnt/conc" && find . -type f -exec md5sum {} + | sort) >"$out.sums"
  check "$label: unmount" "$bin" umount "$mnt"
  check "$label: fsck is clean" "$bin" fsck "$store"
  check "$label: remount" "$bin" mount "$store" "$mnt"
  find "$mnt/conc" -type f -printf '%P %s\n' | sort >"$out.after"
  check "$label: the same files and sizes after remount" diff "$out.before" "$out.after"
  check "$label: the same contents after remount" bash -c "cd '$mnt/conc' && md5sum --quiet -c '$out.sums'"
  check "$label: unmount again" "$bin" umount "$mnt"
  no_race_reports "$label" "$store"
}

# Readers racing in-place rewrites (same inode, O_TRUNC) of a small (inline)
# and a large (blob file) object never get an error, although the version
# their open saw may be gone by the time they open its content. (A reader
# may see a rewrite half done, as on any POSIX file system.)
rewrite_race() {
  local mnt=$WORK/mnt-race store=$WORK/store-race f size v got pids=()
  mkdir -p "$mnt"
  check "race: mount" mount_store "$store" "$mnt"
  mkdir "$mnt/race"
  for size in 3000 300000; do
    f=$mnt/race/obj$size
    for v in a b c d; do head -c "$size" /dev/zero | tr '\0' "$v" >"$WORK/v$v$size"; done
    cp "$WORK/va$size" "$f"
    (for ((i = 0; i < 200; i++)); do
      for v in a b c d; do cat "$WORK/v$v$size" >"$f"; done
    done) &
    pids+=($!)
    (for ((i = 0; i < 400; i++)); do
      got=$(cat "$f" 2>&1 >/dev/null) || echo "read error: $got"
    done) >"$WORK/race.$size" &
    pids+=($!)
  done
  wait "${pids[@]}"
  check "race: readers racing rewrites got no errors" \
    bash -c "! grep -m 5 . '$WORK'/race.*"
  grep -h -m 5 . "$WORK"/race.* | sed 's/^/       /'
  check "race: unmount" umount_store "$mnt"
}
rewrite_race

run_load "$SHOAL" release
if [[ -n ${SHOAL_TSAN_BIN:-} ]]; then
  export TSAN_OPTIONS="second_deadlock_stack=1"
  run_load "$SHOAL_TSAN_BIN" tsan
fi
finish
