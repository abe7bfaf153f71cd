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
echo ok
