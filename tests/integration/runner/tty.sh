#!/bin/sh
# The live display on a real terminal (tmux): a header with done/total and ETA, one line
# per running job with its cores and current phase, and the end lines; then a clean
# summary.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
command -v tmux >/dev/null || fail "tmux missing (scripts/install-deps.sh installs it)"
R=$WORK/res
S=corun-tty-$$
tmux kill-session -t "$S" 2>/dev/null || true
tmux new-session -d -s "$S" -x 140 -y 40 \
        "TERM=xterm NO_COLOR=1 $CORUN run -n ttytest -o $R --job-name alpha --job-name beta 'sleep 3' 'sleep 3'; sleep 30"
trap 'tmux kill-session -t "$S" 2>/dev/null; cleanup_work' EXIT
sleep 1.5
screen=$(tmux capture-pane -p -t "$S")
echo "$screen" | grep -q "ttytest  0/2 done" || fail "no header on screen:
$screen"
echo "$screen" | grep -q "ETA unknown" || fail "no ETA on screen:
$screen"
echo "$screen" | grep -Eq "^  alpha +cpus [0-9]" || fail "no line for alpha:
$screen"
echo "$screen" | grep -Eq "^  beta +cpus [0-9]" || fail "no line for beta:
$screen"
for i in $(seq 60); do
        [ -f "$R/summary.md" ] && break
        sleep 0.1
done
sleep 0.5
screen=$(tmux capture-pane -p -t "$S")
echo "$screen" | grep -q "end    alpha: exit 0" || fail "no end line:
$screen"
echo "$screen" | grep -q "ETA" && fail "live block not cleared at the end:
$screen"
# A second run of the same name learns the ETA from the first.
R2=$WORK/res2
tmux kill-session -t "$S"
mkdir -p "$WORK/parent/corun-results" && mv "$R" "$WORK/parent/corun-results/ttytest-20000101T000000Z"
tmux new-session -d -s "$S" -x 140 -y 40 \
        "cd $WORK/parent && TERM=xterm NO_COLOR=1 $CORUN run -n ttytest --job-name alpha --job-name beta 'sleep 3' 'sleep 3'; sleep 30"
sleep 1.5
screen=$(tmux capture-pane -p -t "$S")
echo "$screen" | grep -Eq "ETA [0-9.]+s" || fail "ETA not learned from the previous result:
$screen"
for i in $(seq 60); do
        ls "$WORK"/parent/corun-results/ttytest-*/summary.md | grep -qv 20000101 && break
        sleep 0.1
done
# The phase column: a job that prints phase markers shows the phase it is in, and the
# next one once its marker is printed.
tmux kill-session -t "$S"
cat > "$WORK/ph.yaml" <<Y
jobs:
  gamma:
    command: [sh, -c, 'echo "stage warmup"; sleep 3; echo "stage measure"; sleep 3']
    phases: [{warmup: 'stage warmup'}, {measure: 'stage measure'}]
Y
R3=$WORK/res3
tmux new-session -d -s "$S" -x 140 -y 40 "TERM=xterm NO_COLOR=1 $CORUN run -n ttyphase -o $R3 $WORK/ph.yaml; sleep 30"
# wait_line REGEX WHAT: the screen shows a line matching REGEX within 10 s.
wait_line() {
        for i in $(seq 100); do
                screen=$(tmux capture-pane -p -t "$S")
                echo "$screen" | grep -Eq "$1" && return 0
                sleep 0.1
        done
        fail "$2:
$screen"
}
wait_line "^  gamma +cpus [^ ]+ +warmup +[0-9]" "no phase 'warmup' in the line of gamma"
echo "$screen" | grep -Eq "^  gamma .* measure " && fail "phase 'measure' shown before its marker:
$screen"
wait_line "^  gamma +cpus [^ ]+ +measure +[0-9]" "the line of gamma did not move on to phase 'measure'"
echo "$screen" | grep -q "phase  gamma: measure started" || fail "no event line for the phase change:
$screen"
echo ok
