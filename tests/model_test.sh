#!/usr/bin/env bash
# model_test: the model-based random-operation test ($SHOAL_MODEL_TEST)
# applies the same seeded random file operations to a directory in the mount
# and to a plain directory and compares outcomes and trees after every step.
# Three random seeds (printed, so a failure can be replayed with
# `model_test MOUNT_DIR PLAIN_DIR --seed=N --ops=N`) and one fixed seed, then
# a remount and one more comparison of the whole trees.
source "$(dirname "$0")/lib.sh"

MODEL=${SHOAL_MODEL_TEST:?set SHOAL_MODEL_TEST to the model_test binary}
OPS=${SHOAL_MODEL_OPS:-1500}
FIXED_SEED=20240611
BK=$MNT/model-bucket

# start_model NAME SEED: one run, in the background, in fresh directories
# MNT/bucket/NAME and WORK/plain/NAME; its output goes to WORK/NAME.out and
# its exit status to WORK/NAME.rc. The runs use disjoint directories, so
# they can share the mount (most of a run's time is spent waiting for
# synced commits; running them side by side keeps the suite short).
start_model() {
  local name=$1 seed=$2
  mkdir -p "$BK/$name" "$WORK/plain/$name" || { fail "model $name: cannot make its directories"; return; }
  echo "  .... model_test run '$name': --seed=$seed --ops=$OPS"
  (
    timeout -k 10 "${SHOAL_MODEL_TIMEOUT:-600}" \
      "$MODEL" "$BK/$name" "$WORK/plain/$name" --seed="$seed" --ops="$OPS" >"$WORK/$name.out" 2>&1
    echo $? >"$WORK/$name.rc"
  ) &
}
# end_model NAME SEED: after `wait`, report the run.
end_model() {
  local name=$1 seed=$2
  if [[ $(cat "$WORK/$name.rc" 2>/dev/null) == 0 ]]; then
    pass "model_test '$name' seed $seed × $OPS ops: $(tail -1 "$WORK/$name.out")"
  else
    fail "model_test '$name' seed $seed × $OPS ops (replay: $(basename "$MODEL") MOUNT_DIR PLAIN_DIR --seed=$seed --ops=$OPS)"
    tail -20 "$WORK/$name.out" | sed 's/^/       /'
  fi
}

check "mount" mount_store
check "mkdir bucket" mkdir "$BK"

seeds=()
for i in 1 2 3; do seeds+=($(( (RANDOM << 15) | RANDOM ))); done
echo "  .... random seeds this run: ${seeds[*]} (fixed seed $FIXED_SEED)"
names=(sub sub2 sub3 fixed)
all_seeds=("${seeds[@]}" "$FIXED_SEED")
for i in 0 1 2 3; do start_model "${names[i]}" "${all_seeds[i]}"; done
wait
for i in 0 1 2 3; do end_model "${names[i]}" "${all_seeds[i]}"; done

check "diff -r of the trees before remount" diff -r --no-dereference "$WORK/plain" "$BK"
check "shoal umount" umount_store
check "remount" mount_store
check "diff -r of the trees after remount" diff -r --no-dereference "$WORK/plain" "$BK"
same_listing() {
  (cd "$WORK/plain" && find . -printf '%y %s %p\n' | grep -v '^d' | sort) >"$WORK/plain.list"
  (cd "$BK" && find . -printf '%y %s %p\n' | grep -v '^d' | sort) >"$WORK/mount.list"
  (cd "$WORK/plain" && find . -type d | sort) >>"$WORK/plain.list"
  (cd "$BK" && find . -type d | sort) >>"$WORK/mount.list"
  diff "$WORK/plain.list" "$WORK/mount.list"
}
check "find listing (kinds, sizes, names) after remount" same_listing
check "shoal umount" umount_store
check "shoal fsck STORE exits 0" "$SHOAL" fsck "$STORE"

finish
