#!/bin/sh
# A fork bomb is stopped by the pids limit and cleaned away.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q --pids 64 -t 20s -o "$R" -- "$HELPERS/forkbomb" --max 5000 || true
assert_eq "$(job "$R/result.json" forkbomb .applied.pids_max)" 64 "applied pids.max"
out="$R/$(job "$R/result.json" forkbomb .logs.stdout)"
grep -Eq 'EAGAIN[^0-9]*[1-9]' "$out" || fail "forkbomb saw no EAGAIN: $(cat "$out")"
[ "$(job "$R/result.json" forkbomb .pids_peak)" -le 64 ] || fail "more than 64 pids sampled"
pgrep -f "$HELPERS/forkbomb" >/dev/null && fail "forkbomb processes left"
echo ok
