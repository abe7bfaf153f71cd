#!/bin/sh
# The exec queue on real cgroups: 6 one-core jobs on 2 allowed CPUs never share a CPU
# while they run, each sees exactly one CPU, at most 2 run at once; and a 2-core job at
# the head of the queue is not starved by the 1-core jobs behind it. Every job reports
# what it saw itself (Cpus_allowed_list and affinity from print-cpus) between two clock
# readings taken inside it (CLOCK_MONOTONIC, tests/helpers/clock-ns), so [start, end]
# lies within the time it really ran.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
[ -x "$HELPERS/clock-ns" ] || fail "$HELPERS/clock-ns is not built"

# The first two CPUs this test may use (its affinity), e.g. "0-3,8" -> 0 1.
list=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
set -- $(echo "$list" | awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-");
        lo = r[1]; hi = n > 1 ? r[2] : r[1]; for (c = lo; c <= hi; c++) print c } }' | head -n 2)
[ $# = 2 ] || skip "needs 2 usable CPUs, this test may use only '$list'"
A=$1 B=$2
cd "$WORK"

# job body: clock (CLOCK_MONOTONIC ns), what the job sees, work, clock
body() { # SECONDS
        printf "[sh, -c, 'echo start \$(%s); %s; sleep %s; echo end \$(%s)']" \
                "$HELPERS/clock-ns" "$HELPERS/print-cpus" "$1" "$HELPERS/clock-ns"
}

cat > q.yaml <<Y
name: queue
jobs:
  one: {command: $(body 0.6), cpus: 1}
scenarios:
  six: {jobs: [one], replicas: [6], allowed_cpus: "$A,$B"}
Y
"$CORUN" run -q -o res q.yaml > out 2>&1 || fail "run failed: $(cat out)"
f=res/result.json
assert_eq "$(json $f '.runs | length')" 1 "runs"
assert_eq "$(json $f '.runs[0].jobs | length')" 6 "jobs"
assert_eq "$(json $f '[.runs[0].jobs[] | select(.reason == "exit" and .exit_code == 0)] | length')" 6 "jobs that exited 0"

# One line per job: name start end cpus affinity applied, from its own log.
facts() { # RESULT_DIR RUN_INDEX
        jq -r ".runs[$2].jobs[] | \"\\(.name) \\(.logs.stdout) \\(.applied.cpus)\"" "$1/result.json" |
        while read -r name log applied; do
                o=$1/$log
                s=$(sed -n 's/^start //p' "$o"); e=$(sed -n 's/^end //p' "$o")
                c=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$o"); a=$(sed -n 's/^affinity: //p' "$o")
                [ -n "$s" ] && [ -n "$e" ] && [ -n "$c" ] && [ -n "$a" ] || fail "job $name: incomplete log $o: $(cat "$o")"
                echo "$name $s $e $c $a $applied"
        done
}
facts res 0 > six.txt
[ "$(wc -l < six.txt)" = 6 ] || fail "facts of 6 jobs expected: $(cat six.txt)"

# Checks over the facts: exactly WANT CPUs each (from the allowed two), observed = affinity
# = applied, jobs whose intervals overlap have disjoint CPUs, never more than 2 at once.
# Prints the highest number of jobs seen running at once.
check() { # FILE
        awk -v A="$A" -v B="$B" '
        function expand(s, set,   parts, n, i, r, k, c, cnt) {
                delete set; cnt = 0
                n = split(s, parts, ",")
                for (i = 1; i <= n; i++) {
                        k = split(parts[i], r, "-")
                        for (c = r[1] + 0; c <= (k > 1 ? r[2] : r[1]) + 0; c++) { set[c] = 1; cnt++ }
                }
                return cnt
        }
        function bad(msg) { print "FAIL: " msg > "/dev/stderr"; failed = 1; exit 1 }
        {
                n++; name[n] = $1; st[n] = $2; en[n] = $3; cpus[n] = $4
                if ($3 < $2) bad($1 ": ends before it starts")
                cnt = expand($4, s)
                for (c in s) if (c != A && c != B) bad($1 " ran on CPU " c ", outside the allowed " A "," B)
                want[n] = $1 ~ /^big/ ? 2 : 1
                if (cnt != want[n]) bad($1 " saw " cnt " CPUs (" $4 "), expected " want[n])
                if ($4 != $5) bad($1 ": Cpus_allowed_list " $4 " but affinity " $5)
                if (expand($6, t) != cnt) bad($1 ": applied " $6 " but saw " $4)
                for (c in s) if (!(c in t)) bad($1 ": applied " $6 " but saw " $4)
        }
        END {
                if (failed) exit 1
                for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
                        if (st[i] > en[j] || st[j] > en[i]) continue
                        expand(cpus[i], si); expand(cpus[j], sj)
                        for (c in si) if (c in sj)
                                bad(name[i] " [" st[i] "," en[i] "] and " name[j] " [" st[j] "," en[j] "] overlapped on CPU " c)
                }
                # Sweep the starts: how many intervals contain each start.
                most = 0
                for (i = 1; i <= n; i++) {
                        k = 0
                        for (j = 1; j <= n; j++) if (st[j] <= st[i] && st[i] <= en[j]) k++
                        if (k > most) most = k
                }
                if (most > 2) bad(most " jobs ran at once on 2 CPUs")
                print most
        }' "$1"
}
most=$(check six.txt) || fail "queue broke a partition: $(cat six.txt)"
# 6 jobs of 0.6 s on 2 free CPUs: the first two start together (the queue is not serial).
assert_eq "$most" 2 "most jobs running at once"

# Anti-starvation: 'first' holds one CPU; 'big' (2 cores) is next and cannot start; the
# 1-core jobs after it must not take the free CPU, or 'big' would wait for all of them.
cat > s.yaml <<Y
name: starve
jobs:
  first: {command: $(body 0.6), cpus: 1}
  big:   {command: $(body 0.2), cpus: 2}
  s2:    {command: $(body 0.2), cpus: 1}
  s3:    {command: $(body 0.2), cpus: 1}
  s4:    {command: $(body 0.2), cpus: 1}
  s5:    {command: $(body 0.2), cpus: 1}
scenarios:
  mixed: {jobs: [first, big, s2, s3, s4, s5], allowed_cpus: "$A,$B"}
Y
"$CORUN" run -q -o sres s.yaml > out 2>&1 || fail "run failed: $(cat out)"
assert_eq "$(json sres/result.json '[.runs[0].jobs[] | select(.reason == "exit" and .exit_code == 0)] | length')" 6 \
        "jobs that exited 0"
facts sres 0 > mixed.txt
check mixed.txt > /dev/null || fail "queue broke a partition: $(cat mixed.txt)"
awk '$1 == "big" { bs = $2; be = $3 } $1 ~ /^s[2-5]$/ { s[$1] = $2 } $1 == "first" { fe = $3 }
     END {
        if (bs == "") { print "no big job" > "/dev/stderr"; exit 1 }
        if (bs < fe) { print "big started before first ended, on a busy CPU" > "/dev/stderr"; exit 1 }
        for (k in s) if (s[k] < bs) { print k " started before big: big was starved" > "/dev/stderr"; exit 1 }
     }' mixed.txt || fail "big at the head of the queue was overtaken: $(cat mixed.txt)"
echo ok
