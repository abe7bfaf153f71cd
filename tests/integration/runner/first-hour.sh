#!/bin/sh
# A newcomer's first commands: a mistyped command gets a did-you-mean hint, the man page
# lists every command, and `make demo` ends by saying how to call corun next.
. "$SRCDIR/tests/integration/lib.sh"
cd "$WORK"
rc=0
"$CORUN" runn 'true' > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of an unknown command"
grep -q "did you mean 'run'" out || fail "no did-you-mean hint: $(cat out)"
rc=0
"$CORUN" xyzzy > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of an unknown command"
not grep -q "did you mean" out || fail "a hint for a word that is no typo: $(cat out)"
# A scenario file whatever its name (a top-level jobs: key), or through <(…); a file
# without jobs: is a command, and both say how corun decided.
printf 'jobs:\n  from-conf: {command: "true"}\n' > bench.conf
"$CORUN" run -o named bench.conf > out 2>&1 || fail "bench.conf: $(cat out)"
grep -q "bench.conf has a top-level jobs: key: reading it as a scenario file" out || fail "no decision said: $(cat out)"
assert_eq "$(json named/result.json '.runs[0].jobs[0].name')" from-conf "the job of bench.conf"
printf '#!/bin/sh\necho script-ran\n' > script && chmod +x script
"$CORUN" run -o scr ./script > out 2>&1 || fail "./script: $(cat out)"
grep -q "./script is a file without a top-level jobs: key: running it as a command" out || fail "$(cat out)"
grep -qx script-ran scr/logs/*/*.out || fail "the script did not run as a command"
bash -c '"$0" run -q -o piped <(printf "jobs:\n  piped: {command: \"true\"}\n")' "$CORUN" || fail "<(…) scenario"
assert_eq "$(json piped/result.json '.runs[0].jobs[0].name')" piped "the job from a pipe"
# Every command of `corun --help` is in the man page's SYNOPSIS.
syn=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$SRCDIR/docs/corun.1")
for c in $("$CORUN" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
        [ "$c" = slurm-step ] && continue
        printf '%s\n' "$syn" | grep -q "^\.B corun $c" || fail "man SYNOPSIS lacks 'corun $c'"
done
grep -q 'man -l docs/corun.1' "$SRCDIR/scripts/demo.sh" || fail "demo does not point to the man page"
grep -q 'make install' "$SRCDIR/scripts/demo.sh" || fail "demo does not say how to install"
echo ok
