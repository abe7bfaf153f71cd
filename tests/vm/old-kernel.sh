#!/bin/sh
# Runs inside the VM (tests/vm/run-in-vm.sh): the v2 backend's paths for kernels older
# than the VM's, where
#  * cgroup.kill is missing (before Linux 5.14): a job is stopped by freezing its group,
#    SIGKILLing every pid in it and thawing, again until the group is empty;
#  * memory.peak is missing (before Linux 5.19): a job's peak is the highest
#    memory.current the runner sampled, and the backend detail says so.
#
# No such kernel is at hand, so the files are made unusable on this one: a read-only
# bind mount of an empty file over them, in a mount namespace of corun's own (so the
# mounts vanish with it). Writing cgroup.kill then fails (EROFS) as it does where the file
# does not exist, and memory.peak reads as nothing. corun is not told: the backend finds
# out by itself, as on an old kernel. Over corun/ (which the test makes first, as an
# earlier run would) before the run starts, which is where the backend looks when it
# describes itself; over every group of the run while its jobs run, which is where the
# kill tries cgroup.kill. With cgroup.kill usable anywhere, the run group's kill at the
# end would hide a broken fallback.
#
# Jobs: 'daemon' starts a child that leaves its session, ignores SIGTERM and forks
# without pause, then exits (corun must kill what it left); 'stuck' ignores SIGTERM and
# has such a forking child, and is stopped when corun is interrupted (SIGTERM, 1 s grace,
# then the kill); 'mem' holds 48 MiB for 1.5 s and prints its group's real memory.peak.
# Afterwards no process of either tree may be left, nor any group.
. "$SRCDIR/tests/integration/lib.sh"
CG=/sys/fs/cgroup
[ -f $CG/cgroup.controllers ] || skip "/sys/fs/cgroup is not a cgroup2 mount (run through tests/vm/run-in-vm.sh)"
need_root_cgroups
[ -e $CG/corun ] && fail "$CG/corun exists before the test (a run left behind?): $(find $CG/corun -type d)"
command -v unshare >/dev/null || skip "no unshare(1)"

W=$WORK
RO=$W/ro
# On failure: corun (left running if the inner script gave up) goes first; `corun
# cleanup` (in cleanup_work, outside corun's namespace, where cgroup.kill works) kills
# what its jobs left; the read-only mount must go before $WORK can be removed.
# (busybox sh exits with the trap's last status when the script ran to its end: the
# function must end in success.)
cleanup_old() {
        [ -f "$W/corun.pid" ] && kill -9 "$(cat "$W/corun.pid")" 2>/dev/null
        umount "$RO" 2>/dev/null
        cleanup_work
        if [ -d $CG/corun ]; then rmdir $CG/corun 2>/dev/null || true; fi
}
trap cleanup_old EXIT
mkdir "$RO"
mount -t tmpfs -o size=64k tmpfs "$RO"
: >"$RO/empty"
mount -o remount,ro "$RO"

cat >"$W/forker.sh" <<'EOF'
trap '' TERM HUP INT
echo $$ >>"$1/pids"
while :; do ( : ); done
EOF
cat >"$W/daemon.sh" <<'EOF'
echo $$ >>"$1/pids"
setsid sh "$1/forker.sh" "$1" &
while [ ! -e "$1/go" ]; do sleep 0.05; done
EOF
cat >"$W/stuck.sh" <<'EOF'
trap '' TERM
echo $$ >>"$1/pids"
sh "$1/forker.sh" "$1" &
while :; do sleep 1; done
EOF
# memory: the VM has 1 GiB, and corun admits jobs by the sum of their limits.
cat >"$W/old.yaml" <<EOF
name: old-kernel
defaults: {cpus: {shared: "0-1"}, memory: 128M, grace: 1s, timeout: 90s}
jobs:
  daemon: {command: sh $W/daemon.sh $W}
  stuck: {command: sh $W/stuck.sh $W}
  mem: {command: "corun stress mem 48M --hold 1500ms && cat $CG\$(sed -n 's/^0:://p' /proc/self/cgroup)/memory.peak"}
EOF

# In corun's mount namespace: hide the files, run, hide them in the run's groups once
# every job is up, let 'daemon' exit, then interrupt the run.
cat >"$W/inner.sh" <<'EOF'
set -u
W=$1 CG=/sys/fs/cgroup
# The file lies on a read-only tmpfs: the bind mount refuses writes with EROFS.
hide() { mount --bind "$W/ro/empty" "$1"; }
die() { echo "inner: $*" >&2; exit 1; }
mkdir $CG/corun
hide $CG/corun/cgroup.kill || die "cannot hide corun/cgroup.kill"
hide $CG/corun/memory.peak || die "cannot hide corun/memory.peak"
# The stand-ins do what an old kernel's absence does to the backend.
{ echo 1 >$CG/corun/cgroup.kill; } 2>/dev/null && die "corun/cgroup.kill is still writable"
[ -z "$(cat $CG/corun/memory.peak)" ] || die "corun/memory.peak still reads"
"$CORUN" run -o "$W/res" "$W/old.yaml" >"$W/run.out" 2>"$W/run.err" &
echo $! >"$W/corun.pid"
n=0
until [ -f "$W/pids" ] && [ "$(wc -l <"$W/pids")" -ge 4 ]; do
        n=$((n + 1))
        [ $n -lt 600 ] || die "the jobs did not start: $(cat "$W/run.err")"
        sleep 0.05
done
for j in daemon stuck; do
        d=$(find $CG/corun -mindepth 3 -maxdepth 3 -type d -name $j)
        [ -n "$d" ] || die "no group for job $j"
done
# Run, scenario and job groups ('mem' may be gone already).
for f in $(find $CG/corun -mindepth 2 -name cgroup.kill); do
        hide "$f" || [ ! -e "$f" ] || die "cannot hide $f"
done
for j in daemon stuck; do
        d=$(find $CG/corun -mindepth 3 -maxdepth 3 -type d -name $j)
        grep -q " ${d%/*}/cgroup.kill " /proc/self/mountinfo || die "${d%/*}/cgroup.kill not hidden"
        grep -q " $d/cgroup.kill " /proc/self/mountinfo || die "$d/cgroup.kill not hidden"
done
touch "$W/go"
n=0
until [ "$(jq '[.runs[].jobs[] | select(.name == "daemon" or .name == "mem")] | length' "$W/res/result.json" 2>/dev/null)" = 2 ]; do
        n=$((n + 1))
        [ $n -lt 1200 ] || die "'daemon' and 'mem' did not finish: $(cat "$W/run.err")"
        sleep 0.05
done
kill -TERM "$(cat "$W/corun.pid")"
rc=0
wait "$(cat "$W/corun.pid")" || rc=$?
rm -f "$W/corun.pid"
echo "$rc" >"$W/corun.rc"
EOF
unshare -m --propagation private sh "$W/inner.sh" "$W" || fail "$(cat "$W/run.err" 2>/dev/null)"

err=$(cat "$W/run.err")
f=$W/res/result.json
[ -f "$f" ] || fail "no result.json; corun said: $err"
# Interrupted: the partial-results status.
[ "$(cat "$W/corun.rc")" != 0 ] || fail "an interrupted run exited 0"
assert_eq "$(json "$f" .backend)" v2 "backend"

# Nothing of either tree survived, the forking children included.
for p in $(cat "$W/pids"); do
        alive "$p" && fail "pid $p ($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)) survived the stop"
done
left=$(ps -o pid,args | grep "$W/forker.sh" | grep -v grep || true)
[ -z "$left" ] || fail "forking children survived: $left"
[ ! -e $CG/corun ] || fail "groups left: $(find $CG/corun -type d)"
case $err in *"could not remove"*) fail "corun could not remove a group: $err" ;; esac
assert_eq "$(job "$f" daemon .reason)" exit "daemon's reason (its main process exited)"
assert_eq "$(job "$f" stuck .reason)" interrupted "stuck's reason"

detail=$(json "$f" .host.cgroup_backend_detail)
case $detail in *"no cgroup.kill before Linux 5.14: stop by freezing and killing every pid"*) ;;
*) fail "the backend detail does not say how it stops without cgroup.kill: $detail" ;; esac
case $detail in *"no memory.peak before Linux 5.19: the peak is the highest sampled memory.current"*) ;;
*) fail "the backend detail does not say the peak is sampled: $detail" ;; esac

# The sampled peak: at least the 48 MiB held for 1.5 s (seven 200 ms samples), at most
# what the kernel's memory.peak of the same group saw (a sample of memory.current can
# never exceed it).
assert_eq "$(job "$f" mem .reason)" exit "mem's reason"
kpeak=$(tail -n 1 "$W/res/$(job "$f" mem .logs.stdout)")
case $kpeak in '' | *[!0-9]*) fail "mem did not print its group's memory.peak: '$kpeak'" ;; esac
peak=$(job "$f" mem .memory.peak_bytes)
assert_between "$peak" 50331648 "$kpeak" "sampled peak (memory.peak of the group: $kpeak)"
echo "ok: stopped without cgroup.kill; sampled peak $peak (kernel's memory.peak $kpeak)"
