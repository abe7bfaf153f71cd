#!/bin/sh
# Ctrl-C (SIGINT) of corun while a job runs in an image: corun exits 130 with the job
# interrupted, and has removed the container itself: none left (`podman ps -a`), no
# group, no process, before any `corun cleanup` (issue 18).
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/container/container-lib.sh"
start_sleeper
R=$WORK/res
cp "$(run_journal $pid)" "$WORK/journal.copy"
kill -INT $pid
rc=0
wait $pid || rc=$?
assert_eq "$rc" 130 "exit status after SIGINT: $(cat "$WORK/out")"
assert_eq "$(job "$R/result.json" box .reason)" interrupted "reason"
assert_eq "$(job "$R/result.json" box .container.name)" "$name" "container in the result"
# corun has exited: no waiting for the container or its processes.
assert_eq "$(engine_containers "$id")" "" "containers of the run after Ctrl-C"
# The run's own groups and scratch dir are gone too.
own_resources_gone "$WORK/journal.copy" "$id" "after Ctrl-C"
# shellcheck disable=SC2086
none_alive $procs $cpids || fail "processes left running: $(for p in $procs $cpids; do alive $p && ps -o pid=,args= -p $p; done)"
echo ok
