#!/usr/bin/env bash
# ownership_test: with --allow-other, files belong to whoever created them
# and the usual permission rules apply between root and an ordinary user.
# Runs as root; the ordinary user is a bare uid/gid entered with setpriv.
source "$(dirname "$0")/lib.sh"

export LC_ALL=C.UTF-8

if [[ $(id -u) -ne 0 ]]; then
  echo "ownership_test: needs root (to switch users); skipped"
  finish
  exit
fi

TUID=${SHOAL_TEST_UID:-1000}
TGID=${SHOAL_TEST_GID:-1000}
# as_user CMD...: run a command as the ordinary user, with no supplementary
# groups and a HOME it cannot write to (nothing it runs should need one).
as_user() { setpriv --reuid="$TUID" --regid="$TGID" --clear-groups env HOME=/nonexistent "$@"; }
# user_check / user_fail: check and expect_fail, as the ordinary user.
user_check() { local what=$1; shift; check "$what" as_user "$@"; }
user_fail() { local what=$1 msg=$2; shift 2; expect_fail "$what" "$msg" as_user "$@"; }
same() {  # same DESCRIPTION EXPECTED COMMAND...
  local what=$1 want=$2 got
  shift 2
  got=$("$@" 2>&1)
  if [[ $got == "$want" ]]; then pass "$what"; else fail "$what (want '$want', got '$got')"; fi
}

# mktemp made $WORK private to root: the user must be able to reach $MNT.
chmod 0755 "$WORK"
BK=$MNT/shared-bucket

check "mount --allow-other" mount_store "$STORE" "$MNT" --allow-other
user_check "user can list the mount root" ls -a "$MNT"
user_fail "user cannot create a bucket (root dir is root's 0755)" "Permission denied" mkdir "$MNT/user-bucket"
check "root creates a bucket" mkdir "$BK"
check "root chmod 1777 the bucket" chmod 1777 "$BK"
same "bucket shows mode 1777 and root ownership" "1777 0 0" stat -c '%a %u %g' "$BK"

# --- the user's own files ------------------------------------------------------
user_check "user creates a file" bash -c "echo mine >'$BK/user-file'"
user_check "user creates a directory" mkdir "$BK/user-dir"
user_check "user creates a nested file" bash -c "echo nested >'$BK/user-dir/inner'"
user_check "user creates a symlink" ln -s user-file "$BK/user-link"
user_check "user copies a file in (cp)" cp /etc/hostname "$BK/user-dir/copied"
same "file is owned by the user's uid/gid" "$TUID $TGID" stat -c '%u %g' "$BK/user-file"
same "directory is owned by the user's uid/gid" "$TUID $TGID" stat -c '%u %g' "$BK/user-dir"
same "nested file is owned by the user's uid/gid" "$TUID $TGID" stat -c '%u %g' "$BK/user-dir/inner"
same "cp'd file is owned by the user's uid/gid" "$TUID $TGID" stat -c '%u %g' "$BK/user-dir/copied"
same "symlink is owned by the user's uid/gid" "$TUID $TGID" stat -c '%u %g' "$BK/user-link"
same "the user's file has the umask'd mode" "644" as_user bash -c "umask 022; echo x >'$BK/umask-file'; stat -c %a '$BK/umask-file'"
same "umask 077 gives 600" "600" as_user bash -c "umask 077; echo x >'$BK/umask-private'; stat -c %a '$BK/umask-private'"
user_check "user reads back its file" grep -qx mine "$BK/user-file"
user_check "user appends to its file" bash -c "echo more >>'$BK/user-file'"
user_check "user chmods its file" chmod 600 "$BK/user-file"
same "chmod by the owner shows up" "600" stat -c %a "$BK/user-file"
user_check "user touch -d its file" touch -d '2005-05-05 05:05:05' "$BK/user-file"
same "touch -d by the owner shows up" "$(date -d '2005-05-05 05:05:05' +%s)" stat -c %Y "$BK/user-file"
user_check "user sets a user.s3.meta xattr on its file" setfattr -n user.s3.meta.owner -v user "$BK/user-file"
user_check "user renames within its directory" mv "$BK/user-dir/inner" "$BK/user-dir/renamed"
user_check "chown to its own uid is allowed" chown "$TUID" "$BK/user-file"

# --- what the user may not do -----------------------------------------------------
check "root creates a 0644 file in the bucket" bash -c "echo root >'$BK/root-file' && chmod 0644 '$BK/root-file'"
check "root creates a 0600 file in the bucket" bash -c "echo secret >'$BK/root-private' && chmod 0600 '$BK/root-private'"
check "root creates a 0755 directory" bash -c "mkdir '$BK/root-dir' && chmod 0755 '$BK/root-dir'"
same "root's file is owned by root" "0 0" stat -c '%u %g' "$BK/root-file"
user_check "user can read root's 0644 file" grep -qx root "$BK/root-file"
user_fail "user cannot write root's 0644 file (>)" "Permission denied" bash -c "echo x >'$BK/root-file'"
user_fail "user cannot append to root's 0644 file" "Permission denied" bash -c "echo x >>'$BK/root-file'"
user_fail "user cannot truncate root's 0644 file" "Permission denied" truncate -s 0 "$BK/root-file"
user_fail "user cannot read root's 0600 file" "Permission denied" cat "$BK/root-private"
user_fail "user cannot create in root's 0755 directory" "Permission denied" bash -c "echo x >'$BK/root-dir/x'"
user_fail "user cannot mkdir in root's 0755 directory" "Permission denied" mkdir "$BK/root-dir/sub"
user_fail "sticky bucket: user cannot delete root's file" "Operation not permitted" rm -f "$BK/root-file"
user_fail "sticky bucket: user cannot rename root's file" "Operation not permitted" mv "$BK/root-file" "$BK/stolen"
user_fail "user cannot chmod root's file" "Operation not permitted" chmod 666 "$BK/root-file"
# (as on ext4: explicit times need ownership, EPERM; "now" needs write access, EACCES)
user_fail "user cannot touch -c -d root's file" "Operation not permitted" touch -c -d 2001-01-01 "$BK/root-file"
user_fail "user cannot touch -c root's file" "Permission denied" touch -c "$BK/root-file"
user_fail "user cannot set xattrs on root's file" "Permission denied" setfattr -n user.s3.meta.x -v y "$BK/root-file"
user_fail "chown by non-root fails (own file to root)" "Operation not permitted" chown 0 "$BK/user-file"
user_fail "chown by non-root fails (root's file to self)" "Operation not permitted" chown "$TUID" "$BK/root-file"
user_fail "chgrp to a group the user is not in fails" "Operation not permitted" chgrp 0 "$BK/user-file"
same "root's file is unchanged" "root 644 0 0" bash -c "echo \$(cat '$BK/root-file') \$(stat -c '%a %u %g' '$BK/root-file')"
check "no stolen file appeared" bash -c "! test -e '$BK/stolen'"
same "the user's file still belongs to the user" "$TUID $TGID" stat -c '%u %g' "$BK/user-file"
check ".shoal/errors lines read '<time> <path> <AwsCode>: <msg>'" bash -c "
  ! grep -v '^[0-9T:-]*Z /[^ ]* [A-Za-z]*: ' '$MNT/.shoal/errors'"

# --- root may do everything ----------------------------------------------------------
check "root chown works" chown 4321:8765 "$BK/user-file"
same "root's chown shows up" "4321 8765" stat -c '%u %g' "$BK/user-file"
check "root chown -R of a directory" chown -R "$TUID:$TGID" "$BK/root-dir"
same "chown -R shows up" "$TUID $TGID" stat -c '%u %g' "$BK/root-dir"
user_check "after chown, the user may create in that directory" bash -c "echo x >'$BK/root-dir/now-mine'"
user_fail "after chown away, the user cannot read its former 0600 file" "Permission denied" cat "$BK/user-file"
check "root can write the user's files" bash -c "echo root-was-here >>'$BK/user-dir/copied'"
check "root chown -h of a symlink" chown -h 77:88 "$BK/user-link"
same "chown -h shows up on the link" "77 88" stat -c '%u %g' "$BK/user-link"
user_check "user deletes its own file in the sticky bucket" rm "$BK/umask-file"

# --- ownership survives a remount ----------------------------------------------------
stat_all() { (cd "$BK" && find . -print0 | sort -z | xargs -0 stat -c '%n %u %g %a'); }
before=$(stat_all)
check "shoal umount" umount_store
check "remount --allow-other" mount_store "$STORE" "$MNT" --allow-other
same "owners and modes survive the remount" "$before" stat_all
user_fail "still refused after remount: write root's file" "Permission denied" bash -c "echo x >>'$BK/root-file'"
user_check "still allowed after remount: read root's file" cat "$BK/root-file"
check "shoal umount" umount_store

# --- without --allow-other only the mounting user gets in ------------------------------
check "mount without --allow-other" mount_store
user_fail "without --allow-other the user is shut out" "Permission denied" ls "$MNT"
check "root still gets in" ls "$BK"
check "shoal umount" umount_store
check "shoal fsck STORE exits 0" "$SHOAL" fsck "$STORE"

finish
