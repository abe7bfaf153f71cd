#!/bin/sh
# Two runs on one results directory: exactly one runs (issue 14 item 3). The directory is
# locked before anything starts; the other run exits 2 and names the first. Two runs on
# two directories started at once both run.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups

# Held: a second run while the first runs is refused, naming the first by run id and pid.
D=$WORK/held
"$CORUN" run -q -o "$D" -- sleep 3 &
first=$!
wait_for "the first run's result.json" 20 test -s "$D/result.json"
rc=0
"$CORUN" run -q -o "$D" -- true 2>"$WORK/held.err" || rc=$?
assert_eq "$rc" 2 "exit status of the second run"
grep -q "is in use by another corun run (run [0-9TZ]*-$first (pid $first)" "$WORK/held.err" ||
        fail "the refusal does not name the first run: $(cat "$WORK/held.err")"
wait "$first" || fail "the first run failed"
assert_eq "$(json "$D/result.json" '.runs[0].jobs | length')" 1 "jobs in the first run's result"

# Racing: started together, 20 times; each time one runs (exit 0) and the other is refused
# (exit 2: in use, or, when the winner already ended, the result it left).
i=0
while [ $i -lt 20 ]; do
        D=$WORK/race$i
        "$CORUN" run -q -o "$D" -- sleep 0.1 2>"$D.a.err" &
        a=$!
        "$CORUN" run -q -o "$D" -- sleep 0.1 2>"$D.b.err" &
        b=$!
        ra=0 rb=0
        wait $a || ra=$?
        wait $b || rb=$?
        case "$ra $rb" in
        "0 2" | "2 0") ;;
        *) fail "race $i: exit statuses $ra and $rb (want one 0 and one 2): $(cat "$D.a.err" "$D.b.err")" ;;
        esac
        grep -Eq "in use by another corun run|already holds a result.json" "$D.a.err" "$D.b.err" ||
                fail "race $i: the refused run did not say why: $(cat "$D.a.err" "$D.b.err")"
        assert_eq "$(json "$D/result.json" '.runs[0].jobs | length')" 1 "race $i: jobs in the result"
        i=$((i + 1))
done

# Two runs starting at once where neither finds corun/ (each pair ends by removing it): the
# one whose mkdir of corun/ lost (EEXIST) must not take it before the winner initialised it
# (on v1 an empty cpuset.cpus there made the loser's partition fail with EACCES, about 1 in
# 50 pairs; a pair takes about 15 ms). 400 pairs, each run on its own directory: all run.
i=0
while [ $i -lt 400 ]; do
        "$CORUN" run -q -o "$WORK/pair$i-a" -- true 2>>"$WORK/pairs.err" &
        a=$!
        "$CORUN" run -q -o "$WORK/pair$i-b" -- true 2>>"$WORK/pairs.err" &
        b=$!
        wait $a || fail "pair $i: the first run failed: $(cat "$WORK/pairs.err")"
        wait $b || fail "pair $i: the second run failed: $(cat "$WORK/pairs.err")"
        i=$((i + 1))
done

# Without -o, two runs of one name in the same second both run, in name-STAMP and name-STAMP-2.
cd "$WORK" || fail "cd $WORK"
"$CORUN" run -q -n same -- sleep 0.2 &
a=$!
"$CORUN" run -q -n same -- sleep 0.2 &
b=$!
wait $a || fail "first default-directory run failed"
wait $b || fail "second default-directory run failed"
n=$(ls -d corun-results/same-* | wc -l)
[ "$n" -eq 2 ] || fail "want two result directories, got: $(ls corun-results)"
echo ok
