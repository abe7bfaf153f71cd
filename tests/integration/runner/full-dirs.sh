#!/bin/sh
# A full scratch directory ($TMPDIR) and a full journal directory (/run/corun) (issue 14):
# a clear error naming the directory and ENOSPC, a non-zero exit, nothing left behind.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
# The groups a run of pid P left (corun/<stamp>-P in every hierarchy); other runs on the
# machine are not this test's business.
groups_of() { find /sys/fs/cgroup -name corun -type d -prune -exec find {} -mindepth 1 -maxdepth 1 -type d -name "*-$1" \; 2>/dev/null; }

# Scratch: a tmpfs with no inode left for the run's scratch dir.
S=$WORK/scratch
mkdir -p "$S"
mount -t tmpfs -o size=64k,nr_inodes=3 corun-test-scratch "$S" || skip "cannot mount a tmpfs"
trap 'umount "$S" 2>/dev/null; cleanup_work' EXIT
mkdir "$S/a" "$S/b" 2>/dev/null || true
rc=0
TMPDIR=$S "$CORUN" run -q -o "$WORK/r1" -- true 2>"$WORK/err1" &
pid=$!
wait "$pid" || rc=$?
[ "$rc" -ne 0 ] || fail "a run without room for its scratch dir exited 0"
grep -q "cannot create the scratch dir $S/corun-[^:]*: No space left on device" "$WORK/err1" ||
        fail "scratch error not clear: $(cat "$WORK/err1")"
[ -z "$(groups_of "$pid")" ] || fail "groups left: $(groups_of "$pid")"
[ -z "$(ls "$S" | grep -v '^[ab]$')" ] || fail "left in the scratch dir: $(ls "$S")"
umount "$S"

# Journal: /run/corun full (a tmpfs over it for the test; nothing else runs meanwhile).
mkdir -p /run/corun
mount -t tmpfs -o size=4k,nr_inodes=2 corun-test-journal /run/corun || skip "cannot mount a tmpfs on /run/corun"
trap 'umount /run/corun 2>/dev/null; cleanup_work' EXIT
: >/run/corun/fill || true
rc=0
"$CORUN" run -q -o "$WORK/r2" -- true 2>"$WORK/err2" &
pid=$!
wait "$pid" || rc=$?
[ "$rc" -ne 0 ] || fail "a run without room for its journal exited 0"
grep -q "cannot create the journal in /run/corun: No space left on device$" "$WORK/err2" ||
        fail "journal error not clear: $(cat "$WORK/err2")"
[ "$(ls -A /run/corun)" = fill ] || fail "left in the journal dir: $(ls -A /run/corun)"
umount /run/corun
trap cleanup_work EXIT
[ -z "$(groups_of "$pid")" ] || fail "groups left: $(groups_of "$pid")"
echo ok
