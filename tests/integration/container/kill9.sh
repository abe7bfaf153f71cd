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
own_resources_gone "$WORK/journal.copy" "$id" "after cleanup"
# shellcheck disable=SC2086
none_alive $procs $cpids || fail "processes of the killed run survived cleanup: $(for p in $procs $cpids; do alive $p && ps -o pid=,args= -p $p; done)"
[ ! -e "$journal" ] || fail "journal $journal left behind"
echo ok
