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
echo ok
