#!/bin/sh
# vm-systemd: corun on a systemd host with cgroup v2 only (issue 17, DESIGN §13). Runs
# inside the systemd VM (tests/vm/run-in-vm.sh -s), as root in vm-command.service; each
# case opens a login session with runuser -l (pam_systemd: session-N.scope), where corun
# must ask systemd for corun-<run-id>.scope with Delegate=yes:
#   1. root: backend v2, every job below a corun-*.scope with Delegate=yes, its CPUs and
#      memory limit applied, no warning; 1b. --slice; 1c. started in a delegated scope
#      (systemd-run -p Delegate=yes), corun asks for none;
#   2. corun-user (uid 1000, a user manager delegating cpu memory pids): backend v2 in
#      a scope of the user manager, memory limits applied, CPUs by affinity, one
#      warning naming the drop-in; 2b. slice: in the scenario; 2c. no user bus: the
#      reason, then backend none;
#   3. kill -9 of corun mid-run, then corun cleanup: no scope, group or process left;
#      3b. a dead run's journalled scope still running: cleanup stops it (StopUnit);
#   4. corun doctor in both cases;
#   5. a job in a container image (issue 18): tests/integration/container/partition.sh,
#      the host's test as it is, on podman from the VM's root (see
#      scripts/build-vm-systemd-root.sh for its storage and network settings).
# The scenario is examples/partitions.yaml's shape (two jobs of one core each, 256M),
# with jobs that report what they see instead of burning CPU (TCG is ~19x slower).
. "$SRCDIR/tests/integration/lib.sh"
[ "${CORUN_VM_SYSTEMD:-0}" = 1 ] || skip "needs the systemd VM (tests/vm/run-in-vm.sh -s)"
[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is $(cat /proc/1/comm), not systemd"
grep -q '^0::/' /proc/self/cgroup && [ ! -d /sys/fs/cgroup/memory ] || fail "not cgroup v2 only"
chmod 0755 "$WORK"
FAILED=0

# session USER CMD: CMD through sh in a new login session of USER.
session() {
        runuser -l "$1" -c "export CORUN=$CORUN PATH=$(dirname "$CORUN"):\$PATH; cd /corun/src || exit 1; $2"
}

# The observing job: its group, its unit's Delegate=, memory.max, CPUs.
scenario() { # DIR SYSTEMCTL
        cat >"$1/scenario.yaml" <<EOF
name: vm-systemd
defaults:
  memory: 256M
  timeout: 120s
jobs:
  worker:
    command: [sh, $1/observe, $1/worker, "$2"]
    cpus: 1
  noisy:
    command: [sh, $1/observe, $1/noisy, "$2"]
    cpus: 1
scenarios:
  exclusive:
    jobs: [worker, noisy]
EOF
        cat >"$1/observe" <<'EOF'
g=$(sed -n 's/^0:://p' /proc/self/cgroup)
unit=$(echo "$g" | tr / '\n' | grep '^corun-.*\.scope$')
{
        echo "group $g"
        echo "unit $unit"
        echo "delegate $($2 show -p Delegate --value "$unit")"
        echo "memory_max $(cat /sys/fs/cgroup$g/memory.max)"
        echo "cpus $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
} >"$1"
EOF
        chmod 0644 "$1/scenario.yaml" "$1/observe"
}

# check_jobs DIR LABEL: both jobs below a corun-*.scope with Delegate=yes, 256M, one
# CPU each, different ones.
check_jobs() {
        for j in worker noisy; do
                f=$1/$j
                [ -s "$f" ] || fail "$2: job $j wrote no observation"
                sed "s/^/  $2 $j: /" "$f"
                grep -q '^group .*/corun-[^/]*\.scope/corun/[^/]*/[0-9]*-exclusive/' "$f" || fail "$2: job $j is not below a corun-*.scope: $(cat "$f")"
                grep -qx 'delegate yes' "$f" || fail "$2: the scope of $j has no Delegate=yes"
                grep -qx "memory_max $((256 * 1024 * 1024))" "$f" || fail "$2: job $j's memory.max is not 256M"
                grep -qx 'cpus [0-9]*' "$f" || fail "$2: job $j may use more than one CPU"
        done
        [ "$(sed -n 's/^cpus //p' "$1/worker")" != "$(sed -n 's/^cpus //p' "$1/noisy")" ] || fail "$2: both jobs on one CPU"
}

# job_group DIR LABEL PREFIX ARGS: PREFIX corun run ARGS as root from a login session,
# with one job that writes its cgroup to DIR/group.
job_group() {
        session root "$3 corun run -q $4 -- sh -c 'sed -n s/^0:://p /proc/self/cgroup >$1/group'" >"$1/out" 2>&1 || {
                cat "$1/out"
                fail "$2: corun run failed"
        }
}

user_units_gone() {
        runuser -l corun-user -c 'systemctl --user list-units --all --plain --no-legend "corun-*"' >"$WORK/uleft" 2>&1
        [ ! -s "$WORK/uleft" ]
}

no_leftovers() { # LABEL
        WAIT_DETAIL='systemctl status --no-pager "corun-*"; find /sys/fs/cgroup -path "*corun*" -name cgroup.procs -exec grep -H . {} +' \
                wait_for "$1: no corun scope left" 30 sh -c '[ -z "$(systemctl list-units --all --plain --no-legend "corun-*")" ]'
        # The user manager collects its scopes on its own time, as the system one does.
        WAIT_DETAIL='cat "$WORK/uleft"' wait_for "$1: no corun scope left in the user manager" 30 user_units_gone
        left=$(find /sys/fs/cgroup -name 'corun*' -type d)
        [ -z "$left" ] || fail "$1: groups left: $left"
        ! pgrep -x sleep >/dev/null || fail "$1: a job's process is left: $(pgrep -a -x sleep)"
}

echo "== 1. root, from a login session"
D=$WORK/root && mkdir -p "$D" && scenario "$D" systemctl
session root "cat /proc/self/cgroup; corun run -q -o $D/res $D/scenario.yaml" >"$D/out" 2>"$D/err" || {
        cat "$D/out" "$D/err"
        fail "root: corun run failed"
}
grep -q 'session-.*\.scope' "$D/out" || fail "root: the shell is not in a session scope: $(cat "$D/out")"
r=$(ls -d "$D"/res*/result.json 2>/dev/null | head -n 1)
[ -n "$r" ] || r=$(find "$D/res" -name result.json | head -n 1)
assert_eq "$(json "$r" .backend)" v2 "root: backend"
echo "  root detail: $(json "$r" .host.cgroup_backend_detail)"
check_jobs "$D" root
! grep -i warning "$D/err" || fail "root: corun warned"
no_leftovers root

echo "== 1b. root, --slice: the scope in the slice given (systemd makes it, and keeps it: not ours)"
D=$WORK/slice && mkdir -p "$D"
job_group "$D" slice "" "--slice benchwork.slice -o $D/res"
grep -q '^/benchwork.slice/corun-[^/]*\.scope/corun/' "$D/group" || fail "slice: the job is not below benchwork.slice: $(cat "$D/group")"
session root "corun run -q --slice 'bad/name' -- true" >"$D/bad" 2>&1 && fail "slice: a bad slice name was taken"
grep -q -- "--slice: expected a systemd slice name like benchmarks.slice, got 'bad/name'" "$D/bad" || fail "slice: the error does not name the flag: $(cat "$D/bad")"
no_leftovers slice

echo "== 1c. root, already in a delegated scope (systemd-run -p Delegate=yes): nothing changes"
D=$WORK/delegated && mkdir -p "$D"
job_group "$D" delegated "systemd-run --quiet --scope -p Delegate=yes" ""
grep -q '/run-[^/]*\.scope/corun/' "$D/group" || fail "delegated: the job is not below systemd-run's scope: $(cat "$D/group")"
! grep -q 'corun-[^/]*\.scope' "$D/group" || fail "delegated: corun asked for a scope of its own: $(cat "$D/group")"
no_leftovers delegated

echo "== 2. corun-user, from a login session with a user manager"
D=$WORK/user && mkdir -p "$D" && chown corun-user "$D" && scenario "$D" "systemctl --user"
session corun-user "cat /proc/self/cgroup; corun run -q -o $D/res $D/scenario.yaml" >"$D/out" 2>"$D/err" || {
        cat "$D/out" "$D/err"
        fail "user: corun run failed"
}
cat "$D/err"
r=$(find "$D/res" -name result.json | head -n 1)
assert_eq "$(json "$r" .backend)" v2 "user: backend"
echo "  user detail: $(json "$r" .host.cgroup_backend_detail)"
check_jobs "$D" user
grep '/user@1000.service/' "$D/worker" >/dev/null || fail "user: the scope is not the user manager's"
assert_eq "$(grep -ci warning "$D/err")" 1 "user: warnings"
grep -q 'user@.service.d/delegate.conf' "$D/err" || fail "user: the warning names no drop-in"
no_leftovers user

echo "== 2b. corun-user, slice: in the scenario: the scope in the user manager's slice"
D=$WORK/uslice && mkdir -p "$D" && chown corun-user "$D"
printf 'slice: benchwork.slice\njobs:\n  j:\n    command: [sh, -c, "sed -n s/^0:://p /proc/self/cgroup >%s/group"]\n' "$D" >"$D/s.yaml"
chmod 0644 "$D/s.yaml"
session corun-user "corun run -q -o $D/res $D/s.yaml" >"$D/out" 2>&1 || {
        cat "$D/out"
        fail "uslice: corun run failed"
}
grep -q '^/user.slice/user-1000.slice/user@1000.service/benchwork.slice/corun-[^/]*\.scope/corun/' "$D/group" ||
        fail "uslice: the job is not below the user manager's benchwork.slice: $(cat "$D/group")"
no_leftovers uslice

echo "== 2c. corun-user whose user manager cannot be reached: the reason, then backend none"
D=$WORK/nobus && mkdir -p "$D/xdg" && chown -R corun-user "$D"
session corun-user "unset DBUS_SESSION_BUS_ADDRESS; export XDG_RUNTIME_DIR=$D/xdg; corun run -q -o $D/res -- true" >"$D/out" 2>&1 || {
        cat "$D/out"
        fail "nobus: corun run failed"
}
cat "$D/out"
grep -q "systemd gave corun no scope of its own (cannot reach the user manager's bus" "$D/out" ||
        fail "nobus: the warning does not say why there is no scope"
grep -q "backend 'none'" "$D/out" || fail "nobus: not backend none"
no_leftovers nobus

echo "== 3. kill -9 mid-run, then corun cleanup"
for who in root corun-user; do
        D=$WORK/kill-$who && mkdir -p "$D" && chown "$who" "$D"
        sctl=systemctl
        [ "$who" = root ] || sctl="systemctl --user"
        # The job writes its own pid: the test finds it by that, not by name.
        session "$who" "corun run -q -o $D/res -- sh -c 'echo \$\$ >$D/job; exec sleep 300' >$D/out 2>&1 & echo \$! >$D/pid; wait" &
        WAIT_DETAIL="cat $D/out" wait_for "$who: the job running in its scope" 60 sh -c "[ -s $D/job ] && [ -s $D/pid ]"
        session "$who" "$sctl list-units --plain --no-legend 'corun-*'" | grep -q 'corun-.*\.scope' || fail "$who: no scope while running"
        kill -9 "$(cat "$D/pid")"
        wait_for "$who: corun dead" 30 not kill -0 "$(cat "$D/pid")"
        # The jobs die with corun (their parent-death signal), and systemd may collect the
        # emptied scope before cleanup comes; whatever is left, cleanup must remove.
        left=$(session "$who" "$sctl list-units --all --plain --no-legend 'corun-*'")
        session "$who" "corun cleanup" >"$D/cleanup" 2>&1 || { cat "$D/cleanup"; fail "$who: corun cleanup failed"; }
        cat "$D/cleanup"
        if [ -n "$left" ] && session "$who" "$sctl is-active -q '$(echo "$left" | cut -d' ' -f1)'"; then
                grep -q 'scope' "$D/cleanup" || fail "$who: cleanup did not stop the scope ($left)"
        fi
        wait
        grep -qx '[0-9][0-9]*' "$D/job" || fail "$who: the job wrote no pid: $(cat "$D/job")"
        ! kill -0 "$(cat "$D/job")" 2>/dev/null || fail "$who: the job (pid $(cat "$D/job")) outlived corun and cleanup"
        no_leftovers "kill -9 ($who)"
done

echo "== 3b. a dead run's scope still running: corun cleanup stops it (StopUnit)"
# Above, systemd usually collects the emptied scope before cleanup comes. Here the scope
# is kept alive by a process of its own (systemd-run --scope --unit), named in the
# journal of a run whose runner is dead, so cleanup must stop it itself.
boot=$(cat /proc/sys/kernel/random/boot_id)
sh -c 'exit 0' &
dead=$!
wait $dead
for who in root corun-user; do
        run=stopme-$who
        if [ "$who" = root ]; then
                sctl=systemctl flag= entry=/system/corun-$run.scope jdir=/run/corun
        else
                sctl="systemctl --user" flag=--user entry=/user-1000/corun-$run.scope jdir=/run/user/1000/corun
        fi
        session "$who" "systemd-run $flag --scope --unit=corun-$run --quiet sleep 300 >/dev/null 2>&1 &"
        wait_for "$who: corun-$run.scope active" 30 session "$who" "$sctl is-active -q corun-$run.scope"
        session "$who" "mkdir -p -m 0700 $jdir && printf 'corun-journal 1 pid=%s start=1 boot=%s run=%s\nscope %s\n' $dead $boot $run $entry >$jdir/$run.journal && chmod 0600 $jdir/$run.journal"
        session "$who" "corun cleanup" >"$WORK/stop-$who" 2>&1 || { cat "$WORK/stop-$who"; fail "$who: corun cleanup failed"; }
        cat "$WORK/stop-$who"
        grep -qx "removed scope corun-$run.scope" "$WORK/stop-$who" || fail "$who: cleanup did not report stopping corun-$run.scope"
        grep -q "^cleaned 1 dead run(s): .*, stopped 1 systemd scope(s)$" "$WORK/stop-$who" || fail "$who: cleanup's total counts no scope"
        ! session "$who" "$sctl is-active -q corun-$run.scope" || fail "$who: corun-$run.scope still active"
        [ ! -e "$jdir/$run.journal" ] || fail "$who: the journal is left"
done
no_leftovers "scope stop"

echo "== 4. corun doctor"
for who in root corun-user; do
        st=0
        session "$who" "corun doctor --write-test" >"$WORK/doctor-$who" 2>&1 || st=$?
        sed "s/^/  $who: /" "$WORK/doctor-$who"
        echo "$st" >"$WORK/doctor-$who.status"
        grep -q '^ok  *systemd  *PID 1; .*session-.*\.scope is systemd.s, not delegated' "$WORK/doctor-$who" ||
                fail "doctor ($who) does not say it will ask systemd for a scope"
        grep -q "^ok  *write-test  *created corun/doctor-[0-9]*/doctor .* (in systemd's corun-doctor-[0-9]*\.scope)" "$WORK/doctor-$who" ||
                fail "doctor ($who): the write test did not run in a scope of its own"
done
# Root gets every controller (exit 0); the user lacks cpuset and io (1: usable, weaker).
assert_eq "$(cat "$WORK/doctor-root.status")" 0 "doctor (root) exit status"
assert_eq "$(cat "$WORK/doctor-corun-user.status")" 1 "doctor (user) exit status"
no_leftovers "doctor --write-test"
grep -q '^ok  *backend  *v2: in corun-<run-id>.scope' "$WORK/doctor-root" || fail "doctor (root) does not say corun gets a scope of its own"
grep -q '^ok  *controllers .*delegates cpuset cpu io memory pids$' "$WORK/doctor-root" || fail "doctor (root): not every controller"
grep -q '^ok  *root  *not root (uid 1000): .*user manager' "$WORK/doctor-corun-user" || fail "doctor (user) asks for root"
grep -q '^FAIL *controllers .*delegat.*cpu memory pids; missing: cpuset io' "$WORK/doctor-corun-user" || fail "doctor (user) does not list the delegated controllers"
grep -q 'delegate.conf' "$WORK/doctor-corun-user" || fail "doctor (user) does not name the drop-in"
echo "== 5. a job in a container image: tests/integration/container/partition.sh"
# As root from vm-command.service, where corun asks systemd for its scope; the VM is
# cgroup v2 only, so this is also the container test on a cgroup v2 host. A skip (no
# podman) is a failure here: the VM's root has it.
st=0 t5=$(cut -d. -f1 /proc/uptime)
"$SRCDIR/tests/integration/container/partition.sh" >"$WORK/container" 2>&1 || st=$?
sed 's/^/  /' "$WORK/container"
echo "  took $(($(cut -d. -f1 /proc/uptime) - t5)) s (the image included)"
assert_eq "$st" 0 "container: partition.sh's exit status"
no_leftovers container
echo "vm-systemd: all cases passed"
