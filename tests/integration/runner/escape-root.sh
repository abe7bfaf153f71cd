#!/bin/sh
# A root job that moves itself out of every group of its partition (issue 14 item 1): its
# timeout still ends it (the main process is signalled through its pidfd), its CPU time
# outside the group is seen (wait4 above the group's: "escaped": true, a warning, a mark in
# the report), and a child that escaped and outlived the job is killed and named.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups

# The job's own pid into the root group of every mounted hierarchy, then a busy loop.
R=$WORK/self
"$CORUN" run -q -t 1s -o "$R" -- sh -c \
        'for f in /sys/fs/cgroup/*/cgroup.procs /sys/fs/cgroup/cgroup.procs; do echo $$ >"$f" 2>/dev/null; done; while :; do :; done' \
        2>"$WORK/self.err" || true
assert_eq "$(job "$R/result.json" sh .reason)" timeout "reason of the self-moved job"
# The timeout is a timerfd (never early); the kill follows by scheduling latency only. Before
# the pidfd signal the job ran on until something else ended it.
assert_between "$(job "$R/result.json" sh .wall_s)" 0.999 3 "wall_s of a 1 s timeout on a self-moved job"
assert_eq "$(job "$R/result.json" sh .escaped)" true "escaped"
grep -q "job 'sh' ESCAPED its partition" "$WORK/self.err" || fail "no warning: $(cat "$WORK/self.err")"
grep -q "ESCAPED" "$R/report.html" || fail "no mark in the report"

# A child that leaves the groups and outlives the job's main process.
R=$WORK/child
"$CORUN" run -q -o "$R" -- sh -c \
        "sh -c 'for f in /sys/fs/cgroup/*/cgroup.procs /sys/fs/cgroup/cgroup.procs; do echo \$\$ >\"\$f\" 2>/dev/null; done; echo \$\$ >$WORK/child.pid; exec sleep 100' & sleep 0.5" \
        2>"$WORK/child.err" || fail "the job with an escaping child failed"
pid=$(cat "$WORK/child.pid")
assert_eq "$(job "$R/result.json" sh .escaped)" true "escaped (child)"
assert_eq "$(job "$R/result.json" sh ".escaped_pids | index($pid) != null")" true "the child's pid in escaped_pids"
wait_for "the escaped child $pid to be gone" 10 not alive "$pid"

# A job that freezes a sub-group of its own with a process in it and removes the group's
# permissions: its timeout still ends it, the frozen process dies, no group is left.
cat >"$WORK/freeze.sh" <<EOS
p=\$(grep '^0::' /proc/self/cgroup | cut -d: -f3)
base=/sys/fs/cgroup/unified\$p
[ -d /sys/fs/cgroup/unified ] || base=/sys/fs/cgroup\$p
mkdir "\$base/sub" || exit 3
sh -c 'echo \$\$ >'"\$base"'/sub/cgroup.procs; echo \$\$ >$WORK/frozen.pid; exec sleep 100' &
while [ ! -s $WORK/frozen.pid ]; do sleep 0.05; done
echo 1 >"\$base/sub/cgroup.freeze"
chmod 000 "\$base/sub"
sleep 100
EOS
R=$WORK/frozen
"$CORUN" run -q -t 1s -o "$R" -- sh "$WORK/freeze.sh" || true
assert_eq "$(job "$R/result.json" sh .reason)" timeout "reason of the job with a frozen sub-group"
assert_between "$(job "$R/result.json" sh .wall_s)" 0.999 3 "wall_s of the job with a frozen sub-group"
wait_for "the frozen process to be gone" 10 not alive "$(cat "$WORK/frozen.pid")"

# A job that stays inside is not escaped (no false alarm from accounting).
R=$WORK/ok
"$CORUN" run -q -o "$R" -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.1 & wait'
assert_eq "$(job "$R/result.json" sh .escaped)" false "escaped of a well-behaved job"
assert_eq "$(job "$R/result.json" sh '.escaped_pids | length')" 0 "escaped_pids of a well-behaved job"
echo ok
