#!/bin/sh
# A results directory that fills up (issue 14 item 2): the run exits 3, each file that could
# not be written is named with the real errno, the job's cut log is marked, the last
# complete result.json stays and no temporary file is left.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups

# 1. A 64 KiB tmpfs: the job's 200 KB of output fills it, then result.json and the report
#    cannot be written either.
M=$WORK/small
mkdir -p "$M"
mount -t tmpfs -o size=64k corun-test-full "$M" || skip "cannot mount a tmpfs"
trap 'umount "$M" 2>/dev/null; cleanup_work' EXIT
rc=0
"$CORUN" run -q -o "$M/r" -- sh -c 'head -c 200000 /dev/zero | tr "\0" x; echo; echo done' 2>"$WORK/err1" || rc=$?
assert_eq "$rc" 3 "exit status with a full results disk"
grep -q "log $M/r/logs/.*cut at [0-9]* bytes: No space left on device" "$WORK/err1" ||
        fail "the cut log is not named with ENOSPC: $(cat "$WORK/err1")"
grep -q "cannot write $M/r/result.json: No space left on device" "$WORK/err1" ||
        fail "result.json's failure is not named with ENOSPC: $(cat "$WORK/err1")"
grep -q "report.html: No space left on device" "$WORK/err1" ||
        fail "the report's failure is not named with ENOSPC: $(cat "$WORK/err1")"
# The last complete result.json (written as the run started) is still there and parses.
json "$M/r/result.json" .run_id >/dev/null || fail "result.json does not parse"
[ -z "$(find "$M" -name '.*.??????')" ] || fail "temporary files left: $(find "$M" -name '.*')"
umount "$M"
trap cleanup_work EXIT

# 2. Only the log cannot grow (a file size limit, SIGXFSZ ignored): result.json is written
#    and says which job's log was cut.
rc=0
(
        trap '' XFSZ
        ulimit -f 256 # 128 KiB (512-byte blocks) or 256 KiB (1 KiB blocks), shell-dependent
        exec "$CORUN" run -q -o "$WORK/r2" -- sh -c 'head -c 1000000 /dev/zero | tr "\0" y' 2>"$WORK/err2"
) || rc=$?
assert_eq "$rc" 3 "exit status with a log that cannot grow"
assert_eq "$(job "$WORK/r2/result.json" sh .log_truncated)" true "log_truncated"
json "$WORK/r2/result.json" '.warnings[]' | grep -q "job 'sh': log .* cut at [0-9]* bytes: File too large" ||
        fail "no warning about the cut log in result.json: $(json "$WORK/r2/result.json" .warnings)"
# An untouched run says false.
"$CORUN" run -q -o "$WORK/r3" -- echo hi
assert_eq "$(job "$WORK/r3/result.json" echo .log_truncated)" false "log_truncated of a normal job"
echo ok
