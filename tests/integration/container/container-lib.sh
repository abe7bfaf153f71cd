# Sourced by the container tests after lib.sh: podman and the local test image
# (scripts/make-test-image.sh: busybox-static imported, no registry), and ways to find a
# run's containers and groups through its own journal.
need_root_cgroups
# podman is daemonless: nothing to start or stop; each test removes what it made
# (corun cleanup at exit, lib.sh).
command -v podman >/dev/null 2>&1 || skip "podman is not installed (scripts/install-deps.sh)"
# crun runs no container at all, corun's or a plain `podman run`, on a v1 hybrid host
# whose cgroup2 mount holds a controller ("cgroups in hybrid mode not supported"): this
# machine's kernel leaves hugetlb there, on no v1 hierarchy. corun refuses such runs
# before anything starts and says how to fix the host (container-errors checks the
# message); here the test does what the message says, as a user would: each controller
# moves to a v1 hierarchy of its own (nothing used it on cgroup2).
if [ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ -r /sys/fs/cgroup/unified/cgroup.controllers ]; then
        for _c in $(cat /sys/fs/cgroup/unified/cgroup.controllers); do
                mkdir -p "/sys/fs/cgroup/$_c" && mount -t cgroup -o "$_c" cgroup "/sys/fs/cgroup/$_c" ||
                        fail "cannot give the $_c controller a v1 hierarchy: crun would run no container here"
        done
fi
IMAGE=$(sh "$SRCDIR/scripts/make-test-image.sh" podman | tail -n 1) || fail "scripts/make-test-image.sh failed"
# subst FILE: the scenario file with @IMAGE@ and @WORK@ filled in.
subst() { sed -i "s|@IMAGE@|$IMAGE|g; s|@WORK@|$WORK|g" "$1"; }
# run_id PID: runner PID's run id, from its journal's header.
run_id() {
        _j=$(run_journal "$1")
        [ -n "$_j" ] && sed -n '1s/.* run=\([^ ]*\).*/\1/p' "$_j"
}
# engine_containers RUNID: the containers of that run podman knows, in any state.
engine_containers() { podman ps -a --format '{{.Names}}' | grep "^corun-$1-" || true; }
# job_container PID JOB: the name runner PID journalled for JOB's container.
job_container() { sed -n "s|^container /[^ ]*/podman \(corun-.*-$2\)\$|\1|p" "$(run_journal "$1")"; }
# job_groups PID JOB: JOB's group in every hierarchy, from runner PID's journal.
job_groups() { sed -n "s|^cgroup \(.*/$2\)\$|\1|p" "$(run_journal "$1")"; }
# in_job_groups PID JOB PROC: process PROC is in every one of JOB's groups.
in_job_groups() {
        for _g in $(job_groups "$1" "$2"); do
                grep -qx "$3" "$_g/cgroup.procs" || return 1
        done
}
# container_pids NAME: the host pids of the container's init and its children.
container_pids() {
        _p=$(podman inspect -f '{{.State.Pid}}' "$1" 2>/dev/null) || return 0
        [ "${_p:-0}" -gt 0 ] || return 0
        echo "$_p"
        cat /proc/"$_p"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true
}
# wait_started PID WHAT: waits for $WORK/shared/started, written by the container's
# command; fails at once, with corun's output, when runner PID ends first (a container
# that cannot start makes the job exit, and nothing would write the file).
wait_started() {
        poll 60 started_or_ended "$1" || fail "timed out waiting for $2: $(eval "$WAIT_DETAIL")"
        [ -e "$WORK/shared/started" ] || fail "corun ended while waiting for $2: $(cat "$WORK/out")"
}
# started_or_ended PID: the file is there, or runner PID is a zombie (our child, not yet
# waited for) or gone.
started_or_ended() {
        [ -e "$WORK/shared/started" ] && return 0
        _st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
        [ -z "$_st" ] || [ "$_st" = Z ]
}
# start_sleeper: starts `corun run` in the background with one job, box, sleeping in the
# image, and waits for its container; sets pid (the runner), id (its run id), name (the
# container), cpids (the container's processes), procs (the run's processes).
start_sleeper() {
        mkdir -p "$WORK/shared"
        "$CORUN" run -q -o "$WORK/res" --image "$IMAGE" --volume "$WORK/shared:/w" --job-name box \
                "touch /w/started; sleep 1000" >"$WORK/out" 2>&1 &
        pid=$!
        WAIT_DETAIL='echo "journal: $(run_journal $pid); containers: $(podman ps -a --format "{{.Names}} {{.Status}}")"; cat "$WORK/out"'
        wait_started $pid "the container to start"
        id=$(run_id $pid)
        name=$(job_container $pid box)
        [ -n "$id" ] && [ -n "$name" ] || fail "run id '$id' or container '$name' not journalled"
        cpids=$(container_pids "$name")
        [ -n "$cpids" ] || fail "container $name has no process"
        procs=$(run_procs $pid)
}
# own_resources_gone JOURNAL-COPY RUNID WHEN: every group and dir of the run listed in
# the copy of its journal is gone (the shared corun/ may hold other runs: not checked).
own_resources_gone() {
        while read -r _kind _path _rest; do
                case "$_kind" in
                cgroup|dir) case "$_path" in *"$2"*) [ ! -e "$_path" ] || fail "$_kind $_path left behind $3" ;; esac ;;
                esac
        done <"$1"
}
