#!/bin/bash
# A private one-node Slurm cluster for the `slurm` suite: munged, slurmctld and slurmd
# with their own key, sockets, state, spool, pid and log files under $SLURM_TEST_DIR.
# Sourced by the tests. cluster_start records every daemon's pid; cluster_stop (run from
# an EXIT trap) stops exactly those pids, so a failing test leaves nothing behind.

cluster_log() { echo "slurm-test: $*" >&2; }

# A TCP port nobody listens on: the kernel picks one for a socket bound to port 0. It
# is free again once the socket closes; another process taking it before slurmctld does
# is possible but then the daemon fails loudly and the deadline below reports it.
cluster_free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $1 seconds for the command in "${@:2}" to succeed.
cluster_wait() {
        local deadline=$((SECONDS + $1))
        shift
        while ! "$@" >/dev/null 2>&1; do
                if ((SECONDS >= deadline)); then
                        return 1
                fi
                sleep 0.5
        done
}

cluster_pids=()

cluster_stop() {
        local p
        # Jobs first: a step's slurmstepd outlives slurmd, so none may still be running
        # when the daemons go. Only this cluster's jobs (SLURM_CONF is ours).
        if [ "${#cluster_pids[@]}" -gt 1 ] && [ -n "${SLURM_CONF:-}" ]; then
                scancel --quiet --user=root >/dev/null 2>&1 || true
                cluster_wait 30 sh -c '! squeue -h -o %i 2>/dev/null | grep -q .' || true
        fi
        for p in "${cluster_pids[@]}"; do
                kill -TERM "$p" 2>/dev/null || true
        done
        for p in "${cluster_pids[@]}"; do
                # Daemons stop within a few seconds of SIGTERM; SIGKILL after 15 s.
                for _ in $(seq 30); do
                        kill -0 "$p" 2>/dev/null || break
                        sleep 0.5
                done
                kill -KILL "$p" 2>/dev/null || true
        done
        cluster_pids=()
}

cluster_dump_logs() {
        local f
        for f in "$SLURM_TEST_DIR"/log/*.log; do
                [ -f "$f" ] || continue
                echo "----- $f (last 30 lines)" >&2
                tail -n 30 "$f" >&2
        done
}

cluster_start() {
        local d=$SLURM_TEST_DIR host cpus mem
        mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log" "$d/run"
        chmod 700 "$d/munge"
        # munged insists on a private key (0600) in a directory others cannot write.
        head -c 1024 /dev/urandom >"$d/munge/munge.key"
        chmod 600 "$d/munge/munge.key"
        munged --foreground --force --key-file="$d/munge/munge.key" --socket="$d/munge/munge.sock" \
                --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" \
                --seed-file="$d/munge/munged.seed" >>"$d/log/munged.log" 2>&1 &
        cluster_pids+=($!)
        if ! cluster_wait 20 test -S "$d/munge/munge.sock"; then
                cluster_log "munged did not create its socket within 20 s"
                return 1
        fi

        host=$(hostname -s)
        read -r cpus mem < <(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*RealMemory=\([0-9]*\).*/\1 \2/p')
        local sockets cores threads
        sockets=$(slurmd -C | sed -n 's/.*SocketsPerBoard=\([0-9]*\).*/\1/p')
        cores=$(slurmd -C | sed -n 's/.*CoresPerSocket=\([0-9]*\).*/\1/p')
        threads=$(slurmd -C | sed -n 's/.*ThreadsPerCore=\([0-9]*\).*/\1/p')
        SLURM_TEST_CPUS=$cpus
        SLURM_TEST_MEM_MB=$mem
        local cport dport
        cport=$(cluster_free_port) && dport=$(cluster_free_port) || return 1
        while [ "$dport" = "$cport" ]; do dport=$(cluster_free_port); done
        cat >"$d/slurm.conf" <<CONF
ClusterName=corun-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
        export SLURM_CONF=$d/slurm.conf
        # -D: stay in the foreground so $! is the daemon; -i: ignore state from a crash.
        slurmctld -D -i -f "$SLURM_CONF" >>"$d/log/slurmctld.out" 2>&1 &
        cluster_pids+=($!)
        slurmd -D -f "$SLURM_CONF" >>"$d/log/slurmd.out" 2>&1 &
        cluster_pids+=($!)
        # The node reports in after slurmd registers; on a loaded 2-core machine that can
        # take tens of seconds, hence the long deadline.
        if ! cluster_wait 60 sh -c "sinfo -h -N -o '%t' | grep -qx idle"; then
                cluster_log "the node did not become idle within 60 s; sinfo says: $(sinfo -N 2>&1)"
                cluster_dump_logs
                return 1
        fi
        SLURM_TEST_NODE=$host
        cluster_log "one-node cluster up: $host, $cpus CPUs, $mem MiB, ports $cport/$dport"
}
