#!/bin/sh
# A process of a job that moves itself out of the job's cgroup2 group (v1 hybrid host:
# it stays in the job's v1 groups) is still killed and the job's groups removed: the
# runner's end-of-job check reads the cgroup2 group only, and the group's removal, which
# the kernel refuses while a v1 group holds a process, finds it.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
[ -d /sys/fs/cgroup/unified ] && [ -d /sys/fs/cgroup/memory ] || skip "needs a v1 hybrid host (v1 + /sys/fs/cgroup/unified)"
R=$WORK/res
# The child leaves for the unified root, then the job's main process exits at once.
cat > "$WORK/job.sh" <<J
#!/bin/sh
sh -c 'echo \$\$ > /sys/fs/cgroup/unified/cgroup.procs && echo \$\$ > $WORK/pid && exec sleep 300' >/dev/null 2>&1 &
for i in \$(seq 100); do [ -s $WORK/pid ] && break; sleep 0.05; done
J
chmod +x "$WORK/job.sh"
"$CORUN" run -q -o "$R" -- "$WORK/job.sh" || fail "corun run failed"
pid=$(cat "$WORK/pid" 2>/dev/null)
[ -n "$pid" ] || fail "the escaping process wrote no pid"
if alive "$pid"; then
        kill -9 "$pid"
        fail "process $pid, moved out of the cgroup2 group, survived its job"
fi
run=$(json "$R/result.json" .run_id)
for h in memory pids cpuset unified; do
        left=$(find /sys/fs/cgroup/$h -type d -path "*corun/$run*" 2>/dev/null | head -n1)
        [ -z "$left" ] || fail "group left behind: $left"
done
echo ok
