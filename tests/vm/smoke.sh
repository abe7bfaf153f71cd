#!/bin/sh
# Runs inside the VM (tests/vm/run-in-vm.sh): the kernel gives the cgroup v2 backend
# everything it relies on (controllers, memory.max enforced, memory.peak,
# memory.events(.local), cgroup.kill, cpuset, pids, PSI), and the harness brought a
# corun and a jq that load. A failure here is the VM's fault, not the backend's.
set -eu
CG=/sys/fs/cgroup
P=$CG/vm-smoke

fail() {
        echo "FAIL (vm-smoke): $*" >&2
        exit 1
}
ok() { echo "ok: $*"; }

# poll (tests/integration/lib.sh): cgroup state (procs leaving, populated dropping)
# follows a kill asynchronously, so it is waited for with a deadline.
. "$SRCDIR/tests/integration/lib.sh"
empty() { [ -z "$(cat "$1/cgroup.procs")" ]; }
nprocs_is() { [ "$(wc -l <"$1/cgroup.procs")" -eq "$2" ]; }

# remove GROUP: kills what is left and removes it, children first.
remove() {
        [ -d "$1" ] || return 0
        for child in "$1"/*/; do
                [ -d "$child" ] && remove "${child%/}"
        done
        echo 1 >"$1/cgroup.kill"
        poll 5 empty "$1" || true
        rmdir "$1"
}
trap 'remove "$P"; cleanup_work' EXIT

# run_in GROUP CMD...: CMD is in GROUP from its first instruction.
run_in() {
        sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$@"
}
# field FILE KEY: the value of "KEY VALUE" in a flat-keyed cgroup file.
field() { sed -n "s/^$2 //p" "$1"; }

grep -q " $CG cgroup2 " /proc/mounts || fail "$CG is not a cgroup2 mount: $(grep cgroup /proc/mounts)"
echo "kernel: $(uname -r)"
echo "controllers: $(cat $CG/cgroup.controllers)"
for c in cpuset cpu io memory pids; do
        grep -qw "$c" $CG/cgroup.subtree_control || fail "controller $c not enabled at the root"
done
ok "all five controllers enabled at the root"

"$CORUN" --version >/dev/null || fail "corun does not run in the VM (a shared library missing?)"
jq --version >/dev/null || fail "jq does not run in the VM"
[ -x "$HELPERS" ] || [ -d "$HELPERS" ] || fail "HELPERS=$HELPERS missing"
ok "corun and jq load"

mkdir "$P"
echo "+cpuset +cpu +io +memory +pids" >"$P/cgroup.subtree_control"
J=$P/job
mkdir "$J"
for f in memory.max memory.high memory.peak memory.events memory.events.local memory.current \
        cgroup.kill cgroup.freeze cpu.stat cpu.weight cpu.max cpuset.cpus cpuset.mems pids.max \
        io.weight cpu.pressure memory.pressure io.pressure; do
        [ -e "$J/$f" ] || fail "$J/$f missing"
done
ok "job group has every interface file"

echo 64M >"$J/memory.max"
[ "$(cat "$J/memory.max")" = 67108864 ] || fail "memory.max reads $(cat "$J/memory.max")"
# 2^24 bytes of string in awk: about 16-48 MiB while it doubles, below the limit.
out=$(run_in "$J" awk 'BEGIN { s = "x"; for (i = 0; i < 24; i++) s = s s; print length(s) }') ||
        fail "a process below memory.max failed"
[ "$out" = 16777216 ] || fail "awk printed '$out'"
peak=$(cat "$J/memory.peak")
[ "$peak" -ge 16777216 ] && [ "$peak" -le 67108864 ] || fail "memory.peak $peak not in [16M, 64M]"
usage=$(field "$J/cpu.stat" usage_usec)
[ "$usage" -gt 0 ] || fail "cpu.stat usage_usec is $usage after a run"
ok "memory.peak $peak bytes, cpu usage ${usage}us"

rc=0
run_in "$J" awk 'BEGIN { s = "x"; for (;;) s = s s }' 2>/dev/null || rc=$?
[ "$rc" = 137 ] || fail "a process over memory.max ended with status $rc, not SIGKILL (137)"
[ "$(field "$J/memory.events" oom_kill)" -ge 1 ] || fail "memory.events: $(cat "$J/memory.events")"
[ "$(field "$J/memory.events.local" oom_kill)" -ge 1 ] ||
        fail "memory.events.local: $(cat "$J/memory.events.local")"
[ "$(field "$J/memory.events" max)" -ge 1 ] || fail "memory.events max not counted"
[ "$(cat "$J/memory.peak")" -le 67108864 ] || fail "memory.peak above memory.max"
ok "memory.max enforced: OOM kill counted in memory.events and memory.events.local"

K=$P/kill
mkdir "$K"
run_in "$K" sh -c 'sleep 1000 & sleep 1000 & wait' &
pid=$!
poll 10 nprocs_is "$K" 3 || fail "the group never held 3 processes: $(cat "$K/cgroup.procs")"
echo 1 >"$K/cgroup.kill"
rc=0
# (2>/dev/null: the shell's own "Killed" notice is the expected outcome, not noise.)
wait "$pid" 2>/dev/null || rc=$?
[ "$rc" = 137 ] || fail "cgroup.kill: the shell ended with status $rc"
poll 5 empty "$K" || fail "cgroup.kill left $(cat "$K/cgroup.procs")"
poll 5 grep -q '^populated 0$' "$K/cgroup.events" || fail "still populated after cgroup.kill"
ok "cgroup.kill killed the whole group, grandchildren included"

C=$P/cpus
mkdir "$C"
echo 1 >"$C/cpuset.cpus"
got=$(run_in "$C" sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
[ "$got" = 1 ] || fail "a process in cpuset.cpus=1 may run on '$got'"
[ "$(cat "$C/cpuset.cpus.effective")" = 1 ] || fail "cpuset.cpus.effective $(cat "$C/cpuset.cpus.effective")"
ok "cpuset confines from the first instruction"

echo 4 >"$C/pids.max"
run_in "$C" sh -c 'for i in 1 2 3 4 5 6; do sleep 2 & done; wait' >/dev/null 2>&1 || true
[ "$(field "$C/pids.events" max)" -ge 1 ] || fail "pids.max=4 never refused a fork: $(cat "$C/pids.events")"
ok "pids.max enforced"

for f in "$J/cpu.pressure" "$J/memory.pressure" "$J/io.pressure" /proc/pressure/cpu /proc/pressure/memory; do
        grep -Eq '^some avg10=[0-9.]+ avg60=[0-9.]+ avg300=[0-9.]+ total=[0-9]+$' "$f" ||
                fail "$f: $(cat "$f")"
done
grep -Eq '^full avg10=[0-9.]+ avg60=[0-9.]+ avg300=[0-9.]+ total=[0-9]+$' "$J/memory.pressure" ||
        fail "memory.pressure has no full line"
[ "$(sed -n 's/^some .*total=//p' "$J/memory.pressure")" -gt 0 ] ||
        fail "the OOM above left no memory stall in memory.pressure"
ok "PSI files present, memory stall recorded"
echo "vm-smoke: all checks passed"
