#!/bin/sh
# A job that double-forks a long-lived daemon leaves no process behind.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -o "$R" -- "$HELPERS/daemonize" 1000 || fail "corun run failed"
pid=$(head -n1 "$R/$(job "$R/result.json" daemonize .logs.stdout)")
[ -n "$pid" ] || fail "daemonize printed no pid"
if alive "$pid"; then
        kill -9 "$pid"
        fail "daemon $pid survived its job"
fi
# ... and says so (issue 14): the daemon is counted and warned about.
assert_eq "$(job "$R/result.json" daemonize .leftovers_killed)" 1 "leftovers_killed"
json "$R/result.json" '.warnings[]' | grep -q "job 'daemonize': 1 process it left running (daemons, children) was killed" ||
        fail "no warning about the daemon: $(json "$R/result.json" .warnings)"
echo ok
