#!/bin/sh
# Jobs that flood or drop their output (issue 14): 2 GB on stdout all reach the log while
# the runner's memory stays bounded (it streams the pipe to the file); a job that closes
# its stdout and runs on is not taken for finished.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
# 2 GB on the host; in the VM (its disk is its memory) 200 MB.
bytes=2000000000
[ "${TIME_SCALE:-1}" -gt 1 ] && bytes=200000000
R=$WORK/flood
# GNU time (installed by the setup script; the VM's busybox has none: there the bytes are
# checked, not the memory).
timer=""
[ -x /usr/bin/time ] && /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null && timer="/usr/bin/time -f %M -o $WORK/rss"
$timer "$CORUN" run -q -o "$R" -- head -c "$bytes" /dev/zero || fail "the flooding run failed"
log="$R/$(job "$R/result.json" head .logs.stdout)"
assert_eq "$(stat -c %s "$log")" "$bytes" "bytes in the job's log"
assert_eq "$(job "$R/result.json" head .log_truncated)" false "log_truncated"
# Max RSS of corun and what it waited for (head's is a few MiB): the runner reads the pipe
# in fixed chunks, so its memory does not grow with the output.
if [ -n "$timer" ]; then
        rss=$(cat "$WORK/rss")
        echo "runner max RSS with $bytes bytes of output: $rss KiB"
        [ "$rss" -lt 65536 ] || fail "runner max RSS $rss KiB with a flooding job (want < 64 MiB)"
fi
rm -f "$log"

# stdout closed, the job goes on for 1 s and then writes to stderr.
R=$WORK/closed
"$CORUN" run -q -o "$R" -- sh -c 'exec >&-; sleep 1; echo still-here >&2' || fail "the closed-stdout run failed"
assert_eq "$(job "$R/result.json" sh .reason)" exit "reason"
assert_between "$(job "$R/result.json" sh .wall_s)" 0.999 30 "wall_s of a job that ran on after closing stdout"
grep -q still-here "$R/$(job "$R/result.json" sh .logs.stderr)" || fail "its later stderr is not in the log"
echo ok
