#!/bin/sh
# kill -9 of corun while a job runs in an image, then `corun cleanup`: no container
# (`podman ps -a`), group or process of the run is left (issue 18).
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/container/container-lib.sh"
start_sleeper
journal=$(run_journal $pid)
cp "$journal" "$WORK/journal.copy"
kill -9 $pid
wait $pid 2>/dev/null || true
# The runner is gone; its container is not (what a dead run leaves for cleanup).
assert_eq "$(engine_containers "$id")" "$name" "the container after kill -9, before cleanup"
"$CORUN" cleanup >"$WORK/cleanup.out" 2>&1 || fail "cleanup failed: $(cat "$WORK/cleanup.out")"
grep -q "^removed container $name\$" "$WORK/cleanup.out" || fail "cleanup did not remove $name: $(cat "$WORK/cleanup.out")"
assert_eq "$(engine_containers "$id")" "" "containers of the run after cleanup"
while read -r kind path rest; do
        case "$kind" in
        # The run's own groups and dirs; the shared parent (corun/) may hold other runs.
        cgroup|dir) case "$path" in *"$id"*) [ ! -e "$path" ] || fail "$kind $path left behind after cleanup" ;; esac ;;
        esac
done <"$WORK/journal.copy"
# shellcheck disable=SC2086
none_alive $procs $cpids || fail "processes of the killed run survived cleanup: $(for p in $procs $cpids; do alive $p && ps -o pid=,args= -p $p; done)"
[ ! -e "$journal" ] || fail "journal $journal left behind"
echo ok
