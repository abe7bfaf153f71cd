#!/bin/sh
# One queue rule for `plan` and `run`: on a mixed queue, `corun plan` places every job on
# the CPUs the run applies, in the order the run starts them, after the job whose end the
# run waits for. The durations make the jobs end in the order they start wherever that
# decides a placement (the plan's assumption): each decisive pair is 0.5 s or more apart,
# far above what a loaded 2-core machine adds to starting a sleeping job.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups

# The first two CPUs this test may use (its affinity), e.g. "0-3,8" -> 0 1.
list=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
set -- $(echo "$list" | awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-");
        lo = r[1]; hi = n > 1 ? r[2] : r[1]; for (c = lo; c <= hi; c++) print c } }' | head -n 2)
[ $# = 2 ] || skip "needs 2 usable CPUs, this test may use only '$list'"
A=$1 B=$2
cd "$WORK"

# a holds one CPU; big (2 cores) is next and must not be overtaken by c, d, e, though one
# CPU is free (plain first fit would start c at once); then c and d start together, and e
# takes the CPU c leaves (c ends 1 s before d).
cat > q.yaml <<Y
name: queue-rule
jobs:
  a:   {command: [sh, -c, 'echo a; exec sleep 1.0'], cpus: 1}
  big: {command: [sleep, '0.3'], cpus: 2}
  c:   {command: [sleep, '0.5'], cpus: 1}
  d:   {command: [sleep, '1.5'], cpus: 1}
  e:   {command: [sleep, '0.3'], cpus: 1}
scenarios:
  mixed: {jobs: [a, big, c, d, e], allowed_cpus: "$A,$B"}
Y
"$CORUN" plan q.yaml --json > plan.json 2> err || fail "plan failed: $(cat err)"
"$CORUN" run -q -o res q.yaml > out 2>&1 || fail "run failed: $(cat out)"
f=res/result.json
assert_eq "$(json $f '[.runs[0].jobs[] | select(.reason == "exit" and .exit_code == 0)] | length')" 5 "jobs that exited 0"

# What the plan says: name cpus order after; what the run did: name cpus order started ended.
jq -r '.runs[0].jobs[] | "\(.name) \(.cpus) \(.order) \(.after // "-")"' plan.json | sort > planned.txt
jq -r '.runs[0].jobs | sort_by(.started_s) | to_entries[] |
       "\(.value.name) \(.value.applied.cpus) \(.key + 1) \(.value.started_s) \(.value.ended_s)"' $f |
        sort > ran.txt
[ "$(wc -l < planned.txt)" = 5 ] || fail "plan: 5 jobs expected: $(cat plan.json)"

# The rule itself, in the plan: big waits for a, c for big (not beside a), e for c.
assert_eq "$(awk '$1 == "c" { print $4 }' planned.txt)" big "plan: c starts after"
assert_eq "$(awk '$1 == "e" { print $4 }' planned.txt)" c "plan: e starts after"
assert_eq "$(json plan.json '[.runs[0].jobs[] | .wave] | join(",")')" "1,2,3,3,4" "plan: waves"

join planned.txt ran.txt > both.txt
# columns: name plan_cpus plan_order plan_after run_cpus run_order started ended
awk '
function bad(msg) { print "FAIL: " msg > "/dev/stderr"; failed = 1 }
{ st[$1] = $7; en[$1] = $8; after[$1] = $4; n++
  if ($2 != $5) bad($1 ": plan puts it on CPUs " $2 ", the run applied " $5)
  if ($3 != $6) bad($1 ": plan starts it " $3 "th, the run started it " $6 "th") }
END {
  for (j in after)
    if (after[j] != "-" && st[j] < en[after[j]])
      bad(j " started at " st[j] " s, before " after[j] " ended at " en[after[j]] " s")
  exit failed }' both.txt || fail "plan and run disagree: $(cat both.txt)"
# job-setup is shared too: the plan names the log file the run wrote (a's; the others
# write nothing, so the run makes no file for them and their result has no path).
log=$(jq -r '.runs[0].jobs[] | select(.name == "a") | .logs.stdout' $f)
assert_eq "$(jq -r '.runs[0].jobs[] | select(.name == "a") | .setup.log_stdout' plan.json)" "$log" "plan: log path"
assert_eq "$(cat "res/$log")" a "a's log"
assert_eq "$(jq '[.runs[0].jobs[] | select(.logs.stdout == null and .logs.stderr == null)] | length' $f)" 4 \
        "silent jobs without log paths"
echo ok
