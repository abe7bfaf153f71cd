#!/bin/sh
# corun plan: the dry run places jobs with the real allocator on synthetic and XML machines,
# says what never fits (exit 1) and creates nothing. Needs no root.
. "$SRCDIR/tests/integration/lib.sh"
cd "$WORK"
"$CORUN" plan --help >/dev/null 2>&1 || fail "'corun plan' is not a command (commands[] in src/cli/main.c)"

cat > p.yaml <<'Y'
name: partitions
defaults: {memory: 8G}
jobs:
  sealer: {command: [true], cpus: 46, memory: 195G}
  other:  {command: [true], cpus: 50}
  small:  {command: [true], cpus: 23}
scenarios:
  split:   {jobs: [sealer, other]}
  quads:   {jobs: [small], replicas: [4]}
  crowded: {jobs: [small], replicas: [2], cpus: {shared: "0-1"}, memory: 4G}
repeat: 2
Y
BOX='pack:2 numa:1(memory=256GiB) l3:1 core:48 pu:2'

# text: one line per job with its CPUs, cores, L3 and NUMA node
rc=0
"$CORUN" plan p.yaml --topology "$BOX" > out 2> err || rc=$?
assert_eq "$rc" 0 "exit status of a feasible plan"
grep -Eq '^  sealer +0-91 +0-45 +0 +0 +0 +195 GiB +at once$' out || fail "sealer line: $(cat out)"
grep -Eq '^  small#3 +96-141 +48-70 +1 +1 +1 ' out || fail "small#3 line: $(cat out)"
grep -q "warning: run 'split rep 1/2': job 'other': spans NUMA nodes 0-1: no single node had 50 free cores" out ||
        fail "no NUMA warning: $(cat out)"
grep -q 'idle: 4 cores (CPUs 92-95,188-191); memory committed: 32.0 GiB of 512 GiB' out || fail "idle line: $(cat out)"
[ ! -s err ] || fail "stderr not empty: $(cat err)"

# JSON: the same, for scripts
"$CORUN" plan p.yaml --topology "$BOX" --json > plan.json || fail "--json failed"
assert_eq "$(json plan.json '.feasible')" true "feasible"
assert_eq "$(json plan.json '.runs | length')" 3 "runs (repetitions are placed like the first)"
assert_eq "$(json plan.json '.runs[0].jobs[1].cpus')" 92-191 "other's CPUs"
assert_eq "$(json plan.json '.runs[1].jobs | map(.mems) | join(" ")')" "0 0 1 1" "quads' memory nodes"
assert_eq "$(json plan.json '.runs[2].jobs | map(.exclusive) | unique | .[0]')" false "shared set"
assert_eq "$(json plan.json '.machine.memory_available_bytes')" 549755813888 "memory from the topology"

# what never fits: named, with the numbers and what would fit; exit 1
rc=0
"$CORUN" plan p.yaml --topology 'pack:1 core:2 pu:1' > out 2> err || rc=$?
assert_eq "$rc" 1 "exit status of an infeasible plan"
grep -q "corun: error: run 'split rep 1/2': job 'sealer' asks for 46 cores but only 2 are usable (0-1, 0 reserved); at most 2 would fit" err ||
        fail "no refusal on stderr: $(cat err)"
grep -q "sealer  never fits: job 'sealer' asks for 46 cores" out || fail "no refusal in the plan: $(cat out)"

# memory admission: a limit above what jobs may commit never fits
cat > mem.yaml <<'Y'
jobs:
  a: {command: [true], memory: 2G}
  b: {command: [true], memory: 600M}
  c: {command: [true], memory: 600M}
Y
rc=0
"$CORUN" plan mem.yaml --topology 'core:4 pu:1' --memory-available 1G --json > mem.json 2> err || rc=$?
assert_eq "$rc" 1 "exit status when memory never fits"
assert_eq "$(json mem.json '.runs[0].jobs[0].error')" \
        "job 'a' needs 2.00 GiB of memory but only 1.00 GiB are available to jobs; at most 1.00 GiB would fit" "memory refusal"
assert_eq "$(json mem.json '.runs[0].jobs[2].wave')" 2 "c waits for memory"

# hybrid: the fast cores first, and a note saying so
cat > one.yaml <<'Y'
jobs:
  a: {command: [true], cpus: 2}
Y
"$CORUN" plan one.yaml --topology 'pack:1 core:8 pu:1; mhz 0-3=3000 4-7=5000' --json > h.json || fail "hybrid plan"
assert_eq "$(json h.json '.runs[0].jobs[0].cpus')" 4-5 "fast cores"
assert_eq "$(json h.json '.runs[0].jobs[0].note')" "fastest cores (P, 5000 MHz) preferred" "kind note"

# an XML export, as `lstopo machine.xml` writes it
command -v lstopo-no-graphics >/dev/null || fail "lstopo-no-graphics (package hwloc) is needed for the XML case"
lstopo-no-graphics --input "pack:2 core:4 pu:2" m.xml 2>/dev/null
"$CORUN" plan one.yaml --topology m.xml --json > x.json || fail "XML plan"
assert_eq "$(json x.json '.machine.source')" "xml: m.xml" "XML source"
assert_eq "$(json x.json '.machine.cores')" 8 "XML cores"

# bad input: exit 2 with the reason
rc=0
"$CORUN" plan one.yaml --topology 'pack:two' > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status for a bad topology"
grep -q "'pack:two' is not a valid hwloc synthetic topology" out || fail "bad topology message: $(cat out)"
rc=0
"$CORUN" plan > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status without a file"

# Priority classes: what each job's class and marks come to (docs/priorities.md).
"$CORUN" plan --json "$SRCDIR/examples/memory-priority.yaml" > prio.json || fail "plan of memory-priority failed"
pp() { json prio.json "[.runs[] | select(.label == \"protected\") | .jobs[] | select(.name == \"$1\") | $2][0]"; }
assert_eq "$(pp high .priority)" high "plan: high's class"
assert_eq "$(pp high .memory_high_bytes)" null "plan: high's mark lifted"
assert_eq "$(pp high .memory_low_bytes)" 536870912 "plan: high protected up to its limit"
assert_eq "$(pp high .cpu_weight)" 400 "plan: high's weight"
assert_eq "$(pp low1 .memory_high_bytes)" 209715200 "plan: low's mark"
assert_eq "$(pp low1 .cpu_weight)" 25 "plan: low's weight"
"$CORUN" plan "$SRCDIR/examples/memory-priority.yaml" | grep -q 'low1 .*priority low (cpu weight 25), high mark 200 MiB' ||
        fail "plan text: no priority for low1"

# run's override flags, applied as run applies them, with run's messages.
printf 'jobs:\n  a: {command: "true"}\n  b: {command: "true"}\n' > two.yaml
"$CORUN" plan -c 2 --topology 'core:4 pu:1' two.yaml --json > ov.json || fail "plan -c 2"
assert_eq "$(json ov.json '[.runs[0].jobs[].cpus] | join(" ")')" "0-1 2-3" "two cores each with -c 2"
"$CORUN" plan --replicas 1,2 --topology 'core:4 pu:1' two.yaml --json > sw.json || fail "plan --replicas 1,2"
assert_eq "$(json sw.json '.runs | length')" 2 "runs of a sweep from the command line"
rc=0
"$CORUN" plan -m lots two.yaml > /dev/null 2> err || rc=$?
assert_eq "$rc" 2 "plan -m lots"
grep -q "corun: error: --memory: expected a size like 512M or 4GiB, or max, got 'lots'" err || fail "plan -m lots: $(cat err)"

[ ! -e corun-results ] || fail "plan created a results dir"
echo ok
