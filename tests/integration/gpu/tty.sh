#!/bin/sh
# SPDX-License-Identifier: MIT
# The live display on a terminal (tmux, as runner/tty.sh) shows a GPU job's SM share and
# GPU memory in its line, on the simulated GPU.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
: "${GPU_SIM_DIR:?}"
command -v tmux >/dev/null || fail "tmux missing (scripts/install-deps.sh installs it)"
SOCK=$WORK/tmux.sock
tm() { tmux -S "$SOCK" -f /dev/null "$@"; }
tm new-session -d -s keep -x 140 -y 40 "sleep 100000" || fail "cannot start a tmux server on socket $SOCK"
tm set -g exit-empty off >/dev/null || fail "tmux: cannot set exit-empty off"
server=$(tm display-message -p -t keep '#{pid}') || fail "tmux: no server pid"
stop_tmux() {
        kill "$server" 2>/dev/null || true
        poll 5 not alive "$server" || kill -9 "$server" 2>/dev/null || true
        cleanup_work
}
trap stop_tmux EXIT
shows() {
        screen=$(tm capture-pane -p -t gpu) || return 1
        for _re in "$@"; do
                printf '%s\n' "$screen" | grep -Eq -- "$_re" || return 1
        done
}
WAIT_DETAIL='printf "screen:\n%s\n" "$screen"'
tm new-session -d -s gpu -x 140 -y 40 "CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR CORUN_GPU_SIM_STATE=$WORK/state TERM=xterm NO_COLOR=1 $SRCDIR/scripts/gpu-sim.sh $CORUN run -n ttygpu -o $WORK/r --gpus 1 -c all '$CORUN stress gpu --seconds 4 --duty 0.5 --mem 64M'; echo corun-exited-\$?; sleep 100000" ||
        fail "tmux: cannot start the session"
wait_for "the GPU share and memory in the job's line" 10 shows "^  corun +cpus .* gpu [0-9]+% 64.0 MiB"
wait_for "corun to exit 0" 60 shows "^corun-exited-0"
echo ok
