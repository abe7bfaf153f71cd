#!/bin/bash
# corun export slurm, every mode, for examples/partitions.yaml and a sweep: each script is
# submitted with plain sbatch, `corun collect` merges it, and the merged result has the
# same runs, jobs and reasons as a local `corun run` of the same file, with every job's
# CPUs inside what Slurm gave its step. --mode array refuses partitions (jobs side by side).
. "$(dirname "$0")/lib.sh"

small_partitions part.yaml
write_sweep sweep.yaml
corun run -q -o "$WORK/local-part" part.yaml >/dev/null || fail "local run of partitions failed"
corun run -q -o "$WORK/local-sweep" sweep.yaml >/dev/null || fail "local run of the sweep failed"

if corun export slurm part.yaml --mode array -o array.sbatch 2>array.err; then
        fail "--mode array accepted a plan whose runs need jobs side by side"
fi
grep -q -- "use --mode steps" array.err || fail "the array refusal does not name steps: $(cat array.err)"
[ ! -e array.sbatch ] || fail "a refused export left a script behind"

# All five at once: Slurm queues them (node mode is --exclusive) while we wait.
jobs=()
for f in part sweep; do
        for m in node steps array; do
                [ "$f.$m" = part.array ] && continue
                corun export slurm "$f.yaml" --mode "$m" -o "$f-$m.sbatch" || fail "export $f --mode $m"
                bash -n "$f-$m.sbatch" || fail "$f-$m.sbatch is not valid bash"
                grep -q '^#SBATCH --time=' "$f-$m.sbatch" || fail "$f-$m.sbatch has no --time"
                id=$(sbatch --parsable --output="$WORK/$f-$m.out" --export="ALL,CORUN_RESULTS=$WORK/res-$f-$m" \
                        "$f-$m.sbatch") || fail "sbatch $f-$m.sbatch"
                jobs+=("$id:$f:$m")
        done
done
grep -q -- '--mem=256M' part-steps.sbatch || fail "steps: memory not mapped to --mem"
grep -q -- '-c 2 --overlap' part-steps.sbatch || fail "steps: shared CPUs not mapped to overlapping steps"
grep -q -- '--array=0-3%' sweep-array.sbatch || fail "array: not one task per run with a % cap"

for e in "${jobs[@]}"; do
        IFS=: read -r id f m <<<"$e"
        wait_job "$id" 240
        corun collect -q "res-$f-$m" || fail "collect $f --mode $m: $(cat "$WORK/$f-$m.out")"
        check same-structure "local-$f" "res-$f-$m"
        check cpus-inside "res-$f-$m"
done
# What report and compare read like any other result.
corun report "res-part-steps" >/dev/null || fail "report cannot read the collected result"
corun compare "local-part" "res-part-steps" >/dev/null || fail "compare cannot read the collected result"
echo ok
