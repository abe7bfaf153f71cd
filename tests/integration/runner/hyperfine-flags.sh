#!/bin/sh
# hyperfine's flags in quick mode (issue 13): --warmup runs that are recorded but never
# counted, mean ± σ / median / min … max and relative speed over the repetitions,
# --export-json/-csv/-markdown copies, -i/--ignore-failure, --show-output, --style.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
cd "$WORK"

# --warmup 2 --runs 3: five runs per job, the first two marked and left out of the statistics.
"$CORUN" run --warmup 2 --runs 3 -c all -o "$WORK/w" --export-json "$WORK/x.json" --export-csv "$WORK/x.csv" \
        --export-markdown "$WORK/x.md" 'sleep 0.05' 'sleep 0.15' >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
R=$WORK/w/result.json
assert_eq "$(json "$R" '[.runs[] | .warmup] | map(tostring) | join(",")')" "true,true,false,false,false" "warmup marks"
assert_eq "$(json "$R" '[.runs[] | .repetition] | map(tostring) | join(",")')" "0,1,0,1,2" "repetition numbers"
grep -Eq "^default +warmup 1 +sleep " "$WORK/out" || fail "the table does not mark warm-ups: $(cat "$WORK/out")"
D="[0-9.]+(ns|us|ms|s)"
grep -Eq "^  default sleep: $D ± $D \(mean ± σ\), median $D, $D … $D, n=3$" "$WORK/out" ||
        fail "no mean ± σ over the 3 counted runs: $(cat "$WORK/out")"
grep -Eq "^    [0-9]+\.[0-9]+ ± [0-9]+\.[0-9]+ times faster than sleep-2$" "$WORK/out" || fail "no relative speed: $(cat "$WORK/out")"
ratio=$(sed -n 's/^    \([0-9.]*\) ± .* times faster than sleep-2$/\1/p' "$WORK/out")
assert_between "$ratio" 1.8 4.0 "sleep 0.15 against sleep 0.05"
grep -q "^| default | sleep | .* | 3 |$" "$WORK/w/summary.md" || fail "summary.md repetitions: $(cat "$WORK/w/summary.md")"
assert_eq "$(grep -c ',true,\|,true$' "$WORK/w/results.csv")" 4 "warm-up rows in results.csv"
# the exports are the result files
cmp -s "$R" "$WORK/x.json" || fail "--export-json differs from result.json"
cmp -s "$WORK/w/results.csv" "$WORK/x.csv" || fail "--export-csv differs from results.csv"
cmp -s "$WORK/w/summary.md" "$WORK/x.md" || fail "--export-markdown differs from summary.md"

# -L NAME V1,V2 (two arguments, or NAME=V1,V2): one run per value, {NAME} in the command;
# --replicas 1,2: a sweep from the command line.
"$CORUN" run -q -L n 1,2,3 -o "$WORK/L" 'echo value={n}' || fail "-L run"
assert_eq "$(json "$WORK/L/result.json" '[.runs[].params] | join(" ")')" "n=1 n=2 n=3" "-L runs"
assert_eq "$(cat "$WORK/L/logs/"*/*.out | sort | tr '\n' ' ')" "value=1 value=2 value=3 " "{n} substituted"
"$CORUN" run -q -L size=a,b -o "$WORK/L2" 'echo {size}' || fail "-L NAME=VALUES"
assert_eq "$(json "$WORK/L2/result.json" '[.runs[].params] | join(" ")')" "size=a size=b" "-L NAME=VALUES runs"
"$CORUN" run -q -c all --replicas 1,2 -o "$WORK/rep" true || fail "--replicas 1,2"
assert_eq "$(json "$WORK/rep/result.json" '[.runs[] | "\(.replicas):\(.jobs | length)"] | join(" ")')" "1:1 2:2" "the sweep"
# Labels: a baseline says what it was made for, a sweep row its copies, rows by job name
# (copies in number order), repetitions from 1 everywhere.
"$CORUN" run -c all --replicas 10 --solo -o "$WORK/lab" 'sleep 0.01' >"$WORK/lab.out" 2>&1 ||
        fail "labels run: $(cat "$WORK/lab.out")"
grep -Eq "^solo for default +1 +sleep " "$WORK/lab.out" || fail "no 'solo for default': $(cat "$WORK/lab.out")"
assert_eq "$(sed -n 's/^default ×10 *1 *\(sleep#[0-9]*\) .*/\1/p' "$WORK/lab.out" | tr '\n' ' ')" \
        "sleep#1 sleep#2 sleep#3 sleep#4 sleep#5 sleep#6 sleep#7 sleep#8 sleep#9 sleep#10 " "rows of the sweep, in number order"
head -1 "$WORK/lab/results.csv" | grep -q ",solo_for" || fail "results.csv has no solo_for column"
grep -q "^solo,0,true,1,,sleep,.*,default\(,\|$\)" "$WORK/lab/results.csv" || fail "the baseline's solo_for in results.csv: $(grep '^solo' "$WORK/lab/results.csv")"

rc=0
"$CORUN" run -q -L 'bad name' 1,2 true >"$WORK/bad" 2>&1 || rc=$?
assert_eq "$rc" 2 "status of a bad -L name"
grep -q "corun: error: --parameter-list: parameter name 'bad name' must be letters, digits and '_'" "$WORK/bad" || fail "$(cat "$WORK/bad")"

# Two scenarios running the same jobs: each job's median time side by side, with its
# ratio to the first scenario, in the table, summary.md and report.html.
cat >sbs.yaml <<Y
jobs:
  quick: {command: "sleep 0.05"}
  slow: {command: "sleep 0.2"}
scenarios:
  first: {jobs: [quick, slow]}
  second: {jobs: [quick, slow], cpus: all}
Y
"$CORUN" run -o "$WORK/sbs" sbs.yaml >"$WORK/sbs.out" 2>&1 || fail "side by side run: $(cat "$WORK/sbs.out")"
grep -Eq "^  slow +first: [0-9.]+ms  second: [0-9.]+ms \([0-9.]+x\)$" "$WORK/sbs.out" || fail "no side by side: $(cat "$WORK/sbs.out")"
grep -Eq "^\| quick \| [0-9.]+ms \| [0-9.]+ms \([0-9.]+x\) \|$" "$WORK/sbs/summary.md" || fail "summary.md: $(cat "$WORK/sbs/summary.md")"
grep -q '<section id="side-by-side">' "$WORK/sbs/report.html" || fail "report.html has no side-by-side section"

# cpu% never above every core busy, however short the job.
"$CORUN" run -c 1 -o "$WORK/short" true >"$WORK/short.out" 2>&1 || fail "short run"
pct=$(awk '$3 == "true" { print $8 }' "$WORK/short.out")
case $pct in
"~100%") ;;
*%) assert_between "${pct%\%}" 0 100 "cpu% of a 1-core job" ;;
*) fail "no cpu% for the short job: $(cat "$WORK/short.out")" ;;
esac

# -i: a failing job, exit 0; without it, 1.
rc=0
"$CORUN" run -q -o "$WORK/f1" false || rc=$?
assert_eq "$rc" 1 "a failing job without -i"
"$CORUN" run -q -i -o "$WORK/f2" false || fail "-i: a failing job made the run fail"
# --show-output: the job's own output on corun's stdout.
"$CORUN" run --show-output -o "$WORK/s" 'echo from-the-job' >"$WORK/show" 2>/dev/null || fail "--show-output run"
grep -qx "from-the-job" "$WORK/show" || fail "--show-output: $(cat "$WORK/show")"
# --style: none prints no table; basic and nocolor no escape codes even when colour is forced
# elsewhere; color forces it into a pipe; a bad value names the flag.
"$CORUN" run --style none -o "$WORK/n" true >"$WORK/none" 2>&1 || fail "--style none"
[ ! -s "$WORK/none" ] || fail "--style none printed: $(cat "$WORK/none")"
"$CORUN" run --style color -o "$WORK/c" false >"$WORK/color" 2>&1 || true
grep -q "$(printf '\033')\[31m" "$WORK/color" || fail "--style color: no colour in a pipe"
"$CORUN" run --style basic -o "$WORK/b" false >"$WORK/basic" 2>&1 || true
grep -q "$(printf '\033')" "$WORK/basic" && fail "--style basic wrote escape codes"
rc=0
"$CORUN" run --style loud true >"$WORK/bad" 2>&1 || rc=$?
assert_eq "$rc" 2 "status of --style loud"
grep -q "corun: error: --style: expected full, basic, nocolor, color or none, got 'loud'" "$WORK/bad" || fail "$(cat "$WORK/bad")"
rc=0
"$CORUN" run --warmup 101 true >"$WORK/bad" 2>&1 || rc=$?
assert_eq "$rc" 2 "status of --warmup 101"
grep -q "warmup: expected a count of runs from 0 to 100, got '101'" "$WORK/bad" || fail "$(cat "$WORK/bad")"
echo ok
