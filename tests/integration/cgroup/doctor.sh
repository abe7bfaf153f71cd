#!/bin/sh
# SPDX-License-Identifier: MIT
# corun doctor on a cgroup v1 hybrid host (the v2 side runs in the VM, tests/vm/v2.sh):
# one line per check, the exit status, --json agreeing with the text, nothing created
# without --write-test and nothing left with it, not usable as an unprivileged user,
# no GPU without an NVIDIA driver (this machine has none), and the simulated GPUs listed
# in PCI order with their NVML indices (scripts/gpu-sim.sh).
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
[ -d /sys/fs/cgroup/memory ] || skip "not a cgroup v1 hybrid host (the VM suite covers v2)"
: "${GPU_SIM_DIR:?}"
# meson puts the simulated GPU's dir on LD_LIBRARY_PATH (it is a dependency of the test):
# only the gpu-sim check below may see it.
unset LD_LIBRARY_PATH

checks="root cgroup backend controllers delegation swap smt governor turbo cpus isolated psi memcg-bpf gpu podman docker"
# Other runs may come and go meanwhile: only doctor's own names count.
snapshot() {
        { ls /run/corun 2>/dev/null; find /sys/fs/cgroup -maxdepth 6 -type d -name 'doctor-*'; } | grep doctor- | sort
}
before=$(snapshot)
assert_eq "$before" "" "doctor leftovers before the test"

rc=0
"$CORUN" doctor >"$WORK/text" 2>&1 || rc=$?
[ "$rc" -le 1 ] || fail "doctor says root on a v1 host is not usable (status $rc): $(cat "$WORK/text")"
names=$(sed -n 's/^\(ok\|warn\|FAIL\) \{1,\}\([a-z.-]*\) .*/\2/p' "$WORK/text" | tr '\n' ' ')
assert_eq "$names" "$checks " "checks in order"
grep -q "^ok    backend      v1: " "$WORK/text" || fail "backend line: $(cat "$WORK/text")"
grep -q "^ok    cgroup       cgroup v1 hybrid" "$WORK/text" || fail "cgroup line: $(cat "$WORK/text")"
grep -q "^ok    memcg-bpf    .*not supported by this kernel" "$WORK/text" || fail "memcg-bpf line"
grep -q "^ok    gpu          none: libnvidia-ml.so.1 not found" "$WORK/text" ||
        fail "gpu line without NVML: $(grep gpu "$WORK/text")"
# Jobs in images: podman from Debian (scripts/install-deps.sh) can run them here, unless
# the cgroup2 mount beside v1 holds a controller (crun then refuses every container):
# doctor warns with the fix (docs/containers.md, Known limits).
if command -v podman >/dev/null 2>&1; then
        if [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
                grep -Eq "^warn  podman       /[^ ]*/podman [0-9.]+ cannot place a container in a job's group: crun \(podman's runtime\) refuses every container on this host: .* mount -t cgroup -o " \
                        "$WORK/text" || fail "podman line on a hybrid host with cgroup2 controllers: $(grep podman "$WORK/text")"
        else
                grep -Eq "^ok    podman       /[^ ]*/podman [0-9.]+: .*inside the job's group \(the default engine\)" \
                        "$WORK/text" || fail "podman line: $(grep podman "$WORK/text")"
        fi
fi
grep -Eq "^ok    cpus         corun may use CPUs $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status) " \
        "$WORK/text" || fail "cpus line: $(grep cpus "$WORK/text")"
if [ "$rc" = 0 ]; then
        tail -n 1 "$WORK/text" | grep -qx ready || fail "status 0 without 'ready'"
        grep -q "^FAIL" "$WORK/text" && fail "status 0 with a FAIL line"
else
        grep -q "^FAIL" "$WORK/text" || fail "status 1 without a FAIL line"
fi

rc2=0
"$CORUN" doctor --json >"$WORK/json" || rc2=$?
assert_eq "$rc2" "$rc" "--json status"
assert_eq "$(json "$WORK/json" .status)" "$rc" "status in JSON"
assert_eq "$(json "$WORK/json" .backend)" v1 "backend in JSON"
assert_eq "$(json "$WORK/json" '[.checks[].name] | join(" ")')" "$checks" "checks in JSON"
assert_eq "$(json "$WORK/json" '[.checks[] | select(.level != "ok" and .fix == null)] | length')" 0 \
        "every warn/fail has a fix"
assert_eq "$(snapshot)" "$before" "what doctor created (read-only by default)"

# --write-test makes a real partition and removes it again.
rc=0
"$CORUN" doctor --write-test >"$WORK/write" 2>&1 || rc=$?
grep -q "^ok    write-test   created corun/doctor-[0-9]*/doctor with memory.max 64 MiB" "$WORK/write" ||
        fail "write-test: $(cat "$WORK/write")"
assert_eq "$(snapshot)" "$before" "what --write-test left behind"

# Unprivileged: no journal, no cgroups.
rc=0
su nobody -s /bin/sh -c "'$CORUN' doctor" >"$WORK/nobody" 2>&1 || rc=$?
assert_eq "$rc" 2 "status as nobody"
grep -q "^FAIL  root .*sudo" "$WORK/nobody" || fail "no root advice: $(cat "$WORK/nobody")"
grep -q "^FAIL  backend      none: " "$WORK/nobody" || fail "backend as nobody: $(cat "$WORK/nobody")"
tail -n 1 "$WORK/nobody" | grep -q "^not usable" || fail "last line as nobody: $(tail -n 1 "$WORK/nobody")"

# Two simulated GPUs whose NVML order is the reverse of PCI order: listed in PCI order.
CORUN_GPU_SIM_LIBDIR=$GPU_SIM_DIR "$SRCDIR/scripts/gpu-sim.sh" "$CORUN" doctor >"$WORK/gpu" 2>&1 || true
assert_eq "$(sed -n 's/^ok    \(gpu [0-9][0-9]*\) .*/\1/p' "$WORK/gpu" | tr '\n' ' ')" "gpu 1 gpu 0 " "simulated GPUs in PCI order"
grep -q "^ok    gpu          2 GPU(s), driver 550.54.15, CUDA 12.4" "$WORK/gpu" || fail "gpu line: $(grep gpu "$WORK/gpu")"

rc=0
"$CORUN" doctor --bogus >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "status for an unknown option"
echo ok
