#!/bin/sh
# Wall and CPU limits end the job: never before the limit, and soon after it.
#
# Bounds: the lower bound is exact (the runner's timerfd never fires early, and the CPU
# check is due only when the budget could have been spent at full speed). Above the
# limit, what follows the timer is the runner's wakeup, a signal and a reap: a few
# scheduling latencies. On an idle machine that is under 10 ms (and under load 4 on
# this 2-core machine, 8 runs: at most 10 ms); a 2-core machine shared with builds can
# delay one runnable process by CFS periods stretched over every runnable task, a few
# hundred ms at worst. 500 ms of slack covers that and still tells a working timer from
# none (the jobs would run 10 s) or from one only checked on the 1 s heartbeat. For
# CPU time, the job burns one thread: it can overshoot by at most that same delay.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -t 300ms -o "$R" -- sleep 10 || true
assert_eq "$(job "$R/result.json" sleep .reason)" timeout "reason"
assert_eq "$(job "$R/result.json" sleep .limit)" wall "limit"
assert_between "$(job "$R/result.json" sleep .wall_s)" 0.299 0.8 "wall_s of a 300 ms timeout (+500 ms for scheduling)"
"$CORUN" run -q --cpu-timeout 300ms -o "$R.cpu" -- corun stress cpu --seconds 10 || true
assert_eq "$(job "$R.cpu/result.json" corun .reason)" timeout "cpu reason"
assert_eq "$(job "$R.cpu/result.json" corun .limit)" cpu "cpu limit"
cpu=$(jq -r '.runs[0].jobs[0] | .user_s + .sys_s' "$R.cpu/result.json")
assert_between "$cpu" 0.29 0.8 "CPU time at a 300 ms CPU limit (+500 ms for scheduling)"
# A job that ignores the stop signal is killed when the grace period ends: the grace timer
# never fires early (>= 0.6 s), and the kill follows it by scheduling latency only.
"$CORUN" run -q -t 300ms --grace 300ms -o "$R.term" -- sh -c "trap '' TERM; while :; do sleep 0.05; done" || true
assert_eq "$(job "$R.term/result.json" sh .reason)" timeout "reason of a job ignoring SIGTERM"
assert_between "$(job "$R.term/result.json" sh .wall_s)" 0.599 1.6 "wall_s: 300 ms timeout + 300 ms grace (+1 s for scheduling)"
echo ok
