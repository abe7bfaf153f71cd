#!/bin/sh
# A scenario's allowed_cpus keeps its jobs inside that set (they queue for it), and a
# scenario memory_total becomes the limit of the scenario's group.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
cat > "$WORK/s.yaml" <<'Y'
jobs:
  a: {command: [sh, -c, 'grep Cpus_allowed_list /proc/self/status; sleep 0.3']}
  b: {command: [sh, -c, 'grep Cpus_allowed_list /proc/self/status; sleep 0.3']}
scenarios:
  pinned: {allowed_cpus: "1", memory_total: 64M}
  hog: {jobs: [a], memory_total: 32M}
Y
R=$WORK/res
"$CORUN" run -q -o "$R" "$WORK/s.yaml" || fail "run failed"
for j in a b; do
        out="$R/$(json "$R/result.json" "[.runs[0].jobs[] | select(.name == \"$j\")][0].logs.stdout")"
        assert_eq "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$out")" 1 "job $j cpus"
done
ea=$(json "$R/result.json" '[.runs[0].jobs[] | select(.name == "a")][0].ended_s')
sb=$(json "$R/result.json" '[.runs[0].jobs[] | select(.name == "b")][0].started_s')
sa=$(json "$R/result.json" '[.runs[0].jobs[] | select(.name == "a")][0].started_s')
eb=$(json "$R/result.json" '[.runs[0].jobs[] | select(.name == "b")][0].ended_s')
awk -v ea="$ea" -v sb="$sb" -v sa="$sa" -v eb="$eb" 'BEGIN { exit !(sb >= ea - 0.001 || sa >= eb - 0.001) }' \
        || fail "a [$sa,$ea] and b [$sb,$eb] overlapped on one allowed CPU"
# memory_total: a job touching 64M in a scenario capped at 32M is OOM-killed.
cat > "$WORK/m.yaml" <<'Y'
jobs:
  t: {command: [corun, stress, mem, 64M]}
scenarios:
  capped: {memory_total: 32M}
Y
"$CORUN" run -q -o "$R.m" "$WORK/m.yaml" || true
assert_eq "$(json "$R.m/result.json" '.runs[0].jobs[0].reason')" oom "reason under the scenario limit"
# Memory admission holds inside allowed_cpus too: two jobs whose limits are each 60 % of
# what jobs may commit here (`corun plan` says how much) never run at once, though each has a core of its own.
printf 'jobs: {t: {command: [true]}}\n' >"$WORK/t.yaml"
avail=$("$CORUN" plan --json "$WORK/t.yaml" | jq -r .machine.memory_available_bytes)
mem=$(awk -v a="$avail" 'BEGIN { printf "%d", a * 0.6 / 1048576 }')
cat > "$WORK/a.yaml" <<Y
defaults: {command: [corun, stress, sleep, 500ms], cpus: 1, memory: ${mem}M}
jobs: {x: {}, y: {}}
scenarios:
  both: {jobs: [x, y], allowed_cpus: "0-1"}
Y
"$CORUN" run -q -o "$R.a" "$WORK/a.yaml" || fail "admission run failed"
f=$R.a/result.json
sx=$(json "$f" '.runs[0].jobs[] | select(.name == "x") | .started_s') ex=$(json "$f" '.runs[0].jobs[] | select(.name == "x") | .ended_s')
sy=$(json "$f" '.runs[0].jobs[] | select(.name == "y") | .started_s') ey=$(json "$f" '.runs[0].jobs[] | select(.name == "y") | .ended_s')
awk -v a="$sx" -v b="$ex" -v c="$sy" -v d="$ey" 'BEGIN { exit !(c >= b - 0.001 || a >= d - 0.001) }' ||
        fail "x [$sx,$ex] and y [$sy,$ey] ran at once though their memory limits do not fit together"
echo ok
