#!/bin/sh
# Phases and metrics from job output: live timing against known intervals, CPU time per
# phase, a flood of output with markers inside, and the replay of a shipped log.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
cat > "$WORK/p.yaml" <<Y
jobs:
  sleepy:
    command: [$HELPERS/markers, --interval-ms, "200", --count, "3"]
    phases: ['phase \\d start']
  burner:
    command: [sh, -c, 'echo "idle start"; sleep 0.3; echo "idle end"; echo "burn start"; $HELPERS/markers --interval-ms 300 --count 1 --burn > /dev/null; echo "burn end"; echo "speed: 3.5 GiB/s"; echo "speed: 1.5 GiB/s"']
    phases:
      idle: {start: 'idle start', end: 'idle end'}
      burn: {start: 'burn start', end: 'burn end'}
      open: {start: 'burn start', end: 'never printed'}
    metrics:
      speed: {pattern: 'speed: ([0-9.]+ \\S+)', agg: max}
Y
R=$WORK/res
"$CORUN" run -q -o "$R" "$WORK/p.yaml" || fail "run failed"
f=$R/result.json
assert_eq "$(job "$f" sleepy '.phases | length')" 3 "short-form phases"
for i in 0 1 2; do
        # markers prints "phase K start", sleeps 200 ms, prints "phase K end", and the
        # next start follows at once: each short-form phase lasts 200 ms (within 20 ms);
        # the last one ends with the job.
        assert_between "$(job "$f" sleepy ".phases[$i].wall_s")" 0.18 0.22 "phase $i wall (200 ms)"
        assert_eq "$(job "$f" sleepy ".phases[$i].unfinished")" false "phase $i finished"
done
assert_between "$(job "$f" burner '.phases[] | select(.name == "idle") | .wall_s')" 0.28 0.32 "idle wall"
assert_between "$(job "$f" burner '.phases[] | select(.name == "idle") | .cpu_s')" 0 0.05 "idle cpu"
# Under TCG (the VM) starting markers costs ~20x the CPU it does here.
burn_hi=0.35
[ "${CORUN_IN_VM:-}" = 1 ] && burn_hi=0.45
assert_between "$(job "$f" burner '.phases[] | select(.name == "burn") | .cpu_s')" 0.25 $burn_hi "burn cpu"
assert_eq "$(job "$f" burner '.phases[] | select(.name == "open") | .unfinished')" true "open phase unfinished"
assert_eq "$(job "$f" burner '.metrics.speed')" 3.5 "metric max"
# 100 MB of output with a marker every 10,000 lines: every marker counted, memory flat.
cat > "$WORK/o.yaml" <<Y
jobs:
  flood:
    command: [corun, stress, output, --bytes, "100000000", --marker-every, "10000"]
    metrics:
      markers: {pattern: '^marker (\\d+)', agg: all}
Y
"$CORUN" run -q -o "$R.o" "$WORK/o.yaml" &
pid=$!
peak=0
while kill -0 $pid 2>/dev/null; do
        rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
        [ "${rss:-0}" -gt "$peak" ] && peak=$rss
        sleep 0.05
done
wait $pid || fail "flood run failed"
n=$(json "$R.o/result.json" '.runs[0].jobs[0].metric_details.markers.all | length')
lines=$((100000000 / 64))
assert_eq "$n" $((lines / 10000)) "markers seen in 100 MB"
assert_eq "$(json "$R.o/result.json" '.runs[0].jobs[0].metric_details.markers.all[-1]')" $((lines / 10000)) "last marker"
[ "$peak" -lt 20000 ] || fail "corun's RSS reached $peak KiB while copying 100 MB"
# Replay of the shipped log: durations computed by hand from its timestamps.
"$CORUN" phases "$SRCDIR/examples/logs/sealing.log" --config "$SRCDIR/examples/logs/sealing.yaml" --json > "$WORK/r.json" \
        || fail "corun phases failed"
assert_eq "$(jq -r '.[0].phases[] | select(.name == "p1") | .wall_s' "$WORK/r.json")" 314 "p1 02:30:05 -> 02:35:19"
assert_eq "$(jq -r '.[0].phases[] | select(.name == "p2") | .wall_s' "$WORK/r.json")" 7830 "p2 02:35:20 -> 04:45:50"
assert_eq "$(jq -r '.[0].phases[] | select(.name == "c1") | .wall_s' "$WORK/r.json")" 40 "c1"
assert_eq "$(jq -r '.[0].metrics.proofs' "$WORK/r.json")" 0.025 "proofs metric"
echo ok
