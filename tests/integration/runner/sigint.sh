#!/bin/sh
# SIGINT mid-run: jobs get their stop signal, corun exits 130, result.json is valid and partial.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -o "$R" 'sleep 30' 'sleep 31' &
pid=$!
# Both jobs are running once the run's own groups (from its journal, not `pgrep sleep`,
# which would match any sleep on a machine shared with other test runs) hold their two
# processes.
WAIT_DETAIL='echo "journal: $(run_journal $pid); processes: $(run_procs $pid | tr "\n" " ")"'
wait_for "the run's two jobs to be running" 20 nprocs_at_least $pid 2
wait_for "result.json to be written" 10 test -f "$R/result.json"
jobs=$(run_procs $pid)
kill -INT $pid
rc=0
wait $pid || rc=$?
assert_eq "$rc" 130 "exit status after SIGINT"
assert_eq "$(json "$R/result.json" .partial)" true "partial"
assert_eq "$(json "$R/result.json" .interrupted)" true "interrupted"
assert_eq "$(json "$R/result.json" '.runs[0].jobs | length')" 2 "jobs recorded"
assert_eq "$(json "$R/result.json" '[.runs[0].jobs[].reason] | unique | join(",")')" interrupted "reasons"
# corun has exited: its jobs must be gone already, no waiting.
# shellcheck disable=SC2086
none_alive $jobs || fail "job processes left running: $(for p in $jobs; do alive $p && ps -o pid=,args= -p $p; done)"
echo ok
