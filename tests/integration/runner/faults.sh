#!/bin/sh
# Injected faults at every step (issue 14): corun kills itself with SIGKILL at the Nth fault
# point (CORUN_FAULT_AT, src/util/fault.h: journal writes, group creates, spawns, result
# writes, removals) of a 6-job run, for every N; after each, `corun cleanup` must leave no
# group, process, scratch dir, journal or temporary file, and a result.json on disk parses.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups

# What a run of pid P left: its groups (corun/<stamp>-P in every hierarchy) and journal
# (<stamp>-P.journal, or the temporary .<stamp>-P.journal.P); other runs on the machine are
# not this test's business.
left_by() {
        find /sys/fs/cgroup -name corun -type d -prune -exec find {} -mindepth 1 -maxdepth 1 -type d -name "*-$1" \; 2>/dev/null
        ls -a /run/corun 2>/dev/null | grep -- "-$1\.journal" || true
}

mkdir -p "$WORK/tmp" "$WORK/pids"
cat >"$WORK/six.yaml" <<YAML
name: six
jobs:
  a: {command: [sh, -c, 'echo \$\$ >$WORK/pids/a.\$CORUN_FAULT_AT; exec sleep 0.3'], cpus: 1, memory: 64M}
  b: {command: [sh, -c, 'echo hi; sleep 0.2'], cpus: 1, memory: 64M}
  c: {command: [sleep, '0.1'], cpus: 1}
  d: {command: ['true'], memory: 32M}
  e: {command: [sh, -c, 'echo x >&2']}
  f: {command: [sh, -c, 'echo \$\$ >$WORK/pids/f.\$CORUN_FAULT_AT; exec sleep 0.3'], cpus: 1, memory: 64M}
YAML

# How many points a whole run passes.
TMPDIR=$WORK/tmp CORUN_FAULT_COUNT=$WORK/count "$CORUN" run -q -o "$WORK/full" "$WORK/six.yaml" ||
        fail "the run without a fault failed"
points=$(cat "$WORK/count")
[ "$points" -ge 30 ] || fail "only $points fault points in a 6-job run"

# Inside the VM (TCG, several times slower) every other point; the host covers them all.
stride=1
[ "${TIME_SCALE:-1}" -gt 1 ] && stride=2
n=1 covered=0
while [ "$n" -le "$points" ]; do
        rc=0
        TMPDIR=$WORK/tmp CORUN_FAULT_AT=$n CORUN_FAULT_COUNT=$WORK/count$n "$CORUN" run -q -o "$WORK/r$n" \
                "$WORK/six.yaml" 2>"$WORK/err$n" &
        pid=$!
        wait "$pid" || rc=$?
        if [ "$rc" -eq 0 ] && [ "$(cat "$WORK/count$n")" -lt "$n" ]; then
                # The number of result rewrites depends on timing (at most one per 200 ms):
                # this run passed fewer points than the counting one. Not a failure.
                n=$((n + stride))
                continue
        fi
        [ "$rc" -eq 137 ] || fail "point $n: corun was not killed (exit $rc): $(cat "$WORK/err$n")"
        "$CORUN" cleanup -q || fail "point $n: corun cleanup failed"
        [ -z "$(left_by "$pid")" ] || fail "point $n: left behind: $(left_by "$pid")"
        [ -z "$(ls -A "$WORK/tmp")" ] || fail "point $n: scratch left: $(ls -A "$WORK/tmp")"
        for p in "$WORK"/pids/*."$n"; do
                pid=$(cat "$p" 2>/dev/null) || continue
                # Empty: the shell was killed before it wrote its pid.
                [ -n "$pid" ] || continue
                ! alive "$pid" || fail "point $n: job process $pid ($p) outlived cleanup"
        done
        if [ -d "$WORK/r$n" ]; then
                left=$(find "$WORK/r$n" -name '.*' -type f)
                [ -z "$left" ] || fail "point $n: temporary files left: $left"
                [ ! -f "$WORK/r$n/result.json" ] || json "$WORK/r$n/result.json" .run_id >/dev/null ||
                        fail "point $n: result.json does not parse"
        fi
        covered=$((covered + 1))
        n=$((n + stride))
done
# The same points failing with EIO instead (CORUN_FAULT_ERRNO): a disk or cgroup file
# that fails. Where a failure can happen (a journal write, a group or scratch dir created,
# a result file written) the run says so with the errno and exits non-zero; either way the runner itself
# leaves nothing behind, without a cleanup.
n=1 failing=0
while [ "$n" -le "$points" ]; do
        rc=0
        TMPDIR=$WORK/tmp CORUN_FAULT_AT=$n CORUN_FAULT_ERRNO=EIO "$CORUN" run -q -o "$WORK/e$n" "$WORK/six.yaml" \
                2>"$WORK/eerr$n" &
        pid=$!
        wait "$pid" || rc=$?
        site=$(sed -n 's/.*fault injection: Input\/output error at point [0-9]* (\(.*\))$/\1/p' "$WORK/eerr$n")
        case "$site" in
        "journal write" | "group create" | "result write" | "scratch create")
                [ "$rc" -ne 0 ] || fail "EIO at point $n ($site): exit 0"
                [ "$(grep -c "Input/output error" "$WORK/eerr$n")" -ge 2 ] ||
                        fail "EIO at point $n ($site) not reported: $(cat "$WORK/eerr$n")"
                failing=$((failing + 1))
                ;;
        "") [ "$rc" -eq 0 ] || fail "point $n not reached, yet exit $rc: $(cat "$WORK/eerr$n")" ;;
        *) ;;
        esac
        [ -z "$(left_by "$pid")" ] || fail "EIO at point $n: left behind: $(left_by "$pid")"
        [ -z "$(ls -A "$WORK/tmp")" ] || fail "EIO at point $n: scratch left: $(ls -A "$WORK/tmp")"
        n=$((n + stride))
done
[ "$failing" -ge 10 ] || fail "only $failing points could fail with EIO"
echo "EIO: $failing points where a write can fail reported it; nothing left at any point"
echo "ok: $covered of $points injection points, each followed by cleanup: 0 groups, processes, scratch dirs, journals, temporary files left"
