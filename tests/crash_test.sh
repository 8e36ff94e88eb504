#!/usr/bin/env bash
# crash_test: kill -9 the daemon at random moments (seeded; the seed is
# printed, rerun with SHOAL_CRASH_SEED=N) in the middle of a large copy, a
# copy's final commit, a rename-heavy loop, an overwrite/append loop and all
# of them at once. After each kill: clean up the dead mount, fsck the store
# as the crash left it, remount, and check that every file closed before the
# kill is intact, that files being written are absent, empty (created only)
# or a complete earlier version (never garbage), that renames were atomic,
# and that fsck is clean after unmount.
source "$(dirname "$0")/lib.sh"

SEED=${SHOAL_CRASH_SEED:-$(($(date +%s%N) / 1000 % 1000000))}
RANDOM=$SEED
echo "crash_test seed: $SEED (rerun with SHOAL_CRASH_SEED=$SEED)"

dead() { ! alive "$1"; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }
rand_ms() { echo $(($1 + RANDOM % ($2 - $1 + 1))); }  # rand_ms MIN MAX
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

SRC=$WORK/src
mkdir -p "$SRC"
BIG=$SRC/big
head -c 200M /dev/urandom >"$BIG"
BIG_SHA=$(sha "$BIG")
for v in 0 1 2 3 4; do  # versions for the overwrite loop, of different sizes
  head -c $(((v + 1) * 300000 + v)) /dev/urandom >"$SRC/version$v"
done
declare -A VERSION_SHA
for v in 0 1 2 3 4; do VERSION_SHA[$(sha "$SRC/version$v")]=$v; done

declare -A EXPECT  # path in the mount -> sha256 of a file closed before a kill

# write_closed_files ROUND: several files written by different tools and
# closed (some fsync'ed), remembered in EXPECT.
write_closed_files() {
  local r=$1 d=$MNT/data/round$1
  mkdir -p "$d/sub"
  head -c $((1000000 + RANDOM)) /dev/urandom >"$SRC/r$r-cp"
  cp "$SRC/r$r-cp" "$d/cp.bin" && EXPECT[data/round$r/cp.bin]=$(sha "$SRC/r$r-cp")
  head -c $((2000000 + RANDOM)) /dev/urandom >"$SRC/r$r-dd"
  dd if="$SRC/r$r-dd" of="$d/sub/dd.bin" bs=64k conv=fsync status=none &&
    EXPECT[data/round$r/sub/dd.bin]=$(sha "$SRC/r$r-dd")
  seq 1 $((50000 + RANDOM)) >"$SRC/r$r-seq"
  dd if="$SRC/r$r-seq" of="$d/seq.txt" bs=1M conv=fsync status=none &&
    EXPECT[data/round$r/seq.txt]=$(sha "$SRC/r$r-seq")
  echo "round $r, seed $SEED" >"$d/small.txt" && EXPECT[data/round$r/small.txt]=$(sha "$d/small.txt")
  : >"$d/empty" && EXPECT[data/round$r/empty]=$(sha /dev/null)
  python3 - "$SRC/r$r-seq" "$d/python.txt" <<'EOF' && EXPECT[data/round$r/python.txt]=$(sha "$SRC/r$r-seq")
import os, sys
data = open(sys.argv[1], 'rb').read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(0, len(data), 100000):
    os.write(fd, data[i:i + 100000])
os.fsync(fd)
os.close(fd)
EOF
}

# --- workloads, run in the background until the daemon dies ---------------

# written PID: bytes the process has written so far (stat of the file would
# wait for its commit).
written() { awk '$1 == "wchar:" {print $2}' "/proc/$1/io" 2>/dev/null || echo 0; }
# wait_written PID BYTES: until PID has written BYTES or has ended.
wait_written() {
  local i n
  for ((i = 0; i < 4000; i++)); do
    n=$(written "$1")
    [[ -n $n ]] && ((n >= $2)) && return
    [[ -d /proc/$1 ]] || return
    sleep 0.005
  done
}

# Renames files between generations and whole directories, and replaces a
# file by renaming a finished temporary over it (the atomic-save pattern).
RENAME_FILES=20
rename_setup() {
  local i
  mkdir -p "$MNT/data/rn/d0"
  for ((i = 0; i < RENAME_FILES; i++)); do
    printf 'rename file %d\n%0*d\n' "$i" $((i * 97 + 10)) 0 >"$MNT/data/rn/d0/f$i.0"
  done
  python3 -c 'import sys; sys.stdout.write(("save version 0\n") * 5000)' >"$MNT/data/rn/save"
}
rename_loop() {
  timeout 60 python3 - "$MNT/data/rn" "$RENAME_FILES" <<'EOF' 2>/dev/null
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
g = 0
while True:
    d = os.path.join(root, 'd%d' % g)
    for i in range(n):
        os.rename(os.path.join(d, 'f%d.%d' % (i, g)), os.path.join(d, 'f%d.%d' % (i, g + 1)))
    tmp = os.path.join(root, 'save.tmp')
    with open(tmp, 'w') as f:
        f.write('save version %d\n' % (g + 1) * 5000)
        if g % 2:
            f.flush()
            os.fsync(f.fileno())
    os.rename(tmp, os.path.join(root, 'save'))
    os.rename(d, os.path.join(root, 'd%d' % (g + 1)))
    g += 1
EOF
}
rename_verify() {  # after a crash: every file exists once, whole and unchanged
  python3 - "$MNT/data/rn" "$RENAME_FILES" <<'EOF'
import os, re, sys
root, n = sys.argv[1], int(sys.argv[2])
bad = []
dirs = [e for e in os.listdir(root) if os.path.isdir(os.path.join(root, e))]
if len(dirs) != 1:
    bad.append('expected one generation directory, found %s' % dirs)
seen = {}
for d in dirs:
    for name in os.listdir(os.path.join(root, d)):
        m = re.fullmatch(r'f(\d+)\.(\d+)', name)
        if not m:
            bad.append('unexpected %s/%s' % (d, name)); continue
        i = int(m.group(1))
        seen.setdefault(i, []).append(name)
        want = ('rename file %d\n%0*d\n' % (i, i * 97 + 10, 0)).encode()
        if open(os.path.join(root, d, name), 'rb').read() != want:
            bad.append('%s/%s has wrong content' % (d, name))
for i in range(n):
    if len(seen.get(i, [])) != 1:
        bad.append('file %d appears as %s' % (i, seen.get(i, [])))
for name in ('save', 'save.tmp'):
    p = os.path.join(root, name)
    if not os.path.exists(p):
        if name == 'save':
            bad.append('save is missing')
        continue
    data = open(p, 'rb').read()
    lines = data.split(b'\n')
    ok = re.fullmatch(rb'save version \d+', lines[0]) and data == (lines[0] + b'\n') * 5000
    if name == 'save.tmp' and data == b'':
        ok = True  # created, nothing committed yet
    if not ok:
        bad.append('%s is not a complete version (%d bytes, starts %r)' % (name, len(data), data[:30]))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
}

# Overwrites one object with whole versions (cp: open O_TRUNC, write, close)
# and appends numbered 4 KiB records to another.
overwrite_setup() {
  mkdir -p "$MNT/data/ow"
  cp "$SRC/version0" "$MNT/data/ow/target"
  : >"$MNT/data/ow/log"
}
overwrite_loop() {
  local v=1
  while cp "$SRC/version$((v % 5))" "$MNT/data/ow/target" 2>/dev/null &&
    printf '%-4095d\n' "$v" >>"$MNT/data/ow/log" 2>/dev/null; do
    v=$((v + 1))
  done
}
overwrite_verify() {
  local s bad=0
  s=$(sha "$MNT/data/ow/target")
  if [[ -z ${VERSION_SHA[$s]+x} ]]; then
    echo "ow/target is not one of the versions ($(stat -c %s "$MNT/data/ow/target") bytes)"
    bad=1
  fi
  python3 - "$MNT/data/ow/log" <<'EOF' || bad=1
import sys
data = open(sys.argv[1], 'rb').read()
if len(data) % 4096:
    print('ow/log holds %d bytes, not whole records' % len(data)); sys.exit(1)
for k in range(len(data) // 4096):
    if data[k * 4096:(k + 1) * 4096] != ('%-4095d\n' % (k + 1)).encode():
        print('ow/log record %d is wrong: %r' % (k, data[k * 4096:k * 4096 + 20])); sys.exit(1)
EOF
  return $bad
}

# big_verify NAME: the big copy is absent, empty (created only) or complete.
big_verify() {
  local f=$MNT/data/big.$1 size
  if [[ ! -e $f ]]; then
    echo "absent"
    return 0
  fi
  size=$(stat -c %s "$f")
  if ((size == 0)); then
    echo "empty (created, never committed)"
    return 0
  fi
  if [[ $size == "$(stat -c %s "$BIG")" && $(sha "$f") == "$BIG_SHA" ]]; then
    echo "complete"
    return 0
  fi
  echo "GARBAGE: $size bytes, not the source"
  return 1
}

# --- one round -------------------------------------------------------------

# kill_daemon DESCRIPTION: kill -9 the daemon, wait for it, clean up the dead
# mount.
kill_daemon() {
  local pid=$1 i
  kill -9 "$pid"
  for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.05; done
  check "daemon $pid is dead after kill -9" dead "$pid"
}

cleanup_dead_mount() {
  fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
  check "the dead mount is gone" not_mounted "$MNT"
}

verify_closed_files() {
  local p bad=0 n=0
  for p in "${!EXPECT[@]}"; do
    n=$((n + 1))
    if [[ ! -f $MNT/$p ]]; then
      echo "       missing: $p"
      bad=1
    elif [[ $(sha "$MNT/$p") != "${EXPECT[$p]}" ]]; then
      echo "       changed: $p ($(stat -c %s "$MNT/$p") bytes)"
      bad=1
    fi
  done
  if ((bad)); then fail "all $n files closed before the kill are intact"; else
    pass "all $n files closed before the kill are intact"
  fi
}

fsck_clean() {  # fsck_clean WHEN
  local out rc
  out=$("$SHOAL" fsck "$STORE" 2>&1)
  rc=$?
  if ((rc == 0)) && ! grep -q DAMAGED <<<"$out"; then
    pass "fsck $1 exits 0: $(tail -1 <<<"$out")"
  else
    fail "fsck $1 (exit $rc)"
    head -10 <<<"$out" | sed 's/^/       /'
  fi
}

# round N KIND: one kill. KIND: copy-fraction, copy-commit, rename, overwrite, mixed.
round() {
  local r=$1 kind=$2 pid ms frac threshold size i bgpids=()
  echo "== round $r: kill -9 during $kind"
  check "mount" mount_store
  mkdir -p "$MNT/data"
  write_closed_files "$r"
  case $kind in
    rename) rename_setup ;;
    overwrite) overwrite_setup ;;
    mixed) rename_setup; overwrite_setup ;;
  esac
  pid=$(daemon_pid)
  check "found the daemon (pid ${pid:-?})" test -n "$pid"
  [[ -n $pid ]] || return

  case $kind in
    copy-fraction)
      frac=$(rand_ms 5 95)
      threshold=$((200 * 1024 * 1024 * frac / 100))
      echo "   killing when the copy has written $frac% ($threshold bytes)"
      cp "$BIG" "$MNT/data/big.$r" 2>/dev/null & bgpids+=($!)
      wait_written "$!" "$threshold"
      ;;
    copy-commit)
      ms=$(rand_ms 0 700)
      echo "   killing ${ms} ms after the copy has written its last byte (the final commit)"
      cp "$BIG" "$MNT/data/big.$r" 2>/dev/null & bgpids+=($!)
      wait_written "$!" $((200 * 1024 * 1024))
      ms_sleep "$ms"
      ;;
    rename)
      ms=$(rand_ms 200 1500)
      echo "   killing after ${ms} ms of renames"
      rename_loop & bgpids+=($!)
      ms_sleep "$ms"
      ;;
    overwrite)
      ms=$(rand_ms 200 1500)
      echo "   killing after ${ms} ms of overwrites and appends"
      overwrite_loop & bgpids+=($!)
      ms_sleep "$ms"
      ;;
    mixed)
      ms=$(rand_ms 100 1200)
      echo "   killing after ${ms} ms of a copy, renames, overwrites and appends at once"
      cp "$BIG" "$MNT/data/big.$r" 2>/dev/null & bgpids+=($!)
      rename_loop & bgpids+=($!)
      overwrite_loop & bgpids+=($!)
      ms_sleep "$ms"
      ;;
  esac
  kill_daemon "$pid"
  for i in "${bgpids[@]}"; do wait "$i"; done
  cleanup_dead_mount
  fsck_clean "of the store as the crash left it"

  check "remount after the crash" mount_store
  verify_closed_files
  case $kind in
    copy-* | mixed)
      local state
      state=$(big_verify "$r")
      check "the file being copied is absent, empty or complete: $state" big_verify "$r"
      ;;
  esac
  case $kind in
    rename | mixed)
      echo "   renames reached generation $(cd "$MNT/data/rn" && echo d*)"
      check "renames were atomic: every file once, whole" rename_verify
      ;;
  esac
  case $kind in
    overwrite | mixed)
      echo "   overwrites: target is version ${VERSION_SHA[$(sha "$MNT/data/ow/target")]:-?}," \
        "the log holds $(($(stat -c %s "$MNT/data/ow/log") / 4096)) records"
      check "overwritten object is a whole version, the log whole records" overwrite_verify
      ;;
  esac
  # Start the next round from a store without the big file and loops.
  rm -rf "$MNT/data/big.$r" "$MNT/data/rn" "$MNT/data/ow"
  check "unmount" umount_store
  fsck_clean "after the remount and unmount"
  check "the remount removed the blobs of interrupted commits" \
    bash -c "! '$SHOAL' fsck '$STORE' | grep -q unreferenced"
}

kinds=(copy-fraction copy-commit rename overwrite mixed)
for r in 1 2 3 4 5; do
  round "$r" "${kinds[$((r - 1))]}"
done

finish
