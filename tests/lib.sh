# Shared helpers for the mount-level suites: source this file.
# Each suite mounts fresh stores under a private temporary directory, runs
# checks with ordinary tools, and ends with `finish`, which prints
# "<suite>: N passed, M failed" and fails the suite if any check failed.
set -uo pipefail

SHOAL=${SHOAL_BIN:?set SHOAL_BIN to the shoal binary}
SUITE=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/shoal-$SUITE.XXXXXX")
STORE=$WORK/store
MNT=$WORK/mnt
mkdir -p "$MNT"
PASSED=0
FAILED=0

# On exit: stop background jobs, unmount our shoal mounts (shoal umount waits
# for the daemon to exit), then anything else mounted under WORK (a tmpfs),
# then remove WORK.
cleanup() {
  local m p
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  for m in $(awk -v w="$WORK" '$2 ~ "^"w && $3 == "fuse.shoal" {print $2}' /proc/mounts | sort -r); do
    "$SHOAL" umount "$m" >/dev/null 2>&1 || fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  for m in $(awk -v w="$WORK" '$2 ~ "^"w {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# daemon_pid [STORE]: the process holding STORE/LOCK open (the daemon).
daemon_pid() {
  local lock p fd
  lock=$(realpath "${1:-$STORE}")/LOCK
  for p in $(pgrep -f 'shoal mount'); do
    for fd in /proc/"$p"/fd/*; do
      if [[ $(readlink "$fd" 2>/dev/null) == "$lock" ]]; then
        echo "$p"
        return
      fi
    done
  done
}
alive() {  # alive PID: running (a zombie counts as exited)
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $s != Z* ]]
}
mounted() { awk -v m="$1" '$2 == m {found = 1} END {exit !found}' /proc/mounts; }
not_mounted() { ! mounted "$1"; }

pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1
  shift
  local out
  if out=$("$@" 2>&1); then pass "$what"; else fail "$what"; echo "$out" | sed 's/^/       /' | head -20; fi
}

# equals DESCRIPTION EXPECTED COMMAND...: the command's output is EXPECTED.
equals() {
  local what=$1 want=$2 got
  shift 2
  got=$("$@" 2>&1)
  if [[ $got == "$want" ]]; then pass "$what"; else fail "$what (want '$want', got '$got')"; fi
}
# attr NAME FILE: the value of one extended attribute.
attr() { getfattr --absolute-names --only-values -n "$1" "$2"; }

# expect_errno DESCRIPTION ERRNO-NAME COMMAND...: the command must fail and
# its message must carry strerror(ERRNO) (e.g. "No such file or directory").
expect_fail() {
  local what=$1 message=$2
  shift 2
  local out
  if out=$("$@" 2>&1); then
    fail "$what (succeeded, expected: $message)"
  elif grep -qi -- "$message" <<<"$out"; then
    pass "$what"
  else
    fail "$what (expected '$message', got: $out)"
  fi
}

mount_store() {  # mount_store [STORE] [MNT] [options...]
  local store=${1:-$STORE} mnt=${2:-$MNT}
  shift 2 2>/dev/null || shift $#
  "$SHOAL" mount "$store" "$mnt" "$@"
}

umount_store() { "$SHOAL" umount "${1:-$MNT}"; }

# flip_middle_byte FILE: damage FILE in place, as a disk might, by flipping
# bits of its middle byte.
flip_middle_byte() {
  python3 - "$1" <<'EOF'
import os, sys
p = sys.argv[1]
off = os.path.getsize(p) // 2
with open(p, 'r+b') as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x5a]))
EOF
}

# The error log of the mount at MNT, and checks that a rejection reached it:
# mark_log, then logged DESCRIPTION CODE PATH passes if .shoal/errors gained
# a line "<time> PATH CODE: ..." since.
ERRLOG=$MNT/.shoal/errors
MARK=0
mark_log() { MARK=$(wc -l <"$ERRLOG"); }
logged() {
  local what=$1 code=$2 path=$3 new
  new=$(tail -n +$((MARK + 1)) "$ERRLOG")
  if awk -v p="$path" -v c="$code:" '$2 == p && $3 == c {found = 1} END {exit !found}' <<<"$new"; then
    pass "$what: .shoal/errors says $code for $path"
  else
    fail "$what: .shoal/errors lacks '$path $code:'; new lines:"
    sed 's/^/       /' <<<"${new:-<none>}" | cut -c1-300 | head -10
  fi
}

# reject DESCRIPTION MESSAGE CODE PATH COMMAND...: the command fails with
# strerror MESSAGE and the error log names CODE and PATH.
reject() {
  local what=$1 message=$2 code=$3 path=$4
  shift 4
  mark_log
  expect_fail "$what" "$message" "$@"
  logged "$what" "$code" "$path"
}

# no_race_reports LABEL STORE: passes when the daemon of STORE wrote no
# ThreadSanitizer report into STORE/daemon.log (its stderr).
no_race_reports() {
  if grep -q "ThreadSanitizer" "$2/daemon.log" 2>/dev/null; then
    fail "$1: ThreadSanitizer reported races"
    grep -A12 "WARNING: ThreadSanitizer" "$2/daemon.log" | head -40 | sed 's/^/       /'
  else
    pass "$1: no race reports in daemon.log"
  fi
}

finish() {
  echo "$SUITE: $PASSED passed, $FAILED failed"
  ((FAILED == 0))
}
