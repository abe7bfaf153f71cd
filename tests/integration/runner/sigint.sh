#!/bin/sh
# SIGINT mid-run: jobs get their stop signal, corun exits 130, result.json is valid and partial.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -o "$R" 'sleep 30' 'sleep 31' &
pid=$!
for i in $(seq 50); do
        [ -f "$R/result.json" ] && pgrep -x sleep >/dev/null && break
        sleep 0.1
done
sleep 0.3
kill -INT $pid
rc=0
wait $pid || rc=$?
assert_eq "$rc" 130 "exit status after SIGINT"
assert_eq "$(json "$R/result.json" .partial)" true "partial"
assert_eq "$(json "$R/result.json" .interrupted)" true "interrupted"
assert_eq "$(json "$R/result.json" '.runs[0].jobs | length')" 2 "jobs recorded"
assert_eq "$(json "$R/result.json" '[.runs[0].jobs[].reason] | unique | join(",")')" interrupted "reasons"
pgrep -f 'sleep 3[01]' >/dev/null && fail "sleep left running"
echo ok
