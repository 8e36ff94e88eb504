#!/usr/bin/env bash
# cli_test: the command line (DESIGN §1). A failing command prints exactly one
# line "shoal: ..." on stderr, exits non-zero and changes nothing; mount,
# umount, fsck and fusermount3 -u behave as documented.
source "$(dirname "$0")/lib.sh"


# refused DESCRIPTION [PATTERN] -- COMMAND...: the command exits non-zero with
# exactly one line on stderr that starts "shoal: " (and matches PATTERN).
refused() {
  local what=$1 pattern=
  shift
  if [[ $1 != -- ]]; then pattern=$1; shift; fi
  shift
  local out=$WORK/refused.out err=$WORK/refused.err rc lines
  "$@" >"$out" 2>"$err"
  rc=$?
  lines=$(wc -l <"$err")
  if ((rc == 0)); then
    fail "$what (succeeded, expected a refusal)"
  elif [[ $lines != 1 ]] || ! head -1 "$err" | grep -q '^shoal: '; then
    fail "$what (exit $rc; expected one line 'shoal: ...' on stderr, got $lines lines:)"
    head -5 "$err" | sed 's/^/       /'
  elif [[ -n $pattern ]] && ! grep -qi -- "$pattern" "$err"; then
    fail "$what (message lacks '$pattern': $(cat "$err"))"
  else
    pass "$what: $(cat "$err")"
  fi
}

# fsck_refused DESCRIPTION PATTERN STORE: fsck refuses to check STORE: exit
# non-zero (not 1, which means damage), one line on stderr starting "shoal"
# and matching PATTERN, nothing on stdout (stdout is the report).
fsck_refused() {
  local what=$1 pattern=$2 out=$WORK/fsck.out err=$WORK/fsck.err rc
  "$SHOAL" fsck "$3" >"$out" 2>"$err"
  rc=$?
  if ((rc == 0 || rc == 1)); then
    fail "$what (exit $rc, expected a refusal)"
    cat "$out" "$err" | head -5 | sed 's/^/       /'
  elif ! grep -qi -- "$pattern" "$out" "$err"; then
    fail "$what (message lacks '$pattern')"
    cat "$out" "$err" | head -5 | sed 's/^/       /'
  elif [[ -s $out || $(wc -l <"$err") != 1 ]] || ! grep -q '^shoal' "$err"; then
    fail "$what (exit $rc; the refusal must be one line on stderr, got stdout: $(head -c 200 "$out") stderr: $(head -c 200 "$err"))"
  else
    pass "$what: $(cat "$err")"
  fi
}

# tree DIR: a listing of everything under DIR with sizes, modes, times and
# checksums, to show that a refused command changed nothing.
tree() {
  (cd "$1" && find . -printf '%p %y %s %m %T@\n' | sort &&
    find . -type f -print0 | sort -z | xargs -0r sha256sum)
}
same_tree() {  # same_tree DESCRIPTION DIR SNAPSHOT-FILE
  if diff <(tree "$2") "$3" >/dev/null; then pass "$1"; else
    fail "$1"
    diff <(tree "$2") "$3" | head -10 | sed 's/^/       /'
  fi
}

mount_count() { awk -v m="$1" '$2 == m' /proc/mounts | wc -l; }
mount_options() { awk -v m="$1" '$2 == m {print $4}' /proc/mounts; }
as_user() { setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }

echo "== --version, --help"
check "--version exits 0" "$SHOAL" --version
check "--version prints 'shoal <version>'" bash -c "'$SHOAL' --version | grep -Eq '^shoal [0-9]+\.[0-9]+'"
check "--help exits 0" "$SHOAL" --help
check "--help shows mount, umount and fsck" \
  bash -c "'$SHOAL' --help | grep -q 'shoal mount' && '$SHOAL' --help | grep -q 'shoal umount' && '$SHOAL' --help | grep -q 'shoal fsck'"

echo "== bad command lines"
S1=$WORK/s1 M1=$WORK/m1
mkdir -p "$M1"
refused "no arguments" -- "$SHOAL"
refused "unknown command" -- "$SHOAL" frobnicate
refused "unknown option --bogus" bogus -- "$SHOAL" mount "$S1" "$M1" --bogus
refused "--clock that is not a time" "not a time" -- "$SHOAL" mount "$S1" "$M1" --clock=yesterday
refused "--clock-rate below 0" "not a clock rate" -- "$SHOAL" mount "$S1" "$M1" --clock-rate=-1
refused "--default-storage-class that S3 lacks" "not a storage class" -- \
  "$SHOAL" mount "$S1" "$M1" --default-storage-class=COLD
refused "a flag given a value" "takes no value" -- "$SHOAL" mount "$S1" "$M1" --allow-other=yes
refused "single-dash option" -- "$SHOAL" mount -x "$S1" "$M1"
refused "mount without a mountpoint" -- "$SHOAL" mount "$S1"
refused "mount with three operands" -- "$SHOAL" mount "$S1" "$M1" "$WORK/extra"
refused "umount without a mountpoint" -- "$SHOAL" umount
refused "fsck without a store" -- "$SHOAL" fsck
check "no store was created by refused commands" test ! -e "$S1"
check "nothing was mounted by refused commands" not_mounted "$M1"

echo "== bad mount points"
refused "mount on a missing mountpoint" "does not exist" -- "$SHOAL" mount "$S1" "$WORK/nowhere"
touch "$WORK/afile"
refused "mount on a file" "not a directory" -- "$SHOAL" mount "$S1" "$WORK/afile"
check "no store was created for a bad mountpoint" test ! -e "$S1"

echo "== mount on an already-mounted mountpoint"
check "mount store s1 on m1" mount_store "$S1" "$M1"
mkdir "$M1/bkt" && echo "from s1" >"$M1/bkt/f"
S2=$WORK/s2
refused "mount store s2 on the busy m1" "m1" -- "$SHOAL" mount "$S2" "$M1"
check "store s2 was not created" test ! -e "$S2"
check "m1 is mounted exactly once" test "$(mount_count "$M1")" = 1
check "the first mount is unaffected" grep -qx "from s1" "$M1/bkt/f"
refused "mount store s1 again on its own mountpoint" -- "$SHOAL" mount "$S1" "$M1"
check "m1 is still mounted exactly once" test "$(mount_count "$M1")" = 1

echo "== a store locked by a running daemon"
M2=$WORK/m2
mkdir -p "$M2"
pid1=$(daemon_pid "$S1")
check "the daemon of s1 is running (pid ${pid1:-?})" test -n "$pid1"
lock_before=$(cat "$S1/LOCK")
refused "mount s1 a second time on m2" "in use" -- "$SHOAL" mount "$S1" "$M2"
check "m2 is not mounted" not_mounted "$M2"
check "the first mount is unaffected" grep -qx "from s1" "$M1/bkt/f"
check "LOCK unchanged by the refusal" test "$(cat "$S1/LOCK")" = "$lock_before"
msg_pid=$(grep -o 'pid [0-9]*' "$WORK/refused.err" | grep -o '[0-9]*')
check "the 'in use' message names the running daemon's pid (${msg_pid:-none} vs ${pid1:-?})" \
  test "${msg_pid:-x}" = "${pid1:-y}"
check "STORE/LOCK holds the daemon's pid ($(head -1 "$S1/LOCK") vs ${pid1:-?})" \
  test "$(head -1 "$S1/LOCK")" = "${pid1:-y}"

echo "== fsck while mounted"
fsck_refused "fsck of a mounted store" "in use" "$S1"
check "the mount still works after the refused fsck" grep -qx "from s1" "$M1/bkt/f"

echo "== umount"
mkdir -p "$WORK/plain"
refused "umount of a plain directory" "not a shoal mount" -- "$SHOAL" umount "$WORK/plain"
refused "umount of a missing path" -- "$SHOAL" umount "$WORK/nowhere"
check "shoal umount m1" "$SHOAL" umount "$M1"
if [[ -n $pid1 ]] && alive "$pid1"; then
  fail "the daemon (pid $pid1) still runs after shoal umount returned"
else
  pass "the daemon has exited when shoal umount returns"
fi
check "m1 is no longer mounted" not_mounted "$M1"
check "the store lock is free right after umount" flock -n "$S1/LOCK" true
check "mount s1 on m2 right after umount" mount_store "$S1" "$M2"
check "the data is there" grep -qx "from s1" "$M2/bkt/f"
check "umount m2" umount_store "$M2"
refused "umount of a mountpoint that is no longer mounted" -- "$SHOAL" umount "$M2"

echo "== fsck"
out=$("$SHOAL" fsck "$S1" 2>&1)
rc=$?
check "fsck of a clean store exits 0 (got $rc)" test "$rc" = 0
check "fsck prints a summary" grep -q '[0-9]' <<<"$out"
check "fsck reports no damage" bash -c "! grep -q DAMAGED <<<'$out'"
echo "       fsck: $out"

fsck_refused "fsck of a missing store" "$WORK/typo" "$WORK/typo"
check "fsck of a missing store creates nothing" test ! -e "$WORK/typo"

echo "== stores that are not shoal stores"
junk=$WORK/junk
mkdir -p "$junk/sub"
echo precious >"$junk/data.txt"
echo more >"$junk/sub/more.txt"
tree "$junk" >"$WORK/junk.tree"
refused "mount a non-empty non-store directory" "not a shoal store" -- "$SHOAL" mount "$junk" "$M1"
same_tree "nothing was written into the non-store directory" "$junk" "$WORK/junk.tree"
check "m1 is not mounted" not_mounted "$M1"
fsck_refused "fsck of a non-store directory" "not a shoal store" "$junk"
same_tree "fsck wrote nothing into the non-store directory" "$junk" "$WORK/junk.tree"

printf 'shoal-store 2\n' >"$S1/FORMAT"
tree "$S1" >"$WORK/s1.tree"
refused "mount a store of unknown format" "format" -- "$SHOAL" mount "$S1" "$M1"
same_tree "the store of unknown format is unchanged" "$S1" "$WORK/s1.tree"
check "m1 is not mounted" not_mounted "$M1"
fsck_refused "fsck of a store of unknown format" "format" "$S1"
same_tree "fsck left the store of unknown format unchanged" "$S1" "$WORK/s1.tree"
printf 'shoal-store 1\n' >"$S1/FORMAT"

mkdir -p "$S1/inner"
refused "mount point inside the store" -- "$SHOAL" mount "$S1" "$S1/inner"
check "nothing mounted inside the store" not_mounted "$S1/inner"
rmdir "$S1/inner"

echo "== missing or unwritable parents"
refused "store whose parent is missing" -- "$SHOAL" mount "$WORK/no/such/store" "$M1"
check "the missing parent was not created" test ! -e "$WORK/no"
chmod 0711 "$WORK"
mkdir -p "$WORK/rootonly" "$WORK/usermnt" "$WORK/userdir"
chmod 0755 "$WORK/rootonly"
chown 1000:1000 "$WORK/usermnt" "$WORK/userdir"
refused "as uid 1000: store in a root-owned 0755 directory" -- \
  as_user "$SHOAL" mount "$WORK/rootonly/store" "$WORK/usermnt"
check "no store created in the root-owned directory" test ! -e "$WORK/rootonly/store"
check "nothing mounted for uid 1000" not_mounted "$WORK/usermnt"
refused "as uid 1000: root-owned 0755 mountpoint" -- \
  as_user "$SHOAL" mount "$WORK/userdir/store" "$WORK/rootonly"
check "no store created for the unwritable mountpoint" test ! -e "$WORK/userdir/store"

echo "== --config"
echo '{"allow-other": true}' >"$WORK/allow.json"
echo '{"allow-other": tru' >"$WORK/broken.json"
echo '{"no-such-option": true}' >"$WORK/unknown.json"
echo '{"allow-other": "yes"}' >"$WORK/wrongtype.json"
check "mount without --config" mount_store "$S1" "$M1"
opts=$(mount_options "$M1")
check "no allow_other by default ($opts)" bash -c "[[ -n '$opts' && '$opts' != *allow_other* ]]"
check "umount" umount_store "$M1"
check "mount with --config={\"allow-other\": true}" mount_store "$S1" "$M1" --config="$WORK/allow.json"
check "the mount has allow_other ($(mount_options "$M1"))" grep -q allow_other <<<"$(mount_options "$M1")"
check "the data is there" grep -qx "from s1" "$M1/bkt/f"
check "umount" umount_store "$M1"
refused "--config with malformed JSON" -- "$SHOAL" mount "$S1" "$M1" --config="$WORK/broken.json"
refused "--config with an unknown option" -- "$SHOAL" mount "$S1" "$M1" --config="$WORK/unknown.json"
refused "--config with a wrongly typed value" "true or false" -- \
  "$SHOAL" mount "$S1" "$M1" --config="$WORK/wrongtype.json"
refused "--config naming a missing file" -- "$SHOAL" mount "$S1" "$M1" --config="$WORK/missing.json"
echo '{"clock-rate": 0, "default-storage-class": "GLACIER_IR"}' >"$WORK/rate.json"
echo '{"clock-rate": "fast"}' >"$WORK/badrate.json"
refused "--config with a bad clock rate" "not a clock rate" -- \
  "$SHOAL" mount "$S1" "$M1" --config="$WORK/badrate.json"
check "nothing mounted by the refused configs" not_mounted "$M1"
check "mount with --config of clock and class values, and --clock on the command line" \
  mount_store "$WORK/s5" "$M1" --config="$WORK/rate.json" --clock=2027-03-01T00:00:00Z
check "the clock starts there and is frozen" \
  bash -c "sleep 1.1; [[ \$(cat '$M1/.shoal/clock') == 2027-03-01T00:00:00Z ]]"
check "new objects take the configured class" bash -c "mkdir '$M1/cfg' && echo x >'$M1/cfg/f' && [[ \$(getfattr --absolute-names --only-values -n user.s3.storage_class '$M1/cfg/f') == GLACIER_IR ]]"
check "umount" umount_store "$M1"

echo "== fusermount3 -u"
check "mount s1 on m1" mount_store "$S1" "$M1"
pid=$(daemon_pid "$S1")
check "the daemon runs (pid ${pid:-?})" test -n "$pid"
check "fusermount3 -u m1" fusermount3 -u "$M1"
check "m1 is no longer mounted" not_mounted "$M1"
for ((i = 0; i < 100; i++)); do
  if [[ -z $pid ]] || ! alive "$pid"; then break; fi
  sleep 0.1
done
if [[ -n $pid ]] && alive "$pid"; then fail "the daemon still runs 10 s after fusermount3 -u"; else
  pass "the daemon exits after fusermount3 -u"
fi
check "the store lock is free" flock -n "$S1/LOCK" true
check "remount after fusermount3 -u" mount_store "$S1" "$M1"
check "the data is there" grep -qx "from s1" "$M1/bkt/f"
check "umount" umount_store "$M1"
check "fsck is clean at the end" "$SHOAL" fsck "$S1"

echo "== a root key open to others"
chmod 644 "$S1/root.key"
refused "mount with a group/other-readable root key" "chmod 600" -- "$SHOAL" mount "$S1" "$M1"
check "nothing mounted" not_mounted "$M1"
check "fsck refuses it too (non-zero, saying chmod 600)" \
  bash -c "out=\$('$SHOAL' fsck '$S1'); rc=\$?; [[ \$rc -ne 0 && \$out == *'chmod 600'* ]]"
chmod 600 "$S1/root.key"
check "after chmod 600 it mounts" mount_store "$S1" "$M1"
check "and the data is there" grep -qx "from s1" "$M1/bkt/f"
check "umount" umount_store "$M1"

finish
