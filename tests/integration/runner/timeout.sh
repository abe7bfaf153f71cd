#!/bin/sh
# Wall and CPU limits end the job within a small margin.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -t 300ms -o "$R" -- sleep 10 || true
assert_eq "$(job "$R/result.json" sleep .reason)" timeout "reason"
assert_eq "$(job "$R/result.json" sleep .limit)" wall "limit"
assert_between "$(job "$R/result.json" sleep .wall_s)" 0.299 0.350 "wall_s of a 300 ms timeout"
"$CORUN" run -q --cpu-timeout 300ms -o "$R.cpu" -- corun stress cpu --seconds 10 || true
assert_eq "$(job "$R.cpu/result.json" corun .reason)" timeout "cpu reason"
assert_eq "$(job "$R.cpu/result.json" corun .limit)" cpu "cpu limit"
cpu=$(jq -r '.runs[0].jobs[0] | .user_s + .sys_s' "$R.cpu/result.json")
assert_between "$cpu" 0.29 0.40 "CPU time at a 300 ms CPU limit"
echo ok
