#!/bin/bash
# corun stress: output formats, markers (in order, and flushed into a pipe at once),
# the work it promises (sizes, rates, durations) and errors that name the flag.
# Needs no root and no cgroups. Environment: CORUN.
set -eu
: "${CORUN:?CORUN not set (run through meson test)}"
WORK=$(mktemp -d /tmp/corun-test-stress.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() {
        echo "FAIL (stress): $*" >&2
        exit 1
}
# between VALUE LOW HIGH WHAT
between() {
        awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' || fail "$4: $1 not in [$2, $3]"
}
# field LINE KEY: the value of key=value in a summary line
field() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<"$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# cpu --work: markers around the burn, then the summary; threads split the work.
out=$("$CORUN" stress cpu --work 100 --threads 2)
[ "$(sed -n 1p <<<"$out")" = "stress cpu: phase burn start" ] || fail "cpu: first line: $out"
[ "$(sed -n 2p <<<"$out")" = "stress cpu: phase burn end" ] || fail "cpu: second line: $out"
last=$(sed -n 3p <<<"$out")
[[ $last =~ ^stress\ cpu:\ work=100\ threads=2\ wall_s=[0-9.]+\ cpu_s=[0-9.]+$ ]] || fail "cpu summary: $last"
between "$(field "$last" cpu_s)" 0.01 100 "cpu --work 100 cpu_s"

# cpu --seconds: burns for that wall time on every thread. The bounds leave room for a
# busy machine (the tests run beside builds): the CPU time only has to show a burn, not
# a sleep.
last=$("$CORUN" stress cpu --seconds 300ms --threads 2 | tail -n1)
between "$(field "$last" wall_s)" 0.29 2 "cpu --seconds 300ms wall_s"
between "$(field "$last" work)" 1 1000000 "cpu --seconds work done"
between "$(field "$last" cpu_s)" 0.05 1.7 "cpu --seconds 300ms --threads 2 cpu_s"

# mem: every phase marker in order, sizes in bytes, a partial page rounded up.
out=$("$CORUN" stress mem 10000 --hold 50ms --passes 2)
want="stress mem: phase alloc start
stress mem: phase alloc end
stress mem: phase hold start
stress mem: phase hold end
stress mem: phase retouch start
stress mem: phase retouch end"
[ "$(head -n6 <<<"$out")" = "$want" ] || fail "mem markers: $out"
last=$(tail -n1 <<<"$out")
[[ $last =~ ^stress\ mem:\ size=10000\ touched=[0-9]+\ passes=2\ wall_s=[0-9.]+$ ]] || fail "mem summary: $last"
page=$(getconf PAGESIZE)
[ "$(field "$last" touched)" = $(((10000 + page - 1) / page * page)) ] || fail "mem touched: $last"
between "$(field "$last" wall_s)" 0.049 2 "mem --hold 50ms wall_s"

# mem --rate: 8 MiB at 16 MiB/s takes half a second, twice with one extra pass.
last=$("$CORUN" stress mem 8M --rate 16M/s --chunk 256K --passes 1 | tail -n1)
[ "$(field "$last" size)" = 8388608 ] || fail "mem size: $last"
between "$(field "$last" wall_s)" 0.95 5 "mem 8M at 16M/s, 2 passes, wall_s"

# The resident size really reaches SIZE while it is held.
"$CORUN" stress mem 64M --hold 2s >"$WORK/mem.out" &
pid=$!
for _ in $(seq 100); do
        grep -q "phase hold start" "$WORK/mem.out" && break
        sleep 0.05
done
rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
kill "$pid"
wait "$pid" 2>/dev/null || true
between "$rss_kb" 65536 $((65536 + 16384)) "mem 64M VmRSS (KiB) while holding"

# Markers reach a pipe while the workload still runs (line-buffered, not at exit).
"$CORUN" stress sleep 2s | cat >"$WORK/pipe.out" &
t0=$(now_ms)
for _ in $(seq 100); do
        [ -s "$WORK/pipe.out" ] && break
        sleep 0.02
done
[ "$(cat "$WORK/pipe.out")" = "stress sleep: phase sleep start" ] || fail "sleep start marker not in the pipe in time: '$(cat "$WORK/pipe.out")'"
[ $(($(now_ms) - t0)) -lt 1500 ] || fail "sleep start marker came late"
wait
[ "$(tail -n1 "$WORK/pipe.out")" = "stress sleep: phase sleep end" ] || fail "sleep end marker: $(cat "$WORK/pipe.out")"

# sleep: millisecond precision.
t0=$(now_ms)
"$CORUN" stress sleep 250ms >/dev/null
between $(($(now_ms) - t0)) 250 1500 "stress sleep 250ms (ms)"

# output: exactly N bytes, numbered markers 1..M every K lines, summary on stderr.
"$CORUN" stress output --bytes 100000 --marker-every 10 >"$WORK/output" 2>"$WORK/output.err"
[ "$(stat -c %s "$WORK/output")" = 100000 ] || fail "output: $(stat -c %s "$WORK/output") bytes, not 100000"
[ "$(tail -c1 "$WORK/output" | od -An -c | tr -d ' ')" = '\n' ] || fail "output does not end with a newline"
markers=$(grep -c '^marker ' "$WORK/output")
[ "$(grep '^marker ' "$WORK/output" | awk '{ if ($2 != NR) bad = 1 } END { print bad + 0 }')" = 0 ] ||
        fail "output markers are not numbered 1..$markers"
summary=$(cat "$WORK/output.err")
[ "$(field "$summary" markers)" = "$markers" ] || fail "output summary '$summary' vs $markers markers"
[ "$(field "$summary" bytes)" = 100000 ] || fail "output summary: $summary"
lines=$(field "$summary" lines)
between "$markers" $(((lines - 1) / 10)) $((lines / 10)) "markers for $lines lines"
first=$(head -n1 "$WORK/output")
[ ${#first} = 63 ] || fail "output lines are not 64 bytes: '$first'"
[ "$(sed -n 11p "$WORK/output")" = "marker 1" ] || fail "first marker is not line 11"
"$CORUN" stress output --bytes 0 >"$WORK/empty" 2>/dev/null
[ ! -s "$WORK/empty" ] || fail "output --bytes 0 wrote something"
# Fast enough to test a reader: 256 MiB well under the test timeout.
"$CORUN" stress output --bytes 256M 2>/dev/null | wc -c >"$WORK/count"
[ "$(cat "$WORK/count")" = 268435456 ] || fail "output 256M: $(cat "$WORK/count") bytes"

# Errors: exit 2 and the message names the flag or argument.
err() {
        local want=$1
        shift
        local rc=0
        "$CORUN" stress "$@" >/dev/null 2>"$WORK/err" || rc=$?
        [ "$rc" = 2 ] || fail "'stress $*' exited $rc, not 2"
        grep -q -- "$want" "$WORK/err" || fail "'stress $*' error does not mention '$want': $(cat "$WORK/err")"
}
err "--work" cpu --work 12x
err "--threads" cpu --threads 0
err "--work and --seconds" cpu --work 5 --seconds 1
err "--bogus" cpu --bogus
err "--seconds' needs a value" cpu --seconds
err "SIZE" mem
err "invalid SIZE '1Q'" mem 1Q
err "--rate" mem 1M --rate fast
err "--hold" mem 1M --hold 5parsecs
err "--passes" mem 1M --passes -1
err "DURATION" sleep
err "--marker-every" output --marker-every x
err "unknown workload 'disk'" disk
"$CORUN" stress mem --help | grep -q -- "--passes" || fail "stress mem --help"

# A refused allocation is a runtime error (1) that says what could not be allocated.
# 1 PiB is past the 47-bit user address space that mmap hands out without a hint, so it is
# refused whatever vm.overcommit_memory says.
rc=0
"$CORUN" stress mem 1P >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" = 1 ] || fail "stress mem 1P exited $rc"
grep -q "cannot allocate 1.00 PiB" "$WORK/err" || fail "stress mem 1P: $(cat "$WORK/err")"
echo ok
