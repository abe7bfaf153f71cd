#!/bin/bash
# The test helper programs do what the integration tests rely on. Root is needed only
# for the fork-bomb-under-a-pids-limit part, which is skipped (not failed) without a
# writable v1 pids or cgroup2 hierarchy. Environment: HELPERS.
set -eu
: "${HELPERS:?HELPERS not set (run through meson test)}"
WORK=$(mktemp -d /tmp/corun-test-helpers.XXXXXX)
CG=""
cleanup() {
        if [ -n "$CG" ] && [ -d "$CG" ]; then
                # Nothing may stay in the test group; empty it before removing it.
                for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
                sleep 0.2
                rmdir "$CG" 2>/dev/null || true
        fi
        rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
        echo "FAIL (helpers): $*" >&2
        exit 1
}
between() {
        awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' || fail "$4: $1 not in [$2, $3]"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# alive PID: running, not a zombie waiting for its (re)parent to reap it.
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }

# touch-exact: static when libc.a exists, and resident size = BYTES while it holds. A
# sanitizer build links it dynamically with the sanitizer runtime, whose shadow memory
# makes both checks meaningless there.
if LC_ALL=C readelf -d "$HELPERS/touch-exact" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        echo "note: sanitizer build; touch-exact static and exact-size checks skipped" >&2
        exact=false
else
        exact=true
fi
if $exact && ls /usr/lib/*/libc.a /usr/lib/libc.a >/dev/null 2>&1; then
        if LC_ALL=C readelf -l "$HELPERS/touch-exact" | grep -q INTERP; then
                fail "touch-exact is dynamically linked although libc.a exists"
        fi
fi
"$HELPERS/touch-exact" 32M --hold 3000 >"$WORK/touch.out" &
pid=$!
for _ in $(seq 100); do
        [ -s "$WORK/touch.out" ] && break
        sleep 0.05
done
[ "$(cat "$WORK/touch.out")" = "touch-exact: touched 33554432 bytes" ] || fail "touch-exact: $(cat "$WORK/touch.out")"
anon_kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")
kill "$pid"
wait "$pid" 2>/dev/null || true
# 32 MiB plus the static binary's own few pages of data, stack and heap.
$exact && between "$anon_kb" 32768 $((32768 + 512)) "touch-exact 32M RssAnon (KiB)"
"$HELPERS/touch-exact" 5000 | grep -qx "touch-exact: touched $(getconf PAGESIZE | awk '{ print int((5000 + $1 - 1) / $1) * $1 }') bytes" ||
        fail "touch-exact does not round BYTES up to whole pages"
"$HELPERS/touch-exact" nonsense 2>/dev/null && fail "touch-exact accepted 'nonsense'"

# daemonize: prints the daemon's pid at once; the daemon lives on in its own session.
t0=$(now_ms)
dpid=$("$HELPERS/daemonize" 30 | head -n1)
[ $(($(now_ms) - t0)) -lt 1000 ] || fail "daemonize did not return at once"
alive "$dpid" || fail "daemon $dpid is not running"
read -r -a stat <<<"$(sed 's/.*) //' "/proc/$dpid/stat")"
[ "${stat[1]}" != $$ ] || fail "daemon is still our child"
[ "${stat[3]}" != "$(ps -o sid= $$ | tr -d ' ')" ] || fail "daemon did not leave our session"
[ "$(readlink "/proc/$dpid/fd/1")" = /dev/null ] || fail "daemon stdout is $(readlink "/proc/$dpid/fd/1")"
kill "$dpid"
# A short-lived one ends by itself: waited for with a deadline, not `sleep; check`. 5 s
# is a hang, not a slow 200 ms on a loaded machine.
dpid=$("$HELPERS/daemonize" 200ms)
for _ in $(seq 100); do
        alive "$dpid" || break
        sleep 0.05
done
alive "$dpid" && fail "daemon $dpid still running 5 s after its 200ms"

# forkbomb: bounded by --max, reports, and leaves nothing after its --seconds.
t0=$(now_ms)
out=$("$HELPERS/forkbomb" --max 40 --seconds 500ms)
[[ $out =~ ^forkbomb:\ forks=([0-9]+)\ EAGAIN=0\ other_errors=0\ max=40$ ]] || fail "forkbomb: $out"
[ "${BASH_REMATCH[1]}" -le 40 ] || fail "forkbomb forked more than --max: $out"
between $(($(now_ms) - t0)) 450 5000 "forkbomb --seconds 500ms run time (ms)"
pgrep -f "$HELPERS/forkbomb" >/dev/null && fail "forkbomb processes left"

# ... and under a pids limit, fork fails with EAGAIN.
for base in /sys/fs/cgroup/pids /sys/fs/cgroup; do
        if [ -w "$base" ] && { [ -e "$base/pids.max" ] || [ -e "$base/cgroup.procs" ]; }; then
                mkdir "$base/corun-test-helpers-$$" 2>/dev/null && CG="$base/corun-test-helpers-$$" && break
        fi
done
if [ -n "$CG" ] && [ -e "$CG/pids.max" ]; then
        echo 16 >"$CG/pids.max"
        out=$(sh -c "echo \$\$ > '$CG/cgroup.procs' && exec '$HELPERS/forkbomb' --max 1000 --seconds 1")
        [[ $out =~ EAGAIN=([1-9][0-9]*) ]] || fail "forkbomb under pids.max=16 saw no EAGAIN: $out"
else
        echo "note: no writable pids cgroup; forkbomb EAGAIN part skipped" >&2
fi

# print-cpus: what the job sees, cross-checked with taskset and the environment.
out=$(OMP_NUM_THREADS=3 TMPDIR=/tmp/x taskset -c 0 "$HELPERS/print-cpus")
grep -qx $'Cpus_allowed_list:\t0' <<<"$out" || fail "print-cpus Cpus_allowed_list: $out"
grep -qx 'affinity: 0' <<<"$out" || fail "print-cpus affinity: $out"
grep -q $'^Mems_allowed_list:\t' <<<"$out" || fail "print-cpus Mems_allowed_list: $out"
grep -qx 'OMP_NUM_THREADS=3' <<<"$out" || fail "print-cpus OMP_NUM_THREADS: $out"
grep -qx 'TMPDIR=/tmp/x' <<<"$out" || fail "print-cpus TMPDIR: $out"
[ "$(grep -c '^cgroup: ' <<<"$out")" = "$(wc -l </proc/self/cgroup)" ] || fail "print-cpus cgroup lines: $out"
out=$(env -u OMP_NUM_THREADS -u TMPDIR "$HELPERS/print-cpus")
grep -qx 'OMP_NUM_THREADS is not set' <<<"$out" || fail "print-cpus unset OMP_NUM_THREADS: $out"

# markers: K phases, each about N ms; --burn spends it on the CPU.
t0=$(now_ms)
out=$("$HELPERS/markers" --interval-ms 100 --count 3)
between $(($(now_ms) - t0)) 300 2000 "markers 3 x 100ms (ms)"
[ "$out" = "$(printf 'phase %d start\nphase %d end\n' 1 1 2 2 3 3)" ] || fail "markers output: $out"
TIMEFORMAT=%U
user=$( { time "$HELPERS/markers" --interval-ms 150 --count 2 --burn >/dev/null; } 2>&1)
between "$user" 0.05 1.5 "markers --burn user CPU (s)"
user=$( { time "$HELPERS/markers" --interval-ms 150 --count 2 >/dev/null; } 2>&1)
between "$user" 0 0.05 "markers (sleeping) user CPU (s)"
"$HELPERS/markers" --count x 2>/dev/null && fail "markers accepted --count x"
echo ok
