# Shared by the slurm suite's tests (sourced): a private one-node Slurm cluster
# (cluster.sh) plus the test's work directory, both removed on every exit path.
set -eu
: "${CORUN:?CORUN not set (run through meson test)}"
: "${SRCDIR:?}"
export PATH="$(dirname "$CORUN"):$PATH"
TEST_NAME=$(basename "$0" .sh)
HERE=$(cd "$(dirname "$0")" && pwd)

fail() {
        echo "FAIL ($TEST_NAME): $*" >&2
        exit 1
}
skip() {
        echo "SKIP ($TEST_NAME): $*" >&2
        exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root: slurmd runs jobs as other users and corun creates cgroups"
for b in munged slurmctld slurmd sbatch srun squeue scancel python3; do
        command -v "$b" >/dev/null || skip "$b is not installed (scripts/install-deps.sh installs slurm-wlm and munge)"
done

# shellcheck source=cluster.sh
. "$HERE/cluster.sh"
WORK=$(mktemp -d "/tmp/corun-slurm-$TEST_NAME.XXXXXX")
chmod 755 "$WORK"
export SLURM_TEST_DIR=$WORK/cluster
on_exit() {
        local rc=$?
        [ "$rc" = 0 ] || cluster_dump_logs
        cluster_stop
        "$CORUN" cleanup -q >/dev/null 2>&1 || true
        rm -rf "$WORK" 2>/dev/null || true
        exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM
cluster_start || fail "the one-node cluster did not start"
cd "$WORK"

# Waits until Slurm job $1 has left the queue; the deadline is generous because the
# machine has 2 cores shared with other builds, and every step pays srun's start-up.
wait_job() {
        cluster_wait "${2:-150}" sh -c "! squeue -h -j $1 2>/dev/null | grep -q ." ||
                fail "Slurm job $1 still in the queue after ${2:-150} s: $(squeue 2>&1)"
}

# examples/partitions.yaml with one repetition and a fifth of the work: the same jobs,
# scenarios, solo baselines and run structure in seconds instead of half a minute.
small_partitions() {
        sed -e 's/^repeat: 3/repeat: 1/' -e 's/"1000"/"200"/; s/"2500"/"500"/' \
                "$SRCDIR/examples/partitions.yaml" >"$1"
        grep -q '^repeat: 1' "$1" || fail "examples/partitions.yaml changed: adjust small_partitions"
}

# A sweep: one job, a matrix of two points, two repetitions: four runs that need no
# co-scheduling (array mode works). The job prints the CPUs it may use.
write_sweep() {
        cat >"$1" <<'YAML'
name: sweep
jobs:
  probe:
    command: [sh, -c, 'grep Cpus_allowed_list /proc/self/status; exec corun stress cpu --threads 1 --work ${work}']
    cpus: 1
    memory: 128M
    timeout: 60s
scenarios:
  points:
    jobs: [probe]
    matrix:
      work: ["50", "100"]
repeat: 2
YAML
}

check() { python3 "$HERE/check.py" "$@" || fail "check.py $*"; }
