#!/bin/sh
# A command that cannot be executed is failed-to-start with its errno, not exit 127.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
"$CORUN" run -q -o "$R" -- /nonexistent/prog arg || true
assert_eq "$(job "$R/result.json" prog .reason)" failed-to-start "reason"
job "$R/result.json" prog .start_error | grep -q "No such file" || fail "start_error lacks the errno text"
"$CORUN" run -q -o "$R.2" --cwd /nonexistent-dir -- true || true
# The message names the directory, not the program (issue 14 item 5).
e=$(job "$R.2/result.json" true .start_error)
case $e in
"chdir /nonexistent-dir: No such file or directory"*) ;;
*) fail "chdir failure should name the directory: $e" ;;
esac
# A job that fails shows the end of its stderr under its end line, like a failed start
# shows its error; -q still prints failures (issue 13), and only them.
"$CORUN" run -q -o "$R.3" -- sh -c 'echo first >&2; echo "error: disk on fire" >&2; exit 3' 2>"$WORK/q.err" || true
grep -q "end    sh: exit 3" "$WORK/q.err" || fail "-q did not print the failure: $(cat "$WORK/q.err")"
grep -q "| error: disk on fire" "$WORK/q.err" || fail "no stderr tail under the end line: $(cat "$WORK/q.err")"
"$CORUN" run -q -o "$R.4" -- true 2>"$WORK/q2.err"
[ ! -s "$WORK/q2.err" ] || fail "-q printed something for a run without failures: $(cat "$WORK/q2.err")"
echo ok
