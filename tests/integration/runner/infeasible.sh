#!/bin/sh
# A request that can never fit is refused before anything starts: exit 2, the message
# `corun plan` gives, and no results directory.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
cd "$WORK"
n=$(nproc)
cat > big.yaml <<Y
jobs:
  big:
    command: [true]
    cpus: 0-$((n + 7))
Y
"$CORUN" plan big.yaml > plan.out 2>&1 || true
for args in "-c 99 true" "-m 1T true" "big.yaml"; do
        rc=0
        # shellcheck disable=SC2086
        "$CORUN" run $args > out 2>&1 || rc=$?
        assert_eq "$rc" 2 "exit status of 'corun run $args'"
        grep -q "error: .*\(asks for\|needs\|outside\|not usable\)" out || fail "no reason for '$args': $(cat out)"
        [ ! -e corun-results ] || fail "'corun run $args' left a results directory"
done
# run and plan say the same thing about the scenario
msg=$(sed -n 's/^corun: error: //p' out | tail -1)
grep -qF "$msg" plan.out || fail "run says '$msg', plan said: $(cat plan.out)"
echo ok
