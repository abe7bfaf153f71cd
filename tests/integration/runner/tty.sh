#!/bin/sh
# The live display on a real terminal (tmux): a header with done/total and ETA, one line
# per running job with its cores and current phase, and the end lines; then a clean
# summary.
#
# tmux: a private server per test (its socket in $WORK, no user config), kept alive by a dummy session and
# `exit-empty off`. On the shared default server, killing the only session and starting
# a new one at once raced with the server's own exit ("server exited unexpectedly", 3 in
# 300 kill/new pairs). The server is killed by its pid at the end, whatever happened.
# Nothing sleeps a fixed time: every check waits for the screen to show what it looks
# for, and fails, with the screen, when a deadline passes.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
tmux_start_server
WAIT_DETAIL='printf "screen:\n%s\n" "$screen"'
R=$WORK/res
# The jobs sleep 4 s: the first screen must be caught while both run; polling every
# 50 ms, that window is wide even for a loaded machine (sleep's wall time does not
# stretch with load).
start s1 "TERM=xterm NO_COLOR=1 $CORUN run -n ttytest -o $R --job-name alpha --job-name beta 'sleep 4' 'sleep 4'"
wait_for "the live block: header 0/2, ETA unknown, a line for alpha and for beta" 10 \
        shows "ttytest  0/2 done" "ETA unknown" "^  alpha +cpus [0-9]" "^  beta +cpus [0-9]"
# Once corun has exited its last output is on the screen: no more waiting after that.
wait_for "corun to exit 0" 60 shows "^corun-exited-0"
[ -f "$R/summary.md" ] || fail "no summary.md after the run"
shows "end    alpha: exit 0" || fail "no end line:
$screen"
shows "ETA" && fail "live block not cleared at the end:
$screen"
# A second run of the same name learns the ETA from the first.
mkdir -p "$WORK/parent/corun-results" && mv "$R" "$WORK/parent/corun-results/ttytest-20000101T000000Z"
start s2 "cd $WORK/parent && TERM=xterm NO_COLOR=1 $CORUN run -n ttytest --job-name alpha --job-name beta 'sleep 4' 'sleep 4'"
wait_for "an ETA learned from the previous result" 10 shows "ETA [0-9.]+s"
wait_for "the second corun to exit 0" 60 shows "^corun-exited-0"
# The phase column: a job that prints phase markers shows the phase it is in, and the
# next one once its marker is printed.
cat > "$WORK/ph.yaml" <<Y
jobs:
  gamma:
    command: [sh, -c, 'echo "stage warmup"; sleep 3; echo "stage measure"; sleep 3']
    phases: [{warmup: 'stage warmup'}, {measure: 'stage measure'}]
Y
R3=$WORK/res3
start s3 "TERM=xterm NO_COLOR=1 $CORUN run -n ttyphase -o $R3 $WORK/ph.yaml"
wait_for "phase 'warmup' in the line of gamma" 10 shows "^  gamma +cpus [^ ]+ +warmup +[0-9]"
shows "^  gamma .* measure " && fail "phase 'measure' shown before its marker:
$screen"
wait_for "the line of gamma to move on to phase 'measure'" 10 shows "^  gamma +cpus [^ ]+ +measure +[0-9]"
wait_for "an event line for the phase change" 5 shows "phase  gamma: measure started"
wait_for "the third corun to exit 0" 60 shows "^corun-exited-0"
echo ok
