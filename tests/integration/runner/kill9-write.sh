#!/bin/sh
# kill -9 of the runner while it rewrites result.json leaves a result.json that parses
# and, after `corun cleanup`, no temporary file (issue 14 item 4): the content is written
# into an unnamed file (O_TMPFILE) and named only to be renamed over the old one, two
# system calls later; a kill between those two leaves ".result.json.<pid>-<n>", which the
# run's journal names ("results") and cleanup removes (so does the next run's start).
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
# A long queue of short jobs: result.json is rewritten all the time (every 200 ms at
# least, growing), so kills at spread-out moments land inside rewrites.
i=0
while [ $i -lt 10 ]; do
        D=$WORK/r$i
        "$CORUN" run -q -o "$D" --repeat 4000 -- true 2>/dev/null &
        pid=$!
        wait_for "run $i's result.json" 20 test -s "$D/result.json"
        # 0.3 .. 1.2 s into the run, a different moment each time.
        sleep "0.$((3 + i % 10))"
        kill -9 "$pid"
        wait "$pid" 2>/dev/null || true
        json "$D/result.json" .run_id >/dev/null || fail "kill $i: result.json does not parse"
        "$CORUN" cleanup >/dev/null
        left=$(find "$D" -name '.result.json*' -o -name '.report.html*' -o -name '.summary.md*' -o -name '.results.csv*')
        [ -z "$left" ] || fail "kill $i left temporary files after cleanup: $left"
        i=$((i + 1))
done
echo ok
