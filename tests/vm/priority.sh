#!/bin/sh
# Runs inside the VM (tests/vm/run-in-vm.sh): priority classes on cgroup v2, where the
# kernel enforces memory.high itself (the protector only watches HIGH jobs' stall).
# The memory-priority experiment (examples/memory-priority.yaml) resized for the VM:
# in `protected` HIGH finishes within 20 % of its solo time and both LOW jobs after it;
# in `baseline` HIGH's slowdown is within 25 % of the LOW jobs'; no OOM kill; the static
# knobs are in the group files (memory.high lifted for HIGH, memory.low, cpu.weight).
#
# Sizing: no swap. On v2 a task over memory.high sleeps about 64·(over/high)² s per
# 256 KiB charged (tests/vm/v2.sh explains it), so tenants of 200 MiB under a 188 MiB
# mark end 6.4 % over and lose a few seconds, where 256 MiB under 200 MiB (the host
# example) would take minutes. Hard limits stay above use: 256 MiB per tenant, 700 MiB
# for the three. The VM gets 2 GiB (CORUN_VM_MEM, set in tests/vm/meson.build): with
# 1 GiB the tenants' 600 MiB plus the in-memory root file system brought global
# reclaim, which slowed whichever tenants it hit (19 s against 11 s), not a class. A
# 50 MiB/s rate keeps the tenants from filling the VM's two vCPUs, so they contend for
# memory, not CPU. TCG's timing still wanders by a second or two per run (baseline
# slowdowns of HIGH against LOW seen from 0.86 to 1.23 of the 0.75-1.25 band): one
# repetition, about 110 s, and a verdict that fails is measured again (Retry, below);
# two repetitions every time took 200 s of the suite's 20 minutes.
#
# Retry: TCG's timing is noisy by itself (the VM's vCPUs are host threads on a shared
# 2-core host, and the solo runs are minutes apart from the shared ones), so a timing
# verdict that fails is measured once more, a whole new experiment, if the VM's time
# (-t in tests/vm/meson.build) leaves room for it; it fails if the second one fails too,
# or if there is no room (with the first attempt's reason). Seen once in a whole suite: two
# of the three baseline jobs took 33 s instead of 12 (HIGH's slowdown 2.99 against the LOW
# jobs' 2.05) and the retry passed (1.12 against 1.06); three experiments in a row in one
# VM then passed. The log prints how often each job went over memory.high, which follows
# its time, for the next such case. What is not timing (exit
# status, OOM, the knobs and memory.events read back from the kernel) fails at once.
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/priority-check.sh"
[ -f /sys/fs/cgroup/cgroup.controllers ] || skip "not a cgroup2 machine (run through tests/vm/run-in-vm.sh)"
need_root_cgroups

cat >"$WORK/p.yaml" <<Y
name: vm-priority
defaults:
  command: [corun, stress, mem, 200M, --rate, 50M, --hold, 500ms]
  cpus: all
  memory: 256M
  memory_high: 188M
  timeout: 3m
jobs:
  high: {priority: high}
  low1: {priority: low}
  low2: {priority: low}
scenarios:
  baseline:  {jobs: [high, low1, low2], priority: normal, memory_total: 700M}
  protected: {jobs: [high, low1, low2], memory_total: 700M}
solo: true
repeat: 1
Y
# experiment DIR: one run of the experiment; its result in DIR/result.json.
experiment() {
        "$CORUN" run -q -o "$1" "$WORK/p.yaml" >"$WORK/out" 2>&1 || fail "run failed: $(tail -20 "$WORK/out")"
        assert_eq "$(json "$1/result.json" .backend)" v2 "backend"
        check_priority_knobs "$1/result.json" 268435456 197132288
}
t0=$(uptime_cs)
R=$WORK/r
experiment "$R"
f=$R/result.json
if ! priority_times "$f"; then
        took=$((($(uptime_cs) - t0) / 100))
        left=$((${CORUN_VM_TIMEOUT:-0} - $(uptime_cs) / 100))
        # Room for a second experiment as long as the first, a fifth more, and 20 s to
        # power off.
        [ "$left" -gt $((took * 6 / 5 + 20)) ] ||
                fail "$prio_why (no retry: the experiment took ${took}s and the VM has ${left}s left)"
        echo "timing verdict failed ($prio_why); TCG timing is noisy: measuring once more"
        R=$WORK/r2
        experiment "$R"
        f=$R/result.json
        priority_times "$f" || fail "twice: $prio_why"
fi
# The kernel throttled the LOW jobs at memory.high, never HIGH (its mark is lifted).
[ "$(pj low1 '.memory.events.high')" -gt 0 ] || fail "LOW was never throttled at memory.high"
assert_eq "$(pj high '.memory.events.high')" 0 "HIGH throttled at memory.high"
assert_eq "$(pj low1 '.applied.memory_high_emulated')" false "v2 enforces memory.high itself"
echo "ok: protected HIGH $ph s (solo $phs s), LOW $pl1 s and $pl2 s; baseline slowdowns HIGH $sh_, LOW $sl"
