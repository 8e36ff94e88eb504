#!/usr/bin/env bash
# tools_test: real tools (ls, cp, mv, rm, find, du, tar, rsync, git, dd,
# truncate, ln, chmod/chown/touch, sed -i, gzip, getfattr/setfattr, jq, perl)
# against a real mount, each compared with what the same tool does on a plain
# ext4 directory under $WORK.
source "$(dirname "$0")/lib.sh"

export LC_ALL=C.UTF-8 TZ=UTC

PLAIN=$WORK/plain          # the ext4 twin of $MNT: same bucket names as dirs
SRC=$WORK/src              # a generated tree with the awkward cases
A=$MNT/tools-a
B=$MNT/tools-b

# same_output DESCRIPTION "CMD1" "CMD2": both commands (run with bash -c)
# print the same thing; on a difference the diff is shown.
same_output() {
  local what=$1 out1 out2
  out1=$(bash -c "$2" 2>&1)
  out2=$(bash -c "$3" 2>&1)
  if [[ $out1 == "$out2" ]]; then
    pass "$what"
  else
    fail "$what"
    diff <(echo "$out1") <(echo "$out2") | head -20 | sed 's/^/       /'
  fi
}

# tree_stats DIR: one line per entry, sorted: kind, size (not for dirs,
# whose size is file-system specific), octal mode and mtime in seconds
# (not for dirs if NO_DIR_MTIME is set).
tree_stats() {
  (
    cd "$1" || exit 1
    find . -mindepth 1 ! -type d -print0 | sort -z | xargs -0r stat -c '%F %s %a %Y %n'
    local fmt='%F %a %Y %n'
    [[ -z ${NO_DIR_MTIME:-} ]] || fmt='%F %a %n'
    find . -mindepth 1 -type d -print0 | sort -z | xargs -0r stat -c "$fmt"
  )
}
# tree_ns DIR: mtimes to the nanosecond of everything that is not a directory.
tree_ns() { (cd "$1" && find . -mindepth 1 ! -type d -print0 | sort -z | xargs -0r stat -c '%.9Y %n'); }
sorted_find() { (cd "$1" && find . "${@:2}" | sort); }

# ---------------------------------------------------------------------------
# The source tree: nested dirs, symlinks, odd names, empty files and dirs,
# modes, old mtimes, and a few MiB of mixed random and text data.
make_src() {
  mkdir -p "$SRC"/a/b/c/d "$SRC/with space/inner dir" "$SRC/unicode/ünïcødé" "$SRC/emptydir" \
    "$SRC/links" "$SRC/modes"
  echo "deep down" >"$SRC/a/b/c/d/deep.txt"
  echo "level c" >"$SRC/a/b/c/c.txt"
  printf 'no newline' >"$SRC/a/b/b.txt"
  echo "spaces" >"$SRC/with space/file with spaces.txt"
  echo "inner" >"$SRC/with space/inner dir/x"
  echo "café" >"$SRC/unicode/naïve café — ü.txt"
  echo "日本語" >"$SRC/unicode/日本語.txt"
  echo "emoji" >"$SRC/unicode/ünïcødé/🐟 shoal.txt"
  echo "odd" >"$SRC/-dash"
  echo "hidden" >"$SRC/.hidden"
  echo "quotes" >"$SRC/it's \"quoted\""
  echo "glob" >"$SRC/star*and?mark[1]"
  echo "back" >"$SRC/back\\slash"
  echo "plus" >"$SRC/a+b=c&d#e%f"
  : >"$SRC/empty"
  : >"$SRC/a/b/empty too"
  {
    head -c $((1024 * 1024)) /dev/urandom
    seq 1 200000
    head -c $((1024 * 1024 + 123)) /dev/urandom
    yes 'the quick brown fox jumps over the lazy dog' | head -c $((512 * 1024))
  } >"$SRC/big.bin"
  ln -s ../a/b/c/d/deep.txt "$SRC/links/rel"
  ln -s ../a "$SRC/links/dirlink"
  ln -s nowhere/at/all "$SRC/links/dangling"
  ln -s /etc/hostname "$SRC/links/absolute"
  ln -s "../with space/file with spaces.txt" "$SRC/links/spaced"
  echo x >"$SRC/modes/ro" && chmod 0444 "$SRC/modes/ro"
  echo x >"$SRC/modes/exec" && chmod 0755 "$SRC/modes/exec"
  echo x >"$SRC/modes/private" && chmod 0600 "$SRC/modes/private"
  echo x >"$SRC/modes/odd" && chmod 0751 "$SRC/modes/odd"
  mkdir "$SRC/modes/closed" && chmod 0700 "$SRC/modes/closed"
  # a few real headers (each file costs a synced commit, so not all of them)
  mkdir "$SRC/headers"
  find /usr/include/linux -maxdepth 1 -name '*.h' | sort | head -40 | xargs -r cp -p -t "$SRC/headers"
  # distinct old mtimes, with nanoseconds, on files, links and directories
  touch -d '1999-12-31 23:59:59.123456789' "$SRC/a/b/c/d/deep.txt"
  touch -d '2004-02-29 12:00:00' "$SRC/empty"
  touch -h -d '2010-05-05 05:05:05.5' "$SRC/links/rel"
  touch -d '2001-01-01 00:00:01' "$SRC/a/b/c/d" "$SRC/emptydir" "$SRC/with space"
  touch -d '2012-12-12 12:12:12' "$SRC/modes/closed" "$SRC/unicode"
}

make_src
mkdir -p "$PLAIN/tools-a" "$PLAIN/tools-b"

check "mount" mount_store
check "mkdir bucket tools-a" mkdir "$A"
check "mkdir bucket tools-b" mkdir "$B"

# --- ls -l -------------------------------------------------------------------
mkdir -p "$A/ls" "$PLAIN/tools-a/ls"
for d in "$A/ls" "$PLAIN/tools-a/ls"; do
  printf 'hello\n' >"$d/five"
  head -c 100000 /dev/zero >"$d/zeros"
  : >"$d/zero-length"
  echo x >"$d/exec" && chmod 755 "$d/exec"
  echo x >"$d/private" && chmod 600 "$d/private"
  mkdir "$d/subdir" && chmod 750 "$d/subdir"
  ln -s five "$d/link"
done
ls_cols() {  # mode, size (not for directories), name and link target
  ls -l --time-style=+%s "$1" | awk 'NR > 1 {
    size = ($1 ~ /^d/) ? "-" : $5; $2 = $3 = $4 = $5 = $6 = ""; print size, $0 }' | tr -s ' '
}
same_output "ls -l: modes, sizes and names as on ext4" "$(declare -f ls_cols); ls_cols '$PLAIN/tools-a/ls'" \
  "$(declare -f ls_cols); ls_cols '$A/ls'"
same_output "ls -a lists the same names" "ls -a '$PLAIN/tools-a/ls'" "ls -a '$A/ls'"

# --- cp -a ---------------------------------------------------------------------
check "cp -a of a tree into a bucket" cp -a "$SRC" "$A/tree"
cp -a "$SRC" "$PLAIN/tools-a/tree"
check "diff -r after cp -a (following symlinks)" diff -r -x dangling "$SRC" "$A/tree"
check "diff -r --no-dereference after cp -a (symlinks equal)" diff -r --no-dereference "$SRC" "$A/tree"
same_output "cp -a keeps sizes, modes and mtimes (stat)" "$(declare -f tree_stats); tree_stats '$SRC'" \
  "$(declare -f tree_stats); tree_stats '$A/tree'"
same_output "cp -a keeps mtimes to the nanosecond" "$(declare -f tree_ns); tree_ns '$SRC'" \
  "$(declare -f tree_ns); tree_ns '$A/tree'"
check "big file content identical (cmp)" cmp "$SRC/big.bin" "$A/tree/big.bin"

# --- find, du ----------------------------------------------------------------------
same_output "find lists the same tree" "$(declare -f sorted_find); sorted_find '$SRC'" \
  "$(declare -f sorted_find); sorted_find '$A/tree'"
same_output "find -type f" "$(declare -f sorted_find); sorted_find '$SRC' -type f" \
  "$(declare -f sorted_find); sorted_find '$A/tree' -type f"
same_output "find -type l" "$(declare -f sorted_find); sorted_find '$SRC' -type l" \
  "$(declare -f sorted_find); sorted_find '$A/tree' -type l"
same_output "find -type d" "$(declare -f sorted_find); sorted_find '$SRC' -type d" \
  "$(declare -f sorted_find); sorted_find '$A/tree' -type d"
same_output "find -empty" "$(declare -f sorted_find); sorted_find '$SRC' -empty" \
  "$(declare -f sorted_find); sorted_find '$A/tree' -empty"
same_output "find -name '*.txt' -newer" \
  "$(declare -f sorted_find); sorted_find '$SRC' -name '*.txt' -newermt 2005-01-01" \
  "$(declare -f sorted_find); sorted_find '$A/tree' -name '*.txt' -newermt 2005-01-01"
du_mnt=$(du -sk "$A/tree" | cut -f1)
du_plain=$(du -sk "$SRC" | cut -f1)
apparent=$(find "$SRC" -type f -printf '%s\n' | awk '{ s += $1 } END { print int(s / 1024) }')
if ((du_mnt > 0 && du_mnt >= apparent / 2 && du_mnt <= 2 * du_plain + 64)); then
  pass "du -s is reasonable ($du_mnt KiB; ext4 $du_plain KiB, apparent $apparent KiB)"
else
  fail "du -s is reasonable ($du_mnt KiB; ext4 $du_plain KiB, apparent $apparent KiB)"
fi
same_output "total of the file sizes as on ext4" \
  "find '$SRC' -type f -printf '%s\n' | awk '{ s += \$1 } END { print s }'" \
  "find '$A/tree' -type f -printf '%s\n' | awk '{ s += \$1 } END { print s }'"

# --- mv ------------------------------------------------------------------------
for root in "$PLAIN" "$MNT"; do
  cp -a "$SRC" "$root/tools-a/mv"
done
mv_all() {  # the same moves on ROOT
  local r=$1
  mkdir "$r/tools-a/mv/empty target" &&
    mv "$r/tools-a/mv/big.bin" "$r/tools-a/mv/a/big-moved.bin" &&
    mv "$r/tools-a/mv/with space" "$r/tools-a/mv/a/b/moved dir" &&
    mv "$r/tools-a/mv/unicode" "$r/tools-b/unicode-across" &&
    mv "$r/tools-a/mv/.hidden" "$r/tools-b/hidden-across" &&
    mv "$r/tools-a/mv/links" "$r/tools-a/mv/a/links" &&
    mv -T "$r/tools-a/mv/emptydir" "$r/tools-a/mv/empty target" &&
    mv "$r/tools-a/mv/-dash" "$r/tools-a/mv/empty" &&
    mv "$r/tools-a/mv/modes" "$r/tools-a/mv/modes renamed" &&
    mv "$r/tools-a/mv/modes renamed/closed" "$r/tools-a/mv/closed"
}
check "mv on ext4 (the reference)" mv_all "$PLAIN"
mv_start=$(date +%s)
check "mv of files and directories across dirs and buckets" mv_all "$MNT"
expect_fail "mv -T of a dir onto a non-empty dir" "Directory not empty" mv -T "$A/mv/headers" "$A/mv/a"
check "diff -r after mv (bucket a)" diff -r --no-dereference "$PLAIN/tools-a/mv" "$A/mv"
check "diff -r after mv (bucket b)" diff -r --no-dereference "$PLAIN/tools-b" "$B"
# directories that gained or lost entries have "now" as mtime, which differs
# between the two runs: compare directories without their mtime here
same_output "stat after mv" "$(declare -f tree_stats); NO_DIR_MTIME=1 tree_stats '$PLAIN/tools-a/mv'" \
  "$(declare -f tree_stats); NO_DIR_MTIME=1 tree_stats '$A/mv'"
same_output "stat after mv across buckets" "$(declare -f tree_stats); NO_DIR_MTIME=1 tree_stats '$PLAIN/tools-b'" \
  "$(declare -f tree_stats); NO_DIR_MTIME=1 tree_stats '$B'"
check "mv updates the mtime of both parent directories" bash -c "
  for d in '$A/mv/a' '$A/mv/modes renamed' '$A/mv'; do test \$(stat -c %Y \"\$d\") -ge $mv_start || exit 1; done"
same_output "moved symlinks keep their targets" "readlink '$SRC/links/rel' '$SRC/links/spaced'" \
  "readlink '$A/mv/a/links/rel' '$A/mv/a/links/spaced'"
check "moved tree reads back (cmp)" cmp "$SRC/big.bin" "$A/mv/a/big-moved.bin"
check "old names are gone after mv" bash -c "! ls '$A/mv/big.bin' && ! ls '$A/mv/with space' && ! ls '$A/mv/unicode' && ! ls '$A/mv/modes'"

# --- rm -r ---------------------------------------------------------------------
check "rm -r of a subtree" rm -r "$A/mv/a/b"
rm -r "$PLAIN/tools-a/mv/a/b"
check "diff -r after rm -r" diff -r --no-dereference "$PLAIN/tools-a/mv" "$A/mv"
check "rm -rf of a whole tree" rm -rf "$A/mv"
rm -rf "$PLAIN/tools-a/mv"
check "removed tree is gone" bash -c "! test -e '$A/mv' && test -z \"\$(ls -A '$A' | grep -x mv)\""

# --- tar -----------------------------------------------------------------------
tar -C "$SRC" --sort=name -cf "$WORK/src.tar" .
mkdir "$A/untar" "$PLAIN/tools-a/untar"
check "tar x into a bucket" tar -C "$A/untar" -xf "$WORK/src.tar"
tar -C "$PLAIN/tools-a/untar" -xf "$WORK/src.tar"
check "diff -r after tar x" diff -r --no-dereference "$SRC" "$A/untar"
tar -C "$A/untar" --sort=name -cf "$WORK/back.tar" . 2>"$WORK/tar.err"
tar -C "$PLAIN/tools-a/untar" --sort=name -cf "$WORK/plain.tar" .
if cmp -s "$WORK/src.tar" "$WORK/back.tar"; then
  pass "tar c back out is byte-identical to the tarball"
else
  fail "tar c back out is byte-identical to the tarball"
  head -5 "$WORK/tar.err" | sed 's/^/       /'
  diff <(tar -tvf "$WORK/src.tar") <(tar -tvf "$WORK/back.tar") | head -10 | sed 's/^/       /'
fi
check "tar c of the ext4 extraction is identical too (sanity)" cmp "$WORK/src.tar" "$WORK/plain.tar"

# --- rsync ---------------------------------------------------------------------
check "rsync -a into a bucket" rsync -a "$SRC/" "$A/rsync/"
check "diff -r after rsync" diff -r --no-dereference "$SRC" "$A/rsync"
out=$(rsync -a --checksum --dry-run --itemize-changes "$SRC/" "$A/rsync/" 2>&1)
if [[ -z $out ]]; then pass "rsync --checksum --dry-run: nothing to do"; else
  fail "rsync --checksum --dry-run: nothing to do"
  echo "$out" | head -10 | sed 's/^/       /'
fi
echo "changed" >>"$SRC/a/b/b.txt"
out=$(rsync -a --itemize-changes "$SRC/" "$A/rsync/" 2>&1)
if grep -q 'a/b/b.txt' <<<"$out" && [[ $(wc -l <<<"$out") -le 2 ]]; then
  pass "rsync -a again transfers just the changed file"
else
  fail "rsync -a again transfers just the changed file"
  echo "$out" | head -10 | sed 's/^/       /'
fi
check "diff -r after second rsync" diff -r --no-dereference "$SRC" "$A/rsync"

# --- git -------------------------------------------------------------------------
(
  set -e
  git init -q -b main "$WORK/repo"
  cd "$WORK/repo"
  git config user.email t@example.com
  git config user.name tester
  for i in 1 2 3 4; do
    mkdir -p "dir$i"
    seq 1 $((i * 1000)) >"dir$i/file$i.txt"
    echo "commit $i" >>README
    git add -A
    git commit -q -m "commit $i"
  done
  git mv dir1 renamed
  ln -s README readme-link
  chmod +x dir2/file2.txt
  git add -A
  git commit -q -m "rename, link, exec bit"
) >/dev/null 2>&1
check "git clone --no-hardlinks into a bucket" git clone -q --no-hardlinks "$WORK/repo" "$B/clone"
check "git fsck in the clone" git -C "$B/clone" fsck --full --strict
same_output "git log matches the origin" "git -C '$WORK/repo' log --format='%H %s'" \
  "git -C '$B/clone' log --format='%H %s'"
same_output "git status is clean" "true" "git -C '$B/clone' status --porcelain"
check "git commit in the clone" bash -c "cd '$B/clone' && echo more >>README && git -c user.email=t@e -c user.name=t commit -qam more && git fsck"
check "git gc in the clone" git -C "$B/clone" gc -q
check "git fsck after gc" git -C "$B/clone" fsck --full
check "diff -r worktree vs origin (excluding .git and README)" \
  diff -r -x .git -x README --no-dereference "$WORK/repo" "$B/clone"

# --- append, truncate, write at offset -----------------------------------------
for d in "$PLAIN/tools-a" "$A"; do
  printf 'line 1\n' >"$d/appended"
  printf 'line 2\n' >>"$d/appended"
  seq 1 10000 >>"$d/appended"
  head -c 300000 "$SRC/big.bin" >"$d/trunc"
done
check "append with >>" cmp "$PLAIN/tools-a/appended" "$A/appended"
for size in 1000000 5000 0 77777 4096; do
  truncate -s "$size" "$PLAIN/tools-a/trunc"
  if truncate -s "$size" "$A/trunc"; then
    check "truncate -s $size: content as on ext4" cmp "$PLAIN/tools-a/trunc" "$A/trunc"
  else
    fail "truncate -s $size"
  fi
  same_output "truncate -s $size: stat size" "stat -c %s '$PLAIN/tools-a/trunc'" "stat -c %s '$A/trunc'"
done
check "truncate -s +N (relative grow)" bash -c "truncate -s +1000 '$A/trunc' && truncate -s +1000 '$PLAIN/tools-a/trunc' && cmp '$PLAIN/tools-a/trunc' '$A/trunc'"
for d in "$PLAIN/tools-a" "$A"; do
  head -c 200000 "$SRC/big.bin" >"$d/offset"
done
for seek in 0 17 4095 65536 150000 250000; do
  printf 'PATCH-%s' "$seek" >"$WORK/patch"
  dd if="$WORK/patch" of="$PLAIN/tools-a/offset" bs=1 seek="$seek" conv=notrunc status=none
  check "dd conv=notrunc seek=$seek" dd if="$WORK/patch" of="$A/offset" bs=1 seek="$seek" conv=notrunc status=none
done
check "writes at offsets: content as on ext4" cmp "$PLAIN/tools-a/offset" "$A/offset"
check "dd seek in blocks (hole then data)" bash -c "
  for d in '$PLAIN/tools-a' '$A'; do dd if=/dev/zero of=\"\$d/sparse\" bs=4k seek=100 count=1 status=none || exit 1; done
  cmp '$PLAIN/tools-a/sparse' '$A/sparse' && test \$(stat -c %s '$A/sparse') -eq $((101 * 4096))"
check "read-modify-write through one fd (exec <>)" bash -c "
  for d in '$PLAIN/tools-a' '$A'; do exec 3<>\"\$d/offset\"; read -n 10 -u 3 x; printf XYZ >&3; exec 3>&-; done
  cmp '$PLAIN/tools-a/offset' '$A/offset'"

# --- more everyday tools ------------------------------------------------------------
for d in "$PLAIN/tools-a" "$A"; do
  seq 1 5000 >"$d/sedme"
  touch -d '2011-11-11 11:11:11' "$d/sedme"
  cp "$SRC/big.bin" "$d/zipme" && chmod 640 "$d/zipme" && touch -d '2009-09-09 09:09:09' "$d/zipme"
done
check "sed -i (temp file + rename over)" sed -i 's/1/one/g' "$A/sedme"
sed -i 's/1/one/g' "$PLAIN/tools-a/sedme"
check "sed -i result as on ext4" cmp "$PLAIN/tools-a/sedme" "$A/sedme"
check "gzip (keeps mode and mtime on the .gz)" gzip "$A/zipme"
gzip "$PLAIN/tools-a/zipme"
same_output "gzip output: stat as on ext4" "stat -c '%s %a %Y' '$PLAIN/tools-a/zipme.gz'" "stat -c '%s %a %Y' '$A/zipme.gz'"
check "gzip output identical" cmp "$PLAIN/tools-a/zipme.gz" "$A/zipme.gz"
check "gunzip -t" gunzip -t "$A/zipme.gz"
check "gunzip restores the file" bash -c "gunzip '$A/zipme.gz' && cmp '$SRC/big.bin' '$A/zipme'"
check "df and stat -f on the mount" bash -c "df -P '$A' >/dev/null && stat -f '$A' >/dev/null"
check "a file being written is readable before close (latest data)" bash -c "
  exec 3>'$A/open-writer'; printf 'abc' >&3; test \"\$(cat '$A/open-writer')\" = abc || exit 1
  printf 'def' >&3; test \"\$(cat '$A/open-writer')\" = abcdef || exit 1; exec 3>&-
  test \"\$(cat '$A/open-writer')\" = abcdef"
check "reading a file unlinked while open" bash -c "
  cp '$SRC/big.bin' '$A/doomed'; exec 3<'$A/doomed'; rm '$A/doomed'; test ! -e '$A/doomed' && cmp - '$SRC/big.bin' <&3"
same_output "fchmod, futimens and fstat of a file unlinked while open" "echo '600 1000000000 0'" "
  python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b\"x\"); os.unlink(sys.argv[1])
os.fchmod(fd, 0o600); os.utime(fd, (1000000000, 1000000000))
st = os.fstat(fd); print(\"%o %d %d\" % (st.st_mode & 0o777, st.st_mtime, st.st_nlink))' '$A/doomed2'"
# a directory big enough to need several readdir replies, with long names
mkdir "$A/bigdir" "$PLAIN/tools-a/bigdir"
long100=$(printf 'n%.0s' {1..100})
(cd "$A/bigdir" && touch "${long100}"_{1..600})
(cd "$PLAIN/tools-a/bigdir" && touch "${long100}"_{1..600})
same_output "ls of a 600-entry directory" "ls '$PLAIN/tools-a/bigdir'" "ls '$A/bigdir'"
same_output "ls -U | wc -l of a 600-entry directory" "echo 600" "ls -U '$A/bigdir' | wc -l"
if command -v perl >/dev/null; then
  # readdir and unlink interleaved: every entry must still be seen once
  same_output "readdir while unlinking visits every entry once" "echo 600 0" "
    perl -e 'opendir D, shift; my \$n = 0; while (my \$e = readdir D) {
      next if \$e =~ /^\\.\\.?\$/; unlink \"\$ARGV[0]/\$e\" or die \"\$e: \$!\"; \$n++ } print \"\$n \"' '$A/bigdir' '$A/bigdir'
    ls -A '$A/bigdir' | wc -l"
fi
check "rmdir of the emptied directory" rmdir "$A/bigdir"
rm -r "$PLAIN/tools-a/bigdir"

# --- symlinks --------------------------------------------------------------------
mkdir -p "$A/sym/dir/sub"
echo target >"$A/sym/dir/t.txt"
check "ln -s relative" ln -s ../t.txt "$A/sym/dir/sub/up"
check "ln -s to a directory" ln -s dir "$A/sym/dirlink"
check "ln -s absolute" ln -s "$A/sym/dir/t.txt" "$A/sym/abs"
check "ln -s dangling" ln -s does/not/exist "$A/sym/dangling"
same_output "readlink" "echo ../t.txt" "readlink '$A/sym/dir/sub/up'"
same_output "relative target resolves" "echo target" "cat '$A/sym/dir/sub/up'"
same_output "absolute target resolves" "echo target" "cat '$A/sym/abs'"
same_output "link to a directory resolves" "echo t.txt; echo sub" "ls '$A/sym/dirlink/' | sort -r"
same_output "readlink -f through two links" "echo '$A/sym/dir/t.txt'" "readlink -f '$A/sym/dirlink/sub/up'"
expect_fail "dangling link does not resolve" "No such file or directory" cat "$A/sym/dangling"
same_output "stat of a link" "echo 'symbolic link 14 777'" "stat -c '%F %s %a' '$A/sym/dangling'"
expect_fail "ln -s onto an existing name" "File exists" ln -s x "$A/sym/abs"
check "ln -sfn replaces a link" bash -c "ln -sfn dir/sub '$A/sym/dirlink' && test \"\$(readlink '$A/sym/dirlink')\" = dir/sub"

# --- chmod, chown, touch -d ------------------------------------------------------
echo meta >"$A/meta"
check "chmod 640" chmod 640 "$A/meta"
check "chmod u+x,g+w" chmod u+x,g+w "$A/meta"
check "chown 1234:5678" chown 1234:5678 "$A/meta"
check "touch -d" touch -d '2003-04-05 06:07:08.25' "$A/meta"
same_output "stat shows mode, owner and mtime" "echo '760 1234 5678 2003-04-05 06:07:08.250000000 +0000'" \
  "stat -c '%a %u %g %y' '$A/meta'"
check "touch -a -d does not move mtime" bash -c "touch -a -d 2020-01-01 '$A/meta' && test \$(stat -c %Y '$A/meta') = $(date -d '2003-04-05 06:07:08' +%s)"
check "chmod of a directory" bash -c "chmod 711 '$A/sym/dir' && test \$(stat -c %a '$A/sym/dir') = 711"
check "touch -d of a directory" bash -c "touch -d '2002-02-02 02:02:02' '$A/sym/dir' && test \$(stat -c %Y '$A/sym/dir') = $(date -d '2002-02-02 02:02:02' +%s)"
check "chown -h of a symlink" bash -c "chown -h 42:43 '$A/sym/abs' && test \"\$(stat -c '%u %g' '$A/sym/abs')\" = '42 43'"
check "touch creates an empty file" bash -c "touch '$A/touched' && test -f '$A/touched' && test \$(stat -c %s '$A/touched') = 0"
check "touch updates mtime to now" bash -c "touch '$A/meta' && test \$(( \$(date +%s) - \$(stat -c %Y '$A/meta') )) -le 5"

# --- fsync, sync -------------------------------------------------------------------
check "dd conv=fsync" dd if="$SRC/big.bin" of="$A/synced" bs=64k conv=fsync status=none
check "dd oflag=sync" dd if="$SRC/big.bin" of="$A/synced2" bs=1M oflag=sync status=none
check "sync" sync
check "sync -f on the mount" sync -f "$A/synced"
check "fsync'ed data reads back" cmp "$SRC/big.bin" "$A/synced"
check "O_SYNC data reads back" cmp "$SRC/big.bin" "$A/synced2"

# --- xattrs ------------------------------------------------------------------------
etag_of() { getfattr --absolute-names -n user.s3.etag --only-values "$1"; }
for f in "$A/tree/big.bin" "$A/appended" "$A/tree/empty" "$A/synced" "$A/offset"; do
  same_output "ETag = md5 of content: ${f#"$MNT"/}" "echo \\\"\$(md5sum <'$f' | cut -d' ' -f1)\\\"" "$(declare -f etag_of); etag_of '$f'"
done
printf 'hello\n' >"$A/hello"
same_output "ETag of 'hello\\n'" 'echo "\"b1946ac92492d2347c6235b4d2611184\""' "$(declare -f etag_of); etag_of '$A/hello'"
echo more >>"$A/hello"
same_output "ETag follows an append" "echo \\\"\$(md5sum <'$A/hello' | cut -d' ' -f1)\\\"" "$(declare -f etag_of); etag_of '$A/hello'"
out=$(getfattr --absolute-names -d "$A/hello" 2>&1)
if grep -qx 'user.s3.etag=.*' <<<"$out" && grep -qx 'user.s3.version_id="null"' <<<"$out" &&
  grep -qx 'user.s3.storage_class="STANDARD"' <<<"$out" && grep -qx 'user.s3.sse="AES256"' <<<"$out"; then
  pass "getfattr -d lists the four s3 attributes"
else
  fail "getfattr -d lists the four s3 attributes"
  echo "$out" | sed 's/^/       /'
fi
check "setfattr user.s3.meta.color" setfattr -n user.s3.meta.color -v blue "$A/hello"
same_output "getfattr user.s3.meta.color" "echo blue" "getfattr --absolute-names -n user.s3.meta.color --only-values '$A/hello'; echo"
check "setfattr replaces a value" setfattr -n user.s3.meta.color -v green "$A/hello"
same_output "getfattr shows the new value" "echo green" "getfattr --absolute-names -n user.s3.meta.color --only-values '$A/hello'; echo"
check "setfattr other user.* attribute" setfattr -n user.comment -v "a comment" "$A/hello"
check "getfattr -d lists user metadata" bash -c "getfattr --absolute-names -d '$A/hello' | grep -qx 'user.s3.meta.color=\"green\"' && getfattr --absolute-names -d '$A/hello' | grep -qx 'user.comment=\"a comment\"'"
check "setfattr -x removes" bash -c "setfattr -x user.comment '$A/hello' && ! getfattr --absolute-names -n user.comment '$A/hello'"
expect_fail "getfattr of a missing attribute" "No such attribute" getfattr --absolute-names -n user.nope "$A/hello"
check "user metadata survives a rewrite of the content" bash -c "echo new >'$A/hello' && test \"\$(getfattr --absolute-names -n user.s3.meta.color --only-values '$A/hello')\" = green"
check "xattrs on a directory" bash -c "setfattr -n user.s3.meta.kind -v dir '$A/sym/dir' && test \"\$(getfattr --absolute-names -n user.s3.meta.kind --only-values '$A/sym/dir')\" = dir"
check "cp -a keeps user xattrs" bash -c "cp -a '$A/hello' '$A/hello-copy' && test \"\$(getfattr --absolute-names -n user.s3.meta.color --only-values '$A/hello-copy')\" = green"
expect_fail "setfattr on user.s3.etag fails" "Invalid argument" setfattr -n user.s3.etag -v '"x"' "$A/hello"
expect_fail "setfattr on user.s3.version_id fails" "Invalid argument" setfattr -n user.s3.version_id -v 1 "$A/hello"
check ".shoal/errors records the rejected setfattr" grep -q "/tools-a/hello InvalidArgument" "$MNT/.shoal/errors"

# --- hard links ----------------------------------------------------------------------
expect_fail "ln a b (hard link) fails with EPERM" "Operation not permitted" ln "$A/hello" "$A/hello-hard"
check "no entry is left behind by the refused link" bash -c "! test -e '$A/hello-hard'"
check ".shoal/errors records the refused link" grep -q "/tools-a/hello-hard " "$MNT/.shoal/errors"

# --- key length ------------------------------------------------------------------------
c200=$(printf 'k%.0s' {1..200})
long="$A/$c200/$c200/$c200/$c200"  # key "c200/c200/c200/c200" = 803 bytes
n220=$(printf 'f%.0s' {1..220})     # 803 + 1 + 220 = 1024 bytes
n221=$(printf 'g%.0s' {1..221})     # 1025 bytes
n240=$(printf 'h%.0s' {1..240})
check "mkdir -p of four 200-byte components" mkdir -p "$long"
check "a 1024-byte key is fine" bash -c "echo ok >'$long/$n220' && test \"\$(cat '$long/$n220')\" = ok"
expect_fail "a 1025-byte key fails" "File name too long" bash -c "echo no >'$long/$n221'"
expect_fail "mkdir of a key beyond 1024 bytes fails" "File name too long" mkdir "$long/$n240"
expect_fail "cp to a key beyond 1024 bytes fails" "File name too long" cp "$A/meta" "$long/$n240"
expect_fail "mv to a key beyond 1024 bytes fails" "File name too long" mv "$A/meta" "$long/$n240"
expect_fail "ln -s at a key beyond 1024 bytes fails" "File name too long" ln -s meta "$long/$n240"
check "the refused mv left the source in place" test -f "$A/meta"
check "nothing was created beyond 1024 bytes" bash -c "test \"\$(ls '$long')\" = '$n220'"
check ".shoal/errors records KeyTooLongError" grep -q "KeyTooLongError" "$MNT/.shoal/errors"

# --- stats.json --------------------------------------------------------------------------
if command -v jq >/dev/null; then
  check "stats.json parses (jq)" bash -c "cat '$MNT/.shoal/stats.json' | jq -e . >/dev/null"
  check "stats.json counts writes" bash -c "test \$(jq '.bytes_written' '$MNT/.shoal/stats.json') -gt 0"
else
  check "stats.json parses (python3 -m json.tool)" bash -c "cat '$MNT/.shoal/stats.json' | python3 -m json.tool >/dev/null"
fi

# --- concurrent readers while cp overwrites ----------------------------------------------
# Readers through the mount see the latest data (DESIGN §2.1), as on ext4:
# a cat that runs while cp rewrites the file in place may see the old content,
# the new one, or (mid-copy) old bytes followed by a prefix of the new ones.
# It must never fail or see bytes that were in neither version.
head -c $((8 * 1024 * 1024)) /dev/urandom >"$WORK/old"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$WORK/new"
cp "$WORK/old" "$A/racy"
consistent() {  # consistent OUT: OUT = old[0:k] + new[k:n] for some k <= n <= size
  local out=$1 n k
  n=$(stat -c %s "$out")
  cmp -s "$out" "$WORK/old" && { echo old; return 0; }
  cmp -s "$out" "$WORK/new" && { echo new; return 0; }
  k=$(cmp "$out" "$WORK/old" 2>/dev/null | awk '/differ/ {sub(",", "", $5); print $5 - 1; exit}')
  [[ -n $k ]] || k=$n  # a prefix of old
  ((n <= 8 * 1024 * 1024)) || return 1
  cmp -s -n $((n - k)) -i "$k:$k" "$out" "$WORK/new" || return 1
  echo mixed
}
errors=0 bad=0
declare -A seen=()
for round in 1 2 3 4 5 6; do
  if ((round % 2)); then src=$WORK/new; else src=$WORK/old; fi
  cp "$src" "$A/racy" &
  cpid=$!
  for r in 1 2; do (for i in 1 2 3; do cat "$A/racy" >"$WORK/read.$round.$r.$i" 2>"$WORK/read.err.$round.$r.$i" ||
    echo "cat failed" >>"$WORK/read.err.$round.$r.$i"; done) &
  done
  wait $cpid || errors=$((errors + 1))
  wait
  for f in "$WORK/read.$round".*.[0-9]; do
    e=$WORK/read.err.${f#"$WORK"/read.}
    [[ -s $e ]] && { errors=$((errors + 1)); sed 's/^/       /' "$e" | head -3; }
    if kind=$(consistent "$f"); then seen[$kind]=1; else bad=$((bad + 1)); fi
  done
  cmp -s "$src" "$A/racy" || bad=$((bad + 1))
  rm -f "$WORK"/read.*
done
if ((errors == 0)); then pass "concurrent cat while cp overwrites: no errors"; else
  fail "concurrent cat while cp overwrites: $errors errors"
fi
if ((bad == 0)); then pass "concurrent cat sees old or new bytes only (seen: ${!seen[*]})"; else
  fail "concurrent cat: $bad reads with foreign bytes or wrong final content"
fi
# after the writer closed, every reader sees exactly the new content
cp "$WORK/new" "$A/racy"
check "after the overwrite, two readers see the new content" bash -c "
  cat '$A/racy' >'$WORK/r1' & cat '$A/racy' >'$WORK/r2'; wait; cmp '$WORK/r1' '$WORK/new' && cmp '$WORK/r2' '$WORK/new'"

# --- umount, remount, fsck -----------------------------------------------------------------
(cd "$A" && find . -path ./racy -prune -o -print0 | sort -z | xargs -0 stat -c '%F %s %a %u %g %Y %n') \
  >"$WORK/before.stat" 2>&1
getfattr --absolute-names -d "$A/hello" >"$WORK/before.xattr" 2>&1
check "shoal umount" umount_store
check "mount point is empty after umount" bash -c "test -z \"\$(ls -A '$MNT')\""
check "remount" mount_store
check "diff -r after remount (cp -a tree)" diff -r --no-dereference "$SRC" "$A/rsync"
check "diff -r after remount (tar tree)" diff -r --no-dereference "$PLAIN/tools-a/untar" "$A/untar"
same_output "stat of everything is unchanged by the remount" "cat '$WORK/before.stat'" \
  "cd '$A' && find . -path ./racy -prune -o -print0 | sort -z | xargs -0 stat -c '%F %s %a %u %g %Y %n'"
same_output "xattrs are unchanged by the remount" "cat '$WORK/before.xattr'" "getfattr --absolute-names -d '$A/hello'"
check "git fsck after remount" git -C "$B/clone" fsck --full
# Open objects hold a blob descriptor each; closed ones must not (memory and
# descriptors follow open files, not every file the kernel remembers).
mkdir "$A/many"
for i in $(seq 1 300); do head -c 40000 "$SRC/big.bin" >"$A/many/f$i"; done
fds_before=$(ls "/proc/$(daemon_pid)/fd" | wc -l)
check "300 objects read back" bash -c "cat '$A'/many/f* | wc -c | grep -qx 12000000"
fds_after=$(ls "/proc/$(daemon_pid)/fd" | wc -l)
check "reading 300 objects leaves no descriptors open ($fds_before -> $fds_after)" \
  test "$fds_after" -le $((fds_before + 5))
exec 7<"$A/many/f1"
echo "rewritten" >"$A/many/f1.new" && mv "$A/many/f1.new" "$A/many/f2"
check "an open object stays readable while others come and go" \
  bash -c "head -c 40000 '$SRC/big.bin' | cmp - /dev/fd/7"
exec 7<&-
check "fsync'ed file after remount" cmp "$SRC/big.bin" "$A/synced"
check "shoal umount again" umount_store
check "shoal fsck STORE exits 0" "$SHOAL" fsck "$STORE"

finish
