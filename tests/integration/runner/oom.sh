#!/bin/sh
# A 256 MiB toucher under a 128 MiB limit ends with reason oom; its neighbour is unharmed.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
rc=0
"$CORUN" run -q -N -m 128M -o "$R" --job-name hog --job-name calm \
        "corun stress mem 256M --hold 1s" "corun stress mem 32M --hold 500ms" || rc=$?
assert_eq "$rc" 1 "exit status with a failed job"
assert_eq "$(job "$R/result.json" hog .reason)" oom "hog reason"
assert_eq "$(job "$R/result.json" hog .signal)" 9 "hog signal"
[ "$(job "$R/result.json" hog .memory.events.oom_kill)" -ge 1 ] || fail "oom_kill not counted"
assert_eq "$(job "$R/result.json" calm .reason)" exit "calm reason"
assert_eq "$(job "$R/result.json" calm .exit_code)" 0 "calm exit code"
assert_eq "$(job "$R/result.json" hog .applied.memory_bytes)" 134217728 "hog applied limit"
peak=$(job "$R/result.json" calm .memory.peak_bytes)
assert_between "$peak" 33554432 67108864 "calm peak bytes"
echo ok
