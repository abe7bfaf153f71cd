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
echo ok
