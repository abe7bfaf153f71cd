#!/bin/bash
# corun run --slurm end to end (submit, follow, collect, report), and Ctrl-C: scancel,
# a partial result, exit 130, nothing left in squeue.
. "$(dirname "$0")/lib.sh"

# The sweep as an array (the export test covers steps and node for both files).
write_sweep sweep.yaml
corun run -q -o "$WORK/local" sweep.yaml >/dev/null || fail "local run failed"
corun run --slurm --mode array -o "$WORK/res" sweep.yaml >run.out 2>&1 || fail "run --slurm failed: $(cat run.out)"
grep -q "submitted Slurm job" run.out || fail "no submission message: $(cat run.out)"
[ "$(grep -c "end    probe" run.out)" = 4 ] || fail "the live display did not show the 4 jobs end: $(cat run.out)"
check same-structure local res
check cpus-inside res
[ -s res/report.html ] && [ -s res/job.sbatch ] || fail "no report.html or job.sbatch in the results"

cat >sleepy.yaml <<'YAML'
name: sleepy
jobs:
  nap: {command: [sleep, "300"], timeout: 10m}
YAML
corun run --slurm -o "$WORK/int" sleepy.yaml >int.out 2>&1 &
pid=$!
cluster_wait 90 grep -q "RUNNING" int.out || fail "the job never ran: $(cat int.out)"
cluster_wait 60 test -f int/node/result.json || fail "corun never started in the allocation: $(cat int.out)"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || fail "exit status $rc after Ctrl-C, expected 130: $(cat int.out)"
grep -q "scancel" int.out || fail "no scancel: $(cat int.out)"
left=$(squeue -h 2>&1)
[ -z "$left" ] || fail "left in squeue after Ctrl-C: $left"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["partial"] and d["slurm"]["state"].startswith("CANCELLED") else 1)' \
        int/result.json || fail "the result of a cancelled job is not partial/CANCELLED: $(cat int/result.json)"
check reasons int nap=interrupted

# Ctrl-C as soon as the job is submitted: whether Slurm had started it or not, the job is
# gone from the queue and its one job is interrupted.
corun run --slurm -o "$WORK/early" sleepy.yaml >early.out 2>&1 &
pid=$!
cluster_wait 30 grep -q "submitted Slurm job" early.out || fail "no submission: $(cat early.out)"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || fail "exit status $rc after an early Ctrl-C, expected 130: $(cat early.out)"
left=$(squeue -h 2>&1)
[ -z "$left" ] || fail "left in squeue after an early Ctrl-C: $left"
check reasons early nap=interrupted
echo ok
