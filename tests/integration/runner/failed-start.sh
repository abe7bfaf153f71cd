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
echo ok
