#!/bin/sh
# Phases and metrics from job output: live timing against known intervals, CPU time per
# phase, a flood of output with markers inside, the replay of a shipped log and of a
# clock-only log, and timestamps in a live run.
#
# Bounds (CONVENTIONS 21): a phase's wall time is the gap between the moments the runner
# reads its two markers from the job's pipe. Each read can come late by the runner's
# wakeup latency, and the job's own sleep between them can oversleep by its wakeup
# latency: on an idle machine a few ms, on a 2-core machine shared with builds up to a
# few hundred ms at worst (see timeout.sh). The intervals are 400 ms and the margin is
# 150 ms (250 ms inside the TCG VM, where everything is several times slower): wide for
# the scheduler, still far from the neighbouring wrong answers (0, or two phases in one,
# 800 ms). CPU time is checked against what the burner itself measured, to within what
# one thread can burn while the runner is late on a marker.
. "$SRCDIR/tests/integration/lib.sh"
tol=0.15
[ "${CORUN_IN_VM:-0}" = 1 ] && tol=0.25
near() { assert_between "$1" "$(awk -v v="$2" -v t="$tol" 'BEGIN { print v - t }')" \
        "$(awk -v v="$2" -v t="$tol" 'BEGIN { print v + t }')" "$3"; }
need_root_cgroups
cat > "$WORK/p.yaml" <<Y
jobs:
  sleepy:
    command: [$HELPERS/markers, --interval-ms, "400", --count, "3"]
    phases: ['phase \\d start']
  burner:
    command: [sh, -c, 'echo "idle start"; sleep 0.4; echo "idle end"; corun stress cpu --work 600; echo "speed: 3.5 GiB/s"; echo "speed: 1.5 GiB/s"']
    phases:
      idle: {start: 'idle start', end: 'idle end'}
      burn: {start: 'phase burn start', end: 'phase burn end'}
      open: {start: 'phase burn start', end: 'never printed'}
    metrics:
      speed: {pattern: 'speed: ([0-9.]+ \\S+)', agg: max}
      burned: 'work=\\d+ threads=1 wall_s=\\S+ cpu_s=([0-9.]+)'
Y
R=$WORK/res
"$CORUN" run -q -o "$R" "$WORK/p.yaml" || fail "run failed"
f=$R/result.json
assert_eq "$(job "$f" sleepy '.phases | length')" 3 "short-form phases"
for i in 0 1 2; do
        # markers prints "phase K start", sleeps 400 ms, prints "phase K end", and the
        # next start follows at once: each short-form phase lasts 400 ms; the last one
        # ends with the job.
        near "$(job "$f" sleepy ".phases[$i].wall_s")" 0.4 "phase $i wall (400 ms)"
        assert_eq "$(job "$f" sleepy ".phases[$i].unfinished")" false "phase $i finished"
done
near "$(job "$f" burner '.phases[] | select(.name == "idle") | .wall_s')" 0.4 "idle wall (400 ms)"
assert_between "$(job "$f" burner '.phases[] | select(.name == "idle") | .cpu_s')" 0 0.05 "idle cpu"
# The burn phase's CPU time is what the burner measured between its two markers
# (CLOCK_PROCESS_CPUTIME_ID), whatever share of a core it got, give or take what its
# one thread burns while the runner is late reading a marker: 250 ms (see the top).
burned=$(job "$f" burner '.metrics.burned')
burn_cpu=$(job "$f" burner '.phases[] | select(.name == "burn") | .cpu_s')
assert_between "$burned" 0.05 100 "cpu the burner measured"
assert_between "$(awk -v a="$burn_cpu" -v b="$burned" 'BEGIN { print a - b }')" -0.25 0.25 \
        "burn cpu $burn_cpu s vs ${burned} s measured by the burner (difference)"
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
# A clock without a date, across midnight, with a marker before the first timestamp
# (which takes that timestamp's time): load 23:58:00 -> 23:59:30.5 = 90.5 s; run
# 23:59:31 -> 01:00:01 the next day = 3630 s, starting 91 s after load.
cat > "$WORK/c.yaml" <<'Y'
jobs:
  night:
    command: ['true']
    timestamp: {regex: '^\[(\d\d:\d\d:\d\d(?:\.\d+)?)\]', format: '%H:%M:%S'}
    phases:
      load: {start: 'load start', end: 'load end'}
      run: {start: 'run start', end: 'run end'}
Y
printf '%s\n' 'banner: load start' '[23:58:00] config read' '[23:59:30.500] load end' '[23:59:31] run start' \
        '[00:10:31] halfway' '[01:00:01] run end' > "$WORK/c.log"
"$CORUN" phases "$WORK/c.log" --config "$WORK/c.yaml" --json > "$WORK/c.json" || fail "corun phases (clock) failed"
assert_eq "$(jq -c '[.[0].phases[] | [.name, .start_s, .wall_s, .unfinished]]' "$WORK/c.json")" \
        '[["load",0,90.5,false],["run",91,3630,false]]' "clock-only replay across midnight"
# A format that reads none of the log's times: a warning that says so.
sed 's/%H:%M:%S/%Y %H:%M:%S/' "$WORK/c.yaml" > "$WORK/c2.yaml"
"$CORUN" phases "$WORK/c.log" --config "$WORK/c2.yaml" > /dev/null 2> "$WORK/c2.err" || fail "corun phases (bad format) failed"
grep -q "no line has a time that timestamp regex .* can read.*e.g. '23:58:00'" "$WORK/c2.err" \
        || fail "no warning for a format that reads nothing: $(cat "$WORK/c2.err")"
# A day without a year is refused before reading, with the place in the file.
sed 's/%H:%M:%S/%d %H:%M:%S/' "$WORK/c.yaml" > "$WORK/c3.yaml"
"$CORUN" phases "$WORK/c.log" --config "$WORK/c3.yaml" > /dev/null 2> "$WORK/c3.err" && fail "a day without a year was accepted"
grep -q "c3.yaml:2:3: job 'night': timestamp format '%d %H:%M:%S' has a day but no year" "$WORK/c3.err" \
        || fail "unclear error for a day without a year: $(cat "$WORK/c3.err")"
# Live with timestamp: a marker before the first timestamped line keeps its arrival time
# (the job's elapsed time). load: 0.5 s of sleep before the first timestamp and 0.5 s
# between the job's own timestamps, so 1 s, less however late the runner read the start
# marker (its arrival time); the replay rule would give 0.5 s. 0.8 leaves 200 ms for that
# read and still tells the two rules apart.
cat > "$WORK/l.yaml" <<'Y'
jobs:
  live:
    command: [sh, -c, 'echo "load start"; sleep 0.5; echo "$(date -u +%H:%M:%S.%N) ready"; sleep 0.5; echo "$(date -u +%H:%M:%S.%N) load end"']
    timestamp: {regex: '^(\S+) ', format: '%H:%M:%S.%f'}
    phases:
      load: {start: 'load start', end: 'load end'}
Y
"$CORUN" run -q -o "$WORK/l" "$WORK/l.yaml" || fail "live timestamp run failed"
assert_between "$(job "$WORK/l/result.json" live '.phases[0].wall_s')" 0.8 3 "live load wall (pre-timestamp start)"
echo ok
