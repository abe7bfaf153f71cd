#!/bin/sh
# The demo scenario file end to end: two partitions, an OOM and a timeout, and a result
# that validates against the documented core fields.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
rc=0
"$CORUN" run -q -o "$R" "$SRCDIR/examples/demo.yaml" || rc=$?
assert_eq "$rc" 1 "exit status (the demo has an oom and a timeout on purpose)"
f=$R/result.json
assert_eq "$(json "$f" .schema)" 1 "schema"
assert_eq "$(json "$f" .partial)" false "partial"
# A pure cgroup2 mount (the VM) has cgroup.controllers at its top; hybrid hosts do not.
want_backend=v1
[ -f /sys/fs/cgroup/cgroup.controllers ] && want_backend=v2
assert_eq "$(json "$f" .backend)" $want_backend "backend on this host"
assert_eq "$(job "$f" cruncher .reason)" exit "cruncher"
assert_eq "$(job "$f" hog .reason)" oom "hog"
assert_eq "$(job "$f" sleeper .reason)" timeout "sleeper"
c1=$(job "$f" cruncher .applied.cpus); c2=$(job "$f" worker .applied.cpus)
[ "$c1" != "$c2" ] || fail "cruncher and worker share cpus $c1"
[ -s "$R/summary.md" ] || fail "no summary.md"
for k in wall_s user_s sys_s memory.peak_bytes memory.pss_peak_bytes requested.cpus applied.mems; do
        job "$f" cruncher ".$k" >/dev/null
done
echo ok
