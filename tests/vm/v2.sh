#!/bin/sh
# Runs inside the VM (tests/vm/run-in-vm.sh): what only the cgroup v2 backend does.
#  1. memory.high throttles instead of killing: a 200 MiB tenant over its mark is
#     slowed (against the same tenant without one), counted in memory.events high,
#     stalls on memory in PSI, and is not killed; under memory.max it is;
#  2. memory.events.local: a job that OOMs in a group of its own making is counted in
#     its memory.events but not in .local, and the result has the .local figures;
#  3. a runner below the root (as under `systemd-run --scope -p Delegate=yes`) moves
#     into corun/<run-id>/runner, enables controllers, and leaves the group as it was;
#     killed with -9 there, `corun cleanup` removes everything;
#  4. a group shared with another process: auto falls back to none and says what to run;
#  5. `corun doctor` on v2: ready at the root, not usable in a shared group.
. "$SRCDIR/tests/integration/lib.sh"
CG=/sys/fs/cgroup
[ -f $CG/cgroup.controllers ] || skip "/sys/fs/cgroup is not a cgroup2 mount (run through tests/vm/run-in-vm.sh)"
need_root_cgroups
OWN=$CG/corun-v2-test
cleanup_v2() {
        [ -d $OWN ] && {
                echo 1 >$OWN/cgroup.kill 2>/dev/null
                sleep 0.2
                find $OWN -depth -type d -exec rmdir {} \; 2>/dev/null
        }
        cleanup_work
}
trap cleanup_v2 EXIT

# 1. memory.high throttles: the issue's 200 MiB tenant, under memory.high 184M, beside
# the same tenant without a high mark, in one run (so both see the same load on the
# host, whose other work changes TCG's speed). Both under memory.max 256M.
#
# Sizing. The VM has 1 GiB (run-in-vm.sh, CORUN_VM_MEM) and no swap, so anonymous memory
# over memory.high cannot be reclaimed: the kernel makes the task sleep instead, on its
# way back to user space, for about 64 * (over/high)^2 seconds per 256 KiB charged
# (mm/memcontrol.c calculate_high_delay; at most 2 s each time, nothing below ~1.2 % over).
# So the delay depends on how far over the mark the tenant goes, relative to the mark,
# not on its size. Measured in the VM, each tenant alone: 1.2 s without a mark; under
# 192M 2.7 s, under 188M 6.8 s, under 184M (8.7 % over at the end) 11.5 s of which 10.9 s
# are memory stalls; under 64M (the first version of this test) it would be 2 s per
# 256 KiB for ~500 batches, a quarter of an hour. The sleeps do not shrink when the host
# is loaded, the tenant's own work does grow (side by side under 188M: 9.1 s against
# 3.8 s), so 184M keeps the ratio well above the bound below. Two tenants of 200 MiB fit
# the VM's memory, and their limits the admission's.
R=$WORK/high
cat >"$WORK/high.yaml" <<'EOF'
name: memory-high
defaults: {cpus: {shared: "0-1"}, memory: 256M, timeout: 90s}
jobs:
  high: {command: corun stress mem 200M, memory_high: 184M}
  free: {command: corun stress mem 200M}
EOF
"$CORUN" run -q -o "$R" "$WORK/high.yaml" ||
        fail "a job over memory.high did not finish: $(head -c 2000 "$R/result.json" 2>/dev/null)"
f=$R/result.json
assert_eq "$(json "$f" .backend)" v2 "backend"
for j in high free; do
        assert_eq "$(job "$f" $j .reason)" exit "$j: reason"
        assert_eq "$(job "$f" $j .memory.events.oom_kill)" 0 "$j: oom_kill"
        assert_eq "$(job "$f" $j .memory.events.max)" 0 "$j: events.max"
        for k in cpu_some_s memory_some_s memory_full_s io_some_s io_full_s; do
                [ "$(job "$f" $j ".pressure.$k")" != null ] || fail "$j: pressure.$k is null"
        done
done
# The kernel counted charges over the mark (~190) and none without one...
hi=$(job "$f" high .memory.events.high)
[ "$hi" -ge 10 ] || fail "memory.events high of the throttled job: $hi, expected 10 or more"
assert_eq "$(job "$f" free .memory.events.high)" 0 "memory.events high without a mark"
# ...let the tenant go over the mark rather than cap or kill it (all 200 MiB touched)...
assert_between "$(job "$f" high .memory.peak_bytes)" 209715200 268435456 "high: peak over memory.high"
# ...and slowed it: the sleeps are memory stalls, and its wall time is several times the
# free tenant's (measured 9x alone; 1.5x leaves room for a loaded host).
hw=$(job "$f" high .wall_s) fw=$(job "$f" free .wall_s)
hs=$(job "$f" high .pressure.memory_some_s) fs=$(job "$f" free .pressure.memory_some_s)
awk -v h="$hw" -v f="$fw" 'BEGIN { exit !(h >= 1.5 * f) }' ||
        fail "memory.high did not slow the job: ${hw}s against ${fw}s without it"
awk -v h="$hs" -v f="$fs" 'BEGIN { exit !(h >= 0.5 && h >= 4 * f) }' ||
        fail "no memory stall under memory.high: ${hs}s against ${fs}s without it"
echo "memory.high: ${hw}s (stall ${hs}s, $hi high events) against ${fw}s (stall ${fs}s)"
json "$f" .host.cgroup_backend_detail | grep -q "memory.peak" || fail "backend detail does not name memory.peak"
# The same tenant under memory.max 184M is killed (the contrast high is about).
"$CORUN" run -q -t 90s -m 184M -o "$R.max" -- corun stress mem 200M >/dev/null 2>&1 || true
assert_eq "$(job "$R.max/result.json" corun .reason)" oom "reason under memory.max"

# 2. The job moves itself into inner/ and runs a hog in hog/ under a 16M limit; the hog's
# OOM kill shows in the job's memory.events, not in its memory.events.local, which is
# what the result holds. memory.oom.group on the job does not widen the kill: the OOM's
# domain is hog/.
R=$WORK/local
cat >"$WORK/nest.sh" <<'EOF'
g=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir "$g/inner" "$g/hog"
echo $$ >"$g/inner/cgroup.procs"
echo +memory >"$g/cgroup.subtree_control"
echo 16M >"$g/hog/memory.max"
sh -c 'echo $$ >"$1/hog/cgroup.procs" && exec corun stress mem 64M' sh "$g" || true
echo "events: $(grep oom_kill "$g/memory.events")"
echo "local: $(grep oom_kill "$g/memory.events.local")"
EOF
"$CORUN" run -q -t 60s -m 256M -o "$R" -- sh "$WORK/nest.sh" || fail "nested job failed"
out="$R/$(job "$R/result.json" sh .logs.stdout)"
grep -q "^events: oom_kill 1" "$out" || fail "the hog's OOM kill is not in the job's memory.events: $(cat "$out")"
grep -q "^local: oom_kill 0" "$out" || fail "memory.events.local counts the hog's kill: $(cat "$out")"
assert_eq "$(job "$R/result.json" sh .reason)" exit "nested job reason"
assert_eq "$(job "$R/result.json" sh .memory.events.oom_kill)" 0 "result oom_kill (from .local)"

# 3. Below the root, alone in its group.
mkdir $OWN
sh -c 'echo $$ >'$OWN'/cgroup.procs && exec "$0" run -q -m 64M -o "$1" -- sh -c "cat /proc/self/cgroup; sleep 1"' \
        "$CORUN" "$WORK/leaf" &
pid=$!
leaf=""
# in_leaf PID: runner PID sits in corun/<run-id>/runner below $OWN (sets leaf).
in_leaf() {
        leaf=$(ls -d $OWN/corun/*/runner 2>/dev/null || true)
        [ -n "$leaf" ] && grep -qx "$1" "$leaf/cgroup.procs" 2>/dev/null
}
WAIT_DETAIL='echo "leaf: ${leaf:-none}; $(find $OWN -type d 2>/dev/null)"'
wait_for "the runner $pid in corun/<run-id>/runner below $OWN" 20 in_leaf $pid
grep -qw memory $OWN/cgroup.subtree_control || fail "memory not enabled in $OWN"
wait $pid || fail "corun run below the root failed"
f=$WORK/leaf/result.json
assert_eq "$(json "$f" .backend)" v2 "backend below the root"
json "$f" .host.cgroup_backend_detail | grep -q "runner" || fail "detail does not say where the runner went"
out="$WORK/leaf/$(job "$f" sh .logs.stdout)"
grep -q "^0::/corun-v2-test/corun/.*/000-default/sh$" "$out" || fail "job not in its group: $(cat "$out")"
assert_eq "$(ls $OWN | grep -c '^corun')" 0 "groups left below $OWN"
assert_eq "$(cat $OWN/cgroup.subtree_control)" "" "controllers left enabled in $OWN"

# kill -9 while the runner sits in its leaf; cleanup removes the whole tree.
sh -c 'echo $$ >'$OWN'/cgroup.procs && exec "$0" run -q -o "$1" "sleep 60"' "$CORUN" "$WORK/k9" &
pid=$!
# The job's processes from the run's own journal and groups, not by name.
WAIT_DETAIL='echo "journal: $(run_journal $pid); processes: $(run_procs $pid | tr "\n" " ")"'
wait_for "the runner $pid in its leaf" 20 in_leaf $pid
wait_for "the job's sleep in the run's groups" 20 nprocs_at_least $pid 1
procs=$(run_procs $pid)
kill -9 $pid
wait $pid 2>/dev/null || true
# The killed runner was the only process of its leaf, which is now empty.
"$CORUN" cleanup >"$WORK/cleanup.out" 2>&1 || fail "cleanup failed: $(cat "$WORK/cleanup.out")"
grep -q "runner" "$WORK/cleanup.out" || fail "cleanup did not remove the runner leaf: $(cat "$WORK/cleanup.out")"
[ ! -e $OWN/corun ] || fail "cleanup left $(find $OWN/corun -type d)"
# shellcheck disable=SC2086
none_alive $procs || fail "the job's processes ($procs) survived cleanup"
# What cleanup cannot undo: the dead runner had enabled controllers in $OWN, which then
# holds no process (a systemd scope ends with its last one).
echo "-cpuset -cpu -io -memory -pids" >$OWN/cgroup.subtree_control

# 4. Sharing the group with another process: no controllers can be enabled there.
sh -c 'echo $$ >'$OWN'/cgroup.procs && exec sleep 30' &
other=$!
wait_for "the other process $other in $OWN" 10 grep -qx "$other" $OWN/cgroup.procs
sh -c 'echo $$ >'$OWN'/cgroup.procs && exec "$0" run -q -o "$1" -- true' "$CORUN" "$WORK/shared" \
        >"$WORK/shared.out" 2>&1 || fail "auto did not fall back: $(cat "$WORK/shared.out")"
assert_eq "$(json "$WORK/shared/result.json" .backend)" none "backend in a shared group"
grep -q "systemd-run --scope -p Delegate=yes" "$WORK/shared.out" || fail "no advice: $(cat "$WORK/shared.out")"
rc=0
sh -c 'echo $$ >'$OWN'/cgroup.procs && exec "$0" run -q --backend v2 -o "$1" -- true' "$CORUN" \
        "$WORK/shared2" >"$WORK/shared2.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "--backend v2 in a shared group did not fail"
grep -q "other process" "$WORK/shared2.out" || fail "--backend v2 error says not why: $(cat "$WORK/shared2.out")"

# 5. doctor: in the shared group, then at the root (this script's own group).
rc=0
sh -c 'echo $$ >'$OWN'/cgroup.procs && exec "$0" doctor' "$CORUN" >"$WORK/doc.shared" 2>&1 || rc=$?
assert_eq "$rc" 2 "doctor in a shared group"
grep -q "^FAIL  delegation .*other process.*systemd-run --scope -p Delegate=yes" "$WORK/doc.shared" ||
        fail "doctor: no delegation advice: $(cat "$WORK/doc.shared")"
kill $other
rc=0
"$CORUN" doctor --json >"$WORK/doc.json" || rc=$?
assert_eq "$rc" 0 "doctor at the root: $(cat "$WORK/doc.json")"
assert_eq "$(json "$WORK/doc.json" .backend)" v2 "doctor backend"
assert_eq "$(json "$WORK/doc.json" '.checks[] | select(.name == "controllers") | .message')" \
        "cpuset cpu io memory pids available and writable" "doctor controllers"
assert_eq "$(json "$WORK/doc.json" '.checks[] | select(.name == "psi") | .level')" ok "doctor psi"
rc=0
"$CORUN" doctor --write-test >"$WORK/doc.write" 2>&1 || rc=$?
assert_eq "$rc" 0 "doctor --write-test: $(cat "$WORK/doc.write")"
grep -q "^ok    write-test" "$WORK/doc.write" || fail "write-test: $(cat "$WORK/doc.write")"
echo ok
