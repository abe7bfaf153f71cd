#!/bin/sh
# Two containers side by side on separate cores, each timing a phase from its own
# output (issue 18): each sees only the core corun gave it, the two cores differ, the
# runs overlap in time, and each has its phase with wall and CPU time.
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/container/container-lib.sh"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
cat > "$WORK/c.yaml" <<'Y'
defaults:
  image: @IMAGE@
  cpus: 1
  memory: 128M
  timeout: 90s
  command: [sh, -c, 'grep Cpus_allowed_list /proc/self/status; echo "burn start";
            i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo "burn end"']
  phases:
    burn: {start: 'burn start', end: 'burn end'}
jobs:
  left: {}
  right: {}
Y
subst "$WORK/c.yaml"
R=$WORK/res
"$CORUN" run -q -o "$R" "$WORK/c.yaml" >"$WORK/out" 2>&1 || fail "run failed: $(cat "$WORK/out")"
f=$R/result.json
for j in left right; do
        assert_eq "$(job "$f" $j .reason)" exit "$j reason"
        assert_eq "$(job "$f" $j .exit_code)" 0 "$j exit code"
        c=$(job "$f" $j .applied.cpus)
        grep -q "^Cpus_allowed_list:[[:space:]]*$c\$" "$R/$(job "$f" $j .logs.stdout)" ||
                fail "$j sees $(grep Cpus "$R/$(job "$f" $j .logs.stdout)"), applied $c"
        assert_eq "$(job "$f" $j '.phases | length')" 1 "$j phases"
        assert_eq "$(job "$f" $j '.phases[0].name')" burn "$j phase name"
        assert_eq "$(job "$f" $j '.phases[0].unfinished')" false "$j phase finished"
        # The loop burns CPU between the two lines: the phase has wall and CPU time.
        json "$f" "[.runs[].jobs[] | select(.name == \"$j\")][0].phases[0] | .wall_s > 0 and .cpu_s > 0" |
                grep -qx true || fail "$j phase times: $(job "$f" $j '.phases[0]')"
        assert_eq "$(job "$f" $j .container.engine)" podman "$j engine"
done
[ "$(job "$f" left .applied.cpus)" != "$(job "$f" right .applied.cpus)" ] || fail "both on CPU $(job "$f" left .applied.cpus)"
# Side by side: each started before the other ended.
json "$f" '[.runs[0].jobs[] | {s: .started_s, e: .ended_s}] | .[0].s < .[1].e and .[1].s < .[0].e' |
        grep -qx true || fail "not side by side: $(json "$f" '[.runs[0].jobs[] | [.started_s, .ended_s]]')"
echo ok
