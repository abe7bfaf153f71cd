#!/bin/sh
# SPDX-License-Identifier: MIT
# GPU memory limits, MPS, the region's life and bad input (issue 16), through corun run on
# the simulated GPU:
# - memory: 512M: an allocation that fits succeeds, one over the limit fails with
#   CUDA_ERROR_OUT_OF_MEMORY inside the job (it is refused, counted in memory_refused),
#   and the job's cuMemGetInfo says the GPU has 512 MiB;
# - a process of a job killed with SIGKILL: the runner releases its slot and bytes within
#   a few ticks, while the job's other process runs on; the regions of jobs that ended are
#   gone while it runs; a look-up the driver answers with a private entry point is warned about;
# - the backstop: memory the shim cannot see (here a 700 MiB context) above the limit for
#   2 s ends the job as gpu-oom;
# - the region: CORUN_GPU_REGION is a 0600 file of the job's in /dev/shm/corun-<run-id>/
#   (0711), the shim is last in LD_PRELOAD, after the job's own; the directory is gone
#   after the run, and after a kill -9 of corun, `corun cleanup` removes it;
# - via: mps with an MPS control daemon answering: CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, no
#   shim, mechanism mps (sm-partition); without one: refused before anything starts;
# - shares over 100 % on one GPU: refused at the share's file:line:col, nothing started.
. "$SRCDIR/tests/integration/gpu/gpu-lib.sh"
# reap.sh: two CUDA processes of one job hold 100 and 50 MiB; the first is killed with
# SIGKILL; the region's counters before and 0.6 s after (three ticks) go to \$W.
cat >"$WORK/reap.sh" <<'SH'
"$P" busy 3 1 104857600 >"$W/a" 2>&1 &
a=$!
"$P" busy 3 1 52428800 >"$W/b" 2>&1 &
b=$!
i=0
until grep -q '^pid ' "$W/a" 2>/dev/null && grep -q '^pid ' "$W/b" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 200 ] || exit 3
        sleep 0.05
done
"$RC" show "$CORUN_GPU_REGION" >"$W/before.json"
kill -9 $a
wait $a
sleep 0.6
"$RC" show "$CORUN_GPU_REGION" >"$W/after.json"
# The other jobs (a few hundred ms each) have ended by now, or soon: their regions go
# with them while this one runs.
d=$(dirname "$CORUN_GPU_REGION")
i=0
while [ "$(ls "$d" | wc -l)" -gt 1 ] && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
done
ls "$d" >"$W/regions"
basename "$CORUN_GPU_REGION" >"$W/mine"
# Without a share nothing bounds what b queues (seconds of GPU time): it is not waited for.
kill $b
wait $b
exit 0
SH
cat >"$WORK/m.yaml" <<YAML
name: memory
defaults: {cpus: all}
jobs:
  info:
    command: [$GPU_SIM_DIR/shim-prog, mem, "536870912"]
    gpus: {memory: 512M}
  private:
    command: [$GPU_SIM_DIR/shim-prog, proc, "5"]
    env: {CORUN_GPU_SIM_PRIVATE_LAUNCH: "1"}
    gpus: {memory: 512M}
  reap:
    command: [sh, $WORK/reap.sh]
    env: {P: $GPU_SIM_DIR/shim-prog, RC: $GPU_SIM_DIR/region-ctl, W: $WORK}
    gpus: {memory: 512M}
  fits: {command: "exec $CORUN stress gpu --kernel-ms 1 --work 20 --mem 256M", gpus: {memory: 512M}}
  over: {command: "exec $CORUN stress gpu --kernel-ms 1 --work 20 --mem 600M", gpus: {memory: 512M}}
  env:
    command: 'stat -c "%a %U" "\$CORUN_GPU_REGION"; stat -c %a "\$(dirname "\$CORUN_GPU_REGION")"; echo "preload=\$LD_PRELOAD"'
    env: {LD_PRELOAD: /nonexistent/theirs.so}
    gpus: {memory: 1G}
YAML
sim "$CORUN" run -q -i -o "$WORK/r" "$WORK/m.yaml" >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
R=$WORK/r/result.json
assert_eq "$(job "$R" fits .exit_code)" 0 "fits exits 0: $(cat "$WORK/r/logs/"*/fits.err 2>/dev/null)"
assert_eq "$(job "$R" fits '.gpus[0].limit.memory_limit_bytes')" 536870912 "memory limit"
assert_eq "$(job "$R" fits '.gpus[0].limit.memory_refused')" 0 "nothing refused"
[ "$(job "$R" over .exit_code)" != 0 ] || fail "over: 600 MiB under a 512 MiB limit succeeded"
grep -q 'OUT_OF_MEMORY\|out of memory' "$WORK/r/logs/"*/over.err || fail "over: $(cat "$WORK/r/logs/"*/over.err)"
assert_eq "$(job "$R" over '.gpus[0].limit.memory_refused')" 1 "refused allocations"
# Inside a job of corun's: cuMemGetInfo says the GPU has 512 MiB, all free at the start,
# and every allocation path fills it exactly (shim-prog mem checks each, tests/gpu-sim).
assert_eq "$(job "$R" info .exit_code)" 0 "info: $(cat "$WORK/r/logs/"*/info.err 2>/dev/null)"
assert_eq "$(tail -1 "$WORK/r/logs/"*/info.out)" ok "info's last line"
# A driver that hands out a private cuLaunchKernel (tests/gpu-sim): the run warns that the
# job's launches through it passed the shim by, and the job's log names the entry point.
json "$R" '.warnings[]' | grep -q "^job 'private': the CUDA driver answered 1 of its look-ups (cuGetProcAddress)" ||
        fail "no warning about the private entry point: $(json "$R" .warnings)"
grep -q '^corun shim: cuGetProcAddress("cuLaunchKernel"' "$WORK/r/logs/"*/private.err ||
        fail "private's log: $(cat "$WORK/r/logs/"*/private.err)"
# The killed process's 100 MiB left the job's count within three ticks, by the runner's
# reap: the survivor allocated nothing after, so its shim had no reason to reap.
assert_eq "$(job "$R" reap .exit_code)" 0 "reap exits 0: $(cat "$WORK/r/logs/"*/reap.err 2>/dev/null)"
assert_eq "$(json "$WORK/before.json" .gpus[0].memory_used)" 157286400 "both processes' bytes"
assert_eq "$(json "$WORK/after.json" .gpus[0].memory_used)" 52428800 "the survivor's bytes after the kill"
assert_eq "$(json "$WORK/after.json" '.procs | length')" 1 "slots after the kill"
# A job's region is removed when the job ends, not at the end of the run.
assert_eq "$(cat "$WORK/regions")" "$(cat "$WORK/mine")" "regions left while only reap ran"
out=$(cat "$WORK/r/logs/"*/env.out)
echo "$out"
echo "$out" | sed -n 1p | grep -qx '600 root' || fail "the region's mode and owner: $out"
echo "$out" | sed -n 2p | grep -qx '711' || fail "the region directory's mode: $out"
echo "$out" | grep -q "^preload=/nonexistent/theirs.so:/.*libcorun-cuda.so$" || fail "LD_PRELOAD: $out"
[ ! -e "/dev/shm/corun-$(json "$R" .run_id)" ] || fail "the region directory is left after the run"

# The backstop: a context of 700 MiB (CORUN_GPU_SIM_CTX_MEM) the shim never allocated.
CORUN_GPU_SIM_STATE=$WORK/state2 CORUN_GPU_SIM_CTX_MEM=700M sim "$CORUN" run -q -o "$WORK/r2" \
        --gpu-memory 512M -- "$CORUN" stress gpu --kernel-ms 1 --seconds 30 >"$WORK/out2" 2>&1 &&
        fail "the job over its GPU memory limit ran to its end"
R2=$WORK/r2/result.json
assert_eq "$(json "$R2" '.runs[0].jobs[0].reason')" gpu-oom "reason"
assert_between "$(json "$R2" '.runs[0].jobs[0].wall_s')" 2 10 "ended about 2 s after going over"
grep -q 'GPU memory stayed above its limit' "$WORK/out2" || fail "no warning: $(cat "$WORK/out2")"

# kill -9 of corun mid-run: the journal names the region directory; cleanup removes it.
ls -d /dev/shm/corun-* >"$WORK/before" 2>/dev/null || true
"$SRCDIR/scripts/gpu-sim.sh" "$CORUN" run -q -o "$WORK/r3" --gpu-share 30 -- sleep 30 >"$WORK/out3" 2>&1 &
runner=$! # gpu-sim.sh execs corun: this is corun's pid
new_dir() { ls -d /dev/shm/corun-* 2>/dev/null | grep -vxF -f "$WORK/before" | grep -q .; }
wait_for "the run's region directory" 10 new_dir
dir=$(ls -d /dev/shm/corun-* | grep -vxF -f "$WORK/before" | head -1)
[ -n "$(ls "$dir")" ] || fail "no region file in $dir"
kill -9 $runner
wait $runner 2>/dev/null || true
"$CORUN" cleanup >"$WORK/clean" 2>&1 || fail "cleanup: $(cat "$WORK/clean")"
[ ! -e "$dir" ] || fail "cleanup left $dir: $(cat "$WORK/clean")"

# MPS: a control daemon that answers (a listening socket is all corun asks of it).
mkdir -p "$WORK/mps"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8); time.sleep(60)' "$WORK/mps/control" &
mps=$!
wait_for "the MPS socket" 10 test -S "$WORK/mps/control"
CUDA_MPS_PIPE_DIRECTORY=$WORK/mps sim "$CORUN" run -q -o "$WORK/r4" --gpus 1 --gpu-share 30 --gpu-via mps -- \
        sh -c 'echo "pct=$CUDA_MPS_ACTIVE_THREAD_PERCENTAGE preload=$LD_PRELOAD"' >"$WORK/out4" 2>&1 ||
        fail "mps: $(cat "$WORK/out4")"
kill $mps
R4=$WORK/r4/result.json
out=$(cat "$WORK/r4/logs/"*/*.out)
[ "$out" = "pct=30 preload=" ] || fail "MPS environment: $out"
assert_eq "$(json "$R4" '.runs[0].jobs[0].gpus[0].limit.mechanism')" mps "mechanism"
assert_eq "$(json "$R4" '.runs[0].jobs[0].gpus[0].limit.semantics')" sm-partition "semantics"
assert_eq "$(json "$R4" '.runs[0].jobs[0].gpus[0].limit.share_applied')" 0.3 "applied share"
# ...and without one.
rc=0
CUDA_MPS_PIPE_DIRECTORY=$WORK/none sim "$CORUN" run -q -o "$WORK/r5" --gpu-share 30 --gpu-via mps -- true >"$WORK/out5" 2>&1 || rc=$?
assert_eq $rc 2 "via: mps without MPS"
grep -q "asks for via: mps, but no MPS control daemon answers" "$WORK/out5" || fail "$(cat "$WORK/out5")"
[ ! -e "$WORK/r5" ] || fail "a results directory was made for a refused run"

# Shares over 100 % on one GPU: refused, at the share.
cat >"$WORK/over.yaml" <<YAML
jobs:
  a: {command: "true", gpus: {devices: "0", share: 60}}
  b: {command: "true", gpus: {devices: "0", share: 50}}
YAML
rc=0
sim "$CORUN" run -q -o "$WORK/r6" "$WORK/over.yaml" >"$WORK/out6" 2>&1 || rc=$?
assert_eq $rc 2 "shares over 100 %"
grep -q "over.yaml:3:52: job 'b' asks for 50 % of a GPU, but a 60 % leave at most 40 %" "$WORK/out6" ||
        fail "$(cat "$WORK/out6")"
[ ! -e "$WORK/r6" ] || fail "a results directory was made for a refused run"
echo ok
