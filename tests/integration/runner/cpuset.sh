#!/bin/sh
# Each job sees exactly its own cpuset and memory node from its first instruction, and
# gets OMP_NUM_THREADS and a private TMPDIR that is gone afterwards.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -c 1 -o "$R" --job-name a --job-name b "$HELPERS/print-cpus" "$HELPERS/print-cpus" \
        || fail "corun run failed"
ca=$(job "$R/result.json" a .applied.cpus)
cb=$(job "$R/result.json" b .applied.cpus)
[ "$ca" != "$cb" ] || fail "both jobs got cpus $ca"
for j in a b; do
        out="$R/$(job "$R/result.json" $j .logs.stdout)"
        want=$(job "$R/result.json" $j .applied.cpus)
        got=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$out")
        assert_eq "$got" "$want" "job $j Cpus_allowed_list"
        assert_eq "$(sed -n 's/^OMP_NUM_THREADS=//p' "$out")" 1 "job $j OMP_NUM_THREADS"
        tmp=$(sed -n 's/^TMPDIR=//p' "$out")
        case "$tmp" in */corun-*) ;; *) fail "job $j TMPDIR '$tmp' is not a corun scratch dir" ;; esac
        [ ! -e "$tmp" ] || fail "scratch dir $tmp left behind"
        grep -q "corun/" "$out" || fail "job $j: /proc/self/cgroup shows no corun group: $(cat "$out")"
done
# An explicit set is honoured exactly.
"$CORUN" run -q -c 1 -o "$R.2" -- "$HELPERS/print-cpus" || fail "explicit run failed"
"$CORUN" run -q -c 0 -o "$R.3" -- "$HELPERS/print-cpus" >/dev/null 2>&1 || true
"$CORUN" run -q --cpus 1 -o "$R.4" -- "$HELPERS/print-cpus" || fail "--cpus 1 failed"
echo ok
