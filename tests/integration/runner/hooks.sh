#!/bin/sh
# Hooks with hyperfine's meanings: setup once, prepare/conclude around every run,
# cleanup once; a failing prepare stops the run before any job starts.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -o "$R" --repeat 2 --setup 'echo S' --prepare 'echo P$CORUN_REPETITION' \
        --conclude 'echo C' --cleanup 'echo X' "touch $WORK/ran-ok" || fail "run failed"
# The job itself ran (so that the file's absence below means something).
[ -e "$WORK/ran-ok" ] || fail "the job of a run with succeeding hooks did not run (no $WORK/ran-ok)"
got=$(grep -v '^==' "$R/logs/hooks.log" | tr '\n' ' ')
assert_eq "$got" "S P0 C P1 C X " "hook order"
assert_eq "$(json "$R/result.json" '.runs | length')" 2 "runs"
rc=0
"$CORUN" run -q -o "$R.2" --prepare 'exit 3' "touch $WORK/ran" > "$WORK/err" 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status of a failed prepare"
grep -q "prepare hook 'exit 3' failed" "$WORK/err" || fail "no message: $(cat "$WORK/err")"
assert_eq "$(json "$R.2/result.json" '[.runs[].jobs[]] | length')" 0 "jobs started after a failed prepare"
# corun has exited, so a job it had started would have touched its file by now.
[ ! -e "$WORK/ran" ] || fail "the job ran although its prepare hook failed ($WORK/ran exists)"
echo ok
