#!/bin/sh
# kill -9 of corun mid-run, then `corun cleanup`: no group, process or scratch dir is left,
# checked against the journal's own list.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
JD=/run/corun
# The job leaves a daemon and a child that the main process's death signal cannot reach.
"$CORUN" run -q -o "$R" "$HELPERS/daemonize 1000 > $WORK/daemon.pid; sleep 100" &
pid=$!
# The run is found by its own journal (its header names the runner's pid), and its
# processes by the groups listed there: other runs may share this machine, and their
# journals and sleeps are not ours. The daemon and the job's sleep are in the job's group
# (and the job's shell, unless it execs its last command as busybox sh does in the VM).
WAIT_DETAIL='echo "journal: $(run_journal $pid); processes: $(run_procs $pid | tr "\n" " ")"'
wait_for "the daemon's pid file" 20 test -s "$WORK/daemon.pid"
daemon_and_sleep() {
        run_procs $pid | grep -qx "$(head -n1 "$WORK/daemon.pid")" && nprocs_at_least $pid 2
}
wait_for "the daemon and the job's sleep in the run's groups" 20 daemon_and_sleep
journal=$(run_journal $pid)
procs=$(run_procs $pid)
cp "$journal" "$WORK/journal.copy"
kill -9 $pid
wait $pid 2>/dev/null || true
daemon=$(head -n1 "$WORK/daemon.pid")
alive "$daemon" || fail "test setup: daemon $daemon not running before cleanup"
"$CORUN" cleanup > "$WORK/cleanup.out" 2>&1 || fail "cleanup failed: $(cat "$WORK/cleanup.out")"
n=0
while read -r kind path rest; do
        case "$kind" in
        cgroup|dir) n=$((n + 1)); [ ! -e "$path" ] || fail "$kind $path left behind after cleanup" ;;
        esac
done < "$WORK/journal.copy"
[ "$n" -ge 3 ] || fail "journal lists only $n resources: $(cat "$WORK/journal.copy")"
alive "$daemon" && fail "daemon $daemon survived cleanup"
# shellcheck disable=SC2086
none_alive $procs || fail "processes of the killed run survived cleanup: $(for p in $procs; do alive $p && ps -o pid=,args= -p $p; done)"
[ ! -e "$journal" ] || fail "journal $journal left behind"
echo ok
