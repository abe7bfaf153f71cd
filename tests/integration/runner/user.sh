#!/bin/sh
# user:/group: run the job unprivileged with supplementary groups dropped.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -o "$R" --user nobody --group nogroup -- sh -c 'id -u; id -g; id -G' || fail "run failed"
out="$R/$(job "$R/result.json" sh .logs.stdout)"
assert_eq "$(sed -n 1p "$out")" "$(id -u nobody)" "uid"
assert_eq "$(sed -n 3p "$out")" "$(getent group nogroup | cut -d: -f3)" "groups"
echo ok
