#!/bin/sh
# Bad input: a clear error with file:line:col, exit 2, and nothing is created.
. "$SRCDIR/tests/integration/lib.sh"
cd "$WORK"
cat > bad.yaml <<'Y'
jobs:
  a:
    command: [true]
    memroy: 1G
Y
rc=0
"$CORUN" run bad.yaml > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status"
grep -q "bad.yaml:4:5" out || fail "no file:line:col in: $(cat out)"
grep -q "memory" out || fail "no did-you-mean hint in: $(cat out)"
[ ! -e corun-results ] || fail "a results dir was created"
rc=0
"$CORUN" run -m lots 'true' > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status for a bad flag"
grep -q -- "--memory" out || fail "flag not named: $(cat out)"
# Requests that can never fit (issue 13): refused before anything starts, exit 2, no results
# directory, in the words of `corun plan`.
ncpu=$(nproc)
for args in "-c $((ncpu + 97))" "-m 1P" "-c 0-$((ncpu + 5))"; do
        rc=0
        # shellcheck disable=SC2086
        "$CORUN" run -q -o "$WORK/never" $args -- true >out 2>&1 || rc=$?
        assert_eq "$rc" 2 "exit status for a request that can never fit ($args)"
        [ ! -e "$WORK/never" ] || fail "a results directory was left for $args"
        grep -Eq "would fit|can never|not usable|outside" out || fail "no reason for $args: $(cat out)"
done
echo ok
