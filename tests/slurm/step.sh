#!/bin/bash
# Inside Slurm: a step Slurm refuses (--mem above the node's) is a Slurm failure, not the
# job's exit; corun inside `srun -c 1` sees one CPU and says it runs inside Slurm.
. "$(dirname "$0")/lib.sh"

cat >bigmem.yaml <<YAML
name: bigmem
jobs:
  small: {command: [corun, stress, sleep, "0.2"], memory: 64M, timeout: 1m}
  huge: {command: [corun, stress, sleep, "0.2"], memory: $((SLURM_TEST_MEM_MB * 4))M, timeout: 1m}
YAML
rc=0
corun run --slurm -q --mode steps -o "$WORK/big" bigmem.yaml >big.out 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "exit status $rc with a failed step, expected 1: $(cat big.out)"
check reasons big small=exit huge=failed-to-start
check slurm-failure big huge

srun -c 1 corun run -q -o "$WORK/one" -- sh -c 'grep Cpus_allowed_list /proc/self/status' >one.out 2>&1 ||
        fail "corun under srun -c 1 failed: $(cat one.out)"
grep -q "inside Slurm job" one.out || fail "corun did not say it runs inside Slurm: $(cat one.out)"
check one-cpu one
# The result says so too, once cmd_run records it (slurm_result_note; see docs/slurm.md).
if grep -q slurm_result_note "$SRCDIR/src/cli/run.c"; then
        grep -q "inside Slurm job" one/result.json || fail "result.json does not say it ran inside Slurm"
fi
grep -qx 'Cpus_allowed_list:.[0-9]*' one/logs/*/*.out || fail "the job saw more than one CPU: $(cat one/logs/*/*.out)"
echo ok
